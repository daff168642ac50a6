"""Key performance indicators of a run, with 95 % intervals over replications.

A KPI is one number per replication, computed from a `RunResult` over the reported days and all the
run's sectors, or some of them (`replication_kpis(run, sectors)`: the workbench's sector choice).
Replications are independent, so the interval of a mean is the Student t interval
``mean +- t(0.975, R - 1) * sd / sqrt(R)``. When two runs share a seed (common random numbers),
replication r of one is paired with replication r of the other and the interval of the difference
is the t interval of the per-replication differences; without a shared seed it is Welch's interval.
A KPI's own interval is cut to the values it can take (`within_range`); a difference's is not.
"""

from __future__ import annotations

import functools
import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from scipy import special

from bordersim.model.dimensions import Pathway
from bordersim.results.capability import capability_gap
from bordersim.results.schema import CUSTODY_HIST_HOURS, HIST_ALL, RunResult

CONFIDENCE = 0.95

#: Each departure pathway as the reports and the indicator tables name it (the code's names,
#: "title42_expulsion" and "uac_transfer", are not the words the rest of a report uses).
PATHWAY_WORDS = {
    Pathway.TITLE42_EXPULSION: "Title 42 expulsion",
    Pathway.EXPEDITED_REMOVAL: "expedited removal",
    Pathway.RELEASE: "release",
    Pathway.VOLUNTARY_RETURN: "voluntary return",
    Pathway.UAC_TRANSFER: "UAC transfer",
}


@dataclass(frozen=True)
class Kpi:
    name: str
    label: str
    unit: str  # "people", "share", "hours", "dollars", ...
    health_only: bool = False


KPIS: tuple[Kpi, ...] = (
    Kpi("encounters", "Encounters", "events"),
    Kpi("gotaways", "Got-aways", "people"),
    Kpi("apprehension_rate", "Apprehension rate", "share"),
    Kpi("unique_people", "Unique people encountered", "people"),
    Kpi("repeat_share", "Repeat share of encounters", "share"),
    Kpi("occupancy_mean", "Custody occupancy, mean", "people"),
    Kpi("occupancy_p95", "Custody occupancy, p95 of days", "people"),
    Kpi("occupancy_peak", "Custody occupancy, peak", "people"),
    Kpi("crowding_max", "Crowding, max occupancy / capacity", "ratio"),
    Kpi("occupancy_at_end", "Custody occupancy on the last day", "people"),
    Kpi("custody_hours_median", "Time in custody, median", "hours"),
    Kpi("custody_hours_p90", "Time in custody, p90", "hours"),
    Kpi("custody_share_over_72h", "Share in custody over 72 h", "share"),
    Kpi("uac_share_over_72h", "Children in custody over 72 h, share", "share"),
    Kpi("uac_over_72h", "Children in custody over 72 h", "people"),
    Kpi("processing_backlog_mean", "Processing backlog, mean at day end", "people"),
    Kpi("agents_field_hours", "Agent-hours in the field", "staff-hours"),
    Kpi("agents_support_hours", "Agent-hours on support work", "staff-hours"),
    Kpi("agents_field_share", "Agents' share of hours in the field", "share"),
    *(
        Kpi(
            f"departures:{p.name.lower()}",
            f"Departures: {PATHWAY_WORDS[p]}",
            "people",
        )
        for p in Pathway
    ),
    Kpi("releases_to_street", "Releases to the street", "people"),
    Kpi("unmet_care_person_days", "Unmet care", "person-days"),
    Kpi("stock_out_days", "Stock-out days (sector-days)", "sector-days"),
    Kpi("capability_gap_hours", "Capability gap (all tasks, sectors, weeks)", "staff-hours"),
    Kpi("infections_in_custody", "Infections in custody", "people", health_only=True),
    Kpi("infectious_released", "Infectious people released", "people", health_only=True),
    Kpi("staff_days_lost", "Staff-days lost to illness", "staff-days", health_only=True),
    Kpi("cost_total_dollars", "Cost, total", "dollars"),
)
KPI_BY_NAME: dict[str, Kpi] = {k.name: k for k in KPIS}


@dataclass(frozen=True)
class Interval:
    """A mean over replications with its 95 % interval (NaN bounds for one replication)."""

    mean: float
    low: float
    high: float
    n: int

    @property
    def half_width(self) -> float:
        return (self.high - self.low) / 2

    def excludes_zero(self) -> bool:
        return bool(self.low > 0 or self.high < 0)

    def as_dict(self) -> dict[str, float | int]:
        return {"mean": self.mean, "low": self.low, "high": self.high, "n": self.n}


def mean_interval(values: np.ndarray, confidence: float = CONFIDENCE) -> Interval:
    """Student t interval of the mean of independent values (NaN values are dropped)."""
    x = np.asarray(values, dtype=np.float64)
    x = x[np.isfinite(x)]
    n = int(x.size)
    if n == 0:
        return Interval(math.nan, math.nan, math.nan, 0)
    mean = float(x.mean())
    if n < 2:
        return Interval(mean, math.nan, math.nan, n)
    half = float(_t_quantile(0.5 + confidence / 2, n - 1) * x.std(ddof=1) / math.sqrt(n))
    return Interval(mean, mean - half, mean + half, n)


@functools.lru_cache(maxsize=256)
def _t_quantile(q: float, degrees: int) -> float:
    """Student t quantile, kept: a sweep's table asks for the same one thousands of times."""
    return _t_ppf(q, degrees)


def _t_ppf(q: float, degrees: float) -> float:
    """Student t quantile: `scipy.stats.t.ppf(q, degrees)` computes exactly this (its `_ppf`
    is `special.stdtrit`, times scale 1 plus loc 0); called directly because importing
    `scipy.stats` costs about a second at the start of every command that summarises runs."""
    return float(special.stdtrit(degrees, q))


def paired_difference(a: np.ndarray, b: np.ndarray, confidence: float = CONFIDENCE) -> Interval:
    """Interval of mean(b - a) for replications paired by common random numbers."""
    n = min(len(a), len(b))
    return mean_interval(np.asarray(b[:n], float) - np.asarray(a[:n], float), confidence)


def welch_difference(a: np.ndarray, b: np.ndarray, confidence: float = CONFIDENCE) -> Interval:
    """Interval of mean(b) - mean(a) for independent samples (Welch-Satterthwaite)."""
    x = np.asarray(a, float)[np.isfinite(a)]
    y = np.asarray(b, float)[np.isfinite(b)]
    if x.size == 0 or y.size == 0:
        return Interval(math.nan, math.nan, math.nan, 0)
    diff = float(y.mean() - x.mean())
    n = int(min(x.size, y.size))
    if x.size < 2 or y.size < 2:
        return Interval(diff, math.nan, math.nan, n)
    va, vb = x.var(ddof=1) / x.size, y.var(ddof=1) / y.size
    se = math.sqrt(va + vb)
    if se == 0:
        return Interval(diff, diff, diff, n)
    dof = (va + vb) ** 2 / (va**2 / (x.size - 1) + vb**2 / (y.size - 1))
    half = _t_ppf(0.5 + confidence / 2, dof) * se
    return Interval(diff, diff - half, diff + half, n)


def histogram_quantile(counts: np.ndarray, q: float) -> float:
    """Quantile of hours from one-hour-bin counts (bin h holds [h, h+1)), linear within a bin.

    The last bin is open-ended; a quantile falling in it is reported as its lower edge.
    """
    counts = np.asarray(counts, dtype=np.float64)
    total = counts.sum()
    if total <= 0:
        return math.nan
    target = q * total
    cumulative = np.cumsum(counts)
    h = int(np.searchsorted(cumulative, target, side="left"))
    if h >= CUSTODY_HIST_HOURS:
        return float(CUSTODY_HIST_HOURS)
    before = cumulative[h - 1] if h > 0 else 0.0
    return float(h + (target - before) / counts[h]) if counts[h] > 0 else float(h)


def _ratio(num: np.ndarray, den: np.ndarray) -> np.ndarray:
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.where(den > 0, num / np.where(den > 0, den, 1.0), np.nan)


def health_is_on(run: RunResult) -> bool:
    """Health outputs are shown when the run produced any (the module is off otherwise)."""
    return bool(run.metric("infectious_arrivals").any() or run.metric("staff_days_lost").any())


def check_has_kpis(run: RunResult) -> None:
    """A `BordersimError` in one line if `run` has no KPIs: no reported days, or no replications
    (a `RunResult` built by hand; an engine run has at least one of each)."""
    from bordersim.errors import BordersimError

    if not run.dates:
        raise BordersimError(
            f"run of {run.scenario_name!r} has no reported days (its dates are empty), so it has "
            "no KPIs; a run's KPIs need at least one day after the warm-up"
        )
    if run.n_replications == 0:
        raise BordersimError(
            f"run of {run.scenario_name!r} has no replications (its daily array has 0 rows), so "
            "it has no KPIs; a run's KPIs need at least one replication"
        )


def replication_kpis(run: RunResult, sectors: Sequence[int] | None = None) -> dict[str, np.ndarray]:
    """Every KPI as an [R] array, in `KPIS` order (health KPIs only when health is on in the run),
    over the run's sectors at the indices `sectors` (all of them by default). A run without
    reported days, or without replications, has none: a `BordersimError` says so (its occupancy
    at the end, peaks and percentiles do not exist; a mean of no replications is no number)."""
    check_has_kpis(run)
    health = health_is_on(run)
    if sectors is not None:
        run = run.of_sectors(sectors)

    def total(metric: str) -> np.ndarray:
        return run.metric(metric).sum(axis=(1, 2))

    values: dict[str, np.ndarray] = {}
    encounters, gotaways = total("encounters"), total("gotaways")
    values["encounters"] = encounters
    values["gotaways"] = gotaways
    values["apprehension_rate"] = _ratio(encounters, encounters + gotaways)
    unique = total("unique_encounters")
    values["unique_people"] = unique
    values["repeat_share"] = _ratio(encounters - unique, encounters)

    occupancy = run.metric("occupancy_mean").sum(axis=2)  # [R, D] all sectors
    values["occupancy_mean"] = occupancy.mean(axis=1)
    values["occupancy_p95"] = np.percentile(occupancy, 95, axis=1)
    # Sector peaks may fall in different hours, so their sum bounds the system peak from above.
    values["occupancy_peak"] = run.metric("occupancy_peak").sum(axis=2).max(axis=1)
    peak_held, capacity = run.metric("occupancy_peak"), run.metric("custody_capacity")
    crowding = _ratio(peak_held, capacity)
    worst = np.where(np.isfinite(crowding), crowding, -np.inf).max(axis=(1, 2))
    # A sector-day that holds people with no capacity has no ratio, and the others' largest would
    # understate it: the replication has none (n/a), and the headline names the capacity binding.
    no_room = ((capacity <= 0) & (peak_held > 0)).any(axis=(1, 2))
    values["crowding_max"] = np.where(np.isfinite(worst) & ~no_room, worst, np.nan)

    # Time-in-custody indicators count exits only; those still held at the end are here.
    values["occupancy_at_end"] = occupancy[:, -1]

    hist_all = run.custody_hist[:, :, HIST_ALL, :].sum(axis=1)  # [R, H]
    values["custody_hours_median"] = np.array([histogram_quantile(h, 0.5) for h in hist_all])
    values["custody_hours_p90"] = np.array([histogram_quantile(h, 0.9) for h in hist_all])
    values["custody_share_over_72h"] = _ratio(
        total("custody_exits_over_72h"), total("custody_exits")
    )
    values["uac_share_over_72h"] = _ratio(total("uac_exits_over_72h"), total("uac_exits"))
    values["uac_over_72h"] = total("uac_exits_over_72h")
    values["processing_backlog_mean"] = run.metric("processing_backlog").sum(axis=2).mean(axis=1)

    field, support = total("agents_field_hours"), total("agents_support_hours")
    values["agents_field_hours"] = field
    values["agents_support_hours"] = support
    values["agents_field_share"] = _ratio(field, field + support)
    for p in Pathway:
        name = f"departures:{p.name.lower()}"
        values[name] = total(name)
    values["releases_to_street"] = total("releases_to_street")
    values["unmet_care_person_days"] = total("unmet_care_person_days")
    values["stock_out_days"] = total("stock_out")
    values["capability_gap_hours"] = capability_gap(run).gap.sum(axis=(1, 2, 3))
    for name in ("infections_in_custody", "infectious_released", "staff_days_lost"):
        values[name] = total(name)
    values["cost_total_dollars"] = total("cost_total_dollars")
    return {k.name: values[k.name].astype(np.float64) for k in KPIS if health or not k.health_only}


#: Why a KPI has no value in a replication: a share or time of nobody.
UNDEFINED_BECAUSE: dict[str, str] = {
    "apprehension_rate": "nobody was encountered or got away",
    "repeat_share": "there were no encounters",
    "crowding_max": "a sector held people with no custody capacity",
    "custody_hours_median": "nobody left custody",
    "custody_hours_p90": "nobody left custody",
    "custody_share_over_72h": "nobody left custody",
    "uac_share_over_72h": "no child left custody",
    "agents_field_share": "no agent-hours were worked",
}


def undefined_notes(summary: dict[str, Interval], replications: int) -> list[str]:
    """One line per KPI without a value in some replication: "n/a" in every one, with the
    reason, or the replications its mean and interval are over."""
    notes = []
    for name, interval in summary.items():
        if interval.n >= replications:
            continue
        label = KPI_BY_NAME[name].label if name in KPI_BY_NAME else name
        why = UNDEFINED_BECAUSE.get(name, "it has no value there")
        if interval.n == 0:
            notes.append(f"{label}: n/a, as {why}")
        else:
            notes.append(
                f"{label}: over the {interval.n} of {replications} replications that have it "
                f"(in the others {why})"
            )
    return notes


def summarize(per_replication: dict[str, np.ndarray]) -> dict[str, Interval]:
    """Each KPI's mean over replications with its interval, kept within the KPI's range."""
    return {name: within_range(name, mean_interval(v)) for name, v in per_replication.items()}


def within_range(name: str, interval: Interval) -> Interval:
    """The interval of a KPI's mean cut to the values the KPI can take (a share from 0 to 1, every
    other KPI at least 0; unknown names are left alone). The mean itself lies in that range, so
    the cut interval covers it whenever the t interval does; with few replications, or a KPI
    near its bound, the t interval alone can reach past it (a share of -0.2)."""
    kpi = KPI_BY_NAME.get(name)
    if kpi is None:
        return interval
    top = 1.0 if kpi.unit == "share" else math.inf
    low = interval.low if math.isnan(interval.low) else min(max(interval.low, 0.0), top)
    high = interval.high if math.isnan(interval.high) else min(max(interval.high, 0.0), top)
    return Interval(interval.mean, low, high, interval.n)


def differences(
    a: dict[str, np.ndarray], b: dict[str, np.ndarray], *, paired: bool
) -> dict[str, Interval]:
    """B - A for every KPI both runs have; paired by replication under common random numbers."""
    diff = paired_difference if paired else welch_difference
    return {name: diff(a[name], b[name]) for name in a if name in b}


#: Units of whole things: a whole value of them prints without decimals ("0 people", not
#: "0.00"), while a mean over replications that is not whole keeps them ("0.50").
WHOLE_UNITS = ("people", "events", "sector-days")


def format_value(value: float, unit: str) -> str:
    if not math.isfinite(value):
        return "n/a"
    if unit not in ("dollars", "share", "ratio") and (
        value == 0 or (unit in WHOLE_UNITS and value.is_integer())
    ):
        return f"{abs(value) if value == 0 else value:,.0f}"  # no "-0"
    if unit == "dollars":
        sign = "-" if value < 0 else ""
        size = abs(value)
        text = f"{sign}${size / 1e6:,.2f} M" if size >= 1e5 else f"{sign}${size:,.0f}"
    elif unit == "share":
        text = f"{100 * value:.1f} %"
    elif unit == "ratio":
        text = f"{value:.2f}"
    elif abs(value) >= 100:
        text = f"{value:,.0f}"
    else:
        text = f"{value:,.1f}" if abs(value) >= 10 else f"{value:,.2f}"
    if text.startswith("-") and not any(ch in "123456789" for ch in text):
        text = text[1:]  # a value that rounds to zero has no sign
    return text


def format_relative_error(
    error: float, tolerance: float, decimals: int = 0, *, over: bool | None = None
) -> str:
    """A relative error in percent, `+12 %`, never printed on the other side of `tolerance` than
    it lies: where rounding would (+30.4 % to `+30 %` beside a miss of "within 30 %"), it gets
    the decimals that tell (`+30.4 %`). An error equal to the tolerance is within it; `over`, the
    caller's own verdict where it has one, stands in for `abs(error) > tolerance`."""
    if not math.isfinite(error):
        return f"{100 * error:+.{decimals}f} %"
    limit = round(100 * tolerance, 9)  # 100 * 0.3 is 30.000000000000004
    over = abs(error) > tolerance if over is None else over
    for places in range(decimals, decimals + 4):
        text = f"{100 * error:+.{places}f}"
        if (abs(float(text)) > limit) == over:
            # an error that rounds to zero has no sign, as `format_value` gives a value
            return f"{text[1:] if float(text) == 0 else text} %"
    # Over by less than the last decimal shown: rounded away from the tolerance.
    scale = 10**places
    size = math.ceil(abs(100 * error) * scale) / scale
    return f"{math.copysign(size, error):+.{places}f} %"


def format_interval(interval: Interval, unit: str) -> str:
    """`mean [low, high]`, or the mean alone when there is no interval (one replication)."""
    mean = format_value(interval.mean, unit)
    if not (math.isfinite(interval.low) and math.isfinite(interval.high)):
        return mean
    return f"{mean} [{format_value(interval.low, unit)}, {format_value(interval.high, unit)}]"


def format_difference(interval: Interval, unit: str) -> str:
    """A difference B - A as `format_interval` gives it, except that a difference of shares is in
    percentage points (`-0.4 pp [-0.6 pp, -0.2 pp]`): 77.3 % against 76.9 % differ by 0.4 points,
    and "-0.4 %" read as a relative change, which the comparison gives in a column of its own."""
    if unit != "share":
        return format_interval(interval, unit)

    def points(value: float) -> str:
        return format_value(value, unit).replace(" %", " pp")

    if not (math.isfinite(interval.low) and math.isfinite(interval.high)):
        return points(interval.mean)
    return f"{points(interval.mean)} [{points(interval.low)}, {points(interval.high)}]"
