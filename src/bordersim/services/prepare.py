"""What a fresh clone needs before its first run: official data in the store, a calibration."""

from __future__ import annotations

from pathlib import Path

from bordersim.services.observer import QUIET, Observer


def ensure_official_data(store: Path | None, observer: Observer = QUIET) -> None:
    """Import the shipped official files into the store when it holds none."""
    from bordersim.store import imported_kinds, open_store
    from bordersim.store.official import import_official_files

    with open_store(store) as connection:
        if imported_kinds(connection):
            return
        observer.note("The store holds no official data: importing the shipped files.")
        imported = import_official_files(connection, None)
    for parsed in imported:
        observer.note(f"  imported {parsed.path.name}: {parsed.rows:,} rows")


def ensure_calibration(store: Path | None, observer: Observer = QUIET) -> None:
    """Rebuild the shipped calibration artifact from the store when it cannot be loaded."""
    from bordersim.calibration import SHIPPED_ARTIFACT, calibrate, write_artifact
    from bordersim.store import open_store
    from bordersim.validation.reference import load_official_monthly

    official, reason = load_official_monthly()
    if official is not None:
        return
    observer.note(f"Calibrating: {reason}.")
    with open_store(store) as connection:
        artifact = calibrate(connection)
    write_artifact(artifact, SHIPPED_ARTIFACT)
    observer.note(f"  wrote {SHIPPED_ARTIFACT}")
