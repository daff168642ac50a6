"""The documentation's pages (the README and docs/*.md) and their fenced blocks, read the same way
by every test that checks the docs against the code."""

from __future__ import annotations

import re
from pathlib import Path

from repo_paths import REPO

#: Every page of the documentation, as a path relative to the repository.
PAGES: tuple[str, ...] = (
    "README.md",
    *(f"docs/{page.name}" for page in sorted((REPO / "docs").glob("*.md"))),
)
FENCED = re.compile(r"```(\w*)\n.*?```", re.S)
#: The languages of the blocks that hold command lines.
SHELL = ("sh", "console", "bash")


def page_text(page: str | Path) -> str:
    """A page's text: `page` is relative to the repository, or a file anywhere (the checkers'
    own tests write pages of their own)."""
    return (REPO / page).read_text(encoding="utf-8")


def block_pattern(*languages: str) -> re.Pattern[str]:
    """A fenced block in one of `languages`; group 1 is its content."""
    return re.compile(rf"```(?:{'|'.join(languages)})\n(.*?)```", re.S)


def blocks(page: str | Path, *languages: str) -> list[str]:
    """The contents of a page's fenced blocks in `languages`, in page order."""
    return block_pattern(*languages).findall(page_text(page))


def prose(page: str | Path, keep: tuple[str, ...] = ()) -> str:
    """A page without its fenced blocks (but those in the languages `keep`), lines kept, so that
    line numbers stay the page's."""

    def blank(block: re.Match[str]) -> str:
        return block.group(0) if block.group(1) in keep else "\n" * block.group(0).count("\n")

    return FENCED.sub(blank, page_text(page))
