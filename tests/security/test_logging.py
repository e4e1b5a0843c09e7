"""Errors never show a stack trace to users; they are logged as JSON lines."""

import json
import logging

from lms.auth.access import public
from lms.auth.models import Role
from lms.security import JsonFormatter
from tests import factories
from tests.conftest import login


def json_lines(text: str) -> list[dict]:
    return [json.loads(line) for line in text.splitlines() if line.startswith("{")]


def test_unexpected_error_shows_no_trace_and_logs_json(app, client, capsys):
    @public
    def explode():
        raise RuntimeError("database password is hunter2")

    app.add_url_rule("/explode", "explode", explode)
    response = client.get("/explode")
    assert response.status_code == 500
    page = response.get_data(as_text=True)
    assert "An unexpected error occurred" in page
    for leak in ("Traceback", "RuntimeError", "hunter2", "explode()"):
        assert leak not in page

    api = client.get("/explode", headers={"Accept": "application/json"})
    assert api.status_code == 500 and "hunter2" not in api.get_data(as_text=True)

    records = [r for r in json_lines(capsys.readouterr().err) if r["level"] == "ERROR"]
    assert records, "the error was not logged as a JSON line"
    record = records[0]
    assert record["logger"] == "lms.errors"
    assert "GET /explode" in record["message"]
    assert "RuntimeError: database password is hunter2" in record["exception"]
    assert record["time"].endswith("+00:00")


def test_denials_are_logged_as_json(app, client, capsys):
    student = factories.user(Role.STUDENT)
    login(client, student.email)
    capsys.readouterr()
    assert client.get("/admin/users").status_code == 403
    denials = [r for r in json_lines(capsys.readouterr().err) if r.get("event") == "access_denied"]
    assert denials == [
        {
            **denials[0],
            "status": 403,
            "method": "GET",
            "path": "/admin/users",
            "user_id": student.id,
            "role": "student",
        }
    ]


def test_formatter_keeps_extras_and_one_line():
    record = logging.makeLogRecord(
        {"name": "lms.x", "levelname": "INFO", "msg": "two\nlines %s", "args": ("a",), "k": 1}
    )
    line = JsonFormatter().format(record)
    assert "\n" not in line
    data = json.loads(line)
    assert data["message"] == "two\nlines a" and data["k"] == 1 and data["logger"] == "lms.x"
