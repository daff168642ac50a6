"""Importing the official files: official totals, idempotence, atomicity, newer releases."""

from __future__ import annotations

import dataclasses
from pathlib import Path
from typing import Any

import pandas as pd
import pytest
from official_samples import (
    small_csv_rows,
    small_sheets,
    store_snapshot,
    write_csv,
    write_workbook,
)

from bordersim.cli import main
from bordersim.errors import DataFileError
from bordersim.ingest import ParsedFile
from bordersim.store import import_parsed, open_store
from bordersim.store.official import import_official_files

# "Monthly Rgn and Sector" sheet, Southwest Land Border, FY2021, summed over months and sectors,
# as published in ohss-usbp-encounters-fy2000-fy2023.xlsx.
FY2021_SOUTHWEST_TOTAL = 1_659_250
FY2021_RIO_GRANDE_VALLEY = 549_090
# The CBP CSV's Border Patrol rows for FY2022 (exact counts).
FY2022_CBP_BORDER_PATROL = 2_206_436


def run_cli(args: list[str]) -> int:
    try:
        main(args)
    except SystemExit as done:
        return int(done.code or 0)
    return 0


def test_store_holds_the_official_fy2021_southwest_total(shipped_store: Path) -> None:
    with open_store(shipped_store) as connection:
        total, rgv = connection.execute(
            "SELECT sum(quantity), sum(quantity) FILTER (WHERE sector = 'Rio Grande Valley, TX') "
            "FROM ohss_encounters WHERE sheet = 'Monthly Rgn and Sector' "
            "AND region = 'Southwest Land Border' AND fiscal_year = 2021"
        ).fetchone()
    assert total == FY2021_SOUTHWEST_TOTAL
    assert rgv == FY2021_RIO_GRANDE_VALLEY


def test_data_show_prints_the_official_totals(
    shipped_store: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert run_cli(["data", "show", "--store", str(shipped_store)]) == 0
    out = capsys.readouterr().out
    row_2021 = next(line for line in out.splitlines() if line.startswith("│ FY2021 "))
    assert f"{FY2021_SOUTHWEST_TOTAL:,}" in row_2021
    assert f"{FY2021_RIO_GRANDE_VALLEY:,}" in row_2021
    assert "FY2000-FY2023 (24)" in out
    assert "Rio Grande Valley, TX [RGV]" in out
    assert "Family Unit Individuals" in out
    assert f"{FY2022_CBP_BORDER_PATROL:,}" in out


def test_data_show_writes_the_title_42_share_as_bordersim_writes_percentages(
    shipped_store: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """The CBP table's share under Title 42 read '(48%)' where docs/data.md and every other
    bordersim table write '48 %'."""
    assert run_cli(["data", "show", "--store", str(shipped_store)]) == 0
    rows = [
        [cell.strip() for cell in line.split("│")] for line in capsys.readouterr().out.splitlines()
    ]
    row = next(cells for cells in rows if f"{FY2022_CBP_BORDER_PATROL:,}" in cells)
    assert row[3].endswith("(48 %)")


def test_data_show_aligns_its_counts_to_the_right_as_data_import_does(
    shipped_store: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """The files table of `data show` set its rows and months left, where `data import` and
    every totals table set counts right (so that 1,201 stood under the 4 of 44,849)."""
    assert run_cli(["data", "show", "--store", str(shipped_store)]) == 0
    row = next(line for line in capsys.readouterr().out.splitlines() if "cbp_swb" in line)
    assert "│  1,201 │" in row and "│     24 │" in row


def test_an_import_of_one_month_counts_it_as_one_month(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """A CSV of one month (the first month of a fiscal year) was imported as covering
    `2023-10 to 2023-10 (1 months)`."""
    october = [row for row in small_csv_rows() if row[2] == "OCT"]
    csv_file = write_csv(tmp_path / "cbp.csv", october)
    assert run_cli(["data", "import", str(csv_file), "--store", str(tmp_path / "s.duckdb")]) == 0
    out = capsys.readouterr().out
    assert "2023-10 to 2023-10 (1 month)" in out and "months)" not in out


def test_data_show_gives_a_file_of_one_fiscal_year_as_that_year(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """A file of one fiscal year read `FY2024-FY2024 (1)`, a range of one year."""
    csv_file = write_csv(tmp_path / "cbp.csv", small_csv_rows())
    store = str(tmp_path / "s.duckdb")
    assert run_cli(["data", "import", str(csv_file), "--store", store]) == 0
    capsys.readouterr()
    assert run_cli(["data", "show", "--store", store]) == 0
    row = next(line for line in capsys.readouterr().out.splitlines() if "cbp_swb" in line)
    years = [cell.strip() for cell in row.split("│")][4]
    assert years == "FY2024 (1); FY2024 (partial: Oct-Nov, 2 months)"


def test_data_show_gives_first_and_last_months_as_months(
    shipped_store: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """A file's first and last month read YYYY-MM, as `data import` prints them: a date such as
    2023-09-01 would read as if the file ended on the first of September."""
    assert run_cli(["data", "show", "--store", str(shipped_store)]) == 0
    out = capsys.readouterr().out
    row = next(line for line in out.splitlines() if "ohss_usbp" in line)
    cells = [cell.strip() for cell in row.split("│")]
    assert cells[-3:-1] == ["1999-10", "2023-09"]
    assert "2023-09-01" not in out


def test_data_show_of_a_store_without_a_workbook_marks_its_rows_as_empty(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """With only the CBP CSV imported, the workbook's rows of the sectors-and-groups table were
    blank and '0 countries', where the CSV's rows, empty, read '-'."""
    store = tmp_path / "store.duckdb"
    csv_file = write_csv(tmp_path / "cbp.csv", small_csv_rows())
    assert run_cli(["data", "import", str(csv_file), "--store", str(store)]) == 0
    capsys.readouterr()
    assert run_cli(["data", "show", "--store", str(store)]) == 0
    rows = {}
    for line in capsys.readouterr().out.splitlines():
        cells = [cell.strip() for cell in line.split("│")]
        if len(cells) == 4 and "(OHSS)" in cells[1]:
            rows[cells[1]] = cells[2]
    assert rows == {
        "sectors (OHSS)": "-",
        "family status (OHSS)": "-",
        "citizenships (OHSS)": "-",
    }


def test_the_two_publishers_agree_within_rounding(shipped_store: Path) -> None:
    with open_store(shipped_store) as connection:
        ohss = connection.execute(
            "SELECT sum(quantity) FROM ohss_encounters WHERE sheet = 'Monthly Rgn and Sector' "
            "AND region = 'Southwest Land Border' AND fiscal_year = 2022"
        ).fetchone()[0]
        cbp = connection.execute(
            "SELECT sum(encounter_count) FROM cbp_swb_encounters "
            "WHERE component = 'U.S. Border Patrol' AND fiscal_year = 2022"
        ).fetchone()[0]
    assert cbp == FY2022_CBP_BORDER_PATROL
    # OHSS rounds each published count to the nearest 10.
    assert abs(ohss - cbp) <= 5 * 12 * 9


def test_every_sheet_is_imported_with_its_months(shipped_store: Path) -> None:
    with open_store(shipped_store) as connection:
        sheets = dict(
            connection.execute("SELECT sheet, count(*) FROM ohss_encounters GROUP BY 1").fetchall()
        )
        months = connection.execute(
            "SELECT DISTINCT fiscal_year, fiscal_month, month_start FROM ohss_encounters "
            "WHERE fiscal_month IS NOT NULL AND fiscal_year = 2021 ORDER BY 2"
        ).fetchall()
    assert len(sheets) == 16
    assert sheets["Monthly Rgn and Sector"] == 5556
    assert [str(row[2]) for row in months][:4] == [
        "2020-10-01",
        "2020-11-01",
        "2020-12-01",
        "2021-01-01",
    ]
    assert str(months[-1][2]) == "2021-09-01"


def test_import_twice_does_not_double_count(
    tmp_path: Path, shipped_parsed: list[ParsedFile]
) -> None:
    store = tmp_path / "store.duckdb"
    with open_store(store) as connection:
        import_parsed(connection, shipped_parsed)
    first = store_snapshot(store)
    with open_store(store) as connection:
        import_parsed(connection, shipped_parsed)
    second = store_snapshot(store)
    assert first["ohss"] == second["ohss"]
    assert first["cbp"] == second["cbp"]
    assert first["ohss"][0] == 44_849  # type: ignore[index]
    assert first["cbp"][0] == 1_201  # type: ignore[index]


def test_a_newer_release_with_more_years_imports_unchanged(tmp_path: Path) -> None:
    workbook = write_workbook(tmp_path / "ohss-newer.xlsx", small_sheets((2023, 2024, 2025)))
    table = write_csv(tmp_path / "cbp-newer.csv", small_csv_rows())
    store = tmp_path / "store.duckdb"
    assert run_cli(["data", "import", str(workbook), str(table), "--store", str(store)]) == 0
    with open_store(store) as connection:
        years = connection.execute(
            "SELECT DISTINCT fiscal_year FROM ohss_encounters ORDER BY 1"
        ).fetchall()
        last = connection.execute("SELECT max(month_start) FROM ohss_encounters").fetchone()[0]
        cbp_first = connection.execute(
            "SELECT min(month_start) FROM cbp_swb_encounters"
        ).fetchone()[0]
    assert [row[0] for row in years] == [2023, 2024, 2025]
    assert str(last) == "2024-11-01"
    assert str(cbp_first) == "2023-10-01"


def test_an_import_says_which_months_and_sectors_each_file_covers(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    workbook = write_workbook(tmp_path / "ohss-newer.xlsx", small_sheets((2023, 2024, 2025)))
    table = write_csv(tmp_path / "cbp-newer.csv", small_csv_rows())
    store = tmp_path / "store.duckdb"
    assert run_cli(["data", "import", str(workbook), str(table), "--store", str(store)]) == 0
    out = capsys.readouterr().out
    rows = [line for line in out.splitlines() if line.startswith("│")]
    assert "2022-10 to 2024-11 (26 months)" in next(row for row in rows if "ohss_usbp" in row)
    assert "2023-10 to 2023-11 (2 months)" in next(row for row in rows if "cbp_swb" in row)
    sectors = next(line for line in out.splitlines() if line.startswith("southwest sectors"))
    assert sectors == "southwest sectors (OHSS, 2): Tucson, AZ [TCA], Yuma, AZ [YUM]"


def test_a_new_release_replaces_the_old_one_of_its_kind_only(
    tmp_path: Path, store_copy: Path
) -> None:
    with open_store(store_copy) as connection:
        small = write_workbook(tmp_path / "ohss.xlsx", small_sheets((2024,)))
        import_official_files(connection, [small])
        ohss_rows = connection.execute("SELECT count(*) FROM ohss_encounters").fetchone()[0]
        cbp_rows = connection.execute("SELECT count(*) FROM cbp_swb_encounters").fetchone()[0]
    assert ohss_rows == sum(len(rows) - 1 for rows in small_sheets((2024,)).values())
    assert cbp_rows == 1_201


def test_a_failure_while_writing_leaves_the_previous_data(
    store_copy: Path, shipped_parsed: list[ParsedFile]
) -> None:
    store = store_copy
    before = store_snapshot(store)
    workbook, good = shipped_parsed
    broken_table = good.table.copy()
    # The last row breaks a NOT NULL rule only the database checks: the failure happens after
    # the old rows were deleted inside the transaction.
    broken_table.loc[broken_table.index[-1], "encounter_count"] = None
    broken = dataclasses.replace(good, table=broken_table.astype({"encounter_count": "Int64"}))
    with open_store(store) as connection, pytest.raises(DataFileError, match="store is unchanged"):
        import_parsed(connection, [workbook, broken])
    assert store_snapshot(store) == before


def test_store_location_option_env_and_default(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from bordersim.store import resolve_store_path

    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("BORDERSIM_STORE", raising=False)
    assert resolve_store_path() == tmp_path / ".bordersim" / "bordersim.duckdb"
    monkeypatch.setenv("BORDERSIM_STORE", str(tmp_path / "env.duckdb"))
    assert resolve_store_path() == tmp_path / "env.duckdb"
    assert resolve_store_path("opt/x.duckdb") == tmp_path / "opt" / "x.duckdb"
    monkeypatch.delenv("BORDERSIM_STORE")
    with open_store() as connection:
        versions = connection.execute("SELECT version FROM schema_version").fetchall()
    assert (tmp_path / ".bordersim" / "bordersim.duckdb").is_file()
    assert versions == [(1,), (2,), (3,), (4,), (5,), (6,), (7,), (8,), (9,), (10,)]


def test_schema_has_the_run_catalog_and_migrates_once(tmp_path: Path) -> None:
    store = tmp_path / "store.duckdb"
    open_store(store).close()
    with open_store(store) as connection:
        versions = connection.execute("SELECT count(*) FROM schema_version").fetchone()[0]
        runs = connection.execute("DESCRIBE runs").fetchdf()
        files = connection.execute("DESCRIBE run_files").fetchdf()
        tables = {r[0] for r in connection.execute("SHOW TABLES").fetchall()}
    assert versions == 10
    assert not {"run_daily", "run_custody_hist"} & tables  # results are Parquet files
    assert {"runs", "run_files", "sweeps", "sweep_blocks"} <= tables
    assert list(runs["column_name"]) == [
        "run_id", "created_at", "finished_at", "status", "scenario_name", "scenario_hash",
        "scenario_text", "engine", "seed", "replications", "code_version", "timings_json",
        "kpis_json", "report_path", "sources_json", "warnings_json", "host", "pid",
        "process_start", "out_dir", "failure", "calibration", "calibration_sha256",
        "scenario_path",
    ]  # fmt: skip
    assert list(files["column_name"]) == ["run_id", "kind", "path", "bytes", "rows", "sha256"]
    assert isinstance(runs, pd.DataFrame)


def test_a_store_from_a_newer_bordersim_is_refused(tmp_path: Path) -> None:
    from bordersim.errors import BordersimError

    store = tmp_path / "store.duckdb"
    with open_store(store) as connection:
        connection.execute("INSERT INTO schema_version VALUES (99, 'future', now()::TIMESTAMP)")
    with pytest.raises(BordersimError, match="schema version 99 is newer"):
        open_store(store)


def test_data_show_on_an_empty_store_says_what_to_do(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    store = tmp_path / "s.duckdb"
    # A store that does not exist is not created by a command that only reads (a typo in
    # --store must not look like an empty store).
    assert run_cli(["data", "show", "--store", str(store)]) == 2
    assert "bordersim data import" in capsys.readouterr().err and not store.exists()
    open_store(store).close()
    assert run_cli(["data", "show", "--store", str(store)]) == 0
    assert "bordersim data import" in capsys.readouterr().out


def test_citizenship_in_capitals_keeps_its_nationality_group(
    tmp_path: Path, shipped_store: Path, store_copy: Path
) -> None:
    """A release that writes "MEXICO" or "EL SALVADOR" means the same countries: their
    encounters keep their group instead of all landing in "Other"."""
    import csv

    from bordersim.calibration.inputs import read_official_monthly
    from bordersim.ingest import shipped_files

    with shipped_files()[1].open(newline="", encoding="utf-8-sig") as handle:
        rows = list(csv.reader(handle))
    column = rows[0].index("Citizenship Grouping")
    for row in rows[1:]:
        row[column] = row[column].upper()
    capitals = write_csv(tmp_path / "cbp-capitals.csv", rows[1:], header=rows[0])
    with open_store(shipped_store) as connection:
        published = read_official_monthly(connection)
    with open_store(store_copy) as connection:
        import_official_files(connection, [capitals])
        capitalised = read_official_monthly(connection)
    assert published.cbp_encounters[:, 0].sum() > 0  # single adults from Mexico
    assert (capitalised.cbp_encounters == published.cbp_encounters).all()
    assert (capitalised.cbp_title42 == published.cbp_title42).all()


def _drop_month(sheet: list[tuple[object, ...]], month: str) -> list[tuple[object, ...]]:
    return [row for row in sheet if row[1] != month or row[0] != 2023]


def _rename_sector(sheet: list[tuple[object, ...]], name: str) -> list[tuple[object, ...]]:
    return [(*row[:3], name if row[3] == "Tucson, AZ" else row[3], row[4]) for row in sheet]


def _rename_status(sheet: list[tuple[object, ...]], name: str) -> list[tuple[object, ...]]:
    return [(*row[:3], name if row[3] == "Single Adults" else row[3], row[4]) for row in sheet]


@pytest.mark.parametrize(
    ("sheet", "change", "said"),
    [
        (
            "Monthly Rgn and Sector",
            lambda rows: _drop_month(rows, "03 December"),
            "sheet 'Monthly Rgn and Sector': no southwest border rows for month 2022-12 "
            "(FY2023 '03 December')",
        ),
        (
            "Monthly Rgn and Fam Status",
            lambda rows: _drop_month(rows, "03 December"),
            "sheet 'Monthly Rgn and Fam Status': no southwest border rows for month 2022-12 "
            "(FY2023 '03 December')",
        ),
        (
            "Monthly Rgn and Sector",
            lambda rows: _rename_sector(rows, "Tucson , AZ"),
            "sheet 'Monthly Rgn and Sector' row 2 column 'Sector': southwest border sector "
            "'Tucson , AZ' is not one of the nine modelled sectors (did you mean 'Tucson, AZ'?)",
        ),
        (
            "Monthly Rgn and Sector",
            lambda rows: _rename_sector(rows, "TUCSON, AZ"),
            "sheet 'Monthly Rgn and Sector' row 2 column 'Sector': southwest border sector "
            "'TUCSON, AZ' is not one of the nine modelled sectors (did you mean 'Tucson, AZ'?)",
        ),
        (
            "Monthly Rgn and Sector",
            lambda rows: _rename_sector(rows, "Swanton, VT"),
            "sheet 'Monthly Rgn and Sector' row 2 column 'Sector': southwest border sector "
            "'Swanton, VT' is not one of the nine modelled sectors ('San Diego, CA' ... "
            "'Rio Grande Valley, TX')",
        ),
        (
            "Monthly Rgn and Fam Status",
            lambda rows: _rename_status(rows, "Single adults"),
            "sheet 'Monthly Rgn and Fam Status' row 2 column 'Family Status': family status "
            "'Single adults' is not one of 'Single Adults', 'Family Unit Individuals', "
            "'Unaccompanied Children'",
        ),
    ],
    ids=[
        "a month missing",
        "a sheet ending early",
        "a sector misspelt",
        "a sector in capitals",
        "another border's sector",
        "a status misspelt",
    ],
)
def test_a_workbook_that_calibrate_would_refuse_is_refused_at_import(
    tmp_path: Path,
    store_copy: Path,
    capsys: pytest.CaptureFixture[str],
    sheet: str,
    change: Any,
    said: str,
) -> None:
    """Such a workbook imported without a word, replacing the store's data; calibrate and
    forecast then refused the store, whose earlier data was gone. A name the model does not
    know is refused naming its first row and column, and the nearest name it knows (quoted:
    each sector's holds a comma); a missing month is named as the workbook labels it."""
    sheets = small_sheets()
    sheets[sheet] = [sheets[sheet][0], *change(sheets[sheet][1:])]
    workbook = write_workbook(tmp_path / "flawed.xlsx", sheets)
    before = store_snapshot(store_copy)
    assert run_cli(["data", "import", str(workbook), "--store", str(store_copy)]) == 2
    message = " ".join(capsys.readouterr().err.split())
    assert f"error: flawed.xlsx: {said}" in message
    assert message.endswith("nothing was imported: the store is unchanged")
    assert store_snapshot(store_copy) == before
    # the same sheets without the flaw import
    good = write_workbook(tmp_path / "good.xlsx", small_sheets())
    assert run_cli(["data", "import", str(good), "--store", str(store_copy)]) == 0
    assert store_snapshot(store_copy) != before


def test_a_refused_import_into_a_new_store_leaves_no_store_behind(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """A workbook refused at import (a month missing) into a store not made yet said "nothing
    was imported: the store is unchanged", and left an empty store file, and the folders made
    for it, where there had been none. They are removed; a store that was there is kept."""
    sheets = small_sheets()
    sector = "Monthly Rgn and Sector"
    sheets[sector] = [sheets[sector][0], *_drop_month(sheets[sector][1:], "03 December")]
    flawed = write_workbook(tmp_path / "flawed.xlsx", sheets)
    store = tmp_path / "new" / "deeper" / "store.duckdb"
    assert run_cli(["data", "import", str(flawed), "--store", str(store)]) == 2
    message = " ".join(capsys.readouterr().err.split())
    assert message.endswith("nothing was imported: the store is unchanged"), message
    assert not (tmp_path / "new").exists()
    good = write_csv(tmp_path / "cbp.csv", small_csv_rows())
    assert run_cli(["data", "import", str(good), "--store", str(store)]) == 0
    before = store_snapshot(store)
    assert run_cli(["data", "import", str(flawed), "--store", str(store)]) == 2
    assert store_snapshot(store) == before


# A count that does not fit a 32-bit integer (OHSS and CBP publish counts of a few hundred
# thousand a month, but a cumulative or a newer table need not stay below 2**31).
ABOVE_INT32 = 3_000_000_000


def _many_csv_rows(count: int) -> list[list[object]]:
    """At least `count` distinct published rows (one citizenship grouping per extra row)."""
    rows: list[list[object]] = []
    group = 0
    while len(rows) < count:
        for month in ("OCT", "NOV"):
            for component in ("U.S. Border Patrol", "Office of Field Operations"):
                for demographic in ("Single Adults", "FMUA", "UAC", "Accompanied Minors"):
                    citizenship = f"Country {group}"
                    rows.append([2024, "FYTD", month, component, demographic, citizenship])
                    rows[-1].extend(["Title 8", "Apprehensions", 10])
        group += 1
    return rows


def _many_sheets() -> dict[str, list[tuple[object, ...]]]:
    """Sheets from FY2000 to FY2024: about 2,000 rows, the southwest rows without a gap."""
    return small_sheets(range(2000, 2025))


@pytest.mark.parametrize("kind", ["csv", "xlsx"])
def test_a_count_above_two_to_the_31_imports_as_published(
    tmp_path: Path, kind: str, capsys: pytest.CaptureFixture[str]
) -> None:
    """DuckDB guessed a 32-bit integer from a sample of the rows when the count was not among
    them: the import failed with 'Current transaction is aborted', and nothing was stored. The
    row is the file's second: DuckDB samples one row in every n/1000 of a table over 2,000 rows,
    from the first."""
    if kind == "csv":
        rows = _many_csv_rows(2_500)
        rows[1][-1] = ABOVE_INT32
        path = write_csv(tmp_path / "cbp-large.csv", rows)
        query = "SELECT max(encounter_count), sum(encounter_count) FROM cbp_swb_encounters"
        expected_sum = ABOVE_INT32 + 10 * (len(rows) - 1)
    else:
        sheets = _many_sheets()
        sector = sheets["Monthly Rgn and Sector"]
        assert sum(len(rows) - 1 for rows in sheets.values()) > 2_000
        sector[2] = (*sector[2][:4], ABOVE_INT32)  # the first sheet's second data row
        path = write_workbook(tmp_path / "ohss-large.xlsx", sheets)
        query = "SELECT max(quantity), sum(quantity) FROM ohss_encounters"
        expected_sum = sum(row[4] for rows in sheets.values() for row in rows[1:])  # type: ignore[misc]
    store = tmp_path / "store.duckdb"
    assert run_cli(["data", "import", str(path), "--store", str(store)]) == 0, capsys.readouterr()
    with open_store(store) as connection:
        largest, total = connection.execute(query).fetchone()
    assert (largest, total) == (ABOVE_INT32, expected_sum)


def test_an_error_while_storing_is_reported_as_itself(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """The view of the incoming rows was dropped inside the failed transaction, which DuckDB
    refused: the user read 'Current transaction is aborted (please ROLLBACK)' instead of what
    had gone wrong."""
    from bordersim.ingest import read_official_file
    from bordersim.store import official

    store = tmp_path / "store.duckdb"
    first = write_csv(tmp_path / "cbp.csv", small_csv_rows())
    assert run_cli(["data", "import", str(first), "--store", str(store)]) == 0
    before = store_snapshot(store)
    capsys.readouterr()
    rows = small_csv_rows()
    rows[0][-1] = 999
    good = read_official_file(write_csv(tmp_path / "cbp-newer.csv", rows))
    broken_table = good.table.astype({"encounter_count": "Int64"})
    # a NOT NULL rule only the database checks: the INSERT fails inside the transaction
    broken_table.loc[broken_table.index[-1], "encounter_count"] = None
    broken = dataclasses.replace(good, table=broken_table)
    monkeypatch.setattr(official, "parse_official_files", lambda paths: [broken])
    assert run_cli(["data", "import", str(good.path), "--store", str(store)]) == 2
    captured = capsys.readouterr()
    lines = captured.err.strip().splitlines()
    assert len(lines) == 1, captured.err
    assert lines[0].startswith("error: ")
    assert "NOT NULL constraint failed: cbp_swb_encounters.encounter_count" in lines[0]
    assert "transaction is aborted" not in lines[0]
    assert lines[0].endswith("the store is unchanged")
    assert store_snapshot(store) == before


def test_names_with_brackets_are_shown_as_they_are(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """A file or store named with brackets (`cbp[old].csv`, a copy a browser or a user renamed)
    was shown as `cbp.csv` by `data import` and `data show`, its `[old]` taken for a style: the
    file named was not the one imported. Names are now shown as they are."""
    monkeypatch.chdir(tmp_path)
    write_csv(tmp_path / "cbp[old].csv", small_csv_rows())
    store = tmp_path / "store[new].duckdb"
    assert run_cli(["data", "import", "cbp[old].csv", "--store", str(store)]) == 0
    imported = capsys.readouterr().out
    # a title wraps at the table's width, a long path within it too
    assert f"Importedinto{store}" in "".join(imported.split())
    assert "│ cbp[old].csv │" in imported
    assert "note: cbp[old].csv: FY2024 (partial: Oct-Nov, 2 months), not a full year" in imported
    assert run_cli(["data", "show", "--store", str(store)]) == 0
    shown = capsys.readouterr().out
    assert f"Officialdatain{store}" in "".join(shown.split())
    assert "│ cbp[old].csv │" in shown
    assert "note: cbp[old].csv: FY2024 (partial: Oct-Nov, 2 months), not a full year" in shown


def test_data_show_on_a_narrow_terminal_starts_every_header_on_the_top_line(
    shipped_store: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """On a terminal too narrow for its headers, `data show` folded one header over lines and
    set the others on the last of them, below empty lines, as Rich sets a header row; every
    header now starts on the header row's first line, as in `bordersim runs`."""
    import re

    monkeypatch.setenv("TTY_COMPATIBLE", "1")  # a terminal, as Rich sees one
    monkeypatch.setenv("COLUMNS", "60")
    assert run_cli(["data", "show", "--store", str(shipped_store)]) == 0
    lines = re.sub(r"\x1b\[[0-9;]*m", "", capsys.readouterr().out).splitlines()
    tops = [i for i, line in enumerate(lines) if line.startswith("┏")]
    folded = 0
    for top in tops:
        bottom = next(i for i in range(top, len(lines)) if lines[i].startswith("┡"))
        header = [
            [cell.strip() for cell in line.split("┃")[1:-1]] for line in lines[top + 1 : bottom]
        ]
        folded += len(header) > 1
        assert all(cell for cell in header[0]), header
    assert tops and folded, lines  # a header folded, so the test tests something
