"""Question banks in the browser: authoring, versions, retirement, import, export, quiz
settings, item analysis; and the import-questions command."""

import io
import re
from pathlib import Path

from sqlalchemy import func, select

from lms.auth.models import Role
from lms.courses import blueprints
from lms.courses.attempts import sitting
from lms.courses.bank_views import pack
from lms.courses.models import (
    AttemptAnswer,
    AttemptQuestion,
    Choice,
    Question,
    QuestionBank,
    Quiz,
    QuizItem,
)
from lms.extensions import db
from lms.ledger.models import AuditEvent
from tests import factories
from tests.conftest import login, post_form
from tests.courses.builders import practice_exam

FILES = Path(__file__).parent / "files"
T0 = factories.NOW


def count(model, *where):
    return db.session.scalar(select(func.count()).select_from(model).where(*where))


def audits(action):
    return count(AuditEvent, AuditEvent.action == action)


def staff(client, role=Role.INSTRUCTOR, *, author=True):
    """Log in an instructor (a content author unless told otherwise) or an admin."""
    user = factories.user(role, author=author and role is Role.INSTRUCTOR)
    login(client, user.email)
    return user


def new_bank(name="Modifiers"):
    bank = QuestionBank(name=name)
    db.session.add(bank)
    db.session.commit()
    return bank


QUESTION = {
    "stem": "Which modifier reports a distinct procedural service?",
    "kind": "single",
    "choices": "25\n* 59\n26",
    "rationale": "59 identifies a distinct procedural service.",
    "content_area": "CPT modifiers",
    "difficulty": "medium",
    "code_set_year": "2026",
    "tags": "NCCI",
}


def test_instructor_writes_a_question(client):
    staff(client)
    bank = new_bank()
    response = post_form(client, f"/banks/{bank.id}/questions/new", QUESTION)
    assert response.status_code == 302
    question = db.session.scalar(select(Question))
    assert (question.kind.value, question.content_area, question.code_set_year) == (
        "single",
        "CPT modifiers",
        2026,
    )
    choices = db.session.scalars(select(Choice).order_by(Choice.position)).all()
    assert [(c.text, c.is_correct) for c in choices] == [("25", False), ("59", True), ("26", False)]
    assert audits("question.created") == 1
    page = client.get(f"/banks/{bank.id}").get_data(as_text=True)
    assert "Which modifier reports" in page and "CPT modifiers (1)" in page


def test_a_bad_question_is_refused_with_every_reason_and_nothing_saved(client):
    staff(client)
    bank = new_bank()
    response = post_form(
        client, f"/banks/{bank.id}/questions/new", {**QUESTION, "choices": "* 25\n* 59"}
    )
    assert response.status_code == 400
    assert "exactly one correct choice (2 given)" in response.get_data(as_text=True)
    assert count(Question) == 0 and count(Choice) == 0


def field_errors(page: str) -> dict[str, str]:
    """The message shown beside each field of a form page, by field name."""
    return dict(re.findall(r'<p class="error" id="([a-z_]+)-error">([^<]*)</p>', page))


def test_a_question_with_two_mistakes_shows_each_beside_its_field(client):
    staff(client)
    bank = new_bank()
    response = post_form(
        client,
        f"/banks/{bank.id}/questions/new",
        {**QUESTION, "choices": "* 25\n* 59", "code_set_year": "twenty"},
    )
    assert response.status_code == 400
    assert field_errors(response.get_data(as_text=True)) == {
        "choices": "A single-answer question needs exactly one correct choice (2 given).",
        "code_set_year": "The code-set year is a year such as 2026.",
    }
    assert count(Question) == 0


def test_quiz_settings_and_a_new_exam_show_problems_beside_their_fields(client):
    staff(client)
    exam = practice_exam(per_area=3)
    quiz = db.session.scalar(select(Quiz))
    bank_id = db.session.scalar(select(QuestionBank.id))
    form = {"passing_score": "70", "review_policy": "after_attempt", "bank_id": str(bank_id)}
    response = post_form(
        client,
        f"/quizzes/{quiz.id}/settings",
        {**form, "preset": "CPC", "blueprint": "CPT: 4\nno count here"},
    )
    assert response.status_code == 400
    errors = field_errors(response.get_data(as_text=True))
    assert list(errors) == ["blueprint"]
    for message in (
        "Line 2: write &#39;tag: number&#39;",
        "The AAPC CPC preset has 100 questions; the blueprint draws 4.",
        "4 questions tagged &#39;CPT&#39; are needed, the bank has 3.",
    ):
        assert message in errors["blueprint"]
    for code, message in (
        ("x", "The code is 2 to 30 letters, digits or dashes, e.g. CPC-PRACTICE-2."),
        ("px-1", "The code PX-1 is already used by another module."),
    ):
        response = post_form(
            client, f"/courses/{exam.course_id}/exams/new", {"code": code, "title": "Exam 2"}
        )
        assert response.status_code == 400
        assert field_errors(response.get_data(as_text=True)) == {"code": message}


def test_editing_an_answered_question_makes_a_new_version(client):
    staff(client)
    exam = practice_exam(per_area=2, draw=2, minutes=None)
    student = factories.user(Role.STUDENT)
    attempt = sitting.start_attempt(student, exam.id, T0)
    sitting.submit_attempt(student, attempt.id, {}, T0)
    db.session.commit()
    seen = db.session.scalar(select(AttemptQuestion.question_id))
    old_choices = sorted(db.session.scalars(select(Choice.id).where(Choice.question_id == seen)))
    assert "saving makes version 2" in client.get(f"/questions/{seen}/edit").get_data(as_text=True)
    response = post_form(client, f"/questions/{seen}/edit", {**QUESTION, "stem": "Edited?"})
    assert response.status_code == 302
    old = db.session.get(Question, seen)
    db.session.refresh(old)
    newer = db.session.scalar(
        select(Question).where(Question.family_id == old.family_id, Question.version == 2)
    )
    assert old.retired_at is not None and old.stem != "Edited?"
    assert newer.stem == "Edited?" and newer.retired_at is None
    # the attempt still points at the version it saw, with its choices
    assert (
        db.session.scalar(
            select(AttemptQuestion.question_id).where(AttemptQuestion.question_id == seen)
        )
        == seen
    )
    assert (
        sorted(db.session.scalars(select(Choice.id).where(Choice.question_id == seen)))
        == old_choices
    )
    assert count(AttemptAnswer, AttemptAnswer.question_id == seen) == 1
    assert audits("question.versioned") == 1


def test_editing_an_unseen_question_changes_it_in_place(client):
    staff(client)
    factories.course("TERM")
    question_id = db.session.scalar(select(Question.id).order_by(Question.id))
    response = post_form(client, f"/questions/{question_id}/edit", QUESTION)
    assert response.status_code == 302
    assert count(Question) == 6
    assert db.session.get(Question, question_id).stem == QUESTION["stem"]
    assert count(QuizItem, QuizItem.question_id == question_id) == 1


def test_retiring_takes_a_question_out_of_quizzes(client):
    staff(client)
    factories.course("TERM")
    question_id = db.session.scalar(select(Question.id).order_by(Question.id))
    assert post_form(client, f"/questions/{question_id}/retire").status_code == 302
    assert db.session.get(Question, question_id).retired_at is not None
    assert count(QuizItem, QuizItem.question_id == question_id) == 0
    assert post_form(client, f"/questions/{question_id}/retire").status_code == 400


def test_students_cannot_reach_banks(client):
    factories.course("TERM")
    login(client, factories.user(Role.STUDENT).email)
    bank_id = db.session.scalar(select(QuestionBank.id))
    assert client.get("/banks").status_code == 403
    assert client.get(f"/banks/{bank_id}/export/gift").status_code == 403
    assert post_form(client, f"/banks/{bank_id}/questions/new", QUESTION).status_code == 403


def upload(client, name, fmt, bank="Imported"):
    return post_form(
        client,
        "/banks/import",
        {"file": (io.BytesIO((FILES / name).read_bytes()), name), "fmt": fmt, "bank": bank},
        content_type="multipart/form-data",
    )


def confirm_previewed(client, page, bank, fmt="gift"):
    """Press the preview page's Import button: post the file it carries back."""
    content = page.split('name="content" type="hidden" value="')[1].split('"')[0]
    return post_form(
        client, "/banks/import/confirm", {"content": content, "fmt": fmt, "bank": bank}
    )


def test_import_previews_then_imports_everything(client):
    staff(client)
    preview = upload(client, "good.gift", "gift")
    assert preview.status_code == 200
    page = preview.get_data(as_text=True)
    assert "4 questions readable" in page and "Import 4 questions" in page
    assert count(Question) == 0  # the preview writes nothing
    assert confirm_previewed(client, page, "Imported").status_code == 302
    assert count(Question) == 4
    assert db.session.scalar(select(QuestionBank.name)) == "Imported"
    assert audits("bank.imported") == 1


def test_an_import_with_bad_items_reports_them_and_imports_nothing(client):
    staff(client)
    preview = upload(client, "bad.xml", "moodle_xml")
    assert preview.status_code == 422
    page = preview.get_data(as_text=True)
    assert "question 2: unsupported question type: essay" in page
    assert "question 3: unsupported question type: matching" in page
    assert "Import 1" not in page
    content = pack((FILES / "bad.xml").read_bytes())
    forced = post_form(
        client, "/banks/import/confirm", {"content": content, "fmt": "moodle_xml", "bank": "X"}
    )
    assert forced.status_code == 400
    assert count(Question) == 0 and count(QuestionBank) == 0


def test_a_non_utf8_upload_is_reported(client):
    staff(client)
    preview = upload(client, "latin1.txt", "aiken")
    assert preview.status_code == 422
    assert "not UTF-8" in preview.get_data(as_text=True)
    assert count(Question) == 0


def test_export_then_import_keeps_the_bank(client):
    staff(client, Role.ADMIN)
    practice_exam()
    bank = db.session.scalar(select(QuestionBank))
    for fmt in ("moodle_xml", "gift"):
        response = client.get(f"/banks/{bank.id}/export/{fmt}")
        assert response.status_code == 200
        assert "attachment" in response.headers["Content-Disposition"]
        content = response.get_data()
        from lms.courses import interchange

        parsed = interchange.parse(content, fmt)
        assert parsed.ok and len(parsed.items) == 6
        assert {i.draft.content_area for i in parsed.items} == {"ICD-10-CM", "CPT"}
    assert audits("bank.exported") == 2


def test_cli_imports_all_or_nothing(runner):
    result = runner.invoke(args=["import-questions", str(FILES / "bad.gift"), "--bank", "B"])
    assert result.exit_code == 1
    assert "line 6 (Essay): unsupported question type: essay" in result.output
    assert count(Question) == 0
    result = runner.invoke(args=["import-questions", str(FILES / "good.xml"), "--bank", "B"])
    assert result.exit_code == 0, result.output
    assert "3 questions imported into bank 'B'" in result.output
    assert count(Question) == 3
    result = runner.invoke(
        args=["import-questions", str(FILES / "good.txt"), "--bank", "B", "--dry-run"]
    )
    assert "2 questions would be imported" in result.output and count(Question) == 3


def test_quiz_settings_with_a_preset_and_blueprint(client):
    staff(client)
    exam = practice_exam(per_area=3)
    quiz = db.session.scalar(select(Quiz))
    bank_id = db.session.scalar(select(QuestionBank.id))
    form = {
        "passing_score": "70",
        "review_policy": "after_passing",
        "preset": "CPC",
        "bank_id": str(bank_id),
        "blueprint": "ICD-10-CM: 3\nCPT: 3",
    }
    response = post_form(client, f"/quizzes/{quiz.id}/settings", form)
    assert response.status_code == 400
    assert "The AAPC CPC preset has 100 questions; the blueprint draws 6" in response.get_data(
        as_text=True
    )
    response = post_form(
        client, f"/quizzes/{quiz.id}/settings", {**form, "preset": "", "blueprint": "CPT: 4"}
    )
    assert response.status_code == 400
    assert "4 questions tagged &#39;CPT&#39; are needed, the bank has 3" in response.get_data(
        as_text=True
    )
    response = post_form(
        client,
        f"/quizzes/{quiz.id}/settings",
        {**form, "preset": "", "time_limit_minutes": "45", "max_attempts": "2"},
    )
    assert response.status_code == 302
    db.session.refresh(quiz)
    assert (quiz.time_limit_minutes, quiz.max_attempts, quiz.review_policy.value) == (
        45,
        2,
        "after_passing",
    )
    assert blueprints.question_count(quiz) == 6 and exam.id
    assert audits("quiz.settings_changed") == 1


def test_item_analysis_page(client):
    staff(client)
    exam = practice_exam(per_area=2, draw=2, minutes=None)
    for right in (True, False, True):
        student = factories.user(Role.STUDENT)
        attempt = sitting.start_attempt(student, exam.id, T0)
        questions = db.session.scalars(
            select(AttemptQuestion.question_id).where(AttemptQuestion.attempt_id == attempt.id)
        ).all()
        answers = {
            q: frozenset(
                {
                    db.session.scalar(
                        select(Choice.id).where(
                            Choice.question_id == q, Choice.is_correct.is_(right)
                        )
                    )
                }
            )
            for q in questions
        }
        sitting.submit_attempt(student, attempt.id, answers, T0)
        db.session.commit()
    quiz = db.session.scalar(select(Quiz))
    page = client.get(f"/quizzes/{quiz.id}/analysis").get_data(as_text=True)
    assert "3 graded attempts" in page
    assert page.count("<td>3</td>") == 4  # answered by all three, per question
    assert "67%" in page and "1.00" in page


def test_cli_reports_unreadable_files_and_imports_nothing(runner, tmp_path):
    empty = tmp_path / "empty.gift"
    empty.write_bytes(b"")
    result = runner.invoke(args=["import-questions", str(empty), "--bank", "B"])
    assert result.exit_code == 1 and "The file is empty." in result.output
    result = runner.invoke(
        args=["import-questions", str(FILES / "latin1.txt"), "--bank", "B", "--format", "aiken"]
    )
    assert result.exit_code == 1 and "not UTF-8" in result.output
    result = runner.invoke(args=["import-questions", str(FILES / "truncated.xml"), "--bank", "B"])
    assert result.exit_code == 1 and "not well-formed XML" in result.output
    unknown = tmp_path / "questions.doc"
    unknown.write_bytes(b"x")
    result = runner.invoke(args=["import-questions", str(unknown), "--bank", "B"])
    assert result.exit_code == 2 and "--format" in result.output
    assert count(Question) == 0 and count(QuestionBank) == 0


def test_a_bank_named_in_any_script_downloads_with_both_file_names(client):
    staff(client)
    for name, ascii_name, utf8 in [
        ("Кодирование ICD-10", "icd-10.xml", "%D0%BA%D0%BE%D0%B4"),
        ("Código de facturación", "codigo-de-facturacion.xml", "c%C3%B3digo"),
    ]:
        bank = new_bank(name)
        response = client.get(f"/banks/{bank.id}/export/moodle_xml")
        assert response.status_code == 200
        header = response.headers["Content-Disposition"]
        assert header.startswith(f"attachment; filename={ascii_name}; filename*=UTF-8''")
        assert utf8 in header and header.isascii()
    for name, header in [
        ("CPC review", "attachment; filename=cpc-review.gift"),
        ("Coding 📚", "attachment; filename=coding.gift"),  # not a letter: a dash, trimmed
    ]:
        bank = new_bank(name)
        response = client.get(f"/banks/{bank.id}/export/gift")
        assert response.headers["Content-Disposition"] == header


FIXTURES = Path(__file__).parent / "fixtures"


def test_the_upload_page_tells_the_format_from_the_content(client):
    staff(client)
    data = (FIXTURES / "gift-from-moodle.txt").read_bytes()
    preview = post_form(
        client,
        "/banks/import",
        {"file": (io.BytesIO(data), "questions.txt"), "fmt": "", "bank": "From Moodle"},
        content_type="multipart/form-data",
    )
    page = preview.get_data(as_text=True)
    assert preview.status_code == 200, page
    assert "GIFT file into the bank" in page
    assert 'name="fmt" type="hidden" value="gift"' in page
    unknown = post_form(
        client,
        "/banks/import",
        {"file": (io.BytesIO(b"no questions here"), "notes.doc"), "fmt": "", "bank": "X"},
        content_type="multipart/form-data",
    )
    assert unknown.status_code == 422
    assert "does not show its format" in unknown.get_data(as_text=True)
    assert count(Question) == 0


def test_cli_tells_the_format_from_the_content(runner, tmp_path):
    renamed = tmp_path / "moodle-export.txt"  # Moodle XML under a name that said Aiken
    renamed.write_bytes((FIXTURES / "moodle-export.xml").read_bytes())
    for path in (FIXTURES / "gift-from-moodle.txt", renamed):
        result = runner.invoke(args=["import-questions", str(path), "--bank", "B", "--dry-run"])
        assert result.exit_code == 0, result.output
        assert "would be imported" in result.output


def upload_bytes(client, data, name="questions.gift", fmt=""):
    response = post_form(
        client,
        "/banks/import",
        {"file": (io.BytesIO(data), name), "fmt": fmt, "bank": "Big"},
        content_type="multipart/form-data",
    )
    # The test client spools a large body to a temporary file it never closes.
    response.request.environ["wsgi.input"].close()
    return response


def test_the_preview_shows_counts_and_the_first_problems_never_every_question(app, client):
    staff(client)
    text = "\n\n".join(
        [f"Which code is number {n}? {{=E1{n} ~E2{n}}}" for n in range(3)]
        + [f"Essay number {n}? {{}}" for n in range(60)]
    )
    preview = upload_bytes(client, text.encode())
    page = preview.get_data(as_text=True)
    assert preview.status_code == 422
    assert "3 questions readable, 60 problems" in " ".join(page.split())
    assert "<td>multiple choice, one answer</td><td>3</td>" in page
    assert "<td>(no content area)</td><td>3</td>" in page
    assert page.count("unsupported question type: essay") == 50
    assert "and 10 more problems" in page
    assert "Which code is number" not in page  # questions are counted, not listed
    assert count(Question) == 0


def test_files_past_the_limits_are_refused_with_a_413_and_nothing_written(app, client):
    staff(client)
    app.config.update(IMPORT_MAX_BYTES=2000, IMPORT_MAX_QUESTIONS=5)
    questions = "\n\n".join(f"Question {n}? {{=a ~b}}" for n in range(6)).encode()
    preview = upload_bytes(client, questions)
    assert preview.status_code == 413
    page = preview.get_data(as_text=True)
    assert "more than 5 questions, the most one import takes" in page
    assert "/banks/import/confirm" not in page
    large = upload_bytes(client, questions + b"x" * 2000)
    assert large.status_code == 413
    assert "The file is larger than 2 KB, the most one import takes" in large.get_data(as_text=True)
    forced = post_form(
        client, "/banks/import/confirm", {"content": pack(questions), "fmt": "gift", "bank": "B"}
    )
    assert forced.status_code == 400
    assert count(Question) == 0 and count(QuestionBank) == 0


def test_the_largest_file_allowed_is_previewed_and_imported(client):
    staff(client)
    words = [w for w in re.findall(r"[a-z]+", (FILES / "good.gift").read_text().lower()) if w]
    rng = __import__("random").Random(2026)

    def sentence(size):  # text that compresses no better than a real bank's
        return " ".join(rng.choice(words) + str(rng.randrange(100)) for _ in range(size))

    text = "\n\n".join(
        f"::Q{n}:: {sentence(60)}? {{\n={sentence(8)}\n~{sentence(8)}\n~{sentence(8)}\n"
        f"####{sentence(40)}\n}}"
        for n in range(2000)
    ).encode()
    assert 1_500_000 < len(text) <= 2 * 1024 * 1024
    preview = upload_bytes(client, text)
    page = preview.get_data(as_text=True)
    assert preview.status_code == 200, page[-2000:]
    assert len(page) < len(text)  # a summary and the file carried back compressed
    assert confirm_previewed(client, page, "Big").status_code == 302
    assert count(Question) == 2000 and count(Choice) == 6000


def test_questions_moodle_cannot_grade_are_left_out_of_exports_and_named(client):
    staff(client)
    bank = new_bank("Wide")
    choices = "\n".join(f"* right {n}" for n in range(21)) + "\nwrong"
    post_form(
        client,
        f"/banks/{bank.id}/questions/new",
        {**QUESTION, "kind": "multiple", "choices": choices, "stem": "Twenty-one right?"},
    )
    post_form(client, f"/banks/{bank.id}/questions/new", QUESTION)
    assert count(Question) == 2
    page = client.get(f"/banks/{bank.id}").get_data(as_text=True)
    assert "Left out of Moodle XML and GIFT exports (1): “Twenty-one right?”" in page
    for fmt in ("moodle_xml", "gift"):
        body = client.get(f"/banks/{bank.id}/export/{fmt}").get_data()
        assert b"Twenty-one right?" not in body and b"distinct procedural service" in body
    event = db.session.scalars(
        select(AuditEvent).where(AuditEvent.action == "bank.exported")
    ).first()
    assert event.details["questions"] == 1
    assert event.details["left_out"] == [
        "question 1: more than 20 right choices: Moodle's grades (5% at the least) cannot add "
        "up to 100%"
    ]


def test_a_blueprint_that_departs_from_the_preset_s_weights_is_saved_with_a_warning(client):
    """A CCA-preset practice exam drawing only two areas is saved (a school may drill weak
    areas on purpose) but the settings page says which of AHIMA's domains differ and by how
    much (issue 18 item 6)."""
    from lms.courses.rules.drawing import BlueprintRow
    from lms.courses.rules.quizzes import PRESETS, blueprint_departures

    cca = PRESETS["CCA"]
    assert sum(count for _, count in cca.weights) == cca.questions == 105
    assert sum(count for _, count in PRESETS["CPC"].weights) == 100
    assert sum(count for _, count in PRESETS["CPB"].weights) == 135
    mirror = [BlueprintRow(tag, count) for tag, count in cca.weights]
    assert blueprint_departures(cca, mirror) == []

    staff(client)
    practice_exam(per_area=60, draw=2)
    quiz = db.session.scalar(select(Quiz))
    bank_id = db.session.scalar(select(QuestionBank.id))
    form = {
        "passing_score": "70",
        "review_policy": "after_attempt",
        "preset": "CCA",
        "bank_id": str(bank_id),
        "blueprint": "ICD-10-CM: 55\nCPT: 50",
    }
    response = post_form(client, f"/quizzes/{quiz.id}/settings", form)
    assert response.status_code == 302
    module_page = client.get(response.headers["Location"]).get_data(as_text=True)
    assert "Not the exam&#39;s weights: CCA: Clinical classification systems: the AHIMA CCA" in (
        module_page
    )
    page = client.get(f"/quizzes/{quiz.id}/settings").get_data(as_text=True)
    assert "This blueprint is not the exam's weights" in page
    assert "CCA: Compliance: the AHIMA CCA exam has 14, the blueprint draws 0 (-14)." in page
    assert "ICD-10-CM: not an area of the AHIMA CCA exam; the blueprint draws 55." in page
    db.session.refresh(quiz)
    assert quiz.preset == "CCA" and blueprints.question_count(quiz) == 105
