"""Newer releases: the calibration records its data vintage, warns on mixed vintages, and keeps
an explicit back-test window (issue 10)."""

from __future__ import annotations

import json
import sys
from datetime import date
from pathlib import Path

import numpy as np
import pytest

from bordersim.calibration import SHIPPED_ARTIFACT, load_calibration
from bordersim.calibration.backtest import BACKTEST_MONTHS, rolling_origin_backtest
from bordersim.cli import main
from bordersim.errors import BordersimError
from bordersim.ingest import shipped_files
from bordersim.ingest.fiscal import add_months

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "data"))
from official_samples import small_csv_rows, write_csv


def test_the_backtest_window_does_not_shrink_when_a_release_ends_mid_year() -> None:
    """A release through November: still 24 target months, ending in November (the window was
    'the last two fiscal years present', 14 months here)."""
    months = [add_months(date(2015, 10, 1), k) for k in range(12 * 8 + 2)]
    values = np.column_stack([np.linspace(1000, 2000, len(months))] * 2)
    result = rolling_origin_backtest(months, values)
    assert result.targets == BACKTEST_MONTHS == 24
    assert result.last_target == date(2023, 11, 1)
    assert result.first_target == date(2021, 12, 1)
    assert result.to_dict()["window"] == "the last 24 months of the data"
    assert rolling_origin_backtest(months, values, window_months=6).targets == 6


def test_too_short_a_history_for_the_window_is_one_message() -> None:
    months = [add_months(date(2019, 10, 1), k) for k in range(40)]
    with pytest.raises(BordersimError, match="needs 62 months"):
        rolling_origin_backtest(months, np.ones((40, 2)))


def test_the_shipped_artifact_records_its_vintage() -> None:
    inputs = load_calibration().artifact["inputs"]
    vintage = inputs["vintage"]
    assert vintage["ohss_usbp"]["file"] == shipped_files()[0].name
    assert vintage["ohss_usbp"]["last_month"] == vintage["cbp_swb"]["last_month"] == "2023-09-01"
    assert inputs["mixed_vintage"] is None
    assert json.loads(SHIPPED_ARTIFACT.read_text())["backtest"]["window_months"] == 24


def test_mixed_vintages_are_warned_and_recorded(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    store, output = tmp_path / "store.duckdb", tmp_path / "calibration.json"
    newer_csv = write_csv(tmp_path / "newer.csv", small_csv_rows())  # FY2024, Oct-Nov
    workbook = shipped_files()[0]
    assert main(["data", "import", str(workbook), str(newer_csv), "--store", str(store)]) is None
    capsys.readouterr()
    assert main(["calibrate", "--store", str(store), "--output", str(output)]) is None
    printed = " ".join(capsys.readouterr().out.split())
    assert "warning: mixed data vintages" in printed
    assert "FY2024 (partial: Oct-Nov, 2 months)" in printed
    recorded = json.loads(output.read_text())["inputs"]
    assert (
        "ends 2023-09" in recorded["mixed_vintage"] and "ends 2023-11" in recorded["mixed_vintage"]
    )
    assert recorded["vintage"]["cbp_swb"]["partial_years"] == [
        "FY2024 (partial: Oct-Nov, 2 months)"
    ]


def test_a_run_is_validated_against_its_own_calibration(tmp_path: Path) -> None:
    """A scenario naming another calibration: the run's report compares with that artifact's
    official counts, not with the shipped ones."""
    from bordersim.model.dimensions import Sector
    from bordersim.services.loading import load_and_compile
    from bordersim.validation.reference import load_official_monthly
    from repo_paths import SMALL

    artifact = json.loads(SHIPPED_ARTIFACT.read_text(encoding="utf-8"))
    artifact["sector_encounters"] = [
        [count * 2 for count in month] for month in artifact["sector_encounters"]
    ]
    mine = tmp_path / "newer-calibration.json"
    mine.write_text(json.dumps(artifact), encoding="utf-8")
    scenario = tmp_path / "small.toml"
    scenario.write_text(
        SMALL.read_text(encoding="utf-8").replace(
            'sectors = ["TCA", "RGV"]\n',
            'sectors = ["TCA", "RGV"]\ndemand.calibration = "newer-calibration.json"\n',
            1,
        ),
        encoding="utf-8",
    )
    loaded = load_and_compile(scenario)
    assert loaded.calibration == str(mine)
    shipped, _ = load_official_monthly()
    own, reason = load_official_monthly(loaded.calibration)
    assert shipped is not None and own is not None and reason == ""
    month = date(2023, 5, 1)
    assert own(Sector.TCA)[month] == 2 * shipped(Sector.TCA)[month]
