"""Files written whole or not at all: a reader never sees half a file, and an interrupted write
leaves nothing that looks complete (reports, tables, calibration artifacts, demand fits)."""

from __future__ import annotations

import contextlib
import errno
import os
import tempfile
from collections.abc import Iterator
from pathlib import Path

from bordersim.errors import BordersimError


def readable_mode() -> int:
    """The mode an ordinary new file gets (mkstemp's files are private to their owner)."""
    umask = os.umask(0)
    os.umask(umask)
    return 0o666 & ~umask


def _hard_link(temporary: str, path: Path) -> bool:
    """Link the complete file into place, where no file is (`FileExistsError` otherwise); False
    on a file system without hard links."""
    try:
        os.link(temporary, path)
    except FileExistsError:
        raise
    except OSError:
        return False
    return True


def write_atomically(path: Path, text: str, *, new: bool = False) -> Path:
    """Write `text` to `path` through a temporary file in the same folder and a rename; with
    `new`, only if no file is at `path` (a `FileExistsError` otherwise, even when another
    process writes it meanwhile: the complete file is linked into place, never renamed over; on
    a file system without hard links, checked and then renamed)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    handle, temporary = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        os.chmod(temporary, readable_mode())
        with os.fdopen(handle, "w", encoding="utf-8", newline="\n") as out:
            out.write(text)
        if not new:
            os.replace(temporary, path)
        elif _hard_link(temporary, path):
            os.unlink(temporary)
        elif path.exists():  # no hard links here: checked, then renamed
            raise FileExistsError(str(path))
        else:
            os.replace(temporary, path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise
    return path


def check_output_file(path: Path, *, what: str) -> list[Path]:
    """One error unless a file can be written at `path`, checked before the work that makes it:
    `path` is not a folder, and its folder exists (created if needed) and can be written in.
    `what` names the file in the message (an option, such as "--out"). Returns the folders it
    created, outermost first (`output_file_place` removes them if the work fails)."""
    from bordersim.output_folders import check_writable, create_missing_parents, remove_empty

    where = str(path)
    if path.is_dir():
        raise BordersimError(f"{what} names a folder; give the file to write", where=where)
    try:
        made = create_missing_parents(path)
        if not path.parent.is_dir():
            raise NotADirectoryError(errno.ENOTDIR, os.strerror(errno.ENOTDIR), str(path.parent))
    except OSError as err:
        blocking = next((p for p in path.parents if p.exists() and not p.is_dir()), None)
        reason = f"{blocking} is a file, not a folder" if blocking else err.strerror
        raise BordersimError(
            f"cannot create the folder of {what} ({reason})", where=where
        ) from None
    try:
        check_writable(path.parent, f"cannot write in the folder of {what}", where=where)
    except BaseException:
        remove_empty(made)
        raise
    return made


@contextlib.contextmanager
def output_file_place(path: Path, *, what: str) -> Iterator[None]:
    """`check_output_file` before the block that makes the file; if the block fails (a refused
    value, an error, Ctrl-C), the folders created for it are removed again where still empty, so
    the command leaves nothing behind."""
    from bordersim.output_folders import remove_empty

    made = check_output_file(path, what=what)
    try:
        yield
    except BaseException:
        remove_empty(made)
        raise


def check_replaceable_document(
    path: Path, *, what: str, document: str, file_format: str, limit: int
) -> None:
    """One error unless `path` is free or holds a `document` that bordersim wrote (a JSON file
    whose 'format' is `file_format`): a file that is about to be replaced whole, such as a demand
    fit or a calibration artifact, given a path by mistake (the store, the scenario being fitted,
    any file of the user's) is left alone. `what` names the path in the message."""
    from bordersim.input_files import read_json_document

    if not path.exists() and not path.is_symlink():
        return
    try:
        read_json_document(
            path, what=document, error=BordersimError, limit=limit, file_format=file_format
        )
    except BordersimError:
        raise BordersimError(
            f"{what} names a file that is not a {document}; bordersim replaces only a "
            f"{document} it wrote there: give a new path",
            where=str(path),
        ) from None
