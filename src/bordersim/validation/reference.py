"""Reference data that the validation of a run is handed: the official monthly encounters.

The commands load it here and pass it to `results.validation` and the report, which only compute
and present; a missing calibration is a reason shown in the report, not an error.
"""

from __future__ import annotations

from bordersim.results.validation import OfficialMonthly


def load_official_monthly(
    calibration_ref: str | None = None,
) -> tuple[OfficialMonthly | None, str]:
    """The official monthly encounters per sector of a calibration (the run's: a path, or None
    for the shipped one), or None and the reason."""
    from bordersim.calibration import load_calibration
    from bordersim.errors import BordersimError

    try:
        calibration = load_calibration(calibration_ref)
    except BordersimError as err:  # a missing artifact is reported in the report, not fatal
        return None, f"no calibration available ({err}); run `bordersim calibrate`"
    return calibration.monthly_encounters, ""
