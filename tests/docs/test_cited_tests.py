"""The tests the docs cite as holding a guarantee (`tests/PATH.py::test_name`, or
`...::test_name` for another test of the file cited last) exist, so a renamed or moved test does
not leave a guarantee pointing at nothing."""

from __future__ import annotations

import re

from doc_pages import PAGES, page_text
from repo_paths import REPO

CITED = re.compile(r"(tests/[\w/]+\.py|\.\.\.)::(\w+)")
FILE = re.compile(r"tests/[\w/]+\.py")


def cited_tests(text: str) -> list[tuple[str, str]]:
    """(file, test) for every citation, `...` resolved to the test file named last before it."""
    cited: list[tuple[str, str]] = []
    last = ""
    for match in re.finditer(rf"{CITED.pattern}|{FILE.pattern}", text):
        file, name = match.group(1), match.group(2)
        if name is None:
            last = match.group(0)
            continue
        last = last if file == "..." else file
        cited.append((last, name))
    return cited


def missing(page: str) -> list[str]:
    text = page_text(page)
    gone = []
    for file, name in cited_tests(text):
        path = REPO / file
        source = path.read_text(encoding="utf-8") if path.is_file() else ""
        if not re.search(rf"^(?:async )?def {name}\(", source, re.M):
            gone.append(f"{file}::{name}")
    return gone


def test_every_cited_test_exists() -> None:
    assert {page: missing(page) for page in PAGES if missing(page)} == {}


def test_an_ellipsis_means_the_file_named_last() -> None:
    text = "`tests/a.py::test_one`, then `tests/b.py`, `...::test_two` and `...::test_three`"
    assert cited_tests(text) == [
        ("tests/a.py", "test_one"),
        ("tests/b.py", "test_two"),
        ("tests/b.py", "test_three"),
    ]
