"""`bordersim forecast`: demand forecasts with intervals, and the rolling-origin back-test."""

from __future__ import annotations

from datetime import date
from pathlib import Path
from typing import Any

import typer

from bordersim.commands.calibrate import STORE_OPTION_HELP

#: The file that marks a folder as a forecast's output (with the names it wrote), so that a later
#: forecast may replace it; any other folder at --out is refused before the models are fitted.
FORECAST_MARKER = ".bordersim-forecast"
FORECAST_NOTE = (
    "written by bordersim forecast; a later forecast may replace this folder, which holds:"
)
#: What a forecast or a back-test writes: a folder holding only these (one of the CSV files among
#: them), written before forecasts marked their folders, is a forecast's too.
FORECAST_FILES = ("backtest.csv", "forecast.csv", "report.html")
#: Months ahead of a forecast, and a back-test's horizons, unless given.
DEFAULT_HORIZON = 12
DEFAULT_HORIZONS = "1,3,6"
#: The back-test's first target month unless --from is given (or the data allow only a later one).
FY2016_START = date(2015, 10, 1)
#: What gives a forecast's origin when --origin is not: named so in an error about it.
DEFAULT_ORIGIN = "the default --origin (the store's last month)"


def register(app: typer.Typer) -> None:
    app.command("forecast")(forecast_command)


def forecast_command(
    origin: str | None = typer.Option(
        None,
        "--origin",
        help="Last month used, YYYY-MM (default: the last month of the store's OHSS workbook).",
    ),
    horizon: int | None = typer.Option(
        None, "--horizon", help=f"Months ahead, 1-12 (default: {DEFAULT_HORIZON})."
    ),
    backtest: bool = typer.Option(
        False, "--backtest", help="Back-test every method instead of forecasting."
    ),
    first: str | None = typer.Option(
        None,
        "--from",
        help="Back-test: first target month, YYYY-MM (default: FY2016 start, or the first "
        "month the data allow).",
    ),
    last: str | None = typer.Option(
        None, "--to", help="Back-test: last target month, YYYY-MM (default: the last month held)."
    ),
    horizons: str | None = typer.Option(
        None,
        "--horizons",
        help=f"Back-test: months ahead, 1-12, separated by commas (default: {DEFAULT_HORIZONS}).",
    ),
    out: Path | None = typer.Option(  # noqa: B008
        None,
        "--out",
        help="Folder for the files: a forecast's forecast.csv, backtest.csv and report.html "
        "(default: out/forecast); a back-test's backtest.csv and report.html, only with --out.",
    ),
    store: str | None = typer.Option(None, "--store", help=STORE_OPTION_HELP),
    jobs: int = typer.Option(0, "--jobs", help="Processes for the model fits (0: up to 2)."),
    regimes: bool = typer.Option(
        False, "--regimes", help="Add ARIMA with the dated policy regimes as regressors."
    ),
) -> None:
    """Forecast monthly encounters per sector and group with 80 % and 95 % intervals.

    `bordersim forecast --origin 2023-04 --horizon 6` prints the ensemble's forecasts and writes
    the report; `bordersim forecast --backtest --from 2015-10 --to 2023-09` prints the error and
    coverage table of every method (write backtest.csv with --out).
    """
    from bordersim import interrupts
    from bordersim.errors import BordersimError
    from bordersim.forecast import check_horizon
    from bordersim.forecast.data import parse_month
    from bordersim.forecast.methods import default_jobs

    mode = "back-test" if backtest else "forecast"
    interrupts.describe(f"the {mode} stopped cleanly; nothing was written")  # it records no run
    if jobs < 0:
        raise BordersimError(f"--jobs {jobs}: must be 0 (automatic) or more")
    workers = jobs or default_jobs()
    from bordersim.forecast.methods import METHODS, OPTIONAL_METHODS

    methods = (*METHODS, *OPTIONAL_METHODS) if regimes else METHODS
    # Every argument is checked before the store is opened (and given the shipped data it lacks)
    origin_month, first_month, last_month = (
        parse_month(text, flag) if text is not None else None
        for text, flag in ((origin, "--origin"), (first, "--from"), (last, "--to"))
    )
    if backtest:
        if origin is not None:
            raise BordersimError("--origin is for forecasts; the back-test takes --from and --to")
        if horizon is not None:
            raise BordersimError("--horizon is for forecasts; the back-test takes --horizons")
        if first_month is not None and last_month is not None and last_month < first_month:
            raise BordersimError(f"--to {last_month:%Y-%m} is before --from {first_month:%Y-%m}")
        backtest_horizons = _parse_horizons(DEFAULT_HORIZONS if horizons is None else horizons)
    else:
        if first is not None or last is not None:
            raise BordersimError("--from and --to need --backtest")
        if horizons is not None:
            raise BordersimError("--horizons is for the back-test; a forecast takes --horizon")
        horizon = DEFAULT_HORIZON if horizon is None else horizon
        check_horizon(horizon)
    if out is None and not backtest:
        out = Path("out") / "forecast"
    if out is not None:  # before hours of fitting, and again before the folder is replaced
        folder = check_forecast_target(out)
        interrupts.describe(f"the {mode} stopped cleanly; nothing was written to {folder}")
    series = read_series(store, create=not _store_named(store))
    console = _console()
    if backtest:
        window = (first_month, last_month)
        _backtest(console, series, window, backtest_horizons, out, workers, methods)
        return
    month = origin_month if origin_month is not None else series.months[-1]
    # an error about a default origin must not blame an option the user did not give
    given = "--origin" if origin_month is not None else DEFAULT_ORIGIN
    assert horizon is not None  # set above for a forecast
    _forecast(console, series, (month, given), horizon, out, workers, methods)


def _parse_horizons(text: str) -> tuple[int, ...]:
    from bordersim.errors import BordersimError
    from bordersim.forecast import MAX_HORIZON

    shown = text if text and text.strip() == text else repr(text)  # as typed, as --origin's
    try:
        values = tuple(sorted({int(part) for part in text.split(",")}))
    except ValueError:
        raise BordersimError(f"--horizons {shown}: give months ahead as 1,3,6") from None
    if not values or values[0] < 1 or values[-1] > MAX_HORIZON:
        raise BordersimError(f"--horizons {shown}: each must be between 1 and {MAX_HORIZON}")
    return values


def _store_named(store: str | None) -> bool:
    """Whether the user named the store (--store or $BORDERSIM_STORE): such a path must hold one
    (a mistyped path is not made a store of the shipped files), while bordersim's default place
    is made in a folder without a store, as docs/forecast.md runs it."""
    import os

    from bordersim.store.location import STORE_ENV_VAR

    return bool(store) or bool(os.environ.get(STORE_ENV_VAR))


def read_series(store: str | None, *, create: bool = True) -> Any:
    """The monthly series of the store's release, importing the shipped files it lacks.

    With `create` false a missing store (or an empty file) is refused, as `data show` refuses it:
    a mistyped --store would otherwise become a store of the shipped release, and be forecast."""
    from bordersim.forecast.data import from_official
    from bordersim.store import open_store, resolve_store_path
    from bordersim.store.official import import_official_files, shipped_import_note

    location = resolve_store_path(store)
    with open_store(location, create=create) as connection:
        missing = _shipped_files_to_import(connection)
        if missing:
            # said as calibrate says it: the store is written, and the forecast is of that release
            _console().print(
                shipped_import_note(connection, location, missing),
                highlight=False,
                markup=False,
                soft_wrap=True,
            )
            import_official_files(connection, missing)
        series = from_official(connection)
        warning = _later_csv_warning(connection)
    if warning:
        from rich.markup import escape

        _console().print(
            f"[bold yellow]warning:[/] {escape(warning)}", highlight=False, soft_wrap=True
        )
    return series


def _later_csv_warning(connection: Any) -> str | None:
    """Mixed data vintages, as calibrate warns of them, where they matter to a forecast: a CBP
    CSV that ends after the workbook (a newer release's) holds months the forecast, which reads
    the workbook alone, does not start from; None otherwise."""
    from bordersim.ingest.parsed import CBP_KIND, OHSS_KIND
    from bordersim.store.coverage import cbp_months, sector_months
    from bordersim.store.official import imported_kinds

    workbook_months, csv_months = sector_months(connection), cbp_months(connection)
    if not workbook_months or not csv_months or max(csv_months) <= max(workbook_months):
        return None
    files = imported_kinds(connection)
    workbook_end = f"{max(workbook_months):%Y-%m}"
    return (
        f"mixed data vintages: the CBP CSV {files[CBP_KIND][0]} ends {max(csv_months):%Y-%m}, "
        f"after the OHSS workbook {files[OHSS_KIND][0]}, which ends {workbook_end}: the forecast "
        f"reads the workbook alone, so its data end {workbook_end}; import the workbook of the "
        "CSV's release to forecast from its months"
    )


def _shipped_files_to_import(connection: Any) -> list[Path]:
    """The shipped files a forecast imports: none where the store holds a workbook, the only
    file a forecast reads (the shipped CSV beside a user's newer workbook would mix releases in
    the store for nothing); else the kinds the store lacks, as calibrate imports them."""
    from bordersim.ingest.parsed import OHSS_KIND
    from bordersim.store.official import imported_kinds, missing_shipped_files

    if OHSS_KIND in imported_kinds(connection):
        return []
    return missing_shipped_files(connection)


def _backtest(
    console: Any,
    series: Any,
    window: tuple[date | None, date | None],
    horizons: tuple[int, ...],
    out: Path | None,
    jobs: int,
    methods: tuple[str, ...],
) -> None:
    """The back-test's target months run from `window`'s first (default: FY2016's first month,
    or the first held) to its last (default: the last month held)."""
    from bordersim import interrupts
    from bordersim.errors import BordersimError
    from bordersim.forecast import backtest as harness
    from bordersim.forecast.printing import print_backtest
    from bordersim.forecast.rolling import MIN_HISTORY_MONTHS, compute, origin_range

    # A month given is checked against the data before the order, and an order error says which
    # month is a default, so that it never blames an option with a month the user did not give.
    for month, flag in zip(window, ("--from", "--to"), strict=True):
        if month is not None:
            series.index_of(month, flag)
    horizon = max(horizons)
    earliest = _first_target_month(series, horizon)
    first_month = window[0] or max(FY2016_START, earliest)
    last_month = window[1] or series.months[-1]
    if last_month < first_month:  # a --to given before the default --from (a --from given is
        # held, so never after the default --to; both given were compared before the store)
        raise BordersimError(
            f"--to {last_month:%Y-%m} is before the default --from {first_month:%Y-%m} "
            + (
                "(FY2016's first month): give --from too"
                if first_month == FY2016_START
                else f"(the first target month the data allow for a {horizon}-month horizon)"
            )
        )
    a = series.index_of(first_month, "--from")
    b = series.index_of(last_month, "--to")
    if a - horizon < MIN_HISTORY_MONTHS - 1:  # the first target's origin lacks the history
        raise BordersimError(
            f"--from {first_month:%Y-%m} is too early for a {horizon}-month horizon: forecasts "
            f"need at least {MIN_HISTORY_MONTHS} months of history (the data start "
            f"{series.months[0]:%Y-%m}), so the first target month is "
            f"{series.month_at(MIN_HISTORY_MONTHS - 1 + horizon):%Y-%m}"
        )
    origins = origin_range(b - 1)
    with _progress(console, "back-test") as step:
        rolling = compute(series, origins, horizon, methods=methods, jobs=jobs, progress=step)
    result = harness.evaluate(rolling, a, b, horizons)
    folder: Path | None = None
    if out is not None:  # before the table: a reader that leaves the pipe early loses no file
        from bordersim.report.forecast_report import write_backtest_report

        def write(folder: Path) -> None:
            result.write_csv(folder / "backtest.csv")
            write_backtest_report(folder / "report.html", rolling, result)

        folder = write_forecast_folder(out, write)
        interrupts.describe(f"the back-test stopped once it was written, whole, to {folder}")
    print_backtest(console, result, series.source)
    if folder is not None:
        console.print(
            f"Wrote {folder / 'backtest.csv'} and {folder / 'report.html'}",
            highlight=False,
            markup=False,
            soft_wrap=True,
        )


def _first_target_month(series: Any, horizon: int) -> date:
    """The first target month whose origin, `horizon` months before, has the history a forecast
    needs; data that end before it are too short for any back-test, which is one error."""
    from bordersim.errors import BordersimError
    from bordersim.forecast.rolling import MIN_HISTORY_MONTHS

    earliest: date = series.month_at(MIN_HISTORY_MONTHS - 1 + horizon)
    first, last = series.months[0], series.months[-1]
    if earliest > last:
        raise BordersimError(
            f"the data ({first:%Y-%m} .. {last:%Y-%m}, {len(series.months)} months) are too "
            f"short for a back-test with a {horizon}-month horizon: forecasts need at least "
            f"{MIN_HISTORY_MONTHS} months of history, so the first target month would be "
            f"{earliest:%Y-%m}"
        )
    return earliest


def _forecast(
    console: Any,
    series: Any,
    origin_given: tuple[date, str],
    horizon: int,
    out: Path | None,
    jobs: int,
    methods: tuple[str, ...],
) -> None:
    from bordersim import interrupts
    from bordersim.forecast import backtest as harness
    from bordersim.forecast import forecast_at
    from bordersim.forecast.printing import print_forecast, write_forecast_csv
    from bordersim.forecast.rolling import check_origin
    from bordersim.report.forecast_report import write_forecast_report

    # the origin's errors before the fitting is announced, naming what gave the origin
    origin, given = origin_given
    check_origin(series, series.index_of(origin, given), given)
    with _progress(console, "forecast") as step:
        forecast = forecast_at(series, origin, horizon, jobs=jobs, progress=step, methods=methods)
    position = forecast.origin_position
    evaluated = harness.evaluate(
        forecast.rolling,
        _first_scored_target(position),
        position,
        tuple(h for h in (1, 3, 6, 12) if h <= horizon),
    )

    def write(folder: Path) -> None:
        evaluated.write_csv(folder / "backtest.csv")
        write_forecast_csv(folder / "forecast.csv", forecast)
        write_forecast_report(folder / "report.html", forecast, evaluated)

    # the files before the tables: a reader that leaves the pipe early (`| head`) loses none
    folder = write_forecast_folder(out if out is not None else Path("out") / "forecast", write)
    interrupts.describe(f"the forecast stopped once it was written, whole, to {folder}")
    print_forecast(console, forecast, evaluated)
    console.print(
        f"Wrote {folder / 'report.html'}, forecast.csv and backtest.csv beside it",
        highlight=False,
        markup=False,
        soft_wrap=True,
    )


def check_forecast_target(target: Path) -> Path:
    """The absolute output folder, if a forecast may write it: absent, a forecast's own output,
    or a folder of nothing but a forecast's files (written before forecasts marked their
    folders). Anything else, such as a sweep's or a plan's folder, is one error, and nothing is
    touched: their report.html is not a forecast's to replace."""
    from bordersim.output_folders import check_output_folder, check_writable

    folder = Path(target).absolute()
    if folder.is_dir() and not folder.is_symlink() and not (folder / FORECAST_MARKER).exists():
        names = {p.name for p in folder.iterdir()}
        if names and names <= set(FORECAST_FILES) and names & {"backtest.csv", "forecast.csv"}:
            check_writable(
                folder.parent, "cannot write beside the output folder", where=str(folder)
            )
            return folder
    return check_output_folder(folder, marker=FORECAST_MARKER, what="forecast")


def write_forecast_folder(target: Path, write: Any) -> Path:
    """`write(folder)` into a new hidden folder beside `target`, marked as a forecast's and
    renamed onto `target` at the end, so that an interrupted forecast leaves no mix of old and
    new files; the folder written."""
    import shutil

    from bordersim.output_folders import make_work_folder, replace_folder, write_marker

    folder = check_forecast_target(target)
    work = make_work_folder(folder, prefix=f".{folder.name}.", suffix=".partial")
    try:
        write(work)
        write_marker(work, FORECAST_MARKER, FORECAST_NOTE, (p.name for p in work.iterdir()))
        check_forecast_target(folder)
        replace_folder(work, folder)
    except BaseException:
        shutil.rmtree(work, ignore_errors=True)  # created above, by this forecast
        raise
    return folder


def _first_scored_target(origin: int) -> int:
    """The first target month of a forecast's own back-test: `_report_months()` before the
    origin, but none before the first month with a forecast (one month after the first origin
    with the history), so that the months it names are the months it scored."""
    from bordersim.forecast.rolling import MIN_HISTORY_MONTHS

    return min(origin, max(origin - _report_months() + 1, MIN_HISTORY_MONTHS))


def _report_months() -> int:
    from bordersim.forecast import REPORT_BACKTEST_MONTHS

    return REPORT_BACKTEST_MONTHS


class _progress:
    """A transient progress line on a terminal; when the output is a file or a pipe, a line on
    stderr as the fits start and one as they end (the fits take tens of seconds)."""

    def __init__(self, console: Any, label: str) -> None:
        self.console, self.label = console, label
        self.bar: Any = None
        self.started: float | None = None

    def __enter__(self) -> Any:
        if not self.console.is_terminal:
            import sys
            import time

            self.started = time.perf_counter()
            print(
                f"{self.label}: fitting every method at every origin (tens of seconds)...",
                file=sys.stderr,
                flush=True,
            )
            return None
        from rich.progress import Progress

        self.bar = Progress(console=self.console, transient=True)
        self.bar.__enter__()
        task = self.bar.add_task(f"{self.label}: fitting models", total=None)

        def step(done: int, total: int) -> None:
            assert self.bar is not None
            self.bar.update(task, completed=done, total=total)

        return step

    def __exit__(self, *exc: object) -> None:
        if self.bar is not None:
            self.bar.__exit__(*exc)
        elif self.started is not None and exc[0] is None:
            import sys
            import time

            elapsed = time.perf_counter() - self.started
            print(f"{self.label}: fitted in {elapsed:.0f} s", file=sys.stderr, flush=True)


def _console() -> Any:
    from rich.console import Console

    console = Console()
    return console if console.is_terminal else Console(width=200)
