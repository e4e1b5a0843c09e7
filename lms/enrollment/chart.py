"""The cohort's progress over time, computed from ledger dates and drawn as SVG.

Pure: facts in, numbers and markup out. The SVG needs no JavaScript.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import date, timedelta
from html import escape

from lms.credentials import rules as readiness
from lms.enrollment.rules import median


@dataclass(frozen=True)
class Point:
    """The cohort on one day."""

    day: date
    share_ready: float  # 0..1
    median_progress: float  # 0..1


def sample_days(start: date, end: date, most: int = 20) -> list[date]:
    """Up to ``most`` evenly spaced days from ``start`` to ``end`` inclusive, weekly at best."""
    if end < start:
        return [start]
    span = (end - start).days
    step = max(7, -(-span // max(most - 1, 1)))
    days = [start + timedelta(days=d) for d in range(0, span + 1, step)]
    if days[-1] != end:
        days.append(end)
    return days


def facts_on(facts: readiness.StudentFacts, day: date) -> readiness.StudentFacts:
    """The facts as they stood at the end of ``day``: module completions recorded by then.

    Evidence and overrides carry no date here, so they count as they are now."""
    modules = {
        code: fact
        for code, fact in facts.modules.items()
        if fact.completed_on is not None and fact.completed_on <= day
    }
    return replace(facts, modules=modules)


def progress_series(
    tree: readiness.Requirement,
    facts: Mapping[int, readiness.StudentFacts],
    days: Sequence[date],
) -> list[Point]:
    """Share of students ready and median progress on each day."""
    points = []
    for day in days:
        outcomes = [readiness.evaluate(tree, facts_on(f, day), {}) for f in facts.values()]
        count = len(outcomes) or 1
        points.append(
            Point(
                day,
                sum(1 for o in outcomes if o.met) / count,
                median([o.progress for o in outcomes]),
            )
        )
    return points


WIDTH, HEIGHT, PAD_LEFT, PAD_BOTTOM, PAD_TOP, PAD_RIGHT = 640, 260, 48, 36, 16, 16


def render_svg(points: Sequence[Point], title: str) -> str:
    """A line chart of both series, with axes and a legend; escaped, safe to embed."""
    plot_w = WIDTH - PAD_LEFT - PAD_RIGHT
    plot_h = HEIGHT - PAD_TOP - PAD_BOTTOM
    n = len(points)

    def x(i: int) -> float:
        return PAD_LEFT + (plot_w * i / (n - 1) if n > 1 else plot_w / 2)

    def y(value: float) -> float:
        return PAD_TOP + plot_h * (1 - value)

    def path(values: list[float]) -> str:
        return " ".join(f"{x(i):.1f},{y(v):.1f}" for i, v in enumerate(values))

    last = points[-1] if points else None
    desc = (
        f"On {last.day.isoformat()}: {last.share_ready:.0%} of students ready, median "
        f"completion {last.median_progress:.0%}."
        if last
        else "No data yet."
    )
    parts = [
        f'<svg class="chart" xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {WIDTH} {HEIGHT}"'
        f' role="img" aria-labelledby="chart-title chart-desc">',
        f'<title id="chart-title">{escape(title)}</title>',
        f'<desc id="chart-desc">{escape(desc)}</desc>',
    ]
    for tick in (0, 0.25, 0.5, 0.75, 1):
        parts.append(
            f'<line class="chart-grid" x1="{PAD_LEFT}" x2="{WIDTH - PAD_RIGHT}"'
            f' y1="{y(tick):.1f}" y2="{y(tick):.1f}"/>'
            f'<text class="chart-label" x="{PAD_LEFT - 6}" y="{y(tick) + 4:.1f}"'
            f' text-anchor="end">{tick:.0%}</text>'
        )
    if points:
        for i in sorted({0, n // 2, n - 1}):
            parts.append(
                f'<text class="chart-label" x="{x(i):.1f}" y="{HEIGHT - 12}"'
                f' text-anchor="middle">{points[i].day.strftime("%d %b")}</text>'
            )
        parts.append(
            f'<polyline class="chart-line chart-median" fill="none"'
            f' points="{path([p.median_progress for p in points])}"/>'
        )
        parts.append(
            f'<polyline class="chart-line chart-ready" fill="none"'
            f' points="{path([p.share_ready for p in points])}"/>'
        )
    parts.append(
        f'<g class="chart-legend"><rect class="chart-ready-key" x="{PAD_LEFT + 8}" y="{PAD_TOP}"'
        f' width="12" height="4"/><text class="chart-label" x="{PAD_LEFT + 24}"'
        f' y="{PAD_TOP + 5}">Share ready</text><rect class="chart-median-key"'
        f' x="{PAD_LEFT + 120}" y="{PAD_TOP}" width="12" height="4"/><text class="chart-label"'
        f' x="{PAD_LEFT + 136}" y="{PAD_TOP + 5}">Median completion</text></g>'
    )
    parts.append("</svg>")
    return "".join(parts)
