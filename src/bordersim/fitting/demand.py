"""Fit demand by simulation, so that simulated encounters reproduce the official ones (DESIGN 2.2).

The calibration turns official encounters into first attempts with an assumed apprehension
probability and sourced repeat shares; the event engine then simulates detection, got-aways and
repeats, so its encounters need not equal the official ones. This module closes the loop on the
historical scenario (historic staffing and deployments):

1. compile the scenario without any fit; the in-sample months are the calendar months the
   reported period covers entirely (as in `bordersim.results.validation`);
2. simulate R replications from one seed (the same seed every iteration: common random numbers,
   which make the fit reproducible and lessen, though cannot remove, the noise between
   iterations, since changed demand shifts the random streams);
3. per month, sector and group: factor *= (ratio of official to simulated encounters) ** gain,
   where the ratio is the sector's ratio times the group's border-wide ratio over the month's
   total ratio (one raking step: sector totals and the group mix are both official; the files
   split groups only border-wide); each step's ratio is clipped to [1/2, 2], and a group-month
   with fewer than `MIN_GROUP_COUNT` official encounters takes only part of its step; the
   sector step's exponent (gain) is the damping for the first two steps, then falls as
   2 / iteration, averaging the noise of small sectors out; the group step keeps the damping;
4. stop when every in-sample sector-month is within the tolerance and every group-month of at
   least `MIN_GROUP_COUNT` is within it or indistinguishable from the official count (inside
   the simulated 95 % interval), or at the iteration cap. The factors kept are those of the
   first iteration meeting both, else of the best one (sectors within tolerance first, then
   groups, then the smallest largest sector error), with the errors of their own simulation.

Days outside the in-sample months (the warm-up) take the nearest month's factor. Variants of the
historical scenario inherit its factors through the scenario's ``demand.fit`` key.
"""

from __future__ import annotations

import datetime as dt
import math
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd
from scipy import stats

from bordersim.calibration.fit_file import (
    FIT_FORMAT,
    factors_table,
    month_key,
    nearest_month,
    next_month,
)
from bordersim.calibration.model import Calibration
from bordersim.compiler import compile_scenario, load_calibration_for
from bordersim.errors import ScenarioError
from bordersim.model.compiled import CompiledModel
from bordersim.model.dimensions import GROUP_NAMES, N_GROUPS, Sector
from bordersim.results.validation import full_months
from bordersim.scenario import Scenario

FitProgress = Callable[[int, int, int], None]  # (iteration, replications done, replications)

_STEP_LIMIT = 2.0  # largest change of a factor in one iteration (and 1/2 the smallest)
_FACTOR_DIGITS = 6  # factors are simulated as they are written to the fit file
# A group with fewer official encounters in a month is fitted only partly (its step's exponent is
# the count over this), and not held to the tolerance: a few replications cannot measure a few
# dozen encounters to 5 %, and chasing their noise would unsettle the sector fit.
MIN_GROUP_COUNT = 250.0


#: The most iterations a fit takes: it stops as soon as it is within its tolerance, and the
#: shipped fits take 8 (the default) to 20, so more than this is a typo (-n 1000000), which would
#: otherwise simulate for days.
MAX_ITERATIONS = 1_000


@dataclass(frozen=True)
class FitSettings:
    replications: int = 10  # the shipped fits use these defaults
    seed: int = 1
    iterations: int = 8
    tolerance: float = 0.05  # |simulated mean / official - 1| per in-sample sector-month
    damping: float = 0.8  # exponent of each multiplicative step (1 = undamped)
    fit_groups: bool = True  # also fit the border-wide group mix of each month
    engine: str = "event"

    def check(self, *, flags: bool = False) -> None:
        """Refuse settings no fit can use, naming each as the caller gave it: the Python API's
        parameter (``tolerance = 0.0``) or, with `flags`, `bordersim fit`'s option
        (``--tolerance 0.0``)."""
        from bordersim.engines import ENGINES, MAX_REPLICATIONS, MAX_SEED

        def given(name: str, value: object) -> str:
            return f"--{name} {value}" if flags else f"{name} = {value}"

        def fraction(value: float) -> str:
            return f"{value:g}" if math.isfinite(value) and value == int(value) else repr(value)

        # first: an unknown engine is what is wrong, not the group mix it cannot fit
        if self.engine not in ENGINES:
            raise ScenarioError(
                f"unknown engine {self.engine!r}; choose one of: {', '.join(ENGINES)}"
            )
        replications = given("replications", self.replications)
        if self.replications < 2:
            raise ScenarioError(
                f"{replications}: a fit needs at least 2 replications, for its confidence intervals"
            )
        if self.replications > MAX_REPLICATIONS:  # what `bordersim run` takes
            raise ScenarioError(f"{replications}: must be at most {MAX_REPLICATIONS:,}")
        iterations = given("iterations", self.iterations)
        if self.iterations < 1:
            raise ScenarioError(f"{iterations}: must be at least 1")
        if self.iterations > MAX_ITERATIONS:
            raise ScenarioError(
                f"{iterations}: must be at most {MAX_ITERATIONS:,} (a fit stops once within its "
                "tolerance; the shipped fits take 8 to 20)"
            )
        if not 0 < self.tolerance < 1:
            # a fraction is shown as given (--tolerance 0, not the 0.0 it was read as)
            raise ScenarioError(
                f"{given('tolerance', fraction(self.tolerance))}: must be above 0 and below 1"
            )
        if not 0 < self.damping <= 1:
            raise ScenarioError(
                f"{given('damping', fraction(self.damping))}: must be above 0 and at most 1"
            )
        if not 0 <= self.seed <= MAX_SEED:  # what `bordersim run --seed` takes, to reproduce it
            raise ScenarioError(
                f"{given('seed', self.seed)}: must be a whole number from 0 to 2^63 - 1"
            )
        if self.fit_groups and self.engine != "event":
            raise ScenarioError(
                f"{given('engine', repr(self.engine))}: fitting the group mix needs the event "
                "engine's per-person records; use the event engine or fit sectors only "
                "(--no-groups)"
            )


@dataclass
class FitOutcome:
    """What a fit found: the factors and the errors of their simulation."""

    scenario: Scenario
    calibration_version: str
    settings: FitSettings
    months: list[dt.date]
    sectors: tuple[Sector, ...]
    factors: np.ndarray  # [M, S, G]
    sector_fit: pd.DataFrame  # one row per sector and month
    group_fit: pd.DataFrame  # one row per group and month (border-wide over the sectors)
    iterations: int  # simulated
    chosen_iteration: int  # the one whose factors are kept: the first to converge, else the best
    converged: bool  # every sector-month within the tolerance
    groups_converged: bool  # every group-month of MIN_GROUP_COUNT within it or indistinguishable
    history: list[dict[str, float]] = field(default_factory=list)  # per iteration
    run_seconds: float = 0.0

    def document(
        self, *, code_version: str, scenario_hash: str, scenario_file: str
    ) -> dict[str, Any]:
        """The fit file's content (`fit_file.write_fit`)."""

        def rows(frame: pd.DataFrame) -> list[dict[str, Any]]:
            out = []
            for record in frame.to_dict(orient="records"):
                row: dict[str, Any] = {}
                for key, value in record.items():
                    if isinstance(value, dt.date):
                        row[str(key)] = month_key(value)
                    elif isinstance(value, float | np.floating):
                        row[str(key)] = round(float(value), 3)
                    elif isinstance(value, np.bool_ | bool):
                        row[str(key)] = bool(value)
                    else:
                        row[str(key)] = value
                out.append(row)
            return out

        errors = self.sector_fit["error_pct"].abs()
        return {
            "format": FIT_FORMAT,
            "scenario": self.scenario.name,
            "scenario_file": scenario_file,
            "scenario_hash": scenario_hash,
            "calibration_version": self.calibration_version,
            "engine": self.settings.engine,
            "code_version": code_version,
            "seed": self.settings.seed,
            "replications": self.settings.replications,
            "iterations": self.iterations,
            "chosen_iteration": self.chosen_iteration,
            "iteration_cap": self.settings.iterations,
            "damping": self.settings.damping,
            "tolerance": self.settings.tolerance,
            "fit_groups": self.settings.fit_groups,
            "converged": self.converged,
            "groups_converged": self.groups_converged,
            "min_group_count": MIN_GROUP_COUNT,
            "max_abs_error_pct": round(float(errors.max()), 3),
            "mean_abs_error_pct": round(float(errors.mean()), 3),
            "history": self.history,
            "groups": GROUP_NAMES,
            "factors": factors_table(self.months, self.sectors, self.factors),
            "sector_errors": rows(self.sector_fit),
            "group_errors": rows(self.group_fit),
        }


@dataclass(frozen=True)
class Official:
    """Official encounters of the in-sample months: [M, S] per sector, [M, G] per group."""

    by_sector: np.ndarray
    by_group: np.ndarray


def official_encounters(
    calibration: Calibration, months: list[dt.date], sectors: tuple[Sector, ...]
) -> Official:
    """Official monthly encounters of the scenario's sectors, and their border-wide group split
    (the calibration's group mix of the month applied to the sectors' total)."""
    index = {month: i for i, month in enumerate(calibration.months)}
    missing = [m for m in months if m not in index]
    if missing:
        raise ScenarioError(
            f"no official encounters for {month_key(missing[0])} in calibration "
            f"{calibration.version!r} ({calibration.coverage_text()})"
        )
    rows = [index[m] for m in months]
    columns = [int(s) for s in sectors]
    by_sector = calibration.sector_encounters[np.ix_(rows, columns)]
    by_group = by_sector.sum(axis=1, keepdims=True) * calibration.group_mix[rows]
    return Official(by_sector=by_sector, by_group=by_group)


@dataclass(frozen=True)
class Simulated:
    """Simulated encounters per replication: [R, M, S] per sector, [R, M, G] per group."""

    by_sector: np.ndarray
    by_group: np.ndarray


def simulate_months(
    model: CompiledModel,
    months: list[dt.date],
    settings: FitSettings,
    progress: Callable[[int, int], None] | None = None,
) -> Simulated:
    from bordersim.engines import simulate

    result = simulate(
        model,
        engine=settings.engine,
        replications=settings.replications,
        seed=settings.seed,
        progress=progress,
        records=settings.fit_groups,
    )
    reported = np.array(result.dates, dtype="datetime64[D]")
    encounters = result.metric("encounters")  # [R, D, S]
    starts = np.array(months, dtype="datetime64[D]")
    ends = np.array([next_month(m) for m in months], dtype="datetime64[D]")
    by_sector = np.stack(
        [
            encounters[:, (reported >= a) & (reported < b), :].sum(axis=1)
            for a, b in zip(starts, ends, strict=True)
        ],
        axis=1,
    )
    by_group = np.zeros((settings.replications, len(months), N_GROUPS))
    if settings.fit_groups and result.people is not None:
        people = result.people
        hours = people["apprehension_h"].to_numpy()
        apprehended = np.isfinite(hours) & ~people["initial_custody"].to_numpy()
        day = np.floor(hours[apprehended] / 24.0).astype(np.int64)
        first = np.datetime64(model.start_date)
        when = first + day.astype("timedelta64[D]")
        month = np.searchsorted(ends, when, side="right")
        inside = (when >= starts[0]) & (month < len(months))
        group = people["group"].cat.codes.to_numpy()[apprehended]
        replication = people["replication"].to_numpy()[apprehended]
        np.add.at(by_group, (replication[inside], month[inside], group[inside]), 1.0)
    return Simulated(by_sector=by_sector, by_group=by_group)


def _interval(samples: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Mean over axis 0 and its 95 % t interval."""
    n = samples.shape[0]
    mean = samples.mean(axis=0)
    half = stats.t.ppf(0.975, n - 1) * samples.std(axis=0, ddof=1) / np.sqrt(n)
    return mean, mean - half, mean + half


def _gain(damping: float, iteration: int) -> float:
    """Exponent of the step after `iteration`: `damping` for the first two steps, which do most of
    the work, then falling as 2 / iteration, so that later steps average the simulation noise out
    of the factors instead of chasing it (a Robbins-Monro schedule)."""
    return damping if iteration <= 2 else damping * 2.0 / iteration


def _ratio(official: np.ndarray, simulated: np.ndarray) -> np.ndarray:
    """Official over simulated, clipped to one step's limits (1 where nothing is official)."""
    with np.errstate(divide="ignore", invalid="ignore"):
        ratio = np.where(simulated > 0, official / simulated, _STEP_LIMIT)
    ratio = np.where(official > 0, ratio, 1.0)
    return np.clip(ratio, 1.0 / _STEP_LIMIT, _STEP_LIMIT)


def _errors(official: np.ndarray, mean: np.ndarray) -> np.ndarray:
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.where(official > 0, mean / official - 1.0, np.nan)


def _table(
    labels: list[str],
    label_name: str,
    months: list[dt.date],
    official: np.ndarray,
    simulated: np.ndarray,
    factors: np.ndarray,
    tolerance: float,
) -> pd.DataFrame:
    mean, low, high = _interval(simulated)
    error = _errors(official, mean)
    rows = []
    for m, month in enumerate(months):
        for k, label in enumerate(labels):
            rows.append(
                {
                    label_name: label,
                    "month": month,
                    "official": float(official[m, k]),
                    "simulated": float(mean[m, k]),
                    "ci_low": float(low[m, k]),
                    "ci_high": float(high[m, k]),
                    "error_pct": 100.0 * float(error[m, k]),
                    "factor": float(factors[m, k]),
                    "within_tolerance": bool(abs(error[m, k]) <= tolerance),
                }
            )
    return pd.DataFrame(rows)


def fit_demand(
    scenario: Scenario,
    settings: FitSettings | None = None,
    *,
    calibration: Calibration | None = None,
    progress: FitProgress | None = None,
) -> FitOutcome:
    """Fit first-attempt factors per month, sector and group (see the module doc)."""
    settings = settings or FitSettings()
    settings.check()
    cal = _calibration_to_fit(scenario, calibration)
    problem = _fit_problem(scenario, cal)
    if progress is not None:  # the scenario compiled: the first iteration starts now
        progress(1, 0, settings.replications)
    started = time.perf_counter()
    kept, history = _search_factors(problem, settings, progress)
    sector_fit, group_fit = _fit_tables(problem, kept, settings)
    return FitOutcome(
        scenario=scenario,
        calibration_version=cal.version,
        settings=settings,
        months=problem.months,
        sectors=problem.base.sectors,
        factors=kept.factors,
        sector_fit=sector_fit,
        group_fit=group_fit,
        iterations=len(history),
        chosen_iteration=kept.number,
        converged=kept.sectors_ok,
        groups_converged=kept.groups_ok,
        history=history,
        run_seconds=time.perf_counter() - started,
    )


@dataclass(frozen=True)
class _FitProblem:
    """What every iteration fits to: the scenario compiled without a fit, and the official
    encounters of its in-sample months."""

    base: CompiledModel
    months: list[dt.date]  # in-sample: the whole calendar months of the reported period
    month_of_day: np.ndarray  # [D] the in-sample month nearest each simulated day
    official: Official


@dataclass(frozen=True)
class _Iteration:
    """One iteration: the factors it simulated, the simulation, and how near it came."""

    number: int
    factors: np.ndarray  # [M, S, G]
    simulated: Simulated
    sector_mean: np.ndarray  # [M, S] over the replications
    group_mean: np.ndarray  # [M, G] over the replications
    worst_sector: float  # largest |simulated / official - 1| of a sector-month
    mean_sector: float  # mean of the same over the sector-months
    worst_group: float  # largest of a group-month (0 when groups are not fitted)
    sectors_ok: bool  # every sector-month within the tolerance
    groups_ok: bool  # every group-month of MIN_GROUP_COUNT within it or indistinguishable

    @property
    def score(self) -> tuple[bool, bool, float]:
        """Lower is better: sectors within tolerance first, then groups, then the smallest
        error."""
        return (not self.sectors_ok, not self.groups_ok, self.worst_sector)

    def record(self) -> dict[str, float]:
        """The iteration's line of the fit's history."""
        return {
            "iteration": self.number,
            "max_abs_sector_error_pct": round(100 * self.worst_sector, 3),
            "mean_abs_sector_error_pct": round(100 * self.mean_sector, 3),
            "max_abs_group_error_pct": round(100 * self.worst_group, 3),
            "sectors_within_tolerance": self.sectors_ok,
            "groups_within_tolerance": self.groups_ok,
        }


def _calibration_to_fit(scenario: Scenario, calibration: Calibration | None) -> Calibration:
    """The calibration given, else the scenario's, which must be an artifact with official
    encounters."""
    cal = calibration if calibration is not None else load_calibration_for(scenario)
    if not isinstance(cal, Calibration):
        raise ScenarioError(
            f"demand.calibration = {scenario.demand.calibration!r}: a fit needs the official "
            "encounters of a calibration artifact",
            where=scenario.location("demand.calibration"),
        )
    return cal


def _fit_problem(scenario: Scenario, cal: Calibration) -> _FitProblem:
    """Compile the scenario without a fit, and find its in-sample months and their official
    encounters."""
    base = compile_scenario(scenario, cal, apply_fit=False)
    reported = base.dates[base.warmup_days :]
    months = full_months(reported)
    if not months:
        raise ScenarioError(
            f"period {scenario.period.start_date} to {scenario.period.end_date} covers no whole "
            "calendar month: the official encounters are monthly, so there is nothing to fit to",
            where=scenario.location("period"),
        )
    official = official_encounters(cal, months, base.sectors)
    month_of_day = nearest_month(base.dates, months)
    return _FitProblem(base=base, months=months, month_of_day=month_of_day, official=official)


def _search_factors(
    problem: _FitProblem, settings: FitSettings, progress: FitProgress | None
) -> tuple[_Iteration, list[dict[str, float]]]:
    """Simulate and step the factors until they converge or the iterations run out; the
    iteration kept (the first to converge, else the best) and the history of them all."""
    factors = np.ones((len(problem.months), problem.base.n_sectors, N_GROUPS))
    history: list[dict[str, float]] = []
    best: _Iteration | None = None
    for number in range(1, settings.iterations + 1):
        iteration = _simulate_iteration(problem, factors, number, settings, progress)
        history.append(iteration.record())
        if best is None or iteration.score < best.score:
            best = iteration
        if iteration.sectors_ok and iteration.groups_ok:
            break
        factors = _next_factors(problem.official, iteration, settings)
    assert best is not None
    return best, history


def _simulate_iteration(
    problem: _FitProblem,
    factors: np.ndarray,
    number: int,
    settings: FitSettings,
    progress: FitProgress | None,
) -> _Iteration:
    """Simulate the scenario with `factors` applied to its first attempts, and measure it."""
    base = problem.base
    model = base.replace(
        first_attempts_per_day=base.first_attempts_per_day * factors[problem.month_of_day]
    )
    simulated = simulate_months(model, problem.months, settings, _tick(progress, number))
    return _measure(problem.official, number, factors, simulated, settings)


def _tick(progress: FitProgress | None, iteration: int) -> Callable[[int, int], None]:
    """The simulation's progress callback: reports to `progress` (if any) with `iteration`."""

    def tick(done: int, total: int) -> None:
        if progress is not None:
            progress(iteration, done, total)

    return tick


def _measure(
    official: Official,
    number: int,
    factors: np.ndarray,
    simulated: Simulated,
    settings: FitSettings,
) -> _Iteration:
    """An iteration's errors against the official encounters, and whether it converged."""
    sector_mean = simulated.by_sector.mean(axis=0)
    group_mean = simulated.by_group.mean(axis=0)
    sector_error = np.abs(_errors(official.by_sector, sector_mean))
    worst_sector = float(np.nanmax(sector_error))
    worst_group, groups_ok = 0.0, True
    if settings.fit_groups:
        worst_group, groups_ok = _group_errors(official, simulated, group_mean, settings.tolerance)
    return _Iteration(
        number=number,
        factors=factors,
        simulated=simulated,
        sector_mean=sector_mean,
        group_mean=group_mean,
        worst_sector=worst_sector,
        mean_sector=float(np.nanmean(sector_error)),
        worst_group=worst_group,
        sectors_ok=worst_sector <= settings.tolerance,
        groups_ok=groups_ok,
    )


def _group_errors(
    official: Official, simulated: Simulated, group_mean: np.ndarray, tolerance: float
) -> tuple[float, bool]:
    """The largest group-month error, and whether every group-month of `MIN_GROUP_COUNT` is
    within the tolerance or indistinguishable from the official count."""
    group_error = np.abs(_errors(official.by_group, group_mean))
    worst_group = float(np.nanmax(group_error))
    _, low, high = _interval(simulated.by_group)
    indistinct = (low <= official.by_group) & (official.by_group <= high)
    small = official.by_group < MIN_GROUP_COUNT
    return worst_group, bool(np.all((group_error <= tolerance) | indistinct | small))


def _next_factors(official: Official, iteration: _Iteration, settings: FitSettings) -> np.ndarray:
    """The iteration's factors times one damped step toward the official encounters."""
    sector_step = _ratio(official.by_sector, iteration.sector_mean) ** _gain(
        settings.damping, iteration.number
    )
    step = sector_step[:, :, None]
    if settings.fit_groups:
        step = step * _group_step(official, iteration, settings.damping)[:, None, :]
    return np.round(iteration.factors * step, _FACTOR_DIGITS)


def _group_step(official: Official, iteration: _Iteration, damping: float) -> np.ndarray:
    """[M, G] step of the border-wide group mix, net of the month's total step."""
    # the group mix is measured on whole border-wide months, with little noise: full
    # damped steps, partial ones for small groups
    total = _ratio(official.by_sector.sum(axis=1), iteration.sector_mean.sum(axis=1))
    weight = np.minimum(official.by_group / MIN_GROUP_COUNT, 1.0)
    return (_ratio(official.by_group, iteration.group_mean) ** weight / total[:, None]) ** damping


def _fit_tables(
    problem: _FitProblem, kept: _Iteration, settings: FitSettings
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """The fit per sector and month, and per group and month (empty if groups are not fitted)."""
    base, months, official = problem.base, problem.months, problem.official
    sector_factor = _weighted_factor(base, kept.factors, problem.month_of_day, axis="sector")
    group_factor = _weighted_factor(base, kept.factors, problem.month_of_day, axis="group")
    sector_fit = _table(
        [s.name for s in base.sectors],
        "sector",
        months,
        official.by_sector,
        kept.simulated.by_sector,
        sector_factor,
        settings.tolerance,
    )
    group_fit = (
        _table(
            GROUP_NAMES,
            "group",
            months,
            official.by_group,
            kept.simulated.by_group,
            group_factor,
            settings.tolerance,
        )
        if settings.fit_groups
        else pd.DataFrame()
    )
    return sector_fit, group_fit


def _weighted_factor(
    model: CompiledModel, factors: np.ndarray, month_of_day: np.ndarray, axis: str
) -> np.ndarray:
    """Mean factor of each month and sector ([M, S]) or month and group ([M, G]), weighted by the
    calibrated first attempts it multiplies."""
    demand = model.first_attempts_per_day  # [D, S, G], without the fit
    n_months = factors.shape[0]
    weight = np.zeros_like(factors)
    for m in range(n_months):
        weight[m] = demand[month_of_day == m].sum(axis=0)
    reduce = 2 if axis == "sector" else 1
    total = weight.sum(axis=reduce)
    with np.errstate(divide="ignore", invalid="ignore"):
        mean = (factors * weight).sum(axis=reduce) / total
    return np.where(total > 0, mean, 1.0)
