"""Benchmarks of bordersim: the event core raced against peer libraries.

Run `python -m bench.peers` (or `make bench`).
"""

from __future__ import annotations

import argparse
import re
import sys
from pathlib import Path
from typing import NoReturn

#: what a count below 1 (or not a whole number) is told
NOT_A_COUNT = "must be a whole number of at least 1"


class BenchParser(argparse.ArgumentParser):
    """A bench script's options: ``--help`` prints its docstring, a bad argument is one line,
    ``error: ...``, and exit status 2."""

    def error(self, message: str) -> NoReturn:
        # a count out of its range reads as the bordersim commands word it: `--rounds 0: ...`
        message = re.sub(rf"^argument ([^:]+): (.*?): ({NOT_A_COUNT})$", r"\1 \2: \3", message)
        self.exit(2, f"error: {message} (see {self.prog} --help)\n")


def bench_arguments(doc: str | None, file: str) -> BenchParser:
    """The parser of the bench script `file` (its ``__file__``), described by its docstring and
    shown as it is run, ``python -m bench.NAME``."""
    return BenchParser(
        prog=f"python -m bench.{Path(file).stem}",
        description=doc,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )


def not_run_alone(doc: str | None, file: str, runner: str) -> NoReturn:
    """For a module of another bench script: ``--help`` prints its docstring; run alone, it
    says which script to run instead (exit status 2)."""
    parser = bench_arguments(doc, file)
    parser.parse_args()
    stem = Path(file).stem
    message = f"error: bench.{stem} is a module of {runner}, not run alone: run python -m {runner}"
    print(message, file=sys.stderr)
    raise SystemExit(2)


def existing_file(text: str) -> Path:
    """A file the script reads (a scenario, a plan): refused when it is not there, before any
    compilation or run."""
    path = Path(text)
    if not path.is_file():
        what = "a folder, not a file" if path.is_dir() else "no such file"
        raise argparse.ArgumentTypeError(f"{what}: {text}")
    return path


def count(text: str) -> int:
    """A number of replications, variants, workers, rounds or the like: a whole number of at
    least 1, refused at parse time (``0`` would print ``nan`` or run nothing)."""
    try:
        number = int(text)
    except ValueError:
        number = 0
    if number < 1:
        raise argparse.ArgumentTypeError(f"{text}: {NOT_A_COUNT}")
    return number


def existing_folder(text: str) -> Path:
    """A folder the script reads (another checkout, a plan's output folder): refused when it is
    not there or is a file, before any compilation or run."""
    path = Path(text)
    if not path.is_dir():
        what = "a file, not a folder" if path.exists() else "no such folder"
        raise argparse.ArgumentTypeError(f"{what}: {text}")
    return path
