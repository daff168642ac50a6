"""A Rich table whose header row reads from the top.

Rich sets a header row's cells at the bottom of the row: where one header folds over lines on a
narrow page, the others sat on its last line, below an empty band, and the headers read as if
the first lines belonged to no column. Here each header is padded to the row's height below its
text, so that every header starts on the row's first line, as the cells below start on theirs.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import rich.table
from rich.text import Text

if TYPE_CHECKING:
    from rich.console import Console, ConsoleOptions, RenderableType, RenderResult


class Table(rich.table.Table):
    """`rich.table.Table`, its header row top-aligned (module docstring)."""

    def _render(self, console: Console, options: ConsoleOptions, widths: list[int]) -> RenderResult:
        headers = [column.header for column in self.columns]
        if self.show_header:
            heights = [
                self._header_height(console, options, index, width)
                for index, width in enumerate(widths)
            ]
            tallest = max(heights, default=0)
            for column, height in zip(self.columns, heights, strict=True):
                if height < tallest:
                    column.header = _lines_below(column.header, tallest - height)
        try:
            yield from super()._render(console, options, widths)
        finally:
            for column, header in zip(self.columns, headers, strict=True):
                column.header = header

    def _header_height(
        self, console: Console, options: ConsoleOptions, index: int, width: int
    ) -> int:
        """How many lines the column's header takes at its width, with its padding, rendered as
        Rich renders the column's cells (its wrapping and overflow)."""
        column = self.columns[index]
        cell = next(iter(self._get_cells(console, index, column)))  # the header's, first
        cell_options = options.update(
            width=width,
            justify=column.justify,
            no_wrap=column.no_wrap,
            overflow=column.overflow,
            height=None,
            highlight=column.highlight,
        )
        return len(console.render_lines(cell.renderable, cell_options))


def _lines_below(header: RenderableType, count: int) -> RenderableType:
    """The header with `count` empty lines below its text."""
    if isinstance(header, str):
        return header + "\n" * count
    if isinstance(header, Text):
        padded = header.copy()
        padded.append("\n" * count)
        return padded
    return header  # another renderable is left as Rich sets it
