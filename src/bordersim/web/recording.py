"""Record a simulation the worker has finished: the store, then its report, all or nothing.

The run is started, completed and given its report in one short hold of the store (the
simulation ran before, without it). The report is rendered from the same record that
`bordersim report RUN_ID` rebuilds from the store, so the two are identical.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from bordersim.results.schema import RunResult
    from bordersim.services.loading import LoadedScenario
    from bordersim.store.interface import Catalog


def record_simulated(
    connection: Catalog,
    loaded: LoadedScenario,
    result: RunResult,
    *,
    out_root: Path,
) -> str:
    """Store a finished simulation and write its report; return its run id."""
    from bordersim.output_files import write_atomically
    from bordersim.report.locations import point_latest, run_folder
    from bordersim.report.run_report import run_report_page
    from bordersim.services.record import (
        complete_recorded,
        failure_reason,
        kpis_of,
        new_run_record,
        start_recorded,
    )
    from bordersim.store.runs import fail_run, get_run, new_run_id, temporary_name
    from bordersim.validation.reference import load_official_monthly

    model = loaded.model
    run_id = new_run_id(model.scenario_name)
    folder = run_folder(out_root, model.scenario_name, run_id)
    report_path = folder / "report.html"
    # Named after this process and registered with the run's folder, so that the store's repair
    # removes it if the worker dies before the rename (`store.runs.repair_dead_runs`).
    pending = temporary_name(report_path)
    start_recorded(
        connection,
        run_id,
        loaded,
        engine=result.engine,
        seed=result.seed,
        replications=result.n_replications,
        folder=folder,
    )
    try:
        record = new_run_record(run_id, loaded, result, get_run(connection, run_id).created_at)
        # Validated against the calibration this run used, as `bordersim run` does.
        official, reason = load_official_monthly(record.calibration, record.calibration_sha256)
        html = run_report_page(record, official=official, official_reason=reason).render()
        write_atomically(pending, html)
        complete_recorded(connection, record, kpis_of(result), report_path.absolute())
    except BaseException as err:
        fail_run(connection, run_id, reason=failure_reason(err))
        pending.unlink(missing_ok=True)
        raise
    os.replace(pending, report_path)
    point_latest(folder)
    return run_id
