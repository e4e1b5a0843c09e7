"""Time: an attempt's deadline and pacing, extra time (an accommodation), and the credit of
a time-on-task heartbeat."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from lms.errors import Problem

#: The extra time an accommodation may give, as a multiplier of a quiz's time limit: the
#: usual grants (time and a quarter, time and a half, double time ...), never less than the
#: limit itself nor more than triple.
EXTRA_TIME_MULTIPLIERS = (1.25, 1.5, 1.75, 2.0, 2.5, 3.0)


def seconds_allowed(time_limit_minutes: int | None, multiplier: float | None = None) -> int | None:
    """The seconds a timed attempt has: the limit, times the student's extra time if any;
    ``None`` for an untimed quiz."""
    if not time_limit_minutes:
        return None
    return round(time_limit_minutes * 60 * (multiplier or 1))


def deadline_for(
    started_at: datetime, time_limit_minutes: int | None, multiplier: float | None = None
) -> datetime | None:
    """When a timed attempt closes (later by the student's extra time); ``None`` for an
    untimed quiz."""
    allowed = seconds_allowed(time_limit_minutes, multiplier)
    if allowed is None:
        return None
    return started_at + timedelta(seconds=allowed)


def parse_multiplier(text: str) -> float | None:
    """``"1.5"``, ``"1.5x"`` or ``"150%"`` as 1.5, if it is one of the multipliers allowed."""
    text = (text or "").strip().lower().removesuffix("x").strip()
    try:
        value = float(text[:-1]) / 100 if text.endswith("%") else float(text)
    except ValueError:
        return None
    return next((m for m in EXTRA_TIME_MULTIPLIERS if abs(m - value) < 1e-9), None)


def extra_time_problems(multiplier: str, reason: str) -> list[Problem]:
    """Why extra time cannot be granted: a multiplier not on the list, or no reason."""
    problems = []
    if parse_multiplier(multiplier) is None:
        allowed = ", ".join(f"{m:g}" for m in EXTRA_TIME_MULTIPLIERS)
        problems.append(Problem(f"Choose the extra time: one of {allowed} times.", "multiplier"))
    if not (reason or "").strip():
        problems.append(
            Problem(
                "Give the reason for the extra time; it is kept in the audit log.", "grant_reason"
            )
        )
    return problems


def end_problems(reason: str) -> list[Problem]:
    """Why extra time cannot be ended: no reason."""
    if (reason or "").strip():
        return []
    return [Problem("Give the reason for ending the extra time.", "end_reason")]


def seconds_left(deadline: datetime | None, now: datetime) -> int | None:
    """Whole seconds until the deadline (0 once passed); ``None`` when untimed."""
    if deadline is None:
        return None
    return max(0, int((deadline - now).total_seconds()))


def is_overdue(deadline: datetime | None, now: datetime) -> bool:
    """Whether a timed attempt's deadline has passed."""
    return deadline is not None and now >= deadline


@dataclass(frozen=True)
class Pacing:
    """Time used against the budget per question of a timed exam."""

    seconds_used: int
    seconds_allowed: int | None
    questions: int
    seconds_per_question: float  # per question answered
    budget_per_question: float | None
    on_pace: bool | None  # None when untimed
    answered: int = 0

    @property
    def unanswered(self) -> int:
        return self.questions - self.answered


def pacing(
    started_at: datetime,
    finished_at: datetime,
    time_limit_minutes: int | None,
    questions: int,
    answered: int,
    multiplier: float | None = None,
) -> Pacing:
    """How fast the student went: seconds per question answered against the exam's budget
    (the time limit, extended by the student's extra time).

    On pace means the whole exam fits the time at that speed: every question answered within
    the time allowed. Time running out with questions left blank is never on pace, however
    quickly the answered ones went."""
    used = max(0, int((finished_at - started_at).total_seconds()))
    allowed = seconds_allowed(time_limit_minutes, multiplier)
    answered = min(answered, questions)
    per_question = used / answered if answered else float(used)
    budget = allowed / questions if allowed and questions else None
    if budget is None:
        on_pace = None
    else:
        on_pace = answered == questions and used <= allowed and per_question <= budget
    return Pacing(used, allowed, questions, round(per_question, 1), budget, on_pace, answered)


#: Most seconds one heartbeat can add: the browser beats every minute while the page is used.
HEARTBEAT_CAP_SECONDS = 90


def heartbeat_credit(last_beat_at: datetime | None, now: datetime) -> int:
    """Seconds to credit for a heartbeat: the time since the last one, at most the cap.

    The first beat of a visit credits nothing (it starts the clock); a gap longer than the
    cap (the page was idle or closed, so the browser stopped beating) counts only the cap."""
    if last_beat_at is None:
        return 0
    gap = int((now - last_beat_at).total_seconds())
    if gap <= 0:
        return 0
    return min(gap, HEARTBEAT_CAP_SECONDS)
