"""Compare two scenarios or stored runs: both sides stored, with common random numbers."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

from bordersim import interrupts
from bordersim.services.loading import LoadedScenario, load_and_compile
from bordersim.services.observer import QUIET, Observer
from bordersim.services.record import (
    API_NAMES,
    DEFAULT_REPLICATIONS,
    DEFAULT_SEED,
    OptionNames,
    check_report_folder,
    check_request,
    simulate_and_record,
    stored_record,
)

if TYPE_CHECKING:
    from bordersim.report.run_report import RunRecord
    from bordersim.store import StoreRef


def resolve_compare_side(
    spec: str,
    store: StoreRef,
    settings: Mapping[str, Any] | None = None,
    side: str | None = None,
) -> tuple[str, LoadedScenario | None]:
    """'file' with the loaded scenario, or 'run' when `spec` is a stored run id. `side` ("A" or
    "B") names the side in the message refusing a spec that is neither."""
    from bordersim.errors import BordersimError

    path = Path(spec)
    if path.suffix == ".toml" or path.exists():
        return "file", load_and_compile(path, settings)
    if _store_has_run(store, spec):
        return "run", None
    raise BordersimError(
        f"{spec!r} is neither a scenario file nor a run id in the store", where=side
    )


def _store_has_run(store: StoreRef, run_id: str) -> bool:
    """Whether the store holds `run_id`. A store file not made yet holds none, and is not made
    to be asked: a comparison refused for an unknown side would leave an empty store behind."""
    from bordersim.store import store_location, using_store
    from bordersim.store.runs import has_run

    if isinstance(store, str | Path | None):
        location = store_location(store)
        if isinstance(location, Path) and not location.exists():
            return False
    with using_store(store) as connection:
        return has_run(connection, run_id)


def refuse_options_unused_by_runs(
    given: Mapping[str, object],
    both: str = "A and B are both stored runs",
    scenario: str = "a scenario file",
) -> None:
    """Two stored runs are compared as they are: an option that would shape a simulation (given:
    not None) is refused rather than silently dropped. `both` and `scenario` say it in the
    caller's words (the API's a and b are Runs, stored or not, and its side may be a Scenario)."""
    from bordersim.errors import BordersimError

    unused = [name for name, value in given.items() if value is not None]
    if unused:
        raise BordersimError(
            f"{both}, so nothing is simulated and {', '.join(unused)} would change nothing; "
            f"leave {'it' if len(unused) == 1 else 'them'} out, or give {scenario} as a side"
        )


def refuse_options_no_engine_runs(
    engine: str | None, replications: int | None, seed: int | None, names: OptionNames
) -> None:
    """An engine, count or seed given that no side could run with is refused first, as `bordersim
    run` refuses it: not after A is compiled, or found, and B refused for something else."""
    check_request(
        "event" if engine is None else engine,
        DEFAULT_REPLICATIONS if replications is None else replications,
        False,
        DEFAULT_SEED if seed is None else seed,
        names,
    )


def refuse_a_side_compared_with_itself(spec_a: str, spec_b: str, store: StoreRef) -> None:
    """B naming A's scenario file (by any path) or A's run again is refused, as the workbench
    does: both sides run with one seed and engine, so every difference would be exactly zero,
    and a run be stored for nothing. A run id the store lacks is refused as such first: "B is
    A too" would say it is a run to compare."""
    from bordersim.errors import BordersimError

    a, b = Path(spec_a), Path(spec_b)
    if a.exists() and b.exists():
        same = a.samefile(b)
        what, other = "a scenario compared with itself (one seed, one engine)", "scenario"
    else:
        same = spec_a == spec_b and a.suffix != ".toml"  # a missing file is named as such
        what, other = "a run compared with itself", "run"
    if same and other == "run":
        resolve_compare_side(spec_a, store, side="A")  # refuses an id the store lacks
    if same:
        raise BordersimError(
            f"{spec_b} is A too; {what} differs by nothing: give another {other} for B",
            where="B",
        )


def compare_specs(
    spec_a: str,
    spec_b: str,
    store: StoreRef,
    *,
    engine: str | None,
    replications: int | None,
    seed: int | None,
    out_root: Path,
    observer: Observer = QUIET,
    settings: Mapping[str, Any] | None = None,
    option_names: OptionNames = API_NAMES,
) -> tuple[RunRecord, RunRecord]:
    """Both sides as stored runs, simulating missing ones with the same seed (CRN); `settings`
    apply to both sides given as files.

    `store` is a connection or a location; a location is opened only for short steps."""
    from bordersim.store import using_store
    from bordersim.store.runs import get_run

    sides = [
        resolve_compare_side(spec, store, settings, side)
        for spec, side in ((spec_a, "A"), (spec_b, "B"))
    ]
    if all(kind == "run" for kind, _ in sides):
        given = {
            option_names.replications: replications,
            option_names.seed: seed,
            option_names.engine: engine,
            option_names.settings: settings or None,
        }
        refuse_options_unused_by_runs(given)
    # A stored run fixes the seed, replications and engine the other side must share.
    for (kind, _), spec in zip(sides, (spec_a, spec_b), strict=True):
        if kind == "run":
            with using_store(store) as connection:
                stored = get_run(connection, spec)
            seed = stored.seed if seed is None else seed
            replications = stored.replications if replications is None else replications
            engine = stored.engine if engine is None else engine
    names = [loaded.model.scenario_name if loaded else spec for _, loaded in sides]
    # The same scenario on both sides still gets two report folders.
    folders = names if names[0] != names[1] else [f"{names[0]}-a", f"{names[1]}-b"]
    records: list[RunRecord] = []
    for (kind, loaded), spec in zip(sides, (spec_a, spec_b), strict=True):
        if kind == "run":
            with using_store(store) as connection:
                records.append(stored_record(connection, spec))
            continue
        assert loaded is not None
        record = simulate_and_record(
            loaded,
            store,
            engine=engine or "event",
            replications=replications or DEFAULT_REPLICATIONS,
            seed=DEFAULT_SEED if seed is None else seed,
            out_dir=out_root / folders[len(records)],
            records=False,
            observer=observer,
            names=option_names,
        )
        observer.note(f"run {record.run_id} stored; report: {record.report_path}")
        records.append(record)
        # A's run is complete in the store: an interrupt from here on must not say that
        # nothing was (the generic last line), as a later compare reuses it
        kept = " and ".join(r.run_id for r in records)
        interrupts.describe(
            f"stopped cleanly; run{'s' * (len(records) > 1)} {kept} "
            f"{'are' if len(records) > 1 else 'is'} complete and kept in the store, the "
            "comparison was not made (a run that had started is recorded as failed)"
        )
    return records[0], records[1]


def run_comparison(
    a: str,
    b: str,
    *,
    store: str | Path | None,
    engine: str | None,
    replications: int | None,
    seed: int | None,
    out_root: Path,
    observer: Observer = QUIET,
    settings: Mapping[str, Any] | None = None,
    option_names: OptionNames = API_NAMES,
) -> tuple[RunRecord, RunRecord, Path]:
    """Run what is missing of A and B in the store and write `out_root/compare.html`."""
    from bordersim.output_folders import missing_folders, removed_on_failure
    from bordersim.report.compare_report import write_compare_report

    refuse_options_no_engine_runs(engine, replications, seed, option_names)
    refuse_a_side_compared_with_itself(a, b, store)
    made = missing_folders(out_root)  # removed again, if still empty, when the comparison fails
    # before anything is simulated (a side's run), and when both sides are stored runs too
    check_report_folder(out_root, ("compare.html",), option_names.out)
    with removed_on_failure(made):
        record_a, record_b = compare_specs(
            a,
            b,
            store,
            engine=engine,
            replications=replications,
            seed=seed,
            out_root=out_root,
            observer=observer,
            settings=settings,
            option_names=option_names,
        )
        path = write_compare_report(out_root / "compare.html", record_a, record_b)
    return record_a, record_b, path
