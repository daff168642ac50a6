"""Where reports go: out/<scenario>/<run id>/report.html, with out/<scenario>/latest pointing to
the newest, so a run on the other engine (or with another seed) never overwrites an earlier one."""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

LATEST = "latest"


def run_folder(out_root: Path, scenario_name: str, run_id: str) -> Path:
    return out_root / scenario_name / run_id


def point_latest(folder: Path) -> Path:
    """Make `folder`'s sibling `latest` a relative symbolic link to it, replaced atomically."""
    link = folder.parent / LATEST
    handle, temporary = tempfile.mkstemp(prefix=".latest.", dir=folder.parent)
    os.close(handle)
    os.unlink(temporary)
    os.symlink(folder.name, temporary)
    try:
        os.replace(temporary, link)
    except OSError:
        Path(temporary).unlink(missing_ok=True)
        raise
    return link
