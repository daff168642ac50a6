"""What the run and comparison dashboards show, drawn with the report's own figures.

A sector choice (all, or one sector) narrows every chart and table, a run's key indicators
included, and a month filter narrows the capability gap; the page asks for them by name and gets
a 4xx for a name it does not know.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import plotly.graph_objects as go
from fastapi import HTTPException

from bordersim.model.dimensions import SECTOR_NAMES, Task
from bordersim.report import figures
from bordersim.report.compare_report import (
    KpiComparison,
    comparable_days,
    coverage_line,
    difference_header,
    reading_line,
)
from bordersim.report.headline import KNOWN_LIMITS, run_headline
from bordersim.report.page import HeadlineItem
from bordersim.results.capability import MIN_GAP_HOURS, capability_gap
from bordersim.results.kpis import (
    KPI_BY_NAME,
    format_interval,
    replication_kpis,
    summarize,
    undefined_notes,
)
from bordersim.results.schema import RunResult
from bordersim.words import counted

TOP_GAPS = 10
#: Labels of key indicators that name all sectors, for the indicator over one sector.
ONE_SECTOR_LABELS = {"capability_gap_hours": "Capability gap (all tasks and weeks)"}


@dataclass
class View:
    headline: list[HeadlineItem]
    limits: tuple[str, ...]
    sectors: list[tuple[str, str]]  # (code, label)
    months: list[str] = field(default_factory=list)
    kpis: list[list[str]] = field(default_factory=list)
    charts: list[tuple[str, str]] = field(default_factory=list)  # (title, html)
    gap_chart: str = ""
    top_gaps: list[list[str]] = field(default_factory=list)
    validation: list[list[str]] = field(default_factory=list)
    validation_note: str = ""
    validation_line: str = ""
    validation_header: list[str] = field(default_factory=list)
    header: tuple[str, ...] = ()
    kpi_scope: str = ""  # the sectors the key indicators are over, as the selector names them
    sector: str = "all"  # the sector chosen, as the selector spells it ('rgv' asked is 'RGV')
    month: str = "all"  # the month chosen, as the selector spells it ('ALL' asked is 'all')
    # A run's line under its title, as its report gives it: which run, over which days, and how
    # to read its numbers (means and intervals, or one replication's values).
    run_line: str = ""
    # Why an indicator reads n/a, or over how many replications it is (the report's lines).
    kpi_notes: list[str] = field(default_factory=list)
    paired: bool = False  # a comparison's differences pair replications (common random numbers)
    # A comparison's words, as its report gives them: how to read the differences, and what the
    # runs cover ("Not like for like: ..." where their days or sectors differ).
    reading: str = ""
    coverage: str = ""
    sides: str = ""  # a comparison's engines and replications, each said once where both agree
    like_for_like: bool = True


def _chosen(result: RunResult, sector: str) -> tuple[str, list[int]]:
    """The sector chosen ("all", or one of the run's codes as the run spells it; an empty one is
    "all") and the indices of the sectors it covers; a 422 in `bordersim export`'s words for a
    sector the run does not have."""
    from bordersim.report.export import UnknownChoice, check_run_sectors, each_name

    codes = [s.name for s in result.sectors]
    # read as the export under the dashboard's title reads it: spaces around it left out, and
    # an empty one (`?sector=`) no filter
    sector = sector.strip()
    if not sector or sector.casefold() == "all":  # in any case, as a sector's code is
        return "all", list(range(len(codes)))
    try:  # several joined by commas are several, as the downloads read them
        resolved = list(dict.fromkeys(check_run_sectors(each_name([sector]), codes)))
    except UnknownChoice as err:
        raise HTTPException(422, str(err)) from None
    if len(resolved) != 1:  # several, or a pattern ('*'): a dashboard shows one sector, or all
        raise HTTPException(
            422, f"sector {sector!r} names {', '.join(resolved)}: choose one sector, or all"
        )
    return resolved[0], [codes.index(resolved[0])]


def _html(fig: go.Figure, div_id: str) -> str:
    """A chart without plotly.js (the page loads it once). Ids carry the filters: HTMX would
    otherwise settle a new chart onto the old one's attributes and drop plotly's own."""
    return str(
        fig.to_html(
            full_html=False,
            include_plotlyjs=False,
            div_id=div_id,
            config={"displaylogo": False, "responsive": True, "displayModeBar": False},
        )
    )


def _sector_list(result: RunResult) -> list[tuple[str, str]]:
    return [("all", "all sectors")] + [
        (s.name, f"{s.name} ({SECTOR_NAMES[s]})") for s in result.sectors
    ]


def run_dashboard(
    result: RunResult,
    *,
    sector: str,
    month: str,
    calibration: str | None = None,
    calibration_sha256: str | None = None,
    run_id: str = "",
) -> View:
    """A run's dashboard; its validation is against the official counts of `calibration` (the
    run's: an artifact's path, or None for the shipped one), while the file still has the
    `calibration_sha256` the run read (when kept)."""
    sector, chosen = _chosen(result, sector)
    runs = [("run", result)]
    months = sorted({d.strftime("%Y-%m") for d in result.dates})
    month = month.strip()  # as a sector is: an empty one is every month
    month = "all" if not month or month.casefold() == "all" else month  # in any case too
    if month != "all" and month not in months:
        raise HTTPException(422, f"month: {month!r} is not in this run ({', '.join(months)})")
    from bordersim.report.run_report import RunRecord, kpi_value_header, run_line

    view = View(
        run_headline(result),
        KNOWN_LIMITS,
        _sector_list(result),
        months,
        header=("indicator", kpi_value_header(result), "unit"),
    )
    view.run_line = run_line(RunRecord(run_id, result))
    view.sector, view.month = sector, month
    tag = f"{sector}-{month}"
    # The key indicators are over the chosen sector too (summed over all of them otherwise).
    summary = summarize(replication_kpis(result, None if sector == "all" else chosen))
    view.kpi_scope = dict(view.sectors)[sector]
    labels = {n: k.label for n, k in KPI_BY_NAME.items()}
    if sector != "all":
        labels |= ONE_SECTOR_LABELS
    view.kpis = [
        [labels[n], format_interval(i, KPI_BY_NAME[n].unit), KPI_BY_NAME[n].unit]
        for n, i in summary.items()
    ]
    view.kpi_notes = undefined_notes(summary, result.n_replications)
    view.charts = [
        ("Custody against capacity", _html(figures.occupancy(result, chosen), f"custody-{tag}")),
        ("Crowding", _html(figures.crowding_heatmap(result, chosen), f"crowding-{tag}")),
        ("Time in custody", _html(figures.custody_time(runs, chosen), f"custody-time-{tag}")),
        (
            "Staff-hours by pool and task",
            _html(figures.staff_hours_by_pool_and_task(runs, chosen), f"staff-{tag}"),
        ),
    ]
    _gaps(view, result, chosen, month, tag)
    _validation(view, result, chosen, calibration, calibration_sha256)
    return view


def _gaps(view: View, result: RunResult, chosen: list[int], month: str, tag: str) -> None:
    gap = capability_gap(result)
    weeks = [i for i, w in enumerate(gap.week_starts) if month == "all" or f"{w:%Y-%m}" == month]
    names = [s.name for s in result.sectors]
    shown = type(gap)(
        week_starts=[gap.week_starts[i] for i in weeks],
        needed=gap.needed[:, weeks],
        supplied=gap.supplied[:, weeks],
        gap=gap.gap[:, weeks],
    )
    title = "Capability gap per week" + ("" if month == "all" else f", weeks starting in {month}")
    view.gap_chart = _html(
        figures.capability_gap_heatmap(shown, names, title, chosen), f"gap-{tag}"
    )
    mean_gap = shown.gap.mean(axis=0)  # [W, S, T]
    # Reported days of each week shown: seven, but the last week of a period may be shorter.
    days = [min(7, len(result.dates) - 7 * i) for i in weeks]
    cells = [
        (float(mean_gap[w, s, t]), w, s, t)
        for w in range(mean_gap.shape[0])
        for s in chosen
        for t in range(mean_gap.shape[2])
        if mean_gap[w, s, t] >= MIN_GAP_HOURS
    ]
    cells.sort(key=lambda c: -c[0])
    view.top_gaps = [
        [
            Task(t).name.lower().replace("_", " "),
            names[s],
            shown.week_starts[w].isoformat(),
            f"{hours:,.0f}",
            f"{hours / days[w] / 8:,.1f}",
        ]
        for hours, w, s, t in cells[:TOP_GAPS]
    ]


def _validation(
    view: View,
    result: RunResult,
    chosen: list[int],
    calibration: str | None,
    calibration_sha256: str | None,
) -> None:
    from bordersim.report.page import cell_text
    from bordersim.report.run_report import validation_header, validation_line, validation_rows
    from bordersim.results.validation import monthly_validation
    from bordersim.validation.reference import load_official_monthly

    official, reason = load_official_monthly(calibration, calibration_sha256)
    if official is None:
        view.validation_note = f"Not available: {reason}."
        return
    table = monthly_validation(result, official)
    names = {result.sectors[s].name for s in chosen}
    table = table[table["sector"].isin(names)] if not table.empty else table
    if table.empty:
        view.validation_note = (
            "No full calendar month of the official counts in the reported period to compare."
        )
        return
    # The report's table and its line (what is compared, what a flag means), and a column that
    # says which rows it flags.
    view.validation_line = validation_line(result, table)
    view.validation_header = [*validation_header(result), "flag"]
    view.validation = [
        [*(cell_text(c) for c in row), "flagged" if flagged else ""]
        for row, flagged in zip(
            validation_rows(result, table), table["flagged"].tolist(), strict=True
        )
    ]


def sides_line(run_a: RunResult, run_b: RunResult) -> str:
    """The engine and the replications of a comparison's runs, once where both sides agree
    ("event engine, 1 replication each"), A's then B's where they differ ("event / flow engine,
    1 / 3 replications")."""
    engine = run_a.engine if run_a.engine == run_b.engine else f"{run_a.engine} / {run_b.engine}"
    n_a, n_b = run_a.n_replications, run_b.n_replications
    replications = (
        f"{counted(n_a, 'replication')} each" if n_a == n_b else f"{n_a:,} / {n_b:,} replications"
    )
    return f"{engine} engine, {replications}"


def compare_dashboard(a: tuple[str, RunResult], b: tuple[str, RunResult], *, sector: str) -> View:
    (id_a, run_a), (id_b, run_b) = a, b
    comparison = KpiComparison.of(run_a, run_b)
    paired = comparison.paired
    view = View(
        comparison.headline(run_a, run_b),
        KNOWN_LIMITS,
        _sector_list(run_a),
        header=difference_header(run_a, run_b),
        paired=paired,
    )
    view.kpis.extend(comparison.rows())
    view.kpi_notes = comparison.notes(run_a, run_b)
    from bordersim.report.run_report import RunRecord

    view.reading = reading_line(run_a, run_b)
    view.sides = sides_line(run_a, run_b)
    view.coverage = coverage_line(run_a, run_b)
    view.like_for_like = comparable_days(RunRecord(id_a, run_a), RunRecord(id_b, run_b))
    sector, chosen = _chosen(run_a, sector)  # refused even where no chart is drawn
    view.sector = sector
    if not view.like_for_like:
        return view

    def diff_chart(metrics: list[tuple[str, str]], title: str, unit: str, key: str) -> None:
        fig = figures.difference(run_a, run_b, metrics, title, unit, paired, chosen)
        view.charts.append((title, _html(fig, f"{key}-{sector}")))

    diff_chart(
        [("occupancy_mean", "mean occupancy"), ("occupancy_peak", "peak occupancy")],
        "Custody occupancy: B - A",
        "people",
        "d-custody",
    )
    diff_chart(
        [("encounters", "encounters"), ("gotaways", "got-aways")],
        "Encounters and got-aways per day: B - A",
        "people per day",
        "d-encounters",
    )
    diff_chart(
        [("agents_field_hours", "agents in the field")],
        "Agent-hours in the field per day: B - A",
        "agent-hours",
        "d-field",
    )
    gap_a, gap_b = capability_gap(run_a), capability_gap(run_b)
    names = [s.name for s in run_a.sectors]
    view.gap_chart = _html(
        figures.capability_gap_difference(gap_a, gap_b, names, chosen), f"d-gap-{sector}"
    )
    return view
