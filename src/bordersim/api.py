"""The public Python API: load a scenario, change it, run it, compare, sweep, open stored runs.

```python
import bordersim as bs
sc = bs.load_scenario("scenarios/2023-title42-end.toml")
sc2 = sc.with_changes({"deployments.title42_active_duty.duration_days": 180})
run = bs.run(sc, replications=20, seed=1, engine="event")
run.kpis()
```

Every call here goes through the same services as the CLI (`bordersim.services`), so the same
scenario, engine, seed and replications give the same numbers as `bordersim run`. Bad input is a
`BordersimError` whose one-line message names what is wrong (`docs/api.md`). A path (a scenario,
a store, a report folder) may start with ``~``, the home folder, as on the command line.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from bordersim.callbacks import described, takes_positional
from bordersim.errors import BordersimError, ScenarioError
from bordersim.input_files import user_path
from bordersim.results.schema import (
    DAILY_METRICS,
    METRIC_INDEX,
    METRIC_UNITS,
    RunResult,
    check_metric,
)
from bordersim.scenario import Scenario
from bordersim.services.record import DEFAULT_REPLICATIONS, DEFAULT_SEED
from bordersim.words import counted

if TYPE_CHECKING:
    import datetime as dt

    import plotly.graph_objects as go

    from bordersim.results.kpis import Interval
    from bordersim.services.sweep import Axis
    from bordersim.store.runs import StoredRun

__all__ = [
    "Run",
    "StoredRunView",
    "compare",
    "load_scenario",
    "open_run",
    "run",
    "sweep",
]

ScenarioLike = Scenario | str | Path
Progress = Callable[[int, int], None]
#: `bordersim sweep`'s defaults (the flow engine runs many replications cheaply).
SWEEP_REPLICATIONS = 100
SWEEP_SEED = 0
KPI_COLUMNS = ("indicator", "mean", "low", "high", "unit")


def load_scenario(path: str | Path) -> Scenario:
    """Load and validate a scenario file (TOML, with its base chain and the defaults).

    The `Scenario` it returns has `with_changes({key path: value})` for variants.
    """
    from bordersim.scenario import load_scenario as load

    if not isinstance(path, str | Path):
        raise ScenarioError(f"expected a scenario file path, got {type(path).__name__}")
    _refuse_an_empty_path(path)
    from bordersim.input_files import MIB, check_regular_file

    file = Path(path).expanduser()
    # as bs.run and `bordersim scenario check` refuse it: a folder is not "no such file"
    if not file.exists() and not file.is_symlink():
        raise ScenarioError("no such scenario file", where=str(file))
    check_regular_file(file, what="scenario file", error=ScenarioError, limit=MIB)
    return load(file)


@dataclass(frozen=True, eq=False)
class Run:
    """A simulated run: its results (`result`) and, when it was recorded, its store id.

    `kpis()`, `daily()` and `plot()` read the results; metric names are those of
    `bordersim.results.schema.DAILY_METRICS`, sectors their codes (such as "RGV"). A run equals
    itself only (its arrays are not compared), so that runs can be compared with `==`, kept in
    a set or used as dict keys.
    """

    result: RunResult
    run_id: str | None = None
    report_path: Path | None = None

    @property
    def scenario_name(self) -> str:
        return self.result.scenario_name

    @property
    def engine(self) -> str:
        return self.result.engine

    @property
    def seed(self) -> int:
        return self.result.seed

    @property
    def replications(self) -> int:
        return self.result.n_replications

    @property
    def sectors(self) -> tuple[str, ...]:
        """The run's sector codes, in the order of its arrays."""
        return tuple(s.name for s in self.result.sectors)

    @property
    def dates(self) -> list[dt.date]:
        """The reported days (after the warm-up)."""
        return list(self.result.dates)

    def __repr__(self) -> str:
        """One line: what was run, how and where it is stored, not the arrays of its results."""
        stored = f", run id {self.run_id!r}" if self.run_id else ""
        return f"{type(self).__name__}({_described(self.result)}{stored})"

    def kpis(self) -> pd.DataFrame:
        """One row per indicator: its mean over replications, 95 % t interval and unit.

        These are the numbers of `bordersim run`'s table and of the store (`results.kpis`); with
        one replication `low` and `high` are NaN.
        """
        from bordersim.results.kpis import KPI_BY_NAME, replication_kpis, summarize

        rows = [
            (name, interval.mean, interval.low, interval.high, KPI_BY_NAME[name].unit)
            for name, interval in summarize(replication_kpis(self.result)).items()
        ]
        return pd.DataFrame(rows, columns=list(KPI_COLUMNS))

    def daily(
        self, metric: str | Sequence[str] | None = None, sector: str | None = None
    ) -> pd.DataFrame:
        """The tidy daily table: replication, date, sector, metric, value, unit (of the value:
        people, staff-hours, dollars..., as `bordersim export` writes it).

        `metric` (a name or a list of names; not a dict, a set or bytes) and `sector` (a code)
        narrow it; by default it has every metric of every sector.
        """
        names = list(DAILY_METRICS) if metric is None else _metric_names(metric)
        codes = list(self.sectors) if sector is None else [self._check_sector(sector)]
        metric_cols = [METRIC_INDEX[name] for name in names]
        sector_cols = [self.sectors.index(code) for code in codes]
        # narrowed on the arrays first, so that one metric of a large run stays small
        block = self.result.daily[:, :, sector_cols, :][..., metric_cols]
        r, d, n_s, n_m = block.shape
        idx = np.indices((r, d, n_s, n_m)).reshape(4, -1)
        return pd.DataFrame(
            {
                "replication": idx[0].astype(np.int32),
                "date": pd.to_datetime(np.array(self.result.dates, dtype="datetime64[D]")[idx[1]]),
                "sector": np.array(codes)[idx[2]],
                "metric": np.array(names)[idx[3]],
                "value": block.reshape(-1),
                "unit": np.array([METRIC_UNITS[name] for name in names])[idx[3]],
            }
        )

    def metric(self, name: str, sector: str | None = None) -> np.ndarray:
        """[replications, days] values of one metric in one sector, or summed over sectors."""
        values = self.result.metric(check_metric(name))
        if sector is None:
            return np.asarray(values.sum(axis=2))
        return np.asarray(values[:, :, self.sectors.index(self._check_sector(sector))])

    def plot(self, metric: str, sector: str | None = None) -> go.Figure:
        """A Plotly figure of one metric per day: the mean over replications and the band from
        the 5th to the 95th percentile of replications (all sectors summed unless `sector`)."""
        import plotly.graph_objects as go

        values = self.metric(metric, sector)
        if self.replications == 0:  # percentiles and a mean of nothing: a figure of NaN
            raise BordersimError(
                f"run of {self.scenario_name!r} has no replications (its daily array has 0 "
                "rows), so there is nothing to plot"
            )
        if not self.dates:  # an empty figure, as if the metric were missing
            raise BordersimError(
                f"run of {self.scenario_name!r} has no reported days (its dates are empty), so "
                "there is nothing to plot"
            )
        x = self.dates
        low, high = np.percentile(values, 5, axis=0), np.percentile(values, 95, axis=0)
        where = sector if sector is not None else "all sectors"
        fig = go.Figure()
        fig.add_trace(
            go.Scatter(
                x=x + x[::-1],
                y=np.concatenate([high, low[::-1]]),
                fill="toself",
                fillcolor="rgba(31,119,180,0.18)",
                line={"width": 0},
                hoverinfo="skip",
                name="5-95 % of replications",
            )
        )
        fig.add_trace(
            go.Scatter(x=x, y=values.mean(axis=0), name="mean", line={"color": "#1f77b4"})
        )
        fig.update_layout(
            title=f"{self.scenario_name}: {metric}, {where} "
            f"({counted(self.replications, 'replication')}, {self.engine} engine)",
            yaxis_title=f"{metric} ({_summed_unit(metric, sector)})",
            template="plotly_white",
        )
        return fig

    def _check_sector(self, code: str) -> str:
        if not isinstance(code, str):
            # a list of codes was "sector ['RGV', 'TCA'] is not in run", though both are
            raise BordersimError(
                f"sector must be one code of the run's sectors ({', '.join(self.sectors)}), a "
                f"str, or None for all, got {type(code).__name__} {code!r}; for several, leave "
                "it out and narrow the table by its sector column"
            )
        if code not in self.sectors:
            same = [s for s in self.sectors if s.lower() == code.strip().lower()]
            hint = f" (did you mean {same[0]!r}?)" if same else ""
            raise BordersimError(
                f"sector {code!r} is not in run of {self.scenario_name!r}{hint}; its sectors "
                f"are: {', '.join(self.sectors)}"
            )
        return code


@dataclass(frozen=True, eq=False, repr=False)
class StoredRunView(Run):
    """A run read back from the store: its results (read-only arrays) and its catalog row
    (`stored`: status, creation time, code version, the scenario's resolved text)."""

    stored: StoredRun | None = None

    @property
    def scenario_text(self) -> str:
        return self.stored.scenario_text if self.stored else ""


def _described(result: RunResult) -> str:
    """'small', flow engine, seed 1, 2 replications, 2023-04-20 to 2023-05-31, sectors TCA RGV."""
    days = f"{result.dates[0]} to {result.dates[-1]}" if result.dates else "no reported days"
    return (
        f"{result.scenario_name!r}, {result.engine} engine, seed {result.seed}, "
        f"{counted(result.n_replications, 'replication')}, {days}, "
        f"sectors {' '.join(s.name for s in result.sectors)}"
    )


def _summed_unit(metric: str, sector: str | None) -> str:
    """The unit of `metric` in one sector, or summed over all: a sector's days or hours (a day
    it ran out of supplies, an hour its valve was open) add up to sector-days or sector-hours,
    as the KPI stock_out_days counts them."""
    unit = METRIC_UNITS[metric]
    return f"sector-{unit}" if sector is None and unit in ("days", "hours") else unit


def _metric_names(metric: str | Sequence[str]) -> list[str]:
    if isinstance(metric, str):
        return [check_metric(metric)]
    # a dict's keys would be taken for the names and its values dropped, bytes read as numbers,
    # and a set's names come in another order in each process, and so would the table's rows
    if not isinstance(metric, Iterable) or isinstance(metric, bytes | Mapping | set | frozenset):
        raise BordersimError(
            f"metric must be a metric name or a list of names, got {type(metric).__name__} "
            f"{_clip_repr(metric)} (the names are bordersim.results.schema.DAILY_METRICS)"
        )
    # a name given twice is one metric: its rows once, not twice over
    names = list(dict.fromkeys(check_metric(name) for name in metric))
    if not names:
        # an empty table would look like a run without days
        raise BordersimError(
            "metric names no metric (it is empty): give at least one metric name, or "
            "leave metric out for every metric (the names are "
            "bordersim.results.schema.DAILY_METRICS)"
        )
    return names


def run(
    scenario: ScenarioLike,
    *,
    replications: int = DEFAULT_REPLICATIONS,
    seed: int = DEFAULT_SEED,
    engine: str = "event",
    records: bool = False,
    record: bool = False,
    store: str | Path | None = None,
    out: str | Path | None = None,
    progress: Progress | None = None,
) -> Run:
    """Simulate a scenario (a `Scenario` or a path) and return its `Run`.

    Nothing is written unless asked: `record=True` or a `store` path stores the run and writes its
    report (to `out`, default ``out/<scenario>/<run id>/``), as `bordersim run` does.
    `records=True` keeps per-person records (event engine) in ``run.result.people``.
    `progress(done, total)` counts replications on the event engine, hours simulated on the
    flow engine.
    """
    from bordersim.services.record import check_request, simulate_loaded

    check_request(engine, replications, records, seed)
    # a NumPy integer counts, but the store's catalog and a sweep's JSON take Python ints only
    replications, seed = int(replications), int(seed)
    _check_flag("records", records)
    _check_flag("record", record)
    store = _given_store(store)
    _check_location("out", out)
    out = user_path(out)
    if progress is not None and not callable(progress):
        raise BordersimError(
            f"progress must be a function called as progress(done, total), or None, got "
            f"{type(progress).__name__} {progress!r}"
        )
    if progress is not None and not takes_positional(progress, 2):
        # it would be a bare TypeError at the first report, mid-run
        raise BordersimError(
            f"progress is called as progress(done, total), with two numbers; the function "
            f"given, {described(progress)}, cannot take them"
        )
    if out is not None and not (record or store is not None):
        # a report folder with nothing recorded would be silently ignored: no report is written
        raise BordersimError(
            "out= is the report folder of a recorded run; add record=True or store= to store "
            "the run and write its report there"
        )
    loaded = _loaded(scenario)
    if not (record or store is not None):
        result = simulate_loaded(
            loaded,
            engine=engine,
            replications=replications,
            seed=seed,
            records=records,
            progress=progress,
        )
        return Run(result)
    from bordersim.services.record import simulate_and_record

    # The store is opened only to record the run and to store its results, not while it
    # simulates, so that other processes can use it meanwhile.
    stored = simulate_and_record(
        loaded,
        store,
        engine=engine,
        replications=replications,
        seed=seed,
        out_dir=Path(out) if out is not None else None,
        records=records,
        on_progress=progress,
    )
    return Run(stored.result, run_id=stored.run_id, report_path=stored.report_path)


def compare(
    a: ScenarioLike | Run,
    b: ScenarioLike | Run,
    *,
    replications: int | None = None,
    seed: int | None = None,
    engine: str | None = None,
) -> pd.DataFrame:
    """KPI differences B - A with 95 % intervals, one row per indicator.

    Scenarios (or paths) are simulated with the same seed, so replication r of A is paired with
    replication r of B (common random numbers) and the interval is that of the paired
    differences. A `Run` is used as it is, and, as in `bordersim compare`, fixes the seed,
    replications and engine that the other side gets unless they are given (otherwise 10
    replications, seed 1, the event engine). Sides with the same seed but unequal replications
    are paired over the replications both have, as in `bordersim compare`; two runs with
    different seeds, or from different engines, get Welch intervals. Two `Run`s are compared as
    they are: replications, seed or engine given with them is refused, as is a side compared
    with itself (one run, scenario or file), whose differences would all be zero.
    Columns: indicator, unit, a_mean, b_mean, difference, low, high, excludes_zero, paired;
    where B - A has no interval (one replication a side), low and high are NaN and
    excludes_zero is <NA> (a pandas "boolean" column): no finding either way.
    """
    from bordersim.report.compare_report import KpiComparison
    from bordersim.results.kpis import KPI_BY_NAME

    for name, side in (("a", a), ("b", b)):
        _check_compare_side(name, side)
    _refuse_a_side_compared_with_itself(a, b)
    given = [side for side in (a, b) if isinstance(side, Run)]
    if len(given) == 2:
        from bordersim.services.compare import refuse_options_unused_by_runs

        refuse_options_unused_by_runs(
            {"replications": replications, "seed": seed, "engine": engine},
            both="a and b are both Runs",
            scenario="a scenario",
        )
    from bordersim.results.kpis import check_has_kpis

    for side in given:  # a run without KPIs is named as such, not as "replications ... got 0"
        check_has_kpis(side.result)
    if given:
        replications = given[0].replications if replications is None else replications
        seed = given[0].seed if seed is None else seed
        engine = given[0].engine if engine is None else engine
    from bordersim.services.record import check_request, simulate_loaded

    replications = DEFAULT_REPLICATIONS if replications is None else replications
    seed = DEFAULT_SEED if seed is None else seed
    # only None is "not given": engine="" (an unset variable) is refused, as bs.run refuses it
    engine = "event" if engine is None else engine
    check_request(engine, replications, False, seed)
    replications, seed = int(replications), int(seed)
    for name, side in (("a", a), ("b", b)):
        _refuse_a_missing_side(name, side)
    # Both sides are loaded and checked before either is simulated: a mistyped B is refused at
    # once, not after A's replications have run.
    sides = [side if isinstance(side, Run) else _loaded(side) for side in (a, b)]
    runs = [
        side
        if isinstance(side, Run)
        else Run(simulate_loaded(side, engine=engine, replications=replications, seed=seed))
        for side in sides
    ]
    # The comparison of `bordersim compare` and the workbench: with one seed, replication r of A
    # is paired with replication r of B, over the replications both sides have.
    comparison = KpiComparison.of(runs[0].result, runs[1].result)
    rows = [
        {
            "indicator": name,
            "unit": KPI_BY_NAME[name].unit,
            "a_mean": comparison.summary_a[name].mean,
            "b_mean": comparison.summary_b[name].mean,
            "difference": diff.mean,
            "low": diff.low,
            "high": diff.high,
            "excludes_zero": _excludes_zero(diff),
            "paired": comparison.paired,
        }
        for name, diff in comparison.diffs.items()
    ]
    table = pd.DataFrame(rows)
    table["excludes_zero"] = table["excludes_zero"].astype("boolean")
    return table


def _excludes_zero(diff: Interval) -> bool | None:
    """Whether the interval of B - A excludes zero; None (pandas' <NA>) where there is no
    interval (one replication a side, or no pair with the indicator), as `bordersim compare`
    says "no interval": False would read as a finding, that the difference may be zero."""
    if math.isnan(diff.low) or math.isnan(diff.high):
        return None
    return diff.excludes_zero()


def _check_compare_side(name: str, side: object) -> None:
    """A side of the wrong kind named with every kind it may be: the scenario's own refusal
    names neither the side nor a Run."""
    if not isinstance(side, Run | Scenario | str | Path):
        raise BordersimError(
            f"{name} must be a Run, a Scenario (bs.load_scenario) or a scenario file path, got "
            f"{type(side).__name__} {_clip_repr(side)}"
        )


def _refuse_a_missing_side(name: str, side: object) -> None:
    """A side that names no file, named with its side; one that is no .toml file may be a run
    id, which `bordersim compare` takes, and a call compares as the Run `bs.open_run` gives."""
    if not isinstance(side, str | Path) or (isinstance(side, str) and not side.strip()):
        return  # a Run, a Scenario or an empty path: refused, or loaded, as they are
    file = Path(user_path(side))
    if file.exists() or file.is_symlink():
        return
    hint = "" if file.suffix == ".toml" else f" (for a stored run, give bs.open_run({str(side)!r}))"
    raise ScenarioError(f"{file}: no such scenario file{hint}", where=name)


def _clip_repr(value: object) -> str:
    text = repr(value)
    return text if len(text) <= 60 else text[:57] + "..."


def _refuse_a_side_compared_with_itself(a: object, b: object) -> None:
    """b that is a again (one run, one scenario, one file) is refused, as `bordersim compare`
    and the workbench refuse it: with one seed and engine every difference is exactly zero."""
    if isinstance(a, Run) and isinstance(b, Run):
        same = a is b or (a.run_id is not None and a.run_id == b.run_id)
        what = "run"
    elif isinstance(a, Scenario) and isinstance(b, Scenario):
        # a Scenario changed in place keeps the hash it was loaded with: that is refused first
        a.check_unchanged()
        b.check_unchanged()
        same = a is b or a.hash == b.hash
        what = "scenario"
    elif isinstance(a, str | Path) and isinstance(b, str | Path):
        first, second = Path(user_path(a)), Path(user_path(b))
        same = first.is_file() and second.is_file() and first.samefile(second)
        what = "scenario"
    elif isinstance(a, Scenario) and isinstance(b, str | Path):
        same, what = _is_loaded_from(a, b), "scenario"
    elif isinstance(b, Scenario) and isinstance(a, str | Path):
        same, what = _is_loaded_from(b, a), "scenario"
    else:
        return
    if same:
        how = " (one seed, one engine)" if what == "scenario" else ""
        raise BordersimError(
            f"the {what} of a again; a {what} compared with itself{how} differs by nothing: "
            f"give another {what} for b",
            where="b",
        )


def _is_loaded_from(scenario: Scenario, path: str | Path) -> bool:
    """Whether `scenario` is the scenario file at `path` holds, unchanged: a Scenario against its
    own file is one scenario on both sides, as two Scenarios of one hash are."""
    scenario.check_unchanged()
    file = Path(user_path(path))
    return file.is_file() and load_scenario(file).hash == scenario.hash


def sweep(
    scenario: ScenarioLike,
    vary: Mapping[str, Iterable[Any]],
    *,
    replications: int = SWEEP_REPLICATIONS,
    seed: int = SWEEP_SEED,
    client: Any = None,
    store: str | Path | None = None,
) -> pd.DataFrame:
    """Every combination of the `vary` values ({key path: values}), run on the flow engine with
    common random numbers in blocks of variants x replications in this process, as `bordersim
    sweep` does; with a Dask `client` (``distributed.Client``), as the same blocks on its
    workers, resumable (docs/scaling.md), as ``bordersim sweep --cluster`` does, with the same
    numbers bit for bit. With a `store` (a store file or a ``postgresql://``
    URL) the blocks are recorded in that store's catalog, their files in its results folder
    (``bordersim sweep --store``); a `client` without one uses the default store. As in
    `bordersim sweep`, a grid takes at most 10,000 points and 1,000,000 replications a variant.

    One row per variant and KPI: variant, the varied keys, indicator, label, unit, mean, low,
    high, n (the indicator is `bordersim sweep`'s ``kpi`` column in kpis.csv).
    """
    from bordersim.services.record import check_request
    from bordersim.services.sweep import run_sweep

    # the scenario's kind first: 42 is refused as not a scenario, whatever else is wrong
    if not isinstance(scenario, Scenario):
        _scenario_path(scenario)
    check_request("flow", replications, False, seed)
    replications, seed = int(replications), int(seed)
    store = _given_store(store)
    _check_client(client)
    if not isinstance(vary, Mapping):
        raise ScenarioError(
            f"vary takes {{key path: [values]}} to sweep over, got {type(vary).__name__}"
        )
    if not vary:
        raise ScenarioError("vary is empty: give {key path: [values]} to sweep over")
    axes = _checked_axes(vary)
    base = scenario if isinstance(scenario, Scenario) else load_scenario(scenario)
    base.check_unchanged()
    return run_sweep(
        base,
        axes,
        replications=replications,
        seed=seed,
        option="vary",
        client=client,
        store=store,
    ).table.rename(columns={"kpi": "indicator"})  # as run.kpis() and compare() name it


def _checked_axes(vary: Mapping[str, Iterable[Any]]) -> list[Axis]:
    """`vary`'s axes, each a list of distinct values, in a grid no larger than `bordersim
    sweep` takes: its size is checked before the values are told apart, which for thousands
    of values takes long of its own."""
    from bordersim.services.sweep import Axis, check_grid_size

    # a key pasted with spaces or a line end around it, as `--vary` takes it: its column is
    # named without them
    given = [(key.strip() if isinstance(key, str) else key, values) for key, values in vary.items()]
    listed_axes = [_listed_values(key, values) for key, values in given]
    check_grid_size([len(listed) for listed in listed_axes], option="vary")
    for (key, values), listed in zip(given, listed_axes, strict=True):
        _refuse_repeated_values(_axis_named(key, values, listed), listed)
    return [Axis(key, listed) for (key, _), listed in zip(given, listed_axes, strict=True)]


def _axis_named(key: str, values: object, listed: tuple[Any, ...] | None = None) -> str:
    """An axis as a refusal names it, ``vary KEY=VALUES``: the form in which a grid point's
    refusal names the point (``vary KEY=VALUE``, `services.sweep.shown_point`). The values
    are shown as given, or, where they were a generator or an array, as the list read."""
    shown = values if listed is None or isinstance(values, Sequence) else list(listed)
    return f"vary {key}={_clip_repr(shown)}"


def _listed_values(key: str, values: Iterable[Any]) -> tuple[Any, ...]:
    """One axis's values as plain Python values, or the refusal of what is not a list."""
    named = _axis_named(key, values)
    # a dict's keys would be swept over and its values dropped without a word
    if isinstance(values, str | bytes | Mapping) or not isinstance(values, Iterable):
        raise ScenarioError(f"{named}: expected a list of values, not {_a_kind(values)}")
    if isinstance(values, set | frozenset):
        # a set has no defined order (texts come in another order in each Python process):
        # the variants' order, and so their seeds, would not be reproducible
        raise ScenarioError(
            f"{named}: a set has no defined order, so the variants' order (and their seeds) "
            f"could change from one run to the next; pass a list or a tuple, such as "
            f"{_clip_repr(_in_order(values))}"
        )
    listed = tuple(_plain(v) for v in values)
    if not listed:
        raise ScenarioError(f"{named}: the list of values is empty")
    return listed


def _a_kind(value: object) -> str:
    """'a str', 'a dict', 'an int': what a value is, in a message."""
    kind = type(value).__name__
    return f"{'an' if kind[:1] in 'aeiou' else 'a'} {kind}"


def open_run(run_id: str, *, store: str | Path | None = None) -> StoredRunView:
    """A stored run, read-only: the store is opened read-only only while the run is copied out,
    so it never keeps `bordersim` commands out for longer. A store a command is writing to
    (a run under way) is a clear `BordersimError`; try again when it has finished."""
    from bordersim.store.read_only import read_only_store
    from bordersim.store.runs import get_run, load_result

    if not isinstance(run_id, str):
        raise BordersimError(
            f"run_id must be a run id such as 'small-20230511-120000-ab12' (see `bordersim "
            f"runs`), got {type(run_id).__name__} {run_id!r}"
        )
    if not run_id.strip():
        # an unset variable: looked up, it was "no run '' in this store"
        raise BordersimError(
            "run_id is empty (an unset variable?); give a run id (see bordersim runs)"
        )
    run_id, store = run_id.strip(), _given_store(store)  # as `bordersim report` takes them
    _check_store_is_there(store)
    with read_only_store(store) as connection:
        # a run id the store lacks is refused by the store, in `bordersim report`'s words
        stored = get_run(connection, run_id)
        result = load_result(connection, run_id)
    result.daily.flags.writeable = False
    result.custody_hist.flags.writeable = False
    report = Path(stored.report_path) if stored.report_path else None
    return StoredRunView(result, run_id=run_id, report_path=report, stored=stored)


def _check_flag(name: str, value: object) -> None:
    """Refuse a switch that is not True or False (record="no" would record the run)."""
    if not isinstance(value, bool | np.bool_):
        raise BordersimError(f"{name} must be True or False, got {type(value).__name__} {value!r}")


def _given_store(store: str | Path | None) -> str | Path | None:
    """`store=` checked, without the spaces around a str (a path pasted with them), as `--store`
    takes it: "runs.duckdb " was "no store here", named by a path that showed no space."""
    _check_location("store", store)
    return user_path(store.strip() if isinstance(store, str) else store)


def _check_location(name: str, value: object) -> None:
    """Refuse a store or a folder given as anything but a path (or None), before anything runs,
    and an empty one (an unset variable), as the CLI refuses an empty --store or --out: "" would
    be the default store, or the current folder for the report."""
    if value is not None and not isinstance(value, str | Path):
        raise BordersimError(
            f"{name} must be a path (a str or a pathlib.Path) or None, got "
            f"{type(value).__name__} {value!r}"
        )
    if isinstance(value, str) and not value.strip():
        takes = (
            "name the store, or leave store out (None) for the default ($BORDERSIM_STORE, else "
            "./.bordersim/bordersim.duckdb)"
            if name == "store"
            else "give a path"
        )
        raise BordersimError(f"{name} is empty (an unset variable?); {takes}")


def _check_store_is_there(store: str | Path | None) -> None:
    """Refuse a store file that is not there in the API's words: the store's own refusal names
    the command line's --store, which a call does not have."""
    from bordersim.store import StoreError, store_location

    location = store_location(store)
    if isinstance(location, Path) and not location.exists() and not location.is_symlink():
        raise StoreError(
            "no store here (is store= or $BORDERSIM_STORE mistyped?); bs.run(..., record=True), "
            "bs.sweep(..., store=...), `bordersim run`, `bordersim sweep --store` or `bordersim "
            "data import` creates one",
            where=str(location),
        )


def _check_client(client: object) -> None:
    """Refuse a `client` that is not a Dask client before the sweep is registered in a store: an
    address or a number failed on the first use, with the sweep already in the catalog."""
    if client is None:
        return
    from distributed import Client

    from bordersim.services.cluster import BackgroundClient

    if not isinstance(client, Client | BackgroundClient):
        raise BordersimError(
            f"client must be a distributed.Client (local or on a cluster) or None, got "
            f"{type(client).__name__} {client!r}; for a scheduler's address, connect first: "
            f"client=distributed.Client(address)"
        )


def _refuse_repeated_values(named: str, values: tuple[Any, ...]) -> None:
    """Refuse a value listed twice, as `bordersim sweep --vary` does: it would run one variant
    twice, under two variant numbers (and two seeds), as if they were two."""
    from bordersim.services.sweep import same_value

    for i, value in enumerate(values):
        for earlier in values[:i]:
            if same_value(earlier, value):
                same = (
                    "is listed twice"
                    if repr(earlier) == repr(value)
                    else (f"and {value!r} are one value")
                )
                raise ScenarioError(f"{named}: {earlier!r} {same}")


def _in_order(values: Iterable[Any]) -> list[Any]:
    """The values sorted, for a message (by their text where they cannot be compared)."""
    try:
        return sorted(values)
    except TypeError:
        return sorted(values, key=repr)


def _plain(value: Any) -> Any:
    """A NumPy scalar as the Python value a scenario file would hold (np.int64(3) -> 3)."""
    return value.item() if isinstance(value, np.generic) else value


def _loaded(scenario: ScenarioLike) -> Any:
    """A `LoadedScenario` from a `Scenario` or a path."""
    from bordersim.services.loading import compile_loaded, load_and_compile

    if isinstance(scenario, Scenario):
        scenario.check_unchanged()
        return compile_loaded(scenario)
    return load_and_compile(Path(_scenario_path(scenario)))


def _scenario_path(scenario: object) -> str | Path:
    """A scenario argument that is not a `Scenario`, if it is a path; otherwise the one-line
    refusal that names both kinds a scenario argument may be."""
    if not isinstance(scenario, str | Path):
        # named as the call names it, as a wrong store= or a compare side is
        given = f"{type(scenario).__name__} {_clip_repr(scenario)}"
        if isinstance(scenario, Run):
            given = f"{_clip_repr(scenario)}; a Run is not a scenario: give the one it was run from"
        raise BordersimError(
            f"scenario must be a Scenario (bs.load_scenario) or a scenario file path, got {given}"
        )
    _refuse_an_empty_path(scenario)
    return user_path(scenario)


def _refuse_an_empty_path(path: str | Path) -> None:
    """An empty path (from an unset variable) is refused as such, as the CLI refuses an empty
    argument: Path("") is the current folder, which would be refused as a folder the user never
    named."""
    if isinstance(path, str) and not path.strip():
        raise ScenarioError("scenario path is empty (an unset variable?); give a scenario file")
