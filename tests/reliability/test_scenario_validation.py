"""Scenario values and paths the validator once let through or tripped over (issue 10).

Each case is one line of `ScenarioError` naming the user's file, the key and the rule, and no
traceback, hang or write.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from bordersim.errors import ScenarioError
from bordersim.scenario import load_scenario
from bordersim.scenario.loader import DEFAULTS_NAME
from repo_paths import SMALL

SMALL_TEXT = SMALL.read_text(encoding="utf-8")


def _write(tmp_path: Path, text: str, name: str = "user.toml") -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def _refused(path: Path) -> str:
    with pytest.raises(ScenarioError) as caught:
        load_scenario(path)
    message = str(caught.value)
    assert "\n" not in message and len(message) <= 300, message
    assert DEFAULTS_NAME not in message, message
    return message


# text replacement in small.toml -> fragments of the message
CASES = {
    "boolean headcount": (("headcount = 300", "headcount = true"), ["headcount = True", "number"]),
    "integer date": (("start_date = 2023-04-20", "start_date = 0"), ["start_date = 0", "date"]),
    "date far ahead": (
        ("end_date = 2023-05-31", "end_date = 9999-12-31"),
        ["end_date = 9999-12-31", "2100-12-31"],
    ),
    "huge headcount": (
        ("headcount = 300", "headcount = 1e300"),
        ["headcount = 1e+300", "at most 1,000,000", "a million people"],
    ),
    "2^70 warm-up": (
        ("warmup_days = 7", "warmup_days = 1180591620717411303424"),
        ["warmup_days", "at most 3,650", "ten years"],
    ),
    "surge x1e300": (
        (
            "ramp_up_days = 7",
            "ramp_up_days = 7\n[demand.shocks.s]\ndate = 2023-05-12\nsurge_multiplier = 1e300",
        ),
        ["surge_multiplier", "at most 1,000"],
    ),
    "occupancy 1e300": (
        (
            'sectors = ["TCA", "RGV"]\n',
            'sectors = ["TCA", "RGV"]\ncustody.initial_occupancy_fraction = 1e300\n',
        ),
        ["initial_occupancy_fraction", "at most 100"],
    ),
    "ICE occupancy above beds": (
        (
            'sectors = ["TCA", "RGV"]\n',
            'sectors = ["TCA", "RGV"]\ndepartures.ice_initial_occupancy_beds = 30000\n',
        ),
        ["ice_initial_occupancy_beds = 30000", "25,000 ICE beds"],
    ),
    "HHS occupancy above beds": (
        ('sectors = ["TCA", "RGV"]\n', 'sectors = ["TCA", "RGV"]\ndepartures.hhs_beds = 100\n'),
        ["hhs_initial_occupancy_beds", "100 HHS beds"],
    ),
    "name as a path": (
        ('name = "small"', 'name = "../../x"'),
        ["name = '../../x'", "scenario name"],
    ),
    "absolute name": (('name = "small"', 'name = "/tmp/x"'), ["name = '/tmp/x'"]),
    "name [/]": (('name = "small"', 'name = "[/]"'), ["name = '[/]'"]),
    "long note": (
        ('description = "', 'description = "' + "x" * 5000),
        ["description", "at most 2000"],
    ),
}


@pytest.mark.parametrize("case", list(CASES))
def test_bad_value_is_one_line_naming_the_user_file(tmp_path: Path, case: str) -> None:
    (old, new), fragments = CASES[case]
    assert old in SMALL_TEXT
    path = _write(tmp_path, SMALL_TEXT.replace(old, new, 1))
    message = _refused(path)
    assert str(path) in message
    for fragment in fragments:
        assert fragment in message, message


def test_a_removed_default_is_blamed_on_the_user_file(tmp_path: Path) -> None:
    path = _write(tmp_path, 'remove = ["staff.pools"]\n' + SMALL_TEXT)
    message = _refused(path)
    assert str(path) in message and "staff.pools" in message


def test_a_name_from_an_unsafe_file_name_is_made_safe(tmp_path: Path) -> None:
    path = _write(
        tmp_path, SMALL_TEXT.replace('name = "small"\n', ""), name="my scenario [v2].toml"
    )
    assert load_scenario(path).name == "my-scenario--v2-"


@pytest.mark.parametrize(
    "target",
    ["fifo", "dev-zero", "folder", "loop", "long-name", "chain", "self", "deep", "huge"],
)
def test_every_loader_path_is_bounded(tmp_path: Path, target: str) -> None:
    base: str
    if target == "fifo":
        os.mkfifo(tmp_path / "f.toml")
        base = "f.toml"
    elif target == "dev-zero":
        base = "/dev/zero"
    elif target == "folder":
        (tmp_path / "d.toml").mkdir()
        base = "d.toml"
    elif target == "loop":
        os.symlink(tmp_path / "b.toml", tmp_path / "a.toml")
        os.symlink(tmp_path / "a.toml", tmp_path / "b.toml")
        base = "a.toml"
    elif target == "long-name":
        base = "b" * 300 + ".toml"
    elif target == "chain":
        for i in range(1000):
            _write(tmp_path, f'base = "c{i + 1}.toml"\n' if i < 999 else "", f"c{i}.toml")
        base = "c0.toml"
    elif target == "self":
        base = "user.toml"
    elif target == "huge":
        _write(tmp_path, "#" + "x" * 3_000_000, "h.toml")
        base = "h.toml"
    else:
        path = _write(tmp_path, SMALL_TEXT + "deep = " + "[" * 2000 + "]" * 2000 + "\n")
        _refused(path)
        return
    path = _write(tmp_path, f'base = "{base}"\n' + SMALL_TEXT)
    message = _refused(path)
    assert str(tmp_path.name) in message or "/dev/zero" in message, message


@pytest.mark.parametrize("key", ["calibration", "fit"])
def test_calibration_and_fit_may_not_be_a_fifo(tmp_path: Path, key: str) -> None:
    from bordersim.compiler import compile_scenario

    os.mkfifo(tmp_path / "pipe.json")
    path = _write(
        tmp_path,
        SMALL_TEXT.replace(
            'sectors = ["TCA", "RGV"]\n',
            f'sectors = ["TCA", "RGV"]\ndemand.{key} = "pipe.json"\n',
            1,
        ),
    )
    scenario = load_scenario(path)
    with pytest.raises(Exception) as caught:
        compile_scenario(scenario)
    assert "not a regular file" in str(caught.value)
