"""A stored run's daily results as a file: CSV or Parquet, all metrics and sectors or a choice.

One row per replication, day, sector and metric (the store's tidy layout, DESIGN section 3), with
the unit of its value (`results.schema.metric_unit`: people, staff-hours, dollars...); a CSV
writes the flow engine's 32-bit values in their own shortest digits. The
file is written by DuckDB straight from the store to a temporary file beside the destination and
renamed, so a reader never finds half a file under the final name, and memory stays flat however
large the run.
"""

from __future__ import annotations

import difflib
import errno
import fnmatch
import os
import stat
import tempfile
from collections.abc import Sequence
from pathlib import Path

from bordersim.errors import BordersimError
from bordersim.output_files import output_file_place
from bordersim.results.schema import DAILY_METRICS, METRIC_UNITS
from bordersim.store.interface import Catalog, reader_of
from bordersim.store.result_files import DAILY
from bordersim.store.runs import result_sources
from bordersim.words import counted

FORMATS = ("csv", "parquet")
MEDIA_TYPES = {"csv": "text/csv", "parquet": "application/vnd.apache.parquet"}


class UnknownChoice(BordersimError):
    """A metric, sector or other name that the run does not have (the request's fault, not
    the store's: the workbench answers it with 422, in its own words from `kind`, `name` and
    `known`)."""

    def __init__(self, message: str, *, kind: str, name: str, known: Sequence[str]) -> None:
        super().__init__(message)
        self.kind, self.name, self.known = kind, name, tuple(known)


def check_choice(kind: str, chosen: Sequence[str], known: Sequence[str]) -> list[str]:
    """The chosen names in the order given, each as the store spells it ('rgv' is 'RGV', as in
    a scenario file), or one error naming the first unknown one."""
    resolved = []
    for name in chosen:
        if _is_pattern(name):  # 'staff_hours:*', as the documentation names a group
            matched = fnmatch.filter(known, name)
            if not matched:
                raise UnknownChoice(
                    f"no {kind} matches {name!r}; {_listed(kind, known)}",
                    kind=kind,
                    name=name,
                    known=known,
                )
            resolved += matched
            continue
        meant = _known_spelling(name, known)
        if meant is None:
            raise UnknownChoice(
                f"unknown {kind} {name!r}{_meant_hint(kind, name, known)}; {_listed(kind, known)}",
                kind=kind,
                name=name,
                known=known,
            )
        resolved.append(meant)
    return list(dict.fromkeys(resolved))


def each_name(options: Sequence[str]) -> list[str]:
    """The names of repeated options (`--metric`, or the workbench's `?metric=`), a list joined
    by commas ("RGV, TCA") read as its names; an option of no name at all is kept, to be
    refused."""
    names = []
    for option in options:
        listed = [name.strip() for name in option.split(",") if name.strip()]
        names += listed or [option]
    return names


def _is_pattern(name: str) -> bool:
    return any(sign in name for sign in "*?[")


def _meant_hint(kind: str, name: str, known: Sequence[str]) -> str:
    """What an unknown name may have meant: the pattern of the family it names ('staff_hours'
    is 'staff_hours:*'), else up to three names spelt alike, else nothing."""
    family = [option for option in known if option.startswith(f"{name}:")]
    if family:
        return f" (did you mean the pattern '{name}:*', {counted(len(family), kind)}?)"
    close = [repr(option) for option in difflib.get_close_matches(name, list(known), n=3)]
    if not close:
        return ""
    either = close[0] if len(close) == 1 else f"{', '.join(close[:-1])} or {close[-1]}"
    return f" (did you mean {either}?)"


#: Where every daily metric is listed: too many for a message of one line.
METRICS_LISTED_IN = "docs/running.md (The daily metrics)"


def _listed(kind: str, known: Sequence[str]) -> str:
    """The known names, or their number and where they are all listed where they are many."""
    if len(known) <= 12:
        return f"known: {', '.join(known)}"
    if kind == "metric":
        return f"{len(known)} known, all listed in {METRICS_LISTED_IN}"
    return f"{len(known)} known, such as {', '.join(known[:6])}"


def _known_spelling(name: str, known: Sequence[str]) -> str | None:
    """`name` itself if known; else the one known name that differs from it in case only; else
    None (two names alike but for case would make the choice a guess)."""
    if name in known:
        return name
    same = [option for option in known if option.casefold() == name.casefold()]
    return same[0] if len(same) == 1 else None


def export_query(
    connection: Catalog,
    run_id: str,
    metrics: Sequence[str] = (),
    sectors: Sequence[str] = (),
) -> str:
    """The SELECT of the rows to export; errors for an unknown run, metric or sector.

    COPY takes no parameters, so the values are written into the query as SQL literals; each was
    checked against the store's own names first.
    """
    daily = result_sources(connection, run_id)[DAILY]
    run_sectors = [
        row[0]
        for row in reader_of(connection)
        .execute(f"SELECT DISTINCT sector FROM {daily} ORDER BY sector")
        .fetchall()
    ]
    wanted_metrics = check_choice("metric", metrics, DAILY_METRICS)
    wanted_sectors = check_run_sectors(sectors, run_sectors)
    # each row's unit beside its value (people, staff-hours, dollars...), from the schema
    units = ", ".join(f"({_literal(m)}, {_literal(u)})" for m, u in METRIC_UNITS.items())
    sql = (
        f"SELECT replication, date, sector, metric, value, units.unit FROM {daily} "
        f"LEFT JOIN (VALUES {units}) AS units(metric_name, unit) ON metric = units.metric_name "
        "WHERE true"
    )
    if wanted_metrics:
        sql += f" AND metric IN ({', '.join(map(_literal, wanted_metrics))})"
    if wanted_sectors:
        sql += f" AND sector IN ({', '.join(map(_literal, wanted_sectors))})"
    return sql + " ORDER BY replication, date, sector, metric"


def check_run_sectors(chosen: Sequence[str], run_sectors: Sequence[str]) -> list[str]:
    """The chosen sectors as the run spells them ('rgv' is 'RGV'), or one error naming the first
    the run does not have, in the words every command and workbench page refuses it with."""
    _check_run_has_sectors(chosen, run_sectors)
    return check_choice("sector", chosen, run_sectors)


def _check_run_has_sectors(chosen: Sequence[str], run_sectors: Sequence[str]) -> None:
    """Refuse a sector of the border that the run does not simulate ('EPT' of a run of RGV and
    TCA) as not the run's: it is no typo, so "unknown sector" would mislead."""
    from bordersim.model.dimensions import Sector

    border = [sector.name for sector in Sector]
    for name in chosen:
        if _known_spelling(name, run_sectors) is None and _known_spelling(name, border):
            raise UnknownChoice(
                f"sector {name!r} is not one of this run's ({', '.join(run_sectors)})",
                kind="sector",
                name=name,
                known=run_sectors,
            )


def export_run(
    connection: Catalog,
    run_id: str,
    out: Path,
    *,
    file_format: str,
    metrics: Sequence[str] = (),
    sectors: Sequence[str] = (),
) -> int:
    """Write the run's daily rows to `out`; return the number of rows written."""
    # "CSV" is csv, and " csv" (a space from the shell's quoting) is too
    file_format = _known_spelling(file_format.strip(), FORMATS) or file_format
    if file_format not in FORMATS:
        raise BordersimError(f"unknown format {file_format!r}; choose one of: {', '.join(FORMATS)}")
    sql = export_query(connection, run_id, metrics, sectors)
    check_not_in_store(connection, out)
    _check_name_matches_format(out, file_format)
    written = sql
    if file_format == "csv" and _counts_in_float32(connection, run_id):
        written = f"SELECT * REPLACE (CAST(value AS FLOAT) AS value) FROM ({sql})"
    if is_stream(out):  # /dev/stdout, a named pipe: written into, never renamed over
        _copy_into_stream(connection, written, out, file_format)
    else:
        with output_file_place(out, what="--out"):
            _copy_into_place(connection, written, out, file_format)
    row = reader_of(connection).execute(f"SELECT count(*) FROM ({sql})").fetchone()
    return int(row[0]) if row else 0


#: The engines whose values are 32-bit floats, stored widened to 64 bits.
FLOAT32_ENGINES = ("flow",)


def _counts_in_float32(connection: Catalog, run_id: str) -> bool:
    """Whether the run's values are 32-bit floats (the flow engine's): a CSV writes them with the
    shortest digits that give the value back as a 32-bit float (1276.6691), not the 64-bit
    widening's digits (1276.6690673828125), which say a precision the engine never had."""
    from bordersim.store.runs import get_run

    return get_run(connection, run_id).engine in FLOAT32_ENGINES


def _check_name_matches_format(out: Path, file_format: str) -> None:
    """Refuse an `out` whose name says the other format (`--format parquet --out run.csv`): the
    file would be written, and a program choosing its reader by the name would read garbage."""
    named = out.suffix.lower().lstrip(".")
    if named in FORMATS and named != file_format:
        raise BordersimError(
            f"--out names a {out.suffix} file, but --format is {file_format}; give --format "
            f"{named}, or an --out ending in .{file_format}",
            where=str(out),
        )


def _copy_into_place(connection: Catalog, sql: str, out: Path, file_format: str) -> None:
    """The rows of `sql` written to a temporary file beside `out`, then renamed into place."""
    handle, temporary = tempfile.mkstemp(prefix=f".{out.name}.", suffix=".tmp", dir=out.parent)
    os.close(handle)
    try:
        _copy(connection, sql, temporary, file_format)
        os.chmod(temporary, _readable_mode())
        os.replace(temporary, out)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise


def _copy(connection: Catalog, sql: str, path: str, file_format: str) -> None:
    options = "FORMAT csv, HEADER true" if file_format == "csv" else "FORMAT parquet"
    reader_of(connection).execute(f"COPY ({sql}) TO {_literal(path)} ({options})")


def _copy_into_stream(connection: Catalog, sql: str, out: Path, file_format: str) -> None:
    """The rows written into a pipe; its reader gone (`| head`) is the closed pipe that every
    command ends at quietly, not DuckDB's error with a traceback."""
    import duckdb

    try:
        _copy(connection, sql, str(out), file_format)
    except duckdb.IOException as err:
        if "Broken pipe" not in str(err):
            raise
        raise BrokenPipeError(errno.EPIPE, os.strerror(errno.EPIPE), str(out)) from None


def is_stream(out: Path) -> bool:
    """Whether `out` is a pipe, terminal or device (`/dev/stdout`, a named pipe): the rows are
    written into it as it is. A temporary file renamed over it replaced the link /dev/stdout
    with a regular file, and the rows never reached the pipe."""
    try:
        mode = os.stat(out).st_mode
    except OSError:
        return False
    return stat.S_ISFIFO(mode) or stat.S_ISCHR(mode) or stat.S_ISSOCK(mode)


def check_not_in_store(connection: Catalog, out: Path, what: str = "export") -> None:
    """Refuse an `out` that is the store itself: its file (by any path or link), its write-ahead
    log, or a path inside its results folder. The export would be renamed over it, replacing the
    user's store or a run's results with the exported rows. `what` names what is written (a
    report, whose `out` is its folder)."""
    import duckdb

    from bordersim.store.interface import results_dir_of

    target = out.absolute().resolve()
    results = results_dir_of(connection).resolve()
    if target == results or results in target.parents:
        raise BordersimError(
            "--out is inside the store's results folder, which holds its runs' results; write "
            f"the {what} elsewhere",
            where=str(out),
        )
    if isinstance(connection, duckdb.DuckDBPyConnection):
        row = connection.execute(
            "SELECT path FROM duckdb_databases() WHERE database_name = current_database()"
        ).fetchone()
        store = Path(row[0]).absolute() if row and row[0] else None
        if store is None:
            return
        places = {"the store file": store, "the store's write-ahead log": Path(f"{store}.wal")}
        for place_name, place in places.items():
            if target == place.resolve() or _same_file(out, place):
                raise BordersimError(
                    f"--out is {place_name}; write the {what} elsewhere", where=str(out)
                )


def _same_file(a: Path, b: Path) -> bool:
    try:
        return os.path.samefile(a, b)
    except OSError:
        return False


def _literal(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


def _readable_mode() -> int:
    from bordersim.output_files import readable_mode

    return readable_mode()
