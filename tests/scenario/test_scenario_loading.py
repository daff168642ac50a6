"""Loading, inheritance, resolved text, sources and `vary`."""

from __future__ import annotations

import json
import tomllib
from collections.abc import Callable
from pathlib import Path

import pytest
from scenario_texts import MINIMAL

from bordersim.errors import ScenarioError
from bordersim.scenario import Scenario, load_scenario, vary
from bordersim.scenario.loader import load_defaults
from repo_paths import REPO, SCENARIOS, SMALL

SHIPPED = [*sorted(SCENARIOS.glob("*.toml")), SMALL]


@pytest.mark.parametrize("path", SHIPPED, ids=lambda p: p.name)
def test_shipped_scenarios_validate(path: Path) -> None:
    scenario = load_scenario(path)
    assert isinstance(scenario, Scenario)
    assert scenario.path == path.resolve()
    assert len(scenario.hash) == 64


@pytest.mark.parametrize("path", SHIPPED, ids=lambda p: p.name)
def test_resolved_text_reloads_to_the_same_scenario(path: Path, tmp_path: Path) -> None:
    scenario = load_scenario(path)
    copy = tmp_path / "resolved.toml"
    copy.write_text(scenario.resolved_text, encoding="utf-8")
    again = load_scenario(copy)
    assert again.model_dump() == scenario.model_dump()
    assert again.hash == scenario.hash


def test_resolved_text_holds_every_default() -> None:
    scenario = load_scenario(SMALL)
    resolved = tomllib.loads(scenario.resolved_text)
    assert resolved["staff"]["pools"]["agent"]["on_duty_fraction"] == 0.18
    assert resolved["custody"]["standard_hours"] == 72.0
    assert resolved["deployments"]["troops"]["headcount"] == 300.0


def test_remove_names_an_entry_whose_name_holds_a_dot_in_quotes(tmp_path: Path) -> None:
    """A deployment named "phase.1" ([deployments."phase.1"], as TOML allows) could not be
    removed: remove split "deployments.phase.1" at every dot. A part in quotes, as TOML writes
    a dotted key, is now one name."""
    base = SMALL.read_text().replace("[deployments.troops]", '[deployments."phase.1"]')
    (tmp_path / "base.toml").write_text(base.replace('name = "small"', 'name = "dotted"'))
    for quoted in ('deployments."phase.1"', "deployments.'phase.1'"):
        variant = tmp_path / "variant.toml"
        variant.write_text(f'base = "base.toml"\nname = "v"\nremove = [{quoted!r}]\n')
        assert load_scenario(variant).deployments == {}
    variant.write_text('base = "base.toml"\nname = "v"\nremove = ["deployments.phase.1"]\n')
    with pytest.raises(ScenarioError) as refused:
        load_scenario(variant)  # unquoted, a path through "phase", as before
    assert "cannot remove 'deployments.phase.1': the base chain" in str(refused.value)


def test_a_key_path_names_an_entry_whose_name_holds_a_dot_in_quotes(tmp_path: Path) -> None:
    """`--set deployments."phase.1".headcount=10` (and `with_changes`, and `--vary`) split the
    key path at every dot, so that a deployment named "phase.1", which a file may hold, could
    not be set: "'"phase' is not a deployment of the scenario". A part in quotes, as TOML
    writes a dotted key, is now one name, in the CLI's parser and the API's alike."""
    from bordersim.commands.sweep import parse_vary
    from bordersim.services.loading import apply_settings, parse_setting

    text = SMALL.read_text().replace("[deployments.troops]", '[deployments."phase.1"]')
    file = tmp_path / "dotted.toml"
    file.write_text(text.replace('name = "small"', 'name = "dotted"'))
    base = load_scenario(file)
    for key in ('deployments."phase.1".headcount', "deployments.'phase.1'.headcount"):
        assert base.with_changes({key: 10}).deployments["phase.1"].headcount == 10
        assert (
            apply_settings(base, dict([parse_setting(f"{key}=10")]))
            .deployments["phase.1"]
            .headcount
            == 10
        )
        assert parse_vary(f"{key}=0,10").key == key
    # a name holding "=" too: the key ends at the first "=" outside its quotes
    assert parse_setting('deployments."a=b".headcount=10') == ('deployments."a=b".headcount', 10)
    # what a sweep records of the changes is in quotes too, and gives the scenario again
    changed = base.with_changes({'deployments."phase.1"': {"headcount": 10, "sectors": ["RGV"]}})
    assert list(changed.changes) == [
        'deployments."phase.1".headcount',
        'deployments."phase.1".sectors',
    ]
    assert load_scenario(file).with_changes(changed.changes).hash == changed.hash
    # an error about the value names the key path as it is typed
    with pytest.raises(ScenarioError, match=r'deployments\."phase\.1"\.headcount = -5: '):
        base.with_changes({'deployments."phase.1".headcount': -5})
    # unquoted, a path through "phase", as before; every existing form still reads
    with pytest.raises(ScenarioError, match="'phase' is not a deployment of the scenario"):
        base.with_changes({"deployments.phase.1.headcount": 10})
    assert load_scenario(SMALL).with_changes({"demand.scale": 1.5}).demand.scale == 1.5


@pytest.mark.parametrize(
    ("key", "said"),
    [
        ('deployments."phase.1.headcount', "the quote at character 13 is not closed"),
        ("deployments.'phase.1.headcount", "the quote at character 13 is not closed"),
        ("deployments..headcount", "two dots together at characters 12 and 13 of the key path"),
        (".demand.scale", "the key path starts with a dot"),
        ("demand.scale.", "the key path ends with a dot"),
        ('deployments."".headcount', "the name in quotes at character 13 is empty"),
        ('deployments."phase.1"x.headcount', "at character 13 is followed by 'x', not a dot"),
        ('deployments."phase\\q".headcount', "is not one TOML reads"),
    ],
)
def test_a_malformed_key_path_is_one_line_saying_what_is_wrong(key: str, said: str) -> None:
    """An unclosed quote or an empty name in a key path was read as names nobody wrote (or
    said 'a key path is dotted names'); `--set`, `--vary` and `with_changes` now say what is
    wrong with it and where, naming the option or the key path as given."""
    from bordersim.commands.sweep import parse_vary
    from bordersim.services.loading import parse_setting

    for parse, shown in (
        (parse_setting, f"--set {key + '=1'!r}: "),
        (lambda option: parse_vary(option.replace("=1", "=1,2")), f"--vary {key + '=1,2'!r}: "),
    ):
        with pytest.raises(ScenarioError) as refused:
            parse(f"{key}=1")
        message = str(refused.value)
        assert message.startswith(shown) and said in message and "\n" not in message
    with pytest.raises(ScenarioError) as refused:
        load_scenario(SMALL).with_changes({key: 1})
    assert f"cannot set {key!r}: " in str(refused.value) and said in str(refused.value)


def test_variant_removes_the_troops_and_keeps_the_rest() -> None:
    base = load_scenario(SCENARIOS / "2023-title42-end.toml")
    variant = load_scenario(SCENARIOS / "2023-title42-end-no-troops.toml")
    assert "title42_active_duty" in base.deployments
    assert "title42_active_duty" not in variant.deployments
    assert variant.deployments["national_guard"] == base.deployments["national_guard"]
    assert variant.deployments["contracted_support"] == base.deployments["contracted_support"]
    assert variant.period == base.period
    assert variant.name == "2023-title42-end-no-troops"
    assert variant.hash != base.hash

    covid = load_scenario(SCENARIOS / "2020-covid-support.toml")
    no_extra = load_scenario(SCENARIOS / "2020-covid-no-extra-troops.toml")
    assert set(covid.deployments) - set(no_extra.deployments) == {"covid_support_540"}
    assert covid.health.enabled and no_extra.health.enabled


def test_a_table_set_over_a_table_merges_into_it_as_in_a_file(
    write: Callable[[str, str], Path],
) -> None:
    """`--set 'custody.capacity_people={RGV=0,TCA=0}'` replaced the whole table (the other
    sectors' capacities were 'required key is missing'), where a file merges it key by key."""
    from bordersim.services.loading import apply_settings, parse_setting

    variant = write(
        "variant.toml",
        f'base = "{SMALL}"\n\n[custody]\ncapacity_people = {{RGV = 0, TCA = 0}}\n',
    )
    in_a_file = load_scenario(variant)
    base = load_scenario(SMALL)
    setting = parse_setting("custody.capacity_people={RGV=0,TCA=0}")
    on_the_command_line = apply_settings(base, dict([setting]))
    assert on_the_command_line.custody == in_a_file.custody
    capacity = on_the_command_line.custody.capacity_people
    assert (capacity.RGV, capacity.TCA) == (0, 0)
    assert capacity.SDC == base.custody.capacity_people.SDC
    # what a sweep records of the changes gives the same scenario again
    again = base.with_changes(on_the_command_line.changes)
    assert again.hash == on_the_command_line.hash
    # an error about a value inside the table names the --set as it was typed, not in Python's
    # spelling ({'RGV': -1, 'TCA': 0})
    with pytest.raises(ScenarioError) as refused:
        apply_settings(base, dict([parse_setting("custody.capacity_people={RGV=-1,TCA=0}")]))
    assert "--set custody.capacity_people={RGV=-1, TCA=0}" in str(refused.value)


def test_a_whole_number_set_with_a_decimal_point_is_told_as_a_set_value() -> None:
    """`--set period.warmup_days=1000.0` was told how a TOML file writes the key ("written
    without a decimal point: warmup_days = 1000"), not how to type it on the command line."""
    from bordersim.services.loading import apply_settings, parse_setting

    base = load_scenario(SMALL)
    with pytest.raises(ScenarioError) as refused:
        apply_settings(base, dict([parse_setting("period.warmup_days=1000.0")]))
    assert str(refused.value).endswith(
        "period.warmup_days = 1000.0: must be a whole number, written without a decimal point: "
        "--set period.warmup_days=1000"
    ), refused.value
    with pytest.raises(ScenarioError) as varied:
        apply_settings(base, dict([parse_setting("period.warmup_days=7.0")]), flag="--vary")
    assert str(varied.value).endswith("without a decimal point: --vary period.warmup_days=7")


def test_variant_overrides_one_field_of_one_deployment(
    write: Callable[[str, str], Path],
) -> None:
    write(
        "base.toml",
        MINIMAL
        + """
        [deployments.troops]
        pool = "active_duty"
        headcount = 300
        tasks = ["detection", "warehouse"]
        start_date = 2023-05-10
        duration_days = 90
        """,
    )
    variant = write(
        "variant.toml",
        """
        base = "base.toml"
        name = "variant"
        sectors = ["RGV", "TCA"]
        [deployments.troops]
        headcount = 1000
        """,
    )
    scenario = load_scenario(variant)
    troops = scenario.deployments["troops"]
    assert troops.headcount == 1000
    assert troops.tasks == ["detection", "warehouse"]  # inherited
    assert troops.start_date.isoformat() == "2023-05-10"
    assert scenario.sectors == ["RGV", "TCA"]  # lists replace, never merge
    assert scenario.sources["deployments"] == "scenario file base.toml"
    assert scenario.file_of("deployments.troops.headcount").name == "variant.toml"
    assert scenario.file_of("deployments.troops.tasks").name == "base.toml"


def test_scenario_values_replace_default_sources() -> None:
    scenario = load_scenario(SCENARIOS / "2020-covid-support.toml")
    sources = scenario.sources
    assert sources["staff.processing_coordinators"] == "scenario file 2020-covid-support.toml"
    assert "GAO-18-50" in sources["staff.pools.agent.on_duty_fraction"]
    assert sources["custody.capacity_people.RGV"] == "scenario file 2020-covid-support.toml"


def test_every_default_has_a_source_or_an_assumption() -> None:
    _values, sources = load_defaults()
    assert len(sources) > 80
    for key, text in sources.items():
        assert text.strip(), key
        assert not text.startswith("assumption: ") or len(text) > len("assumption: ") + 10, key


def test_a_scenario_needs_only_a_period_and_its_sectors(
    write: Callable[[str, str], Path],
) -> None:
    scenario = load_scenario(write("minimal.toml", MINIMAL))
    assert scenario.name == "minimal"
    assert scenario.period.warmup_days == 7
    assert scenario.deployments == {}


def test_name_defaults_to_the_file_stem(write: Callable[[str, str], Path]) -> None:
    text = MINIMAL.replace('name = "minimal"', "")
    assert load_scenario(write("my-plan.toml", text)).name == "my-plan"


def test_a_variant_without_a_name_is_named_after_its_file(
    write: Callable[[str, str], Path],
) -> None:
    """It took its base's name, so its runs and report folders were the base's."""
    write("base.toml", MINIMAL)
    variant = load_scenario(write("more-demand.toml", 'base = "base.toml"\ndemand.scale = 1.2\n'))
    assert variant.name == "more-demand"
    named = write("named.toml", 'base = "base.toml"\nname = "mine"\n')
    assert load_scenario(named).name == "mine"
    assert load_scenario(write("child.toml", 'base = "named.toml"\n')).name == "child"


def test_a_variant_without_a_description_says_what_it_changes(
    write: Callable[[str, str], Path],
) -> None:
    """It took its base's description, so a variant without the troops was described, in its
    report and in `runs`, as the scenario with them."""
    variant = write(
        "no-troops.toml",
        f'base = "{SCENARIOS / "2023-title42-end.toml"}"\n'
        'remove = ["deployments.contracted_support"]\n'
        "[deployments.title42_active_duty]\nheadcount = 0\n",
    )
    assert load_scenario(variant).description == (
        "Variant of 2023-title42-end: sets deployments.title42_active_duty.headcount; "
        "removes deployments.contracted_support."
    )
    again = write("again.toml", 'base = "no-troops.toml"\n')
    assert load_scenario(again).description == "Variant of no-troops."
    described = write("described.toml", 'base = "no-troops.toml"\ndescription = "Mine."\n')
    assert load_scenario(described).description == "Mine."
    assert load_scenario(write("child.toml", 'base = "described.toml"\n')).description == (
        "Variant of described."
    )


def test_vary_changes_one_value_and_revalidates() -> None:
    scenario = load_scenario(SMALL)
    more = vary(scenario, "deployments.troops.headcount", 900)
    assert more.deployments["troops"].headcount == 900
    assert scenario.deployments["troops"].headcount == 300  # the original is untouched
    assert more.hash != scenario.hash
    assert more.sources["deployments.troops.headcount"].startswith("varied")
    duty = vary(scenario, "staff.pools.agent.on_duty_fraction", 0.25)
    assert duty.staff.pools.agent.on_duty_fraction == 0.25
    with pytest.raises(ScenarioError, match=r"staff\.pools\.agent\.on_duty_fraction = 1\.5"):
        vary(scenario, "staff.pools.agent.on_duty_fraction", 1.5)
    # The bad value is the change, not the file's line, which holds the value it replaced.
    with pytest.raises(ScenarioError) as refused:
        vary(scenario, "deployments.troops.headcount", "a")
    assert str(refused.value).startswith(f"{SMALL}: deployments.troops.headcount = 'a'")
    with pytest.raises(ScenarioError, match=r"did you mean 'period\.warmup_days'"):
        vary(scenario, "period.warmup_day", 3)


def test_check_prints_the_resolved_scenario_and_the_summary(
    capsys: pytest.CaptureFixture[str],
) -> None:
    from bordersim.cli import main

    main(["scenario", "check", str(SMALL)])
    out = capsys.readouterr().out
    assert "[deployments.troops]" in out  # the resolved text
    assert "on_duty_fraction = 0.18" in out  # defaults included
    assert "mean daily first attempts" in out
    assert "active_duty" in out and "detection" in out  # the troops' crew
    assert "is valid" in out


def test_check_says_over_which_days_the_crews_person_days_count(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """The crews table gave "person-days" without the days they count: the reported period's
    42 days, not the 49 simulated with the warm-up (4,689 agents a day make 196,938)."""
    from bordersim.cli import main

    monkeypatch.setenv("COLUMNS", "400")  # no line wrapped inside the title
    main(["scenario", "check", "-q", str(SMALL)])
    out = capsys.readouterr().out
    assert "crews in the reported period, 2023-04-20 to 2023-05-31 (42 days;" in out
    agents = next(line for line in out.splitlines() if "│ agents" in line)
    assert [cell.strip() for cell in agents.split("│")[4:6]] == ["4,689", "196,938"]
    assert "person-days in the period" in out


def test_check_piped_shows_the_whole_hash_and_file(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """Piped (`scenario check FILE | less`, 80 columns), the summary cut the file's path and the
    scenario's hash with "…": neither could be copied or compared with a run's."""
    from bordersim.cli import main

    monkeypatch.setenv("COLUMNS", "80")
    main(["scenario", "check", "-q", str(SMALL)])
    lines = capsys.readouterr().out.splitlines()
    scenario = load_scenario(SMALL)
    assert any(f" {scenario.hash} " in line for line in lines), lines
    assert any(f" {scenario.path} " in line for line in lines), lines


def test_check_piped_prints_the_resolved_text_as_toml(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """Piped (`scenario check FILE > resolved.toml`), the resolved scenario's long lines (a
    description, a note) were wrapped at the page's width, which is no longer TOML; each line
    of the resolved text is now printed as it is."""
    from bordersim.cli import main

    path = SCENARIOS / "2023-title42-end.toml"
    main(["scenario", "check", str(path)])
    printed = [line.rstrip() for line in capsys.readouterr().out.splitlines()]
    resolved = load_scenario(path).resolved_text.splitlines()
    assert max(len(line) for line in resolved) > 140  # longer than the piped page
    assert printed[: len(resolved)] == resolved


def test_check_reads_a_quoted_file_under_the_home_folder(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """`scenario check "~/small.toml"` (quoted, or from a variable) looked for a folder named
    "~"; "~" is now the home folder, as in a path option and a scenario's base."""
    import shutil

    from bordersim.cli import main

    monkeypatch.setenv("HOME", str(tmp_path))
    shutil.copy(SMALL, tmp_path / "small.toml")
    main(["scenario", "check", "-q", "~/small.toml"])
    assert f"ok: {tmp_path / 'small.toml'} is valid" in capsys.readouterr().out


def test_check_shows_brackets_in_names_and_paths_as_written(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """The summary was Rich markup: a deployment named "[/x]" ended the command with a
    MarkupError traceback, and '[bold]' vanished from the file's path."""
    from bordersim.cli import main

    folder = tmp_path / "runs[bold]"
    folder.mkdir()
    path = folder / "odd.toml"
    troops = (
        '\n[deployments."[/x]"]\npool = "active_duty"\nheadcount = 5\ntasks = ["detection"]\n'
        "start_date = 2023-05-01\nduration_days = 3\n"
    )
    path.write_text(MINIMAL + troops, encoding="utf-8")
    monkeypatch.setenv("COLUMNS", "400")  # no line wrapped inside a name or the path
    main(["scenario", "check", "-q", str(path)])
    out = " ".join(capsys.readouterr().out.split())
    assert "deployment [/x]: active_duty" in out
    assert f"ok: {path} is valid" in out


def test_check_reads_a_relative_calibration_from_the_current_folder(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """`--calibration cal.json` is the file in the folder the user is in; it was looked for in
    the scenario's folder, and refused as missing (or another file of that name used)."""
    from bordersim.calibration import SHIPPED_ARTIFACT, load_calibration
    from bordersim.cli import main

    artifact = json.loads(SHIPPED_ARTIFACT.read_text(encoding="utf-8"))
    artifact["version"] = "own-1"
    (tmp_path / "cal.json").write_text(json.dumps(artifact), encoding="utf-8")
    assert load_calibration(tmp_path / "cal.json").version == "own-1"
    monkeypatch.chdir(tmp_path)
    main(["scenario", "check", "-q", str(SMALL), "--calibration", "cal.json"])
    out = capsys.readouterr().out
    assert "own-1" in out and "is valid" in out


def test_params_lists_defaults_with_sources(capsys: pytest.CaptureFixture[str]) -> None:
    from bordersim.cli import main

    main(["scenario", "params", "staff.pools.agent"])
    printed = capsys.readouterr().out
    out = " ".join(printed.split())
    assert "GAO-18-50" in out
    assert "staff.pools.contractor" not in out  # only the requested key paths
    # Not a terminal, so one block per parameter: its key and value on one line, whole.
    assert "staff.pools.agent.on_duty_fraction = 0.18" in printed.splitlines()


def test_params_piped_gets_blocks_however_wide_columns_says(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """docs/scenarios.md: a pipe (`| grep`, `> file`) gets one block per parameter. With COLUMNS
    exported wide (as many shells and CI runners do), a pipe got the table, its key paths and
    sources cut across lines, so that `| grep` found half a source."""
    from bordersim.cli import main

    monkeypatch.setenv("COLUMNS", "200")
    main(["scenario", "params", "staff.pools.agent"])
    printed = capsys.readouterr().out
    assert "staff.pools.agent.on_duty_fraction = 0.18" in printed.splitlines()
    assert "┃" not in printed and "│" not in printed


def test_params_with_an_unknown_prefix_is_one_error(capsys: pytest.CaptureFixture[str]) -> None:
    from bordersim.cli import main

    with pytest.raises(SystemExit) as stopped:
        main(["scenario", "params", "staff.pool.agent"])
    assert stopped.value.code == 2
    said = capsys.readouterr()
    assert "'staff.pool.agent'" in said.err and said.out == ""


def test_a_headcount_split_by_sector_reloads_from_its_resolved_text(
    write: Callable[[str, str], Path],
) -> None:
    """The resolved text writes every key, sectors = "southwest" and allocation = "load" beside
    headcount_by_sector too (as in a plan.toml's run): it must load again, while a list of
    sectors that the split would ignore is refused."""
    split = """
        [deployments.contractors]
        pool = "contractor"
        headcount_by_sector = { RGV = 120 }
        tasks = ["intake"]
        start_date = 2023-05-01
        duration_days = 30
        """
    scenario = load_scenario(write("split.toml", MINIMAL + split))
    again = load_scenario(write("resolved.toml", scenario.resolved_text))
    assert again.hash == scenario.hash
    with pytest.raises(ScenarioError, match="would ignore it: drop sectors"):
        load_scenario(write("ignored.toml", MINIMAL + split + 'sectors = ["TCA"]\n'))


@pytest.mark.parametrize(
    ("typed", "meant"),
    [("STAFF", "staff"), ("staff.pool.agent", "staff.pools.agent"), (" custody", "custody")],
)
def test_params_of_a_mistyped_prefix_names_the_close_key_path(
    typed: str, meant: str, capsys: pytest.CaptureFixture[str]
) -> None:
    """A prefix in capitals, with a letter missing or a space before it said only that no key
    path starts with it."""
    from bordersim.cli import main

    with pytest.raises(SystemExit) as stopped:
        main(["scenario", "params", typed])
    assert stopped.value.code == 2
    said = " ".join(capsys.readouterr().err.split())
    assert said == (
        f"error: no default parameter's key path starts with {typed!r} (did you mean "
        f"{meant!r}?); `bordersim scenario params` lists them all"
    ), said


def test_the_scenarios_page_says_what_params_of_a_mistyped_prefix_prints(
    capsys: pytest.CaptureFixture[str],
) -> None:
    """docs/scenarios.md said only that a prefix matching nothing is an error, not that the
    error names the closest key path: the page quotes the line `params staff.pool.agnt` prints."""
    from bordersim.cli import main

    page = " ".join((REPO / "docs" / "scenarios.md").read_text(encoding="utf-8").split())
    with pytest.raises(SystemExit):
        main(["scenario", "params", "staff.pool.agnt"])
    said = " ".join(capsys.readouterr().err.split()).removeprefix("error: ")
    assert "did you mean 'staff.pools.agent'?" in said
    assert f"``{said}``" in page, said  # in double backquotes, as the line holds one


def test_params_of_a_disease_parameter_names_where_its_default_is(
    capsys: pytest.CaptureFixture[str],
) -> None:
    """health.transmission_rate_per_day has a default, the disease's: params said that no
    default parameter's key path starts with it."""
    from bordersim.cli import main

    with pytest.raises(SystemExit) as stopped:
        main(["scenario", "params", "health.transmission_rate_per_day"])
    assert stopped.value.code == 2
    said = " ".join(capsys.readouterr().err.split())
    assert "`bordersim scenario params diseases.covid19.transmission_rate_per_day`" in said
    main(["scenario", "params", "diseases.covid19.transmission_rate_per_day"])
    printed = capsys.readouterr().out
    assert "diseases.covid19.transmission_rate_per_day" in printed
    # headed by the file its values come from, not by parameters.toml
    assert printed.startswith("diseases (") and "parameters.toml" not in printed


@pytest.mark.parametrize(
    "argv",
    [["scenario", "params"], ["scenario", "check", str(SMALL)], ["--version"]],
    ids=["params", "check", "version"],
)
def test_output_to_a_closed_pipe_ends_quietly_as_cut_off(argv: list[str]) -> None:
    """bordersim scenario params | head ended with exit status 1, as a failed command does,
    when head closed the pipe: it now ends at once, saying nothing, with 141 (128 + SIGPIPE)
    as a tool stopped by the closed pipe does. The pipe is closed before the command writes, so
    that its first line meets it."""
    import os
    import subprocess
    import sys

    env = {**os.environ, "PYTHONPATH": str(REPO / "src"), "COLUMNS": "100"}
    command = [sys.executable, "-m", "bordersim", *argv]
    child = subprocess.Popen(
        command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env, cwd=REPO
    )
    assert child.stdout is not None
    child.stdout.close()  # no reader: every write the command makes fails
    _, err = child.communicate(timeout=300)
    assert child.returncode == 141, err.decode()
    assert err.decode() == ""
