"""Configuration: LMS_* variables, the generated secret key, the proxy setting."""

import stat

import pytest
from flask import request
from sqlalchemy import text

from lms import create_app
from lms.config import normalise_database_url


def test_secret_key_is_generated_once_into_the_instance_folder(tmp_path, monkeypatch):
    monkeypatch.setenv("LMS_INSTANCE_PATH", str(tmp_path))
    monkeypatch.delenv("LMS_SECRET_KEY", raising=False)
    settings = {
        "SQLALCHEMY_DATABASE_URI": "sqlite://",
        "PUBLIC_BASE_URL": "https://lms.test",
        "RATELIMIT_PER_PROCESS": True,
    }
    first = create_app(settings)
    second = create_app(settings)
    key_file = tmp_path / "secret_key"
    assert first.config["SECRET_KEY"] == second.config["SECRET_KEY"] == key_file.read_text()
    assert len(first.config["SECRET_KEY"]) == 64
    assert stat.S_IMODE(key_file.stat().st_mode) == 0o600


def test_environment_variables_override_defaults(tmp_path, monkeypatch):
    monkeypatch.setenv("LMS_INSTANCE_PATH", str(tmp_path))
    monkeypatch.setenv("LMS_SECRET_KEY", "from-the-environment")
    monkeypatch.setenv("LMS_SCHOOL_NAME", "Lakeside College")
    monkeypatch.setenv("LMS_PUBLIC_BASE_URL", "https://lms.lakeside.edu")
    monkeypatch.setenv("LMS_REDIS_URL", "redis://127.0.0.1:6379/9")
    monkeypatch.setenv("LMS_DATABASE_URL", f"sqlite:///{tmp_path / 'x.sqlite3'}")
    app = create_app()
    assert app.config["SECRET_KEY"] == "from-the-environment"
    assert app.config["SCHOOL_NAME"] == "Lakeside College"
    assert app.config["SQLALCHEMY_DATABASE_URI"].endswith("x.sqlite3")
    assert app.config["PUBLIC_BASE_URL"] == "https://lms.lakeside.edu"
    assert not (tmp_path / "secret_key").exists()


def test_postgres_urls_use_psycopg_3():
    assert normalise_database_url("postgres://u@h/db") == "postgresql+psycopg://u@h/db"
    assert normalise_database_url("postgresql://u@h/db") == "postgresql+psycopg://u@h/db"
    assert normalise_database_url("sqlite:///x") == "sqlite:///x"


def client_address() -> str:
    return request.remote_addr


def test_client_address_comes_from_the_proxy_only_when_configured(app):
    headers = {"X-Forwarded-For": "203.0.113.9"}
    app.add_url_rule("/_ip", "_ip", client_address)
    assert app.test_client().get("/_ip", headers=headers).text == "127.0.0.1"
    proxied = create_app({**app.config, "PROXY_COUNT": 1})
    proxied.add_url_rule("/_ip", "_ip", client_address)
    assert proxied.test_client().get("/_ip", headers=headers).text == "203.0.113.9"


def test_the_sqlite_database_is_readable_by_its_owner_only(tmp_path, monkeypatch):
    monkeypatch.setenv("LMS_INSTANCE_PATH", str(tmp_path / "instance"))
    # The default SQLite file, also when the suite runs on PostgreSQL (LMS_DATABASE_URL).
    monkeypatch.delenv("LMS_DATABASE_URL", raising=False)
    app = create_app({"TESTING": True, "SECRET_KEY": "x"})
    database = tmp_path / "instance" / "lms.sqlite3"
    assert app.config["SQLALCHEMY_DATABASE_URI"].endswith(str(database))
    assert stat.S_IMODE(database.stat().st_mode) == 0o600
    assert stat.S_IMODE((tmp_path / "instance").stat().st_mode) == 0o700
    with app.app_context():
        from lms.extensions import db

        db.session.execute(text("CREATE TABLE t (x)"))  # WAL files follow the database's mode
        db.session.commit()
        for path in tmp_path.glob("instance/lms.sqlite3*"):
            assert stat.S_IMODE(path.stat().st_mode) == 0o600, path.name
        db.engine.dispose()
    # A database made world-readable before is made private again at start.
    database.chmod(0o644)
    create_app({"TESTING": True, "SECRET_KEY": "x"})
    assert stat.S_IMODE(database.stat().st_mode) == 0o600


def test_postgresql_statements_are_planned_for_their_own_parameters(tmp_path):
    """psycopg prepares a statement on its fifth run, and PostgreSQL may then plan it once for
    every parameter: a plan for the average cohort is slow for the largest. The app turns
    server-side preparing off for PostgreSQL; a deployment that sets it keeps its choice."""
    from flask import Flask

    from lms.config import load_config

    def options(**settings):
        app = Flask(__name__, instance_path=str(tmp_path))
        load_config(app, {"SECRET_KEY": "x", **settings})
        return app.config["SQLALCHEMY_ENGINE_OPTIONS"]

    chosen = options(SQLALCHEMY_DATABASE_URI="postgres://lms@db.example/lms")
    assert chosen["connect_args"] == {"prepare_threshold": None} and chosen["pool_pre_ping"]
    kept = options(
        SQLALCHEMY_DATABASE_URI="postgresql://lms@db.example/lms",
        SQLALCHEMY_ENGINE_OPTIONS={"connect_args": {"prepare_threshold": 5}},
    )
    assert kept["connect_args"] == {"prepare_threshold": 5}
    assert "connect_args" not in options(SQLALCHEMY_DATABASE_URI="sqlite://")


def test_the_test_database_prepares_no_statement_however_often_it_runs(app):
    from lms.extensions import db

    if db.engine.dialect.name != "postgresql":
        pytest.skip("SQLite plans each statement for its own parameters anyway")
    for cohort_id in range(8):
        db.session.execute(text("select :cohort_id + 1"), {"cohort_id": cohort_id})
    assert db.session.scalar(text("select count(*) from pg_prepared_statements")) == 0
