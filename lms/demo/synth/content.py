"""The synthetic school's courses and requirement sets, made through the app's services."""

from __future__ import annotations

import math
import tomllib
from dataclasses import dataclass
from typing import Any

from sqlalchemy import func, select

from lms.courses import content
from lms.courses.models import Module, Quiz
from lms.credentials import rules
from lms.extensions import db
from lms.paths import PACKAGE_DIR

TEMPLATE_FILES = [
    "medical-terminology.toml",
    "coding-regulations.toml",
    "medical-law-ethics.toml",
    "anatomy-physiology.toml",
    "billing-reimbursement.toml",
]
MODULES_PER_COURSE = 10
PASSING = 70


@dataclass(frozen=True)
class SynthModule:
    """A synthetic module, as the student simulation needs it."""

    id: int
    code: str
    course_id: int
    quiz_id: int
    minutes: int
    questions: int
    passing: int


def _templates() -> list[dict[str, Any]]:
    loaded = []
    for name in TEMPLATE_FILES:
        with (PACKAGE_DIR / "demo" / "content" / name).open("rb") as handle:
            loaded.append(tomllib.load(handle))
    return loaded


def make_courses(count: int) -> dict[str, SynthModule]:
    """``count`` modules in courses of ten, in order; their lessons and questions are the
    demo content's, so pages weigh what real ones do."""
    templates = _templates()
    made: list[str] = []
    for index in range(math.ceil(count / MODULES_PER_COURSE)):
        template = templates[index % len(templates)]
        size = min(MODULES_PER_COURSE, count - len(made))
        code = f"SYN{index + 1}-{template['code']}"
        course_modules = []
        for position in range(size):
            source = template["modules"][position % len(template["modules"])]
            part = position // len(template["modules"]) + 1
            course_modules.append(
                {
                    **source,
                    "code": f"{code}-{position + 1}",
                    "title": source["title"] + (f" (part {part})" if part > 1 else ""),
                    "passing_score": PASSING,
                }
            )
        content.create_course(
            {
                "code": code,
                "title": f"{template['title']} {index // len(templates) + 1}",
                "topic_area": template["topic_area"],
                "description": template.get("description", ""),
                "modules": course_modules,
            }
        )
        made += [m["code"] for m in course_modules]
    questions = dict(
        db.session.execute(
            select(Quiz.id, func.count()).select_from(Quiz).join(Quiz.items).group_by(Quiz.id)
        ).all()
    )
    rows = db.session.execute(
        select(
            Module.id,
            Module.code,
            Module.course_id,
            Module.estimated_minutes,
            Quiz.id,
            Quiz.passing_score,
        )
        .join(Quiz, Quiz.module_id == Module.id)
        .where(Module.code.in_(made))
    )
    by_code = {
        code: SynthModule(mid, code, course, quiz, minutes, questions.get(quiz, 5), passing)
        for mid, code, course, minutes, quiz, passing in rows
    }
    return {code: by_code[code] for code in made}


def requirement_trees(modules: dict[str, SynthModule]) -> dict[str, dict[str, Any]]:
    """The CPC asks for every module (grouped by course), the last one with 80% or more
    within a year, contact hours and a diploma: every kind of leaf a school uses. The CPB and
    CCA ask for part of the modules, with hours or a diploma."""
    codes = list(modules)

    def leaf(code: str) -> dict[str, Any]:
        return {"type": "module_completed", "module": code, "min_score": PASSING}

    def hours(chosen: list[str]) -> int:
        return max(1, round(0.7 * sum(modules[c].minutes for c in chosen) / 60))

    groups: dict[int, list[str]] = {}
    for code in codes:
        groups.setdefault(modules[code].course_id, []).append(code)
    cpb = [c for i, c in enumerate(codes) if i % 3 != 2]
    cca = codes[: math.ceil(len(codes) / 2)]
    diploma = {"type": "evidence", "kind": rules.EvidenceKind.HS_DIPLOMA_OR_GED.value}
    score = {"type": "assessment_score", "module": codes[-1], "min_score": 80, "within_days": 365}
    return {
        "CPC": {
            "type": "all_of",
            "children": [
                *(
                    {"type": "all_of", "label": f"Course {n}", "children": [leaf(c) for c in group]}
                    for n, group in enumerate(groups.values(), start=1)
                ),
                score,
                {"type": "contact_hours", "hours": hours(codes)},
                diploma,
            ],
        },
        "CPB": {
            "type": "all_of",
            "children": [*(leaf(c) for c in cpb), {"type": "contact_hours", "hours": hours(cpb)}],
        },
        "CCA": {"type": "all_of", "children": [diploma, *(leaf(c) for c in cca)]},
    }
