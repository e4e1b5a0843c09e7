"""Test data for the assessment engine: a timed practice exam drawn from a tagged bank."""

from lms.courses import content
from lms.extensions import db
from tests import factories


def practice_exam(
    code="PX",
    per_area=3,
    draw=2,
    minutes=30,
    max_attempts=None,
    review_policy="after_attempt",
    lesson=False,
):
    """A course with one module whose quiz draws ``draw`` questions from each of two areas;
    choice 0 is the correct one; the course's bank has ``per_area`` questions per area."""
    bank = [
        {
            "stem": f"{area} question {n}?",
            "choices": [f"{area} right {n}", f"{area} wrong {n}", f"{area} other {n}"],
            "correct": 0,
            "rationale": f"Rationale {area} {n}.",
            "content_area": area,
            "difficulty": "easy",
        }
        for area in ("ICD-10-CM", "CPT")
        for n in range(1, per_area + 1)
    ]
    module = {
        "code": f"{code}-1",
        "title": f"Practice exam {code}",
        "quiz_title": f"Practice exam {code}",
        "blueprint": [{"tag": "ICD-10-CM", "count": draw}, {"tag": "CPT", "count": draw}],
        "time_limit_minutes": minutes,
        "max_attempts": max_attempts,
        "review_policy": review_policy,
    }
    if lesson:
        module["lesson"] = "# Read me\n\nText."
    content.create_course(
        {
            "code": code,
            "title": f"Exams {code}",
            "topic_area": "exam",
            "bank": bank,
            "modules": [module],
        }
    )
    db.session.commit()
    return factories.module(f"{code}-1")
