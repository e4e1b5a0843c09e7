"""Use cases for accounts: create users, check passwords, end sessions."""

from __future__ import annotations

from datetime import datetime
from functools import cache
from zoneinfo import available_timezones

from email_validator import EmailNotValidError, validate_email
from sqlalchemy import func, select

from lms.auth.models import Role, User
from lms.auth.passwords import hash_password, password_problems, verify_password
from lms.errors import Conflict, InvalidInput, NotFound, Problem
from lms.extensions import db
from lms.forms import whole_number
from lms.ledger import audit


def normalise_email(email: str) -> str:
    """A valid email in lower case, or ``InvalidInput``."""
    try:
        return validate_email(email.strip(), check_deliverability=False).normalized.lower()
    except EmailNotValidError as error:
        raise InvalidInput(
            f"{email.strip() or 'The email'} is not a valid email address.", field="email"
        ) from error


def find_user_by_email(email: str) -> User | None:
    """The account with this email (case does not matter), if any."""
    return db.session.scalar(select(User).where(func.lower(User.email) == email.strip().lower()))


def create_user(
    *,
    email: str,
    full_name: str,
    role: Role,
    password: str | None,
    actor: User | None,
    now: datetime,
) -> User:
    """Create an account; the password must meet the policy."""
    email = normalise_email(email)
    full_name = full_name.strip()
    problems = []
    if not full_name:
        problems.append(Problem("Give the person's full name.", "full_name"))
    if password is not None:
        problems.extend(Problem(message, "password") for message in password_problems(password))
    if problems:
        raise InvalidInput(problems=problems)
    if find_user_by_email(email) is not None:
        raise Conflict(f"An account with the email {email} already exists.", field="email")
    user = User(
        email=email,
        full_name=full_name,
        role=role,
        password_hash=hash_password(password) if password is not None else None,
        active=True,
        created_at=now,
    )
    db.session.add(user)
    db.session.flush()
    audit.record_event(
        "user.created",
        actor=actor,
        now=now,
        target_type="user",
        target_id=user.id,
        details={"email": email, "role": role.value},
    )
    return user


def authenticate(email: str, password: str, now: datetime) -> User | None:
    """The active user with these credentials, or None; every try is audited."""
    user = find_user_by_email(email)
    stored_hash = user.password_hash if user else None
    # The hash costs about 150 ms of CPU on purpose. Nothing is written before it, so end the
    # read first: on SQLite a POST's transaction holds the write lock, and a log-in holding
    # it through the hash made every other student's save wait behind it (docs/PERFORMANCE.md,
    # HTTP load). The audit entry below starts a short transaction of its own.
    db.session.rollback()
    ok = verify_password(stored_hash, password)
    if ok and user is not None and user.active:
        audit.record_event(
            "login.succeeded", actor=user, now=now, target_type="user", target_id=user.id
        )
        return user
    audit.record_event(
        "login.failed",
        actor=None,
        now=now,
        target_type="user",
        target_id=user.id if user else None,
        details={"email": email.strip().lower()[:254]},
    )
    return None


def end_all_sessions(user: User, now: datetime) -> None:
    """Invalidate every session of the user, including copies of old cookies."""
    user.session_epoch += 1
    db.session.flush()
    audit.record_event("logout", actor=user, now=now, target_type="user", target_id=user.id)


def load_session_user(session_key: str) -> User | None:
    """The user a session key ("id.epoch") belongs to, if the session is still valid."""
    user_id, _, epoch = session_key.partition(".")
    number = whole_number(user_id)
    if number is None or whole_number(epoch) is None:
        return None
    user = db.session.get(User, number)
    if user is None or not user.active or user.session_epoch != int(epoch):
        return None
    return user


def revoke_sessions(user: User) -> None:
    """End every session of the user (all devices, copied cookies too); no audit event."""
    user.session_epoch += 1
    db.session.flush()


def change_password(user: User, current: str, new: str, repeat: str, now: datetime) -> None:
    """Replace the user's password after checking the current one; ends every session."""
    problems = []
    if not verify_password(user.password_hash, current):
        problems.append(Problem("The current password is not right.", "current"))
    if new != repeat:
        problems.append(Problem("The two new passwords differ.", "repeat"))
    problems.extend(Problem(message, "new") for message in password_problems(new))
    if not problems and new == current:
        problems.append(Problem("Choose a password different from the current one.", "new"))
    if problems:
        raise InvalidInput(problems=problems)
    set_password(user, new, actor=user, now=now, action="password.changed")


def set_password(user: User, password: str, *, actor: User | None, now: datetime, action: str):
    """Store a new password that meets the policy, end every session and audit ``action``."""
    problems = password_problems(password)
    if problems:
        raise InvalidInput(problems=[Problem(message, "new") for message in problems])
    user.password_hash = hash_password(password)
    revoke_sessions(user)
    audit.record_event(action, actor=actor, now=now, target_type="user", target_id=user.id)


def search_users(query: str = "", role: Role | None = None, limit: int = 200) -> list[User]:
    """Accounts whose name or email contains ``query``, optionally of one role, by name."""
    statement = select(User).order_by(func.lower(User.full_name), User.id).limit(limit)
    query = query.strip().lower()
    if query:
        pattern = "%" + query.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"
        statement = statement.where(
            func.lower(User.full_name).like(pattern, escape="\\")
            | func.lower(User.email).like(pattern, escape="\\")
        )
    if role is not None:
        statement = statement.where(User.role == role)
    return list(db.session.scalars(statement))


def get_user(user_id: int) -> User:
    """The account with this id, or ``NotFound``."""
    user = db.session.get(User, user_id)
    if user is None:
        raise NotFound("There is no such account.")
    return user


def _name_problems(full_name: str) -> list[Problem]:
    if not full_name:
        return [Problem("Give the person's full name.", "full_name")]
    if len(full_name) > 200:
        return [Problem("Keep the name to 200 characters.", "full_name")]
    return []


def _other_active_admins(user: User) -> int:
    """How many active admins there are besides ``user``."""
    return db.session.scalar(
        select(func.count(User.id)).where(
            User.role == Role.ADMIN, User.active.is_(True), User.id != user.id
        )
    )


def _keeps_an_admin(user: User, role: Role, active: bool) -> None:
    """Refuse a change that would leave the school without an active admin."""
    stays_admin = role is Role.ADMIN and active
    if user.is_admin and user.active and not stays_admin and _other_active_admins(user) == 0:
        if not active:
            raise Conflict(
                "This is the last active admin: make another account an admin before disabling it.",
                field="role",
            )
        raise Conflict(
            "This is the last active admin: make another account an admin before giving "
            "it another role.",
            field="role",
        )


def update_user(
    actor: User, user: User, *, full_name: str, email: str, role: Role, now: datetime
) -> dict[str, dict[str, str]]:
    """Change an account's name, email and role (audited with what each was before and after);
    returns the changes, empty when nothing changed. The email stays unique whatever its case,
    and the last active admin keeps their role."""
    full_name = full_name.strip()
    problems = _name_problems(full_name)
    try:
        email = normalise_email(email)
    except InvalidInput as error:
        problems.extend(error.problems)
    if problems:
        raise InvalidInput(problems=problems)
    holder = find_user_by_email(email)
    if holder is not None and holder.id != user.id:
        raise Conflict(f"Another account already uses the email {email}.", field="email")
    _keeps_an_admin(user, role, user.active)
    before = {"full_name": user.full_name, "email": user.email, "role": user.role.value}
    after = {"full_name": full_name, "email": email, "role": role.value}
    changes = {
        key: {"from": before[key], "to": after[key]} for key in before if before[key] != after[key]
    }
    if not changes:
        return changes
    user.full_name, user.email, user.role = full_name, email, role
    db.session.flush()
    audit.record_event(
        "user.updated",
        actor=actor,
        now=now,
        target_type="user",
        target_id=user.id,
        details=changes,
    )
    return changes


def change_role(actor: User, user: User, role: Role, now: datetime) -> bool:
    """Give ``user`` another role; False when it already had it. The last active admin
    keeps theirs."""
    if user.role is role:
        return False
    _keeps_an_admin(user, role, user.active)
    previous = user.role
    user.role = role
    db.session.flush()
    audit.record_event(
        "user.role_changed",
        actor=actor,
        now=now,
        target_type="user",
        target_id=user.id,
        details={"from": previous.value, "to": role.value},
    )
    return True


def set_author(actor: User, user: User, author: bool, now: datetime) -> bool:
    """Name an instructor an author of course content, or take it back (audited); False
    when unchanged. Admins are authors by their role; students never are."""
    if not user.is_instructor:
        raise Conflict(
            "Only an instructor is named an author: admins write content by their role, "
            "students do not write it."
        )
    if user.content_author == author:
        return False
    user.content_author = author
    db.session.flush()
    audit.record_event(
        "user.author_named" if author else "user.author_withdrawn",
        actor=actor,
        now=now,
        target_type="user",
        target_id=user.id,
    )
    return True


def set_active(actor: User, user: User, active: bool, now: datetime) -> bool:
    """Enable or disable an account; disabling ends every session (its API tokens stop
    working too: they are refused for a disabled account). False when unchanged. The last
    active admin stays enabled."""
    if user.active == active:
        return False
    _keeps_an_admin(user, user.role, active)
    user.active = active
    if not active:
        revoke_sessions(user)
    db.session.flush()
    audit.record_event(
        "user.enabled" if active else "user.disabled",
        actor=actor,
        now=now,
        target_type="user",
        target_id=user.id,
    )
    return True


# --- the user's own profile --------------------------------------------------------------

DEFAULT_TIMEZONE = "UTC"


@cache
def time_zone_names() -> tuple[str, ...]:
    """Every IANA time zone this machine knows (``zoneinfo``), sorted, for the profile's list."""
    return tuple(sorted(available_timezones() | {DEFAULT_TIMEZONE}))


def update_profile(
    user: User, *, full_name: str, timezone: str, now: datetime
) -> dict[str, dict[str, str]]:
    """Change the user's own name and time zone (audited, before and after); returns the
    changes, empty when nothing changed."""
    full_name = full_name.strip()
    problems = _name_problems(full_name)
    if timezone not in time_zone_names():
        problems.append(Problem("Choose a time zone from the list.", "timezone"))
    if problems:
        raise InvalidInput(problems=problems)
    before = {"full_name": user.full_name, "timezone": user.timezone}
    after = {"full_name": full_name, "timezone": timezone}
    changes = {
        key: {"from": before[key], "to": after[key]} for key in before if before[key] != after[key]
    }
    if not changes:
        return changes
    user.full_name, user.timezone = full_name, timezone
    db.session.flush()
    audit.record_event(
        "profile.updated",
        actor=user,
        now=now,
        target_type="user",
        target_id=user.id,
        details=changes,
    )
    return changes
