"""`bordersim scenario check FILE` and `bordersim scenario params`."""

from __future__ import annotations

import textwrap
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

if TYPE_CHECKING:
    from bordersim.compiler.inputs import CalibrationSource

scenario_app = typer.Typer(
    name="scenario",
    help="Validate scenario files and show the model's default parameters with their sources.",
    no_args_is_help=True,
)


def _option_calibration(given: str) -> CalibrationSource:
    """The artifact `--calibration` names, from the current folder. An error about it names the
    option once, as typed: the artifact's own error names its absolute path, and the scenario's
    would name the key the option set as well."""
    from bordersim.calibration import load_calibration
    from bordersim.errors import BordersimError

    path = Path(given).absolute()
    if given.strip().lower() == "default" and not path.exists():
        # in quotes: a space before it is not seen otherwise
        raise BordersimError(
            "no such calibration artifact (did you mean default, the shipped calibration?)",
            where=f"--calibration {given!r}",
        )
    try:
        return load_calibration(path)
    except BordersimError as err:
        message = str(err).removeprefix(f"{err.where}: ") if err.where else str(err)
        raise BordersimError(message, where=f"--calibration {given}") from None


@scenario_app.command("check")
def check(
    # read as text, so that an empty one is refused (commands._guard_arguments)
    scenario_given: Annotated[str, typer.Argument(metavar="FILE", help="Scenario TOML file.")],
    calibration: Annotated[
        str | None,
        typer.Option(
            help="Calibration artifact to compile against: a file, or default for the shipped one "
            "(default: the scenario's demand.calibration)."
        ),
    ] = None,
    quiet: Annotated[
        bool, typer.Option("--quiet", "-q", help="Print only the compiled-model summary.")
    ] = False,
) -> None:
    """Validate FILE, print the resolved scenario and a summary of the compiled model."""
    import warnings

    import numpy as np
    from rich.markup import escape
    from rich.syntax import Syntax

    from bordersim.commands.console import wide_console
    from bordersim.commands.tables import Table
    from bordersim.compiler import compile_scenario, load_calibration_for
    from bordersim.errors import BordersimError
    from bordersim.model.dimensions import SECTOR_NAMES, Pool
    from bordersim.scenario import load_scenario

    if calibration is not None and not calibration.strip():  # "." would be taken for it
        raise BordersimError(
            "is empty (an unset variable?); give an artifact, or default", where="--calibration"
        )
    # piped, a page wide enough for the whole hash and file (an 80-column page cut them)
    console = wide_console()
    file = Path(scenario_given)
    scenario = load_scenario(file)
    if calibration is not None:
        # A path typed on the command line is the user's, from where they are: not from the
        # scenario's folder, as the same key written in the file is.
        named = calibration if calibration == "default" else str(Path(calibration).absolute())
        # an error about it names the option, not the file (which may not set the key at all)
        scenario = scenario.with_changes(
            {"demand.calibration": named}, {"demand.calibration": f"--calibration {calibration}"}
        )
    if calibration is not None and calibration != "default":
        cal = _option_calibration(calibration)
    else:
        cal = load_calibration_for(scenario)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        model = compile_scenario(scenario, cal)

    if not quiet and console.is_terminal:
        console.print(Syntax(scenario.resolved_text, "toml", word_wrap=True))
    elif not quiet:
        # piped: the text as it is, a line of TOML per line (wrapped, it would be TOML no more)
        console.print(scenario.resolved_text, markup=False, highlight=False, soft_wrap=True)
    reported = slice(model.warmup_days, model.n_days)
    daily = model.first_attempts_per_day[reported].sum(axis=2)  # [D, S]
    summary = Table(title=f"scenario {scenario.name}: compiled model", show_header=False)
    summary.add_column("", style="bold")
    summary.add_column("", overflow="fold")  # a narrow terminal: the path and hash whole
    first = model.start_date
    dates = model.dates
    summary.add_row("file", escape(str(scenario.path)))  # text, not markup
    summary.add_row("hash", scenario.hash)
    summary.add_row("calibration", str(cal.version))
    summary.add_row(
        "days",
        f"{model.n_days} simulated from {first} ({model.warmup_days} warm-up), "
        f"reported {dates[model.warmup_days]} to {dates[-1]}",
    )
    summary.add_row("sectors", ", ".join(f"{s.name} ({SECTOR_NAMES[s]})" for s in model.sectors))
    t42 = model.title42_active[reported]
    summary.add_row("Title 42 in force", f"{int(t42.sum())} of {t42.size} reported days")
    summary.add_row(
        "mean daily first attempts",
        f"{daily.sum(axis=1).mean():,.0f} (peak day {daily.sum(axis=1).max():,.0f})",
    )
    summary.add_row("health module", "on" if model.health_enabled else "off")
    console.print(summary)

    from bordersim.model.dimensions import Task
    from bordersim.words import counted

    # the peak and the person-days are the reported days', the warm-up's left out
    crews = Table(
        title=f"crews in the reported period, {dates[model.warmup_days]} to {dates[-1]} "
        f"({counted(model.n_days - model.warmup_days, 'day')}; people summed over the "
        "scenario's sectors)"
    )
    for column in ("crew", "pool", "tasks", "peak headcount", "person-days in the period"):
        crews.add_column(column)

    for c, name in enumerate(model.crew_names):
        per_day = model.crew_headcount[reported, :, c].sum(axis=1)
        tasks = ", ".join(Task(int(t)).name.lower() for t in np.flatnonzero(model.crew_tasks[c]))
        crews.add_row(
            escape(name),  # a deployment's name is free text in TOML: "[/x]" is not markup
            Pool(int(model.crew_pool[c])).name.lower(),
            tasks,
            f"{per_day.max():,.0f}",
            f"{per_day.sum():,.0f}",
        )
    console.print(crews)
    for message in dict.fromkeys(str(w.message) for w in caught):  # stale fit, dates that miss
        console.print(f"[yellow]warning:[/] {escape(message)}", highlight=False, soft_wrap=True)
    console.print(f"[green]ok[/]: {escape(str(file))} is valid", soft_wrap=True)


@scenario_app.command("params")
def params(
    key: Annotated[
        str,
        typer.Argument(metavar="PREFIX", help="Only parameters whose key path starts with this."),
    ] = "",
) -> None:
    """Print every default parameter with its value and its source or assumption.

    A terminal at least 140 columns wide gets a table; a narrower one, or a pipe, gets one block
    per parameter (key = value, then its source indented), which stays readable and greppable.
    """
    from rich.console import Console
    from rich.markup import escape

    from bordersim.commands.tables import Table
    from bordersim.errors import ScenarioError
    from bordersim.scenario.loader import defaults_path, diseases_path

    rows = list(_parameter_rows(key))
    if not rows:
        from bordersim.scenario.loader import DEFAULT_DISEASE
        from bordersim.scenario.schema import DISEASE_PARAMETERS

        parameter = key.removeprefix("health.")
        if parameter != key and any(p.startswith(parameter) for p in DISEASE_PARAMETERS):
            # health's disease parameters default to those of the disease it names
            raise ScenarioError(
                f"{key} takes its default from the disease that health.disease names "
                f"({DEFAULT_DISEASE} when none): `bordersim scenario params "
                f"diseases.{DEFAULT_DISEASE}.{parameter}`"
            )
        near = _close_key_path(key)
        raise ScenarioError(
            f"no default parameter's key path starts with {key!r} "
            + (
                f"(did you mean {near!r}?); `bordersim scenario params` lists them all"
                if near
                else "(`bordersim scenario params` lists them all)"
            )
        )
    console = Console()
    diseases = [path.startswith("diseases.") for path, _, _ in rows]
    title = " and ".join(
        [f"default parameters ({defaults_path()})"] * (not all(diseases))
        + [f"diseases ({diseases_path()})"] * any(diseases)
    )
    # A pipe gets blocks even where COLUMNS says it is wide: `| grep` wants each line whole.
    if not console.is_terminal or console.width < TABLE_MIN_WIDTH:
        console.print(title, highlight=False)
        for path, value, source in rows:
            style = "yellow" if source.startswith("assumption") else ""
            console.print(f"\n[bold]{escape(path)}[/] = {escape(value)}", highlight=False)
            indented = textwrap.fill(
                source,
                width=max(console.width, 40),
                initial_indent="    ",
                subsequent_indent="    ",
            )
            console.print(escape(indented), style=style, highlight=False, soft_wrap=True)
        return
    table = Table(title=title, show_lines=False)
    table.add_column("key path", style="bold", no_wrap=True)
    table.add_column("value")
    table.add_column("source or assumption")
    for path, value, source in rows:
        style = "yellow" if source.startswith("assumption") else ""
        table.add_row(escape(path), escape(value), escape(source), style=style)
    console.print(table)


# Below this width the key column (up to 62 characters) leaves the value and source a few
# characters each.
TABLE_MIN_WIDTH = 140


def _parameter_rows(key: str) -> Iterator[tuple[str, str, str]]:
    """(key path, value, source) of every default whose key path starts with `key`."""
    from bordersim.scenario.loader import load_defaults, load_diseases

    # The diseases (defaults/diseases.toml) are listed as `diseases.<name>.<parameter>`.
    for prefix, (values, sources) in (("", load_defaults()), ("diseases.", load_diseases())):
        for path, source in sources.items():
            if not (prefix + path).startswith(key):
                continue
            node: object = values
            for part in path.split("."):
                node = node[part]  # type: ignore[index]
            yield prefix + path, _short(node), source


def _close_key_path(key: str) -> str | None:
    """The key path nearest a prefix that none starts with, part by part: a capital, a missing
    letter or a space before it, which a user does not see at once. None where a part is close
    to no name there (a long shared start would make any path look close as a whole)."""
    import difflib

    paths = [path.split(".") for path, _, _ in _parameter_rows("")]
    chosen: list[str] = []
    for part in key.strip().lower().split("."):
        depth = len(chosen)
        names = {p[depth] for p in paths if len(p) > depth and p[:depth] == chosen}
        near = difflib.get_close_matches(part, sorted(names), n=1)
        if not near:
            return None
        chosen.append(near[0])
    return ".".join(chosen)


def _short(value: object) -> str:
    if isinstance(value, dict):
        return ", ".join(f"{k}={v}" for k, v in value.items())
    if isinstance(value, list):
        return ", ".join(str(v) for v in value)
    return str(value)


def register(app: typer.Typer) -> None:
    app.add_typer(scenario_app, name="scenario")
