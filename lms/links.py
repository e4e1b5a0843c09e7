"""Absolute links: every URL that leaves the app (mail, PDFs, QR codes, badges, xAPI ids, LTI).

A link mailed or printed must never come from the request's ``Host`` header, which anyone
can forge (a reset requested with ``Host: evil.example.net`` would mail a link to that host).
So every absolute link is built from ``LMS_PUBLIC_BASE_URL``. Production refuses to start
without it (``check_public_base_url``). In development and tests, where it may be unset,
links use the request's host, and ``TRUSTED_HOSTS`` (``LMS_TRUSTED_HOSTS``; localhost by
default) answers any other host 400 before a view runs.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import urlsplit

from flask import Flask, current_app, has_request_context, request

# What development serves when nothing else is known (``make run``'s address).
DEVELOPMENT_BASE_URL = "http://127.0.0.1:5000"
DEVELOPMENT_TRUSTED_HOSTS = ["localhost", "127.0.0.1", "::1"]


class MissingPublicBaseUrl(RuntimeError):
    """Production was started without ``LMS_PUBLIC_BASE_URL``."""


def init_app(app: Flask, *, production: bool) -> None:
    """Check the base URL; outside production, trust only local hosts unless told otherwise."""
    base = app.config.get("PUBLIC_BASE_URL")
    if base:
        app.config["PUBLIC_BASE_URL"] = _checked_base_url(base)
    elif production:
        raise MissingPublicBaseUrl(
            "LMS_PUBLIC_BASE_URL is not set. Production builds every link it mails or prints "
            "(password resets, invitations, certificates, badges) from it, never from the "
            "request's Host header: set it to the address students use, such as "
            "https://lms.school.edu."
        )
    hosts = _host_list(app.config.get("TRUSTED_HOSTS"))
    if hosts is None and not base and not production:
        hosts = list(DEVELOPMENT_TRUSTED_HOSTS)
    app.config["TRUSTED_HOSTS"] = hosts


def _checked_base_url(value: str) -> str:
    parts = urlsplit(str(value).strip())
    if parts.scheme not in ("http", "https") or not parts.hostname or parts.query:
        raise MissingPublicBaseUrl(
            f"LMS_PUBLIC_BASE_URL must be an http or https address such as "
            f"https://lms.school.edu, not {value!r}."
        )
    return f"{parts.scheme}://{parts.netloc}{parts.path.rstrip('/')}"


def _host_list(value: Any) -> list[str] | None:
    if not value:
        return None
    if isinstance(value, str):  # LMS_TRUSTED_HOSTS="a.example,b.example"
        value = value.split(",")
    return [str(host).strip() for host in value if str(host).strip()]


def public_base_url() -> str:
    """The school's address without a trailing slash: configured, or (development) the
    request's own host, which ``TRUSTED_HOSTS`` has already vetted."""
    base = current_app.config.get("PUBLIC_BASE_URL")
    if base:
        return str(base).rstrip("/")
    if has_request_context():
        return request.host_url.rstrip("/")
    return DEVELOPMENT_BASE_URL


def external_url(endpoint: str, **values: Any) -> str:
    """The absolute URL of ``endpoint`` under the public base URL (works outside a request)."""
    base = urlsplit(public_base_url())
    current_app.inject_url_defaults(endpoint, values)
    adapter = current_app.url_map.bind(
        base.netloc, script_name=base.path or "/", url_scheme=base.scheme
    )
    anchor = values.pop("_anchor", None)
    url = adapter.build(endpoint, values, force_external=True)
    return f"{url}#{anchor}" if anchor else url


def is_https() -> bool:
    """True when the public address is HTTPS (or, unset, the request came over HTTPS)."""
    base = current_app.config.get("PUBLIC_BASE_URL") or ""
    if base:
        return base.startswith("https://")
    return has_request_context() and request.is_secure
