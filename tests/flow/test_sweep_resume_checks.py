"""A blocked sweep reuses or resumes only blocks that still hold its numbers: the calibration
and fit files its variants read are part of what a sweep is."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import numpy as np
import pytest

from bordersim.calibration import SHIPPED_ARTIFACT
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
