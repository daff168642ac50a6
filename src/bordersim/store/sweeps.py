"""The sweep catalog: one row per blocked sweep in `sweeps`, one per finished block in
`sweep_blocks`, in either store (embedded DuckDB or shared PostgreSQL).

A blocked sweep (`services.blocks`) writes its blocks as Parquet files under the store's results
folder, `sweeps/<sweep id>/blocks/variants=VVVVV/seeds=SSSSS.parquet`. The catalog records the
sweep (its plan, so that `bordersim sweep --resume` can finish it from any machine that reaches
the store) when it starts, and a block only once its task has written the file whole and the
file's sha256 is the one the task computed. A block file the catalog does not list is not a
result; a listed one whose file is missing or of another size is run again.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import socket
from dataclasses import dataclass
from pathlib import Path

from bordersim.store.interface import Catalog
from bordersim.store.result_files import ResultFile

SWEEP_TABLES = ("sweeps", "sweep_blocks")


@dataclass(frozen=True)
class SweepBlock:
    """One registered block as the catalog records it (path relative to the results folder)."""

    sweep_id: str
    block: str
    path: str
    bytes: int
    rows: int
    sha256: str
    scenario_names: list[str]
    scenario_hashes: list[str]
    compile_s: float
    run_s: float
    write_s: float


@dataclass(frozen=True)
class StoredSweep:
    sweep_id: str
    created_at: dt.datetime
    finished_at: dt.datetime | None
    scenario_name: str
    blocks: int
    registered: int  # blocks registered so far
    # the process that last drove it (None: not recorded, as by an earlier bordersim)
    host: str | None = None
    pid: int | None = None
    process_start: str | None = None


def sweep_folder(results_dir: Path, sweep_id: str) -> Path:
    """Where a sweep's block files live, under the store's results folder."""
    return results_dir / "sweeps" / sweep_id


def record_sweep(
    catalog: Catalog,
    sweep_id: str,
    *,
    scenario_name: str,
    scenario_hash: str,
    plan_json: str,
    blocks: int,
    code_version: str,
) -> None:
    """Record a sweep when it starts, driven by this process; a sweep already recorded (the same
    id is the same sweep, asked again) keeps its row, and this process now drives it."""
    catalog.execute(
        """INSERT INTO sweeps (sweep_id, created_at, scenario_name, scenario_hash, plan_json,
        blocks, code_version) VALUES (?, now()::TIMESTAMP, ?, ?, ?, ?, ?)
        ON CONFLICT (sweep_id) DO NOTHING""",
        [sweep_id, scenario_name, scenario_hash, plan_json, blocks, code_version],
    )
    claim_sweep(catalog, sweep_id)


def claim_sweep(catalog: Catalog, sweep_id: str) -> None:
    """Record this process (host, id, start time) as the one that drives the sweep now."""
    from bordersim.store.runs import process_start_time

    catalog.execute(
        "UPDATE sweeps SET host = ?, pid = ?, process_start = ? WHERE sweep_id = ?",
        [socket.gethostname(), os.getpid(), process_start_time(os.getpid()), sweep_id],
    )


def release_sweep(catalog: Catalog, sweep_id: str) -> None:
    """This process no longer drives the sweep (it stopped before finishing it, and lives on,
    as a notebook does): the sweep is to resume, not running."""
    catalog.execute(
        "UPDATE sweeps SET host = NULL, pid = NULL, process_start = NULL WHERE sweep_id = ? "
        "AND host = ? AND pid = ?",
        [sweep_id, socket.gethostname(), os.getpid()],
    )


def sweep_process(catalog: Catalog, sweep_id: str) -> tuple[str | None, int | None, str | None]:
    """The process (host, id, start time) recorded as driving the sweep; Nones if none is."""
    row = catalog.execute(
        "SELECT host, pid, process_start FROM sweeps WHERE sweep_id = ?", [sweep_id]
    ).fetchone()
    if row is None:
        return None, None, None
    return row[0], None if row[1] is None else int(row[1]), row[2]


def sweep_plan(catalog: Catalog, sweep_id: str) -> str | None:
    """The plan (JSON) of a recorded sweep, or None."""
    row = catalog.execute("SELECT plan_json FROM sweeps WHERE sweep_id = ?", [sweep_id]).fetchone()
    return None if row is None else str(row[0])


def register_block(catalog: Catalog, block: SweepBlock) -> None:
    """Record a finished block (its file already checked by the caller). A block registered
    before (by a driver that ran the same sweep at once, or an attempt whose file was since
    lost) is replaced: the file on disk is the one now recorded."""
    catalog.execute(
        """INSERT INTO sweep_blocks (sweep_id, block, path, bytes, rows, sha256,
        scenario_names_json, scenario_hashes_json, compile_s, run_s, write_s, registered_at)
        VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, now()::TIMESTAMP)
        ON CONFLICT (sweep_id, block) DO UPDATE SET path = excluded.path,
        bytes = excluded.bytes, rows = excluded.rows, sha256 = excluded.sha256,
        scenario_names_json = excluded.scenario_names_json,
        scenario_hashes_json = excluded.scenario_hashes_json, compile_s = excluded.compile_s,
        run_s = excluded.run_s, write_s = excluded.write_s,
        registered_at = excluded.registered_at""",
        [
            block.sweep_id,
            block.block,
            block.path,
            block.bytes,
            block.rows,
            block.sha256,
            json.dumps(block.scenario_names),
            json.dumps(block.scenario_hashes),
            block.compile_s,
            block.run_s,
            block.write_s,
        ],
    )


def registered_blocks(catalog: Catalog, sweep_id: str) -> dict[str, SweepBlock]:
    """The sweep's registered blocks, by block name."""
    rows = catalog.execute(
        """SELECT sweep_id, block, path, bytes, rows, sha256, scenario_names_json,
        scenario_hashes_json, compile_s, run_s, write_s FROM sweep_blocks WHERE sweep_id = ?
        ORDER BY block""",
        [sweep_id],
    ).fetchall()
    return {
        row[1]: SweepBlock(
            sweep_id=row[0],
            block=row[1],
            path=row[2],
            bytes=int(row[3]),
            rows=int(row[4]),
            sha256=row[5],
            scenario_names=json.loads(row[6]),
            scenario_hashes=json.loads(row[7]),
            compile_s=float(row[8] or 0.0),
            run_s=float(row[9] or 0.0),
            write_s=float(row[10] or 0.0),
        )
        for row in rows
    }


def finish_sweep(catalog: Catalog, sweep_id: str) -> None:
    """Mark the sweep finished (every block registered), once."""
    catalog.execute(
        "UPDATE sweeps SET finished_at = now()::TIMESTAMP WHERE sweep_id = ? "
        "AND finished_at IS NULL",
        [sweep_id],
    )


def list_sweeps(catalog: Catalog) -> list[StoredSweep]:
    rows = catalog.execute(
        """SELECT s.sweep_id, s.created_at, s.finished_at, s.scenario_name, s.blocks,
        (SELECT count(*) FROM sweep_blocks b WHERE b.sweep_id = s.sweep_id), s.host, s.pid,
        s.process_start FROM sweeps s ORDER BY s.created_at, s.sweep_id"""
    ).fetchall()
    return [
        StoredSweep(
            row[0],
            row[1],
            row[2],
            row[3] or "",
            int(row[4]),
            int(row[5]),
            host=row[6],
            pid=None if row[7] is None else int(row[7]),
            process_start=row[8],
        )
        for row in rows
    ]


def sweep_files(catalog: Catalog) -> list[ResultFile]:
    """Every registered block file, as the result files `verify_files` and a store copy take
    (the sweep id in place of a run id, the block name in place of a kind)."""
    rows = catalog.execute(
        "SELECT sweep_id, block, path, bytes, rows, sha256 FROM sweep_blocks "
        "ORDER BY sweep_id, block"
    ).fetchall()
    return [ResultFile(r[0], r[1], r[2], int(r[3]), int(r[4]), r[5]) for r in rows]
