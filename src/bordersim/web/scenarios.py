"""The scenario library and the variant editor's form: fields, variant TOML, inline errors.

A variant is a TOML file in `<scenarios>/variants/` that names its base (`base = "../X.toml"`) and
sets only what the form changed, so `bordersim run scenarios/variants/NAME.toml` runs it
unchanged. It is checked exactly as the CLI checks a file: written to a temporary file beside
where it will live, loaded and compiled; a `ScenarioError` naming a key path is shown beside the
field of that key.

Scenarios are addressed by an id from the library's own listing (`examples.small`,
`variants.my-variant`), never by a path from the browser.
"""

from __future__ import annotations

import datetime as dt
import os
import re
import tempfile
import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from bordersim.errors import BordersimError
from bordersim.model.dimensions import Task
from bordersim.scenario.loader import key_path_text
from bordersim.scenario.toml_text import dumps
from bordersim.web.settings import NAME_PATTERN, NAME_RULE

FOLDERS = ("", "examples", "variants")
POOLS = ("agent", "processing_coordinator", "national_guard", "active_duty", "contractor")
TASKS = tuple(task.name.lower() for task in Task)
ALLOCATIONS = ("load", "equal")  # how a headcount is spread over a deployment's sectors
SHOCK_FIELDS = ("date", "ramp_days", "ramp_peak_multiplier", "surge_days", "surge_multiplier")
DEPLOYMENT_FIELDS = (
    "pool",
    "headcount",
    "sectors",
    "allocation",
    "tasks",
    "start_date",
    "end_date",
    "duration_days",
    "ramp_up_days",
)
SPLIT = "headcount_by_sector"  # per-sector numbers beside a deployment's headcount
#: Keys a cleared field drops from the variant: a headcount gives way to per-sector numbers. (An
#: end date or days cleared is refused: the form shows one of the two, so nothing could replace it.)
CLEARABLE = ("headcount",)
GENERAL = "_general"  # errors that name no field of the form


@dataclass(frozen=True)
class Entry:
    id: str
    path: Path
    name: str
    description: str
    folder: str  # "", "examples" or "variants"


def library(scenarios_dir: Path) -> dict[str, Entry]:
    """Every scenario file the workbench offers, by id."""
    entries: dict[str, Entry] = {}
    for folder in FOLDERS:
        for path in sorted((scenarios_dir / folder).glob("*.toml")):
            if not NAME_PATTERN.match(path.stem):
                continue
            entry_id = f"{folder}.{path.stem}" if folder else path.stem
            name, description = _title(path)
            entries[entry_id] = Entry(entry_id, path, name, description, folder)
    return entries


def unlisted(scenarios_dir: Path) -> list[str]:
    """The scenario files the library leaves out, under the scenario folder relative to it: a
    name holding a space, a dot or another character no library id may hold (`small v2.toml`).
    The library page names them, so that a file missing from the list is not a mystery."""
    return [
        str(path.relative_to(scenarios_dir))
        for folder in FOLDERS
        for path in sorted((scenarios_dir / folder).glob("*.toml"))
        if not NAME_PATTERN.match(path.stem)
    ]


#: Why a file is not listed, and what to do (said on the library page under the list).
UNLISTED_WHY = (
    f"the library lists a file whose name is {NAME_RULE}, then .toml: rename a file to list it"
)


def _title(path: Path) -> tuple[str, str]:
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError):
        return path.stem, "(this file does not read as TOML)"
    return str(data.get("name", path.stem)), str(data.get("description", ""))


# ----- the form ------


@dataclass
class Form:
    """The editor's values as text, by field name (a scenario key path), and errors by field."""

    values: dict[str, str] = field(default_factory=dict)
    lists: dict[str, list[str]] = field(default_factory=dict)  # multi-choice fields (tasks)
    errors: dict[str, str] = field(default_factory=dict)

    def value(self, name: str) -> str:
        return self.values.get(name, "")

    def chosen(self, name: str) -> list[str]:
        return self.lists.get(name, [])


def form_from_scenario(scenario: Any) -> Form:
    """The editor's starting values: the loaded scenario's period, demand and deployments."""
    form = Form()
    values = form.values
    values["variant_name"] = ""
    values["period.start_date"] = scenario.period.start_date.isoformat()
    values["period.end_date"] = scenario.period.end_date.isoformat()
    demand = scenario.demand
    scale = getattr(demand, "scale", None)
    values["demand.scale"] = field_text(1.0 if scale is None else scale)
    by_sector = getattr(demand, "scale_by_sector", None) or {}
    for sector in scenario.sectors:
        code = getattr(sector, "name", str(sector))
        values[f"demand.scale_by_sector.{code}"] = field_text(by_sector.get(code, 1.0))
    for name, shock in demand.shocks.items():
        for key in SHOCK_FIELDS:
            values[f"demand.shocks.{name}.{key}"] = field_text(getattr(shock, key))
    for name, deployment in scenario.deployments.items():
        for key in DEPLOYMENT_FIELDS:
            value = getattr(deployment, key)
            if key == "tasks":
                form.lists[f"deployments.{name}.tasks"] = list(value)
            elif key == "sectors":
                values[f"deployments.{name}.sectors"] = (
                    value if isinstance(value, str) else ", ".join(value)
                )
            else:
                values[f"deployments.{name}.{key}"] = field_text(value)
        split = deployment.headcount_by_sector or {}
        for sector in scenario.sectors:
            code = getattr(sector, "name", str(sector))
            values[f"deployments.{name}.{SPLIT}.{code}"] = field_text(split.get(code))
    return form


def field_text(value: Any) -> str:
    """A scenario or plan value as a form field shows it: a date in ISO form, a whole float
    without its '.0', nothing for None."""
    if value is None:
        return ""
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


def form_from_post(posted: dict[str, list[str]]) -> Form:
    """The posted form. A task set is posted with an empty value first (the editor's hidden
    field), so none ticked is an empty set; a set not posted at all is left as it was."""
    form = Form()
    for key, values in posted.items():
        if key.endswith(".tasks"):
            form.lists[key] = [v for v in values if v]
        elif values:
            form.values[key] = values[-1].strip()
    return form


# ----- form -> variant ----------------------------------------------------------------------------


class FieldError(BordersimError):
    """A value the form cannot even turn into TOML (a date that is not a date)."""

    def __init__(self, field_name: str, message: str) -> None:
        self.field_name = field_name
        super().__init__(f"{field_name} = {message}")


def _parse(field_name: str, text: str, kind: str) -> Any:
    try:
        if not ascii_number(text):  # int() and float() read "٣" as 3 and "1_000" as 1000
            raise ValueError
        if kind == "date":
            return dt.date.fromisoformat(text)
        if kind == "int":
            return int(text)
        if kind == "float":
            return float(text)
        if kind == "number":  # a whole number stays one in the TOML
            return int(text) if re.fullmatch(r"[+-]?\d+", text) else float(text)
    except ValueError:
        expected = {
            "date": "a date (YYYY-MM-DD)",
            "int": "a whole number",
            "float": "a number",
            "number": "a number",
        }
        raise FieldError(field_name, f"{text!r}: expected {expected[kind]}") from None
    return text


def ascii_number(text: str) -> bool:
    """Whether a number or date typed in a form is written as a scenario file writes one: in the
    digits 0-9, without the underscores Python reads between digits."""
    return text.isascii() and "_" not in text


def _kind(key: str) -> str:
    if key.endswith("date"):
        return "date"
    if key.endswith(("_days", "headcount")):
        return "int"
    return "float"


#: Names Windows keeps for devices, in any case and with any extension.
WINDOWS_DEVICES = frozenset(
    ["CON", "PRN", "AUX", "NUL"] + [f"{port}{n}" for port in ("COM", "LPT") for n in range(10)]
)


def _saved_in_another_case(name: str, variants_dir: Path) -> str | None:
    """The name of a saved variant that is `name` in other letter case, or None."""
    if not variants_dir.is_dir():
        return None
    folded = name.casefold()
    return next(
        (p.stem for p in sorted(variants_dir.glob("*.toml")) if p.stem.casefold() == folded),
        None,
    )


def variant_data(
    form: Form, base_form: Form, base_entry: Entry, deployments: list[str], variants_dir: Path
) -> dict[str, Any]:
    """The variant's TOML data: its base, its name, and every value the form changed."""
    name = form.value("variant_name")
    if not NAME_PATTERN.match(name):
        raise FieldError(
            "variant_name",
            f"{name!r}: a variant name is {NAME_RULE}",
        )
    if name.upper() in WINDOWS_DEVICES:
        # variants/con.toml is a file Windows can neither create nor check out (any case, any
        # extension): the library could not be shared with a Windows user
        raise FieldError(
            "variant_name",
            f"{name!r}: Windows reserves this name for a device (CON, PRN, AUX, NUL, COM0-9, "
            "LPT0-9), so the file could not be checked out there; choose another name",
        )
    if (variants_dir / f"{name}.toml").exists():
        # Saving would replace a variant the user stored (or, from that variant's own editor,
        # make it its own base): a variant is saved once, under a new name.
        raise FieldError(
            "variant_name",
            f"{name!r}: a variant of this name is saved already "
            f"(variants/{name}.toml in the scenario folder); choose another name",
        )
    same = _saved_in_another_case(name, variants_dir)
    if same is not None:
        # V1 and v1 are one file on a case-insensitive file system (macOS, Windows), and two
        # entries of the library that a reader cannot tell apart
        raise FieldError(
            "variant_name",
            f"{name!r}: a variant named {same!r} is saved already (variants/{same}.toml in the "
            "scenario folder), a name that differs only in case; choose another name",
        )
    data: dict[str, Any] = {
        "base": Path(os.path.relpath(base_entry.path, variants_dir)).as_posix(),
        "name": name,
        "description": f"Variant of {base_entry.name}, saved by the bordersim workbench.",
    }
    removed = [d for d in deployments if form.value(f"remove.{d}") == "on"]
    removals = [key_path_text(["deployments", d]) for d in removed]
    for key, text in form.values.items():
        if key == "variant_name" or key.startswith(("remove.", "new_", "csrf")):
            continue
        if not key.startswith(("period.", "demand.", "deployments.")):
            continue
        parts = _key_parts(key, deployments)
        deployment_key = parts[2] if parts[0] == "deployments" and len(parts) > 2 else ""
        if parts[0] == "deployments" and (parts[1] in removed or deployment_key == SPLIT):
            continue  # a split is set as a whole (_set_split)
        if text == base_form.value(key):
            continue
        if text == "" and deployment_key in CLEARABLE:
            removals.append(key_path_text(parts))  # cleared: the base's value is dropped
            continue
        if text == "" and not key.endswith(".sectors"):
            raise _emptied(key, base_form.value(key))
        _set(data, parts, _value_of(key, text))
    for name in deployments:
        if name not in removed:
            _set_split(form, base_form, data, removals, name)
    for key, chosen in form.lists.items():
        parts = _key_parts(key, deployments)
        if parts[0] != "deployments" or parts[1] in removed:
            continue  # a new deployment's tasks are its own (_add_new_deployment)
        if chosen != base_form.chosen(key):
            _set(data, parts, list(chosen))
    if removals:
        data["remove"] = removals
    _add_new_deployment(form, data, deployments)
    _add_new_shock(form, data)
    return data


def _key_parts(key: str, deployments: list[str]) -> list[str]:
    """A field's key path as parts: `deployments.NAME.KEY` split after the name of one of the
    scenario's deployments, which may hold a dot itself (`[deployments."phase.1"]`); any other
    key at each dot."""
    for name in sorted(deployments, key=len, reverse=True):
        prefix = f"deployments.{name}."
        if key.startswith(prefix):
            return ["deployments", name, *key[len(prefix) :].split(".")]
    return key.split(".")


def _emptied(key: str, base: str) -> FieldError:
    """A field the user emptied whose key has no "none" (it was saved as if untouched, keeping
    the base's value). A browser also posts a date or number input it cannot read as empty."""
    return FieldError(key, f"{_empty_words(key)}; the base has {base}")


def _empty_words(key: str) -> str:
    """What an empty field is told: a browser also posts a date or a number it cannot read as
    empty."""
    if _kind(key) == "date":
        return "empty, or not a whole date: give one (YYYY-MM-DD)"
    return "empty, or not a number: give one"


def _check_new_entry_complete(prefix: str, entry: dict[str, Any], loc: tuple[str, ...]) -> None:
    """Refuse a new deployment or shock without a value the scenario requires of it, beside its
    field: the loader's "'extra' is not a deployment of the scenario; a new one would need ..."
    speaks of a mistyped name, and was shown above the form or beside another field."""
    from bordersim.scenario.loader import entries_at

    model = entries_at(loc)
    required = [k for k, f in model.model_fields.items() if f.is_required()] if model else []
    for key in required:
        if key in entry:
            continue
        if key == "tasks":
            raise FieldError(
                f"{prefix}.tasks", "[]: tick at least one task (a deployment must name one)"
            )
        if key != "pool":  # always posted: the list offers no empty choice
            raise FieldError(f"{prefix}.{key}", _empty_words(key))
    if prefix == "new_deployment" and "headcount" not in entry and SPLIT not in entry:
        raise FieldError(
            "new_deployment.headcount",
            f"empty: give a headcount or per-sector numbers ({SPLIT})",
        )


def _split_texts(form: Form, prefix: str) -> dict[str, str]:
    """The per-sector headcount fields under `prefix` (`deployments.NAME.headcount_by_sector.`),
    by sector code."""
    return {k[len(prefix) :]: t for k, t in form.values.items() if k.startswith(prefix)}


def _split_of(texts: dict[str, str], prefix: str) -> dict[str, Any]:
    return {code: _parse(prefix + code, t, "number") for code, t in texts.items() if t}


def _set_split(
    form: Form, base_form: Form, data: dict[str, Any], removals: list[str], name: str
) -> None:
    """A deployment's headcount and per-sector numbers: exactly one of them is given (as the
    loader requires, said beside the fields), and a changed split is written whole (a sector
    cleared is gone, not inherited from the base)."""
    prefix = f"deployments.{name}.{SPLIT}."
    base = _split_texts(base_form, prefix)
    posted = {**base, **_split_texts(form, prefix)}
    headcount_key = f"deployments.{name}.headcount"
    headcount = form.values.get(headcount_key, base_form.value(headcount_key))
    split = _split_of(posted, prefix)
    if headcount and split:
        raise FieldError(
            headcount_key,
            f"{headcount!r}: give a headcount or per-sector numbers ({SPLIT}), not both; "
            "clear one of them",
        )
    if not headcount and not split:
        raise FieldError(headcount_key, f"empty: give a headcount or per-sector numbers ({SPLIT})")
    if posted == base:
        return
    if _split_of(base, prefix):
        removals.append(key_path_text(["deployments", name, SPLIT]))  # replaced whole, or dropped
    if split:
        _set(data, ["deployments", name, SPLIT], split)


def _value_of(key: str, text: str) -> Any:
    if key.endswith(".sectors"):
        if not text.strip():
            return "southwest"  # cleared: the default, all southwest sectors
        if text.strip() in ("southwest", "all"):
            return text.strip()
        return [s.strip().upper() for s in text.split(",") if s.strip()]
    if key.endswith((".pool", ".allocation")):
        return text
    if text == "":
        return None
    return _parse(key, text, _kind(key))


def _set(data: dict[str, Any], parts: list[str], value: Any) -> None:
    """Set a key path; a path through a value the form set already (`demand.scale` and
    `demand.scale.x`, posted together) is a `FieldError`, in either order."""
    table = data
    for depth, part in enumerate(parts[:-1]):
        table = table.setdefault(part, {})
        if not isinstance(table, dict):
            raise _clash(parts, ".".join(parts[: depth + 1]))
    below = table.get(parts[-1])
    if isinstance(below, dict) and below:
        raise _clash(parts, ".".join([*parts, next(iter(below))]))
    if value is not None:
        table[parts[-1]] = value


def _clash(parts: list[str], taken: str) -> FieldError:
    message = f"refused: {taken} is set too, and a key cannot be both a value and a table"
    return FieldError(".".join(parts), message)


def _add_new_deployment(form: Form, data: dict[str, Any], deployments: list[str]) -> None:
    """A deployment the base does not have, from the form's "new deployment" fields."""
    name = form.value("new_deployment.name")
    if not name:
        _refuse_unnamed(form, "new_deployment", "deployment")
        return
    if not re.match(r"^[A-Za-z0-9_]{1,40}$", name):
        raise FieldError("new_deployment.name", f"{name!r}: use letters, digits and '_'")
    removed = f"deployments.{name}" in data.get("remove", [])
    if not removed and (name in deployments or name in data.get("deployments", {})):
        # It would be merged into that deployment (replacing the form's edits of it), not added;
        # removing that deployment in the same form frees its name.
        raise FieldError(
            "new_deployment.name", f"{name!r}: the scenario already has this deployment"
        )
    deployment: dict[str, Any] = {}
    for key in DEPLOYMENT_FIELDS:
        field_name = f"new_deployment.{key}"
        if key == "tasks":
            tasks = form.chosen(field_name)
            if tasks:
                deployment["tasks"] = tasks
            continue
        text = form.value(field_name)
        if text:
            deployment[key] = _value_of(f"deployments.{name}.{key}", text)
    split = _split_of(_split_texts(form, f"new_deployment.{SPLIT}."), f"new_deployment.{SPLIT}.")
    if split:
        if "headcount" in deployment:
            raise FieldError(
                "new_deployment.headcount",
                f"{form.value('new_deployment.headcount')!r}: give a headcount or per-sector "
                f"numbers ({SPLIT}), not both; clear one of them",
            )
        deployment[SPLIT] = split
    _check_new_entry_complete("new_deployment", deployment, ("deployments",))
    data.setdefault("deployments", {})[name] = deployment


def _refuse_unnamed(form: Form, prefix: str, what: str) -> None:
    """A new deployment or shock filled in without a name was left out of the variant without a
    word: refused beside its name instead. The pool and allocation lists always post a choice,
    so they alone do not count as filled in."""
    typed = [
        name
        for name, text in form.values.items()
        if name.startswith(f"{prefix}.") and text and name.split(".")[1] not in NAMELESS
    ]
    if typed or any(form.chosen(f"{prefix}.tasks")):
        raise FieldError(
            f"{prefix}.name",
            f"'': name the new {what}: its fields are filled in ({', '.join(typed) or 'tasks'}), "
            "and without a name it would be left out of the variant",
        )


#: A new entry's fields that a browser posts even when nothing is typed (its lists' choices).
NAMELESS = ("name", "pool", "allocation")


def _add_new_shock(form: Form, data: dict[str, Any]) -> None:
    """A demand shock the base does not have, from the form's "new shock" fields."""
    name = form.value("new_shock.name")
    if not name:
        _refuse_unnamed(form, "new_shock", "shock")
        return
    if not re.match(r"^[A-Za-z0-9_]{1,40}$", name):
        raise FieldError("new_shock.name", f"{name!r}: use letters, digits and '_'")
    if name in data.get("demand", {}).get("shocks", {}) or form.value(f"demand.shocks.{name}.date"):
        raise FieldError("new_shock.name", f"{name!r}: the scenario already has this shock")
    shock: dict[str, Any] = {}
    for key in SHOCK_FIELDS:
        text = form.value(f"new_shock.{key}")
        if text:
            shock[key] = _parse(f"new_shock.{key}", text, _kind(key))
    sectors = form.value("new_shock.sectors")
    if sectors:
        shock["sectors"] = _value_of("new_shock.sectors", sectors)
    _check_new_entry_complete("new_shock", shock, ("demand", "shocks"))
    data.setdefault("demand", {}).setdefault("shocks", {})[name] = shock


# ----- checking ------


def variant_text(data: dict[str, Any], scenarios_folder: str = "scenarios") -> str:
    """The variant file, whose comment says how to run it (the scenario folder as shown)."""
    header = "# A variant saved by the bordersim workbench (`bordersim serve`); run it with\n"
    command = f"# bordersim run {scenarios_folder}/variants/{data['name']}.toml\n"
    return header + command + dumps(data)


def check_variant(text: str, variants_dir: Path) -> Any:
    """Load and compile the variant text as the CLI would; a `BordersimError` if it is refused."""
    from bordersim.services.loading import load_and_compile

    variants_dir.mkdir(parents=True, exist_ok=True)
    handle, temporary = tempfile.mkstemp(prefix=".check-", suffix=".toml", dir=variants_dir)
    try:
        with os.fdopen(handle, "w", encoding="utf-8") as out:
            out.write(text)
        return load_and_compile(Path(temporary))
    finally:
        Path(temporary).unlink(missing_ok=True)


def field_of_error(message: str, fields: list[str]) -> str:
    """The form field an error message names (the longest key path in it, or an item of it:
    `sectors.0`), else GENERAL."""
    named = [
        f
        for f in fields
        if re.search(rf"(^|[\s:'\"(]){re.escape(f)}(\.\d+)?([\s=:'\"),]|$)", message)
    ]
    if not named:
        # a deployment or shock table as a whole ("deployments.troops: give exactly one of ...")
        tables = {".".join(f.split(".")[:2]) for f in fields if f.startswith("deployments.")}
        named = [t for t in tables if t in message]
    return max(named, key=len) if named else GENERAL


def free_variant_name(stem: str, variants_dir: Path) -> str:
    """The name the editor offers: `STEM-variant`, or `STEM-variant-2`, ... if that is taken."""
    name, number = f"{stem}-variant", 1
    while (variants_dir / f"{name}.toml").exists():
        number += 1
        name = f"{stem}-variant-{number}"
    return name


def save_variant(text: str, name: str, variants_dir: Path) -> Path:
    from bordersim.output_files import write_atomically

    return write_atomically(variants_dir / f"{name}.toml", text, new=True)
