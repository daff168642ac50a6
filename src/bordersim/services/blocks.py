"""A sweep split into blocks of variants x replications, each written to its own Parquet file.

A block is (variant block, seed block): up to `BlockShape.variants` grid points and up to
`BlockShape.replications` replications, numbered from ``seed block x replications``. Every block
runs as one flow-engine batch of exactly the block shape (the last variant block is padded by
repeating its last variant, the last seed block by running the full count, and the padding is
dropped), so each worker compiles one program and a block's numbers do not depend on where, in
which order or how often it runs. A sweep run in this process and the same sweep run on a Dask
cluster are therefore identical bit for bit.

The sweep's folder is ``sweeps/<sweep id>/`` under the store's results folder (embedded or
shared, `store.sweeps`). A block's task writes ``blocks/variants=VVVVV/seeds=SSSSS.parquet``
there, to a temporary name renamed into place, so a retried task replaces its own file and
nothing else. The store's catalog records the sweep and its plan when it starts, and registers a
block (`sweep_blocks`) only after the task has reported the file complete and its checksum
matches, so an interrupted sweep keeps its finished blocks and `resume_sweep` runs only the
missing ones, from any machine that reaches the store.
"""

from __future__ import annotations

import contextlib
import dataclasses
import datetime as dt
import hashlib
import json
import os
import time
import uuid
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from bordersim import interrupts
from bordersim.errors import BordersimError, ScenarioError
from bordersim.services.observer import QUIET, Observer
from bordersim.services.sweep import Axis, Sweep, kpi_rows
from bordersim.words import counted

if TYPE_CHECKING:
    import pyarrow as pa

    from bordersim.results.schema import RunResult
    from bordersim.scenario import Scenario
    from bordersim.store import StoreRef
    from bordersim.store.sweeps import SweepBlock

#: Variants per block by default: enough to fill a vmapped batch, few enough that a 100-variant
#: sweep makes 10 tasks to share between workers (an assumption tuned on the 2-core machine).
DEFAULT_BLOCK_VARIANTS = 10
#: Replications per block by default (a seed block): one flow-engine chunk on a CPU.
DEFAULT_BLOCK_REPLICATIONS = 100
#: Times Dask retries a block whose task raised (a dead worker is handled by Dask itself).
TASK_RETRIES = 2


class SweepStateError(BordersimError):
    """A sweep's folder that cannot be resumed (missing, changed scenario, damaged files)."""


@dataclass(frozen=True)
class BlockShape:
    """Variants and replications per block (the shape of every batch the blocks run)."""

    variants: int = DEFAULT_BLOCK_VARIANTS
    replications: int = DEFAULT_BLOCK_REPLICATIONS

    def __post_init__(self) -> None:
        if self.variants < 1 or self.replications < 1:
            raise ScenarioError(
                f"a block needs at least one variant and one replication, got "
                f"{self.variants} x {self.replications}"
            )


@dataclass(frozen=True)
class Block:
    """One task: a variant block and a seed block."""

    variant_block: int
    seed_block: int

    @property
    def name(self) -> str:
        return f"variants={self.variant_block:05d}/seeds={self.seed_block:05d}"


@dataclass(frozen=True)
class BlockTask:
    """What a worker needs to run one block (picklable; no open files or clients)."""

    sweep_id: str
    block: Block
    scenario: Scenario
    points: list[dict[str, Any]]
    first_variant: int
    first_replication: int
    replications: int
    shape: BlockShape
    seed: int
    path: str


@dataclass(frozen=True)
class BlockArrays:
    """A block's numbers as the driver assembles them, exactly what reading its file back gives:
    daily metrics [V, R, D, S, M] and custody-time histograms [V, R, S, 2, H] (float64) and the
    dates."""

    daily: np.ndarray
    hist: np.ndarray
    dates: list[dt.date]


@dataclass(frozen=True)
class BlockReport:
    """What a finished task tells the driver: its file, checksum and the variants' identity,
    and the numbers it wrote (so the driver need not read the file back)."""

    block: Block
    path: str
    rows: int
    sha256: str
    scenario_names: list[str]
    scenario_hashes: list[str]
    compile_s: float
    run_s: float
    write_s: float
    worker_pid: int = field(default_factory=os.getpid)
    arrays: BlockArrays | None = field(default=None, repr=False)


@dataclass
class SweepPlan:
    """What a sweep is: the base scenario (file and hash), the grid, replications, seed, shape."""

    sweep_id: str
    scenario_path: str
    scenario_hash: str
    axes: list[Axis]
    replications: int
    seed: int
    shape: BlockShape
    #: values set over the scenario file (``--set``; `Scenario.changes`), set again on resume
    changes: dict[str, Any] = field(default_factory=dict)
    #: sha256 of each file the variants read besides the scenario (`input_digests`), by path;
    #: None for a sweep recorded before bordersim kept them
    inputs: dict[str, str] | None = None

    @property
    def n_variants(self) -> int:
        n = 1
        for axis in self.axes:
            n *= len(axis.values)
        return n

    def blocks(self) -> list[Block]:
        n_vb = -(-self.n_variants // self.shape.variants)
        n_sb = -(-self.replications // self.shape.replications)
        return [Block(v, s) for v in range(n_vb) for s in range(n_sb)]

    def to_json(self) -> str:
        return json.dumps(
            {
                "sweep_id": self.sweep_id,
                "scenario_path": self.scenario_path,
                "scenario_hash": self.scenario_hash,
                "axes": [
                    {"key": a.key, "values": [_encode(v) for v in a.values]} for a in self.axes
                ],
                "replications": self.replications,
                "seed": self.seed,
                "block_variants": self.shape.variants,
                "block_replications": self.shape.replications,
                "changes": {key: _encode(value) for key, value in self.changes.items()},
                "inputs": self.inputs,
            },
            indent=2,
        )

    @classmethod
    def from_json(cls, text: str) -> SweepPlan:
        data = json.loads(text)
        return cls(
            sweep_id=data["sweep_id"],
            scenario_path=data["scenario_path"],
            scenario_hash=data["scenario_hash"],
            axes=[Axis(a["key"], tuple(_decode(v) for v in a["values"])) for a in data["axes"]],
            replications=int(data["replications"]),
            seed=int(data["seed"]),
            shape=BlockShape(int(data["block_variants"]), int(data["block_replications"])),
            changes={key: _decode(value) for key, value in data.get("changes", {}).items()},
            inputs=data.get("inputs"),
        )


def _encode(value: Any) -> Any:
    """A grid or ``--set`` value as JSON (dates tagged so they come back as dates; a table
    tagged so that it is not taken for a date)."""
    if isinstance(value, dt.datetime):
        return {"datetime": value.isoformat()}
    if isinstance(value, dt.date):
        return {"date": value.isoformat()}
    if isinstance(value, dict):
        return {"table": {key: _encode(item) for key, item in value.items()}}
    if isinstance(value, list | tuple):
        return [_encode(item) for item in value]
    return value


def _decode(value: Any) -> Any:
    if isinstance(value, dict) and "date" in value:
        return dt.date.fromisoformat(value["date"])
    if isinstance(value, dict) and "datetime" in value:
        return dt.datetime.fromisoformat(value["datetime"])
    if isinstance(value, dict) and "table" in value:
        return {key: _decode(item) for key, item in value["table"].items()}
    if isinstance(value, list):
        return [_decode(item) for item in value]
    return value


def sweep_id_of(
    scenario: Scenario, axes: list[Axis], replications: int, seed: int, shape: BlockShape
) -> str:
    """The sweep's name: the scenario's and a hash of everything that fixes its numbers (the
    scenario's text, the content of the files its variants read, the grid, replications, seed
    and block shape), so the same sweep asked again finds its finished blocks and a sweep of a
    changed calibration or fit file is another sweep."""
    what = json.dumps(
        [
            scenario.hash,
            # by key and content, not by path: the same files elsewhere give the same sweep
            [
                [[key, digest] for key, (_, digest) in files.items()]
                for files in _files_read(scenario, axes)
            ],
            [[a.key, [repr(v) for v in a.values]] for a in axes],
            replications,
            seed,
            shape.variants,
            shape.replications,
        ]
    )
    return f"{scenario.name}-{hashlib.sha256(what.encode()).hexdigest()[:12]}"


def input_digests(base: Scenario, axes: list[Axis]) -> dict[str, str]:
    """The sha256 of each file the sweep's variants read besides the scenario, by path: what
    the plan records and `resume_sweep` finds unchanged."""
    return {
        str(path): digest for files in _files_read(base, axes) for path, digest in files.values()
    }


def _files_read(base: Scenario, axes: list[Axis]) -> list[dict[str, tuple[Path, str]]]:
    """For the base, or for each grid point when an axis sets one of them, the files named by
    `compiler.inputs.INPUT_KEYS` with their sha256, by key. (The base's own file need not be
    there when every point names another, as the base itself need not compile.)"""
    from bordersim.compiler.inputs import INPUT_KEYS, input_files
    from bordersim.services.sweep import grid_points, varied

    def names_a_file(key: str) -> bool:
        return any(k == key or k.startswith(key + ".") for k in INPUT_KEYS)

    scenarios = [base]
    if any(names_a_file(axis.key) for axis in axes):
        scenarios = [varied(base, point) for point in grid_points(axes)]
    digests: dict[Path, str] = {}
    read = []
    for scenario in scenarios:
        files = {}
        for key, path in input_files(scenario).items():
            if path not in digests:
                digests[path] = _digest(scenario, key, path)
            files[key] = (path, digests[path])
        read.append(files)
    return read


def _digest(scenario: Scenario, key: str, path: Path) -> str:
    from bordersim.store.result_files import sha256_of

    try:
        return sha256_of(path)
    except OSError as err:
        raise ScenarioError(
            f"{key}: cannot read {path} ({err.strerror})", where=scenario.location(key)
        ) from None


# --- the task (runs on a worker) ---------------------------------------------------------------


def default_shape(n_variants: int, replications: int) -> BlockShape:
    """The block shape of a sweep that names none: the defaults, cut to the sweep's size."""
    return BlockShape(
        min(DEFAULT_BLOCK_VARIANTS, n_variants), min(DEFAULT_BLOCK_REPLICATIONS, replications)
    )


def block_models(task: BlockTask) -> list[Any]:
    """The block's compiled variants, padded to the block shape by repeating the last one."""
    from bordersim.compiler import compile_scenario
    from bordersim.scenario import with_changes

    # each point's values together, as the sweep checked them (`varied`)
    models = [compile_scenario(with_changes(task.scenario, point)) for point in task.points]
    return padded(models, task.shape)


def padded(models: list[Any], shape: BlockShape) -> list[Any]:
    """A variant block's models, the last repeated up to the block shape's variants."""
    return models + [models[-1]] * (shape.variants - len(models))


def simulate_block(
    models: list[Any], shape: BlockShape, seed: int, first_replication: int
) -> list[RunResult]:
    """One block as one flow-engine batch of exactly `shape` (`models` padded to it, the full
    seed block run), so its numbers are the same wherever it runs; the padding variants are
    dropped, the replications past the sweep's end are not (the caller cuts them)."""
    from bordersim.engines.flow import simulate_batch

    return simulate_batch(
        padded(models, shape),
        replications=shape.replications,
        seed=seed,
        first_replication=first_replication,
    )[: len(models)]


def simulate_in_blocks(
    models: list[Any], replications: int, seed: int, shape: BlockShape
) -> list[RunResult]:
    """A sweep's runs computed block by block in this process, with no files: the numbers of
    the same sweep run as blocks on a cluster, bit for bit."""
    from bordersim.results.schema import RunResult

    runs: list[RunResult] = []
    for first in range(0, len(models), shape.variants):
        variant_block = models[first : first + shape.variants]
        parts = [
            simulate_block(variant_block, shape, seed, start)
            for start in range(0, replications, shape.replications)
        ]
        for v in range(len(variant_block)):
            pieces = [part[v] for part in parts]
            runs.append(RunResult.concatenated(pieces, seed=seed, replications=replications))
    return runs


def run_block(task: BlockTask) -> BlockReport:
    """Simulate one block and write its Parquet file (temporary name, then renamed)."""
    started = time.perf_counter()
    models = block_models(task)
    runs = simulate_block(models[: len(task.points)], task.shape, task.seed, task.first_replication)
    simulated = time.perf_counter()
    arrays = BlockArrays(
        daily=np.stack([run.daily[: task.replications] for run in runs]).astype(
            np.float64, copy=False
        ),
        hist=np.stack([run.custody_hist[: task.replications] for run in runs]).astype(
            np.float64, copy=False
        ),
        dates=np.array(runs[0].dates, dtype="datetime64[D]").tolist(),
    )
    table = block_table(task, runs, arrays)
    target = Path(task.path)
    target.parent.mkdir(parents=True, exist_ok=True)
    import pyarrow.parquet as pq

    from bordersim.store.result_files import partial_name, put_in_place, sha256_of

    # a name of its own per attempt: two attempts of one block never write the same file
    partial = partial_name(target)
    try:
        pq.write_table(table, partial)
        digest = sha256_of(partial)
        put_in_place(partial, target)
    finally:
        partial.unlink(missing_ok=True)
    timings = runs[0].timings
    return BlockReport(
        block=task.block,
        path=str(target),
        rows=table.num_rows,
        sha256=digest,
        scenario_names=[run.scenario_name for run in runs],
        scenario_hashes=[run.scenario_hash for run in runs],
        compile_s=float(timings.get("compile_s", 0.0)),
        run_s=simulated - started,
        write_s=time.perf_counter() - simulated,
        arrays=arrays,
    )


def block_table(task: BlockTask, runs: list[RunResult], arrays: BlockArrays) -> pa.Table:
    """One row per variant, replication, day and sector (metrics as columns); the custody
    histogram (exits by whole hours in custody, all people and children) rides on each
    replication's first-day rows and is null on the others."""
    import pyarrow as pa

    from bordersim.results.schema import DAILY_METRICS

    first = runs[0]
    r, d, s, m = task.replications, len(first.dates), len(first.sectors), len(DAILY_METRICS)
    daily, hist = arrays.daily, arrays.hist  # [V, R, D, S, M], [V, R, S, 2, H]
    v = len(runs)
    idx = np.indices((v, r, d, s)).reshape(4, -1)
    columns: dict[str, Any] = {
        "variant": pa.array((task.first_variant + idx[0]).astype(np.int32)),
        "replication": pa.array((task.first_replication + idx[1]).astype(np.int32)),
        "date": pa.array(np.array(first.dates, dtype="datetime64[D]")[idx[2]]),
        "sector": pa.array(np.array([sec.name for sec in first.sectors])[idx[3]]),
    }
    flat = daily.reshape(-1, m)
    for j, metric in enumerate(DAILY_METRICS):
        columns[metric] = pa.array(flat[:, j])
    on_first_day = idx[2] == 0
    # list columns from flat arrays (offsets, values): no Python objects per row
    lengths = np.where(on_first_day, hist.shape[-1], 0)
    offsets = pa.array(
        np.concatenate([[0], np.cumsum(lengths)]).astype(np.int32),
        mask=np.concatenate([~on_first_day, [False]]),
    )
    for kind, column in enumerate(("custody_hist_all", "custody_hist_uac")):
        first_rows = hist[idx[0][on_first_day], idx[1][on_first_day], idx[3][on_first_day], kind]
        columns[column] = pa.ListArray.from_arrays(offsets, pa.array(first_rows.reshape(-1)))
    return pa.table(columns)


# --- the driver ----------------------------------------------------------------------------------


class SweepFolder:
    """A sweep's folder of block files, under the store's results folder."""

    def __init__(self, results_dir: Path, sweep_id: str) -> None:
        from bordersim.store.sweeps import sweep_folder

        self.results_dir = results_dir
        self.path = sweep_folder(results_dir, sweep_id)
        self.sweep_id = sweep_id

    def block_path(self, block: Block) -> Path:
        return self.path / "blocks" / f"{block.name}.parquet"

    def usable(self, registered: dict[str, SweepBlock]) -> dict[str, SweepBlock]:
        """Registered blocks whose file is still there with the size and sha256 recorded, by
        block name (a file changed on disk at its size would give other numbers silently)."""
        return {name: entry for name, entry in registered.items() if self._intact(entry)}

    def _intact(self, entry: SweepBlock) -> bool:
        from bordersim.store.result_files import same_content

        path = self.results_dir / entry.path
        try:
            stat = path.stat()
            return stat.st_size == entry.bytes and same_content(path, stat, entry.sha256)
        except OSError:  # gone, or not readable: run again
            return False

    def checked(self, report: BlockReport) -> SweepBlock:
        """A finished block as the catalog records it, once its file is there with the checksum
        the task computed (a file replaced by a later attempt of the same block is re-checked)."""
        from bordersim.store.result_files import sha256_of
        from bordersim.store.sweeps import SweepBlock

        path = Path(report.path)
        if not path.is_file() or sha256_of(path) != report.sha256:
            raise SweepStateError(f"block {report.block.name}: {path} is missing or changed")
        return SweepBlock(
            sweep_id=self.sweep_id,
            block=report.block.name,
            path=path.relative_to(self.results_dir).as_posix(),
            bytes=path.stat().st_size,
            rows=report.rows,
            sha256=report.sha256,
            scenario_names=report.scenario_names,
            scenario_hashes=report.scenario_hashes,
            compile_s=report.compile_s,
            run_s=report.run_s,
            write_s=report.write_s,
        )


@dataclass(frozen=True)
class BlockedSweep:
    """A finished sweep: the KPI table and runs (`Sweep`), its id and folder."""

    sweep: Sweep
    sweep_id: str
    folder: Path
    blocks_run: int
    blocks_reused: int
    #: seconds: workers set up and the block program compiled; blocks run (wall, registering
    #: included); registering in the catalog (part of the blocks' wall); reading back and KPIs
    timings: dict[str, float] = field(default_factory=dict)


def run_blocked_sweep(
    base: Scenario,
    axes: list[Axis],
    *,
    replications: int,
    seed: int,
    shape: BlockShape | None = None,
    client: Any = None,
    store: StoreRef = None,
    observer: Observer = QUIET,
    option: str = "--vary",
    on_block: Callable[[BlockReport], None] | None = None,
) -> BlockedSweep:
    """Run a sweep as blocks in this process (``client=None``) or on a Dask `client` (or one
    still being opened, a `services.cluster.BackgroundClient`), recorded in `store` (a file, a
    ``postgresql://`` URL, an open store, or None for the default), reusing the finished blocks
    of an earlier, interrupted run of the same sweep."""
    from bordersim.services.loading import code_version
    from bordersim.services.sweep import check_compiles
    from bordersim.store import using_store
    from bordersim.store.interface import results_dir_of
    from bordersim.store.sweeps import record_sweep

    started = time.perf_counter()
    shape = shape or default_shape(_count(axes), replications)
    with ThreadPoolExecutor(max_workers=1) as pool:
        # the workers start and load the block program while this process checks the grid and
        # records the sweep (the pool waits for it on the way out, whatever happens here)
        warming = None
        if client is not None:
            warming = pool.submit(_prepare_workers, client, _warm_task(base, axes, seed, shape))
        # every grid point is valid and compiles before anything is recorded or run
        check_compiles(base, axes, option=option, variants_per_block=shape.variants)
        sweep_id = sweep_id_of(base, axes, replications, seed, shape)
        plan = SweepPlan(
            sweep_id,
            str(base.path),
            base.hash,
            list(axes),
            replications,
            seed,
            shape,
            changes=base.changes,
            inputs=input_digests(base, axes),
        )
        with using_store(store) as catalog:
            record_sweep(
                catalog,
                sweep_id,
                scenario_name=base.name,
                scenario_hash=base.hash,
                plan_json=plan.to_json(),
                blocks=len(plan.blocks()),
                code_version=code_version(),
            )
            folder = SweepFolder(results_dir_of(catalog), sweep_id)
        with _driven(sweep_id, store):
            return _finish(plan, base, folder, store, client, observer, on_block, started, warming)


def _ready(client: Any, *, for_tasks: bool = False) -> Any:
    """A Dask client (or None); one still being opened is waited for."""
    if client is None:
        return None
    from bordersim.services.cluster import BackgroundClient

    if isinstance(client, BackgroundClient):
        return client.wait_for_client(for_tasks=for_tasks)
    return client


def _prepare_workers(client: Any, warm: BlockTask | None) -> None:
    from bordersim.services.cluster import prepare_workers

    prepare_workers(_ready(client), warm)


def _warm_task(base: Scenario, axes: list[Axis], seed: int, shape: BlockShape) -> BlockTask:
    """A block of the sweep's shape for the workers to compile (or load) the program with."""
    from bordersim.services.sweep import grid_points

    return BlockTask(
        sweep_id="",
        block=Block(0, 0),
        scenario=base,
        points=grid_points(axes)[: shape.variants],
        first_variant=0,
        first_replication=0,
        replications=shape.replications,
        shape=shape,
        seed=seed,
        path="",
    )


def resume_sweep(
    sweep_id: str,
    *,
    client: Any = None,
    store: StoreRef = None,
    observer: Observer = QUIET,
    on_block: Callable[[BlockReport], None] | None = None,
) -> BlockedSweep:
    """Finish an interrupted sweep: run the blocks the catalog lacks, then assemble it all."""
    from bordersim.store import using_store
    from bordersim.store.sweeps import claim_sweep, sweep_process

    started = time.perf_counter()
    plan, base, folder = resumable_sweep(sweep_id, store)
    with using_store(store) as catalog:
        driver = sweep_process(catalog, sweep_id)
        claim_sweep(catalog, sweep_id)
    _warn_if_driven_elsewhere(sweep_id, driver, observer)
    with _driven(sweep_id, store):
        return _finish(plan, base, folder, store, client, observer, on_block, started)


@contextmanager
def _driven(sweep_id: str, store: StoreRef) -> Iterator[None]:
    """While this process drives the sweep (recorded as its process, so that `bordersim runs`
    shows it running); if it stops before the end, the sweep is released for `--resume`, as a
    process that lives on (a notebook) would otherwise still show it running."""
    from bordersim.store import using_store
    from bordersim.store.sweeps import release_sweep

    try:
        yield
    except BaseException:
        # the release is a courtesy to the listing: it must not hide why the sweep stopped
        with contextlib.suppress(Exception), using_store(store) as catalog:
            release_sweep(catalog, sweep_id)
        raise


def resumable_sweep(
    sweep_id: str, store: StoreRef = None
) -> tuple[SweepPlan, Scenario, SweepFolder]:
    """The plan, base scenario and folder of a sweep that can be resumed, or the error that
    says why not (no such sweep in the store, its scenario or input files gone or changed):
    `bordersim sweep --resume` asks before it starts a cluster, so that a mistyped id is said
    at once, not after the workers have started and stopped."""
    from bordersim.scenario import load_scenario
    from bordersim.scenario.resolved import load_with_changes
    from bordersim.store import using_store
    from bordersim.store.interface import results_dir_of, shown_location
    from bordersim.store.runs import has_run, store_option
    from bordersim.store.sweeps import sweep_plan, sweep_process

    with using_store(store, create=False) as catalog:
        plan_json = sweep_plan(catalog, sweep_id)
        driver = sweep_process(catalog, sweep_id)
        folder = SweepFolder(results_dir_of(catalog), sweep_id)
        where = shown_location(catalog)
        a_run = plan_json is None and has_run(catalog, sweep_id)
    if a_run:
        # `bordersim runs` lists runs beside sweeps: an id copied from the wrong table is said
        # to be a run, as `report` of a sweep's id says it is a sweep
        raise _a_run_not_a_sweep(sweep_id, where)
    if plan_json is None:
        # named, since the store asked may be the default one, not the --store it ran in
        # worded as `report` words a run the store lacks (store.runs), with the command that
        # lists this store's runs and sweeps
        raise SweepStateError(
            f"no sweep {sweep_id!r} in this store; `bordersim runs{store_option(where)}` lists "
            "its runs and sweeps (a sweep's id is printed when it starts; is --store or "
            "$BORDERSIM_STORE the store it ran in?)",
            where=where,
        )
    _refuse_if_driven(sweep_id, driver)
    plan = SweepPlan.from_json(plan_json)
    if not Path(plan.scenario_path).is_file():
        raise SweepStateError(
            f"sweep {sweep_id}: its scenario file {plan.scenario_path} is gone; cannot resume"
        )
    # the sweep's --set values, over the file: set before it is checked, as the sweep set them
    # (a value of the file that one replaces is not checked on its own)
    base = (
        load_with_changes(plan.scenario_path, plan.changes)
        if plan.changes
        else load_scenario(plan.scenario_path)
    )
    if base.hash != plan.scenario_hash:
        raise SweepStateError(
            f"sweep {sweep_id}: {plan.scenario_path} changed since the sweep started "
            "(its hash differs); run the sweep again instead of resuming it"
        )
    _check_inputs(plan, base)
    return plan, base, folder


def _refuse_if_driven(sweep_id: str, driver: tuple[str | None, int | None, str | None]) -> None:
    """Refuse to resume a sweep another process on this machine is running: a second driver
    would run its unfinished blocks again and take the sweep over in `bordersim runs`."""
    from bordersim.store.runs import process_state

    host, pid, started = driver
    if pid == os.getpid() or process_state(host, pid, started) != "alive":
        return  # this process (a notebook resuming its own sweep), or none alive here
    raise SweepStateError(
        f"sweep {sweep_id} is running now (process {pid} on this machine); wait for it to "
        "finish, or stop it and --resume it then"
    )


def _warn_if_driven_elsewhere(
    sweep_id: str, driver: tuple[str | None, int | None, str | None], observer: Observer
) -> None:
    """Warn of resuming a sweep recorded as driven by a process on another host (a store on a
    shared disk): that process cannot be checked from here, and if it still runs, the two
    drivers would both run the unfinished blocks."""
    import socket

    host, pid, _ = driver
    if host and pid and host != socket.gethostname():
        observer.warning(
            f"sweep {sweep_id} was driven by process {pid} on {host}, which cannot be checked "
            "from here; if it still runs there, stop it: both would run the unfinished blocks"
        )


def _a_run_not_a_sweep(run_id: str, where: str) -> SweepStateError:
    """The error for a run's id given as a sweep's, with the command that writes its report (the
    store named in it, and the line left whole, as a command cut short cannot be run)."""
    from bordersim.store.runs import store_option

    option = store_option(where)
    said = (
        f"{run_id!r} is a run, not a blocked sweep: `bordersim report {run_id}{option}` writes "
        "its report again (`bordersim runs` lists the store's sweeps)"
    )
    if not option:
        return SweepStateError(said, where=where)
    error = SweepStateError(said)
    error.args = (said,)
    return error


def _check_inputs(plan: SweepPlan, base: Scenario) -> None:
    """Refuse to resume a sweep whose calibration or fit file changed since it started: its
    finished blocks hold the numbers of the old content, the rest would hold the new."""
    if plan.inputs is None:  # recorded before bordersim kept the files' sha256
        return
    now = input_digests(base, plan.axes)
    for path in sorted(set(plan.inputs) | set(now)):
        if plan.inputs.get(path) != now.get(path):
            raise SweepStateError(
                f"sweep {plan.sweep_id}: {path}, which its variants read, changed since the "
                "sweep started (its sha256 differs); run the sweep again instead of resuming it"
            )


def _count(axes: list[Axis]) -> int:
    n = 1
    for axis in axes:
        n *= len(axis.values)
    return n


def _finish(
    plan: SweepPlan,
    base: Scenario,
    folder: SweepFolder,
    store: StoreRef,
    client: Any,
    observer: Observer,
    on_block: Callable[[BlockReport], None] | None,
    started: float,
    warming: Future[None] | None = None,
) -> BlockedSweep:
    """Run the blocks the store lacks and assemble the sweep (`started`: when the sweep
    began, `time.perf_counter`, for its wall time)."""
    from bordersim.services.sweep import grid_points, varied
    from bordersim.store import using_store
    from bordersim.store.sweeps import finish_sweep

    points = grid_points(plan.axes)
    entries, tasks = _blocks_to_run(plan, base, folder, store, points, observer)
    reused = len(plan.blocks()) - len(tasks)
    from bordersim.compiler import compile_scenario

    # (made while the workers start: compiling a variant for its sectors takes 0.1 s). The
    # first variant, not the base: the base itself need not compile (a start date that every
    # --vary value replaces), as in the in-process sweep.
    first_variant = varied(base, points[0], option="--vary")
    assembly = Assembly(plan, folder, points, compile_scenario(first_variant).sectors)
    preparing = time.perf_counter()
    client = _workers_ready(client, tasks, observer, warming)
    prepared = time.perf_counter()
    register_s, compute_s = _run_and_register(
        plan, tasks, client, folder, store, entries, assembly, observer, on_block
    )
    with using_store(store) as catalog:
        finish_sweep(catalog, plan.sweep_id)
    ran = time.perf_counter()
    sweep = _assembled(plan, points, assembly, entries)
    finished = time.perf_counter()
    sweep = dataclasses.replace(
        sweep,
        timings={
            "wall_s": finished - started,
            "blocks_compute_s": compute_s,
            "blocks_run": float(len(tasks)),
        },
    )
    timings = {
        "prepare_s": prepared - preparing,
        "blocks_s": ran - prepared,
        "register_s": register_s,
        "assemble_s": finished - ran,
    }
    return BlockedSweep(sweep, plan.sweep_id, folder.path, len(tasks), reused, timings)


def _blocks_to_run(
    plan: SweepPlan,
    base: Scenario,
    folder: SweepFolder,
    store: StoreRef,
    points: list[dict[str, Any]],
    observer: Observer,
) -> tuple[dict[str, SweepBlock], list[BlockTask]]:
    """The usable blocks the store has registered, and the tasks of the others (noted)."""
    from bordersim.store import using_store
    from bordersim.store.sweeps import registered_blocks

    with using_store(store) as catalog:
        registered = registered_blocks(catalog, plan.sweep_id)
    entries = folder.usable(registered)
    tasks = [
        _task(plan, base, folder, points, block)
        for block in plan.blocks()
        if block.name not in entries
    ]
    observer.note(
        f"sweep {plan.sweep_id}: {len(tasks)} of {len(plan.blocks())} blocks to run "
        f"(blocks of {counted(plan.shape.variants, 'variant')} x "
        f"{counted(plan.shape.replications, 'replication')}), "
        f"files in {folder.path}" + _run_again(sorted(set(registered) - set(entries)))
    )
    return entries, tasks


def _run_again(names: list[str]) -> str:
    """What the progress line says of registered blocks whose file is gone or changed."""
    if not names:
        return ""
    shown = ", ".join(names[:3]) + (", ..." if len(names) > 3 else "")
    return (
        f"; {counted(len(names), 'finished block')} run again, the file missing or changed "
        f"on disk (its size or sha256 not the catalog's): {shown}"
    )


def _workers_ready(
    client: Any, tasks: list[BlockTask], observer: Observer, warming: Future[None] | None
) -> Any:
    """The Dask client (None: in this process), its workers given the block program first
    (`warming`, when that was started before, else now)."""
    if client is not None and tasks:
        with observer.stage("workers: starting, compiling the block program"):
            if warming is not None:
                warming.result()
            else:
                _prepare_workers(client, tasks[0])
    return _ready(client, for_tasks=True)


def _run_and_register(
    plan: SweepPlan,
    tasks: list[BlockTask],
    client: Any,
    folder: SweepFolder,
    store: StoreRef,
    entries: dict[str, SweepBlock],
    assembly: Assembly,
    observer: Observer,
    on_block: Callable[[BlockReport], None] | None,
) -> tuple[float, float]:
    """Run the tasks, registering each block as it comes in; returns the seconds spent
    registering and the blocks' own seconds summed (compile, run and write, wherever each
    ran)."""
    from bordersim.store import using_store
    from bordersim.store.sweeps import register_block

    reused = len(plan.blocks()) - len(tasks)
    register_s = compute_s = 0.0
    with observer.progress(f"sweep {plan.sweep_id}: blocks") as progress:
        progress(reused, len(plan.blocks()))
        for done, report in enumerate(_execute(tasks, client), start=reused + 1):
            # a Ctrl-C whose exception was dropped on the way (raised in a callback while the
            # workers started) stops the sweep here, not after its last block is written
            interrupts.check()
            before = time.perf_counter()
            entry = folder.checked(report)
            # the store is held only for this one insert, so others can use it meanwhile
            with using_store(store) as catalog:
                register_block(catalog, entry)
            entries[entry.block] = entry
            register_s += time.perf_counter() - before
            compute_s += report.run_s + report.write_s
            progress(done, len(plan.blocks()))
            if on_block is not None:
                on_block(report)
            # a variant block whose seed blocks are all in is summarised now, while the
            # workers run the others, not after the last block
            assembly.add(report, entries)
    return register_s, compute_s


def _assembled(
    plan: SweepPlan,
    points: list[dict[str, Any]],
    assembly: Assembly,
    entries: dict[str, SweepBlock],
) -> Sweep:
    """The sweep of all the blocks: its runs and KPI table, as an in-process sweep gives it."""
    runs, rows = assembly.finish(entries)
    import pandas as pd

    table = pd.DataFrame(rows)
    return Sweep(
        tuple(plan.axes),
        points,
        runs,
        table,
        Path(plan.scenario_path),
        plan.replications,
        plan.seed,
    )


def _task(
    plan: SweepPlan,
    base: Scenario,
    folder: SweepFolder,
    points: list[dict[str, Any]],
    block: Block,
) -> BlockTask:
    first_variant = block.variant_block * plan.shape.variants
    first_replication = block.seed_block * plan.shape.replications
    return BlockTask(
        sweep_id=plan.sweep_id,
        block=block,
        scenario=base,
        points=points[first_variant : first_variant + plan.shape.variants],
        first_variant=first_variant,
        first_replication=first_replication,
        replications=min(plan.shape.replications, plan.replications - first_replication),
        shape=plan.shape,
        seed=plan.seed,
        path=str(folder.block_path(block)),
    )


def _execute(tasks: list[BlockTask], client: Any) -> Iterator[BlockReport]:
    """Reports of the tasks as they finish: one after the other here, or on Dask's workers
    (retried on error; Dask re-runs a task whose worker died). Unfinished tasks are cancelled
    if the caller stops early."""
    if client is None:
        for task in tasks:
            yield run_block(task)
        return
    from distributed import as_completed

    futures = [
        client.submit(
            run_block,
            task,
            key=f"bordersim-block-{task.sweep_id}-{task.block.name}-{uuid.uuid4().hex[:8]}",
            retries=TASK_RETRIES,
            pure=False,
        )
        for task in tasks
    ]
    pending = {future.key: future for future in futures}
    del futures
    try:
        for future in as_completed(list(pending.values())):
            report = future.result()
            # let the worker drop the block's numbers: the driver holds them from here on
            del pending[future.key]
            future.release()
            yield report
    finally:
        client.cancel([f for f in pending.values() if not f.done()])


def read_blocks(paths: Iterable[Path]) -> pa.Table:
    import pyarrow as pa
    import pyarrow.parquet as pq

    return pa.concat_tables([pq.read_table(p) for p in paths])


class Assembly:
    """A sweep's runs and KPI rows, built a variant block at a time: each variant's
    `RunResult` gathers its replications from the seed blocks in order. A block run here
    brings its numbers with its report; a block reused from an earlier run is read from its
    file (the same numbers, bit for bit)."""

    def __init__(
        self, plan: SweepPlan, folder: SweepFolder, points: list[dict[str, Any]], sectors: Any
    ) -> None:
        self.plan = plan
        self.folder = folder
        self.points = points
        self.sectors = sectors
        self.n_seed_blocks = -(-plan.replications // plan.shape.replications)
        self.n_variant_blocks = -(-plan.n_variants // plan.shape.variants)
        self.arrays: dict[str, BlockArrays] = {}
        self.runs: dict[int, list[RunResult]] = {}
        self.rows: dict[int, list[dict[str, Any]]] = {}

    def names(self, variant_block: int) -> list[str]:
        return [Block(variant_block, sb).name for sb in range(self.n_seed_blocks)]

    def add(self, report: BlockReport, entries: dict[str, SweepBlock]) -> None:
        """A block just run and registered in `entries`; its variant block is assembled once
        all its seed blocks are there."""
        if report.arrays is not None:
            self.arrays[report.block.name] = report.arrays
        variant_block = report.block.variant_block
        if all(name in entries for name in self.names(variant_block)):
            self._assemble(variant_block, entries)

    def finish(
        self, entries: dict[str, SweepBlock]
    ) -> tuple[list[RunResult], list[dict[str, Any]]]:
        """Every variant's run and the KPI rows, in grid order (reused blocks read now)."""
        for variant_block in range(self.n_variant_blocks):
            if variant_block not in self.runs:
                self._assemble(variant_block, entries)
        order = range(self.n_variant_blocks)
        return (
            [run for vb in order for run in self.runs[vb]],
            [row for vb in order for row in self.rows[vb]],
        )

    def _assemble(self, variant_block: int, entries: dict[str, SweepBlock]) -> None:
        plan, names = self.plan, self.names(variant_block)
        missing = [n for n in names if n not in entries]
        if missing:
            raise SweepStateError(f"sweep {plan.sweep_id}: blocks not finished: {missing}")
        first = entries[names[0]]
        first_variant = variant_block * plan.shape.variants
        parts = [self._part(entries[name], first_variant, sb) for sb, name in enumerate(names)]
        daily = np.concatenate([part.daily for part in parts], axis=1)  # [V, R, D, S, M]
        hist = np.concatenate([part.hist for part in parts], axis=1)  # [V, R, S, 2, H]
        if daily.shape[1] != plan.replications:
            raise SweepStateError("a sweep's block files do not hold the replications they should")
        from bordersim.results.schema import RunResult

        runs = [
            RunResult(
                engine="flow",
                scenario_name=name,
                scenario_hash=hash_,
                seed=plan.seed,
                dates=parts[0].dates,
                sectors=self.sectors,
                daily=daily[offset],
                custody_hist=hist[offset],
                timings=_timings(entries, names),
            )
            for offset, (name, hash_) in enumerate(
                zip(first.scenario_names, first.scenario_hashes, strict=True)
            )
        ]
        self.runs[variant_block] = runs
        points = self.points[first_variant : first_variant + len(runs)]
        self.rows[variant_block] = kpi_rows(points, runs, first_variant)

    def _part(self, entry: SweepBlock, first_variant: int, seed_block: int) -> BlockArrays:
        """A seed block's numbers: from its report, else from its file (a reused block)."""
        gathered = self.arrays.pop(entry.block, None)
        if gathered is not None:
            return gathered
        path = self.folder.results_dir / entry.path
        try:
            daily, hist, dates = _block_arrays(
                read_blocks([path]),
                first_variant,
                len(entry.scenario_names),
                seed_block * self.plan.shape.replications,
                len(self.sectors),
            )
        except (OSError, ValueError, KeyError, SweepStateError, _arrow_error()) as err:
            # a file that matched its sha256 yet does not read (written damaged, or changed
            # since it was checked): a resume runs the block again once the file is gone
            raise SweepStateError(
                f"sweep {self.plan.sweep_id}: block file {path} cannot be read; delete it and "
                f"run `bordersim sweep --resume {self.plan.sweep_id}` to run its block again "
                f"({_first_line(err)})"
            ) from None
        return BlockArrays(daily, hist, dates)


def _arrow_error() -> type[Exception]:
    """Arrow's own error type (a damaged Parquet file raises it, or a subclass)."""
    import pyarrow as pa

    return pa.ArrowException


def _first_line(err: BaseException) -> str:
    text = str(err).strip()
    return text.splitlines()[0] if text else type(err).__name__


def _block_arrays(
    table: pa.Table, first_variant: int, n_variants: int, first_replication: int, n_sectors: int
) -> tuple[np.ndarray, np.ndarray, list[Any]]:
    """A block file's daily metrics [V, R, D, S, M], custody histograms [V, R, S, 2, H] and
    dates, after checking that its rows are in (variant, replication, day, sector) order."""
    from bordersim.results.schema import DAILY_METRICS

    rows = table.num_rows
    per_variant = rows // n_variants
    variants = np.asarray(table["variant"])
    replications = np.asarray(table["replication"])
    first_rows = table["custody_hist_all"].is_valid()
    n_replications = int(np.count_nonzero(np.asarray(first_rows))) // (n_variants * n_sectors)
    n_days = per_variant // max(1, n_replications * n_sectors)
    shape = (n_variants, n_replications, n_days, n_sectors)
    expected_variant = np.repeat(np.arange(n_variants) + first_variant, per_variant)
    expected_replication = np.tile(
        np.repeat(np.arange(n_replications) + first_replication, n_days * n_sectors), n_variants
    )
    if (
        rows != int(np.prod(shape))
        or not np.array_equal(variants, expected_variant)
        or not np.array_equal(replications, expected_replication)
    ):
        raise SweepStateError("a sweep's block files do not hold the replications they should")
    columns = [np.asarray(table[m]) for m in DAILY_METRICS]
    daily = np.empty((n_variants, per_variant, len(columns)))
    for v in range(n_variants):  # a variant at a time: its rows x metrics fit in the CPU cache
        rows_of_v = slice(v * per_variant, (v + 1) * per_variant)
        np.stack([column[rows_of_v] for column in columns], axis=-1, out=daily[v])
    first_day = table.filter(first_rows)
    kinds = [
        np.asarray(first_day[column].combine_chunks().flatten(), dtype=np.float64)
        for column in ("custody_hist_all", "custody_hist_uac")
    ]
    hist = np.stack([k.reshape(n_variants, n_replications, n_sectors, -1) for k in kinds], axis=3)
    dates = table["date"].slice(0, n_days * n_sectors).to_pylist()[::n_sectors]
    return daily.reshape(*shape, len(DAILY_METRICS)), hist, dates


def _timings(entries: dict[str, SweepBlock], names: list[str]) -> dict[str, float]:
    return {
        "compile_s": float(sum(entries[n].compile_s for n in names)),
        "run_s": float(sum(entries[n].run_s for n in names)),
        "write_s": float(sum(entries[n].write_s for n in names)),
    }
