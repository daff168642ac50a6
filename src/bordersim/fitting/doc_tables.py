"""The fit tables of docs/validation.md, generated from the shipped demand fits
(`scenarios/fits/*.json`), so that the page always shows the fits that ship.

    python -m bordersim.fitting.doc_tables          # rewrite the tables in docs/validation.md
    python -m bordersim.fitting.doc_tables --check  # exit 1 when the page is out of date
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

SCENARIOS = (
    "2023-title42-end",
    "2020-covid-support",
    "2019-family-surge",
    "2021-uac-surge",
    "2022-title42-record-year",
)
SECTORS = ("SDC", "ELC", "YUM", "TCA", "EPT", "BBT", "DRT", "LRT", "RGV")
START = "<!-- fit tables: generated from scenarios/fits/*.json -->\n"
END = "<!-- end of fit tables -->"


def _count(value: float) -> str:
    return f"{round(value):,}"


def _error(value: float) -> str:
    return f"{value:+.1f}"


def _heading(name: str, fit: dict[str, Any]) -> list[str]:
    if fit["converged"]:
        state = "sectors, groups too" if fit["groups_converged"] else "sectors"
        state = f"within tolerance: {state}"
    else:
        state = "best iteration, not within tolerance"
    return [
        f"### {name} ({fit['replications']} replications, seed {fit['seed']}; factors of "
        f"iteration {fit['chosen_iteration']}, {state})",
        "",
        "Per sector and month: official / simulated mean (error %). Largest error "
        f"{fit['max_abs_error_pct']:.1f} %, mean {fit['mean_abs_error_pct']:.1f} %.",
        "",
    ]


def _sector_table(rows: list[dict[str, Any]], months: list[str]) -> list[str]:
    lines = [
        "| sector | " + " | ".join(months) + " | max abs | mean abs |",
        "| --- | " + " | ".join("---:" for _ in months) + " | ---: | ---: |",
    ]
    for sector in SECTORS:
        by_month = {r["month"]: r for r in rows if r["sector"] == sector}
        if not by_month:
            continue
        cells = [
            f"{_count(by_month[m]['official'])} / {_count(by_month[m]['simulated'])} "
            f"({_error(by_month[m]['error_pct'])})"
            for m in months
        ]
        errors = [abs(by_month[m]["error_pct"]) for m in months]
        lines.append(
            f"| {sector} | " + " | ".join(cells) + f" | {max(errors):.1f} | "
            f"{sum(errors) / len(errors):.1f} |"
        )
    return lines


def _group_table(rows: list[dict[str, Any]], months: list[str]) -> list[str]:
    lines = [
        "",
        "Per group, the nine sectors together: official (error %).",
        "",
        "| group | " + " | ".join(months) + " |",
        "| --- | " + " | ".join("---:" for _ in months) + " |",
    ]
    for group in dict.fromkeys(r["group"] for r in rows):
        by_month = {r["month"]: r for r in rows if r["group"] == group}
        cells = [
            f"{_count(by_month[m]['official'])} ({_error(by_month[m]['error_pct'])})"
            for m in months
        ]
        lines.append(f"| {group} | " + " | ".join(cells) + " |")
    return lines


def fit_tables(root: Path) -> str:
    """The markdown between the page's markers, from the fits under `root`."""
    lines: list[str] = [""]
    for name in SCENARIOS:
        fit = json.loads((root / "scenarios" / "fits" / f"{name}.json").read_text())
        months = sorted({r["month"] for r in fit["sector_errors"]})
        lines += _heading(name, fit)
        lines += _sector_table(fit["sector_errors"], months)
        lines += _group_table(fit["group_errors"], months)
        lines.append("")
    return "\n".join(lines) + "\n"


def with_tables(page: str, tables: str) -> str:
    start = page.index(START) + len(START)
    return page[:start] + tables + page[page.index(END) :]


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--root", type=Path, default=Path.cwd())
    parser.add_argument("--check", action="store_true")
    args = parser.parse_args(argv)
    doc = args.root / "docs" / "validation.md"
    page = doc.read_text()
    updated = with_tables(page, fit_tables(args.root))
    if args.check:
        if updated != page:
            print(f"{doc}: the fit tables differ from scenarios/fits/*.json", file=sys.stderr)
            sys.exit(1)
        return
    doc.write_text(updated)


if __name__ == "__main__":
    main()
