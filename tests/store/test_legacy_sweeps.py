"""Migration 6: sweeps an earlier bordersim kept beside the store (``<store folder>/sweeps/<id>/``
with plan.json and manifest.json) are registered in the sweep catalog: complete, checksum-checked
blocks only, the rest left to --resume, the old folder untouched; a store the migration cannot
write is left as it was."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import duckdb
import numpy as np
import pytest

from bordersim.scenario import load_scenario
from bordersim.services.blocks import (
    BlockedSweep,
    BlockShape,
    SweepPlan,
    resume_sweep,
    run_blocked_sweep,
    sweep_id_of,
)
from bordersim.services.sweep import Axis
from bordersim.store import open_store
from bordersim.store.migrations import MIGRATIONS, apply_migrations
from bordersim.store.result_files import sha256_of
from bordersim.store.sweeps import registered_blocks

ROOT = Path(__file__).resolve().parents[2]
SMALL = ROOT / "scenarios" / "examples" / "small.toml"
AXES = [Axis("deployments.troops.headcount", (0, 300, 600))]
REPLICATIONS, SEED = 4, 11
SHAPE = BlockShape(variants=1, replications=2)  # 3 x 2 = six blocks
COMPLETE = [
    "variants=00000/seeds=00000",
    "variants=00000/seeds=00001",
    "variants=00002/seeds=00000",
]
CHANGED = "variants=00001/seeds=00000"  # listed, but its file differs from the manifest
UNLISTED = "variants=00001/seeds=00001"  # its file is there, the manifest does not list it
MISSING = "variants=00002/seeds=00001"  # listed, its file is gone


@pytest.fixture(scope="module")
def finished(tmp_path_factory: pytest.TempPathFactory) -> BlockedSweep:
    """The sweep run to the end by this bordersim (the numbers the migrated one must give)."""
    store = tmp_path_factory.mktemp("today") / "bordersim.duckdb"
    return run_blocked_sweep(
        load_scenario(SMALL),
        AXES,
        replications=REPLICATIONS,
        seed=SEED,
        shape=SHAPE,
        store=store,
    )


def make_old_store(folder: Path, finished: BlockedSweep) -> tuple[Path, Path]:
    """A store of schema version 5 and, beside it, the sweep as an earlier bordersim kept it."""
    store = folder / ".bordersim" / "bordersim.duckdb"
    store.parent.mkdir(parents=True)
    with duckdb.connect(str(store)) as connection:
        apply_migrations(connection, MIGRATIONS[:5])
    base = load_scenario(SMALL)
    sweep_id = sweep_id_of(base, AXES, REPLICATIONS, SEED, SHAPE)
    old = store.parent / "sweeps" / sweep_id
    plan = SweepPlan(sweep_id, str(base.path), base.hash, AXES, REPLICATIONS, SEED, SHAPE)
    (old / "blocks").mkdir(parents=True)
    (old / "plan.json").write_text(plan.to_json(), encoding="utf-8")
    entries = {}
    for name in [*COMPLETE, CHANGED, UNLISTED]:
        target = old / "blocks" / f"{name}.parquet"
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(finished.folder / "blocks" / f"{name}.parquet", target)
    for name in [*COMPLETE, CHANGED, MISSING]:
        source = finished.folder / "blocks" / f"{name}.parquet"
        entries[name] = {
            "file": f"blocks/{name}.parquet",
            "bytes": source.stat().st_size,
            "rows": 1,
            "sha256": sha256_of(source),
            "scenario_names": ["small"],
            "scenario_hashes": ["h"],
            "compile_s": 0.1,
            "run_s": 0.2,
            "write_s": 0.3,
        }
    changed = old / "blocks" / f"{CHANGED}.parquet"
    data = bytearray(changed.read_bytes())
    data[len(data) // 2] ^= 0xFF  # same size, other content
    changed.write_bytes(bytes(data))
    (old / "manifest.json").write_text(json.dumps({"blocks": entries}), encoding="utf-8")
    return store, old


def snapshot(folder: Path) -> dict[str, str]:
    return {
        p.relative_to(folder).as_posix(): sha256_of(p) for p in folder.rglob("*") if p.is_file()
    }


def test_an_old_sweep_is_registered_and_resumes_to_the_same_numbers(
    finished: BlockedSweep, tmp_path: Path
) -> None:
    store, old = make_old_store(tmp_path, finished)
    before = snapshot(old)
    with open_store(store) as connection:
        version = connection.execute("SELECT max(version) FROM schema_version").fetchone()
        assert version == (MIGRATIONS[-1].version,)
        blocks = registered_blocks(connection, finished.sweep_id)
        sweep = connection.execute(
            "SELECT blocks, finished_at FROM sweeps WHERE sweep_id = ?", [finished.sweep_id]
        ).fetchone()
    assert sorted(blocks) == COMPLETE and sweep == (6, None)
    results = store.with_name("bordersim.results")
    for name, entry in blocks.items():
        path = results / entry.path
        assert path == results / "sweeps" / finished.sweep_id / "blocks" / f"{name}.parquet"
        assert sha256_of(path) == entry.sha256 == before[f"blocks/{name}.parquet"]
    assert snapshot(old) == before  # the old folder is not changed
    assert not list(results.rglob("*.partial"))

    resumed = resume_sweep(finished.sweep_id, store=store)
    assert (resumed.blocks_run, resumed.blocks_reused) == (3, 3)
    for a, b in zip(resumed.sweep.runs, finished.sweep.runs, strict=True):
        np.testing.assert_array_equal(a.daily, b.daily)
        np.testing.assert_array_equal(a.custody_hist, b.custody_hist)
    assert snapshot(old) == before


def test_a_store_the_migration_cannot_write_is_left_as_it_was(
    finished: BlockedSweep, tmp_path: Path
) -> None:
    store, old = make_old_store(tmp_path, finished)
    before = snapshot(old)
    blocker = store.with_name("bordersim.results")
    blocker.write_text("a file where the results folder goes\n")
    with pytest.raises(OSError):
        open_store(store)
    with duckdb.connect(str(store), read_only=True) as connection:
        assert connection.execute("SELECT max(version) FROM schema_version").fetchone() == (5,)
        assert connection.execute("SELECT count(*) FROM sweeps").fetchone() == (0,)
        assert connection.execute("SELECT count(*) FROM sweep_blocks").fetchone() == (0,)
    assert snapshot(old) == before
    assert blocker.read_text() == "a file where the results folder goes\n"
    blocker.unlink()
    with open_store(store) as connection:
        assert sorted(registered_blocks(connection, finished.sweep_id)) == COMPLETE


def test_folders_that_are_not_old_sweeps_are_left_alone(tmp_path: Path) -> None:
    store = tmp_path / ".bordersim" / "bordersim.duckdb"
    store.parent.mkdir()
    with duckdb.connect(str(store)) as connection:
        apply_migrations(connection, MIGRATIONS[:5])
    stray = store.parent / "sweeps" / "notes"
    stray.mkdir(parents=True)
    (stray / "plan.json").write_text("{not json", encoding="utf-8")
    with open_store(store) as connection:
        assert connection.execute("SELECT count(*) FROM sweeps").fetchone() == (0,)
    assert (stray / "plan.json").read_text(encoding="utf-8") == "{not json"
