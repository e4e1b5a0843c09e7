"""Roster import from CSV: preview every problem, then enrol everyone or no one.

The preview's good rows travel to the confirm step in a signed, time-limited token, so the
file is read once and cannot be altered in between; the confirm step checks them again
against the database (someone may have been enrolled meanwhile) and writes in one
transaction.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from itsdangerous import BadSignature, SignatureExpired, URLSafeTimedSerializer
from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError

from lms.auth import service as accounts
from lms.auth.models import User
from lms.enrollment import enrollments, invitations
from lms.enrollment.models import Cohort, Enrollment, EnrollmentStatus
from lms.enrollment.rules import roster_file
from lms.errors import Conflict, InvalidInput
from lms.extensions import db
from lms.ledger import audit

TOKEN_SALT = "roster-import"  # noqa: S105 (a salt, not a secret)
TOKEN_MAX_AGE = 3600  # seconds between preview and confirm


class RosterRejected(Conflict):
    """The roster has problems; ``problems`` lists every one, and nothing was written."""

    def __init__(self, message: str, problems: tuple[roster_file.RowProblem, ...]) -> None:
        super().__init__(message)
        self.problems = problems


def _known_accounts(cohort: Cohort, emails: list[str]) -> dict[str, roster_file.KnownAccount]:
    if not emails:
        return {}
    users = db.session.execute(
        select(func.lower(User.email), User.id, User.role).where(func.lower(User.email).in_(emails))
    ).all()
    places = dict(
        db.session.execute(
            select(Enrollment.student_id, Enrollment.status).where(
                Enrollment.cohort_id == cohort.id,
                Enrollment.status.in_([EnrollmentStatus.ACTIVE, EnrollmentStatus.PENDING]),
                Enrollment.student_id.in_([user_id for _, user_id, _ in users]),
            )
        ).all()
    )
    return {
        email: roster_file.KnownAccount(
            is_student=role.value == "student",
            enrolled_here=places.get(uid) is EnrollmentStatus.ACTIVE,
            asked_here=places.get(uid) is EnrollmentStatus.PENDING,
        )
        for email, uid, role in users
    }


def preview(
    cohort: Cohort, data: bytes, *, max_bytes: int, max_rows: int | None = None
) -> roster_file.Roster:
    """Read a roster file and report every problem; nothing is written."""
    if cohort.is_archived:
        raise Conflict(f"{cohort.name} is archived and takes no new students.")
    try:
        roster = roster_file.parse_roster(data, max_bytes=max_bytes, max_rows=max_rows)
    except roster_file.RosterFileError as error:
        raise InvalidInput(problems=[error.problem]) from error
    return roster_file.check_against_accounts(
        roster, _known_accounts(cohort, [row.email for row in roster.rows])
    )


def sign_rows(cohort: Cohort, rows: tuple[roster_file.RosterRow, ...], secret_key: str) -> str:
    """A token carrying the previewed rows to the confirm step."""
    serializer = URLSafeTimedSerializer(secret_key, salt=TOKEN_SALT)
    return serializer.dumps(
        {
            "cohort": cohort.id,
            "rows": [[r.row, r.email, r.first_name, r.last_name, r.student_id] for r in rows],
        }
    )


def load_rows(cohort: Cohort, token: str, secret_key: str) -> tuple[roster_file.RosterRow, ...]:
    """The rows a preview token carries, if it is genuine, fresh and for this cohort."""
    serializer = URLSafeTimedSerializer(secret_key, salt=TOKEN_SALT)
    try:
        data = serializer.loads(token, max_age=TOKEN_MAX_AGE)
    except SignatureExpired as error:
        raise InvalidInput(
            "The preview is more than an hour old. Upload the file again."
        ) from error
    except BadSignature as error:
        raise InvalidInput("The preview could not be read. Upload the file again.") from error
    if data.get("cohort") != cohort.id:
        raise InvalidInput("That preview is for another cohort. Upload the file again.")
    return tuple(roster_file.RosterRow(*row) for row in data["rows"])


@dataclass(frozen=True)
class ImportResult:
    """What an import did: ``enrolled`` at once (new accounts, or anyone an admin imports),
    ``invited`` of them new accounts, ``asked`` existing accounts waiting to accept."""

    enrolled: int
    invited: int
    asked: int = 0


def import_rows(
    actor: User, cohort: Cohort, rows: tuple[roster_file.RosterRow, ...], now: datetime
) -> ImportResult:
    """Enrol every row, inviting people without an account; all or nothing (the caller
    commits once, and any error rolls everything back)."""
    if not rows:
        raise InvalidInput("There is nobody to enrol.")
    # Two imports into one cohort at the same moment (a double click, two tabs): the second
    # waits here until the first commits, then finds its rows enrolled and is refused below
    # like a stale preview. (SQLite has one writer at a time and ignores FOR UPDATE.)
    db.session.execute(select(Cohort.id).where(Cohort.id == cohort.id).with_for_update())
    roster = roster_file.check_against_accounts(
        roster_file.Roster(rows, ()), _known_accounts(cohort, [row.email for row in rows])
    )
    if roster.problems:
        raise RosterRejected(
            "The roster changed since the preview; nobody was enrolled. Fix these rows:",
            roster.problems,
        )
    try:
        with db.session.begin_nested():
            invited, asked = _enrol_rows(actor, cohort, rows, now)
    except IntegrityError as error:
        # Another request created one of these accounts or enrolments at the same moment
        # (an import into another cohort): the constraints held; nothing of this import stays.
        raise Conflict(
            "Some of these students were enrolled or invited by someone else at the same"
            " moment; nobody was enrolled. Upload the file again."
        ) from error
    audit.record_event(
        "roster.imported",
        actor=actor,
        now=now,
        target_type="cohort",
        target_id=cohort.id,
        details={"enrolled": len(rows) - asked, "invited": invited, "asked": asked},
    )
    return ImportResult(enrolled=len(rows) - asked, invited=invited, asked=asked)


def _enrol_rows(
    actor: User, cohort: Cohort, rows: tuple[roster_file.RosterRow, ...], now: datetime
) -> tuple[int, int]:
    """Enrol every row, inviting people without an account (enrolled at once) and asking
    existing accounts to accept (unless the actor is an admin); how many were invited, and
    how many asked."""
    invited = asked = 0
    for row in rows:
        student = accounts.find_user_by_email(row.email)
        if student is None:
            student, _ = invitations.invite_student(actor, row.email, row.full_name, now)
            invited += 1
            enrollments.enroll_student(
                actor, cohort, student, now, student_number=row.student_id, check_ready=False
            )
            continue
        place = enrollments.invite_to_cohort(
            actor, cohort, student, now, student_number=row.student_id
        )
        asked += place.status is EnrollmentStatus.PENDING
    return invited, asked
