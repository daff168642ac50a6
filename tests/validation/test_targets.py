"""The shipped operational targets load, and a faulty targets file is refused with its line."""

from __future__ import annotations

import csv
import datetime as dt
from pathlib import Path

import pytest

from bordersim.errors import DataFileError
from bordersim.validation.measures import MEASURES, NOT_YET
from bordersim.validation.targets import (
    COLUMNS,
    bound_of,
    default_targets_path,
    load_targets,
    record_path,
)

HEADER = ",".join(COLUMNS)
GOOD = '{metric},2023-05-10,2023-05-10,SWB,{value},people ("more than"),Title,https://x,high,'


def test_shipped_targets_load_and_every_metric_has_a_measure() -> None:
    targets = load_targets()
    assert len(targets) > 200
    assert {t.metric for t in targets} <= set(MEASURES)  # rows shipped are rows the model uses
    assert all(t.end <= dt.date(2023, 5, 14) for t in targets)
    assert not set(NOT_YET) & set(MEASURES)


def test_every_shipped_target_is_a_row_of_the_shipped_record_unchanged() -> None:
    def rows(path: Path) -> list[tuple[str, ...]]:
        with path.open(newline="", encoding="utf-8") as handle:
            return [tuple(row) for row in csv.reader(handle)]

    record, targets = rows(record_path()), rows(default_targets_path())
    assert record[0] == targets[0] == tuple(COLUMNS)
    assert len(record) - 1 == 488  # the figures cited by the scenarios' comments are among them
    assert set(targets[1:]) <= set(record[1:])
    assert len(targets) < len(record)


def test_shipped_ranges_are_joined() -> None:
    diverted = [t for t in load_targets() if t.metric == "agents_diverted_share"]
    march = next(t for t in diverted if t.start == dt.date(2019, 3, 1))
    assert (march.bound, march.value, march.high) == ("range", 0.25, 0.40)


def test_custody_on_10_may_2023_is_shipped_with_its_sources() -> None:
    rows = [
        t
        for t in load_targets()
        if t.metric == "custody_population" and t.start == dt.date(2023, 5, 10)
    ]
    assert sorted(t.value for t in rows) == [26354, 28000, 28717]
    assert all(t.source_title and t.confidence in ("high", "medium") for t in rows)


@pytest.mark.parametrize(
    ("unit", "bound"),
    [
        ('migrants in CBP custody ("more than")', "lower"),
        ('people in USBP custody ("over")', "lower"),
        ("known gotaways (month, preliminary, lower bound)", "lower"),
        ('USBP apprehensions per day ("fewer than")', "upper"),
        ("persons held in CBP facilities (up to)", "upper"),
        ("people in CBP custody", "value"),
        ("hours (average, UAC)", "value"),
    ],
)
def test_bound_read_from_the_unit(unit: str, bound: str) -> None:
    assert bound_of(unit) == bound


def _write(tmp_path: Path, *lines: str) -> Path:
    path = tmp_path / "targets.csv"
    path.write_text("\n".join((HEADER, *lines)) + "\n", encoding="utf-8")
    return path


@pytest.mark.parametrize(
    ("line", "message"),
    [
        (GOOD.format(metric="custody_population", value="abc"), "is not a number"),
        (GOOD.replace("2023-05-10,2023", "2023-13-10,2023").format(metric="m", value=1), "date"),
        (GOOD.format(metric="m", value=1).replace(",high,", ",sure,"), "confidence"),
        (GOOD.format(metric="m", value=1).replace("2023-05-10,SWB", "2023-06-01,SWB"), "after"),
        (GOOD.format(metric="m", value=1).replace("2023-05-10,2023", "2023-05-11,2023"), "before"),
        (GOOD.format(metric="x_range_low", value=1), "no matching x_range_high"),
        (GOOD.format(metric="custody_population", value=-5000), "'-5000' is negative"),
        # a cell past the note was dropped unseen; a short row was blamed on an empty column
        (GOOD.format(metric="m", value=1) + "note,EXTRA", "row has 11 columns, expected 10"),
        ("custody_population,2023-05-10", "row has 2 columns, expected 10"),
    ],
)
def test_a_faulty_row_is_refused_with_its_line(tmp_path: Path, line: str, message: str) -> None:
    path = _write(tmp_path, GOOD.format(metric="custody_population", value=1), line)
    with pytest.raises(DataFileError, match=message) as caught:
        load_targets(path)
    assert f"{path}:3" in str(caught.value)


def test_a_faulty_row_after_a_blank_line_is_refused_with_its_own_line(tmp_path: Path) -> None:
    """A blank line (the csv reader skips it) made every later row's line one too small: the
    fault on line 4 was said to be on line 3, a good row."""
    good = GOOD.format(metric="custody_population", value=1)
    path = _write(tmp_path, good, "", GOOD.format(metric="custody_population", value="abc"))
    with pytest.raises(DataFileError, match="is not a number") as caught:
        load_targets(path)
    assert str(caught.value).startswith(f"{path}:4: ")
    (target,) = load_targets(_write(tmp_path, "", good))
    assert target.row == 3


def test_a_cell_broken_over_two_lines_keeps_its_words_apart(tmp_path: Path) -> None:
    """A spreadsheet cell with a line break in it (written in quotes over two lines) lost the
    break: 'people ("more' and 'than")' were read as 'people ("morethan")', no longer a lower
    bound. The break now reads as a space, and the next row keeps its own line."""
    broken = '"people (""more\nthan"")"'
    first = GOOD.format(metric="custody_population", value=1).replace(
        'people ("more than")', broken
    )
    path = _write(tmp_path, first, GOOD.format(metric="custody_population", value="abc"))
    with pytest.raises(DataFileError, match="is not a number") as caught:
        load_targets(path)
    assert str(caught.value).startswith(f"{path}:4: ")
    (target,) = load_targets(_write(tmp_path, first))
    assert (target.unit, target.bound) == ('people ("more than")', "lower")


def test_a_confidence_in_capitals_is_the_one_meant(tmp_path: Path) -> None:
    """A spreadsheet's "High" was refused as "confidence 'High' is not one of high, medium,
    low", though it names one of them."""
    row = GOOD.format(metric="custody_population", value=1).replace(",high,", ", High ,")
    (target,) = load_targets(_write(tmp_path, row))
    assert target.confidence == "high"


def test_a_range_upside_down_names_its_ends_as_written(tmp_path: Path) -> None:
    """A range of custody counts upside down read "range low 1.5e+06 is above range high
    1e+06": the ends are now written as the file's figures are read, with thousands grouped."""
    path = _write(
        tmp_path,
        GOOD.format(metric="custody_population_range_low", value=1500000),
        GOOD.format(metric="custody_population_range_high", value=1000000),
    )
    with pytest.raises(DataFileError) as caught:
        load_targets(path)
    assert str(caught.value) == (
        f"{path}:3: custody_population: range low 1,500,000 is above range high 1,000,000"
    )


def test_a_range_end_given_twice_names_its_period_scope_and_first_line(tmp_path: Path) -> None:
    """A range's end given twice said only "x_range_low appears twice": not for which period
    and scope, nor where the first one is."""
    low = GOOD.format(metric="x_range_low", value=1)
    path = _write(tmp_path, low, GOOD.format(metric="x_range_high", value=2), low)
    with pytest.raises(DataFileError) as caught:
        load_targets(path)
    assert str(caught.value) == (
        f"{path}:4: x_range_low for SWB, 2023-05-10 appears twice (first on line 2)"
    )


def test_a_file_written_with_a_space_after_each_comma_loads(tmp_path: Path) -> None:
    """A targets file written by hand as "metric, period_start, ..." was refused as a wrong
    header (its names began with a space), though every cell below is read without them."""
    path = tmp_path / "targets.csv"
    row = "custody_population, 2023-05-10, 2023-05-10, SWB, 5000, people, Title, , high, "
    path.write_text(f"{HEADER.replace(',', ', ')}\n{row}\n", encoding="utf-8")
    (target,) = load_targets(path)
    assert (target.metric, target.start, target.value, target.confidence) == (
        "custody_population",
        dt.date(2023, 5, 10),
        5000.0,
        "high",
    )
    assert (target.scope, target.source_title, target.note) == ("SWB", "Title", "")


def test_a_wrong_header_is_refused_naming_its_columns_in_words(tmp_path: Path) -> None:
    """The header was shown as a Python list, "header is ['metric', 'value']"."""
    path = tmp_path / "targets.csv"
    path.write_text("metric,value\nm,1\n", encoding="utf-8")
    with pytest.raises(DataFileError) as caught:
        load_targets(path)
    assert str(caught.value) == (
        f"{path}:1: the header is 'metric', 'value'; expected the header "
        f"{HEADER.replace(',', ', ')}"
    )
    path.write_text(f"\n{HEADER}\n", encoding="utf-8")
    with pytest.raises(DataFileError, match=r":1: line 1 is blank, not the header; expected"):
        load_targets(path)


def test_a_targets_file_that_is_not_utf8_text_is_one_error_naming_it(tmp_path: Path) -> None:
    """A spreadsheet saved as UTF-16, or a workbook given by mistake, was a traceback
    (UnicodeDecodeError) out of `bordersim validate --targets`."""
    path = tmp_path / "targets.csv"
    text = "\n".join((HEADER, GOOD.format(metric="m", value=1))) + "\n"
    path.write_bytes(text.encode("utf-16"))
    with pytest.raises(DataFileError, match=r"not UTF-8 text \(byte 0\)") as caught:
        load_targets(path)
    assert str(caught.value).startswith(f"{path}: ")


def test_a_targets_file_saved_with_a_byte_order_mark_loads(tmp_path: Path) -> None:
    """Excel's "CSV UTF-8" and Notepad write a byte-order mark: the header read
    '\\ufeffmetric' and the file was refused as a wrong header."""
    path = _write(tmp_path, GOOD.format(metric="custody_population", value=1))
    path.write_bytes(b"\xef\xbb\xbf" + path.read_bytes())
    (target,) = load_targets(path)
    assert target.metric == "custody_population" and target.row == 2


@pytest.mark.parametrize("text", ["", "\n\n", "  \n"])
def test_an_empty_targets_file_says_it_is_empty(tmp_path: Path, text: str) -> None:
    """An empty file was refused as 'header is None', a word of Python's, not the user's."""
    path = tmp_path / "targets.csv"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(DataFileError) as caught:
        load_targets(path)
    message = str(caught.value)
    assert message == f"{path}: the file is empty; expected the header {HEADER.replace(',', ', ')}"
    assert "None" not in message


@pytest.mark.parametrize(
    ("value", "hint"),
    [
        ('"28,000"', "value '28,000' is not a number; write it without separators: 28000"),
        ("28 000", "value '28 000' is not a number; write it without separators: 28000"),
        ("45%", "value '45%' is not a number; a share is written as a fraction: 0.45"),
        ("12.5 %", "value '12.5 %' is not a number; a share is written as a fraction: 0.125"),
    ],
)
def test_a_value_written_as_a_spreadsheet_shows_it_is_told_what_to_type(
    tmp_path: Path, value: str, hint: str
) -> None:
    # "28,000" and "45%" were "not a number", with no word of what the file takes
    path = _write(tmp_path, GOOD.format(metric="custody_population", value=value))
    with pytest.raises(DataFileError) as caught:
        load_targets(path)
    assert str(caught.value) == f"{path}:2: {hint}"
