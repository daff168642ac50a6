"""A self-contained HTML page: plotly.js once, a headline box, figures, tables; written atomically.

The page loads nothing from the network, so a report opens offline and can be mailed as one file.
It carries plotly's cartesian partial bundle (scatter, bar, heatmap: every chart a report draws;
vendored from the npm package `plotly.js-cartesian-dist-min`, MIT, in `vendor/`) once in its head,
about 1.5 MB instead of the 4.6 MB full bundle.

Rendering is deterministic: figures get numbered ids rather than random ones, so the same run
renders to the same bytes (a report regenerated from the store equals the original).

A page may offer a sector choice: every figure added with `owners` (the choice each trace belongs
to) follows one selector at the top of the page.

It is written to a temporary file beside its destination and renamed, so a reader never finds a
half-written report under the final name.
"""

from __future__ import annotations

import html
import json
from collections.abc import Sequence
from dataclasses import dataclass
from functools import cache
from importlib.resources import files
from pathlib import Path

import plotly.graph_objects as go

from bordersim.output_files import write_atomically

PLOTLY_BUNDLE = "plotly-cartesian.min.js"

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
.headline { border: 2px solid #1f4e79; background: #f3f7fb; padding: 0.6em 1.2em; margin: 1em 0; }
.headline h2 { margin-top: 0.3em; border: none; } .headline li { margin: 0.25em 0; }
.headline .limits { font-size: 0.9em; color: #444; }
.tag { display: inline-block; padding: 0 0.4em; border-radius: 3px; font-size: 0.85em; }
.tag.zero { background: #e8e8e8; } .tag.up { background: #fde2e1; }
.tag.down { background: #dff3e4; }
.sector-choice { position: sticky; top: 0; background: #fff; padding: 0.4em 0; z-index: 10;
  border-bottom: 1px solid #eee; }
details.appendix > summary { font-size: 1.3em; font-weight: bold; cursor: pointer;
  margin-top: 1.5em; }
"""

# Shows the traces of the chosen sector in every figure that has per-sector traces.
_SECTOR_SCRIPT = """
function bordersimChooseSector(choice) {
  document.querySelectorAll('[data-owners]').forEach(function (box) {
    var owners = JSON.parse(box.getAttribute('data-owners'));
    var plot = box.querySelector('.plotly-graph-div');
    if (plot) Plotly.restyle(plot, {visible: owners.map(function (o) { return o === choice; })});
  });
}
"""


@cache
def plotly_bundle() -> str:
    return (files("bordersim.report") / "vendor" / PLOTLY_BUNDLE).read_text(encoding="utf-8")


@dataclass(frozen=True)
class HeadlineItem:
    """One line of a headline box: text, and an optional tag (css class, label) before it."""

    text: str
    tag: tuple[str, str] | None = None


class Page:
    """Sections of headings, paragraphs, tables and figures, rendered in order."""

    def __init__(self, title: str) -> None:
        self.title = title
        self._parts: list[str] = []
        self._sections: list[tuple[str, str]] = []
        self._figures = 0
        self._sector_choices: list[str] = []
        self._appendix_open = False

    def heading(self, text: str) -> None:
        anchor = f"s{len(self._sections)}"
        self._sections.append((anchor, text))
        self._parts.append(f'<h2 id="{anchor}">{html.escape(text)}</h2>')

    def paragraph(self, text: str, css_class: str = "") -> None:
        cls = f' class="{css_class}"' if css_class else ""
        self._parts.append(f"<p{cls}>{html.escape(text)}</p>")

    def preformatted(self, text: str) -> None:
        self._parts.append(f"<pre>{html.escape(text)}</pre>")

    def headline(
        self, title: str, items: Sequence[HeadlineItem], limits: Sequence[str] = ()
    ) -> None:
        """The box a reader sees first: what the run or comparison found, and its known limits."""
        lines = "".join(f"<li>{_tagged(item)}</li>" for item in items)
        limit_lines = "".join(f"<li>{html.escape(text)}</li>" for text in limits)
        limits_html = (
            f'<div class="limits"><strong>Known limits that apply:</strong><ul>{limit_lines}</ul>'
            "</div>"
            if limits
            else ""
        )
        self._parts.append(
            f'<section class="headline" id="headline"><h2>{html.escape(title)}</h2>'
            f"<ul>{lines}</ul>{limits_html}</section>"
        )

    def sector_choice(self, names: Sequence[str]) -> None:
        """Offer a page-wide selector; choice i shows the traces whose owner is i."""
        self._sector_choices = list(names)

    def begin_appendix(
        self, summary: str = "Appendix: parameters, scenario and run details"
    ) -> None:
        """What follows folds away under one summary line until the reader opens it."""
        self._parts.append(
            f'<details class="appendix" id="appendix"><summary>{html.escape(summary)}</summary>'
        )
        self._appendix_open = True

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
                f'<td class="num">{html.escape(cell_text(v))}</td>'
                if isinstance(v, int | float)
                else f"<td>{html.escape(cell_text(v))}</td>"
                for v in row
            )
            body.append(f"<tr{cls}>{cells}</tr>")
        self._parts.append(
            f"<table><thead><tr>{head}</tr></thead><tbody>{''.join(body)}</tbody></table>"
        )

    def figure(self, fig: go.Figure, owners: Sequence[int] | None = None) -> None:
        """A figure; with `owners`, its traces follow the page's sector choice."""
        self._figures += 1
        if owners is not None:
            for trace, owner in zip(fig.data, owners, strict=True):
                trace.visible = owner == 0
        body = fig.to_html(
            full_html=False,
            include_plotlyjs=False,
            div_id=f"figure-{self._figures}",
            config={"displaylogo": False, "responsive": True},
        )
        attribute = f" data-owners='{json.dumps(list(owners))}'" if owners is not None else ""
        self._parts.append(f'<div class="figure"{attribute}>{body}</div>')

    def render(self) -> str:
        nav = " ".join(f'<a href="#{a}">{html.escape(t)}</a>' for a, t in self._sections)
        closing = "</details>" if self._appendix_open else ""
        return (
            '<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8">'
            f"<title>{html.escape(self.title)}</title><style>{_STYLE}</style>"
            f"<script>{plotly_bundle()}</script><script>{_SECTOR_SCRIPT}</script></head><body>"
            f"<h1>{html.escape(self.title)}</h1><nav>{nav}</nav>"
            + self._selector()
            + "\n".join(self._parts)
            + closing
            + "</body></html>\n"
        )

    def _selector(self) -> str:
        if len(self._sector_choices) < 2:
            return ""
        options = "".join(
            f'<option value="{i}">{html.escape(name)}</option>'
            for i, name in enumerate(self._sector_choices)
        )
        return (
            '<div class="sector-choice"><label>Sector shown in every chart: <select '
            'id="sector-choice" onchange="bordersimChooseSector(Number(this.value))">'
            f"{options}</select></label></div>"
        )

    def write(self, path: Path) -> Path:
        return write_atomically(path, self.render())


def _tagged(item: HeadlineItem) -> str:
    if item.tag is None:
        return html.escape(item.text)
    css, label = item.tag
    return f'<span class="tag {css}">{html.escape(label)}</span> {html.escape(item.text)}'


def cell_text(value: object) -> str:
    """A number in a report's table, rounded as the indicator table and `bordersim run` round it
    (`format_value`): 38.72 reads 38.7 in every table, not 38.72 in one and 38.7 in another."""
    if isinstance(value, float):
        from bordersim.results.kpis import format_value

        if value != value:  # NaN
            return "n/a"
        if value == 0:
            return "0"
        return format_value(value, "")
    return str(value)
