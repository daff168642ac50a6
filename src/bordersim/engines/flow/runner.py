"""Compile once per layout, run replications and variants in chunks, assemble `RunResult`s.

One program covers a batch: `vmap` over variants (stacked parameter arrays) of `vmap` over
replications of the hourly scan, followed by the custody-time pass. It is compiled ahead of time
for each (layout, number of variants, chunk size, backend) and kept for the process, and on disk
whole, compiled (`stored_program`, in `cache_directory`): a new process (a sweep's worker, the
next command) loads it in a fraction of a second instead of tracing the hourly scan into XLA
again, which takes seconds even when XLA's own cache holds the machine code. (JAX's persistent
compilation cache is not used: a program it returned cannot be stored this way.)

Replications are numbered from 0 and each draws from ``fold_in(PRNGKey(seed), replication)``
(and then ``fold_in`` by hour; the key of a 63-bit seed is its two 32-bit words, high then low,
as `PRNGKey` makes it from a 64-bit integer, so a seed below 2**32 keeps the key it had), so
replication r of a given seed is the same whatever the chunking or the number of replications
asked for, and every variant of a batch sees the same random numbers (common random numbers,
which sharpens comparisons between variants).
"""

from __future__ import annotations

import hashlib
import math
import os
import pickle
import platform
import time
from collections import deque
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import jax
import jax.numpy as jnp
import numpy as np

from bordersim.engines import MAX_SEED
from bordersim.engines.flow.custody_times import custody_times
from bordersim.engines.flow.custody_times_host import custody_times_host
from bordersim.engines.flow.layout import FlowLayout, layout_of, stack_parameters
from bordersim.engines.flow.step import KindMasks, replicate
from bordersim.errors import ModelError
from bordersim.model.compiled import CompiledModel
from bordersim.results.schema import CUSTODY_HIST_HOURS, DAILY_METRICS, METRIC_INDEX, RunResult

Progress = Callable[[int, int], None]

#: Bytes of device memory one chunk may use: a share of a GPU's memory, or this much on a CPU.
CPU_CHUNK_BYTES = 2_000_000_000
GPU_MEMORY_SHARE = 0.4
#: ... or the share that this variable holds (a GPU that runs nothing else can give more)
GPU_MEMORY_SHARE_VARIABLE = "BORDERSIM_GPU_MEMORY_SHARE"
#: Replications whose custody times the device derives at once (`_program`): each needs about
#: ten times the memory of its simulated hours, so a whole chunk at once would need ten times
#: the memory, or chunks a tenth the size.
CUSTODY_TIMES_BATCH = 64
#: XLA's options for the program on a CPU. XLA (jaxlib 0.10) hands the hourly step's small
#: reductions to YNNPACK fusions, which took 46 % of the step's time in a trace of 64
#: replications on the 2-core development machine (`python -m bench.flow_profile profile`);
#: without them the whole horizon's simulation ran 1.54 times as fast, side by side
#: (`python -m bench.flow_profile time`). The sums' order changes, so results differ from the
#: jaxlib's default in their last bits. A jaxlib that refuses an option (lacks it, or reads its
#: value otherwise) compiles the program without the options.
CPU_COMPILER_OPTIONS: dict[str, str | bool] = {"xla_cpu_experimental_ynn_fusion_type": ""}

#: Replications one thread writes into the results at a time (`_fill`).
FILL_SLICE = 256


def pipeline_depth(backend: str) -> int:
    """Chunks a backend starts ahead of the one whose results the host is writing."""
    return 0 if backend == "cpu" else 1


_compiled: dict[tuple[Any, ...], Any] = {}
#: programs of `_compiled` that were loaded from the disk rather than compiled here
_from_disk: set[tuple[Any, ...]] = set()
_source_digest: str | None = None
#: the programs' folder under `cache_directory` (a new name when the file format changes)
PROGRAMS = "programs-1"


def cache_directory() -> Path:
    """``$BORDERSIM_JAX_CACHE``, else ``bordersim/jax`` in the user cache directory."""
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(os.environ.get("BORDERSIM_JAX_CACHE") or str(Path(base) / "bordersim" / "jax"))


def _bytes_per_replication(layout: FlowLayout) -> int:
    curves = layout.n_hours * layout.n_sectors * layout.n_kinds * 4
    daily = layout.n_days * layout.n_sectors * len(METRIC_INDEX) * 4
    # the apprehension curve (carried), the exit curve (scanned out) and the merge's arrays
    return 3 * curves + 3 * daily


def _output_bytes(layout: FlowLayout) -> int:
    """One replication's outputs from a GPU's program: daily results and histogram (float32)."""
    daily = (layout.n_days - layout.warmup_days) * layout.n_sectors * len(DAILY_METRICS)
    return 4 * (daily + math.prod(_histogram_shape(layout)))


def _custody_times_bytes(layout: FlowLayout) -> int:
    """Device memory of one replication's custody times (`custody_times`): about 24 arrays of
    twice the hours for every sector and kind (77.5 MB for the main scenario; from XLA's
    memory analysis of the compiled program, 10 and 40 replications alike)."""
    return 24 * 2 * layout.n_hours * layout.n_sectors * layout.n_kinds * 4


def gpu_memory_share() -> float:
    """The share of a GPU's memory one chunk may use: ``$BORDERSIM_GPU_MEMORY_SHARE`` (above 0,
    at most 0.9), else `GPU_MEMORY_SHARE`."""
    text = os.environ.get(GPU_MEMORY_SHARE_VARIABLE)
    if text is None:
        return GPU_MEMORY_SHARE
    try:
        share = float(text)
    except ValueError:
        share = -1.0
    if not 0 < share <= 0.9:
        raise ModelError(
            f"{GPU_MEMORY_SHARE_VARIABLE}={text!r}: the share of GPU memory a chunk may use "
            "must be a number above 0 and at most 0.9"
        )
    return share


def chunk_size(layout: FlowLayout, n_variants: int, replications: int, backend: str) -> int:
    if backend == "cpu":
        budget = CPU_CHUNK_BYTES
    else:
        stats = jax.devices(backend)[0].memory_stats() or {}
        share = int(gpu_memory_share() * stats.get("bytes_limit", 16_000_000_000))
        # what the custody times of one batch need, after the hours of the whole chunk
        budget = max(share - CUSTODY_TIMES_BATCH * _custody_times_bytes(layout), share // 2)
    # with the outputs of the chunks started ahead, which stay on the device meanwhile
    held_ahead = pipeline_depth(backend) * _output_bytes(layout)
    per_replication = _bytes_per_replication(layout) + held_ahead
    fit = max(1, budget // (n_variants * per_replication))
    # as many chunks as the memory needs, of equal size, so the last one computes no more
    # replications than it keeps (10,000 in chunks of at most 6,000: two of 5,000, not 6,000)
    n_chunks = -(-replications // fit)
    return int(-(-replications // n_chunks))


_CURVE_COLUMNS = [
    METRIC_INDEX["custody_hours_total"],
    METRIC_INDEX["custody_exits_over_72h"],
    METRIC_INDEX["uac_exits_over_72h"],
]


def _program(layout: FlowLayout, on_host: bool) -> Callable[..., tuple[jax.Array, ...]]:
    """The batch program. With `on_host` it returns the custody curves for the host pass
    (`custody_times_host`), otherwise it derives the custody times on the device, for
    `CUSTODY_TIMES_BATCH` replications at a time."""
    uac_kind = jnp.asarray(KindMasks(layout).uac)
    warmup = layout.warmup_days
    columns = jnp.array(_CURVE_COLUMNS)

    def one(p: dict[str, jax.Array], replication: jax.Array, seed: jax.Array) -> Any:
        key = jax.random.fold_in(seed, replication)  # seed: the key's two words (`seed_key`)
        daily, arrived, exited = replicate(p, key, layout)
        return daily[warmup:], arrived, exited

    def times(one_replication: tuple[jax.Array, ...]) -> tuple[jax.Array, jax.Array]:
        reported, arrived, exited, standard, uac_standard = one_replication
        histogram, hours_total, over, over_uac = custody_times(
            arrived, exited, uac_kind, standard, uac_standard, layout
        )
        reported = reported.at[:, :, columns].set(jnp.stack([hours_total, over, over_uac], axis=-1))
        return reported, histogram

    over_replications = jax.vmap(one, in_axes=(None, 0, None))
    simulate = jax.vmap(over_replications, in_axes=(0, None, None))

    def program(p: dict[str, jax.Array], replications: jax.Array, seed: jax.Array) -> Any:
        reported, arrived, exited = simulate(p, replications, seed)
        if on_host:
            return reported, arrived, exited
        # every (variant, replication) in one sequence, each with its variant's standards
        n_variants, n_replications = reported.shape[:2]

        def flat(x: jax.Array) -> jax.Array:
            return x.reshape((n_variants * n_replications, *x.shape[2:]))

        def per_replication(standard: jax.Array) -> jax.Array:
            return flat(jnp.broadcast_to(standard[:, None], (n_variants, n_replications)))

        # the merge needs ten times the memory of the hours it merges: a batch at a time
        reported, histogram = jax.lax.map(
            times,
            (
                flat(reported),
                flat(arrived),
                flat(exited),
                per_replication(p["custody_standard_hours"]),
                per_replication(p["uac_standard_hours"]),
            ),
            batch_size=CUSTODY_TIMES_BATCH,
        )
        return (
            reported.reshape((n_variants, n_replications, *reported.shape[1:])),
            histogram.reshape((n_variants, n_replications, *histogram.shape[1:])),
        )

    return program


def _compile(
    layout: FlowLayout, parameters: dict[str, np.ndarray], chunk: int, backend: str
) -> tuple[Any, float]:
    on_host = backend == "cpu"
    key = _program_key(layout, parameters, chunk, backend)
    if key in _compiled:
        return _compiled[key], 0.0
    started = time.perf_counter()
    stored = stored_program(layout, parameters, chunk, backend)
    compiled = _load_program(stored, backend)
    if compiled is None:
        lowered = jax.jit(_program(layout, on_host)).lower(
            parameters, jnp.zeros(chunk, dtype=jnp.int32), seed_key(0)
        )
        compiled = compile_lowered(lowered, backend)
        _store_program(compiled, stored)
    else:
        _from_disk.add(key)
    _compiled[key] = compiled
    return compiled, time.perf_counter() - started


def compiler_options(backend: str) -> dict[str, str | bool]:
    """XLA's options for a backend's program (`CPU_COMPILER_OPTIONS` on a CPU)."""
    return dict(CPU_COMPILER_OPTIONS) if backend == "cpu" else {}


def compile_lowered(lowered: Any, backend: str) -> Any:
    """Compile with the backend's options, or without them where this jaxlib refuses one (lacks
    it, or reads its value otherwise)."""
    options = compiler_options(backend)
    if options:
        try:
            return lowered.compile(compiler_options=options)
        except jax.errors.JaxRuntimeError as error:
            if not any(name in str(error) for name in options):
                raise
    return lowered.compile()


def _forget_stored(
    layout: FlowLayout, parameters: dict[str, np.ndarray], chunk: int, backend: str
) -> None:
    """Drop a program loaded from the disk that failed to run (its file too), so that
    `_compile` compiles it afresh."""
    key = _program_key(layout, parameters, chunk, backend)
    _compiled.pop(key, None)
    _from_disk.discard(key)
    stored_program(layout, parameters, chunk, backend).unlink(missing_ok=True)


def loaded_from_disk(
    layout: FlowLayout, parameters: dict[str, np.ndarray], chunk: int, backend: str
) -> bool:
    return _program_key(layout, parameters, chunk, backend) in _from_disk


def _program_key(
    layout: FlowLayout, parameters: dict[str, np.ndarray], chunk: int, backend: str
) -> tuple[Any, ...]:
    """What one compiled program serves: the layout, the number of variants, the chunk of
    replications, the backend and its XLA options (the key of `_compiled` and `_from_disk`)."""
    options = tuple(sorted(compiler_options(backend).items()))
    return (layout, parameters["intake_hours"].shape[0], chunk, backend, options)


def _sources_digest() -> str:
    """A sha256 of bordersim's source files: any change to the code makes a new program."""
    global _source_digest
    if _source_digest is None:
        package = Path(__file__).resolve().parents[2]
        digest = hashlib.sha256()
        for path in sorted(package.rglob("*.py")):
            digest.update(path.relative_to(package).as_posix().encode())
            digest.update(path.read_bytes())
        _source_digest = digest.hexdigest()
    return _source_digest


def _cpu_identity() -> str:
    """The CPU's model and instruction sets (XLA compiles for the CPU it runs on)."""
    try:
        lines = Path("/proc/cpuinfo").read_text().splitlines()
    except OSError:
        return f"{platform.machine()} {platform.processor()}"
    wanted = [ln for ln in lines if ln.startswith(("model name", "flags", "Features"))]
    return "\n".join(sorted(set(wanted))) or platform.machine()


def stored_program(
    layout: FlowLayout, parameters: dict[str, np.ndarray], chunk: int, backend: str
) -> Path:
    """Where the compiled program for this batch shape is kept on disk: named by a hash of
    everything that fixes it (bordersim's code, the layout, the parameters' shapes, the chunk,
    the backend and its device, JAX's version and settings, XLA's flags and the program's
    options, the CPU), so a program is only ever reused where it is the one that would be
    compiled."""
    import jaxlib

    device = jax.devices(backend)[0]
    identity = [
        _sources_digest(),
        repr(layout),
        sorted((name, a.shape, str(a.dtype)) for name, a in parameters.items()),
        chunk,
        backend,
        device.device_kind,
        jax.__version__,
        jaxlib.__version__,
        sorted(
            (name, repr(value))
            for name, value in jax.config.values.items()
            # not the cache's or logging's settings, nor the device of the current context
            # (the backend and its device kind are above)
            if "cache" not in name and "log" not in name and name != "jax_default_device"
        ),
        os.environ.get("XLA_FLAGS", ""),
        sorted(compiler_options(backend).items()),
        _cpu_identity(),
    ]
    name = hashlib.sha256(repr(identity).encode()).hexdigest()[:32]
    return cache_directory() / PROGRAMS / f"{name}.bin"


def _load_program(path: Path, backend: str) -> Any:
    """The program stored at `path`, or None (absent, unreadable or from another jaxlib)."""
    from jax.experimental.serialize_executable import deserialize_and_load

    try:
        payload, in_tree, out_tree = pickle.loads(path.read_bytes())
        return deserialize_and_load(payload, in_tree, out_tree, backend=backend)
    except Exception:  # any damaged or foreign file only costs a compile
        return None


def _store_program(compiled: Any, path: Path) -> None:
    """Keep `compiled` at `path` (written under a temporary name and renamed, so two processes
    storing the same program at once each leave a whole file)."""
    from jax.experimental.serialize_executable import serialize

    try:
        data = pickle.dumps(serialize(compiled))
        path.parent.mkdir(parents=True, exist_ok=True)
        partial = path.with_name(f".{path.name}.{os.getpid()}.partial")
        partial.write_bytes(data)
        os.replace(partial, path)
    except Exception:  # a read-only cache or unserialisable program: no reuse
        return


def prepare_batch(
    models: list[CompiledModel], *, replications: int, backend: str | None = None
) -> float:
    """Compile (or load from the persistent cache) the program `run_batch` would use for these
    models and replications, without running it; the seconds it took. A sweep's workers call this
    once when they start, so their first block does not pay for compilation."""
    backend = backend or jax.default_backend()
    layout = layout_of(models)
    parameters = stack_parameters(models, layout)
    chunk = chunk_size(layout, len(models), replications, backend)
    with jax.default_device(jax.devices(backend)[0]):
        return _compile(layout, parameters, chunk, backend)[1]


def run_batch(
    models: list[CompiledModel],
    *,
    replications: int,
    seed: int,
    progress: Progress | None = None,
    backend: str | None = None,
    first_replication: int = 0,
) -> list[RunResult]:
    """Run every model (variants of one layout) for `replications` each, as one batch, on
    `backend` ("cpu", "gpu"; default: JAX's default backend). Replications are numbered from
    `first_replication`, so a sweep split into seed blocks draws what one batch would."""
    backend = backend or jax.default_backend()
    try:
        device = jax.devices(backend)[0]
    except RuntimeError as err:
        raise ModelError(f"no {backend} device for the flow engine: {err}") from err
    with jax.default_device(device):
        return _run_batch(models, replications, seed, progress, backend, first_replication)


def _histogram_shape(layout: FlowLayout) -> tuple[int, int, int]:
    """One replication's time-in-custody histogram: sector, (all, unaccompanied), hour."""
    return (layout.n_sectors, 2, CUSTODY_HIST_HOURS + 1)


def _custody_times_on_host(
    outputs: list[np.ndarray], models: list[CompiledModel], layout: FlowLayout
) -> tuple[np.ndarray, np.ndarray]:
    """One chunk's daily results and time-in-custody histograms from a program that returned
    the custody curves (the CPU's program: `custody_times_host` is faster there)."""
    daily = np.asarray(outputs[0], dtype=np.float64)
    arrived, exited = outputs[1], outputs[2]
    histogram = np.zeros((*daily.shape[:2], *_histogram_shape(layout)))
    uac_kind = KindMasks(layout).uac
    for v, model in enumerate(models):
        hist_v, hours_total, over, over_uac = custody_times_host(
            arrived[v],
            exited[v],
            uac_kind,
            model.custody_standard_hours,
            model.uac_standard_hours,
            24 * layout.warmup_days,
            layout.n_days - layout.warmup_days,
        )
        histogram[v] = hist_v
        daily[v][..., _CURVE_COLUMNS] = np.stack([hours_total, over, over_uac], axis=-1)
    return daily, histogram


@dataclass
class _Chunks:
    """One batch's replications in chunks, and the arrays their results are written into."""

    replications: int
    size: int
    first: int  # the first replication's number
    seed: int
    on_host: bool  # the program returns custody curves for `_custody_times_on_host`
    ahead: int  # chunks started before the oldest one's results are collected
    daily: np.ndarray
    histograms: np.ndarray
    collected: int = 0

    @property
    def n_chunks(self) -> int:
        return -(-self.replications // self.size)


def seed_key(seed: int) -> np.ndarray:
    """The random key of a seed from 0 to 2**63 - 1: its high and low 32-bit words, which is
    `jax.random.PRNGKey(seed)` for a 64-bit seed, and [0, seed] below 2**32 (the key a seed had
    when the engine took 32-bit seeds only, so their runs draw the same numbers)."""
    return np.array([seed >> 32, seed & 0xFFFFFFFF], dtype=np.uint32)


def _dispatch(program: Any, parameters: Any, ids: np.ndarray, seed: int) -> list[jax.Array]:
    """Start one chunk of replications; JAX returns at once and the device works on. The copies
    to the host are queued behind the work, so they start as soon as it ends."""
    outputs = list(program(parameters, ids, seed_key(seed)))
    for output in outputs:
        output.copy_to_host_async()
    return outputs


def _fill(destination: np.ndarray, source: np.ndarray) -> None:
    """``destination[:] = source`` in slices of replications (the second axis) on several
    threads: NumPy releases the GIL while it copies, and one thread cannot keep up with a GPU
    (writing 5,000 replications' daily results as float64 took 1.9 s on one core)."""
    n = destination.shape[1]
    if n < 2 * FILL_SLICE:
        destination[...] = source
        return
    slices = [slice(first, min(first + FILL_SLICE, n)) for first in range(0, n, FILL_SLICE)]
    with ThreadPoolExecutor(max_workers=min(len(slices), os.cpu_count() or 1)) as pool:
        list(pool.map(lambda kept: np.copyto(destination[:, kept], source[:, kept]), slices))


def _run_chunks(
    program: Any,
    parameters: Any,
    models: list[CompiledModel],
    layout: FlowLayout,
    chunks: _Chunks,
    progress: Progress | None,
) -> None:
    """Run every chunk and write its results into `chunks.daily` and `chunks.histograms`.

    With `chunks.ahead` 1 the next chunk starts on the device before this one's results are
    copied and written on the host, so the host's work hides behind the device's (each chunk's
    outputs stay on the device until then: the chunk sizes leave room for them). The CPU runs
    its chunks one after the other (`ahead` 0): there the host's pass and the program share
    the same cores, and two chunks at once would need twice the memory."""
    pending: deque[tuple[int, list[jax.Array]]] = deque()
    for i in range(chunks.n_chunks + chunks.ahead):
        if i < chunks.n_chunks:
            ids = chunks.first + np.arange(i * chunks.size, (i + 1) * chunks.size, dtype=np.int32)
            pending.append((i, _dispatch(program, parameters, ids, chunks.seed)))
        if len(pending) <= chunks.ahead and i < chunks.n_chunks:
            continue  # collected after the next chunk has started
        done, outputs = pending.popleft()
        host = [np.asarray(output) for output in outputs]
        del outputs
        if chunks.on_host:
            daily, histogram = _custody_times_on_host(host, models, layout)
        else:
            daily, histogram = host[0], host[1]
        kept = slice(done * chunks.size, min((done + 1) * chunks.size, chunks.replications))
        size = kept.stop - kept.start
        _fill(chunks.daily[:, kept], daily[:, :size])
        _fill(chunks.histograms[:, kept], histogram[:, :size])
        chunks.collected += 1
        if progress is not None:
            progress(layout.n_hours * (done + 1) // chunks.n_chunks, layout.n_hours)


def _run_batch(
    models: list[CompiledModel],
    replications: int,
    seed: int,
    progress: Progress | None,
    backend: str,
    first_replication: int = 0,
) -> list[RunResult]:
    if replications < 1:
        raise ModelError(f"replications must be at least 1, got {replications}")
    if not 0 <= seed <= MAX_SEED:
        raise ModelError(f"seed must be between 0 and 2**63 - 1, got {seed}")
    if not 0 <= first_replication <= 2**31 - 1 - replications:
        raise ModelError(f"first replication out of range: {first_replication}")
    for model in models:
        model.check()
    layout = layout_of(models)
    parameters = stack_parameters(models, layout)
    n_variants = len(models)
    chunk = chunk_size(layout, n_variants, replications, backend)
    program, compile_s = _compile(layout, parameters, chunk, backend)
    device_parameters = jax.device_put(parameters)
    # filled chunk by chunk: no list of parts to concatenate (a second copy of every result)
    day_shape = (layout.n_days - layout.warmup_days, layout.n_sectors, len(DAILY_METRICS))
    chunks = _Chunks(
        replications=replications,
        size=chunk,
        first=first_replication,
        seed=seed,
        on_host=backend == "cpu",
        ahead=pipeline_depth(backend),
        daily=np.empty((n_variants, replications, *day_shape)),
        histograms=np.empty((n_variants, replications, *_histogram_shape(layout))),
    )
    started = time.perf_counter()
    try:
        _run_chunks(program, device_parameters, models, layout, chunks, progress)
    except jax.errors.JaxRuntimeError:
        # a program from the disk that this jaxlib cannot run: compile it here instead
        if chunks.collected > 0 or not loaded_from_disk(layout, parameters, chunk, backend):
            raise
        _forget_stored(layout, parameters, chunk, backend)
        program, compile_s = _compile(layout, parameters, chunk, backend)
        started = time.perf_counter()
        _run_chunks(program, device_parameters, models, layout, chunks, progress)
    all_daily, all_histograms = chunks.daily, chunks.histograms
    run_s = time.perf_counter() - started
    timings = {
        "compile_s": compile_s,
        "run_s": run_s,
        "replications_per_s": n_variants * replications / max(run_s, 1e-9),
        "chunk_replications": float(chunk),
    }
    results = []
    for v, model in enumerate(models):
        results.append(
            RunResult(
                engine="flow",
                scenario_name=model.scenario_name,
                scenario_hash=model.scenario_hash,
                seed=seed,
                dates=model.dates[model.warmup_days :],
                sectors=model.sectors,
                daily=all_daily[v],
                custody_hist=all_histograms[v],
                timings=dict(timings),
            )
        )
    return results
