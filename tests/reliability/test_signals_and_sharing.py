"""Signals and shared stores, through the real command line (issue 10).

Each test starts `bordersim` in a subprocess on `scenarios/examples/small.toml` (flow engine, a
few replications) or on the shipped data files, sends a signal while the work is under way, and
then checks what the next command sees: no run left 'running', no results stored for a run that
did not finish, no temporary or partial files left in the output folder, and an import either
whole or absent. The concurrency test holds a run in progress while `runs`, `data show` and a
second run use the same store.
"""

from __future__ import annotations

import contextlib
import os
import shlex
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from bordersim.store import open_store
from bordersim.store.runs import COMPLETE, FAILED, RUNNING, list_runs
from repo_paths import SMALL

BORDERSIM = str(Path(sys.executable).parent / "bordersim")
pytestmark = pytest.mark.slow


def _env(tmp_path: Path) -> dict[str, str]:
    env = dict(os.environ)
    env["BORDERSIM_STORE"] = str(tmp_path / "store.duckdb")
    env.pop("BORDERSIM_STORE_WAIT", None)
    return env


def _start(tmp_path: Path, *args: str) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [BORDERSIM, *args],
        cwd=tmp_path,
        env=_env(tmp_path),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def _run(tmp_path: Path, *args: str, timeout: float = 600) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [BORDERSIM, *args],
        cwd=tmp_path,
        env=_env(tmp_path),
        capture_output=True,
        text=True,
        timeout=timeout,
    )


def _statuses(store: Path) -> dict[str, str]:
    if not store.exists():
        return {}
    with open_store(store, read_only=True, wait_s=60) as connection:
        return {run.run_id: run.status for run in list_runs(connection)}


def _wait_for_running(tmp_path: Path, process: subprocess.Popen[str]) -> str:
    """The id of the run `process` records, once it is 'running' in the store."""
    store = tmp_path / "store.duckdb"
    deadline = time.monotonic() + 300
    while time.monotonic() < deadline:
        assert process.poll() is None, process.communicate()
        running = [run for run, status in _statuses(store).items() if status == RUNNING]
        if running:
            return running[0]
        time.sleep(0.2)
    raise AssertionError("the run never showed as running")


def _small_run(tmp_path: Path, out: str = "out-a", replications: int = 2) -> list[str]:
    return ["run", str(SMALL), "--engine", "flow", "-r", str(replications), "--out", out]


# Runs that a signal must find under way: 2 replications can finish within the second after the
# run shows as running on a fast machine; 100 take several seconds more anywhere.
LONG = 100


def _leftovers(folder: Path) -> list[str]:
    if not folder.exists():
        return []
    return sorted(p.name for p in folder.rglob("*") if p.name.endswith(".tmp"))


@pytest.mark.parametrize("signum", [signal.SIGINT, signal.SIGTERM])
def test_interrupting_a_run_marks_it_failed_and_leaves_no_output(
    tmp_path: Path, signum: int
) -> None:
    process = _start(tmp_path, *_small_run(tmp_path, replications=LONG))
    run_id = _wait_for_running(tmp_path, process)
    time.sleep(1.0)
    process.send_signal(signum)
    _, err = process.communicate(timeout=300)
    assert process.returncode == 128 + signum, err
    assert f"interrupted ({signal.Signals(signum).name})" in err
    assert "Traceback" not in err
    assert _statuses(tmp_path / "store.duckdb")[run_id] == FAILED
    assert _leftovers(tmp_path / "out-a") == []
    assert not list((tmp_path / "out-a").rglob("report.html"))


def test_a_comparison_interrupted_after_its_first_run_says_that_run_is_kept(
    tmp_path: Path,
) -> None:
    """A comparison of two files stopped while it simulates B ended on "nothing was marked
    complete", though A's run was complete in the store (and a later compare reuses it)."""
    variant = tmp_path / "no-troops.toml"
    variant.write_text(f'base = "{SMALL}"\nremove = ["deployments.troops"]\nname = "nt"\n')
    args = ["compare", str(SMALL), str(variant), "--engine", "flow", "-r", str(LONG)]
    process = _start(tmp_path, *args, "--out", "cmp")
    store = tmp_path / "store.duckdb"
    deadline = time.monotonic() + 300
    while sorted(_statuses(store).values()) != [COMPLETE, RUNNING]:
        assert process.poll() is None, process.communicate()
        assert time.monotonic() < deadline, "B never showed as running after A"
        time.sleep(0.2)
    time.sleep(1.0)
    process.send_signal(signal.SIGINT)
    _, err = process.communicate(timeout=300)
    said = " ".join(err.split())
    assert process.returncode == 130, err
    (kept,) = [run for run, status in _statuses(store).items() if status == COMPLETE]
    assert f"run {kept} is complete and kept" in said, said
    assert "nothing was marked complete" not in said, said


def test_a_killed_run_is_repaired_by_the_next_command(tmp_path: Path) -> None:
    process = _start(tmp_path, *_small_run(tmp_path, replications=LONG))
    run_id = _wait_for_running(tmp_path, process)
    time.sleep(1.0)
    process.send_signal(signal.SIGKILL)
    process.communicate(timeout=60)
    assert process.returncode == -signal.SIGKILL
    listed = _run(tmp_path, "runs")
    assert listed.returncode == 0, listed.stderr
    assert _statuses(tmp_path / "store.duckdb")[run_id] == FAILED
    # the note is the table's last column, wrapped over the row's lines
    notes = [line.split("│")[-2] for line in listed.stdout.splitlines() if line.count("│") > 2]
    assert "ended without finishing" in " ".join(" ".join(notes).split()), listed.stdout
    assert _leftovers(tmp_path / "out-a") == []
    repaired = _run(tmp_path, "runs", "--repair")
    assert repaired.returncode == 0 and "nothing to repair" in repaired.stdout


def test_a_signal_during_an_import_leaves_all_or_nothing(tmp_path: Path) -> None:
    """The shipped files imported, then imported again and stopped by SIGINT, SIGTERM and
    SIGKILL in turn while the workbook is read or stored: the store holds the whole import each
    time (the first one, or the same files again), never part of one."""
    first = _run(tmp_path, "data", "import")
    assert first.returncode == 0, first.stderr
    store = tmp_path / "store.duckdb"

    def content() -> tuple[object, ...]:
        with open_store(store, read_only=True, wait_s=60) as connection:
            return (
                connection.execute(
                    "SELECT count(*), sum(quantity) FROM ohss_encounters"
                ).fetchone(),
                connection.execute("SELECT count(*) FROM cbp_swb_encounters").fetchone(),
                connection.execute("SELECT count(*) FROM data_imports").fetchone(),
            )

    before = content()
    for signum, delay in ((signal.SIGINT, 2.0), (signal.SIGTERM, 3.5), (signal.SIGKILL, 5.0)):
        process = _start(tmp_path, "data", "import")
        time.sleep(delay)
        process.send_signal(signum)
        _, err = process.communicate(timeout=120)
        assert process.returncode in (0, 128 + signum, -signum), err
        assert "Traceback" not in err
        assert content() == before
    assert _run(tmp_path, "data", "show").returncode == 0


def test_reads_and_a_second_run_share_the_store_with_a_run_in_progress(tmp_path: Path) -> None:
    first = _start(tmp_path, *_small_run(tmp_path, "out-a"))
    run_a = _wait_for_running(tmp_path, first)
    listed = _run(tmp_path, "runs", timeout=120)
    assert listed.returncode == 0, listed.stderr
    assert run_a in listed.stdout.replace("\n", "") or "running" in listed.stdout
    shown = _run(tmp_path, "data", "show", timeout=120)
    assert shown.returncode == 0, shown.stderr  # an empty store's data is shown, not refused
    second = _run(tmp_path, *_small_run(tmp_path, "out-b"), timeout=600)
    assert second.returncode == 0, second.stderr
    _, err = first.communicate(timeout=600)
    assert first.returncode == 0, err
    statuses = _statuses(tmp_path / "store.duckdb")
    assert len(statuses) == 2 and set(statuses.values()) == {COMPLETE}


def _registered_blocks(store: Path) -> int:
    if not store.exists():
        return 0
    with open_store(store, read_only=True, wait_s=60) as connection:
        tables = {row[0] for row in connection.execute("SHOW TABLES").fetchall()}
        if "sweep_blocks" not in tables:
            return 0
        row = connection.execute("SELECT count(*) FROM sweep_blocks").fetchone()
        return int(row[0]) if row else 0


def _block_files(tmp_path: Path) -> int:
    """Block files written so far (seen without opening the store, which the sweep holds)."""
    return len(list((tmp_path / "store.results" / "sweeps").glob("*/blocks/*/*.parquet")))


@pytest.mark.parametrize("signum", [signal.SIGINT, signal.SIGTERM])
def test_an_interrupted_blocked_sweep_says_how_to_resume_it(tmp_path: Path, signum: int) -> None:
    """Ctrl-C or SIGTERM during a blocked sweep prints the `--resume` command with the sweep's
    id, and that command runs only the blocks that were not kept. The signal goes as soon as a
    block file is written (watched on disk: a read of the store can wait for the sweep's own
    writes, long enough for a fast machine to finish all the blocks first), and the sweep has
    180 blocks, so it is always interrupted part way. The command it prints is run as printed:
    it keeps the sweep's --out (without it, the KPI table went to out/small-sweep)."""
    process = _start(
        tmp_path,
        *["sweep", str(SMALL), "--vary", "deployments.troops.headcount=0,300,600", "-r", "120"],
        *["--block-variants", "1", "--block-replications", "2", "--out", "my sweep"],
    )
    deadline = time.monotonic() + 300
    while _block_files(tmp_path) == 0:
        assert process.poll() is None, process.communicate()
        assert time.monotonic() < deadline, "no block file was ever written"
        time.sleep(0.05)
    process.send_signal(signum)
    out, err = process.communicate(timeout=300)
    assert process.returncode == 128 + signum, err
    assert "Traceback" not in err
    said = " ".join(out.split())
    assert "finished blocks are kept; finish with bordersim sweep --resume small-" in said, out
    assert err.strip() == (
        f"interrupted ({signal.Signals(signum).name}): the sweep stopped cleanly; its finished "
        "blocks are kept in the store; nothing was written to my sweep"
    )
    hint = said.split("finish with ")[1]
    assert hint.endswith(" --out 'my sweep'"), hint
    assert not (tmp_path / "my sweep").exists()
    kept = _registered_blocks(tmp_path / "store.duckdb")
    assert kept < 180
    resumed = _run(tmp_path, *shlex.split(hint)[1:])
    assert resumed.returncode == 0, resumed.stderr
    assert f"{180 - kept} blocks run, {kept} reused" in " ".join(resumed.stdout.split())
    assert (tmp_path / "my sweep" / "kpis.csv").is_file()
    assert not (tmp_path / "out").exists()


def test_a_blocked_sweep_interrupted_before_it_is_recorded_prints_no_resume_command(
    tmp_path: Path,
) -> None:
    """Ctrl-C while a blocked sweep's 2,000 grid points were checked, before the sweep was
    recorded, printed "finish with bordersim sweep --resume ID", a command that then failed (no
    such sweep, not even a store). It now says the sweep was not recorded, to run it again."""
    values = ",".join(str(n) for n in range(0, 10_000, 10))
    process = _start(
        tmp_path,
        *["sweep", str(SMALL), "--vary", f"deployments.troops.headcount={values}"],
        *["--vary", "demand.scale=1,1.1", "-r", "2", "--store", "store.duckdb", "--out", "sw"],
    )
    assert process.stdout is not None
    assert "2,000 variants x 2 replications of small" in process.stdout.readline()
    # the header comes before the grid is checked, which takes seconds for 2,000 points (a
    # grid of 200 was checked within half a second on a fast machine, and the sweep recorded)
    time.sleep(0.2)
    process.send_signal(signal.SIGINT)
    out, err = process.communicate(timeout=300)
    assert process.returncode == 130, err
    said = " ".join(out.split())
    assert "--resume" not in said, said
    assert "interrupted before the sweep was recorded: nothing to resume" in said, said
    assert err.strip() == (
        "interrupted (SIGINT): the sweep stopped cleanly before it was recorded; nothing was "
        "written to sw"
    )
    assert not (tmp_path / "sw").exists()


@pytest.mark.parametrize("signum", [signal.SIGINT, signal.SIGTERM])
def test_an_interrupted_sweep_says_it_wrote_nothing(tmp_path: Path, signum: int) -> None:
    """Ctrl-C or SIGTERM during a sweep said "nothing was marked complete (a run that had
    started is recorded as failed)", the words of a simulation run; a sweep records no run. It
    speaks of the sweep and its folder, which is not made."""
    process = _start(
        tmp_path,
        *["sweep", str(SMALL), "--vary", "deployments.troops.headcount=0,300", "-r", "2"],
    )
    assert process.stdout is not None
    assert "2 variants x 2 replications of small" in process.stdout.readline()
    process.send_signal(signum)
    _, err = process.communicate(timeout=300)
    assert process.returncode == 128 + signum, err
    assert err.strip() == (
        f"interrupted ({signal.Signals(signum).name}): the sweep stopped cleanly; nothing was "
        f"written to {Path('out') / 'small-sweep'}"
    )
    assert not (tmp_path / "out").exists()


def _session(sid: int) -> list[int]:
    """The live (not zombie) processes of session `sid`."""
    found = []
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            stat = Path(f"/proc/{entry}/stat").read_text()
            if os.getsid(int(entry)) == sid and stat.rsplit(")", 1)[1].split()[0] != "Z":
                found.append(int(entry))
        except (OSError, IndexError):
            continue  # gone meanwhile
    return found


@contextlib.contextmanager
def _own_session(
    tmp_path: Path, args: list[str], env: dict[str, str]
) -> Iterator[subprocess.Popen[bytes]]:
    """`bordersim ARGS` in a session of its own (as a terminal runs a command, so that a
    Ctrl-C can go to its whole group), its output in out.txt and err.txt; on the way out,
    whatever is left of the session is killed."""
    with (tmp_path / "out.txt").open("w") as out, (tmp_path / "err.txt").open("w") as err:
        process = subprocess.Popen(
            [BORDERSIM, *args], cwd=tmp_path, env=env, stdout=out, stderr=err,
            start_new_session=True,
        )  # fmt: skip
    try:
        yield process
    finally:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, signal.SIGKILL)
        process.wait()


def _wait_for_processes(process: subprocess.Popen[bytes], tmp_path: Path, what: str) -> None:
    """Until the command has started two processes of its own (`what`)."""
    deadline = time.monotonic() + 300
    while len(_session(process.pid)) < 3:
        assert process.poll() is None, (tmp_path / "err.txt").read_text()
        assert time.monotonic() < deadline, f"{what} never started"
        time.sleep(0.05)


@pytest.mark.skipif(not Path("/proc").is_dir(), reason="lists processes from /proc")
def test_ctrl_c_while_a_local_cluster_starts_ends_it_without_a_traceback(tmp_path: Path) -> None:
    """A terminal's Ctrl-C reaches the workers of a `--cluster local:2` sweep too. Sent while
    they start (importing their libraries), each worker printed a traceback of bordersim's own
    `Interrupted` after the command's 'interrupted' line; the workers now leave Ctrl-C to the
    command, which ends them."""
    args = ["sweep", str(SMALL), "--vary", "deployments.troops.headcount=0,300", "-r", "12"]
    args += ["--block-variants", "1", "--block-replications", "1", "--cluster", "local:2"]
    with _own_session(tmp_path, [*args, "--out", "out"], _env(tmp_path)) as process:
        _wait_for_processes(process, tmp_path, "the cluster's workers")  # starting now
        os.killpg(process.pid, signal.SIGINT)
        returncode = process.wait(timeout=60)
        time.sleep(0.5)
        left = _session(process.pid)
    said = (tmp_path / "err.txt").read_text() + (tmp_path / "out.txt").read_text()
    assert returncode == 130, said
    assert left == [], left
    assert "Traceback" not in said and "Interrupted" not in said, said
    assert said.count("interrupted (SIGINT)") == 1, said
    assert not (tmp_path / "out").exists()


@pytest.mark.skipif(not Path("/proc").is_dir(), reason="lists processes from /proc")
@pytest.mark.parametrize("sent_to", ["the command", "its process group"])
def test_ctrl_c_while_the_forecast_is_fitted_ends_its_processes(
    tmp_path: Path, sent_to: str
) -> None:
    """A plan against forecast sample paths fits the forecast in two processes (the first time,
    tens of seconds). SIGINT then, twice (`kill -INT`, then again as nothing seemed to happen)
    or once to the whole group (a terminal's Ctrl-C), ends the command and its fitting
    processes within seconds, saying 'interrupted' once, without a traceback. (It used to wait
    for every fit still queued, and after a second SIGINT said 'interrupted' and went on waiting
    with the fitting processes alive.)"""
    plans = SMALL.parents[2] / "plans" / "examples"
    env = _env(tmp_path)
    env["BORDERSIM_CACHE"] = str(tmp_path / "cache")  # no forecast cached: it is fitted
    args = ["plan", str(SMALL.parent / "small-staff-bound.toml")]
    args += ["--plan", str(plans / "small-forecast-paths.toml"), "--out", "plan"]
    with _own_session(tmp_path, args, env) as process:
        _wait_for_processes(process, tmp_path, "the forecast's fitting processes")
        time.sleep(1.0)  # the fits under way
        fitting = set(_session(process.pid)) - {process.pid}
        if sent_to == "the command":
            process.send_signal(signal.SIGINT)
            time.sleep(0.5)
            if process.poll() is None:
                process.send_signal(signal.SIGINT)
        else:
            os.killpg(process.pid, signal.SIGINT)
        time.sleep(2.0)
        # ended at once, not after the fits still queued (seconds to tens of seconds)
        fitting_left = fitting & set(_session(process.pid))
        returncode = process.wait(timeout=20)
        time.sleep(0.5)
        left = _session(process.pid)
    said = (tmp_path / "err.txt").read_text()
    # 130; or ended by the second SIGINT itself once Python's own exit had begun (a shell
    # shows 130 for that too)
    assert returncode in (130, -signal.SIGINT), said
    assert fitting_left == set() and left == [], (fitting_left, left)
    assert said.count("interrupted (SIGINT)") == 1 and "Traceback" not in said, said
    assert not (tmp_path / "plan").exists()


@pytest.mark.skipif(not Path("/proc").is_dir(), reason="lists processes from /proc")
def test_sigterm_to_the_workbench_and_its_worker_ends_them_without_a_traceback(
    tmp_path: Path,
) -> None:
    """`systemctl stop`, `timeout` or `kill -TERM -PGID` send SIGTERM to the workbench and its
    job worker alike. The worker printed a traceback of bordersim's own `Interrupted` (raised
    while it waited for a job) before the server's 'interrupted (SIGTERM)' line."""
    import httpx2

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    args = ["serve", "--port", str(port), "--scenarios", str(SMALL.parents[1])]
    with _own_session(tmp_path, [*args, "--out", "out"], _env(tmp_path)) as process:
        deadline = time.monotonic() + 120
        while True:  # until the server answers and its worker runs
            assert process.poll() is None, (tmp_path / "err.txt").read_text()
            assert time.monotonic() < deadline, "the workbench did not start"
            with contextlib.suppress(httpx2.HTTPError):
                health = httpx2.get(f"http://127.0.0.1:{port}/healthz", timeout=1).json()
                if health["worker"] and len(_session(process.pid)) >= 2:
                    break
            time.sleep(0.2)
        time.sleep(1.0)  # the worker waiting for a job
        os.killpg(process.pid, signal.SIGTERM)
        returncode = process.wait(timeout=60)
        time.sleep(0.5)
        left = _session(process.pid)
    said = (tmp_path / "err.txt").read_text() + (tmp_path / "out.txt").read_text()
    assert returncode == 128 + signal.SIGTERM, said
    assert left == [], left
    assert "Traceback" not in said and "Interrupted" not in said, said
    assert said.count("interrupted (SIGTERM)") == 1, said
    # in the workbench's words: it said "nothing was marked complete", as a run it had finished
    # was not
    assert "interrupted (SIGTERM): the workbench stopped" in said, said
    assert "nothing was marked complete" not in said, said
