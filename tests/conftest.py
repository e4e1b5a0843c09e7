"""Fixtures: every test gets a freshly migrated database and leaves nothing behind.

SQLite (the default): the migrations run once into a template file, which each test copies.
PostgreSQL (``LMS_DATABASE_URL=postgresql+psycopg://...``): the migrations run once into the
given database, and every table is emptied before and after each test.
"""

from __future__ import annotations

import atexit
import contextvars
import os
import re
import shutil
import tempfile
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path

import pytest
from flask import Flask, has_app_context
from flask.testing import FlaskClient
from flask_migrate import upgrade
from sqlalchemy import create_engine, event, make_url, text

from lms import create_app
from lms.config import normalise_database_url
from lms.extensions import db
from tests import factories

DATABASE_URL = os.environ.get("LMS_DATABASE_URL", "")
# Under pytest-xdist each worker (gw0, gw1, ...) runs its tests on a database of its own.
WORKER = os.environ.get("PYTEST_XDIST_WORKER", "")
# One signing-key folder for the whole run (an RSA key is made once, on first use), never the
# repository's instance/ folder. A test that rotates keys points SIGNING_KEY_DIR elsewhere.
SIGNING_KEYS = tempfile.mkdtemp(prefix="lms-test-keys-")
atexit.register(shutil.rmtree, SIGNING_KEYS, ignore_errors=True)
ON_POSTGRES = DATABASE_URL.startswith(("postgres", "postgresql"))


class IsolatedClient(FlaskClient):
    """A test client whose every request runs in a fresh context, as in production.

    The test itself holds an app context (for factories and assertions). Flask would let a
    request reuse it, sharing ``g`` and the database session with the test; running each
    request in an empty ``contextvars.Context`` gives it its own. The test's session is
    committed around each request, so the test then reads what the request left.
    """

    def open(self, *args, **kwargs):
        if not has_app_context():  # a redirect being followed: already isolated
            return super().open(*args, **kwargs)
        db.session.commit()
        try:
            return contextvars.Context().run(self._open_and_read, *args, **kwargs)
        finally:
            db.session.commit()

    def _open_and_read(self, *args, **kwargs):
        response = super().open(*args, **kwargs)
        response.get_data()  # a streamed body runs in the request's context too
        return response


def _app_for(url: str) -> Flask:
    app = create_app(
        {
            "TESTING": True,
            "SQLALCHEMY_DATABASE_URI": url,
            "SECRET_KEY": "test-secret-key",
            "SIGNING_KEY_DIR": SIGNING_KEYS,
            "SIGNING_KEY_FILE": os.path.join(SIGNING_KEYS, "none-before-the-store.pem"),
            "AUDIT_KEY_FILE": os.path.join(SIGNING_KEYS, "audit_key"),
            "ARGON2_TIME_COST": 1,  # cheap hashes keep the suite fast
            "ARGON2_MEMORY_COST": 8 * 1024,
            # mail is delivered before the response returns, so a test reads it at once
            # (production sends it after the response: tests/test_mail.py covers that)
            "MAIL_DELIVERY": "inline",
        }
    )
    app.test_client_class = IsolatedClient
    return app


@pytest.fixture(scope="session")
def database_template(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """A database migrated to the newest revision: a template file, or the PostgreSQL URL."""
    folder = tmp_path_factory.mktemp("db")
    if ON_POSTGRES:
        url = _worker_database(normalise_database_url(DATABASE_URL))
        engine = create_engine(url)
        with engine.begin() as connection:
            connection.execute(text("DROP SCHEMA public CASCADE"))
            connection.execute(text("CREATE SCHEMA public"))
        engine.dispose()
    else:
        url = f"sqlite:///{folder / 'template.sqlite3'}"
    app = _app_for(url)
    with app.app_context():
        upgrade()
        db.engine.dispose()
    yield url


def _worker_database(url: str) -> str:
    """The PostgreSQL URL this process tests on: the given database, or under pytest-xdist a
    database beside it named after the worker (``test_gw0``), created when missing."""
    if not WORKER:
        return url
    given = make_url(url)
    name = f"{given.database}_{WORKER}"
    engine = create_engine(given, isolation_level="AUTOCOMMIT")
    with engine.connect() as connection:
        exists = connection.execute(
            text("SELECT 1 FROM pg_database WHERE datname = :name"), {"name": name}
        ).scalar()
        if not exists:
            connection.execute(text(f'CREATE DATABASE "{name}"'))
    engine.dispose()
    return given.set(database=name).render_as_string(hide_password=False)


@pytest.fixture
def empty_database(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """An empty database of the test's own for migrations to run in: a SQLite file, or on
    PostgreSQL a schema of the test database named after the test's module, dropped after."""
    if not ON_POSTGRES:
        yield f"sqlite:///{tmp_path / 'migration.sqlite3'}"
        return
    schema = "migration_" + request.module.__name__.rsplit(".", 1)[-1]
    url = make_url(_worker_database(normalise_database_url(DATABASE_URL)))
    engine = create_engine(url)
    with engine.begin() as connection:
        connection.execute(text(f"DROP SCHEMA IF EXISTS {schema} CASCADE"))
        connection.execute(text(f"CREATE SCHEMA {schema}"))
    try:
        scoped = url.update_query_dict({"options": f"-csearch_path={schema}"})
        yield scoped.render_as_string(hide_password=False)
    finally:
        with engine.begin() as connection:
            connection.execute(text(f"DROP SCHEMA IF EXISTS {schema} CASCADE"))
        engine.dispose()


@contextmanager
def database_at(url: str, revision: str, statements: Sequence[str] = ()) -> Iterator[Flask]:
    """The app, in its context, on ``url`` migrated to ``revision`` and holding the rows
    ``statements`` insert: a database as old as that revision, for a migration test."""
    app = _app_for(url)
    with app.app_context():
        upgrade(revision=revision)
        for statement in statements:
            db.session.execute(text(statement))
        db.session.commit()
        try:
            yield app
        finally:
            db.session.remove()
            db.engine.dispose()


def _empty_postgres_tables() -> None:
    tables = ", ".join(f'"{t.name}"' for t in db.metadata.sorted_tables)
    # The ledger and the audit log refuse TRUNCATE (a trigger); the suite's own clean-up, as
    # a superuser, switches triggers off for this one transaction.
    db.session.execute(text("SET LOCAL session_replication_role = replica"))
    db.session.execute(text(f"TRUNCATE {tables} RESTART IDENTITY CASCADE"))
    db.session.commit()


@pytest.fixture
def app(database_template: str, tmp_path: Path) -> Iterator[Flask]:
    """The app on a clean database of its own."""
    if ON_POSTGRES:
        url = database_template
    else:
        template = Path(database_template.removeprefix("sqlite:///"))
        copy = tmp_path / "lms.sqlite3"
        shutil.copyfile(template, copy)
        url = f"sqlite:///{copy}"
    app = _app_for(url)
    with app.app_context():
        # Requests keep their objects after commit (expire_on_commit=False); the test's own
        # session expires them, so a test reads what a request (or another thread) wrote.
        db.session().expire_on_commit = True
        if ON_POSTGRES:
            _empty_postgres_tables()
        yield app
        db.session.remove()
        if ON_POSTGRES:
            _empty_postgres_tables()
        db.engine.dispose()


@pytest.fixture
def client(app: Flask) -> FlaskClient:
    """A test client; CSRF protection stays on, so forms need ``csrf_token(client)``."""
    return app.test_client()


@pytest.fixture
def runner(app: Flask):
    """The CLI runner."""
    return app.test_cli_runner()


CSRF_FIELD = re.compile(r'name="csrf_token" type="hidden" value="([^"]+)"')


def csrf_token(client: FlaskClient) -> str:
    """The CSRF token of the client's session, read from the login page's form."""
    page = client.get("/login").get_data(as_text=True)
    match = CSRF_FIELD.search(page)
    assert match, "no CSRF token on the login page"
    return match.group(1)


def login(client: FlaskClient, email: str, password: str = factories.PASSWORD):
    """Log in through the form, as a person would."""
    return client.post(
        "/login",
        data={"email": email, "password": password, "csrf_token": csrf_token(client)},
    )


def post_form(client: FlaskClient, url: str, data: dict | None = None, **kwargs):
    """POST a form with the session's CSRF token."""
    return client.post(url, data={**(data or {}), "csrf_token": csrf_token(client)}, **kwargs)


@contextmanager
def count_queries() -> Iterator[list[str]]:
    """Collect the SQL statements run inside the block."""
    statements: list[str] = []

    def before_execute(conn, cursor, statement, parameters, context, executemany):
        statements.append(statement)

    event.listen(db.engine, "before_cursor_execute", before_execute)
    try:
        yield statements
    finally:
        event.remove(db.engine, "before_cursor_execute", before_execute)


WRITE_STATEMENT = re.compile(r"^\s*(INSERT|UPDATE|DELETE|REPLACE)\b", re.I)


def writes_in(statements: list[str]) -> list[str]:
    """The statements among ``statements`` that change rows."""
    return [s for s in statements if WRITE_STATEMENT.match(s)]


def get_may_write(app: Flask, path: str) -> str | None:
    """Why the GET view at ``path`` may write (its ``@writes_on_get`` reason), or None."""
    adapter = app.url_map.bind("localhost")
    endpoint, _args = adapter.match(path.split("?")[0], method="GET")
    return getattr(app.view_functions[endpoint], "writes_on_get", None)
