"""What a run reports: streaming `Summary` statistics and optional per-visit `Records`."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from bordersim.engines.event.core import kernel as K
from bordersim.engines.event.core.compiled import CompiledNetwork

OUTCOMES = {
    K.OUT_PRESENT: "present",
    K.OUT_SERVED: "served",
    K.OUT_ABANDONED: "abandoned",
    K.OUT_BLOCKED: "blocked",
}


def _ratio(num: float, den: float) -> float:
    return float(num / den) if den > 0 else float("nan")


@dataclass(frozen=True)
class Summary:
    """Counts, sums and time integrals over the window [since, until].

    Waits are counted when service starts, sojourns when a customer leaves (a station or the
    network), so a window's means are ratio estimates over the customers that completed that
    step inside it.
    """

    network: CompiledNetwork
    since: float
    until: float
    station_class: np.ndarray  # [S, L, N_SC]
    station: np.ndarray  # [S, N_ST]
    pool: np.ndarray  # [K, N_PS]
    customer_class: np.ndarray  # [L, N_CL]
    in_system: np.ndarray  # [L], customers in the network at `until`

    @property
    def duration(self) -> float:
        return self.until - self.since

    def _sc(self, column: int, station: str | None, cls: str | None) -> float:
        table = self.station_class[:, :, column]
        if station is not None:
            table = table[self.network.station_index(station)]
            return float(table.sum() if cls is None else table[self.network.class_index(cls)])
        return float(table.sum() if cls is None else table[:, self.network.class_index(cls)].sum())

    def _cl(self, column: int, cls: str | None) -> float:
        col = self.customer_class[:, column]
        return float(col.sum() if cls is None else col[self.network.class_index(cls)])

    # station level
    def arrivals(self, station: str | None = None, cls: str | None = None) -> float:
        """Customers entering the station (blocked ones included)."""
        return self._sc(K.SC_ARRIVALS, station, cls)

    def blocked(self, station: str | None = None, cls: str | None = None) -> float:
        return self._sc(K.SC_BLOCKED, station, cls)

    def abandoned(self, station: str | None = None, cls: str | None = None) -> float:
        return self._sc(K.SC_ABANDONED, station, cls)

    def started(self, station: str | None = None, cls: str | None = None) -> float:
        return self._sc(K.SC_STARTED, station, cls)

    def delayed(self, station: str | None = None, cls: str | None = None) -> float:
        """Services that started after a positive wait."""
        return self._sc(K.SC_DELAYED, station, cls)

    def served(self, station: str | None = None, cls: str | None = None) -> float:
        return self._sc(K.SC_SERVED, station, cls)

    def mean_wait(self, station: str | None = None, cls: str | None = None) -> float:
        """Mean time in queue of the customers whose service started."""
        return _ratio(self._sc(K.SC_SUM_WAIT, station, cls), self.started(station, cls))

    def mean_wait_all(self, station: str | None = None, cls: str | None = None) -> float:
        """Mean time in queue of everyone who stopped waiting, abandoning customers included."""
        total = self._sc(K.SC_SUM_WAIT, station, cls)
        total += self._sc(K.SC_SUM_ABANDON_WAIT, station, cls)
        return _ratio(total, self.started(station, cls) + self.abandoned(station, cls))

    def mean_service(self, station: str | None = None, cls: str | None = None) -> float:
        return _ratio(self._sc(K.SC_SUM_SERVICE, station, cls), self.started(station, cls))

    def mean_station_sojourn(self, station: str | None = None, cls: str | None = None) -> float:
        """Mean wait plus service at the station, of the customers served there."""
        return _ratio(self._sc(K.SC_SUM_SOJOURN, station, cls), self.served(station, cls))

    def blocking_probability(self, station: str | None = None, cls: str | None = None) -> float:
        return _ratio(self.blocked(station, cls), self.arrivals(station, cls))

    def abandonment_probability(self, station: str | None = None, cls: str | None = None) -> float:
        """Share of the customers who stopped waiting by abandoning rather than being served."""
        ab = self.abandoned(station, cls)
        return _ratio(ab, ab + self.started(station, cls))

    def mean_queue_length(self, station: str) -> float:
        """Time-average number waiting."""
        s = self.network.station_index(station)
        return _ratio(self.station[s, K.ST_AREA_WAITING], self.duration)

    def mean_number_present(self, station: str) -> float:
        """Time-average number waiting or in service."""
        s = self.network.station_index(station)
        return _ratio(self.station[s, K.ST_AREA_PRESENT], self.duration)

    def utilisation(self, pool: str) -> float:
        """Busy server-time over available server-time."""
        k = self.network.pool_index(pool)
        return _ratio(self.pool[k, K.PS_AREA_BUSY], self.pool[k, K.PS_AREA_HEADCOUNT])

    # network level
    def arrived(self, cls: str | None = None) -> float:
        """Customers who entered the network."""
        return self._cl(K.CL_ARRIVED, cls)

    def exited(self, cls: str | None = None) -> float:
        """Customers who left the network after their last service."""
        return self._cl(K.CL_EXITED, cls)

    def network_abandoned(self, cls: str | None = None) -> float:
        return self._cl(K.CL_ABANDONED, cls)

    def network_blocked(self, cls: str | None = None) -> float:
        return self._cl(K.CL_BLOCKED, cls)

    def mean_sojourn(self, cls: str | None = None) -> float:
        """Mean time from entering to leaving the network, of customers who exited after service."""
        return _ratio(self._cl(K.CL_SUM_SOJOURN, cls), self.exited(cls))

    def mean_number_in_network(self) -> float:
        """Time-average number of customers at all stations (L of Little's law)."""
        return _ratio(float(self.station[:, K.ST_AREA_PRESENT].sum()), self.duration)

    def visit_time_rate(self) -> float:
        """Time spent at stations by the visits that ended in the window, per time unit.

        Served visits count wait plus service, abandoned ones their wait, blocked ones nothing:
        this is lambda x W of Little's law, equal to `mean_number_in_network` in expectation
        over a stationary window.
        """
        total = self.station_class[:, :, K.SC_SUM_SOJOURN].sum()
        total += self.station_class[:, :, K.SC_SUM_ABANDON_WAIT].sum()
        return _ratio(float(total), self.duration)


@dataclass(frozen=True)
class Records:
    """One row per customer and station visit, as columns.

    `start` is NaN for a visit that never started service (abandoned, blocked, still waiting);
    `end` is NaN while the visit is going on. `outcome` codes are in `OUTCOMES`.
    """

    network: CompiledNetwork
    customer: np.ndarray
    customer_class: np.ndarray
    station: np.ndarray
    outcome: np.ndarray
    pool: np.ndarray  # the pool that served the visit, -1 if none
    arrive: np.ndarray
    start: np.ndarray
    end: np.ndarray

    def __len__(self) -> int:
        return len(self.customer)

    @property
    def wait(self) -> np.ndarray:
        """Time from arrival at the station to the start of service (NaN if none)."""
        return self.start - self.arrive

    def as_dict(self) -> dict[str, np.ndarray]:
        """Columns with names, class and station names decoded (for pandas or Arrow)."""
        net = self.network
        return {
            "customer": self.customer,
            "customer_class": np.asarray(net.class_names, dtype=object)[self.customer_class],
            "station": np.asarray(net.station_names, dtype=object)[self.station],
            "outcome": np.asarray([OUTCOMES[i] for i in range(4)], dtype=object)[self.outcome],
            "pool": np.asarray([*net.pool_names, ""], dtype=object)[self.pool],
            "arrive": self.arrive,
            "start": self.start,
            "end": self.end,
        }
