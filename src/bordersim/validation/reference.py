"""Reference data that the validation of a run is handed: the official monthly encounters.

The commands load it here and pass it to `results.validation` and the report, which only compute
and present; a missing calibration is a reason shown in the report, not an error.
"""

from __future__ import annotations

from pathlib import Path

from bordersim.results.validation import OfficialMonthly


def load_official_monthly(
    calibration_ref: str | None = None, sha256: str | None = None
) -> tuple[OfficialMonthly | None, str]:
    """The official monthly encounters per sector of a calibration (the run's: a path, or None
    for the shipped one), or None and the reason; with `sha256` (the file's as the run read
    it), None too where the file has changed since."""
    from bordersim.calibration import load_calibration
    from bordersim.errors import BordersimError

    if calibration_ref is not None and sha256 is not None:
        changed = changed_since_the_run(Path(calibration_ref), sha256)
        if changed:
            return None, changed

    try:
        calibration = load_calibration(calibration_ref)
    except BordersimError as err:  # a missing artifact is reported in the report, not fatal
        return None, f"no calibration available ({err}); run `bordersim calibrate`"
    return calibration.monthly_encounters, ""


def changed_since_the_run(path: Path, sha256: str) -> str:
    """Why the calibration file at `path` no longer holds what the run read ('' if it does)."""
    from bordersim.store.result_files import sha256_of

    if not path.is_file():
        return f"the calibration file the run used, {path}, is gone"
    if sha256_of(path) != sha256:
        return (
            f"the calibration file the run used, {path}, has changed since the run (its sha256 "
            "is not the one kept with the run); put the run's file back to validate against it"
        )
    return ""
