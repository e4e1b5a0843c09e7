"""Loading a code-set release and reviewing the code-entry keys it changes (issue 18 item 4).

A key records the release it was checked against (``question.code_release``). Loading a
newer release lists every live code-entry question whose key codes the release deleted, made
non-billable or described differently; an author reviews each and marks it reviewed, which
records the new release on the question."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select

from lms.auth.models import User
from lms.courses.catalogue import require_author
from lms.courses.codesets import icd10cm
from lms.courses.codesets.releases import KeyChange, key_changes
from lms.courses.models import CodeSetRelease, Question, QuestionKind
from lms.errors import Conflict, InvalidInput, NotFound
from lms.extensions import db
from lms.ledger.audit import record_event

LABEL_MAX = 40


@dataclass(frozen=True)
class Review:
    """The newest release of a code set and the key codes it changed, by question."""

    release: CodeSetRelease | None
    changes: list[KeyChange]
    stems: dict[int, str]  # question id -> its stem, for the list


def load_release(
    actor: User | None, code_set: str, label: str, codes: dict, now: datetime
) -> CodeSetRelease:
    """Store a release read from its file; a label already loaded for the code set is
    refused (409)."""
    if actor is not None:
        require_author(actor, "load code-set releases")
    label = " ".join(label.split())
    if not label or len(label) > LABEL_MAX:
        raise InvalidInput(f"Name the release in 1 to {LABEL_MAX} characters.", field="label")
    taken = db.session.scalar(
        select(CodeSetRelease.id).where(
            CodeSetRelease.code_set == code_set, CodeSetRelease.label == label
        )
    )
    if taken is not None:
        raise Conflict(f"The {code_set} release {label} is loaded already.", field="label")
    release = CodeSetRelease(
        code_set=code_set,
        label=label,
        loaded_at=now,
        codes={code: [billable, text] for code, (billable, text) in codes.items()},
        code_count=len(codes),
    )
    db.session.add(release)
    db.session.flush()
    record_event(
        "codes.release_loaded",
        actor=actor,
        now=now,
        target_type="code_set_release",
        target_id=release.id,
        details={"code_set": code_set, "label": label, "codes": len(codes)},
    )
    return release


def newest_release(code_set: str) -> CodeSetRelease | None:
    return db.session.scalar(
        select(CodeSetRelease)
        .where(CodeSetRelease.code_set == code_set)
        .order_by(CodeSetRelease.loaded_at.desc(), CodeSetRelease.id.desc())
        .limit(1)
    )


def release_key(code_set: str, label: str) -> str:
    """How a question records the release its key was checked against."""
    return f"{code_set} {label}"


def review(code_set: str) -> Review:
    """The live code-entry questions whose keys the newest release of the code set changed,
    leaving out those already reviewed against it."""
    release = newest_release(code_set)
    if release is None:
        return Review(None, [], {})
    recorded = release_key(code_set, release.label)
    questions = db.session.scalars(
        select(Question).where(
            Question.kind == QuestionKind.CODE_ENTRY, Question.retired_at.is_(None)
        )
    ).all()
    keys: dict[int, list[str]] = {}
    for question in questions:
        if question.code_release == recorded:
            continue
        codes = [
            code.split("-")[0]
            for box in question.code_boxes or []
            if box["code_set"] == code_set
            for entry in box["key"]
            for code in entry
        ]
        if codes:
            keys[question.id] = codes
    before = _bundled_descriptions(code_set, {c for codes in keys.values() for c in codes})
    changes = key_changes(keys, release.codes, before)
    stems = {q.id: q.stem for q in questions if q.id in {c.question_id for c in changes}}
    return Review(release, changes, stems)


def _bundled_descriptions(code_set: str, codes: set[str]) -> dict[str, str]:
    """The descriptions the keys were checked against: the bundled tabular list's for
    ICD-10-CM; none for the sets whose lists are not shipped."""
    if code_set != "icd10cm":
        return {}
    return {code: icd10cm.check(code).description for code in codes if icd10cm.is_code(code)}


def mark_reviewed(actor: User, question_id: int, code_set: str, now: datetime) -> Question:
    """Record that an author reviewed a question's key against the newest release."""
    require_author(actor, "review code-entry keys")
    release = newest_release(code_set)
    question = db.session.get(Question, question_id)
    if question is None or question.kind is not QuestionKind.CODE_ENTRY:
        raise NotFound("There is no such code-entry question.")
    if release is None:
        raise InvalidInput(f"No {code_set} release is loaded.")
    before = question.code_release
    question.code_release = release_key(code_set, release.label)
    db.session.flush()
    record_event(
        "question.key_reviewed",
        actor=actor,
        now=now,
        target_type="question",
        target_id=question.id,
        details={"release": [before, question.code_release]},
    )
    return question
