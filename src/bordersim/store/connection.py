"""One DuckDB connection to the store file whose view of the file is current.

DuckDB (2.0.1 measured) reads a database file's headers (the first 12 KiB: which blocks hold the
catalog, how many blocks there are) *before* it takes the file's lock, and does not read them
again once it holds it. If another process checkpoints the file in between (each process that
closes after writing does), the new connection works from the old headers: it misses what that
process committed, later overwrites it with its own checkpoint, or fails with "Could not read
enough bytes". With 8 processes opening one file in turn, each inserting a row and closing, plain
`duckdb.connect` lost at least one committed row in each of three trials of 480 opens
(`bench/store_opens.py --raw`); bordersim's store lost a run that way in one CI run out of many.

`connect_current` closes that window from outside DuckDB:

- it reads the same headers itself before connecting and again once the connection holds the
  lock (nobody else can checkpoint then); if they differ, the connection may have a stale view,
  so it is closed (a connection that changed nothing writes nothing on close) and the open is
  tried again;
- a store being created (no file, or an empty one) is created under an exclusive lock on its
  folder, so that two processes never both initialise the file: the second finds the file made
  and opens it as above.

What is left: a process killed between another's header read and its lock, leaving a
write-ahead log, would have that log replayed onto a stale view. That needs a kill in a window of
microseconds, and is not guarded here.
"""

from __future__ import annotations

import fcntl
import os
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import duckdb

#: The main header and the two database headers before the first block (DuckDB's file layout).
HEADER_BYTES = 3 * 4096
#: Tries before giving up on a file that changes under every open (it never should for long:
#: only a process that holds the lock changes it, and it cannot while this one holds it).
MAX_STALE_TRIES = 100
#: Held while this process opens the file or connects: a thread's open-and-close of the file must
#: not fall between another thread's connect and its lock (see `read_head`).
_OPENING = threading.RLock()


class StaleView(RuntimeError):
    """The file, or this process's descriptors of it, changed under every try; the caller names
    the store in its own message."""


def connect_current(location: Path, *, read_only: bool) -> duckdb.DuckDBPyConnection:
    """A connection to `location` whose headers are the file's current ones, in UTC.

    DuckDB's own errors (a lock held by another process among them) pass through unchanged, so
    that the caller's waiting applies."""
    with _OPENING:
        connection = _connect_current(location, read_only=read_only)
    try:
        in_utc(connection)
    except BaseException:
        connection.close()
        raise
    return connection


def in_utc(connection: duckdb.DuckDBPyConnection) -> None:
    """The store records its times as `now()::TIMESTAMP`, which DuckDB casts in the session's
    time zone, the machine's by default: set to UTC, as the shared store's sessions are, so that
    a time is UTC whichever machine recorded it (the listings say "UTC")."""
    connection.execute("SET TimeZone = 'UTC'")


def _connect_current(location: Path, *, read_only: bool) -> duckdb.DuckDBPyConnection:
    if not read_only and _is_new(location):
        with _folder_locked(location.parent):
            if _is_new(location):  # still: no other process made it while this one waited
                # DuckDB (2.0.1) refuses an empty file ("exists, but it is not a valid DuckDB
                # database file"), one made by `touch` say: it holds nothing, and the store is
                # made in its place (a process making the store writes its headers while it
                # holds the folder's lock, so no other one is making it now). A symbolic link
                # to it is kept: the store is made where it points.
                made = location.resolve()
                if made.is_file() and made.stat().st_size == 0:
                    made.unlink()
                return duckdb.connect(str(location), read_only=read_only)
    for _ in range(MAX_STALE_TRIES):
        before = file_headers(location)
        try:
            connection = duckdb.connect(str(location), read_only=read_only)
        except duckdb.IOException as err:
            if "lock" in str(err).lower() or file_headers(location) == before:
                raise
            continue  # it read headers that changed under it: try again on the new ones
        if file_headers(location) == before:
            return connection
        connection.close()
    raise StaleView(f"the file changed under each of {MAX_STALE_TRIES} opens")


def file_headers(location: Path) -> tuple[int, int, bytes]:
    """The file's identity, size and header bytes ((0, 0, b"") where there is no file)."""
    try:
        status = location.stat()
    except FileNotFoundError:
        return 0, 0, b""
    return status.st_ino, status.st_size, read_head(location, HEADER_BYTES)


def read_head(location: Path, size: int) -> bytes:
    """The first `size` bytes of the file, read without closing any descriptor of it that is
    open in this process.

    DuckDB locks the file with POSIX record locks, which the kernel drops for the whole process
    as soon as the process closes *any* descriptor of that file: opening and closing the store
    file beside an open connection would let other processes in. So where this process already
    has the file open (a connection of its own), the bytes are read through that descriptor.
    Another thread may close that connection meanwhile, and the descriptor's number may then
    name another file: the read counts only if the descriptor names the store both before and
    after it, and is otherwise tried again."""
    with _OPENING:
        for _ in range(MAX_STALE_TRIES):
            try:
                wanted = location.stat()
            except FileNotFoundError:
                return b""
            held = _descriptor_open_on(wanted)
            if held is None:
                # No descriptor of the file here, so no lock of this process to drop: connects
                # (which take the lock) wait for `_OPENING`, which this thread holds.
                with location.open("rb") as handle:
                    return handle.read(size)
            try:
                head = os.pread(held, size, 0)
                if _names(held, wanted):
                    return head
            except OSError:
                continue  # closed by another thread between the search and the read
        raise StaleView(f"its descriptors changed under each of {MAX_STALE_TRIES} reads")


def _descriptor_open_on(wanted: os.stat_result) -> int | None:
    """A readable descriptor of this process on the file `wanted` describes, None where there is
    none (or where /proc, which lists them, is missing: not Linux)."""
    try:
        descriptors = os.listdir("/proc/self/fd")
    except OSError:
        return None
    for name in descriptors:
        try:
            if _names(int(name), wanted):
                os.pread(int(name), 0, 0)  # refuses a descriptor opened for writing only
                return int(name)
        except (OSError, ValueError):
            continue
    return None


def _names(descriptor: int, wanted: os.stat_result) -> bool:
    status = os.fstat(descriptor)
    return (status.st_dev, status.st_ino) == (wanted.st_dev, wanted.st_ino)


def _is_new(location: Path) -> bool:
    try:
        return location.stat().st_size == 0
    except FileNotFoundError:
        return True


@contextmanager
def _folder_locked(folder: Path) -> Iterator[None]:
    """An exclusive lock on a folder (flock on a descriptor of it, released when it is closed)."""
    descriptor = os.open(folder, os.O_RDONLY)
    try:
        fcntl.flock(descriptor, fcntl.LOCK_EX)
        yield
    finally:
        os.close(descriptor)
