"""Methods tried against last month with a design window in the volatile years and a holdout.

`python -m bordersim.forecast.holdout` reproduces the tables of docs/forecast.md ("Design on
FY2016-FY2020, holdout FY2021-FY2023"). Every setting of every family below is scored on target
months FY2016-FY2020 (the design window, which holds the 2019 surge and the start of Title 42),
chosen there by a rule fixed beforehand, then reported on FY2021-FY2023 (the holdout: Title 42,
its end and the surges of 2021-2023) and on the whole of FY2016-FY2023. Every forecast still
uses only the data before its origin; the windows only decide which target months score.

Point-forecast families (rule: the lowest mean, over 1, 3 and 6 months, of the sectors' MASE over
last-month-naive's on the design window):
- `damped_growth`: last month moved by its recent log growth, damped (Gardner and McKenzie 1985,
  on the log scale), optionally on the seasonally adjusted log with the seasonal change added;
- `power_combination`: the shipped members, with or without a damped-growth member, weighted by
  their mean squared log error over a trailing window to a power (1 is the shipped rule, larger
  powers lean toward the recently best member);
- the pooled regression of `variants` (a global model; Montero-Manso and Hyndman 2021) with its
  feature sets, and with the features this window allows to matter: the sector's own and the
  southwest total's last log changes, seasonal month dummies and the dated regimes.

Interval family (rule: coverage within 5 points of nominal in every cell on the design window,
and of those the lowest mean interval score (Gneiting and Raftery 2007), a proper score that
also rewards narrow intervals):
- `adaptive_bands`: the shipped scaled split-conformal intervals, with the level updated after
  every miss or hit of the same sector h months before (adaptive conformal inference, Gibbs and
  Candes 2021), or with the width so updated (quantile tracking; Angelopoulos, Candes and
  Tibshirani 2023).

None of them is part of the shipped forecast: docs/forecast.md gives why, with the numbers.
"""

from __future__ import annotations

import itertools
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date

import numpy as np

from bordersim.forecast import backtest, ensemble, intervals, variants
from bordersim.forecast.methods import from_log, to_log
from bordersim.forecast.rolling import N_SECTORS, Rolling

DESIGN = (date(2015, 10, 1), date(2020, 9, 1))  # target months where settings are chosen
HOLDOUT = (date(2020, 10, 1), date(2023, 9, 1))  # reported, never used to choose
FULL = (DESIGN[0], HOLDOUT[1])
TITLE42 = (date(2020, 3, 1), date(2023, 4, 1))  # target months wholly or mostly under Title 42
REPORTED_HORIZONS = variants.REPORTED_HORIZONS

DAMPING = (0.2, 0.4, 0.6, 0.8)
GROWTH_MONTHS = (1, 3, 6)
COMBINATION_WINDOWS = (12, 24, 36)  # trailing target months behind the weights
COMBINATION_POWERS = (1.0, 2.0, 4.0)  # weight = MSE^-power; 1 is the shipped rule
GLOBAL_FEATURE_SETS: dict[str, tuple[str, ...]] = {
    "months": ("months",),
    "own+months": ("own1", "own3", "months"),
    "swb+months": ("swb1", "swb3", "months"),
    "own+swb+months": ("own1", "own3", "swb1", "swb3", "months"),
    "own+swb+months+regime": ("own1", "own3", "swb1", "swb3", "months", "regime", "regime_now"),
}
GLOBAL_RIDGES = (0.0, 0.003, 0.03, 0.3)
ADAPTIVE_STEPS = (0.005, 0.01, 0.02, 0.05, 0.1, 0.2)
ADAPTIVE_MODES = ("level", "width")


def damped_growth(
    inputs: variants.PooledInputs,
    horizon: int,
    damping: float,
    months: int,
    deseasonalise: bool,
) -> np.ndarray:
    """[O, S, H] log y[T] + g (phi + ... + phi^h), g the mean log change over the last `months`.

    With `deseasonalise`, g is read from the log less the calibration's seasonal profile known at
    each origin, and the profile's change from the origin's month to the target's is added.
    """
    t = inputs.origins

    def level(back: int) -> np.ndarray:
        if not deseasonalise:
            return inputs.logs[t - back]
        return inputs.logs[t - back] - variants._profile_at(inputs, t - back)

    growth = (level(0) - level(months)) / months
    out = np.empty((t.size, inputs.logs.shape[1], horizon))
    for h in range(1, horizon + 1):
        damped = sum(damping**k for k in range(1, h + 1))
        seasonal = 0.0
        if deseasonalise:
            seasonal = variants._profile_at(inputs, t + h) - variants._profile_at(inputs, t)
        out[:, :, h - 1] = inputs.logs[t] + damped * growth + seasonal
    return from_log(out)


def power_weights(
    log_errors: np.ndarray, origins: np.ndarray, row: int, horizon: int, window: int, power: float
) -> np.ndarray:
    """[members] weights proportional to MSE^-power over the last `window` known target months
    (from [members, O, K, H] log errors); equal with fewer than the ensemble's minimum."""
    latest = origins[row] - horizon
    past = np.flatnonzero((origins <= latest) & (origins > latest - window))
    members = log_errors.shape[0]
    if past.size < ensemble.MIN_ENSEMBLE_ORIGINS:
        return np.full(members, 1.0 / members)
    errors = log_errors[..., horizon - 1][:, past].reshape(members, -1)
    mse = np.maximum(np.nanmean(errors**2, axis=1), 1e-12)
    weights = (mse / mse.min()) ** -power  # relative to the best: no overflow at high powers
    return weights / weights.sum()


def power_combination(
    s: variants.Study, members: dict[str, np.ndarray], window: int, power: float
) -> np.ndarray:
    """[O, 9, H] weighted mean of the members' log forecasts, weights from `power_weights`."""
    logs = np.stack([to_log(level[:, :N_SECTORS]) for level in members.values()])
    errors = s.future[None, :, :N_SECTORS] - logs
    origins, horizon = s.rolling.origins, s.rolling.horizon
    weights = np.empty((origins.size, horizon, len(members)))
    for row in range(origins.size):
        for h in range(1, horizon + 1):
            weights[row, h - 1] = power_weights(errors, origins, row, h, window, power)
    return from_log(np.einsum("rhm,mrsh->rsh", weights, logs))


def adaptive_bands(
    errors: np.ndarray,
    origins: np.ndarray,
    horizon: int,
    level: float,
    step: float,
    mode: str,
) -> tuple[np.ndarray, np.ndarray]:
    """([O, 9], [O, 9]) lower and upper log-error bands of the sectors, adapted to past misses.

    The shipped interval is the conformal quantile of the pooled scaled scores at level p,
    times each sector's scale. At each origin T the outcome of the interval set at T - h becomes
    known (its target is T). Per sector, after each outcome (miss = 1, hit = 0):
    - `level` mode (adaptive conformal inference): alpha <- alpha + step (nominal - miss), and
      the interval is the conformal quantile at 1 - alpha (held within the ranks the sample
      has, so every bound stays finite);
    - `width` mode (quantile tracking on the log width): c <- c + step (miss - nominal), and
      the shipped interval's bounds are multiplied by exp(c).
    With step 0 both are the shipped intervals.
    """
    if mode not in ADAPTIVE_MODES:
        raise ValueError(f"mode {mode!r} is not one of {ADAPTIVE_MODES}")
    nominal = 1.0 - level
    scales = intervals.error_scales(errors, origins, horizon)
    with np.errstate(invalid="ignore"):
        scores = errors / scales
    lower = np.full((origins.size, N_SECTORS), np.nan)
    upper = np.full((origins.size, N_SECTORS), np.nan)
    missed = np.full((origins.size, N_SECTORS), np.nan)
    state = np.full(N_SECTORS, nominal if mode == "level" else 0.0)
    for row, origin in enumerate(origins):
        known = row - horizon  # the interval whose target is this origin's month
        if known >= 0:
            miss = np.where(np.isfinite(missed[known]), missed[known], nominal)
            state += step * ((nominal - miss) if mode == "level" else (miss - nominal))
        past = scores[intervals.past_error_rows(origins, int(origin), horizon)][:, :N_SECTORS]
        sample = past[np.isfinite(past)]
        count = sample.size
        if count < intervals.MIN_CONFORMAL_ERRORS:
            continue
        alphas = np.clip(state, 0.0, 1.0) if mode == "level" else np.full(N_SECTORS, nominal)
        factor = np.exp(state) if mode == "width" else np.ones(N_SECTORS)
        for k in range(N_SECTORS):
            low = intervals.conformal_quantile(sample, intervals.finite_level(alphas[k] / 2, count))
            high = intervals.conformal_quantile(
                sample, intervals.finite_level(1 - alphas[k] / 2, count)
            )
            lower[row, k] = low * scales[row, k] * factor[k]
            upper[row, k] = high * scales[row, k] * factor[k]
        actual = errors[row, :N_SECTORS]
        usable = np.isfinite(actual) & np.isfinite(lower[row])
        outside = (actual < lower[row]) | (actual > upper[row])
        missed[row] = np.where(usable, outside.astype(np.float64), np.nan)
    return lower, upper


def interval_score(actual: np.ndarray, lower: np.ndarray, upper: np.ndarray, level: float) -> float:
    """Mean interval score (Gneiting and Raftery 2007, eq. 43) of log errors: the width plus
    2 / alpha times the distance by which the actual falls outside. Lower is better."""
    alpha = 1.0 - level
    score = (
        (upper - lower)
        + 2.0 / alpha * np.maximum(lower - actual, 0.0)
        + 2.0 / alpha * np.maximum(actual - upper, 0.0)
    )
    return float(np.nanmean(score))


# --- The study (python -m bordersim.forecast.holdout) ---


@dataclass(frozen=True)
class Windows:
    design: tuple[int, int]
    holdout: tuple[int, int]
    full: tuple[int, int]


def windows(rolling: Rolling) -> Windows:
    series = rolling.series

    def positions(window: tuple[date, date]) -> tuple[int, int]:
        return (series.index_of(window[0], "window"), series.index_of(window[1], "window"))

    return Windows(positions(DESIGN), positions(HOLDOUT), positions(FULL))


@dataclass(frozen=True)
class PointResult:
    name: str
    design: list[float]  # sectors' MASE at 1, 3 and 6 months
    holdout: list[float]
    full: list[float]
    design_ratio: float  # mean over the horizons of MASE over naive's, design window

    def row(self, naive: PointResult) -> str:
        cells = []
        for mine, reference in (
            (self.design, naive.design),
            (self.holdout, naive.holdout),
            (self.full, naive.full),
        ):
            cells.append(" ".join(f"{v:.2f}" for v in mine))
            cells.append(variants._ratios(mine, reference))
        return f"| {self.name} | " + " | ".join(cells) + " |"


def point_result(
    name: str, s: variants.Study, w: Windows, levels: np.ndarray, naive: np.ndarray | None
) -> PointResult:
    design = variants.scores(s, levels, w.design)
    reference = design if naive is None else variants.scores(s, naive, w.design)
    ratio = float(np.mean([v / r for v, r in zip(design, reference, strict=True)]))
    return PointResult(
        name,
        design,
        variants.scores(s, levels, w.holdout),
        variants.scores(s, levels, w.full),
        ratio,
    )


POINT_HEADER = (
    "| variant | FY2016-20 MASE 1 3 6 | % vs naive | FY2021-23 MASE | % vs naive "
    "| FY2016-23 MASE | % vs naive |\n| --- | --- | --- | --- | --- | --- | --- |"
)


def point_families(
    s: variants.Study, w: Windows, inputs: variants.PooledInputs
) -> dict[str, list[tuple[PointResult, np.ndarray]]]:
    """Every setting of every point-forecast family, with its levels [O, >=9, H]."""
    horizon = s.rolling.horizon
    naive = s.rolling.levels["naive"]
    families: dict[str, list[tuple[PointResult, np.ndarray]]] = {}

    def add(family: str, name: str, levels: np.ndarray) -> None:
        families.setdefault(family, []).append((point_result(name, s, w, levels, naive), levels))

    damped: dict[tuple[float, int, bool], np.ndarray] = {}
    for phi, months, adjusted in itertools.product(DAMPING, GROWTH_MONTHS, (False, True)):
        damped[(phi, months, adjusted)] = damped_growth(inputs, horizon, phi, months, adjusted)
        label = f"damped growth, phi {phi}, {months} months{', seasonal' if adjusted else ''}"
        add("damped growth", label, damped[(phi, months, adjusted)])
    members = variants._members(s)
    extra: list[tuple[str, dict[str, np.ndarray]]] = [("shipped members", members)]
    for key, levels in damped.items():
        extra.append((f"shipped + damped {key}", {**members, "damped": levels}))
    for (label, chosen), window, power in itertools.product(
        extra, COMBINATION_WINDOWS, COMBINATION_POWERS
    ):
        add(
            "combination",
            f"{label}, {window} months, power {power:g}",
            power_combination(s, chosen, window, power),
        )
    feature_sets = {**variants.FEATURE_SETS, **GLOBAL_FEATURE_SETS}
    for (label, names), ridge, window, constant in itertools.product(
        feature_sets.items(), GLOBAL_RIDGES, variants.TRAINING_WINDOWS, (False, True)
    ):
        used = (*names, "const") if constant else names
        name = f"{label}{'+const' if constant else ''}, ridge {ridge}, {window} origins"
        add(
            "pooled regression",
            name,
            variants.pooled_regression(inputs, horizon, used, ridge, window),
        )
    return families


SHRINK_SHARES = tuple(round(0.1 * k, 1) for k in range(11))


def per_horizon_shrinkage(s: variants.Study, w: Windows) -> tuple[list[float], np.ndarray]:
    """Horizon-specific weights: the shipped ensemble's weights moved toward naive by the share
    (0 to 1) with the lowest MASE at each horizon on the design window; and its levels."""
    origins, horizon = s.rolling.origins, s.rolling.horizon
    members = variants._members(s)
    by_share = {
        share: variants.combination(s, members, np.full((origins.size, horizon), share))
        for share in SHRINK_SHARES
    }
    shares = [
        min(SHRINK_SHARES, key=lambda share: variants.mase(s, by_share[share], h, w.design))
        for h in range(1, horizon + 1)
    ]
    return shares, variants.combination(s, members, np.tile(shares, (origins.size, 1)))


def point_study(s: variants.Study, w: Windows, inputs: variants.PooledInputs) -> list[str]:
    naive = point_result("last month (naive)", s, w, s.rolling.levels["naive"], None)
    shipped = point_result(
        "ensemble (shipped)", s, w, s.rolling.levels["ensemble"], s.rolling.levels["naive"]
    )
    out = []
    chosen_overall: tuple[PointResult, np.ndarray] | None = None
    for family, results in point_families(s, w, inputs).items():
        results.sort(key=lambda item: item[0].design_ratio)
        best = results[0]
        if chosen_overall is None or best[0].design_ratio < chosen_overall[0].design_ratio:
            chosen_overall = best
        horizons = range(len(REPORTED_HORIZONS))
        best_holdout = [_best_at(results, k) for k in horizons]
        best_full = [_best_at(results, k, "full") for k in horizons]
        out += [f"### {family}: {len(results)} settings, the 8 best on FY2016-20", "", POINT_HEADER]
        out += [naive.row(naive), shipped.row(naive)]
        out += [result.row(naive) for result, _ in results[:8]]
        if family == "pooled regression":
            out += ["", "The best setting of each feature set on FY2016-20:", "", POINT_HEADER]
            out += [result.row(naive) for result in _best_per_feature_set(results)]
        out += [
            "",
            "Best with hindsight on FY2021-23 at 1, 3, 6 months: "
            + "; ".join(
                f"{r.name} ({variants._ratios([r.holdout[k]], [naive.holdout[k]])} %)"
                for k, r in enumerate(best_holdout)
            ),
            "Best with hindsight on FY2016-23 at 1, 3, 6 months: "
            + "; ".join(
                f"{r.name} ({variants._ratios([r.full[k]], [naive.full[k]])} %)"
                for k, r in enumerate(best_full)
            ),
            "",
        ]
    assert chosen_overall is not None
    shares, shrunk = per_horizon_shrinkage(s, w)
    out += [
        "### The shipped ensemble's weights moved toward naive by a share per horizon",
        "",
        f"Shares 1..{s.rolling.horizon} chosen on FY2016-20 (lowest MASE at each horizon): "
        + ", ".join(f"{share:g}" for share in shares),
        "",
        POINT_HEADER,
        naive.row(naive),
        shipped.row(naive),
        point_result("shrunk per horizon", s, w, shrunk, s.rolling.levels["naive"]).row(naive),
        "",
    ]
    out += [
        f"Chosen over all families on FY2016-20: {chosen_overall[0].name}",
        "Paired vs naive (mean scaled error, Newey-West 95 %): "
        + _paired(s, chosen_overall[1], s.rolling.levels["naive"], w),
        "Paired vs the shipped ensemble: "
        + _paired(s, chosen_overall[1], s.rolling.levels["ensemble"], w),
        "",
    ]
    return out


def _best_per_feature_set(results: list[tuple[PointResult, np.ndarray]]) -> list[PointResult]:
    """`results` sorted by design score: the first of each feature set (the name before ', ')."""
    best: dict[str, PointResult] = {}
    for result, _ in results:
        best.setdefault(result.name.split(",")[0].removesuffix("+const"), result)
    return list(best.values())


def _best_at(
    results: list[tuple[PointResult, np.ndarray]], k: int, window: str = "holdout"
) -> PointResult:
    """The setting with the lowest MASE on `window` at the k-th reported horizon (hindsight)."""
    return min((result for result, _ in results), key=lambda result: getattr(result, window)[k])


def _paired(s: variants.Study, levels: np.ndarray, reference: np.ndarray, w: Windows) -> str:
    parts = []
    for label, window in (("FY2021-23", w.holdout), ("FY2016-23", w.full)):
        for h in REPORTED_HORIZONS:
            d = backtest.paired_difference(
                variants.window_losses(s, levels, h, window),
                variants.window_losses(s, reference, h, window),
                "variant",
                "reference",
                h,
            )
            parts.append(
                f"{label} h={h} {d.mean_difference:+.2f} ({d.lower:+.2f} .. {d.upper:+.2f})"
            )
    return "; ".join(parts)


@dataclass(frozen=True)
class IntervalResult:
    name: str
    coverage: dict[str, list[tuple[float, float]]]  # window -> (80 %, 95 %) per horizon
    score: dict[str, float]  # window -> mean interval score over horizons and levels

    def gap(self, window: str) -> float:
        return variants.coverage_gap(self.coverage[window])

    def within_five(self, window: str) -> bool:
        return all(abs(a - 80) <= 5 and abs(b - 95) <= 5 for a, b in self.coverage[window])


def interval_result(
    name: str, rolling: Rolling, w: Windows, step: float, mode: str
) -> IntervalResult:
    errors = rolling.errors["ensemble"]
    series = rolling.series
    spans = {
        "design": w.design,
        "holdout": w.holdout,
        "full": w.full,
        "before Title 42": (w.design[0], series.index_of(date(2020, 2, 1), "Title 42")),
        "Title 42": (series.index_of(TITLE42[0], "Title 42"), series.index_of(TITLE42[1], "T42")),
    }
    pooled_spans = ("before Title 42", "Title 42")  # the nine sectors pooled (no SWB here)
    coverage: dict[str, list[tuple[float, float]]] = {name: [] for name in spans}
    score: dict[str, list[float]] = {name: [] for name in spans}
    for h in REPORTED_HORIZONS:
        e = errors[:, :N_SECTORS, h - 1]
        bands = {
            lv: adaptive_bands(e, rolling.origins, h, lv, step, mode) for lv in intervals.LEVELS
        }
        for span, (first, last) in spans.items():
            rows = np.arange(first, last + 1) - h - rolling.origins[0]
            pair = []
            for lv in intervals.LEVELS:
                low, high = bands[lv][0][rows], bands[lv][1][rows]
                actual = e[rows]
                if span in pooled_spans:
                    share = intervals.coverage(actual.ravel(), low.ravel(), high.ravel())
                else:
                    share = float(
                        np.nanmean(
                            [
                                intervals.coverage(actual[:, k], low[:, k], high[:, k])
                                for k in range(N_SECTORS)
                            ]
                        )
                    )
                pair.append(100.0 * share)
                score[span].append(interval_score(actual, low, high, lv))
            coverage[span].append((pair[0], pair[1]))
    return IntervalResult(name, coverage, {k: float(np.mean(v)) for k, v in score.items()})


def interval_study(rolling: Rolling, w: Windows) -> list[str]:
    results = [interval_result("shipped (no adaptation)", rolling, w, 0.0, "level")]
    for mode, step in itertools.product(ADAPTIVE_MODES, ADAPTIVE_STEPS):
        label = "adaptive level (ACI)" if mode == "level" else "adaptive width"
        results.append(interval_result(f"{label}, step {step}", rolling, w, step, mode))
    eligible = [r for r in results if r.within_five("design")]
    chosen = min(eligible, key=lambda r: r.score["design"]) if eligible else None

    def cells(r: IntervalResult) -> str:
        text = [
            f"{', '.join(f'{a:.0f}/{b:.0f}' for a, b in r.coverage[span])}"
            for span in ("design", "holdout", "full", "before Title 42", "Title 42")
        ]
        scores = " ".join(f"{r.score[span]:.2f}" for span in ("design", "holdout"))
        return f"| {r.name} | " + " | ".join(text) + f" | {scores} |"

    header = (
        "| intervals | FY2016-20 | FY2021-23 | FY2016-23 | before Title 42 | Title 42 "
        "| interval score FY2016-20, FY2021-23 |\n| --- | --- | --- | --- | --- | --- | --- |"
    )
    return [
        "### Adaptive intervals (80/95 % coverage at 1, 3, 6 months)",
        "",
        header,
        *[cells(r) for r in results],
        "",
        f"Chosen (within 5 points on FY2016-20, then lowest interval score there): "
        f"{chosen.name if chosen else 'none'}",
    ]


def main(argv: Sequence[str] | None = None) -> None:
    from bordersim.commands.forecast import read_series
    from bordersim.forecast.methods import default_jobs
    from bordersim.forecast.rolling import compute, origin_range

    variants.study_arguments("bordersim.forecast.holdout", __doc__, argv)
    series = read_series(None)
    last = series.index_of(HOLDOUT[1], "holdout")
    rolling = compute(series, origin_range(last), 6, jobs=default_jobs())
    w = windows(rolling)
    base = variants.study(rolling)
    s = variants.Study(rolling, w.design, w.holdout, base.scale, base.future)
    inputs = variants.pooled_inputs(
        series.sectors,
        series.fiscal_months,
        rolling.origins,
        6,
        series.months,
        series.group_shares(),
    )
    for block in (point_study(s, w, inputs), interval_study(rolling, w)):
        print("\n".join(block), end="\n\n")


if __name__ == "__main__":
    main()
