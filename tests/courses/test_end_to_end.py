"""The issue's 'done when', as a new user would: an instructor imports a GIFT file, builds a
blueprint practice exam, a student sits it with the timer, closes the tab, comes back,
finishes and sees the per-area breakdown; the instructor sees the item analysis."""

import io
import re
from datetime import timedelta
from pathlib import Path

from sqlalchemy import select

from lms.auth.models import Role
from lms.courses.models import Choice, Course, Quiz
from lms.extensions import db
from tests import factories
from tests.conftest import login, post_form

FILES = Path(__file__).parent / "files"
T0 = factories.NOW


def test_import_build_sit_resume_finish_and_analyse(app, client, monkeypatch):
    monkeypatch.setattr("lms.courses.views.utcnow", lambda: T0)
    factories.course("PRAC", modules=1)
    course_id = db.session.scalar(select(Course.id).where(Course.code == "PRAC"))
    login(client, factories.user(Role.INSTRUCTOR, author=True).email)

    # import
    preview = post_form(
        client,
        "/banks/import",
        {
            "file": (io.BytesIO((FILES / "areas.gift").read_bytes()), "areas.gift"),
            "fmt": "gift",
            "bank": "Exam bank",
        },
        content_type="multipart/form-data",
    )
    page = preview.get_data(as_text=True)
    assert "10 questions readable" in page
    content = re.search(r'name="content" type="hidden" value="([^"]+)"', page).group(1)
    post_form(
        client, "/banks/import/confirm", {"content": content, "fmt": "gift", "bank": "Exam bank"}
    )

    # build the exam
    bad = post_form(client, f"/courses/{course_id}/exams/new", {"code": "PRAC-1", "title": "x"})
    assert bad.status_code == 400 and "already used" in bad.get_data(as_text=True)
    response = post_form(
        client, f"/courses/{course_id}/exams/new", {"code": "mini-exam-1", "title": "Mini exam"}
    )
    assert response.status_code == 302
    quiz_id = int(re.search(r"/quizzes/(\d+)/settings", response.headers["Location"]).group(1))
    settings = client.get(f"/quizzes/{quiz_id}/settings").get_data(as_text=True)
    bank_id = re.search(r'<option value="(\d+)">Exam bank</option>', settings).group(1)
    response = post_form(
        client,
        f"/quizzes/{quiz_id}/settings",
        {
            "passing_score": "70",
            "time_limit_minutes": "12",
            "review_policy": "after_attempt",
            "preset": "",
            "bank_id": bank_id,
            "blueprint": "ICD-10-CM: 3\nModifiers: 3",
        },
    )
    assert response.status_code == 302
    module_id = db.session.get(Quiz, quiz_id).module_id

    # the student sits it
    student = app.test_client()
    login(student, factories.user(Role.STUDENT).email)
    started = post_form(student, f"/modules/{module_id}/attempts")
    attempt_url = started.headers["Location"]
    page = student.get(attempt_url).get_data(as_text=True)
    assert 'data-seconds-left="720"' in page
    questions = re.findall(r'name="q-(\d+)" value="(\d+)"', page)
    question_ids = list(dict.fromkeys(q for q, _ in questions))
    assert len(question_ids) == 6
    key = {
        q: db.session.scalar(
            select(Choice.id).where(Choice.question_id == int(q), Choice.is_correct)
        )
        for q in question_ids
    }
    attempt_id = attempt_url.rsplit("/", 1)[1]
    for q in question_ids[:3]:
        post_form(student, f"/attempts/{attempt_id}/answers", {f"q-{q}": str(key[q])})

    # ... closes the tab; five minutes later comes back
    monkeypatch.setattr("lms.courses.views.utcnow", lambda: T0 + timedelta(minutes=5))
    assert "Resume your attempt" in student.get(f"/modules/{module_id}").get_data(as_text=True)
    page = student.get(attempt_url).get_data(as_text=True)
    assert 'data-seconds-left="420"' in page
    assert all(f'value="{key[q]}" checked' in page for q in question_ids[:3])
    rest = {f"q-{q}": str(key[q]) for q in question_ids[3:]}
    result = student.get(
        post_form(student, f"/attempts/{attempt_id}/submit", rest).headers["Location"]
    )
    text = result.get_data(as_text=True)
    assert "You passed with 100%." in text
    assert '<th scope="row">ICD-10-CM</th><td>3 of 3</td>' in text
    assert '<th scope="row">Modifiers</th><td>3 of 3</td>' in text
    assert "Time used: 5 min 00 s of 12 min 00 s" in text

    # the instructor's item analysis
    analysis = client.get(f"/quizzes/{quiz_id}/analysis").get_data(as_text=True)
    assert "1 graded attempt." in analysis
    assert analysis.count("<td>100%</td>") == 6
