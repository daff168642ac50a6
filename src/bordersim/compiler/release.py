"""Release policies with dated triggers (docs/model.md step 6): per day and sector, the share of
expedited-removal assignments released while open, and each trigger's level (inf: none). The
scenario-wide release valve applies on the days no dated policy is in force. Every release made
while a sector's release is open takes the policy's paperwork (`policy.release_intake_hours`)."""

from __future__ import annotations

import numpy as np

from bordersim.compiler.frame import Fields, Frame
from bordersim.model.dimensions import Pathway
from bordersim.scenario.schema import ReleasePolicy

TRIGGERS = (
    ("release_trigger_occupancy", "occupancy_fraction"),
    ("release_trigger_occupancy_growing", "occupancy_with_growth_fraction"),
    ("release_trigger_stay_hours", "mean_custody_hours"),
    ("release_trigger_apprehensions", "apprehensions_per_day"),
)


def release_fields(frame: Frame) -> Fields:
    policy = frame.scenario.policy
    shape = (frame.n_days, len(frame.sectors))
    fields: dict[str, np.ndarray] = {"release_share": np.zeros(shape)}
    for name, _ in TRIGGERS:
        fields[name] = np.full(shape, np.inf)
    valve = policy.release_valve
    if valve.enabled:
        fields["release_share"][:] = valve.share_fraction
        fields["release_trigger_occupancy"][:] = valve.threshold_occupancy_fraction
    for release in policy.release_policies.values():
        days, sectors = _in_force(release, frame)
        cells = np.ix_(days, sectors)
        fields["release_share"][cells] = release.share_fraction
        for name, key in TRIGGERS:
            value = getattr(release, key)
            fields[name][cells] = np.inf if value is None else float(value)
    enabled = bool((fields["release_share"] > 0).any())
    paperwork = policy.release_intake_hours
    if paperwork is None:
        paperwork = frame.scenario.processing.intake_hours.of(Pathway.RELEASE)
    return {
        **fields,
        "release_valve_enabled": enabled,
        "release_intake_hours": float(paperwork),
    }


def _in_force(release: ReleasePolicy, frame: Frame) -> tuple[np.ndarray, np.ndarray]:
    last = release.last_day
    days = np.array(
        [release.start_date <= day and (last is None or day <= last) for day in frame.dates]
    )
    codes = [s.name for s in frame.sectors] if release.sectors == "all" else release.sectors
    sectors = np.array([s.name in codes for s in frame.sectors])
    return np.flatnonzero(days), np.flatnonzero(sectors)
