"""Bad scenario input: one `ScenarioError` naming file, key path, value and rule; exit 2."""

from __future__ import annotations

import datetime as dt
import re
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest
from scenario_texts import MINIMAL

from bordersim.cli import main
from bordersim.errors import ScenarioError
from bordersim.scenario import load_scenario
from repo_paths import SMALL

TROOPS = """
[deployments.troops]
pool = "active_duty"
headcount = 300
tasks = ["detection", "warehouse"]
start_date = 2023-05-10
duration_days = 90
"""

TOP_LEVEL_TABLES = (
    "period, policy, demand, detection, processing, custody, departures, staff, deployments, "
    "supplies, health, cost, targets"
)

# name -> (scenario text, fragments the one-line message must contain)
CASES: dict[str, tuple[str, list[str]]] = {
    "bad TOML syntax": (
        'name = "x"\nsectors = ["TCA"\n[period]\n',
        ["invalid TOML syntax", "Unclosed array (at line 3, column 1)"],
    ),
    # each said "period.start_date: required key is missing", as if one key were forgotten
    "an empty file": ("", ["sets nothing (an empty file, or comments only)", "[period]"]),
    "a file of comments only": (
        "# to do: the troops\n\n",
        ["sets nothing", "start_date and end_date, or names a base"],
    ),
    "a byte-order mark only": ("\ufeff", ["sets nothing"]),
    # tomllib's "Cannot overwrite a value (at line 8, column 16)" named no key, and "Cannot
    # declare ('period',) twice" a Python tuple
    "a key set twice": (
        MINIMAL.replace("warmup_days = 7", "warmup_days = 7\nwarmup_days = 14"),
        ["bad.toml, line 8: period.warmup_days is set twice (first on line 7)"],
    ),
    "a table declared twice": (
        MINIMAL + "\n[period]\nwarmup_days = 14\n",
        ["bad.toml, line 9: [period] is declared twice (first on line 4)", "under one header"],
    ),
    # a name holding a dot was shown unquoted, [deployments.phase.1], a table of three parts
    "a table named with a dot declared twice": (
        MINIMAL + TROOPS.replace("troops", '"phase.1"') + '\n[deployments."phase.1"]\n',
        ['line 16: [deployments."phase.1"] is declared twice (first on line 9)'],
    ),
    "a key of a table named with a dot set twice": (
        MINIMAL + TROOPS.replace("troops", '"phase.1"').replace("= 300", "= 300\nheadcount = 3"),
        ['line 12: deployments."phase.1".headcount is set twice (first on line 11)'],
    ),
    "a misspelt key of a table named with a dot": (
        MINIMAL + TROOPS.replace("troops", '"phase.1"').replace("headcount =", "headcont ="),
        ["unknown key (did you mean 'deployments.\"phase.1\".headcount'?)"],
    ),
    "an unknown key of a table named with a dot": (
        MINIMAL + TROOPS.replace("troops", '"phase.1"').replace("headcount =", "zzz ="),
        ['unknown key; the values of deployments."phase.1" are pool, headcount,'],
    ),
    # "must be one of 'southwest'", as if a list of sectors were not allowed
    "one sector given as a word": (
        MINIMAL + TROOPS + 'sectors = "RGV"\n',
        [
            "deployments.troops.sectors = 'RGV'",
            """must be 'southwest' or a list of sector codes, such as sectors = ["RGV"]""",
        ],
    ),
    "the scenario's one sector given as a word": (
        MINIMAL.replace('sectors = ["TCA", "RGV"]', 'sectors = "RGV"'),
        [
            "line 2: sectors = 'RGV'",
            """must be a list, written in brackets, such as sectors = ["RGV"]""",
        ],
    ),
    "a shock's sectors given as a deployment's": (
        MINIMAL + "\n[demand.shocks.rush]\ndate = 2023-05-01\nsurge_days = 3\n"
        'surge_multiplier = 2\nsectors = "southwest"\n',
        ["demand.shocks.rush.sectors = 'southwest'", "must be 'all' or a list of sector codes"],
    ),
    # "headcount_by_sector.RGX = 'RGX'": the key shown as its value, 3
    "an unknown sector as a key": (
        MINIMAL + TROOPS.replace("headcount = 300", "headcount_by_sector = { RGV = 100, RGX = 3 }"),
        [
            "deployments.troops.headcount_by_sector.RGX: unknown key 'RGX': the keys here are "
            "'SDC', 'ELC'",
            "(did you mean 'RGV'?)",
        ],
    ),
    # "unknown key" and nothing more, where no spelling is close
    "unknown key with no close match": (
        MINIMAL + "\n[staff.pools.marine]\non_duty_fraction = 0.3\n",
        [
            "staff.pools.marine = a table: unknown key; the keys of staff.pools are agent, "
            "processing_coordinator, national_guard, active_duty, contractor"
        ],
    ),
    "unknown top-level table with no close match": (
        MINIMAL + "\n[zzz]\na = 1\n",
        # the tables a table may be, whole, however long the file's path
        [f"zzz = a table: unknown key; the top-level tables are {TOP_LEVEL_TABLES}"],
    ),
    "unknown top-level value with no close match": (
        MINIMAL.replace('name = "minimal"', 'zzz = "minimal"'),
        [
            "zzz = 'minimal': unknown key; the top-level values are name, description, sectors, "
            "base, remove"
        ],
    ),
    # pydantic's "Input should be a valid string"
    "a text without quotes": (
        MINIMAL.replace('name = "minimal"', "name = 2023"),
        ["line 1: name = 2023", 'must be a text, written in quotes in TOML: name = "2023"'],
    ),
    "unknown key with a close match": (
        MINIMAL.replace("warmup_days = 7", "warmup_day = 7"),
        ["line 7:", "period.warmup_day = 7", "unknown key", "did you mean 'period.warmup_days'"],
    ),
    "unknown top-level section": (
        MINIMAL + "\n[deployment.troops]\npool = 'active_duty'\n",
        ["deployment = a table", "unknown key", "did you mean 'deployments'"],
    ),
    "wrong type": (
        MINIMAL.replace("warmup_days = 7", 'warmup_days = "seven"'),
        ["period.warmup_days = 'seven'", "must be a whole number, written without quotes"],
    ),
    # 'Input should be a valid number' for each, without what a valid one looks like
    "a value with its unit": (
        MINIMAL + "\n[custody]\nstandard_hours = '72 hours'\n",
        [
            "line 10: custody.standard_hours = '72 hours'",
            "must be a number without quotes or a unit in TOML (the unit is in the key's name): "
            "standard_hours = 72",
        ],
    ),
    "a whole number with its unit": (
        MINIMAL.replace("warmup_days = 7", 'warmup_days = "7 days"'),
        ["line 7: period.warmup_days = '7 days'", "must be a whole number", "warmup_days = 7"],
    ),
    "a number in quotes": (
        MINIMAL + TROOPS.replace("headcount = 300", 'headcount = "1,500"'),
        [
            "deployments.troops.headcount = '1,500'",
            "a number is written without quotes in TOML: headcount = 1500",
        ],
    ),
    # it said "scale = 13": the comma taken for a thousands separator, ten times the scale meant
    "a number with a decimal comma in quotes": (
        MINIMAL + "\n[demand]\nscale = '1,3'\n",
        ["demand.scale = '1,3'", "a number is written without quotes in TOML: scale = 1.3"],
    ),
    "a number with commas out of thousands in quotes": (
        MINIMAL + "\n[demand]\nscale = '1,3,5'\n",
        ["demand.scale = '1,3,5'", "must be a number, written without quotes in TOML, such as"],
    ),
    "a percentage for a fraction": (
        MINIMAL + "\n[custody]\ninitial_occupancy_fraction = '50%'\n",
        ["a fraction is a number from 0 to 1, without quotes: initial_occupancy_fraction = 0.5"],
    ),
    "dollars in quotes": (
        MINIMAL + "\n[cost]\nice_transfer_dollars = '$1,200'\n",
        ["cost.ice_transfer_dollars = '$1,200'", "ice_transfer_dollars = 1200"],
    ),
    "a number of a list in quotes": (
        MINIMAL + "\n[demand]\ndiurnal_profile_fraction = [" + "0.04, " * 23 + "'0.08']\n",
        ["demand.diurnal_profile_fraction.23 = '0.08'", "without quotes in TOML: 0.08"],
    ),
    "a boolean in quotes": (
        MINIMAL + "\n[custody.decompression]\nenabled = 'yes'\n",
        ["custody.decompression.enabled = 'yes'", "must be true or false", "enabled = true"],
    ),
    "a date in quotes": (
        # 'Input should be a valid date', though it is one: TOML dates have no quotes
        MINIMAL.replace("start_date = 2023-04-20", 'start_date = "2023-04-20"'),
        [
            "line 5: period.start_date = '2023-04-20'",
            "a date is written without quotes in TOML: start_date = 2023-04-20",
        ],
    ),
    "a date with a time of day": (
        # was told to write the date without quotes, as it was written
        MINIMAL.replace("start_date = 2023-04-20", "start_date = 2023-04-20T10:00:00"),
        [
            "line 5: period.start_date = 2023-04-20T10:00:00",
            "must be a date, without a time of day: start_date = 2023-04-20",
        ],
    ),
    "a time of day for a date": (
        MINIMAL.replace("start_date = 2023-04-20", "start_date = 10:00:00"),
        ["period.start_date = 10:00:00: must be a date, not a time of day, such as 2023-05-11"],
    ),
    "a date as a number": (
        MINIMAL.replace("start_date = 2023-04-20", "start_date = 20230420"),
        ["period.start_date = 20230420", "must be a TOML date, written without quotes"],
    ),
    "negative headcount": (
        MINIMAL + TROOPS.replace("headcount = 300", "headcount = -300"),
        ["line 11:", "deployments.troops.headcount = -300: must be at least 0"],
    ),
    "a deployment of no days": (
        # pydantic's "Input should be greater than 0"
        MINIMAL + TROOPS.replace("duration_days = 90", "duration_days = 0"),
        ["line 14:", "deployments.troops.duration_days = 0: must be more than 0"],
    ),
    "a whole number of days written with a decimal point": (
        # pydantic's "Input should be a valid integer", for a value that is one
        MINIMAL + TROOPS.replace("duration_days = 90", "duration_days = 90.0"),
        [
            "duration_days = 90.0: must be a whole number, written without a decimal point: "
            "duration_days = 90"
        ],
    ),
    "a fractional number of days": (
        MINIMAL + TROOPS.replace("duration_days = 90", "duration_days = 2.5"),
        ["deployments.troops.duration_days = 2.5: must be a whole number, such as 2 or 3"],
    ),
    "days that are not a number": (
        MINIMAL + TROOPS.replace("duration_days = 90", "duration_days = nan"),
        ["deployments.troops.duration_days = nan: must be a whole number, not nan or inf"],
    ),
    "a fraction that is not a number": (
        # pydantic's "Input should be a finite number"
        MINIMAL + "\n[demand.surrender_fraction]\nsingle_adult = inf\n",
        ["demand.surrender_fraction.single_adult = inf: must be a finite number, not nan or inf"],
    ),
    "a fractional headcount": (
        # accepted before: people come whole (the workbench's form took whole numbers only)
        MINIMAL + TROOPS.replace("headcount = 300", "headcount = 1.5"),
        ["line 11:", "deployments.troops.headcount = 1.5", "must be a whole number of people"],
    ),
    "a fractional headcount in a sector split": (
        MINIMAL + TROOPS.replace("headcount = 300", "headcount_by_sector = { RGV = 2.25 }"),
        ["deployments.troops.headcount_by_sector.RGV = 2.25", "such as 2 or 3"],
    ),
    "a fractional standing staff count": (
        # accepted before, as deployments' headcounts were refused: standing staff come whole too
        MINIMAL + "\n[staff]\nprocessing_coordinators = 1200.5\n",
        [
            "line 10:",
            "staff.processing_coordinators = 1200.5",
            "must be a whole number of people",
            "such as 1200 or 1201",
        ],
    ),
    "a fractional standing staff count in a sector": (
        MINIMAL + "\n[staff.agents_by_sector]\nRGV = 300\nTCA = 400.25\n",
        ["line 11:", "staff.agents_by_sector.TCA = 400.25", "must be a whole number of people"],
    ),
    "end before start": (
        MINIMAL.replace("end_date = 2023-05-31", "end_date = 2023-03-31"),
        ["period.end_date = 2023-03-31", "is before start_date 2023-04-20"],
    ),
    "deployment ends before it starts": (
        MINIMAL + TROOPS.replace("duration_days = 90", "end_date = 2023-05-01"),
        ["deployments.troops.end_date = 2023-05-01", "is before start_date 2023-05-10"],
    ),
    "troops to the field": (
        MINIMAL + TROOPS.replace('"detection", "warehouse"', '"detection", "field"'),
        [
            "line 12:",
            "deployments.troops.tasks = 'field'",
            "the law forbids active_duty to do field",
        ],
    ),
    "guard on custody watch": (
        MINIMAL
        + TROOPS.replace("active_duty", "national_guard").replace(
            '"detection", "warehouse"', '"custody_watch"'
        ),
        ["deployments.troops.tasks = 'custody_watch'", "the law forbids national_guard"],
    ),
    "troops on determination": (
        MINIMAL + TROOPS.replace('"detection", "warehouse"', '"determination"'),
        ["deployments.troops.tasks = 'determination'", "the law forbids"],
    ),
    "deployment to a sector not in the scenario": (
        MINIMAL + TROOPS + 'sectors = ["TCA", "EPT"]\n',
        ["deployments.troops.sectors = 'EPT'", "not one of the scenario's sectors (TCA, RGV)"],
    ),
    "a deployment to an empty list of sectors": (
        MINIMAL + TROOPS + "sectors = []\n",
        ["line 15:", "deployments.troops.sectors = []", "at least 1 item"],
    ),
    "a deployment to a sector listed twice": (
        # spread by load over ["RGV", "RGV"], half the headcount went nowhere
        MINIMAL + TROOPS + 'sectors = ["RGV", "RGV"]\n',
        ["line 15:", "deployments.troops.sectors = ['RGV', 'RGV']", "listed more than once: RGV"],
    ),
    "the scenario's sectors with one listed twice": (
        # named the whole list ("listed more than once: ['RGV', 'TCA', 'RGV']"), not the sector
        MINIMAL.replace('sectors = ["TCA", "RGV"]', 'sectors = ["RGV", "TCA", "RGV"]'),
        ["line 2: sectors = ['RGV', 'TCA', 'RGV']: sectors are listed more than once: RGV"],
    ),
    "a shock on a sector listed twice": (
        # the shock's multiplier was applied once per entry: squared in RGV
        MINIMAL
        + "\n[demand.shocks.s]\ndate = 2023-05-11\nsurge_days = 5\nsurge_multiplier = 2.0\n"
        + 'sectors = ["TCA", "RGV", "RGV"]\n',
        ["demand.shocks.s.sectors = ['TCA', 'RGV', 'RGV']", "listed more than once: RGV"],
    ),
    "a release policy on a sector listed twice": (
        MINIMAL
        + "\n[policy.release_policies.p]\nstart_date = 2023-05-11\nshare_fraction = 0.5\n"
        + 'occupancy_fraction = 1.0\nsectors = ["RGV", "RGV"]\n',
        ["policy.release_policies.p.sectors = ['RGV', 'RGV']", "listed more than once: RGV"],
    ),
    "a release policy blocked before it starts": (
        # it was never in force, and nothing said so
        MINIMAL
        + "\n[policy.release_policies.p]\nstart_date = 2023-05-11\nblocked_date = 2023-05-01\n"
        + "share_fraction = 0.5\noccupancy_fraction = 1.0\n",
        [
            "line 11: policy.release_policies.p.blocked_date = 2023-05-01",
            "is not after start_date 2023-05-11",
            "never be in force",
        ],
    ),
    "a headcount split by sector with sectors to spread it over": (
        # sectors was ignored: the people went to RGV, not to TCA as written
        MINIMAL
        + TROOPS.replace("headcount = 300", "headcount_by_sector = { RGV = 300 }")
        + 'sectors = ["TCA"]\n',
        [
            "line 15: deployments.troops.sectors = ['TCA']",
            "headcount_by_sector gives each sector's own and would ignore it",
        ],
    ),
    "a demand scale of a million": (
        # accepted as "a million people" and simulated: billions of crossers a day
        MINIMAL + "\n[demand]\nscale = 1e6\n",
        ["line 10: demand.scale = 1000000.0", "at most 1,000", "a thousand times normal demand"],
    ),
    "a sector's demand scale of a million": (
        MINIMAL + "\n[demand.scale_by_sector]\nRGV = 1e6\n",
        ["demand.scale_by_sector.RGV = 1000000.0", "at most 1,000"],
    ),
    "deployments as an array of tables": (
        # shown as Python's "[{'pool': 'active_duty', 'start_date': datetime.date(...)}]"
        MINIMAL + TROOPS.replace("[deployments.troops]", "[[deployments]]"),
        [
            "line 9: deployments = an array of tables",
            "write [deployments.NAME] for each, not [[deployments]]",
        ],
    ),
    "the period as an array of tables": (
        MINIMAL.replace("[period]", "[[period]]"),
        ["period = an array of tables", "write [period], not [[period]]"],
    ),
    "unknown sector code": (
        MINIMAL.replace('sectors = ["TCA", "RGV"]', 'sectors = ["TCA", "RGX"]'),
        ["sectors.1 = 'RGX'", "must be one of", "did you mean 'RGV'"],
    ),
    "a sector code in lower case": (
        MINIMAL.replace('sectors = ["TCA", "RGV"]', 'sectors = ["TCA", "rgv"]'),
        ["sectors.1 = 'rgv'", "must be one of", "(did you mean 'RGV'?)"],
    ),
    "a sector key in lower case in a per-sector table": (
        MINIMAL + "\n[staff.agents_by_sector]\nrgv = 5000\n",
        ["staff.agents_by_sector.rgv = 5000", "unknown key", "'staff.agents_by_sector.RGV'?"],
    ),
    "unknown sector key in a per-sector table": (
        MINIMAL + "\n[custody.capacity_people]\nRGX = 5000\n",
        ["custody.capacity_people.RGX = 5000", "unknown key", "did you mean"],
    ),
    "hourly shares not summing to 1": (
        MINIMAL + "\n[demand]\ndiurnal_profile_fraction = " + str([0.05] * 24) + "\n",
        ["demand.diurnal_profile_fraction", "must sum to 1, they sum to 1.2"],
    ),
    "probability above 1": (
        MINIMAL + "\n[demand.surrender_fraction]\nsingle_adult = 1.5\n",
        ["demand.surrender_fraction.single_adult = 1.5: must be at most 1"],
    ),
    "a task name that does not exist": (
        MINIMAL + TROOPS.replace('"detection", "warehouse"', '"detecton"'),
        ["deployments.troops.tasks.0 = 'detecton'", "did you mean 'detection'"],
    ),
    "both headcount and headcount_by_sector": (
        MINIMAL + TROOPS + "headcount_by_sector = { TCA = 100 }\n",
        ["deployments.troops", "exactly one of headcount and headcount_by_sector"],
    ),
    "a deployment's task listed twice": (
        # was taken without a word, as a list of the tasks it names once
        MINIMAL
        + TROOPS.replace('["detection", "warehouse"]', '["detection", "warehouse", "detection"]'),
        [
            "deployments.troops.tasks = ['detection', 'warehouse', 'detection']: tasks are "
            "listed more than once: detection"
        ],
    ),
    "decompression of a demographic listed twice": (
        # named the whole list again, not the demographic listed twice
        MINIMAL
        + "\n[custody.decompression]\n"
        + 'demographics = ["single_adult", "family_unit", "single_adult"]\n',
        [
            "custody.decompression.demographics = ['single_adult', 'family_unit', "
            "'single_adult']: demographics are listed more than once: single_adult"
        ],
    ),
    "decompression receiving above its sending threshold": (
        MINIMAL
        + "\n[custody.decompression]\nenabled = true\nsend_above_fraction = 1.0\n"
        + "receive_below_fraction = 1.2\n",
        [
            "custody.decompression.receive_below_fraction = 1.2",
            "is above send_above_fraction 1.0",
        ],
    ),
    "decompression ending before it starts": (
        MINIMAL
        + "\n[custody.decompression]\nenabled = true\nstart_date = 2023-05-10\n"
        + "end_date = 2023-05-01\n",
        ["custody.decompression.end_date = 2023-05-01", "is before start_date 2023-05-10"],
    ),
    "decompression of an unknown demographic": (
        MINIMAL + '\n[custody.decompression]\ndemographics = ["single_adults"]\n',
        ["custody.decompression.demographics.0 = 'single_adults'", "did you mean 'single_adult'"],
    ),
    "decompression with negative seats": (
        MINIMAL + "\n[custody.decompression]\nseats_per_day = -5\n",
        ["custody.decompression.seats_per_day = -5: must be at least 0"],
    ),
    "removing a key path that is not inherited": (
        'remove = ["deployments.nothing"]\n' + MINIMAL,
        ["line 1: remove: cannot remove 'deployments.nothing'"],
    ),
}


@pytest.mark.parametrize("case", list(CASES), ids=list(CASES))
def test_bad_scenario_gets_one_clear_error(
    case: str, write: Callable[[str, str], Path], capsys: pytest.CaptureFixture[str]
) -> None:
    text, fragments = CASES[case]
    path = write("bad.toml", text)
    with pytest.raises(SystemExit) as exit_info:
        main(["scenario", "check", str(path)])
    assert exit_info.value.code == 2
    captured = capsys.readouterr()
    message = " ".join(captured.err.split())  # Rich may wrap a long line on a narrow terminal
    assert "Traceback" not in captured.err
    assert "Input should" not in message  # pydantic's words, not bordersim's
    assert captured.out == ""
    assert str(path) in message
    for fragment in fragments:
        assert fragment in message, f"{fragment!r} not in {message!r}"
    with pytest.raises(ScenarioError):
        load_scenario(path)


def test_the_keys_an_unknown_table_could_be_are_listed_whole_under_a_long_path(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """Every top-level key was listed, which a message cut at 300 characters lost the end of
    (from 'deployments' on) once the file's folder was long, as the user's often are."""
    folder = tmp_path / ("scenarios-of-the-southwest-border-" * 3) / "variants-under-review"
    folder.mkdir(parents=True)
    path = folder / "bad.toml"
    path.write_text(MINIMAL + "\n[zzz]\na = 1\n", encoding="utf-8")
    with pytest.raises(SystemExit):
        main(["scenario", "check", str(path)])
    message = " ".join(capsys.readouterr().err.split())
    assert message.endswith(f"the top-level tables are {TOP_LEVEL_TABLES}"), message


def test_missing_base_file(
    write: Callable[[str, str], Path], capsys: pytest.CaptureFixture[str]
) -> None:
    path = write("variant.toml", 'base = "no-such-base.toml"\nname = "v"\n')
    with pytest.raises(SystemExit) as exit_info:
        main(["scenario", "check", str(path)])
    assert exit_info.value.code == 2
    message = " ".join(capsys.readouterr().err.split())
    # a long path is shortened from its start ("...") when the message runs long (a long tmp_path)
    said = re.fullmatch(
        r"error: (?:\.\.\.)?(\S+), line 1: base = 'no-such-base.toml': no such scenario file "
        r"\(looked for (?:\.\.\.)?(\S+)\)",
        message,
    )
    assert said is not None, message
    assert str(path).endswith(said.group(1)), message
    assert str(path.parent / "no-such-base.toml").endswith(said.group(2)), message
    assert said.group(2).endswith("/no-such-base.toml"), message


@pytest.mark.parametrize(
    ("line", "rule"),
    [
        (
            "[custody]\ncapacity_people = 5",
            "custody.capacity_people = 5: is a table of one value per sector, such as "
            "capacity_people = { RGV = 5, TCA = 5 }",
        ),
        (
            "[staff]\nagents_by_sector = [1, 2]",
            "staff.agents_by_sector = [1, 2]: is a table of one value per sector, such as "
            "agents_by_sector = { RGV = 1000, TCA = 1000 }",
        ),
    ],
)
def test_one_value_where_a_value_per_sector_is_read_is_told_the_table(
    line: str, rule: str, write: Callable[[str, str], Path]
) -> None:
    """capacity_people = 5 was refused in pydantic's words, "Input should be a valid dictionary
    or instance of BySector": a class of the code, not how to write a value per sector."""
    path = write("variant.toml", f'base = "{SMALL}"\n{line}\n')
    with pytest.raises(ScenarioError) as refused:
        load_scenario(path)
    assert str(refused.value) == f"{path}, line 3: {rule}"


@pytest.mark.parametrize(
    ("line", "rule"),
    [
        ("[demand]\nscale = [1]", "demand.scale = [1]: must be a number, not a list"),
        (
            "[period]\nwarmup_days = [7]",
            "period.warmup_days = [7]: must be a whole number, not a list",
        ),
        (
            "[period]\nwarmup_days = {a = 1}",
            "period.warmup_days = a table: must be a whole number, not a table",
        ),
    ],
)
def test_a_list_or_table_where_a_number_is_read_is_told_so(
    line: str, rule: str, write: Callable[[str, str], Path]
) -> None:
    """scale = [1] was refused in pydantic's words, "Input should be a valid number", which does
    not say that the brackets are what is wrong."""
    path = write("variant.toml", f'base = "{SMALL}"\n{line}\n')
    with pytest.raises(ScenarioError) as refused:
        load_scenario(path)
    assert str(refused.value) == f"{path}, line 3: {rule}"


@pytest.mark.parametrize(
    ("line", "rule"),
    [
        ("period = 3", "period = 3: period is a table: write [period] with its keys, not a value"),
        (
            "[deployments]\ntroops = 0",
            "deployments.troops = 0: deployments.troops is a table: write [deployments.troops] "
            "with its keys, not a value",
        ),
    ],
)
def test_a_value_where_a_table_is_read_is_told_the_table(
    line: str, rule: str, write: Callable[[str, str], Path]
) -> None:
    """period = 3 was refused in pydantic's words, "Input should be a valid dictionary or
    instance of Period", naming a class of the code."""
    path = write("variant.toml", f'base = "{SMALL}"\n{line}\n')
    with pytest.raises(ScenarioError) as refused:
        load_scenario(path)
    assert str(refused.value).endswith(f": {rule}")
    assert "line " in str(refused.value)


def test_a_base_under_the_home_folder_is_found_by_tilde(
    write: Callable[[str, str], Path], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """base = "~/x.toml" was looked for as a folder named "~" beside the variant, where
    demand.calibration and demand.fit expand "~" to the home folder."""
    home = tmp_path / "home"
    home.mkdir()
    monkeypatch.setenv("HOME", str(home))
    (home / "base.toml").write_text(MINIMAL, encoding="utf-8")
    path = write("variant.toml", 'base = "~/base.toml"\nname = "v"\n')
    assert load_scenario(path).name == "v"


def test_a_calibration_under_an_unknown_users_home_is_one_line(
    write: Callable[[str, str], Path], capsys: pytest.CaptureFixture[str]
) -> None:
    """demand.calibration = "~nobody/..." of no such user ended in a RuntimeError traceback."""
    text = f'base = "{SMALL}"\n[demand]\ncalibration = "~no-such-user-55/cal.json"\n'
    path = write("variant.toml", text)
    with pytest.raises(SystemExit) as exit_info:
        main(["scenario", "check", "-q", str(path)])
    assert exit_info.value.code == 2
    message = " ".join(capsys.readouterr().err.split())
    assert message == (
        f"error: {path}, line 3: demand.calibration = '~no-such-user-55/cal.json': cannot find "
        "the home folder it names"
    )


@pytest.mark.parametrize(("value", "shown"), [("5", "5"), ('["a.toml"]', "['a.toml']")])
def test_a_base_that_is_not_a_path_is_named_once_with_its_line(
    value: str, shown: str, write: Callable[[str, str], Path]
) -> None:
    """It said "FILE: base: base must be a file path (a string), got 5": the key twice, and no
    line, where every other bad value is "FILE, line N: key = value: rule"."""
    path = write("variant.toml", f'name = "v"\nbase = {value}\n')
    with pytest.raises(ScenarioError) as error:
        load_scenario(path)
    assert str(error.value) == f"{path}, line 2: base = {shown}: must be a file path (a string)"


@pytest.mark.parametrize("value", ['""', '" "'])
def test_an_empty_base_is_refused_as_empty_not_as_no_string(
    value: str, write: Callable[[str, str], Path]
) -> None:
    """base = "" said "must be a file path (a string)", though it is a string: it is refused as
    empty, with what to write instead."""
    path = write("variant.toml", f'name = "v"\nbase = {value}\n')
    with pytest.raises(ScenarioError) as error:
        load_scenario(path)
    assert str(error.value) == (
        f"{path}, line 2: base = {value.replace(chr(34), chr(39))}: is empty; name the scenario "
        "file this one changes, or leave base out"
    )


def test_a_base_that_is_a_folder_names_the_file_that_names_it(
    write: Callable[[str, str], Path],
) -> None:
    """The message named only the folder: not which file's base it was."""
    path = write("variant.toml", 'base = "older"\n')
    (path.parent / "older").mkdir()
    with pytest.raises(ScenarioError) as error:
        load_scenario(path)
    assert str(error.value) == (
        f"{path}, line 1: base = 'older': is a folder ({path.parent / 'older'}); name a "
        "scenario file in it"
    )


def test_inheritance_cycle(write: Callable[[str, str], Path]) -> None:
    a = write("a.toml", 'base = "b.toml"\n' + MINIMAL)
    b = write("b.toml", 'base = "c.toml"\n')
    write("c.toml", 'base = "a.toml"\n')
    with pytest.raises(ScenarioError, match="inheritance cycle") as error:
        load_scenario(b)
    message = str(error.value)
    # the chain in the order the bases name each other, from the file loaded (it read
    # "a.toml -> c.toml -> b.toml -> b.toml", neither order nor the cycle)
    cycle = "b.toml -> c.toml -> a.toml -> b.toml"
    # a.toml's base closes it
    assert message == f"{a}, line 1: base = 'b.toml': inheritance cycle: {cycle}"


def test_the_error_names_the_file_that_set_the_bad_value(
    write: Callable[[str, str], Path],
) -> None:
    write("base.toml", MINIMAL + TROOPS)
    variant = write("variant.toml", 'base = "base.toml"\n[deployments.troops]\ntasks = ["field"]\n')
    with pytest.raises(ScenarioError) as error:
        load_scenario(variant)
    message = str(error.value)
    assert message.startswith(f"{variant}, line 3:")
    assert "deployments.troops.tasks = 'field'" in message


@pytest.mark.parametrize(
    "argv",
    [
        ["scenario", "check", "nowhere.toml"],
        ["run", "nowhere.toml", "--engine", "flow"],
        ["fit", "nowhere.toml"],
        ["validate", "nowhere.toml"],
        ["sweep", "nowhere.toml", "--vary", "demand.scale=1,2"],
    ],
    ids=lambda argv: argv[0],
)
def test_missing_scenario_file(
    argv: list[str],
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    """scenario check said "scenario file not found: it does not exist" and sweep "scenario
    file not found: FILE" where run, fit, validate and compare say "FILE: no such scenario
    file": every command says it alike."""
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("BORDERSIM_STORE", str(tmp_path / "store" / "bordersim.duckdb"))
    with pytest.raises(SystemExit) as exit_info:
        main(argv)
    assert exit_info.value.code == 2
    err = capsys.readouterr().err.strip()
    assert err.endswith("nowhere.toml: no such scenario file"), err


def test_date_outside_the_calibration(
    write: Callable[[str, str], Path],
    calibration: object,
    capsys: pytest.CaptureFixture[str],
) -> None:
    text = MINIMAL.replace("2023-04-20", "1990-04-20").replace("2023-05-31", "1990-05-31")
    path = write("old.toml", text)
    with pytest.raises(SystemExit) as exit_info:
        main(["scenario", "check", str(path)])
    assert exit_info.value.code == 2
    message = " ".join(capsys.readouterr().err.split())
    assert f"{path}" in message
    assert "period.start_date = 1990-04-20" in message
    assert "before the calibration" in message


def test_check_as_a_subprocess_prints_one_line_and_exits_2(
    write: Callable[[str, str], Path],
) -> None:
    path = write("bad.toml", MINIMAL + TROOPS.replace('"warehouse"', '"field"'))
    done = subprocess.run(
        [str(Path(sys.executable).parent / "bordersim"), "scenario", "check", str(path)],
        capture_output=True,
        text=True,
        env={"COLUMNS": "400", "PATH": ""},
        check=False,
    )
    assert done.returncode == 2, done.stderr
    assert done.stdout == ""
    assert len(done.stderr.strip().splitlines()) == 1
    assert "the law forbids active_duty to do field" in done.stderr


def test_the_command_ends_with_its_whole_output() -> None:
    """A finished `bordersim` command ends without the interpreter's teardown (`cli._end_now`):
    its output through a pipe is still whole and its exit status 0."""
    scenario = Path(__file__).resolve().parents[2] / "scenarios" / "examples" / "small.toml"
    done = subprocess.run(
        [str(Path(sys.executable).parent / "bordersim"), "scenario", "check", str(scenario)],
        capture_output=True,
        text=True,
        env={"COLUMNS": "400", "PATH": ""},
        check=False,
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.rstrip().endswith(f"ok: {scenario} is valid")


@pytest.mark.parametrize(
    "argv",
    [
        ["run", "--set", "deployments.troop.headcount=0"],
        ["sweep", "--vary", "deployments.troop.headcount=0,300"],
    ],
    ids=["run --set", "sweep --vary"],
)
def test_a_misspelt_deployment_on_the_command_line_is_named_with_the_close_name(
    argv: list[str], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """`troop` for `troops` in --set or --vary: not 'deployments.troop.pool: required key is
    missing', but that the scenario has no such deployment, and the close name."""
    scenario = Path(__file__).resolve().parents[2] / "scenarios" / "examples" / "small.toml"
    command, *options = argv
    store, out = tmp_path / "s.duckdb", tmp_path / "out"
    with pytest.raises(SystemExit) as exit_info:
        main([command, str(scenario), *options, "--store", str(store), "--out", str(out)])
    assert exit_info.value.code == 2
    captured = capsys.readouterr()
    message = " ".join(captured.err.split())
    assert message.startswith(f"error: {options[0]} deployments.troop.headcount=0: ")
    assert "'troop' is not a deployment of the scenario (did you mean 'troops'?)" in message
    assert "required key is missing" not in message
    assert captured.out == "" and not out.exists()


def test_a_new_entry_named_with_a_dot_is_quoted_as_a_key_path(
    write: Callable[[str, str], Path],
) -> None:
    """A variant's new deployment "a.b" without its pool was named deployments.a.b and told it
    needs deployments.a.b.pool: key paths of other parts than the file's."""
    variant = write(
        "variant.toml", f'base = "{SMALL.as_posix()}"\n[deployments."a.b"]\nheadcount = 5\n'
    )
    with pytest.raises(ScenarioError) as refused:
        load_scenario(variant)
    assert str(refused.value).endswith(
        """deployments."a.b": 'a.b' is not a deployment of the scenario; a new one would need """
        'deployments."a.b".pool'
    ), refused.value


def test_a_new_deployment_set_whole_is_still_a_deployment() -> None:
    """Setting every required key of a new deployment adds it: the new name is not refused."""
    import datetime as dt

    scenario = load_scenario(
        Path(__file__).resolve().parents[2] / "scenarios" / "examples" / "small.toml"
    )
    guard = {"pool": "national_guard", "headcount": 100, "tasks": ["detection"],
             "start_date": dt.date(2023, 5, 1), "duration_days": 30}  # fmt: skip
    changed = scenario.with_changes({f"deployments.guard.{k}": v for k, v in guard.items()})
    assert set(changed.deployments) == {"troops", "guard"}
    with pytest.raises(ScenarioError, match="'guard' is not a deployment of the scenario"):
        scenario.with_changes({"deployments.guard.headcount": 100})


@pytest.mark.parametrize(
    ("days", "multiplier"),
    [("surge_days", "surge_multiplier"), ("ramp_days", "ramp_peak_multiplier")],
)
def test_a_shock_multiplier_without_days_is_refused(
    days: str, multiplier: str, write: Callable[[str, str], Path]
) -> None:
    """`surge_multiplier = 2` alone (surge_days 0, the default) changed no day's demand."""
    shock = f"\n[demand.shocks.rush]\ndate = 2023-05-11\n{multiplier} = 2.0\n"
    with pytest.raises(ScenarioError) as error:
        load_scenario(write("rush.toml", MINIMAL + shock))
    message = str(error.value)
    assert f"line 11: demand.shocks.rush.{multiplier} = 2.0" in message
    assert f"applies to no day while {days} is 0" in message
    # with its days, the multiplier is on the days it says
    ok = load_scenario(write("rush-ok.toml", MINIMAL + shock + f"{days} = 1\n"))
    assert getattr(ok.demand.shocks["rush"], multiplier) == 2.0


def test_a_missing_calibration_names_the_scenario_and_its_key(
    write: Callable[[str, str], Path], capsys: pytest.CaptureFixture[str]
) -> None:
    """The artifact's error named only the artifact, not the file and key that named it."""
    path = write("other-counts.toml", MINIMAL + '\n[demand]\ncalibration = "counts.json"\n')
    with pytest.raises(SystemExit) as exit_info:
        main(["scenario", "check", str(path)])
    assert exit_info.value.code == 2
    message = " ".join(capsys.readouterr().err.split())
    assert message == (
        f"error: {path}, line 10: demand.calibration = 'counts.json': "
        f"{path.parent / 'counts.json'}: no such calibration artifact"  # as a missing file is named
    )


def test_a_missing_calibration_from_the_option_names_the_option(
    write: Callable[[str, str], Path],
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    """`scenario check --calibration` gave the value: the error named the scenario file, which
    does not set demand.calibration."""
    path = write("plain.toml", MINIMAL)
    monkeypatch.chdir(tmp_path)
    with pytest.raises(SystemExit) as exit_info:
        main(["scenario", "check", "--calibration", "nowhere.json", str(path)])
    assert exit_info.value.code == 2
    message = " ".join(capsys.readouterr().err.split())
    # named once, as typed: not again as the key it set and twice more as an absolute path
    assert message == "error: --calibration nowhere.json: no such calibration artifact"
    assert str(path) not in message


@pytest.mark.parametrize("given", ["DEFAULT", " default"])
def test_default_misspelt_for_the_calibration_option_is_named_as_such(
    given: str,
    write: Callable[[str, str], Path],
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    """`--calibration DEFAULT` (or " default") was looked for as a file and refused as "no such
    calibration artifact", without a word of the shipped calibration that was meant."""
    path = write("plain.toml", MINIMAL)
    monkeypatch.chdir(tmp_path)
    with pytest.raises(SystemExit) as exit_info:
        main(["scenario", "check", "--calibration", given, str(path)])
    assert exit_info.value.code == 2
    message = capsys.readouterr().err.strip()
    assert message == (
        f"error: --calibration {given!r}: no such calibration artifact (did you mean default, "
        "the shipped calibration?)"
    ), message


def test_a_malformed_calibration_from_the_option_is_named_once(
    write: Callable[[str, str], Path],
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    """The option's artifact was named three times: as typed, as the key's value and as the
    artifact's own absolute path."""
    path = write("plain.toml", MINIMAL)
    (tmp_path / "broken.json").write_text("{not json", encoding="utf-8")
    monkeypatch.chdir(tmp_path)
    with pytest.raises(SystemExit) as exit_info:
        main(["scenario", "check", "--calibration", "broken.json", str(path)])
    assert exit_info.value.code == 2
    message = " ".join(capsys.readouterr().err.split())
    assert message.startswith("error: --calibration broken.json: ")
    assert message.count("broken.json") == 1, message


def test_a_misspelt_deployment_in_a_variant_file_is_named_with_the_close_name(
    write: Callable[[str, str], Path],
) -> None:
    """A variant that changes one field of a deployment its base lacks made a new one, and the
    message was 'deployments.troop.pool: required key is missing'."""
    write("base.toml", MINIMAL + TROOPS)
    variant = write("variant.toml", 'base = "base.toml"\n\n[deployments.troop]\nheadcount = 0\n')
    with pytest.raises(ScenarioError) as error:
        load_scenario(variant)
    assert str(error.value) == (
        f"{variant}, line 3: deployments.troop: 'troop' is not a deployment of the scenario "
        "(did you mean 'troops'?); a new one would need deployments.troop.pool"
    )
    # a file without a base declares its entries: a missing key is named as such
    alone = write("alone.toml", MINIMAL + "\n[deployments.troop]\nheadcount = 0\n")
    with pytest.raises(ScenarioError, match=r"deployments\.troop\.pool: required key is missing"):
        load_scenario(alone)


@pytest.mark.parametrize(
    ("removed", "line", "rule"),
    [
        ('["period.warmup_days"]', 2, "'period.warmup_days' has a default (21); set it instead"),
        (
            '[\n  "period",\n]',
            3,
            "'period' holds defaults (period.warmup_days = 21); set them instead",
        ),
        (
            '[\n  "deployments.troops",\n  "deployments.troops",\n]',
            4,
            "'deployments.troops' is listed twice",
        ),
        (
            # was "FILE: remove: remove must be ...": the key twice, and no line
            '"deployments.troops"',
            2,
            "must be a list of key paths such as [\"deployments.NAME\"], got 'deployments.troops'",
        ),
    ],
    ids=["a default", "a table of defaults", "listed twice", "not a list"],
)
def test_a_remove_that_cannot_be_is_named_at_its_entry(
    removed: str, line: int, rule: str, write: Callable[[str, str], Path]
) -> None:
    """Removing a default left the scenario without it ('period.warmup_days: required key is
    missing', not naming the remove), and a path listed twice was 'no such key path'."""
    write("base.toml", MINIMAL + TROOPS)
    variant = write("variant.toml", f'base = "base.toml"\nremove = {removed}\n')
    with pytest.raises(ScenarioError) as refused:
        load_scenario(variant)
    assert str(refused.value) == f"{variant}, line {line}: remove: {rule}"


def test_a_remove_in_a_file_without_a_base_says_there_is_no_base(
    write: Callable[[str, str], Path],
) -> None:
    """remove = [...] in a scenario without base was told "the base chain has no such key
    path", of a chain it does not have: remove takes away what a base sets, which it says."""
    alone = write("alone.toml", 'remove = ["deployments.troops"]\n' + MINIMAL + TROOPS)
    with pytest.raises(ScenarioError) as refused:
        load_scenario(alone)
    assert str(refused.value) == (
        f"{alone}, line 1: remove: cannot remove 'deployments.troops': this file names no base, "
        'and remove takes away what a base sets; leave the keys out, or give a base = "FILE"'
    )


def test_brackets_in_a_message_are_shown_as_written(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """The message was printed as Rich markup: '[bold]' vanished from a folder's name, and a
    value such as '[/b]' ended the command with a traceback (MarkupError)."""
    folder = tmp_path / "runs[bold]"
    folder.mkdir()
    path = folder / "odd.toml"
    path.write_text(MINIMAL.replace('["TCA", "RGV"]', '["TCA", "[/b]"]'), encoding="utf-8")
    with pytest.raises(SystemExit) as exit_info:
        main(["scenario", "check", str(path)])
    assert exit_info.value.code == 2
    message = " ".join(capsys.readouterr().err.split())
    assert message.startswith(f"error: {path}, line 3: sectors.1 = '[/b]': must be one of")


def test_a_byte_order_mark_is_not_a_syntax_error(tmp_path: Path) -> None:
    """A file saved by Notepad starts with a byte-order mark; it was refused as 'invalid TOML
    syntax: Invalid statement (at line 1, column 1)'."""
    path = tmp_path / "notepad.toml"
    path.write_bytes(b"\xef\xbb\xbf" + MINIMAL.lstrip().replace("\n", "\r\n").encode())
    assert load_scenario(path).sectors == ["TCA", "RGV"]
    path.write_bytes(b"\xef\xbb\xbf" + MINIMAL.lstrip().replace("minimal", "../up").encode())
    with pytest.raises(ScenarioError) as error:
        load_scenario(path)
    assert str(error.value).startswith(f"{path}, line 1: name = '../up'")  # the mark's line


def test_a_variant_giving_end_date_where_its_base_gave_duration_days_is_told_what_to_remove(
    write: Callable[[str, str], Path],
) -> None:
    """The message said only 'give exactly one of end_date and duration_days', though the
    variant gave one: the other came from its base, and only `remove` drops it."""
    write("base.toml", MINIMAL + TROOPS)
    text = 'base = "base.toml"\n\n[deployments.troops]\nend_date = 2023-06-30\n'
    variant = write("variant.toml", text)
    with pytest.raises(ScenarioError) as error:
        load_scenario(variant)
    assert str(error.value) == (
        f"{variant}, line 3: deployments.troops = a table: give exactly one of end_date and "
        "duration_days; duration_days is inherited from base.toml: add "
        'remove = ["deployments.troops.duration_days"]'
    )
    fixed = write("fixed.toml", 'remove = ["deployments.troops.duration_days"]\n' + text)
    assert load_scenario(fixed).deployments["troops"].last_date == dt.date(2023, 6, 30)


@pytest.mark.parametrize(
    ("text", "named"),
    [
        (
            "[processing]\nstations_per_holding_place = 0\n",
            "processing.stations_per_holding_place = 0",
        ),
        ("[processing]\nstation_places = 0\n", "processing.station_places = 0"),
        (
            "[custody.capacity_people]\n"
            + "".join(
                f"{s} = 0\n"
                for s in ("SDC", "ELC", "YUM", "TCA", "EPT", "BBT", "DRT", "LRT", "RGV")
            ),
            "custody.capacity_people = 0 in every sector",
        ),
    ],
    ids=["no stations per place", "no station places", "no holding place"],
)
def test_a_border_without_processing_stations_is_refused(
    write: Callable[[str, str], Path],
    calibration: object,
    capsys: pytest.CaptureFixture[str],
    text: str,
    named: str,
) -> None:
    """No station anywhere kept everyone apprehended in custody for good: a run of 86,000 people
    held, none processed, reported as a result."""
    path = write("no-stations.toml", MINIMAL + text)
    with pytest.raises(SystemExit) as exit_info:
        main(["scenario", "check", str(path)])
    assert exit_info.value.code == 2
    message = " ".join(capsys.readouterr().err.split())
    line = 8 if named.startswith("custody") else 9  # a table is found at its header
    assert f"{path}, line {line}: {named}: the border would have no processing station" in message


def test_the_calibration_option_says_it_takes_default() -> None:
    """scenario check --help said "Calibration artifact to compile against (default: the
    scenario's)." under the metavar PATH, where docs/scenarios.md says it takes `default` (the
    shipped calibration) or a path: the help now says so too."""
    import typer

    from bordersim.cli import _register, app

    _register()
    scenario_group = typer.main.get_command(app).commands["scenario"]  # type: ignore[attr-defined]
    check = scenario_group.commands["check"]
    (option,) = (param for param in check.params if param.name == "calibration")
    assert "default for the shipped one" in (option.help or "")
    assert "demand.calibration" in (option.help or "")
