"""The named subset of operational targets that the operational parameters are fitted to
(`bordersim.fitting.operations` and `bordersim.fitting.detection`, docs/validation.md "Fitting the
operational parameters"): people in Border Patrol custody along the southwest border on five dates
of two historical cases and in two sectors in May 2023, the got-aways of April 2023 and their
share on 10 May 2023, and the apprehensions of 9 and 12 May 2023 (the daily shape of May in
`2023-title42-end`, "The daily shape of May 2023"), and children in custody on 13 and 28 April
2021 (the placements of children in `2021-uac-surge`, `bordersim.fitting.placements`). The two
2019 custody figures are also those of the wait before release in `2019-family-surge`, and two
southwest custody figures of 2021-2023 those of the wait in `2022-title42-record-year`
(`bordersim.fitting.release_wait`). Every other target stays out of sample."""

from __future__ import annotations

import datetime as dt

from bordersim.validation.targets import Target

#: (metric, first day, scope) of each fitted target.
OPERATIONAL_FIT_TARGETS: frozenset[tuple[str, dt.date, str]] = frozenset(
    {
        ("custody_population", dt.date(2023, 4, 29), "SWB"),
        ("custody_population", dt.date(2023, 5, 10), "SWB"),
        ("custody_population", dt.date(2023, 5, 14), "SWB"),
        # 2019: the stations and the wait before release (`bordersim.fitting.release_wait`).
        ("custody_population", dt.date(2019, 3, 27), "SWB"),
        ("custody_population", dt.date(2019, 5, 17), "SWB"),
        # 2022: the wait before release (`bordersim.fitting.release_wait`).
        ("custody_population", dt.date(2021, 12, 8), "SWB"),
        ("custody_population", dt.date(2023, 3, 1), "SWB"),
        # Lateral decompression's thresholds, fitted with the stations: the sector that sent
        # people and one that received them, in the days around the end of Title 42.
        ("custody_population", dt.date(2023, 5, 13), "Rio Grande Valley"),
        ("custody_population_weekly_avg", dt.date(2023, 5, 8), "El Paso"),
        # The detection ceiling (`bordersim.fitting.detection`): got-aways of spring 2023.
        ("gotaway_ratio_estimate", dt.date(2023, 5, 10), "SWB"),
        ("gotaways", dt.date(2023, 4, 1), "SWB"),
        # The shape of the two demand shocks around the end of Title 42 in 2023-title42-end.
        ("usbp_apprehensions_daily", dt.date(2023, 5, 9), "SWB"),
        ("usbp_apprehensions_daily", dt.date(2023, 5, 12), "SWB"),
        # The children HHS placed a day in 2021 (`bordersim.fitting.placements`): the drawdown
        # of children in custody in April 2021.
        ("custody_population_uac", dt.date(2021, 4, 13), "SWB"),
        ("custody_population_uac", dt.date(2021, 4, 28), "SWB"),
    }
)


def is_fit_target(target: Target) -> bool:
    return (target.metric, target.start, target.scope) in OPERATIONAL_FIT_TARGETS
