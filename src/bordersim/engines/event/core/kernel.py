"""The compiled event loop: one call advances a simulation to a time, with no Python per event.

State lives in NumPy arrays owned by `Simulator` (so a run can be continued, inspected between
calls and grown). The event list is a binary heap ordered by (time, sequence number): equal times
are handled in the order they were scheduled, which makes runs reproducible. When an array is
nearly full the kernel returns `NEED_ROOM` before touching the next event; the caller enlarges the
arrays and calls again.

Arrival streams keep their next arrival outside the heap (in `arr_next`, with the index of the
earliest in `ctr[K_ARR_MIN]`): half of all events are arrivals, and sparing them the heap is the
largest single saving. On equal times, heap events go first. Counters live in local variables
during a call (written back to `ctr` on return) so the compiler can keep them in registers.

Waiting lines are doubly linked lists of customer slots, one per station and priority rank, so an
abandoning customer leaves in constant time. Abandonment events are never removed from the heap:
each wait gets a fresh token and an event whose token no longer matches is ignored.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any, NamedTuple

import numpy as np
from numba import njit

from bordersim.engines.event.core import rng, ziggurat
from bordersim.engines.event.core.distributions import (
    DETERMINISTIC,
    EMPIRICAL,
    EXPONENTIAL,
    GAMMA,
    LOGNORMAL,
)

# Return codes of `advance`.
DONE = 0
NEED_ROOM = 1

# Event kinds.
EV_ARRIVAL = 0  # a: arrival stream (kept outside the heap, see `advance`)
EV_SERVICE_END = 1  # a: customer slot, b: pool
EV_ABANDON = 2  # a: customer slot, b: wait token
EV_SCHEDULE = 3  # a: row of the compiled headcount schedule
EV_HEADCOUNT = 4  # a: pool, b: new headcount
EV_INJECT = 5  # a: row of the injection table

# Columns of heap_i.
H_SEQ, H_KIND, H_A, H_B = 0, 1, 2, 3

# Columns of cust_i / cust_f.
C_CLASS, C_STATION, C_NEXT, C_PREV, C_TOKEN, C_RECORD, C_ID, C_STATE = 0, 1, 2, 3, 4, 5, 6, 7
N_CUST_I = 8
C_JOIN, C_BORN = 0, 1
N_CUST_F = 2
STATE_FREE, STATE_WAITING, STATE_SERVING = 0, 1, 2

# ctr: scalar counters.
K_HEAP, K_SEQ, K_FREE, K_NEXT_ID, K_RECORDS, K_TOKEN, K_MARGIN, K_RECORDING = 0, 1, 2, 3, 4, 5, 6, 7
K_ARR_MIN = 8  # the arrival stream due first, -1 without streams
N_CTR = 9

# Station occupancy st_n[S, 2]; per station and class sc_n[S, L, 2].
N_WAITING, N_SERVING = 0, 1

# Per station and class statistics sc_stat[S, L, :].
SC_ARRIVALS, SC_BLOCKED, SC_ABANDONED, SC_STARTED, SC_SERVED = 0, 1, 2, 3, 4
SC_SUM_WAIT, SC_SUM_ABANDON_WAIT, SC_SUM_SOJOURN, SC_SUM_SERVICE = 5, 6, 7, 8
SC_DELAYED = 9  # services that started after a positive wait
N_SC = 10
# The kernel leaves three counts to be derived when a summary is read, sparing an update per
# customer each: every arrival at a station is blocked, starts or abandons, or is still waiting;
# every start ends or is still in service; every customer in the network leaves it (exit,
# abandonment, blocking) or is still in it. So SC_ARRIVALS holds -waiting, SC_SERVED +serving and
# CL_ARRIVED -present, each at the last statistics reset, and the simulator adds the rest.

# Per station st_stat[S, :] and pool pool_stat[K, :]: time integrals kept as running sums of
# -t for every +1 and +t for every -1 of the count. The integral over [a, b] of a count n(t) is
# then acc + n(b) b, with acc set to -n(a) a at a statistics reset: one addition per change
# instead of a read-multiply-write at every event (the simulator adds n(b) b when it reads).
ST_AREA_WAITING, ST_AREA_PRESENT = 0, 1
N_ST = 2

# Per pool pool_n[K, 2] and pool_stat[K, :].
P_HEADCOUNT, P_BUSY = 0, 1
PS_AREA_BUSY, PS_AREA_HEADCOUNT = 0, 1
N_PS = 2

# Per class cl_stat[L, :]: whole-network counts (CL_ARRIVED derived, see above).
CL_ARRIVED, CL_EXITED, CL_ABANDONED, CL_BLOCKED = 0, 1, 2, 3
CL_SUM_SOJOURN = 4
N_CL = 5

# Records rec_f[R, 3], rec_i[R, 5].
R_ARRIVE, R_START, R_END = 0, 1, 2
R_CUSTOMER, R_CLASS, R_STATION, R_OUTCOME, R_POOL = 0, 1, 2, 3, 4
N_REC_I = 5
OUT_PRESENT, OUT_SERVED, OUT_ABANDONED, OUT_BLOCKED = 0, 1, 2, 3


# ---------------------------------------------------------------- named bundles of arrays
# The kernel's arguments, grouped. Numba passes a NamedTuple of arrays as its fields, and every
# step below inlines into the loop, so the bundles cost nothing at run time (with reference
# counting off in the loop, see `_make_advance`).


class Distributions(NamedTuple):
    """The table of distributions, one row each (`distributions.distribution_row`)."""

    code: np.ndarray  # int64[D]
    p1: np.ndarray  # float64[D]
    p2: np.ndarray  # float64[D]
    offset: np.ndarray  # int64[D], into empirical_values
    length: np.ndarray  # int64[D]
    empirical_values: np.ndarray  # float64[...]


class ArrivalStreams(NamedTuple):
    """Poisson arrival streams with piecewise-constant rates and batch sizes."""

    station: np.ndarray  # int64[A]
    klass: np.ndarray  # int64[A]
    rate_ptr: np.ndarray  # int64[A+1]
    rates: np.ndarray  # float64[...]
    period: np.ndarray  # float64[A]
    cyclic: np.ndarray  # int64[A]
    batch_ptr: np.ndarray  # int64[A+1], empty range: batches of one
    batch_sizes: np.ndarray  # int64[...]
    batch_cum: np.ndarray  # float64[...]


class KernelNetwork(NamedTuple):
    """The network as the kernel reads it (`CompiledNetwork.kernel_network()`); 2-D tables flat."""

    station_capacity: np.ndarray  # int64[S]
    station_abandons: np.ndarray  # int64[S]
    station_pool_ptr: np.ndarray  # int64[S+1]
    station_pool_idx: np.ndarray  # int64[...], fastest first
    pool_station_ptr: np.ndarray  # int64[K+1]
    pool_station_idx: np.ndarray  # int64[...]
    time_factor: np.ndarray  # float64[K*S], 1 / speed
    service_dist: np.ndarray  # int64[L*S]
    class_rank: np.ndarray  # int64[L]
    patience_dist: np.ndarray  # int64[L]
    route_cum: np.ndarray  # float64[L*S*S]
    dists: Distributions
    arrivals: ArrivalStreams
    sched_time: np.ndarray  # float64[E]
    sched_pool: np.ndarray  # int64[E]
    sched_count: np.ndarray  # int64[E]


class KernelState(NamedTuple):
    """The simulation state the `Simulator` owns, multi-dimensional arrays flat (C order)."""

    rstate: np.ndarray  # random generator state
    clock: np.ndarray  # float64[1]
    ctr: np.ndarray  # int64[N_CTR]
    heap_t: np.ndarray  # event times
    heap_i: np.ndarray  # [H, 4] H_SEQ, H_KIND, H_A, H_B
    cust_i: np.ndarray  # [C, N_CUST_I]
    cust_f: np.ndarray  # [C, N_CUST_F]
    free: np.ndarray  # free customer slots (a stack)
    queue_ends: np.ndarray  # [S, priorities, 2] head and tail of each waiting line
    st_n: np.ndarray  # [S, 2] waiting, serving
    sc_n: np.ndarray  # [S, L, 2]
    pool_n: np.ndarray  # [K, 2] headcount, busy
    sc_stat: np.ndarray  # [S, L, N_SC]
    st_stat: np.ndarray  # [S, N_ST]
    pool_stat: np.ndarray  # [K, N_PS]
    cl_stat: np.ndarray  # [L, N_CL]
    cl_n: np.ndarray  # [L] in the network
    rec_f: np.ndarray  # [R, 3]
    rec_i: np.ndarray  # [R, N_REC_I]
    injections: np.ndarray  # [I, 3] station, class, count
    # Customers waiting to enter a station, and pools that may start a service, are handled
    # after the event that produced them: freed servers look at the queues before a routed
    # customer joins its next one (so it never overtakes customers already waiting there).
    entering_c: np.ndarray  # as long as the customer arrays
    entering_s: np.ndarray
    pending_pools: np.ndarray  # one per pool
    arr_next: np.ndarray  # [A] next arrival of each stream


class Dims(NamedTuple):
    """Sizes read once per call: stations, classes, priority ranks."""

    n_st: int
    n_cls: int
    n_prio: int


# Whether `_start_service` takes a customer from a queue (a constant of each inlined call).
QUEUED = True
NOT_QUEUED = False


# ---------------------------------------------------------------- event list (binary heap)


@njit(cache=True, inline="always", error_model="numpy")
def _u(i: int) -> np.uint64:
    """An index the kernel knows to be in range: unsigned, so numba emits no wraparound code."""
    return np.uint64(i)


@njit(cache=True, inline="always", error_model="numpy")
def push_event(
    heap_t: np.ndarray, heap_i: np.ndarray, ctr: np.ndarray, t: float, kind: int, a: int, b: int
) -> None:
    seq = ctr[K_SEQ]
    ctr[K_SEQ] = seq + 1
    i = ctr[K_HEAP]
    ctr[K_HEAP] = i + 1
    # Sift up by moving parents down into the hole, then write the new event once.
    while i > 0:
        parent = (i - 1) >> 1
        tp = heap_t[_u(parent)]
        if tp > t or (tp == t and heap_i[parent, H_SEQ] > seq):
            heap_t[_u(i)] = tp
            heap_i[i, 0] = heap_i[parent, 0]
            heap_i[i, 1] = heap_i[parent, 1]
            heap_i[i, 2] = heap_i[parent, 2]
            heap_i[i, 3] = heap_i[parent, 3]
            i = parent
        else:
            break
    heap_t[_u(i)] = t
    heap_i[i, H_SEQ] = seq
    heap_i[i, H_KIND] = kind
    heap_i[i, H_A] = a
    heap_i[i, H_B] = b


@njit(cache=True, inline="always", error_model="numpy")
def _push_at(
    heap_t: np.ndarray, heap_i: np.ndarray, i: int, seq: int, t: float, kind: int, a: int, b: int
) -> None:
    while i > 0:
        parent = (i - 1) >> 1
        tp = heap_t[_u(parent)]
        if tp > t or (tp == t and heap_i[_u(parent * 4 + H_SEQ)] > seq):
            heap_t[_u(i)] = tp
            heap_i[_u(i * 4 + 0)] = heap_i[_u(parent * 4 + 0)]
            heap_i[_u(i * 4 + 1)] = heap_i[_u(parent * 4 + 1)]
            heap_i[_u(i * 4 + 2)] = heap_i[_u(parent * 4 + 2)]
            heap_i[_u(i * 4 + 3)] = heap_i[_u(parent * 4 + 3)]
            i = parent
        else:
            break
    heap_t[_u(i)] = t
    heap_i[_u(i * 4 + H_SEQ)] = seq
    heap_i[_u(i * 4 + H_KIND)] = kind
    heap_i[_u(i * 4 + H_A)] = a
    heap_i[_u(i * 4 + H_B)] = b


@njit(cache=True, inline="always", error_model="numpy")
def _sift_root(heap_t: np.ndarray, heap_i: np.ndarray, n: int) -> None:
    """Move the event at index n (just past the new end) into the root's place."""
    if n == 0:
        return
    t = heap_t[_u(n)]
    seq = heap_i[_u(n * 4 + H_SEQ)]
    kind = heap_i[_u(n * 4 + H_KIND)]
    a = heap_i[_u(n * 4 + H_A)]
    b = heap_i[_u(n * 4 + H_B)]
    i = 0
    while True:
        child = 2 * i + 1
        if child >= n:
            break
        tc = heap_t[_u(child)]
        right = child + 1
        if right < n:
            tr = heap_t[_u(right)]
            if tr < tc or (
                tr == tc and heap_i[_u(right * 4 + H_SEQ)] < heap_i[_u(child * 4 + H_SEQ)]
            ):
                child = right
                tc = tr
        if tc < t or (tc == t and heap_i[_u(child * 4 + H_SEQ)] < seq):
            heap_t[_u(i)] = tc
            heap_i[_u(i * 4 + 0)] = heap_i[_u(child * 4 + 0)]
            heap_i[_u(i * 4 + 1)] = heap_i[_u(child * 4 + 1)]
            heap_i[_u(i * 4 + 2)] = heap_i[_u(child * 4 + 2)]
            heap_i[_u(i * 4 + 3)] = heap_i[_u(child * 4 + 3)]
            i = child
        else:
            break
    heap_t[_u(i)] = t
    heap_i[_u(i * 4 + H_SEQ)] = seq
    heap_i[_u(i * 4 + H_KIND)] = kind
    heap_i[_u(i * 4 + H_A)] = a
    heap_i[_u(i * 4 + H_B)] = b


# ---------------------------------------------------------------- sampling


@njit(cache=True, inline="always", error_model="numpy")
def sample(state: np.ndarray, d: int, dists: Distributions) -> float:
    code = dists.code[_u(d)]
    if code == EXPONENTIAL:
        return ziggurat.exponential(state, dists.p1[_u(d)])
    if code == DETERMINISTIC:
        return dists.p1[_u(d)]
    if code == LOGNORMAL:
        return math.exp(dists.p1[_u(d)] + dists.p2[_u(d)] * rng.standard_normal(state))
    if code == GAMMA:
        return rng.standard_gamma(state, dists.p1[_u(d)]) * dists.p2[_u(d)]
    if code == EMPIRICAL:
        k = int(rng.uniform(state) * dists.length[d])
        return dists.empirical_values[dists.offset[d] + k]
    return math.nan


@njit(cache=True, inline="always", error_model="numpy")
def _piece_rate_and_end(
    piece: int, a: int, lo: int, m: int, arrivals: ArrivalStreams
) -> tuple[float, float]:
    """The rate of a profile's piece and the time it ends (infinity for a last piece that holds)."""
    period = arrivals.period[_u(a)]
    if arrivals.cyclic[_u(a)] == 1:
        return arrivals.rates[lo + piece % m], (piece + 1) * period
    if piece >= m - 1:
        return arrivals.rates[lo + m - 1], math.inf
    return arrivals.rates[lo + piece], (piece + 1) * period


# A cyclic stream whose next arrival lies more than this many cycles ahead never arrives within
# any horizon a float clock can reach (and the piece index would overflow).
_MAX_CYCLES_SKIPPED = 2.0**40


@njit(cache=True, inline="always", error_model="numpy")
def next_arrival_time(state: np.ndarray, t: float, a: int, arrivals: ArrivalStreams) -> float:
    """Next epoch after `t` of a Poisson stream with piecewise-constant rate.

    Exact, by inverting the cumulative rate: one unit exponential is spent along the profile from
    `t`. Whole cycles are skipped at once, so that a profile whose rate is tiny but positive costs
    one cycle's walk, not one loop per piece until its arrival (a rate of 1e-300 would never end).
    """
    lo = arrivals.rate_ptr[_u(a)]
    m = arrivals.rate_ptr[_u(a + 1)] - lo
    if m == 1:
        rate = arrivals.rates[_u(lo)]
        return t + ziggurat.standard_exponential(state) / rate if rate > 0.0 else math.inf
    period = arrivals.period[_u(a)]
    cycle_mass = 0.0
    for j in range(lo, lo + m):
        cycle_mass += arrivals.rates[_u(j)] * period
    cyclic = arrivals.cyclic[_u(a)] == 1
    if cyclic and cycle_mass <= 0.0:
        return math.inf  # zero everywhere it will ever be
    if not cyclic and arrivals.rates[lo + m - 1] <= 0.0 and t >= (m - 1) * period:
        return math.inf
    remaining = ziggurat.standard_exponential(state)
    # The piece index is carried as an integer: recomputing it from a boundary time could round
    # down to the piece just left.
    piece = math.floor(t / period)
    walked = 0
    while True:
        rate, end = _piece_rate_and_end(piece, a, lo, m, arrivals)
        if rate > 0.0:
            mass = rate * (end - t)
            if mass >= remaining:
                return t + remaining / rate
            remaining -= mass
        if end == math.inf:
            return math.inf  # the last piece holds at a zero rate
        t = end
        piece += 1
        walked += 1
        if cyclic and walked % m == 0 and remaining > cycle_mass:
            ahead = remaining / cycle_mass
            if ahead > _MAX_CYCLES_SKIPPED:
                return math.inf
            cycles = math.floor(ahead)
            remaining -= cycles * cycle_mass
            piece += cycles * m
            t = piece * period


# ---------------------------------------------------------------- the steps of one event
# Each step is inlined into the event loop. Counters the loop keeps in registers (heap size,
# sequence number, free slots, ...) go in as arguments and come back as results.


@njit(cache=True, inline="always", error_model="numpy")
def _save_counters(
    ctr: np.ndarray,
    heap_n: int,
    seq: int,
    free_n: int,
    next_id: int,
    n_rec: int,
    token_n: int,
    arr_min: int,
) -> None:
    ctr[K_HEAP] = heap_n
    ctr[K_SEQ] = seq
    ctr[K_FREE] = free_n
    ctr[K_NEXT_ID] = next_id
    ctr[K_RECORDS] = n_rec
    ctr[K_TOKEN] = token_n
    ctr[K_ARR_MIN] = arr_min


@njit(cache=True, inline="always", error_model="numpy")
def _next_event(
    sv: KernelState, arr_min: int, heap_n: int, t: float, t_end: float
) -> tuple[bool, float, int, int, int, int]:
    """The next event if due by `t_end`: (due, time, kind, a, b, heap size). On equal times heap
    events go first; the earliest arrival stream is not in the heap."""
    ta = sv.arr_next[_u(arr_min)] if arr_min >= 0 else math.inf
    th = sv.heap_t[_u(0)] if heap_n > 0 else math.inf
    if ta < th:
        if ta > t_end:
            return False, t, EV_ARRIVAL, 0, 0, heap_n
        return True, ta, EV_ARRIVAL, arr_min, 0, heap_n
    if th > t_end:
        return False, t, EV_ARRIVAL, 0, 0, heap_n
    kind = sv.heap_i[_u(H_KIND)]
    ea = sv.heap_i[_u(H_A)]
    eb = sv.heap_i[_u(H_B)]
    heap_n -= 1
    _sift_root(sv.heap_t, sv.heap_i, heap_n)
    return True, th, kind, ea, eb, heap_n


@njit(cache=True, inline="always", error_model="numpy")
def _stream_arrival(
    sv: KernelState, arrivals: ArrivalStreams, a: int, t: float
) -> tuple[int, int, int, int]:
    """An arrival of stream `a`: its batch size drawn and the stream's next arrival scheduled.
    Returns (station, class, batch size, the stream due first now)."""
    size = 1
    blo = arrivals.batch_ptr[_u(a)]
    bhi = arrivals.batch_ptr[_u(a + 1)]
    if bhi > blo:
        u = rng.uniform(sv.rstate)
        size = arrivals.batch_sizes[bhi - 1]
        for j in range(blo, bhi):
            if u < arrivals.batch_cum[j]:
                size = arrivals.batch_sizes[j]
                break
    arr_next = sv.arr_next
    arr_next[_u(a)] = next_arrival_time(sv.rstate, t, a, arrivals)
    best_a = 0
    for ja in range(1, arr_next.shape[0]):
        if arr_next[_u(ja)] < arr_next[_u(best_a)]:
            best_a = ja
    return arrivals.station[_u(a)], arrivals.klass[_u(a)], size, best_a


@njit(cache=True, inline="always", error_model="numpy")
def _arrive(
    net: KernelNetwork,
    sv: KernelState,
    kind: int,
    ea: int,
    t: float,
    free_n: int,
    next_id: int,
    arr_min: int,
) -> tuple[int, int, int, int]:
    """An arrival (stream `ea`) or injection (row `ea`): its customers take free slots and wait to
    enter their station. Returns (customers entering, free_n, next_id, arr_min)."""
    if kind == EV_ARRIVAL:
        s, cls, size, arr_min = _stream_arrival(sv, net.arrivals, ea, t)
    else:
        s = sv.injections[_u(ea * 3 + 0)]
        cls = sv.injections[_u(ea * 3 + 1)]
        size = sv.injections[_u(ea * 3 + 2)]
    cust_i = sv.cust_i
    n_entering = 0
    for _ in range(size):
        free_n -= 1
        c = sv.free[_u(free_n)]
        cust_i[_u(c * N_CUST_I + C_CLASS)] = cls
        cust_i[_u(c * N_CUST_I + C_ID)] = next_id
        next_id += 1
        cust_i[_u(c * N_CUST_I + C_STATE)] = STATE_WAITING
        sv.cust_f[_u(c * N_CUST_F + C_BORN)] = t
        sv.cl_n[_u(cls)] += 1
        sv.entering_c[_u(n_entering)] = c
        sv.entering_s[_u(n_entering)] = s
        n_entering += 1
    return n_entering, free_n, next_id, arr_min


@njit(cache=True, inline="always", error_model="numpy")
def _route(net: KernelNetwork, sv: KernelState, dims: Dims, cls: int, s: int) -> int:
    """The next station of a class-`cls` customer served at `s`: the first cumulative
    probability above a uniform; -1 (none) means it leaves the network."""
    n_st = dims.n_st
    dest = -1
    if net.route_cum[_u((cls * n_st + s) * n_st + n_st - 1)] > 0.0:
        u = rng.uniform(sv.rstate)
        for j in range(n_st):
            if u < net.route_cum[_u((cls * n_st + s) * n_st + j)]:
                dest = j
                break
    return dest


@njit(cache=True, inline="always", error_model="numpy")
def _free_slot(sv: KernelState, c: int, free_n: int) -> int:
    sv.cust_i[_u(c * N_CUST_I + C_STATE)] = STATE_FREE
    sv.free[_u(free_n)] = c
    return free_n + 1


@njit(cache=True, inline="always", error_model="numpy")
def _end_service(
    net: KernelNetwork,
    sv: KernelState,
    dims: Dims,
    c: int,
    p: int,
    t: float,
    free_n: int,
    recording: bool,
) -> tuple[int, int]:
    """Customer `c` ends its service by pool `p`: the pool looks at its queues next, and the
    customer is routed on or leaves. Returns (customers entering, free_n)."""
    n_cls, cust_i, cust_f = dims.n_cls, sv.cust_i, sv.cust_f
    s = cust_i[_u(c * N_CUST_I + C_STATION)]
    cls = cust_i[_u(c * N_CUST_I + C_CLASS)]
    sv.st_stat[_u(s * N_ST + ST_AREA_PRESENT)] += t
    sv.st_n[_u(s * 2 + N_SERVING)] -= 1
    sv.sc_n[_u((s * n_cls + cls) * 2 + N_SERVING)] -= 1
    sv.pool_stat[_u(p * N_PS + PS_AREA_BUSY)] += t
    sv.pool_n[_u(p * 2 + P_BUSY)] -= 1
    sv.sc_stat[_u((s * n_cls + cls) * N_SC + SC_SUM_SOJOURN)] += (
        t - cust_f[_u(c * N_CUST_F + C_JOIN)]
    )
    if recording:
        r = cust_i[_u(c * N_CUST_I + C_RECORD)]
        sv.rec_f[_u(r * 3 + R_END)] = t
        sv.rec_i[_u(r * N_REC_I + R_OUTCOME)] = OUT_SERVED
    sv.pending_pools[_u(0)] = p
    dest = _route(net, sv, dims, cls, s)
    if dest >= 0:
        cust_i[_u(c * N_CUST_I + C_STATE)] = STATE_WAITING
        sv.entering_c[_u(0)] = c
        sv.entering_s[_u(0)] = dest
        return 1, free_n
    soj = t - cust_f[_u(c * N_CUST_F + C_BORN)]
    sv.cl_stat[_u(cls * N_CL + CL_EXITED)] += 1.0
    sv.cl_stat[_u(cls * N_CL + CL_SUM_SOJOURN)] += soj
    sv.cl_n[_u(cls)] -= 1
    return 0, _free_slot(sv, c, free_n)


@njit(cache=True, inline="always", error_model="numpy")
def _unlink(sv: KernelState, dims: Dims, c: int, s: int, rk: int) -> None:
    """Take waiting customer `c` out of its line (station `s`, rank `rk`) in constant time."""
    cust_i, queue_ends, n_prio = sv.cust_i, sv.queue_ends, dims.n_prio
    prv = cust_i[_u(c * N_CUST_I + C_PREV)]
    nxt_c = cust_i[_u(c * N_CUST_I + C_NEXT)]
    if prv >= 0:
        cust_i[_u(prv * N_CUST_I + C_NEXT)] = nxt_c
    else:
        queue_ends[_u((s * n_prio + rk) * 2 + 0)] = nxt_c
    if nxt_c >= 0:
        cust_i[_u(nxt_c * N_CUST_I + C_PREV)] = prv
    else:
        queue_ends[_u((s * n_prio + rk) * 2 + 1)] = prv


@njit(cache=True, inline="always", error_model="numpy")
def _abandon(
    net: KernelNetwork,
    sv: KernelState,
    dims: Dims,
    c: int,
    token: int,
    t: float,
    free_n: int,
    recording: bool,
) -> int:
    """Customer `c` runs out of patience, unless its wait with `token` has already ended.
    Returns free_n."""
    n_cls, cust_i = dims.n_cls, sv.cust_i
    if not (
        cust_i[_u(c * N_CUST_I + C_STATE)] == STATE_WAITING
        and cust_i[_u(c * N_CUST_I + C_TOKEN)] == token
    ):
        return free_n
    s = cust_i[_u(c * N_CUST_I + C_STATION)]
    cls = cust_i[_u(c * N_CUST_I + C_CLASS)]
    _unlink(sv, dims, c, s, net.class_rank[_u(cls)])
    sv.st_stat[_u(s * N_ST + ST_AREA_WAITING)] += t
    sv.st_stat[_u(s * N_ST + ST_AREA_PRESENT)] += t
    sv.st_n[_u(s * 2 + N_WAITING)] -= 1
    sv.sc_n[_u((s * n_cls + cls) * 2 + N_WAITING)] -= 1
    waited = t - sv.cust_f[_u(c * N_CUST_F + C_JOIN)]
    sv.sc_stat[_u((s * n_cls + cls) * N_SC + SC_ABANDONED)] += 1.0
    sv.sc_stat[_u((s * n_cls + cls) * N_SC + SC_SUM_ABANDON_WAIT)] += waited
    sv.cl_stat[_u(cls * N_CL + CL_ABANDONED)] += 1.0
    sv.cl_n[_u(cls)] -= 1
    if recording:
        r = cust_i[_u(c * N_CUST_I + C_RECORD)]
        sv.rec_f[_u(r * 3 + R_END)] = t
        sv.rec_i[_u(r * N_REC_I + R_OUTCOME)] = OUT_ABANDONED
    free_n = _free_slot(sv, c, free_n)
    cust_i[_u(c * N_CUST_I + C_TOKEN)] = -1
    return free_n


@njit(cache=True, inline="always", error_model="numpy")
def _change_headcount(
    net: KernelNetwork,
    sv: KernelState,
    kind: int,
    ea: int,
    eb: int,
    t: float,
    heap_n: int,
    seq: int,
) -> tuple[int, int]:
    """A pool's headcount changes: row `ea` of the schedule (which schedules its next row), or
    pool `ea` to `eb`. The pool looks at its queues next. Returns (heap_n, seq)."""
    if kind == EV_SCHEDULE:
        p = net.sched_pool[ea]
        count = net.sched_count[ea]
        if ea + 1 < net.sched_time.shape[0]:
            nxt_t = net.sched_time[ea + 1]
            _push_at(sv.heap_t, sv.heap_i, heap_n, seq, nxt_t, EV_SCHEDULE, ea + 1, 0)
            heap_n += 1
            seq += 1
    else:
        p = ea
        count = eb
    sv.pool_stat[_u(p * N_PS + PS_AREA_HEADCOUNT)] += (
        sv.pool_n[_u(p * 2 + P_HEADCOUNT)] - count
    ) * t
    sv.pool_n[_u(p * 2 + P_HEADCOUNT)] = count
    sv.pending_pools[_u(0)] = p
    return heap_n, seq


@njit(cache=True, inline="always", error_model="numpy")
def _best_waiting(net: KernelNetwork, sv: KernelState, dims: Dims, p: int) -> tuple[int, int]:
    """The best customer waiting for pool `p` among the stations it serves: lowest priority rank
    first, then the earliest to join its queue. Returns (customer or -1, its rank)."""
    n_prio, queue_ends, cust_f = dims.n_prio, sv.queue_ends, sv.cust_f
    best = -1
    best_rank = n_prio
    best_join = math.inf
    for jp in range(net.pool_station_ptr[_u(p)], net.pool_station_ptr[_u(p + 1)]):
        s2 = net.pool_station_idx[_u(jp)]
        if sv.st_n[_u(s2 * 2 + N_WAITING)] == 0:
            continue
        for rk in range(min(best_rank + 1, n_prio)):
            head = queue_ends[_u((s2 * n_prio + rk) * 2 + 0)]
            if head >= 0:
                if rk < best_rank or cust_f[_u(head * N_CUST_F + C_JOIN)] < best_join:
                    best = head
                    best_rank = rk
                    best_join = cust_f[_u(head * N_CUST_F + C_JOIN)]
                break
    return best, best_rank


@njit(cache=True, inline="always", error_model="numpy")
def _take_head(sv: KernelState, dims: Dims, c: int, rank: int, t: float) -> int:
    """Take customer `c`, the head of its line of `rank`, from waiting to serving; its station."""
    n_prio, n_cls, cust_i, queue_ends = dims.n_prio, dims.n_cls, sv.cust_i, sv.queue_ends
    s = cust_i[_u(c * N_CUST_I + C_STATION)]
    nxt_c = cust_i[_u(c * N_CUST_I + C_NEXT)]
    queue_ends[_u((s * n_prio + rank) * 2 + 0)] = nxt_c
    if nxt_c >= 0:
        cust_i[_u(nxt_c * N_CUST_I + C_PREV)] = -1
    else:
        queue_ends[_u((s * n_prio + rank) * 2 + 1)] = -1
    sv.st_stat[_u(s * N_ST + ST_AREA_WAITING)] += t
    sv.st_n[_u(s * 2 + N_WAITING)] -= 1
    sv.st_n[_u(s * 2 + N_SERVING)] += 1
    cls = cust_i[_u(c * N_CUST_I + C_CLASS)]
    sv.sc_n[_u((s * n_cls + cls) * 2 + N_WAITING)] -= 1
    sv.sc_n[_u((s * n_cls + cls) * 2 + N_SERVING)] += 1
    return s


@njit(cache=True, inline="always", error_model="numpy")
def _serve_pending_pools(
    net: KernelNetwork,
    sv: KernelState,
    dims: Dims,
    n_pending: int,
    t: float,
    heap_n: int,
    seq: int,
    recording: bool,
) -> tuple[int, int]:
    """Freed or added servers take the best waiting customers. Returns (heap_n, seq)."""
    pool_n = sv.pool_n
    for ip in range(n_pending):
        p = sv.pending_pools[_u(ip)]
        while pool_n[_u(p * 2 + P_BUSY)] < pool_n[_u(p * 2 + P_HEADCOUNT)]:
            c, rank = _best_waiting(net, sv, dims, p)
            if c < 0:
                break
            s = _take_head(sv, dims, c, rank, t)
            _start_service(net, sv, dims, c, s, p, t, heap_n, seq, recording, QUEUED)
            heap_n += 1
            seq += 1
    return heap_n, seq


@njit(cache=True, inline="always", error_model="numpy")
def _open_record(sv: KernelState, c: int, cls: int, s: int, t: float, r: int) -> None:
    """Record `r`: customer `c` of class `cls` arrives at station `s` at `t`."""
    rec_f, rec_i = sv.rec_f, sv.rec_i
    rec_f[_u(r * 3 + R_ARRIVE)] = t
    rec_f[_u(r * 3 + R_START)] = math.nan
    rec_f[_u(r * 3 + R_END)] = math.nan
    rec_i[_u(r * N_REC_I + R_CUSTOMER)] = sv.cust_i[_u(c * N_CUST_I + C_ID)]
    rec_i[_u(r * N_REC_I + R_CLASS)] = cls
    rec_i[_u(r * N_REC_I + R_STATION)] = s
    rec_i[_u(r * N_REC_I + R_OUTCOME)] = OUT_PRESENT
    rec_i[_u(r * N_REC_I + R_POOL)] = -1
    sv.cust_i[_u(c * N_CUST_I + C_RECORD)] = r


@njit(cache=True, inline="always", error_model="numpy")
def _block(
    sv: KernelState, dims: Dims, c: int, cls: int, s: int, t: float, r: int, recording: bool
) -> None:
    """Customer `c` finds station `s` full and leaves the network."""
    sv.sc_stat[_u((s * dims.n_cls + cls) * N_SC + SC_BLOCKED)] += 1.0
    sv.cl_stat[_u(cls * N_CL + CL_BLOCKED)] += 1.0
    sv.cl_n[_u(cls)] -= 1
    if recording:
        sv.rec_f[_u(r * 3 + R_END)] = t
        sv.rec_i[_u(r * N_REC_I + R_OUTCOME)] = OUT_BLOCKED


@njit(cache=True, inline="always", error_model="numpy")
def _free_server(net: KernelNetwork, sv: KernelState, s: int) -> int:
    """The fastest pool serving station `s` with a free server, or -1."""
    for jp in range(net.station_pool_ptr[_u(s)], net.station_pool_ptr[_u(s + 1)]):
        p = net.station_pool_idx[_u(jp)]
        if sv.pool_n[_u(p * 2 + P_BUSY)] < sv.pool_n[_u(p * 2 + P_HEADCOUNT)]:
            return p
    return -1


@njit(cache=True, inline="always", error_model="numpy")
def _join_queue(
    net: KernelNetwork,
    sv: KernelState,
    dims: Dims,
    c: int,
    cls: int,
    s: int,
    t: float,
    heap_n: int,
    seq: int,
    token_n: int,
) -> tuple[int, int, int]:
    """Customer `c` joins the tail of its line at `s`, with an abandonment clock where patience
    applies. Returns (heap_n, seq, token_n)."""
    n_prio, cust_i, queue_ends = dims.n_prio, sv.cust_i, sv.queue_ends
    rk = net.class_rank[_u(cls)]
    tail = queue_ends[_u((s * n_prio + rk) * 2 + 1)]
    cust_i[_u(c * N_CUST_I + C_PREV)] = tail
    cust_i[_u(c * N_CUST_I + C_NEXT)] = -1
    if tail >= 0:
        cust_i[_u(tail * N_CUST_I + C_NEXT)] = c
    else:
        queue_ends[_u((s * n_prio + rk) * 2 + 0)] = c
    queue_ends[_u((s * n_prio + rk) * 2 + 1)] = c
    sv.st_stat[_u(s * N_ST + ST_AREA_WAITING)] -= t
    sv.st_n[_u(s * 2 + N_WAITING)] += 1
    sv.sc_n[_u((s * dims.n_cls + cls) * 2 + N_WAITING)] += 1
    cust_i[_u(c * N_CUST_I + C_STATE)] = STATE_WAITING
    cust_i[_u(c * N_CUST_I + C_TOKEN)] = -1
    d = net.patience_dist[_u(cls)]
    if d >= 0 and net.station_abandons[_u(s)] == 1:
        token = token_n
        token_n += 1
        cust_i[_u(c * N_CUST_I + C_TOKEN)] = token
        patience = sample(sv.rstate, d, net.dists)
        _push_at(sv.heap_t, sv.heap_i, heap_n, seq, t + patience, EV_ABANDON, c, token)
        heap_n += 1
        seq += 1
    return heap_n, seq, token_n


@njit(cache=True, inline="always", error_model="numpy")
def _enter_stations(
    net: KernelNetwork,
    sv: KernelState,
    dims: Dims,
    n_entering: int,
    t: float,
    counters: tuple[int, int, int, int, int],
    recording: bool,
) -> tuple[int, int, int, int, int]:
    """Customers entering a station: blocked if full, served at once by the fastest free pool,
    otherwise queued. `counters` and the result: (heap_n, seq, free_n, n_rec, token_n)."""
    heap_n, seq, free_n, n_rec, token_n = counters
    for ie in range(n_entering):
        c = sv.entering_c[_u(ie)]
        s = sv.entering_s[_u(ie)]
        cls = sv.cust_i[_u(c * N_CUST_I + C_CLASS)]
        sv.cust_i[_u(c * N_CUST_I + C_STATION)] = s
        sv.cust_f[_u(c * N_CUST_F + C_JOIN)] = t
        r = -1
        if recording:
            r = n_rec
            n_rec += 1
            _open_record(sv, c, cls, s, t, r)
        if (
            sv.st_n[_u(s * 2 + N_WAITING)] + sv.st_n[_u(s * 2 + N_SERVING)]
            >= net.station_capacity[_u(s)]
        ):
            _block(sv, dims, c, cls, s, t, r, recording)
            free_n = _free_slot(sv, c, free_n)
            continue
        sv.st_stat[_u(s * N_ST + ST_AREA_PRESENT)] -= t
        server = _free_server(net, sv, s)
        if server >= 0:
            sv.st_n[_u(s * 2 + N_SERVING)] += 1
            sv.sc_n[_u((s * dims.n_cls + cls) * 2 + N_SERVING)] += 1
            _start_service(net, sv, dims, c, s, server, t, heap_n, seq, recording, NOT_QUEUED)
            heap_n += 1
            seq += 1
            continue
        heap_n, seq, token_n = _join_queue(net, sv, dims, c, cls, s, t, heap_n, seq, token_n)
    return heap_n, seq, free_n, n_rec, token_n


@njit(cache=True, inline="always", error_model="numpy")
def _start_service(
    net: KernelNetwork,
    sv: KernelState,
    dims: Dims,
    c: int,
    s: int,
    p: int,
    t: float,
    heap_n: int,
    seq: int,
    recording: bool,
    queued: bool,
) -> None:
    """Pool `p` starts serving customer `c` at station `s`; its end goes into the heap at
    `heap_n` with sequence number `seq` (the caller counts both up)."""
    n_cls, cust_i, sc_stat = dims.n_cls, sv.cust_i, sv.sc_stat
    cls = cust_i[_u(c * N_CUST_I + C_CLASS)]
    sv.pool_stat[_u(p * N_PS + PS_AREA_BUSY)] -= t
    sv.pool_n[_u(p * 2 + P_BUSY)] += 1
    sc_stat[_u((s * n_cls + cls) * N_SC + SC_STARTED)] += 1.0
    if queued:
        # A customer served on entering joined at t: its wait is exactly zero, nothing to add.
        waited = t - sv.cust_f[_u(c * N_CUST_F + C_JOIN)]
        sc_stat[_u((s * n_cls + cls) * N_SC + SC_SUM_WAIT)] += waited
        sc_stat[_u((s * n_cls + cls) * N_SC + SC_DELAYED)] += 1.0 if waited > 0.0 else 0.0
    cust_i[_u(c * N_CUST_I + C_STATE)] = STATE_SERVING
    cust_i[_u(c * N_CUST_I + C_TOKEN)] = -1
    duration = (
        sample(sv.rstate, net.service_dist[_u(cls * dims.n_st + s)], net.dists)
        * net.time_factor[_u(p * dims.n_st + s)]
    )
    sc_stat[_u((s * n_cls + cls) * N_SC + SC_SUM_SERVICE)] += duration
    if recording:
        r = cust_i[_u(c * N_CUST_I + C_RECORD)]
        sv.rec_f[_u(r * 3 + R_START)] = t
        sv.rec_i[_u(r * N_REC_I + R_POOL)] = p
    _push_at(sv.heap_t, sv.heap_i, heap_n, seq, t + duration, EV_SERVICE_END, c, p)


# ---------------------------------------------------------------- the event loop


# Numba's option for compiling without its reference-counting runtime (not in its type stubs).
_NO_REFERENCE_COUNTING: dict[str, Any] = {"_nrt": False}


def _make_advance(recording: bool) -> Callable[[KernelNetwork, KernelState, float], int]:
    """The event loop, compiled separately with and without records.

    `recording` is a constant of each compiled loop, so the streaming one carries no record
    code at all (which measurably frees registers in this long loop).
    """

    # No reference counting (`_nrt=False`): the loop allocates nothing and the caller holds every
    # array for the call, while counting each array taken from a bundle at every event would
    # make the loop tens of times slower.
    @njit(cache=True, error_model="numpy", **_NO_REFERENCE_COUNTING)
    def advance(net: KernelNetwork, sv: KernelState, t_end: float) -> int:
        """Process every event up to `t_end`; NEED_ROOM (state saved) when an array is nearly
        full, DONE with the clock at `t_end` otherwise."""
        ctr = sv.ctr
        n_st = net.station_capacity.shape[0]
        dims = Dims(n_st, sv.cl_n.shape[0], sv.queue_ends.shape[0] // (2 * n_st))
        heap_n = ctr[K_HEAP]
        seq = ctr[K_SEQ]
        free_n = ctr[K_FREE]
        next_id = ctr[K_NEXT_ID]
        n_rec = ctr[K_RECORDS]
        token_n = ctr[K_TOKEN]
        arr_min = ctr[K_ARR_MIN]
        # Loop invariants read once: ctr may alias the arrays written below, so a read inside
        # the loop would be repeated at every event.
        margin = ctr[K_MARGIN]
        t = sv.clock[0]
        while True:
            if (
                heap_n + margin + 4 > sv.heap_t.shape[0]
                or free_n < margin + 2
                or (recording and n_rec + margin + 2 > sv.rec_f.shape[0] // 3)
            ):
                _save_counters(ctr, heap_n, seq, free_n, next_id, n_rec, token_n, arr_min)
                sv.clock[0] = t
                return NEED_ROOM
            due, t_next, kind, ea, eb, heap_n = _next_event(sv, arr_min, heap_n, t, t_end)
            if not due:
                break
            t = t_next
            n_entering = 0
            n_pending = 0
            if kind in (EV_ARRIVAL, EV_INJECT):
                n_entering, free_n, next_id, arr_min = _arrive(
                    net, sv, kind, ea, t, free_n, next_id, arr_min
                )
            elif kind == EV_SERVICE_END:
                n_entering, free_n = _end_service(net, sv, dims, ea, eb, t, free_n, recording)
                n_pending = 1
            elif kind == EV_ABANDON:
                free_n = _abandon(net, sv, dims, ea, eb, t, free_n, recording)
            else:  # EV_SCHEDULE or EV_HEADCOUNT
                heap_n, seq = _change_headcount(net, sv, kind, ea, eb, t, heap_n, seq)
                n_pending = 1
            heap_n, seq = _serve_pending_pools(net, sv, dims, n_pending, t, heap_n, seq, recording)
            heap_n, seq, free_n, n_rec, token_n = _enter_stations(
                net, sv, dims, n_entering, t, (heap_n, seq, free_n, n_rec, token_n), recording
            )

        sv.clock[0] = t_end
        _save_counters(ctr, heap_n, seq, free_n, next_id, n_rec, token_n, arr_min)
        return DONE

    return advance


advance_streaming = _make_advance(False)
advance_recording = _make_advance(True)
