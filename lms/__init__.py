"""A certification-readiness LMS for medical billing and coding schools.

(``db`` is deliberately not imported by that name here: ``lms.db`` is the module.)
"""

from __future__ import annotations

import os
import sqlite3
from pathlib import Path
from typing import Any

from flask import Flask
from sqlalchemy import event
from werkzeug.middleware.proxy_fix import ProxyFix

from lms import backup as backup_cli
from lms import forms, health, jwks, links, security, transactions
from lms.api import views as api_views
from lms.auth import account_views, admin_views, notice_views, token_views
from lms.auth import cli as auth_cli
from lms.auth import sessions as auth_sessions
from lms.auth import views as auth_views
from lms.auth.passwords import configure_hashing
from lms.auth.service import load_session_user
from lms.config import load_config, private_file
from lms.courses import authoring_views as courses_authoring_views
from lms.courses import bank_views as courses_bank_views
from lms.courses import cli as courses_cli
from lms.courses import codes_views as courses_codes_views
from lms.courses import media_views as courses_media_views
from lms.courses import package_views as courses_package_views
from lms.courses import views as courses_views
from lms.courses.authoring import service as courses_authoring
from lms.credentials import cli as credentials_cli
from lms.credentials import verify_cache
from lms.credentials import views as credentials_views
from lms.demo import cli as demo_cli
from lms.enrollment import certificate_views as enrollment_certificate_views
from lms.enrollment import cli as enrollment_cli
from lms.enrollment import evidence_views as enrollment_evidence_views
from lms.enrollment import service as enrollment_service
from lms.enrollment import views as enrollment_views
from lms.errors import register_error_handlers
from lms.extensions import csrf, login_manager, migrate
from lms.extensions import db as database
from lms.forms import IdConverter
from lms.ledger import cli as ledger_cli
from lms.ledger import service as ledger_service
from lms.lti import cli as lti_cli
from lms.lti import views as lti_views
from lms.lti.service import grades as lti_grades
from lms.mail import cli as mail_cli
from lms.mail import models as mail_models  # noqa: F401 - the outbox table
from lms.paths import MIGRATIONS_DIR
from lms.reports import cli as reports_cli
from lms.reports import gradebook_views as reports_gradebook_views
from lms.reports import people_views as reports_people_views
from lms.reports import views as reports_views
from lms.templating import register_template_helpers


def create_app(config: dict[str, Any] | None = None) -> Flask:
    """Build the application: config, extensions, blueprints, CLI, error handlers."""
    instance = os.environ.get("LMS_INSTANCE_PATH")
    app = Flask(__name__, instance_path=os.path.abspath(instance) if instance else None)
    load_config(app, config)
    app.url_map.converters["int"] = IdConverter
    links.init_app(app, production=not app.testing and not auth_sessions.is_development(app))

    database.init_app(app)
    with app.app_context():
        if database.engine.dialect.name == "sqlite":
            _configure_sqlite(database.engine)
    migrate.init_app(app, database, directory=str(MIGRATIONS_DIR), render_as_batch=True)
    # before CSRF, which reads the body: an oversized upload shows its form again
    app.before_request(forms.refuse_oversized_upload)
    csrf.init_app(app)
    _init_login(app)
    configure_hashing(app.config.get("ARGON2_TIME_COST"), app.config.get("ARGON2_MEMORY_COST"))

    for blueprint in (
        health.bp,
        jwks.bp,
        auth_views.bp,
        auth_cli.bp,
        courses_views.bp,
        courses_bank_views.bp,
        courses_package_views.bp,
        courses_media_views.bp,
        courses_authoring_views.bp,
        courses_codes_views.bp,
        courses_cli.bp,
        enrollment_views.bp,
        enrollment_evidence_views.bp,
        enrollment_certificate_views.bp,
        credentials_views.bp,
        credentials_cli.bp,
        reports_views.bp,
        demo_cli.bp,
        lti_views.bp,
        lti_cli.bp,
        token_views.bp,
        reports_people_views.bp,
        reports_gradebook_views.bp,
        reports_cli.bp,
        ledger_cli.bp,
        api_views.bp,
        account_views.bp,
        admin_views.bp,
        notice_views.bp,
        admin_views.mail_bp,
        backup_cli.bp,
        mail_cli.bp,
        enrollment_cli.bp,
        enrollment_cli.progress_bp,
    ):
        app.register_blueprint(blueprint)

    ledger_service.ledger_appended.connect(enrollment_service.on_ledger_appended)
    ledger_service.ledger_appended.connect(lti_grades.on_ledger_appended)
    ledger_service.facts_changed.connect(enrollment_service.on_facts_changed)
    courses_authoring.asking_dependents.connect(enrollment_service.module_dependents)
    register_template_helpers(app)
    register_error_handlers(app)
    _trust_proxy(app)
    security.init_app(app)
    verify_cache.init_app(app)
    # Registered last, so it runs first after each view: a failed commit's error page still
    # gets the security headers added above.
    transactions.init_app(app)
    return app


def _trust_proxy(app: Flask) -> None:
    """Behind a reverse proxy, take the client's address and scheme from the number of
    proxies the operator declares (``LMS_PROXY_COUNT``); never trust the headers otherwise."""
    hops = int(app.config.get("PROXY_COUNT", 0) or 0)
    if hops > 0:
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=hops, x_proto=hops, x_host=hops)


def _init_login(app: Flask) -> None:
    login_manager.init_app(app)
    login_manager.login_view = "auth.login"
    login_manager.login_message = "Please log in to see that page."
    login_manager.login_message_category = "info"
    login_manager.user_loader(load_session_user)


def _configure_sqlite(engine: Any) -> None:
    """A database file only its owner reads; foreign keys on, WAL, a busy timeout, and
    transactions SQLAlchemy fully controls (pysqlite's own BEGIN handling breaks SAVEPOINT)."""
    if engine.url.database not in (None, "", ":memory:"):
        private_file(Path(engine.url.database))

    @event.listens_for(engine, "connect")
    def on_connect(dbapi_connection: sqlite3.Connection, _record: Any) -> None:
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA foreign_keys = ON")
        cursor.execute(f"PRAGMA busy_timeout = {SQLITE_BUSY_TIMEOUT_MS}")
        if engine.url.database not in (None, "", ":memory:"):
            cursor.execute("PRAGMA journal_mode = WAL")
        cursor.close()

    @event.listens_for(engine, "begin")
    def on_begin(connection: Any) -> None:
        # A request that may write takes the write lock at BEGIN: a deferred transaction that
        # reads and then writes is refused at once (not after busy_timeout) when another
        # writer got there first, which turned concurrent autosaves (and transcript views, which
        # log a disclosure) into errors. GET views that write say so: @writes_on_get.
        connection.exec_driver_sql("BEGIN IMMEDIATE" if transactions.request_writes() else "BEGIN")


# How long a writer waits for SQLite's write lock before its request fails (whole). SQLite's
# own busy handler does the waiting: it sleeps between tries and costs no CPU. (A loop trying
# every 0.1-2 ms was tried under load: it spent 13% of the server's CPU polling and the
# latencies were no better.)
SQLITE_BUSY_TIMEOUT_MS = 5000
