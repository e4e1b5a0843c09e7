"""What a launch comes to: who, and where they go next."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from lms.auth.models import User


@dataclass
class LaunchResult:
    """Who was launched, and where they go next.

    ``link_token`` is set instead of a login when the launch's email names an existing account
    this platform user was never linked to: its owner must confirm (logged in) first, in the
    browser that carries ``browser_secret``."""

    user: User | None
    module_id: int | None = None
    deep_link: dict[str, Any] | None = None
    message: str | None = None
    link_token: str | None = None
    browser_secret: str | None = None
