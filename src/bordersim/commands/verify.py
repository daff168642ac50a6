"""`bordersim verify`: the event core against queueing theory, as a table with pass/fail."""

from __future__ import annotations

import time
from functools import partial
from typing import TYPE_CHECKING

import typer

if TYPE_CHECKING:
    from bordersim.commands.tables import Table
    from bordersim.verify.cases import Case
    from bordersim.verify.runner import Row

CASE_NAMES = ("mm1", "mmc", "mmck", "erlang-a", "md1", "mg1", "priority", "tandem")


def register(app: typer.Typer) -> None:
    app.command("verify")(verify)


def verify(
    case: str | None = typer.Option(
        None, "--case", help=f"Run one case with the parameters given: {', '.join(CASE_NAMES)}."
    ),
    arrival_rate: float | None = typer.Option(
        None, "--arrival-rate", help="Arrivals per unit of time (every case but priority)."
    ),
    service_rate: float | None = typer.Option(
        None,
        "--service-rate",
        help="Services per unit of time, per server (every case but tandem).",
    ),
    servers: int | None = typer.Option(None, "--servers", help="Servers (mmc, mmck, erlang-a)."),
    capacity: int | None = typer.Option(None, "--capacity", help="Places in the system (mmck)."),
    patience_rate: float | None = typer.Option(
        None, "--patience-rate", help="Abandonment rate per waiting customer (erlang-a)."
    ),
    service_cv: float | None = typer.Option(
        None, "--service-cv", help="Coefficient of variation of lognormal service (mg1; 0 = D)."
    ),
    customers: int = typer.Option(
        1_000_000,
        "--customers",
        help="Arrivals simulated per case, after warm-up (at most 1,000,000,000).",
    ),
    seed: int = typer.Option(0, "--seed", help="Random seed (one run per case)."),
    batches: int = typer.Option(40, "--batches", help="Batches for batch means (at least 10)."),
) -> None:
    """Run the theory cases through the event core and compare with the analytic values.

    Each simulated value has a confidence interval from batch means; the intervals are
    Bonferroni-adjusted so that all rows hold together with 95 % probability. Exit status 1 if
    any row fails. A measure never seen in the run while theory expects its event (a wait, a
    block, an abandonment) less than once among the customers simulated is too rare to judge,
    and fails nothing.
    """
    from rich.console import Console

    from bordersim import interrupts
    from bordersim.verify.cases import default_cases
    from bordersim.verify.runner import judge_all, run_batches

    # verify records no run and writes no file: an interrupt says so in its own words
    interrupts.describe("verify stopped cleanly; it writes nothing")
    _check_run_options(customers, seed, batches)
    if case is not None:
        cases = [
            _ad_hoc(case, arrival_rate, service_rate, servers, capacity, patience_rate, service_cv)
        ]
    else:
        _refuse_parameters_without_case(
            {
                "--arrival-rate": arrival_rate,
                "--service-rate": service_rate,
                "--servers": servers,
                "--capacity": capacity,
                "--patience-rate": patience_rate,
                "--service-cv": service_cv,
            }
        )
        cases = default_cases()
    console = Console(width=max(Console().width, 110))
    started = time.perf_counter()
    values = []
    for c in cases:
        values.extend(run_batches(c, customers=customers, seed=seed, batches=batches))
    rows = judge_all(values, customers=customers)
    elapsed = time.perf_counter() - started
    console.print(_results_table(rows, customers, seed, batches))
    for name, text in {c.name: c.description for c in cases}.items():
        console.print(f"  {name}: {text}", highlight=False)
    failed = [r for r in rows if not r.passed]
    rare = sum(r.too_rare for r in rows)
    unjudged = f"; {rare} too rare to judge" if rare else ""
    console.print(
        f"{len(rows) - len(failed) - rare}/{len(rows)} rows pass in {elapsed:.1f} s{unjudged}",
        highlight=False,
    )
    if failed:
        raise typer.Exit(1)


#: The most arrivals a case simulates: a thousand times the default, hours of simulation.
MAX_CUSTOMERS = 1_000_000_000


def _check_run_options(customers: int, seed: int, batches: int) -> None:
    from bordersim.engines import MAX_SEED
    from bordersim.errors import ModelError

    if customers < 1:
        raise ModelError(f"--customers {customers}: must be at least 1")
    if customers > MAX_CUSTOMERS:  # the event core runs a case without a pause for Ctrl-C
        raise ModelError(
            f"--customers {customers}: must be at most {MAX_CUSTOMERS:,} "
            "(a thousand times the default)"
        )
    if not 0 <= seed <= MAX_SEED:  # the streams keep 64 bits: a larger seed would repeat one
        raise ModelError(f"--seed {seed}: must be a whole number from 0 to 2^63 - 1")
    if batches < 10:
        raise ModelError(f"--batches {batches}: must be at least 10 for an honest interval")


def _refuse_parameters_without_case(given: dict[str, float | None]) -> None:
    """A case's parameters name one case: without --case they are refused, not ignored."""
    from bordersim.errors import ModelError

    named = [k for k, v in given.items() if v is not None]
    if named:
        verb = "needs" if len(named) == 1 else "need"
        raise ModelError(f"{', '.join(named)} {verb} --case (one of: {', '.join(CASE_NAMES)})")


def _results_table(rows: list[Row], customers: int, seed: int, batches: int) -> Table:
    """Each measure's analytic and simulated value, its interval, and pass or FAIL."""
    from bordersim.commands.tables import Table

    table = Table(
        title=f"bordersim verify: {customers:,} customers per case, seed {seed}, {batches} batches",
        caption=(
            "simulated: mean of batch means ± half-width of a "
            f"{100 * rows[0].confidence:.2f} % t interval "
            f"(Bonferroni over {len(rows)} rows: 95 % simultaneous). Little's law rows: analytic "
            "= lambda W, simulated = L (time average), interval of their per-batch difference."
            + _too_rare_note(rows, customers)
        ),
    )
    for col in ("case", "measure", "analytic", "simulated", "± CI", "result"):
        table.add_column(col, justify="left" if col in ("case", "measure", "result") else "right")
    for r in rows:
        mark = "[green]pass[/]" if r.passed else "[bold red]FAIL[/]"
        if r.too_rare:
            mark = "[yellow]too rare[/]"
        table.add_row(
            r.case,
            r.measure,
            f"{r.analytic:.5g}",
            f"{r.estimate:.5g}",
            f"{r.half_width:.2g}",
            mark,
        )
    return table


def _too_rare_note(rows: list[Row], customers: int) -> str:
    """What "too rare" means, where some row says it."""
    if not any(r.too_rare for r in rows):
        return ""
    return (
        " Too rare: the measure was 0 throughout the run and the chance per customer of its "
        f"event (a wait, a block, an abandonment) is under 1/{customers:,} (fewer than one "
        "expected among the customers simulated): not judged, and no failure."
    )


def _ad_hoc(
    name: str,
    arrival_rate: float | None,
    service_rate: float | None,
    servers: int | None,
    capacity: int | None,
    patience_rate: float | None,
    service_cv: float | None,
) -> Case:
    from bordersim.errors import ModelError
    from bordersim.verify import cases as C

    typed, name = name, name.strip().lower()  # "MM1" is mm1, as export's "CSV" is csv
    if name not in CASE_NAMES:
        raise ModelError(f"--case {typed!r} is unknown; choose one of: {', '.join(CASE_NAMES)}")
    allowed = {
        "mm1": {"arrival_rate", "service_rate"},
        "mmc": {"arrival_rate", "service_rate", "servers"},
        "mmck": {"arrival_rate", "service_rate", "servers", "capacity"},
        "erlang-a": {"arrival_rate", "service_rate", "servers", "patience_rate"},
        "md1": {"arrival_rate", "service_rate"},
        "mg1": {"arrival_rate", "service_rate", "service_cv"},
        "priority": {"service_rate"},
        "tandem": {"arrival_rate"},
    }[name]
    given = {
        "arrival_rate": arrival_rate,
        "service_rate": service_rate,
        "servers": servers,
        "capacity": capacity,
        "patience_rate": patience_rate,
        "service_cv": service_cv,
    }
    kwargs = {k: v for k, v in given.items() if v is not None}
    extra = sorted(set(kwargs) - allowed)
    if extra:
        flags = ", ".join("--" + k.replace("_", "-") for k in extra)
        raise ModelError(f"--case {name} does not take {flags}")
    if "servers" in kwargs and (kwargs["servers"] < 1):
        raise ModelError(f"--servers {servers}: must be at least 1")
    builders = {
        "mm1": C.mm1,
        "mmc": C.mmc,
        "mmck": C.mmck,
        "erlang-a": C.erlang_a,
        "md1": partial(C.mg1, service_cv=0.0),  # the full run's M/D/1 row: mg1 at cv 0
        "mg1": C.mg1,
        "priority": C.priority,
        "tandem": C.tandem,
    }
    case: Case = builders[name](**kwargs)  # type: ignore[operator]
    return case
