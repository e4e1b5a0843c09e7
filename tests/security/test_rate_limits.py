"""Login is rate-limited per address and per account; so is the public certificate check."""

import os
import uuid

import pytest
import redis
from sqlalchemy import func, select

from lms import create_app
from lms.auth.models import Role
from lms.extensions import db
from lms.ledger.models import AuditEvent
from tests import factories
from tests.conftest import IsolatedClient, csrf_token, login

REDIS_URL = os.environ.get("LMS_TEST_REDIS_URL", "redis://127.0.0.1:6379/0")


def failed_logins():
    return db.session.scalar(
        select(func.count()).select_from(AuditEvent).where(AuditEvent.action == "login.failed")
    )


def test_failed_logins_per_account_are_limited(app, client):
    app.config["LOGIN_RATE_LIMIT_ACCOUNT"] = "3 per minute"
    student = factories.user(Role.STUDENT)
    for _ in range(3):
        assert login(client, student.email, "wrong password 1").status_code == 401
    response = login(client, student.email, "wrong password 1")
    assert response.status_code == 429
    page = response.get_data(as_text=True)
    assert "Too many attempts" in page and "Wait a minute" in page
    assert int(response.headers["Retry-After"]) > 0
    # Even the right password waits: the guesser cannot tell.
    assert login(client, student.email).status_code == 429
    assert failed_logins() == 3  # the refused tries never reached the password check
    # Another account from the same address is not locked.
    other = factories.user(Role.STUDENT)
    assert login(client, other.email).status_code == 302


def test_failed_logins_per_address_are_limited(app, client):
    app.config["LOGIN_RATE_LIMIT_IP"] = "4 per minute"
    emails = [factories.user(Role.STUDENT).email for _ in range(5)]
    for email in emails[:4]:
        assert login(client, email, "wrong password 1").status_code == 401
    assert login(client, emails[4]).status_code == 429
    # Another address is not affected.
    elsewhere = app.test_client()
    response = elsewhere.post(
        "/login",
        data={
            "email": emails[4],
            "password": factories.PASSWORD,
            "csrf_token": csrf_token(elsewhere),
        },
        environ_base={"REMOTE_ADDR": "203.0.113.9"},
    )
    assert response.status_code == 302


def test_successful_logins_do_not_count(app, client):
    app.config["LOGIN_RATE_LIMIT_ACCOUNT"] = "2 per minute"
    student = factories.user(Role.STUDENT)
    for _ in range(4):
        assert login(client, student.email).status_code == 302


def test_verify_page_is_rate_limited(app, client):
    app.config["VERIFY_RATE_LIMIT"] = "5 per minute"
    for _ in range(5):
        assert client.get("/verify/NOPE").status_code == 404
    response = client.get("/verify/NOPE", headers={"Accept": "application/json"})
    assert response.status_code == 429
    assert response.get_json()["error"]["status"] == 429


def test_a_refused_request_is_told_when_the_limit_lets_it_through(app, client):
    """Answered requests carry no X-RateLimit-* headers (each would cost the store a second
    read); the 429 says when the oldest counted request leaves the window."""
    app.config["VERIFY_RATE_LIMIT"] = "2 per hour"
    for _ in range(2):
        answered = client.get("/verify/NOPE")
        assert answered.status_code == 404
        assert not [name for name, _ in answered.headers if name.startswith("X-RateLimit")]
    refused = client.get("/verify/NOPE")
    assert refused.status_code == 429
    assert 3590 <= int(refused.headers["Retry-After"]) <= 3601


def test_json_clients_get_json_429(app, client):
    app.config["LOGIN_RATE_LIMIT_ACCOUNT"] = "1 per minute"
    student = factories.user(Role.STUDENT)
    login(client, student.email, "wrong password 1")
    response = client.post(
        "/login",
        data={"email": student.email, "password": "x", "csrf_token": csrf_token(client)},
        headers={"Accept": "application/json"},
    )
    assert response.status_code == 429


def _redis_available() -> bool:
    try:
        return redis.Redis.from_url(REDIS_URL, socket_connect_timeout=1).ping()
    except redis.RedisError:
        return False


def test_redis_url_setting_selects_redis_storage(monkeypatch, app):
    monkeypatch.setenv("LMS_REDIS_URL", "redis://redis.internal:6379/3")
    other = create_app({"SQLALCHEMY_DATABASE_URI": "sqlite://", "SECRET_KEY": "x", "TESTING": True})
    assert other.config["RATELIMIT_STORAGE_URI"] == "redis://redis.internal:6379/3"
    assert app.config["RATELIMIT_STORAGE_URI"] == "memory://"


@pytest.mark.skipif(not _redis_available(), reason="no Redis server at " + REDIS_URL)
def test_redis_shares_the_count_between_app_instances(app):
    """Two app instances (two workers or hosts) count failed logins together in Redis."""
    prefix = f"lms-test-{uuid.uuid4().hex}"
    workers = []
    for _ in range(2):
        worker = create_app(
            {
                "TESTING": True,
                "SQLALCHEMY_DATABASE_URI": app.config["SQLALCHEMY_DATABASE_URI"],
                "SECRET_KEY": "test-secret-key",
                "ARGON2_TIME_COST": 1,
                "ARGON2_MEMORY_COST": 8 * 1024,
                "REDIS_URL": REDIS_URL,
                "RATELIMIT_KEY_PREFIX": prefix,
                "LOGIN_RATE_LIMIT_ACCOUNT": "3 per minute",
            }
        )
        worker.test_client_class = IsolatedClient
        workers.append(worker)
    student = factories.user(Role.STUDENT)
    try:
        first, second = (w.test_client() for w in workers)
        statuses = [login(first, student.email, "wrong password 1").status_code for _ in range(2)]
        statuses.append(login(second, student.email, "wrong password 1").status_code)
        assert statuses == [401, 401, 401]
        assert login(second, student.email, "wrong password 1").status_code == 429
        assert login(first, student.email, "wrong password 1").status_code == 429
    finally:
        store = redis.Redis.from_url(REDIS_URL)
        keys = list(store.scan_iter(f"*{prefix}*"))
        if keys:
            store.delete(*keys)
        for worker in workers:
            with worker.app_context():
                db.engine.dispose()
    assert keys, "the counts were not kept in Redis"


def test_reset_requests_are_limited_per_email(app):
    app.config["RESET_RATE_LIMIT"] = "2 per minute"
    student = factories.user(Role.STUDENT)
    statuses = []
    for n in range(3):
        client = app.test_client()
        token = csrf_token(client)
        response = client.post(
            "/password/forgot",
            data={"email": student.email, "csrf_token": token},
            environ_base={"REMOTE_ADDR": f"198.51.100.{n + 1}"},
        )
        statuses.append(response.status_code)
    assert statuses == [302, 302, 429]
    assert len(app.extensions["mail_outbox"]) == 2


def test_unreachable_redis_falls_back_to_memory(app):
    """Logins keep working (and limited) if Redis is down."""
    worker = create_app(
        {
            "TESTING": True,
            "SQLALCHEMY_DATABASE_URI": app.config["SQLALCHEMY_DATABASE_URI"],
            "SECRET_KEY": "test-secret-key",
            "ARGON2_TIME_COST": 1,
            "ARGON2_MEMORY_COST": 8 * 1024,
            "REDIS_URL": "redis://127.0.0.1:1/0",  # nothing listens there
            "LOGIN_RATE_LIMIT_ACCOUNT": "2 per minute",
        }
    )
    worker.test_client_class = IsolatedClient
    student = factories.user(Role.STUDENT)
    client = worker.test_client()
    try:
        assert login(client, student.email).status_code == 302
        other = worker.test_client()
        statuses = [login(other, student.email, "wrong password 1").status_code for _ in range(3)]
        assert statuses == [401, 401, 429]
    finally:
        with worker.app_context():
            db.engine.dispose()


def test_every_login_and_verify_route_is_rate_limited(app):
    """Routes added later (e.g. ``/verify/<code>.json``) must be in security._apply_rate_limits."""
    must_limit = {
        rule.endpoint
        for rule in app.url_map.iter_rules()
        if rule.rule.startswith(("/verify", "/login", "/password/forgot"))
    }
    assert {"auth.login", "credentials.verify", "account.login_code"} <= must_limit
    unlimited = sorted(
        endpoint
        for endpoint in must_limit
        if getattr(app.view_functions[endpoint], "__wrapper-limiter-instance", None) is None
    )
    assert unlimited == [], "add these endpoints to lms.security._apply_rate_limits"


def test_limits_switched_off_leave_the_limited_pages_working(app):
    """LMS_RATELIMIT_ENABLED=false (a load test's setting) turns the limits off, not the pages."""
    import gc

    quiet = create_app(
        {
            "TESTING": True,
            "SQLALCHEMY_DATABASE_URI": app.config["SQLALCHEMY_DATABASE_URI"],
            "SECRET_KEY": "test-secret-key",
            "RATELIMIT_ENABLED": False,
        }
    )
    gc.collect()  # the limiter was collected here when nothing held it
    client = quiet.test_client()
    statuses = [client.get("/login").status_code for _ in range(30)]
    assert statuses == [200] * 30
    assert client.get("/verify/AAAA-BBBB").status_code == 404
    with quiet.app_context():
        db.engine.dispose()


def test_production_refuses_limits_each_worker_counts_alone(monkeypatch):
    from lms.security import LimitsNotShared

    monkeypatch.delenv("LMS_REDIS_URL", raising=False)
    monkeypatch.delenv("FLASK_RUN_FROM_CLI", raising=False)
    settings = {"SQLALCHEMY_DATABASE_URI": "sqlite://", "SECRET_KEY": "x"}
    settings["PUBLIC_BASE_URL"] = "https://lms.school.edu"
    with pytest.raises(LimitsNotShared, match="LMS_REDIS_URL"):
        create_app(settings)
    # Told that one process is all there is, or given a shared store, it starts.
    assert create_app({**settings, "RATELIMIT_PER_PROCESS": True})
    shared = create_app({**settings, "REDIS_URL": "redis://redis.internal:6379/0"})
    assert shared.config["RATELIMIT_STORAGE_URI"] == "redis://redis.internal:6379/0"


def test_join_codes_and_the_lti_login_are_limited(app, client):
    app.config["JOIN_RATE_LIMIT"] = "3 per minute"
    app.config["LTI_LOGIN_RATE_LIMIT"] = "2 per minute"
    student = factories.user(Role.STUDENT)
    login(client, student.email)
    statuses = [client.get(f"/join/GUESS{n}").status_code for n in range(4)]
    assert statuses == [404, 404, 404, 429]
    anonymous = app.test_client()
    statuses = [anonymous.get("/lti/login").status_code for _ in range(3)]
    assert statuses[:2] == [400, 400] and statuses[2] == 429
