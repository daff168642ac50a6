"""Readers of the official data files, exactly as published, into validated tidy tables.

`read_official_file` picks the reader from the file: the OHSS workbook (.xlsx) or CBP's
southwest land border encounters CSV (.csv). `shipped_files` names the copies bordersim ships.
"""

from __future__ import annotations

import os
from pathlib import Path

from bordersim.errors import DataFileError
from bordersim.ingest.cbp import read_cbp_csv
from bordersim.ingest.ohss import read_ohss_workbook
from bordersim.ingest.parsed import CBP_KIND, OHSS_KIND, ParsedFile
from bordersim.input_files import MIB, check_regular_file

__all__ = [
    "CBP_KIND",
    "OHSS_KIND",
    "ParsedFile",
    "read_cbp_csv",
    "read_official_file",
    "read_ohss_workbook",
    "shipped_files",
]

SHIPPED_WORKBOOK = "ohss-usbp-encounters-fy2000-fy2023.xlsx"
SHIPPED_CSV = "cbp-swb-encounters-fy2022-fy2023.csv"
_ZIP_MAGIC = b"PK\x03\x04"
#: The start of an OLE compound file: an Excel 97-2003 (.xls) workbook.
_OLE_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
MAX_DATA_FILE_BYTES = 1024 * MIB


def shipped_files() -> list[Path]:
    """The official files shipped inside the package (workbook first)."""
    official = Path(__file__).resolve().parent.parent / "official"
    return [official / SHIPPED_WORKBOOK, official / SHIPPED_CSV]


def read_official_file(path: str | Path) -> ParsedFile:
    """Read either official format, chosen by extension (or by content when there is none); a
    file whose content is the other format's is refused, saying so."""
    path = Path(path)
    suffix = path.suffix.lower()
    if str(path) == "-" and not os.path.lexists(path):
        # `-` is standard input to many commands; here it would read as a file that has gone
        raise DataFileError(
            "standard input is not read; give the data file's path",
            where="-",
        )
    check_regular_file(path, what="data file", error=DataFileError, limit=MAX_DATA_FILE_BYTES)
    try:
        with path.open("rb") as handle:  # a regular file (checked above): open cannot block
            head = handle.read(512)
    except OSError as err:
        raise DataFileError(f"cannot be read ({err.strerror})", where=str(path)) from None
    is_zip = head[:4] == _ZIP_MAGIC
    if head.startswith(_OLE_MAGIC) and suffix in ("", ".xls", ".xlsx", ".xlsm"):
        raise DataFileError(
            "is an Excel 97-2003 workbook (.xls), which bordersim does not read; open it and "
            "save it as .xlsx (the OHSS workbook is published so)",
            where=str(path),
        )
    if suffix in (".xlsx", ".xlsm"):
        if head.strip() and not is_zip and _is_text(head):
            raise DataFileError(
                f"is text, not an .xlsx workbook (a CSV named {suffix}?); expected the OHSS "
                "workbook as published, or CBP's southwest land border encounters CSV named .csv",
                where=str(path),
            )
        return read_ohss_workbook(path)
    if suffix == ".csv":
        if is_zip:
            raise DataFileError(
                "is a zip file (an .xlsx workbook named .csv?), not a CSV; expected CBP's "
                "southwest land border encounters CSV, or the OHSS workbook named .xlsx",
                where=str(path),
            )
        return read_cbp_csv(path)
    if is_zip:
        return read_ohss_workbook(path)
    if suffix in ("", ".txt"):
        return read_cbp_csv(path)
    raise DataFileError(
        f"extension {suffix!r} is not an official format; expected the OHSS workbook (.xlsx) "
        "or CBP's southwest land border encounters CSV (.csv)",
        where=str(path),
    )


def _is_text(head: bytes) -> bool:
    """True if the first bytes of a file read as UTF-8 text (a character cut at the end aside)."""
    if b"\x00" in head:
        return False
    try:
        head.decode("utf-8")
    except UnicodeDecodeError as err:
        return err.start >= len(head) - 3 and err.reason == "unexpected end of data"
    return True
