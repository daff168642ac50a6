"""Fit files applied when compiling: factors per month, sector and group; bad or stale files."""

from __future__ import annotations

import datetime as dt
import warnings
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from bordersim.calibration.fit_file import FIT_FORMAT, factors_table, read_fit, write_fit
from bordersim.cli import main
from bordersim.commands.fit import _target
from bordersim.compiler import FitWarning, compile_scenario
from bordersim.errors import ScenarioError
from bordersim.model.dimensions import GROUP_NAMES, N_GROUPS, Sector
from bordersim.scenario import load_scenario, vary
from repo_paths import SMALL

APRIL, MAY = dt.date(2023, 4, 1), dt.date(2023, 5, 1)
SECTORS = (Sector.TCA, Sector.RGV)


def hand_made_factors() -> np.ndarray:
    """[2 months, 2 sectors, G]: distinct per month, sector and group."""
    factors = np.empty((2, 2, N_GROUPS))
    for m in range(2):
        for s in range(2):
            factors[m, s] = 0.5 + 0.25 * m + 0.1 * s + 0.01 * np.arange(N_GROUPS)
    return factors


def write_document(path: Path, scenario_hash: str, calibration_version: str, **extra: Any) -> None:
    document: dict[str, Any] = {
        "format": FIT_FORMAT,
        "scenario": "small",
        "scenario_hash": scenario_hash,
        "calibration_version": calibration_version,
        "engine": "event",
        "groups": GROUP_NAMES,
        "factors": factors_table([APRIL, MAY], SECTORS, hand_made_factors()),
    }
    document.update(extra)
    write_fit(document, path)


def test_factors_multiply_first_attempts_by_month_sector_and_group(
    small_with_fit: Path, calibration: Any
) -> None:
    scenario = load_scenario(small_with_fit)
    write_document(
        small_with_fit.parent / "fits" / "small.json", scenario.hash, calibration.version
    )
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        fitted = compile_scenario(scenario, calibration)
    plain = compile_scenario(scenario, calibration, apply_fit=False)
    factors = hand_made_factors()
    # the warm-up (13-19 April) and the rest of April take April's factors, May takes May's
    expected_month = np.array([0 if day.month == 4 else 1 for day in plain.dates])
    np.testing.assert_allclose(
        fitted.first_attempts_per_day, plain.first_attempts_per_day * factors[expected_month]
    )
    assert plain.dates[0] == dt.date(2023, 4, 13)
    assert "demand fit small.json" in fitted.sources["demand.fit"]
    # staff spread by load follows the calibration, not the fit
    np.testing.assert_array_equal(fitted.crew_headcount, plain.crew_headcount)


def test_a_variant_inherits_the_fit_of_its_base_without_warning(
    small_with_fit: Path, calibration: Any
) -> None:
    base = load_scenario(small_with_fit)
    write_document(small_with_fit.parent / "fits" / "small.json", base.hash, calibration.version)
    variant_path = small_with_fit.parent / "variant" / "no-troops.toml"
    variant_path.parent.mkdir()
    variant_path.write_text('base = "../small.toml"\nremove = ["deployments.troops"]\n')
    variant = load_scenario(variant_path)
    assert variant.hash != base.hash
    assert variant.file_of("demand.fit") == small_with_fit.resolve()
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        model = compile_scenario(variant, calibration)
    np.testing.assert_array_equal(
        model.first_attempts_per_day, compile_scenario(base, calibration).first_attempts_per_day
    )


def test_a_sweep_over_the_fitted_scenario_uses_its_fit_without_warning(
    small_with_fit: Path, calibration: Any
) -> None:
    scenario = load_scenario(small_with_fit)
    write_document(
        small_with_fit.parent / "fits" / "small.json", scenario.hash, calibration.version
    )
    varied = vary(scenario, "deployments.troops.headcount", 900)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        model = compile_scenario(varied, calibration)
    np.testing.assert_array_equal(
        model.first_attempts_per_day, compile_scenario(scenario, calibration).first_attempts_per_day
    )


def test_a_fit_of_another_version_of_the_scenario_warns(
    small_with_fit: Path, calibration: Any
) -> None:
    write_document(small_with_fit.parent / "fits" / "small.json", "0" * 64, calibration.version)
    with pytest.warns(FitWarning, match=r"another version of small\.toml.*bordersim fit"):
        compile_scenario(load_scenario(small_with_fit), calibration)


def naming_the_fit(path: Path, fit: str, headcount: int = 300) -> Path:
    """Write the small scenario to `path`, naming the fit file `fit` (and troops of
    `headcount`)."""
    text = SMALL.read_text(encoding="utf-8")
    text = text.replace("headcount = 300 ", f"headcount = {headcount} ")
    path.write_text(f'{text}\n[demand]\nfit = "{fit}"\n', encoding="utf-8")
    return path


def test_a_fit_named_by_an_absolute_path_is_not_of_another_version(
    tmp_path: Path, calibration: Any
) -> None:
    """A fit named by its absolute path warned that it "was made on another version" of the
    scenario: the hash `bordersim fit` records covered the key's text. It leaves the key out
    now, so any spelling of the same file is current; a changed value still warns."""
    path = tmp_path / "small.toml"
    path.write_text(SMALL.read_text(encoding="utf-8"), encoding="utf-8")
    # what `bordersim fit small.toml --out ABSOLUTE` and `bordersim fit` of a scenario naming
    # the file record
    target, recorded, named = _target(load_scenario(path), tmp_path / "fits" / "small.json")
    assert not named
    for spelling in (target.as_posix(), "fits/small.json", "./fits/../fits/small.json"):
        naming = load_scenario(naming_the_fit(path, spelling))
        write_document(target, recorded, calibration.version)
        with warnings.catch_warnings():
            warnings.simplefilter("error")
            compile_scenario(naming, calibration)
        assert _target(naming, None)[1] == recorded, spelling
    changed = load_scenario(naming_the_fit(path, target.as_posix(), headcount=900))
    with pytest.warns(FitWarning, match=r"another version of small\.toml.*bordersim fit"):
        compile_scenario(changed, calibration)


def test_a_fit_recording_the_whole_scenario_hash_is_current(
    small_with_fit: Path, calibration: Any
) -> None:
    """A fit file written before the recorded hash left the fit key out records the hash of
    the whole scenario (`Scenario.hash`): it is as current as it was."""
    scenario = load_scenario(small_with_fit)
    assert scenario.hash != scenario.fit_hash
    write_document(
        small_with_fit.parent / "fits" / "small.json", scenario.hash, calibration.version
    )
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        compile_scenario(scenario, calibration)


def unconverged_errors() -> dict[str, Any]:
    """What `bordersim fit` records for a fit that stopped at its iteration cap: RGV's May 9 %
    off the official count, against a tolerance of 5 %."""
    errors = (("TCA", "2023-04", 1.0), ("TCA", "2023-05", -2.0))
    errors += (("RGV", "2023-04", -3.0), ("RGV", "2023-05", -9.0))
    rows = [
        {"sector": s, "month": m, "official": 100.0, "simulated": 100.0 + e, "error_pct": e}
        for s, m, e in errors
    ]
    return {"converged": False, "tolerance": 0.05, "max_abs_error_pct": 9.0, "sector_errors": rows}


def test_a_fit_not_within_its_tolerance_warns_naming_the_sectors(
    small_with_fit: Path, calibration: Any
) -> None:
    scenario = load_scenario(small_with_fit)
    fit_path = small_with_fit.parent / "fits" / "small.json"
    write_document(fit_path, scenario.hash, calibration.version, **unconverged_errors())
    with pytest.warns(
        FitWarning, match=r"not within its tolerance of 5 % in RGV \(largest"
    ) as seen:
        compile_scenario(scenario, calibration)
    assert "TCA" not in str(seen[0].message)
    write_document(
        fit_path, scenario.hash, calibration.version, **{**unconverged_errors(), "converged": True}
    )
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        compile_scenario(scenario, calibration)


def test_validate_prints_the_warnings_of_the_scenario_it_compiles(
    small_with_fit: Path, calibration: Any, capsys: pytest.CaptureFixture[str]
) -> None:
    scenario = load_scenario(small_with_fit)
    fit_path = small_with_fit.parent / "fits" / "small.json"
    write_document(fit_path, scenario.hash, calibration.version, **unconverged_errors())
    main(["validate", str(small_with_fit), "--replications", "2"])
    printed = " ".join(capsys.readouterr().out.split())
    assert "warning: " in printed
    assert "not within its tolerance of 5 % in RGV" in printed


def test_a_fit_on_another_calibration_is_stale(small_with_fit: Path, calibration: Any) -> None:
    scenario = load_scenario(small_with_fit)
    write_document(small_with_fit.parent / "fits" / "small.json", scenario.hash, "1999.1-old")
    with pytest.raises(ScenarioError, match=r"stale.*'1999\.1-old'.*bordersim fit") as caught:
        compile_scenario(scenario, calibration)
    assert "small.toml, line" in str(caught.value)


def test_a_missing_fit_file_is_one_clear_error(small_with_fit: Path, calibration: Any) -> None:
    with pytest.raises(ScenarioError, match=r"demand\.fit = 'fits/small\.json'.*not found"):
        compile_scenario(load_scenario(small_with_fit), calibration)


def test_scenario_check_refuses_a_missing_fit_with_exit_status_2(
    small_with_fit: Path, calibration: Any, capsys: pytest.CaptureFixture[str]
) -> None:
    with pytest.raises(SystemExit) as done:
        main(["scenario", "check", "-q", str(small_with_fit)])
    assert done.value.code == 2
    error = capsys.readouterr().err
    assert "demand fit file not found" in error
    assert not (small_with_fit.parent / "fits").exists()


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"format": "something-else"}, "not a demand fit file"),
        ({"groups": GROUP_NAMES[:3]}, "key 'groups'"),
        ({"factors": {"2023-05": {"TCA": [1.0] * N_GROUPS, "XYZ": [1.0] * N_GROUPS}}}, "XYZ"),
        ({"factors": {"2023-05": {"TCA": [1.0] * N_GROUPS, "RGV": [0.0] * N_GROUPS}}}, "positive"),
        ({"factors": {"2023-05": {"TCA": [1.0] * N_GROUPS, "RGV": "many"}}}, "9 numbers"),
        ({"factors": {"May": {"TCA": [1.0] * N_GROUPS}}}, "YYYY-MM"),
    ],
)
def test_malformed_fit_files_are_refused(
    tmp_path: Path, change: dict[str, Any], message: str
) -> None:
    path = tmp_path / "fit.json"
    write_document(path, "0" * 64, "v", **change)
    with pytest.raises(ScenarioError, match=message):
        read_fit(path)


def test_a_sector_the_fit_lacks_is_refused(small_with_fit: Path, calibration: Any) -> None:
    scenario = load_scenario(small_with_fit)
    write_document(
        small_with_fit.parent / "fits" / "small.json",
        scenario.hash,
        calibration.version,
        factors=factors_table([MAY], (Sector.TCA,), np.ones((1, 1, N_GROUPS))),
    )
    with pytest.raises(ScenarioError, match=r"sector RGV was not fitted"):
        compile_scenario(scenario, calibration)


def test_fit_of_a_folder_is_named_a_folder_as_run_names_it(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """`bordersim fit FOLDER` said "no such scenario file" of a folder that is there, where run,
    compare and validate say "scenario file is a folder, not a file"."""
    with pytest.raises(SystemExit) as stopped:
        main(["fit", str(tmp_path)])
    assert stopped.value.code == 2
    assert capsys.readouterr().err.strip() == (
        f"error: {tmp_path}: scenario file is a folder, not a file"
    )
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize("name", ["fit.csv", "fit.TOML", "fit.json.bak"])
def test_fit_to_a_file_named_as_another_format_is_refused_before_fitting(
    name: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """`bordersim fit X -o fit.csv` wrote the JSON fit file into fit.csv, which a spreadsheet
    then failed to open; the name is refused first, as export refuses --out of another format."""
    with pytest.raises(SystemExit) as stopped:
        main(["fit", str(SMALL), "-o", str(tmp_path / name), "-n", "1", "-r", "2"])
    assert stopped.value.code == 2
    suffix = Path(name).suffix
    assert capsys.readouterr().err.strip() == (
        f"error: --out names a {suffix} file, but a demand fit file is JSON; give a .json name, "
        f"such as {Path(name).stem}.json"
    )
    assert list(tmp_path.iterdir()) == []
