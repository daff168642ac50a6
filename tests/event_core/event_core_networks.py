"""Random small networks for property tests, drawn with hypothesis."""

from __future__ import annotations

from hypothesis import strategies as st

from bordersim.engines.event.core import (
    Arrivals,
    BatchSize,
    CustomerClass,
    Deterministic,
    Distribution,
    Empirical,
    Exponential,
    Gamma,
    Lognormal,
    Network,
    Pool,
    Station,
)

positive = st.floats(min_value=0.2, max_value=3.0, allow_nan=False, allow_infinity=False)


@st.composite
def distributions(draw: st.DrawFn) -> Distribution:
    kind = draw(st.sampled_from(["exp", "det", "lognormal", "gamma", "empirical"]))
    mean = draw(positive)
    if kind == "exp":
        return Exponential(1.0 / mean)
    if kind == "det":
        return Deterministic(mean)
    if kind == "lognormal":
        return Lognormal(mean, draw(st.floats(0.1, 2.0)))
    if kind == "gamma":
        return Gamma(mean, draw(st.floats(0.2, 2.0)))
    return Empirical(draw(st.lists(st.floats(0.0, 3.0), min_size=1, max_size=5)))


@st.composite
def networks(draw: st.DrawFn) -> Network:
    n_st = draw(st.integers(1, 3))
    n_pools = draw(st.integers(1, 3))
    n_cls = draw(st.integers(1, 3))
    st_names = [f"s{i}" for i in range(n_st)]
    stations = [
        Station(
            name,
            service=draw(distributions()),
            capacity=draw(st.one_of(st.none(), st.integers(1, 6))),
            abandonment=draw(st.booleans()),
        )
        for name in st_names
    ]
    pools = []
    for k in range(n_pools):
        served = draw(st.lists(st.sampled_from(st_names), min_size=1, max_size=n_st, unique=True))
        schedule = draw(st.lists(st.tuples(st.floats(0.0, 40.0), st.integers(0, 4)), max_size=4))
        pools.append(
            Pool(
                f"p{k}",
                headcount=draw(st.integers(0, 4)),
                skills={s: draw(st.floats(0.5, 2.0)) for s in served},
                schedule=schedule,
            )
        )
    classes = []
    for c in range(n_cls):
        routing = {}
        for src in st_names:
            if draw(st.booleans()):
                dst = draw(st.sampled_from(st_names))
                routing[src] = {dst: draw(st.floats(0.0, 0.7))}
        classes.append(
            CustomerClass(
                f"c{c}",
                priority=draw(st.integers(0, 2)),
                patience=draw(st.one_of(st.none(), distributions())),
                routing=routing,
            )
        )
    arrivals = []
    for _ in range(draw(st.integers(1, 3))):
        rates = draw(st.lists(st.floats(0.0, 3.0), min_size=1, max_size=4))
        batch = draw(st.one_of(st.none(), st.just(BatchSize((1, 2, 5), (0.5, 0.3, 0.2)))))
        arrivals.append(
            Arrivals(
                draw(st.sampled_from(st_names)),
                f"c{draw(st.integers(0, n_cls - 1))}",
                rate=rates,
                period=draw(st.floats(0.5, 5.0)),
                cyclic=draw(st.booleans()),
                batch=batch,
            )
        )
    return Network(stations=stations, pools=pools, classes=classes, arrivals=arrivals)
