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


def test_the_fault_tests_are_counted_as_the_files_hold_them() -> None:
    """docs/reliability.md counted the store's fault tests as "17 tests, 24 cases" and the data
    files' as "11 broken files" after more were added (18 tests of 25 cases, 13 broken files)."""
    import ast
    import subprocess
    import sys

    text = " ".join(page_text("docs/reliability.md").split())
    store_file = "tests/reliability/test_store_integrity.py"
    shown = re.search(rf"`pytest {store_file}` \((\d+) tests, (\d+) cases\)", text)
    assert shown is not None, "the page no longer counts the store's fault tests"
    tree = ast.parse((REPO / store_file).read_text(encoding="utf-8"))
    tests = [node for node in tree.body if isinstance(node, ast.FunctionDef)]
    collected = subprocess.run(
        [sys.executable, "-m", "pytest", "--collect-only", "-q", "-p", "no:xdist", store_file],
        cwd=REPO,
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    cases = [line for line in collected.splitlines() if line.startswith(f"{store_file}::")]
    assert int(shown.group(1)) == sum(t.name.startswith("test_") for t in tests)
    assert int(shown.group(2)) == len(cases)

    data_file = "tests/data/test_data_file_faults.py"
    shown = re.search(rf"`pytest {data_file}` \((\d+) broken files", text)
    assert shown is not None, "the page no longer counts the broken data files"
    tree = ast.parse((REPO / data_file).read_text(encoding="utf-8"))
    bad_files = next(
        node.value
        for node in tree.body
        if isinstance(node, ast.AnnAssign)
        and isinstance(node.target, ast.Name)
        and node.target.id == "BAD_FILES"
    )
    assert isinstance(bad_files, ast.Dict)
    assert int(shown.group(1)) == len(bad_files.keys)
