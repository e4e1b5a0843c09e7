"""Sequential gating: in a course an instructor made sequential, module N opens once module
N-1 is complete (a completion in the ledger)."""

from __future__ import annotations

from lms.auth.models import User
from lms.courses.models import Module
from lms.errors import Conflict, NotFound
from lms.ledger import service as ledger


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
    """Refuse a module students do not see (never published, archived, or in an archived
    course: 404) and (409) a module of a sequential course whose previous module is not
    complete."""
    if (
        module.published_version is None
        or module.archived_at is not None
        or module.course.archived_at is not None
    ):
        raise NotFound("There is no such module.")
    previous = locked_by(student, module)
    if previous is not None:
        raise Conflict(f"This module opens when you have completed {previous.title}.")
