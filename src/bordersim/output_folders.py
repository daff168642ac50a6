"""Output folders that a command replaces as a whole (a sweep's, a plan's): only one it wrote.

Such a command writes its files to a new hidden folder beside `--out` and renames it into place
at the end, so that an interrupted run leaves nothing that looks complete. A folder already at
`--out` is replaced only if it is the command's own: it holds the command's marker file and
nothing but the files the command wrote (named by the caller, or listed in the marker). Any other
folder (`..`, a home directory, a folder of the user's files) is refused before any work starts,
and nothing in it is touched: bordersim never deletes what it did not create.
"""

from __future__ import annotations

import os
import secrets
import shutil
from collections.abc import Collection, Iterable
from pathlib import Path

from bordersim.errors import BordersimError


def check_output_folder(
    target: Path, *, marker: str, what: str, own: Collection[str] | None = None
) -> Path:
    """The absolute output folder, if the command may write it: absent, or its own output.

    `own` names the files the command writes; without it, the marker lists them (`write_marker`).
    Anything else is one error and nothing is touched; the folder's parent must be writable."""
    folder = Path(target).absolute()
    where = str(folder)
    if folder.exists() or folder.is_symlink():
        if not folder.is_dir() or folder.is_symlink():
            raise BordersimError("--out exists and is not a folder; give a new folder", where=where)
        ours = _own_files(folder / marker, own)
        extra = sorted(p.name for p in folder.iterdir() if ours is None or p.name not in ours)
        if ours is None or extra:
            shown = f" (it holds {', '.join(extra[:3])}{', ...' if len(extra) > 3 else ''})"
            raise BordersimError(
                f"--out exists and is not a {what} folder bordersim wrote"
                + (shown if extra else "")
                + "; bordersim never deletes what it did not create: give a new folder",
                where=where,
            )
    try:
        folder.parent.mkdir(parents=True, exist_ok=True)
    except OSError as err:
        raise BordersimError(
            f"cannot write beside the output folder ({err.strerror})", where=where
        ) from None
    check_writable(folder.parent, "cannot write beside the output folder", where=where)
    return folder


def check_writable(folder: Path, message: str, *, where: str) -> None:
    """One error (`message`, with the system's reason) unless a file can be created in `folder`:
    a hidden probe file, removed at once, named as the run store names its temporaries
    (`.NAME.PID.RANDOM.tmp`), so that a repair after a crash finds it too."""
    probe = folder / f".probe.{os.getpid()}.{secrets.token_hex(4)}.tmp"
    try:
        probe.write_bytes(b"")
        probe.unlink()
    except OSError as err:
        raise BordersimError(f"{message} ({err.strerror})", where=where) from None


def _own_files(marker: Path, own: Collection[str] | None) -> set[str] | None:
    """The names a folder marked by `marker` may hold (None: not the command's folder)."""
    if not marker.is_file():
        return None
    if own is not None:
        return {*own, marker.name}
    try:
        lines = marker.read_text(encoding="utf-8").splitlines()
    except (OSError, UnicodeDecodeError):
        return None
    return {line for line in lines[1:] if line and "/" not in line} | {marker.name}


def write_marker(folder: Path, marker: str, note: str, names: Iterable[str]) -> None:
    """Mark `folder` as the command's own: `note` on the first line, then the names it wrote."""
    listed = "".join(f"{name}\n" for name in sorted(names) if name != marker)
    (folder / marker).write_text(f"{note}\n{listed}", encoding="utf-8")


def replace_folder(new: Path, folder: Path) -> None:
    """Put the finished folder `new` at `folder` (checked by `check_output_folder`): a previous
    output there is moved aside first and removed once the new one is in place, and is put back
    if the rename fails. The folder is made readable as any output folder is (a temporary
    folder is its owner's only)."""
    new.chmod(0o755)
    previous: Path | None = None
    try:
        if folder.exists():
            previous = new.with_name(new.name + ".previous")
            folder.rename(previous)
        new.rename(folder)
    except BaseException:
        if previous is not None and not folder.exists():
            previous.rename(folder)
        raise
    if previous is not None:
        shutil.rmtree(previous, ignore_errors=True)  # the command's own folder, checked
