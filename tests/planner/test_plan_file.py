"""Plan files: the shipped ones load; bad ones get one line naming the key and the rule."""

from __future__ import annotations

import dataclasses
import datetime as dt
import json
import os
import re
import signal
import subprocess
import sys
import textwrap
from pathlib import Path

import numpy as np
import pytest

from bordersim.model.dimensions import Pool, Task
from bordersim.planner import PlanError, load_plan, parse_plan
from bordersim.planner import plan as bs_plan
from repo_paths import REPO

BORDERSIM = str(Path(sys.executable).parent / "bordersim")

GOOD = """
replace = ["troops"]
[pools.active_duty]
tasks = ["intake", "warehouse"]
max_headcount = 100
"""


@pytest.mark.parametrize("path", sorted((REPO / "plans").rglob("*.toml")))
def test_shipped_plan_files_load(path: Path) -> None:
    spec = load_plan(path)
    assert spec.pools and spec.window_days >= spec.min_tour_days
    # the base scenario a shipped plan names exists (the workbench offers it first)
    assert spec.scenario is not None and (path.parent / spec.scenario).is_file()


def test_a_plan_states_its_objective_with_every_target_and_its_level() -> None:
    """Neither bordersim plan nor the report's answer said what the plan was for: the report
    gave the targets certified but no target's level, the terminal a cost alone; both now
    open with the objective, every target the plan file sets with its level, the probability
    and the stress."""
    from bordersim.planner.output import objective_words

    spec = parse_plan(
        GOOD
        + "[targets]\nwithin_72h = 0.9\ngotaway_share_max = 0.3\nalpha = 0.1\n"
        + '[pools.contractor]\ntasks = ["intake"]\nmax_headcount = 50\n',
        "good.toml",
    )
    assert objective_words(spec) == (
        "the cheapest deployment of active_duty and contractor such that, in every sector and "
        "target week, the share out of custody within 72 h is at least 0.9, the children's "
        "share out of custody within 72 h is at least 0.95 and the got-aways' share of attempts "
        "is at most 0.3, each with a probability of at least 90 %"
    )
    stressed = dataclasses.replace(spec, demand_scale=2.5)
    assert objective_words(stressed).endswith("at least 90 % (at demand x 2.5)")
    paths = parse_plan(GOOD + '[forecast]\norigin = "2023-04"\npaths = 8\n', "paths.toml")
    assert objective_words(paths).endswith(
        "at least 95 % (over 8 sample paths of the demand forecast from 2023-04)"
    )
    one = parse_plan(GOOD + '[forecast]\norigin = "2023-03"\nquantiles = [0.9]\n', "q.toml")
    assert objective_words(one).endswith(
        "at least 95 % (for quantile 0.9 of the demand forecast from 2023-03)"
    )


@pytest.mark.parametrize(
    ("cap", "value", "shown"),
    [
        ("max_headcount", "1e300", "1e+300"),
        ("max_headcount", "1000010", "1000010"),
        ("max_per_sector", "2e6", "2000000.0"),
    ],
)
def test_a_cap_beyond_any_border_operation_is_refused(cap: str, value: str, shown: str) -> None:
    """max_headcount = 1e300 was taken as a pool's cap, where a scenario refuses a headcount
    above a million people; a plan file's caps are now refused above it, with their line."""
    good = GOOD.replace("max_headcount = 100", "max_headcount = 1000000\nmax_per_sector = 1000")
    text = re.sub(rf"{cap} = \d+", f"{cap} = {value}", good)
    line = 5 if cap == "max_headcount" else 6
    with pytest.raises(PlanError) as refused:
        parse_plan(text, "bad.toml")
    assert str(refused.value) == (
        f"bad.toml, line {line}: pools.active_duty.{cap} = {shown}: must be at most "
        "1,000,000: a million people is beyond any border operation"
    )
    assert parse_plan(good, "good.toml").pools[0].max_headcount == 1_000_000


def test_a_cap_per_sector_above_the_border_wide_cap_is_refused() -> None:
    """max_per_sector = 500 beside max_headcount = 100 was taken without a word, a cap per
    sector that caps nothing (no sector can hold more than the whole border); it is refused
    with its line. A cap per sector equal to the border-wide one is taken."""
    text = GOOD.replace("max_headcount = 100", "max_headcount = 100\nmax_per_sector = 500")
    with pytest.raises(PlanError) as refused:
        parse_plan(text, "bad.toml")
    assert str(refused.value) == (
        "bad.toml, line 6: pools.active_duty.max_per_sector = 500: is above the pool's "
        "max_headcount (100), its cap on the whole border, so it caps no sector; give at most "
        "max_headcount, or leave the key out"
    )
    same = parse_plan(text.replace("= 500", "= 100"), "good.toml").pools[0]
    assert same.max_per_sector == same.max_headcount == 100


def test_defaults() -> None:
    spec = parse_plan(GOOD, "good.toml")
    assert spec.targets.within_72h == 0.95 and spec.targets.alpha == 0.05
    assert spec.pools[0].pool == Pool.ACTIVE_DUTY
    assert spec.pools[0].tasks == (Task.INTAKE, Task.WAREHOUSE)
    assert spec.search.bound_seconds == 180


def test_a_plans_probability_is_given_with_its_digits() -> None:
    """alpha = 0.001 was "a probability of at least 100%" in the objective (and the report and
    plan.toml), and a share of 0.975 was "98%": percentages are given with the digits they
    have."""
    from bordersim.planner.output import objective_words, percent

    text = "[targets]\nwithin_72h = 0.975\nalpha = 0.001\n[search]\ncertify_replications = 3000\n"
    spec = parse_plan(GOOD + text, "good.toml")
    assert objective_words(spec).endswith("each with a probability of at least 99.9 %")
    assert [percent(q) for q in (0.975, 0.95, 0.999, 1.0, 0.9999999)] == [
        "97.5 %",
        "95 %",
        "99.9 %",
        "100 %",
        "99.99999 %",
    ]


def test_the_planners_percentages_have_a_space_before_the_sign() -> None:
    """bordersim plan printed "gap 52.1%", "a probability of at least 95%" and "at 95%
    confidence" where every other command, and the workbench, write "52.1 %"."""
    from bordersim.planner.output import gap_percent, objective_words, percent

    assert percent(0.95) == "95 %" and percent(0.975) == "97.5 %"
    assert gap_percent(0.521) == "52.1 %" and gap_percent(1.0) == "100.0 %"
    spec = parse_plan(GOOD, "good.toml")
    assert objective_words(spec).endswith("each with a probability of at least 95 %")
    with pytest.raises(PlanError) as refused:
        parse_plan(GOOD + "[search]\ncertify_replications = 20\n", "bad.toml")
    assert str(refused.value).endswith("certify a probability of 95 % at 95 % confidence")
    assert not re.search(r"\d%", str(refused.value))


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (GOOD.replace('"warehouse"', '"custody_watch"'), "Posse Comitatus"),
        (GOOD.replace('"warehouse"', '"field"'), "forbids active_duty to do field"),
        (GOOD.replace("[pools.active_duty]", "[pools.agent]"), "agents are not planned"),
        (GOOD + "[windows]\ndays = 10\nmin_tour_days = 30\n", "minimum tour"),
        (GOOD + "[targets]\nwithin_72h = 1.5\n", "targets.within_72h = 1.5"),
        (GOOD + "[targets]\nwithin_72hours = 0.9\n", "unknown key"),
        (GOOD + "[search]\nbound_seconds = 1.5\n", "search.bound_seconds = 1.5"),
        (GOOD.replace("max_headcount = 100", ""), "max_headcount"),
        ("pools = 3", "must be a table"),
        ("scenario = 3\n" + GOOD, "scenario = 3: must be a path"),
        # "not valid TOML: ...", where a scenario file says "invalid TOML syntax: ...", and
        # names a key set twice with its line
        ("[pools", "bad.toml: invalid TOML syntax: Expected ']' at the end of a table declaration"),
        (
            GOOD + "max_headcount = 5\n",
            "bad.toml, line 6: pools.active_duty.max_headcount is set twice (first on line 5): a "
            "key is set once in a file",
        ),
        # a traceback (RecursionError), where a scenario file so nested is one line
        (
            "a = " + "[" * 5000 + "]" * 5000,
            "cannot be parsed (RecursionError): nesting deeper than 16 levels or a value out of "
            "range",
        ),
    ],
)
def test_bad_plan_files_name_the_key_and_rule(text: str, expected: str) -> None:
    with pytest.raises(PlanError) as raised:
        parse_plan(text, "bad.toml")
    message = str(raised.value)
    assert re.match(r"bad\.toml(, line \d+)?: ", message), message
    assert expected in message and "\n" not in message


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (
            GOOD + "[targets]\nwithin_72h = 1.5\n",
            "bad.toml, line 7: targets.within_72h = 1.5: must be above 0 and at most 1",
        ),
        # a share of 0 is met by every plan: planned in full for a target that binds nothing
        (
            GOOD + "[targets]\nwithin_72h = 0\n",
            "bad.toml, line 7: targets.within_72h = 0: must be above 0 and at most 1: a share "
            "of 0 is met by every plan",
        ),
        (
            GOOD + "[targets]\ngotaway_share_max = 1\n",
            "bad.toml, line 7: targets.gotaway_share_max = 1: must be at least 0 and below 1: a "
            "cap of 1 is met by every plan; leave the key out for no cap",
        ),
        (
            GOOD + "[targets]\nchildren_within_72h = 0.0\n",
            "bad.toml, line 7: targets.children_within_72h = 0.0: must be above 0 and at most 1: "
            "a share of 0 is met by every plan",
        ),
        (
            GOOD.replace("max_headcount = 100", "max_headcount = -3"),
            "bad.toml, line 5: pools.active_duty.max_headcount = -3: must be at least 0",
        ),
        (
            GOOD.replace('"warehouse"', '"typing"'),
            "bad.toml, line 4: pools.active_duty.tasks = 'typing': unknown task",
        ),
        (GOOD + "[search]\nsed = 3\n", "bad.toml, line 7: search.sed = 3: unknown key"),
        # billions of replications ended the search in "first replication out of range: 0";
        # the limit read 1000000 here and 1,000,000 for --replications
        (
            GOOD + "[search]\nreplications = 100000000000\n",
            "bad.toml, line 7: search.replications = 100000000000: must be a whole number of at "
            "least 2 and at most 1,000,000",
        ),
        # TOML's nan and inf passed every bound and crashed the fluid program (HiGHS model error)
        (
            GOOD + "[targets]\nwithin_72h = nan\n",
            "bad.toml, line 7: targets.within_72h = nan: must be a finite number",
        ),
        (
            GOOD.replace("max_headcount = 100", "max_headcount = nan"),
            "bad.toml, line 5: pools.active_duty.max_headcount = nan: must be a finite number",
        ),
        (
            "demand_scale = inf\n" + GOOD,
            "bad.toml, line 1: demand_scale = inf: must be a finite number",
        ),
        # headcounts come in whole steps: a cap under one step forbade the pool without a word
        (
            GOOD.replace("max_headcount = 100", "max_headcount = 5"),
            "bad.toml, line 5: pools.active_duty.max_headcount = 5: is below the pool's step "
            "(10): headcounts come in whole steps, so the pool could never be deployed",
        ),
        (
            GOOD + "max_per_sector = 20\nstep = 25\n",
            "bad.toml, line 6: pools.active_duty.max_per_sector = 20: is below the pool's step "
            "(25)",
        ),
        (  # TOML's true was read as the share 1
            GOOD + "[search]\nfrontier = [0.9, true]\n",
            "bad.toml, line 7: search.frontier = [0.9, True]: must be a list of shares in (0, 1]",
        ),
        # an unknown pool was "unknown key (allowed: active_duty, agent, ...)", offering agents,
        # which are then refused
        (
            GOOD.replace("[pools.active_duty]", "[pools.marines]"),
            "bad.toml, line 3: pools.marines = 'marines': unknown pool (plannable: active_duty, "
            "national_guard, contractor, processing_coordinator)",
        ),
        (
            GOOD.replace("[pools.active_duty]", "[pools.Active_Duty]"),
            "bad.toml, line 3: pools.Active_Duty = 'Active_Duty': unknown pool (plannable: ",
        ),
        # too few to certify: refused as the file is read, not after compiling the scenario
        (
            GOOD + "[search]\ncertify_replications = 20\n",
            "bad.toml, line 7: search.certify_replications = 20: at least 59 are needed to "
            "certify a probability of 95 % at 95 % confidence",
        ),
        (
            GOOD + "[search]\ncertify_replications = 200\n[targets]\nalpha = 0.01\n",
            "bad.toml, line 7: search.certify_replications = 200: at least 299 are needed to "
            "certify a probability of 99 % at 95 % confidence",
        ),
        # a TOML date-time is a datetime.date too: it passed, then crashed build_problem
        # (TypeError: can't compare datetime.datetime to datetime.date)
        (
            GOOD + "available_from = 2023-05-01T00:00:00\n",
            "bad.toml, line 6: pools.active_duty.available_from = "
            "datetime.datetime(2023, 5, 1, 0, 0): must be a TOML date",
        ),
        (
            GOOD + "available_from = 2023-05-01T00:00:00Z\n",
            "bad.toml, line 6: pools.active_duty.available_from = datetime.datetime(",
        ),
        (
            GOOD + 'available_from = "2023-05-01"\n',
            "bad.toml, line 6: pools.active_duty.available_from = '2023-05-01': must be a TOML "
            "date",
        ),
        # passed, and plan.toml failed after the search, naming the plan's temporary folder
        (
            GOOD.replace('["troops"]', '["troops", "troops"]'),
            "bad.toml, line 2: replace = ['troops', 'troops']: lists 'troops' twice; name it once",
        ),
        # passed, and the terminal, the report and plan.toml said "(on intake, intake)"
        (
            GOOD.replace('["intake", "warehouse"]', '["intake", "warehouse", "intake"]'),
            "bad.toml, line 4: pools.active_duty.tasks = ['intake', 'warehouse', 'intake']: "
            "lists 'intake' twice; name it once",
        ),
        # named the plan "3" in its certificate; a list was shown as the workbench's description
        ("name = 3" + GOOD, "bad.toml, line 1: name = 3: must be a non-empty text in quotes"),
        (
            "description = [1]" + GOOD,
            "bad.toml, line 1: description = [1]: must be a non-empty text in quotes",
        ),
        # said "at least 69077550 are needed to certify a probability of 100% at 100%
        # confidence", a count no plan may run, for levels that are not 100 %
        (
            GOOD + "[targets]\nalpha = 1e-7\nconfidence = 0.999\n",
            "bad.toml, line 7: targets.alpha = 1e-07: certifying a probability of 99.99999 % at "
            "99.9 % confidence needs 69,077,550 replications, more than a plan may run "
            "(1,000,000); raise targets.alpha or lower targets.confidence",
        ),
        (
            GOOD + "[targets]\nalpha = 0.001\n[search]\ncertify_replications = 100\n",
            "bad.toml, line 9: search.certify_replications = 100: at least 2,995 are needed to "
            "certify a probability of 99.9 % at 95 % confidence",
        ),
        # planned the frontier's 90 % twice, a search each
        (
            GOOD + "[search]\nfrontier = [0.9, 0.95, 0.90]\n",
            "bad.toml, line 7: search.frontier = [0.9, 0.95, 0.9]: lists 0.9 twice; give it once",
        ),
        # two shares that read the same (90%) were planned twice, a search each, and the
        # report's frontier showed two rows of 90%
        (
            GOOD + "[search]\nfrontier = [0.9, 0.95, 0.9000000000001]\n",
            "bad.toml, line 7: search.frontier = [0.9, 0.95, 0.9000000000001]: lists 0.9 and "
            "0.9000000000001, which read the same (90 %); give the share once",
        ),
        # passed, and the search stopped with "seed must be between 0 and 2**63 - 1", naming
        # no file, line or key
        (
            GOOD + "[search]\nseed = 100000000000000000000000\n",
            "bad.toml, line 7: search.seed = 100000000000000000000000: must be a whole number "
            "from 0 to 2^62 (each stage of the plan seeds its replications at an offset from it, "
            "and a seed is at most 2^63 - 1)",
        ),
        # planned in full (search, certification, bound, frontier) with nothing to choose
        (
            GOOD.replace("max_headcount = 100", "max_headcount = 0"),
            "bad.toml, line 5: pools.active_duty.max_headcount = 0: every pool's cap is 0, so "
            "there is no deployment to choose; give a pool a cap above 0",
        ),
        (
            GOOD.replace("max_headcount = 100", "max_headcount = 100\nmax_per_sector = 0")
            + "[pools.contractor]\ntasks = ['intake']\nmax_headcount = 0\n",
            "bad.toml, line 6: pools.active_duty.max_per_sector = 0: every pool's cap is 0, so "
            "there is no deployment to choose; give a pool a cap above 0",
        ),
        # passed, and plan.toml's [demand] scale of 2000 was refused after the search; 1e308
        # overflowed the first attempts to inf
        (
            "demand_scale = 2000" + GOOD,
            "bad.toml, line 1: demand_scale = 2000: must be at most 1,000: a thousand times "
            "normal demand is beyond any surge",
        ),
    ],
)
def test_a_bad_value_is_named_with_the_line_that_sets_it(text: str, expected: str) -> None:
    with pytest.raises(PlanError) as raised:
        parse_plan(text, "bad.toml")
    message = str(raised.value)
    assert message.startswith(expected), message
    assert not message.endswith("at most inf")  # no upper bound is not shown as one


def test_a_date_available_from_closes_the_windows_before_it() -> None:
    """A TOML date (not a date-time) is what build_problem compares with the windows' dates."""
    from planner_cases import one_sector_model

    from bordersim.planner.problem import build_problem

    model = one_sector_model()
    first_reported = model.start_date + dt.timedelta(days=model.warmup_days)
    later = first_reported + dt.timedelta(days=7)
    text = GOOD.replace("tasks", f"available_from = {later}\nramp_up_days = 0\ntasks")
    text = text.replace('replace = ["troops"]', "") + "[windows]\ndays = 7\nmin_tour_days = 7\n"
    spec = parse_plan(text, "good.toml")
    assert spec.pools[0].available_from == later
    problem = build_problem(model, spec)
    assert problem.available.tolist() == [[False, True, True]]


def test_a_task_the_base_scenario_gives_the_pool_no_productivity_for_names_the_line() -> None:
    """Transport is legal for troops, but a base scenario may give them no productivity there:
    the error named the key without the file or line."""
    from planner_cases import one_sector_model

    from bordersim.planner.problem import build_problem

    model = one_sector_model()
    productivity = model.productivity.copy()
    productivity[Pool.ACTIVE_DUTY, Task.TRANSPORT] = 0.0
    model = model.replace(productivity=productivity)
    text = GOOD.replace('"warehouse"', '"transport"').replace('replace = ["troops"]', "")
    spec = parse_plan(text, "mine.toml")
    with pytest.raises(PlanError) as raised:
        build_problem(model, spec)
    assert str(raised.value) == (
        "mine.toml, line 4: pools.active_duty.tasks = 'transport': the pool cannot do transport "
        "(its productivity in the base scenario is 0)"
    )


def test_a_task_forbidden_by_law_in_a_spec_built_in_python_is_refused() -> None:
    """A PlanSpec made in Python skips the plan file's check of the law: build_problem checks."""
    from planner_cases import one_sector_model, troops_spec

    from bordersim.planner.problem import build_problem

    spec = troops_spec()
    pool = dataclasses.replace(spec.pools[0], tasks=(Task.INTAKE, Task.FIELD))
    with pytest.raises(PlanError, match=r"^plan: pools\.active_duty\.tasks = 'field': .* law"):
        build_problem(one_sector_model(), dataclasses.replace(spec, pools=(pool,)))


def test_too_few_certify_replications_set_after_reading_are_refused_with_the_line() -> None:
    """A spec changed in Python after its file was read is checked again before the search,
    and named with the line of the file that set the key (it named the file alone)."""
    from planner_cases import one_sector_model, troops_spec

    from bordersim.planner.run import plan_model

    read = parse_plan(GOOD + "[search]\ncertify_replications = 60\n", "mine.toml")
    spec = dataclasses.replace(
        read, search=dataclasses.replace(read.search, certify_replications=20)
    )
    with pytest.raises(PlanError, match=r"^mine\.toml, line 7: search\.certify_replications = 20"):
        plan_model(one_sector_model(), spec)
    with pytest.raises(PlanError, match=r"^plan: search\.certify_replications = 20: at least 59"):
        plan_model(one_sector_model(), troops_spec(certify=20))


def test_the_caps_count_the_people_serving_in_each_window_not_those_ramping_up() -> None:
    """max_headcount caps each window's serving headcount, as docs/planner.md says (it said "at
    any time"): troops ramping up in one sector for the next window arrive while those in the
    other still serve, so on those days the border has more than the cap."""
    from bordersim.model.examples import tiny_model
    from bordersim.planner.problem import build_problem

    text = GOOD.replace('replace = ["troops"]', "") + "ramp_up_days = 7\n"
    spec = parse_plan(text + "[windows]\ndays = 7\nmin_tour_days = 7\n", "good.toml")
    problem = build_problem(tiny_model(n_days=24, warmup_days=3), spec)
    x = np.zeros(problem.shape)
    x[0, 0, 0] = 100.0  # the first sector's troops serve in window 0 ...
    x[0, 1, 1:] = 100.0  # ... and the second sector's from window 1, ramping up in window 0
    assert (x.sum(axis=1) <= spec.pools[0].max_headcount).all()
    on_the_ground = problem.headcount(x)[:, :, 0].sum(axis=1)
    first_of_window_1 = problem.windows[1][0]
    assert on_the_ground[first_of_window_1 - 1] > 100.0  # serving and ramping up together
    assert on_the_ground[first_of_window_1:].max() <= 100.0


@pytest.mark.parametrize(
    ("line", "expected"),
    [
        (
            "max_headcount = 100.5",
            "bad.toml, line 5: pools.active_duty.max_headcount = 100.5: must be a whole number of "
            "people, such as 100 or 101",
        ),
        (
            "max_headcount = 100\nmax_per_sector = 20.25",
            "bad.toml, line 6: pools.active_duty.max_per_sector = 20.25: must be a whole number "
            "of people, such as 20 or 21",
        ),
    ],
)
def test_a_fractional_cap_is_refused_as_people_come_whole(line: str, expected: str) -> None:
    """A cap of 100.5 people was accepted without a word; a whole cap written 100.0 still is."""
    with pytest.raises(PlanError) as raised:
        parse_plan(GOOD.replace("max_headcount = 100", line), "bad.toml")
    assert str(raised.value) == expected
    spec = parse_plan(GOOD.replace("max_headcount = 100", "max_headcount = 100.0"), "good.toml")
    assert spec.pools[0].max_headcount == 100


def test_a_ramp_up_out_of_the_calendar_is_refused_as_the_file_is_read() -> None:
    """ramp_up_days = 100000000000 passed the plan check, then `bordersim plan` ended in
    "OverflowError: Python int too large to convert to C int" (the first arrival's date)."""
    with pytest.raises(PlanError) as raised:
        parse_plan(GOOD + "ramp_up_days = 100000000000\n", "bad.toml")
    assert str(raised.value) == (
        "bad.toml, line 6: pools.active_duty.ramp_up_days = 100000000000: must be a whole "
        "number of at least 0 and at most 365"
    )
    assert parse_plan(GOOD + "ramp_up_days = 365\n", "good.toml").pools[0].ramp_up_days == 365


def test_a_lead_time_past_the_period_is_refused_naming_the_period() -> None:
    """A lead time as long as the reported period closed every window to the pool, which the
    plan then left out without a word (and the run took its whole time to find nothing)."""
    from planner_cases import one_sector_model

    from bordersim.planner.problem import build_problem

    model = one_sector_model()  # 21 reported days
    text = GOOD.replace('replace = ["troops"]', "") + "[windows]\ndays = 7\nmin_tour_days = 7\n"
    with pytest.raises(PlanError) as raised:
        build_problem(model, parse_plan(text.replace("tasks", "lead_time_days = 21\ntasks"), "p"))
    message = str(raised.value)
    assert message.startswith(
        "p, line 4: pools.active_duty.lead_time_days = 21: not shorter than the base scenario's "
        "reported period (21 days, "
    ), message
    assert "\n" not in message
    problem = build_problem(
        model, parse_plan(text.replace("tasks", "lead_time_days = 8\ntasks"), "p")
    )
    assert problem.available.tolist() == [[False, False, True]]


@pytest.mark.parametrize(
    ("key", "expected"),
    [
        # a lead time within the period that still closed every window, with the ramp-up
        (
            "lead_time_days = 20",
            "p, line 4: pools.active_duty.lead_time_days = 20: ends on 2023-04-24, after the "
            "last window's first arrival (2023-04-12, ramp-up included), so no window is open "
            "to the pool; shorten the lead time, or leave the pool out of the plan",
        ),
        (
            "available_from = 2030-01-01",
            "p, line 4: pools.active_duty.available_from = 2030-01-01: after the last window's "
            "first arrival (2023-04-12, ramp-up included), so no window is open to the pool; "
            "give an earlier date, or leave the pool out of the plan",
        ),
    ],
)
def test_a_pool_closed_in_every_window_is_refused_naming_the_key(key: str, expected: str) -> None:
    """A contract date after the period, or a lead time that with the ramp-up left no window
    open, made a plan that left the pool out without a word, after the whole search."""
    from planner_cases import one_sector_model

    from bordersim.planner.problem import build_problem

    model = one_sector_model()  # 21 reported days, windows from days 3, 10 and 17
    text = GOOD.replace('replace = ["troops"]', "") + "[windows]\ndays = 7\nmin_tour_days = 7\n"
    with pytest.raises(PlanError) as raised:
        build_problem(model, parse_plan(text.replace("tasks", f"{key}\ntasks"), "p"))
    assert str(raised.value) == expected


def test_swapped_scenario_and_plan_files_are_named_for_what_they_are(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """A scenario given as --plan was refused as "sectors = [...]: unknown key", a plan file given
    as the scenario as "period.start_date: required key is missing"; each is named now."""
    from bordersim.cli import main

    scenario = REPO / "scenarios/examples/small.toml"
    plan_file = REPO / "plans/examples/small-stress.toml"
    out = str(tmp_path / "out")
    for given, expected in (
        (
            [str(scenario), "--plan", str(scenario)],
            f"error: {scenario}: is a scenario file (it sets sectors), not a plan file, which "
            "sets the [pools] the planner may deploy (docs/planner.md, 'The plan file'); give "
            "the scenario as the base",
        ),
        (
            [str(plan_file), "--plan", str(plan_file)],
            f"error: {plan_file}: is a plan file, not a scenario file; give it with --plan and "
            "the base scenario as the SCENARIO argument",
        ),
    ):
        with pytest.raises(SystemExit) as stopped:
            main(["plan", *given, "--out", out])
        assert stopped.value.code == 2
        assert capsys.readouterr().err.strip() == expected
    assert not Path(out).exists()


def test_a_folder_given_as_the_plan_file_is_named_a_folder(tmp_path: Path) -> None:
    """--plan plans/ (a folder) said "plans: no such plan file", though it is there."""
    with pytest.raises(PlanError) as raised:
        load_plan(tmp_path)
    expected = f"{tmp_path}: is a folder, not a plan file; give the plan file in it"
    assert str(raised.value) == expected
    with pytest.raises(PlanError, match="no such plan file"):
        load_plan(tmp_path / "missing.toml")


def test_a_folder_given_as_the_base_scenario_is_named_a_folder(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """bordersim plan scenarios --plan ... (and bs.plan) said "scenarios: no such scenario
    file", though the folder is there."""
    import bordersim as bs
    from bordersim.cli import main

    plan = str(REPO / "plans/examples/small-stress.toml")
    with pytest.raises(SystemExit) as stopped:
        main(["plan", str(tmp_path), "--plan", plan, "--out", str(tmp_path / "out")])
    assert stopped.value.code == 2
    expected = f"{tmp_path}: is a folder, not a scenario file"
    assert capsys.readouterr().err.strip() == f"error: {expected}"
    with pytest.raises(PlanError) as raised:
        bs.plan(tmp_path, plan)
    assert str(raised.value) == expected
    assert list(tmp_path.iterdir()) == []


def test_a_plan_file_is_read_as_a_scenario_file_is(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """A plan file that was not UTF-8 text ended `bordersim plan` with a traceback; one saved
    with a byte-order mark (as Notepad saves) was "not valid TOML: ... (at line 1, column 1)",
    where a scenario file with one is read. Now: one line for the first, read as TOML the
    second, and a file too large to be a plan file is refused, as a scenario's is."""
    from bordersim.cli import main

    marked = tmp_path / "marked.toml"
    marked.write_bytes(b"\xef\xbb\xbf" + GOOD.encode())
    assert load_plan(marked).pools[0].max_headcount == 100
    for name, content, expected in [
        (
            "latin.toml",
            GOOD.replace("replace", "# \xe9t\xe9\nreplace").encode("latin-1"),
            "not UTF-8 text (byte 3); a plan file is a TOML text file",
        ),
        (
            "huge.toml",
            b"#" * (1 << 21),
            "plan file is 2,097,152 bytes; at most 1,048,576 are read (no real input is that "
            "large)",
        ),
    ]:
        bad = tmp_path / name
        bad.write_bytes(content)
        with pytest.raises(SystemExit) as stopped:
            main(["plan", str(REPO / "scenarios/examples/small.toml"), "--plan", str(bad)])
        assert stopped.value.code == 2
        assert capsys.readouterr().err.strip() == f"error: {bad}: {expected}"
    assert not (tmp_path / "out").exists()


def test_a_missing_max_headcount_says_what_it_caps() -> None:
    with pytest.raises(PlanError) as raised:
        parse_plan(GOOD.replace("max_headcount = 100", ""), "bad.toml")
    assert str(raised.value).startswith(
        "bad.toml, line 3: pools.active_duty.max_headcount = None: is required (the pool's cap "
        "on people serving in each window, border-wide)"
    )


def test_cli_bad_plan_is_one_line_exit_2(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from bordersim.cli import main

    bad = tmp_path / "bad.toml"
    bad.write_text(GOOD.replace('"warehouse"', '"determination"'))
    out = tmp_path / "out"
    with pytest.raises(SystemExit) as stopped:
        main(
            [
                "plan",
                str(REPO / "scenarios/examples/small.toml"),
                "--plan",
                str(bad),
                "--out",
                str(out),
            ]
        )
    assert stopped.value.code == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and "determination" in err
    assert not out.exists() and not list(tmp_path.glob(".out-*"))


@pytest.mark.parametrize("empty", ["SCENARIO", "--plan", "--out"])
def test_an_empty_path_is_refused_naming_it(
    empty: str,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """--out "" (an unset variable) was the current folder: the plan was written there, or
    refused as "not a plan folder" naming a folder the user never gave; SCENARIO "" and
    --plan "" said ".: no such scenario file" and ".: no such plan file". The options are
    named as every command's empty path option is (`--out: is empty ...`), not as `plan: --out
    is empty ...`, in words of their own."""
    from bordersim.cli import main

    monkeypatch.chdir(tmp_path)  # an empty folder: --out "" would have been planned into
    paths = {
        "SCENARIO": str(REPO / "scenarios/examples/small.toml"),
        "--plan": str(REPO / "plans/examples/small-stress.toml"),
        "--out": str(tmp_path / "out"),
    }
    paths[empty] = ""
    with pytest.raises(SystemExit) as stopped:
        main(["plan", paths["SCENARIO"], "--plan", paths["--plan"], "--out", paths["--out"]])
    assert stopped.value.code == 2
    err = capsys.readouterr().err.strip()
    # the argument is named with its command, an option by itself, as every command names them
    said = "plan: SCENARIO is empty" if empty == "SCENARIO" else f"{empty}: is empty"
    assert err == f"error: {said} (an unset variable?); give a path"
    assert list(tmp_path.iterdir()) == []


def test_a_failed_plan_leaves_no_empty_parents_of_its_out(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """A plan that fails once planning has started (here: the base scenario has no deployment
    `nope` to replace) leaves neither its work folder nor the new parents of --out."""
    from bordersim.cli import main

    bad = tmp_path / "bad.toml"
    bad.write_text(GOOD.replace('"troops"', '"nope"'), encoding="utf-8")
    scenario = str(REPO / "scenarios/examples/small.toml")
    with pytest.raises(SystemExit) as stopped:
        main(["plan", scenario, "--plan", str(bad), "--out", str(tmp_path / "new" / "a" / "b")])
    assert stopped.value.code == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1
    line = next(n for n, text in enumerate(bad.read_text().splitlines(), 1) if '"nope"' in text)
    assert f"{bad}, line {line}" in err  # where it is set, and what the scenario has instead
    assert "replace: 'nope' is not a deployment of the base scenario; its deployments:" in err
    assert "troops" in err
    assert [p.name for p in tmp_path.iterdir()] == ["bad.toml"]


@pytest.mark.slow
def test_a_plan_into_new_parents_runs_as_written(tmp_path: Path) -> None:
    """plan.toml names its base scenario relative to its own folder. With --out under folders
    that did not exist, the plan was worked out in a folder at another depth, so its `base`
    pointed one level off and the written plan did not load ("base file ... not found")."""
    from test_bs_plan import TINY_PLAN

    from bordersim.cli import main
    from bordersim.compiler import compile_scenario
    from bordersim.scenario import load_scenario

    plan_file = tmp_path / "tiny.toml"
    plan_file.write_text(TINY_PLAN, encoding="utf-8")
    out = tmp_path / "new" / "a" / "b"
    scenario = REPO / "scenarios/examples/small.toml"
    main(["plan", str(scenario), "--plan", str(plan_file), "--out", str(out), "--no-frontier"])
    written = load_scenario(out / "plan.toml")
    assert written.path.parent == out.resolve()
    assert json.loads((out / "certificate.json").read_text(encoding="utf-8"))["cost_dollars"] >= 0
    model = compile_scenario(written)
    assert model.scenario_name == "small-plan"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["new", "tiny.toml"]
    assert [p.name for p in out.parent.iterdir()] == ["b"]  # no work folder left beside it


@pytest.mark.parametrize(
    ("option", "expected"),
    [
        (["--certify-replications", "20"], "at least 59"),
        # "--demand-scale 0.0" and "-1.0", where 1e308 read "1e+308": given as typed
        (["--demand-scale", "0"], "--demand-scale 0: must be a finite number above 0"),
        (["--demand-scale", "-1"], "--demand-scale -1: must be a finite number above 0"),
        (["--demand-scale", "inf"], "--demand-scale inf: must be a finite number above 0"),
        # planned, with numpy's overflow warnings, until the flow engine met inf first attempts
        (
            ["--demand-scale", "1e308"],
            "error: --demand-scale 1e+308: must be at most 1,000: a thousand times normal "
            "demand is beyond any surge",
        ),
        # planned until the flow engine said "first replication out of range: 0"
        (
            ["--replications", "100000000000"],
            "error: --replications 100000000000: must be at most 1,000,000",
        ),
        (
            ["--certify-replications", "100000000000"],
            "error: --certify-replications 100000000000: must be at most 1,000,000",
        ),
    ],
)
def test_cli_bad_option_is_one_line_exit_2(
    option: list[str], expected: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from bordersim.cli import main

    plan = ["plan", str(REPO / "scenarios/examples/small.toml")]
    with pytest.raises(SystemExit) as stopped:
        main(
            [
                *plan,
                "--plan",
                str(REPO / "plans/examples/small-stress.toml"),
                *option,
                "--out",
                str(tmp_path / "out"),
            ]
        )
    assert stopped.value.code == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and expected in err
    assert not (tmp_path / "out").exists()


def test_a_stress_above_a_scenarios_demand_scale_on_the_base_is_refused_before_any_work(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """plan.toml carries the stress times the base scenario's own [demand] scale as its scale,
    which a scenario refuses above 1,000: demand_scale = 200 on a base that scales its demand by
    10 searched, then failed as plan.toml was compiled for the certificate; it is refused before
    any work, naming the plan file's line and both scales."""
    from bordersim.cli import main

    base = tmp_path / "tenfold.toml"
    base.write_text(
        f'base = "{(REPO / "scenarios/examples/small.toml").as_posix()}"\n\n[demand]\n'
        "scale = 10.0\n",
        encoding="utf-8",
    )
    plan_file = tmp_path / "stress.toml"
    plan_file.write_text("demand_scale = 200" + GOOD, encoding="utf-8")
    with pytest.raises(SystemExit) as stopped:
        main(["plan", str(base), "--plan", str(plan_file), "--out", str(tmp_path / "out")])
    assert stopped.value.code == 2
    captured = capsys.readouterr()
    assert captured.err.strip() == (
        f"error: {plan_file}, line 1: demand_scale = 200 on the base scenario's own "
        "demand.scale = 10 plans for 2000 times the calibrated demand, above 1,000: a thousand "
        "times normal demand is beyond any surge"
    )
    assert captured.out == "" and not (tmp_path / "out").exists()
    with pytest.raises(PlanError) as refused:
        bs_plan(base, plan_file)
    assert "plans for 2000 times the calibrated demand" in str(refused.value)


def test_a_stress_from_the_option_above_a_scenarios_scale_names_the_option(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """--demand-scale 200 on a base that scales its demand by 10 was refused naming the plan
    file's line of demand_scale (which says 2.5) as if it held 200; the option is named now."""
    from bordersim.cli import main

    base = tmp_path / "tenfold.toml"
    base.write_text(
        f'base = "{(REPO / "scenarios/examples/small.toml").as_posix()}"\n\n[demand]\n'
        "scale = 10.0\n",
        encoding="utf-8",
    )
    plan_file = REPO / "plans/examples/small-stress.toml"
    out = str(tmp_path / "out")
    with pytest.raises(SystemExit) as stopped:
        main(["plan", str(base), "--plan", str(plan_file), "--demand-scale", "200", "--out", out])
    assert stopped.value.code == 2
    captured = capsys.readouterr()
    assert captured.err.strip() == (
        "error: --demand-scale 200 on the base scenario's own demand.scale = 10 plans for 2000 "
        "times the calibrated demand, above 1,000: a thousand times normal demand is beyond any "
        "surge"
    )
    assert captured.out == "" and not Path(out).exists()


def test_plan_refuses_a_folder_it_did_not_write_before_planning(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    from bordersim.cli import main

    mine = tmp_path / "work"
    mine.mkdir()
    (mine / "thesis.tex").write_text("years of work", encoding="utf-8")
    monkeypatch.chdir(mine)
    plan = [
        "plan",
        str(REPO / "scenarios/examples/small-staff-bound.toml"),
        "--plan",
        str(REPO / "plans/examples/small-stress.toml"),
    ]
    for out in (str(mine), ".", "..", "thesis.tex"):
        with pytest.raises(SystemExit) as stopped:
            main([*plan, "--out", out])
        assert stopped.value.code == 2
        err = capsys.readouterr().err.strip()
        assert len(err.splitlines()) == 1 and ("never deletes" in err or "not a folder" in err)
    assert sorted(p.name for p in tmp_path.rglob("*")) == ["thesis.tex", "work"]
    assert (mine / "thesis.tex").read_text(encoding="utf-8") == "years of work"


def _start_tiny_plan(tmp_path: Path, out: str) -> subprocess.Popen[str]:
    """`bordersim plan` of the tiny plan on the small example, started in `tmp_path` and
    returned once its first progress line shows the planning under way."""
    from test_bs_plan import TINY_PLAN

    (tmp_path / "tiny.toml").write_text(TINY_PLAN, encoding="utf-8")
    command = [BORDERSIM, "plan", str(REPO / "scenarios/examples/small.toml")]
    process = subprocess.Popen(
        [*command, "--plan", "tiny.toml", "--out", out, "--no-frontier"],
        cwd=tmp_path,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    assert process.stderr is not None
    assert "1 pool x 2 sectors x 2 windows" in process.stderr.readline()
    return process


@pytest.mark.parametrize("signum", [signal.SIGINT, signal.SIGTERM])
def test_an_interrupted_plan_says_it_wrote_nothing(tmp_path: Path, signum: int) -> None:
    """Ctrl-C or SIGTERM during a plan said "nothing was marked complete (a run that had
    started is recorded as failed)", the words of a simulation run; a plan records no run. It
    speaks of the plan and its folder, which is not made."""
    process = _start_tiny_plan(tmp_path, "out")
    process.send_signal(signum)
    _, err = process.communicate(timeout=300)
    assert process.returncode == 128 + signum, err
    assert err.strip().splitlines()[-1] == (
        f"interrupted ({signal.Signals(signum).name}): the plan stopped cleanly; nothing was "
        f"written to {tmp_path / 'out'}"
    )
    assert sorted(p.name for p in tmp_path.iterdir()) == ["tiny.toml"]


def _hidden_folders(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.iterdir() if p.is_dir() and p.name.startswith("."))


def test_a_killed_plans_work_folder_is_removed_by_the_next_plan(tmp_path: Path) -> None:
    """A plan ended by SIGKILL (or a power cut) cannot remove the hidden work folder beside its
    --out; it stayed there for good, one more at each such plan. The next plan removes the work
    folders of plans whose process is gone."""
    killed = _start_tiny_plan(tmp_path, "out")
    killed.kill()
    killed.communicate(timeout=60)
    [left] = _hidden_folders(tmp_path)
    assert str(killed.pid) in left
    following = _start_tiny_plan(tmp_path, "out")
    try:
        [own] = _hidden_folders(tmp_path)  # its own, made after the dead one was removed
        assert own != left and str(following.pid) in own
    finally:
        following.send_signal(signal.SIGTERM)
        following.communicate(timeout=300)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["tiny.toml"]


#: `bordersim ARGS...` with SIGTERM sent to itself at one point of loading JAX's compiled module
#: `jaxlib._jax`: as its creation starts ("create"), or as its C++ initialisation calls Python
#: to create its first enum ("init"); a Ctrl-C or SIGTERM sent in the first
#: second of a plan or run arrives there
SIGNAL_IN_JAXLIB = textwrap.dedent(
    """
    import importlib.machinery, os, signal, sys

    Loader = importlib.machinery.ExtensionFileLoader
    when = sys.argv.pop(1)
    create, execute = Loader.create_module, Loader.exec_module

    def send():
        print("SIGTERM sent while jaxlib._jax loads", file=sys.stderr, flush=True)
        os.kill(os.getpid(), signal.SIGTERM)

    def create_module(self, spec):
        if when == "create" and spec.name == "jaxlib._jax":
            send()
        return create(self, spec)

    def exec_module(self, module):
        if when != "init" or module.__name__ != "jaxlib._jax":
            return execute(self, module)
        def at_first_enum(frame, event, arg):
            if event == "call" and frame.f_code.co_filename.endswith("enum.py"):
                sys.setprofile(None)
                send()
        sys.setprofile(at_first_enum)
        try:
            return execute(self, module)
        finally:
            sys.setprofile(None)

    Loader.create_module, Loader.exec_module = create_module, exec_module
    from bordersim import cli
    sys.argv[0] = "bordersim"
    cli.main()
    """
)


@pytest.mark.parametrize("when", ["init", "create"])
def test_a_plan_interrupted_while_jax_loads_stops_cleanly(tmp_path: Path, when: str) -> None:
    """SIGTERM or Ctrl-C while the plan first loaded JAX's compiled module ended the plan with
    "terminate called after throwing an instance of 'nanobind::python_error'" (abort, exit 134)
    or a segmentation fault (139), no message, and the hidden work folder left beside --out; in
    CI the next plan's test found it there. The plan now stops as at any other moment."""
    from test_bs_plan import TINY_PLAN

    (tmp_path / "tiny.toml").write_text(TINY_PLAN, encoding="utf-8")
    plan = ["plan", str(REPO / "scenarios/examples/small.toml"), "--plan", "tiny.toml"]
    done = subprocess.run(
        [sys.executable, "-c", SIGNAL_IN_JAXLIB, when, *plan, "--out", "out", "--no-frontier"],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert "SIGTERM sent while jaxlib._jax loads" in done.stderr  # the signal came where meant
    assert done.returncode == 128 + signal.SIGTERM, done.stderr[-3000:]
    assert done.stderr.strip().splitlines()[-1] == (
        f"interrupted (SIGTERM): the plan stopped cleanly; nothing was written to "
        f"{tmp_path / 'out'}"
    )
    assert sorted(p.name for p in tmp_path.iterdir()) == ["tiny.toml"]


def test_a_work_folder_of_a_plan_still_running_is_kept(tmp_path: Path) -> None:
    """Only a dead process's work folder goes: two plans into one --out at once each keep
    their own (here both of this process, which is alive)."""
    from bordersim.output_folders import make_work_folder

    first = make_work_folder(tmp_path / "out", prefix=".out-")
    second = make_work_folder(tmp_path / "out", prefix=".out-")
    assert first.is_dir() and second.is_dir() and first != second


#: `bordersim plan` of the tiny plan, where a signal reaches the planner inside code that drops
#: its exception (a library's `except BaseException`, a garbage-collection callback).
DROPPED_SIGNAL_PLAN = """
import signal, sys
from bordersim import cli
from bordersim.planner import run

built = run.build_problem

def build_problem(*args, **kwargs):
    try:
        signal.raise_signal(signal.SIGTERM)
    except BaseException:
        pass  # dropped
    return built(*args, **kwargs)

run.build_problem = build_problem
cli.main(sys.argv[1:])
"""


@pytest.mark.slow
def test_a_plan_whose_interrupt_was_dropped_stops_at_its_next_step(tmp_path: Path) -> None:
    """A SIGTERM dropped on the way planned on for minutes, wrote the plan's folder and printed
    "wrote ...", then ended "interrupted (SIGTERM): ... nothing was written to" that folder. The
    plan now raises it again at its next progress step, and writes nothing."""
    from test_bs_plan import TINY_PLAN

    (tmp_path / "tiny.toml").write_text(TINY_PLAN, encoding="utf-8")
    scenario = str(REPO / "scenarios/examples/small.toml")
    command = ["plan", scenario, "--plan", "tiny.toml", "--out", "out", "--no-frontier"]
    done = subprocess.run(
        [sys.executable, "-c", DROPPED_SIGNAL_PLAN, *command],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert done.returncode == 128 + signal.SIGTERM, done.stderr
    assert done.stdout == ""
    assert "certifying" not in done.stderr
    assert done.stderr.strip().splitlines()[-1] == (
        "interrupted (SIGTERM): the plan stopped cleanly; nothing was written to "
        f"{tmp_path / 'out'}"
    )
    assert sorted(p.name for p in tmp_path.iterdir()) == ["tiny.toml"]


#: `bordersim plan` of the tiny plan, where a signal comes just after the plan's folder is put in
#: place, and is dropped on the way (the command's last check raises it).
SIGNAL_ONCE_WRITTEN_PLAN = """
import signal, sys
from bordersim import cli, output_folders

replace = output_folders.replace_folder

def replace_folder(*args, **kwargs):
    replace(*args, **kwargs)
    try:
        signal.raise_signal(signal.SIGTERM)
    except BaseException:
        pass  # dropped

output_folders.replace_folder = replace_folder
cli.main(sys.argv[1:])
"""


@pytest.mark.slow
def test_a_plan_interrupted_once_written_says_its_folder_is_whole(tmp_path: Path) -> None:
    """A signal after the plan's folder was put in place ended the plan "interrupted (SIGTERM):
    the plan stopped cleanly; nothing was written to OUT", beside OUT holding the whole plan.
    It now says that the plan was written there."""
    from test_bs_plan import TINY_PLAN

    (tmp_path / "tiny.toml").write_text(TINY_PLAN, encoding="utf-8")
    scenario = str(REPO / "scenarios/examples/small.toml")
    command = ["plan", scenario, "--plan", "tiny.toml", "--out", "out", "--no-frontier"]
    done = subprocess.run(
        [sys.executable, "-c", SIGNAL_ONCE_WRITTEN_PLAN, *command],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert done.returncode == 128 + signal.SIGTERM, done.stderr
    assert done.stderr.strip().splitlines()[-1] == (
        f"interrupted (SIGTERM): the plan stopped once it was written, whole, to {tmp_path / 'out'}"
    )
    written = sorted(p.name for p in (tmp_path / "out").iterdir())
    assert written == [".bordersim-plan", "certificate.json", "plan.toml", "report.html"]


def test_the_help_gives_each_options_default() -> None:
    """plan --help gave --certify-replications no default and --out the default
    out/plan/NAME, a name it did not explain: the help now names the plan file's keys the counts
    default to, as docs/planner.md does, and the scenario's file name the folder is named by."""
    import typer

    from bordersim.cli import _register, app

    _register()
    plan_command = typer.main.get_command(app).commands["plan"]  # type: ignore[attr-defined]
    helps = {param.name: param.help or "" for param in plan_command.params}
    assert "search.replications" in helps["replications"]
    assert "search.certify_replications" in helps["certify_replications"]
    assert "out/plan/<scenario>" in helps["out_given"]


@pytest.mark.slow
def test_a_long_progress_line_stays_one_line(tmp_path: Path) -> None:
    """The progress lines were wrapped at the terminal's width (80 columns in a log), so that
    "certifying on 59 fresh flow-engine replications (seed ...)" lost its seed to the next
    line, where a reader or grep of the log did not find it."""
    from test_bs_plan import TINY_PLAN

    seed = 10**18
    plan = TINY_PLAN.replace("seed = 1\n", f"seed = {seed}\n")
    (tmp_path / "tiny.toml").write_text(plan, encoding="utf-8")
    command = [BORDERSIM, "plan", str(REPO / "scenarios/examples/small.toml")]
    env = {k: v for k, v in os.environ.items() if k not in ("COLUMNS", "LINES")}
    process = subprocess.Popen(
        [*command, "--plan", "tiny.toml", "--out", "out", "--no-frontier"],
        cwd=tmp_path,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
        env=env,
    )
    assert process.stderr is not None
    try:
        line = next(line for line in process.stderr if "certifying on" in line)
    finally:
        process.kill()
        process.wait(timeout=300)
    expected = f"certifying on 59 fresh flow-engine replications (seed {seed + 7919})"
    assert line.rstrip("\n").endswith(expected), line


def test_the_plan_page_gives_the_exit_status_of_a_plan_certified_or_not() -> None:
    """A plan that leaves a required target uncertified is written whole and exits 0, as a
    certified one does; the page said nothing of it, where `bordersim verify` documents its own
    exit status, so a script could not tell what 0 promised."""
    page = " ".join((REPO / "docs/planner.md").read_text(encoding="utf-8").split())
    assert (
        "The exit status is 0 once the plan is written, whether or not every required target "
        "certified" in page
    )
    assert "`certificate.json`'s `certified`" in page
    assert f"exit status {128 + signal.SIGINT} / {128 + signal.SIGTERM}" in page


#: `bordersim plan` of the stress example, which stops at once on a bad --out
STRESS_PLAN = [
    "plan",
    str(REPO / "scenarios/examples/small-staff-bound.toml"),
    "--plan",
    str(REPO / "plans/examples/small-stress.toml"),
]


def test_an_out_under_a_file_names_the_file(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """--out notes.txt/plan said "cannot write beside the output folder (Not a directory)",
    which named neither the file in the way nor the option, where `bordersim.plan(out=...)`
    says "out cannot be made: ... is a file, not a folder"."""
    from bordersim.cli import main

    (tmp_path / "notes.txt").write_text("mine", encoding="utf-8")
    out = tmp_path / "notes.txt" / "plan"
    with pytest.raises(SystemExit) as stopped:
        main([*STRESS_PLAN, "--out", str(out)])
    assert stopped.value.code == 2
    err = capsys.readouterr().err.strip()
    assert err == (
        f"error: {out}: --out cannot be made: {tmp_path / 'notes.txt'} is a file, not a folder"
    )
    assert (tmp_path / "notes.txt").read_text(encoding="utf-8") == "mine"


def test_an_out_that_is_a_symbolic_link_names_the_folder_to_give(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """--out as a symbolic link to an empty folder was refused with "give a new or empty
    folder", which the folder it points to is; the plan would replace the link, not write into
    that folder, so the message names the folder to give instead."""
    from bordersim.cli import main

    (tmp_path / "real").mkdir()
    (tmp_path / "link").symlink_to(tmp_path / "real")
    with pytest.raises(SystemExit) as stopped:
        main([*STRESS_PLAN, "--out", str(tmp_path / "link")])
    assert stopped.value.code == 2
    err = capsys.readouterr().err.strip()
    assert err == (
        f"error: {tmp_path / 'link'}: --out is a symbolic link, which bordersim would replace "
        f"rather than write into the folder it points to; give that folder ({tmp_path / 'real'}) "
        "or a new one"
    )
    assert (tmp_path / "link").is_symlink() and not list((tmp_path / "real").iterdir())


def test_the_help_gives_the_exit_status_of_a_plan_certified_or_not() -> None:
    """`bordersim verify --help` gives its exit status; `plan --help` said nothing of what 0
    meant for a plan whose certificate left a target uncertified (docs/planner.md does)."""
    import typer

    from bordersim.cli import _register, app

    _register()
    plan_command = typer.main.get_command(app).commands["plan"]  # type: ignore[attr-defined]
    words = " ".join((plan_command.help or "").split())
    assert "Exit status 0 once the plan is written, whether or not every required target" in words
    assert "certificate.json's certified" in words
