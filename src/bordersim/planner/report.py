"""The plan report: one self-contained HTML file (no scripts, no network).

Sections: the answer in one paragraph; the weekly plan per sector and pool; the cost breakdown;
the cost-versus-target frontier; the binding and the failing sector-weeks; the comparison with the
base scenario's deployment; the certificate's method and figures.
"""

from __future__ import annotations

import html
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

import numpy as np

from bordersim.planner.output import (
    cost_words,
    gap_percent,
    millions,
    objective_words,
    percent,
    target_levels,
    target_words,
)
from bordersim.planner.targets import KINDS

if TYPE_CHECKING:
    from bordersim.planner.problem import Problem
    from bordersim.planner.run import PlanResult

_STYLE = """
body{font-family:-apple-system,"Segoe UI",Helvetica,Arial,sans-serif;max-width:1200px;margin:0 auto;
padding:1em 2em;color:#222} h2{border-bottom:1px solid #ddd;margin-top:1.6em}
table{border-collapse:collapse;font-size:.9em;margin:.5em 0} th,td{border:1px solid #ddd;
padding:2px 7px} td.n{text-align:right;font-variant-numeric:tabular-nums}
tr.f td{background:#fdecea}
.note{background:#f6f8fa;border-left:3px solid #888;padding:.5em 1em}
"""


def _table(
    header: list[str], rows: Sequence[Sequence[object]], flagged: list[bool] | None = None
) -> str:
    head = "".join(f"<th>{html.escape(h)}</th>" for h in header)
    body = []
    for i, row in enumerate(rows):
        cells = "".join(
            f'<td class="n">{v:,.0f}</td>'
            if isinstance(v, int | float) and not isinstance(v, bool)
            else f"<td>{html.escape(str(v))}</td>"
            for v in row
        )
        cls = ' class="f"' if flagged and flagged[i] else ""
        body.append(f"<tr{cls}>{cells}</tr>")
    return f"<table><tr>{head}</tr>{''.join(body)}</table>"


def _frontier_svg(
    points: list[tuple[float, float, bool]], certified: tuple[float, float] | None = None
) -> str:
    """The frontier's points (share, cost on the search's sample, met), and the certified plan
    at its share (blue), which its certification may have made dearer or cheaper."""
    if not points:
        return ""
    width, height, pad = 480, 240, 40
    costs = [c for _, c, _ in points] + ([certified[1]] if certified else [])
    top = max(costs) * 1.1 or 1.0
    qs = [q for q, _, _ in points]
    low_q, high_q = min(qs) - 0.01, max(qs) + 0.01

    def xy(q: float, c: float) -> tuple[float, float]:
        return (
            pad + (q - low_q) / (high_q - low_q) * (width - 2 * pad),
            height - pad - c / top * (height - 2 * pad),
        )

    marks = []
    line = " ".join(f"{xy(q, c)[0]:.1f},{xy(q, c)[1]:.1f}" for q, c, _ in points)
    for q, c, ok in points:
        x, y = xy(q, c)
        fill = "#2a7" if ok else "#c33"
        marks.append(
            f'<circle cx="{x:.1f}" cy="{y:.1f}" r="5" fill="{fill}"/>'
            f'<text x="{x + 7:.1f}" y="{y - 7:.1f}" font-size="11">{percent(q)}: '
            f"{millions(c)}</text>"
        )
    if certified is not None:
        x, y = xy(*certified)
        marks.append(
            f'<rect x="{x - 5:.1f}" y="{y - 5:.1f}" width="10" height="10" fill="#27c"/>'
            f'<text x="{x + 7:.1f}" y="{y + 14:.1f}" font-size="11">certified: '
            f"{millions(certified[1])}</text>"
        )
    legend = "green: meets every attainable target" + (
        "; blue: the certified plan" * bool(certified)
    )
    return (
        f'<svg width="{width}" height="{height}" role="img"><polyline points="{line}" '
        f'fill="none" stroke="#555"/>{"".join(marks)}<text x="{pad}" y="{height - 8}" '
        f'font-size="11">share within 72 h ({legend})</text></svg>'
    )


def plan_report(result: PlanResult) -> str:
    """The plan's report: the answer, the plan, its cost, the frontier, the binding sector-weeks,
    the comparison with the base deployment and the certificate, as one HTML page."""
    name = html.escape(result.problem.base.scenario_name)
    parts = [
        f"<!doctype html><html><head><meta charset='utf-8'><title>bordersim plan: "
        f"{name}</title><style>{_STYLE}</style></head><body>",
        f"<h1>Plan for {name}</h1>",
        _answer(result),
        _plan_tables(result),
        _cost_breakdown(result),
        _frontier_section(result),
        _binding(result),
        _base_section(result),
        _certificate_section(result),
        "</body></html>",
    ]
    return "\n".join(part for part in parts if part)


def _answer(result: PlanResult) -> str:
    spec, cert, data = result.problem.spec, result.certificate, result.certificate_json
    required = cert.required
    which = "the probe bound" if data.get("probe_bound") else "the fluid model's bound"
    answer = (
        f"Objective: {objective_words(spec)}. "
        f"The cheapest plan found costs {cost_words(result.problem, result.x)}. "
        f"{int((cert.certified & required).sum())} of {int(required.sum())} required "
        f"sector-week targets are certified on {cert.n} fresh "
        f"{cert.engine}-engine replications (each at {percent(spec.targets.confidence)} "
        "confidence, "
        f"probability at least {percent(1 - spec.targets.alpha)}). Lower bound "
        f"{millions(data['lower_bound_dollars'])}: optimality gap at most "
        f"{gap_percent(data['gap'])} "
        f"(against {which})."
    )
    if not data.get("gap_proven", True):
        answer += (
            " The scenario moves people between sectors (lateral decompression), which the "
            "bound does not model: the gap is not proven."
        )
    if spec.demand_scale != 1.0:
        answer += f" Planned for demand x {spec.demand_scale:g}."
    quantiles = spec.quantiles
    if quantiles is not None:
        answer += (
            f" Planned for quantile {quantiles.quantiles[0]:g} of the demand forecast from "
            f"{quantiles.origin:%Y-%m}: every sector's monthly encounters after that month at "
            "that quantile."
        )
    paths = result.problem.paths
    if paths is not None:
        answer += (
            f" Planned against {paths.n_paths} sample paths of the demand forecast from "
            f"{paths.origin:%Y-%m}: the replications, certification's included, spread over them."
        )
    return f"<p class='note'>{html.escape(answer)}</p>"


def _plan_tables(result: PlanResult) -> str:
    return plan_tables(result.problem, result.x)


def plan_tables(problem: Problem, x: np.ndarray) -> str:
    """The plan per window, sector and pool, and the weekly headcount per sector, each column
    dated."""
    spec, m = problem.spec, problem.base
    header = ["pool", "sector"] + [
        f"{a:%d %b}-{b:%d %b}"
        for a, b in (problem.window_dates(w) for w in range(len(problem.windows)))
    ]
    rows: list[list[object]] = []
    for k, pool in enumerate(spec.pools):
        for s, sector in enumerate(m.sectors):
            if x[k, s].any():
                rows.append([pool.pool.name.lower(), sector.name] + [float(v) for v in x[k, s]])
        rows.append([pool.pool.name.lower(), "all"] + [float(v) for v in x[k].sum(axis=0)])
    head = problem.headcount(x).sum(axis=2)[m.warmup_days :]
    week_header = ["sector"] + [
        f"w{j + 1} ({m.dates[m.warmup_days + a]:%d %b})" for j, (a, _) in enumerate(problem.weeks)
    ]
    week_rows = [
        [sector.name] + [float(head[a:b, s].mean()) for a, b in problem.weeks]
        for s, sector in enumerate(m.sectors)
    ]
    return "\n".join(
        [
            "<h2>Plan per window, sector and pool (people deployed)</h2>",
            _table(header, rows),
            "<h2>Weekly headcount per sector (all planned pools, week's mean)</h2>",
            _table(week_header, week_rows),
        ]
    )


def _cost_breakdown(result: PlanResult) -> str:
    return cost_breakdown(result.problem, result.x)


def cost_breakdown(problem: Problem, x: np.ndarray) -> str:
    """The cost per pool: the person-days paid (ramp-up days before the simulated start
    included, as in the cost), the rate, their product, and where the rate comes from (its
    source, or the assumption it is, as the scenario's parameters give them)."""
    spec = problem.spec
    by_pool = problem.cost_by_pool(x)
    person_days = problem.person_days_by_pool(x)
    rates = problem.base.cost_per_person_day
    sources = problem.base.sources

    def source(name: str) -> str:
        return sources.get(f"staff.pools.{name}.cost_per_person_day_dollars", "not given")

    return "<h2>Cost breakdown</h2>\n" + _table(
        ["pool", "person-days", "$ per person-day", "cost ($)", "the rate's source or assumption"],
        [
            [name, float(d), float(rates[p.pool]), float(c), source(name)]
            for p, d, c in zip(spec.pools, person_days, by_pool, strict=True)
            for name in [p.pool.name.lower()]
        ]
        + [["total", float(person_days.sum()), "", float(by_pool.sum()), ""]],
    )


def _frontier_section(result: PlanResult) -> str:
    """The frontier on the search's sample, with the certified plan's cost in the row of the
    plan's own share: the search's plan there is before the certification's repairs and trim,
    so it may read $0 beside a certified plan that costs more."""
    own_share = result.problem.spec.targets.within_72h
    own = [abs(p.q - own_share) < 1e-9 for p in result.frontier]
    table = _table(
        [
            "share within 72 h",
            "cheapest on the search sample ($)",
            "required sector-weeks (sample)",
            "meets attainable targets (sample)",
            "certified plan ($)",
        ],
        [
            [
                percent(p.q) + (" (the target planned for)" if mine else ""),
                p.cost,
                "-" if p.required is None else p.required,
                "yes" if p.feasible else "no",
                result.cost if mine else "-",
            ]
            for p, mine in zip(result.frontier, own, strict=True)
        ],
    )
    points = [(p.q, p.cost, p.feasible) for p in result.frontier]
    certified = (own_share, result.cost) if any(own) else None
    return "\n".join(
        [
            "<h2>Cost versus target</h2>",
            _frontier_svg(points, certified),
            table,
            "<p>Every point is the cheapest plan that the search (fluid program, "
            "simulation-based correction, local search) finds on its sample for that share, the "
            f"plan's own share ({percent(own_share)}) included, "
            "so that "
            "all stand on the same replications; a plan found for a stricter share stands for a "
            "looser one where it is cheaper and meets that share's required sector-weeks, so "
            "that a looser target never costs more for the same required sector-weeks (a "
            "looser share reaches more sector-weeks at the caps, and may cost more to meet "
            "them). Only the plan's own share is certified: the "
            f"certified plan costs ${result.cost:,.0f} (the last column), its certification's "
            "repairs and trim included.</p>",
        ]
    )


def _binding(result: PlanResult) -> str:
    problem, cert, outcome = result.problem, result.certificate, result.outcome
    required = cert.required
    rows: list[list[object]] = []
    flagged = []
    values = outcome.evaluation.values.mean(axis=0)
    at_caps = outcome.caps_evaluation.values.mean(axis=0)
    levels = target_levels(problem.spec.targets)
    m = problem.base
    for n, kind in enumerate(KINDS):
        for s, sector in enumerate(problem.base.sectors):
            for j in range(len(problem.weeks)):
                unreachable = bool(outcome.unattainable[n, s, j])
                failed = bool(required[n, s, j] and not cert.certified[n, s, j])
                binding = bool(required[n, s, j] and cert.successes[n, s, j] < cert.n)
                if not (unreachable or failed or binding):
                    continue
                status = (
                    f"out of reach at the caps ({cert.engine} engine)"
                    if outcome.unreachable_certifying[n, s, j]
                    else "out of reach at the caps"
                    if unreachable
                    else "not certified"
                    if failed
                    else "binding"
                )
                a, b = problem.weeks[j]
                first, last = m.dates[m.warmup_days + a], m.dates[m.warmup_days + b - 1]
                rows.append(
                    [
                        target_words(kind, levels[kind]),
                        sector.name,
                        f"{j + 1} ({first:%d %b}-{last:%d %b})",
                        status,
                        f"{values[n, s, j]:.3f}",
                        f"{at_caps[n, s, j]:.3f}",
                        f"{cert.successes[n, s, j]}/{cert.n}",
                        f"{cert.lower[n, s, j]:.3f}",
                    ]
                )
                flagged.append(unreachable or failed)
    if not rows:
        return "<h2>Binding and failing sector-weeks</h2>\n<p>No sector-week target binds.</p>"
    header = [
        "target",
        "sector",
        "week",
        "status",
        "mean value (plan)",
        "mean value at caps",
        "held in (replications)",
        "lower bound of the probability it holds (certified at "
        f"{1 - problem.spec.targets.alpha:g} or more)",
    ]
    return "<h2>Binding and failing sector-weeks</h2>\n" + _table(header, rows, flagged)


def _base_section(result: PlanResult) -> str:
    if result.base is None:
        return ""
    spec, cert, base = result.problem.spec, result.certificate, result.base
    required = cert.required
    in_any = int((~base.evaluation.holds.all(axis=0) & required).sum())
    sample = f"{base.evaluation.n_replications} flow-engine replications"
    replaced = ", ".join(spec.replace or ["no deployment replaced"])
    table = _table(
        ["", "planned pools' cost ($)", "required sector-weeks missed", "counted as"],
        [
            [
                f"base scenario ({replaced})",
                base.cost,
                base.missed,
                f"not met by the search's rule on its sample ({sample})",
            ],
            [
                "this plan",
                result.cost,
                int((~cert.certified & required).sum()),
                f"not certified on {cert.n} fresh {cert.engine}-engine replications",
            ],
        ],
    )
    return "\n".join(
        [
            "<h2>Comparison with the base scenario's deployment</h2>",
            table,
            "<p>The two counts are on different replications and by different rules: the "
            "search's rule for a target met (it holds in nearly every replication of the sample "
            "and its quantile meets the target) for the base, which is not certified; the "
            f"certificate for the plan. In the base, {in_any} required sector-weeks miss their "
            f"target in at least one replication of the search's sample ({sample}).</p>",
        ]
    )


def _certificate_section(result: PlanResult) -> str:
    cert, data = result.certificate, result.certificate_json
    return "\n".join(
        [
            "<h2>Certificate</h2>",
            f"<p>{html.escape(data['certification']['method'])}; engine "
            f"{cert.engine}, seed {cert.seed}, replications {cert.n}. "
            f"{search_sample_words(data['search'])}. {timings_words(result.timings)}.</p>",
            "<p>Lower bound: " + html.escape(str(data["lower_bound_kind"])) + ". Fluid program's "
            f"bound: {millions(data['fluid_lower_bound_dollars'])} ("
            + html.escape(str(data["fluid_lower_bound_kind"]))
            + ").</p>",
        ]
    )


#: The stages of certificate.json's timings_s, in words.
STAGE_WORDS = {
    "search_s": "search",
    "certify_s": "certification",
    "trim_s": "trim",
    "bound_s": "probe bound",
    "frontier_s": "frontier",
    "total_s": "in all",
}


def search_sample_words(search: dict[str, Any]) -> str:
    """'Search: 6 flow-engine replications run in all, 2 per candidate plan (seed 1)': the total
    alone read as the sample of each candidate, which the search's rule is judged on."""
    return (
        f"Search: {search['flow_replications_run']:,} {search['engine']}-engine replications "
        f"run in all, {search['replications']:,} per candidate plan (seed {search['seed']})"
    )


def timings_words(timings: dict[str, float]) -> str:
    """'Seconds taken: search 3, certification 35, ..., in all 39'."""
    return "Seconds taken: " + ", ".join(
        f"{STAGE_WORDS.get(stage, stage)} {seconds:,.0f}" for stage, seconds in timings.items()
    )


__all__ = ["np", "plan_report"]
