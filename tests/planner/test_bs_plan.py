"""`bs.plan`: the planner as the Python API offers it, with the API's one-line refusals."""

from __future__ import annotations

import json
import re
from pathlib import Path

import numpy as np
import pytest

import bordersim as bs
from bordersim.planner import PlanError
from bordersim.planner import plan as planner_plan
from bordersim.planner.output import millions
from bordersim.planner.run import PlanResult
from repo_paths import SCENARIOS, SMALL

#: One pool, two 21-day windows, 2 search and 59 flow certification replications (the fewest
#: that certify 95 % at 95 % confidence), no trim or bound time: a plan in seconds.
TINY_PLAN = """\
name = "tiny"
replace = ["troops"]

[windows]
days = 21
min_tour_days = 21

[pools.active_duty]
tasks = ["intake"]
max_headcount = 100
ramp_up_days = 0
step = 50

[search]
replications = 2
certify_replications = 59
certify_engine = "flow"
seed = 1
frontier = [0.95]
bound_seconds = 0
trim_seconds = 0
"""


def test_bs_plan_is_the_planners_plan() -> None:
    # `import bordersim as bs` offered run, sweep and compare but no plan
    assert bs.plan is planner_plan
    assert "plan" in bs.__all__


def test_arguments_of_the_wrong_kind_are_one_line_naming_the_argument(tmp_path: Path) -> None:
    plan_file = tmp_path / "tiny.toml"
    plan_file.write_text(TINY_PLAN)
    for kwargs, message in [
        ({"scenario": bs.load_scenario(SMALL)}, "scenario must be a scenario file path"),
        ({"scenario": None}, "got NoneType"),
        ({"plan_file": 3}, "plan_file must be a plan file path or a PlanSpec, got int"),
        ({"out": 1.5}, "out must be a folder path or None, got float"),
        ({"progress": "print"}, "progress must be a callable"),
        ({"frontier": "no"}, "frontier must be True or False, got 'no'"),
        ({"compare_base": None}, "compare_base must be True or False"),
        # out="" was the current folder: the plan's files were written there; it is now
        # refused in the words of bs.run's out="" and the command line's --out ""
        ({"out": ""}, "out is empty (an unset variable?); give a path"),
        ({"scenario": " "}, "scenario is empty (an unset variable?); give a path"),
        ({"plan_file": ""}, "plan_file is empty (an unset variable?); give a path"),
        ({"plan_file": tmp_path / "missing.toml"}, "missing.toml: no such plan file"),
        ({"scenario": tmp_path / "missing.toml"}, "missing.toml: no such scenario file"),
    ]:
        arguments = {"scenario": SMALL, "plan_file": plan_file, **kwargs}
        with pytest.raises(PlanError) as refused:
            bs.plan(**arguments)  # type: ignore[arg-type]
        text = str(refused.value)
        assert message in text and "\n" not in text and "--" not in text
    assert not (tmp_path / "out").exists()


@pytest.mark.parametrize(
    ("out", "message"),
    [
        ("notes.txt", "out names a file, not a folder"),
        ("notes.txt/plan", "notes.txt is a file, not a folder"),
    ],
)
def test_an_out_that_is_a_file_is_refused_before_planning(
    tmp_path: Path, out: str, message: str
) -> None:
    plan_file = tmp_path / "tiny.toml"
    plan_file.write_text(TINY_PLAN)
    (tmp_path / "notes.txt").write_text("notes")
    messages: list[str] = []
    with pytest.raises(PlanError) as refused:
        bs.plan(SMALL, plan_file, out=tmp_path / out, progress=messages.append, frontier=False)
    text = str(refused.value)
    assert message in text and "\n" not in text, text
    assert messages == [], "refused only after planning"
    assert (tmp_path / "notes.txt").read_text() == "notes"


@pytest.mark.slow
def test_an_interrupted_plan_leaves_no_new_out_folder(tmp_path: Path) -> None:
    """bs.plan(..., out=NEW) interrupted during certification (Ctrl-C) left NEW holding
    plan.toml alone, written before certification, as if it were a plan; NEW and its new
    parents now go again."""
    plan_file = tmp_path / "tiny.toml"
    plan_file.write_text(TINY_PLAN)
    out = tmp_path / "new" / "out"

    def interrupt(message: str) -> None:
        if message.startswith("certifying"):
            assert (out / "plan.toml").is_file()  # written for the certification
            raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        bs.plan(SMALL, plan_file, out=out, progress=interrupt, frontier=False)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["tiny.toml"]


def test_a_plan_that_fails_leaves_the_earlier_plan_in_its_folder_whole(tmp_path: Path) -> None:
    """bs.plan(..., out=EARLIER), an earlier plan's folder, wrote plan.toml there before
    certifying; interrupted then, the folder held the new plan.toml beside the earlier
    certificate.json and report.html. The new files are now written beside the folder and
    moved in only once the plan is made: the earlier plan is left as it was."""
    plan_file = tmp_path / "tiny.toml"
    plan_file.write_text(TINY_PLAN)
    out = tmp_path / "out"
    out.mkdir()
    earlier = {
        "plan.toml": "# the earlier plan\n",
        "certificate.json": '{"earlier": true}\n',
        "report.html": "<p>the earlier report</p>\n",
        "notes.txt": "the user's own notes\n",
    }
    for name, text in earlier.items():
        (out / name).write_text(text)

    def interrupt(message: str) -> None:
        if message.startswith("certifying"):
            raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        bs.plan(SMALL, plan_file, out=out, progress=interrupt, frontier=False)
    assert {p.name: p.read_text() for p in out.iterdir()} == earlier
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out", "tiny.toml"]  # nothing beside


def test_a_plan_that_fails_leaves_an_empty_out_folder_empty(tmp_path: Path) -> None:
    """bs.plan(..., out=EMPTY) writes into the empty folder itself (no second hidden folder
    beside it, which a plan killed outright would leave), and empties it again if it fails."""
    plan_file = tmp_path / "tiny.toml"
    plan_file.write_text(TINY_PLAN)
    out = tmp_path / "out"
    out.mkdir()

    def interrupt(message: str) -> None:
        if message.startswith("certifying"):
            assert sorted(p.name for p in tmp_path.iterdir()) == ["out", "tiny.toml"]
            assert (out / "plan.toml").is_file()  # written for the certification
            raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        bs.plan(SMALL, plan_file, out=out, progress=interrupt, frontier=False)
    assert list(out.iterdir()) == []
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out", "tiny.toml"]


@pytest.mark.slow
def test_bs_plan_plans_a_tiny_case_and_writes_its_files(tmp_path: Path) -> None:
    plan_file = tmp_path / "tiny.toml"
    plan_file.write_text(TINY_PLAN)
    messages: list[str] = []
    result = bs.plan(
        SMALL,
        plan_file,
        out=tmp_path / "out",
        progress=messages.append,
        frontier=False,
        compare_base=False,
    )
    assert result.x.shape == (1, 2, 2)  # one pool, two sectors, two windows
    assert result.cost == pytest.approx(result.problem.cost(result.x))
    assert result.certificate.all_certified
    assert any(m.startswith("certified") for m in messages)
    written = json.loads((tmp_path / "out" / "certificate.json").read_text())
    assert written["cost_dollars"] == pytest.approx(result.cost)
    assert (tmp_path / "out" / "plan.toml").is_file()
    assert (tmp_path / "out" / "report.html").is_file()
    # into the folder of that plan, again: its three files are the new plan's, in place (the
    # base scenario named from there), and the other files are left alone
    (tmp_path / "out" / "notes.txt").write_text("the user's own notes\n")
    (tmp_path / "out" / "certificate.json").write_text('{"earlier": true}\n')
    again = bs.plan(SMALL, plan_file, out=tmp_path / "out", frontier=False, compare_base=False)
    assert again.files == {
        name: tmp_path / "out" / name for name in ("plan.toml", "certificate.json", "report.html")
    }
    assert repr(again).endswith(f", written to {tmp_path / 'out'})")
    assert "earlier" not in (tmp_path / "out" / "certificate.json").read_text()
    assert (tmp_path / "out" / "notes.txt").read_text() == "the user's own notes\n"
    assert bs.load_scenario(tmp_path / "out" / "plan.toml").name.endswith("-plan")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out", "tiny.toml"]


@pytest.fixture(scope="module")
def staff_bound_plan(tmp_path_factory: pytest.TempPathFactory) -> tuple[PlanResult, list[str]]:
    """The tiny plan on the staff-bound example at demand x 2.5: three targets out of reach at
    the caps, one missed on the first certification and repaired; its progress messages."""
    plan_file = tmp_path_factory.mktemp("staff-bound") / "tiny.toml"
    plan_file.write_text(
        TINY_PLAN.replace(
            'replace = ["troops"]', 'replace = ["troops"]\ndemand_scale = 2.5'
        ).replace("frontier = [0.95]", "frontier = [0.9, 0.95]")
    )
    messages: list[str] = []
    result = bs.plan(
        SCENARIOS / "examples" / "small-staff-bound.toml",
        plan_file,
        progress=messages.append,
        compare_base=False,
    )
    return result, messages


@pytest.mark.slow
def test_a_plans_progress_says_one_sector_week_not_one_sector_weeks(
    staff_bound_plan: tuple[PlanResult, list[str]],
) -> None:
    """The tiny plan on the staff-bound example at demand x 2.5 misses one target on its first
    certification, and its progress read "1 missed targets: are they within reach ..." and
    "certification missed 1 sector-weeks: repairing"; one is now singular, as in 'counted'."""
    said = "\n".join(staff_bound_plan[1])
    assert "1 missed target: is it within reach on the flow engine" in said, said
    assert "certification missed 1 sector-week: repairing" in said, said
    assert "correction 0: cost $0.000M, 0 sector-weeks missed" in said, said
    plural_of_one = re.findall(r"(?<![\d,.])1 [a-z-]+(?: [a-z-]+)?s\b", said)
    assert not plural_of_one, plural_of_one


@pytest.mark.slow
def test_a_plan_result_shows_as_one_line_not_every_array(
    staff_bound_plan: tuple[PlanResult, list[str]],
) -> None:
    """A notebook cell ending in `bs.plan(...)` printed the dataclass's 90,000 characters: the
    whole problem, search and certificate, arrays and all. It is now one line, as a Run's is."""
    result = staff_bound_plan[0]
    shown = repr(result)
    assert shown == (
        f"PlanResult('tiny' on 'small-staff-bound', "
        f"{'certified' if result.certificate.all_certified else 'not certified'}, cost "
        f"{millions(result.cost)}, gap {100 * result.gap:.1f} %, deployment [1 pool, 2 sectors, "
        f"{result.x.shape[2]} windows], {len(result.frontier)} frontier points)"
    )
    assert "\n" not in shown and len(shown) < 200, shown


@pytest.mark.slow
def test_the_reports_failing_targets_give_their_level_dates_and_words(
    staff_bound_plan: tuple[PlanResult, list[str]],
) -> None:
    """The report's table of binding and failing sector-weeks named each target by its key
    ("within_72h") without its level, so that "mean value 0.581" could not be read against
    anything, its weeks by number alone ("5"), its last column "lower bound" of nothing named,
    and the certificate's times as keys ("search_s 3, certify_s 35"); they are now in words,
    with the level, the week's dates and what is certified."""
    from bordersim.planner.report import plan_report

    page = plan_report(staff_bound_plan[0])
    assert "Objective: the cheapest deployment of active_duty such that, in every sector" in page
    table = page[page.index("Binding and failing sector-weeks") :]
    table = table[: table.index("</table>")]
    assert "<td>share out of custody within 72 h, at least 0.95</td><td>RGV</td>" in table
    assert "<td>5 (18 May-24 May)</td><td>out of reach at the caps</td>" in table
    assert "lower bound of the probability it holds (certified at 0.95 or more)" in table
    assert "within_72h" not in table
    assert "Seconds taken: search " in page and ", in all " in page
    assert "flow-engine replications run in all, 2 per candidate plan (seed 1)." in page
    assert "search_s" not in page and "certify_s" not in page


@pytest.mark.slow
def test_the_reports_frontier_shows_the_certified_plans_cost_beside_the_samples(
    staff_bound_plan: tuple[PlanResult, list[str]],
) -> None:
    """The report's "Cost versus target" gave the plan's own share the search's plan, $0,
    beside the headline's certified $0.193M (repaired after the certification), with a
    "certified" column that read "-" on every row. The row of the plan's share now also gives
    the certified plan's cost, and the chart marks it."""
    from bordersim.planner.report import plan_report

    result = staff_bound_plan[0]
    searched = result.problem.cost(result.outcome.x)
    assert searched == 0 < result.cost  # the certification's repair added staff
    section = plan_report(result)[plan_report(result).index("Cost versus target") :]
    section = section[: section.index("</p>")]
    assert "<th>cheapest on the search sample ($)</th>" in section
    assert "<th>certified plan ($)</th>" in section
    assert (
        '<tr><td>95 % (the target planned for)</td><td class="n">0</td>'
        f'<td class="n">21</td><td>yes</td><td class="n">{result.cost:,.0f}</td></tr>'
    ) in section
    assert f"certified: {millions(result.cost)}" in section  # the chart's mark
    assert "None is certified" not in section


@pytest.mark.slow
def test_the_reports_frontier_says_how_many_targets_each_share_requires(
    staff_bound_plan: tuple[PlanResult, list[str]],
) -> None:
    """The frontier read $0.193M at 90 % and $0 at 95 %, beside "a looser target never costs
    more": at 95 % three of RGV's sector-weeks are out of reach at the caps and dropped, at
    90 % fewer are. Each row now gives the required sector-weeks its plan meets."""
    from bordersim.planner.report import plan_report

    result = staff_bound_plan[0]
    looser, own = result.frontier
    assert looser.cost > own.cost and looser.required is not None and own.required == 21
    assert looser.required > own.required
    section = plan_report(result)[plan_report(result).index("Cost versus target") :]
    assert "<th>required sector-weeks (sample)</th>" in section
    assert (
        f'<tr><td>90 %</td><td class="n">{looser.cost:,.0f}</td>'
        f'<td class="n">{looser.required}</td><td>yes</td><td>-</td></tr>'
    ) in section
    assert "a looser target never costs more for the same required sector-weeks" in section


def test_the_reports_search_sample_gives_the_replications_per_candidate() -> None:
    """The report's certificate section said "Search: 6 flow-engine replications." for a plan
    file with replications = 2: the total over the plans simulated, which read as the sample
    each plan was judged on; it gives both now."""
    from bordersim.planner.report import search_sample_words

    search = {"engine": "flow", "seed": 1, "replications": 2, "flow_replications_run": 6}
    assert search_sample_words(search) == (
        "Search: 6 flow-engine replications run in all, 2 per candidate plan (seed 1)"
    )
    search.update(replications=24, flow_replications_run=1_224)
    assert search_sample_words(search).startswith("Search: 1,224 flow-engine replications run")


@pytest.mark.slow
def test_the_targets_out_of_reach_are_named_with_how_far_the_caps_fell_short(
    staff_bound_plan: tuple[PlanResult, list[str]],
) -> None:
    """bordersim plan said "3 out of reach at the caps" and no more: not which sector, target
    or weeks, nor how far every pool at its cap fell short; it now lists them, a line per sector
    and target, with the weeks' dates and the caps' mean value each week."""
    from bordersim.planner.output import out_of_reach_lines

    result = staff_bound_plan[0]
    assert int(result.outcome.unattainable.sum()) == 3
    lines = out_of_reach_lines(result.problem, result.outcome, "flow")
    assert len(lines) == 1, lines
    means = result.outcome.caps_evaluation.values.mean(axis=0)[0, 1, 3:6]
    assert lines[0] == (
        "  RGV, share out of custody within 72 h, at least 0.95: weeks 4, 5, 6 (2023-05-11 to "
        "2023-05-31), out of reach at the caps: there its mean value was "
        + ", ".join(f"{v:.3f}" for v in means)
        + " over 2 replications, short of the search's rule for a probability of 95 % (the "
        "target met, with a margin, in nearly every replication)"
    )


@pytest.mark.slow
def test_a_gap_left_wide_by_the_bounds_time_says_so(
    staff_bound_plan: tuple[PlanResult, list[str]],
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    """With search.bound_seconds = 0 no probe family started, and bordersim plan said
    "lower bound $0.000M (probe); gap 100.0 %" as if the plan were far from the optimum, the
    reason given only in the progress on stderr; the line now says the bound is weaker and why."""
    from bordersim.commands.plan import _show

    _show(staff_bound_plan[0], tmp_path)
    first = capsys.readouterr().out.splitlines()[1]
    assert first.endswith(
        "lower bound $0.000M (probe); gap 100.0 % (a weaker bound: 2 of 2 probe families not "
        "started within search.bound_seconds = 0)"
    ), first


@pytest.mark.slow
def test_quantiles_csv_dates_the_windows_of_its_people(
    staff_bound_plan: tuple[PlanResult, list[str]], tmp_path: Path
) -> None:
    """quantiles.csv gave each pool's people_per_window ("50 0") with no window's dates, so the
    plans side by side could not be placed in time without opening each plan.toml; a column
    "windows" now gives the windows' first and last days in the same order."""
    import csv
    import dataclasses
    import datetime as dt

    from bordersim.planner.run import write_quantiles_table
    from bordersim.planner.spec import ForecastQuantiles

    result = staff_bound_plan[0]
    quantile = ForecastQuantiles(dt.date(2023, 4, 1), (0.5,))
    spec = dataclasses.replace(result.problem.spec, quantiles=quantile)
    labelled = dataclasses.replace(result, problem=dataclasses.replace(result.problem, spec=spec))
    write_quantiles_table(tmp_path / "quantiles.csv", [labelled])
    with (tmp_path / "quantiles.csv").open(encoding="utf-8") as file:
        rows = list(csv.DictReader(file))
    assert [(r["pool"], r["people_per_window"], r["windows"]) for r in rows] == [
        ("active_duty", "50 0", "2023-04-20..2023-05-10 2023-05-11..2023-05-31")
    ]


def test_a_certificate_shows_as_one_line_not_every_array() -> None:
    """`result.certificate` in a notebook printed the dataclass's every array (successes, lower
    bounds, intervals, flags: about 2,000 characters for two targets in two sectors over six
    weeks); it is now one line: whether it certifies, how many required sector-weeks, the
    weakest lower bound and how it was run."""
    from bordersim.planner.certify import Certificate

    shape = (2, 2, 6)  # targets, sectors, weeks
    successes = np.full(shape, 59)
    successes[1, 0, 3] = 50
    required = np.ones(shape, dtype=bool)
    required[0, 1, :] = False
    lower = np.full(shape, 0.951)
    lower[1, 0, 3] = 0.75
    certificate = Certificate(
        successes=successes,
        n=59,
        lower=lower,
        interval_low=lower,
        interval_high=np.ones(shape),
        certified=~required | (lower >= 0.95),
        required=required,
        engine="flow",
        seed=7,
        replications=(0, 58),
    )
    shown = repr(certificate)
    assert shown == (
        "Certificate(not certified: 17 of 18 required sector-weeks certified, weakest lower "
        "bound 0.750; 2 targets, 2 sectors, 6 weeks; 59 replications (0 to 58) on the flow "
        "engine, seed 7)"
    )
    assert "\n" not in shown and len(shown) < 200, shown
    certificate.certified[...] = True
    certificate.required[...] = False
    assert repr(certificate).startswith("Certificate(certified: no sector-week is required; 2 ")


def test_an_out_that_is_a_symbolic_link_is_refused_naming_the_folder(tmp_path: Path) -> None:
    """bs.plan(out=LINK) planned through the link (plan.toml's base named from the link's
    folder, not the one its files landed in), where `bordersim plan --out LINK` refuses it naming
    the folder it points to; the call refuses it so too, before any planning."""
    plan_file = tmp_path / "tiny.toml"
    plan_file.write_text(TINY_PLAN)
    (tmp_path / "deep" / "real").mkdir(parents=True)
    (tmp_path / "deep" / "real" / "notes.txt").write_text("the user's own notes\n")
    (tmp_path / "link").symlink_to(tmp_path / "deep" / "real")
    (tmp_path / "dangling").symlink_to(tmp_path / "nowhere")
    (tmp_path / "loop").symlink_to(tmp_path / "loop")

    def planning(message: str) -> None:
        raise AssertionError(f"planned through the link: {message}")

    for name, instead in [
        ("link", f"that folder ({tmp_path / 'deep' / 'real'}) or a new one"),
        ("dangling", f"that folder ({tmp_path / 'nowhere'}) or a new one"),
        ("loop", "a new folder"),
    ]:
        with pytest.raises(PlanError) as refused:
            bs.plan(SMALL, plan_file, out=tmp_path / name, progress=planning, frontier=False)
        said = (
            "out is a symbolic link (plan.toml would name its base scenario from the link's "
            f"folder, not from the folder it points to); give {instead}"
        )
        # as every error is shown: a long temporary folder's path is cut to the line's length
        assert str(refused.value) == str(PlanError(said, where=str(tmp_path / name)))
        assert (tmp_path / name).is_symlink()
    assert sorted(p.name for p in (tmp_path / "deep" / "real").iterdir()) == ["notes.txt"]
    assert not (tmp_path / "nowhere").exists()
    assert sorted(p.name for p in tmp_path.iterdir()) == [
        "dangling",
        "deep",
        "link",
        "loop",
        "tiny.toml",
    ]


def test_numpy_booleans_are_taken_as_the_switches_they_hold(tmp_path: Path) -> None:
    """frontier=np.False_ (a flag computed with NumPy, as an array's `.any()` gives it) was
    refused as "frontier must be True or False, got np.False_", where bs.run takes NumPy
    booleans for record= and records=; it is taken as the bool it holds."""
    plan_file = tmp_path / "tiny.toml"
    plan_file.write_text(TINY_PLAN)
    result = bs.plan(SMALL, plan_file, frontier=np.False_, compare_base=np.bool_(False))
    assert result.frontier == [] and result.base is None
    with pytest.raises(PlanError, match=r"^frontier must be True or False, got 'no'$"):
        bs.plan(SMALL, plan_file, frontier="no")  # type: ignore[arg-type]


def test_a_pipe_given_for_the_scenario_or_the_plan_file_is_named_as_such(tmp_path: Path) -> None:
    """A named pipe given for the scenario or the plan file was "no such scenario file" (or plan
    file), though it is there, where bs.load_scenario and bs.run name it as what it is; it is
    named so, and never opened (reading a pipe would wait for a writer)."""
    import os

    plan_file = tmp_path / "tiny.toml"
    plan_file.write_text(TINY_PLAN)
    pipe = tmp_path / "pipe.toml"
    os.mkfifo(pipe)
    for scenario, plan, what in [(pipe, plan_file, "scenario"), (SMALL, pipe, "plan")]:
        with pytest.raises(PlanError) as refused:
            bs.plan(scenario, plan)
        assert str(refused.value) == (
            f"{pipe}: {what} file is not a regular file (a FIFO, socket or device); give a file"
        )
    with pytest.raises(PlanError, match=r"nowhere\.toml: no such scenario file$"):
        bs.plan(tmp_path / "nowhere.toml", plan_file)
    (tmp_path / "dangling.toml").symlink_to(tmp_path / "nowhere.toml")
    with pytest.raises(PlanError, match=r"dangling\.toml: no such plan file$"):
        bs.plan(SMALL, tmp_path / "dangling.toml")


def test_the_base_comparison_shows_as_one_line_not_every_array() -> None:
    """`result.base` in a notebook printed the dataclass's arrays: the base scenario's headcount
    of every day, sector and pool, and every replication's value of every target; it is now one
    line: the replaced deployments' cost, the required sector-weeks they miss and the shapes."""
    from bordersim.planner.run import BaseComparison
    from bordersim.planner.targets import Evaluation

    shape = (4, 3, 2, 6)  # replications, targets, sectors, weeks
    evaluation = Evaluation(
        values=np.zeros(shape),
        holds=np.ones(shape, dtype=bool),
        active=np.ones(3, dtype=bool),
        level=np.full(3, 0.95),
        at_most=np.zeros(3, dtype=bool),
    )
    base = BaseComparison(
        cost=1_234_567.0, headcount=np.full((42, 2, 1), 300.0), evaluation=evaluation, missed=1
    )
    shown = repr(base)
    assert shown == (
        f"BaseComparison(the replaced deployments cost {millions(1_234_567.0)}, 1 required "
        "sector-week missed on 4 replications; headcount [42 days, 2 sectors, 1 pool])"
    )
    assert "\n" not in shown and len(shown) < 200, shown
