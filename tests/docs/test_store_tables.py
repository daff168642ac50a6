"""docs/data.md lists the columns of the store's official-data tables; each list is the table's
columns in a store bordersim creates, so a migration that adds or renames one fails here until
the page says so."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from bordersim.store import open_store
from doc_pages import page_text

PAGE = "docs/data.md"
TABLES = ("ohss_encounters", "cbp_swb_encounters", "data_imports")


def documented_columns(table: str) -> set[str]:
    """The names in backticks in the page's bullet on `table` (its continuation lines too)."""
    bullet = re.search(rf"^- `{table}`:(.*?)(?=^- |^$)", page_text(PAGE), re.M | re.S)
    assert bullet is not None, f"{PAGE} has no bullet on {table}"
    return set(re.findall(r"`([a-z_0-9]+)`", bullet.group(1)))


@pytest.mark.parametrize("table", TABLES)
def test_the_page_lists_the_columns_of_each_table(table: str, tmp_path: Path) -> None:
    with open_store(tmp_path / "store.duckdb") as connection:
        columns = {row[0] for row in connection.execute(f"DESCRIBE {table}").fetchall()}
    assert documented_columns(table) == columns
