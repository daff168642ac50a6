"""`Simulator`: a network in motion, advanced by compiled code between Python decisions.

    sim = Simulator(network, seed=7)
    for hour in range(1, 25):
        sim.run_until(hour)                      # compiled event processing
        if sim.queue_length("desk") > 20:        # Python decisions between calls
            sim.set_headcount("clerks", 12)
        sim.inject("desk", "walk-in", n=3)       # customers fed back from outside

The same network and seed give identical results, however a run is cut into `run_until` calls.
"""

from __future__ import annotations

import math

import numpy as np

from bordersim.engines.event.core import kernel as K
from bordersim.engines.event.core.compiled import CompiledNetwork, compile_network
from bordersim.engines.event.core.network import Network
from bordersim.engines.event.core.results import Records, Summary
from bordersim.engines.event.core.rng import seed_state
from bordersim.errors import ModelError


def flat(array: np.ndarray) -> np.ndarray:
    """The kernel's view of a C-ordered state array: one dimension, same memory."""
    return array.reshape(-1)


class Simulator:
    """One run of a `Network` from time 0, with seed `seed`.

    `record=True` keeps one record per customer and station visit (see `records()`); otherwise
    only streaming summaries are kept, in memory that does not grow with the run's length.
    """

    def __init__(self, network: Network | CompiledNetwork, seed: int = 0, *, record: bool = False):
        if isinstance(seed, bool) or not isinstance(seed, int | np.integer) or seed < 0:
            raise ModelError(f"seed must be a whole number >= 0, got {seed!r}")
        net = network if isinstance(network, CompiledNetwork) else compile_network(network)
        self.network = net
        self.seed = int(seed)
        n_s, n_k, n_c = len(net.station_names), len(net.pool_names), len(net.class_names)
        self._rng = seed_state(int(seed))
        self._clock = np.zeros(1)
        self._ctr = np.zeros(K.N_CTR, dtype=np.int64)
        # The most events or customers one event can create: a batch, or services started when a
        # pool's headcount rises (injections and set_headcount raise it further).
        self._ctr[K.K_MARGIN] = max(
            net.max_batch,
            int(net.initial_headcount.max(initial=0)),
            int(net.sched_count.max(initial=0)),
        )
        self._ctr[K.K_RECORDING] = 1 if record else 0
        self._advance = K.advance_recording if record else K.advance_streaming
        self._kernel_network = net.kernel_network()
        self._heap_t = np.empty(256)
        self._heap_i = np.empty((256, 4), dtype=np.int64)
        self._cust_i = np.full((0, K.N_CUST_I), -1, dtype=np.int64)
        self._cust_f = np.zeros((0, K.N_CUST_F))
        self._free = np.empty(0, dtype=np.int64)
        self._grow_customers(max(1024, 4 * int(self._ctr[K.K_MARGIN])))
        self._queue_ends = np.full((n_s, net.n_priorities, 2), -1, dtype=np.int64)
        self._st_n = np.zeros((n_s, 2), dtype=np.int64)
        self._sc_n = np.zeros((n_s, n_c, 2), dtype=np.int64)
        self._pool_n = np.zeros((n_k, 2), dtype=np.int64)
        self._pool_n[:, K.P_HEADCOUNT] = net.initial_headcount
        self._pending_pools = np.empty(max(n_k, 1), dtype=np.int64)
        self._sc_stat = np.zeros((n_s, n_c, K.N_SC))
        self._st_stat = np.zeros((n_s, K.N_ST))
        self._pool_stat = np.zeros((n_k, K.N_PS))
        self._cl_stat = np.zeros((n_c, K.N_CL))
        self._cl_n = np.zeros(n_c, dtype=np.int64)
        rows = 4096 if record else 1
        self._rec_f = np.full((rows, 3), np.nan)
        self._rec_i = np.zeros((rows, K.N_REC_I), dtype=np.int64)
        self._injections = np.zeros((16, 3), dtype=np.int64)
        self._n_injections = 0
        self._stats_since = 0.0
        self._arr_next = np.full(len(net.arr_station), math.inf)
        streams = net.arrival_streams()
        for a in range(len(net.arr_station)):
            self._arr_next[a] = K.next_arrival_time(self._rng, 0.0, a, streams)
        self._ctr[K.K_ARR_MIN] = int(np.argmin(self._arr_next)) if len(self._arr_next) else -1
        if len(net.sched_time):
            self._push(float(net.sched_time[0]), K.EV_SCHEDULE, 0, 0)

    # ------------------------------------------------------------------ running

    @property
    def now(self) -> float:
        """The simulated time reached so far."""
        return float(self._clock[0])

    @property
    def customers_created(self) -> int:
        """Customers that entered the network since time 0 (statistics resets aside)."""
        return int(self._ctr[K.K_NEXT_ID])

    def run_until(self, t: float) -> None:
        """Process every event up to and including time `t`, then stop the clock at `t`."""
        if not math.isfinite(t) or t < self.now:
            raise ModelError(f"run_until needs a finite time >= now ({self.now:g}), got {t!r}")
        while True:
            status = self._advance(self._kernel_network, self._kernel_state(), float(t))
            if status == K.DONE:
                return
            self._make_room()

    def _kernel_state(self) -> K.KernelState:
        """The state arrays as the kernel takes them (rebuilt after `_make_room` grows them)."""
        return K.KernelState(
            rstate=self._rng,
            clock=self._clock,
            ctr=self._ctr,
            heap_t=self._heap_t,
            heap_i=flat(self._heap_i),
            cust_i=flat(self._cust_i),
            cust_f=flat(self._cust_f),
            free=self._free,
            queue_ends=flat(self._queue_ends),
            st_n=flat(self._st_n),
            sc_n=flat(self._sc_n),
            pool_n=flat(self._pool_n),
            sc_stat=flat(self._sc_stat),
            st_stat=flat(self._st_stat),
            pool_stat=flat(self._pool_stat),
            cl_stat=flat(self._cl_stat),
            cl_n=self._cl_n,
            rec_f=flat(self._rec_f),
            rec_i=flat(self._rec_i),
            injections=flat(self._injections),
            entering_c=self._entering_c,
            entering_s=self._entering_s,
            pending_pools=self._pending_pools,
            arr_next=self._arr_next,
        )

    def inject(
        self, station: str, customer_class: str, n: int = 1, time: float | None = None
    ) -> None:
        """Add `n` customers of `customer_class` at `station` at `time` (default: now).

        They arrive when the run reaches `time` (the next `run_until`), after events already
        scheduled for that same time.
        """
        net = self.network
        s = net.station_index(station)
        c = net.class_index(customer_class)
        when = self.now if time is None else float(time)
        if not math.isfinite(when) or when < self.now:
            raise ModelError(f"inject time must be finite and >= now ({self.now:g}), got {time!r}")
        if isinstance(n, bool) or int(n) != n or n < 0:
            raise ModelError(f"inject needs a whole number of customers >= 0, got {n!r}")
        if net.service_dist[c, s] < 0:
            raise ModelError(
                f"station {station!r} has no service time for class {customer_class!r}"
            )
        if n == 0:
            return
        if self._n_injections == len(self._injections):
            self._injections = np.concatenate([self._injections, np.zeros_like(self._injections)])
        row = self._n_injections
        self._injections[row] = (s, c, int(n))
        self._n_injections += 1
        self._ctr[K.K_MARGIN] = max(int(self._ctr[K.K_MARGIN]), int(n))
        self._push(when, K.EV_INJECT, row, 0)

    def set_headcount(self, pool: str, n: int, time: float | None = None) -> None:
        """Set `pool`'s headcount to `n` at `time` (default: now), effective on the next run.

        Added servers start on waiting customers at once; removed ones finish their service first.
        Of several calls for one pool at one time, the last holds from that time (as a schedule's
        rows at one time do): no service starts at a headcount set in between.
        """
        k = self.network.pool_index(pool)
        when = self.now if time is None else float(time)
        if not math.isfinite(when) or when < self.now:
            raise ModelError(
                f"set_headcount time must be finite and >= now ({self.now:g}), got {time!r}"
            )
        if isinstance(n, bool) or int(n) != n or n < 0:
            raise ModelError(f"pool {pool!r}: headcount must be a whole number >= 0, got {n!r}")
        self._ctr[K.K_MARGIN] = max(int(self._ctr[K.K_MARGIN]), int(n))
        n_heap = int(self._ctr[K.K_HEAP])
        events = self._heap_i[:n_heap]
        earlier = np.flatnonzero(
            (self._heap_t[:n_heap] == when)
            & (events[:, K.H_KIND] == K.EV_HEADCOUNT)
            & (events[:, K.H_A] == k)
        )
        if len(earlier):
            # A change for this pool at this time is pending: it takes the new headcount
            # instead of a second change after it, which would let services start at the first.
            events[earlier, K.H_B] = int(n)
            return
        self._push(when, K.EV_HEADCOUNT, k, int(n))

    # ------------------------------------------------------------------ reading the state

    def queue_length(self, station: str | None = None, customer_class: str | None = None) -> int:
        """Customers waiting (not in service), at one station or all, of one class or all."""
        waiting = self._sc_n[:, :, K.N_WAITING]
        return int(self._select(waiting, station, customer_class).sum())

    def in_service(self, station: str | None = None, customer_class: str | None = None) -> int:
        serving = self._sc_n[:, :, K.N_SERVING]
        return int(self._select(serving, station, customer_class).sum())

    def in_system(self, customer_class: str | None = None) -> int:
        """Customers in the network now (waiting or in service anywhere)."""
        if customer_class is None:
            return int(self._cl_n.sum())
        return int(self._cl_n[self.network.class_index(customer_class)])

    def headcount(self, pool: str) -> int:
        return int(self._pool_n[self.network.pool_index(pool), K.P_HEADCOUNT])

    def busy(self, pool: str) -> int:
        return int(self._pool_n[self.network.pool_index(pool), K.P_BUSY])

    def _select(self, table: np.ndarray, station: str | None, cls: str | None) -> np.ndarray:
        if station is not None:
            s = self.network.station_index(station)
            table = table[s : s + 1]
        if cls is not None:
            c = self.network.class_index(cls)
            table = table[:, c : c + 1]
        return table

    def summary(self) -> Summary:
        """Streaming statistics since the start or the last `reset_statistics()`."""
        now = self.now
        station = self._st_stat.copy()
        station[:, K.ST_AREA_WAITING] += self._st_n[:, K.N_WAITING] * now
        station[:, K.ST_AREA_PRESENT] += self._st_n.sum(axis=1) * now
        pool = self._pool_stat.copy()
        pool[:, K.PS_AREA_BUSY] += self._pool_n[:, K.P_BUSY] * now
        pool[:, K.PS_AREA_HEADCOUNT] += self._pool_n[:, K.P_HEADCOUNT] * now
        # Counts the kernel derives rather than keeps (see kernel.py).
        sc = self._sc_stat.copy()
        sc[:, :, K.SC_ARRIVALS] += (
            self._sc_n[:, :, K.N_WAITING]
            + sc[:, :, K.SC_STARTED]
            + sc[:, :, K.SC_BLOCKED]
            + sc[:, :, K.SC_ABANDONED]
        )
        sc[:, :, K.SC_SERVED] += sc[:, :, K.SC_STARTED] - self._sc_n[:, :, K.N_SERVING]
        cl = self._cl_stat.copy()
        cl[:, K.CL_ARRIVED] += (
            self._cl_n + cl[:, K.CL_EXITED] + cl[:, K.CL_ABANDONED] + cl[:, K.CL_BLOCKED]
        )
        return Summary(
            network=self.network,
            since=self._stats_since,
            until=now,
            station_class=sc,
            station=station,
            pool=pool,
            customer_class=cl,
            in_system=self._cl_n.copy(),
        )

    def reset_statistics(self) -> None:
        """Start the summaries afresh from now (to discard a warm-up); records are kept."""
        now = self.now
        self._sc_stat[:] = 0.0
        # Derived counts start at minus (or plus) the occupancy now (see kernel.py).
        self._sc_stat[:, :, K.SC_ARRIVALS] = -self._sc_n[:, :, K.N_WAITING]
        self._sc_stat[:, :, K.SC_SERVED] = self._sc_n[:, :, K.N_SERVING]
        # Time integrals start at -n(now) x now (see kernel.py).
        self._st_stat[:, K.ST_AREA_WAITING] = -self._st_n[:, K.N_WAITING] * now
        self._st_stat[:, K.ST_AREA_PRESENT] = -self._st_n.sum(axis=1) * now
        self._pool_stat[:, K.PS_AREA_BUSY] = -self._pool_n[:, K.P_BUSY] * now
        self._pool_stat[:, K.PS_AREA_HEADCOUNT] = -self._pool_n[:, K.P_HEADCOUNT] * now
        self._cl_stat[:] = 0.0
        self._cl_stat[:, K.CL_ARRIVED] = -self._cl_n
        self._stats_since = self.now

    def records(self) -> Records:
        """One row per customer and station visit so far (needs `record=True`)."""
        if self._ctr[K.K_RECORDING] != 1:
            raise ModelError("records() needs a Simulator created with record=True")
        n = int(self._ctr[K.K_RECORDS])
        return Records(
            network=self.network,
            customer=self._rec_i[:n, K.R_CUSTOMER].copy(),
            customer_class=self._rec_i[:n, K.R_CLASS].copy(),
            station=self._rec_i[:n, K.R_STATION].copy(),
            outcome=self._rec_i[:n, K.R_OUTCOME].copy(),
            pool=self._rec_i[:n, K.R_POOL].copy(),
            arrive=self._rec_f[:n, K.R_ARRIVE].copy(),
            start=self._rec_f[:n, K.R_START].copy(),
            end=self._rec_f[:n, K.R_END].copy(),
        )

    # ------------------------------------------------------------------ storage

    def _push(self, t: float, kind: int, a: int, b: int) -> None:
        if self._ctr[K.K_HEAP] + 1 >= len(self._heap_t):
            self._grow_heap()
        K.push_event(self._heap_t, self._heap_i, self._ctr, t, kind, a, b)

    def _grow_heap(self) -> None:
        size = 2 * len(self._heap_t) + int(self._ctr[K.K_MARGIN])
        heap_t = np.empty(size)
        heap_i = np.empty((size, 4), dtype=np.int64)
        n = int(self._ctr[K.K_HEAP])
        heap_t[:n] = self._heap_t[:n]
        heap_i[:n] = self._heap_i[:n]
        self._heap_t, self._heap_i = heap_t, heap_i

    def _grow_customers(self, extra: int) -> None:
        old = len(self._cust_i)
        new = old + extra
        cust_i = np.full((new, K.N_CUST_I), -1, dtype=np.int64)
        cust_i[:old] = self._cust_i
        cust_i[old:, K.C_STATE] = K.STATE_FREE
        cust_f = np.zeros((new, K.N_CUST_F))
        cust_f[:old] = self._cust_f
        n_free = int(self._ctr[K.K_FREE])
        free = np.empty(new, dtype=np.int64)
        free[:n_free] = self._free[:n_free]
        free[n_free : n_free + extra] = np.arange(new - 1, old - 1, -1)
        self._ctr[K.K_FREE] = n_free + extra
        self._cust_i, self._cust_f, self._free = cust_i, cust_f, free
        self._entering_c = np.empty(new, dtype=np.int64)
        self._entering_s = np.empty(new, dtype=np.int64)

    def _make_room(self) -> None:
        margin = int(self._ctr[K.K_MARGIN])
        if self._ctr[K.K_HEAP] + margin + 4 > len(self._heap_t):
            self._grow_heap()
        if self._ctr[K.K_FREE] < margin + 2:
            self._grow_customers(max(len(self._cust_i), margin + 2))
        if self._ctr[K.K_RECORDING] == 1 and self._ctr[K.K_RECORDS] + margin + 2 > len(self._rec_f):
            extra = max(len(self._rec_f), margin + 2)
            self._rec_f = np.concatenate([self._rec_f, np.full((extra, 3), np.nan)])
            self._rec_i = np.concatenate(
                [self._rec_i, np.zeros((extra, K.N_REC_I), dtype=np.int64)]
            )


def simulate(
    network: Network | CompiledNetwork,
    until: float,
    *,
    seed: int = 0,
    warmup: float = 0.0,
    record: bool = False,
) -> Summary:
    """Run `network` from 0 to `until` and return the summary of [warmup, until]."""
    sim = Simulator(network, seed, record=record)
    if warmup > 0:
        sim.run_until(warmup)
        sim.reset_statistics()
    sim.run_until(until)
    return sim.summary()
