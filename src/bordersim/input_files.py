"""Reading files a user names: regular files only, bounded in size, every failure one message.

A path written by a user (a scenario, its base, a calibration artifact, a demand fit, an official
data file) may be a folder, a FIFO (which blocks on open), a device such as /dev/zero (which
reads without end), a symlink loop, a name too long for the file system, or a file far larger
than any real input. `check_regular_file` refuses all of these before anything is opened for
reading, and `read_bounded` reads at most the limit.
"""

from __future__ import annotations

import json
import os
import stat
from pathlib import Path
from typing import Any, TypeVar

from bordersim.errors import BordersimError

_T = TypeVar("_T")

#: Longest path accepted (Linux PATH_MAX), and longest single name (NAME_MAX).
MAX_PATH_CHARS = 4096
MAX_NAME_CHARS = 255
KIB = 1024
MIB = 1024 * KIB


def user_path(value: _T) -> _T:
    """A path given in Python (a str or a Path) with a leading ``~`` expanded, as a shell expands
    it for the CLI; anything else (None, a ``postgresql://`` URL, a value of the wrong kind for
    its caller to refuse) as it is. A str stays a str."""
    if isinstance(value, Path):
        return value.expanduser()
    if isinstance(value, str) and value.startswith("~"):
        return os.path.expanduser(value)  # type: ignore[return-value]
    return value


def shown_path(path: str | Path, limit: int = 120) -> str:
    """A path for a message: its end (the file name) kept when it is long."""
    text = str(path)
    return text if len(text) <= limit else "..." + text[-(limit - 3) :]


def check_path_text(text: str, *, what: str, error: type[BordersimError], where: str) -> None:
    """Refuse a path no file system accepts, before it reaches `os.stat` (which would raise)."""
    if "\x00" in text:
        raise error(f"{what} path contains a NUL character", where=where)
    if len(text) > MAX_PATH_CHARS:
        raise error(f"{what} path is {len(text)} characters; at most {MAX_PATH_CHARS}", where=where)
    longest = max((len(part) for part in text.split("/")), default=0)
    if longest > MAX_NAME_CHARS:
        raise error(
            f"{what} path has a name of {longest} characters; file names are at most "
            f"{MAX_NAME_CHARS}",
            where=where,
        )


def resolve(
    path: Path, *, what: str, error: type[BordersimError], where: str | None = None
) -> Path:
    """`path` made absolute with symlinks followed; a loop or an unreadable link is one error.

    `where` names the place that wrote the path (default: the path itself)."""
    where = where or shown_path(path)
    check_path_text(str(path), what=what, error=error, where=where)
    try:
        return path.resolve()
    except RuntimeError:  # Python 3.11 reports a symlink loop this way
        raise error(f"{what}: symbolic link loop", where=where) from None
    except OSError as err:
        raise error(f"{what}: cannot resolve the path ({err.strerror})", where=where) from None


def check_regular_file(path: Path, *, what: str, error: type[BordersimError], limit: int) -> int:
    """The size of `path` if it is a regular file no larger than `limit`; else one error."""
    where = shown_path(path)
    check_path_text(str(path), what=what, error=error, where=where)
    try:
        info = os.stat(path)
    except FileNotFoundError:
        raise error(f"no such {what}", where=where) from None
    except OSError as err:
        if err.errno == 40:  # ELOOP
            raise error(f"{what}: symbolic link loop", where=where) from None
        raise error(f"{what}: cannot read ({err.strerror})", where=where) from None
    if stat.S_ISDIR(info.st_mode):
        raise error(f"{what} is a folder, not a file", where=where)
    if not stat.S_ISREG(info.st_mode):
        raise error(
            f"{what} is not a regular file (a FIFO, socket or device); give a file", where=where
        )
    if info.st_size > limit:
        raise error(
            f"{what} is {info.st_size:,} bytes; at most {limit:,} are read (no real input is "
            "that large)",
            where=where,
        )
    return info.st_size


def read_bounded(path: Path, *, what: str, error: type[BordersimError], limit: int) -> bytes:
    """The bytes of a regular file of at most `limit` bytes (checked again while reading)."""
    check_regular_file(path, what=what, error=error, limit=limit)
    where = shown_path(path)
    try:
        # O_NONBLOCK: should the file be swapped for a FIFO after the check, open does not hang.
        descriptor = os.open(path, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0))
        with os.fdopen(descriptor, "rb") as handle:
            if not stat.S_ISREG(os.fstat(handle.fileno()).st_mode):
                raise error(f"{what} is not a regular file", where=where)
            data = handle.read(limit + 1)
    except OSError as err:
        raise error(f"{what}: cannot read ({err.strerror})", where=where) from None
    if len(data) > limit:
        raise error(f"{what} is larger than {limit:,} bytes", where=where)
    return data


def read_json_document(
    path: Path,
    *,
    what: str,
    error: type[BordersimError],
    limit: int,
    file_format: str,
    required: tuple[str, ...] = (),
    absent: str | None = None,
) -> dict[str, Any]:
    """The JSON object of a bordersim file whose key 'format' is `file_format` and which has
    every key of `required`, from a regular file of at most `limit` bytes; any problem is one
    `error` naming the file (`absent`: the message where no file is at `path`)."""
    where = str(path)
    if not path.exists() and not path.is_symlink():
        raise error(absent or f"no such {what}", where=where)
    raw = read_bounded(path, what=what, error=error, limit=limit)
    try:
        document = json.loads(raw.decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError, RecursionError) as err:
        raise error(f"{what} is not valid JSON ({str(err)[:100]})", where=where) from None
    if not isinstance(document, dict) or document.get("format") != file_format:
        raise error(f"not a {what}: key 'format' must be {file_format!r}", where=where)
    for key in required:
        if key not in document:
            raise error(f"{what} lacks key {key!r}", where=where)
    return document
