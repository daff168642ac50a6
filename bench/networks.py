"""The three benchmark networks, their parameters, and their event-core form."""

from __future__ import annotations

from dataclasses import dataclass

from bench import not_run_alone
from bordersim.engines.event.core import (
    Arrivals,
    CustomerClass,
    Exponential,
    Network,
    Pool,
    Station,
)


@dataclass(frozen=True)
class MMcParams:
    arrival_rate: float = 9.0
    service_rate: float = 1.0
    servers: int = 10  # utilisation 0.9


@dataclass(frozen=True)
class TandemParams:
    arrival_rates: tuple[float, float] = (0.3, 0.4)  # high, low priority
    stations: tuple[tuple[float, int], ...] = ((2.0, 1), (1.5, 1), (3.0, 1))  # (mu, servers)


@dataclass(frozen=True)
class ErlangAParams:
    arrival_rate: float = 9.0
    service_rate: float = 1.0
    servers: int = 10
    patience_rate: float = 0.5


MMC = MMcParams()
TANDEM = TandemParams()
ERLANG_A = ErlangAParams()


def core_mmc() -> Network:
    return Network(
        stations=[Station("queue", service=Exponential(MMC.service_rate))],
        pools=[Pool("servers", MMC.servers, {"queue": 1.0})],
        classes=[CustomerClass("customer")],
        arrivals=[Arrivals("queue", "customer", MMC.arrival_rate)],
    )


def core_erlang_a() -> Network:
    return Network(
        stations=[Station("queue", service=Exponential(ERLANG_A.service_rate))],
        pools=[Pool("servers", ERLANG_A.servers, {"queue": 1.0})],
        classes=[CustomerClass("customer", patience=Exponential(ERLANG_A.patience_rate))],
        arrivals=[Arrivals("queue", "customer", ERLANG_A.arrival_rate)],
    )


TANDEM_STATIONS = tuple(f"station{i + 1}" for i in range(len(TANDEM.stations)))


def core_tandem() -> Network:
    names = TANDEM_STATIONS
    routing = {names[i]: {names[i + 1]: 1.0} for i in range(len(names) - 1)}
    return Network(
        stations=[
            Station(n, service=Exponential(mu))
            for n, (mu, _) in zip(names, TANDEM.stations, strict=True)
        ],
        pools=[
            Pool(f"servers{i + 1}", c, {names[i]: 1.0}) for i, (_, c) in enumerate(TANDEM.stations)
        ],
        classes=[
            CustomerClass("high", priority=0, routing=routing),
            CustomerClass("low", priority=1, routing=routing),
        ],
        arrivals=[
            Arrivals(names[0], "high", TANDEM.arrival_rates[0]),
            Arrivals(names[0], "low", TANDEM.arrival_rates[1]),
        ],
    )


if __name__ == "__main__":
    not_run_alone(__doc__, __file__, "bench.peers")
