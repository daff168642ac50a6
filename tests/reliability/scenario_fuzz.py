"""A seeded scenario fuzzer: mutants of the shipped scenarios, and the rule every outcome obeys.

Each mutant is one of the shipped scenario files (or the small example) with one hostile change:
a value replaced by one of a pool of bad values (booleans, huge, negative, non-finite, wrong types,
dates far away, very long text), a key removed or invented, a hostile name, a hostile path for
`base`, `demand.calibration` or `demand.fit` (a folder, a FIFO, /dev/zero, a symlink loop, a long
name, a long inheritance chain, itself), deep nesting, or random edits of the text itself.

The rule (`check_outcome`): loading and compiling the mutant either gives a valid scenario (a safe
name, a model whose own checks pass) or raises one `BordersimError` of one line of at most
`MAX_MESSAGE` characters that names a file the user wrote (never the package defaults), within
`TIME_LIMIT_S` seconds. Anything else (another exception, a hang, a long or multi-line message) is
a failure, reported with the mutant's label so that it can be replayed from its seed.
"""

from __future__ import annotations

import datetime as dt
import os
import random
import signal
import tomllib
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from bordersim.errors import BordersimError
from bordersim.scenario.loader import defaults_path, load_defaults
from bordersim.scenario.toml_text import dumps
from repo_paths import REPO as REPO_ROOT

SHIPPED = [
    *sorted((REPO_ROOT / "scenarios").glob("*.toml")),
    REPO_ROOT / "scenarios" / "examples" / "small.toml",
]
MAX_MESSAGE = 320  # "at most about 300 characters", with the error label printed by the CLI
TIME_LIMIT_S = 20

HOSTILE_VALUES: tuple[Any, ...] = (
    True,
    False,
    0,
    -1,
    -0.5,
    1e300,
    -1e300,
    2**70,
    2**63,
    float("inf"),
    float("-inf"),
    float("nan"),
    1.5,
    1e-300,
    "",
    "x",
    "x" * 5000,
    "../../x",
    "/tmp/x",
    "[/]",
    dt.date(1, 1, 1),
    dt.date(9999, 12, 31),
    dt.date(1970, 1, 1),
    dt.datetime(2023, 5, 1, 12, 0),
    dt.time(12, 0),
    [],
    [1] * 1000,
    ["TCA", "TCA"],
    {},
    {"value": 1},
)
HOSTILE_NAMES: tuple[str, ...] = (
    "../../x",
    "/etc/passwd",
    "[/]",
    "a" * 300,
    "..",
    ".",
    "x/y",
    "con:",
    "name with spaces",
    "\u00e9t\u00e9",
    "-leading-dash",
    "ok-name",
)


@dataclass(frozen=True)
class Mutant:
    label: str
    path: Path


def _leaf_paths(node: Any, prefix: tuple[str, ...] = ()) -> Iterator[tuple[str, ...]]:
    if isinstance(node, dict):
        for key, child in node.items():
            yield from _leaf_paths(child, (*prefix, key))
    elif prefix:
        yield prefix


def _set(data: dict[str, Any], path: tuple[str, ...], value: Any) -> None:
    node = data
    for part in path[:-1]:
        child = node.get(part)
        if not isinstance(child, dict):
            child = node[part] = {}
        node = child
    node[path[-1]] = value


def _delete(data: dict[str, Any], path: tuple[str, ...]) -> None:
    node: Any = data
    for part in path[:-1]:
        node = node.get(part) if isinstance(node, dict) else None
    if isinstance(node, dict):
        node.pop(path[-1], None)


class Fuzzer:
    """Writes mutants into `folder`; the same seed gives the same mutants."""

    def __init__(self, folder: Path, seed: int) -> None:
        self.folder = folder
        self.random = random.Random(seed)
        self.count = 0
        defaults, _ = load_defaults()
        self.default_paths = list(_leaf_paths(defaults))
        self.sources = {path: path.read_text(encoding="utf-8") for path in SHIPPED}
        self.hostile_files = self._hostile_files()

    def _hostile_files(self) -> dict[str, str]:
        """Name -> path text of files no loader may hang on or trip over."""
        special = self.folder / "special"
        special.mkdir(parents=True, exist_ok=True)
        fifo = special / "fifo.toml"
        if not fifo.exists():
            os.mkfifo(fifo)
        loop = special / "loop.toml"
        if not loop.is_symlink():
            os.symlink(special / "loop2.toml", loop)
            os.symlink(loop, special / "loop2.toml")
        (special / "folder.toml").mkdir(exist_ok=True)
        big = special / "big.toml"
        if not big.exists():
            big.write_text("# " + "x" * (2 * 1024 * 1024) + "\n", encoding="utf-8")
        chain = special / "chain"
        chain.mkdir(exist_ok=True)
        for i in range(40):
            link = f'base = "c{i + 1}.toml"\n' if i < 39 else ""
            (chain / f"c{i}.toml").write_text(link + f'description = "c{i}"\n', encoding="utf-8")
        return {
            "fifo": str(fifo),
            "dev-zero": "/dev/zero",
            "symlink-loop": str(loop),
            "folder": str(special / "folder.toml"),
            "huge-file": str(big),
            "long-name": "a" * 300 + ".toml",
            "long-path": "/".join(["d" * 200] * 30),
            "missing": str(special / "missing.toml"),
            "chain-of-40": str(chain / "c0.toml"),
            "nul": "x\x00y.toml",
            "empty": "",
        }

    def mutants(self, n: int) -> Iterator[Mutant]:
        kinds = (
            self._replace_value,
            self._replace_value,
            self._replace_value,
            self._replace_default,
            self._replace_default,
            self._delete_key,
            self._unknown_key,
            self._hostile_name,
            self._hostile_base,
            self._hostile_reference,
            self._deep_nesting,
            self._text_edit,
            self._text_edit,
            self._far_dates,
            self._scale_value,
            self._scale_value,
        )
        for _ in range(n):
            source = self.random.choice(SHIPPED)
            kind = self.random.choice(kinds)
            label, text = kind(source)
            self.count += 1
            path = self.folder / f"m{self.count:05d}.toml"
            path.write_text(text, encoding="utf-8", errors="surrogatepass")
            yield Mutant(f"{self.count}: {source.name}: {label}", path)

    # ----- mutations ------------------------------------------------------------------------------
    def _data(self, source: Path) -> dict[str, Any]:
        data = tomllib.loads(self.sources[source])
        if "base" in data:
            data["base"] = str(source.parent / data["base"])
        return data

    def _dump(self, data: dict[str, Any]) -> str:
        return dumps(data)

    def _replace_value(self, source: Path) -> tuple[str, str]:
        data = self._data(source)
        paths = [p for p in _leaf_paths(data) if p[0] != "base"] or [("name",)]
        path = self.random.choice(paths)
        value = self.random.choice(HOSTILE_VALUES)
        _set(data, path, value)
        return f"{'.'.join(path)} = {repr(value)[:40]}", self._dump(data)

    def _replace_default(self, source: Path) -> tuple[str, str]:
        data = self._data(source)
        path = self.random.choice(self.default_paths)
        value = self.random.choice(HOSTILE_VALUES)
        _set(data, path, value)
        return f"{'.'.join(path)} = {repr(value)[:40]}", self._dump(data)

    def _delete_key(self, source: Path) -> tuple[str, str]:
        data = self._data(source)
        paths = list(_leaf_paths(data))
        path = self.random.choice(paths)
        _delete(data, path)
        data.setdefault("remove", []).append(".".join(self.random.choice(self.default_paths)[:2]))
        return f"delete {'.'.join(path)} and remove a default table", self._dump(data)

    def _unknown_key(self, source: Path) -> tuple[str, str]:
        data = self._data(source)
        path = (*self.random.choice(self.default_paths)[:-1], "no_such_key_" + "k" * 300)
        _set(data, path, 1)
        return f"unknown key under {'.'.join(path[:-1])}", self._dump(data)

    def _hostile_name(self, source: Path) -> tuple[str, str]:
        data = self._data(source)
        name = self.random.choice(HOSTILE_NAMES)
        data["name"] = name
        return f"name = {name[:40]!r}", self._dump(data)

    def _hostile_base(self, source: Path) -> tuple[str, str]:
        data = self._data(source)
        label = self.random.choice([*self.hostile_files, "self"])
        data["base"] = self.hostile_files.get(label, "SELF")
        text = self._dump(data)
        if label == "self":
            text = text.replace('"SELF"', f'"m{self.count + 1:05d}.toml"')
        return f"base = {label}", text

    def _hostile_reference(self, source: Path) -> tuple[str, str]:
        data = self._data(source)
        key = self.random.choice(["calibration", "fit"])
        label = self.random.choice(list(self.hostile_files))
        data.setdefault("demand", {})[key] = self.hostile_files[label]
        return f"demand.{key} = {label}", self._dump(data)

    def _deep_nesting(self, source: Path) -> tuple[str, str]:
        depth = self.random.choice([40, 2000, 100_000])
        style = self.random.choice(["array", "inline", "header"])
        text = self.sources[source]
        if source.name.startswith("2023-title42-end-no") or "base =" in text:
            text = text.replace('base = "', f'base = "{source.parent}/')
        if style == "array":
            text += "\ndeep = " + "[" * depth + "]" * depth + "\n"
        elif style == "inline":
            text += "\ndeep = " + "{a = " * depth + "1" + "}" * depth + "\n"
        else:
            text += "\n[" + ".".join(["t"] * min(depth, 5000)) + "]\nx = 1\n"
        return f"nesting {depth} deep ({style})", text

    def _text_edit(self, source: Path) -> tuple[str, str]:
        text = self.sources[source].replace('base = "', f'base = "{source.parent}/')
        chars = list(text)
        edits = self.random.randint(1, 4)
        for _ in range(edits):
            position = self.random.randrange(len(chars))
            action = self.random.choice(["delete", "insert", "replace"])
            ch = self.random.choice('[]{}"=.,#\n 0123456789e-+_\\\u00b2\u0000tfx')
            if action == "delete":
                del chars[position]
            elif action == "insert":
                chars.insert(position, ch)
            else:
                chars[position] = ch
        return f"{edits} text edits", "".join(chars)

    def _scale_value(self, source: Path) -> tuple[str, str]:
        """A plausible-looking change (a number scaled): mostly valid, so compiling is fuzzed."""
        data = self._data(source)
        defaults, _ = load_defaults()
        merged_paths = [
            p for p in [*_leaf_paths(data), *self.default_paths] if not p[-1].endswith("date")
        ]
        path = self.random.choice(merged_paths)
        node: Any = data
        for part in path:
            node = node.get(part) if isinstance(node, dict) else None
        if node is None:
            node = defaults
            for part in path:
                node = node.get(part) if isinstance(node, dict) else None
        if isinstance(node, bool) or not isinstance(node, int | float):
            return self._replace_value(source)
        factor = self.random.choice([0, 0.001, 0.5, 2, 10, 100, 1e4])
        value = type(node)(node * factor)
        _set(data, path, value)
        return f"{'.'.join(path)} = {value!r} (x{factor})", self._dump(data)

    def _far_dates(self, source: Path) -> tuple[str, str]:
        data = self._data(source)
        dated = [p for p in _leaf_paths(data) if "date" in p[-1]] or [("period", "start_date")]
        path = self.random.choice(dated)
        value = self.random.choice(
            [dt.date(1, 1, 1), dt.date(9999, 12, 31), dt.date(2200, 1, 1), 0, 20230501]
        )
        _set(data, path, value)
        if self.random.random() < 0.5:
            _set(data, ("period", "warmup_days"), self.random.choice([10**6, 3650, 10**12]))
        return f"{'.'.join(path)} = {value}", self._dump(data)


# ----- the rule ----------------------------------------------------------------------------------
class _Timeout(Exception):
    pass


def _alarm(_signum: int, _frame: object) -> None:
    raise _Timeout


def check_outcome(mutant: Mutant) -> str | None:
    """None if the mutant is handled by the rule; else what went wrong."""
    from bordersim.compiler import compile_scenario
    from bordersim.scenario import load_scenario
    from bordersim.scenario.schema import SCENARIO_NAME

    previous = signal.signal(signal.SIGALRM, _alarm)
    signal.alarm(TIME_LIMIT_S)
    try:
        scenario = load_scenario(mutant.path)
        model = compile_scenario(scenario)
        model.check()
    except BordersimError as err:
        return _check_message(str(err), mutant)
    except _Timeout:
        return f"{mutant.label}: no answer within {TIME_LIMIT_S} s"
    except Exception as err:
        return f"{mutant.label}: {type(err).__name__}: {str(err)[:200]}"
    finally:
        signal.alarm(0)
        signal.signal(signal.SIGALRM, previous)
    if not SCENARIO_NAME.fullmatch(scenario.name) or ".." in scenario.name:
        return f"{mutant.label}: accepted the unsafe name {scenario.name!r}"
    return None


def _check_message(message: str, mutant: Mutant) -> str | None:
    if "\n" in message:
        return f"{mutant.label}: message has several lines: {message[:200]!r}"
    if len(message) > MAX_MESSAGE:
        return f"{mutant.label}: message of {len(message)} characters: {message[:120]!r}"
    if str(defaults_path()) in message or defaults_path().name + ":" in message:
        return f"{mutant.label}: message names the package defaults: {message[:200]!r}"
    names_user_file = str(mutant.path.parent.name) in message or mutant.path.name in message
    if not names_user_file and "/dev/zero" not in message:
        return f"{mutant.label}: message names no file of the user: {message[:200]!r}"
    return None


def is_defaults_file(path: Path) -> bool:
    return path == defaults_path()
