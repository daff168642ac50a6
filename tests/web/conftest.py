"""Fixtures: a workbench per test module, and a real headless Chromium (Debian's, driven by
Playwright) to browse it."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from workbench_server import (
    CHROMIUM,
    CHROMIUM_FLAGS,
    Workbench,
    start_workbench,
    stop_workbench,
)


@pytest.fixture(scope="module")
def workbench(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Workbench]:
    bench = start_workbench(tmp_path_factory.mktemp("workbench"))
    yield bench
    stop_workbench(bench)


@pytest.fixture(scope="module")
def browser_context(tmp_path_factory: pytest.TempPathFactory) -> Iterator[object]:
    if not CHROMIUM.exists():
        pytest.skip("Debian's chromium is not installed (.ci/run installs it)")
    from playwright.sync_api import sync_playwright

    profile = tmp_path_factory.mktemp("chromium-profile")  # a fresh --user-data-dir
    with sync_playwright() as playwright:
        context = playwright.chromium.launch_persistent_context(
            str(profile),
            executable_path=str(CHROMIUM),
            headless=True,
            args=CHROMIUM_FLAGS,
            viewport={"width": 1280, "height": 900},
            accept_downloads=True,
        )
        yield context
        context.close()


@pytest.fixture
def page(browser_context: object) -> Iterator[object]:
    page = browser_context.new_page()  # type: ignore[attr-defined]
    page.set_default_timeout(30_000)
    yield page
    page.close()
