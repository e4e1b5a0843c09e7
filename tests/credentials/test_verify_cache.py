"""Verification answers kept per certificate state (issue 21 item 2): validators and 304s,
a revocation or an end date seen at once, one query for a kept answer, the page of a
logged-in reader never kept, and the answers shared through Redis."""

import io
import os
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta

import pytest
import redis
from pypdf import PdfReader

from lms import create_app
from lms.auth.models import Role
from lms.credentials import service as credentials
from lms.credentials import verify_cache
from lms.extensions import db
from tests import factories
from tests.conftest import IsolatedClient, count_queries, login

REDIS_URL = os.environ.get("LMS_TEST_REDIS_URL", "redis://127.0.0.1:6379/0")
ANSWERS = ["", ".json", "/certificate.pdf"]


@pytest.fixture
def issued(app):
    """A valid certificate and the instructor who issued it."""
    factories.course("TERM", modules=1)
    credential = factories.credential("CPC", modules=["TERM-1"])
    instructor = factories.user(Role.INSTRUCTOR)
    student = factories.user(Role.STUDENT, name="Casey Coder")
    factories.pass_module(student, "TERM-1")
    certificate = credentials.issue_certificate(student, credential, instructor, factories.NOW)
    db.session.commit()
    return certificate, instructor


def queries(statements: list[str]) -> list[str]:
    """The statements that read or write rows (not SQLite's BEGIN)."""
    return [s for s in statements if s.strip().upper() != "BEGIN"]


def says(response, suffix: str) -> str:
    """What the answer says about the certificate's standing."""
    if suffix == ".json":
        return response.get_json()["status"]
    if suffix == "/certificate.pdf":
        text = PdfReader(io.BytesIO(response.get_data())).pages[0].extract_text()
        stamps = [word for word in ("REVOKED", "EXPIRED", "SUPERSEDED") if word in text]
        return stamps[0].lower() if stamps else "issued"
    text = response.get_data(as_text=True)
    for word in ("Revoked.", "Expired.", "Superseded.", "Valid."):
        if word in text:
            return {"Valid.": "issued"}.get(word, word.rstrip(".").lower())
    raise AssertionError("the page names no standing")


@pytest.mark.parametrize("suffix", ANSWERS)
def test_each_answer_carries_validators_and_answers_304_to_them(app, client, issued, suffix):
    certificate, _ = issued
    url = f"/verify/{certificate.code}{suffix}"
    first = client.get(url)
    assert first.status_code == 200 and says(first, suffix) == "issued"
    etag, modified = first.headers["ETag"], first.headers["Last-Modified"]
    assert etag.startswith('"') and not etag.startswith("W/")
    assert first.headers["Cache-Control"] == "no-cache"
    assert modified == "Mon, 02 Nov 2026 15:30:00 GMT"  # issued at factories.NOW

    again = client.get(url, headers={"If-None-Match": etag})
    assert again.status_code == 304 and again.get_data() == b""
    assert again.headers["ETag"] == etag
    assert client.get(url, headers={"If-Modified-Since": modified}).status_code == 304
    earlier = "Mon, 02 Nov 2026 15:29:59 GMT"
    assert client.get(url, headers={"If-Modified-Since": earlier}).status_code == 200
    other = client.get(url, headers={"If-None-Match": '"html-0000"'})
    assert other.status_code == 200 and other.get_data() == first.get_data()
    # the page, its JSON and its PDF have tags of their own
    tags = {client.get(f"/verify/{certificate.code}{s}").headers["ETag"] for s in ANSWERS}
    assert len(tags) == 3


@pytest.mark.parametrize("suffix", ANSWERS)
def test_a_revocation_shows_at_once_under_a_new_tag(app, client, issued, suffix):
    certificate, instructor = issued
    url = f"/verify/{certificate.code}{suffix}"
    before = client.get(url)
    assert says(client.get(url), suffix) == "issued"  # kept, and served from the cache
    credentials.revoke_certificate(
        instructor,
        certificate,
        "issued_in_error",
        "Typo in the roster.",
        factories.NOW + timedelta(hours=1),
        instructor_may=True,
    )
    db.session.commit()
    after = client.get(url, headers={"If-None-Match": before.headers["ETag"]})
    assert after.status_code == 200
    assert says(after, suffix) == "revoked"
    assert after.headers["ETag"] != before.headers["ETag"]
    assert after.headers["Last-Modified"] == "Mon, 02 Nov 2026 16:30:00 GMT"
    if suffix == "":
        assert "Issued in error" in after.get_data(as_text=True)


@pytest.mark.parametrize("suffix", ANSWERS)
def test_a_certificate_past_its_end_date_is_never_served_as_valid(
    app, client, issued, suffix, monkeypatch
):
    certificate, _ = issued
    ends = datetime.now(UTC) + timedelta(hours=1)
    certificate.expires_at = ends
    db.session.commit()
    url = f"/verify/{certificate.code}{suffix}"
    valid = client.get(url)
    assert says(valid, suffix) == "issued"
    assert says(client.get(url), suffix) == "issued"

    later = ends + timedelta(seconds=1)
    monkeypatch.setattr("lms.credentials.views.utcnow", lambda: later)
    expired = client.get(url, headers={"If-None-Match": valid.headers["ETag"]})
    assert expired.status_code == 200
    assert says(expired, suffix) == "expired"
    assert expired.headers["ETag"] != valid.headers["ETag"]
    assert expired.headers["Last-Modified"] == ends.strftime("%a, %d %b %Y %H:%M:%S GMT")


@pytest.mark.parametrize("suffix", ANSWERS)
def test_a_kept_answer_costs_one_query(app, client, issued, suffix):
    certificate, _ = issued
    url = f"/verify/{certificate.code}{suffix}"
    with count_queries() as rendering:
        first = client.get(url)
    with count_queries() as kept:
        second = client.get(url)
    with count_queries() as unchanged:
        assert client.get(url, headers={"If-None-Match": first.headers["ETag"]}).status_code == 304
    assert second.get_data() == first.get_data()
    assert len(queries(rendering)) > 1
    assert len(queries(kept)) == 1 and len(queries(unchanged)) == 1
    assert "FROM certificate" in kept[-1] and "WHERE certificate.code =" in kept[-1]


def test_a_logged_in_reader_gets_their_own_page_never_a_kept_one(app, client, issued):
    certificate, instructor = issued
    url = f"/verify/{certificate.code}"
    visitor = app.test_client()
    assert "Log out" not in visitor.get(url).get_data(as_text=True)  # now kept
    login(client, instructor.email)
    page = client.get(url)
    text = page.get_data(as_text=True)
    assert "Valid." in text and "Log out" in text
    assert page.headers["Cache-Control"] == "no-store" and "ETag" not in page.headers
    # the visitor's tag does not make a logged-in reader's page a 304
    tag = visitor.get(url).headers["ETag"]
    assert client.get(url, headers={"If-None-Match": tag}).status_code == 200
    assert "Log out" not in visitor.get(url).get_data(as_text=True)
    assert "Cookie" in visitor.get(url).headers["Vary"]


def test_the_in_process_cache_is_bounded_in_bytes():
    cache = verify_cache.VerifyCache(max_bytes=800, redis_url=None, ttl=60)
    for n in range(10):
        cache.put(f"k{n}", bytes(100))
    assert cache.size <= 800
    assert cache.get("k0") is None and cache.get("k9") == bytes(100)
    cache.put("big", bytes(500))  # more than an eighth of the budget: not kept
    assert cache.get("big") is None


@contextmanager
def another_app(app, **config) -> Iterator:
    """A second instance of the app on the test's database (another worker), its database
    connections closed when done (PostgreSQL would report them left open)."""
    other = create_app(
        {
            "TESTING": True,
            "SQLALCHEMY_DATABASE_URI": app.config["SQLALCHEMY_DATABASE_URI"],
            "SECRET_KEY": "test-secret-key",
            **config,
        }
    )
    other.test_client_class = IsolatedClient
    try:
        yield other
    finally:
        with other.app_context():
            db.engine.dispose()


def test_the_cache_can_be_turned_off(app, issued):
    certificate, _ = issued
    with another_app(app, VERIFY_CACHE=False) as off:
        visitor = off.test_client()
        first = visitor.get(f"/verify/{certificate.code}.json")
        assert first.status_code == 200 and first.get_json()["status"] == "issued"
        assert "ETag" in first.headers  # the validators do not need the cache
        with off.app_context():
            assert verify_cache.EXTENSION not in off.extensions


def _redis_available() -> bool:
    try:
        return redis.Redis.from_url(REDIS_URL, socket_connect_timeout=1).ping()
    except redis.RedisError:
        return False


@pytest.mark.skipif(not _redis_available(), reason="no Redis server at " + REDIS_URL)
def test_redis_shares_rendered_answers_between_app_instances(app, issued, monkeypatch):
    """What one worker rendered, another serves from Redis with one query."""
    certificate, _ = issued
    monkeypatch.setattr(verify_cache, "REDIS_PREFIX", f"lms-test-{uuid.uuid4().hex}:")
    store = redis.Redis.from_url(REDIS_URL)
    with (
        another_app(app, REDIS_URL=REDIS_URL) as one,
        another_app(app, REDIS_URL=REDIS_URL) as two,
    ):
        _share_through_redis(store, [one, two], certificate)


def _share_through_redis(store, workers, certificate) -> None:
    try:
        first, second = (w.test_client() for w in workers)
        url = f"/verify/{certificate.code}/certificate.pdf"
        rendered = first.get(url)
        assert rendered.status_code == 200
        keys = store.keys(verify_cache.REDIS_PREFIX + "*")
        assert len(keys) == 1
        assert 0 < store.ttl(keys[0]) <= verify_cache.DEFAULT_TTL
        with workers[1].app_context(), count_queries() as statements:
            shared = second.get(url)
        assert shared.get_data() == rendered.get_data()
        assert len(queries(statements)) == 1, statements
    finally:
        for key in store.keys(verify_cache.REDIS_PREFIX + "*"):
            store.delete(key)


def test_an_unreachable_redis_leaves_verification_working(app, issued):
    certificate, _ = issued
    # nothing listens on port 1
    with another_app(app, REDIS_URL="redis://127.0.0.1:1/0") as worker:
        visitor = worker.test_client()
        for _ in range(2):
            response = visitor.get(f"/verify/{certificate.code}.json")
            assert response.status_code == 200 and response.get_json()["status"] == "issued"


def test_an_answer_rendered_while_the_certificate_changed_is_not_kept(
    app, client, issued, monkeypatch
):
    """The view read the valid state, then a revocation committed before it rendered: the
    revoked answer it rendered is not kept under the valid state's key."""
    certificate, instructor = issued
    url = f"/verify/{certificate.code}.json"
    with app.test_request_context(url):
        valid = verify_cache.certificate_state(certificate.code, datetime.now(UTC))
    credentials.revoke_certificate(
        instructor, certificate, "other", "Roster error.", factories.NOW, instructor_may=True
    )
    db.session.commit()
    real = verify_cache.certificate_state
    reads = []

    def read_before_the_revocation_first(code, now):
        reads.append(real(code, now))
        return valid if len(reads) == 1 else reads[-1]

    monkeypatch.setattr(verify_cache, "certificate_state", read_before_the_revocation_first)
    raced = client.get(url)
    assert raced.get_json()["status"] == "revoked"
    assert raced.headers["ETag"] == f'"{valid.etag("json")}"'  # the state the view read
    assert reads[1].key != valid.key
    assert verify_cache.cache().get(f"json:{valid.key}") is None
    monkeypatch.setattr(verify_cache, "certificate_state", real)
    fresh = client.get(url, headers={"If-None-Match": raced.headers["ETag"]})
    assert fresh.status_code == 200 and fresh.get_json()["status"] == "revoked"
