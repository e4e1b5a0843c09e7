"""Jinja filters and globals shared by every template."""

from __future__ import annotations

from datetime import date, datetime

from flask import Flask

from lms import links


def format_datetime(value: datetime | None) -> str:
    """``25 Nov 2026, 14:03 UTC``."""
    if value is None:
        return ""
    return value.strftime("%d %b %Y, %H:%M UTC")


def format_date(value: date | datetime | None) -> str:
    """``25 Nov 2026``."""
    if value is None:
        return ""
    return value.strftime("%d %b %Y")


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
