"""Real-browser tests: the app served on 127.0.0.1, driven by Debian's Chromium.

The app runs in a thread of the test process on a free port, on a fresh SQLite database of
its own (migrated and loaded with the demo data), whatever database the rest of the suite
uses. Without Chromium every test here is skipped, and the run says so.
"""

from __future__ import annotations

import shutil
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
from axe_playwright_python.sync_playwright import Axe
from flask import Flask
from flask_migrate import upgrade
from werkzeug.serving import make_server

from lms import create_app
from lms.db import utcnow
from lms.demo import seed
from lms.extensions import db

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
HAVE_CHROMIUM = Path(CHROMIUM).exists()
WCAG_21_AA = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"]


# werkzeug's threaded test server leaves a static file's response unclosed when the browser
# moves to the next page before reading it (the favicon, most often); the file is then closed
# by the garbage collector, which Python reports as an unraisable ResourceWarning at a random
# later test. It is the test server's, not the app's (production serves static files through
# gunicorn, which closes them), so only that warning is let through in the browser tests.
STATIC_FILE_LEFT_OPEN = pytest.mark.filterwarnings(
    "ignore:Exception ignored in. <_io.FileIO name=.*/lms/static/"
    ":pytest.PytestUnraisableExceptionWarning"
)


def pytest_collection_modifyitems(config, items):
    browser_tests = [item for item in items if "tests/e2e/" in str(item.fspath).replace("\\", "/")]
    for item in browser_tests:
        item.add_marker(STATIC_FILE_LEFT_OPEN)
    if HAVE_CHROMIUM:
        return
    skip = pytest.mark.skip(reason="Chromium is not installed: browser tests skipped")
    for item in browser_tests:
        item.add_marker(skip)


def pytest_terminal_summary(terminalreporter):
    if not HAVE_CHROMIUM:
        terminalreporter.write_line(
            "NOTE: the browser tests in tests/e2e were SKIPPED: Chromium is not installed "
            "(apt-get install chromium, or run .ci/run)",
            yellow=True,
        )


@pytest.fixture(scope="session")
def browser_type_launch_args(browser_type_launch_args):
    """Debian's Chromium, never a downloaded browser."""
    return {
        **browser_type_launch_args,
        "executable_path": CHROMIUM,
        "args": [
            "--no-sandbox",
            "--disable-gpu",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            "--no-first-run",
        ],
    }


class LiveServer:
    """The app, served by werkzeug in a background thread."""

    def __init__(self, app: Flask) -> None:
        self.app = app
        self._server = make_server("127.0.0.1", 0, app, threaded=True)
        self.url = f"http://127.0.0.1:{self._server.server_port}"
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self._server.shutdown()
        self._thread.join(timeout=10)


@pytest.fixture(scope="session")
def live_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    """The demo school, served on a free port of 127.0.0.1."""
    folder = tmp_path_factory.mktemp("e2e")
    app = create_app(
        {
            "SQLALCHEMY_DATABASE_URI": f"sqlite:///{folder / 'e2e.sqlite3'}",
            "SECRET_KEY": "e2e-secret-key",
            "PUBLIC_BASE_URL": "http://127.0.0.1",  # the port is known once served; see below
            "SIGNING_KEY_DIR": str(folder / "keys"),
            "AUDIT_KEY_FILE": str(folder / "audit_key"),
            "RATELIMIT_PER_PROCESS": True,  # one process serves the browser tests
            "ARGON2_TIME_COST": 1,
            "ARGON2_MEMORY_COST": 8 * 1024,
        }
    )
    with app.app_context():
        upgrade()
        result = seed.seed_demo(utcnow())
        db.session.commit()
        app.config["DEMO_CERTIFICATE_CODE"] = result.certificate_code
        db.session.remove()
    server = LiveServer(app)
    app.config["PUBLIC_BASE_URL"] = server.url
    server.start()
    yield server
    server.stop()
    with app.app_context():
        db.engine.dispose()


@pytest.fixture(scope="session")
def axe() -> Axe:
    return Axe()


@pytest.fixture
def check_a11y(axe):
    """Run axe-core's WCAG 2.1 A and AA rules on the page; fail with every violation."""

    def check(page) -> None:
        results = axe.run(page, options={"runOnly": {"type": "tag", "values": WCAG_21_AA}})
        violations = results.response["violations"]
        report = [
            f"{v['id']} ({v['impact']}): {v['help']} at "
            + ", ".join(str(node["target"]) for node in v["nodes"][:5])
            for v in violations
        ]
        assert not violations, f"axe on {page.url}:\n" + "\n".join(report)

    return check


def log_in(page, server: LiveServer, email: str, password: str = seed.DEMO_PASSWORD) -> None:
    """Log in through the form, by keyboard as much as a person would."""
    page.goto(server.url + "/login")
    page.get_by_label("Email").fill(email)
    page.get_by_label("Password").fill(password)
    page.get_by_role("button", name="Log in").click()
