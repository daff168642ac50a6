"""`bordersim data import` and `bordersim data show`: official files into the store, and back."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

import typer

from bordersim.commands.calibrate import STORE_OPTION_HELP

if TYPE_CHECKING:
    from datetime import date

    from bordersim.commands.tables import Table
    from bordersim.store.coverage import Coverage, SourceCoverage


data_app = typer.Typer(
    name="data",
    help="Import the official encounter data into the store and show what it holds.",
    no_args_is_help=True,
)


def register(app: typer.Typer) -> None:
    app.add_typer(data_app, name="data")


@data_app.command("import")
def import_command(
    files: list[Path] = typer.Argument(  # noqa: B008
        None,
        metavar="FILE",
        help="OHSS workbook (.xlsx) and/or CBP CSV (.csv). Default: the files shipped with "
        "bordersim.",
        show_default=False,
    ),
    store: str | None = typer.Option(None, "--store", help=STORE_OPTION_HELP),
) -> None:
    """Import official files (validated first; the store changes only if all of them are good)."""
    from bordersim.calibration.inputs import check_official_series
    from bordersim.store import check_store_to_write, open_store, resolve_store_path
    from bordersim.store.coverage import coverage, release_notes
    from bordersim.store.location import made_by_opening, remove_made
    from bordersim.store.official import import_parsed, parse_official_files

    location = resolve_store_path(store)
    # a store that cannot be written is refused before the files are read (seconds each)
    check_store_to_write(location)
    # Files are read and checked before the store is opened: the store is held only for the
    # one transaction that replaces the data.
    imported = parse_official_files(list(files) if files else None)
    # a store this import makes, and the folders it makes for it, go again if the import fails
    made = made_by_opening(location)
    try:
        with open_store(location) as connection:
            # what calibrate and forecast would refuse is refused here, before it replaces the
            # data the store holds
            import_parsed(connection, imported, check=check_official_series)
            notes = release_notes(connection)
            held = coverage(connection)
    except BaseException:
        remove_made(made)
        raise
    console = _console()
    _print_import(console, imported, location, held)
    print_notes(console, notes)


def _print_import(console: Any, imported: list[Any], location: Path, held: Coverage) -> None:
    """A row per file imported, with the months it covers; the sectors a workbook names."""
    from rich.markup import escape

    from bordersim.commands.tables import Table

    by_kind = {source.kind: source for source in held.sources}
    # names are text, not markup: `cbp[old].csv` is shown so, not as `cbp.csv`
    table = Table(title=f"Imported into {escape(str(location))}")
    for column in ("file", "kind", "rows", "sheets", "months", "sha256"):
        table.add_column(column, justify="right" if column == "rows" else "left")
    for parsed in imported:
        table.add_row(
            escape(str(parsed.path)),
            parsed.kind,
            f"{parsed.rows:,}",
            str(len(parsed.sheets)) if parsed.sheets else "-",
            _months_text(by_kind.get(parsed.kind)),
            parsed.sha256[:12],
        )
    console.print(table)
    if any(parsed.kind == "ohss_usbp" for parsed in imported) and held.southwest_sectors:
        codes = _sector_codes()
        console.print(
            f"southwest sectors (OHSS, {len(held.southwest_sectors)}): "
            + ", ".join(
                f"{name} [{codes.get(name, 'not modelled')}]" for name in held.southwest_sectors
            ),
            highlight=False,
            markup=False,
        )


def _months_text(source: SourceCoverage | None) -> str:
    """The months a file covers: 'first to last (count)', by calendar month."""
    from bordersim.words import counted

    if source is None or source.first_month is None or source.last_month is None:
        return "-"
    months = counted(source.months, "month")
    return f"{source.first_month:%Y-%m} to {source.last_month:%Y-%m} ({months})"


@data_app.command("show")
def show_command(
    store: str | None = typer.Option(None, "--store", help=STORE_OPTION_HELP),
) -> None:
    """Print coverage (fiscal years, months, sectors, groups) and totals per year and sector."""

    from bordersim.store import open_store, resolve_store_path

    location = resolve_store_path(store)
    console = _console()
    with open_store(location, create=False) as connection:
        _render_show(console, connection, location)


def _render_show(console: Any, connection: Any, location: Path) -> None:
    """What `data show` prints: the files, the dimensions, and the yearly totals of each file."""
    from rich.markup import escape

    from bordersim.store.coverage import cbp_totals_by_year, coverage, southwest_totals_by_sector

    held = coverage(connection)
    if not held.sources:
        console.print(
            f"The store {escape(str(location))} holds no official data yet: run "
            "[bold]bordersim data import[/]."
        )
        return
    console.print(_sources_table(held, location))
    console.print(_dimensions_table(held))
    by_kind = {source.kind: source for source in held.sources}
    totals = southwest_totals_by_sector(connection)
    if totals:
        console.print(_sector_totals_table(totals, by_kind.get("ohss_usbp")))
    cbp = cbp_totals_by_year(connection)
    if cbp:
        console.print(_cbp_totals_table(cbp, by_kind.get("cbp_swb")))
    print_release_notes(console, connection)


def _sources_table(held: Coverage, location: Path) -> Table:
    """One row per imported file: its kind, rows, fiscal years (partial ones named) and months."""
    from rich.markup import escape

    from bordersim.commands.tables import Table

    sources = Table(title=f"Official data in {escape(str(location))}")
    for column in ("file", "kind", "rows", "fiscal years", "months", "first month", "last month"):
        # counts to the right, as in `data import` and the totals tables
        sources.add_column(column, justify="right" if column in ("rows", "months") else "left")
    for source in held.sources:
        years = source.fiscal_years
        partial = ", ".join(source.year_label(year) for year in source.partial_years)
        sources.add_row(
            escape(source.file_name),
            source.kind,
            f"{source.rows:,}",
            _years_text(years) + (f"; {partial}" if partial else ""),
            str(source.months),
            _month_text(source.first_month),
            _month_text(source.last_month),
        )
    return sources


def _years_text(years: tuple[int, ...]) -> str:
    """'FY2000-FY2023 (24)'; one year alone, 'FY2024 (1)', not a range of one; '-' if none."""
    if not years:
        return "-"
    span = f"FY{years[0]}" if years[0] == years[-1] else f"FY{years[0]}-FY{years[-1]}"
    return f"{span} ({len(years)})"


def _month_text(month: date | None) -> str:
    """A month as YYYY-MM, as `data import` and the forecasts write months ('-' if none)."""
    return f"{month:%Y-%m}" if month is not None else "-"


def _sector_codes() -> dict[str, str]:
    """The model's sector code of each OHSS sector name."""
    from bordersim.ingest.categories import SECTOR_BY_OHSS_NAME

    return {name: sector.name for name, sector in SECTOR_BY_OHSS_NAME.items()}


def _dimensions_table(held: Coverage) -> Table:
    """The sectors and groups each file names."""
    from rich.markup import escape

    from bordersim.commands.tables import Table

    groups = Table(title="Sectors and groups (southwest land border)", show_header=False)
    groups.add_column("dimension")
    groups.add_column("values")
    codes = _sector_codes()
    # a store without a workbook marks its rows '-', as the CSV's are without a CSV
    groups.add_row(
        "sectors (OHSS)",
        escape(
            ", ".join(
                f"{name} [{codes.get(name, 'not modelled')}]" for name in held.southwest_sectors
            )
        )
        or "-",
    )
    groups.add_row("family status (OHSS)", escape(", ".join(held.family_statuses)) or "-")
    groups.add_row(
        "citizenships (OHSS)", f"{held.citizenships} countries" if held.citizenships else "-"
    )
    groups.add_row("demographic (CBP)", escape(", ".join(held.cbp_demographics)) or "-")
    groups.add_row(
        "citizenship grouping (CBP)", escape(", ".join(held.cbp_citizenship_groups)) or "-"
    )
    groups.add_row("title of authority (CBP)", escape(", ".join(held.cbp_titles)) or "-")
    return groups


def _sector_totals_table(totals: dict[int, dict[str, int]], ohss: SourceCoverage | None) -> Table:
    """Border Patrol's southwest encounters by fiscal year and sector (modelled sectors first)."""
    from bordersim.commands.tables import Table
    from bordersim.ingest.categories import SECTOR_BY_OHSS_NAME

    codes = _sector_codes()
    sector_names = list(SECTOR_BY_OHSS_NAME)
    extra = sorted({name for row in totals.values() for name in row} - set(sector_names))
    by_sector = Table(
        title="USBP southwest border encounters by fiscal year and sector "
        "(OHSS 'Monthly Rgn and Sector')"
    )
    by_sector.add_column("FY")
    for name in sector_names + extra:
        by_sector.add_column(codes.get(name, name), justify="right")
    by_sector.add_column("southwest border", justify="right")
    for year, row in totals.items():
        by_sector.add_row(
            ohss.year_label(year) if ohss else f"FY{year}",
            *(f"{row.get(name, 0):,}" for name in sector_names + extra),
            f"{sum(row.values()):,}",
        )
    return by_sector


def _cbp_totals_table(cbp: dict[int, dict[str, int]], cbp_source: SourceCoverage | None) -> Table:
    """The CBP file's southwest encounters by fiscal year: Border Patrol, Title 42, the ports."""
    from bordersim.commands.tables import Table
    from bordersim.words import whole_percent

    cbp_table = Table(title="CBP southwest land border encounters by fiscal year (CSV)")
    for column in ("FY", "Border Patrol", "of which Title 42", "Field Operations", "total"):
        cbp_table.add_column(column, justify="right")
    for year, row in cbp.items():
        cbp_table.add_row(
            cbp_source.year_label(year) if cbp_source else f"FY{year}",
            f"{row['usbp']:,}",
            f"{row['usbp_title42']:,} ({whole_percent(row['usbp_title42'] / max(row['usbp'], 1))})",
            f"{row['ofo']:,}",
            f"{row['usbp'] + row['ofo']:,}",
        )
    return cbp_table


def print_release_notes(console: Any, connection: Any) -> None:
    """Partial fiscal years and months that only one file holds, one line each."""
    from bordersim.store.coverage import release_notes

    print_notes(console, release_notes(connection))


def print_notes(console: Any, notes: list[str]) -> None:
    """One line each, `note:` in yellow; the note is text, not markup (it names files)."""
    from rich.markup import escape

    for note in notes:
        console.print(f"[yellow]note:[/] {escape(note)}", highlight=False)


def _console() -> Any:
    """Rich console; when output is a file or a pipe, wide enough for whole tables."""
    from rich.console import Console

    console = Console()
    return console if console.is_terminal else Console(width=200)
