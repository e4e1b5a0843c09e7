"""The cohort's progress over time, computed from ledger dates and drawn as SVG.

Pure: facts in, numbers and markup out. The SVG needs no JavaScript.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import date, timedelta
from html import escape
from statistics import median

from lms.credentials import rules as readiness


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
    """Share of students ready and median progress on each day (verdicts only: the chart
    needs no explanation, and judging 20 days x 1,000 students with ``evaluate`` took seconds)."""
    judge = readiness.Judge(tree)
    points = []
    for day in days:
        verdicts = [judge(facts_on(f, day)) for f in facts.values()]
        count = len(verdicts) or 1
        progress = [v.progress for v in verdicts]
        points.append(
            Point(
                day,
                sum(1 for v in verdicts if v.met) / count,
                median(progress) if progress else 0.0,
            )
        )
    return points


# Colours as presentation attributes: an SVG shown through <img> gets no page CSS, and a strict
# CSP forbids inline styles. Both pass WCAG contrast on white.
READY, MEDIAN = "#1b6e3a", "#0b5cab"
LABEL = 'font-family="sans-serif" font-size="12" fill="#55606e"'
WIDTH, HEIGHT, PAD_LEFT, PAD_BOTTOM, PAD_TOP, PAD_RIGHT = 640, 280, 48, 56, 16, 16
LEGEND_Y = HEIGHT - 14


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
            f'<line class="chart-grid" stroke="#d5dbe3" stroke-width="1" x1="{PAD_LEFT}"'
            f' x2="{WIDTH - PAD_RIGHT}"'
            f' y1="{y(tick):.1f}" y2="{y(tick):.1f}"/>'
            f'<text class="chart-label" {LABEL} x="{PAD_LEFT - 6}" y="{y(tick) + 4:.1f}"'
            f' text-anchor="end">{tick:.0%}</text>'
        )
    if points:
        for i in sorted({0, n // 2, n - 1}):
            anchor = "end" if i == n - 1 and n > 1 else "start" if i == 0 else "middle"
            parts.append(
                f'<text class="chart-label" {LABEL} x="{x(i):.1f}" y="{HEIGHT - 34}"'
                f' text-anchor="{anchor}">{points[i].day.strftime("%d %b")}</text>'
            )
        parts.append(
            f'<polyline class="chart-line chart-median" fill="none" stroke="{MEDIAN}"'
            f' stroke-width="3" stroke-dasharray="6 4"'
            f' points="{path([p.median_progress for p in points])}"/>'
        )
        parts.append(
            f'<polyline class="chart-line chart-ready" fill="none" stroke="{READY}"'
            f' stroke-width="3"'
            f' points="{path([p.share_ready for p in points])}"/>'
        )
    parts.append(
        f'<g class="chart-legend"><rect class="chart-ready-key" fill="{READY}"'
        f' x="{PAD_LEFT + 8}" y="{LEGEND_Y - 4}"'
        f' width="12" height="4"/><text class="chart-label" {LABEL} x="{PAD_LEFT + 24}"'
        f' y="{LEGEND_Y + 1}">Share ready</text><rect class="chart-median-key" fill="{MEDIAN}"'
        f' x="{PAD_LEFT + 120}" y="{LEGEND_Y - 4}" width="12" height="4"/><text class="chart-label"'
        f' {LABEL} x="{PAD_LEFT + 136}" y="{LEGEND_Y + 1}">Median completion</text></g>'
    )
    parts.append("</svg>")
    return "".join(parts)
