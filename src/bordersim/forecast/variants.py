"""Methods tried to beat last-month-naive, with their settings chosen on FY2011-FY2015 only.

`python -m bordersim.forecast.variants` reproduces the tables of docs/forecast.md ("Methods
tried against last month"). Three families, each a grid whose setting is chosen by a rule fixed
beforehand on target months FY2011-FY2015 (before the evaluation window), then reported on
FY2016-FY2023 once:

- `pooled_regression`: a global model (Montero-Manso and Hyndman 2021): one direct ridge
  regression per horizon h of log(1 + y[t+h]) - log(1 + y[t]), pooled over the nine sectors
  and the past origins whose target is known, on features known at the origin: the change of the
  sector's log seasonal profile between the origin's and the target's month, recent changes of
  the deseasonalised log, its distance from its 12- and 36-month means, the year-on-year change,
  the announced change of the dated regimes (`regimes.csv`), the nine sectors' mean change and
  the change of the border-wide share of families and children (leading indicators); and, for
  `bordersim.forecast.holdout`, the sector's own and the southwest total's raw log changes,
  seasonal month dummies and the regimes in force at the origin. With every
  coefficient zero it is last-month-naive; the ridge shrinks toward it (the seasonal coefficient
  is not penalised).
- `shrunk_weights`: the ensemble's inverse-MSE weights moved toward naive by a share per horizon
  (Diebold and Shin 2019 shrink combinations toward simple ones), or by a share that grows with
  recent volatility (regime-aware: one-month naive errors of the last 12 months over the ten
  years before).
- `fast_error_scales`: the conformal intervals' scale of h-month errors, multiplied by the
  growth of one-month errors over the last h months; and Mondrian conformal intervals
  (`volatility_state`) that read only the scores of origins in the same volatility state. The
  2019 surge made six-month intervals too narrow before Title 42.

None of them is part of the shipped forecast: docs/forecast.md gives why, with the numbers.
"""

from __future__ import annotations

import itertools
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date

import numpy as np

from bordersim.calibration import seasonal
from bordersim.forecast import backtest, intervals
from bordersim.forecast.methods import (
    MONTHS_PER_YEAR,
    Regressors,
    from_log,
    regime_regressors,
    to_log,
)
from bordersim.forecast.rolling import N_SECTORS, Rolling

DESIGN = (date(2010, 10, 1), date(2015, 9, 1))  # target months where settings are chosen
EVALUATION = (date(2015, 10, 1), date(2023, 9, 1))  # reported once, never used to choose
REPORTED_HORIZONS = (1, 3, 6)

FEATURE_SETS: dict[str, tuple[str, ...]] = {
    "seas": ("seas",),
    "seas+smooth": ("seas", "smooth3"),
    "seas+mom": ("seas", "mom1", "mom3"),
    "seas+rev": ("seas", "rev12", "rev36"),
    "seas+smooth+rev12": ("seas", "smooth3", "rev12"),
    "all": ("seas", "mom1", "mom3", "smooth3", "rev12", "rev36", "yoy"),
    "all+regime": ("seas", "mom1", "mom3", "smooth3", "rev12", "rev36", "yoy", "regime"),
    "seas+border": ("seas", "border3"),
    "seas+border+mix": ("seas", "border3", "mix3"),
    "all+border+mix": (
        "seas",
        "mom1",
        "mom3",
        "smooth3",
        "rev12",
        "rev36",
        "yoy",
        "border3",
        "mix3",
    ),
}
RIDGES = (0.0, 0.003, 0.03)  # penalty per row, on log-unit features
TRAINING_WINDOWS = (60, 120, 240)  # past origins (months) each regression is fitted on
UNPENALISED = ("seas", "months")
MIN_TRAINING_ORIGINS = 12  # fewer past origins: the regression is naive


@dataclass(frozen=True)
class PooledInputs:
    """What the pooled regression reads, computed once per series."""

    logs: np.ndarray  # [M, S] log(1 + y)
    fiscal_months: np.ndarray  # [M] 1..12
    origins: np.ndarray  # [O] consecutive origins
    profiles: np.ndarray  # [O, S, 12] log seasonal profile known at each origin, mean 0
    regimes: Regressors | None  # regime shares (None: no regime features)
    family_share: np.ndarray | None  # [M] border-wide share of family members and children


def seasonal_profiles(
    values: np.ndarray, fiscal_months: np.ndarray, origins: np.ndarray
) -> np.ndarray:
    """[O, S, 12] the calibration's seasonal index per sector as known at each origin, in logs."""
    out = np.zeros((origins.size, values.shape[1], MONTHS_PER_YEAR))
    for row, origin in enumerate(origins):
        for sector in range(values.shape[1]):
            index = seasonal.seasonal_indices(
                values[: origin + 1, sector], fiscal_months[: origin + 1]
            )
            logs = np.log(np.maximum(index, 1e-3))
            out[row, sector] = logs - logs.mean()
    return out


def pooled_inputs(
    values: np.ndarray,
    fiscal_months: np.ndarray,
    origins: np.ndarray,
    horizon: int,
    months: Sequence[date] | None = None,
    group_shares: np.ndarray | None = None,
) -> PooledInputs:
    values = np.asarray(values, dtype=np.float64)
    return PooledInputs(
        logs=to_log(values),
        fiscal_months=np.asarray(fiscal_months, dtype=np.int64),
        origins=np.asarray(origins, dtype=np.int64),
        profiles=seasonal_profiles(values, np.asarray(fiscal_months), np.asarray(origins)),
        regimes=None if months is None else regime_regressors(months, np.asarray(origins), horizon),
        family_share=None if group_shares is None else group_shares[:, 1:].sum(axis=1),
    )


def _profile_at(inputs: PooledInputs, positions: np.ndarray) -> np.ndarray:
    """[O, S] each origin's own profile at the fiscal month of `positions` [O] (any month)."""
    month = (inputs.fiscal_months[0] - 1 + positions) % MONTHS_PER_YEAR
    sectors = inputs.profiles.shape[1]
    return np.take_along_axis(inputs.profiles, np.repeat(month[:, None, None], sectors, 1), 2)[
        ..., 0
    ]


def features(
    inputs: PooledInputs, horizon: int, names: Sequence[str]
) -> tuple[np.ndarray, list[str]]:
    """[O, S, F] features at each origin for `horizon`, and their names."""
    t = inputs.origins
    if int(t.min()) < 35:
        raise ValueError("pooled features need 36 months before every origin")

    def deseasonalised(back: int) -> np.ndarray:
        return inputs.logs[t - back] - _profile_at(inputs, t - back)

    columns: dict[str, np.ndarray] = {}
    if "seas" in names:
        columns["seas"] = _profile_at(inputs, t + horizon) - _profile_at(inputs, t)
    if "mom1" in names:
        columns["mom1"] = deseasonalised(0) - deseasonalised(1)
    if "mom3" in names:
        columns["mom3"] = deseasonalised(0) - deseasonalised(3)
    if "smooth3" in names:
        columns["smooth3"] = np.mean(
            [deseasonalised(j) for j in range(3)], axis=0
        ) - deseasonalised(0)
    if "rev12" in names:
        columns["rev12"] = np.mean([deseasonalised(j) for j in range(12)], axis=0) - deseasonalised(
            0
        )
    if "rev36" in names:
        columns["rev36"] = np.mean([deseasonalised(j) for j in range(35)], axis=0) - deseasonalised(
            0
        )
    if "yoy" in names:
        columns["yoy"] = inputs.logs[t] - inputs.logs[t - MONTHS_PER_YEAR]
    if "regime" in names:
        if inputs.regimes is None:
            raise ValueError("regime features need the months")
        change = inputs.regimes.future[:, horizon - 1] - inputs.regimes.past[t]  # [O, R]
        for column in range(change.shape[1]):
            columns[f"regime{column}"] = np.repeat(
                change[:, column : column + 1], inputs.logs.shape[1], 1
            )
    if "border3" in names:  # the nine sectors' mean deseasonalised change over 3 months
        change = (deseasonalised(0) - deseasonalised(3)).mean(axis=1, keepdims=True)
        columns["border3"] = np.repeat(change, inputs.logs.shape[1], 1)
    if "mix3" in names:  # surges of families and children were led by their share
        if inputs.family_share is None:
            raise ValueError("the mix feature needs the group shares")
        mix = inputs.family_share[t] - inputs.family_share[t - 3]
        columns["mix3"] = np.repeat(mix[:, None], inputs.logs.shape[1], 1)
    if "own1" in names:  # the sector's own last changes, raw (no seasonal adjustment)
        columns["own1"] = inputs.logs[t] - inputs.logs[t - 1]
    if "own3" in names:
        columns["own3"] = inputs.logs[t] - inputs.logs[t - 3]
    for back in (1, 3):  # the southwest total's last changes (the nine sectors' sum)
        if f"swb{back}" in names:
            total = np.log1p(np.expm1(inputs.logs).sum(axis=1))
            change = (total[t] - total[t - back])[:, None]
            columns[f"swb{back}"] = np.repeat(change, inputs.logs.shape[1], 1)
    if "months" in names:  # seasonal dummies: +1 at the target's month, -1 at the origin's
        first = inputs.fiscal_months[0] - 1
        for month in range(1, MONTHS_PER_YEAR):  # month 0 is the reference
            dummy = ((first + t + horizon) % MONTHS_PER_YEAR == month).astype(float) - (
                (first + t) % MONTHS_PER_YEAR == month
            ).astype(float)
            columns[f"months{month}"] = np.repeat(dummy[:, None], inputs.logs.shape[1], 1)
    if "regime_now" in names:  # each regime's share of days in force in the origin's month
        if inputs.regimes is None:
            raise ValueError("regime features need the months")
        for column in range(inputs.regimes.past.shape[1]):
            now = inputs.regimes.past[t, column : column + 1]
            columns[f"regime_now{column}"] = np.repeat(now, inputs.logs.shape[1], 1)
    if "const" in names:
        columns["const"] = np.ones((t.size, inputs.logs.shape[1]))
    keys = list(columns)
    return np.stack([columns[k] for k in keys], axis=-1), keys


def pooled_regression(
    inputs: PooledInputs,
    horizon: int,
    names: Sequence[str],
    ridge: float = 0.0,
    window: int = 120,
) -> np.ndarray:
    """[O, S, H] level forecasts: one pooled ridge regression per horizon and origin.

    At origin T and horizon h it is fitted on the origins t with t + h <= T (their targets are
    known) within the last `window`, all sectors pooled, and forecasts log(1 + y[T]) + x_T b.
    """
    logs, origins = inputs.logs, inputs.origins
    months, sectors = logs.shape
    out = np.empty((origins.size, sectors, horizon))
    for h in range(1, horizon + 1):
        x, keys = features(inputs, h, names)
        targets = origins + h
        change = np.full((origins.size, sectors), np.nan)
        known = targets < months
        change[known] = logs[targets[known]] - logs[origins[known]]
        penalty = np.diag([0.0 if k.rstrip("0123456789") in UNPENALISED else 1.0 for k in keys])
        for row, origin in enumerate(origins):
            past = np.flatnonzero((origins <= origin - h) & (origins > origin - h - window))
            coefficients = np.zeros(len(keys))
            if past.size >= MIN_TRAINING_ORIGINS:
                design = x[past].reshape(-1, len(keys))
                response = change[past].reshape(-1)
                gram = design.T @ design + ridge * response.size * penalty
                gram += 1e-9 * np.eye(len(keys))  # a feature constant at zero (a regime) stays 0
                coefficients = np.linalg.solve(gram, design.T @ response)
            out[row, :, h - 1] = logs[origin] + x[row] @ coefficients
    return from_log(out)


def shrunk_weights(weights: np.ndarray, shares: np.ndarray, naive_member: int) -> np.ndarray:
    """[O, H, members] weights moved toward naive by `shares` ([O, H] or [H], each in 0..1)."""
    shares = np.clip(np.broadcast_to(np.asarray(shares, dtype=np.float64), weights.shape[:2]), 0, 1)
    naive = np.zeros(weights.shape[-1])
    naive[naive_member] = 1.0
    return (1.0 - shares[..., None]) * weights + shares[..., None] * naive


def volatility_ratio(naive_errors: np.ndarray, origins: np.ndarray, recent: int = 12) -> np.ndarray:
    """[O] rms of one-month naive log errors over the last `recent` months known at each origin,
    over their rms in the ten years before (sectors pooled)."""
    out = np.ones(origins.size)
    for row, origin in enumerate(origins):
        latest = origin - 1
        recent_errors = naive_errors[(origins <= latest) & (origins > latest - recent)]
        decade = naive_errors[(origins <= latest) & (origins > latest - 120)]
        if np.isfinite(recent_errors).sum() and np.isfinite(decade).sum():
            out[row] = np.sqrt(np.nanmean(recent_errors**2) / np.nanmean(decade**2))
    return out


def fast_error_scales(
    errors: np.ndarray,
    one_month_errors: np.ndarray,
    origins: np.ndarray,
    horizon: int,
    months: int = 12,
    recent: int = 6,
    cap: float | None = None,
    floor: bool = True,
) -> np.ndarray:
    """[O, K] scale of `horizon`-month errors times the growth of one-month errors since.

    Both scales read errors of target months up to the origin T, but the h-month scale averages
    the last `months` of them, forecast from origins h months earlier still. The factor is the
    rms of the one-month errors of the last `recent` target months over their rms over the
    `months` target months up to T - h + 1: how much more volatile the months have become over
    the last h months. `floor` keeps the factor at least 1, `cap` at most that.
    """
    base = _scales(errors, origins, horizon, months, intervals.MIN_SCALE_ERRORS)
    now = _scales(one_month_errors, origins, 1, recent, min(intervals.MIN_SCALE_ERRORS, recent))
    then = _scales(one_month_errors, origins, 1, months, intervals.MIN_SCALE_ERRORS)
    lagged = np.full_like(then, np.nan)
    lagged[horizon - 1 :] = then[: then.shape[0] - (horizon - 1)]
    with np.errstate(invalid="ignore", divide="ignore"):
        factor = now / lagged
    factor = np.where(np.isfinite(factor), factor, 1.0)
    if floor:
        factor = np.maximum(factor, 1.0)
    if cap is not None:
        factor = np.minimum(factor, cap)
    return base * factor


def _scales(
    errors: np.ndarray, origins: np.ndarray, horizon: int, months: int, least: int
) -> np.ndarray:
    scales = np.full(errors.shape, np.nan)
    for row, origin in enumerate(origins):
        past = errors[intervals.past_error_rows(origins, int(origin), horizon, months)]
        counts = np.isfinite(past).sum(axis=0)
        with np.errstate(invalid="ignore"):
            rms = np.sqrt(np.nanmean(past**2, axis=0)) if past.size else np.nan
        scales[row] = np.where((counts >= least) & (rms > 0), rms, np.nan)
    return scales


# --- The study: every variant on both windows (python -m bordersim.forecast.variants) ---


@dataclass(frozen=True)
class Study:
    rolling: Rolling  # the shipped methods and ensemble at every origin
    design: tuple[int, int]  # target positions, first and last
    evaluation: tuple[int, int]
    scale: np.ndarray  # [M, 10] MASE scale (backtest.naive_scale)
    future: np.ndarray  # [O, 10, H] log actual at each origin's targets (NaN unknown)


def study(rolling: Rolling) -> Study:
    series, horizon = rolling.series, rolling.horizon
    targets = rolling.origins[:, None] + np.arange(1, horizon + 1)[None, :]
    future = np.full((rolling.origins.size, rolling.actual.shape[1], horizon), np.nan)
    log_actual = to_log(rolling.actual)
    for h in range(horizon):
        known = targets[:, h] < rolling.actual.shape[0]
        future[known, :, h] = log_actual[targets[known, h]]
    return Study(
        rolling=rolling,
        design=(series.index_of(DESIGN[0], "design"), series.index_of(DESIGN[1], "design")),
        evaluation=(
            series.index_of(EVALUATION[0], "evaluation"),
            series.index_of(EVALUATION[1], "evaluation"),
        ),
        scale=backtest.naive_scale(rolling.actual),
        future=future,
    )


def _scaled_errors(
    s: Study, sectors: np.ndarray, horizon: int, window: tuple[int, int]
) -> np.ndarray:
    """[targets, 9] |forecast - actual| / scale, as the back-test (`sectors` [O, >=9, H])."""
    targets = np.arange(window[0], window[1] + 1)
    origins = targets - horizon
    forecast = sectors[origins - s.rolling.origins[0], :N_SECTORS, horizon - 1]
    actual = s.rolling.actual[targets, :N_SECTORS]
    return np.abs(forecast - actual) / s.scale[origins, :N_SECTORS]


def window_losses(
    s: Study, sectors: np.ndarray, horizon: int, window: tuple[int, int]
) -> np.ndarray:
    """[targets] mean scaled error over the nine sectors (the paired comparisons' loss)."""
    return np.nanmean(_scaled_errors(s, sectors, horizon, window), axis=1)


def mase(s: Study, sectors: np.ndarray, horizon: int, window: tuple[int, int]) -> float:
    """The back-test's MASE, mean over the nine sectors (each sector's mean, then their mean)."""
    per_sector = np.nanmean(_scaled_errors(s, sectors, horizon, window), axis=0)
    return float(np.nanmean(per_sector))


def scores(s: Study, sectors: np.ndarray, window: tuple[int, int]) -> list[float]:
    return [mase(s, sectors, h, window) for h in REPORTED_HORIZONS]


def combination(
    s: Study, members: dict[str, np.ndarray], shares: np.ndarray | None = None
) -> np.ndarray:
    """[O, 9, H] the ensemble rule (inverse MSE over 24 months) over `members` ([O, >=9, H] each),
    its weights moved toward naive by `shares` ([O, H]) if given."""
    from bordersim.forecast import ensemble

    names = list(members)
    logs = np.stack([to_log(members[m][:, :N_SECTORS]) for m in names])
    errors = s.future[None, :, :N_SECTORS] - logs
    origins, horizon = s.rolling.origins, s.rolling.horizon
    weights = np.empty((origins.size, horizon, len(names)))
    for row in range(origins.size):
        for h in range(1, horizon + 1):
            weights[row, h - 1] = ensemble.weights_at(errors, origins, row, h)
    if shares is not None:
        weights = shrunk_weights(weights, shares, names.index("naive"))
    return from_log(np.einsum("rhm,mrsh->rsh", weights, logs))


def coverage(
    s: Study,
    scales: dict[int, np.ndarray],
    window: tuple[int, int],
    pooled_with_total: bool = False,
    state: np.ndarray | None = None,
) -> list[tuple[float, float]]:
    """Coverage in per cent (80 %, 95 %) of the shipped ensemble's conformal intervals built on
    `scales` (horizon -> [O, 10]) at each reported horizon: the sectors' mean, or with
    `pooled_with_total` the share over the nine sectors and the southwest total together (as
    the back-test's table by Title 42 segment)."""
    out = []
    for h in REPORTED_HORIZONS:
        lower, upper = _bands(s, scales[h], h, state)
        rows = np.arange(window[0], window[1] + 1) - h - s.rolling.origins[0]
        errors = s.rolling.errors["ensemble"][rows, :, h - 1]
        pair = []
        for level in intervals.LEVELS:
            low, high = lower[level][rows], upper[level][rows]
            if pooled_with_total:
                pair.append(100.0 * intervals.coverage(errors.ravel(), low.ravel(), high.ravel()))
                continue
            per_sector = [
                intervals.coverage(errors[:, k], low[:, k], high[:, k]) for k in range(N_SECTORS)
            ]
            pair.append(100.0 * float(np.nanmean(per_sector)))
        out.append((pair[0], pair[1]))
    return out


def _bands(
    s: Study, scale: np.ndarray, horizon: int, state: np.ndarray | None = None
) -> tuple[dict[float, np.ndarray], dict[float, np.ndarray]]:
    """Log-error bands of the ensemble's conformal intervals at every origin, from `scale`."""
    errors = s.rolling.errors["ensemble"][:, :, horizon - 1]
    with np.errstate(invalid="ignore"):
        scaled = errors / scale
    lower: dict[float, np.ndarray] = {}
    upper: dict[float, np.ndarray] = {}
    origins = s.rolling.origins
    for level in intervals.LEVELS:
        tail = (1.0 - level) / 2.0
        low, high = np.full(errors.shape, np.nan), np.full(errors.shape, np.nan)
        for row in range(origins.size):
            pool = scaled if state is None else np.where(state == state[row], scaled, np.nan)
            low[row] = intervals.scaled_quantiles(
                pool, scale, origins, row, horizon, tail, N_SECTORS
            )
            high[row] = intervals.scaled_quantiles(
                pool, scale, origins, row, horizon, 1 - tail, N_SECTORS
            )
        lower[level], upper[level] = low, high
    return lower, upper


def coverage_gap(pairs: list[tuple[float, float]]) -> float:
    return sum(abs(c80 - 80.0) + abs(c95 - 95.0) for c80, c95 in pairs)


def shipped_scales(s: Study, months: int = intervals.SCALE_MONTHS) -> dict[int, np.ndarray]:
    errors = s.rolling.errors["ensemble"]
    return {
        h: _scales(errors[:, :, h - 1], s.rolling.origins, h, months, intervals.MIN_SCALE_ERRORS)
        for h in REPORTED_HORIZONS
    }


def _ratios(values: list[float], reference: list[float]) -> str:
    return " ".join(f"{100.0 * (v / r - 1.0):+.1f}" for v, r in zip(values, reference, strict=True))


def _mase_row(name: str, s: Study, sectors: np.ndarray, naive: np.ndarray) -> tuple[float, str]:
    """(design mean ratio to naive, a markdown row: MASE and % against naive on both windows)."""
    design, evaluation = scores(s, sectors, s.design), scores(s, sectors, s.evaluation)
    naive_design, naive_evaluation = scores(s, naive, s.design), scores(s, naive, s.evaluation)
    ratio = float(np.mean([v / r for v, r in zip(design, naive_design, strict=True)]))
    cells = (
        " ".join(f"{v:.3f}" for v in design),
        _ratios(design, naive_design),
        " ".join(f"{v:.2f}" for v in evaluation),
        _ratios(evaluation, naive_evaluation),
    )
    return ratio, f"| {name} | " + " | ".join(cells) + " |"


def _paired_text(s: Study, sectors: np.ndarray, naive: np.ndarray) -> str:
    parts = []
    for h in REPORTED_HORIZONS:
        difference = backtest.paired_difference(
            window_losses(s, sectors, h, s.evaluation),
            window_losses(s, naive, h, s.evaluation),
            "variant",
            "naive",
            h,
        )
        parts.append(
            f"h={h}: {difference.mean_difference:+.3f} "
            f"({difference.lower:+.2f} .. {difference.upper:+.2f})"
        )
    return "; ".join(parts)


MASE_HEADER = (
    "| variant | MASE FY2011-15 (1, 3, 6) | % vs naive | MASE FY2016-23 (1, 3, 6) | % vs naive |\n"
    "| --- | --- | --- | --- | --- |"
)


def pooled_study(s: Study, inputs: PooledInputs) -> list[str]:
    """Every pooled-regression setting; the rule: the lowest mean ratio to naive on FY2011-15."""
    naive = s.rolling.levels["naive"]
    lines = []
    chosen: tuple[float, str, np.ndarray] | None = None
    grid = itertools.product(FEATURE_SETS.items(), RIDGES, TRAINING_WINDOWS, (False, True))
    for (label, names), ridge, window, constant in grid:
        used = (*names, "const") if constant else names
        levels = pooled_regression(inputs, s.rolling.horizon, used, ridge, window)
        name = f"{label}{'+const' if constant else ''}, ridge {ridge}, {window} origins"
        ratio, row = _mase_row(name, s, levels, naive)
        lines.append((ratio, row))
        if chosen is None or ratio < chosen[0]:
            chosen = (ratio, name, levels)
    assert chosen is not None
    lines.sort(key=lambda item: item[0])
    out = ["### Pooled regression (sorted by FY2011-15 score)", "", MASE_HEADER]
    out += [row for _, row in lines]
    out += [
        "",
        f"Chosen on FY2011-15: {chosen[1]}. "
        f"FY2016-23 paired vs naive: {_paired_text(s, chosen[2], naive)}",
    ]
    pooled_member = chosen[2]
    ensemble_plus = combination(s, {**_members(s), "pooled": pooled_member})
    out += [
        "",
        MASE_HEADER,
        _mase_row("ensemble (shipped)", s, s.rolling.levels["ensemble"], naive)[1],
    ]
    out += [_mase_row("ensemble + chosen pooled regression", s, ensemble_plus, naive)[1]]
    return out


def _members(s: Study) -> dict[str, np.ndarray]:
    from bordersim.forecast import ensemble

    return {m: s.rolling.levels[m] for m in ensemble.ENSEMBLE_MEMBERS}


SHRINK_SHARES = (0.0, 0.1, 0.2, 0.3, 0.4, 0.5)
VOLATILITY_SLOPES = (0.25, 0.5, 1.0, 2.0)


def shrinkage_study(s: Study) -> list[str]:
    """Weights shrunk toward naive: a share per horizon chosen on FY2011-15 (lowest MASE at
    that horizon), and a share growing with recent volatility."""
    naive, members = s.rolling.levels["naive"], _members(s)
    horizon, origins = s.rolling.horizon, s.rolling.origins
    out = ["### Combination weights shrunk toward naive", "", MASE_HEADER]
    by_share = {}
    for share in SHRINK_SHARES:
        levels = combination(s, members, np.full((origins.size, horizon), share))
        by_share[share] = levels
        out.append(_mase_row(f"share {share} at every horizon", s, levels, naive)[1])
    chosen = [
        min(SHRINK_SHARES, key=lambda share: mase(s, by_share[share], h, s.design))
        for h in range(1, horizon + 1)
    ]
    per_horizon = combination(s, members, np.tile(chosen, (origins.size, 1)))
    out.append(
        _mase_row(
            f"share per horizon 1..{horizon} {chosen} (chosen on FY2011-15)", s, per_horizon, naive
        )[1]
    )
    naive_errors = s.rolling.errors["naive"][:, :N_SECTORS, 0]
    ratio = volatility_ratio(naive_errors, origins)
    for slope in VOLATILITY_SLOPES:
        shares = np.repeat(np.clip(slope * (ratio - 1.0), 0.0, 1.0)[:, None], horizon, 1)
        levels = combination(s, members, shares)
        out.append(_mase_row(f"share {slope} x (volatility ratio - 1)", s, levels, naive)[1])
    out += [
        "",
        "FY2016-23 paired vs naive, share per horizon: " + _paired_text(s, per_horizon, naive),
    ]
    return out


MONDRIAN_THRESHOLDS = (1.25, 1.5, 2.0)


def volatility_state(
    one_month_errors: np.ndarray, origins: np.ndarray, threshold: float, recent: int = 6
) -> np.ndarray:
    """[O, K] 1 where one-month errors of the last `recent` targets known at the origin are more
    than `threshold` times their rms over ten years, else 0 (Mondrian conformal: a volatile
    origin reads only the scores of volatile origins; Vovk et al. 2005, ch. 4.5)."""
    least = min(intervals.MIN_SCALE_ERRORS, recent)
    now = _scales(one_month_errors, origins, 1, recent, least)
    decade = _scales(one_month_errors, origins, 1, 120, intervals.MIN_SCALE_ERRORS)
    with np.errstate(invalid="ignore"):
        return (now > threshold * decade).astype(np.int64)


def interval_study(s: Study) -> list[str]:
    """Fast scales: every setting; the rule: the smallest sum of coverage gaps on FY2011-15."""
    errors = s.rolling.errors["ensemble"]
    before_title42 = (s.evaluation[0], s.rolling.series.index_of(date(2020, 2, 1), "Title 42"))
    header = (
        "| scale | FY2011-15 80/95 (1, 3, 6) | gap | FY2016-23 | gap | before Title 42 |\n"
        "| --- | --- | ---: | --- | ---: | --- |"
    )
    rows: list[tuple[float, str]] = []

    def row(name: str, scales: dict[int, np.ndarray], state: np.ndarray | None = None) -> None:
        design = coverage(s, scales, s.design, state=state)
        evaluation = coverage(s, scales, s.evaluation, state=state)
        before = coverage(s, scales, before_title42, pooled_with_total=True, state=state)
        cells = [
            ", ".join(f"{a:.0f}/{b:.0f}" for a, b in design),
            f"{coverage_gap(design):.1f}",
            ", ".join(f"{a:.0f}/{b:.0f}" for a, b in evaluation),
            f"{coverage_gap(evaluation):.1f}",
            ", ".join(f"{a:.0f}/{b:.0f}" for a, b in before),
        ]
        rows.append((coverage_gap(design), f"| {name} | " + " | ".join(cells) + " |"))

    for months in (12, 24):
        row(f"shipped rule, {months} months", shipped_scales(s, months))
    grid = itertools.product((12, 24), (3, 4, 6, 9), (None, 2.0, 3.0), (True, False))
    for months, recent, cap, floor in grid:
        scales = {
            h: fast_error_scales(
                errors[:, :, h - 1],
                errors[:, :, 0],
                s.rolling.origins,
                h,
                months,
                recent,
                cap,
                floor,
            )
            for h in REPORTED_HORIZONS
        }
        row(f"fast: {months} months, recent {recent}, cap {cap}, floor {floor}", scales)
    for threshold in MONDRIAN_THRESHOLDS:
        state = volatility_state(errors[:, :, 0], s.rolling.origins, threshold)
        row(
            f"shipped rule, scores of the same volatility state ({threshold})",
            shipped_scales(s),
            state,
        )
    rows.sort(key=lambda item: item[0])
    return [
        "### Interval scales (sorted by FY2011-15 gap)",
        "",
        header,
        *[text for _, text in rows],
    ]


def study_arguments(module: str, doc: str | None, argv: Sequence[str] | None) -> None:
    """`python -m MODULE --help` prints what the study does and exits; any argument is refused
    (status 2), before the store is opened and the minute-long study starts."""
    import argparse

    parser = argparse.ArgumentParser(
        prog=f"python -m {module}",
        description=doc,
        epilog="It reads the store at $BORDERSIM_STORE, else ./.bordersim/bordersim.duckdb\n"
        "(the shipped files are imported into it if it holds no workbook), and prints\n"
        "markdown tables. It takes no arguments but --help.",
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.parse_args(argv)


def main(argv: Sequence[str] | None = None) -> None:
    from bordersim.commands.forecast import read_series
    from bordersim.forecast.methods import default_jobs
    from bordersim.forecast.rolling import compute, origin_range

    study_arguments("bordersim.forecast.variants", __doc__, argv)
    series = read_series(None)
    last = series.index_of(EVALUATION[1], "evaluation")
    rolling = compute(series, origin_range(last), 6, jobs=default_jobs())
    s = study(rolling)
    inputs = pooled_inputs(
        series.sectors,
        series.fiscal_months,
        rolling.origins,
        6,
        series.months,
        series.group_shares(),
    )
    for block in (pooled_study(s, inputs), shrinkage_study(s), interval_study(s)):
        print("\n".join(block), end="\n\n")


if __name__ == "__main__":
    main()
