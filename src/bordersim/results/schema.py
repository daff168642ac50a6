"""The results schema shared by the event and flow engines.

An engine returns a `RunResult`: dense arrays indexed by replication, reported day, sector and
metric, plus the time-in-custody histogram. `RunResult.tidy()` turns them into the tidy table of
DESIGN section 3 (one row per replication, sector, day, metric). Metric names are fixed here; an
engine fills every metric (zeros where a module is off, such as health).
"""

from __future__ import annotations

import datetime as dt
import difflib
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import numpy as np

from bordersim.errors import BordersimError
from bordersim.model.dimensions import Pathway, Pool, Sector, Task
from bordersim.model.routes import LINES
from bordersim.words import counted

if TYPE_CHECKING:
    # imported where used: a flow-engine worker never needs pandas, which takes 0.3 s to import
    import pandas as pd


def _staff_metrics() -> list[str]:
    return [f"staff_hours:{p.name.lower()}:{t.name.lower()}" for p in Pool for t in Task]


#: Daily metrics per sector. Counts are people unless the name says otherwise.
DAILY_METRICS: tuple[str, ...] = (
    "attempts",  # crossing attempts (people), first and repeat
    "first_attempts",
    "repeat_attempts",
    "surrendered",  # people in groups that surrendered
    "detected",  # evaders detected
    "encounters",  # apprehensions (events, as in the official data)
    "unique_encounters",  # encounters of people not encountered before in this run
    "gotaways",  # undetected, unserved detections and surrendering groups that walked off
    "occupancy_mean",  # people in custody, mean over the day's hours
    "occupancy_peak",  # max over the day's hours
    "custody_capacity",
    "custody_exits",  # people leaving CBP custody that day
    "custody_exits_over_72h",
    "uac_exits",
    "uac_exits_over_72h",
    "custody_hours_total",  # sum of time in custody of the day's exits
    "processing_backlog",  # people waiting for intake or determination at the day's end
    *(f"departures:{p.name.lower()}" for p in Pathway),
    "releases_to_street",  # releases beyond shelter intake
    *(route.waiting_metric for route in LINES),  # people in each departure line at day's end
    "valve_open_hours",
    *_staff_metrics(),
    "agents_field_hours",  # agent-hours in the field (a copy of staff_hours:agent:field)
    "agents_support_hours",  # agent-hours on every other task
    *(f"staff_hours_needed:{t.name.lower()}" for t in Task),  # to meet targets (capability gap)
    "supply_stock_units",  # end of day
    "supply_units_used",
    "unmet_care_person_days",
    "stock_out",  # 1 if the sector ran out that day
    "infections_in_custody",
    "infectious_arrivals",
    "isolated",
    "isolation_overflow",
    "infectious_released",
    "infectious_expelled",
    "infectious_removed",
    "staff_days_lost",
    "cost_staff_dollars",
    "cost_custody_dollars",
    "cost_supplies_dollars",
    "cost_total_dollars",
    # Lateral decompression (docs/model.md step 6), last so that the columns before keep their
    # places: people moved out of the sector at apprehension, moved into it, and their cost
    # (part of cost_total_dollars, charged to the sending sector).
    "moved_out",
    "moved_in",
    "cost_decompression_dollars",
)
METRIC_INDEX: dict[str, int] = {name: i for i, name in enumerate(DAILY_METRICS)}


def metric_unit(name: str) -> str:
    """The unit of a daily metric's value, as `bordersim export` writes it beside each row:
    people unless the name says otherwise (hours of staff work, dollars, supply units)."""
    if name.startswith(("staff_hours:", "staff_hours_needed:")) or name in (
        "agents_field_hours",
        "agents_support_hours",
    ):
        return "staff-hours"
    if name.endswith("_dollars"):
        return "dollars"
    special = {
        "encounters": "events",  # apprehensions, as the official data counts them
        "custody_hours_total": "person-hours",
        "valve_open_hours": "hours",
        "supply_stock_units": "supply units",
        "supply_units_used": "supply units",
        "unmet_care_person_days": "person-days",
        "staff_days_lost": "staff-days",  # as the KPI table says
        "stock_out": "days",  # 1 on a day the sector ran out
    }
    return special.get(name, "people")


#: The unit of each daily metric (`metric_unit`).
METRIC_UNITS: dict[str, str] = {name: metric_unit(name) for name in DAILY_METRICS}


def check_metric(name: str) -> str:
    """`name` if it is a daily metric of `results.schema`; otherwise a `BordersimError` that
    suggests the nearest names."""
    if not isinstance(name, str):
        # a list where one name belongs would be an unhashable TypeError in the lookup below
        raise BordersimError(
            f"a metric is named by a str, got {type(name).__name__} {name!r} (the names are "
            f"bordersim.results.schema.DAILY_METRICS)"
        )
    if name in METRIC_INDEX:
        return name
    near = difflib.get_close_matches(str(name), DAILY_METRICS, n=3)
    hint = f"; did you mean {', '.join(repr(n) for n in near)}?" if near else ""
    raise BordersimError(
        f"unknown metric {name!r}{hint} (the names are bordersim.results.schema.DAILY_METRICS)"
    )


#: Time-in-custody histogram: one-hour bins, the last bin holds everything longer.
CUSTODY_HIST_HOURS = 24 * 30
#: Histogram populations: everyone, and unaccompanied children alone.
HIST_ALL, HIST_UAC = 0, 1


@dataclass
class RunResult:
    """What one engine run returns: R replications (or R = variants x replications)."""

    engine: str  # "event" or "flow"
    scenario_name: str
    scenario_hash: str
    seed: int
    dates: list[dt.date]  # reported days (after warm-up)
    sectors: tuple[Sector, ...]
    daily: np.ndarray  # [R, D, S, M] float64, M = len(DAILY_METRICS)
    custody_hist: np.ndarray  # [R, S, 2, CUSTODY_HIST_HOURS + 1] counts of exits by hours
    timings: dict[str, float] = field(default_factory=dict)  # compile_s, run_s, ...
    people: pd.DataFrame | None = None  # per-person records, when requested (event engine)

    def __post_init__(self) -> None:
        _, d, s, m = self.daily.shape
        if m != len(DAILY_METRICS) or d != len(self.dates) or s != len(self.sectors):
            raise ValueError(f"daily has shape {self.daily.shape}, inconsistent with the schema")

    @property
    def n_replications(self) -> int:
        return int(self.daily.shape[0])

    def __repr__(self) -> str:
        """One line: the run and the shape of its arrays, not their values (nor every date)."""
        r, d, s, m = self.daily.shape
        days = f", {self.dates[0]} to {self.dates[-1]}" if self.dates else ""
        people = (
            f", {counted(len(self.people), 'person record')}" if self.people is not None else ""
        )
        return (
            f"RunResult({self.scenario_name!r}, {self.engine} engine, seed {self.seed}{days}, "
            f"sectors {' '.join(sec.name for sec in self.sectors)}, daily "
            f"[{counted(r, 'replication')}, {counted(d, 'day')}, {counted(s, 'sector')}, "
            f"{counted(m, 'metric')}]{people})"
        )

    def metric(self, name: str) -> np.ndarray:
        """[R, D, S] values of one metric (an unknown name is a `BordersimError` that suggests
        the nearest names, as `bordersim.Run.metric`'s)."""
        index = METRIC_INDEX.get(name) if isinstance(name, str) else None
        return self.daily[..., METRIC_INDEX[check_metric(name)] if index is None else index]

    @classmethod
    def concatenated(
        cls, results: Sequence[RunResult], *, seed: int, replications: int | None = None
    ) -> RunResult:
        """One result holding the replications of `results` in turn (the first `replications`
        of them, if given), their compile and run times summed; no per-person records."""
        first = results[0]
        keep = slice(None, replications)
        return cls(
            engine=first.engine,
            scenario_name=first.scenario_name,
            scenario_hash=first.scenario_hash,
            seed=seed,
            dates=first.dates,
            sectors=first.sectors,
            daily=np.concatenate([r.daily for r in results])[keep],
            custody_hist=np.concatenate([r.custody_hist for r in results])[keep],
            timings={
                "compile_s": float(sum(r.timings.get("compile_s", 0.0) for r in results)),
                "run_s": float(sum(r.timings.get("run_s", 0.0) for r in results)),
            },
        )

    def of_sectors(self, sectors: Sequence[int]) -> RunResult:
        """The same run over the sectors at these indices of `sectors` alone (no per-person
        records)."""
        chosen = list(sectors)
        return type(self)(
            engine=self.engine,
            scenario_name=self.scenario_name,
            scenario_hash=self.scenario_hash,
            seed=self.seed,
            dates=self.dates,
            sectors=tuple(self.sectors[i] for i in chosen),
            daily=self.daily[:, :, chosen],
            custody_hist=self.custody_hist[:, chosen],
            timings=dict(self.timings),
        )

    def tidy(self) -> pd.DataFrame:
        """One row per replication, sector, day and metric (DESIGN section 3), with the unit of
        its value (`METRIC_UNITS`)."""
        import pandas as pd

        r, d, s, m = self.daily.shape
        idx = np.indices((r, d, s, m)).reshape(4, -1)
        sector_names = np.array([sec.name for sec in self.sectors])
        return pd.DataFrame(
            {
                "replication": idx[0].astype(np.int32),
                "date": pd.to_datetime(np.array(self.dates, dtype="datetime64[D]")[idx[1]]),
                "sector": sector_names[idx[2]],
                "metric": np.array(DAILY_METRICS)[idx[3]],
                "value": self.daily.reshape(-1),
                "unit": np.array([METRIC_UNITS[name] for name in DAILY_METRICS])[idx[3]],
            }
        )
