"""Load a scenario file: defaults <- base chain <- the file, merged, then validated.

Inheritance. A file may name a base with a top-level ``base = "other.toml"`` (a path relative to
the file). The base is loaded first (recursively), then the file's values are merged over it:

- tables merge key by key, at any depth;
- any other value (number, string, date, list) replaces the base's value whole; lists are never
  merged element by element (``sectors``, ``tasks`` and the like are sets chosen as a whole);
- deployments, shocks and capacity changes are tables keyed by name, so a variant overrides one
  field of one deployment with ``[deployments.NAME] headcount = 1000``;
- a top-level ``remove = ["deployments.NAME", ...]`` deletes key paths inherited from the base (a
  path that does not exist is an error, so that a typo cannot silently remove nothing; so are a
  path listed twice and a key with a default, which a variant sets instead);
- ``name`` and ``description`` are not inherited: a variant without them is named after its
  file and described by its base's name and the keys it sets and removes.

Defaults (`bordersim/defaults/parameters.toml`) come first of all: every leaf there is
``{ value = ..., source = ... }`` or ``{ value = ..., assumption = ... }``; scenario files give
plain values. The sources of the defaults travel with the scenario; a value a scenario file sets
is sourced to that file (its comments give the reason).

Diseases. The parameters of the disease in custody (`DISEASE_PARAMETERS`) come from a table of
`bordersim/defaults/diseases.toml`, in the same form as the defaults: the one the merged scenario
names in ``health.disease``, or `DEFAULT_DISEASE`. They fill only the ``[health]`` keys that no
scenario file of the chain sets.
"""

from __future__ import annotations

import ast
import copy
import dataclasses
import datetime as dt
import difflib
import json
import math
import re
import tomllib
import types
import typing
from collections.abc import Callable, Collection, Iterable, Iterator, Mapping
from importlib import resources
from pathlib import Path
from typing import Any

import pydantic
from pydantic import BaseModel

from bordersim.errors import MAX_MESSAGE_CHARS, MAX_WHERE_CHARS, BordersimError, ScenarioError
from bordersim.input_files import MIB, read_bounded, resolve, shown_path
from bordersim.scenario.schema import (
    DISEASE_PARAMETERS,
    CrossSectionError,
    OneOfError,
    ScenarioSpec,
    SectorCode,
    safe_name_from,
)

KeyPath = tuple[str, ...]
LOADER_KEYS = ("base", "remove")
DEFAULTS_NAME = "parameters.toml"
DISEASES_NAME = "diseases.toml"
#: The disease of a scenario that names none (`defaults/diseases.toml`).
DEFAULT_DISEASE = "covid19"
#: Bounds on what a scenario file may be: no real scenario comes near them.
MAX_FILE_BYTES = 1 * MIB
MAX_DEPTH = 16
MAX_CHAIN = 16


def defaults_path() -> Path:
    return Path(str(resources.files("bordersim.defaults").joinpath(DEFAULTS_NAME)))


def diseases_path() -> Path:
    return Path(str(resources.files("bordersim.defaults").joinpath(DISEASES_NAME)))


def read_toml(path: Path) -> dict[str, Any]:
    """Parse one TOML file; a missing, unreadable, oversized, too deeply nested file or bad
    syntax is a `ScenarioError` naming it."""
    raw = read_bounded(path, what="scenario file", error=ScenarioError, limit=MAX_FILE_BYTES)
    where = shown_path(path)
    try:
        # utf-8-sig: a byte-order mark (Notepad writes one) is not TOML, and is dropped
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as err:
        raise ScenarioError(
            f"not UTF-8 text (byte {err.start}); a scenario is a TOML text file", where=where
        ) from None
    data = toml_tables(text, where)
    _check_depth(data, where)
    return data


def toml_tables(
    text: str, where: str, error: type[BordersimError] = ScenarioError
) -> dict[str, Any]:
    """The tables of a TOML text, or `error` naming `where` (and the line of a key set twice)
    where it is not TOML: one wording for scenario and plan files."""
    try:
        return tomllib.loads(text)
    except tomllib.TOMLDecodeError as err:
        twice = _set_twice(text, str(err))
        if twice is not None:
            raise error(twice[1], where=f"{where}, line {twice[0]}") from None
        raise error(f"invalid TOML syntax: {_clip(str(err))}", where=where) from None
    except (RecursionError, MemoryError, ValueError, OverflowError) as err:
        # tomllib recurses once per nested array or inline table
        raise error(
            f"cannot be parsed ({type(err).__name__}): nesting deeper than {MAX_DEPTH} levels "
            "or a value out of range",
            where=where,
        ) from None


_TWICE = re.compile(
    r"^Cannot (overwrite a value|declare (\(.*\)) twice) \(at line (\d+), column \d+\)$"
)


def _set_twice(text: str, message: str) -> tuple[int, str] | None:
    """(line, rule) for tomllib's refusal of a key or a table given twice ("Cannot overwrite a
    value", "Cannot declare ('period',) twice"), naming the key as a scenario does; None for
    any other syntax error."""
    found = _TWICE.match(message)
    if found is None:
        return None
    number = int(found.group(3))
    lines = text.splitlines()
    line = lines[number - 1] if number <= len(lines) else ""
    if found.group(2):  # a table: its header, or a dotted key that made it
        try:
            loc: KeyPath = tuple(str(part) for part in ast.literal_eval(found.group(2)))
        except (ValueError, SyntaxError):
            return None
    else:
        table: KeyPath = ()
        for before in lines[: number - 1]:
            header = _HEADER.match(before)
            if header:
                table = _key_parts(header.group(1))
        header = _HEADER.match(line)
        assignment = _ASSIGNMENT.match(line)
        if header:
            loc = _key_parts(header.group(1))
        elif assignment:
            loc = (*table, *_key_parts(assignment.group(1)))
        else:
            return None
    dotted = key_path_text(loc)  # a name holding a dot in quotes, as the file writes it
    first = _first_setting(lines[: number - 1], loc)
    earlier = f" (first on line {first})" if first else ""
    if found.group(2) and _HEADER.match(line):
        return number, (
            f"[{dotted}] is declared twice{earlier}: a table is written once in a file, all "
            "its keys under one header"
        )
    return number, f"{dotted} is set twice{earlier}: a key is set once in a file"


def _first_setting(lines: list[str], loc: KeyPath) -> int | None:
    """The number of the first of `lines` that sets `loc` or a key inside it."""
    table: KeyPath = ()
    for number, line in enumerate(lines, start=1):
        header = _HEADER.match(line)
        if header:
            table = full = _key_parts(header.group(1))
        else:
            assignment = _ASSIGNMENT.match(line)
            if not assignment:
                continue
            full = (*table, *_key_parts(assignment.group(1)))
        if full[: len(loc)] == loc:
            return number
    return None


def _check_depth(data: dict[str, Any], where: str) -> None:
    """Refuse tables or lists nested deeper than any scenario needs (the merge recurses)."""
    stack: list[tuple[Any, int]] = [(data, 0)]
    while stack:
        node, depth = stack.pop()
        if depth > MAX_DEPTH:
            raise ScenarioError(
                f"values are nested more than {MAX_DEPTH} levels deep; a scenario needs at most 6",
                where=where,
            )
        if isinstance(node, dict):
            stack.extend((child, depth + 1) for child in node.values())
        elif isinstance(node, list):
            stack.extend((child, depth + 1) for child in node)


def _clip(text: str, limit: int = 160) -> str:
    return text if len(text) <= limit else text[: limit - 3] + "..."


# ----- defaults --------------------------------------------------------------------------------
def _is_leaf(node: Any) -> bool:
    return isinstance(node, Mapping) and "value" in node


def load_defaults(path: Path | None = None) -> tuple[dict[str, Any], dict[str, str]]:
    """Plain default values and, for each leaf's key path, its source or assumption."""
    path = path or defaults_path()
    raw = read_toml(path)
    sources: dict[str, str] = {}

    def strip(node: Mapping[str, Any], prefix: KeyPath) -> dict[str, Any]:
        plain: dict[str, Any] = {}
        for key, child in node.items():
            where = (*prefix, key)
            if _is_leaf(child):
                extra = set(child) - {"value", "source", "assumption"}
                has_source, has_assumption = "source" in child, "assumption" in child
                if extra or has_source == has_assumption:
                    raise ScenarioError(
                        'a default must be { value = ..., source = "..." } or '
                        '{ value = ..., assumption = "..." }',
                        where=f"{path}: {'.'.join(where)}",
                    )
                plain[key] = child["value"]
                sources[".".join(where)] = (
                    child["source"] if has_source else f"assumption: {child['assumption']}"
                )
            elif isinstance(child, Mapping):
                plain[key] = strip(child, where)
            else:
                raise ScenarioError(
                    "every default needs a source or an assumption: write "
                    f'{{ value = {child!r}, source = "..." }}',
                    where=f"{path}: {'.'.join(where)}",
                )
        return plain

    return strip(raw, ()), sources


def load_diseases(path: Path | None = None) -> tuple[dict[str, Any], dict[str, str]]:
    """The diseases' plain parameter values by name and, per ``name.parameter``, its source or
    assumption; a disease that does not give exactly `DISEASE_PARAMETERS` is an error."""
    path = path or diseases_path()
    diseases, sources = load_defaults(path)
    for name, table in diseases.items():
        given = set(table) if isinstance(table, dict) else set()
        if given != set(DISEASE_PARAMETERS):
            missing = sorted(set(DISEASE_PARAMETERS) - given)
            extra = sorted(given - set(DISEASE_PARAMETERS))
            raise ScenarioError(
                f"a disease gives exactly {', '.join(DISEASE_PARAMETERS)}; "
                f"missing {missing}, unknown {extra}",
                where=f"{path}: {name}",
            )
    return diseases, sources


def _apply_disease(merged: dict[str, Any], origins: dict[KeyPath, Path]) -> dict[str, str]:
    """Fill the disease's parameters into ``merged["health"]`` where no scenario file set them;
    their sources, by key path."""
    health = merged.get("health")
    if not isinstance(health, dict):
        return {}  # the schema reports a missing or malformed [health]
    name = health.get("disease")
    if name is None:
        name = DEFAULT_DISEASE
    diseases, disease_sources = load_diseases()
    if not isinstance(name, str) or name not in diseases:
        file = origin_of(("health", "disease"), origins)
        raise ScenarioError(
            f"health.disease = {_show(name)}: unknown disease; the known diseases are "
            f"{', '.join(sorted(diseases))} (bordersim/defaults/diseases.toml)",
            where=f"{shown_path(file)}{line_of(file, ('health', 'disease'))}",
        )
    sources = {}
    for key, value in diseases[name].items():
        if ("health", key) in origins:
            continue  # a scenario file sets it: its value wins
        health[key] = copy.deepcopy(value)
        sources[f"health.{key}"] = disease_sources[f"{name}.{key}"]
    return sources


# ----- merging -------------------------------------------------------------------------------
def _merge(
    target: dict[str, Any],
    overlay: Mapping[str, Any],
    origin: Path,
    origins: dict[KeyPath, Path],
    prefix: KeyPath = (),
) -> None:
    for key, value in overlay.items():
        where = (*prefix, key)
        if isinstance(value, Mapping) and isinstance(target.get(key), dict):
            _merge(target[key], value, origin, origins, where)
        else:
            target[key] = copy.deepcopy(value)
            for path in [p for p in origins if p[: len(where)] == where]:
                del origins[path]
            origins[where] = origin


def _remove(
    merged: dict[str, Any],
    paths: Any,
    file: Path,
    origins: dict[KeyPath, Path],
    defaults: Mapping[str, Any],
) -> None:
    if not isinstance(paths, list) or not all(isinstance(p, str) for p in paths):
        raise ScenarioError(
            f'must be a list of key paths such as ["deployments.NAME"], got {_show(paths)}',
            where=f"{shown_path(file)}{line_of(file, ('remove',))}: remove",  # as its entries
        )
    for number, dotted in enumerate(paths):
        try:
            parts = parse_key_path(dotted)
        except ScenarioError as err:
            raise ScenarioError(
                f"cannot remove {_show(dotted)}: {err}",
                where=_remove_entry_place(file, paths, number),
            ) from None
        if dotted in paths[:number]:
            raise ScenarioError(
                f"{_show(dotted)} is listed twice", where=_remove_entry_place(file, paths, number)
            )
        _refuse_removing_a_default(parts, defaults, _remove_entry_place(file, paths, number))
        node: Any = merged
        for part in parts[:-1]:
            node = node.get(part) if isinstance(node, dict) else None
        if not isinstance(node, dict) or parts[-1] not in node:
            raise ScenarioError(
                f"cannot remove {_show(dotted)}: the base chain has no such key path",
                where=_remove_entry_place(file, paths, number),
            )
        del node[parts[-1]]
        for path in [p for p in origins if p[: len(parts)] == parts]:
            del origins[path]


def _refuse_removing_a_default(parts: KeyPath, defaults: Mapping[str, Any], where: str) -> None:
    """Every default is a required key: removing one (or a table holding some) would leave the
    scenario without it, which is not what a variant that drops a base's value means."""
    node: Any = defaults
    for part in parts:
        if not isinstance(node, Mapping) or part not in node:
            return
        node = node[part]
    dotted = ".".join(parts)
    if not isinstance(node, Mapping):
        raise ScenarioError(
            f"{_show(dotted)} has a default ({_show(node)}); set it instead", where=where
        )
    leaves = list(_leaves(node, parts))
    shown = ", ".join(f"{'.'.join(path)} = {_show(value)}" for path, value in leaves[:3])
    raise ScenarioError(
        f"{_show(dotted)} holds defaults ({shown}{', ...' * (len(leaves) > 3)}); set them instead",
        where=where,
    )


def _leaves(node: Mapping[str, Any], prefix: KeyPath) -> Iterator[tuple[KeyPath, Any]]:
    for key, value in node.items():
        if isinstance(value, Mapping):
            yield from _leaves(value, (*prefix, key))
        else:
            yield (*prefix, key), value


def _removed_text(paths: Any) -> str:
    """What a `remove` names, as a message quotes it: 'a.b', 'c.d'."""
    if isinstance(paths, list) and paths:
        return ", ".join(_show(p) for p in paths)
    return _show(paths)


def _remove_entry_place(file: Path, paths: list[str], number: int) -> str:
    """'FILE, line N: remove' for entry `number` of the file's `remove` list (the line of
    ``remove =`` when the entry is not found as written): a scan of the text, for messages."""
    try:
        text = file.read_text(encoding="utf-8-sig")
    except (OSError, UnicodeDecodeError):
        return f"{shown_path(file)}: remove"
    start = re.search(r"(?m)^\s*remove\s*=", text)
    if start is None:
        return f"{shown_path(file)}: remove"
    at, found = start.start(), start.start()
    for entry in paths[: number + 1]:
        quoted = [text.find(q, at) for q in (f'"{entry}"', f"'{entry}'")]
        hits = [hit for hit in quoted if hit >= 0]
        if not hits:
            found = start.start()
            break
        found = min(hits)
        at = found + len(entry) + 2
    return f"{shown_path(file)}, line {text.count(chr(10), 0, found) + 1}: remove"


def _chain(path: Path) -> list[tuple[Path, dict[str, Any]]]:
    """The files from the root base to `path`, each with its parsed content."""
    chain: list[tuple[Path, dict[str, Any]]] = []
    current = resolve(path, what="scenario file", error=ScenarioError)
    while True:
        seen = [file for file, _ in chain]
        if current in seen:
            # from the file named to the base that names a file of the chain again
            cycle = " -> ".join(shown_path(p.name, 40) for p in (*seen, current))
            raise ScenarioError(
                _clip(f"base = {_show(chain[-1][1]['base'])}: inheritance cycle: {cycle}"),
                where=f"{shown_path(seen[-1])}{line_of(seen[-1], ('base',))}",
            )
        if len(chain) >= MAX_CHAIN:
            raise ScenarioError(
                f"the base chain is longer than {MAX_CHAIN} files; shorten it",
                where=f"{shown_path(path)}: base",
            )
        data = read_toml(current)
        chain.append((current, data))
        base = data.get("base")
        if base is None:
            return list(reversed(chain))
        # named as every other bad value is: "FILE, line N: key = value: rule"
        where = f"{shown_path(current)}{line_of(current, ('base',))}"
        given = f"base = {_show(base)}"
        if not isinstance(base, str):
            raise ScenarioError(f"{given}: must be a file path (a string)", where=where)
        if not base.strip():  # a string, so not "must be a string": what to write instead
            raise ScenarioError(
                f"{given}: is empty; name the scenario file this one changes, or leave base out",
                where=where,
            )
        # "~" is the home folder, as in demand.calibration and demand.fit
        named = expanded_path(base, given=given, where=where)
        base_path = resolve(current.parent / named, what=given, error=ScenarioError, where=where)
        if not base_path.exists():
            raise ScenarioError(
                f"{given}: no such scenario file (looked for {shown_path(base_path, 80)})",
                where=where,
            )
        if base_path.is_dir():
            raise ScenarioError(
                f"{given}: is a folder ({shown_path(base_path, 80)}); name a scenario file in it",
                where=where,
            )
        current = base_path


def expanded_path(text: str, *, given: str, where: str) -> Path:
    """A path written in a scenario (`given`, ``key = value``, at `where`) with a leading "~"
    (or "~user") read as that home folder."""
    try:
        return Path(text).expanduser()
    except RuntimeError:  # "~user" of no user, or no home folder known
        raise ScenarioError(f"{given}: cannot find the home folder it names", where=where) from None


def merge_chain(
    path: Path,
) -> tuple[dict[str, Any], dict[str, str], dict[KeyPath, Path], dict[KeyPath, list[str]]]:
    """Defaults merged with the base chain of `path` and the file itself.

    Returns the plain merged data, the sources (defaults' sources, replaced by the scenario file
    for values a file sets), per key path set by a file, the file that set it, and the named
    entries (``("deployments", "troop")``) that a variant made beside those of its base, each
    with the names the base had there (for "did you mean", should one lack a required key).
    """
    defaults, default_sources = load_defaults()
    merged = copy.deepcopy(defaults)
    origins: dict[KeyPath, Path] = {}
    new_entries: dict[KeyPath, list[str]] = {}
    defaults_file = defaults_path()
    chain = _chain(path)
    if not chain[-1][1]:
        # an empty file (or one of comments only) was refused as lacking period.start_date, as
        # if it had been written and one key forgotten
        raise ScenarioError(
            "sets nothing (an empty file, or comments only): a scenario sets at least [period] "
            'start_date and end_date, or names a base = "FILE" (docs/scenarios.md)',
            where=shown_path(chain[-1][0]),
        )
    for number, (file, data) in enumerate(chain):
        if "remove" in data and number == 0:
            # the first file of the chain has no base: "the base chain has no such key path"
            # spoke of a chain it does not have
            raise ScenarioError(
                f"cannot remove {_removed_text(data['remove'])}: this file names no base, and "
                'remove takes away what a base sets; leave the keys out, or give a base = "FILE"',
                where=f"{shown_path(file)}{line_of(file, ('remove',))}: remove",
            )
        if "remove" in data:
            _remove(merged, data["remove"], file, origins, defaults)
        overlay = {k: v for k, v in data.items() if k not in LOADER_KEYS}
        if number > 0:
            new_entries.update(entries_added(merged, overlay))
        _merge(merged, overlay, file, origins)
    if "name" not in chain[-1][1]:
        # A scenario's name is its own (it names its runs and report folders): a variant that
        # gives none is named after its file, not after its base.
        merged["name"] = safe_name_from(path.stem)
        origins.pop(("name",), None)
    if "description" not in chain[-1][1] and len(chain) > 1:
        merged["description"] = _variant_description(chain, origins)
        origins.pop(("description",), None)
    sources = {**default_sources, **_apply_disease(merged, origins)}
    for key_path, file in origins.items():
        if file == defaults_file:
            continue
        dotted = ".".join(key_path)
        for known in [k for k in sources if k == dotted or k.startswith(dotted + ".")]:
            del sources[known]
        # a more specific key than a default's (one sector of a table) is listed beside it
        sources[dotted] = f"scenario file {file.name}"
    return merged, sources, origins, new_entries


def _variant_description(
    chain: list[tuple[Path, dict[str, Any]]], origins: dict[KeyPath, Path]
) -> str:
    """The description of a variant file that gives none: its base's name and the keys the file
    sets and removes (the base's own description would describe what the variant changes: its
    "1,500 troops" on a variant without them)."""
    (base_file, base_data), (file, data) = chain[-2], chain[-1]
    base_name = base_data.get("name") or safe_name_from(base_file.stem)
    changed = sorted(".".join(k) for k, origin in origins.items() if origin == file)
    removed = (
        [str(r) for r in data.get("remove", [])] if isinstance(data.get("remove"), list) else []
    )
    parts = [f"sets {_listed(changed)}"] if changed else []
    parts += [f"removes {_listed(removed)}"] if removed else []
    return f"Variant of {base_name}" + (f": {'; '.join(parts)}" if parts else "") + "."


def _listed(keys: list[str], most: int = 8) -> str:
    shown = ", ".join(keys[:most])
    return shown + (f" and {len(keys) - most} more" if len(keys) > most else "")


def entries_added(
    merged: Mapping[str, Any], overlay: Mapping[str, Any], prefix: KeyPath = ()
) -> dict[KeyPath, list[str]]:
    """The named entries that `overlay` adds to tables of names (deployments, shocks, ...) in
    `merged`, each with the names `merged` has there."""
    added: dict[KeyPath, list[str]] = {}
    for key, value in overlay.items():
        if not isinstance(value, Mapping):
            continue
        where = (*prefix, key)
        inherited = merged.get(key)
        inherited = inherited if isinstance(inherited, Mapping) else {}
        if entries_at(where) is not None:
            for name in value:
                if name not in inherited:
                    added[(*where, name)] = sorted(inherited)
        elif len(where) < MAX_DEPTH:
            added.update(entries_added(inherited, value, where))
    return added


# ----- validation errors ---------------------------------------------------------------------
def origin_of(loc: KeyPath, origins: Mapping[KeyPath, Path]) -> Path:
    """The file that set `loc`: for a table, the last file that set a key inside it."""
    inside = [file for path, file in origins.items() if path[: len(loc)] == loc]
    if inside:
        return inside[-1]
    for n in range(len(loc), 0, -1):
        if loc[:n] in origins:
            return origins[loc[:n]]
    return defaults_path()


def _annotation_at(loc: KeyPath) -> Any:
    """The schema's type at `loc` (None where the schema has no such key)."""
    current: Any = ScenarioSpec
    for part in loc:
        current = _unwrap(current)
        if typing.get_origin(current) is dict:
            current = typing.get_args(current)[1]  # `part` is a free name (a deployment's)
            continue
        fields = getattr(current, "model_fields", None)
        if not fields or part not in fields:
            return None
        current = fields[part].annotation
    return _unwrap(current)


def _takes_a_list(loc: KeyPath) -> bool:
    """Whether the key at `loc` takes a word or a list of sector codes (a deployment's, a
    shock's or a release policy's ``sectors``): a word alone fails as a word."""
    model = _model_at(loc[:-1])
    field = model.model_fields.get(loc[-1]) if model is not None and loc else None
    if field is None or typing.get_origin(field.annotation) not in (typing.Union, types.UnionType):
        return False
    members = [_unwrap(member) for member in typing.get_args(field.annotation)]
    return any(
        typing.get_origin(member) is list and typing.get_args(member) == (SectorCode,)
        for member in members
    )


def _model_at(loc: KeyPath) -> type[BaseModel] | None:
    """The schema model whose keys are allowed at `loc` (for "did you mean")."""
    current = _annotation_at(loc)
    return current if isinstance(current, type) and issubclass(current, BaseModel) else None


def entries_at(loc: KeyPath) -> type[BaseModel] | None:
    """The model of each named entry when `loc` is a table of free names (a `Deployment` for
    ``("deployments",)``), else None."""
    current = _annotation_at(loc)
    if typing.get_origin(current) is not dict:
        return None
    entry = _unwrap(typing.get_args(current)[1])
    return entry if isinstance(entry, type) and issubclass(entry, BaseModel) else None


def _not_an_entry(entry: KeyPath, names: Collection[str], missing: KeyPath) -> str:
    """'deployments.troop: 'troop' is not a deployment of the scenario (did you mean
    'troops'?)...' for a change that named an entry the scenario lacks, and so made a new one
    without its required keys."""
    model = entries_at(entry[:-1])
    noun = re.sub(r"(?<!^)(?=[A-Z])", " ", model.__name__).lower() if model else "entry"
    close = _closest(entry[-1], list(names))
    hint = f" (did you mean {close[0]!r}?)" if close else ""
    article = "an" if noun[0] in "aeiou" else "a"
    return (
        f"{key_path_text(entry)}: {entry[-1]!r} is not {article} {noun} of the scenario{hint}; "
        f"a new one would need {key_path_text(missing)}"
    )


def _unwrap(annotation: Any) -> Any:
    origin = typing.get_origin(annotation)
    if origin in (typing.Union, types.UnionType):
        members = [a for a in typing.get_args(annotation) if a is not type(None)]
        for member in members:
            if isinstance(member, type) and issubclass(member, BaseModel):
                return member
        for member in members:
            if typing.get_origin(member) is dict:
                return member
        return members[0] if members else annotation
    if origin is typing.Annotated:
        return typing.get_args(annotation)[0]
    return annotation


def _iso_date(text: str) -> dt.date | None:
    try:
        return dt.date.fromisoformat(text.strip())
    except ValueError:
        return None


_DAY_LIKE = re.compile(r"^\s*(\d{4})-(\d{2})-(\d{2})\s*$")


def _no_such_day(text: str) -> str:
    """For text written as a date of a month that has no such day (2023-02-30, which --set
    passes on as text, as TOML refuses it), the rule that says so; "" for any other text."""
    import calendar

    day_like = _DAY_LIKE.match(text)
    if day_like is None or _iso_date(text) is not None:
        return ""
    year, month = int(day_like[1]), int(day_like[2])
    if year < 1:
        return "no such year in the calendar: 0000"
    if not 1 <= month <= 12:
        return f"no such month in the calendar: {month:02d}"
    days = calendar.monthrange(year, month)[1]
    return f"no such day in the calendar ({year}-{month:02d} has {days} days)"


_NUMBER_IN_TEXT = re.compile(r"^\s*\$?\s*([-+]?(?:\d[\d,_]*)?\.?\d+(?:[eE][-+]?\d+)?)\s*(.*?)\s*$")


#: A number whose commas separate thousands ("1,500", "-12,000.5")
_THOUSANDS = re.compile(r"[-+]?\d{1,3}(?:,\d{3})+(?:\.\d+)?(?:[eE][-+]?\d+)?")


def _number_meant(text: str) -> str | None:
    """The number a text of digits means, as TOML writes it: commas that separate thousands
    left out ("1,500" is 1500), one comma between digits otherwise a decimal comma ("1,3" is 1.3,
    where leaving it out made ten times the number meant); None where the commas say neither."""
    text = text.replace("_", "")
    if "," not in text or _THOUSANDS.fullmatch(text):
        return text.replace(",", "")
    if text.count(",") == 1 and "." not in text and re.fullmatch(r"[-+]?\d+,\d+", text):
        return text.replace(",", ".")
    return None


def _text_for_a_value(key: str, value: str, kind: str, python: bool = False) -> str:
    """The rule for a number or a boolean given as text: how TOML writes the value meant (a
    number without quotes, and without its unit, which the key's name gives), or with `python`
    (a value given from Python, `Scenario.with_changes`), the Python value to pass."""
    if kind == "bool_type":
        meant = {"true": "true", "yes": "true", "false": "false", "no": "false"}
        written = meant.get(value.strip().lower())
        if python:
            return "must be True or False, not a str" + (f": {written.title()}" if written else "")
        example = f": {key} = {written}" if written else f", such as {key} = true"
        return f"must be true or false, written without quotes in TOML{example}"
    noun = "a whole number" if kind == "int_type" else "a number"
    # an item of a list is shown as the value alone (its key is its index); Python passes the
    # value alone
    at = "" if key.isdigit() or python else f"{key} = "
    found = _NUMBER_IN_TEXT.match(value)
    number = None if found is None else _number_meant(found.group(1))
    if found is None or number is None:
        if python:
            return f"must be {noun}, not a str"
        return f"must be {noun}, written without quotes in TOML, such as {at}1"
    unit = found.group(2)
    if unit == "%" and key.endswith("_fraction"):
        share = float(number) / 100
        quotes = ", not a str" if python else ", without quotes"
        return f"a fraction is a number from 0 to 1{quotes}: {at}{share:g}"
    if unit or "$" in value:
        if python:
            return (
                f"must be {noun}, not a str, without its unit (the unit is in the key's name): "
                f"{number}"
            )
        return (
            f"must be {noun} without quotes or a unit in TOML (the unit is in the key's name): "
            f"{at}{number}"
        )
    if python:
        return f"must be {noun}, not a str: {number}"
    return f"a number is written without quotes in TOML: {at}{number}"


#: What a value of each of pydantic's simple kinds is, in Python's words.
_PYTHON_KINDS = {
    "int_type": "a whole number (an int)",
    "float_type": "a number",
    "bool_type": "True or False",
}


def _article(noun: str) -> str:
    """'an int', 'a str'."""
    return f"{'an' if noun[0] in 'aeiou' else 'a'} {noun}"


def _python_rule(loc: KeyPath, value: Any, kind: str, expected: str) -> str | None:
    """For a value given from Python (`Scenario.with_changes`, `bs.sweep`'s vary), the rule in
    Python's words where the file's says how TOML writes the value ('written without quotes'),
    which a caller passing Python values cannot follow; None where the rule is the same."""
    dotted = ".".join(loc)
    if kind in ("dict_type", "model_type") and not isinstance(value, Mapping):
        # pydantic's "instance of BySector" names a class of the schema, not what to pass
        entries = "{name: {key: value}}" if entries_at(loc) is not None else "{key: value}"
        given = "a list" if isinstance(value, list) else f"{_article(type(value).__name__)}"
        return f"{dotted} is a table: give a dict {entries}, not {given}"
    if kind == "date_type":
        day = value.date() if isinstance(value, dt.datetime) else None
        day = _iso_date(value) if isinstance(value, str) else day
        if day is None:
            return "must be a datetime.date, such as datetime.date(2023, 5, 11)"
        return f"must be a datetime.date, not a {type(value).__name__}: {day!r}"
    if kind in ("float_type", "int_type", "bool_type") and isinstance(value, str):
        return _text_for_a_value(loc[-1], value, kind, python=True)
    if kind in _PYTHON_KINDS:
        # pydantic's "Input should be a valid integer" for 3.5 said neither what nor why
        return f"must be {_PYTHON_KINDS[kind]}, not {_article(type(value).__name__)}"
    if kind == "string_type" and isinstance(value, int | float | dt.date):
        written = value.isoformat() if isinstance(value, dt.date) else str(value)
        return f"must be a str: {written!r}"
    if kind == "list_type" and isinstance(value, str):
        sector = value in typing.get_args(SectorCode)
        return f"must be a list, such as {[value]!r}" if sector else "must be a list, not a str"
    if kind == "literal_error" and _takes_a_list(loc):
        example = [value] if value in typing.get_args(SectorCode) else ["TCA", "RGV"]
        return f"must be {expected} or a list of sector codes, such as {example!r}"
    return None


def _closest(word: str, options: list[str]) -> list[str]:
    """The option closest to `word` (none if none is close): the same letters in another case
    first ('rgv' is 'RGV'), else the closest spelling."""
    same = [option for option in options if option.lower() == word.lower()]
    return same[:1] or difflib.get_close_matches(word, options, n=1, cutoff=0.6)


def _did_you_mean(loc: KeyPath) -> str:
    """' (did you mean ...?)' with the closest key allowed at `loc`, or '' (see `_keys_taken`)."""
    model = _model_at(loc[:-1])
    if model is None:
        return ""
    close = _closest(loc[-1], _keys_at(loc[:-1], model))
    return f" (did you mean {key_path_text((*loc[:-1], close[0]))!r}?)" if close else ""


def _keys_at(table: KeyPath, model: type[BaseModel]) -> list[str]:
    return list(model.model_fields) + (list(LOADER_KEYS) if not table else [])


def _keys_taken(loc: KeyPath, value: Any, *, key_path: bool = False) -> tuple[str, list[str]]:
    """Where no spelling is close ('marine' among the pools): the keys the table takes instead,
    as (what they are, the keys), or ('', []) for none to list. An unknown table is given the
    keys that take a table, an unknown value those that take a value, where that is fewer: the
    top level's 18 keys made a message longer than one line holds. A value's `key_path` given
    by a change (--set, --vary, with_changes) is given every key: it names a key in a table
    more often than one of the top level's five values, and its tables are where it may go."""
    table = loc[:-1]
    model = _model_at(table)
    if model is None:
        return "", []
    keys = _keys_at(table, model)
    kind = {True: "tables", False: "values"}[isinstance(value, Mapping)]
    fitting = [key for key in keys if _takes_a_table((*table, key)) == (kind == "tables")]
    if fitting and len(fitting) < len(keys) and not (key_path and kind == "values"):
        keys, noun = fitting, kind
    else:
        noun = "keys"
    where = f"the {noun} of {key_path_text(table)}" if table else f"the top-level {noun}"
    return (where, keys) if len(keys) <= 20 else ("", [])


def _takes_a_table(loc: KeyPath) -> bool:
    annotation = _annotation_at(loc)
    is_model = isinstance(annotation, type) and issubclass(annotation, BaseModel)
    return is_model or typing.get_origin(annotation) is dict


def _keys_in_room(where: str, keys: list[str], room: int) -> str:
    """'; WHERE are A, B, C' in at most `room` characters: as many keys as fit, then how many
    more (a message is one line, cut at its end)."""
    for shown in range(len(keys), 0, -1):
        more = f" and {len(keys) - shown} more" if shown < len(keys) else ""
        text = f"; {where} are {', '.join(keys[:shown])}{more}"
        if len(text) <= room:
            return text
    return ""


def _show(value: Any) -> str:
    if isinstance(value, Mapping):
        return "a table"
    if isinstance(value, list) and any(isinstance(item, Mapping) for item in value):
        return "an array of tables"  # [[name]] in TOML, not Python's list of dicts
    if isinstance(value, dt.date | dt.time | str | int | float | bool | list):
        # a TOML date or time of day as the file writes it, not datetime.time(10, 0)
        text = value.isoformat() if isinstance(value, dt.date | dt.time) else repr(value)
        return text if len(text) <= 60 else text[:57] + "..."
    return type(value).__name__


_HEADER = re.compile(r"^\s*\[\[?\s*([^\]]+?)\s*\]\]?\s*(#.*)?$")
_ASSIGNMENT = re.compile(r"^\s*([A-Za-z0-9_\-\.\"' ]+?)\s*=")


def _key_parts(dotted: str) -> KeyPath:
    """The parts of a key or table header as the file writes it, read by TOML itself, so that a
    name in quotes holding a dot (``deployments."phase.1"``) is one part; a text TOML does not
    read is split at its dots."""
    try:
        tree: object = tomllib.loads(f"{dotted} = 0")
    except tomllib.TOMLDecodeError:
        return tuple(part.strip().strip("\"'") for part in dotted.split("."))
    parts: list[str] = []
    while isinstance(tree, dict) and len(tree) == 1:
        ((name, tree),) = tree.items()
        parts.append(name)
    return tuple(parts)


_BARE_KEY = re.compile(r"[A-Za-z0-9_-]+")

#: how a key path with a name holding a dot is written, for messages
KEY_PATH_EXAMPLE = 'deployments."phase.1".headcount'


def parse_key_path(dotted: str) -> KeyPath:
    """The parts of a key path written as TOML writes a dotted key: names between dots, a name
    holding a dot in quotes (``deployments."phase.1".headcount``, or in single quotes, which
    take no escapes). What `--set`, `--vary`, `with_changes` and a file's `remove` read. A name
    not in quotes is anything up to the next dot, as before quotes were read. A malformed path
    (an unclosed quote, an empty name, something after a closing quote) is a `ScenarioError`
    saying what is wrong and at which character, without the path or a place: the caller names
    them."""
    hint = f"a name holding a dot goes in quotes, such as {KEY_PATH_EXAMPLE}"
    if not dotted:
        raise ScenarioError(f"the key path is empty (dotted names, such as {KEY_PATH_EXAMPLE})")
    parts: list[str] = []
    at = 0
    while True:
        if dotted[at] in "\"'":
            end = _closing_quote(dotted, at)
            if end is None:
                raise ScenarioError(f"the quote at character {at + 1} is not closed ({hint})")
            quoted = dotted[at : end + 1]
            try:
                name = tomllib.loads(f"v = {quoted}")["v"]
            except tomllib.TOMLDecodeError:
                raise ScenarioError(
                    f"the name in quotes at character {at + 1}, {quoted}, is not one TOML reads "
                    '(a backslash in double quotes starts an escape, such as \\\\ or \\")'
                ) from None
            if not name:
                raise ScenarioError(f"the name in quotes at character {at + 1} is empty")
            at = end + 1
            if at < len(dotted) and dotted[at] != ".":
                raise ScenarioError(
                    f"the name in quotes at character {end + 2 - len(quoted)} is followed by "
                    f"{dotted[at]!r}, not a dot ({hint})"
                )
        else:
            end = dotted.find(".", at)
            end = len(dotted) if end < 0 else end
            name = dotted[at:end]
            if not name:
                where = (
                    "the key path starts with a dot"
                    if at == 0
                    else f"two dots together at characters {at} and {at + 1} of the key path"
                )
                raise ScenarioError(f"an empty name: {where} ({hint})")
            at = end
        parts.append(name)
        if at == len(dotted):
            return tuple(parts)
        at += 1  # past the dot
        if at == len(dotted):
            raise ScenarioError(f"an empty name: the key path ends with a dot ({hint})")


def split_key_and_value(option: str) -> tuple[str, str] | None:
    """``KEY=VALUE`` (`--set`, `--vary`) at its first ``=`` outside a key's name in quotes
    (``deployments."a=b".headcount=10``), or None without one. A quote opens where a name
    starts, as `parse_key_path` reads it; with a quote left open, at the first ``=``, so that
    reading the key says what is wrong with it."""
    at = 0
    while at < len(option):
        char = option[at]
        if char in "\"'" and (option[at - 1 : at] == "." or not option[:at].strip()):
            end = _closing_quote(option, at)
            if end is None:
                break
            at = end + 1
            continue
        if char == "=":
            return option[:at], option[at + 1 :]
        at += 1
    key, sep, value = option.partition("=")
    return (key, value) if sep else None


def _closing_quote(text: str, at: int) -> int | None:
    """Where the quote opened at `at` closes (a double quote after a backslash does not)."""
    quote = text[at]
    i = at + 1
    while i < len(text):
        if text[i] == "\\" and quote == '"':
            i += 2
            continue
        if text[i] == quote:
            return i
        i += 1
    return None


def split_key_path(dotted: str) -> KeyPath | None:
    """`parse_key_path`'s parts, or None for a malformed path."""
    try:
        return parse_key_path(dotted)
    except ScenarioError:
        return None


def key_path_text(parts: Iterable[str]) -> str:
    """A key path as `parse_key_path` reads it: a part that is not a bare TOML key (a name
    holding a dot, say) in double quotes, with TOML's escapes."""
    return ".".join(
        p if _BARE_KEY.fullmatch(p) else json.dumps(p, ensure_ascii=False) for p in parts
    )


def line_of(file: Path, loc: KeyPath) -> str:
    """', line N' of the line in `file` that sets `loc` (or the closest enclosing key or table),
    when there is one; an approximate scan of the TOML text, for messages only."""
    if not loc or not file.is_file() or file.suffix != ".toml":
        return ""
    try:
        text = file.read_text(encoding="utf-8-sig")
    except (OSError, UnicodeDecodeError):
        return ""
    return line_in_text(text, loc)


def line_in_text(text: str, loc: KeyPath) -> str:
    """', line N' of the line of TOML `text` that sets `loc` (or the closest enclosing key or
    table), when there is one; for messages only."""
    lines = text.splitlines()
    table: KeyPath = ()
    best_line, best_length = 0, 0
    for number, line in enumerate(lines, start=1):
        header = _HEADER.match(line)
        if header:
            table = _key_parts(header.group(1))
            full = table
        else:
            assignment = _ASSIGNMENT.match(line)
            if not assignment:
                continue
            full = (*table, *_key_parts(assignment.group(1)))
        if loc[: len(full)] == full and len(full) > best_length:
            best_line, best_length = number, len(full)
    return f", line {best_line}" if best_line else ""


def _is_union_tag(part: object) -> bool:
    """pydantic names the member of a union in the error location (``list[...]``)."""
    return isinstance(part, str) and ("[" in part or part.startswith("function-"))


# A member checked by a validator of its own is tagged "function-after[check(), list[...]]".
_WRAPPED = re.compile(r"^function-\w+\[[^,\[\]]*, (.*)\]$")


def _best_branch(errors: list[Any]) -> Any:
    """For a value that failed every member of a union, the error of the member whose type
    matches the value (a list given where "southwest" or a list is allowed fails as a list)."""
    first = errors[0]
    tagged = [i for i, part in enumerate(first["loc"]) if _is_union_tag(part)]
    if not tagged:
        return first
    base = tuple(first["loc"][: tagged[0]])
    value = first.get("input")
    kind = "list" if isinstance(value, list) else "dict" if isinstance(value, dict) else ""
    for error in errors:
        loc = tuple(error["loc"])
        if loc[: len(base)] == base and len(loc) > len(base):
            tag = _WRAPPED.sub(r"\1", str(loc[len(base)]))
            if kind and tag.startswith(kind):
                return error
    return first


#: The largest whole number whose digits a refusal shows as the way to write it: beyond it no
#: count of a scenario reaches (the largest take millions) and a float holds no exact whole.
LARGEST_COUNT_SHOWN = 1e15


def _whole_number_rule(key: str, value: float, typed_as: str | None = None) -> str:
    """The rule for a number with a fraction (or nan, inf) where a whole one is read.
    `typed_as` is the option and key path that typed the value (``--set period.warmup_days``),
    which says how to type it again, where a file's key says how TOML writes it."""
    if not math.isfinite(value):
        return "must be a whole number, not nan or inf"
    if abs(value) > LARGEST_COUNT_SHOWN:
        # its digits (three hundred for 1e300) would fill the message and be cut off
        return (
            "must be a whole number, written without a decimal point or exponent, and far "
            "smaller: no count in a scenario comes near it"
        )
    if value.is_integer():
        at = "" if key.isdigit() else f"{typed_as}=" if typed_as else f"{key} = "
        return f"must be a whole number, written without a decimal point: {at}{int(value)}"
    low = math.floor(value)
    return f"must be a whole number, such as {low} or {low + 1}"


def _by_sector_rule(key: str, value: Any) -> str:
    """The rule for one value (or a list) where a table of a value per sector is read, with an
    example of the table: the value given, where it is a number, for two sectors."""
    plain = isinstance(value, int | float) and not isinstance(value, bool) and value >= 0
    example = _show(value) if plain else "1000"
    return (
        f"is a table of one value per sector, such as {key} = "
        f"{{ RGV = {example}, TCA = {example} }}"
    )


#: What a scalar kind of pydantic's errors reads, in a scenario file's words
_VALUE_KINDS = {
    "int_type": "a whole number",
    "float_type": "a number",
    "bool_type": "true or false",
}


#: pydantic's range errors: the words of the rule and the name of the bound in the error's ctx
_BOUND_WORDS = {
    "greater_than_equal": ("at least", "ge"),
    "greater_than": ("more than", "gt"),
    "less_than_equal": ("at most", "le"),
    "less_than": ("less than", "lt"),
}


@dataclasses.dataclass(frozen=True)
class _Problem:
    """The first problem pydantic found, as the rules below read it: the key path (without
    union tags), the value given, pydantic's kind of error and its context, and whether the
    error is a table's key (``[key]``) rather than its value."""

    loc: KeyPath
    value: Any
    kind: str
    ctx: Mapping[str, Any]
    on_key: bool
    changed: Collection[KeyPath]
    option: str | None


def _unknown_key_rule(p: _Problem) -> str | None:
    if p.kind != "extra_forbidden":
        return None
    return "unknown key" + _did_you_mean(p.loc)


def _missing_key_rule(p: _Problem) -> str | None:
    return "required key is missing" if p.kind == "missing" else None


def _table_rule(p: _Problem) -> str | None:
    """A table given as something else: an array of tables, a value or a list."""
    if p.kind not in ("dict_type", "model_type"):
        return None
    if _show(p.value) == "an array of tables":
        # [[deployments]] in TOML: an array of tables where a table is expected
        dotted = key_path_text(p.loc)  # a name holding a dot in quotes, as the file writes it
        if entries_at(p.loc) is not None:
            return (
                f"{dotted} is a table of named entries: write [{dotted}.NAME] for each, "
                f"not [[{dotted}]]"
            )
        return f"{dotted} is a table: write [{dotted}], not [[{dotted}]]"
    if p.kind == "model_type" and str(p.ctx.get("class_name", "")).endswith("BySector"):
        # pydantic's "Input should be a valid dictionary or instance of BySector" named a class
        return _by_sector_rule(p.loc[-1], p.value)
    if not isinstance(p.value, Mapping):
        # as for a value per sector: pydantic's words named a class ("instance of Period")
        dotted = key_path_text(p.loc)
        given = "a list" if isinstance(p.value, list) else "a value"
        return f"{dotted} is a table: write [{dotted}] with its keys, not {given}"
    return None


def _date_rule(p: _Problem) -> str | None:
    if p.kind != "date_type":
        return None
    value = p.value
    if isinstance(value, dt.datetime):
        # told to write it "without quotes", as it was written
        return f"must be a date, without a time of day: {p.loc[-1]} = {value.date().isoformat()}"
    if isinstance(value, dt.time):
        return "must be a date, not a time of day, such as 2023-05-11"
    if isinstance(value, str) and _iso_date(value) is not None:
        return f"a date is written without quotes in TOML: {p.loc[-1]} = {value.strip()}"
    if isinstance(value, str) and _no_such_day(value):
        return _no_such_day(value)
    return "must be a TOML date, written without quotes, such as 2023-05-11"


def _quoted_value_rule(p: _Problem) -> str | None:
    if p.kind in ("float_type", "int_type", "bool_type") and isinstance(p.value, str):
        # '72 hours', "300", "50%", "true": a TOML number or boolean has no quotes, nor a unit
        return _text_for_a_value(p.loc[-1], p.value, p.kind)
    return None


def _unquoted_text_rule(p: _Problem) -> str | None:
    if p.kind != "string_type" or not isinstance(p.value, int | float | dt.date) or not p.loc:
        return None
    # name = 2023 was pydantic's "Input should be a valid string"
    written = p.value.isoformat() if isinstance(p.value, dt.date) else str(p.value)
    at = "" if p.loc[-1].isdigit() else f"{p.loc[-1]} = "
    return f"must be a text, written in quotes in TOML: {at}{json.dumps(written)}"


def _word_for_a_list_rule(p: _Problem) -> str | None:
    if p.kind != "list_type" or not isinstance(p.value, str):
        return None
    one = f", such as {p.loc[-1]} = {json.dumps([p.value])}"
    return "must be a list, written in brackets" + (
        one if p.value in typing.get_args(SectorCode) else f" ({p.loc[-1]} = [...]), not a word"
    )


def _literal_rule(p: _Problem) -> str | None:
    if p.kind != "literal_error":
        return None
    expected = p.ctx.get("expected", "")
    if _takes_a_list(p.loc):
        # sectors = "RGV" was "must be one of 'southwest'", as if no list were allowed
        example = [p.value] if p.value in typing.get_args(SectorCode) else ["TCA", "RGV"]
        return (
            f"must be {expected} or a list of sector codes, such as {p.loc[-1]} = "
            f"{json.dumps(example)}"
        )
    close = _closest(str(p.value), re.findall(r"'([^']+)'", expected))
    hint = f" (did you mean {close[0]!r}?)" if close else ""
    if p.on_key:
        # a table's key (headcount_by_sector = { RGX = 3 }) was shown as its value, "RGX =
        # 'RGX'"; the key is what is wrong
        return f"unknown key {p.value!r}: the keys here are {expected}{hint}"
    return f"must be one of {expected}{hint}"


def _bracketed_value_rule(p: _Problem) -> str | None:
    if p.kind not in _VALUE_KINDS or not isinstance(p.value, list | Mapping):
        return None
    # pydantic's "Input should be a valid number" for [1] did not say the brackets were wrong
    given = "a list" if isinstance(p.value, list) else "a table"
    return f"must be {_VALUE_KINDS[p.kind]}, not {given}"


def _fraction_rule(p: _Problem) -> str | None:
    if p.kind != "int_type" or not isinstance(p.value, float):
        return None
    # pydantic's "Input should be a valid integer"
    typed = p.option and any(p.loc[: len(key)] == key for key in p.changed)
    return _whole_number_rule(
        p.loc[-1], p.value, f"{p.option} {key_path_text(p.loc)}" if typed else None
    )


def _finite_rule(p: _Problem) -> str | None:
    return "must be a finite number, not nan or inf" if p.kind == "finite_number" else None


def _bound_rule(p: _Problem) -> str | None:
    if p.kind not in _BOUND_WORDS:
        return None
    # pydantic's "Input should be greater than or equal to 0", in the words of the upper
    # bounds' own checks ("must be at most 1,000,000: ...")
    words, bound = _BOUND_WORDS[p.kind]
    return f"must be {words} {p.ctx.get(bound, '?'):,.10g}"


#: The rules in a scenario file's words, by kind of error, tried in turn: the first that
#: applies gives the rule (pydantic's own message where none does)
_RULES: tuple[Callable[[_Problem], str | None], ...] = (
    _unknown_key_rule,
    _missing_key_rule,
    _table_rule,
    _date_rule,
    _quoted_value_rule,
    _unquoted_text_rule,
    _word_for_a_list_rule,
    _literal_rule,
    _bracketed_value_rule,
    _fraction_rule,
    _finite_rule,
    _bound_rule,
)


def _rule_of(p: _Problem, message: str) -> str:
    """The rule the value broke, in a scenario file's words (pydantic's `message` else)."""
    for rule_for in _RULES:
        rule = rule_for(p)
        if rule is not None:
            return rule
    return message.removeprefix("Value error, ")


def _new_entry_error(
    loc: KeyPath,
    origins: Mapping[KeyPath, Path],
    user_file: Path | None,
    changed: Collection[KeyPath],
    new_entries: Mapping[KeyPath, Collection[str]],
) -> ScenarioError | None:
    """A required key missing from an entry that the changes made (a likely misspelling of a
    name the scenario has), or None where the missing key is not in one."""
    for entry, names in new_entries.items():
        if loc[: len(entry)] != entry:
            continue
        if any(key[: len(entry)] == entry for key in changed):
            # made by a change (--set), not by a line of a file
            return ScenarioError(
                _not_an_entry(entry, names, loc),
                where=shown_path(user_file or origin_of(loc, origins)),
            )
        file = origin_of(entry, origins)  # the variant whose table made it
        return ScenarioError(
            _not_an_entry(entry, names, loc), where=f"{shown_path(file)}{line_of(file, entry)}"
        )
    return None


def _file_to_name(
    loc: KeyPath,
    origins: Mapping[KeyPath, Path],
    user_file: Path | None,
    cross_section: bool,
    rule: str,
) -> tuple[Path, str]:
    """The file the message names, and the rule with where the key shown was set where that
    is another file than the one named."""
    file = origin_of(loc, origins)
    if user_file is not None and file == defaults_path():
        # The defaults are valid on their own: what broke them is the user's file (a value it
        # set elsewhere, or a key it removed).
        return user_file, rule
    if user_file is not None and cross_section and file != user_file:
        # A rule across keys broken by the user's file (a key it set against one its base set):
        # name the user's file, and where the key shown was set.
        return user_file, f"{rule} (this key is set in {Path(file).name})"
    return file, rule


def _inherited_key_hint(
    cause: OneOfError, loc: KeyPath, value: Any, origins: Mapping[KeyPath, Path], file: Path
) -> str:
    """'; end_date is inherited from base.toml: add remove = [...]' for a variant that gives
    one of two keys where its base gave the other, '' where that is not the case."""
    if not isinstance(value, Mapping):
        return ""
    inherited = [
        key for key in cause.keys if key in value and origin_of((*loc, key), origins) != file
    ]
    if len(inherited) == 1 and all(key in value for key in cause.keys):
        key = key_path_text((*loc, inherited[0]))  # as remove reads it
        base = Path(origin_of((*loc, inherited[0]), origins)).name
        return f'; {inherited[0]} is inherited from {base}: add remove = ["{key}"]'
    return ""


def validation_error(
    err: pydantic.ValidationError,
    origins: Mapping[KeyPath, Path],
    user_file: Path | None = None,
    changed: Collection[KeyPath] = (),
    new_entries: Mapping[KeyPath, Collection[str]] | None = None,
    python_values: bool = False,
    option: str | None = None,
) -> ScenarioError:
    """One `ScenarioError` from the first problem pydantic found: file, key path, value, rule.
    A value among the `changed` key paths (a sweep's or a variant's change, not a line of any
    file) is named without a line: the file's line holds the value it replaced; with
    `python_values` (the changes were given from Python, not typed as TOML) its rule says the
    Python value to pass; with `option` (the changes were typed with ``--set``) it says how to
    type it. `new_entries`
    are the named entries (``("deployments", "troop")``) that the changes made, each with the
    names the scenario had there: one lacking a required key is named as a likely misspelling."""
    first = _best_branch(err.errors())
    loc: KeyPath = tuple(str(p) for p in first["loc"] if not _is_union_tag(p))
    value: Any = first.get("input")
    kind = first["type"]
    if kind == "missing" and new_entries:
        made = _new_entry_error(loc, origins, user_file, changed, new_entries)
        if made is not None:
            return made
    ctx = first.get("ctx") or {}
    cause = ctx.get("error")
    key_error = bool(first["loc"]) and first["loc"][-1] == "[key]"
    # a changed value given from Python is told the Python value to pass, not how TOML writes it
    from_python = python_values and any(loc[: len(key)] == key for key in changed)
    in_python = _python_rule(loc, value, kind, ctx.get("expected", "")) if from_python else None
    if isinstance(cause, CrossSectionError):
        loc = (*loc, *cause.loc)
        value, rule = cause.value, cause.rule
    elif in_python is not None:
        rule = in_python
    else:
        problem = _Problem(loc, value, kind, ctx, key_error, changed, option)
        rule = _rule_of(problem, str(first["msg"]))
    # where no spelling is close, the keys the table takes
    unknown = kind == "extra_forbidden" and rule == "unknown key"
    by_change = any(loc[: len(key)] == key for key in changed)
    listing = _keys_taken(loc, value, key_path=by_change) if unknown else ("", [])
    file, rule = _file_to_name(loc, origins, user_file, isinstance(cause, CrossSectionError), rule)
    if isinstance(cause, OneOfError):
        # A variant that gives end_date where its base gave duration_days: say how to drop it.
        rule += _inherited_key_hint(cause, loc, value, origins, file)
    return _located_error(loc, value, kind, key_error, rule, file, changed, listing)


def _located_error(
    loc: KeyPath,
    value: Any,
    kind: str,
    key_error: bool,
    rule: str,
    file: Path,
    changed: Collection[KeyPath],
    listing: tuple[str, list[str]],
) -> ScenarioError:
    """'KEY = VALUE: RULE' at the file's line that sets the key (none for a changed value),
    with the keys taken (`listing`) in the room a message has left."""
    # as --set and remove read it: a name holding a dot in quotes
    dotted = _clip(key_path_text(loc) or "(top level)", 100)
    shown = "" if kind == "missing" or key_error else f" = {_show(value)}"
    was_changed = any(loc[: len(key)] == key for key in changed)
    line = "" if was_changed else line_of(file, loc)
    where = f"{shown_path(file)}{line}"
    text = f"{dotted}{shown}: {_clip(rule, 240)}"
    if listing[1]:
        room = MAX_MESSAGE_CHARS - min(len(where), MAX_WHERE_CHARS) - len(f": {text}")
        text += _keys_in_room(listing[0], listing[1], room)
    return ScenarioError(text, where=where)
