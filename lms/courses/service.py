"""Use cases for course content and quiz attempts."""

from __future__ import annotations

import json
import random
import secrets
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime

from sqlalchemy import Float, case, cast, func, insert, inspect, select, update
from sqlalchemy.orm import joinedload, selectinload
from sqlalchemy.orm.attributes import set_committed_value
from sqlalchemy.orm.util import identity_key

from lms.auth.models import User
from lms.courses import rules
from lms.courses.models import (
    Attempt,
    AttemptAnswer,
    AttemptQuestion,
    AttemptStatus,
    Choice,
    Course,
    Lesson,
    Module,
    Question,
    QuestionBank,
    QuestionKind,
    Quiz,
    QuizItem,
    ReviewPolicy,
    TimeOnTask,
)
from lms.db import among, utc_text
from lms.errors import Conflict, InvalidInput, NotFound, PermissionDenied
from lms.extensions import db
from lms.ledger import service as ledger
from lms.ledger.audit import record_event
from lms.ledger.models import LedgerKind


def list_courses() -> list[Course]:
    """Every course with its modules, in two queries."""
    return list(
        db.session.scalars(
            select(Course).options(selectinload(Course.modules)).order_by(Course.title)
        )
    )


def get_module(module_id: int, questions: bool = True) -> Module:
    """A module with its course, lesson and quiz, or ``NotFound``; the quiz's questions and
    their choices too unless ``questions`` is false (the module page only counts them)."""
    items = selectinload(Module.quiz).selectinload(Quiz.items)
    if questions:
        items = items.selectinload(QuizItem.question).selectinload(Question.choices)
    module = db.session.scalar(
        select(Module)
        .where(Module.id == module_id)
        .options(
            selectinload(Module.course).selectinload(Course.modules),
            selectinload(Module.lesson),
            items,
        )
    )
    if module is None:
        raise NotFound("There is no such module.")
    return module


def modules_by_code(codes: Iterable[str]) -> dict[str, Module]:
    """The modules with the given codes, keyed by code, in one query."""
    codes = list(codes)
    if not codes:
        return {}
    modules = db.session.scalars(select(Module).where(Module.code.in_(codes)))
    return {module.code: module for module in modules}


def answer_keys(quiz: Quiz) -> list[rules.QuestionKey]:
    """The grader's view of a loaded quiz."""
    return [
        rules.QuestionKey(
            question_id=item.question.id,
            choice_ids=frozenset(choice.id for choice in item.question.choices),
            correct_ids=frozenset(c.id for c in item.question.choices if c.is_correct),
        )
        for item in quiz.items
    ]


def submit_quiz(
    student: User, module_id: int, answers: Mapping[int, frozenset[int]], now: datetime
) -> Attempt:
    """Grade a student's answers to a module's quiz in one go (start, answer, submit); a pass
    is recorded in the ledger."""
    attempt = start_attempt(student, module_id, now)
    return submit_attempt(student, attempt.id, answers, now)


# --- attempts: start, autosave, submit, deadline ------------------------------------------


def _quiz_of(module: Module) -> Quiz:
    if module.quiz is None:
        raise NotFound("This module has no quiz.")
    return module.quiz


def _pool(quiz: Quiz) -> list[rules.PoolQuestion]:
    questions = db.session.scalars(
        select(Question).where(Question.bank_id == quiz.bank_id, Question.retired_at.is_(None))
    )
    return [rules.PoolQuestion(q.id, frozenset(question_labels(q))) for q in questions]


def question_labels(question: Question) -> list[str]:
    """The content area and every tag of a question: what a blueprint row can ask for."""
    labels = [t.strip() for t in question.tags.split(",") if t.strip()]
    if question.content_area:
        labels.insert(0, question.content_area)
    return labels


def blueprint_rows(quiz: Quiz) -> list[rules.BlueprintRow]:
    """The quiz's blueprint, empty for a fixed list."""
    return rules.parse_blueprint(json.loads(quiz.blueprint)) if quiz.blueprint else []


def start_attempt(
    student: User, module_id: int, now: datetime, rng: random.Random | None = None
) -> Attempt:
    """Start (or resume) the student's attempt at a module's quiz: draw the questions, fix the
    order of their choices, and set the deadline of a timed quiz."""
    if not student.is_student:
        raise PermissionDenied("Only students take quizzes.")
    module = get_module(module_id, questions=False)  # the drawn questions are loaded below
    quiz = _quiz_of(module)
    ensure_module_open(student, module)
    attempts = _attempts_of(student.id, quiz.id, now)
    open_attempt = next((a for a in attempts if a.status is AttemptStatus.IN_PROGRESS), None)
    if open_attempt is not None:
        return open_attempt
    if quiz.max_attempts is not None and len(attempts) >= quiz.max_attempts:
        raise Conflict(f"You have used all {quiz.max_attempts} attempts allowed at this quiz.")
    rng = rng or random.Random(secrets.randbits(64))  # noqa: S311 - shuffling, not secrets
    rows = blueprint_rows(quiz)
    if rows:
        try:
            question_ids = rules.draw_questions(rows, _pool(quiz), rng)
        except rules.DrawError as error:
            raise Conflict(
                "This quiz cannot be drawn from its bank: " + "; ".join(error.problems) + "."
            ) from error
    else:
        question_ids = [item.question_id for item in quiz.items]
    if not question_ids:
        raise Conflict("This quiz has no questions yet. Ask your instructor.")
    questions = {
        q.id: q
        for q in db.session.scalars(
            select(Question)
            .where(Question.id.in_(question_ids))
            .options(selectinload(Question.choices))
        )
    }
    attempt = Attempt(
        quiz_id=quiz.id,
        student_id=student.id,
        status=AttemptStatus.IN_PROGRESS,
        started_at=now,
        deadline_at=rules.deadline_for(now, quiz.time_limit_minutes),
    )
    db.session.add(attempt)
    db.session.flush()
    rows = []
    for position, question_id in enumerate(question_ids, start=1):
        question = questions[question_id]
        order = rules.shuffle_choices(
            [c.id for c in question.choices], rng, question.kind is QuestionKind.TRUE_FALSE
        )
        rows.append(
            {
                "attempt_id": attempt.id,
                "question_id": question_id,
                "position": position,
                "choice_order": ",".join(str(c) for c in order),
            }
        )
    # One statement for every question (the ORM sent one INSERT ... RETURNING per row, all
    # inside the write lock on SQLite); the attempt reads them back when it needs them.
    db.session.execute(insert(AttemptQuestion), rows)
    db.session.expire(attempt, ["questions"])
    return attempt


def _attempts_of(student_id: int, quiz_id: int, now: datetime) -> list[Attempt]:
    attempts = list(
        db.session.scalars(
            select(Attempt)
            .where(Attempt.student_id == student_id, Attempt.quiz_id == quiz_id)
            .order_by(Attempt.started_at, Attempt.id)
        )
    )
    for attempt in attempts:
        close_if_overdue(attempt, now)
    return attempts


def list_attempts(student: User, module: Module, now: datetime) -> list[Attempt]:
    """The student's attempts at a module's quiz, oldest first; an attempt whose deadline has
    passed is graded at its deadline first."""
    if module.quiz is None or not student.is_student:
        return []
    return _attempts_of(student.id, module.quiz.id, now)


def close_overdue_attempts(student: User, module_id: int, now: datetime) -> bool:
    """Grade, at their deadline, the student's attempts at this module whose time is up;
    True when one was graded (the caller commits before reading the module again)."""
    if not student.is_student:
        return False
    overdue = db.session.scalars(
        select(Attempt)
        .join(Quiz, Quiz.id == Attempt.quiz_id)
        .where(
            Quiz.module_id == module_id,
            Attempt.student_id == student.id,
            Attempt.status == AttemptStatus.IN_PROGRESS,
            Attempt.deadline_at <= now,
        )
    ).all()
    return any([close_if_overdue(attempt, now) for attempt in overdue])


def _load_attempt(attempt_id: int) -> Attempt | None:
    known = db.session.identity_map.get(identity_key(Attempt, attempt_id))
    if known is not None and _loaded_whole(known):
        # Already loaded whole in this request (the submit view reads it first): loading it
        # again sent the same queries a second time, inside the write transaction.
        return known
    # Four queries: the attempt with its quiz, module and course joined in; its answers; its
    # questions joined to their rows; their choices. (Seven with a query per relation: the
    # player and every save and submission load an attempt, and the ORM's cost per query
    # made this a fifth of the app's CPU under load.)
    return db.session.scalar(
        select(Attempt)
        .where(Attempt.id == attempt_id)
        .options(
            selectinload(Attempt.answers),
            joinedload(Attempt.quiz).joinedload(Quiz.module).joinedload(Module.course),
            selectinload(Attempt.questions)
            .joinedload(AttemptQuestion.question)
            .selectinload(Question.choices),
        )
    )


def _loaded_whole(attempt: Attempt) -> bool:
    """True when everything ``_load_attempt`` loads is loaded (many of these relations refuse
    to load lazily)."""
    if inspect(attempt).unloaded & {"answers", "questions", "quiz"}:
        return False
    quiz = attempt.quiz
    if "module" in inspect(quiz).unloaded or "course" in inspect(quiz.module).unloaded:
        return False
    return all(
        "question" not in inspect(item).unloaded
        and "choices" not in inspect(item.question).unloaded
        for item in attempt.questions
    )


def get_attempt_for(actor: User, attempt_id: int, now: datetime | None = None) -> Attempt:
    """An attempt its student (or an admin) may see; ``NotFound`` for anyone else. With
    ``now``, an overdue attempt is graded at its deadline first."""
    attempt = _load_attempt(attempt_id)
    if attempt is None or not (actor.is_admin or attempt.student_id == actor.id):
        raise NotFound("There is no such attempt.")
    if now is not None:
        close_if_overdue(attempt, now)
    return attempt


def _own_attempt(student: User, attempt_id: int) -> Attempt:
    attempt = _load_attempt(attempt_id)
    if attempt is None or attempt.student_id != student.id:
        raise NotFound("There is no such attempt.")
    return attempt


def _keys(attempt: Attempt) -> list[rules.QuestionKey]:
    return [
        rules.QuestionKey(
            question_id=item.question_id,
            choice_ids=frozenset(c.id for c in item.question.choices),
            correct_ids=frozenset(c.id for c in item.question.choices if c.is_correct),
        )
        for item in attempt.questions
    ]


def _check(attempt: Attempt, answers: Mapping[int, frozenset[int]]) -> None:
    try:
        rules.check_answers(_keys(attempt), answers)
    except rules.AnswerError as error:
        raise InvalidInput(
            "These answers do not belong to this quiz: " + "; ".join(error.problems) + "."
        ) from error
    kinds = {item.question_id: item.question.kind for item in attempt.questions}
    several = [
        q
        for q, chosen in answers.items()
        if len(chosen) > 1 and kinds[q] is not QuestionKind.MULTIPLE
    ]
    if several:
        raise InvalidInput("Pick only one answer for a single-answer question.")


def _store_answers(attempt: Attempt, answers: Mapping[int, frozenset[int]], now: datetime) -> None:
    existing = {answer.question_id: answer for answer in attempt.answers}
    new_rows = []
    for question_id, chosen in answers.items():
        choice_ids = ",".join(str(c) for c in sorted(chosen))
        choice_id = min(chosen) if chosen else None
        row = existing.get(question_id)
        if row is None:
            new_rows.append(
                {
                    "attempt_id": attempt.id,
                    "question_id": question_id,
                    "choice_ids": choice_ids,
                    "choice_id": choice_id,
                    "is_correct": False,
                    "answered_at": now,
                }
            )
        else:
            row.choice_ids, row.choice_id, row.answered_at = choice_ids, choice_id, now
    if new_rows:
        # One statement for all the new answers, not one INSERT per answer (a 100-question
        # practice exam's first autosave sent 100), then the attempt's answers read back in
        # one query, for the grading that may follow in this request.
        db.session.flush()  # the changed answers first, so the read sees them
        db.session.execute(insert(AttemptAnswer), new_rows)
        stored = db.session.scalars(
            select(AttemptAnswer).where(AttemptAnswer.attempt_id == attempt.id)
        ).all()
        set_committed_value(attempt, "answers", list(stored))


def save_answers(
    student: User, attempt_id: int, answers: Mapping[int, frozenset[int]], now: datetime
) -> Attempt:
    """Autosave answers of an attempt in progress. After the deadline or the submission the
    attempt is closed: ``attempt.status`` tells the caller, who refuses with 409 after
    committing the grading done here."""
    attempt = _own_attempt(student, attempt_id)
    if close_if_overdue(attempt, now) or not _lock_if_open(attempt):
        return attempt
    _check(attempt, answers)
    _store_answers(attempt, answers, now)
    db.session.flush()
    return attempt


def submit_attempt(
    student: User, attempt_id: int, answers: Mapping[int, frozenset[int]], now: datetime
) -> Attempt:
    """Save the last answers and grade the attempt. Submitting again returns the graded
    attempt unchanged; after the deadline the attempt is graded at its deadline with the
    answers saved before it (the late answers are not taken)."""
    attempt = _own_attempt(student, attempt_id)
    if close_if_overdue(attempt, now) or not _lock_if_open(attempt):
        return attempt
    _check(attempt, answers)
    _store_answers(attempt, answers, now)
    _grade(attempt, now, by_deadline=False)
    return attempt


def _lock_if_open(attempt: Attempt) -> bool:
    """Lock the attempt's row if it is still in progress, before writing anything to it.

    A conditional UPDATE is the first write of every change to an attempt: a concurrent
    request (a double click, an autosave racing the submit) waits for it on PostgreSQL and
    then finds the attempt closed, so answers are never written into a graded attempt."""
    if attempt.status is not AttemptStatus.IN_PROGRESS:
        return False
    locked = db.session.execute(
        update(Attempt)
        .where(Attempt.id == attempt.id, Attempt.status == AttemptStatus.IN_PROGRESS)
        .values(status=AttemptStatus.IN_PROGRESS)
        .execution_options(synchronize_session=False)
    )
    if locked.rowcount != 1:
        db.session.refresh(attempt)
        return False
    return True


def close_if_overdue(attempt: Attempt, now: datetime) -> bool:
    """Grade an attempt whose deadline has passed, as of its deadline; True if it did."""
    if attempt.status is AttemptStatus.IN_PROGRESS and rules.is_overdue(attempt.deadline_at, now):
        attempt = _load_attempt(attempt.id)  # a bare row from a listing: load it whole
        _grade(attempt, attempt.deadline_at, by_deadline=True)
        return True
    return False


def _grade(attempt: Attempt, finished_at: datetime, by_deadline: bool) -> None:
    # Claim the attempt with a conditional UPDATE: of two concurrent submissions (a double
    # click) only one changes the row, so the attempt is graded once.
    claimed = db.session.execute(
        update(Attempt)
        .where(Attempt.id == attempt.id, Attempt.status == AttemptStatus.IN_PROGRESS)
        .values(status=AttemptStatus.SUBMITTED, submitted_at=finished_at)
        .execution_options(synchronize_session=False)
    )
    if claimed.rowcount != 1:
        db.session.refresh(attempt)
        return
    attempt.status = AttemptStatus.SUBMITTED
    attempt.submitted_at = finished_at
    chosen = {
        a.question_id: frozenset(int(c) for c in a.choice_ids.split(",") if c)
        for a in attempt.answers
    }
    result = rules.grade(_keys(attempt), chosen, attempt.quiz.passing_score)
    existing = {a.question_id: a for a in attempt.answers}
    for item in result.results:
        row = existing.get(item.question_id)
        if row is None:
            row = AttemptAnswer(
                attempt_id=attempt.id, question_id=item.question_id, choice_ids="", is_correct=False
            )
            db.session.add(row)
            attempt.answers.append(row)
        row.is_correct = item.is_correct
    attempt.score = result.score
    attempt.passed = result.passed
    attempt.closed_by_deadline = by_deadline
    db.session.flush()
    student = db.session.get(User, attempt.student_id)
    record_event(
        "attempt.graded",
        actor=student,
        now=finished_at,
        target_type="attempt",
        target_id=attempt.id,
        details={"score": result.score, "passed": result.passed, "by_deadline": by_deadline},
    )
    if result.passed:
        ledger.append_entry(
            student=student,
            kind=LedgerKind.MODULE_COMPLETED,
            module_id=attempt.quiz.module_id,
            score=result.score,
            source="quiz",
            source_ref=f"attempt:{attempt.id}",
            actor=student,
            now=finished_at,
        )
    db.session.flush()


def question_count(quiz: Quiz) -> int:
    """How many questions an attempt at the quiz has (fixed list or blueprint total)."""
    rows = blueprint_rows(quiz)
    return sum(row.count for row in rows) if rows else len(quiz.items)


# --- sequential gating --------------------------------------------------------------------


def locked_by(student: User, module: Module) -> Module | None:
    """The earlier module a student must complete before this one opens, or ``None``.

    Only in a course an instructor made sequential; staff are never locked out."""
    if not student.is_student or not module.course.sequential:
        return None
    modules = module.course.modules
    index = modules.index(module)
    if index == 0:
        return None
    previous = modules[index - 1]
    done = ledger.best_completions([student.id], [previous.id])
    return None if done else previous


def ensure_module_open(student: User, module: Module) -> None:
    """Refuse (409) a module of a sequential course whose previous module is not complete."""
    previous = locked_by(student, module)
    if previous is not None:
        raise Conflict(f"This module opens when you have completed {previous.title}.")


def set_sequential(actor: User, course_id: int, sequential: bool, now: datetime) -> Course:
    """Turn sequential gating of a course on or off (instructors and admins)."""
    if not (actor.is_instructor or actor.is_admin):
        raise PermissionDenied("Only instructors and admins change a course.")
    course = db.session.get(Course, course_id)
    if course is None:
        raise NotFound("There is no such course.")
    if course.sequential != sequential:
        course.sequential = sequential
        record_event(
            "course.sequential_changed",
            actor=actor,
            now=now,
            target_type="course",
            target_id=course.id,
            details={"sequential": sequential},
        )
    db.session.flush()
    return course


# --- contact hours -----------------------------------------------------------------------


def record_heartbeat(student: User, module_id: int, now: datetime) -> int:
    """Credit time on task for a student reading a module; returns the module's seconds."""
    if not student.is_student:
        raise PermissionDenied("Only students' time is counted.")
    module = db.session.get(Module, module_id)
    if module is None:
        raise NotFound("There is no such module.")
    row = db.session.scalar(
        select(TimeOnTask).where(
            TimeOnTask.student_id == student.id, TimeOnTask.module_id == module_id
        )
    )
    if row is None:
        row = TimeOnTask(
            student_id=student.id,
            module_id=module_id,
            course_id=module.course_id,
            seconds=0,
            last_beat_at=now,
        )
        db.session.add(row)
    else:
        row.seconds += rules.heartbeat_credit(row.last_beat_at, now)
        row.last_beat_at = max(row.last_beat_at, now)
    db.session.flush()
    return row.seconds


def contact_hours_by_student(
    student_ids: Iterable[int], course_ids: Iterable[int] | None = None
) -> dict[int, float]:
    """Hours of measured time on task per student (in the given courses), in one query;
    every student asked for is in the result (0.0 when nothing was measured)."""
    student_ids = list(student_ids)
    result = {sid: 0.0 for sid in student_ids}
    if not student_ids:
        return result
    query = (
        select(TimeOnTask.student_id, func.sum(TimeOnTask.seconds))
        .where(among(TimeOnTask.student_id, student_ids))
        .group_by(TimeOnTask.student_id)
    )
    if course_ids is not None:
        query = query.where(TimeOnTask.course_id.in_(list(course_ids)))
    for student_id, seconds in db.session.execute(query):
        result[student_id] = round((seconds or 0) / 3600, 2)
    return result


def contact_hours_facts(
    student_ids: Iterable[int], courses: Iterable[str] | None = None
) -> dict[int, dict[str | None, float]]:
    """Per student: hours in every course (key ``None``) and per course code, in one query;
    the readiness engine's ``contact_hours`` fact. ``courses`` limits the per-course figures
    to those codes (none: only the total, a lighter query); ``None`` gives every course."""
    student_ids = list(student_ids)
    facts: dict[int, dict[str | None, float]] = {sid: {None: 0.0} for sid in student_ids}
    if not student_ids:
        return facts
    wanted = None if courses is None else set(courses)
    if wanted is not None and not wanted:
        rows = db.session.execute(
            select(TimeOnTask.student_id, func.sum(TimeOnTask.seconds))
            .where(among(TimeOnTask.student_id, student_ids))
            .group_by(TimeOnTask.student_id)
        )
        for student_id, seconds in rows:
            facts[student_id][None] = round((seconds or 0) / 3600, 2)
        return facts
    rows = db.session.execute(
        select(TimeOnTask.student_id, Course.code, func.sum(TimeOnTask.seconds))
        .join(Course, Course.id == TimeOnTask.course_id)
        .where(among(TimeOnTask.student_id, student_ids))
        .group_by(TimeOnTask.student_id, Course.code)
    )
    totals = dict.fromkeys(student_ids, 0)
    for student_id, code, seconds in rows:
        if wanted is None or code in wanted:
            facts[student_id][code] = round((seconds or 0) / 3600, 2)
        totals[student_id] += seconds or 0
    for student_id, seconds in totals.items():
        facts[student_id][None] = round(seconds / 3600, 2)
    return facts


def contact_hours_by_course(student_id: int) -> dict[int, float]:
    """A student's hours of time on task per course id, in one query."""
    rows = db.session.execute(
        select(TimeOnTask.course_id, func.sum(TimeOnTask.seconds))
        .where(TimeOnTask.student_id == student_id)
        .group_by(TimeOnTask.course_id)
    )
    return {course_id: round((seconds or 0) / 3600, 2) for course_id, seconds in rows}


def best_attempt_scores(
    student_ids: Iterable[int], module_ids: Iterable[int]
) -> list[tuple[int, int, float]]:
    """(student, module, best score) for every submitted attempt, in one query."""
    student_ids, module_ids = list(student_ids), list(module_ids)
    if not student_ids or not module_ids:
        return []
    rows = db.session.execute(
        select(Attempt.student_id, Quiz.module_id, func.max(Attempt.score))
        .join(Quiz, Quiz.id == Attempt.quiz_id)
        .where(
            Attempt.status == AttemptStatus.SUBMITTED,
            Attempt.student_id.in_(student_ids),
            Quiz.module_id.in_(module_ids),
        )
        .group_by(Attempt.student_id, Quiz.module_id)
    )
    return [(student_id, module_id, float(score)) for student_id, module_id, score in rows]


def create_course(data: Mapping) -> Course:
    """Create a course with its modules, lessons, question bank and quizzes from plain data
    (the shape of the demo content files). A module's quiz is its fixed list of questions, or
    a ``blueprint`` drawn from the course's bank (which also takes the course's ``bank``
    questions); ``time_limit_minutes``, ``max_attempts``, ``review_policy`` are optional."""
    course = Course(
        code=data["code"],
        title=data["title"],
        topic_area=data["topic_area"],
        description=data.get("description", ""),
        sequential=bool(data.get("sequential", False)),
    )
    bank = QuestionBank(name=f"{data['code']}: {data['title']}")
    db.session.add_all([course, bank])
    db.session.flush()
    for question_data in data.get("bank", []):
        _add_question(bank, question_data)
    for position, module_data in enumerate(data["modules"], start=1):
        module = Module(
            course_id=course.id,
            code=module_data["code"],
            position=position,
            title=module_data["title"],
            estimated_minutes=module_data.get("estimated_minutes", 30),
        )
        db.session.add(module)
        db.session.flush()
        if module_data.get("lesson"):
            db.session.add(
                Lesson(
                    module_id=module.id,
                    title=module_data["title"],
                    body_markdown=module_data["lesson"],
                )
            )
        quiz = Quiz(
            module_id=module.id,
            title=module_data.get("quiz_title", f"Quiz: {module_data['title']}"),
            passing_score=module_data.get("passing_score", 70),
            bank_id=bank.id,
            blueprint=json.dumps(module_data["blueprint"]) if module_data.get("blueprint") else "",
            time_limit_minutes=module_data.get("time_limit_minutes"),
            max_attempts=module_data.get("max_attempts"),
            review_policy=ReviewPolicy(module_data.get("review_policy", "after_attempt")),
            preset=module_data.get("preset"),
        )
        db.session.add(quiz)
        db.session.flush()
        for item_position, question_data in enumerate(module_data.get("questions", []), start=1):
            question = _add_question(bank, question_data)
            db.session.add(
                QuizItem(quiz_id=quiz.id, question_id=question.id, position=item_position)
            )
    db.session.flush()
    return course


# --- read functions for the readiness engine (credentials domain) -------------------------


def attempt_scores(
    student_ids: Iterable[int], module_ids: Iterable[int]
) -> list[tuple[int, int, float, datetime]]:
    """(student, module, score, submitted at) for every scored attempt, in one query."""
    student_ids, module_ids = list(student_ids), list(module_ids)
    if not student_ids or not module_ids:
        return []
    rows = db.session.execute(
        select(Attempt.student_id, Quiz.module_id, Attempt.score, Attempt.submitted_at)
        .join(Quiz, Quiz.id == Attempt.quiz_id)
        .where(
            Attempt.status == AttemptStatus.SUBMITTED,
            Attempt.score.is_not(None),
            Attempt.submitted_at.is_not(None),
            among(Attempt.student_id, student_ids),
            Quiz.module_id.in_(module_ids),
        )
    )
    return [(sid, mid, float(score), when) for sid, mid, score, when in rows]


@dataclass(frozen=True)
class AttemptSummary:
    """Submitted quiz attempts of many students, summed up per student and module."""

    # (student id, module id, best score, failed attempts), one per pair with an attempt
    by_module: list[tuple[int, int, float | None, int]]
    last_submitted: dict[int, datetime]  # student id -> newest submission on those modules


def attempt_summary(student_ids: Iterable[int], module_ids: Iterable[int]) -> AttemptSummary:
    """Best score and failed attempts per student and module, and each student's newest
    submission, in one query: what readiness and the at-risk check need of the attempts,
    without a row per attempt."""
    student_ids, module_ids = list(student_ids), list(module_ids)
    summary = AttemptSummary([], {})
    if not student_ids or not module_ids:
        return summary
    graded = Attempt.submitted_at.is_not(None)
    # read a batch at a time (a Core result): the rows are never all held as objects at once
    rows = db.session.connection().execute(
        select(
            Attempt.student_id,
            func.min(Quiz.module_id),  # the module of the group's one quiz
            cast(func.max(case((graded, Attempt.score))), Float),
            func.sum(case((Attempt.passed.is_(False), 1), else_=0)),
            # as text that orders like the time: only each student's newest is parsed
            utc_text(func.max(Attempt.submitted_at)),
        )
        .join(Quiz, Quiz.id == Attempt.quiz_id)
        .where(
            Attempt.status == AttemptStatus.SUBMITTED,
            among(Attempt.student_id, student_ids),
            Quiz.module_id.in_(module_ids),
        )
        # by quiz (a module has one), in the order of the (student_id, quiz_id) index
        .group_by(Attempt.student_id, Attempt.quiz_id)
    )
    add = summary.by_module.append
    newest: dict[int, datetime | str] = {}
    for batch in rows.partitions(ledger.STREAM_BATCH):
        for student_id, module_id, best, failed, last in batch:
            add((student_id, module_id, best, failed))
            if last is not None and (student_id not in newest or last > newest[student_id]):
                newest[student_id] = last
    summary.last_submitted.update((sid, _as_datetime(last)) for sid, last in newest.items())
    return summary


def courses_by_code(codes: Iterable[str]) -> dict[str, Course]:
    """The courses with the given codes, keyed by code, in one query."""
    codes = list(codes)
    if not codes:
        return {}
    return {c.code: c for c in db.session.scalars(select(Course).where(Course.code.in_(codes)))}


def module_codes_of_courses(codes: Iterable[str]) -> dict[str, tuple[str, dict[int, str]]]:
    """For each course code: its title and {module id: module code}, in one query."""
    codes = list(codes)
    if not codes:
        return {}
    result: dict[str, tuple[str, dict[int, str]]] = {}
    rows = db.session.execute(
        select(Course.code, Course.title, Module.id, Module.code)
        .outerjoin(Module, Module.course_id == Course.id)
        .where(Course.code.in_(codes))
        .order_by(Course.code, Module.position)
    )
    for course_code, title, module_id, module_code in rows:
        _, members = result.setdefault(course_code, (title, {}))
        if module_id is not None:
            members[module_id] = module_code
    return result


def _add_question(bank: QuestionBank, data: Mapping) -> Question:
    correct = data["correct"]
    correct_positions = set(correct) if isinstance(correct, list) else {correct}
    kind = data.get("kind") or ("multiple" if isinstance(correct, list) else "single")
    question = Question(
        bank_id=bank.id,
        stem=data["stem"],
        rationale=data.get("rationale", ""),
        tags=", ".join(data.get("tags", [])),
        kind=QuestionKind(kind),
        content_area=data.get("content_area", ""),
        difficulty=data.get("difficulty", ""),
        code_set_year=data.get("code_set_year"),
        version=1,
    )
    db.session.add(question)
    db.session.flush()
    question.family_id = question.id
    db.session.add_all(
        Choice(
            question_id=question.id,
            position=index,
            text=text,
            is_correct=index in correct_positions,
        )
        for index, text in enumerate(data["choices"])
    )
    return question


def _as_datetime(value: datetime | str) -> datetime:
    # Aggregates bypass the column type, so SQLite hands back naive text here.
    if isinstance(value, str):
        value = datetime.fromisoformat(value)
    return value if value.tzinfo else value.replace(tzinfo=UTC)
