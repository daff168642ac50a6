"""What compilation reads besides the scenario: its calibration and its demand fit.

Both are named by the scenario (``demand.calibration``, ``demand.fit``) and read afresh on each
call; a missing, malformed or stale file is a `ScenarioError` naming the key. `input_files` lists
them: with the scenario's text, their content fixes a compiled model's numbers.
"""

from __future__ import annotations

import datetime as dt
import warnings
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol

import numpy as np

from bordersim.errors import BordersimError, ScenarioError
from bordersim.model.dimensions import Sector
from bordersim.scenario import Scenario, load_scenario

if TYPE_CHECKING:
    from bordersim.calibration.fit_file import DemandFit


#: The scenario keys that name a file compilation reads (`input_files`).
INPUT_KEYS = ("demand.calibration", "demand.fit")


class FitWarning(UserWarning):
    """A demand fit made on another version of the scenario that names it."""


class CalibrationSource(Protocol):
    """What compilation needs from a calibration: `bordersim.calibration.Calibration` (the
    artifact) is one; tests may pass their own."""

    version: str
    first_date: dt.date
    last_date: dt.date

    def daily_first_attempts(self, dates: list[dt.date], sectors: list[Sector]) -> np.ndarray:
        """[D, S, G] mean first attempts (people) per day."""
        ...

    def pathway_shares(self, dates: list[dt.date], title42_active: np.ndarray) -> np.ndarray:
        """[D, G, P] pathway shares at encounter."""
        ...

    @property
    def repeat_probability(self) -> np.ndarray:  # [2, G]
        ...

    @property
    def repeat_delay_mean_days(self) -> np.ndarray:  # [G]
        ...

    @property
    def sources(self) -> dict[str, str]: ...


def input_files(scenario: Scenario) -> dict[str, Path]:
    """The files outside the scenario's text whose content fixes its numbers, by the key naming
    them: the calibration artifact (the shipped one for "default") and the demand fit, if any.
    A ``demand.forecast`` reads no file of its own: it is computed from the calibration."""
    from bordersim.calibration.artifact import SHIPPED_ARTIFACT

    ref = scenario.demand.calibration
    files = {
        "demand.calibration": (
            SHIPPED_ARTIFACT
            if ref == "default"
            else scenario.relative_path(ref, "demand.calibration")
        )
    }
    if scenario.demand.fit is not None:
        files["demand.fit"] = scenario.relative_path(scenario.demand.fit, "demand.fit")
    return files


def load_calibration_for(scenario: Scenario) -> CalibrationSource:
    """The calibration the scenario names (``demand.calibration``): "default" or a path."""
    try:
        from bordersim.calibration import load_calibration
    except ImportError as err:
        raise ScenarioError(
            f"demand.calibration = {scenario.demand.calibration!r}: the calibration package is "
            f"not available ({err}); run `bordersim calibrate`",
            where=str(scenario.path),
        ) from None
    ref = scenario.demand.calibration
    if ref == "default":
        calibration: CalibrationSource = load_calibration(None)
        return calibration
    key = "demand.calibration"
    target = scenario.relative_path(ref, key)
    try:
        calibration = load_calibration(target)
    except BordersimError as err:
        # the artifact's own message names only the artifact: say which file and key named it
        raise ScenarioError(f"{key} = {ref!r}: {err}", where=scenario.location(key)) from None
    return calibration


def forecast_demand_for(scenario: Scenario, calibration: CalibrationSource) -> CalibrationSource:
    """The calibration with first attempts after ``demand.forecast.origin`` from a forecast
    quantile (`bordersim.forecast.scenario_demand`)."""
    from bordersim.forecast.scenario_demand import ForecastDemand, check_forecast_origin

    spec = scenario.demand.forecast
    assert spec is not None
    try:
        check_forecast_origin(calibration, spec.origin)
    except BordersimError as err:
        raise ScenarioError(str(err), where=scenario.location("demand.forecast")) from None
    # before the forecast is fitted (a minute on two cores), not after, as the calibration's days
    # are checked
    _check_the_forecast_covers_the_period(scenario, spec.origin)
    try:
        wrapped: CalibrationSource = ForecastDemand(calibration, spec.origin, spec.quantile)
    except BordersimError as err:
        raise ScenarioError(str(err), where=scenario.location("demand.forecast")) from None
    return wrapped


def _check_the_forecast_covers_the_period(scenario: Scenario, origin: dt.date) -> None:
    """The forecast gives demand for `MAX_HORIZON` months after its origin: a period that ends
    later is the origin's doing, not the calibration's."""
    from bordersim.forecast import MAX_HORIZON
    from bordersim.forecast.scenario_demand import forecast_last_date

    last = forecast_last_date(origin)
    if scenario.period.end_date > last:
        key = "period.end_date"
        raise ScenarioError(
            f"{key} = {scenario.period.end_date}: after the forecast demand: "
            f"demand.forecast.origin {origin:%Y-%m} gives demand for {MAX_HORIZON} months, "
            f"to {last}",
            where=scenario.location(key),
        )


def load_fit_for(scenario: Scenario, calibration: CalibrationSource) -> DemandFit | None:
    """The demand fit the scenario names (``demand.fit``), checked against the calibration.

    A missing or malformed file, a fit made on another calibration version, or one without a
    sector the scenario models is a `ScenarioError`. A fit whose recorded scenario hash is not the
    current `Scenario.fit_hash` of the file that names it (the historical scenario; its variants
    inherit the key) is only a `FitWarning`: the fit is still the closest there is, and the
    shipped fits are kept current by a test. That hash leaves the ``demand.fit`` key out, so
    naming the same file by an absolute or another relative path does not make the fit stale.
    """
    from bordersim.calibration.fit_file import read_fit

    ref = scenario.demand.fit
    if ref is None:
        return None
    key = "demand.fit"
    path = scenario.relative_path(ref, key)
    try:
        fit = read_fit(path)
    except ScenarioError as err:
        raise ScenarioError(f"{key} = {ref!r}: {err}", where=scenario.location(key)) from None
    if fit.calibration_version != calibration.version:
        raise ScenarioError(
            f"{key} = {ref!r}: the fit is stale: it was made on calibration "
            f"{fit.calibration_version!r}, the scenario uses {calibration.version!r}; run "
            f"`bordersim fit {scenario.file_of(key)}`",
            where=scenario.location(key),
        )
    defining = scenario.file_of(key)
    if not _made_on(fit, scenario):
        # a variant, or a copy changed by `vary` (a sweep), uses the fit of the file naming it
        current = load_scenario(defining)
        if not _made_on(fit, current):
            warnings.warn(
                f"{path}: the demand fit was made on another version of {defining.name} "
                f"(scenario hash {fit.scenario_hash[:12]}, now {current.fit_hash[:12]}); run "
                f"`bordersim fit {defining}` to refit",
                FitWarning,
                stacklevel=3,
            )
    outside = outside_tolerance(fit.document)
    if outside:
        warnings.warn(
            f"{path}: the demand fit is not within its tolerance of "
            f"{100 * float(fit.document['tolerance']):g} % in {', '.join(outside)} (largest "
            f"sector error {float(fit.document['max_abs_error_pct']):.1f} %): the simulated "
            f"encounters there are off the official counts by more than that",
            FitWarning,
            stacklevel=3,
        )
    return fit


def _made_on(fit: DemandFit, scenario: Scenario) -> bool:
    """Whether the fit records this scenario as the one it was made on: its `Scenario.fit_hash`
    (the same values, however the scenario spells the fit file's path), or its whole `hash`,
    which fit files written by an earlier bordersim record (the same text, the fit key
    included)."""
    return fit.scenario_hash in (scenario.fit_hash, scenario.hash)


def outside_tolerance(document: dict[str, Any]) -> list[str]:
    """The sectors of a fit that did not converge whose error in some month is beyond the fit's
    tolerance (none for a converged fit, or one that does not record its errors)."""
    if document.get("converged", True) or "tolerance" not in document:
        return []
    limit = 100 * float(document["tolerance"])
    sectors = {
        str(row["sector"])
        for row in document.get("sector_errors", [])
        if abs(float(row["error_pct"])) > limit
    }
    return sorted(sectors)
