"""Data files as they come from the wild (issue 10): newer releases import, broken ones are one
line each, and a seeded fuzz of the published layouts never gives a traceback or a hang.

Each refused file leaves the store exactly as it was (checked through `data import`)."""

from __future__ import annotations

import csv
import os
import random
import zipfile
from collections.abc import Callable
from pathlib import Path

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
from bordersim.ingest import read_official_file
from bordersim.ingest.cbp import PUBLISHED_COLUMNS


def _rows_with(**changes: object) -> list[list[object]]:
    rows = small_csv_rows()
    columns = {"year": 0, "count": 8, "month": 2, "component": 3}
    for key, value in changes.items():
        rows[0][columns[key]] = value
    return rows


def fytd_csv(folder: Path) -> Path:
    rows = small_csv_rows()
    for row in rows:
        row[0] = "2025 (FYTD)"
    return write_csv(folder / "fytd.csv", rows)


def suffixless_workbook(folder: Path) -> Path:
    path = write_workbook(folder / "book.xlsx", small_sheets())
    target = folder / "book"
    path.rename(target)
    return target


def test_newer_release_labels_import(tmp_path: Path) -> None:
    parsed = read_official_file(fytd_csv(tmp_path))
    assert set(parsed.table["fiscal_year"]) == {2025}


def test_empty_columns_a_spreadsheet_adds_are_ignored(tmp_path: Path) -> None:
    """Saved from a spreadsheet program, the CSV gains empty columns at the right."""
    from bordersim.ingest.cbp import PUBLISHED_COLUMNS

    plain = read_official_file(write_csv(tmp_path / "plain.csv", small_csv_rows()))
    padded = write_csv(
        tmp_path / "padded.csv",
        [[*row, "", ""] for row in small_csv_rows()],
        header=[*PUBLISHED_COLUMNS, "", ""],
    )
    assert (
        read_official_file(padded)
        .table.drop(columns="source_row")
        .equals(plain.table.drop(columns="source_row"))
    )


def test_the_documented_suffixless_workbook_imports(tmp_path: Path) -> None:
    parsed = read_official_file(suffixless_workbook(tmp_path))
    assert parsed.kind == "ohss_usbp" and parsed.rows > 0


def corrupt_xml_workbook(folder: Path) -> Path:
    source = write_workbook(folder / "source.xlsx", small_sheets())
    target = folder / "corrupt-xml.xlsx"
    with zipfile.ZipFile(source) as old, zipfile.ZipFile(target, "w") as new:
        for item in old.infolist():
            data = old.read(item.filename)
            if item.filename.startswith("xl/worksheets/"):
                data = data[: len(data) // 2] + b"<not-closed"
            new.writestr(item, data)
    return target


def corrupt_workbook_index(folder: Path) -> Path:
    source = write_workbook(folder / "source.xlsx", small_sheets())
    target = folder / "corrupt-index.xlsx"
    with zipfile.ZipFile(source) as old, zipfile.ZipFile(target, "w") as new:
        for item in old.infolist():
            data = old.read(item.filename)
            if item.filename == "xl/workbook.xml":
                data = b"<workbook><sheets><sheet name='x'"
            new.writestr(item, data)
    return target


def superscript_count(folder: Path) -> Path:
    return write_csv(folder / "superscript.csv", _rows_with(count="1\u00b2"))


def huge_field(folder: Path) -> Path:
    return write_csv(folder / "huge-field.csv", _rows_with(month="x" * 200_000))


def folder_as_csv(folder: Path) -> Path:
    path = folder / "folder.csv"
    path.mkdir()
    return path


def folder_without_suffix(folder: Path) -> Path:
    path = folder / "release"
    path.mkdir()
    return path


def fifo_csv(folder: Path) -> Path:
    path = folder / "pipe.csv"
    os.mkfifo(path)
    return path


def fifo_without_suffix(folder: Path) -> Path:
    path = folder / "pipe"
    os.mkfifo(path)
    return path


def dev_zero(_folder: Path) -> Path:
    return Path("/dev/zero")


def year_far_ahead(folder: Path) -> Path:
    return write_csv(folder / "year.csv", _rows_with(year="2025 (FYTD) extra"))


def region_renamed(folder: Path) -> Path:
    """A release that calls the southwest border by another name: nothing for the model."""
    sheets = small_sheets()
    for rows in sheets.values():
        rows[1:] = [
            tuple("Southwest Border" if cell == "Southwest Land Border" else cell for cell in row)
            for row in rows[1:]
        ]
    return write_workbook(folder / "region-renamed.xlsx", sheets)


def workbook_named_csv(folder: Path) -> Path:
    """A workbook saved (or downloaded) under a .csv name: it was "is not UTF-8 text (byte 10)"."""
    path = write_workbook(folder / "book.xlsx", small_sheets())
    return path.rename(folder / "ohss.csv")


def csv_named_xlsx(folder: Path) -> Path:
    """The CSV under an .xlsx name: it was "not a readable .xlsx workbook (truncated or corrupt:
    BadZipFile: File is not a zip file)"."""
    return write_csv(folder / "cbp.xlsx", small_csv_rows())


def latin1_csv(folder: Path) -> Path:
    """Saved by a spreadsheet program as Latin-1: it was "is not UTF-8 text (byte 169)", which
    left the user to count bytes to find the row."""
    rows = small_csv_rows()
    rows[2][5] = "M\u00e9xico"
    path = folder / "latin1.csv"
    with path.open("w", newline="", encoding="latin-1") as handle:
        csv.writer(handle).writerows([list(PUBLISHED_COLUMNS), *rows])
    return path


def utf16_csv(folder: Path) -> Path:
    """Saved as "Unicode text" (UTF-16): it was "is not UTF-8 text (byte 0)"."""
    path = folder / "utf16.csv"
    text = write_csv(folder / "plain.csv", small_csv_rows()).read_text(encoding="utf-8")
    path.write_text(text, encoding="utf-16")
    return path


def line_break_in_a_field(folder: Path) -> Path:
    """A quoted field holding a line break: the value was shown with the break removed
    ('Office ofField Operations'), a value the file does not hold."""
    return write_csv(folder / "line-break.csv", _rows_with(component="Office of\nField Operations"))


def _ole_file(path: Path) -> Path:
    """The start of an Excel 97-2003 workbook (an OLE compound file), as saved by "Save As .xls"."""
    path.write_bytes(b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + bytes(range(256)) * 8)
    return path


def xls_named_xlsx(folder: Path) -> Path:
    """It was "not a readable .xlsx workbook (truncated or corrupt: BadZipFile: File is not a zip
    file)", as if the download had failed."""
    return _ole_file(folder / "old.xlsx")


def xls_workbook(folder: Path) -> Path:
    """It was "extension '.xls' is not an official format", which did not say what to do."""
    return _ole_file(folder / "old.xls")


def empty_required_sheet(folder: Path) -> Path:
    """A sheet the model reads, left empty: it was "header () is not the published layout"."""
    sheets = small_sheets()
    sheets["Monthly Rgn and Citp"] = []
    return write_workbook(folder / "empty-sheet.xlsx", sheets)


def blank_first_row(folder: Path) -> Path:
    """The header moved down a row: it was "header () is not the published layout"."""
    sheets = small_sheets()
    sheets["Monthly Rgn and Citp"].insert(0, (None,))
    return write_workbook(folder / "blank-first-row.xlsx", sheets)


def csv_blank_first_line(folder: Path) -> Path:
    """A blank line above the header: it was "row 1: the header is not CBP's ... layout"."""
    path = write_csv(folder / "blank-line.csv", small_csv_rows())
    path.write_text("\n" + path.read_text(encoding="utf-8"), encoding="utf-8")
    return path


def csv_header_in_capitals(folder: Path) -> Path:
    """The header in capitals: it was refused only with the columns expected, which look the
    same as the file's but for their case."""
    header = [column.upper() for column in PUBLISHED_COLUMNS]
    return write_csv(folder / "capitals.csv", small_csv_rows(), header=header)


# name -> (maker, fragments of the one-line message)
BAD_FILES: dict[str, tuple[Callable[[Path], Path], tuple[str, ...]]] = {
    "corrupt XML in the workbook": (corrupt_xml_workbook, ("not a readable .xlsx",)),
    "corrupt workbook index": (corrupt_workbook_index, ("not a readable .xlsx",)),
    "superscript digit in a count": (superscript_count, ("row 2", "Encounter Count", "whole")),
    "a Latin-1 character": (
        latin1_csv,
        ("row 4 column 'Citizenship Grouping'", "byte 0xe9", "not UTF-8", "save the CSV as UTF-8"),
    ),
    "a line break in a quoted field": (
        line_break_in_a_field,
        ("row 2 column 'Component'", "value 'Office of\\nField Operations'"),
    ),
    "an .xls workbook named .xlsx": (xls_named_xlsx, ("Excel 97-2003", "save it as .xlsx")),
    "an .xls workbook": (xls_workbook, ("Excel 97-2003", "save it as .xlsx")),
    "an empty sheet": (
        empty_required_sheet,
        ("sheet 'Monthly Rgn and Citp' is empty", "expected the header ('Fiscal Year', 'Month',"),
    ),
    "a blank first row": (
        blank_first_row,
        ("sheet 'Monthly Rgn and Citp' row 1 is blank", "expected the header ('Fiscal Year',"),
    ),
    "a blank line above the CSV header": (
        csv_blank_first_line,
        ("row 1 is blank; expected the header", "Fiscal Year, Month Grouping"),
    ),
    "a CSV header in capitals": (
        csv_header_in_capitals,
        ("row 1: the header is not", "(its names differ in case only: 'FISCAL YEAR' for"),
    ),
    "UTF-16 text": (utf16_csv, ("is UTF-16 text, not UTF-8", "save the CSV as UTF-8")),
    "CSV field over 131,072 characters": (huge_field, ("row 2", "not a readable CSV row")),
    "folder given as a CSV": (folder_as_csv, ("folder",)),
    "a workbook named .csv": (
        workbook_named_csv,
        ("is a zip file (an .xlsx workbook named .csv?), not a CSV", "named .xlsx"),
    ),
    "a CSV named .xlsx": (
        csv_named_xlsx,
        ("is text, not an .xlsx workbook (a CSV named .xlsx?)", "CSV named .csv"),
    ),
    "folder without a suffix": (folder_without_suffix, ("folder",)),
    "FIFO as a CSV": (fifo_csv, ("not a regular file",)),
    "FIFO without a suffix": (fifo_without_suffix, ("not a regular file",)),
    "/dev/zero": (dev_zero, ("not a regular file",)),
    "a year label that is not a year": (year_far_ahead, ("row 2", "Fiscal Year", "FYTD")),
    "no southwest border rows": (
        region_renamed,
        ("sheet 'Monthly Rgn and Sector'", "'Southwest Land Border'", "'Southwest Border'"),
    ),
}


@pytest.mark.parametrize("case", list(BAD_FILES))
def test_bad_file_is_one_line(tmp_path: Path, case: str) -> None:
    maker, fragments = BAD_FILES[case]
    path = maker(tmp_path)
    with pytest.raises(DataFileError) as caught:
        read_official_file(path)
    message = str(caught.value)
    assert "\n" not in message and len(message) <= 300, message
    assert message.startswith(str(path)), message
    for fragment in fragments:
        assert fragment in message, message


def test_refused_imports_leave_the_store_as_it_was(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    store = tmp_path / "store.duckdb"
    good = write_csv(tmp_path / "good.csv", small_csv_rows())
    assert main(["data", "import", str(good), "--store", str(store)]) is None
    before = store_snapshot(store)
    for case, (maker, _) in BAD_FILES.items():
        folder = tmp_path / f"case-{abs(hash(case))}"
        folder.mkdir()
        with pytest.raises(SystemExit) as done:
            main(["data", "import", str(maker(folder)), "--store", str(store)])
        assert done.value.code == 2, case
        lines = [line for line in capsys.readouterr().err.splitlines() if line.strip()]
        assert len(lines) == 1 and lines[0].startswith("error:"), (case, lines)
        assert store_snapshot(store) == before, case


def _mutate_csv(text: str, rng: random.Random) -> str:
    chars = list(text)
    for _ in range(rng.randint(1, 6)):
        position = rng.randrange(len(chars))
        action = rng.choice(["delete", "insert", "replace", "duplicate-line"])
        if action == "duplicate-line":
            lines = "".join(chars).splitlines(keepends=True)
            line = rng.randrange(len(lines))
            lines.insert(line, lines[line])
            chars = list("".join(lines))
            continue
        ch = rng.choice(',"\n\r x9-\u00b2\u0660\x00;\ufeff')
        if action == "delete":
            del chars[position]
        elif action == "insert":
            chars.insert(position, ch)
        else:
            chars[position] = ch
    return "".join(chars)


def test_fuzzed_csv_files_import_or_give_one_line(tmp_path: Path) -> None:
    """300 seeded mutants of a CSV in the published layout: each is read or refused cleanly."""
    rng = random.Random(10)
    source = write_csv(tmp_path / "source.csv", small_csv_rows()).read_text(encoding="utf-8")
    outcomes = {"read": 0, "refused": 0}
    for i in range(300):
        path = tmp_path / f"m{i}.csv"
        path.write_text(_mutate_csv(source, rng), encoding="utf-8", errors="surrogatepass")
        try:
            read_official_file(path)
            outcomes["read"] += 1
        except DataFileError as err:
            message = str(err)
            assert "\n" not in message and len(message) <= 300, message
            assert message.startswith(str(path)), message
            outcomes["refused"] += 1
    assert outcomes["read"] > 0 and outcomes["refused"] > 0, outcomes


def test_fuzzed_workbooks_import_or_give_one_line(tmp_path: Path) -> None:
    """60 seeded byte-level mutants of a small workbook: read or refused, never a traceback."""
    rng = random.Random(11)
    source = write_workbook(tmp_path / "source.xlsx", small_sheets()).read_bytes()
    for i in range(60):
        data = bytearray(source)
        for _ in range(rng.randint(1, 8)):
            data[rng.randrange(len(data))] = rng.randrange(256)
        if rng.random() < 0.3:
            data = data[: rng.randrange(len(data))]
        path = tmp_path / f"m{i}.xlsx"
        path.write_bytes(bytes(data))
        try:
            read_official_file(path)
        except DataFileError as err:
            assert "\n" not in str(err) and len(str(err)) <= 300, str(err)


def test_partial_years_and_months_in_one_file_are_shown(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """A release cut mid-year: its year is labelled partial with its months, never as a full
    year's total, and the CSV's months beyond the workbook are named."""
    workbook = write_workbook(tmp_path / "ohss.xlsx", small_sheets(years=(2024, 2025)))
    rows = small_csv_rows()
    later = list(rows[0])
    later[0], later[2] = "2025 (FYTD)", "DEC"
    csv_path = write_csv(tmp_path / "cbp.csv", [*rows, later])
    store = tmp_path / "store.duckdb"
    assert main(["data", "import", str(workbook), str(csv_path), "--store", str(store)]) is None
    imported = " ".join(capsys.readouterr().out.split())
    assert "months only in the CBP CSV" in imported and "2024-12" in imported
    assert main(["data", "show", "--store", str(store)]) is None
    shown = " ".join(capsys.readouterr().out.split())
    assert "FY2025 (partial: Oct-Nov, 2 months)" in shown
    assert "FY2025 (partial: Dec, 1 month)" in shown  # the CSV's running year
    assert "│ FY2025 │" not in shown


def _published_csv_split(
    component: str | None, fiscal_year: str, month: str
) -> tuple[list[str], ...]:
    """The shipped CSV as header, the rows of one component (None: of every component) in one
    month, and the other rows."""
    import csv

    from official_samples import SHIPPED_CSV

    with SHIPPED_CSV.open(newline="", encoding="utf-8-sig") as handle:
        header, *rows = csv.reader(handle)
    names = ("Fiscal Year", "Month (abbv)") + (("Component",) if component else ())
    columns = [header.index(name) for name in names]
    wanted = [fiscal_year, month] + ([component] if component else [])
    chosen = [row for row in rows if [row[i] for i in columns] == wanted]
    others = [row for row in rows if row not in chosen]
    return header, chosen, others


@pytest.mark.parametrize(
    ("component", "said"),
    [
        (
            "U.S. Border Patrol",
            "cbp-newer.csv: months with no U.S. Border Patrol rows, though the file has other "
            "rows for them: 2023-03; the file's Border Patrol totals leave them out, and the "
            "calibration reads no group mix for them",
        ),
        (
            "Office of Field Operations",
            "cbp-newer.csv: months with no Office of Field Operations rows, though the file has "
            "other rows for them: 2023-03; the file's Field Operations totals leave them out",
        ),
    ],
    ids=["border-patrol", "field-operations"],
)
def test_a_month_without_one_components_rows_is_noted(
    tmp_path: Path,
    store_copy: Path,
    capsys: pytest.CaptureFixture[str],
    component: str,
    said: str,
) -> None:
    """A CSV whose March 2023 held the Field Operations rows but none of Border Patrol's imported
    without a word: the month counted as held, and the year's Border Patrol total in `data show`
    was short by a month. The month is named after the import and in `data show`, as the other
    gaps are; the published file, those rows put back, has no such note."""
    header, dropped, kept = _published_csv_split(component, "2023", "MAR")
    assert dropped and any(row[0] == "2023" and row[2] == "MAR" for row in kept)  # the others'
    flawed = write_csv(tmp_path / "cbp-newer.csv", kept, header=header)
    assert main(["data", "import", str(flawed), "--store", str(store_copy)]) is None
    assert f"note: {said}" in " ".join(capsys.readouterr().out.split())
    assert main(["data", "show", "--store", str(store_copy)]) is None
    assert f"note: {said}" in " ".join(capsys.readouterr().out.split())
    whole = write_csv(tmp_path / "cbp.csv", kept + dropped, header=header)
    assert main(["data", "import", str(whole), "--store", str(store_copy)]) is None
    assert "note:" not in capsys.readouterr().out


def test_a_month_missing_from_the_csv_is_noted(
    tmp_path: Path, store_copy: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """A CSV with no rows at all for February 2023, between months it holds, imported without a
    word when the store held no workbook (and, with the workbook, was named only as a month the
    workbook has). The month is named once after the import and in `data show`, with or without
    the workbook; the published file, those rows put back, has no such note."""
    said = (
        "note: cbp-newer.csv: months with no rows at all, within the file's span (2021-10 to "
        "2023-09): 2023-02; the file's totals leave them out, and the calibration reads no group "
        "mix for them"
    )
    header, dropped, kept = _published_csv_split(None, "2023", "FEB")
    assert dropped
    flawed = write_csv(tmp_path / "cbp-newer.csv", kept, header=header)
    whole = write_csv(tmp_path / "cbp.csv", kept + dropped, header=header)
    for store in (tmp_path / "csv-only.duckdb", store_copy):
        assert main(["data", "import", str(flawed), "--store", str(store)]) is None
        imported = " ".join(capsys.readouterr().out.split())
        assert imported.count("2023-02") == 1 and said in imported, imported
        assert main(["data", "show", "--store", str(store)]) is None
        shown = " ".join(capsys.readouterr().out.split())
        assert shown.count("2023-02") == 1 and said in shown, shown
        assert main(["data", "import", str(whole), "--store", str(store)]) is None
        assert "note:" not in capsys.readouterr().out


def test_columns_moved_by_a_spreadsheet_are_found_by_name(tmp_path: Path) -> None:
    """The published columns in another order read as the published file."""
    from bordersim.ingest.cbp import PUBLISHED_COLUMNS

    plain = read_official_file(write_csv(tmp_path / "plain.csv", small_csv_rows()))
    order = [8, 0, 2, 1, 4, 3, 6, 5, 7]  # the count first, then pairs swapped
    moved = write_csv(
        tmp_path / "moved.csv",
        [[row[i] for i in order] for row in small_csv_rows()],
        header=[PUBLISHED_COLUMNS[i] for i in order],
    )
    assert (
        read_official_file(moved)
        .table.drop(columns="source_row")
        .equals(plain.table.drop(columns="source_row"))
    )


def test_an_extra_column_is_refused_by_name(tmp_path: Path) -> None:
    """A column the published file lacks (a region) could split its rows over other borders:
    refused, naming it, not summed."""
    from bordersim.ingest.cbp import PUBLISHED_COLUMNS

    wider = write_csv(
        tmp_path / "wider.csv",
        [["Southwest Land Border", *row] for row in small_csv_rows()],
        header=["Land Border Region", *PUBLISHED_COLUMNS],
    )
    with pytest.raises(DataFileError, match=r"layout \(unknown 'Land Border Region'\); expected"):
        read_official_file(wider)


def test_a_column_named_twice_is_refused_by_name(tmp_path: Path) -> None:
    """A header repeating a column (a count column copied beside the first) was refused as
    "a column named twice" without saying which."""
    from bordersim.ingest.cbp import PUBLISHED_COLUMNS

    repeated = write_csv(
        tmp_path / "repeated.csv",
        [[*row, row[-1]] for row in small_csv_rows()],
        header=[*PUBLISHED_COLUMNS, "Encounter Count"],
    )
    with pytest.raises(
        DataFileError, match=r"layout \('Encounter Count' named twice\); expected columns"
    ):
        read_official_file(repeated)
