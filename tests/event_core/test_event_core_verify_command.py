"""`bordersim verify`: the table, the ad-hoc form and its refusals."""

from __future__ import annotations

import pytest

from bordersim.cli import main
from bordersim.verify.cases import default_cases


def run(args: list[str], capsys: pytest.CaptureFixture[str]) -> tuple[int, str, str]:
    with pytest.raises(SystemExit) as done:
        main(["verify", *args])
        raise SystemExit(0)
    out = capsys.readouterr()
    return int(done.value.code or 0), out.out, out.err


def test_ad_hoc_case_prints_a_passing_table(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(
        [
            "--case",
            "mmc",
            "--arrival-rate",
            "9",
            "--service-rate",
            "1",
            "--servers",
            "10",
            "--customers",
            "100000",
            "--seed",
            "3",
        ],
        capsys,
    )
    assert code == 0
    assert "P(wait)" in out and "mean wait" in out and "Little" in out
    assert "3/3 rows pass" in out


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--case", "mmc", "--arrival-rate", "11", "--servers", "10"], "unstable"),
        # each refusal names the option as typed ("arrival-rate must ...", "customers must ..."
        # named none)
        (["--case", "mm1", "--arrival-rate", "-1"], "error: --arrival-rate -1: must be a positive"),
        (["--case", "mm1", "--service-rate", "0"], "error: --service-rate 0: must be a positive"),
        # an infinite arrival rate was called "unstable: arrival rate inf >= service rate 1"
        (
            ["--case", "mm1", "--arrival-rate", "inf"],
            "error: --arrival-rate inf: must be a positive number",
        ),
        (
            ["--case", "mmc", "--arrival-rate", "inf"],
            "error: --arrival-rate inf: must be a positive number",
        ),
        (["--case", "erlang-a", "--patience-rate", "0"], "error: --patience-rate 0: must be a p"),
        # infinite patience was "must be >= 0, got inf"
        (
            ["--case", "erlang-a", "--patience-rate", "inf"],
            "--patience-rate inf: must be a positive",
        ),
        (
            ["--case", "mmck", "--capacity", "5", "--servers", "10"],
            "error: --capacity 5: must be a whole number, at least --servers (10)",
        ),
        (["--case", "mg1", "--service-cv", "-1"], "error: --service-cv -1: must be a finite"),
        # an infinite one was refused as "Lognormal.cv must be ...", a name of the code's
        (["--case", "mg1", "--service-cv", "inf"], "error: --service-cv inf: must be a finite"),
        (["--case", "mg1", "--servers", "3"], "does not take --servers"),
        # a billion places or 20 million servers summed states for half a minute and then said
        # "birth-death chain did not converge; parameters too extreme", naming no option
        (
            ["--case", "mmck", "--capacity", "1000000000"],
            "error: --capacity 1000000000: must be at most 10,000,000 (the states the exact "
            "formula sums)",
        ),
        (
            ["--case", "erlang-a", "--servers", "20000000"],
            "error: --servers 20000000: must be below 10,000,000 for erlang-a (the states the "
            "exact formula sums)",
        ),
        (["--case", "nope"], "unknown"),
        # "--servers must be a whole number >= 1, got 0": the value now follows the option
        (["--case", "mmc", "--servers", "0"], "error: --servers 0: must be at least 1"),
        (["--case", "mm1", "--customers", "0"], "error: --customers 0: must be at least 1"),
        (["--case", "mm1", "--batches", "5"], "error: --batches 5: must be at least 10 for an"),
        (["--servers", "3"], "--servers needs --case"),
        (["--servers", "3", "--arrival-rate", "1"], "--arrival-rate, --servers need --case"),
        (
            ["--case", "mmc", "--customers", "10"],
            "error: --customers 10: must be at least 4,000 for --batches 40",
        ),
        # 10^14 was simulated until killed: the event core does not stop for Ctrl-C or SIGTERM
        (["--customers", str(10**14)], f"--customers {10**14}: must be at most 1,000,000,000"),
        (["--case", "mm1", "--customers", "1000000001"], "at most 1,000,000,000 (a thousand"),
        (["--case", "mm1", "--seed", "-1"], "--seed -1: must be a whole number from 0 to 2^63 - 1"),
        # 2^64 was taken modulo 2^64: the table said seed 18446744073709551616 and ran seed 0
        (["--case", "mm1", "--seed", str(2**64)], f"--seed {2**64}: must be a whole number from 0"),
    ],
)
def test_invalid_requests_get_one_clear_error(
    args: list[str], message: str, capsys: pytest.CaptureFixture[str]
) -> None:
    code, _, err = run(args, capsys)
    assert code == 2
    assert message in err
    assert "Traceback" not in err and len(err.strip().splitlines()) == 1, err


@pytest.mark.slow
def test_full_verify_passes(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run([], capsys)
    assert code == 0, out
    assert "21/21 rows pass" in out


def test_a_measure_too_rare_to_see_is_not_judged_a_failure(
    capsys: pytest.CaptureFixture[str],
) -> None:
    # M/M/10 at utilisation 0.1 waits with probability 1.1e-7: 4,000 customers see no wait, and
    # 0 ± 0 against 1.1e-7 was a FAIL (exit 1) of a core that is right.
    code, out, _ = run(
        [
            "--case",
            "mmc",
            "--arrival-rate",
            "1",
            "--service-rate",
            "1",
            "--servers",
            "10",
            "--customers",
            "4000",
        ],
        capsys,
    )
    assert code == 0, out
    assert "FAIL" not in out
    assert out.count("│ too rare") == 2, out  # P(wait) and mean wait
    assert "1/3 rows pass in" in out and "s; 2 too rare to judge" in out


def test_a_zero_simulated_against_a_likely_event_still_fails() -> None:
    # too rare means fewer than one occurrence expected among the customers simulated; a
    # probability of 0.5 never seen is a failure
    import numpy as np

    from bordersim.verify.runner import BatchValues, judge_all

    never = BatchValues("mmc", "P(wait)", 0.5, np.zeros(40), chance=0.5)
    (row,) = judge_all([never], customers=4000)
    assert not row.passed and not row.too_rare
    rare_wait = BatchValues("mmc", "P(wait)", 1e-7, np.zeros(40), chance=1e-7)
    (rare,) = judge_all([rare_wait], customers=4000)
    assert rare.passed and rare.too_rare


@pytest.mark.parametrize("rate", ["1", "0.00001"])
def test_too_rare_does_not_hang_on_the_unit_of_time(
    rate: str, capsys: pytest.CaptureFixture[str]
) -> None:
    # the same M/M/10 at utilisation 0.1 with its rates per hour or per second: its mean wait
    # (1.3e-8 units of time, or 1.3e-3) was too rare in one and a FAIL (exit 1) in the other,
    # as the cutoff was the analytic value against 1/--customers; it is now the chance per
    # customer of a wait (1.1e-7 either way)
    queue = ["--arrival-rate", rate, "--service-rate", rate, "--servers", "10"]
    code, out, _ = run(["--case", "mmc", *queue, "--customers", "4000"], capsys)
    assert code == 0, out
    assert out.count("│ too rare") == 2, out  # P(wait) and mean wait
    caption = " ".join(out.split())
    assert "the chance per customer of its event" in caption, caption


def test_the_caption_writes_its_percentages_as_bordersim_does(
    capsys: pytest.CaptureFixture[str],
) -> None:
    # the caption said "a 98.33% t interval" beside "95 % simultaneous", the space dropped in one
    _, out, _ = run(["--case", "mm1", "--customers", "4000"], capsys)
    caption = " ".join(out.split())
    assert "a 98.33 % t interval" in caption and "%" not in caption.replace(" %", ""), caption


@pytest.mark.parametrize("given", ["MM1", " mm1", "Mm1\n"])
def test_a_case_in_capitals_or_with_spaces_is_the_case_meant(
    given: str, capsys: pytest.CaptureFixture[str]
) -> None:
    # --case MM1 was "unknown; choose one of: mm1, ...", while export takes --format CSV
    code, out, err = run(["--case", given, "--customers", "4000"], capsys)
    assert code == 0, err
    assert "│ mm1" in out and "3/3 rows pass" in out


def test_the_help_says_what_each_option_takes() -> None:
    """The rates' help said only "Customers per unit." and "Services per unit.", naming neither
    time nor the cases that take them, and the bounds on --customers and --batches that refuse a
    value were left to the error: the help now says what docs/event-core.md says."""
    import typer

    from bordersim.cli import _register, app

    _register()
    verify = typer.main.get_command(app).commands["verify"]  # type: ignore[attr-defined]
    helps = {param.opts[0]: param.help or "" for param in verify.params}
    assert (
        "per unit of time" in helps["--arrival-rate"] and "but priority" in helps["--arrival-rate"]
    )
    assert "per unit of time" in helps["--service-rate"] and "but tandem" in helps["--service-rate"]
    assert "at most 1,000,000,000" in helps["--customers"]
    assert "at least 10" in helps["--batches"]


def test_only_a_measure_never_seen_is_too_rare_not_a_constant_gap() -> None:
    # a Little's law row whose every batch differs by the same amount has no spread either,
    # but its theory (a gap of 0) is not rare: a constant gap is a failure
    import numpy as np

    from bordersim.verify.runner import BatchValues, judge_all

    gap = BatchValues("mm1", "Little", float("nan"), np.full(40, 2.0), reference=np.ones(40))
    (row,) = judge_all([gap], customers=4000)
    assert not row.passed and not row.too_rare
    seen = BatchValues("mm1", "P(wait)", 1e-7, np.full(40, 0.5), chance=1e-7)  # seen always
    (row,) = judge_all([seen], customers=4000)
    assert not row.passed and not row.too_rare


@pytest.mark.parametrize("case", [case.name for case in default_cases()])
def test_every_case_the_full_run_names_runs_alone(
    case: str, capsys: pytest.CaptureFixture[str]
) -> None:
    """The full run's table names the case `md1` (M/D/1), but `--case md1` was "unknown; choose
    one of: mm1, ..., mg1, ...": the M/D/1 case could only be had as `--case mg1 --service-cv 0`."""
    code, out, err = run(["--case", case, "--customers", "4000"], capsys)
    assert code == 0, err
    assert f"│ {case} " in out and "rows pass" in out
