"""Reading and writing calibration artifacts: canonical JSON, checked on load."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np

from bordersim.errors import BordersimError
from bordersim.input_files import MIB, read_json_document
from bordersim.output_files import write_atomically

#: An artifact of 50 years of monthly data is well under a megabyte.
MAX_ARTIFACT_BYTES = 64 * MIB

SHIPPED_ARTIFACT = Path(__file__).resolve().parent / "artifacts" / "default.json"

# key -> shape, with "M" the months, "M42" the Title 42 months; None for scalars and text.
_ARRAY_SHAPES: dict[str, tuple[str | int, ...]] = {
    "sector_encounters": ("M", 9),
    "group_mix": ("M", 9),
    "repeat_share": ("M", 9),
    "title42_share_monthly": ("M42", 9),
    "title42_share_pooled": (9,),
    "title8_split": (9, 5),
    "repeat_probability": (2, 9),
    "repeat_delay_mean_days": (9,),
    "seasonal_indices": (9, 12),
    "trend_per_year": (9,),
}
_REQUIRED = (
    "format",
    "version",
    "first_date",
    "last_date",
    "months",
    "title42_share_months",
    "apprehension_probability",
    "sources",
    *_ARRAY_SHAPES,
)


def artifact_text(artifact: dict[str, Any]) -> str:
    """Canonical text: sorted keys, fixed separators, a final newline (byte-reproducible)."""
    return json.dumps(artifact, sort_keys=True, indent=1, ensure_ascii=True) + "\n"


def write_artifact(artifact: dict[str, Any], path: Path) -> None:
    """Write atomically: a reader never sees half a file."""
    write_atomically(path, artifact_text(artifact))


def read_artifact(path: Path) -> dict[str, Any]:
    """Load and check an artifact; any problem is a `BordersimError` naming the file."""
    from bordersim.calibration.build import ARTIFACT_FORMAT

    where = str(path)
    artifact = read_json_document(
        path,
        what="calibration artifact",
        error=BordersimError,
        limit=MAX_ARTIFACT_BYTES,
        file_format=ARTIFACT_FORMAT,
        required=_REQUIRED,
    )
    sizes = {"M": len(artifact["months"]), "M42": len(artifact["title42_share_months"])}
    for key, shape in _ARRAY_SHAPES.items():
        expected = tuple(sizes[d] if isinstance(d, str) else d for d in shape)
        try:
            array = np.asarray(artifact[key], dtype=np.float64)
        except (TypeError, ValueError) as err:
            raise BordersimError(
                f"calibration artifact key {key!r}: not an array of numbers ({err})", where=where
            ) from err
        if array.shape != expected and not (array.size == 0 and 0 in expected):
            raise BordersimError(
                f"calibration artifact key {key!r}: shape {array.shape} must be {expected}",
                where=where,
            )
        signed = key == "trend_per_year"
        if not np.isfinite(array).all() or (not signed and (array < 0).any()):
            rule = "finite" if signed else "finite and non-negative"
            raise BordersimError(
                f"calibration artifact key {key!r}: values must be {rule}",
                where=where,
            )
    mix_sums = np.asarray(artifact["group_mix"], dtype=np.float64).sum(axis=1)
    if np.abs(mix_sums - 1).max(initial=0) > 1e-6:
        raise BordersimError(
            "calibration artifact key 'group_mix': each month's mix must sum to 1", where=where
        )
    probability = artifact["apprehension_probability"]
    if not isinstance(probability, int | float) or not 0 < probability <= 1:
        raise BordersimError(
            f"calibration artifact key 'apprehension_probability': value {probability!r} must be "
            "in (0, 1]",
            where=where,
        )
    return artifact
