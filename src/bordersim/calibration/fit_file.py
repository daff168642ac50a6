"""Demand fit files: the multiplicative correction of first attempts that `bordersim fit` finds.

A fit file is JSON beside the scenario it was fitted on (``scenarios/fits/NAME.json``), named by
the scenario's ``[demand] fit`` key and inherited by its variants. It holds one factor per
calendar month, sector and group; compiling a scenario multiplies the calibrated first attempts
of every simulated day by the factor of its month (days outside the fitted months, such as the
warm-up, take the nearest fitted month's factor). It also records what it was fitted on (the
scenario hash, the calibration version, the engine, seed and replications) and the final errors.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from bordersim.errors import ScenarioError
from bordersim.input_files import MIB, read_json_document
from bordersim.model.dimensions import GROUP_NAMES, N_GROUPS, Sector
from bordersim.output_files import write_atomically

MAX_FIT_BYTES = 16 * MIB

FIT_FORMAT = "bordersim-demand-fit/1"


def month_key(month: dt.date) -> str:
    return f"{month.year:04d}-{month.month:02d}"


def parse_month(text: str) -> dt.date:
    year, month = text.split("-")
    return dt.date(int(year), int(month), 1)


@dataclass(frozen=True)
class DemandFit:
    """A fit file, read and checked."""

    path: Path
    scenario_name: str
    scenario_hash: str
    calibration_version: str
    months: tuple[dt.date, ...]  # in-sample calendar months (month starts), increasing
    sectors: tuple[Sector, ...]
    factors: np.ndarray  # [M, S, G] multipliers of calibrated first attempts
    document: dict[str, Any]

    def daily_factors(self, dates: Sequence[dt.date], sectors: Sequence[Sector]) -> np.ndarray:
        """[D, S, G] factors for the given days and sectors (each sector must have been fitted)."""
        columns = []
        for sector in sectors:
            if sector not in self.sectors:
                fitted = ", ".join(s.name for s in self.sectors)
                raise ScenarioError(
                    f"sector {sector.name} was not fitted (the fit covers {fitted}); "
                    f"fit a scenario with this sector (bordersim fit)",
                    where=str(self.path),
                )
            columns.append(self.sectors.index(sector))
        return self.factors[nearest_month(dates, self.months)][:, columns, :]


def next_month(month: dt.date) -> dt.date:
    return dt.date(month.year + month.month // 12, month.month % 12 + 1, 1)


def nearest_month(dates: Sequence[dt.date], months: Sequence[dt.date]) -> np.ndarray:
    """[D] index of the month (of increasing month starts) whose factor applies on each day: the
    day's own month when it is one of them, otherwise the nearest one."""
    starts = np.array([m.toordinal() for m in months])
    ends = np.array([next_month(m).toordinal() - 1 for m in months])
    index = np.empty(len(dates), dtype=np.int64)
    for position, day in enumerate(dates):
        ordinal = day.toordinal()
        distance = np.maximum(starts - ordinal, 0) + np.maximum(ordinal - ends, 0)
        index[position] = int(np.argmin(distance))
    return index


def fit_text(document: dict[str, Any]) -> str:
    return json.dumps(document, indent=1, ensure_ascii=True) + "\n"


def write_fit(document: dict[str, Any], path: Path) -> None:
    """Write atomically, so that a scenario never reads half a fit."""
    write_atomically(path, fit_text(document))


def read_fit(path: Path) -> DemandFit:
    """Load and check a fit file; any problem is one `ScenarioError` naming the file."""
    where = str(path)
    document = read_json_document(
        path,
        what="demand fit file",
        error=ScenarioError,
        limit=MAX_FIT_BYTES,
        file_format=FIT_FORMAT,
        required=("scenario", "scenario_hash", "calibration_version", "groups", "factors"),
        absent="demand fit file not found; run `bordersim fit` on the scenario that names it",
    )
    if document["groups"] != GROUP_NAMES:
        raise ScenarioError(
            f"demand fit file key 'groups' must be {GROUP_NAMES}, got {document['groups']!r}",
            where=where,
        )
    table = document["factors"]
    if not isinstance(table, dict) or not table:
        raise ScenarioError(
            "demand fit file key 'factors' must map months to sectors to factors", where=where
        )
    months = _factor_months(table, where)
    sectors = _factor_sectors(table[month_key(months[0])], where)
    return DemandFit(
        path=path,
        scenario_name=str(document["scenario"]),
        scenario_hash=str(document["scenario_hash"]),
        calibration_version=str(document["calibration_version"]),
        months=tuple(months),
        sectors=sectors,
        factors=_factors(table, months, sectors, where),
        document=document,
    )


def _factor_months(table: dict[str, Any], where: str) -> list[dt.date]:
    """The months the factors table lists, in order."""
    try:
        return sorted(parse_month(m) for m in table)
    except ValueError:
        raise ScenarioError(
            f"demand fit file key 'factors': months must be YYYY-MM, got {sorted(table)}",
            where=where,
        ) from None


def _factor_sectors(first: Any, where: str) -> tuple[Sector, ...]:
    """The sectors the first month lists (every month must list the same)."""
    try:
        return tuple(Sector[code] for code in first)
    except KeyError as err:
        raise ScenarioError(
            f"demand fit file key 'factors': unknown sector {err.args[0]!r}", where=where
        ) from None


def _factors(
    table: dict[str, Any], months: list[dt.date], sectors: tuple[Sector, ...], where: str
) -> np.ndarray:
    """The factors [month, sector, group], each finite and positive."""
    factors = np.empty((len(months), len(sectors), N_GROUPS))
    for m, month in enumerate(months):
        row = table[month_key(month)]
        if not isinstance(row, dict) or sorted(row) != sorted(s.name for s in sectors):
            raise ScenarioError(
                f"demand fit file key 'factors.{month_key(month)}': every month must list the "
                f"same sectors ({', '.join(s.name for s in sectors)})",
                where=where,
            )
        for s, sector in enumerate(sectors):
            values = row[sector.name]
            try:
                factors[m, s] = np.asarray(values, dtype=np.float64)
            except (TypeError, ValueError):
                raise ScenarioError(
                    f"demand fit file key 'factors.{month_key(month)}.{sector.name}' = "
                    f"{values!r}: must be {N_GROUPS} numbers, one per group",
                    where=where,
                ) from None
    if not np.isfinite(factors).all() or (factors <= 0).any():
        raise ScenarioError(
            "demand fit file key 'factors': every factor must be finite and positive", where=where
        )
    return factors


def factors_table(
    months: Sequence[dt.date], sectors: Sequence[Sector], factors: np.ndarray
) -> dict[str, dict[str, list[float]]]:
    """The JSON form of [M, S, G] factors: month -> sector code -> one factor per group."""
    return {
        month_key(month): {
            sector.name: [round(float(v), 6) for v in factors[m, s]]
            for s, sector in enumerate(sectors)
        }
        for m, month in enumerate(months)
    }
