"""A blocked sweep reuses or resumes only blocks that still hold its numbers: the calibration
and fit files its variants read are part of what a sweep is, a block file changed on disk is
run again, and one that cannot be read is one error naming it. What a sweep says of its time
covers the whole sweep."""

from __future__ import annotations

import dataclasses
import json
import re
import shutil
import struct
import time
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow.parquet as pq
import pytest

from bordersim.calibration import SHIPPED_ARTIFACT
from bordersim.cli import main
from bordersim.scenario import load_scenario
from bordersim.services.blocks import (
    BlockedSweep,
    BlockReport,
    BlockShape,
    SweepStateError,
    resume_sweep,
    run_blocked_sweep,
    sweep_id_of,
)
from bordersim.services.sweep import Axis
from bordersim.store import open_catalog
from bordersim.store.result_files import sha256_of
from bordersim.store.sweeps import SweepBlock, list_sweeps, register_block, registered_blocks

ROOT = Path(__file__).resolve().parents[2]
SMALL = ROOT / "scenarios" / "examples" / "small.toml"
AXES = [Axis("deployments.troops.headcount", (0, 300))]
REPLICATIONS = 2
SEED = 5
#: a block per variant: two tasks, so a sweep can stop after the first
SHAPE = BlockShape(variants=1, replications=2)


def scenario_with_own_calibration(folder: Path) -> Path:
    """small.toml in `folder`, reading a copy of the shipped calibration beside it."""
    shutil.copy(SHIPPED_ARTIFACT, folder / "cal.json")
    text = SMALL.read_text(encoding="utf-8")
    path = folder / "cal.toml"
    path.write_text(text + '\n[demand]\ncalibration = "cal.json"\n', encoding="utf-8")
    return path


def change_calibration(path: Path) -> None:
    artifact = json.loads(path.read_text(encoding="utf-8"))
    artifact["apprehension_probability"] = 0.5
    path.write_text(json.dumps(artifact), encoding="utf-8")


def sweep(scenario: Path, store: Path, **kwargs: object) -> BlockedSweep:
    return run_blocked_sweep(
        load_scenario(scenario),
        AXES,
        replications=REPLICATIONS,
        seed=SEED,
        shape=SHAPE,
        store=store,
        **kwargs,  # type: ignore[arg-type]
    )


def test_a_changed_calibration_file_is_another_sweep(tmp_path: Path) -> None:
    scenario = scenario_with_own_calibration(tmp_path)
    store = tmp_path / "bordersim.duckdb"
    before = sweep(scenario, store)
    change_calibration(tmp_path / "cal.json")
    after = sweep(scenario, store)
    assert after.sweep_id != before.sweep_id
    assert (after.blocks_run, after.blocks_reused) == (2, 0)
    # the new calibration's numbers, not the blocks of the old one
    assert not np.array_equal(after.sweep.runs[0].daily, before.sweep.runs[0].daily)


def test_resume_refuses_a_sweep_whose_calibration_changed(tmp_path: Path) -> None:
    scenario = scenario_with_own_calibration(tmp_path)
    store = tmp_path / "bordersim.duckdb"

    def stop_after_one(report: BlockReport) -> None:
        raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        sweep(scenario, store, on_block=stop_after_one)
    sweep_id = sweep_id_of(load_scenario(scenario), AXES, REPLICATIONS, SEED, SHAPE)
    change_calibration(tmp_path / "cal.json")
    with pytest.raises(SweepStateError, match=r"cal\.json, which its variants read, changed"):
        resume_sweep(sweep_id, store=store)


def test_the_sweep_id_follows_each_variants_files(tmp_path: Path) -> None:
    """Two variants reading two calibrations whose contents are swapped are another sweep,
    though the set of contents is the same; the same files elsewhere are the same sweep."""
    scenario = scenario_with_own_calibration(tmp_path)
    shutil.copy(tmp_path / "cal.json", tmp_path / "a.json")
    change_calibration(tmp_path / "a.json")
    shutil.copy(SHIPPED_ARTIFACT, tmp_path / "b.json")
    axes = [Axis("demand.calibration", ("a.json", "b.json"))]

    def sweep_id() -> str:
        return sweep_id_of(load_scenario(scenario), axes, REPLICATIONS, SEED, SHAPE)

    first = sweep_id()
    elsewhere = tmp_path / "elsewhere"
    shutil.copytree(tmp_path, elsewhere, ignore=shutil.ignore_patterns("elsewhere"))
    moved = sweep_id_of(load_scenario(elsewhere / "cal.toml"), axes, REPLICATIONS, SEED, SHAPE)
    assert moved == first
    (tmp_path / "a.json").rename(tmp_path / "swap.json")
    (tmp_path / "b.json").rename(tmp_path / "a.json")
    (tmp_path / "swap.json").rename(tmp_path / "b.json")
    assert sweep_id() != first


def block_files(store: Path, sweep_id: str) -> dict[str, tuple[SweepBlock, Path]]:
    with open_catalog(store, create=False) as catalog:
        blocks = registered_blocks(catalog, sweep_id)
    results = store.with_name(f"{store.stem}.results")
    return {name: (entry, results / entry.path) for name, entry in blocks.items()}


def change_one_value(path: Path) -> None:
    """One number of the block's encounters changed in place: the file keeps its size."""
    data = path.read_bytes()
    values = np.unique(np.asarray(pq.read_table(path)["encounters"]))
    # one stored once: neither the column's minimum nor its maximum, which its statistics repeat
    old = next(
        packed
        for packed in (struct.pack("<d", v) for v in values[1:-1] if v > 0)
        if data.count(packed) == 1
    )
    new = struct.pack("<d", struct.unpack("<d", old)[0] + 1000.0)
    path.write_bytes(data.replace(old, new))


@pytest.fixture(scope="module")
def whole(tmp_path_factory: pytest.TempPathFactory) -> BlockedSweep:
    """The sweep of small.toml run in one go, in a store of its own."""
    return sweep(SMALL, tmp_path_factory.mktemp("whole") / "bordersim.duckdb")


def test_a_block_file_changed_at_its_size_is_run_again(
    whole: BlockedSweep, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    store = tmp_path / "bordersim.duckdb"
    sweep(SMALL, store)
    entry, path = block_files(store, whole.sweep_id)["variants=00001/seeds=00000"]
    change_one_value(path)
    assert path.stat().st_size == entry.bytes
    out = tmp_path / "out"
    main(["sweep", "--resume", whole.sweep_id, "--store", str(store), "--out", str(out)])
    shown = capsys.readouterr().out
    assert "1 of 2 blocks to run" in shown
    assert "1 finished block run again" in " ".join(shown.split())
    assert "0 reused" not in shown and "1 block run, 1 reused" in shown  # not "1 blocks"
    table = pd.read_parquet(out / "kpis.parquet")
    pd.testing.assert_frame_equal(table, whole.sweep.table, check_exact=True)


def test_a_block_file_that_cannot_be_read_is_one_error_naming_it(
    whole: BlockedSweep, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """A damaged file that the catalog records as it is (written so) cannot be run again by
    its sha256: the sweep stops with one line naming the file."""
    store = tmp_path / "bordersim.duckdb"
    sweep(SMALL, store)
    entry, path = block_files(store, whole.sweep_id)["variants=00000/seeds=00000"]
    data = bytearray(path.read_bytes())
    middle = len(data) // 2
    data[middle : middle + 64] = bytes(b ^ 0xFF for b in data[middle : middle + 64])
    path.write_bytes(bytes(data))
    with open_catalog(store) as catalog:
        register_block(catalog, dataclasses.replace(entry, sha256=sha256_of(path)))
    capsys.readouterr()
    with pytest.raises(SystemExit) as exit_info:
        main(["sweep", "--resume", whole.sweep_id, "--store", str(store)])
    assert exit_info.value.code == 2
    error = capsys.readouterr().err.strip()
    assert len(error.splitlines()) == 1
    assert "cannot be read" in error and "seeds=00000.parquet" in error
    # once the file is gone, the block runs again
    path.unlink()
    resumed = resume_sweep(whole.sweep_id, store=store)
    assert (resumed.blocks_run, resumed.blocks_reused) == (1, 1)
    pd.testing.assert_frame_equal(resumed.sweep.table, whole.sweep.table, check_exact=True)


def shown_timing(text: str) -> tuple[float, float, int]:
    """The sweep's seconds, its blocks' compute summed and the blocks run, as printed."""
    found = re.search(
        r"sweep took ([\d.]+) s; ([\d.]+) s of compute summed over the (\d+) blocks? run",
        " ".join(text.split()),
    )
    assert found, text
    return float(found[1]), float(found[2]), int(found[3])


def test_a_blocked_sweep_says_its_whole_time_and_all_its_blocks_compute(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    store, out = tmp_path / "bordersim.duckdb", tmp_path / "out"
    vary = "deployments.troops.headcount=0,300"
    started = time.perf_counter()
    blocked = ["--block-variants", "1", "--store", str(store)]
    main(["sweep", str(SMALL), "--vary", vary, "-r", "2", *blocked, "--out", str(out)])
    elapsed = time.perf_counter() - started
    wall, compute, blocks = shown_timing(capsys.readouterr().out)
    with open_catalog(store, create=False) as catalog:
        (stored,) = list_sweeps(catalog)
        registered = registered_blocks(catalog, stored.sweep_id).values()
    # every block's compute, not the first variant block's alone
    assert blocks == 2 == len(registered)
    assert compute == round(sum(b.run_s + b.write_s for b in registered), 1)
    assert compute > max(b.run_s for b in registered)
    assert 0 < wall <= elapsed
    report = (out / "report.html").read_text(encoding="utf-8")
    assert shown_timing(re.sub(r"<[^>]+>", " ", report)) == (wall, compute, blocks)


def test_a_sweep_in_this_process_says_its_time_the_same_way(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "out"
    started = time.perf_counter()
    vary = "deployments.troops.headcount=0,300"
    main(["sweep", str(SMALL), "--vary", vary, "-r", "2", "--out", str(out)])
    elapsed = time.perf_counter() - started
    wall, compute, blocks = shown_timing(capsys.readouterr().out)
    assert blocks == 1 and 0 < compute <= wall <= elapsed
    report = (out / "report.html").read_text(encoding="utf-8")
    assert shown_timing(re.sub(r"<[^>]+>", " ", report)) == (wall, compute, blocks)


@pytest.mark.slow
def test_a_sweep_whose_set_replaced_a_bad_value_of_its_file_resumes(tmp_path: Path) -> None:
    """`sweep FILE --set period.warmup_days=2`, where FILE's own warmup_days = -3, ran, but
    `--resume` loaded FILE alone first and was refused for the -3 the --set replaced."""
    from bordersim.services.blocks import resumable_sweep
    from bordersim.services.loading import load_with_settings

    bad = tmp_path / "bad.toml"
    bad.write_text(f'base = "{SMALL}"\nname = "bad"\n[period]\nwarmup_days = -3\n')
    base = load_with_settings(bad, {"period.warmup_days": 2})

    def stop_after_one(report: BlockReport) -> None:
        raise KeyboardInterrupt

    store = tmp_path / "bordersim.duckdb"
    with pytest.raises(KeyboardInterrupt):
        run_blocked_sweep(
            base,
            AXES,
            replications=REPLICATIONS,
            seed=SEED,
            shape=SHAPE,
            store=store,
            on_block=stop_after_one,
        )
    sweep_id = sweep_id_of(base, AXES, REPLICATIONS, SEED, SHAPE)
    _, resumed, _ = resumable_sweep(sweep_id, store=store)
    assert resumed.period.warmup_days == 2 and resumed.hash == base.hash
