"""Writing the school's content: courses, modules and their lessons.

A module's lesson, title and estimated time are written in its draft; publishing makes the
draft a numbered version, kept for ever, and the one students see. The editor pages, the
JSON API, the course importers and the demo data all come through here, so there is one way
to create content. ``actor`` is None when the command line or the demo loader writes.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from blinker import Namespace
from sqlalchemy import delete, func, select, update
from sqlalchemy.exc import IntegrityError

from lms.auth.models import User
from lms.courses.authoring.models import ModuleDraft, ModuleVersion
from lms.courses.catalogue import get_course, require_author
from lms.courses.media.service import markdown_media_problems
from lms.courses.models import Attempt, Course, Lesson, Module, Quiz, QuizItem, TimeOnTask
from lms.courses.rules import authoring as rules
from lms.errors import Conflict, InvalidInput, NotFound, Problem
from lms.extensions import db
from lms.ledger.audit import record_event
from lms.ledger.models import LedgerEntry

WRITE = "write courses, modules and lessons"

signals = Namespace()
#: Sent with a module to learn what depends on it (the domains above courses answer: the
#: credentials whose requirements name it, the cohorts working towards those); each receiver
#: returns a list of ``Dependent``.
asking_dependents = signals.signal("module-dependents")


@dataclass(frozen=True)
class Dependent:
    """Something that relies on a module: a credential's requirements, or a cohort."""

    kind: str  # "credential" or "cohort"
    label: str


@dataclass(frozen=True)
class Draft:
    """A module's draft as the editor shows it; ``revision`` 0 is the published version
    itself, before anyone saved a draft."""

    title: str
    estimated_minutes: int
    lesson_markdown: str
    revision: int
    updated_at: datetime | None
    updated_by_id: int | None

    def differs_from(self, version: ModuleVersion | None) -> bool:
        """Whether the draft holds changes that are not published."""
        if version is None:
            return True
        return (self.title, self.estimated_minutes, self.lesson_markdown) != (
            version.title,
            version.estimated_minutes,
            version.lesson_markdown,
        )


def _check(actor: User | None) -> None:
    if actor is not None:
        require_author(actor, WRITE)


def _refuse(problems: Sequence[Problem]) -> None:
    if problems:
        raise InvalidInput(problems=problems)


# --- courses ------------------------------------------------------------------------------


def create_course(
    actor: User | None, fields: rules.CourseFields, now: datetime, *, sequential: bool = False
) -> Course:
    """A new course, without modules yet; a code in use is refused (409)."""
    _check(actor)
    fields = _tidy_course(fields)
    _refuse(rules.course_problems(fields))
    _code_free(fields.code)
    course = Course(
        code=fields.code,
        title=fields.title,
        topic_area=fields.topic_area,
        description=fields.description,
        sequential=sequential,
    )
    db.session.add(course)
    _flush_or_conflict(Problem(f"A course with the code {fields.code} exists already.", "code"))
    record_event(
        "course.created",
        actor=actor,
        now=now,
        target_type="course",
        target_id=course.id,
        details={"code": course.code, "title": course.title},
    )
    return course


def update_course(
    actor: User | None, course_id: int, fields: rules.CourseFields, now: datetime
) -> Course:
    """Change a course's code, title, topic area or description (audited with what it was)."""
    _check(actor)
    course = get_course(course_id)
    fields = _tidy_course(fields)
    _refuse(rules.course_problems(fields))
    if fields.code != course.code:
        _code_free(fields.code)
    before = {
        "code": course.code,
        "title": course.title,
        "topic_area": course.topic_area,
        "description": course.description,
    }
    after = {
        "code": fields.code,
        "title": fields.title,
        "topic_area": fields.topic_area,
        "description": fields.description,
    }
    changed = {key: {"from": before[key], "to": value} for key, value in after.items()}
    changed = {key: change for key, change in changed.items() if change["from"] != change["to"]}
    if changed:
        for key, value in after.items():
            setattr(course, key, value)
        _flush_or_conflict(Problem(f"A course with the code {fields.code} exists already.", "code"))
        record_event(
            "course.updated",
            actor=actor,
            now=now,
            target_type="course",
            target_id=course.id,
            details=changed,
        )
    return course


def archive_course(actor: User | None, course_id: int, archived: bool, now: datetime) -> Course:
    """Archive a course (students no longer see it; its completions stay) or bring it back."""
    _check(actor)
    course = get_course(course_id)
    _set_archived(actor, course, "course", archived, now)
    return course


def _set_archived(
    actor: User | None, row: Course | Module, kind: str, archived: bool, now: datetime
) -> None:
    """Archive a course or a module, or bring it back; audited only when it changes."""
    if (row.archived_at is not None) == archived:
        return
    row.archived_at = now if archived else None
    record_event(
        f"{kind}.archived" if archived else f"{kind}.restored",
        actor=actor,
        now=now,
        target_type=kind,
        target_id=row.id,
        details={"code": row.code},
    )
    db.session.flush()


def course_with_all_modules(course_id: int) -> tuple[Course, list[Module]]:
    """A course and every module of it, archived and unpublished ones too, in order."""
    course = get_course(course_id)
    modules = list(
        db.session.scalars(
            select(Module).where(Module.course_id == course.id).order_by(Module.position)
        )
    )
    return course, modules


def _tidy_course(fields: rules.CourseFields) -> rules.CourseFields:
    return rules.CourseFields(
        code=fields.code.strip().upper(),
        title=fields.title.strip(),
        topic_area=fields.topic_area.strip(),
        description=fields.description.strip(),
    )


def _code_free(code: str) -> None:
    if db.session.scalar(select(Course.id).where(Course.code == code)) is not None:
        raise Conflict(problems=[Problem(f"A course with the code {code} exists already.", "code")])


def _flush_or_conflict(problem: Problem) -> None:
    """Flush; a unique key taken by another request meanwhile is the same 409 as one seen."""
    try:
        with db.session.begin_nested():
            db.session.flush()
    except IntegrityError as error:
        raise Conflict(problems=[problem]) from error


# --- modules ------------------------------------------------------------------------------


def add_module(
    actor: User | None,
    course_id: int,
    fields: rules.ModuleFields,
    now: datetime,
    *,
    lesson_markdown: str = "",
) -> Module:
    """A new module at the end of a course, with its first draft; students see it once it is
    published. Its code must be new to the school (requirement trees name modules by code)."""
    _check(actor)
    course = get_course(course_id)
    fields = _tidy_module(fields)
    problems = rules.module_problems(fields) + rules.lesson_problems(lesson_markdown)
    _refuse(problems)
    _module_code_free(fields.code)
    position = (
        db.session.scalar(select(func.max(Module.position)).where(Module.course_id == course.id))
        or 0
    ) + 1
    module = Module(
        course_id=course.id,
        code=fields.code,
        position=position,
        title=fields.title,
        estimated_minutes=fields.estimated_minutes,
    )
    db.session.add(module)
    _flush_or_conflict(_code_taken(fields.code))
    db.session.add(
        ModuleDraft(
            module_id=module.id,
            title=fields.title,
            estimated_minutes=fields.estimated_minutes,
            lesson_markdown=lesson_markdown,
            revision=1,
            updated_at=now,
            updated_by_id=actor.id if actor else None,
        )
    )
    db.session.flush()
    record_event(
        "module.created",
        actor=actor,
        now=now,
        target_type="module",
        target_id=module.id,
        details={"code": module.code, "course_id": course.id, "title": module.title},
    )
    return module


def _tidy_module(fields: rules.ModuleFields) -> rules.ModuleFields:
    return rules.ModuleFields(
        code=fields.code.strip().upper(),
        title=fields.title.strip(),
        estimated_minutes=fields.estimated_minutes,
    )


def _code_taken(code: str) -> Problem:
    owner = db.session.execute(
        select(Module.title, Course.code)
        .join(Course, Course.id == Module.course_id)
        .where(Module.code == code)
    ).first()
    if owner is None:
        return Problem(f"The module code {code} is in use already.", "code")
    return Problem(
        f"The module code {code} is in use already, by {owner[0]} in {owner[1]}: module codes "
        "are unique in the school, since credentials name modules by code.",
        "code",
    )


def _module_code_free(code: str) -> None:
    if db.session.scalar(select(Module.id).where(Module.code == code)) is not None:
        raise Conflict(problems=[_code_taken(code)])


def get_module(module_id: int) -> Module:
    """A module (archived or never published too), or ``NotFound``."""
    module = db.session.get(Module, module_id)
    if module is None:
        raise NotFound("There is no such module.")
    return module


def draft_of(module: Module) -> Draft:
    """The module's draft, or its published version when nobody has saved a draft."""
    row = db.session.get(ModuleDraft, module.id)
    if row is not None:
        return Draft(
            row.title,
            row.estimated_minutes,
            row.lesson_markdown,
            row.revision,
            row.updated_at,
            row.updated_by_id,
        )
    lesson = db.session.scalar(select(Lesson.body_markdown).where(Lesson.module_id == module.id))
    return Draft(module.title, module.estimated_minutes, lesson or "", 0, None, None)


def save_draft(
    actor: User | None,
    module_id: int,
    *,
    title: str,
    estimated_minutes: int | None,
    lesson_markdown: str,
    revision: int,
    now: datetime,
    code: str | None = None,
) -> Draft:
    """Save the module's draft, which the author opened at ``revision``. Another author's save
    since then is a ``Conflict`` (409) and nothing is written, so no one's work is overwritten.
    ``code`` changes the module's code, allowed only while it was never published."""
    _check(actor)
    module = get_module(module_id)
    fields = _tidy_module(rules.ModuleFields(code or module.code, title, estimated_minutes))
    problems = rules.module_problems(fields) + rules.lesson_problems(lesson_markdown)
    if fields.code != module.code and module.published_version is not None:
        problems.append(
            Problem(
                "A published module keeps its code: credentials and transcripts name it.", "code"
            )
        )
    _refuse(problems)
    if fields.code != module.code:
        _module_code_free(fields.code)
        module.code = fields.code
        _flush_or_conflict(_code_taken(fields.code))
    values = {
        "title": fields.title,
        "estimated_minutes": fields.estimated_minutes,
        "lesson_markdown": lesson_markdown,
        "updated_at": now,
        "updated_by_id": actor.id if actor else None,
    }
    if revision == 0:
        # Nobody saved a draft yet: the first save makes it; a second first save collides
        # on the module's key and is told what happened, as below.
        db.session.add(ModuleDraft(module_id=module.id, revision=1, **values))
        try:
            with db.session.begin_nested():
                db.session.flush()
        except IntegrityError as error:
            raise _changed_meanwhile() from error
    else:
        saved = db.session.execute(
            update(ModuleDraft)
            .where(ModuleDraft.module_id == module.id, ModuleDraft.revision == revision)
            .values(revision=ModuleDraft.revision + 1, **values)
            .execution_options(synchronize_session=False)
        )
        if saved.rowcount != 1:
            raise _changed_meanwhile()
    db.session.expire_all()
    draft = draft_of(module)
    record_event(
        "module.draft_saved",
        actor=actor,
        now=now,
        target_type="module",
        target_id=module.id,
        details={"revision": draft.revision, "characters": len(lesson_markdown)},
    )
    return draft


def _changed_meanwhile() -> Conflict:
    return Conflict(
        problems=[
            Problem(
                "The draft changed since you opened it: another author saved it. Your text is "
                "still in the form below; open the draft again in another tab, merge your "
                "changes into it, and save.",
                "lesson_markdown",
            )
        ]
    )


def versions_of(module: Module) -> list[ModuleVersion]:
    """Every published version of the module, newest first."""
    return list(
        db.session.scalars(
            select(ModuleVersion)
            .where(ModuleVersion.module_id == module.id)
            .order_by(ModuleVersion.number.desc())
        )
    )


def version_of(module: Module, number: int) -> ModuleVersion:
    """One published version of the module, or ``NotFound``."""
    version = db.session.scalar(
        select(ModuleVersion).where(
            ModuleVersion.module_id == module.id, ModuleVersion.number == number
        )
    )
    if version is None:
        raise NotFound("The module has no such version.")
    return version


def publication_problems(module: Module, draft: Draft) -> list[Problem]:
    """What keeps the draft from being published: its fields, its lesson (alt text included),
    the media it names."""
    fields = rules.ModuleFields(module.code, draft.title, draft.estimated_minutes)
    course = db.session.get(Course, module.course_id)
    return (
        rules.module_problems(fields)
        + rules.lesson_problems(draft.lesson_markdown, publishing=True)
        + markdown_media_problems(
            course, draft.lesson_markdown, field="lesson_markdown", alt_text=False
        )
    )


def publish(
    actor: User | None, module_id: int, note: str, now: datetime, *, revision: int | None = None
) -> ModuleVersion:
    """Make the module's draft its next version, the one students see. ``revision`` is the
    draft the author looked at: a newer save is a ``Conflict``, so nobody publishes text they
    have not read. A draft equal to the version students see has nothing to publish."""
    _check(actor)
    module = get_module(module_id)
    draft = draft_of(module)
    if revision is not None and revision != draft.revision:
        raise _changed_meanwhile()
    current = version_of(module, module.published_version) if module.published_version else None
    problems = rules.note_problems(note) + publication_problems(module, draft)
    if current is not None and not draft.differs_from(current):
        problems.append(
            Problem(f"The draft is version {current.number} as published: change it first.", "note")
        )
    _refuse(problems)
    return _publish(actor, module, draft, note.strip(), now)


def _publish(
    actor: User | None, module: Module, draft: Draft, note: str, now: datetime
) -> ModuleVersion:
    number = (
        db.session.scalar(
            select(func.max(ModuleVersion.number)).where(ModuleVersion.module_id == module.id)
        )
        or 0
    ) + 1
    version = ModuleVersion(
        module_id=module.id,
        number=number,
        title=draft.title,
        estimated_minutes=draft.estimated_minutes,
        lesson_markdown=draft.lesson_markdown,
        note=note,
        published_at=now,
        published_by_id=actor.id if actor else None,
    )
    db.session.add(version)
    module.title = draft.title
    module.estimated_minutes = draft.estimated_minutes
    module.published_version = number
    lesson = db.session.scalar(select(Lesson).where(Lesson.module_id == module.id))
    if not draft.lesson_markdown.strip():  # a module may be a quiz alone
        if lesson is not None:
            db.session.delete(lesson)
    elif lesson is None:
        db.session.add(
            Lesson(module_id=module.id, title=draft.title, body_markdown=draft.lesson_markdown)
        )
    else:
        lesson.title = draft.title
        lesson.body_markdown = draft.lesson_markdown
    # Two authors publishing at once both ask for the same number: the second is refused.
    _flush_or_conflict(
        Problem("Another author published this module a moment ago: reload the page.", "note")
    )
    record_event(
        "module.published",
        actor=actor,
        now=now,
        target_type="module",
        target_id=module.id,
        details={"version": number, "note": note, "title": draft.title},
    )
    return version


def restore(
    actor: User | None, module_id: int, number: int, now: datetime, *, discard_draft: bool = False
) -> ModuleVersion:
    """Publish an earlier version again, as the next version (history is never rewritten); the
    draft becomes that text. A draft with unpublished changes is kept unless the author says
    to discard it (409 otherwise)."""
    _check(actor)
    module = get_module(module_id)
    old = version_of(module, number)
    draft = draft_of(module)
    current = version_of(module, module.published_version) if module.published_version else None
    if draft.differs_from(current) and not discard_draft:
        raise Conflict(
            problems=[
                Problem(
                    "The draft holds changes that are not published. Publish or discard them "
                    "first (tick 'Discard the draft's changes' to restore anyway).",
                    "discard_draft",
                )
            ]
        )
    if current is not None and current.number == old.number:
        raise Conflict(f"Version {number} is the version students see already.")
    restored = Draft(old.title, old.estimated_minutes, old.lesson_markdown, 0, now, None)
    db.session.merge(
        ModuleDraft(
            module_id=module.id,
            title=old.title,
            estimated_minutes=old.estimated_minutes,
            lesson_markdown=old.lesson_markdown,
            revision=draft.revision + 1,
            updated_at=now,
            updated_by_id=actor.id if actor else None,
        )
    )
    db.session.flush()
    _refuse(publication_problems(module, restored))
    return _publish(actor, module, restored, f"Restored version {number}.", now)


def move_module(actor: User | None, module_id: int, step: int, now: datetime) -> Module:
    """Move a module one place up (``step`` -1) or down (+1) in its course."""
    _check(actor)
    if step not in (-1, 1):
        raise InvalidInput("A module moves one place up or down.")
    module = get_module(module_id)
    neighbour = db.session.scalar(
        select(Module)
        .where(
            Module.course_id == module.course_id,
            Module.position < module.position if step < 0 else Module.position > module.position,
        )
        .order_by(Module.position.desc() if step < 0 else Module.position)
        .limit(1)
    )
    if neighbour is None:
        raise InvalidInput(
            f"{module.title} is the {'first' if step < 0 else 'last'} module already."
        )
    here, there = module.position, neighbour.position
    # (course, position) is unique: park one row outside the order while they swap.
    module.position = -here
    db.session.flush()
    neighbour.position = here
    db.session.flush()
    module.position = there
    db.session.flush()
    record_event(
        "module.moved",
        actor=actor,
        now=now,
        target_type="module",
        target_id=module.id,
        details={"from": here, "to": there},
    )
    return module


def dependents(module: Module) -> list[Dependent]:
    """What relies on the module: credentials whose requirements name it, and their cohorts."""
    found: list[Dependent] = []
    for _receiver, answer in asking_dependents.send(module):
        found += answer or []
    return found


def completions_of(module: Module) -> int:
    """How many completions of the module the ledger holds."""
    return db.session.scalar(
        select(func.count()).select_from(LedgerEntry).where(LedgerEntry.module_id == module.id)
    )


def archive_module(actor: User | None, module_id: int, archived: bool, now: datetime) -> Module:
    """Archive a module (students no longer see it; its completions stay) or bring it back."""
    _check(actor)
    module = get_module(module_id)
    _set_archived(actor, module, "module", archived, now)
    return module


def delete_module(actor: User | None, module_id: int, now: datetime) -> str:
    """Delete a module nobody has completed or attempted, with its lesson, quiz, draft and
    versions; a module with completions or attempts is refused (409: archive it instead).
    Returns the deleted module's code."""
    _check(actor)
    module = get_module(module_id)
    quiz_ids = list(db.session.scalars(select(Quiz.id).where(Quiz.module_id == module.id)))
    attempts = (
        db.session.scalar(
            select(func.count()).select_from(Attempt).where(Attempt.quiz_id.in_(quiz_ids))
        )
        if quiz_ids
        else 0
    )
    studied = db.session.scalar(
        select(func.count()).select_from(TimeOnTask).where(TimeOnTask.module_id == module.id)
    )
    done = completions_of(module)
    if done or attempts or studied:
        raise Conflict(
            f"{module.title} has {done} completion(s), {attempts} quiz attempt(s) and "
            f"{studied} student(s)' study time on record: a module with a history is "
            "archived, not deleted."
        )
    code, title = module.code, module.title
    try:
        with db.session.begin_nested():
            if quiz_ids:
                db.session.execute(delete(QuizItem).where(QuizItem.quiz_id.in_(quiz_ids)))
                db.session.execute(delete(Quiz).where(Quiz.id.in_(quiz_ids)))
            db.session.execute(delete(Lesson).where(Lesson.module_id == module.id))
            db.session.execute(delete(ModuleDraft).where(ModuleDraft.module_id == module.id))
            db.session.execute(delete(ModuleVersion).where(ModuleVersion.module_id == module.id))
            db.session.execute(delete(Module).where(Module.id == module.id))
    except IntegrityError as error:  # e.g. a link placed in a platform's course opens it
        raise Conflict(
            f"Something else still opens {title} (a link placed in a platform's course): "
            "archive the module instead."
        ) from error
    db.session.expunge(module)
    record_event(
        "module.deleted",
        actor=actor,
        now=now,
        target_type="module",
        target_id=module_id,
        details={"code": code, "title": title},
    )
    return code


def set_passing_score(actor: User | None, module_id: int, score: int, now: datetime) -> None:
    """Change the passing score of the module's quiz (audited with what it was); a module
    without a quiz has none to change."""
    _check(actor)
    quiz = db.session.scalar(select(Quiz).where(Quiz.module_id == module_id))
    if quiz is None:
        raise InvalidInput("The module has no quiz: build one first.", field="passing_score")
    if not 0 <= score <= 100:
        raise InvalidInput("Give a passing score from 0 to 100.", field="passing_score")
    if quiz.passing_score != score:
        record_event(
            "quiz.settings_changed",
            actor=actor,
            now=now,
            target_type="quiz",
            target_id=quiz.id,
            details={"passing_score": {"from": quiz.passing_score, "to": score}},
        )
        quiz.passing_score = score
        db.session.flush()


def names_of(user_ids) -> dict[int, str]:
    """The full names of the users with these ids (who published a version)."""
    ids = {user_id for user_id in user_ids if user_id is not None}
    if not ids:
        return {}
    return dict(db.session.execute(select(User.id, User.full_name).where(User.id.in_(ids))).all())
