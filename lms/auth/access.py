"""Every view declares who may use it: ``public`` or ``roles_required(...)``.

The rule is kept on the view function (``view.access_rule``), so a test can walk the URL map
and fail for any route that declares none.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from functools import wraps
from typing import Any, TypeVar

from flask import request
from flask_login import current_user

from lms.auth.models import Role
from lms.errors import PermissionDenied
from lms.extensions import login_manager

log = logging.getLogger(__name__)

View = TypeVar("View", bound=Callable[..., Any])

PUBLIC = "public"
ANY_ROLE = frozenset(Role)


def public(view: View) -> View:
    """Mark a view as open to everyone, logged in or not."""
    view.access_rule = PUBLIC  # type: ignore[attr-defined]
    return view


def roles_required(*roles: Role) -> Callable[[View], View]:
    """Let in only logged-in users with one of ``roles``; others get a login page or a 403."""
    allowed = frozenset(roles)

    def decorator(view: View) -> View:
        @wraps(view)
        def guarded(*args: Any, **kwargs: Any) -> Any:
            if not current_user.is_authenticated:
                log.info(
                    "login required",
                    extra={
                        "event": "login_required",
                        "method": request.method,
                        "path": request.path,
                        "ip": request.remote_addr,
                    },
                )
                return login_manager.unauthorized()
            if current_user.role not in allowed:
                log.warning(
                    "access denied: user %s (%s) to %s %s",
                    current_user.id,
                    current_user.role,
                    request.method,
                    request.path,
                )
                names = " or ".join(sorted(role.value + "s" for role in allowed))
                raise PermissionDenied(f"This page is only for {names}.")
            return view(*args, **kwargs)

        guarded.access_rule = allowed  # type: ignore[attr-defined]
        return guarded  # type: ignore[return-value]

    return decorator


def login_required(view: View) -> View:
    """Let in any logged-in user, whatever the role."""
    return roles_required(*ANY_ROLE)(view)
