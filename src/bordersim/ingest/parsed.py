"""What a reader returns: one official file as a validated tidy table, ready for the store."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

OHSS_KIND = "ohss_usbp"
CBP_KIND = "cbp_swb"


@dataclass(frozen=True)
class ParsedFile:
    """A validated official file: its kind, where it came from, and its rows as a tidy table."""

    kind: str  # OHSS_KIND or CBP_KIND
    path: Path
    sha256: str
    table: pd.DataFrame
    sheets: tuple[str, ...] = ()  # workbook sheets read (empty for the CSV)

    @property
    def rows(self) -> int:
        return len(self.table)


def file_sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()
