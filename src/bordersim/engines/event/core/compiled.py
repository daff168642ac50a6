"""A `Network` checked and turned into the arrays the compiled kernel reads.

Names are resolved to indices, priorities to ranks (0 is served first), routing rows to cumulative
probabilities, distributions to rows of one table. Every inconsistency raises `ModelError` naming
the component, the value and the rule.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import NamedTuple

import numpy as np

from bordersim.engines.event.core.distributions import Distribution, distribution_row
from bordersim.engines.event.core.kernel import ArrivalStreams, Distributions, KernelNetwork
from bordersim.engines.event.core.network import Network
from bordersim.errors import ModelError

UNLIMITED = np.iinfo(np.int64).max // 4


@dataclass(frozen=True)
class CompiledNetwork:
    """The network as arrays; `kernel_network()` bundles them as the kernel reads them."""

    station_names: tuple[str, ...]
    pool_names: tuple[str, ...]
    class_names: tuple[str, ...]
    n_priorities: int
    station_capacity: np.ndarray  # int64[S]
    station_abandons: np.ndarray  # int64[S], 1 where patience applies
    station_pool_ptr: np.ndarray  # int64[S+1], CSR of the pools serving each station
    station_pool_idx: np.ndarray  # int64[...], fastest first
    pool_station_ptr: np.ndarray  # int64[K+1], CSR of the stations each pool serves
    pool_station_idx: np.ndarray  # int64[...]
    speed: np.ndarray  # float64[K, S], 0 where the pool cannot serve the station
    service_dist: np.ndarray  # int64[L, S], row of the distribution table or -1
    class_rank: np.ndarray  # int64[L]
    patience_dist: np.ndarray  # int64[L], -1 for infinite patience
    route_cum: np.ndarray  # float64[L, S, S], cumulative routing probabilities per row
    dist_code: np.ndarray  # int64[D]
    dist_p1: np.ndarray  # float64[D]
    dist_p2: np.ndarray  # float64[D]
    dist_offset: np.ndarray  # int64[D], into empirical_values
    dist_length: np.ndarray  # int64[D]
    empirical_values: np.ndarray  # float64[...]
    arr_station: np.ndarray  # int64[A]
    arr_class: np.ndarray  # int64[A]
    arr_rate_ptr: np.ndarray  # int64[A+1]
    arr_rates: np.ndarray  # float64[...]
    arr_period: np.ndarray  # float64[A]
    arr_cyclic: np.ndarray  # int64[A]
    arr_batch_ptr: np.ndarray  # int64[A+1], empty range: batches of one
    batch_sizes: np.ndarray  # int64[...]
    batch_cum: np.ndarray  # float64[...]
    sched_time: np.ndarray  # float64[E], sorted
    sched_pool: np.ndarray  # int64[E]
    sched_count: np.ndarray  # int64[E]
    initial_headcount: np.ndarray  # int64[K]
    max_batch: int
    service_mean: np.ndarray  # float64[L, S], mean service time at speed 1 (nan if none)

    def kernel_network(self) -> KernelNetwork:
        """The arrays in the bundles the kernel reads, 2-D tables flat."""
        return KernelNetwork(
            station_capacity=self.station_capacity,
            station_abandons=self.station_abandons,
            station_pool_ptr=self.station_pool_ptr,
            station_pool_idx=self.station_pool_idx,
            pool_station_ptr=self.pool_station_ptr,
            pool_station_idx=self.pool_station_idx,
            # Service time multipliers: 1 / speed, so the kernel multiplies instead of divides.
            time_factor=np.divide(
                1.0, self.speed, out=np.zeros_like(self.speed), where=self.speed > 0
            ).reshape(-1),
            service_dist=self.service_dist.reshape(-1),
            class_rank=self.class_rank,
            patience_dist=self.patience_dist,
            route_cum=self.route_cum.reshape(-1),
            dists=Distributions(
                self.dist_code,
                self.dist_p1,
                self.dist_p2,
                self.dist_offset,
                self.dist_length,
                self.empirical_values,
            ),
            arrivals=self.arrival_streams(),
            sched_time=self.sched_time,
            sched_pool=self.sched_pool,
            sched_count=self.sched_count,
        )

    def arrival_streams(self) -> ArrivalStreams:
        return ArrivalStreams(
            station=self.arr_station,
            klass=self.arr_class,
            rate_ptr=self.arr_rate_ptr,
            rates=self.arr_rates,
            period=self.arr_period,
            cyclic=self.arr_cyclic,
            batch_ptr=self.arr_batch_ptr,
            batch_sizes=self.batch_sizes,
            batch_cum=self.batch_cum,
        )

    def station_index(self, name: str) -> int:
        return _index(self.station_names, name, "station")

    def pool_index(self, name: str) -> int:
        return _index(self.pool_names, name, "pool")

    def class_index(self, name: str) -> int:
        return _index(self.class_names, name, "customer class")


def _index(names: Sequence[str], name: str, what: str, where: str | None = None) -> int:
    try:
        return list(names).index(name)
    except ValueError:
        prefix = f"{where}: " if where else ""
        raise ModelError(f"{prefix}unknown {what} {name!r}; known: {', '.join(names)}") from None


def _unique(names: Sequence[str], what: str) -> tuple[str, ...]:
    seen: set[str] = set()
    for name in names:
        if not isinstance(name, str) or not name:
            raise ModelError(f"every {what} needs a non-empty name, got {name!r}")
        if name in seen:
            raise ModelError(f"{what} name {name!r} is used twice")
        seen.add(name)
    return tuple(names)


def _finite_nonneg(value: float, where: str) -> float:
    if not (isinstance(value, int | float) and math.isfinite(value) and value >= 0):
        raise ModelError(f"{where} must be a finite number >= 0, got {value!r}")
    return float(value)


def _i64(x: Sequence[int]) -> np.ndarray:
    return np.asarray(x, dtype=np.int64)


def _f64(x: Sequence[float]) -> np.ndarray:
    return np.asarray(x, dtype=np.float64)


class _DistributionTable:
    """Distributions as rows of one table, each distinct distribution once, in order of use."""

    def __init__(self) -> None:
        self.rows: list[tuple[int, float, float, tuple[float, ...]]] = []
        self.ids: dict[Distribution, int] = {}

    def index(self, dist: Distribution) -> int:
        if dist not in self.ids:
            self.ids[dist] = len(self.rows)
            self.rows.append(distribution_row(dist))
        return self.ids[dist]

    def arrays(self) -> Distributions:
        emp: list[float] = []
        code, p1, p2, off, length = [], [], [], [], []
        for c, a, b, values in self.rows:
            code.append(c)
            p1.append(a)
            p2.append(b)
            off.append(len(emp))
            length.append(len(values))
            emp.extend(values)
        return Distributions(_i64(code), _f64(p1), _f64(p2), _i64(off), _i64(length), _f64(emp))


class _Stations(NamedTuple):
    capacity: np.ndarray  # int64[S]
    abandons: np.ndarray  # int64[S]
    service: np.ndarray  # int64[L, S], row of the distribution table or -1
    service_mean: np.ndarray  # float64[L, S]


def _compile_stations(
    network: Network, c_names: tuple[str, ...], dists: _DistributionTable
) -> _Stations:
    n_s, n_c = len(network.stations), len(c_names)
    capacity = np.full(n_s, UNLIMITED, dtype=np.int64)
    abandons = np.zeros(n_s, dtype=np.int64)
    service = np.full((n_c, n_s), -1, dtype=np.int64)
    service_mean = np.full((n_c, n_s), np.nan)
    for si, st in enumerate(network.stations):
        if st.capacity is not None:
            if int(st.capacity) != st.capacity or st.capacity < 1:
                raise ModelError(
                    f"station {st.name!r}: capacity must be a whole number >= 1 or None, "
                    f"got {st.capacity!r}"
                )
            capacity[si] = int(st.capacity)
        abandons[si] = 1 if st.abandonment else 0
        for cname in st.service_by_class:
            _index(c_names, cname, "customer class", f"station {st.name!r} service_by_class")
        for ci, cname in enumerate(c_names):
            dist = st.service_by_class.get(cname, st.service)
            if dist is not None:
                service[ci, si] = dists.index(dist)
                service_mean[ci, si] = dist.mean
    return _Stations(capacity, abandons, service, service_mean)


class _Pools(NamedTuple):
    speed: np.ndarray  # float64[K, S], 0 where the pool cannot serve the station
    headcount: np.ndarray  # int64[K]
    schedule: list[tuple[float, int, int]]  # (time, pool, headcount), sorted by time


def _compile_pools(network: Network, s_names: tuple[str, ...]) -> _Pools:
    pools = list(network.pools)
    speed = np.zeros((len(pools), len(s_names)))
    headcount = np.zeros(len(pools), dtype=np.int64)
    sched: list[tuple[float, int, int]] = []
    for ki, pool in enumerate(pools):
        if int(pool.headcount) != pool.headcount or pool.headcount < 0:
            raise ModelError(
                f"pool {pool.name!r}: headcount must be a whole number >= 0, got {pool.headcount!r}"
            )
        headcount[ki] = int(pool.headcount)
        if not pool.skills:
            raise ModelError(f"pool {pool.name!r}: skills must name at least one station")
        for sname, sp in pool.skills.items():
            si = _index(s_names, sname, "station", f"pool {pool.name!r} skills")
            if not (isinstance(sp, int | float) and math.isfinite(sp) and sp > 0):
                raise ModelError(
                    f"pool {pool.name!r}: speed at station {sname!r} must be > 0, got {sp!r}"
                )
            speed[ki, si] = float(sp)
        for entry in pool.schedule:
            when, count = entry
            _finite_nonneg(when, f"pool {pool.name!r} schedule time")
            if int(count) != count or count < 0:
                raise ModelError(
                    f"pool {pool.name!r}: scheduled headcount must be a whole number >= 0, "
                    f"got {count!r}"
                )
            sched.append((float(when), ki, int(count)))
    # Rows for one pool at one instant settle to the last listed before anyone can start:
    # applied one by one, a passing headcount would let a service begin in between.
    settled = {(when, ki): count for when, ki, count in sched}
    schedule = [(when, ki, count) for (when, ki), count in settled.items()]
    schedule.sort(key=lambda e: e[0])  # stable: equal times keep their listed order
    return _Pools(speed, headcount, schedule)


def _links(speed: np.ndarray) -> tuple[list[int], list[int], list[int], list[int]]:
    """(station_pool_ptr, station_pool_idx, pool_station_ptr, pool_station_idx): the pools
    serving each station, fastest first, and the stations each pool serves, as CSR lists."""
    n_k, n_s = speed.shape
    st_ptr = [0]
    st_idx: list[int] = []
    for si in range(n_s):
        serving = [k for k in range(n_k) if speed[k, si] > 0]
        serving.sort(key=lambda k: (-speed[k, si], k))
        st_idx.extend(serving)
        st_ptr.append(len(st_idx))
    pl_ptr = [0]
    pl_idx: list[int] = []
    for ki in range(n_k):
        pl_idx.extend(si for si in range(n_s) if speed[ki, si] > 0)
        pl_ptr.append(len(pl_idx))
    return st_ptr, st_idx, pl_ptr, pl_idx


class _Classes(NamedTuple):
    n_priorities: int
    rank: np.ndarray  # int64[L]
    patience: np.ndarray  # int64[L], -1 for infinite patience
    route_cum: np.ndarray  # float64[L, S, S]


def _compile_classes(
    network: Network, s_names: tuple[str, ...], dists: _DistributionTable
) -> _Classes:
    classes = list(network.classes)
    n_s, n_c = len(s_names), len(classes)
    prios = sorted({int(c.priority) for c in classes})
    rank = np.array([prios.index(int(c.priority)) for c in classes], dtype=np.int64)
    patience = np.full(n_c, -1, dtype=np.int64)
    route_cum = np.zeros((n_c, n_s, n_s))
    for ci, cl in enumerate(classes):
        if cl.patience is not None:
            patience[ci] = dists.index(cl.patience)
        for src, row in cl.routing.items():
            si = _index(s_names, src, "station", f"class {cl.name!r} routing")
            total = 0.0
            for dst, prob in row.items():
                di = _index(s_names, dst, "station", f"class {cl.name!r} routing from {src!r}")
                p = _finite_nonneg(prob, f"class {cl.name!r} routing {src!r} -> {dst!r}")
                route_cum[ci, si, di] = p
                total += p
            if total > 1.0 + 1e-9:
                raise ModelError(
                    f"class {cl.name!r}: routing probabilities from {src!r} sum to {total:g}, "
                    "more than 1 (the rest is exit)"
                )
        np.cumsum(route_cum[ci], axis=1, out=route_cum[ci])
    return _Classes(len(prios), rank, patience, route_cum)


def _compile_arrivals(
    network: Network, s_names: tuple[str, ...], c_names: tuple[str, ...]
) -> tuple[ArrivalStreams, int]:
    """The arrival streams as arrays, and the largest batch."""
    arr_station: list[int] = []
    arr_class: list[int] = []
    rate_ptr: list[int] = [0]
    rates: list[float] = []
    period: list[float] = []
    cyclic: list[int] = []
    batch_ptr: list[int] = [0]
    batch_sizes: list[int] = []
    batch_cum: list[float] = []
    max_batch = 1
    for ai, arr in enumerate(network.arrivals):
        where = f"arrivals[{ai}] ({arr.customer_class!r} into {arr.station!r})"
        si = _index(s_names, arr.station, "station", where)
        ci = _index(c_names, arr.customer_class, "customer class", where)
        profile = [arr.rate] if isinstance(arr.rate, int | float) else list(arr.rate)
        if not profile:
            raise ModelError(f"{where}: rate profile is empty")
        profile = [_finite_nonneg(r, f"{where} rate") for r in profile]
        per = arr.period
        if not (isinstance(per, int | float) and math.isfinite(per) and per > 0):
            raise ModelError(f"{where}: period must be > 0, got {per!r}")
        arr_station.append(si)
        arr_class.append(ci)
        rates.extend(profile)
        rate_ptr.append(len(rates))
        period.append(float(per))
        cyclic.append(1 if arr.cyclic else 0)
        if arr.batch is not None:
            batch_sizes.extend(int(s) for s in arr.batch.sizes)
            batch_cum.extend(np.cumsum(arr.batch.probabilities).tolist())
            batch_cum[-1] = 1.0
            max_batch = max(max_batch, *(int(s) for s in arr.batch.sizes))
        batch_ptr.append(len(batch_sizes))
    streams = ArrivalStreams(
        station=_i64(arr_station),
        klass=_i64(arr_class),
        rate_ptr=_i64(rate_ptr),
        rates=_f64(rates),
        period=_f64(period),
        cyclic=_i64(cyclic),
        batch_ptr=_i64(batch_ptr),
        batch_sizes=_i64(batch_sizes),
        batch_cum=_f64(batch_cum),
    )
    return streams, max_batch


def compile_network(network: Network) -> CompiledNetwork:
    """Check `network` and turn it into arrays; raises `ModelError` on any inconsistency."""
    if not network.stations or not network.classes:
        raise ModelError("a network needs at least one station and one customer class")
    s_names = _unique([s.name for s in network.stations], "station")
    k_names = _unique([p.name for p in network.pools], "pool")
    c_names = _unique([c.name for c in network.classes], "customer class")
    dists = _DistributionTable()
    stations = _compile_stations(network, c_names, dists)
    pools = _compile_pools(network, s_names)
    st_ptr, st_idx, pl_ptr, pl_idx = _links(pools.speed)
    classes = _compile_classes(network, s_names, dists)
    arrivals, max_batch = _compile_arrivals(network, s_names, c_names)
    _check_reachable_service(network, s_names, c_names, stations.service, classes.route_cum)
    table = dists.arrays()
    return CompiledNetwork(
        station_names=s_names,
        pool_names=k_names,
        class_names=c_names,
        n_priorities=classes.n_priorities,
        station_capacity=stations.capacity,
        station_abandons=stations.abandons,
        station_pool_ptr=_i64(st_ptr),
        station_pool_idx=_i64(st_idx),
        pool_station_ptr=_i64(pl_ptr),
        pool_station_idx=_i64(pl_idx),
        speed=pools.speed,
        service_dist=stations.service,
        class_rank=classes.rank,
        patience_dist=classes.patience,
        route_cum=classes.route_cum,
        dist_code=table.code,
        dist_p1=table.p1,
        dist_p2=table.p2,
        dist_offset=table.offset,
        dist_length=table.length,
        empirical_values=table.empirical_values,
        arr_station=arrivals.station,
        arr_class=arrivals.klass,
        arr_rate_ptr=arrivals.rate_ptr,
        arr_rates=arrivals.rates,
        arr_period=arrivals.period,
        arr_cyclic=arrivals.cyclic,
        arr_batch_ptr=arrivals.batch_ptr,
        batch_sizes=arrivals.batch_sizes,
        batch_cum=arrivals.batch_cum,
        sched_time=_f64([e[0] for e in pools.schedule]),
        sched_pool=_i64([e[1] for e in pools.schedule]),
        sched_count=_i64([e[2] for e in pools.schedule]),
        initial_headcount=pools.headcount,
        max_batch=max_batch,
        service_mean=stations.service_mean,
    )


def _check_reachable_service(
    network: Network,
    s_names: tuple[str, ...],
    c_names: tuple[str, ...],
    service: np.ndarray,
    route_cum: np.ndarray,
) -> None:
    """Every (class, station) a stream can lead to needs a service time."""
    frontier = [
        (c_names.index(a.customer_class), s_names.index(a.station)) for a in network.arrivals
    ]
    seen = set(frontier)
    while frontier:
        ci, si = frontier.pop()
        if service[ci, si] < 0:
            raise ModelError(
                f"station {s_names[si]!r} has no service time for class {c_names[ci]!r}: "
                "set Station.service or Station.service_by_class"
            )
        row = np.diff(route_cum[ci, si], prepend=0.0)
        for dj in np.nonzero(row > 0)[0]:
            pair = (ci, int(dj))
            if pair not in seen:
                seen.add(pair)
                frontier.append(pair)
