"""Rich tables of a demand fit: simulated against official encounters, per sector and month."""

from __future__ import annotations

import numpy as np
import pandas as pd
from rich.console import Console

from bordersim.calibration.fit_file import month_key
from bordersim.commands.tables import Table
from bordersim.fitting.demand import FitOutcome
from bordersim.words import counted


def _error_cell(error_pct: float, tolerance_pct: float) -> str:
    if not np.isfinite(error_pct):
        return "[red]n/a[/]"
    text = f"{error_pct:+.1f}"
    return text if abs(error_pct) <= tolerance_pct else f"[red]{text}[/]"


def sector_table(outcome: FitOutcome) -> Table:
    tolerance = 100 * outcome.settings.tolerance
    table = Table(
        title=(
            f"Demand fit of {outcome.scenario.name}: official and simulated encounters per sector "
            f"and month ({counted(outcome.settings.replications, 'replication')}, seed "
            f"{outcome.settings.seed}, {outcome.settings.engine} engine)"
        ),
        title_justify="left",
    )
    for name, justify in [
        ("sector", "left"),
        ("month", "left"),
        ("official", "right"),
        ("simulated", "right"),
        ("95 % interval", "right"),
        ("error %", "right"),
        ("factor", "right"),
    ]:
        table.add_column(name, justify=justify)  # type: ignore[arg-type]
    frame = outcome.sector_fit.sort_values(["sector", "month"], key=_sector_order)
    for row in frame.to_dict(orient="records"):
        table.add_row(
            str(row["sector"]),
            month_key(row["month"]),
            f"{row['official']:,.0f}",
            f"{row['simulated']:,.0f}",
            f"{row['ci_low']:,.0f} - {row['ci_high']:,.0f}",
            _error_cell(float(row["error_pct"]), tolerance),
            f"{row['factor']:.3f}",
        )
    return table


def _sector_order(column: pd.Series) -> pd.Series:
    if column.name != "sector":
        return column
    from bordersim.model.dimensions import Sector

    return column.map(lambda code: int(Sector[code]))


def summary_table(outcome: FitOutcome) -> Table:
    """Per sector: the largest and the mean absolute error over the in-sample months."""
    tolerance = 100 * outcome.settings.tolerance
    table = Table(title="Error per sector over the months (%)", title_justify="left")
    table.add_column("sector")
    table.add_column("max |error|", justify="right")
    table.add_column("mean |error|", justify="right")
    for sector in outcome.sectors:
        errors = outcome.sector_fit.loc[outcome.sector_fit["sector"] == sector.name, "error_pct"]
        worst = float(errors.abs().max())
        table.add_row(
            sector.name,
            _error_cell(worst, tolerance).replace("+", ""),
            f"{errors.abs().mean():.1f}",
        )
    return table


def group_table(outcome: FitOutcome) -> Table | None:
    """Border-wide error per group (rows) and month (columns), % of the official count."""
    frame = outcome.group_fit
    if frame.empty:
        return None
    tolerance = 100 * outcome.settings.tolerance
    table = Table(
        title="Error per group and month (%, the scenario's sectors together; official group "
        "split from the calibration's monthly group mix)",
        title_justify="left",
    )
    table.add_column("group")
    for month in outcome.months:
        table.add_column(month_key(month), justify="right")
    for group, rows in frame.groupby("group", sort=False):
        by_month = dict(zip(rows["month"], rows["error_pct"], strict=True))
        table.add_row(
            str(group), *(_error_cell(float(by_month[m]), tolerance) for m in outcome.months)
        )
    return table


def print_fit(console: Console, outcome: FitOutcome) -> None:
    console.print(sector_table(outcome))
    console.print(summary_table(outcome))
    groups = group_table(outcome)
    if groups is not None:
        console.print(groups)
    steps = ", ".join(
        f"{h['iteration']:.0f}: {h['max_abs_sector_error_pct']:.1f}" for h in outcome.history
    )
    errors = outcome.sector_fit["error_pct"].abs()
    verdict = (
        "[green]converged[/]"
        if outcome.converged
        else f"[red]not converged within {counted(outcome.settings.iterations, 'iteration')}[/]"
    )
    if outcome.group_fit is not None and not outcome.group_fit.empty:
        verdict += (
            "; groups within tolerance"
            if outcome.groups_converged
            else "; [yellow]some groups outside the tolerance[/]"
        )
    console.print(
        f"Fit {verdict}: largest sector error {errors.max():.1f} %, mean {errors.mean():.1f} % "
        f"(tolerance {_percent(outcome.settings.tolerance)} %); factors of iteration "
        f"{outcome.chosen_iteration}; largest sector error by iteration: {steps}; "
        f"{outcome.run_seconds:.0f} s",
        highlight=False,
    )


def _percent(fraction: float) -> str:
    """A fraction as a percentage, with the digits it has: 0.05 is "5", 0.025 "2.5" (not "2")."""
    return f"{round(100 * fraction, 9):g}"
