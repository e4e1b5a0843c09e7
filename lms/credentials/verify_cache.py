"""Verification answers kept per certificate state, so that checking a certificate costs one
small query instead of loading it and rendering its page or PDF again.

A certificate's *state* is everything its verification page, JSON and PDF show: its code,
its standing at the moment asked (so an issued certificate past its end date is a different
state: expired), its dates, its newest event (a revocation or supersession adds one; events
are never changed), the holder's name, the credential's names and the requirement version,
plus what the answer is rendered with: the public base URL, the school's name and a digest
of the templates and rendering code. ``certificate_state`` reads all of it in one indexed
query and hashes it into a key. A rendered answer is stored under its key, so a changed
certificate simply has a new key: nothing stale can be served, and nothing has to be dropped
when a certificate is revoked (an old entry ages out of the cache unused).

The same key makes the validators: a strong ``ETag`` per answer and ``Last-Modified`` (the
last change of standing). Answers say ``Cache-Control: no-cache``: a browser or proxy may keep
a copy but asks again every time (a 304 when nothing changed), so a revocation is visible at
the next view, never minutes later.

Rendered bytes live in this process's memory (least recently used dropped first, bounded by
``VERIFY_CACHE_BYTES``) and, when ``REDIS_URL`` is set, in Redis as well, shared by every
worker and host (kept ``VERIFY_CACHE_TTL`` seconds, never past a certificate's end date).
Since a key names one state for good, the two levels cannot disagree.
"""

from __future__ import annotations

import hashlib
import logging
import threading
import time
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from functools import cache as cache_once
from pathlib import Path
from typing import Any

from flask import Flask, Response, current_app, request, session
from flask_login import current_user
from sqlalchemy import Select, bindparam, func, select

from lms import links
from lms.auth.models import User
from lms.credentials.certificates.codes import normalise_code
from lms.credentials.models import (
    Certificate,
    CertificateEvent,
    CertificateStatus,
    Credential,
    RequirementSet,
)
from lms.errors import NotFound
from lms.extensions import db

log = logging.getLogger(__name__)

EXTENSION = "lms.verify_cache"
DEFAULT_BYTES = 64 * 1024 * 1024
DEFAULT_TTL = 24 * 60 * 60
REDIS_PREFIX = "lms:verify:"
REDIS_PAUSE = 30.0  # seconds without Redis after it failed, so a dead Redis costs no time
# What the answers are rendered with: a change to any of these (a deploy) changes every key.
_PACKAGE = Path(__file__).resolve().parent.parent
_RENDERING_SOURCES = (
    "credentials/views.py",
    "credentials/pdf.py",
    "credentials/verify_cache.py",
    "credentials/certificates/standing.py",
    "credentials/certificates/wording.py",
    "templating.py",
)


@dataclass(frozen=True)
class CertificateState:
    """What a verification answer depends on, read in one query."""

    code: str
    status: CertificateStatus  # the standing at the moment asked
    last_change: datetime  # issue, newest event, or the end date once passed
    expires_at: datetime | None
    key: str

    def etag(self, form: str) -> str:
        """The strong entity tag of one answer (``html``, ``json`` or ``pdf``) in this state."""
        return f"{form}-{self.key[:40]}"


def certificate_state(code: str, now: datetime) -> CertificateState:
    """The state of the certificate with this public code at ``now``, or ``NotFound``."""
    canonical = normalise_code(code)
    row = None
    if canonical is not None:
        # Core, with a statement built once: the ORM's per-call work was most of a kept answer.
        row = db.session.connection().execute(_state_query(), {"code": canonical}).one_or_none()
    if row is None:
        raise NotFound("No certificate has this code. Check it against the printed certificate.")
    code, status, issued_at, expires_at, event_id, event_at = row[:6]
    expired = status is CertificateStatus.ISSUED and expires_at is not None and expires_at <= now
    standing = CertificateStatus.EXPIRED if expired else status
    changes = [issued_at, event_at or issued_at, expires_at if expired else issued_at]
    facts = (
        rendering_version(),
        links.public_base_url(),
        request.script_root,
        current_app.config["SCHOOL_NAME"],
        standing.value,
        status.value,
        issued_at.isoformat(),
        expires_at.isoformat() if expires_at else "",
        event_id,
        *row[6:],
    )
    key = hashlib.sha256(repr(facts).encode()).hexdigest()
    return CertificateState(code, standing, max(changes), expires_at, key)


@cache_once
def _state_query() -> Select:
    """One row per certificate: what its answers show, and its newest event (an index on
    ``certificate_event.certificate_id`` finds it)."""
    newest_event = (
        select(func.max(CertificateEvent.id))
        .where(CertificateEvent.certificate_id == Certificate.id)
        .scalar_subquery()
    )
    newest_event_at = (
        select(func.max(CertificateEvent.occurred_at))
        .where(CertificateEvent.certificate_id == Certificate.id)
        .scalar_subquery()
    )
    return (
        select(
            Certificate.code,
            Certificate.status,
            Certificate.issued_at,
            Certificate.expires_at,
            newest_event,
            newest_event_at,
            User.full_name,
            Credential.code,
            Credential.name,
            Credential.issuing_body,
            RequirementSet.version,
        )
        .join(User, User.id == Certificate.student_id)
        .join(Credential, Credential.id == Certificate.credential_id)
        .join(RequirementSet, RequirementSet.id == Certificate.requirement_set_id)
        .where(Certificate.code == bindparam("code"))
    )


_rendering_version: str | None = None


def rendering_version() -> str:
    """A digest of every template and of the code that renders verification answers."""
    global _rendering_version
    if _rendering_version is None:
        digest = hashlib.sha256()
        paths = sorted((_PACKAGE / "templates").rglob("*.html"))
        paths += [_PACKAGE / name for name in _RENDERING_SOURCES]
        for path in paths:
            digest.update(str(path.relative_to(_PACKAGE)).encode())
            digest.update(path.read_bytes())
        _rendering_version = digest.hexdigest()[:16]
    return _rendering_version


def anonymous_page() -> bool:
    """Whether the page being answered is the one every visitor gets: nobody logged in (the
    header shows a logged-in user's menu) and no message waiting to be shown."""
    return not current_user.is_authenticated and "_flashes" not in session


class VerifyCache:
    """Rendered answers by key: in this process (LRU, bounded in bytes), and in Redis when
    one is configured."""

    def __init__(self, max_bytes: int, redis_url: str | None, ttl: int) -> None:
        self.max_bytes = max(0, int(max_bytes))
        self.ttl = max(1, int(ttl))
        self._entries: OrderedDict[str, bytes] = OrderedDict()
        self._size = 0
        self._lock = threading.Lock()
        self._redis: Any = None
        self._redis_paused_until = 0.0
        if redis_url:
            from redis import Redis

            self._redis = Redis.from_url(redis_url, socket_timeout=0.5, socket_connect_timeout=0.5)

    @property
    def size(self) -> int:
        """Bytes held in this process."""
        return self._size

    def get(self, key: str) -> bytes | None:
        """The stored answer, or None."""
        with self._lock:
            body = self._entries.get(key)
            if body is not None:
                self._entries.move_to_end(key)
                return body
        body = self._redis_call(lambda redis: redis.get(REDIS_PREFIX + key))
        if body is not None:
            self._remember(key, body)
        return body

    def put(self, key: str, body: bytes, ttl: int | None = None) -> None:
        """Store an answer (in Redis for ``ttl`` seconds at most)."""
        self._remember(key, body)
        seconds = max(1, min(self.ttl, ttl if ttl is not None else self.ttl))
        self._redis_call(lambda redis: redis.set(REDIS_PREFIX + key, body, ex=seconds))

    def clear(self) -> None:
        """Forget what this process holds (Redis entries age out by themselves)."""
        with self._lock:
            self._entries.clear()
            self._size = 0

    def _remember(self, key: str, body: bytes) -> None:
        if len(body) > self.max_bytes // 8:  # one answer may not crowd out the rest
            return
        with self._lock:
            old = self._entries.pop(key, None)
            if old is not None:
                self._size -= len(old)
            self._entries[key] = body
            self._size += len(body)
            while self._size > self.max_bytes:
                _, dropped = self._entries.popitem(last=False)
                self._size -= len(dropped)

    def _redis_call(self, call: Callable[[Any], Any]) -> Any:
        """Run ``call`` on Redis; None without Redis, or when it fails (then Redis is left
        alone for a while and answers are rendered or kept in this process only)."""
        if self._redis is None or time.monotonic() < self._redis_paused_until:
            return None
        from redis import RedisError

        try:
            return call(self._redis)
        except RedisError:
            self._redis_paused_until = time.monotonic() + REDIS_PAUSE
            log.warning("verification cache: Redis unavailable, rendering without it")
            return None


def init_app(app: Flask) -> None:
    """Make the app's cache from its settings (``VERIFY_CACHE``, ``VERIFY_CACHE_BYTES``,
    ``VERIFY_CACHE_TTL``, ``REDIS_URL``)."""
    app.config.setdefault("VERIFY_CACHE", True)
    app.config.setdefault("VERIFY_CACHE_BYTES", DEFAULT_BYTES)
    app.config.setdefault("VERIFY_CACHE_TTL", DEFAULT_TTL)
    if app.config["VERIFY_CACHE"]:
        app.extensions[EXTENSION] = VerifyCache(
            app.config["VERIFY_CACHE_BYTES"],
            app.config.get("REDIS_URL"),
            app.config["VERIFY_CACHE_TTL"],
        )


def cache() -> VerifyCache | None:
    """The app's cache, or None when it is turned off."""
    return current_app.extensions.get(EXTENSION)


def _not_modified(state: CertificateState, etag: str) -> bool:
    """Whether the client's copy is this state's (If-None-Match wins over If-Modified-Since)."""
    if request.if_none_match:
        return request.if_none_match.contains(etag)
    since = request.if_modified_since
    return since is not None and int(state.last_change.timestamp()) <= since.timestamp()


def answer(
    state: CertificateState,
    form: str,
    mimetype: str,
    render: Callable[[], bytes],
    now: datetime,
    headers: dict[str, str] | None = None,
) -> Response:
    """The answer in ``state``: 304 when the client holds it, else the stored bytes, or the
    bytes ``render`` makes (then stored); with its validators."""
    etag = state.etag(form)
    response = Response(mimetype=mimetype, headers=headers)
    if _not_modified(state, etag):
        response.status_code = 304
    else:
        store = cache()
        key = f"{form}:{state.key}"
        body = store.get(key) if store is not None else None
        if body is None:
            body = render()
            # Kept only if the certificate did not change while it was rendered: the bytes
            # must be those of the state the key names.
            if store is not None and certificate_state(state.code, now).key == state.key:
                store.put(key, body, _seconds_left(state, now))
        response.set_data(body)
    response.set_etag(etag)
    response.last_modified = state.last_change
    response.headers["Cache-Control"] = "no-cache"
    return response


def _seconds_left(state: CertificateState, now: datetime) -> int | None:
    """How long a shared copy is worth keeping: an issued certificate's answer not past its
    end date (a later request has another key by then)."""
    if state.status is CertificateStatus.ISSUED and state.expires_at is not None:
        return max(1, int((state.expires_at - now).total_seconds()))
    return None
