"""The benchmark networks written idiomatically in SimPy, Ciw and salabim.

Each function simulates `n` arrivals with one seed and returns, in arrival order, every
customer's wait in queue (summed over stations; for an abandoning customer, the time until it
left) and whether it abandoned, plus its class. The same parameters as `bench.networks`.
"""

from __future__ import annotations

import random
from dataclasses import dataclass

import numpy as np

from bench import not_run_alone
from bench.networks import ERLANG_A, MMC, TANDEM


@dataclass
class PeerRun:
    waits: np.ndarray  # per customer, in arrival order
    abandoned: np.ndarray  # bool per customer
    customer_class: np.ndarray  # 0 high, 1 low (tandem); 0 elsewhere
    arrivals: int  # customers generated


def _collect(records: dict[int, list[float]], n: int) -> PeerRun:
    keys = sorted(records)
    arr = np.array([records[k] for k in keys], dtype=float).reshape(len(keys), 3)
    return PeerRun(arr[:, 0], arr[:, 1] > 0, arr[:, 2].astype(int), n)


# --------------------------------------------------------------------------- SimPy


def simpy_mmc(n: int, seed: int) -> PeerRun:
    import simpy

    rnd = random.Random(seed)
    env = simpy.Environment()
    servers = simpy.Resource(env, capacity=MMC.servers)
    out: dict[int, list[float]] = {}

    def customer(i: int):
        arrived = env.now
        with servers.request() as req:
            yield req
            out[i] = [env.now - arrived, 0.0, 0.0]
            yield env.timeout(rnd.expovariate(MMC.service_rate))

    def source():
        for i in range(n):
            yield env.timeout(rnd.expovariate(MMC.arrival_rate))
            env.process(customer(i))

    env.process(source())
    env.run()
    return _collect(out, n)


def simpy_tandem(n: int, seed: int) -> PeerRun:
    import simpy

    rnd = random.Random(seed)
    env = simpy.Environment()
    stations = [simpy.PriorityResource(env, capacity=c) for _, c in TANDEM.stations]
    out: dict[int, list[float]] = {}
    total = sum(TANDEM.arrival_rates)

    def customer(i: int, cls: int):
        waited = 0.0
        for station, (mu, _) in zip(stations, TANDEM.stations, strict=True):
            arrived = env.now
            with station.request(priority=cls) as req:
                yield req
                waited += env.now - arrived
                yield env.timeout(rnd.expovariate(mu))
        out[i] = [waited, 0.0, float(cls)]

    def source():
        # One merged Poisson stream, each arrival high with probability lambda_high / lambda.
        for i in range(n):
            yield env.timeout(rnd.expovariate(total))
            cls = 0 if rnd.random() < TANDEM.arrival_rates[0] / total else 1
            env.process(customer(i, cls))

    env.process(source())
    env.run()
    return _collect(out, n)


def simpy_erlang_a(n: int, seed: int) -> PeerRun:
    import simpy

    rnd = random.Random(seed)
    env = simpy.Environment()
    servers = simpy.Resource(env, capacity=ERLANG_A.servers)
    out: dict[int, list[float]] = {}

    def customer(i: int):
        arrived = env.now
        with servers.request() as req:
            result = yield req | env.timeout(rnd.expovariate(ERLANG_A.patience_rate))
            if req in result:
                out[i] = [env.now - arrived, 0.0, 0.0]
                yield env.timeout(rnd.expovariate(ERLANG_A.service_rate))
            else:
                out[i] = [env.now - arrived, 1.0, 0.0]

    def source():
        for i in range(n):
            yield env.timeout(rnd.expovariate(ERLANG_A.arrival_rate))
            env.process(customer(i))

    env.process(source())
    env.run()
    return _collect(out, n)


# --------------------------------------------------------------------------- Ciw


def _ciw_run(network, n: int, rate: float, seed: int):
    import ciw

    ciw.seed(seed)
    sim = ciw.Simulation(network)
    sim.simulate_until_max_time(n / rate)
    return sim


def ciw_mmc(n: int, seed: int) -> PeerRun:
    import ciw

    net = ciw.create_network(
        arrival_distributions=[ciw.dists.Exponential(MMC.arrival_rate)],
        service_distributions=[ciw.dists.Exponential(MMC.service_rate)],
        number_of_servers=[MMC.servers],
    )
    sim = _ciw_run(net, n, MMC.arrival_rate, seed)
    out = {r.id_number: [r.waiting_time, 0.0, 0.0] for r in sim.get_all_records()}
    return _collect(out, sim.nodes[0].number_of_individuals)


def ciw_tandem(n: int, seed: int) -> PeerRun:
    import ciw

    k = len(TANDEM.stations)
    routing = [[1.0 if j == i + 1 else 0.0 for j in range(k)] for i in range(k)]
    service = [ciw.dists.Exponential(mu) for mu, _ in TANDEM.stations]
    net = ciw.create_network(
        arrival_distributions={
            cls: [ciw.dists.Exponential(rate)] + [None] * (k - 1)
            for cls, rate in zip(("high", "low"), TANDEM.arrival_rates, strict=True)
        },
        service_distributions={"high": service, "low": service},
        routing={"high": routing, "low": routing},
        number_of_servers=[c for _, c in TANDEM.stations],
        priority_classes={"high": 0, "low": 1},
    )
    sim = _ciw_run(net, n, sum(TANDEM.arrival_rates), seed)
    waits: dict[int, list[float]] = {}
    visits: dict[int, int] = {}
    for r in sim.get_all_records():
        row = waits.setdefault(r.id_number, [0.0, 0.0, 0.0 if r.customer_class == "high" else 1.0])
        row[0] += r.waiting_time
        visits[r.id_number] = visits.get(r.id_number, 0) + 1
    done = {i: row for i, row in waits.items() if visits[i] == k}
    return _collect(done, sim.nodes[0].number_of_individuals)


def ciw_erlang_a(n: int, seed: int) -> PeerRun:
    import ciw

    net = ciw.create_network(
        arrival_distributions=[ciw.dists.Exponential(ERLANG_A.arrival_rate)],
        service_distributions=[ciw.dists.Exponential(ERLANG_A.service_rate)],
        number_of_servers=[ERLANG_A.servers],
        reneging_time_distributions=[ciw.dists.Exponential(ERLANG_A.patience_rate)],
    )
    sim = _ciw_run(net, n, ERLANG_A.arrival_rate, seed)
    out = {
        r.id_number: [r.waiting_time, 1.0 if r.record_type == "renege" else 0.0, 0.0]
        for r in sim.get_all_records()
    }
    return _collect(out, sim.nodes[0].number_of_individuals)


# --------------------------------------------------------------------------- salabim


def _salabim(network: str, n: int, seed: int) -> PeerRun:
    import salabim as sim

    sim.yieldless(False)
    rnd = random.Random(seed)
    env = sim.Environment(trace=False, random_seed=seed)
    out: dict[int, list[float]] = {}

    if network == "mmc":
        p = MMC
        servers = sim.Resource("servers", capacity=p.servers)

        class Customer(sim.Component):
            def setup(self, i: int) -> None:
                self.i = i

            def process(self):
                arrived = env.now()
                yield self.request(servers)
                out[self.i] = [env.now() - arrived, 0.0, 0.0]
                yield self.hold(rnd.expovariate(p.service_rate))
                self.release()

        def make(i: int) -> None:
            Customer(i=i)

        rate = p.arrival_rate
    elif network == "erlang-a":
        q = ERLANG_A
        servers = sim.Resource("servers", capacity=q.servers)

        class Impatient(sim.Component):
            def setup(self, i: int) -> None:
                self.i = i

            def process(self):
                arrived = env.now()
                yield self.request(servers, fail_delay=rnd.expovariate(q.patience_rate))
                if self.failed():
                    out[self.i] = [env.now() - arrived, 1.0, 0.0]
                    return
                out[self.i] = [env.now() - arrived, 0.0, 0.0]
                yield self.hold(rnd.expovariate(q.service_rate))
                self.release()

        def make(i: int) -> None:
            Impatient(i=i)

        rate = q.arrival_rate
    else:
        t = TANDEM
        stations = [sim.Resource(f"station{j}", capacity=c) for j, (_, c) in enumerate(t.stations)]
        rate = sum(t.arrival_rates)

        class Routed(sim.Component):
            def setup(self, i: int, cls: int) -> None:
                self.i = i
                self.cls = cls

            def process(self):
                waited = 0.0
                for station, (mu, _) in zip(stations, t.stations, strict=True):
                    arrived = env.now()
                    # salabim serves lower priority values first, as the core does.
                    yield self.request((station, 1, self.cls))
                    waited += env.now() - arrived
                    yield self.hold(rnd.expovariate(mu))
                    self.release(station)
                out[self.i] = [waited, 0.0, float(self.cls)]

        def make(i: int) -> None:
            Routed(i=i, cls=0 if rnd.random() < t.arrival_rates[0] / rate else 1)

    class Source(sim.Component):
        def process(self):
            for i in range(n):
                yield self.hold(rnd.expovariate(rate))
                make(i)

    Source()
    env.run()
    return _collect(out, n)


def salabim_mmc(n: int, seed: int) -> PeerRun:
    return _salabim("mmc", n, seed)


def salabim_tandem(n: int, seed: int) -> PeerRun:
    return _salabim("tandem", n, seed)


def salabim_erlang_a(n: int, seed: int) -> PeerRun:
    return _salabim("erlang-a", n, seed)


if __name__ == "__main__":
    not_run_alone(__doc__, __file__, "bench.peers")
