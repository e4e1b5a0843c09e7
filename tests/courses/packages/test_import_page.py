"""The authors' upload page: preview (nothing written), then confirm; refused for students and
for instructors who are not authors."""

from __future__ import annotations

import io
import re
from datetime import UTC, datetime

from sqlalchemy import select

from lms.auth.models import Role
from lms.courses.models import Course, Module
from lms.courses.packages import cartridge_in, importer
from lms.demo.seed import course_data
from lms.extensions import db
from tests import factories
from tests.conftest import csrf_token, login, post_form
from tests.courses.packages.cartridges import cartridge
from tests.courses.packages.helpers import course_count


def _upload(client, body: bytes, name: str, as_code: str = ""):
    return client.post(
        "/courses/import",
        data={
            "csrf_token": csrf_token(client),
            "file": (io.BytesIO(body), name),
            "as_code": as_code,
        },
        content_type="multipart/form-data",
    )


def test_an_author_previews_then_imports_a_cartridge(client, app):
    author = factories.user(Role.INSTRUCTOR, author=True)
    db.session.commit()
    login(client, author.email)
    assert client.get("/courses/import").status_code == 200
    page = _upload(client, cartridge("canvas"), "canvas.imscc")
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    assert "REVENUECYCLE: Revenue Cycle Basics" in html
    assert "Week 1: The claim&#39;s journey" in html
    assert "<td>g1lti</td><td>Publisher&#39;s e-book</td>" in html
    assert course_count() == 0  # the preview wrote nothing
    fields = dict(
        re.findall(r'name="(content|filename|as_code)" type="hidden" value="([^"]*)"', html)
    )
    done = post_form(client, "/courses/import/confirm", fields)
    assert done.status_code == 302
    assert db.session.scalar(select(Course.code)) == "REVENUECYCLE"
    assert client.get("/courses/export/REVENUECYCLE.zip").status_code == 200
    cc = client.get("/courses/export/REVENUECYCLE.imscc")
    assert cc.status_code == 200 and cc.data[:2] == b"PK"


def test_a_bad_file_comes_back_with_its_reason_and_nothing_written(client, app):
    author = factories.user(Role.ADMIN)
    db.session.commit()
    login(client, author.email)
    page = _upload(client, b"not a zip", "course.zip")
    assert page.status_code == 422
    assert "course.zip: not a zip file" in page.get_data(as_text=True)
    assert course_count() == 0


def test_students_and_non_authors_are_refused(client, app):
    student = factories.user(Role.STUDENT)
    instructor = factories.user(Role.INSTRUCTOR)
    db.session.commit()
    login(client, student.email)
    assert client.get("/courses/import").status_code == 403
    client.post("/logout", data={"csrf_token": csrf_token(client)})
    client2 = app.test_client()
    login(client2, instructor.email)
    assert client2.get("/courses/import").status_code == 403
    assert _upload(client2, cartridge("moodle"), "m.imscc").status_code == 403
    assert course_count() == 0


def test_the_cartridge_download_leaves_drafts_out_unless_asked(client, app):
    importer.import_course(
        course_data("billing-reimbursement.toml"), actor=None, now=datetime(2026, 12, 5, tzinfo=UTC)
    )
    draft = db.session.scalar(select(Module).where(Module.code == "BILL-2"))
    draft.published_version = None
    author = factories.user(Role.INSTRUCTOR, author=True)
    db.session.commit()
    login(client, author.email)

    def titles(path: str) -> list[str]:
        body = client.get(path).data
        return [m["title"] for m in cartridge_in.read_cartridge(body, "x.imscc").data["modules"]]

    assert draft.title not in titles("/courses/export/BILL.imscc")
    assert draft.title in titles("/courses/export/BILL.imscc?drafts=1")
    courses = client.get("/courses").get_data(as_text=True)
    assert "/courses/export/BILL.imscc?drafts=1" in courses
