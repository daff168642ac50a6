"""Every default is next to its public source or flagged as an assumption (README, "Scenarios";
docs/scenarios.md). The loader holds that each leaf has one or the other; this holds that a
"source" is a public one: a choice of the model's design, cited only from the design notes, is an
assumption, shown as one by `bordersim scenario params` and in the reports."""

from __future__ import annotations

from bordersim.scenario.loader import load_defaults, load_diseases


def test_no_default_is_sourced_from_the_design_notes_alone() -> None:
    _, parameters = load_defaults()
    _, diseases = load_diseases()
    design_only = {
        key: source
        for key, source in {**parameters, **diseases}.items()
        if source.startswith("DESIGN")
    }
    assert design_only == {}


def test_the_design_choices_are_flagged_as_assumptions() -> None:
    _, sources = load_defaults()
    for key in ("period.warmup_days", "health.enabled"):
        assert sources[key].startswith("assumption: "), key
