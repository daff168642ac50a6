"""Processes opening one store file in turn: are committed writes kept?

    python -m bench.store_opens [--trials 3] [--processes 8] [--cycles 30] [--raw]

Each process, `--cycles` times: opens the file, inserts a row, closes; opens it again, checks
that the row is there and marks it done, closes. Then the file is read once more and the rows
counted. With `--raw` every open is a plain `duckdb.connect` (retried while another process holds
the lock); without it, `bordersim.store.connection.connect_current`, which the store uses. A lost
row (its insert committed, then gone) or a row left not done is a lost write; DuckDB 2.0.1 loses
them with plain `duckdb.connect` because it reads the file's headers before taking its lock
(see `bordersim.store.connection`). Prints one line per trial and exits 1 if any write was lost.
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import duckdb

from bench import bench_arguments, count
from bordersim.store.connection import connect_current


def connect(path: Path, raw: bool) -> duckdb.DuckDBPyConnection:
    """A connection, retried every 10 ms while another process holds the lock (not the store's
    own waiting, whose growing pauses make the opens meet less often and the loss rarer)."""
    while True:
        try:
            if raw:
                return duckdb.connect(str(path))
            return connect_current(path, read_only=False)
        except duckdb.IOException as err:
            if "lock" not in str(err).lower():
                raise
            time.sleep(0.01)


def one_process(path: Path, process: int, cycles: int, raw: bool) -> int:
    """The open-insert-close, open-check-update-close cycles of one process; 3 on a lost row."""
    for cycle in range(cycles):
        key = f"p{process}-{cycle}"
        connection = connect(path, raw)
        try:
            connection.execute("INSERT INTO writes VALUES (?, false)", [key])
        finally:
            connection.close()
        connection = connect(path, raw)
        try:
            if connection.execute("SELECT 1 FROM writes WHERE key = ?", [key]).fetchone() is None:
                print(f"lost: {key} was committed and is gone", file=sys.stderr)
                return 3
            connection.execute("UPDATE writes SET done = true WHERE key = ?", [key])
        finally:
            connection.close()
    return 0


def trial(processes: int, cycles: int, raw: bool) -> tuple[int, int, list[int], float]:
    """Rows kept, rows done, exit codes of the processes, seconds (in a folder removed after)."""
    with tempfile.TemporaryDirectory(prefix="store-opens-") as folder:
        path = Path(folder) / "opens.duckdb"
        with duckdb.connect(str(path)) as connection:
            connection.execute("CREATE TABLE writes (key VARCHAR PRIMARY KEY, done BOOLEAN)")
        started = time.perf_counter()
        command = [sys.executable, "-m", "bench.store_opens", "--one", str(path)]
        children = [
            subprocess.Popen(
                [*command, str(p), "--cycles", str(cycles), *(["--raw"] if raw else [])],
                stderr=subprocess.DEVNULL,
            )
            for p in range(processes)
        ]
        codes = [child.wait() for child in children]
        seconds = time.perf_counter() - started
        with duckdb.connect(str(path), read_only=True) as connection:
            row = connection.execute(
                "SELECT count(*), count(*) FILTER (done) FROM writes"
            ).fetchone()
    kept, done = (int(row[0]), int(row[1])) if row else (0, 0)
    return kept, done, codes, seconds


def main(argv: list[str] | None = None) -> int:
    parser = bench_arguments(__doc__, __file__)
    parser.add_argument("--trials", type=count, default=3)
    parser.add_argument("--processes", type=count, default=8)
    parser.add_argument("--cycles", type=count, default=30)
    parser.add_argument("--raw", action="store_true", help="plain duckdb.connect")
    parser.add_argument("--one", nargs=2, metavar=("PATH", "PROCESS"), help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.one:
        return one_process(Path(args.one[0]), int(args.one[1]), args.cycles, args.raw)
    expected = args.processes * args.cycles
    lost_any = False
    opener = "duckdb.connect" if args.raw else "connect_current"
    for number in range(1, args.trials + 1):
        kept, done, codes, seconds = trial(args.processes, args.cycles, args.raw)
        failed = sum(code != 0 for code in codes)
        lost_any |= done != expected or failed > 0
        print(
            f"trial {number} ({opener}): {expected} writes, {kept} rows kept, {done} done, "
            f"{failed} processes stopped on a lost row or an error, {seconds:.1f} s",
            flush=True,
        )
    return 1 if lost_any else 0


if __name__ == "__main__":
    sys.exit(main())
