"""The report of one run: KPIs, the outcomes of DESIGN 2.10 as figures, validation, parameters."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd
import plotly.graph_objects as go

from bordersim.model.dimensions import SECTOR_NAMES, Task
from bordersim.report import figures
from bordersim.report.headline import KNOWN_LIMITS, run_headline
from bordersim.report.page import Page
from bordersim.report.validation_section import add_operational_validation
from bordersim.results.capability import CapabilityGap, capability_gap
from bordersim.results.kpis import (
    KPI_BY_NAME,
    Interval,
    format_interval,
    health_is_on,
    replication_kpis,
    summarize,
    undefined_notes,
)
from bordersim.results.schema import RunResult
from bordersim.results.validation import (
    TOLERANCE,
    OfficialMonthly,
    error_texts,
    monthly_validation,
)
from bordersim.words import counted

#: Timings measured while or after the report is written; not shown in it.
REPORT_TIMINGS = frozenset({"report_s", "store_s"})

#: Builds one figure for the sector indices of one sector choice.
_FigureBuilder = Callable[[list[int]], go.Figure]

_SECTOR_TABLE_HEADER = [
    "sector",
    "encounters",
    "got-aways",
    "apprehension rate",
    "mean occupancy",
    "mean capacity",
    "exits over 72 h",
    "capability gap (staff-hours)",
]


@dataclass
class RunRecord:
    """A run with what its report shows besides the results."""

    run_id: str
    result: RunResult
    scenario_text: str = ""
    sources: dict[str, str] = field(default_factory=dict)
    sources_note: str = ""
    code_version: str = ""
    created_at: str = ""
    report_path: Path | None = None  # where its report was written, if it was
    warnings: tuple[str, ...] = ()  # raised while the scenario was compiled
    # The artifact whose official counts the report validates against (None: the shipped one),
    # and its sha256 as the run read it (None: not kept, as for runs stored before it was).
    calibration: str | None = None
    calibration_sha256: str | None = None
    # The scenario file the run came from, absolute as given (None: not recorded with the run).
    scenario_path: str | None = None

    @property
    def label(self) -> str:
        return self.result.scenario_name


def kpi_rows(summary: dict[str, Interval]) -> list[list[object]]:
    return [
        [
            KPI_BY_NAME[name].label,
            format_interval(interval, KPI_BY_NAME[name].unit),
            KPI_BY_NAME[name].unit,
        ]
        for name, interval in summary.items()
    ]


def kpi_value_header(result: RunResult) -> str:
    """The heading of the KPI table's values: a mean and its interval over the replications, or,
    for one replication, its values alone (there is no mean of one, and no interval)."""
    if result.n_replications == 1:
        return "value (one replication: no interval)"
    return f"mean [95 % interval] over {result.n_replications} replications"


def sector_rows(result: RunResult) -> list[list[object]]:
    """Means over replications of the main outcomes, one row per sector."""

    def per_sector(metric: str) -> np.ndarray:
        return result.metric(metric).sum(axis=1).mean(axis=0)  # [S]

    encounters, gotaways = per_sector("encounters"), per_sector("gotaways")
    exits, over = per_sector("custody_exits"), per_sector("custody_exits_over_72h")
    occupancy = result.metric("occupancy_mean").mean(axis=(0, 1))
    capacity = result.metric("custody_capacity").mean(axis=(0, 1))
    gap = capability_gap(result).gap.mean(axis=0).sum(axis=(0, 2))  # [S]
    rows: list[list[object]] = []
    for s, sector in enumerate(result.sectors):
        seen = encounters[s] + gotaways[s]
        rows.append(
            [
                f"{sector.name} ({SECTOR_NAMES[sector]})",
                float(encounters[s]),
                float(gotaways[s]),
                f"{100 * encounters[s] / seen:.1f} %" if seen else "n/a",
                float(occupancy[s]),
                float(capacity[s]),
                f"{100 * over[s] / exits[s]:.1f} %" if exits[s] else "n/a",
                float(gap[s]),
            ]
        )
    return rows


def decompression_line(result: RunResult) -> str:
    """One sentence on lateral decompression (docs/model.md step 6) where it moved anybody:
    people moved a day, from which sectors and to which (means over replications); else ""."""
    moved_out = result.metric("moved_out").sum(axis=1).mean(axis=0)  # [S]
    if not moved_out.sum() > 0:
        return ""
    moved_in = result.metric("moved_in").sum(axis=1).mean(axis=0)
    cost = result.metric("cost_decompression_dollars").sum(axis=(1, 2)).mean()
    days = len(result.dates)
    return (
        f"Lateral decompression moved {moved_out.sum() / days:,.0f} people a day between "
        f"sectors at apprehension ({moved_out.sum():,.0f} in all; out of "
        f"{_by_sector(result, moved_out)}; into {_by_sector(result, moved_in)}), at a cost of "
        f"${cost:,.0f}. Encounters stay counted where they happened; custody, departures and "
        "time in custody belong to the receiving sector."
    )


def _by_sector(result: RunResult, counts: np.ndarray) -> str:
    """ "RGV 1,200, EPT 300": the sectors with a count above zero."""
    named = [f"{sector.name} {counts[s]:,.0f}" for s, sector in enumerate(result.sectors)]
    return ", ".join(text for s, text in enumerate(named) if counts[s] > 0)


def add_validation(
    page: Page,
    result: RunResult,
    official: OfficialMonthly | None,
    reason: str,
    choices: figures.Choices | None = None,
) -> None:
    page.heading("Validation: monthly encounters against the official data")
    if official is None:
        page.paragraph(f"Not available: {reason}.", "note")
        return
    table = monthly_validation(result, official)
    if table.empty:
        page.paragraph(
            "The reported period covers no full calendar month that the official monthly counts "
            "have, so there is nothing to compare.",
            "note",
        )
        return
    one = result.n_replications == 1  # no spread over replications to give
    page.paragraph(validation_line(result, table))
    names = [s.name for s in result.sectors]
    page.figure(
        *figures.per_choice(
            lambda chosen: figures.validation_bars(
                table[table["sector"].isin([names[i] for i in chosen])], single=one
            ),
            choices or figures.sector_choices(result),
        )
    )
    page.table(
        validation_header(result),
        validation_rows(result, table),
        flagged=table["flagged"].tolist(),
    )


def validation_line(result: RunResult, table: pd.DataFrame) -> str:
    """What the validation table compares, and how many of its rows are flagged."""
    one = result.n_replications == 1
    simulated = "one replication: no range over replications" if one else "mean over replications"
    return (
        f"Simulated encounters ({simulated}) against the official monthly counts, "
        f"for each sector and each calendar month entirely inside the reported period that the "
        f"official counts have (none after the data's last month). Rows "
        f"beyond {100 * TOLERANCE:.0f} % are flagged: {int(table['flagged'].sum())} of "
        f"{len(table)}."
    )


def validation_header(result: RunResult) -> list[str]:
    return [
        "sector",
        "month",
        "official",
        "simulated (one replication)" if result.n_replications == 1 else "simulated (mean)",
        "5-95 % over replications",
        "error",
    ]


def validation_rows(result: RunResult, table: pd.DataFrame) -> list[list[object]]:
    """The validation table's rows (`validation_header`), numbers as numbers."""
    one = result.n_replications == 1
    return [
        [
            r.sector,
            f"{r.month:%Y-%m}",
            r.official,
            r.simulated,
            "none: one replication" if one else f"{r.simulated_p05:,.0f} - {r.simulated_p95:,.0f}",
            error,
        ]
        for r, error in zip(table.itertuples(), error_texts(table), strict=True)
    ]


def add_parameters(page: Page, record: RunRecord) -> None:
    page.heading("Scenario parameters and their sources")
    if record.sources:
        assumptions = sum(1 for s in record.sources.values() if s.startswith("assumption"))
        flagged = (
            "1 is flagged as an assumption"
            if assumptions == 1
            else f"{assumptions} are flagged as assumptions"
        )
        page.paragraph(f"{counted(len(record.sources), 'parameter')}; {flagged}.")
        if record.sources_note:
            page.paragraph(record.sources_note, "note")
        page.table(["parameter", "source"], sorted(record.sources.items()))
    else:
        page.paragraph(record.sources_note or "No sources were recorded for this run.", "note")
    if record.scenario_text:
        page.paragraph("The scenario as run (inheritance resolved):")
        page.preformatted(record.scenario_text)


def add_metadata(page: Page, record: RunRecord, heading: str = "Run") -> None:
    result = record.result
    page.heading(heading)
    rows: list[list[object]] = [
        ["run id", record.run_id],
        ["scenario", result.scenario_name],
        ["scenario file", scenario_file_text(record.scenario_path)],
        ["scenario hash (sha256)", result.scenario_hash],
        ["engine", result.engine],
        ["seed", str(result.seed)],
        ["replications", str(result.n_replications)],
        [
            "reported days",
            f"{result.dates[0]} to {result.dates[-1]} ({counted(len(result.dates), 'day')})",
        ],
        ["sectors", ", ".join(f"{s.name} ({SECTOR_NAMES[s]})" for s in result.sectors)],
        ["code version", record.code_version],
        *calibration_rows(record),
        ["created", record.created_at],
    ]
    # Timings of the simulation only: the report's own writing time is stored after the report
    # is written, and a report regenerated from the store must read the same as the original.
    rows += [
        [f"timing: {k}", _timing(k, v)]
        for k, v in result.timings.items()
        if k not in REPORT_TIMINGS
    ]
    page.table(["", ""], rows)


#: A run's scenario file where the store has none: a run stored before the store kept it.
SCENARIO_FILE_NOT_RECORDED = "not recorded (the run was stored before bordersim kept it)"


def scenario_file_text(path: str | None) -> str:
    """The scenario file a run came from, as its details name it."""
    return path if path else SCENARIO_FILE_NOT_RECORDED


def calibration_rows(record: RunRecord) -> list[list[object]]:
    """Where the run's demand and validation counts come from: its calibration (the shipped one,
    or the file with the sha256 the run read), its version, and the official data files it was
    built from, each with the start of its sha256, as the calibration records them."""
    from bordersim.calibration import load_calibration
    from bordersim.errors import BordersimError
    from bordersim.validation.reference import changed_since_the_run

    if record.calibration is None:
        where = "the one shipped with bordersim"
    elif record.calibration_sha256 is None:
        where = f"{record.calibration} (its sha256 was not kept with the run)"
    else:
        where = f"{record.calibration} (sha256 {record.calibration_sha256})"
    if record.calibration is not None and record.calibration_sha256 is not None:
        changed = changed_since_the_run(Path(record.calibration), record.calibration_sha256)
        if changed:
            return [["calibration", where], ["official data", f"not read: {changed}"]]
    try:
        calibration = load_calibration(record.calibration)
    except BordersimError as err:
        return [["calibration", where], ["official data", f"not read: {err}"]]
    inputs = calibration.artifact.get("inputs")
    files = inputs.get("files") if isinstance(inputs, dict) else None
    data = (
        ", ".join(str(text) for _, text in sorted(files.items()))
        if isinstance(files, dict) and files
        else "not recorded in the calibration"
    )
    return [
        ["calibration", f"{where}, version {calibration.version}"],
        ["official data", data],
    ]


def _timing(name: str, value: object) -> str:
    """A timing in its unit, read from its name: seconds (`run_s`, `run_s_per_replication`), a
    rate (`replications_per_s`) or a count (`workers`, `chunk_replications`)."""
    listed = value if isinstance(value, list) else [value]
    values = [float(v) for v in listed if isinstance(v, int | float)]
    if not values or len(values) != len(listed):
        return str(value)
    if name.endswith("_per_s"):
        return ", ".join(f"{v:,.2f}" for v in values) + " per second"
    if name.endswith("_s") or "_s_per_" in name:
        return ", ".join(f"{v:.2f}" for v in values) + " s"
    return ", ".join(f"{v:,.0f}" if v.is_integer() else f"{v:,.2f}" for v in values)


def write_run_report(
    path: Path,
    record: RunRecord,
    *,
    official: OfficialMonthly | None,
    official_reason: str = "",
) -> Path:
    return run_report_page(record, official=official, official_reason=official_reason).write(path)


def run_report_page(
    record: RunRecord, *, official: OfficialMonthly | None, official_reason: str = ""
) -> Page:
    """The whole report of one run; the same record renders to the same page, byte for byte."""
    result = record.result
    choices = figures.sector_choices(result)
    page = Page(f"bordersim run: {result.scenario_name}")
    _add_overview(page, record, choices)
    _add_kpis(page, result)
    _add_encounters(page, record, choices)
    _add_custody(page, record, choices)
    _add_staff(page, record, choices)
    _add_departures(page, record, choices)
    _add_supplies_and_care(page, record, choices)
    if health_is_on(result):
        _add_health(page, record, choices)
    _add_cost(page, record, choices)
    _add_capability_gap(page, record, choices)
    add_validation(page, result, official, official_reason, choices)
    add_operational_validation(page, result)
    page.begin_appendix()
    add_parameters(page, record)
    add_metadata(page, record)
    return page


def _labelled(record: RunRecord) -> figures.Labelled:
    """The run as the labelled list of runs that the shared figure functions take."""
    return [(record.label, record.result)]


def _chart(page: Page, choices: figures.Choices, build: _FigureBuilder) -> None:
    """One figure holding the version of each sector choice, switched by the sector choice."""
    page.figure(*figures.per_choice(build, choices))


def _series_chart(
    page: Page,
    record: RunRecord,
    choices: figures.Choices,
    metrics: list[tuple[str, str]],
    title: str,
    y_title: str,
) -> None:
    """A chart of daily metrics (name, legend label) over the reported period."""
    runs = _labelled(record)
    _chart(page, choices, lambda s: figures.series(runs, metrics, title, y_title, s))


def run_line(record: RunRecord) -> str:
    """The sentence under the title: which run, over what, and how to read the numbers."""
    result = record.result
    one = result.n_replications == 1
    replications = "one replication" if one else f"{result.n_replications} replications"
    run = (
        f"Run {record.run_id}, {result.engine} engine, {replications} from seed {result.seed}, "
        f"{result.dates[0]} to {result.dates[-1]}."
    )
    if one:
        return (
            f"{run} Values are that replication's: one replication gives no interval and no "
            "band (run more to see how far the numbers move from one to the next)."
        )
    return (
        f"{run} Values are means over replications with 95 % t intervals; bands in figures are "
        "the 5-95 % range over replications."
    )


def _add_overview(page: Page, record: RunRecord, choices: figures.Choices) -> None:
    """What comes before the sections: the run line, warnings, headline and sector choice."""
    result = record.result
    page.paragraph(run_line(record), "muted")
    for message in record.warnings:
        page.paragraph(f"Warning: {message}", "note")
    page.headline("What binds, and where", run_headline(result), KNOWN_LIMITS)
    moves = decompression_line(result)
    if moves:
        page.paragraph(moves)
    page.sector_choice([name for name, _ in choices])


def _add_kpis(page: Page, result: RunResult) -> None:
    page.heading("Key performance indicators")
    summary = summarize(replication_kpis(result))
    page.table(["indicator", kpi_value_header(result), "unit"], kpi_rows(summary))
    for note in undefined_notes(summary, result.n_replications):
        page.paragraph(note, "note")
    if result.n_replications == 1:
        page.paragraph("By sector (values of the one replication, whole reported period):")
    else:
        page.paragraph("By sector (means over replications, whole reported period):")
    page.table(_SECTOR_TABLE_HEADER, sector_rows(result))


def _add_encounters(page: Page, record: RunRecord, choices: figures.Choices) -> None:
    page.heading("Encounters and got-aways")
    _series_chart(
        page,
        record,
        choices,
        [("encounters", "encounters"), ("gotaways", "got-aways")],
        "Encounters and got-aways per day",
        "people per day",
    )


def _add_custody(page: Page, record: RunRecord, choices: figures.Choices) -> None:
    result, runs = record.result, _labelled(record)
    page.heading("Custody")
    _chart(page, choices, lambda s: figures.occupancy(result, s))
    _chart(page, choices, lambda s: figures.crowding_heatmap(result, s))
    _chart(page, choices, lambda s: figures.custody_time(runs, s))


def _add_staff(page: Page, record: RunRecord, choices: figures.Choices) -> None:
    runs = _labelled(record)
    page.heading("Staff")
    pools = figures.pools_with_hours(runs)
    _chart(page, choices, lambda s: figures.staff_hours_by_pool_and_task(runs, s, pools))
    over = "the one replication" if record.result.n_replications == 1 else "mean over replications"
    page.paragraph(f"Staff-hours by pool and task, whole reported period, all sectors ({over}):")
    page.table(
        ["pool", *(t.name.lower() for t in Task), "all tasks"],
        figures.staff_hours_table(record.result),
    )
    _series_chart(
        page,
        record,
        choices,
        [
            ("agents_field_hours", "agents in the field"),
            ("agents_support_hours", "agents on support work"),
        ],
        "Agent-hours per day: field against support work",
        "agent-hours per day",
    )


def _add_departures(page: Page, record: RunRecord, choices: figures.Choices) -> None:
    page.heading("Departures")
    _chart(page, choices, lambda s: figures.departures(record.result, s))


def _add_supplies_and_care(page: Page, record: RunRecord, choices: figures.Choices) -> None:
    page.heading("Supplies and care")
    _series_chart(
        page,
        record,
        choices,
        [("supply_stock_units", "stock (units, end of day)")],
        "Supply stock",
        "units",
    )
    _chart(page, choices, lambda s: figures.unmet_care(record.result, s))


def _add_health(page: Page, record: RunRecord, choices: figures.Choices) -> None:
    page.heading("Health")
    _series_chart(
        page,
        record,
        choices,
        [
            ("infections_in_custody", "infections in custody"),
            ("infectious_released", "infectious people released"),
            ("staff_days_lost", "staff-days lost"),
        ],
        "Infections and staff absence per day",
        "people / staff-days",
    )


def _add_cost(page: Page, record: RunRecord, choices: figures.Choices) -> None:
    runs = _labelled(record)
    page.heading("Cost")
    _chart(page, choices, lambda s: figures.cost(runs, s))


def _add_capability_gap(page: Page, record: RunRecord, choices: figures.Choices) -> None:
    page.heading("Capability gap")
    gap = capability_gap(record.result)
    sector_names = [s.name for s in record.result.sectors]
    page.paragraph(
        "Staff-hours needed to meet the targets minus staff-hours supplied, per task, sector and "
        "week (positive part, mean over replications)."
    )
    _chart(
        page,
        choices,
        lambda s: figures.capability_gap_heatmap(gap, sector_names, "Capability gap per week", s),
    )
    page.table(["task", *sector_names, "all sectors"], _gap_by_task_rows(gap))


def _gap_by_task_rows(gap: CapabilityGap) -> list[list[object]]:
    """Per task: the gap over the whole period in each sector, then in all sectors."""
    totals = gap.gap.mean(axis=0).sum(axis=0)  # [S, T]
    return [
        [t.name.lower(), *(float(v) for v in totals[:, t]), float(totals[:, t].sum())] for t in Task
    ]
