"""Each CompiledModel field is declared once; checks, packing and parameters follow from it."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest

from bordersim.engines.event.border.driver import pack_model
from bordersim.engines.event.border.state import Model
from bordersim.engines.flow.layout import _parameters, layout_of
from bordersim.errors import ModelError
from bordersim.model.compiled import CompiledModel
from bordersim.model.examples import tiny_model
from bordersim.model.fields import AXES, day_axis_fields, numpy_dtype, specs

UNDECLARED = {
    "scenario_name",
    "scenario_hash",
    "start_date",
    "warmup_days",
    "n_days",
    "sectors",
    "crew_names",
    "sources",
}
DECLARED = specs(CompiledModel)
ARRAYS = [name for name, spec in DECLARED.items() if spec.axes]


def test_every_numeric_field_is_declared_with_doc_unit_and_source() -> None:
    names = {f.name for f in dataclasses.fields(CompiledModel)}
    assert set(DECLARED) == names - UNDECLARED
    for name, spec in DECLARED.items():
        assert spec.doc and spec.source, name
        assert set(spec.axes) <= set(AXES), name
        assert spec.dtype in ("float", "int", "bool"), name


def test_the_tiny_model_matches_its_declarations() -> None:
    model = tiny_model()
    for name, spec in DECLARED.items():
        value = getattr(model, name)
        if spec.axes:
            assert np.asarray(value).dtype.kind == np.dtype(numpy_dtype(spec)).kind, name
        else:
            assert isinstance(value, (int, float, bool, np.floating)), name


@pytest.mark.parametrize("name", ARRAYS)
def test_check_names_a_field_of_the_wrong_shape(name: str) -> None:
    model = tiny_model()
    wrong = np.zeros((*getattr(model, name).shape, 2), dtype=getattr(model, name).dtype)
    with pytest.raises(ModelError, match=f"field {name} has shape"):
        model.replace(**{name: wrong})


@pytest.mark.parametrize(
    "name", [n for n in ARRAYS if DECLARED[n].dtype == "float" and n != "diurnal_profile"]
)
def test_check_names_a_field_with_an_impossible_value(name: str) -> None:
    model = tiny_model()
    bad = getattr(model, name).copy()
    bad.flat[0] = -1.0
    with pytest.raises(ModelError, match=f"field {name} "):
        model.replace(**{name: bad})
    spec = DECLARED[name]
    if spec.probability or spec.sums_to_one_axis is not None:
        bad = getattr(model, name).copy()
        bad.flat[0] = 1.5
        with pytest.raises(ModelError, match=f"field {name} "):
            model.replace(**{name: bad})


def test_day_axis_fields_are_those_declared_with_the_day_first() -> None:
    model = tiny_model(n_days=10)
    for name in day_axis_fields(CompiledModel):
        assert getattr(model, name).shape[0] == model.n_days
    assert "crew_headcount" in day_axis_fields(CompiledModel)


def test_engines_read_declared_fields_unchanged() -> None:
    model = tiny_model(health=True)
    packed = pack_model(model)
    for name in Model._fields:
        if name in DECLARED:
            value = getattr(packed, name)
            if DECLARED[name].axes:
                assert value.dtype == np.dtype(numpy_dtype(DECLARED[name])), name
            assert np.array_equal(value, getattr(model, name)), name
    params = _parameters(model, layout_of([model]))
    for name, spec in DECLARED.items():
        if spec.flow_as_is:
            expected = np.asarray(getattr(model, name), dtype=np.float32)
            assert np.array_equal(params[name], expected), name
