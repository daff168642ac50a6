"""How a `CompiledModel` field is declared: axes, dtype, unit, doc, source parameter, checks.

Each field of `CompiledModel` is declared once, on its own line in `compiled.py`, with `array`
or `scalar` below; what other code needs to know about fields is derived from those
declarations (`specs`): the model's shape and value checks (`check_arrays`), the event engine's
packing, the flow engine's parameters that it reads as they are, and the fields a test fixture
cuts to fewer days (`day_axis_fields`).

Axis letters: D days, S sectors, G groups, P pathways, K pools, T tasks, C crews, L departure
lines, H hour of the day (24), R regime (2: Title 8, Title 42).
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import Any, TypeVar, dataclass_transform

import numpy as np

from bordersim.errors import ModelError

AXES = {
    "D": "days simulated, warm-up included",
    "S": "sectors of the scenario",
    "G": "groups (demographic x nationality)",
    "P": "pathways",
    "K": "staff pools",
    "T": "tasks",
    "C": "crews",
    "L": "departure lines (model/routes.py)",
    "H": "hours of the day (24)",
    "R": "regimes (0: Title 8, 1: Title 42)",
}
FIXED_SIZES = {"H": 24, "R": 2}


@dataclass(frozen=True)
class FieldSpec:
    axes: str  # axis letters, e.g. "DSG"; "" for a scalar
    dtype: str  # "float", "int" or "bool"
    unit: str
    doc: str
    source: str  # the parameter it comes from (`defaults/parameters.toml` path), or how derived
    sums_to_one_axis: int | None = None  # shares that sum to 1 along this axis
    probability: bool = False  # values in [0, 1]
    at_least_one: bool = False  # values >= 1
    flow_as_is: bool = False  # the flow engine reads it unchanged, under the same name


def _declare(spec: FieldSpec) -> Any:
    return dataclasses.field(metadata={"spec": spec})


def array(
    axes: str,
    unit: str,
    doc: str,
    source: str,
    *,
    dtype: str = "float",
    sums_to_one_axis: int | None = None,
    probability: bool = False,
    at_least_one: bool = False,
    flow_as_is: bool = True,
) -> Any:
    """Declare an array field of a `CompiledModel` (non-negative, no NaN; +inf allowed)."""
    return _declare(
        FieldSpec(
            axes, dtype, unit, doc, source, sums_to_one_axis, probability, at_least_one, flow_as_is
        )
    )


def scalar(
    unit: str, doc: str, source: str, *, dtype: str = "float", flow_as_is: bool = True
) -> Any:
    """Declare a scalar field of a `CompiledModel`."""
    return _declare(FieldSpec("", dtype, unit, doc, source, flow_as_is=flow_as_is))


T = TypeVar("T")


@dataclass_transform(field_specifiers=(dataclasses.field, array, scalar))
def model_dataclass(cls: type[T]) -> type[T]:
    """A frozen dataclass whose fields may be declared with `array` and `scalar` (which type
    checkers then know to be fields without a default)."""
    return dataclass(frozen=True)(cls)


def specs(model_class: type) -> dict[str, FieldSpec]:
    """Every declared field of a `CompiledModel` class, in declaration order."""
    return {
        f.name: f.metadata["spec"] for f in dataclasses.fields(model_class) if "spec" in f.metadata
    }


def day_axis_fields(model_class: type) -> tuple[str, ...]:
    """Fields whose first axis is the simulated day."""
    return tuple(name for name, spec in specs(model_class).items() if spec.axes[:1] == "D")


def expected_shape(spec: FieldSpec, sizes: dict[str, int]) -> tuple[int, ...]:
    return tuple(sizes.get(axis, FIXED_SIZES.get(axis, -1)) for axis in spec.axes)


def check_arrays(model: Any, sizes: dict[str, int]) -> None:
    """Raise `ModelError` naming the first array field with the wrong shape or an impossible
    value, in declaration order."""
    for name, spec in specs(type(model)).items():
        if not spec.axes:
            continue
        value = getattr(model, name)
        shape = expected_shape(spec, sizes)
        if not isinstance(value, np.ndarray) or value.shape != shape:
            got = getattr(value, "shape", type(value).__name__)
            raise ModelError(f"compiled model field {name} has shape {got}, expected {shape}")
        if value.dtype.kind == "f" and not np.all(np.isfinite(value) | np.isposinf(value)):
            raise ModelError(f"compiled model field {name} has NaN values")
        if value.dtype.kind in "fi" and np.any(value < 0):
            raise ModelError(f"compiled model field {name} has negative values")
        axis = spec.sums_to_one_axis
        if axis is not None and not np.allclose(value.sum(axis=axis), 1.0, atol=1e-9):
            raise ModelError(f"compiled model field {name} does not sum to 1 over axis {axis}")
        if spec.probability and np.any(value > 1):
            raise ModelError(f"compiled model field {name} has probabilities above 1")
        if spec.at_least_one and np.any(value < 1):
            raise ModelError(f"compiled model field {name} must be >= 1")


def numpy_dtype(spec: FieldSpec) -> type:
    return {"float": np.float64, "int": np.int64, "bool": np.bool_}[spec.dtype]
