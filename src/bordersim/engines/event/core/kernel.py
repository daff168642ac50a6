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
def sample(
    state: np.ndarray,
    d: int,
    dist_code: np.ndarray,
    dist_p1: np.ndarray,
    dist_p2: np.ndarray,
    dist_offset: np.ndarray,
    dist_length: np.ndarray,
    empirical_values: np.ndarray,
) -> float:
    code = dist_code[_u(d)]
    if code == EXPONENTIAL:
        return ziggurat.exponential(state, dist_p1[_u(d)])
    if code == DETERMINISTIC:
        return dist_p1[_u(d)]
    if code == LOGNORMAL:
        return math.exp(dist_p1[_u(d)] + dist_p2[_u(d)] * rng.standard_normal(state))
    if code == GAMMA:
        return rng.standard_gamma(state, dist_p1[_u(d)]) * dist_p2[_u(d)]
    if code == EMPIRICAL:
        k = int(rng.uniform(state) * dist_length[d])
        return empirical_values[dist_offset[d] + k]
    return math.nan


@njit(cache=True, inline="always", error_model="numpy")
def _piece_rate_and_end(
    piece: int,
    a: int,
    lo: int,
    m: int,
    arr_rates: np.ndarray,
    arr_period: np.ndarray,
    arr_cyclic: np.ndarray,
) -> tuple[float, float]:
    """The rate of a profile's piece and the time it ends (infinity for a last piece that holds)."""
    period = arr_period[_u(a)]
    if arr_cyclic[_u(a)] == 1:
        return arr_rates[lo + piece % m], (piece + 1) * period
    if piece >= m - 1:
        return arr_rates[lo + m - 1], math.inf
    return arr_rates[lo + piece], (piece + 1) * period


# A cyclic stream whose next arrival lies more than this many cycles ahead never arrives within
# any horizon a float clock can reach (and the piece index would overflow).
_MAX_CYCLES_SKIPPED = 2.0**40


@njit(cache=True, inline="always", error_model="numpy")
def next_arrival_time(
    state: np.ndarray,
    t: float,
    a: int,
    arr_rate_ptr: np.ndarray,
    arr_rates: np.ndarray,
    arr_period: np.ndarray,
    arr_cyclic: np.ndarray,
) -> float:
    """Next epoch after `t` of a Poisson stream with piecewise-constant rate.

    Exact, by inverting the cumulative rate: one unit exponential is spent along the profile from
    `t`. Whole cycles are skipped at once, so that a profile whose rate is tiny but positive costs
    one cycle's walk, not one loop per piece until its arrival (a rate of 1e-300 would never end).
    """
    lo = arr_rate_ptr[_u(a)]
    m = arr_rate_ptr[_u(a + 1)] - lo
    if m == 1:
        rate = arr_rates[_u(lo)]
        return t + ziggurat.standard_exponential(state) / rate if rate > 0.0 else math.inf
    period = arr_period[_u(a)]
    cycle_mass = 0.0
    for j in range(lo, lo + m):
        cycle_mass += arr_rates[_u(j)] * period
    cyclic = arr_cyclic[_u(a)] == 1
    if cyclic and cycle_mass <= 0.0:
        return math.inf  # zero everywhere it will ever be
    if not cyclic and arr_rates[lo + m - 1] <= 0.0 and t >= (m - 1) * period:
        return math.inf
    remaining = ziggurat.standard_exponential(state)
    # The piece index is carried as an integer: recomputing it from a boundary time could round
    # down to the piece just left.
    piece = math.floor(t / period)
    walked = 0
    while True:
        rate, end = _piece_rate_and_end(piece, a, lo, m, arr_rates, arr_period, arr_cyclic)
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


# ---------------------------------------------------------------- the event loop


def _make_advance(recording: bool) -> Callable[..., int]:
    """The event loop, compiled separately with and without records.

    `recording` is a constant of each compiled loop, so the streaming one carries no record
    code at all (which measurably frees registers in this long loop).
    """

    @njit(cache=True, error_model="numpy")
    def advance(
        # network
        station_capacity: np.ndarray,
        station_abandons: np.ndarray,
        station_pool_ptr: np.ndarray,
        station_pool_idx: np.ndarray,
        pool_station_ptr: np.ndarray,
        pool_station_idx: np.ndarray,
        time_factor: np.ndarray,
        service_dist: np.ndarray,
        class_rank: np.ndarray,
        patience_dist: np.ndarray,
        route_cum: np.ndarray,
        dist_code: np.ndarray,
        dist_p1: np.ndarray,
        dist_p2: np.ndarray,
        dist_offset: np.ndarray,
        dist_length: np.ndarray,
        empirical_values: np.ndarray,
        arr_station: np.ndarray,
        arr_class: np.ndarray,
        arr_rate_ptr: np.ndarray,
        arr_rates: np.ndarray,
        arr_period: np.ndarray,
        arr_cyclic: np.ndarray,
        arr_batch_ptr: np.ndarray,
        batch_sizes: np.ndarray,
        batch_cum: np.ndarray,
        sched_time: np.ndarray,
        sched_pool: np.ndarray,
        sched_count: np.ndarray,
        # state
        rstate: np.ndarray,
        clock: np.ndarray,
        ctr: np.ndarray,
        heap_t: np.ndarray,
        heap_i: np.ndarray,
        cust_i: np.ndarray,
        cust_f: np.ndarray,
        free: np.ndarray,
        queue_ends: np.ndarray,
        st_n: np.ndarray,
        sc_n: np.ndarray,
        pool_n: np.ndarray,
        sc_stat: np.ndarray,
        st_stat: np.ndarray,
        pool_stat: np.ndarray,
        cl_stat: np.ndarray,
        cl_n: np.ndarray,
        rec_f: np.ndarray,
        rec_i: np.ndarray,
        injections: np.ndarray,
        entering_c: np.ndarray,
        entering_s: np.ndarray,
        pending_pools: np.ndarray,
        arr_next: np.ndarray,
        t_end: float,
    ) -> int:
        # Multi-dimensional state is passed flat (C order) so that row widths are compile-time
        # constants: indexing needs no stride loads, which this register-starved loop would spill.
        n_st = station_capacity.shape[0]
        n_cls = cl_n.shape[0]
        n_prio = queue_ends.shape[0] // (2 * n_st)
        heap_n = ctr[K_HEAP]
        seq = ctr[K_SEQ]
        free_n = ctr[K_FREE]
        next_id = ctr[K_NEXT_ID]
        n_rec = ctr[K_RECORDS]
        token_n = ctr[K_TOKEN]
        arr_min = ctr[K_ARR_MIN]
        # Customers waiting to enter a station, and pools that may start a service, are handled
        # after the event that produced them: freed servers look at the queues before a routed
        # customer joins its next one (so it never overtakes customers already waiting there).
        # (entering_c, entering_s: as long as the customer arrays; pending_pools: one per pool.)

        # Loop invariants read once: ctr may alias the arrays written below, so a read inside
        # the loop would be repeated at every event.
        margin = ctr[K_MARGIN]
        t = clock[0]
        while True:
            if (
                heap_n + margin + 4 > heap_t.shape[0]
                or free_n < margin + 2
                or (recording and n_rec + margin + 2 > rec_f.shape[0] // 3)
            ):
                ctr[K_HEAP] = heap_n
                ctr[K_SEQ] = seq
                ctr[K_FREE] = free_n
                ctr[K_NEXT_ID] = next_id
                ctr[K_RECORDS] = n_rec
                ctr[K_TOKEN] = token_n
                ctr[K_ARR_MIN] = arr_min
                clock[0] = t
                return NEED_ROOM
            am = arr_min
            ta = arr_next[_u(am)] if am >= 0 else math.inf
            th = heap_t[_u(0)] if heap_n > 0 else math.inf
            if ta < th:
                if ta > t_end:
                    break
                t = ta
                kind = EV_ARRIVAL
                ea = am
                eb = 0
            else:
                if th > t_end:
                    break
                t = th
                kind = heap_i[_u(H_KIND)]
                ea = heap_i[_u(H_A)]
                eb = heap_i[_u(H_B)]
                heap_n -= 1
                _sift_root(heap_t, heap_i, heap_n)
            n_entering = 0
            n_pending = 0

            if kind in (EV_ARRIVAL, EV_INJECT):
                if kind == EV_ARRIVAL:
                    s = arr_station[_u(ea)]
                    cls = arr_class[_u(ea)]
                    size = 1
                    blo = arr_batch_ptr[_u(ea)]
                    bhi = arr_batch_ptr[_u(ea + 1)]
                    if bhi > blo:
                        u = rng.uniform(rstate)
                        size = batch_sizes[bhi - 1]
                        for j in range(blo, bhi):
                            if u < batch_cum[j]:
                                size = batch_sizes[j]
                                break
                    nxt = next_arrival_time(
                        rstate, t, ea, arr_rate_ptr, arr_rates, arr_period, arr_cyclic
                    )
                    arr_next[_u(ea)] = nxt
                    best_a = 0
                    for ja in range(1, arr_next.shape[0]):
                        if arr_next[_u(ja)] < arr_next[_u(best_a)]:
                            best_a = ja
                    arr_min = best_a
                else:
                    s = injections[_u(ea * 3 + 0)]
                    cls = injections[_u(ea * 3 + 1)]
                    size = injections[_u(ea * 3 + 2)]
                for _ in range(size):
                    free_n -= 1
                    c = free[_u(free_n)]
                    cust_i[_u(c * N_CUST_I + C_CLASS)] = cls
                    cust_i[_u(c * N_CUST_I + C_ID)] = next_id
                    next_id += 1
                    cust_i[_u(c * N_CUST_I + C_STATE)] = STATE_WAITING
                    cust_f[_u(c * N_CUST_F + C_BORN)] = t
                    cl_n[_u(cls)] += 1
                    entering_c[_u(n_entering)] = c
                    entering_s[_u(n_entering)] = s
                    n_entering += 1

            elif kind == EV_SERVICE_END:
                c = ea
                p = eb
                s = cust_i[_u(c * N_CUST_I + C_STATION)]
                cls = cust_i[_u(c * N_CUST_I + C_CLASS)]
                st_stat[_u(s * N_ST + ST_AREA_PRESENT)] += t
                st_n[_u(s * 2 + N_SERVING)] -= 1
                sc_n[_u((s * n_cls + cls) * 2 + N_SERVING)] -= 1
                pool_stat[_u(p * N_PS + PS_AREA_BUSY)] += t
                pool_n[_u(p * 2 + P_BUSY)] -= 1
                sc_stat[_u((s * n_cls + cls) * N_SC + SC_SUM_SOJOURN)] += (
                    t - cust_f[_u(c * N_CUST_F + C_JOIN)]
                )
                if recording:
                    r = cust_i[_u(c * N_CUST_I + C_RECORD)]
                    rec_f[_u(r * 3 + R_END)] = t
                    rec_i[_u(r * N_REC_I + R_OUTCOME)] = OUT_SERVED
                pending_pools[_u(0)] = p
                n_pending = 1
                # Routing: the first cumulative probability above u; none means exit.
                dest = -1
                n_dest = n_st
                if route_cum[_u((cls * n_st + s) * n_st + n_dest - 1)] > 0.0:
                    u = rng.uniform(rstate)
                    for j in range(n_dest):
                        if u < route_cum[_u((cls * n_st + s) * n_st + j)]:
                            dest = j
                            break
                if dest >= 0:
                    cust_i[_u(c * N_CUST_I + C_STATE)] = STATE_WAITING
                    entering_c[_u(0)] = c
                    entering_s[_u(0)] = dest
                    n_entering = 1
                else:
                    soj = t - cust_f[_u(c * N_CUST_F + C_BORN)]
                    cl_stat[_u(cls * N_CL + CL_EXITED)] += 1.0
                    cl_stat[_u(cls * N_CL + CL_SUM_SOJOURN)] += soj
                    cl_n[_u(cls)] -= 1
                    cust_i[_u(c * N_CUST_I + C_STATE)] = STATE_FREE
                    free[_u(free_n)] = c
                    free_n += 1

            elif kind == EV_ABANDON:
                c = ea
                if (
                    cust_i[_u(c * N_CUST_I + C_STATE)] == STATE_WAITING
                    and cust_i[_u(c * N_CUST_I + C_TOKEN)] == eb
                ):
                    s = cust_i[_u(c * N_CUST_I + C_STATION)]
                    cls = cust_i[_u(c * N_CUST_I + C_CLASS)]
                    rk = class_rank[_u(cls)]
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
                    st_stat[_u(s * N_ST + ST_AREA_WAITING)] += t
                    st_stat[_u(s * N_ST + ST_AREA_PRESENT)] += t
                    st_n[_u(s * 2 + N_WAITING)] -= 1
                    sc_n[_u((s * n_cls + cls) * 2 + N_WAITING)] -= 1
                    waited = t - cust_f[_u(c * N_CUST_F + C_JOIN)]
                    sc_stat[_u((s * n_cls + cls) * N_SC + SC_ABANDONED)] += 1.0
                    sc_stat[_u((s * n_cls + cls) * N_SC + SC_SUM_ABANDON_WAIT)] += waited
                    cl_stat[_u(cls * N_CL + CL_ABANDONED)] += 1.0
                    cl_n[_u(cls)] -= 1
                    if recording:
                        r = cust_i[_u(c * N_CUST_I + C_RECORD)]
                        rec_f[_u(r * 3 + R_END)] = t
                        rec_i[_u(r * N_REC_I + R_OUTCOME)] = OUT_ABANDONED
                    cust_i[_u(c * N_CUST_I + C_STATE)] = STATE_FREE
                    cust_i[_u(c * N_CUST_I + C_TOKEN)] = -1
                    free[_u(free_n)] = c
                    free_n += 1

            else:  # EV_SCHEDULE or EV_HEADCOUNT
                if kind == EV_SCHEDULE:
                    p = sched_pool[ea]
                    count = sched_count[ea]
                    if ea + 1 < sched_time.shape[0]:
                        nxt_t = sched_time[ea + 1]
                        _push_at(heap_t, heap_i, heap_n, seq, nxt_t, EV_SCHEDULE, ea + 1, 0)
                        heap_n += 1
                        seq += 1
                else:
                    p = ea
                    count = eb
                pool_stat[_u(p * N_PS + PS_AREA_HEADCOUNT)] += (
                    pool_n[_u(p * 2 + P_HEADCOUNT)] - count
                ) * t
                pool_n[_u(p * 2 + P_HEADCOUNT)] = count
                pending_pools[_u(0)] = p
                n_pending = 1

            # Freed or added servers take the best waiting customer among the stations they serve:
            # lowest priority rank first, then the earliest to join its queue.
            for ip in range(n_pending):
                p = pending_pools[_u(ip)]
                while pool_n[_u(p * 2 + P_BUSY)] < pool_n[_u(p * 2 + P_HEADCOUNT)]:
                    best = -1
                    best_rank = n_prio
                    best_join = math.inf
                    for jp in range(pool_station_ptr[_u(p)], pool_station_ptr[_u(p + 1)]):
                        s2 = pool_station_idx[_u(jp)]
                        if st_n[_u(s2 * 2 + N_WAITING)] == 0:
                            continue
                        for rk in range(min(best_rank + 1, n_prio)):
                            head = queue_ends[_u((s2 * n_prio + rk) * 2 + 0)]
                            if head >= 0:
                                if (
                                    rk < best_rank
                                    or cust_f[_u(head * N_CUST_F + C_JOIN)] < best_join
                                ):
                                    best = head
                                    best_rank = rk
                                    best_join = cust_f[_u(head * N_CUST_F + C_JOIN)]
                                break
                    if best < 0:
                        break
                    c = best
                    s = cust_i[_u(c * N_CUST_I + C_STATION)]
                    nxt_c = cust_i[_u(c * N_CUST_I + C_NEXT)]
                    queue_ends[_u((s * n_prio + best_rank) * 2 + 0)] = nxt_c
                    if nxt_c >= 0:
                        cust_i[_u(nxt_c * N_CUST_I + C_PREV)] = -1
                    else:
                        queue_ends[_u((s * n_prio + best_rank) * 2 + 1)] = -1
                    st_stat[_u(s * N_ST + ST_AREA_WAITING)] += t
                    st_n[_u(s * 2 + N_WAITING)] -= 1
                    st_n[_u(s * 2 + N_SERVING)] += 1
                    cls = cust_i[_u(c * N_CUST_I + C_CLASS)]
                    sc_n[_u((s * n_cls + cls) * 2 + N_WAITING)] -= 1
                    sc_n[_u((s * n_cls + cls) * 2 + N_SERVING)] += 1
                    _start_service(
                        n_st,
                        n_cls,
                        c,
                        s,
                        p,
                        t,
                        rstate,
                        cust_i,
                        cust_f,
                        pool_n,
                        pool_stat,
                        sc_stat,
                        time_factor,
                        service_dist,
                        dist_code,
                        dist_p1,
                        dist_p2,
                        dist_offset,
                        dist_length,
                        empirical_values,
                        heap_t,
                        heap_i,
                        heap_n,
                        seq,
                        rec_f,
                        rec_i,
                        recording,
                        QUEUED,
                    )
                    heap_n += 1
                    seq += 1

            # Customers entering a station: blocked if full, served at once by the fastest free
            # pool, otherwise queued (with an abandonment clock where patience applies).
            for ie in range(n_entering):
                c = entering_c[_u(ie)]
                s = entering_s[_u(ie)]
                cls = cust_i[_u(c * N_CUST_I + C_CLASS)]
                cust_i[_u(c * N_CUST_I + C_STATION)] = s
                cust_f[_u(c * N_CUST_F + C_JOIN)] = t
                r = -1
                if recording:
                    r = n_rec
                    n_rec += 1
                    rec_f[_u(r * 3 + R_ARRIVE)] = t
                    rec_f[_u(r * 3 + R_START)] = math.nan
                    rec_f[_u(r * 3 + R_END)] = math.nan
                    rec_i[_u(r * N_REC_I + R_CUSTOMER)] = cust_i[_u(c * N_CUST_I + C_ID)]
                    rec_i[_u(r * N_REC_I + R_CLASS)] = cls
                    rec_i[_u(r * N_REC_I + R_STATION)] = s
                    rec_i[_u(r * N_REC_I + R_OUTCOME)] = OUT_PRESENT
                    rec_i[_u(r * N_REC_I + R_POOL)] = -1
                if recording:
                    cust_i[_u(c * N_CUST_I + C_RECORD)] = r
                if (
                    st_n[_u(s * 2 + N_WAITING)] + st_n[_u(s * 2 + N_SERVING)]
                    >= station_capacity[_u(s)]
                ):
                    sc_stat[_u((s * n_cls + cls) * N_SC + SC_BLOCKED)] += 1.0
                    cl_stat[_u(cls * N_CL + CL_BLOCKED)] += 1.0
                    cl_n[_u(cls)] -= 1
                    if recording:
                        rec_f[_u(r * 3 + R_END)] = t
                        rec_i[_u(r * N_REC_I + R_OUTCOME)] = OUT_BLOCKED
                    cust_i[_u(c * N_CUST_I + C_STATE)] = STATE_FREE
                    free[_u(free_n)] = c
                    free_n += 1
                    continue
                st_stat[_u(s * N_ST + ST_AREA_PRESENT)] -= t
                server = -1
                for jp in range(station_pool_ptr[_u(s)], station_pool_ptr[_u(s + 1)]):
                    p = station_pool_idx[_u(jp)]
                    if pool_n[_u(p * 2 + P_BUSY)] < pool_n[_u(p * 2 + P_HEADCOUNT)]:
                        server = p
                        break
                if server >= 0:
                    st_n[_u(s * 2 + N_SERVING)] += 1
                    sc_n[_u((s * n_cls + cls) * 2 + N_SERVING)] += 1
                    _start_service(
                        n_st,
                        n_cls,
                        c,
                        s,
                        server,
                        t,
                        rstate,
                        cust_i,
                        cust_f,
                        pool_n,
                        pool_stat,
                        sc_stat,
                        time_factor,
                        service_dist,
                        dist_code,
                        dist_p1,
                        dist_p2,
                        dist_offset,
                        dist_length,
                        empirical_values,
                        heap_t,
                        heap_i,
                        heap_n,
                        seq,
                        rec_f,
                        rec_i,
                        recording,
                        NOT_QUEUED,
                    )
                    heap_n += 1
                    seq += 1
                    continue
                rk = class_rank[_u(cls)]
                tail = queue_ends[_u((s * n_prio + rk) * 2 + 1)]
                cust_i[_u(c * N_CUST_I + C_PREV)] = tail
                cust_i[_u(c * N_CUST_I + C_NEXT)] = -1
                if tail >= 0:
                    cust_i[_u(tail * N_CUST_I + C_NEXT)] = c
                else:
                    queue_ends[_u((s * n_prio + rk) * 2 + 0)] = c
                queue_ends[_u((s * n_prio + rk) * 2 + 1)] = c
                st_stat[_u(s * N_ST + ST_AREA_WAITING)] -= t
                st_n[_u(s * 2 + N_WAITING)] += 1
                sc_n[_u((s * n_cls + cls) * 2 + N_WAITING)] += 1
                cust_i[_u(c * N_CUST_I + C_STATE)] = STATE_WAITING
                cust_i[_u(c * N_CUST_I + C_TOKEN)] = -1
                d = patience_dist[_u(cls)]
                if d >= 0 and station_abandons[_u(s)] == 1:
                    token = token_n
                    token_n += 1
                    cust_i[_u(c * N_CUST_I + C_TOKEN)] = token
                    patience = sample(
                        rstate,
                        d,
                        dist_code,
                        dist_p1,
                        dist_p2,
                        dist_offset,
                        dist_length,
                        empirical_values,
                    )
                    _push_at(heap_t, heap_i, heap_n, seq, t + patience, EV_ABANDON, c, token)
                    heap_n += 1
                    seq += 1

        clock[0] = t_end
        ctr[K_HEAP] = heap_n
        ctr[K_SEQ] = seq
        ctr[K_FREE] = free_n
        ctr[K_NEXT_ID] = next_id
        ctr[K_RECORDS] = n_rec
        ctr[K_TOKEN] = token_n
        ctr[K_ARR_MIN] = arr_min
        return DONE

    return advance


advance_streaming = _make_advance(False)
advance_recording = _make_advance(True)


@njit(cache=True, inline="always", error_model="numpy")
def _start_service(
    n_st: int,
    n_cls: int,
    c: int,
    s: int,
    p: int,
    t: float,
    rstate: np.ndarray,
    cust_i: np.ndarray,
    cust_f: np.ndarray,
    pool_n: np.ndarray,
    pool_stat: np.ndarray,
    sc_stat: np.ndarray,
    time_factor: np.ndarray,
    service_dist: np.ndarray,
    dist_code: np.ndarray,
    dist_p1: np.ndarray,
    dist_p2: np.ndarray,
    dist_offset: np.ndarray,
    dist_length: np.ndarray,
    empirical_values: np.ndarray,
    heap_t: np.ndarray,
    heap_i: np.ndarray,
    heap_n: int,
    seq: int,
    rec_f: np.ndarray,
    rec_i: np.ndarray,
    recording: bool,
    queued: bool,
) -> None:
    cls = cust_i[_u(c * N_CUST_I + C_CLASS)]
    pool_stat[_u(p * N_PS + PS_AREA_BUSY)] -= t
    pool_n[_u(p * 2 + P_BUSY)] += 1
    sc_stat[_u((s * n_cls + cls) * N_SC + SC_STARTED)] += 1.0
    if queued:
        # A customer served on entering joined at t: its wait is exactly zero, nothing to add.
        waited = t - cust_f[_u(c * N_CUST_F + C_JOIN)]
        sc_stat[_u((s * n_cls + cls) * N_SC + SC_SUM_WAIT)] += waited
        sc_stat[_u((s * n_cls + cls) * N_SC + SC_DELAYED)] += 1.0 if waited > 0.0 else 0.0
    cust_i[_u(c * N_CUST_I + C_STATE)] = STATE_SERVING
    cust_i[_u(c * N_CUST_I + C_TOKEN)] = -1
    duration = (
        sample(
            rstate,
            service_dist[_u(cls * n_st + s)],
            dist_code,
            dist_p1,
            dist_p2,
            dist_offset,
            dist_length,
            empirical_values,
        )
        * time_factor[_u(p * n_st + s)]
    )
    sc_stat[_u((s * n_cls + cls) * N_SC + SC_SUM_SERVICE)] += duration
    if recording:
        rec_f[_u(cust_i[_u(c * N_CUST_I + C_RECORD)] * 3 + R_START)] = t
        rec_i[_u(cust_i[_u(c * N_CUST_I + C_RECORD)] * N_REC_I + R_POOL)] = p
    _push_at(heap_t, heap_i, heap_n, seq, t + duration, EV_SERVICE_END, c, p)
