"""The fit report and back-test table that `bordersim calibrate` prints."""

from __future__ import annotations

from typing import Any

import numpy as np
from rich.console import Console
from rich.table import Table

from bordersim.calibration.backtest import OURS, BacktestResult
from bordersim.calibration.demand import month_lengths
from bordersim.calibration.model import Calibration
from bordersim.ingest.fiscal import (
    FISCAL_MONTH_ABBREVIATIONS,
    fiscal_month_of,
    fiscal_year_label,
    fiscal_year_of,
)
from bordersim.model.dimensions import GROUP_NAMES, Pathway, Sector
from bordersim.words import counted


def reproduction_error(calibration: Calibration) -> np.ndarray:
    """[S] largest |sum of daily first attempts over a month - the month's implied total|."""
    lengths = month_lengths(calibration.months)
    month_of_day = np.repeat(np.arange(len(lengths)), lengths)
    daily = calibration.daily_table
    sums = np.zeros_like(calibration.monthly_first_attempts)
    np.add.at(sums, month_of_day, daily)
    return np.abs(sums - calibration.monthly_first_attempts).max(axis=(0, 2))


def print_fit_report(console: Console, calibration: Calibration) -> None:
    """The fit report: summary, inversion, per-sector and per-group tables, then the sources."""
    console.print(_summary_table(calibration))
    console.print(_inversion_table(calibration))
    in_last_year, year = _last_fiscal_year(calibration)
    console.print(_sectors_table(calibration, in_last_year, year))
    console.print(_groups_table(calibration, in_last_year, year))
    _print_sources(console, calibration)


#: The Title 8 pathways, in the order of the groups table's "ER/rel/VR/HHS" column.
_TITLE8_PATHWAYS = (
    Pathway.EXPEDITED_REMOVAL,
    Pathway.RELEASE,
    Pathway.VOLUNTARY_RETURN,
    Pathway.UAC_TRANSFER,
)


def _summary_table(calibration: Calibration) -> Table:
    """What was calibrated from what: coverage, inputs, totals and how the group mix was fitted."""
    fit = calibration.artifact["fit"]
    summary = Table(title=f"Calibration {calibration.version}", show_header=False)
    summary.add_column("item")
    summary.add_column("value")
    summary.add_row("coverage", calibration.coverage_text())
    for kind, text in calibration.artifact["inputs"]["files"].items():
        summary.add_row(f"input ({kind})", text)
    summary.add_row("months", f"{len(calibration.months)}")
    summary.add_row("encounters (events)", f"{fit['encounters_total']:,}")
    summary.add_row("implied first attempts (people)", f"{fit['first_attempts_total']:,.0f}")
    summary.add_row(
        "apprehension probability",
        f"{calibration.apprehension_probability:.2f}  (ASSUMPTION: event engine may refine it)",
    )
    summary.add_row(
        "group mix",
        f"{fit['mix_months_exact']} months exact (CBP file), {fit['mix_months_fitted']} fitted to "
        "OHSS margins; border-wide, applied to every sector",
    )
    if fit["mix_fit_max_abs_error"] is not None:
        summary.add_row(
            "mix fit check",
            "on the CBP months, margins-only fit vs exact mix: max abs error "
            f"{fit['mix_fit_max_abs_error']:.3f} "
            f"(mean of monthly max {fit['mix_fit_mean_max_abs_error']:.3f})",
        )
    summary.add_row("demographics published from", _demographics_text(fit))
    return summary


def _demographics_text(fit: dict[str, Any]) -> str:
    """The month from which each group is published, and what the months before it hold."""
    known = fit["demographic_known_from"]
    return (
        ", ".join(f"{name} {month}" for name, month in known.items())
        + " (earlier months: all counted as single adults by the publisher)"
    )


def _inversion_table(calibration: Calibration) -> Table:
    """The repeat shares that turn encounters into first attempts, per regime, with sources."""
    artifact = calibration.artifact
    repeats = artifact["fit"]["repeat_share_achieved"]
    inversion = Table(title="Encounters -> first attempts: first = encounters x (1 - s) / a")
    for column in ("regime", "repeat share s used", "source", "re-attempts reproduce"):
        inversion.add_column(column)
    targets = repeats["title42_demographic_targets"]
    inversion.add_row(
        "Title 8",
        f"{_percent(repeats['title8_sourced'], 0)} every group",
        artifact["sources"]["repeat_share_title8"],
        f"{_percent(repeats['title8'], 1)} (FY{repeats['title8_reference_fiscal_year']} mix)",
    )
    inversion.add_row(
        "Title 42",
        f"{_percent(repeats['title42_sourced'], 0)}: single adults {_percent(targets[0], 1)}, "
        f"others {_percent(targets[1], 1)}",
        artifact["sources"]["repeat_share_title42"],
        f"{_percent(repeats['title42'], 1)} (FY{repeats['title42_reference_fiscal_year']} mix)",
    )
    return inversion


def _last_fiscal_year(calibration: Calibration) -> tuple[np.ndarray, str]:
    """Which months fall in the data's last fiscal year, and that year's label."""
    last_year = fiscal_year_of(calibration.months[-1])
    in_last_year = np.array([fiscal_year_of(m) == last_year for m in calibration.months])
    # A year the data hold only in part is labelled with its months, never as a year's total.
    year = fiscal_year_label(
        last_year,
        [fiscal_month_of(m) for m in calibration.months if fiscal_year_of(m) == last_year],
    )
    return in_last_year, year


def _sectors_table(calibration: Calibration, in_last_year: np.ndarray, year: str) -> Table:
    """Per sector: the last year's totals, the daily rates' fit, seasonality and trend."""
    errors = reproduction_error(calibration)
    sectors = Table(title="Per sector: daily rates, seasonality and trend")
    for column in (
        "sector",
        f"{year} encounters",
        f"{year} first attempts",
        "max |sum(daily) - month|",
        "seasonal peak / low",
        "trend / year (24 mo)",
    ):
        sectors.add_column(column, justify="right")
    for sector in Sector:
        sectors.add_row(
            sector.name,
            f"{calibration.sector_encounters[in_last_year, sector].sum():,.0f}",
            f"{calibration.monthly_first_attempts[in_last_year, sector].sum():,.0f}",
            f"{errors[sector]:.1e}",
            _seasonal_peak_and_low(calibration.seasonal_indices[sector]),
            _percent(calibration.trend_per_year[sector], 0, sign=True),
        )
    return sectors


def _seasonal_peak_and_low(indices: np.ndarray) -> str:
    """'MAR 1.16 / JUL 0.89': the fiscal months with the highest and lowest seasonal index."""
    peak, low = int(np.argmax(indices)), int(np.argmin(indices))
    return (
        f"{FISCAL_MONTH_ABBREVIATIONS[peak]} {indices[peak]:.2f} / "
        f"{FISCAL_MONTH_ABBREVIATIONS[low]} {indices[low]:.2f}"
    )


def _groups_table(calibration: Calibration, in_last_year: np.ndarray, year: str) -> Table:
    """Per group: the last year's mix, pathway shares, and repeat probabilities and delays."""
    groups = Table(title=f"Groups: {year} mix, pathways and repeats")
    for column in (
        "group",
        "mix",
        "Title 42 share (pooled)",
        "Title 8 split ER/rel/VR/HHS",
        "re-attempt p (T8 / T42)",
        "delay days",
    ):
        groups.add_column(column, justify="right")
    mix = _encounter_weighted_mix(calibration, in_last_year)
    for group, name in enumerate(GROUP_NAMES):
        split = calibration.title8_split[group]
        groups.add_row(
            name,
            _percent(mix[group], 1),
            _percent(calibration.title42_share_pooled[group], 1),
            "/".join(f"{split[p]:.2f}" for p in _TITLE8_PATHWAYS),
            f"{calibration.repeat_probability[0, group]:.2f} / "
            f"{calibration.repeat_probability[1, group]:.2f}",
            f"{calibration.repeat_delay_mean_days[group]:.0f}",
        )
    return groups


def _encounter_weighted_mix(calibration: Calibration, in_months: np.ndarray) -> np.ndarray:
    """[G] the group mix over the chosen months, each month weighted by its encounters."""
    weights = calibration.sector_encounters[in_months].sum(axis=1)
    return (calibration.group_mix[in_months] * weights[:, None]).sum(axis=0) / weights.sum()


def _print_sources(console: Console, calibration: Calibration) -> None:
    console.print("[bold]Sources and assumptions[/]")
    for key, text in sorted(calibration.sources.items()):
        console.print(f"  {key}: {text}", highlight=False)


def print_backtest(console: Console, result: BacktestResult) -> None:
    table = Table(
        title=f"Rolling-origin back-test, monthly sector encounters, window: the last "
        f"{result.window_months} months, {result.first_target:%Y-%m} .. "
        f"{result.last_target:%Y-%m} ({result.targets} months x 9 sectors): MAPE %"
    )
    table.add_column("method")
    for horizon in result.horizons:
        table.add_column(f"{horizon} month{'s' if horizon > 1 else ''} ahead", justify="right")
    for method, by_horizon in result.mape.items():
        cells = []
        for horizon in result.horizons:
            mark = " (best)" if result.winner(horizon) == method else ""
            cells.append(f"{by_horizon[horizon]:.1f}{mark}")
        table.add_row(_method_label(method), *cells)
    console.print(table)
    by_sector = Table(title="MAPE % by sector (bordersim seasonal-trend vs seasonal naive)")
    by_sector.add_column("sector")
    for horizon in result.horizons:
        by_sector.add_column(f"h={horizon} ours", justify="right")
        by_sector.add_column(f"h={horizon} s.naive", justify="right")
    for sector in Sector:
        cells = []
        for horizon in result.horizons:
            cells.append(f"{result.mape_by_sector[OURS][horizon][sector]:.1f}")
            cells.append(f"{result.mape_by_sector['seasonal naive'][horizon][sector]:.1f}")
        by_sector.add_row(sector.name, *cells)
    console.print(by_sector)
    for horizon in result.horizons:
        console.print(_backtest_summary(result, horizon), highlight=False)


def _percent(share: float, decimals: int, *, sign: bool = False) -> str:
    """A share as a percentage with the space bordersim puts before the sign ("35.8 %")."""
    return f"{100 * share:{'+' if sign else ''}.{decimals}f} %"


def _method_label(method: str) -> str:
    return f"{method} (bordersim)" if method == OURS else method


def _backtest_summary(result: BacktestResult, horizon: int) -> str:
    """One line per horizon: the best method, then the others from the next best, each named
    once with its MAPE."""
    winner = result.winner(horizon)
    ranked = sorted(result.mape, key=lambda method: result.mape[method][horizon])
    others = ", ".join(
        f"{_method_label(method)} {result.mape[method][horizon]:.1f} %"
        for method in ranked
        if method != winner
    )
    return (
        f"{counted(horizon, 'month')} ahead: {_method_label(winner)} is best "
        f"({result.mape[winner][horizon]:.1f} %); {others}."
    )
