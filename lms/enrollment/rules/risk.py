"""At-risk flags: every reason a student who is not ready may be falling behind."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, datetime


@dataclass(frozen=True)
class RiskPolicy:
    """When a student counts as at risk."""

    failed_attempts: int = 3
    inactivity_days: int = 14


@dataclass(frozen=True)
class RiskFacts:
    """What is known of one student for the at-risk check."""

    ready: bool
    done: frozenset[str]  # module codes met (by completion or override)
    due: Mapping[str, date]
    failed_attempts: Mapping[str, int]  # module code -> failed attempts
    last_activity: datetime | None
    enrolled_at: datetime


def risk_reasons(facts: RiskFacts, policy: RiskPolicy, today: date) -> list[str]:
    """Every reason the student is at risk; none when they are ready."""
    if facts.ready:
        return []
    reasons = []
    overdue = [
        code
        for _, code in sorted(
            (when, code)
            for code, when in facts.due.items()
            if when < today and code not in facts.done
        )
    ]
    if overdue:
        noun = "module" if len(overdue) == 1 else "modules"
        reasons.append(
            f"Behind the study plan: {len(overdue)} {noun} overdue ({', '.join(overdue)})"
        )
    for code, failed in sorted(facts.failed_attempts.items()):
        if code not in facts.done and failed >= policy.failed_attempts:
            reasons.append(f"{failed} failed attempts on {code}")
    since = facts.last_activity or facts.enrolled_at
    idle = (today - since.date()).days
    if idle >= policy.inactivity_days:
        if facts.last_activity is None:
            reasons.append(f"No activity since enrolment ({idle} days)")
        else:
            reasons.append(f"No activity for {idle} days")
    return reasons
