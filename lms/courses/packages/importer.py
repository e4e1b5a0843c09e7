"""The one path by which a course is created from content data: a package, a cartridge and
the demo's TOML all come here, then to ``lms.courses.content.create_course``."""

from __future__ import annotations

import copy
from collections.abc import Mapping
from datetime import datetime

from sqlalchemy import select

from lms.auth.models import User
from lms.courses import content
from lms.courses.models import Course, Module
from lms.courses.packages.report import count_questions
from lms.errors import Conflict, InvalidInput
from lms.extensions import db
from lms.ledger.audit import record_event

CODE_MAX = 20
MODULE_CODE_MAX = 30


def with_code(data: Mapping, new_code: str) -> dict:
    """The data with the course's code changed, and each module's code with it (module codes
    are unique across the school): "OLD-1" becomes "NEW-1"; a code not starting with the
    old one gets "NEW-" in front."""
    copied = copy.deepcopy(dict(data))
    old = copied["code"]
    copied["code"] = new_code
    for module in copied["modules"]:
        code = module["code"]
        module["code"] = (
            new_code + code[len(old) :] if code.startswith(old) else f"{new_code}-{code}"
        )
    return copied


def check_codes(data: Mapping, *, as_code: str | None = None) -> None:
    """Refuse codes that are too long or taken (409), naming the code and what to do."""
    code = data["code"]
    if not code or len(code) > CODE_MAX:
        raise InvalidInput(
            f"The course code {code!r} must be 1 to {CODE_MAX} characters.", field="code"
        )
    taken = db.session.scalar(select(Course.id).where(Course.code == code))
    if taken is not None:
        hint = "choose another code" if as_code else "import it under a new code with --as NEWCODE"
        raise Conflict(f"A course with the code {code} exists already: {hint}.", field="code")
    codes = [module["code"] for module in data["modules"]]
    for module_code in codes:
        if len(module_code) > MODULE_CODE_MAX:
            raise InvalidInput(
                f"The module code {module_code!r} is longer than {MODULE_CODE_MAX} characters.",
                field="code",
            )
    if len(set(codes)) != len(codes):
        raise InvalidInput("Two modules have the same code.", field="code")
    used = db.session.scalars(select(Module.code).where(Module.code.in_(codes))).all()
    if used:
        raise Conflict(
            f"The module code(s) {', '.join(sorted(used))} exist already in another course: "
            "import the course under a new code (--as NEWCODE).",
            field="code",
        )


def import_course(
    data: Mapping,
    *,
    actor: User | None,
    now: datetime,
    as_code: str | None = None,
    source: str = "content data",
    media: Mapping[str, bytes] | None = None,
) -> Course:
    """Create the course the data describes (under ``as_code`` if given) and audit it. Writes
    in the caller's transaction (flush only): the caller commits, or rolls back on error."""
    if as_code:
        data = with_code(data, as_code.strip())
    check_codes(data, as_code=as_code)
    course = content.create_course(data, now, media=media, actor=actor)
    record_event(
        "course.imported",
        actor=actor,
        now=now,
        target_type="course",
        target_id=course.id,
        details={
            "code": course.code,
            "source": source,
            "modules": len(data["modules"]),
            "questions": count_questions(data),
        },
    )
    return course
