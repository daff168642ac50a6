"""Blocked sweeps: the same numbers in this process and on a 2-worker Dask cluster (bit for bit),
a worker killed mid-sweep costs only its block, and an interrupted sweep resumes. (The same
against a PostgreSQL store: tests/store/test_store_sweeps.py.)"""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd
import pyarrow.parquet as pq
import pytest

import bordersim as bs
import postgres_server
from bordersim.cli import main
from bordersim.scenario import load_scenario
from bordersim.services.blocks import (
    BlockedSweep,
    BlockReport,
    BlockShape,
    resume_sweep,
    run_blocked_sweep,
)
from bordersim.services.sweep import Axis
from bordersim.store import open_catalog, open_store
from bordersim.store.sweeps import SweepBlock, list_sweeps, registered_blocks

if TYPE_CHECKING:
    from distributed import Client

ROOT = Path(__file__).resolve().parents[2]
SMALL = ROOT / "scenarios" / "examples" / "small.toml"
AXES = [Axis("deployments.troops.headcount", (0, 300, 600))]
REPLICATIONS = 4
SEED = 11
#: 3 variant blocks x 2 seed blocks: six tasks, enough for one to be lost while others run.
SHAPE = BlockShape(variants=1, replications=2)


def run(folder: Path, **kwargs: object) -> BlockedSweep:
    """The sweep, recorded in a store in `folder`."""
    return run_blocked_sweep(
        load_scenario(SMALL),
        AXES,
        replications=REPLICATIONS,
        seed=SEED,
        shape=SHAPE,
        store=folder / "bordersim.duckdb",
        **kwargs,  # type: ignore[arg-type]
    )


@pytest.fixture(scope="module")
def serial(tmp_path_factory: pytest.TempPathFactory) -> BlockedSweep:
    return run(tmp_path_factory.mktemp("serial"))


@pytest.fixture(scope="module")
def client() -> Iterator[Client]:
    """One 2-worker local cluster for the tests that need one (starting one costs seconds)."""
    from bordersim.services.cluster import open_client

    with open_client("local:2") as opened:
        yield opened


def assert_identical(a: BlockedSweep, b: BlockedSweep) -> None:
    assert a.sweep_id == b.sweep_id
    assert len(a.sweep.runs) == len(b.sweep.runs) == 3
    for run_a, run_b in zip(a.sweep.runs, b.sweep.runs, strict=True):
        assert run_a.daily.shape == (REPLICATIONS, *run_a.daily.shape[1:])
        assert np.array_equal(run_a.daily, run_b.daily, equal_nan=True)
        assert np.array_equal(run_a.custody_hist, run_b.custody_hist)
        assert run_a.scenario_hash == run_b.scenario_hash
    pd.testing.assert_frame_equal(a.sweep.table, b.sweep.table, check_exact=True)


def registered(folder: Path, sweep_id: str) -> dict[str, SweepBlock]:
    with open_catalog(folder / "bordersim.duckdb", create=False) as catalog:
        return registered_blocks(catalog, sweep_id)


def test_blocks_are_files_registered_in_the_catalog(serial: BlockedSweep) -> None:
    store_folder = serial.folder.parents[2]  # <store folder>/bordersim.results/sweeps/<id>
    blocks = registered(store_folder, serial.sweep_id)
    assert len(blocks) == 6 and serial.blocks_run == 6
    entry = blocks["variants=00002/seeds=00001"]
    results = store_folder / "bordersim.results"
    assert serial.folder == results / "sweeps" / serial.sweep_id
    table = pq.read_table(results / entry.path)
    assert table.num_rows == entry.rows
    assert set(table["variant"].to_pylist()) == {2}
    assert set(table["replication"].to_pylist()) == {2, 3}
    # variants differ (the grid is real) and replications differ (the seed blocks are distinct)
    runs = serial.sweep.runs
    assert not np.array_equal(runs[0].daily, runs[2].daily)
    assert not np.array_equal(runs[0].daily[0], runs[0].daily[2])
    assert not list(serial.folder.rglob("*.partial"))


@pytest.mark.slow
def test_local_cluster_matches_serial_bit_for_bit(
    serial: BlockedSweep, client: Client, tmp_path: Path
) -> None:
    distributed = run(tmp_path, client=client)
    assert distributed.blocks_run == 6
    assert_identical(serial, distributed)


@pytest.mark.slow
def test_local_cluster_into_a_postgresql_store_matches_serial(
    serial: BlockedSweep, client: Client, postgres: postgres_server.Server, tmp_path: Path
) -> None:
    """The workers write into the shared store's results folder, the driver registers there."""
    url = postgres.new_store_url(tmp_path / "shared-results")
    distributed = run_blocked_sweep(
        load_scenario(SMALL),
        AXES,
        replications=REPLICATIONS,
        seed=SEED,
        shape=SHAPE,
        client=client,
        store=url,
    )
    assert distributed.folder == tmp_path / "shared-results" / "sweeps" / serial.sweep_id
    assert_identical(serial, distributed)
    with open_catalog(url, create=False) as catalog:
        assert len(registered_blocks(catalog, serial.sweep_id)) == 6


@pytest.mark.slow
def test_a_worker_killed_mid_sweep_costs_only_its_block(
    serial: BlockedSweep, client: Client, tmp_path: Path
) -> None:
    before = set(client.run(os.getpid).values())
    killed: list[int] = []

    def kill_a_busy_worker(report: BlockReport) -> None:
        if killed:
            return
        busy = client.processing()
        address = next((a for a, keys in busy.items() if keys), next(iter(busy)))
        pid = client.run(os.getpid, workers=[address])[address]
        os.kill(pid, signal.SIGKILL)
        killed.append(pid)

    distributed = run(tmp_path, client=client, on_block=kill_a_busy_worker)
    after = set(client.run(os.getpid).values())
    assert killed and killed[0] in before and killed[0] not in after
    assert distributed.blocks_run == 6
    assert_identical(serial, distributed)


def test_an_interrupted_sweep_keeps_its_blocks_and_resumes(
    serial: BlockedSweep, tmp_path: Path
) -> None:
    finished: list[BlockReport] = []

    def stop_after_two(report: BlockReport) -> None:
        finished.append(report)
        if len(finished) == 2:
            raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        run(tmp_path, on_block=stop_after_two)
    blocks = registered(tmp_path, serial.sweep_id)
    assert sorted(blocks) == sorted(r.block.name for r in finished)
    for entry in blocks.values():  # the finished blocks are usable as they are
        table = pq.read_table(tmp_path / "bordersim.results" / entry.path)
        assert table.num_rows == entry.rows

    resumed = resume_sweep(serial.sweep_id, store=tmp_path / "bordersim.duckdb")
    assert (resumed.blocks_run, resumed.blocks_reused) == (4, 2)
    assert_identical(serial, resumed)


def test_cli_resumes_by_sweep_id(
    serial: BlockedSweep, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("BORDERSIM_STORE", str(tmp_path / "store" / "bordersim.duckdb"))

    def stop_at_once(report: BlockReport) -> None:
        raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        run(tmp_path / "store", on_block=stop_at_once)
    # an --out that the sweep may not write is refused before the blocks run, not after
    other = tmp_path / "other"
    other.mkdir()
    (other / "notes.txt").write_text("mine")
    with pytest.raises(SystemExit) as exit_info:
        main(["sweep", "--resume", serial.sweep_id, "--out", str(other)])
    assert exit_info.value.code == 2
    assert len(registered(tmp_path / "store", serial.sweep_id)) == 1
    out = tmp_path / "out"
    main(["sweep", "--resume", serial.sweep_id, "--out", str(out)])
    table = pd.read_parquet(out / "kpis.parquet")
    pd.testing.assert_frame_equal(table, serial.sweep.table, check_exact=True)


def test_a_sweep_with_set_values_resumes(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A sweep of a scenario with values set over its file (`bordersim sweep --set`) records
    them, so `--resume` rebuilds the same scenario instead of refusing it as changed."""
    base = load_scenario(SMALL).with_changes(
        {"demand.scale": 1.3, "deployments.troops.sectors": ["RGV"]}
    )
    monkeypatch.setenv("BORDERSIM_STORE", str(tmp_path / "store" / "bordersim.duckdb"))

    def stop_after_one(report: BlockReport) -> None:
        raise KeyboardInterrupt

    def sweep(**kwargs: object) -> BlockedSweep:
        return run_blocked_sweep(
            base,
            AXES,
            replications=REPLICATIONS,
            seed=SEED,
            shape=SHAPE,
            **kwargs,  # type: ignore[arg-type]
        )

    with pytest.raises(KeyboardInterrupt):
        sweep(on_block=stop_after_one)
    whole = sweep(store=tmp_path / "whole.duckdb")
    out = tmp_path / "out"
    main(["sweep", "--resume", whole.sweep_id, "--out", str(out)])
    table = pd.read_parquet(out / "kpis.parquet")
    pd.testing.assert_frame_equal(table, whole.sweep.table, check_exact=True)
    resumed = resume_sweep(whole.sweep_id)
    assert (resumed.blocks_run, resumed.blocks_reused) == (0, 6)
    assert_identical(whole, resumed)


#: Two thousand values of one --vary: two of them make a grid of four million points.
TWO_THOUSAND = ",".join(map(str, range(2000)))


@pytest.mark.parametrize(
    ("arguments", "message"),
    [
        (["--resume", "small-000000000000"], "no sweep 'small-000000000000'"),
        # an id pasted with the spaces around it was looked up with them, as another id
        (["--resume", " small-000000000000\n"], "no sweep 'small-000000000000' in this store"),
        (["--resume", ""], "--resume needs a sweep id"),
        (["--resume", " ", "--cluster", "local:1"], "--resume needs a sweep id"),
        ([str(SMALL), "--vary", "deployments.troops.headcount=0,1", "--cluster", "lcl"], "lcl"),
        # hundreds of local worker processes ran the machine out of memory
        ([str(SMALL), "--vary", "a.b=1", "--cluster", "local:999"], "give at most local:"),
        # a port in letters ended in Dask's traceback; no host or port 99999 waited 20 s
        ([str(SMALL), "--vary", "a.b=1", "--cluster", "tcp://host:abc"], "the port after"),
        ([str(SMALL), "--vary", "a.b=1", "--cluster", "tcp://host:99999"], "1 to 65535"),
        ([str(SMALL), "--vary", "a.b=1", "--cluster", "tcp://:8786"], "no scheduler host"),
        ([str(SMALL), "--vary", "a.b=1", "--cluster", "local:²"], "at least 1"),
        ([str(SMALL), "--vary", "a.b=1", "--resume", "x"], "--resume"),
        (["--resume", "x", "-r", "5"], "--replications cannot change them"),
        (["--resume", "x", "--seed", "3", "--set", "demand.scale=2"], "--seed, --set cannot"),
        (["--resume", "x", "--block-variants", "2"], "--block-variants cannot"),
        ([], "needs a scenario file"),
        # too few were the framework's four-line usage error, too many bordersim's one line
        (
            [str(SMALL), "--vary", "a.b=1", "-r", "0"],
            "error: --replications 0: must be at least 1",
        ),
        (
            [str(SMALL), "--vary", "a.b=1", "--block-variants", "0"],
            "error: --block-variants 0: must be at least 1",
        ),
        (
            [str(SMALL), "--vary", "a.b=1", "--block-replications", "-1"],
            "error: --block-replications -1: must be at least 1",
        ),
        # a billion replications planned ten million blocks; refused as run, fit and plan do
        (
            [str(SMALL), "--vary", "a.b=1", "-r", "1000000000"],
            "error: --replications 1000000000: must be at most 1,000,000",
        ),
        # four million points were checked one by one, for hours, before a word was said
        (
            [str(SMALL), "--vary", f"a.b={TWO_THOUSAND}", "--vary", f"a.c={TWO_THOUSAND}"],
            "error: --vary: a grid of 4,000,000 points (2,000 x 2,000 values); a sweep takes at "
            "most 10,000: split it into several sweeps",
        ),
    ],
)
def test_bad_sweep_options_exit_2(
    arguments: list[str],
    message: str,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    monkeypatch.setenv("BORDERSIM_STORE", str(tmp_path / "bordersim.duckdb"))
    open_store().close()  # a store without that sweep
    with pytest.raises(SystemExit) as exit_info:
        main(["sweep", *arguments, "--out", str(tmp_path / "out")])
    assert exit_info.value.code == 2
    assert message in capsys.readouterr().err
    assert not (tmp_path / "out").exists()


def test_more_local_workers_than_one_core_are_refused_in_words_for_one(
    capsys: pytest.CaptureFixture[str],
) -> None:
    """A process that may run on one core (`taskset -c 0`, a batch job's single CPU) was told
    "this machine has 1 cores for them"; it is told the cores bordersim may use, in words for
    one."""
    allowed = os.sched_getaffinity(0)
    os.sched_setaffinity(0, {min(allowed)})
    try:
        with pytest.raises(SystemExit) as exit_info:
            main(["sweep", str(SMALL), "--vary", "a.b=1", "--cluster", "local:2"])
    finally:
        os.sched_setaffinity(0, allowed)
    assert exit_info.value.code == 2
    err = " ".join(capsys.readouterr().err.split())
    assert "asks for 2 local workers, one a core, and bordersim may use 1 core here: " in err
    assert "local:1 (local uses it)" in err, err


@pytest.fixture
def not_a_scheduler() -> Iterator[dict[str, int]]:
    """Ports where no Dask scheduler is: one that nothing listens on, one where a server answers
    as an HTTP server does (a scheduler's dashboard, say), one that accepts and never answers."""
    with socket.socket() as closed:
        closed.bind(("127.0.0.1", 0))
        refused = closed.getsockname()[1]
    http = socket.socket()
    http.bind(("127.0.0.1", 0))
    http.listen()
    silent = socket.socket()
    silent.bind(("127.0.0.1", 0))
    silent.listen()

    def answer() -> None:
        with contextlib.suppress(OSError):
            while True:
                connection, _ = http.accept()
                with connection:
                    connection.sendall(b"HTTP/1.1 400 Bad Request\r\n\r\n" * 4)

    threading.Thread(target=answer, daemon=True).start()
    try:
        ports = {"refused": refused, "http": http.getsockname()[1]}
        yield ports | {"silent": silent.getsockname()[1]}
    finally:
        http.close()
        silent.close()


@pytest.mark.parametrize(
    ("where", "message"),
    [
        ("refused", "no Dask scheduler answers there (connection refused); nothing was run"),
        ("http", "what answers there is not a Dask scheduler (its reply made no sense"),
    ],
)
def test_a_scheduler_address_without_a_scheduler_is_said_before_the_sweep_is_recorded(
    where: str,
    message: str,
    not_a_scheduler: dict[str, int],
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    """A port nothing listens on was said after Dask's client had retried for 20 s, and an HTTP
    server's reply ended in a MemoryError traceback ("Unable to allocate 3.07 EiB"), each once
    the sweep was recorded, left 'unfinished: --resume it' though none of it had run."""
    monkeypatch.setenv("BORDERSIM_STORE", str(tmp_path / "bordersim.duckdb"))
    open_store().close()
    address = f"tcp://127.0.0.1:{not_a_scheduler[where]}"
    started = time.monotonic()
    grid = [str(SMALL), "--vary", "deployments.troops.headcount=0,1", "-r", "1"]
    with pytest.raises(SystemExit) as exit_info:
        main(["sweep", *grid, "--cluster", address, "--out", str(tmp_path / "out")])
    assert time.monotonic() - started < 15
    assert exit_info.value.code == 2
    said = capsys.readouterr()
    assert said.out == "" and len(said.err.strip().splitlines()) == 1, said
    assert said.err.startswith(f"error: --cluster {address}: {message}"), said.err
    with open_catalog(tmp_path / "bordersim.duckdb") as catalog:
        assert list_sweeps(catalog) == []
    assert not (tmp_path / "out").exists()


def test_spaces_around_a_cluster_are_left_out(
    not_a_scheduler: dict[str, int],
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    """--cluster " tcp://..." (a space from the shell's quoting) was said with a doubled space,
    "--cluster  tcp://...", and " local:x" as "' local:x'"; the value is read without them."""
    monkeypatch.setenv("BORDERSIM_STORE", str(tmp_path / "bordersim.duckdb"))
    open_store().close()
    address = f"tcp://127.0.0.1:{not_a_scheduler['refused']}"
    grid = [str(SMALL), "--vary", "deployments.troops.headcount=0,1", "-r", "1"]
    for given, said in [
        (f" {address} ", f"error: --cluster {address}: no Dask scheduler answers there"),
        (" local:x", "error: --cluster 'local:x': the number of workers after local:"),
    ]:
        with pytest.raises(SystemExit) as exit_info:
            main(["sweep", *grid, "--cluster", given, "--out", str(tmp_path / "out")])
        assert exit_info.value.code == 2
        err = capsys.readouterr().err
        assert err.startswith(said) and "  " not in err, err
    assert not (tmp_path / "out").exists()


def test_a_scheduler_port_that_never_answers_is_given_up(not_a_scheduler: dict[str, int]) -> None:
    """Dask's client waits for a scheduler's handshake without a time limit: a port that
    accepts and never answers held `bordersim sweep --cluster` for good."""
    from bordersim.services.cluster import BackgroundClient
    from bordersim.services.cluster_spec import ClusterSpecError

    address = f"tcp://127.0.0.1:{not_a_scheduler['silent']}"
    started = time.monotonic()
    with pytest.raises(ClusterSpecError, match="not a Dask scheduler \\(no reply to Dask's"):
        BackgroundClient(address).connected(1.0)
    assert time.monotonic() - started < 5


def test_resuming_an_unknown_sweep_on_a_cluster_starts_no_cluster(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """`--resume` of a mistyped id with `--cluster local:2` said "resuming sweep ... on
    local:2", started two workers and stopped them (8 s on the 2-core machine) before saying
    there was no such sweep."""
    monkeypatch.setenv("BORDERSIM_STORE", str(tmp_path / "bordersim.duckdb"))
    open_store().close()
    started = time.monotonic()
    with pytest.raises(SystemExit) as exit_info:
        main(["sweep", "--resume", "small-000000000000", "--cluster", "local:2"])
    assert exit_info.value.code == 2
    said = capsys.readouterr()
    assert said.out == "", said.out
    assert "no sweep 'small-000000000000' in this store" in said.err, said.err
    # starting and stopping two workers takes 8 s here; opening the store twice, under the
    # load of a whole test run, up to about 3
    assert time.monotonic() - started < 6


def test_an_empty_out_is_refused_naming_it(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """`--out "$OUT"` with the variable unset was the current folder: refused as "exists and is
    not a sweep folder bordersim wrote", under a name the user never gave."""
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("BORDERSIM_STORE", str(tmp_path / "store" / "bordersim.duckdb"))
    with pytest.raises(SystemExit) as exit_info:
        main(["sweep", str(SMALL), "--vary", "deployments.troops.headcount=0,1", "--out", ""])
    assert exit_info.value.code == 2
    said = capsys.readouterr()
    assert said.out == "" and said.err.startswith("error: --out: is empty (an unset"), said
    assert list(tmp_path.iterdir()) == []


#: 12 variants x 3 replications: two blocks of bordersim's default shape (10 variants, the
#: second block padded), as a sweep without a cluster runs them too.
WIDE = {"deployments.troops.headcount": list(range(0, 1200, 100))}


@pytest.mark.slow
def test_a_sweep_without_a_cluster_matches_the_cluster_bit_for_bit(
    client: Client, tmp_path: Path
) -> None:
    """From Python: `bs.sweep` in this process (no client, no store) and on the cluster."""
    here = bs.sweep(SMALL, WIDE, replications=3, seed=SEED)
    there = bs.sweep(
        SMALL, WIDE, replications=3, seed=SEED, client=client, store=tmp_path / "b.duckdb"
    )
    assert len(here) == len(there) > 0
    pd.testing.assert_frame_equal(here, there, check_exact=True)


@pytest.mark.slow
def test_cli_sweep_with_and_without_cluster_is_identical(tmp_path: Path) -> None:
    vary = "deployments.troops.headcount=" + ",".join(str(v) for v in WIDE[next(iter(WIDE))])
    common = ["sweep", str(SMALL), "--vary", vary, "-r", "3", "--seed", str(SEED)]
    main([*common, "--out", str(tmp_path / "here")])
    main(
        [
            *common,
            "--cluster",
            "local:2",
            "--store",
            str(tmp_path / "bordersim.duckdb"),
            "--out",
            str(tmp_path / "there"),
        ]
    )
    here = pd.read_parquet(tmp_path / "here" / "kpis.parquet")
    there = pd.read_parquet(tmp_path / "there" / "kpis.parquet")
    assert (here["n"] == 3).all() and here["variant"].nunique() == 12
    pd.testing.assert_frame_equal(here, there, check_exact=True)


def _affinities() -> set[tuple[int, ...]]:
    return {
        tuple(sorted(os.sched_getaffinity(int(thread)))) for thread in os.listdir("/proc/self/task")
    }


def _xla_pool_threads() -> int:
    """Threads of XLA's CPU pool in this process (named by XLA), once a computation ran."""
    import jax.numpy as jnp

    jnp.ones(3).sum().block_until_ready()
    names = [
        Path(f"/proc/self/task/{t}/comm").read_text().strip() for t in os.listdir("/proc/self/task")
    ]
    return sum(name.startswith("tf_XLAEigen") for name in names)


@pytest.mark.slow
@pytest.mark.skipif(not hasattr(os, "sched_setaffinity"), reason="CPU affinity is Linux's")
def test_local_workers_start_jax_on_one_core_and_keep_every_core(client: Client) -> None:
    """A local worker's JAX starts on one core (so XLA's thread pool has one thread), and every
    thread of the worker may then run on any core the worker was given."""
    from bordersim.services.cluster import ONE_CORE_VARIABLE, prepare_workers

    prepare_workers(client, None)
    flags = client.run(lambda: os.environ.get(ONE_CORE_VARIABLE))
    assert set(flags.values()) == {"1"}
    allowed = tuple(sorted(os.sched_getaffinity(0)))
    for threads in client.run(_affinities).values():
        assert threads == {allowed}
    if len(allowed) > 1:  # otherwise XLA makes one thread anyway
        assert set(client.run(_xla_pool_threads).values()) == {1}
        # the two workers started JAX on two different cores, not both on the first one
        assert sorted(client.run(_jax_started_on).values()) == list(allowed[:2])


def _jax_started_on() -> int | None:
    from bordersim.services import cluster

    return cluster.jax_started_on


def test_workers_named_by_number_start_on_different_cores() -> None:
    from bordersim.services.cluster import starting_core

    assert [starting_core({2, 5, 7}, name) for name in range(5)] == [2, 5, 7, 2, 5]
    assert starting_core({3}, 4) == 3
    # a worker named otherwise (started by hand or by dask-jobqueue) goes by its process id
    assert starting_core({0, 1}, "tcp-worker") == os.getpid() % 2


def test_a_local_cluster_keeps_its_bookkeeping_out_of_the_blocks(client: Client) -> None:
    """The local cluster's settings reach its scheduler and its workers (through the nannies):
    no task profiling, no work stealing, rare ticks and system monitoring."""
    import dask

    def settings() -> tuple[object, ...]:
        return (
            dask.config.get("distributed.worker.profile.enabled"),
            dask.config.get("distributed.admin.tick.interval"),
            dask.config.get("distributed.admin.system-monitor.interval"),
        )

    assert set(client.run(settings).values()) == {(False, "1s", "10s")}

    def scheduler_extensions(dask_scheduler: Any) -> tuple[bool, bool]:
        return "stealing" in dask_scheduler.extensions, dask_scheduler.extensions["amm"].running

    assert client.run_on_scheduler(scheduler_extensions) == (False, False)


@pytest.mark.slow
def test_a_local_cluster_ends_its_workers_at_once_when_done() -> None:
    """Each local worker set itself up as it started (JAX on one core, the C library's allocator
    for PyArrow); `end_local_workers`
    kills the worker processes and their nannies start no new ones; leaving `open_client`
    then closes the rest."""
    from bordersim.services.cluster import end_local_workers, open_client

    with open_client("local:2") as opened:
        pids = list(opened.run(os.getpid).values())
        assert set(opened.run(_xla_pool_threads).values()) == {1}
        assert set(opened.run(_arrow_pool).values()) == {"system"}
        end_local_workers(opened.cluster)
        for pid in pids:
            with pytest.raises(ProcessLookupError):
                _wait_until_gone(pid)
        # a nanny that restarted its worker would hold a new process within a second or two
        # (and the worker would register some seconds later)
        deadline = time.monotonic() + 3
        while time.monotonic() < deadline:
            assert all(nanny.pid in (None, *pids) for nanny in opened.cluster.workers.values())
            time.sleep(0.1)
        assert opened.scheduler_info()["workers"] == {}


def _arrow_pool() -> str:
    import pyarrow as pa

    return str(pa.default_memory_pool().backend_name)


def _wait_until_gone(pid: int) -> None:
    """Raises ProcessLookupError once `pid` has ended (and been reaped), else after 10 s
    returns."""
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        os.kill(pid, 0)
        time.sleep(0.05)


@pytest.mark.slow
def test_the_sweep_prints_a_long_out_path_on_one_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """A long --out was broken across lines in "wrote OUT/kpis.csv, ..." (and in the resume
    command an interrupted sweep prints), so that it could not be copied or piped whole."""
    out = tmp_path / ("a-folder-with-a-long-name-" * 6) / "sweep"
    store = str(tmp_path / "s.duckdb")
    argv = ["sweep", str(SMALL), "--vary", "demand.scale=1,1.1", "-r", "1", "--store", store]
    main([*argv, "--out", str(out)])
    lines = capsys.readouterr().out.splitlines()
    assert any(line.endswith(f"wrote {out}/kpis.csv, kpis.parquet, report.html") for line in lines)
