"""`Scenario`: a validated scenario with where it came from, its resolved text and its hash."""

from __future__ import annotations

import copy
import datetime as dt
import hashlib
import types
import typing
from collections.abc import Collection, Mapping
from pathlib import Path
from typing import Any

import numpy as np
import pydantic
from pydantic import PrivateAttr

from bordersim.errors import ScenarioError
from bordersim.input_files import resolve
from bordersim.scenario import loader
from bordersim.scenario.schema import Headcount, ScenarioSpec
from bordersim.scenario.toml_text import dumps, toml_value


class Scenario(ScenarioSpec):
    """A scenario, defaults merged and validated.

    ``path`` is the file it was loaded from; ``resolved_text`` is the whole scenario as TOML, every
    value included (defaults too), so that it can be re-run exactly; ``hash`` is the sha256 of
    that text; ``sources`` maps each parameter's key path to its source or assumption.
    """

    _path: Path = PrivateAttr()
    _sources: dict[str, str] = PrivateAttr(default_factory=dict)
    _origins: dict[tuple[str, ...], Path] = PrivateAttr(default_factory=dict)
    _merged: dict[str, Any] = PrivateAttr(default_factory=dict)
    _resolved_text: str = PrivateAttr(default="")
    _changes: dict[str, Any] = PrivateAttr(default_factory=dict)
    # where each changed key path's value was given ("--set KEY=VALUE"); None: not said
    _given: dict[tuple[str, ...], str | None] = PrivateAttr(default_factory=dict)

    @property
    def path(self) -> Path:
        return self._path

    @property
    def sources(self) -> dict[str, str]:
        return dict(self._sources)

    @property
    def resolved_text(self) -> str:
        return self._resolved_text

    @property
    def changes(self) -> dict[str, Any]:
        """The values set over the file by `with_changes` (dotted key path -> value), in the
        order that gives this scenario when applied again to the file's: what a sweep records
        so that `--resume` rebuilds the scenario it ran (a ``--set``, for example)."""
        return copy.deepcopy(self._changes)

    @property
    def hash(self) -> str:
        return hashlib.sha256(self._resolved_text.encode("utf-8")).hexdigest()

    @property
    def fit_hash(self) -> str:
        """The sha256 of the resolved text without ``demand.fit``: what a demand fit records as
        the scenario it was made on (`bordersim fit`), and what compiling compares it with.

        The fit file is what a fit makes, not what it is made from (fitting ignores the scenario's
        own fit), so how the scenario names it (relative or absolute, ``./`` or ``..``) does not
        change this hash; any other value does. A scenario without a fit key has its `hash`."""
        data = self.model_dump(mode="python")
        data["demand"]["fit"] = None  # None is left out of the text, as an unset key is
        return hashlib.sha256(_resolved(self.name, data).encode("utf-8")).hexdigest()

    def file_of(self, key_path: str) -> Path:
        """The file that set `key_path` (the defaults file for a default)."""
        return loader.origin_of(_parts(key_path), self._origins)

    def sets(self, key_path: str) -> bool:
        """Whether a scenario file, or a change over one, sets `key_path` (not the defaults)."""
        return self.file_of(key_path) != loader.defaults_path()

    def location(self, key_path: str) -> str:
        """'FILE, line N' where `key_path` is set (the line where it can be found); for a value
        changed over the file, where it was given (``--set KEY=VALUE``), else the file without a
        line (the file's line holds the value it replaced). A table with values changed inside
        it is named by where those were given (``--set demand.forecast.origin=2023-04`` for
        ``demand.forecast``), as they are what made it what it is."""
        loc = _parts(key_path)
        file = loader.origin_of(loc, self._origins)
        for changed, given in reversed(self._given.items()):
            if loc[: len(changed)] == changed:
                return given if given is not None else str(file)
        inside = [given for changed, given in self._given.items() if changed[: len(loc)] == loc]
        if inside:
            named = [given for given in dict.fromkeys(inside) if given is not None]
            return " ".join(named) if named else str(file)
        return f"{file}{loader.line_of(file, loc)}"

    def with_changes(
        self, changes: Mapping[str, Any], given: Mapping[str, str] | None = None
    ) -> Scenario:
        """A re-validated copy with the values at dotted key paths changed, for example
        ``{"deployments.title42_active_duty.duration_days": 180}`` (a name holding a dot in
        quotes, as TOML writes it: ``{'deployments."phase.1".headcount': 10}``); a bad value or
        unknown key is the loader's one-line `ScenarioError`, naming the key path. `given` says
        where a key path's value came from (``--set KEY=VALUE``): later errors about it name that
        place. Without `given` the values are Python's, and a refusal says the Python value to
        pass (``datetime.date(2023, 5, 31)``, not how a TOML file writes it)."""
        return with_changes(self, changes, given, python_values=given is None)

    def __repr__(self) -> str:
        """One line: name, period, sectors, deployments, changes and the file, not every value
        (``resolved_text`` has them all)."""
        return f"Scenario({self._summary()})"

    def __str__(self) -> str:
        return repr(self)

    def __hash__(self) -> int:
        """The hash of its resolved text, which equal scenarios share: pydantic's hash of a
        frozen model hashes the fields, and a list among them made `hash(scenario)` (a dict
        key, a set) "TypeError: unhashable type: 'list'"."""
        return hash(self._resolved_text)

    def _summary(self) -> str:
        deployments = ", ".join(self.deployments) if self.deployments else "none"
        changes = ", ".join(f"{key} = {_written(value)}" for key, value in self._changes.items())
        changes = changes if len(changes) <= 200 else changes[:197] + "..."
        changed = f", with {changes}" if changes else ""
        path = getattr(self, "_path", None)  # a Scenario validated by hand has no file
        source = f", from {path}" if path is not None else ""
        return (
            f"{self.name!r}, {self.period.start_date} to {self.period.end_date} "
            f"(warm-up {self.period.warmup_days} days), sectors {' '.join(self.sectors)}, "
            f"deployments: {deployments}{changed}{source}"
        )

    def check_unchanged(self) -> None:
        """Refuse a scenario whose values were changed in place since it was validated (a list
        or a table inside it, ``sc.sectors.append("EPT")``: the model's fields are frozen, their
        lists and tables are not), which would simulate values that were never validated, under
        the hash and resolved text of others."""
        now = _resolved(self.name, self.model_dump(mode="python"))
        if now == self._resolved_text:
            return
        table, shown = "", ""
        for old, new in zip(self._resolved_text.splitlines(), now.splitlines(), strict=False):
            header = new.startswith("[")
            if old != new:
                at = f"{table} " if table and not header else ""
                shown = f" ({at}{_clipped(new)}, was {_clipped(old)})"
                break
            table = new if header else table
        raise ScenarioError(
            f"this Scenario was changed in place after it was loaded{shown}; use "
            "scenario.with_changes({key path: value}), which gives a validated copy",
            where=str(self.path),
        )

    def relative_path(self, value: str, key_path: str) -> Path:
        """A path written in a scenario, resolved against the file that wrote it."""
        where = self.location(key_path)
        path = loader.expanded_path(value, given=f"{key_path} = {value!r}", where=where)
        if not path.is_absolute():
            path = self.file_of(key_path).parent / path
        return resolve(path, what=key_path, error=ScenarioError, where=where)


def _clipped(line: str, limit: int = 50) -> str:
    line = line.strip()
    return line if len(line) <= limit else line[: limit - 3] + "..."


def _written(value: Any) -> str:
    """A changed value as a scenario file writes it (2023-05-20, not datetime.date(...))."""
    try:
        return toml_value(value)
    except TypeError:
        return repr(value)


def build(
    merged: dict[str, Any],
    *,
    path: Path,
    sources: dict[str, str],
    origins: dict[tuple[str, ...], Path],
    changed: Collection[tuple[str, ...]] = (),
    new_entries: Mapping[tuple[str, ...], Collection[str]] | None = None,
    python_values: bool = False,
    option: str | None = None,
) -> Scenario:
    """Validate merged data into a `Scenario` (one `ScenarioError` if anything is wrong; a bad
    value among the `changed` key paths is named without a line of the file, a named entry that
    the changes made without its required keys as a likely misspelling; with `python_values`, a
    bad changed value is told the Python value to pass; with `option` (``--set``), how to type
    it)."""
    try:
        scenario = Scenario.model_validate(merged)
    except pydantic.ValidationError as err:
        raise loader.validation_error(
            err, origins, path, changed, new_entries, python_values=python_values, option=option
        ) from None
    scenario._path = path
    scenario._sources = sources
    scenario._origins = origins
    scenario._merged = merged
    # The text depends on the content only (not on the file's name or place), so that the same
    # scenario hashes the same wherever it is run from.
    scenario._resolved_text = _resolved(scenario.name, scenario.model_dump(mode="python"))
    return scenario


def _resolved(name: str, data: dict[str, Any]) -> str:
    """The resolved text of a scenario's values (`Scenario.resolved_text`)."""
    return f"# resolved scenario {name!r}: defaults, base chain and file merged\n" + dumps(data)


def load_scenario(path: str | Path) -> Scenario:
    """Load, merge (defaults <- base chain <- file) and validate a scenario file."""
    file = Path(path)
    merged, sources, origins, new_entries = loader.merge_chain(file)
    return build(
        merged, path=file.resolve(), sources=sources, origins=origins, new_entries=new_entries
    )


def load_with_changes(
    path: str | Path,
    changes: Mapping[str, Any],
    given: Mapping[str, str] | None = None,
    *,
    python_values: bool = False,
    option: str | None = None,
) -> Scenario:
    """A scenario file with values set over it (`with_changes`), merged and validated once: a
    value of the file that a change replaces is never checked on its own, as the change is what
    the scenario holds."""
    file = Path(path)
    merged, sources, origins, new_entries = loader.merge_chain(file)
    as_merged = Scenario.model_construct()  # not validated: with_changes validates the whole
    as_merged._path = file.resolve()
    as_merged._sources = sources
    as_merged._origins = origins
    as_merged._merged = merged
    return with_changes(
        as_merged,
        changes,
        given,
        python_values=python_values,
        option=option,
        new_entries=new_entries,
    )


def vary(scenario: Scenario, key_path: str, value: Any) -> Scenario:
    """A copy of `scenario` with one value changed (for sweeps), re-validated.

    `key_path` is dotted, as in the file (``deployments.title42_active_duty.headcount``).
    Setting a key the schema does not know is an error like any unknown key.
    """
    return with_changes(scenario, {key_path: value})


def with_changes(
    scenario: Scenario,
    changes: Mapping[str, Any],
    given: Mapping[str, str] | None = None,
    *,
    python_values: bool = False,
    option: str | None = None,
    new_entries: Mapping[tuple[str, ...], Collection[str]] | None = None,
) -> Scenario:
    """A copy of `scenario` with the values at dotted key paths changed, validated once, as a
    whole, by the loader's rules (so that related keys, such as two dates, may change together).
    A key path is read as TOML reads a dotted key (`loader.parse_key_path`): a name holding a
    dot goes in quotes (``deployments."phase.1".headcount``). `given` maps a changed key path
    to where its value came from (``--set KEY=VALUE``), which `Scenario.location` names instead
    of a line of the file. `python_values`: the values were given from Python (not typed as
    TOML, as ``--set`` types them), so that a refusal says the Python value to pass. `option`:
    the command-line option that typed them (``--set``), so that a refusal says how to type one.
    `new_entries`: the named entries the scenario's own files made (`loader.merge_chain`).
    """
    if not isinstance(changes, Mapping):
        raise ScenarioError(
            f"with_changes takes {{key path: value}}, such as "
            f"{{'deployments.troops.headcount': 0}}, got {type(changes).__name__}",
            where=str(scenario.path),
        )
    merged = copy.deepcopy(scenario._merged)
    sources = scenario.sources
    origins = dict(scenario._origins)
    kept = dict(scenario._changes)
    places = dict(scenario._given)
    changed = []
    entries: dict[tuple[str, ...], Collection[str]] = dict(new_entries or {})
    set_by: dict[tuple[str, ...], str] = {}  # each value set by this call, with its key path
    for key_path, given_value in changes.items():
        path = _key_path(key_path, scenario)
        # a NumPy number as the Python value a file would hold: a sweep records the changes
        # as JSON, which has no np.int64
        value = _plain(given_value)
        _refuse_none(path, value, scenario)
        entries.update(loader.entries_added(merged, _as_overlay(path, value)))
        # a table merges into the table there, as in a file: what was set is the values it
        # replaced, each recorded as changed on its own
        for parts, part_value in _set(merged, key_path, path, value, scenario):
            dotted = ".".join(parts)  # as the loader names a source
            _refuse_set_twice(set_by, parts, key_path, scenario)
            for known in [k for k in sources if k == dotted or k.startswith(dotted + ".")]:
                del sources[known]
            sources[dotted] = f"varied from {scenario.path.name}"
            origins[parts] = scenario.path
            changed.append(parts)
            # recorded as the key path is typed (a name holding a dot in quotes), so that a
            # resumed sweep sets it again (`changes`)
            for known in [k for k in kept if loader.parse_key_path(k)[: len(parts)] == parts]:
                del kept[known]
            kept[loader.key_path_text(parts)] = copy.deepcopy(part_value)
            for inside in [k for k in places if k[: len(parts)] == parts]:
                del places[inside]
            places[parts] = (given or {}).get(key_path)
    changed_scenario = build(
        merged,
        path=scenario.path,
        sources=sources,
        origins=origins,
        changed=changed,
        new_entries=entries,
        python_values=python_values,
        option=option,
    )
    changed_scenario._changes = kept
    changed_scenario._given = places
    return changed_scenario


def _plain(value: Any) -> Any:
    """`value` with NumPy scalars, inside tables and lists too, as Python's (np.int64(3) -> 3),
    and a tuple or a NumPy array as the list a scenario file holds (TOML has lists only)."""
    if isinstance(value, np.generic):
        return value.item()
    if isinstance(value, Mapping):
        return {key: _plain(item) for key, item in value.items()}
    if isinstance(value, np.ndarray):
        return value.tolist()
    if isinstance(value, list | tuple):
        return [_plain(item) for item in value]
    return value


def _refuse_set_twice(
    set_by: dict[tuple[str, ...], str], parts: tuple[str, ...], key_path: str, scenario: Scenario
) -> None:
    """Refuse a value that two key paths of one call both set ({"a.b": {"c": 0}, "a.b.c": 5}):
    "applied together" has no order, and whichever came last would win without a word."""
    for other, other_path in set_by.items():
        n = min(len(other), len(parts))
        if other[:n] == parts[:n] and other_path != key_path:
            raise ScenarioError(
                f"{loader.key_path_text(parts if len(parts) >= len(other) else other)} is set "
                f"twice in one "
                f"call, by {other_path!r} and by {key_path!r}; give it once",
                where=str(scenario.path),
            )
    set_by[parts] = key_path


def _key_path(key_path: object, scenario: Scenario) -> tuple[str, ...]:
    """The parts of a key path given to `with_changes`, or one error naming it and what is
    wrong (`loader.parse_key_path`)."""
    if not isinstance(key_path, str):
        raise ScenarioError(
            f"cannot set {key_path!r}: a key path is dotted names, such as "
            "'deployments.title42_active_duty.headcount'",
            where=str(scenario.path),
        )
    try:
        # pasted with spaces or a line end around it, as `--set` and `--vary` take it
        return loader.parse_key_path(key_path.strip())
    except ScenarioError as err:
        raise ScenarioError(f"cannot set {key_path!r}: {err}", where=str(scenario.path)) from None


def _parts(key_path: str) -> tuple[str, ...]:
    """A key path's parts for naming a place: quotes read where they are well formed, else
    split at every dot."""
    return loader.split_key_path(key_path) or tuple(key_path.split("."))


def _refuse_none(path: tuple[str, ...], value: Any, scenario: Scenario) -> None:
    """Refuse None at a key the schema knows, naming the key and the kind of value it takes: a
    scenario file cannot hold None (TOML has no empty value), and the schema's own message for
    it was about something else ("give exactly one of headcount and headcount_by_sector" where
    the deployment's headcount is optional only because headcount_by_sector may replace it)."""
    found = _none_inside(path, value)
    if found is None:
        return
    parts, in_list = found
    dotted = loader.key_path_text(parts)
    known, annotation = _schema_type(list(parts))
    if not known:
        return  # an unknown key is the loader's "unknown key", with its suggestions
    if in_list:
        items = typing.get_args(_unwrapped(annotation))
        kind = _kind(items[0]) if typing.get_origin(_unwrapped(annotation)) is list else ""
        what = f"{dotted} holds None: each item of the list needs a value"
    else:
        kind = _kind(annotation)
        what = f"{dotted} = None: the key needs a value"
    raise ScenarioError(
        f"{what}{f', {kind}' if kind else ''}; a scenario holds no empty values (to drop a "
        "key, use a variant file's remove: docs/scenarios.md)",
        where=str(scenario.path),
    )


def _none_inside(path: tuple[str, ...], value: Any) -> tuple[tuple[str, ...], bool] | None:
    """The key path of the first None in `value` (set at `path`), and whether it is an item of
    a list there; None if there is none."""
    if value is None:
        return path, False
    if isinstance(value, Mapping):
        for name, inner in value.items():
            found = _none_inside((*path, str(name)), inner)
            if found is not None:
                return found
    elif isinstance(value, list | tuple) and any(item is None for item in value):
        return path, True
    return None


def _unwrapped(annotation: Any) -> Any:
    """The type inside ``Annotated[...]``."""
    while typing.get_origin(annotation) is typing.Annotated:
        annotation = typing.get_args(annotation)[0]
    return annotation


def _is_table(annotation: Any) -> bool:
    annotation = _unwrapped(annotation)
    return typing.get_origin(annotation) is dict or (
        isinstance(annotation, type) and issubclass(annotation, pydantic.BaseModel)
    )


def _schema_type(parts: list[str]) -> tuple[bool, Any]:
    """(whether the schema knows the key path, the type of its value there)."""
    annotation: Any = Scenario
    for part in parts:
        annotation = _unwrapped(annotation)
        if typing.get_origin(annotation) in (typing.Union, types.UnionType):
            tables = [a for a in typing.get_args(annotation) if _is_table(a)]
            if len(tables) != 1:
                return False, None
            annotation = _unwrapped(tables[0])
        if typing.get_origin(annotation) is dict:
            annotation = typing.get_args(annotation)[1]  # a named entry: any name
        elif isinstance(annotation, type) and issubclass(annotation, pydantic.BaseModel):
            field = annotation.model_fields.get(part)
            if field is None:
                return False, None
            annotation = field.annotation
        else:
            return False, None
    return True, annotation


def _kind(annotation: Any) -> str:
    """What a value of this type is, in the words of a scenario file ("" if unsure)."""
    if annotation == Headcount:
        return "a whole number of people"
    annotation = _unwrapped(annotation)
    origin = typing.get_origin(annotation)
    if origin in (typing.Union, types.UnionType):
        kinds = [_kind(a) for a in typing.get_args(annotation) if a is not type(None)]
        return "" if "" in kinds else " or ".join(dict.fromkeys(kinds))
    if origin is typing.Literal:
        return "one of " + ", ".join(repr(a) for a in typing.get_args(annotation))
    if _is_table(annotation):
        return "a table"
    if origin is list:
        return "a list"
    words = {
        bool: "true or false",
        int: "a whole number",
        float: "a number",
        str: "a text",
        dt.date: "a date, such as 2023-05-11",
    }
    return words.get(annotation, "")


def _as_overlay(path: tuple[str, ...], value: Any) -> dict[str, Any]:
    """``{"a": {"b": value}}`` for ``("a", "b")``: the change as a file's tables would give it."""
    overlay: Any = value
    for part in reversed(path):
        overlay = {part: overlay}
    return overlay if isinstance(overlay, dict) else {}


def _set(
    merged: dict[str, Any],
    key_path: str,
    parts: tuple[str, ...],
    value: Any,
    scenario: Scenario,
) -> list[tuple[tuple[str, ...], Any]]:
    """Set one key path (`key_path` as given, read into `parts`) in the merged tables, creating
    missing tables; a table value merges into a table there key by key, as the loader merges a
    file's. Return each key path set with its value."""
    node = merged
    for part in parts[:-1]:
        child = node.get(part)
        if child is None:
            child = node[part] = {}
        if not isinstance(child, dict):
            raise ScenarioError(
                f"cannot set {key_path!r}: {part!r} holds a value, not a table",
                where=str(scenario.path),
            )
        node = child
    return _merge_into(node, parts, value)


def _merge_into(
    node: dict[str, Any], parts: tuple[str, ...], value: Any
) -> list[tuple[tuple[str, ...], Any]]:
    """`node[parts[-1]] = value`, or, for a table over a table, each of its keys merged in."""
    key = parts[-1]
    if isinstance(value, Mapping) and isinstance(node.get(key), dict):
        done: list[tuple[tuple[str, ...], Any]] = []
        for name, inner in value.items():
            done += _merge_into(node[key], (*parts, str(name)), inner)
        return done
    node[key] = copy.deepcopy(value)
    return [(parts, value)]
