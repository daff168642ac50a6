"""`bordersim plan`: the cheapest time-phased deployment that meets the targets, certified.

The planner works in a temporary folder beside `--out` and renames it into place at the end, so an
interrupted or failed plan leaves nothing that looks complete. The parents of a new `--out` are
created first, so that the temporary folder lies at `--out`'s depth and plan.toml's relative `base`
holds once it is renamed; a failed plan removes them again (`output_folders.parents_made_for`).
An existing `--out` is replaced only
if an earlier plan wrote it (`bordersim.output_folders`); any other folder is refused before the
planning starts.
"""

from __future__ import annotations

import dataclasses
import math
import shutil
import time
from pathlib import Path
from typing import TYPE_CHECKING

import typer

if TYPE_CHECKING:
    from bordersim.planner.run import PlanResult
    from bordersim.planner.spec import PlanSpec


#: The file that marks a folder as a plan's output (with the names the plan wrote), so that a
#: later plan may replace it; any other folder at --out is refused before planning starts.
PLAN_MARKER = ".bordersim-plan"
PLAN_NOTE = "written by bordersim plan; a later plan may replace this folder, which holds:"


def register(app: typer.Typer) -> None:
    app.command("plan")(plan_command)


def plan_command(
    scenario_given: str = typer.Argument(..., metavar="SCENARIO", help="Base scenario file."),
    plan_given: str = typer.Option(
        ...,
        "--plan",
        help="Plan file (pools, rules, targets; optionally [forecast] paths or quantiles).",
    ),
    out_given: str | None = typer.Option(
        None,
        "--out",
        help="Output folder (default: out/plan/<scenario>, named by the scenario file).",
    ),
    replications: int | None = typer.Option(
        None,
        "--replications",
        "-r",
        help="Flow replications per candidate, at least 2 (default: the plan file's "
        "search.replications).",
    ),
    certify_replications: int | None = typer.Option(
        None,
        "--certify-replications",
        help="Fresh replications for the certificate, at least the fewest that can certify the "
        "targets (default: the plan file's search.certify_replications).",
    ),
    frontier: bool = typer.Option(
        True, "--frontier/--no-frontier", help="Also plan for the frontier's other targets."
    ),
    demand_scale: float | None = typer.Option(
        None,
        "--demand-scale",
        help="First attempts times this (default: the plan file's demand_scale; 1 plans for "
        "the scenario's own demand).",
    ),
) -> None:
    """Find the cheapest deployment meeting the 72-hour targets.

    Writes plan.toml, certificate.json and report.html; with [forecast] quantiles, one plan per
    quantile (in quantile-Q/) and quantiles.csv, the plans side by side. Exit status 0 once the
    plan is written, whether or not every required target certified (the certificate line, and
    certificate.json's certified, say which); 2 for a plan file or option refused.
    """
    from rich.console import Console
    from rich.markup import escape

    from bordersim import interrupts
    from bordersim.commands import given_folder, given_path
    from bordersim.errors import ScenarioError
    from bordersim.output_folders import (
        check_output_folder,
        make_work_folder,
        parents_made_for,
        replace_folder,
        write_marker,
    )
    from bordersim.planner import load_plan, plan

    console = Console(stderr=True)
    # SCENARIO "" is refused as every command's empty argument is (commands._guard_arguments);
    # an empty option (an unset variable, as in "$OUT") is the current folder as a path: --out ""
    # would write the plan there, --plan "" named ".". They are refused in every command's words.
    plan_file = given_path("--plan")(plan_given)
    out = given_folder(out_given, "--out")
    scenario = Path(scenario_given)
    if scenario.is_dir():
        raise ScenarioError("is a folder, not a scenario file", where=str(scenario))
    if not scenario.is_file():
        raise ScenarioError("no such scenario file", where=str(scenario))
    _refuse_a_plan_file_as_the_scenario(scenario)
    spec = _with_options(load_plan(plan_file), replications, certify_replications, demand_scale)
    from bordersim.planner.run import check_against_base
    from bordersim.scenario import load_scenario

    # quick; before any folder or work
    stress_option = None if demand_scale is None else "--demand-scale"
    check_against_base(load_scenario(scenario), spec, stress_option=stress_option)
    # Checked before hours of planning, and again before the folder is replaced.
    target = check_output_folder(
        out if out is not None else Path("out") / "plan" / scenario.stem,
        marker=PLAN_MARKER,
        what="plan",
    )
    # a plan records no run: an interrupt speaks of the plan and its folder
    interrupts.describe(f"the plan stopped cleanly; nothing was written to {target}")
    started = time.perf_counter()

    def progress(message: str) -> None:
        # a signal whose exception compiled code or a callback dropped ends the plan here, not
        # after minutes more of planning that then wrote the folder it says was not written
        interrupts.check()
        # one line however long (soft_wrap), so that a log read or searched line by line holds
        # every figure of the line (a seed wrapped to the next line); the message is not markup
        console.print(
            f"[dim]{time.perf_counter() - started:7.1f} s[/] {escape(message)}",
            highlight=False,
            soft_wrap=True,
        )

    with parents_made_for(target):  # plan.toml's base is relative to the folder it lies in
        work = make_work_folder(target, prefix=f".{target.name}-")
        try:
            if spec.quantiles is not None:
                from bordersim.planner.run import plan_quantiles

                results = plan_quantiles(
                    scenario, spec, out=work, progress=progress, frontier=frontier
                )
            else:
                results = [plan(scenario, spec, out=work, progress=progress, frontier=frontier)]
            write_marker(work, PLAN_MARKER, PLAN_NOTE, (p.name for p in work.iterdir()))
            check_output_folder(target, marker=PLAN_MARKER, what="plan")
            replace_folder(work, target)
        except BaseException:
            shutil.rmtree(work, ignore_errors=True)
            raise
    # from here a signal finds the plan in place: it says so, not that nothing was written
    interrupts.describe(f"the plan stopped once it was written, whole, to {target}")
    if spec.quantiles is None:
        _show(results[0], target)
    else:
        _show_quantiles(results, target)


def _refuse_a_plan_file_as_the_scenario(scenario: Path) -> None:
    """A plan file given as SCENARIO was refused for a scenario key it lacks ("period.start_date:
    required key is missing"), which did not say that the arguments were swapped."""
    import tomllib

    from bordersim.errors import ScenarioError
    from bordersim.planner.spec import looks_like_a_plan_file

    try:
        raw = tomllib.loads(scenario.read_text(encoding="utf-8"))
    except (tomllib.TOMLDecodeError, UnicodeDecodeError, OSError):
        return  # the scenario loader names what is wrong with it
    if looks_like_a_plan_file(raw):
        raise ScenarioError(
            "is a plan file, not a scenario file; give it with --plan and the base scenario as "
            "the SCENARIO argument",
            where=str(scenario),
        )


def _with_options(
    spec: PlanSpec,
    replications: int | None,
    certify_replications: int | None,
    demand_scale: float | None,
) -> PlanSpec:
    """The plan file's spec with the command line's replications and demand scale, checked."""
    from bordersim.planner import PlanError
    from bordersim.planner.spec import (
        DEMAND_SCALE_REASON,
        MAX_DEMAND_SCALE,
        MAX_REPLICATIONS,
        certify_words,
    )

    for option, count in (
        ("--replications", replications),
        ("--certify-replications", certify_replications),
    ):
        if count is not None and count > MAX_REPLICATIONS:
            raise PlanError(f"{option} {count}: must be at most {MAX_REPLICATIONS:,}")
    search = spec.search
    if replications is not None:
        if replications < 2:
            raise PlanError(f"--replications {replications}: must be at least 2")
        search = dataclasses.replace(search, replications=replications)
    if certify_replications is not None:
        from bordersim.planner.certify import minimum_replications

        least = minimum_replications(spec.targets.alpha, spec.targets.confidence)
        if certify_replications < least:
            raise PlanError(
                f"--certify-replications {certify_replications}: at least {least:,} are "
                f"needed to certify {certify_words(spec.targets)}"
            )
        search = dataclasses.replace(search, certify_replications=certify_replications)
    spec = dataclasses.replace(spec, search=search)
    for option, value in (
        ("--replications", replications),
        ("--certify-replications", certify_replications),
    ):
        if value is not None:
            _check_per_forecast_path(spec, option, value)
    if demand_scale is not None:
        if not (demand_scale > 0 and math.isfinite(demand_scale)):
            raise PlanError(f"--demand-scale {demand_scale:g}: must be a finite number above 0")
        if demand_scale > MAX_DEMAND_SCALE:
            raise PlanError(
                f"--demand-scale {demand_scale:g}: must be at most {MAX_DEMAND_SCALE:,.0f}: "
                f"{DEMAND_SCALE_REASON}"
            )
        spec = dataclasses.replace(spec, demand_scale=float(demand_scale))
    return spec


def _check_per_forecast_path(spec: PlanSpec, option: str, value: int) -> None:
    """A replication count from the command line gives every forecast path a replication; checked
    here, as the plan file's own counts are when it is read, before the paths are drawn (which
    takes a while the first time)."""
    from bordersim.planner import PlanError
    from bordersim.planner.spec import replications_per_path_rule

    if spec.forecast is not None and value < spec.forecast.paths:
        raise PlanError(
            f"{option} {value}: {replications_per_path_rule(spec.forecast.paths)}; "
            f"the plan file sets forecast.paths at {spec.location('forecast.paths')}"
        )


def _show_quantiles(results: list[PlanResult], target: Path) -> None:
    """Each quantile's plan, then where the table of them side by side is."""
    from bordersim.planner.run import QUANTILES_TABLE, quantile_folder

    for result in results:
        quantile = result.problem.spec.quantiles
        assert quantile is not None
        typer.echo(
            f"quantile {quantile.quantiles[0]:g} of the forecast from {quantile.origin:%Y-%m}:"
        )
        _show(result, target / quantile_folder(quantile.quantiles[0]))
    typer.echo(f"wrote {target / QUANTILES_TABLE}: the plans side by side")


def _show(result: PlanResult, target: Path) -> None:
    data = result.certificate_json
    from bordersim.planner.output import (
        cost_words,
        deployment_lines,
        gap_percent,
        millions,
        objective_words,
        out_of_reach_lines,
    )

    typer.echo(f"objective: {objective_words(result.problem.spec)}")
    typer.echo(
        f"plan: {cost_words(result.problem, result.x)}; lower bound "
        f"{millions(data['lower_bound_dollars'])} "
        f"({'probe' if data.get('probe_bound') else 'fluid'}); gap {gap_percent(data['gap'])}"
        + ("" if data.get("gap_proven", True) else " (not proven: people move between sectors)")
        + _bound_cut_short(result)
    )
    if data.get("within_budget") is False:
        from bordersim.planner.output import over_budget

        searched = result.outcome
        typer.echo(
            over_budget(
                result.cost,
                data["budget_dollars"],
                searched.within_budget,
                result.problem.cost(searched.x),
            )
        )
    cert = result.certificate
    typer.echo(
        f"certificate: {int((cert.certified & cert.required).sum())} of "
        f"{int(cert.required.sum())} required sector-week targets certified on {cert.n} "
        f"fresh {cert.engine}-engine replications; "
        f"{int(result.outcome.unattainable.sum())} out of reach at the caps"
        + _of_which_on_the_certifying_engine(result)
    )
    for line in out_of_reach_lines(result.problem, result.outcome, cert.engine):
        typer.echo(line)
    for line in deployment_lines(result.problem, result.x):
        typer.echo(line)
    typer.echo(
        f"wrote {target / 'plan.toml'}, {target / 'certificate.json'}, {target / 'report.html'}"
    )


def _bound_cut_short(result: PlanResult) -> str:
    """Why a gap may be wide: probe families that search.bound_seconds left unstarted (their
    cuts are missing, so the bound is weaker; it stays valid)."""
    probed = result.certificate_json.get("probe_bound") or {}
    skipped = int(probed.get("families_skipped_for_time", 0))
    if not skipped:
        return ""
    seconds = result.problem.spec.search.bound_seconds
    return (
        f" (a weaker bound: {skipped} of {probed['families']} probe families not started within "
        f"search.bound_seconds = {seconds})"
    )


def _of_which_on_the_certifying_engine(result: PlanResult) -> str:
    found = int(result.outcome.unreachable_certifying.sum())
    engine = result.certificate.engine
    return f" ({found} of them found on the {engine} engine)" if found else ""
