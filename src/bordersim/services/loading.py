"""Load and compile a scenario file for a run, and recompile a stored scenario text."""

from __future__ import annotations

import subprocess
import tempfile
import time
import warnings
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from bordersim.model.compiled import CompiledModel
    from bordersim.scenario import Scenario


def code_version() -> str:
    """The package version, with the git commit when bordersim runs from a checkout."""
    from bordersim import __version__

    try:
        commit = subprocess.run(
            ["git", "rev-parse", "--short", "HEAD"],
            cwd=Path(__file__).parent,
            capture_output=True,
            text=True,
            timeout=5,
            check=True,
        ).stdout.strip()
    except (OSError, subprocess.SubprocessError):
        return __version__
    return f"{__version__}+g{commit}" if commit else __version__


@dataclass
class LoadedScenario:
    """A scenario ready to simulate: its resolved text (what the store keeps) and its model."""

    path: Path
    text: str
    model: CompiledModel
    compile_s: float
    warnings: tuple[str, ...] = ()
    calibration: str | None = None  # the artifact's path; None: the shipped calibration


def parse_setting(option: str, flag: str = "--set") -> tuple[str, Any]:
    """``KEY=VALUE`` with the value read as TOML reads it (1.3, 2023-05-10, "text", [1, 2]); a
    bare word is a string. KEY is a key path as TOML writes one, a name holding a dot in quotes
    (``deployments."phase.1".headcount=10``). Anything else is a `ScenarioError` naming the
    option."""
    from bordersim.errors import ScenarioError
    from bordersim.scenario.loader import LOADER_KEYS, parse_key_path, split_key_and_value

    key, text = split_key_and_value(option) or ("", "")
    key, text = key.strip(), text.strip()
    if not key or not text:
        raise ScenarioError(f"{flag} {option!r}: expected KEY=VALUE (for example demand.scale=1.3)")
    try:
        parts = parse_key_path(key)
    except ScenarioError as err:
        raise ScenarioError(f"{flag} {option!r}: {err}") from None
    if parts[0] in LOADER_KEYS:  # was "unknown key (did you mean 'base'?)", the key refused
        raise ScenarioError(
            f"{flag} {option!r}: {parts[0]} is a key of a scenario file itself, not a value to "
            'set; write a variant file with base = "FILE" (docs/scenarios.md)'
        )
    return key, typed_value(text)


def typed_value(text: str) -> Any:
    """A value typed on the command line, read as TOML reads it (1500, 0.5, true, 2023-05-10,
    "text"); a bare word is a string. A whole number in exponent form, 1e3, is that whole
    number: it is written without a decimal point, which is how a whole number is told from a
    fraction, and TOML alone reads it as 1000.0, refused where a count is read. Beyond 1e15
    (1e300) it stays a float: every count has a far lower bound, which says so in a few words."""
    import tomllib

    try:
        value = tomllib.loads(f"v = {text}")["v"]
    except tomllib.TOMLDecodeError:
        return text
    written_whole = "." not in text and any(c in text for c in "eE")
    if isinstance(value, float) and value.is_integer() and abs(value) <= 1e15 and written_whole:
        return int(value)
    return value


def parse_settings(options: Iterable[str], flag: str = "--set") -> dict[str, Any]:
    """Every ``KEY=VALUE`` of a repeated option (`parse_setting`), by key. A key given twice, in
    any spelling, is refused: the last value would win without a word, where `with_changes`
    refuses a key set twice in one call."""
    from bordersim.errors import ScenarioError
    from bordersim.scenario.loader import key_path_text, parse_key_path

    settings: dict[str, Any] = {}
    typed: dict[tuple[str, ...], str] = {}  # each key path, with the option that set it
    for option in options:
        key, value = parse_setting(option, flag)
        parts = parse_key_path(key)
        if parts in typed:
            raise ScenarioError(
                f"{flag} {key_path_text(parts)} is given twice ({option} after "
                f"{typed[parts]}); give it once"
            )
        typed[parts] = option
        settings[key] = value
    return settings


def apply_settings(
    scenario: Scenario | Path, settings: Mapping[str, Any], flag: str = "--set"
) -> Scenario:
    """The scenario (or the scenario file) with every key path set to its value, validated once,
    as a whole, as the file would be: keys that belong together (a new table's required keys,
    two dates) may be set together, and a file's value that a setting replaces is not checked."""
    from bordersim.errors import ScenarioError
    from bordersim.scenario import load_scenario, with_changes
    from bordersim.scenario.resolved import load_with_changes

    if not settings:
        return load_scenario(scenario) if isinstance(scenario, Path) else scenario
    # the API's sweep (flag "vary") gives Python values; --set and --vary type TOML
    typed = flag.startswith("--")
    shown = typed_text if typed else shown_value
    places = {key: f"{flag} {key}={shown(value)}" for key, value in settings.items()}
    how: dict[str, Any] = {"python_values": not typed, "option": flag if typed else None}
    try:
        if isinstance(scenario, Path):
            return load_with_changes(scenario, settings, places, **how)
        return with_changes(scenario, settings, places, **how)
    except ScenarioError as err:
        raise ScenarioError(f"{' '.join(places.values())}: {err}") from err


def load_with_settings(path: Path, settings: Mapping[str, Any], flag: str = "--set") -> Scenario:
    """A scenario file with `settings` applied (`apply_settings`). A bad value of the file that
    no setting replaces is named as loading the file alone names it, without the settings."""
    from bordersim.errors import ScenarioError
    from bordersim.scenario import load_scenario

    try:
        as_written = load_scenario(path)
    except ScenarioError as refused:
        if not settings:
            raise
        try:
            return apply_settings(path, settings, flag)
        except ScenarioError as err:
            if str(err.__cause__) == str(refused):  # the file's own fault, not the settings'
                raise refused from None
            raise
    return apply_settings(as_written, settings, flag)


def typed_text(value: Any) -> str:
    """A value typed on the command line as it can have been typed: text that `typed_value`
    reads back as the same text bare (yes, 2023-02-30), without the quotes its repr would add;
    anything else as `shown_value` shows it."""
    if isinstance(value, str) and value and typed_value(value) == value:
        return value
    return shown_value(value)


def shown_value(value: Any) -> str:
    """A --set or --vary value as the user can type it: a date as 2023-05-10 (not Python's
    datetime.date(2023, 5, 10)), a table as {RGV=0, TCA=0} (not {'RGV': 0, 'TCA': 0}), anything
    else as its repr ('text', 1.3, [1, 2])."""
    import datetime as dt

    if isinstance(value, dt.date | dt.time):
        return value.isoformat()
    if isinstance(value, dict):
        return "{" + ", ".join(f"{key}={shown_value(item)}" for key, item in value.items()) + "}"
    return repr(value)


def load_and_compile(path: Path, settings: Mapping[str, Any] | None = None) -> LoadedScenario:
    """Load, validate and compile a scenario file, with `settings` (key path -> value) applied;
    any problem is a `BordersimError`."""
    from bordersim.compiler import compile_scenario
    from bordersim.errors import ScenarioError
    from bordersim.input_files import MIB, check_regular_file

    if not path.exists() and not path.is_symlink():
        raise ScenarioError("no such scenario file", where=str(path))
    check_regular_file(path, what="scenario file", error=ScenarioError, limit=MIB)
    started = time.perf_counter()
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        scenario = load_with_settings(path, settings or {})
        model = compile_scenario(scenario)
    model.check()
    ref = scenario.demand.calibration
    return LoadedScenario(
        path,
        scenario.resolved_text,
        model,
        time.perf_counter() - started,
        tuple(dict.fromkeys(str(w.message) for w in caught)),
        None if ref == "default" else str(scenario.relative_path(ref, "demand.calibration")),
    )


def compile_loaded(scenario: Scenario) -> LoadedScenario:
    """Compile a scenario already loaded (perhaps changed in memory), keeping its warnings."""
    from bordersim.compiler import compile_scenario

    started = time.perf_counter()
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        model = compile_scenario(scenario)
    model.check()
    return LoadedScenario(
        scenario.path,
        scenario.resolved_text,
        model,
        time.perf_counter() - started,
        tuple(dict.fromkeys(str(w.message) for w in caught)),
    )


def sources_from_text(text: str) -> tuple[dict[str, str], str]:
    """Parameter sources of a stored scenario text, by loading it again (best effort).

    The text is compiled again when it can be; a scenario that names files beside its original
    location (a demand fit) is only loaded, which gives the sources of everything but those files.
    """
    from bordersim.scenario import load_scenario

    if not text:
        return {}, "The store holds no scenario text for this run."
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "scenario.toml"
        path.write_text(text, encoding="utf-8")
        try:
            return dict(load_and_compile(path).model.sources), ""
        except Exception as compile_error:  # the report still shows the text itself
            try:
                sources = dict(load_scenario(path).sources)
            except Exception as err:
                return {}, (
                    "The stored scenario no longer loads with this bordersim "
                    f"({_as_stored(err, path)})."
                )
            return sources, (
                "Sources of the scenario's own parameters; those of its calibration and demand "
                f"fit are in the run's original report ({_as_stored(compile_error, path)})."
            )


def _as_stored(err: Exception, copy: Path) -> str:
    """An error about the temporary copy of a stored scenario text, naming the stored text
    instead: the copy's path is no file of the user's, and is gone when they read it."""
    return (
        str(err)
        .replace(str(copy), "the stored scenario text")
        .replace(str(copy.parent), "the stored scenario's folder")
    )
