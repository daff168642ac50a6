"""A wrong data file gets one clear `DataFileError` (file, sheet and row, value, rule), exit
status 2 from the command line, and the store exactly as it was."""

from __future__ import annotations

import re
import shutil
from collections.abc import Callable
from pathlib import Path

import pytest
from official_samples import (
    SHIPPED_WORKBOOK,
    small_csv_rows,
    small_sheets,
    store_snapshot,
    write_csv,
    write_workbook,
)

from bordersim.cli import main
from bordersim.errors import DataFileError
from bordersim.ingest import read_official_file


def another_csv(folder: Path) -> Path:
    path = folder / "other.csv"
    path.write_text("date,station,temperature\n2023-01-01,KELP,12.5\n", encoding="utf-8")
    return path


def truncated_workbook(folder: Path) -> Path:
    path = folder / "truncated.xlsx"
    data = SHIPPED_WORKBOOK.read_bytes()
    path.write_bytes(data[: len(data) // 2])
    return path


def missing_sheet(folder: Path) -> Path:
    sheets = small_sheets()
    del sheets["Monthly Rgn and Citp"]
    return write_workbook(folder / "no-citizenship.xlsx", sheets)


def non_numeric_workbook_count(folder: Path) -> Path:
    sheets = small_sheets()
    header, first, *rest = sheets["Monthly Rgn and Sector"]
    sheets["Monthly Rgn and Sector"] = [header, first, (*first[:4], "about 40"), *rest]
    return write_workbook(folder / "text-count.xlsx", sheets)


def non_numeric_csv_count(folder: Path) -> Path:
    rows = small_csv_rows()
    rows[1][-1] = "n/a"
    return write_csv(folder / "text-count.csv", rows)


def negative_csv_count(folder: Path) -> Path:
    rows = small_csv_rows()
    rows[2][-1] = -3
    return write_csv(folder / "negative.csv", rows)


def empty_csv(folder: Path) -> Path:
    path = folder / "empty.csv"
    path.write_bytes(b"")
    return path


def empty_workbook(folder: Path) -> Path:
    path = folder / "empty.xlsx"
    path.write_bytes(b"")
    return path


def missing_file(folder: Path) -> Path:
    return folder / "nowhere" / "ohss.xlsx"


def bad_month(folder: Path) -> Path:
    sheets = small_sheets()
    header, first, *rest = sheets["Monthly Rgn and Fam Status"]
    sheets["Monthly Rgn and Fam Status"] = [header, ("2023", "13 Octember", *first[2:]), *rest]
    return write_workbook(folder / "bad-month.xlsx", sheets)


def shifted_header(folder: Path) -> Path:
    sheets = small_sheets()
    header, *rows = sheets["Monthly Rgn and Sector"]
    sheets["Monthly Rgn and Sector"] = [("Year", *header[1:]), *rows]
    return write_workbook(folder / "header.xlsx", sheets)


def duplicated_row(folder: Path) -> Path:
    sheets = small_sheets()
    sheets["Monthly Rgn and Citp"].append(sheets["Monthly Rgn and Citp"][1])
    return write_workbook(folder / "duplicate.xlsx", sheets)


def case_duplicated_csv_row(folder: Path) -> Path:
    """A row repeated with its citizenship in capitals ('MEXICO'): calibration summed both."""
    rows = small_csv_rows()
    rows.append([*rows[0][:5], "MEXICO", *rows[0][6:]])
    return write_csv(folder / "case-duplicate.csv", rows)


def case_duplicated_workbook_row(folder: Path) -> Path:
    sheets = small_sheets()
    year, month, region, _citizenship, quantity = sheets["Monthly Rgn and Citp"][1]
    sheets["Monthly Rgn and Citp"].append((year, month, region, "MEXICO", quantity))
    return write_workbook(folder / "case-duplicate.xlsx", sheets)


def future_csv_month(folder: Path) -> Path:
    """A year mistyped as 2090: it imported with notes and moved the forecast's origin ahead."""
    rows = small_csv_rows()
    rows[2][0] = 2090
    return write_csv(folder / "future.csv", rows)


def future_workbook_month(folder: Path) -> Path:
    sheets = small_sheets()
    sheets["Monthly Rgn and Sector"][3] = (2090, *sheets["Monthly Rgn and Sector"][3][1:])
    return write_workbook(folder / "future.xlsx", sheets)


def unknown_demographic(folder: Path) -> Path:
    rows = small_csv_rows()
    rows[0][4] = "Adults Travelling Alone"
    return write_csv(folder / "demographic.csv", rows)


def decimal_comma_count(folder: Path) -> Path:
    """A count written with a decimal comma, or commas out of place: '12,5' imported as 125,
    the commas taken for thousands separators wherever they stood."""
    rows = small_csv_rows()
    rows[1][-1] = "12,5"
    return write_csv(folder / "decimal-comma.csv", rows)


def oversized_csv_count(folder: Path) -> Path:
    """A count of 23 digits was refused as "not a whole number", which it is: too large for
    the store's 64-bit counts."""
    rows = small_csv_rows()
    rows[1][-1] = "99999999999999999999999"
    return write_csv(folder / "oversized.csv", rows)


def unclosed_quote_csv(folder: Path) -> Path:
    """A quote opened and never closed ran the rest of the file into one field: refused as
    "row 3: has 5 fields, the header has 9", which did not say why."""
    good = write_csv(folder / "good.csv", small_csv_rows())
    header, first, second, *rest = good.read_text(encoding="utf-8").splitlines()
    broken = second.replace("FMUA", '"FMUA', 1)
    path = folder / "unclosed-quote.csv"
    path.write_text("\n".join([header, first, broken, *rest]) + "\n", encoding="utf-8")
    return path


def empty_workbook_cells(folder: Path) -> Path:
    """A count and a sector left empty: they were "value None is not a whole number" and
    "value None is not a label", a word of the program's, not of the workbook."""
    sheets = small_sheets()
    header, first, second, *rest = sheets["Monthly Rgn and Sector"]
    blank_count, blank_sector = (*first[:4], None), (*second[:3], None, second[4])
    sheets["Monthly Rgn and Sector"] = [header, blank_count, second, *rest]
    path = write_workbook(folder / "blank-count.xlsx", sheets)
    sheets["Monthly Rgn and Sector"] = [header, first, blank_sector, *rest]
    write_workbook(folder / "blank-sector.xlsx", sheets)
    return path


def empty_workbook_label(folder: Path) -> Path:
    empty_workbook_cells(folder)
    return folder / "blank-sector.xlsx"


# case -> (file maker, pieces the message must contain)
CASES: dict[str, tuple[Callable[[Path], Path], tuple[str, ...]]] = {
    "another CSV": (another_csv, ("other.csv", "row 1", "expected columns", "Fiscal Year")),
    "truncated workbook": (truncated_workbook, ("truncated.xlsx", "truncated or corrupt")),
    "missing sheet": (missing_sheet, ("no-citizenship.xlsx", "'Monthly Rgn and Citp'", "missing")),
    "non-numeric count (workbook)": (
        non_numeric_workbook_count,
        ("text-count.xlsx", "sheet 'Monthly Rgn and Sector' row 3", "'about 40'", "whole number"),
    ),
    "non-numeric count (CSV)": (
        non_numeric_csv_count,
        ("text-count.csv", "row 3", "'Encounter Count'", "'n/a'", "whole number"),
    ),
    "negative count": (
        negative_csv_count,
        ("negative.csv", "row 4", "'-3'", "is negative", "non-negative"),
    ),
    "empty CSV": (empty_csv, ("empty.csv", "empty")),
    "empty workbook": (empty_workbook, ("empty.xlsx", "empty")),
    "file that does not exist": (missing_file, ("ohss.xlsx", "no such data file")),
    "month label": (
        bad_month,
        ("bad-month.xlsx", "'Monthly Rgn and Fam Status' row 2", "'13 Octember'", "01 October"),
    ),
    "shifted header": (shifted_header, ("header.xlsx", "row 1", "'Year'", "published layout")),
    "duplicated row": (duplicated_row, ("duplicate.xlsx", "more than once", "rows 2, ")),
    "row repeated in other capitals (CSV)": (
        case_duplicated_csv_row,
        ("case-duplicate.csv", "rows 2, 5:", "more than once"),
    ),
    "row repeated in other capitals (workbook)": (
        case_duplicated_workbook_row,
        ("case-duplicate.xlsx", "'Monthly Rgn and Citp' rows 2, ", "more than once"),
    ),
    "month after this month (CSV)": (
        future_csv_month,
        ("future.csv", "row 4 columns 'Fiscal Year' and 'Month (abbv)'", "November 2089", "after"),
    ),
    "month after this month (workbook)": (
        future_workbook_month,
        ("'Monthly Rgn and Sector' row 4 columns 'Fiscal Year' and 'Month'", "October 2089"),
    ),
    "decimal comma in a count": (
        decimal_comma_count,
        ("decimal-comma.csv", "row 3 column 'Encounter Count'", "'12,5'", "whole number"),
    ),
    "count too large": (
        oversized_csv_count,
        (
            "oversized.csv",
            "row 3 column 'Encounter Count': value '99999999999999999999999' is a whole number "
            "too large to count (more than 18 digits)",
        ),
    ),
    "unclosed quote": (
        unclosed_quote_csv,
        (
            "unclosed-quote.csv",
            "row 3: has 5 fields, the header has 9",
            "a quote in it is not closed",
        ),
    ),
    "empty count cell": (
        empty_workbook_cells,
        ("sheet 'Monthly Rgn and Sector' row 2 column 'Quantity': the cell is empty", "whole"),
    ),
    "empty label cell": (
        empty_workbook_label,
        ("sheet 'Monthly Rgn and Sector' row 3 column 'Sector': the cell is empty", "text"),
    ),
    "unknown demographic": (
        unknown_demographic,
        ("demographic.csv", "row 2", "'Adults Travelling Alone'", "'UAC'"),
    ),
}


@pytest.mark.parametrize("case", list(CASES))
def test_reader_names_file_place_value_and_rule(case: str, tmp_path: Path) -> None:
    maker, pieces = CASES[case]
    path = maker(tmp_path)
    with pytest.raises(DataFileError) as caught:
        read_official_file(path)
    message = str(caught.value)
    assert message.startswith(str(path)), message
    for piece in pieces:
        assert piece in message, f"{piece!r} not in {message!r}"
    assert "\n" not in message


@pytest.mark.parametrize(
    "case", ["another CSV", "truncated workbook", "missing sheet", "non-numeric count (CSV)"]
)
def test_cli_exits_2_and_leaves_the_store_as_it_was(
    case: str, tmp_path: Path, store_copy: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    before = store_snapshot(store_copy)
    bad = CASES[case][0](tmp_path)
    good = write_csv(tmp_path / "good.csv", small_csv_rows())  # valid, but arrives with a bad one
    with pytest.raises(SystemExit) as done:
        main(["data", "import", str(good), str(bad), "--store", str(store_copy)])
    assert done.value.code == 2
    err = capsys.readouterr().err
    assert re.search(r"error:.*" + re.escape(bad.name), err.replace("\n", ""))
    assert store_snapshot(store_copy) == before


def test_two_files_of_one_kind_are_refused(tmp_path: Path, store_copy: Path) -> None:
    before = store_snapshot(store_copy)
    first = write_csv(tmp_path / "a.csv", small_csv_rows())
    second = shutil.copy(first, tmp_path / "b.csv")
    with pytest.raises(SystemExit) as done:
        main(["data", "import", str(first), str(second), "--store", str(store_copy)])
    assert done.value.code == 2
    assert store_snapshot(store_copy) == before


@pytest.mark.parametrize("same_file", [False, True])
def test_two_files_of_one_kind_are_named_whole(
    tmp_path: Path, store_copy: Path, capsys: pytest.CaptureFixture[str], same_file: bool
) -> None:
    """The refusal named every file given in one place cut to 120 characters from its start,
    so the first file's name lost its beginning (`...ounters.csv, /tmp/...`), and a file given
    twice read as two files of one kind."""
    folder = tmp_path / "a-folder-with-a-long-name-as-downloads-often-have" / "release-2024"
    folder.mkdir(parents=True)
    first = write_csv(folder / "cbp-swb-encounters-fy2022-fy2024.csv", small_csv_rows())
    second = first if same_file else shutil.copy(first, folder / "cbp-copy.csv")
    with pytest.raises(SystemExit) as done:
        main(["data", "import", str(first), str(second), "--store", str(store_copy)])
    assert done.value.code == 2
    (line,) = capsys.readouterr().err.strip().splitlines()
    if same_file:
        assert line.startswith("error: ") and line.endswith(
            f"/{first.name}: given twice in one import; give each file once"
        )
    else:
        assert line == (
            "error: cbp-swb-encounters-fy2022-fy2024.csv and cbp-copy.csv are both CBP CSVs; "
            "give one OHSS workbook and/or one CBP CSV"
        )


def test_a_file_given_twice_is_refused_before_any_file_is_read(
    tmp_path: Path, store_copy: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """A file given twice was refused only after every file had been read (a workbook takes
    seconds each time), so another file's fault came first; it is now refused before any."""
    good = write_csv(tmp_path / "good.csv", small_csv_rows())
    missing = tmp_path / "not-downloaded.xlsx"
    with pytest.raises(SystemExit) as done:
        main(["data", "import", str(good), str(missing), str(good), "--store", str(store_copy)])
    assert done.value.code == 2
    (line,) = capsys.readouterr().err.strip().splitlines()
    assert line.endswith("/good.csv: given twice in one import; give each file once"), line


@pytest.mark.parametrize(
    ("store_name", "words"),
    [
        ("notes.txt", "is not a DuckDB database"),
        ("a-folder", "is not a file; a store is one DuckDB file"),
        ("notes.txt/store.duckdb", "cannot create the store's folder"),
    ],
)
def test_a_store_that_cannot_be_written_is_refused_before_any_file_is_read(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], store_name: str, words: str
) -> None:
    """A --store that is no store (another file, a folder, a path under a file) was refused only
    after every file had been read and checked (seconds for a workbook), so a fault of a file
    came first; the store is now checked before any file is read."""
    (tmp_path / "notes.txt").write_text("not a store\n", encoding="utf-8")
    (tmp_path / "a-folder").mkdir()
    bad = another_csv(tmp_path)
    with pytest.raises(SystemExit) as done:
        main(["data", "import", str(bad), "--store", str(tmp_path / store_name)])
    assert done.value.code == 2
    (line,) = capsys.readouterr().err.strip().splitlines()
    assert line.startswith(f"error: {tmp_path / store_name}: {words}"), line
    assert (tmp_path / "notes.txt").read_text(encoding="utf-8") == "not a store\n"


def test_a_dash_for_standard_input_is_refused_naming_the_path_to_give(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """`cat c.csv | bordersim data import -` said `error: -: no such data file`, as if `-` were
    a file that had gone; it says that standard input is not read and to give the file's path.
    A file named `-` is still read as any file."""
    monkeypatch.chdir(tmp_path)
    store = tmp_path / "s.duckdb"
    with pytest.raises(SystemExit) as done:
        main(["data", "import", "-", "--store", str(store)])
    assert done.value.code == 2
    err = capsys.readouterr().err
    assert err.startswith("error: -: ") and len(err.strip().splitlines()) == 1, err
    assert "standard input is not read" in err and "path" in err, err
    assert "no such data file" not in err
    write_csv(tmp_path / "-", small_csv_rows())
    assert read_official_file("-").kind == "cbp_swb"
