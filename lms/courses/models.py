"""Course content and the attempts students make at quizzes."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from sqlalchemy import JSON, ForeignKey, Index, Numeric, String, Text, UniqueConstraint, text
from sqlalchemy import false as sa_false
from sqlalchemy.orm import Mapped, mapped_column, relationship

from lms.auth.models import User
from lms.db import IdList, UTCDateTime, enum_column
from lms.extensions import db


class Course(db.Model):
    """A course of the programme, such as Medical Terminology."""

    __tablename__ = "course"

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(20), unique=True)
    title: Mapped[str] = mapped_column(String(200))
    topic_area: Mapped[str] = mapped_column(String(40))
    description: Mapped[str] = mapped_column(Text, default="")
    # When on, module N opens only once module N-1 is complete (chosen by an instructor).
    sequential: Mapped[bool] = mapped_column(default=False, server_default=sa_false())
    # An archived course is kept (its completions count) but no longer listed for students.
    archived_at: Mapped[datetime | None] = mapped_column(UTCDateTime())

    # The modules students see: published once at least and not archived, in order. Authors
    # read every module through ``all_modules`` (lms/courses/authoring).
    modules: Mapped[list[Module]] = relationship(
        primaryjoin="and_(Course.id == Module.course_id, Module.published_version.is_not(None),"
        " Module.archived_at.is_(None))",
        order_by="Module.position",
        lazy="raise",
        viewonly=True,
    )
    all_modules: Mapped[list[Module]] = relationship(
        back_populates="course", order_by="Module.position", lazy="raise"
    )


class Module(db.Model):
    """One step of a course: a lesson to read and a quiz to pass."""

    __tablename__ = "module"
    __table_args__ = (UniqueConstraint("course_id", "position"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    course_id: Mapped[int] = mapped_column(ForeignKey("course.id"))
    # A stable public key (e.g. "CODING-2") that requirement trees refer to.
    code: Mapped[str] = mapped_column(String(30), unique=True)
    position: Mapped[int]
    title: Mapped[str] = mapped_column(String(200))
    estimated_minutes: Mapped[int] = mapped_column(default=30)
    # The number of the version students see (``ModuleVersion.number``), None until the first
    # publication: a module that was never published is the authors' alone.
    published_version: Mapped[int | None]
    # An archived module keeps its completions but leaves the course students see.
    archived_at: Mapped[datetime | None] = mapped_column(UTCDateTime())

    course: Mapped[Course] = relationship(back_populates="all_modules", lazy="raise")
    lesson: Mapped[Lesson | None] = relationship(back_populates="module", lazy="raise")
    quiz: Mapped[Quiz | None] = relationship(back_populates="module", lazy="raise")


class Lesson(db.Model):
    """The reading of a module, written in Markdown and shown sanitised."""

    __tablename__ = "lesson"

    id: Mapped[int] = mapped_column(primary_key=True)
    module_id: Mapped[int] = mapped_column(ForeignKey("module.id"), unique=True)
    title: Mapped[str] = mapped_column(String(200))
    body_markdown: Mapped[str] = mapped_column(Text)

    module: Mapped[Module] = relationship(back_populates="lesson", lazy="raise")


class QuestionBank(db.Model):
    """A named pool of questions that quizzes draw on."""

    __tablename__ = "question_bank"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(200), unique=True)


class QuestionKind(StrEnum):
    """The question types the bank holds (and imports and exports)."""

    SINGLE = "single"  # one correct choice
    MULTIPLE = "multiple"  # one or more correct choices, all must be picked
    TRUE_FALSE = "true_false"
    CODE_ENTRY = "code_entry"  # a case and answer boxes for codes (rules/code_entry.py)


class Question(db.Model):
    """A multiple-choice question with its rationale.

    A question that students have answered is never edited in place: an edit makes a new
    version (same ``family_id``, ``version`` + 1) and retires the old one, so attempts keep
    pointing at the version they saw."""

    __tablename__ = "question"

    id: Mapped[int] = mapped_column(primary_key=True)
    bank_id: Mapped[int] = mapped_column(ForeignKey("question_bank.id"), index=True)
    stem: Mapped[str] = mapped_column(Text)
    rationale: Mapped[str] = mapped_column(Text, default="")
    # Labels besides the content area (a blueprint row may ask for any of them).
    tags: Mapped[list[str]] = mapped_column(JSON, default=list, server_default="[]")
    kind: Mapped[QuestionKind] = mapped_column(
        enum_column(QuestionKind, "question_kind"),
        default=QuestionKind.SINGLE,
        server_default=QuestionKind.SINGLE.value,
    )
    content_area: Mapped[str] = mapped_column(String(80), default="", server_default="")
    difficulty: Mapped[str] = mapped_column(String(20), default="", server_default="")
    code_set_year: Mapped[int | None]
    family_id: Mapped[int | None] = mapped_column(index=True)  # id of the first version
    version: Mapped[int] = mapped_column(default=1, server_default="1")
    retired_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    # A code-entry question: the case (plain text) and its answer boxes with their keys, as
    # ``rules.code_entry.stored_box`` writes them, and the code-set release the key was
    # checked against (e.g. "icd10cm 2026-04-01"). None on every other kind.
    case_text: Mapped[str | None] = mapped_column(Text)
    code_boxes: Mapped[list[dict] | None] = mapped_column(JSON(none_as_null=True))
    code_release: Mapped[str | None] = mapped_column(String(40))

    choices: Mapped[list[Choice]] = relationship(
        back_populates="question", order_by="Choice.position", lazy="raise"
    )


class Choice(db.Model):
    """One answer offered for a question."""

    __tablename__ = "choice"
    __table_args__ = (UniqueConstraint("question_id", "position"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    question_id: Mapped[int] = mapped_column(ForeignKey("question.id"))
    position: Mapped[int]
    text: Mapped[str] = mapped_column(Text)
    is_correct: Mapped[bool] = mapped_column(default=False)

    question: Mapped[Question] = relationship(back_populates="choices", lazy="raise")


class ReviewPolicy(StrEnum):
    """When a student may see the correct answers and rationales of an attempt."""

    AFTER_ATTEMPT = "after_attempt"
    AFTER_PASSING = "after_passing"
    NEVER = "never"


class Quiz(db.Model):
    """The quiz that closes a module: a fixed list of questions, or a blueprint that draws
    questions by tag from a bank; optionally timed (a practice exam)."""

    __tablename__ = "quiz"

    id: Mapped[int] = mapped_column(primary_key=True)
    module_id: Mapped[int] = mapped_column(ForeignKey("module.id"), unique=True)
    title: Mapped[str] = mapped_column(String(200))
    passing_score: Mapped[int] = mapped_column(default=70)  # percent
    # JSON list of {"tag": ..., "count": n}; empty means the fixed list of items.
    blueprint: Mapped[str] = mapped_column(Text, default="", server_default="")
    bank_id: Mapped[int | None] = mapped_column(ForeignKey("question_bank.id"))
    time_limit_minutes: Mapped[int | None]
    max_attempts: Mapped[int | None]
    review_policy: Mapped[ReviewPolicy] = mapped_column(
        enum_column(ReviewPolicy, "review_policy"),
        default=ReviewPolicy.AFTER_ATTEMPT,
        server_default=ReviewPolicy.AFTER_ATTEMPT.value,
    )
    preset: Mapped[str | None] = mapped_column(String(20))
    # Open book: the player offers the code look-up (docs/codes.md); closed book it does not.
    open_book: Mapped[bool] = mapped_column(default=False, server_default=sa_false())

    module: Mapped[Module] = relationship(back_populates="quiz", lazy="raise")
    items: Mapped[list[QuizItem]] = relationship(order_by="QuizItem.position", lazy="raise")


class QuizItem(db.Model):
    """A question's place in a quiz."""

    __tablename__ = "quiz_item"
    __table_args__ = (
        UniqueConstraint("quiz_id", "position"),
        UniqueConstraint("quiz_id", "question_id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    quiz_id: Mapped[int] = mapped_column(ForeignKey("quiz.id"))
    question_id: Mapped[int] = mapped_column(ForeignKey("question.id"))
    position: Mapped[int]

    question: Mapped[Question] = relationship(lazy="raise")


class AttemptStatus(StrEnum):
    """Where an attempt is in its life."""

    IN_PROGRESS = "in_progress"
    SUBMITTED = "submitted"  # graded, by the student's submit or at the deadline


class Attempt(db.Model):
    """A student's go at a quiz: the questions drawn, the answers, a deadline, the score."""

    __tablename__ = "attempt"
    # A student's attempts at one quiz (the player, the readiness facts): in quiz order within
    # each student, so a cohort's attempts are summed per quiz without a sort.
    # The attempt's number among the student's attempts at the quiz (1, 2, ...), unique: two
    # starts at the same moment cannot both take attempt n, so the limit holds in the
    # database even when the requests race (PostgreSQL let six through where one was allowed).
    __table_args__ = (
        Index("ix_attempt_student_quiz", "student_id", "quiz_id"),
        Index("uq_attempt_number", "student_id", "quiz_id", "number", unique=True),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    quiz_id: Mapped[int] = mapped_column(ForeignKey("quiz.id"))
    student_id: Mapped[int] = mapped_column(ForeignKey("user_account.id"))
    number: Mapped[int]
    status: Mapped[AttemptStatus] = mapped_column(enum_column(AttemptStatus, "attempt_status"))
    started_at: Mapped[datetime] = mapped_column(UTCDateTime())
    submitted_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    score: Mapped[float | None] = mapped_column(Numeric(5, 2, asdecimal=False))
    passed: Mapped[bool | None]
    deadline_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    closed_by_deadline: Mapped[bool] = mapped_column(default=False, server_default=sa_false())
    # The extra time the student had when the attempt started (1.5 for "time and a half"),
    # already in ``deadline_at``; None without an accommodation or on an untimed quiz.
    time_multiplier: Mapped[float | None] = mapped_column(Numeric(3, 2, asdecimal=False))

    quiz: Mapped[Quiz] = relationship(lazy="raise")
    student: Mapped[User] = relationship(lazy="raise")
    answers: Mapped[list[AttemptAnswer]] = relationship(lazy="raise")
    questions: Mapped[list[AttemptQuestion]] = relationship(
        order_by="AttemptQuestion.position", lazy="raise"
    )


class AttemptQuestion(db.Model):
    """A question drawn for an attempt, in its place, with the order its choices are shown."""

    __tablename__ = "attempt_question"
    __table_args__ = (
        UniqueConstraint("attempt_id", "position"),
        UniqueConstraint("attempt_id", "question_id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    attempt_id: Mapped[int] = mapped_column(ForeignKey("attempt.id"))
    question_id: Mapped[int] = mapped_column(ForeignKey("question.id"))
    position: Mapped[int]
    choice_order: Mapped[list[int]] = mapped_column(IdList())  # choice ids, as shown
    # "Flag for review": the student's own mark, saved with the answers, shown in the
    # navigator and named before submitting. It changes nothing in the grade.
    flagged: Mapped[bool] = mapped_column(default=False, server_default=sa_false())

    question: Mapped[Question] = relationship(lazy="raise")


class AttemptAnswer(db.Model):
    """The choice a student picked for one question of an attempt."""

    __tablename__ = "attempt_answer"
    __table_args__ = (UniqueConstraint("attempt_id", "question_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    attempt_id: Mapped[int] = mapped_column(ForeignKey("attempt.id"))
    question_id: Mapped[int] = mapped_column(ForeignKey("question.id"))
    choice_id: Mapped[int | None] = mapped_column(ForeignKey("choice.id"))
    # Every choice picked (several for a multiple-answer question); empty when unanswered.
    choice_ids: Mapped[list[int]] = mapped_column(IdList(), default=list)
    is_correct: Mapped[bool]  # False until the attempt is graded
    # A code-entry question's boxes as the student typed them (one string per box), and the
    # credit the grading gave (0..1, partial credit); None for choice questions.
    typed_codes: Mapped[list[str] | None] = mapped_column(JSON(none_as_null=True))
    credit: Mapped[float | None] = mapped_column(Numeric(5, 4, asdecimal=False))
    answered_at: Mapped[datetime | None] = mapped_column(UTCDateTime())


class TimeOnTask(db.Model):
    """Server-measured seconds a student spent on a module's page (contact hours)."""

    __tablename__ = "time_on_task"
    __table_args__ = (UniqueConstraint("student_id", "module_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    student_id: Mapped[int] = mapped_column(ForeignKey("user_account.id"), index=True)
    module_id: Mapped[int] = mapped_column(ForeignKey("module.id"))
    course_id: Mapped[int] = mapped_column(ForeignKey("course.id"))
    seconds: Mapped[int] = mapped_column(default=0)
    last_beat_at: Mapped[datetime] = mapped_column(UTCDateTime())


class Accommodation(db.Model):
    """Extra time on timed quizzes for one student (a multiplier of the time limit), granted
    with a reason by an instructor who teaches them or an admin.

    It applies to every timed attempt the student starts while it stands; an attempt keeps
    the deadline it started with. Changing it ends the standing grant and starts a new one,
    so the rows are the history; each grant, change and end is in the audit log."""

    __tablename__ = "accommodation"
    # At most one standing grant per student, in the database: of two changes made at the
    # same moment, one is refused (409) rather than both left standing.
    __table_args__ = (
        Index("ix_accommodation_student", "student_id", "ended_at"),
        Index(
            "uq_accommodation_standing",
            "student_id",
            unique=True,
            sqlite_where=text("ended_at IS NULL"),
            postgresql_where=text("ended_at IS NULL"),
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    student_id: Mapped[int] = mapped_column(ForeignKey("user_account.id"))
    multiplier: Mapped[float] = mapped_column(Numeric(3, 2, asdecimal=False))
    reason: Mapped[str] = mapped_column(Text)
    granted_by_id: Mapped[int] = mapped_column(ForeignKey("user_account.id"))
    granted_at: Mapped[datetime] = mapped_column(UTCDateTime())
    ended_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))
    ended_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    end_reason: Mapped[str | None] = mapped_column(Text)

    granted_by: Mapped[User] = relationship(foreign_keys=[granted_by_id], lazy="raise")
    ended_by: Mapped[User | None] = relationship(foreign_keys=[ended_by_id], lazy="raise")


class CodeSetRelease(db.Model):
    """A code-set release loaded by a school (``flask codes load``): ICD-10-CM from CMS's
    files, HCPCS Level II from CMS's, CPT from the school's licensed file. Each code with
    whether it is billable and its description (CPT's left empty: the AMA's text is not
    kept). Code-entry keys are reviewed against the newest release of their code set."""

    __tablename__ = "code_set_release"
    __table_args__ = (UniqueConstraint("code_set", "label"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    code_set: Mapped[str] = mapped_column(String(20))
    label: Mapped[str] = mapped_column(String(40))
    loaded_at: Mapped[datetime] = mapped_column(UTCDateTime())
    # {code: [billable, description]}
    codes: Mapped[dict] = mapped_column(JSON)
    code_count: Mapped[int]


from lms.courses.authoring.models import ModuleDraft, ModuleVersion  # noqa: E402, F401
from lms.courses.media.models import MediaFile  # noqa: E402, F401 - registered with the models
