"""Course content and the attempts students make at quizzes."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from sqlalchemy import ForeignKey, Numeric, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from lms.auth.models import User
from lms.db import UTCDateTime, enum_column
from lms.extensions import db


class Course(db.Model):
    """A course of the programme, such as Medical Terminology."""

    __tablename__ = "course"

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(20), unique=True)
    title: Mapped[str] = mapped_column(String(200))
    topic_area: Mapped[str] = mapped_column(String(40))
    description: Mapped[str] = mapped_column(Text, default="")

    modules: Mapped[list[Module]] = relationship(
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

    course: Mapped[Course] = relationship(back_populates="modules", lazy="raise")
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


class Question(db.Model):
    """A multiple-choice question with its rationale."""

    __tablename__ = "question"

    id: Mapped[int] = mapped_column(primary_key=True)
    bank_id: Mapped[int] = mapped_column(ForeignKey("question_bank.id"), index=True)
    stem: Mapped[str] = mapped_column(Text)
    rationale: Mapped[str] = mapped_column(Text, default="")
    tags: Mapped[str] = mapped_column(String(400), default="")  # comma-separated

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


class Quiz(db.Model):
    """The quiz that closes a module: a fixed list of questions and a passing score."""

    __tablename__ = "quiz"

    id: Mapped[int] = mapped_column(primary_key=True)
    module_id: Mapped[int] = mapped_column(ForeignKey("module.id"), unique=True)
    title: Mapped[str] = mapped_column(String(200))
    passing_score: Mapped[int] = mapped_column(default=70)  # percent

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

    SUBMITTED = "submitted"


class Attempt(db.Model):
    """A student's go at a quiz, with its score."""

    __tablename__ = "attempt"

    id: Mapped[int] = mapped_column(primary_key=True)
    quiz_id: Mapped[int] = mapped_column(ForeignKey("quiz.id"))
    student_id: Mapped[int] = mapped_column(ForeignKey("user_account.id"), index=True)
    status: Mapped[AttemptStatus] = mapped_column(enum_column(AttemptStatus, "attempt_status"))
    started_at: Mapped[datetime] = mapped_column(UTCDateTime())
    submitted_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    score: Mapped[float | None] = mapped_column(Numeric(5, 2, asdecimal=False))
    passed: Mapped[bool | None]

    quiz: Mapped[Quiz] = relationship(lazy="raise")
    student: Mapped[User] = relationship(lazy="raise")
    answers: Mapped[list[AttemptAnswer]] = relationship(lazy="raise")


class AttemptAnswer(db.Model):
    """The choice a student picked for one question of an attempt."""

    __tablename__ = "attempt_answer"
    __table_args__ = (UniqueConstraint("attempt_id", "question_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    attempt_id: Mapped[int] = mapped_column(ForeignKey("attempt.id"))
    question_id: Mapped[int] = mapped_column(ForeignKey("question.id"))
    choice_id: Mapped[int | None] = mapped_column(ForeignKey("choice.id"))
    is_correct: Mapped[bool]
