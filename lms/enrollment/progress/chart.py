"""The cohort's progress over time: the share ready and the median completion, as SVG."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select

from lms.credentials import service as credentials
from lms.enrollment import chart
from lms.enrollment.models import Cohort, Enrollment, EnrollmentStatus
from lms.extensions import db


def progress_chart(cohort: Cohort, now: datetime) -> tuple[list[chart.Point], str]:
    """The cohort's share ready and median completion over time, up to ``now``, and its
    SVG."""
    today = now.date()
    student_ids = list(
        db.session.scalars(
            select(Enrollment.student_id).where(
                Enrollment.cohort_id == cohort.id, Enrollment.status == EnrollmentStatus.ACTIVE
            )
        )
    )
    title = f"Progress of {cohort.name} over time"
    try:
        judgement = credentials.judge_readiness(
            cohort.credential, student_ids, now, cohort_id=cohort.id
        )
    except credentials.NoRequirements:
        return [], chart.render_svg([], title)  # nothing to judge yet: "No data yet."
    end = min(today, cohort.exam_date) if cohort.exam_date else today
    points = chart.progress_series(
        judgement.tree, judgement.facts, chart.sample_days(cohort.start_date, end)
    )
    return points, chart.render_svg(points, title)
