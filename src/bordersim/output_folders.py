"""Output folders that a command replaces as a whole (a sweep's, a plan's): only one it wrote.

Such a command writes its files to a new hidden folder beside `--out` (`make_work_folder`; in the
nearest folder above it that exists, when `--out`'s parents do not yet) and renames it into
place at the end, so that an interrupted run leaves nothing that looks complete; the parents of a
new `--out` are created only then, so that a failed run leaves no empty folders (a command whose
files name others by relative path creates them first, and removes them if it fails:
`parents_made_for`). A folder already at
`--out` is replaced only if it is empty or the command's own: it holds the command's marker
file and nothing but the files the command wrote (named by the caller, or listed in the marker).
Any other folder (`..`, a home directory, a folder of the user's files) is refused before any
work starts, and nothing in it is touched: bordersim never deletes what it did not create.
"""

from __future__ import annotations

import contextlib
import glob
import os
import re
import secrets
import shutil
import socket
import tempfile
from collections.abc import Collection, Iterable, Iterator
from pathlib import Path

from bordersim.errors import BordersimError


def check_output_folder(
    target: Path, *, marker: str, what: str, own: Collection[str] | None = None
) -> Path:
    """The absolute output folder, if the command may write it: absent, empty, or its own output.

    `own` names the files the command writes; without it, the marker lists them (`write_marker`).
    Anything else is one error and nothing is touched; the folder's parent must be writable."""
    folder = Path(target).absolute()
    where = str(folder)
    if folder.exists() or folder.is_symlink():
        if not folder.is_dir() and not folder.is_symlink():
            # as run and compare say it of a file
            raise BordersimError("--out names a file, not a folder; give a folder", where=where)
        if folder.is_symlink():
            # the finished folder is renamed onto --out, which replaces the link itself
            pointed = os.path.realpath(folder)  # no error for a loop or a missing target
            loops = Path(pointed).is_symlink()
            instead = "a new folder" if loops else f"that folder ({pointed}) or a new one"
            raise BordersimError(
                "--out is a symbolic link, which bordersim would replace rather than write into "
                f"the folder it points to; give {instead}",
                where=where,
            )
        ours = _own_files(folder / marker, own)
        extra = sorted(p.name for p in folder.iterdir() if ours is None or p.name not in ours)
        # an empty folder (made for the output) holds nothing to replace: taken, as run takes it
        if extra:
            shown = f" (it holds {', '.join(extra[:3])}{', ...' if len(extra) > 3 else ''})"
            raise BordersimError(
                f"--out exists and is not a {what} folder bordersim wrote"
                + shown
                + "; bordersim never deletes what it did not create: give a new or empty folder",
                where=where,
            )
    above = _nearest_existing(folder.parent)
    if not above.is_dir():
        # named as `bordersim.plan(out=...)` names it: the file in the way, not "Not a directory"
        raise BordersimError(f"--out cannot be made: {above} is a file, not a folder", where=where)
    check_writable(above, "cannot write beside the output folder", where=where)
    return folder


def _nearest_existing(folder: Path) -> Path:
    """`folder`, or the nearest folder above it that exists (the one its parents go into)."""
    while not folder.exists() and folder.parent != folder:
        folder = folder.parent
    return folder


def make_work_folder(folder: Path, *, prefix: str, suffix: str = "") -> Path:
    """A new hidden folder, private to its owner, in which to write what `replace_folder` puts at
    `folder` (checked by `check_output_folder`): beside `folder`, or in the nearest folder above
    it that exists (the parents are created only when the result is put in place).

    Its name carries this process's id and host (`PREFIX<pid>@<host>.<random>SUFFIX`), so that
    the work folders that a command killed by SIGKILL (or a power cut) could not remove are
    removed here, by the next command that writes beside the same folder."""
    place = _nearest_existing(folder.parent)
    remove_abandoned_work_folders(place, prefix=prefix, suffix=suffix)
    owner = f"{os.getpid()}@{socket.gethostname()}."
    return Path(tempfile.mkdtemp(prefix=prefix + owner, suffix=suffix, dir=place))


#: The characters of `tempfile.mkdtemp`'s random part.
_RANDOM_PART = re.compile(r"[a-z0-9_]+")


def remove_abandoned_work_folders(place: Path, *, prefix: str, suffix: str) -> None:
    """Remove the work folders in `place` (`make_work_folder`'s, named with `prefix` and
    `suffix`) whose process, on this host, is gone. A folder of a process still running, of
    another host (a shared disk) or of another user, and any name not made so, is left."""
    for path in place.glob(f"{glob.escape(prefix)}*{glob.escape(suffix)}"):
        gone = _owner_is_gone(path.name[len(prefix) : len(path.name) - len(suffix)])
        if gone and path.is_dir() and not path.is_symlink() and path.stat().st_uid == os.getuid():
            shutil.rmtree(path, ignore_errors=True)


def _owner_is_gone(owner_and_random: str) -> bool:
    """Whether the process named in a work folder's `<pid>@<host>.<random>` is gone."""
    owner, _, random = owner_and_random.rpartition(".")
    pid_text, _, host = owner.partition("@")
    if not (pid_text.isdigit() and host == socket.gethostname()):
        return False
    if not _RANDOM_PART.fullmatch(random):
        return False  # not a name mkdtemp made (a folder moved aside, say)
    try:
        os.kill(int(pid_text), 0)
    except ProcessLookupError:
        return True
    except (OSError, OverflowError):
        return False  # alive (another user's) or no such id: kept
    return False


@contextlib.contextmanager
def parents_made_for(folder: Path) -> Iterator[None]:
    """The missing parents of `folder`, created now and removed again (those still empty) if the
    block fails: for a command whose files name others by a path relative to where they will lie
    (plan.toml's `base`), so that its work folder sits beside `folder`, at the same depth, and
    the paths it writes hold once the folder is renamed into place."""
    made = make_parents(folder)
    try:
        yield
    except BaseException:
        remove_empty(made)
        raise


def missing_folders(folder: Path) -> list[Path]:
    """`folder` and those of its parents that do not exist yet, outermost first: the folders a
    command that makes `folder` (mkdir with parents) creates."""
    absolute = Path(folder).absolute()
    return [path for path in (absolute, *absolute.parents) if not path.exists()][::-1]


@contextlib.contextmanager
def removed_on_failure(made: list[Path]) -> Iterator[None]:
    """Remove the folders `made` (outermost first), those still empty, if the block fails or is
    interrupted: a command leaves no empty folder it made for output it did not write."""
    try:
        yield
    except BaseException:
        remove_empty(made)
        raise


def remove_empty(made: list[Path]) -> None:
    """Remove the parents `make_parents` created, innermost first, where still empty."""
    for parent in reversed(made):
        with contextlib.suppress(OSError):
            parent.rmdir()


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
    folder is its owner's only). The parents of a new `folder` are created now, and removed
    again if the rename fails."""
    new.chmod(0o755)
    previous: Path | None = None
    made: list[Path] = []
    try:
        made = make_parents(folder)
        if folder.exists() and not any(folder.iterdir()):
            folder.rmdir()  # an empty folder: nothing to keep aside (and fails if filled since)
        elif folder.exists():
            previous = new.with_name(new.name + ".previous")
            folder.rename(previous)
        new.rename(folder)
    except BaseException:
        if previous is not None and not folder.exists():
            previous.rename(folder)
        remove_empty(made)  # created above, and empty unless someone wrote there
        raise
    if previous is not None:
        shutil.rmtree(previous, ignore_errors=True)  # the command's own folder, checked


def make_parents(folder: Path) -> list[Path]:
    """Create the missing parents of `folder`; the ones created, outermost first."""
    try:
        return create_missing_parents(folder)
    except OSError as err:
        raise BordersimError(
            f"cannot create the output folder's parent {err.filename} ({err.strerror})",
            where=str(folder),
        ) from None


def create_missing_parents(path: Path) -> list[Path]:
    """Create the missing parents of `path`; the ones created, outermost first. An `OSError`
    (naming the folder that could not be made) leaves none of them."""
    missing = []
    parent = path.parent
    while not parent.exists() and parent.parent != parent:
        missing.append(parent)
        parent = parent.parent
    made: list[Path] = []
    try:
        for parent in reversed(missing):
            parent.mkdir()
            made.append(parent)
    except OSError as err:
        remove_empty(made)
        err.filename = err.filename or str(parent)
        raise
    return made
