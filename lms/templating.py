"""Jinja filters and globals shared by every template."""

from __future__ import annotations

from datetime import UTC, date, datetime, tzinfo
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from flask import Flask, g, has_request_context
from flask_login import current_user

from lms import links


def show_times_in_utc() -> None:
    """Show this page's dates and times in UTC whoever reads it (a public page that must read
    the same for everyone, such as a certificate's verification page)."""
    g.display_zone = UTC


def display_zone() -> tzinfo:
    """The zone pages show times in: the logged-in user's (``User.timezone``), else UTC.

    Read by duck typing (core sits below auth): anything without a known zone is UTC."""
    if not has_request_context():
        return UTC
    forced = g.get("display_zone")
    if forced is not None:
        return forced
    name = getattr(current_user, "timezone", None) if current_user.is_authenticated else None
    if not name or name == "UTC":
        return UTC
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        return UTC


def _in_zone(value: datetime) -> datetime:
    aware = value if value.tzinfo is not None else value.replace(tzinfo=UTC)
    return aware.astimezone(display_zone())


def format_datetime(value: datetime | None) -> str:
    """``25 Nov 2026, 14:03 UTC``, or in the reader's zone: ``25 Nov 2026, 09:03 EST``."""
    if value is None:
        return ""
    return _in_zone(value).strftime("%d %b %Y, %H:%M %Z")


_MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")


def format_date(value: date | datetime | None) -> str:
    """``25 Nov 2026``: an instant's date in the reader's zone; a calendar date (a due date,
    an exam date) as it is, never shifted."""
    if value is None:
        return ""
    if isinstance(value, datetime):
        value = _in_zone(value)
    # what strftime("%d %b %Y") gives in English, without its cost: a cohort page formats
    # a date in every completed cell, thousands a page
    return f"{value.day:02d} {_MONTHS[value.month - 1]} {value.year}"


def format_percent(value: float | None) -> str:
    """``85%`` or ``66.7%``."""
    if value is None:
        return "—"
    return f"{value:.0f}%" if float(value).is_integer() else f"{value:.1f}%"


def register_template_helpers(app: Flask) -> None:
    """Add the filters to the app's Jinja environment."""
    app.jinja_env.add_extension("jinja2.ext.do")
    app.jinja_env.trim_blocks = True
    app.jinja_env.lstrip_blocks = True
    app.jinja_env.filters["datetime"] = format_datetime
    app.jinja_env.filters["date"] = format_date
    app.jinja_env.filters["percent"] = format_percent
    app.config.setdefault("SCHOOL_NAME", "")
    app.jinja_env.globals["school_name"] = lambda: app.config["SCHOOL_NAME"]
    app.jinja_env.globals["external_url"] = links.external_url
