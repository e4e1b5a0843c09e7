"""The code look-up pages, the as-you-type check, open-book quizzes in the player and the
``codes validate`` command."""

import re

from sqlalchemy import select

from lms.auth.models import Role
from lms.courses.models import Attempt, Quiz
from lms.extensions import db
from lms.ledger.models import AuditEvent
from tests import factories
from tests.conftest import login, post_form
from tests.courses.builders import practice_exam


def signed_in(client, role=Role.STUDENT):
    person = factories.user(role)
    assert login(client, person.email).status_code == 302
    return person


def text(response):
    return response.get_data(as_text=True)


def result_codes(response):
    return re.findall(r'<th scope="row"><a href="/codes/([^"]+)">', text(response))


def test_a_code_lists_itself_and_the_codes_under_it(client):
    signed_in(client)
    response = client.get("/codes?q=e11")
    assert response.status_code == 200
    codes = result_codes(response)
    assert codes[:3] == ["E11", "E11.0", "E11.1"] and "E11.9" in codes and len(codes) == 11
    assert "11 codes for “e11”" in text(response)


def test_words_search_descriptions(client):
    signed_in(client, Role.INSTRUCTOR)
    response = client.get("/codes?q=diabetes+ketoacidosis")
    codes = result_codes(response)
    assert "E11.10" in codes and "E10.10" in codes
    assert all(code[0] == "E" for code in codes)
    assert "Type 2 diabetes mellitus with ketoacidosis without coma" in text(response)


def test_a_broad_search_shows_the_first_fifty_and_says_so(client):
    signed_in(client)
    response = client.get("/codes?q=fracture")
    assert len(result_codes(response)) == 50
    assert "The first 50 are shown" in text(response)
    assert "No codes for “xyzzy”" in text(client.get("/codes?q=xyzzy"))


def test_the_search_page_has_a_labelled_box(client):
    signed_in(client)
    page = text(client.get("/codes"))
    assert '<label for="q">Code or words</label>' in page and 'id="q" name="q"' in page
    assert "April 1, 2026" in page


def test_a_codes_page_shows_billable_and_its_notes(client):
    signed_in(client)
    page = text(client.get("/codes/E11.9"))
    assert "<h1>E11.9 Type 2 diabetes mellitus without complications</h1>" in page
    assert "Billable" in page
    assert "type 1 diabetes mellitus (E10.-)" in page  # E11's Excludes1
    assert "<li>Block E08-E13: Diabetes mellitus (E08-E13)</li>" in page
    assert '<a href="/codes/E11">E11</a>: Type 2 diabetes mellitus' in page
    assert "Use additional code" in page and "insulin (Z79.4)" in page
    category = text(client.get("/codes/E11"))
    assert "Not billable" in category and 'href="/codes/E11.6"' in category
    fracture = text(client.get("/codes/S52.521"))
    assert "needs a 7th character" in fracture and "initial encounter for closed fracture" in (
        fracture
    )


def test_a_code_written_loosely_redirects_and_an_unknown_code_is_404(client):
    signed_in(client)
    response = client.get("/codes/e119")
    assert response.status_code == 302 and response.headers["Location"] == "/codes/E11.9"
    assert client.get("/codes/Z99.99").status_code == 404
    assert client.get("/codes/A00-A09").status_code == 404


def test_the_check_answers_json(client):
    signed_in(client)
    response = client.get("/codes/check?code=s52521")
    assert response.status_code == 200
    body = response.get_json()
    assert body["code"] == "S52.521" and body["needs_seventh_character"] is True
    assert body["billable"] is False and body["seventh_characters"][0] == "A"
    assert client.get("/codes/check?code=E11.9").get_json()["billable"] is True
    assert client.get("/codes/check?code=Z99.99").get_json()["exists"] is False
    cpt = client.get("/codes/check?code=0042T&set=cpt").get_json()
    assert cpt["well_formed"] is True and "Category III" in cpt["message"]


def test_the_check_refuses_bad_requests(client):
    signed_in(client)
    json_headers = {"Accept": "application/json"}
    assert client.get("/codes/check", headers=json_headers).status_code == 400
    assert client.get("/codes/check?code=E11&set=icd9", headers=json_headers).status_code == 400
    long = "E" * 41
    assert client.get(f"/codes/check?code={long}", headers=json_headers).status_code == 400


def test_the_check_is_rate_limited_per_account(app, client):
    app.config["CODE_CHECK_RATE_LIMIT"] = "3 per minute"
    signed_in(client)
    statuses = [client.get("/codes/check?code=E11.9").status_code for _ in range(4)]
    assert statuses == [200, 200, 200, 429]


def test_logged_out_visitors_are_sent_to_log_in(client):
    for url in ("/codes", "/codes?q=E11", "/codes/E11.9", "/codes/check?code=E11.9"):
        response = client.get(url)
        assert response.status_code == 302 and response.headers["Location"].startswith("/login")


def _settings(quiz, **changes):
    return {
        "passing_score": str(quiz.passing_score),
        "review_policy": quiz.review_policy.value,
        "preset": "",
        "bank_id": str(quiz.bank_id),
        "blueprint": "ICD-10-CM: 2\nCPT: 2",
        "time_limit_minutes": "30",
        **changes,
    }


def open_book_box(page):
    return re.search(r'<input[^>]*id="open_book"[^>]*>', page).group(0)


def test_open_book_is_a_quiz_setting_and_audited(client):
    author = factories.user(Role.INSTRUCTOR, author=True)
    login(client, author.email)
    practice_exam()
    quiz = db.session.scalar(select(Quiz))
    assert quiz.open_book is False
    assert "checked" not in open_book_box(text(client.get(f"/quizzes/{quiz.id}/settings")))
    response = post_form(client, f"/quizzes/{quiz.id}/settings", _settings(quiz, open_book="y"))
    assert response.status_code == 302
    db.session.refresh(quiz)
    assert quiz.open_book is True
    event = db.session.scalar(
        select(AuditEvent).where(AuditEvent.action == "quiz.settings_changed")
    )
    assert event.details["changed"] == {"open_book": [False, True]}
    assert "checked" in open_book_box(text(client.get(f"/quizzes/{quiz.id}/settings")))
    response = post_form(client, f"/quizzes/{quiz.id}/settings", _settings(quiz))
    assert response.status_code == 302
    db.session.refresh(quiz)
    assert quiz.open_book is False


def _attempt_page(client, quiz):
    student = signed_in(client)
    response = post_form(client, f"/modules/{quiz.module_id}/attempts")
    assert response.status_code == 302
    attempt = db.session.scalar(select(Attempt).where(Attempt.student_id == student.id))
    return text(client.get(f"/attempts/{attempt.id}"))


def test_the_player_offers_the_look_up_only_in_an_open_book_quiz(app):
    practice_exam()
    quiz = db.session.scalar(select(Quiz))
    closed = _attempt_page(app.test_client(), quiz)
    assert "Open the code look-up" not in closed and 'href="/codes"' not in closed
    quiz.open_book = True
    db.session.commit()
    opened = _attempt_page(app.test_client(), quiz)
    assert (
        '<a href="/codes" target="_blank" rel="noopener">Open the code look-up (opens in a new '
        "tab)</a>" in opened
    )


def test_validate_prints_a_line_per_code_and_fails_on_any_not_billable(runner):
    result = runner.invoke(args=["codes", "validate", "icd10cm", "e119", "S52.521A"])
    assert result.exit_code == 0, result.output
    assert result.output.splitlines() == [
        "ok    E11.9 Type 2 diabetes mellitus without complications: valid and billable",
        "ok    S52.521A Torus fracture of lower end of right radius, initial encounter for "
        "closed fracture: valid and billable",
    ]
    result = runner.invoke(
        args=["codes", "validate", "icd10cm", "E11.9", "E11", "S52521", "Z99.99", "E10.9"]
    )
    assert result.exit_code == 1
    lines = result.output.splitlines()
    assert lines[1] == (
        "FAIL  E11 Type 2 diabetes mellitus: a category, not billable: it needs more characters"
    )
    assert lines[2].startswith("FAIL  S52.521 ") and "needs a 7th character" in lines[2]
    assert lines[3] == "FAIL  Z99.99: no such ICD-10-CM code"
    assert "NOTE  E11.9 with E10.9: Excludes1 at E11: type 1 diabetes mellitus (E10.-)" in lines


def test_validate_checks_other_code_sets_by_form(runner):
    result = runner.invoke(args=["codes", "validate", "cpt", "99213", "0001F"])
    assert result.exit_code == 0 and "(form only)" in result.output
    result = runner.invoke(args=["codes", "validate", "hcpcs", "J1100", "J11"])
    assert result.exit_code == 1 and "FAIL  J11: not a HCPCS Level II code" in result.output
    result = runner.invoke(args=["codes", "validate", "pcs", "0DTJ4ZZ"])
    assert result.exit_code == 0
    result = runner.invoke(args=["codes", "validate", "icd9", "250.00"])
    assert result.exit_code == 2
    result = runner.invoke(args=["codes", "validate", "cpt", *["99213"] * 51])
    assert result.exit_code == 2 and "at most 50 codes" in result.output
