"""Every `bordersim` command line the README and docs/ show names a command that exists, options
that command takes, and shipped files that exist, and every file of the repository their prose
names (and every `python -m` module) exists: the docs cannot drift from the CLI or the layout
unseen.

The lines are taken from the shell and console blocks (a `\\` continues a line, `#` starts a
comment) and from inline code spans that start with `bordersim `. Placeholders (`...`,
`RUN_ID`, `scenarios/variants/NAME.toml`) and the user's own files are passed over; a path under
`scenarios/`, `plans/` or `docs/` must be a file of the repository, or one the same page has the
reader save ("saved as `scenarios/...`").
"""

from __future__ import annotations

import os
import re
import shlex
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import typer

from doc_pages import PAGES, SHELL, block_pattern, page_text, prose
from repo_paths import REPO

SHELL_BLOCK = block_pattern(*SHELL)
INLINE = re.compile(r"`((?:\.venv/bin/)?bordersim [^`]+)`")
#: Folders whose files the docs name as shipped (a user's own paths live elsewhere).
SHIPPED = ("scenarios/", "plans/", "docs/")
SAVED_AS = re.compile(r"saved as `([^`]+)`")
PLACEHOLDER = re.compile(r"\b[A-Z][A-Z_]+\b")  # NAME, RUN_ID: a value the reader fills in
REPO_PATH = re.compile(r"(?<![\w/.<-])((?:src|tests|bench|scenarios|plans|docs|\.ci)/[\w./<>*-]+)")
MODULE = re.compile(r"python -m ((?:bench|bordersim)\.[\w.]+)")
MAKE = re.compile(r"^(?:\$ )?make ([\w-]+)", re.M)  # a `make` line of a command block
MAKE_TARGETS = frozenset(re.findall(r"^([\w-]+):", (REPO / "Makefile").read_text(), re.M))
#: Folders that bordersim makes when it first needs them.
MADE_WHEN_NEEDED = {"scenarios/variants/": "the workbench saves variants there"}


@dataclass(frozen=True)
class Shown:
    """One command line as a page shows it."""

    page: str
    line: int
    text: str
    saved: frozenset[str] = frozenset()  # the files the page has the reader save

    def __str__(self) -> str:
        return f"{self.page}:{self.line}: {self.text}"


def _saved(page: str | Path) -> frozenset[str]:
    return frozenset(SAVED_AS.findall(page_text(page)))


def _shell_lines(page: str) -> list[Shown]:
    text = page_text(page)
    shown = []
    for block in SHELL_BLOCK.finditer(text):
        first_line = text.count("\n", 0, block.start(1)) + 1
        pending, start = "", 0
        for offset, raw in enumerate(block.group(1).splitlines()):
            line = raw.strip()
            if not pending:
                start = first_line + offset
                line = line.removeprefix("$ ")
            if line.endswith("\\"):
                pending += line[:-1] + " "
                continue
            command = (pending + line).strip()
            pending = ""
            for part in command.split("; "):  # `bordersim runs; bordersim export ...`
                if part.startswith(("bordersim ", ".venv/bin/bordersim ")):
                    shown.append(Shown(Path(page).name, start, part, _saved(page)))
    return shown


def _inline_spans(page: str) -> list[Shown]:
    outside_blocks, name = prose(page), Path(page).name
    return [
        Shown(name, outside_blocks.count("\n", 0, m.start()) + 1, m.group(1), _saved(page))
        for m in INLINE.finditer(outside_blocks)
    ]


def shown_commands() -> list[Shown]:
    return [shown for page in PAGES for shown in (*_shell_lines(page), *_inline_spans(page))]


def _cli() -> Any:
    """The `bordersim` command as Typer builds it (a group of groups and commands)."""
    from bordersim.cli import _register, app

    _register()
    return typer.main.get_command(app)


def _tokens(text: str) -> list[str]:
    try:
        tokens = shlex.split(text, comments=True)
    except ValueError:  # an unclosed quote in prose: take the words as they are
        tokens = text.split()
    return tokens[1:]  # after `bordersim`


def problems(shown: Shown, cli: Any) -> list[str]:
    """What in one command line does not match the CLI or the repository ([] if all does)."""
    command = cli
    tokens = _tokens(shown.text)
    while hasattr(command, "commands") and tokens and not tokens[0].startswith("-"):
        if tokens[0] == "...":
            return []
        found = command.commands.get(tokens[0])
        if found is None:
            return [f"no command {tokens[0]!r}"]
        command, tokens = found, tokens[1:]
    from bordersim.cli import HELP_OPTION_NAMES  # -h and --help, which every command takes

    taken = {name for p in command.params for name in (*p.opts, *p.secondary_opts)}
    options = set(HELP_OPTION_NAMES) | taken
    found_problems = []
    for token in tokens:
        if token.startswith("-") and token != "-":
            name = token.split("=", 1)[0]
            if name not in options:
                found_problems.append(f"{command.name} has no option {name}")
        elif token.startswith(SHIPPED) and not token.endswith("/"):
            path = token.split("=", 1)[0]
            if PLACEHOLDER.search(path) or "*" in path or path in shown.saved:
                continue
            if not (REPO / path).exists():
                found_problems.append(f"no file {path} in the repository")
    return found_problems


def missing_paths(page: str | Path) -> list[str]:
    """The repository paths and modules the page's prose and command blocks name, and the `make`
    targets its command blocks run, that do not exist."""
    text, saved, name = prose(page, keep=SHELL), _saved(page), Path(page).name
    missing = []
    for match in REPO_PATH.finditer(text):
        path = match.group(1).rstrip(".,:;")
        placeholder = re.search(r"[<*]", path) or PLACEHOLDER.search(path)
        if placeholder or path in saved or path in MADE_WHEN_NEEDED:
            continue
        if not (REPO / path).exists():
            missing.append(f"{name}:{text.count(chr(10), 0, match.start()) + 1}: {path}")
    for match in MODULE.finditer(text):
        module = match.group(1).rstrip(".")
        base = module.replace(".", "/")
        places = [REPO / f"{base}.py", REPO / base / "__main__.py", REPO / "src" / f"{base}.py"]
        places.append(REPO / "src" / base / "__main__.py")
        if not any(place.exists() for place in places):
            missing.append(f"{name}:{text.count(chr(10), 0, match.start()) + 1}: {module}")
    for match in MAKE.finditer(text):
        if match.group(1) not in MAKE_TARGETS:
            line = text.count(chr(10), 0, match.start()) + 1
            missing.append(f"{name}:{line}: make {match.group(1)}")
    return missing


def test_every_repository_path_the_docs_name_exists() -> None:
    named = sum(len(REPO_PATH.findall(prose(page))) for page in PAGES)
    assert named > 200  # the pattern still finds the docs' paths
    missing = [line for page in PAGES for line in missing_paths(page)]
    assert not missing, "\n".join(missing)


def test_the_docs_show_command_lines() -> None:
    shown = shown_commands()
    pages = {s.page for s in shown}
    assert len(shown) > 100 and {"README.md", "running.md", "planner.md"} <= pages


def test_every_command_line_in_the_docs_matches_the_cli() -> None:
    cli = _cli()
    wrong = [
        f"{shown} -> {'; '.join(p)}" for shown in shown_commands() if (p := problems(shown, cli))
    ]
    assert not wrong, "\n".join(wrong)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("bordersim run scenarios/examples/small.toml --replications 2", []),
        ("bordersim run scenarios/examples/small.toml --replicatons 2", ["run has no option"]),
        ("bordersim simulate scenarios/examples/small.toml", ["no command 'simulate'"]),
        ("bordersim data import newer.xlsx --bogus", ["import has no option --bogus"]),
        ("bordersim run scenarios/missing.toml", ["no file scenarios/missing.toml"]),
        ("bordersim run scenarios/variants/NAME.toml", []),
        ("bordersim --help", []),
        ("bordersim sweep ... --cluster local:2", []),
        ("bordersim export RUN_ID --format=csv --out run.csv  # a comment --not-an-option", []),
    ],
)
def test_the_checker_finds_what_is_wrong(text: str, expected: list[str]) -> None:
    found = problems(Shown("test", 1, text), _cli())
    assert len(found) == len(expected)
    for problem, start in zip(found, expected, strict=True):
        assert problem.startswith(start), problem


def test_the_path_check_finds_what_is_missing(tmp_path: Path) -> None:
    page = tmp_path / "page.md"
    page.write_text(
        "See `src/bordersim/cli.py`, `src/bordersim/gone.py`, `bench/results/flow-<host>.json`,\n"
        "`python -m bench.sweep`, `python -m bench.nothing` and `scenarios/variants/`;\n"
        "saved as `scenarios/mine.toml`, run `scenarios/mine.toml`.\n"
        "```sh\nbordersim run scenarios/in-a-block.toml\npython -m bench.gone  # a comment\n"
        "make test\nmake tests\n```\n"
        "```\nsrc/bordersim/shown-output.py\n```\n",
        encoding="utf-8",
    )
    assert missing_paths(page) == [
        "page.md:1: src/bordersim/gone.py",
        "page.md:5: scenarios/in-a-block.toml",  # a command block's paths and modules count...
        "page.md:2: bench.nothing",
        "page.md:6: bench.gone",
        "page.md:8: make tests",
    ]  # ...an output block's do not


def _commands(group: Any, path: tuple[str, ...] = ()) -> list[tuple[str, Any]]:
    """Every command of the CLI as (`bordersim` and its path, the command); groups included."""
    found = [(" ".join(("bordersim", *path)), group)]
    for name, command in getattr(group, "commands", {}).items():
        found += _commands(command, (*path, name))
    return found


def undocumented(cli: Any, text: str) -> list[str]:
    """The commands that `text` never shows (as `bordersim PATH`) and the options it never names
    by a long name (`--frontier` or `--no-frontier`; a short `-o` alone is too easily another
    tool's flag)."""
    missing = []
    for path, command in _commands(cli):
        if not re.search(rf"{re.escape(path)}(?![\w-])", text):
            missing.append(f"command {path!r}")
        for param in command.params:
            names = [n for n in (*param.opts, *param.secondary_opts) if n.startswith("-")]
            if not names or names == ["--help"]:
                continue  # an argument, or Typer's own --help
            names = [n for n in names if n.startswith("--")] or names
            if not any(re.search(rf"(?<![\w-]){re.escape(n)}(?![\w-])", text) for n in names):
                missing.append(f"{path} {'/'.join(names)}")
    return missing


def test_every_command_and_option_is_documented() -> None:
    """`bordersim COMMAND --help` lists nothing that the README and docs/ do not name."""
    text = "\n".join(page_text(page) for page in PAGES)
    missing = undocumented(_cli(), text)
    assert not missing, "not in the README or docs/: " + ", ".join(missing)


def test_the_documentation_check_finds_what_is_missing() -> None:
    text = "`bordersim run --replications`, `bordersim plan --no-frontier`, `bordersim runs -r`"
    missing = undocumented(_cli(), text)
    assert "command 'bordersim run'" not in missing
    assert "command 'bordersim report'" in missing  # `bordersim run` is not `bordersim runs`...
    assert "command 'bordersim runs'" not in missing  # ...and `runs` is named
    assert "bordersim run --seed" in missing and "bordersim run --replications" not in missing
    assert "bordersim runs --repair" in missing
    assert "bordersim plan --frontier/--no-frontier" not in missing


def test_the_readmes_layout_names_every_package() -> None:
    """The README's layout block lists each folder of `src/bordersim/`, and only those."""
    layout = re.search(r"^```\nsrc/bordersim/\n(.*?)^bench/", page_text("README.md"), re.M | re.S)
    assert layout is not None, "the README has no layout block"
    body = layout.group(1)
    named = set(re.findall(r"(?<![\w/])(\w+)/ ", body))
    package = REPO / "src" / "bordersim"
    folders = {p.name for p in package.iterdir() if p.is_dir()} - {"__pycache__"}
    assert named == folders, f"missing: {folders - named}, not folders: {named - folders}"


#: `python -m MODULE ARGS`: a code span (over a line break too) or a line of a command block.
MODULE_LINE = re.compile(
    r"`[^`]*?python -m ((?:bench|bordersim)\.[\w.]+)([^`]*)`"
    r"|^(?:\$ )?python -m ((?:bench|bordersim)\.[\w.]+)([^\n]*)",
    re.M,
)


def module_flags() -> dict[str, set[str]]:
    """The flags the docs give each `python -m` module (comments left out)."""
    flags: dict[str, set[str]] = {}
    for page in PAGES:
        for found in MODULE_LINE.finditer(prose(page, keep=SHELL)):
            match = (found.group(1), found.group(2)) if found.group(1) else found.group(3, 4)
            named = re.findall(r"(?<![\w-])(--[\w-]+)", match[1].split("#")[0])
            flags.setdefault(match[0], set()).update(named)
    return {module: named for module, named in flags.items() if named}


@pytest.mark.slow
def test_every_flag_the_docs_give_a_module_exists() -> None:
    """`python -m bench.flow --gpu-replications ...`: each flag is in the module's `--help`."""
    flags = module_flags()
    assert {"bench.flow", "bench.sweep", "bordersim.fitting.release_wait"} <= set(flags)
    wrong = []
    for module, named in sorted(flags.items()):
        done = subprocess.run(
            [sys.executable, "-m", module, "--help"],
            capture_output=True,
            text=True,
            timeout=300,
            check=False,
        )
        assert done.returncode == 0, f"{module} --help: {done.stderr[-1000:]}"
        taken = set(re.findall(r"(?<![\w-])(--[\w-]+)", done.stdout))
        wrong += [f"{module} {flag}" for flag in sorted(named - taken)]
    assert not wrong, "flags the modules do not take: " + ", ".join(wrong)


#: Flags of other tools the docs quote (XLA's, SLURM's), with the tool.
OTHER_TOOLS_FLAGS = re.compile(r"--xla_\w+|--gres\b")


def test_every_flag_the_docs_name_is_an_option() -> None:
    """A `--flag` anywhere in the README and docs/ (prose included: "with `--no-frontier`") is an
    option of a `bordersim` command, or a flag the docs give a `python -m` module (checked against
    the module by the test above), or another tool's."""
    options = {
        name
        for _, command in _commands(_cli())
        for param in command.params
        for name in (*param.opts, *param.secondary_opts)
    }
    known = options | {flag for flags in module_flags().values() for flag in flags} | {"--help"}
    unknown = [
        f"{Path(page).name}:{page_text(page).count(chr(10), 0, m.start()) + 1}: {m.group(1)}"
        for page in PAGES
        for m in re.finditer(r"(?<![\w-])(--[a-z][\w-]*)", page_text(page))
        if m.group(1) not in known and not OTHER_TOOLS_FLAGS.fullmatch(m.group(1))
    ]
    assert not unknown, "\n".join(unknown)


def _help_texts(cli: Any) -> list[tuple[str, str]]:
    """Every help text of the CLI (a command's, and each of its options' and arguments'), with
    where it is."""
    texts = []
    for path, command in _commands(cli):
        texts.append((path, command.help or ""))
        texts += [
            (f"{path} {param.name}", getattr(param, "help", None) or "") for param in command.params
        ]
    return texts


def test_help_texts_lose_no_text_to_markup() -> None:
    """`--help` renders help texts as Rich markup, in which `[forecast]` is a style tag, dropped:
    `bordersim plan --help` said "optionally  paths or quantiles". Every bracket a help text means
    to show is escaped, so each shows as written."""
    from rich.text import Text

    lost = [
        f"{where}: {text!r}"
        for where, text in _help_texts(_cli())
        if Text.from_markup(text).plain != text.replace("\\[", "[")
    ]
    assert not lost, "\n".join(lost)
    shown = subprocess.run(
        [sys.executable, "-m", "bordersim", "plan", "--help"],
        env={**os.environ, "COLUMNS": "200", "NO_COLOR": "1"},
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    assert "optionally [forecast] paths or quantiles" in shown
    assert "with [forecast] quantiles, one plan per quantile" in shown


def test_every_option_and_argument_says_what_it_is() -> None:
    """`bordersim compare --help` listed `--replications` and `--seed` with nothing beside them (not
    even the default, which comes from a stored run if one side is one); every option and argument
    of every command now has a help text."""
    silent = [
        f"{path} {'/'.join(param.opts)}"
        for path, command in _commands(_cli())
        for param in command.params
        if not (getattr(param, "help", None) or "").strip()
    ]
    assert not silent, "no help text: " + ", ".join(silent)


TABLE_RULE = re.compile(r"^\|(?:\s*:?-+:?\s*\|)+\s*$")


def broken_tables(page: str | Path) -> list[str]:
    """The table rows of a page (outside its fenced blocks) that do not render as rows of a
    table: a run of `|` lines whose second is not the header's rule, or a row glued under a
    paragraph (Markdown reads it as the paragraph's text)."""
    lines, name, broken = prose(page).split("\n"), Path(page).name, []
    for number, line in enumerate(lines):
        if not line.startswith("|") or (number and lines[number - 1].startswith("|")):
            continue  # not the first line of a run of rows
        after = lines[number + 1] if number + 1 < len(lines) else ""
        if number and lines[number - 1].strip():
            broken.append(f"{name}:{number + 1}: a row under a paragraph: {line[:60]}")
        elif not TABLE_RULE.match(after):
            broken.append(f"{name}:{number + 1}: a table without its header rule: {line[:60]}")
    return broken


def test_every_table_renders_as_a_table() -> None:
    """docs/event-engine.md's table of the hour's steps lost its last row (step 11, the cost and
    the hour's metrics) under the paragraph after it, where it showed as text."""
    broken = [line for page in PAGES for line in broken_tables(page)]
    assert not broken, "\n".join(broken)


def test_the_table_check_finds_a_row_out_of_place(tmp_path: Path) -> None:
    page = tmp_path / "page.md"
    page.write_text(
        "| a | b |\n| --- | --- |\n| 1 | 2 |\n\nText.\n| 3 | 4 |\n\n| c |\n| d |\n"
        "```\n| shown | output |\n```\n",
        encoding="utf-8",
    )
    assert broken_tables(page) == [
        "page.md:6: a row under a paragraph: | 3 | 4 |",
        "page.md:8: a table without its header rule: | c |",
    ]


def test_no_help_text_repeats_the_default_shown_beside_it() -> None:
    """`bordersim calibrate --help` said "(default 24). [default: 24]": a help text that gives its
    option's default in words is left alone by Typer only where the default is not shown."""
    twice = [
        f"{path} {'/'.join(param.opts)}: {param.help!r}"
        for path, command in _commands(_cli())
        for param in command.params
        if re.search(r"\(default:? [^)]*\)", getattr(param, "help", None) or "")
        and param.default not in (None, False, [], ())
        and getattr(param, "show_default", True) is not False
    ]
    assert not twice, "\n".join(twice)


def test_every_argument_is_named_as_the_docs_name_it() -> None:
    """`bordersim fit` without its scenario said "Missing argument 'scenario_file'" (and its usage
    line `{scenario_file}`), the name of a variable in the code, where the docs write `bordersim
    fit SCENARIO`; every argument now has a name in capitals, as the docs give them (SCENARIO,
    RUN_ID, FILE, SOURCE DEST)."""
    unnamed = [
        f"{path} {param.name} ({param.metavar!r})"
        for path, command in _commands(_cli())
        for param in command.params
        if param.param_type_name == "argument"
        and not (param.metavar and re.fullmatch(r"[A-Z][A-Z_]*", param.metavar))
    ]
    assert not unnamed, "arguments without a name in capitals: " + ", ".join(unnamed)
    refused = subprocess.run(
        [sys.executable, "-m", "bordersim", "fit"],
        env={**os.environ, "COLUMNS": "200", "NO_COLOR": "1"},
        capture_output=True,
        text=True,
        check=False,
    )
    assert refused.returncode == 2
    assert "error: fit: SCENARIO is missing (see bordersim fit --help)" in refused.stderr


def test_every_output_option_says_where_its_files_go_by_default() -> None:
    """`bordersim forecast --help` gave `--out` as "Folder for backtest.csv, forecast.csv and
    report.html." with no default, though a forecast writes to out/forecast without it (and a
    back-test writes nothing); every optional output option now says what happens without it."""
    silent = [
        f"{path} {param.opts[0]}: {param.help!r}"
        for path, command in _commands(_cli())
        for param in command.params
        if set(param.opts) & {"--out", "--output"}
        and not param.required
        and param.default is None
        and not re.search(r"default|without --out|only with --out", param.help or "")
    ]
    assert not silent, "\n".join(silent)


def test_compares_options_say_where_their_defaults_come_from() -> None:
    """`bordersim compare --help` gave --engine without its default, which is a stored run's
    engine when one side is a run id (else event), as --replications and --seed now say theirs."""
    compare = _cli().commands["compare"]
    helps = {param.opts[0]: param.help or "" for param in compare.params}
    for option in ("--replications", "--seed", "--engine"):
        assert "(default: a stored run's, else " in helps[option], option


def test_the_readme_names_every_command_that_takes_set() -> None:
    """The README gave --set as an option of run, compare and sweep; validate takes it too."""
    readme = " ".join((REPO / "README.md").read_text(encoding="utf-8").split())
    listed = re.search(r"`--set KEY=VALUE` \(on ([^)]*?), repeatable", readme)
    assert listed is not None, "the README no longer says which commands take --set"
    named = {f"bordersim {name}" for name in re.findall(r"`([a-z-]+)`", listed.group(1))}
    taking = {
        path
        for path, command in _commands(_cli())
        if any("--set" in param.opts for param in getattr(command, "params", []))
    }
    assert named == taking


def _extra_only(extra: str) -> set[str]:
    """The import names of the packages that only the pyproject's `extra` installs (neither the
    dependencies nor the `dev` extra that `make setup` installs)."""
    import tomllib

    project = tomllib.loads((REPO / "pyproject.toml").read_text(encoding="utf-8"))["project"]
    installed = [*project["dependencies"], *project["optional-dependencies"]["dev"]]

    def names(requirements: list[str]) -> set[str]:
        return {re.split(r"[\s<>=!~\[;]", r, maxsplit=1)[0].lower() for r in requirements}

    return names(project["optional-dependencies"][extra]) - names(installed)


def modules_needing_the_bench_extra() -> set[str]:
    """The `bench` modules that import a package only the `bench` extra installs."""
    packages = "|".join(sorted(_extra_only("bench")))
    imports = re.compile(rf"^\s*(?:import|from) (?:{packages})\b", re.M)
    return {
        f"bench.{path.stem}"
        for path in (REPO / "bench").glob("*.py")
        if imports.search(path.read_text(encoding="utf-8"))
    }


def test_a_benchmark_that_needs_the_bench_extra_says_so_where_the_docs_run_it() -> None:
    """`make setup` installs the `dev` extra only: a page that runs `python -m bench.plan` (Optuna,
    Nevergrad) says how to install the `bench` extra, or the reader meets an ImportError after the
    planner's minutes of work."""
    needing = modules_needing_the_bench_extra()
    assert "bench.plan" in needing
    silent = [
        f"{page}: python -m {module}"
        for page in PAGES
        for module in sorted(needing)
        if re.search(rf"python -m {re.escape(module)}(?![\w.])", page_text(page))
        and ".[bench]" not in page_text(page)
    ]
    assert not silent, "run without saying `pip install -e '.[bench]'`: " + ", ".join(silent)
