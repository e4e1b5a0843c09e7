"""The enrollment pages, a module for each (or for a few that share their data): the student's
dashboard and its calendar feed, joining, cohort settings, the matrix, the gradebook, the
roster, a student's record and the study plan. They share one blueprint, ``enrollment``, so
endpoints read ``enrollment.<view>``.

(The cohort's certificates and a student's evidence have blueprints of their own, in
``certificate_views`` and ``evidence_views``.)"""

from __future__ import annotations

from flask import Blueprint, current_app
from flask_login import current_user

from lms.auth.models import Role, User
from lms.enrollment.rules.risk import RiskPolicy

bp = Blueprint("enrollment", __name__)
STAFF = (Role.INSTRUCTOR, Role.ADMIN)


def actor() -> User:
    """The logged-in user, as the services take it."""
    return current_user._get_current_object()


def risk_policy() -> RiskPolicy:
    """The school's default at-risk policy, from the configuration."""
    config = current_app.config
    return RiskPolicy(
        failed_attempts=int(config.get("AT_RISK_FAILED_ATTEMPTS", 3)),
        inactivity_days=int(config.get("AT_RISK_INACTIVITY_DAYS", 14)),
    )


# The page modules add their routes to ``bp`` as they are imported, so they must come after it.
from lms.enrollment.views import (  # noqa: E402, F401
    announcements,
    calendar,
    cohorts,
    dashboard,
    gradebook,
    joining,
    matrix,
    plan,
    record,
    roster,
)
