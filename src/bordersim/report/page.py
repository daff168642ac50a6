"""A self-contained HTML page: inline plotly.js once, figures, tables; written atomically.

The page loads nothing from the network, so a report opens offline and can be mailed as one file.
It is written to a temporary file beside its destination and renamed, so a reader never finds a
half-written report under the final name.
"""

from __future__ import annotations

import html
import os
import tempfile
from collections.abc import Sequence
from pathlib import Path

import plotly.graph_objects as go

_STYLE = """
body { font-family: -apple-system, "Segoe UI", Helvetica, Arial, sans-serif; margin: 0 auto;
       max-width: 1200px; padding: 1em 2em; color: #222; }
h1 { font-size: 1.6em; margin-bottom: 0.2em; } h2 { margin-top: 1.8em; border-bottom: 1px solid
#ddd; padding-bottom: 0.2em; } .muted { color: #666; } .note { background: #f6f8fa;
padding: 0.6em 1em; border-left: 3px solid #888; }
table { border-collapse: collapse; margin: 0.6em 0; font-size: 0.92em; }
th, td { border: 1px solid #ddd; padding: 3px 8px; text-align: left; vertical-align: top; }
td.num { text-align: right; font-variant-numeric: tabular-nums; }
tr.flag td { background: #fdecea; } pre { background: #f6f8fa; padding: 0.8em; overflow-x: auto;
font-size: 0.85em; } nav a { margin-right: 1em; }
"""


class Page:
    """Sections of headings, paragraphs, tables and figures, rendered in order."""

    def __init__(self, title: str) -> None:
        self.title = title
        self._parts: list[str] = []
        self._sections: list[tuple[str, str]] = []
        self._plotly_included = False

    def heading(self, text: str) -> None:
        anchor = f"s{len(self._sections)}"
        self._sections.append((anchor, text))
        self._parts.append(f'<h2 id="{anchor}">{html.escape(text)}</h2>')

    def paragraph(self, text: str, css_class: str = "") -> None:
        cls = f' class="{css_class}"' if css_class else ""
        self._parts.append(f"<p{cls}>{html.escape(text)}</p>")

    def preformatted(self, text: str) -> None:
        self._parts.append(f"<pre>{html.escape(text)}</pre>")

    def table(
        self,
        header: Sequence[str],
        rows: Sequence[Sequence[object]],
        *,
        flagged: Sequence[bool] | None = None,
    ) -> None:
        head = "".join(f"<th>{html.escape(str(h))}</th>" for h in header)
        body = []
        for i, row in enumerate(rows):
            cls = ' class="flag"' if flagged is not None and flagged[i] else ""
            cells = "".join(
                f'<td class="num">{html.escape(_cell(v))}</td>'
                if isinstance(v, int | float)
                else f"<td>{html.escape(_cell(v))}</td>"
                for v in row
            )
            body.append(f"<tr{cls}>{cells}</tr>")
        self._parts.append(
            f"<table><thead><tr>{head}</tr></thead><tbody>{''.join(body)}</tbody></table>"
        )

    def figure(self, fig: go.Figure) -> None:
        # plotly.js goes inline with the first figure only; the others reuse it.
        self._parts.append(
            fig.to_html(
                full_html=False,
                include_plotlyjs=not self._plotly_included,
                config={"displaylogo": False},
            )
        )
        self._plotly_included = True

    def render(self) -> str:
        nav = " ".join(f'<a href="#{a}">{html.escape(t)}</a>' for a, t in self._sections)
        return (
            '<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8">'
            f"<title>{html.escape(self.title)}</title><style>{_STYLE}</style></head><body>"
            f"<h1>{html.escape(self.title)}</h1><nav>{nav}</nav>"
            + "\n".join(self._parts)
            + "</body></html>\n"
        )

    def write(self, path: Path) -> Path:
        return write_atomically(path, self.render())


def _cell(value: object) -> str:
    if isinstance(value, float):
        if value != value:  # NaN
            return "n/a"
        if value == 0:
            return "0"
        return f"{value:,.0f}" if abs(value) >= 100 else f"{value:,.2f}"
    return str(value)


def readable_mode() -> int:
    """The mode an ordinary new file gets (mkstemp's files are private to their owner)."""
    umask = os.umask(0)
    os.umask(umask)
    return 0o666 & ~umask


def write_atomically(path: Path, text: str) -> Path:
    """Write `text` to `path` through a temporary file in the same folder and a rename."""
    path.parent.mkdir(parents=True, exist_ok=True)
    handle, temporary = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        os.chmod(temporary, readable_mode())
        with os.fdopen(handle, "w", encoding="utf-8") as out:
            out.write(text)
        os.replace(temporary, path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise
    return path
