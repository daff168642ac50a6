"""The store's schema, as ordered lists of migrations, and the one routine that applies them.

The embedded store (DuckDB) has `MIGRATIONS`; the shared store's catalog (PostgreSQL) has
`PG_MIGRATIONS`, built from the same statements (its version 1 is the embedded store's schema as
of its migration 4; the SQL here is what both databases accept). `schema_version` records the
migrations applied. Never edit a migration that has shipped: add the next one, to both lists
where both stores need it. Each runs in its own transaction (`apply_migrations`).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import duckdb

from bordersim.errors import BordersimError
from bordersim.store.interface import Catalog


@dataclass(frozen=True)
class Migration:
    version: int
    description: str
    statements: tuple[str, ...]
    #: Work SQL alone cannot do, run after the statements in the same transaction (given the
    #: store's connection).
    step: Callable[[Any], None] | None = None


_RUN_CATALOG = (
    """CREATE TABLE runs (run_id VARCHAR PRIMARY KEY, created_at TIMESTAMP, finished_at TIMESTAMP,
    status VARCHAR NOT NULL,
    scenario_name VARCHAR, scenario_hash VARCHAR, scenario_text VARCHAR, engine VARCHAR,
    seed BIGINT, replications INTEGER, code_version VARCHAR, timings_json VARCHAR,
    kpis_json VARCHAR, report_path VARCHAR)""",
    """CREATE TABLE run_daily (run_id VARCHAR, replication INTEGER, date DATE, sector VARCHAR,
    metric VARCHAR, value DOUBLE)""",
    """CREATE TABLE run_custody_hist (run_id VARCHAR, replication INTEGER, sector VARCHAR,
    population VARCHAR, hours INTEGER, count DOUBLE)""",
)

_OFFICIAL_DATA = (
    # One row per imported file kind: the import that the data tables currently hold.
    """CREATE TABLE data_imports (kind VARCHAR PRIMARY KEY, file_name VARCHAR NOT NULL,
    file_sha256 VARCHAR NOT NULL, sheets VARCHAR, row_count BIGINT NOT NULL,
    imported_at TIMESTAMP NOT NULL)""",
    # Every sheet of the OHSS USBP workbook, one row per published row; unused dimensions NULL.
    """CREATE TABLE ohss_encounters (sheet VARCHAR NOT NULL, source_row INTEGER NOT NULL,
    fiscal_year INTEGER NOT NULL, fiscal_month INTEGER, month_start DATE, region VARCHAR,
    sector VARCHAR, citizenship VARCHAR, family_status VARCHAR, quantity BIGINT NOT NULL)""",
    """CREATE TABLE cbp_swb_encounters (source_row INTEGER NOT NULL,
    fiscal_year INTEGER NOT NULL, fiscal_month INTEGER NOT NULL, month_start DATE NOT NULL,
    month_grouping VARCHAR, component VARCHAR NOT NULL, demographic VARCHAR NOT NULL,
    citizenship_group VARCHAR NOT NULL, title_of_authority VARCHAR NOT NULL,
    encounter_type VARCHAR NOT NULL, encounter_count BIGINT NOT NULL)""",
)

# What a run's report shows besides its results, kept so that a report rewritten from the store
# equals the original: parameter sources (a scenario's demand fit is a file beside it, which a
# stored text alone cannot find again) and the warnings raised when the scenario was compiled.
_RUN_CONTEXT = (
    "ALTER TABLE runs ADD COLUMN sources_json VARCHAR",
    "ALTER TABLE runs ADD COLUMN warnings_json VARCHAR",
)

_RUN_OWNER = (
    # Which process runs a 'running' run (host, process id and its start time, so that a reused
    # process id is not mistaken for it) and where its output goes: a run whose process has died
    # is marked failed and its temporary files removed (`store.runs.repair_dead_runs`).
    "ALTER TABLE runs ADD COLUMN host VARCHAR",
    "ALTER TABLE runs ADD COLUMN pid BIGINT",
    "ALTER TABLE runs ADD COLUMN process_start VARCHAR",
    "ALTER TABLE runs ADD COLUMN out_dir VARCHAR",
    "ALTER TABLE runs ADD COLUMN failure VARCHAR",
)

# The calibration a run used (its artifact's absolute path; NULL for the shipped one): the report
# validates against that artifact's official counts, and a scenario that names its calibration by
# a path relative to itself cannot find it again from the stored text alone.
_RUN_CALIBRATION = ("ALTER TABLE runs ADD COLUMN calibration VARCHAR",)
# The sha256 of that artifact as the run read it: a report written again later validates
# against its counts only while the file still holds them.
_RUN_CALIBRATION_SHA = ("ALTER TABLE runs ADD COLUMN calibration_sha256 VARCHAR",)

# The scenario file a run came from, by its absolute path as given (NULL: a run stored before
# the store kept it): the run's details name it, where the stored text alone cannot.
_RUN_SCENARIO_PATH = ("ALTER TABLE runs ADD COLUMN scenario_path VARCHAR",)

# Which process drives a sweep that is not finished (host, process id and its start time, as for
# runs): `bordersim runs` shows a sweep whose process is alive as running, not as one to resume.
_SWEEP_OWNER = (
    "ALTER TABLE sweeps ADD COLUMN host VARCHAR",
    "ALTER TABLE sweeps ADD COLUMN pid BIGINT",
    "ALTER TABLE sweeps ADD COLUMN process_start VARCHAR",
)

_RESULT_FILES = (
    # Each file of a run's results (store.result_files): path relative to the results folder.
    """CREATE TABLE run_files (run_id VARCHAR NOT NULL, kind VARCHAR NOT NULL,
    path VARCHAR NOT NULL, bytes BIGINT NOT NULL, rows BIGINT NOT NULL, sha256 VARCHAR NOT NULL,
    PRIMARY KEY (run_id, kind))""",
)


def _move_results_to_parquet(connection: duckdb.DuckDBPyConnection) -> None:
    """Every run's rows of `run_daily` and `run_custody_hist` to its Parquet files, each checked
    row for row (count and content hash) before the tables are dropped. A run with rows gets both
    files (an empty histogram file where it had none), whatever its status, so nothing is lost."""
    from bordersim.store.result_files import (
        CUSTODY_HIST,
        DAILY,
        copy_to_parquet,
        embedded_results_dir,
    )

    results_dir = embedded_results_dir(connection)
    run_ids = [
        row[0]
        for row in connection.execute(
            """SELECT run_id FROM run_daily UNION SELECT run_id FROM run_custody_hist
            UNION SELECT run_id FROM runs WHERE status = 'complete' ORDER BY 1"""
        ).fetchall()
    ]
    for run_id in run_ids:
        literal = "'" + run_id.replace("'", "''") + "'"
        queries = {
            DAILY: "SELECT replication, date, sector, metric, value FROM run_daily "
            f"WHERE run_id = {literal} ORDER BY replication, date, sector, metric",
            CUSTODY_HIST: "SELECT replication, sector, population, hours, count FROM "
            f"run_custody_hist WHERE run_id = {literal} ORDER BY replication, sector, "
            "population, hours",
        }
        for kind, query in queries.items():
            made = copy_to_parquet(connection, results_dir, run_id, kind, query)
            connection.execute(
                "INSERT INTO run_files VALUES (?, ?, ?, ?, ?, ?)",
                [made.run_id, made.kind, made.path, made.bytes, made.rows, made.sha256],
            )
    connection.execute("DROP TABLE run_daily")
    connection.execute("DROP TABLE run_custody_hist")


def _register_legacy_sweeps(connection: duckdb.DuckDBPyConnection) -> None:
    """Sweeps of ``<store folder>/sweeps/`` (plan.json, manifest.json): their complete, checked
    blocks registered, the rest left to ``--resume`` (`store.legacy_sweeps`)."""
    from bordersim.store.legacy_sweeps import register_legacy_sweeps

    register_legacy_sweeps(connection)


_SWEEP_CATALOG = (
    # A blocked sweep (`services.blocks`): what fixes its numbers (its plan, as JSON), and when
    # its last block was registered. Its blocks are Parquet files under the results folder
    # (`sweeps/<sweep id>/blocks/...`), each recorded in `sweep_blocks` only once its task has
    # written it whole and its sha256 is the one the task computed.
    """CREATE TABLE sweeps (sweep_id VARCHAR PRIMARY KEY, created_at TIMESTAMP NOT NULL,
    finished_at TIMESTAMP, scenario_name VARCHAR NOT NULL, scenario_hash VARCHAR NOT NULL,
    plan_json VARCHAR NOT NULL, blocks INTEGER NOT NULL, code_version VARCHAR)""",
    """CREATE TABLE sweep_blocks (sweep_id VARCHAR NOT NULL, block VARCHAR NOT NULL,
    path VARCHAR NOT NULL, bytes BIGINT NOT NULL, rows BIGINT NOT NULL, sha256 VARCHAR NOT NULL,
    scenario_names_json VARCHAR NOT NULL, scenario_hashes_json VARCHAR NOT NULL,
    compile_s DOUBLE PRECISION, run_s DOUBLE PRECISION, write_s DOUBLE PRECISION,
    registered_at TIMESTAMP NOT NULL, PRIMARY KEY (sweep_id, block))""",
)

MIGRATIONS: tuple[Migration, ...] = (
    Migration(1, "run catalog and official data tables", _RUN_CATALOG + _OFFICIAL_DATA),
    Migration(2, "parameter sources and warnings of each run", _RUN_CONTEXT),
    Migration(3, "the process that runs a run, its output folder and why it failed", _RUN_OWNER),
    Migration(
        4,
        "run results as Parquet files partitioned by run, recorded in run_files",
        _RESULT_FILES,
        _move_results_to_parquet,
    ),
    Migration(5, "blocked sweeps and their block files", _SWEEP_CATALOG),
    Migration(
        6,
        "sweeps an earlier bordersim kept beside the store, registered in the sweep catalog",
        (),
        _register_legacy_sweeps,
    ),
    Migration(7, "the calibration each run used", _RUN_CALIBRATION),
    Migration(8, "the sha256 of the calibration file each run used", _RUN_CALIBRATION_SHA),
    Migration(9, "the scenario file each run came from", _RUN_SCENARIO_PATH),
    Migration(10, "the process that drives each sweep", _SWEEP_OWNER),
)

#: The shared store's catalog: version 1 is the embedded store's schema as of its migration 4
#: (the same tables and columns, in the same order), with no results in tables to move.
PG_MIGRATIONS: tuple[Migration, ...] = (
    Migration(
        1,
        "run catalog, result files and official data tables",
        (_RUN_CATALOG[0], *_RUN_CONTEXT, *_RUN_OWNER, *_RESULT_FILES, *_OFFICIAL_DATA),
    ),
    Migration(2, "blocked sweeps and their block files", _SWEEP_CATALOG),
    Migration(3, "the calibration each run used", _RUN_CALIBRATION),
    Migration(4, "the sha256 of the calibration file each run used", _RUN_CALIBRATION_SHA),
    Migration(5, "the scenario file each run came from", _RUN_SCENARIO_PATH),
    Migration(6, "the process that drives each sweep", _SWEEP_OWNER),
)


def recorded_version(catalog: Catalog) -> int:
    """The newest migration `schema_version` records (0 for none)."""
    row = catalog.execute("SELECT max(version) FROM schema_version").fetchone()
    return int(row[0]) if row and row[0] is not None else 0


def current_version(catalog: Catalog) -> int:
    catalog.execute(
        """CREATE TABLE IF NOT EXISTS schema_version (version INTEGER PRIMARY KEY,
        description VARCHAR NOT NULL, applied_at TIMESTAMP NOT NULL)"""
    )
    return recorded_version(catalog)


def apply_migrations(
    catalog: Catalog, migrations: tuple[Migration, ...], *, where: str | None = None
) -> int:
    """Apply every migration newer than the store's version, each in its own transaction, on
    either store's connection; return the resulting version."""
    version = current_version(catalog)
    latest = migrations[-1].version
    if version > latest:
        raise BordersimError(newer_schema_message(version, latest), where=where)
    for migration in migrations:
        if migration.version <= version:
            continue
        catalog.execute("BEGIN TRANSACTION")
        try:
            for statement in migration.statements:
                catalog.execute(statement)
            if migration.step is not None:
                migration.step(catalog)
            catalog.execute(
                "INSERT INTO schema_version VALUES (?, ?, now()::TIMESTAMP)",
                [migration.version, migration.description],
            )
            catalog.execute("COMMIT")
        except BaseException:
            catalog.execute("ROLLBACK")
            raise
        version = migration.version
    return version


def newer_schema_message(version: int, latest: int) -> str:
    """Why a store written by a newer bordersim is refused, and what to do: the same words
    whether a command opens it to read or to write."""
    return (
        f"store schema version {version} is newer than this bordersim knows ({latest}); "
        "upgrade bordersim or use another store"
    )


def migrate(connection: duckdb.DuckDBPyConnection, *, where: str | None = None) -> int:
    """Bring the embedded store's schema up to date (`where`: the store, as messages name it)."""
    return apply_migrations(connection, MIGRATIONS, where=where)


def check_readable(version: int, latest: int, *, where: str) -> None:
    """A read-only open of a store at another schema version than this bordersim's is refused
    (an older one is migrated by the next command that writes, never by a reader)."""
    if version != latest:
        raise BordersimError(
            f"store schema version {version}, this bordersim reads version {latest}; "
            "any `bordersim` command that writes (such as `bordersim runs`) brings an older "
            "store up to date",
            where=where,
        )
