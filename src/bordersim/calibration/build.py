"""Build the calibration artifact from the official monthly series (DESIGN 2.2).

The artifact holds the calibrated inputs as plain numbers; `Calibration` derives daily rates from
them on load. Everything is deterministic: the same store gives the same bytes.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Any

import numpy as np

from bordersim.calibration import pathways, repeats, seasonal
from bordersim.calibration.backtest import BACKTEST_MONTHS, rolling_origin_backtest
from bordersim.calibration.demand import implied_first_attempts
from bordersim.calibration.group_mix import fit_to_margins, monthly_group_mix
from bordersim.calibration.inputs import OfficialMonthly
from bordersim.calibration.regime import (
    TITLE8,
    TITLE42,
    TITLE42_FIRST_DAY,
    TITLE42_LAST_DAY,
    title42_fractions,
)
from bordersim.ingest.fiscal import (
    add_months,
    fiscal_month_of,
    fiscal_year_of,
)
from bordersim.model.dimensions import (
    GROUP_DEMOGRAPHIC,
    GROUP_NAMES,
    N_DEMOGRAPHICS,
    N_NATIONALITIES,
    Demographic,
    Pathway,
    Sector,
)

METHOD_VERSION = "2024.1"
ARTIFACT_FORMAT = "bordersim-calibration"
ARTIFACT_FORMAT_VERSION = 1
DECIMALS = 10  # rounding of stored shares: enough for exact sums, stable across platforms
FIT_DECIMALS = 6


def _rounded(array: np.ndarray, decimals: int = DECIMALS) -> Any:
    return np.round(np.asarray(array, dtype=np.float64), decimals).tolist()


def _fiscal_year_months(months: tuple[date, ...], year: int) -> np.ndarray:
    return np.array([fiscal_year_of(month) == year for month in months])


def _reference_mix(
    months: tuple[date, ...], mix: np.ndarray, counts: np.ndarray, year: int
) -> np.ndarray:
    """[G] encounter-weighted group mix of a fiscal year (the latest year if it is absent)."""
    chosen = _fiscal_year_months(months, year)
    if not chosen.any():
        chosen = _fiscal_year_months(months, fiscal_year_of(months[-1]))
    weights = counts[chosen][:, None]
    total = (mix[chosen] * weights).sum(axis=0)
    return total / total.sum()


def build_artifact(data: OfficialMonthly, backtest_months: int = BACKTEST_MONTHS) -> dict[str, Any]:
    """The artifact of the official series: calibrated inputs, fit checks, back-test, sources."""
    mix, mix_exact = monthly_group_mix(data)
    mix = np.round(mix, DECIMALS)
    fraction42 = title42_fractions(data.months)
    repeat = _repeat_model(data, mix, fraction42)
    seasonality = _seasonality(data)
    backtest = rolling_origin_backtest(
        data.months, data.sector_encounters, window_months=backtest_months
    )
    fit = _fit_summary(data, mix, mix_exact, repeat.repeat_share)
    fit["repeat_share_achieved"] = _repeat_share_achieved(repeat)
    return {
        **_header(data),
        **_labels(data.months),
        "sector_encounters": data.sector_encounters.astype(int).tolist(),
        "group_mix": mix.tolist(),
        "group_mix_exact": mix_exact.tolist(),
        **_regimes_and_repeats(fraction42, repeat),
        **seasonality,
        "fit": fit,
        "backtest": backtest.to_dict(),
        "sources": _sources(repeat.single_adult_share),
    }


@dataclass(frozen=True)
class _RepeatModel:
    """Pathways and repeats per regime (indexed by `TITLE8` and `TITLE42`), as calibrated."""

    single_adult_share: float  # of the encounters of the Title 42 reference fiscal year
    months42: tuple[date, ...]  # months of the CBP file wholly under Title 42
    monthly42: np.ndarray  # [M42, G] Title 42 share of each of them
    pooled42: np.ndarray  # [G] Title 42 share pooled over them
    split: np.ndarray  # [G, P] pathway shares given Title 8
    demographic_targets: np.ndarray  # [2, N_DEMOGRAPHICS] sourced repeat shares
    repeat_by_regime: np.ndarray  # [2, G] repeat share
    repeat_share: np.ndarray  # [M, G] repeat share of each month
    repeat_probability: np.ndarray  # [2, G] re-attempt probability
    achieved: dict[str, float]  # repeat share the probabilities give, per regime


def _repeat_model(data: OfficialMonthly, mix: np.ndarray, fraction42: np.ndarray) -> _RepeatModel:
    """Repeat shares per regime and group, and the re-attempt probabilities that give them."""
    # Repeat shares, per regime and group (see `calibration.repeats`).
    reference_mixes = _reference_mixes(data, mix)
    single_adult_share = float(
        reference_mixes[TITLE42][GROUP_DEMOGRAPHIC == Demographic.SINGLE_ADULT].sum()
    )
    # Pathways, then the re-attempt probabilities that give the sourced repeat shares.
    months42, monthly42, pooled42 = pathways.title42_months(data)
    split = pathways.title8_split()
    leaving = _leaving_shares(pooled42, split)
    demographic_targets = _demographic_targets(single_adult_share)
    repeat_by_regime = np.stack([repeats.by_group(targets) for targets in demographic_targets])
    repeat_share = np.round(repeats.monthly_repeat_share(fraction42, repeat_by_regime), DECIMALS)
    repeat_probability = _repeat_probabilities(leaving, reference_mixes, demographic_targets)
    return _RepeatModel(
        single_adult_share=single_adult_share,
        months42=months42,
        monthly42=monthly42,
        pooled42=pooled42,
        split=split,
        demographic_targets=demographic_targets,
        repeat_by_regime=repeat_by_regime,
        repeat_share=repeat_share,
        repeat_probability=repeat_probability,
        achieved=_achieved_repeat_shares(repeat_probability, leaving, reference_mixes),
    )


def _reference_mixes(data: OfficialMonthly, mix: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """[G] group mix of the fiscal year each regime's repeat share was measured in (Title 8,
    Title 42)."""
    border_counts = data.sector_encounters.sum(axis=1).astype(np.float64)
    mix_title42_year = _reference_mix(
        data.months, mix, border_counts, repeats.TITLE42_REFERENCE_FISCAL_YEAR
    )
    mix_title8_year = _reference_mix(
        data.months, mix, border_counts, repeats.TITLE8_REFERENCE_FISCAL_YEAR
    )
    return mix_title8_year, mix_title42_year


def _leaving_shares(pooled42: np.ndarray, split: np.ndarray) -> np.ndarray:
    """[2, G] share leaving by a pathway after which people may try again, per regime."""
    regime_shares = np.stack(
        [pathways.combine(np.zeros_like(pooled42), split), pathways.combine(pooled42, split)]
    )
    return np.stack([pathways.reattempt_share(shares) for shares in regime_shares])


def _demographic_targets(single_adult_share: float) -> np.ndarray:
    """[2, N_DEMOGRAPHICS] sourced repeat share per regime and demographic."""
    # Inversion uses the sourced repeat shares: 7 % for every group on Title 8 days, the 27 %
    # split by demographic on Title 42 days.
    return np.stack(
        [
            np.full(N_DEMOGRAPHICS, repeats.REPEAT_SHARE_TITLE8),
            repeats.title42_demographic_targets(single_adult_share),
        ]
    )


def _repeat_probabilities(
    leaving: np.ndarray,
    reference_mixes: tuple[np.ndarray, np.ndarray],
    demographic_targets: np.ndarray,
) -> np.ndarray:
    """[2, G] re-attempt probability per regime that gives the sourced repeat shares."""
    return np.stack(
        [
            repeats.repeat_probability(leaving[r], reference_mixes[r], demographic_targets[r])
            for r in (TITLE8, TITLE42)
        ]
    )


def _achieved_repeat_shares(
    repeat_probability: np.ndarray,
    leaving: np.ndarray,
    reference_mixes: tuple[np.ndarray, np.ndarray],
) -> dict[str, float]:
    """Repeat share the probabilities give in each regime's reference year (a check)."""
    return {
        name: float(
            (
                repeats.implied_repeat_share(repeat_probability[r], leaving[r]) * reference_mixes[r]
            ).sum()
        )
        for name, r in (("title8", TITLE8), ("title42", TITLE42))
    }


def _seasonality(data: OfficialMonthly) -> dict[str, Any]:
    """The artifact's seasonal indices [S, 12] and yearly trend [S] per sector."""
    # Seasonality and trend per sector (reported, and the forecasting model of the back-test).
    fiscal_months = np.array([fiscal_month_of(month) for month in data.months])
    seasonal_indices = np.array(
        [seasonal.seasonal_indices(data.sector_encounters[:, s], fiscal_months) for s in Sector]
    )
    trend = np.array(
        [
            np.expm1(
                12
                * seasonal.trend_per_month(
                    data.sector_encounters[:, s], fiscal_months, seasonal_indices[s]
                )
            )
            for s in Sector
        ]
    )
    return {
        "seasonal_indices": _rounded(seasonal_indices, FIT_DECIMALS),
        "trend_per_year": _rounded(trend, FIT_DECIMALS),
    }


def _repeat_share_achieved(repeat: _RepeatModel) -> dict[str, Any]:
    """The fit report's repeat shares: achieved against sourced, per regime."""
    return {
        "title8": round(repeat.achieved["title8"], FIT_DECIMALS),
        "title8_sourced": repeats.REPEAT_SHARE_TITLE8,
        "title8_reference_fiscal_year": repeats.TITLE8_REFERENCE_FISCAL_YEAR,
        "title42": round(repeat.achieved["title42"], FIT_DECIMALS),
        "title42_sourced": repeats.REPEAT_SHARE_TITLE42,
        "title42_reference_fiscal_year": repeats.TITLE42_REFERENCE_FISCAL_YEAR,
        "title42_demographic_targets": _rounded(repeat.demographic_targets[TITLE42], FIT_DECIMALS),
    }


def _header(data: OfficialMonthly) -> dict[str, Any]:
    """The artifact's format, version, inputs and the dates it covers."""
    fingerprint = data.fingerprint()
    last_day = add_months(data.months[-1], 1)
    return {
        "format": ARTIFACT_FORMAT,
        "format_version": ARTIFACT_FORMAT_VERSION,
        "version": f"{METHOD_VERSION}-{fingerprint[:12]}",
        "method_version": METHOD_VERSION,
        "inputs": {
            "fingerprint": fingerprint,
            "files": dict(sorted(data.source_files.items())),
            # The data vintage: which release of each file, and the months each holds.
            "vintage": data.vintage,
            "mixed_vintage": data.mixed_vintage(),
        },
        "first_date": data.months[0].isoformat(),
        "last_date": date.fromordinal(last_day.toordinal() - 1).isoformat(),
    }


def _labels(months: tuple[date, ...]) -> dict[str, Any]:
    """The names along the artifact's axes: sectors, groups, pathways and months."""
    return {
        "sectors": [sector.name for sector in Sector],
        "groups": list(GROUP_NAMES),
        "pathways": [pathway.name.lower() for pathway in Pathway],
        "months": [month.isoformat() for month in months],
    }


def _regimes_and_repeats(fraction42: np.ndarray, repeat: _RepeatModel) -> dict[str, Any]:
    """The artifact's regime dates and fractions, pathway shares and repeat parameters."""
    return {
        "title42_fraction": _rounded(fraction42),
        "repeat_share": repeat.repeat_share.tolist(),
        "repeat_share_by_regime": _rounded(repeat.repeat_by_regime),
        "apprehension_probability": repeats.APPREHENSION_PROBABILITY,
        "title42_first_day": TITLE42_FIRST_DAY.isoformat(),
        "title42_last_day": TITLE42_LAST_DAY.isoformat(),
        "title42_share_months": [month.isoformat() for month in repeat.months42],
        "title42_share_monthly": _rounded(repeat.monthly42),
        "title42_share_pooled": _rounded(repeat.pooled42),
        "title8_split": _rounded(repeat.split),
        "repeat_probability": _rounded(repeat.repeat_probability),
        "repeat_delay_mean_days": _rounded(repeats.repeat_delay_mean_days()),
    }


def _fit_summary(
    data: OfficialMonthly, mix: np.ndarray, mix_exact: np.ndarray, repeat_share: np.ndarray
) -> dict[str, Any]:
    """Checks that belong in the fit report: the mix method against the CBP file, and totals."""
    from bordersim.calibration.group_mix import association_seed

    seed = association_seed(data)
    errors = []
    for position in range(len(data.months)):
        if not mix_exact[position]:
            continue
        demographic = data.demographic_counts[position] / data.demographic_counts[position].sum()
        nationality = data.nationality_counts[position] / data.nationality_counts[position].sum()
        estimate = fit_to_margins(seed, demographic, nationality).reshape(-1)
        errors.append(np.abs(estimate - mix[position]).max())
    first = implied_first_attempts(
        data.sector_encounters, mix, repeat_share, repeats.APPREHENSION_PROBABILITY
    )
    return {
        "mix_months_exact": int(mix_exact.sum()),
        "mix_months_fitted": int((~mix_exact).sum()),
        "mix_fit_max_abs_error": round(float(max(errors)), FIT_DECIMALS) if errors else None,
        "mix_fit_mean_max_abs_error": round(float(np.mean(errors)), FIT_DECIMALS)
        if errors
        else None,
        "encounters_total": int(data.sector_encounters.sum()),
        "first_attempts_total": round(float(first.sum()), 1),
        "demographic_known_from": {
            Demographic(d).name.lower(): next(
                (
                    m.isoformat()
                    for m, row in zip(data.months, data.demographic_counts, strict=True)
                    if row[d] > 0
                ),
                None,
            )
            for d in range(N_DEMOGRAPHICS)
        },
        "nationality_groups": N_NATIONALITIES,
    }


def _sources(single_adult_share: float) -> dict[str, str]:
    return {
        "sector_encounters": "OHSS CBP Encounters - USBP workbook, sheet 'Monthly Rgn and Sector', "
        "Southwest Land Border (counts rounded to 10 by the publisher)",
        "group_mix": "CBP Southwest Land Border Encounters CSV (Border Patrol rows) where it "
        "covers the month; otherwise OHSS sheets 'Monthly Rgn and Fam Status' and "
        "'Monthly Rgn and Citp' "
        "(southwest border margins) joined by iterative proportional fitting from the CSV's pooled "
        "association; border-wide, applied to every sector",
        "repeat_share_title8": repeats.REPEAT_SHARE_TITLE8_SOURCE,
        "repeat_share_title42": repeats.REPEAT_SHARE_TITLE42_SOURCE
        + f"; split by group with {repeats.SINGLE_ADULT_SHARE_OF_REPEATERS_SOURCE} and the FY2021 "
        f"single-adult share of encounters ({single_adult_share:.3f}, from the data)",
        "apprehension_probability": repeats.APPREHENSION_PROBABILITY_SOURCE,
        "title42_dates": "bordersim/official/README.md: Title 42 expulsions ran from 21 March 2020 "
        "to 11 May 2023",
        "pathway_title42_share": pathways.TITLE42_SOURCE,
        "pathway_title8_split": pathways.TITLE8_SPLIT_SOURCE,
        "repeat_probability": "derived: repeat share / (apprehension probability x share leaving "
        "by expulsion or voluntary return), with the group mix of the year the repeat share was "
        "measured (Title 8: one value for all groups, FY2019; Title 42: per demographic, FY2021); "
        "capped at 0.95",
        "repeat_share": "sourced shares above, per group and regime; months that straddle a "
        "regime change are weighted by days",
        "repeat_delay_mean_days": repeats.REPEAT_DELAY_SOURCE,
        "seasonality": "ratio to the centred 12-month moving average, median over the last "
        f"{seasonal.SEASONAL_YEARS} years, per sector",
        "trend": f"log-linear slope of deseasonalised encounters, last "
        f"{seasonal.TREND_WINDOW_MONTHS} months, per sector",
    }
