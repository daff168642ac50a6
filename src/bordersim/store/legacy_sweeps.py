"""Migration 6 of the embedded store: sweeps an earlier bordersim kept beside the store.

Before the sweep catalog (migration 5) a blocked sweep lived in ``<store folder>/sweeps/<sweep
id>/``: its plan in ``plan.json``, its finished blocks listed in ``manifest.json`` (file, bytes,
rows, sha256, the variants' scenario names and hashes, timings) and their files under
``blocks/variants=VVVVV/seeds=SSSSS.parquet``. The block files and the plan are what the catalog
now holds, in the same formats, so such a sweep is registered as it is:

- the sweep, with its plan, in `sweeps` (finished when every block is registered);
- each block the manifest lists whose file is there with the recorded size and sha256: linked
  (or, across file systems, copied and checked again) to its place under the results folder,
  under a temporary name renamed into place, and registered in `sweep_blocks`;
- a block the manifest does not list, or whose file is missing or differs, is left out: the
  sweep's ``bordersim sweep --resume SWEEP_ID`` runs it again.

The old folder is never changed (the files are linked or copied, not moved); once the store is
migrated it can be deleted. A folder that is not such a sweep (no readable plan, another id than
its name), or a sweep the catalog already has, is left alone. If anything fails, the files put
in place here are removed and the migration's transaction rolls back: the store is as it was.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import re
import shutil
from pathlib import Path
from typing import Any

from bordersim.store.result_files import embedded_results_dir, partial_name, put_in_place, sha256_of
from bordersim.store.sweeps import SweepBlock, register_block, sweep_folder

PLAN_FILE = "plan.json"
MANIFEST_FILE = "manifest.json"
_BLOCK_NAME = re.compile(r"^variants=\d{5}/seeds=\d{5}$")


def legacy_sweeps_root(results_dir: Path) -> Path:
    """Where an earlier bordersim kept sweeps: ``sweeps`` in the store file's folder."""
    return results_dir.parent / "sweeps"


def register_legacy_sweeps(connection: Any) -> None:
    """The migration's step (on the embedded store's connection, inside its transaction)."""
    results_dir = embedded_results_dir(connection)
    root = legacy_sweeps_root(results_dir)
    if not root.is_dir():
        return
    placed: list[Path] = []  # files and folders made here, in the order made
    try:
        for folder in sorted(p for p in root.iterdir() if p.is_dir() and not p.is_symlink()):
            _register_sweep(connection, results_dir, folder, placed)
    except BaseException:
        for path in reversed(placed):
            if path.is_dir():
                path.rmdir()  # made here for the files just removed
            else:
                path.unlink(missing_ok=True)
        raise


def _register_sweep(connection: Any, results_dir: Path, folder: Path, placed: list[Path]) -> None:
    from bordersim.services.blocks import SweepPlan

    try:
        plan = SweepPlan.from_json((folder / PLAN_FILE).read_text(encoding="utf-8"))
    except (OSError, ValueError, KeyError, TypeError):
        return  # not a sweep folder bordersim can read: left as it is
    if plan.sweep_id != folder.name:
        return
    known = connection.execute(
        "SELECT 1 FROM sweeps WHERE sweep_id = ?", [plan.sweep_id]
    ).fetchone()
    if known is not None:
        return
    blocks = {block.name for block in plan.blocks()}
    entries = {name: entry for name, entry in _manifest(folder).items() if name in blocks}
    connection.execute(
        """INSERT INTO sweeps (sweep_id, created_at, scenario_name, scenario_hash, plan_json,
        blocks, code_version) VALUES (?, ?, ?, ?, ?, ?, ?)""",
        [
            plan.sweep_id,
            dt.datetime.fromtimestamp((folder / PLAN_FILE).stat().st_mtime),
            plan.sweep_id.rsplit("-", 1)[0],
            plan.scenario_hash,
            plan.to_json(),
            len(blocks),
            None,  # not recorded by the earlier bordersim
        ],
    )
    registered = 0
    for name, entry in sorted(entries.items()):
        block = _place_block(results_dir, folder, plan.sweep_id, name, entry, placed)
        if block is not None:
            register_block(connection, block)
            registered += 1
    if registered == len(blocks):
        connection.execute(
            "UPDATE sweeps SET finished_at = now()::TIMESTAMP WHERE sweep_id = ?", [plan.sweep_id]
        )


def _manifest(folder: Path) -> dict[str, dict[str, Any]]:
    """The manifest's blocks by name ({} when it is missing or unreadable: nothing finished)."""
    try:
        blocks = json.loads((folder / MANIFEST_FILE).read_text(encoding="utf-8"))["blocks"]
    except (OSError, ValueError, KeyError, TypeError):
        return {}
    if not isinstance(blocks, dict):
        return {}
    return {
        name: entry
        for name, entry in blocks.items()
        if isinstance(name, str) and _BLOCK_NAME.match(name) and isinstance(entry, dict)
    }


def _place_block(
    results_dir: Path,
    folder: Path,
    sweep_id: str,
    name: str,
    entry: dict[str, Any],
    placed: list[Path],
) -> SweepBlock | None:
    """The block's file under the results folder, checked, as the catalog records it; None for
    a block that is not complete as the manifest describes it."""
    try:
        source = folder / str(entry["file"])
        size, rows, digest = int(entry["bytes"]), int(entry["rows"]), str(entry["sha256"])
        names = [str(n) for n in entry["scenario_names"]]
        hashes = [str(h) for h in entry["scenario_hashes"]]
    except (KeyError, TypeError, ValueError):
        return None
    expected = folder / "blocks" / f"{name}.parquet"
    if source.resolve() != expected.resolve() or not source.is_file() or source.is_symlink():
        return None
    if source.stat().st_size != size or sha256_of(source) != digest:
        return None
    target = sweep_folder(results_dir, sweep_id) / "blocks" / f"{name}.parquet"
    _make_folders(target.parent, placed)
    partial = partial_name(target)
    try:
        try:
            os.link(source, partial)
        except OSError:
            shutil.copyfile(source, partial)
        if sha256_of(partial) != digest:
            return None
        put_in_place(partial, target)
        placed.append(target)
    finally:
        partial.unlink(missing_ok=True)
    return SweepBlock(
        sweep_id=sweep_id,
        block=name,
        path=target.relative_to(results_dir).as_posix(),
        bytes=size,
        rows=rows,
        sha256=digest,
        scenario_names=names,
        scenario_hashes=hashes,
        compile_s=float(entry.get("compile_s") or 0.0),
        run_s=float(entry.get("run_s") or 0.0),
        write_s=float(entry.get("write_s") or 0.0),
    )


def _make_folders(folder: Path, placed: list[Path]) -> None:
    """Make `folder` and its missing parents, noting each one made in `placed`."""
    missing = []
    while not folder.exists():
        missing.append(folder)
        folder = folder.parent
    for path in reversed(missing):
        path.mkdir()
        placed.append(path)
