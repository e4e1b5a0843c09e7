"""Common Cartridge in and out: the hand-made Canvas-shaped and Moodle-shaped cartridges
import into courses with lessons and quizzes, the report lists what is left out, and an
exported cartridge re-imports to the same content."""

from __future__ import annotations

import io
import json
import re
import zipfile
from datetime import UTC, datetime

from sqlalchemy import select

from lms.courses.markdown import render_markdown
from lms.courses.models import Choice, Course, Lesson, Module, Question, Quiz, QuizItem
from lms.courses.packages import cartridge_in, cartridge_out, importer, native
from lms.courses.packages.archive import parse_xml
from lms.demo.seed import COURSE_FILES, course_data
from lms.extensions import db
from tests.courses.packages.cartridges import cartridge
from tests.courses.packages.helpers import clear_courses

NOW = datetime(2026, 12, 5, 9, 0, tzinfo=UTC)


def _import(tmp_path, runner, name: str):
    path = tmp_path / f"{name}.imscc"
    path.write_bytes(cartridge(name))
    return runner.invoke(args=["import-course", str(path)])


def _quiz_questions(module: Module) -> list[Question]:
    quiz = db.session.scalar(select(Quiz).where(Quiz.module_id == module.id))
    return list(
        db.session.scalars(
            select(Question)
            .join(QuizItem, QuizItem.question_id == Question.id)
            .where(QuizItem.quiz_id == quiz.id)
            .order_by(QuizItem.position)
        )
    )


def test_the_canvas_shaped_cartridge_imports(runner, tmp_path):
    result = _import(tmp_path, runner, "canvas")
    assert result.exit_code == 0, result.output
    # What is left out is named with its identifier and title.
    assert "g1lti (Publisher's e-book): a LTI link is not imported" in result.output
    assert "g5disc (Introduce yourself): a discussion topic is not imported" in result.output
    assert "ga4 (Explain a denial): question type cc.essay.v0p1 is not imported" in result.output
    course = db.session.scalar(select(Course))
    assert course.title == "Revenue Cycle Basics"
    modules = db.session.scalars(
        select(Module).where(Module.course_id == course.id).order_by(Module.position)
    ).all()
    assert [m.title for m in modules] == [
        "Week 1: The claim's journey",
        "Week 2: Check your understanding",
    ]
    lesson = db.session.scalar(select(Lesson).where(Lesson.module_id == modules[0].id))
    html = str(render_markdown(lesson.body_markdown))
    assert "<strong>registration</strong>" in html
    assert "<td>Certified coder</td>" in html
    assert "tracking" not in html and "<script" not in html  # the script went with its text
    assert 'href="https://www.cms.gov/medicare/cms-forms/' in html  # the web link
    questions = _quiz_questions(modules[1])
    assert [q.kind.value for q in questions] == ["single", "multiple", "true_false"]
    choices = db.session.scalars(
        select(Choice).where(Choice.question_id == questions[1].id).order_by(Choice.position)
    ).all()
    assert [c.is_correct for c in choices] == [True, False, True]
    tf = db.session.scalars(
        select(Choice).where(Choice.question_id == questions[2].id).order_by(Choice.position)
    ).all()
    assert [(c.text, c.is_correct) for c in tf] == [("True", True), ("False", False)]
    quiz = db.session.scalar(select(Quiz).where(Quiz.module_id == modules[1].id))
    assert (quiz.title, quiz.max_attempts, quiz.time_limit_minutes) == ("Week 2 quiz", 2, 20)


def test_the_moodle_shaped_cartridge_imports(runner, tmp_path):
    result = _import(tmp_path, runner, "moodle")
    assert result.exit_code == 0, result.output
    assert "QUE_3 (Name the abbreviation): question type cc.fib.v0p1" in result.output
    assert "RES-105 (Questions about the tabular list): a discussion topic" in result.output
    course = db.session.scalar(select(Course))
    assert course.title == "ICD-10-CM Foundations"
    modules = db.session.scalars(
        select(Module).where(Module.course_id == course.id).order_by(Module.position)
    ).all()
    lesson = db.session.scalar(select(Lesson).where(Lesson.module_id == modules[0].id))
    # The section's own page: no second heading of the same name; its h2 stay h2.
    assert lesson.body_markdown.startswith(
        "# Topic 1: Reading the tabular list\n\n## Why the tabular list decides"
    )
    assert "onclick" not in lesson.body_markdown
    questions = _quiz_questions(modules[1])
    assert [q.stem for q in questions] == [
        "What does an Excludes1 note mean?",
        "A placeholder X fills an empty character so a seventh character can be added.",
    ]


def test_dry_run_writes_nothing(runner, tmp_path, app):
    path = tmp_path / "moodle.imscc"
    path.write_bytes(cartridge("moodle"))
    result = runner.invoke(args=["import-course", str(path), "--dry-run"])
    assert result.exit_code == 0, result.output
    assert "Dry run: nothing was written." in result.output
    assert "module ICD10CMFOUND-2: Topic 2: Practice" in result.output
    assert db.session.query(Course).count() == 0


def _norm(markdown: str) -> str:
    return re.sub(r"\s+", " ", str(render_markdown(markdown))).strip()


def test_every_demo_course_exports_to_a_cartridge_that_reimports_to_the_same_content(app):
    for filename in COURSE_FILES:
        data = course_data(filename)
        importer.import_course(data, actor=None, now=NOW)
        db.session.commit()
        body, left_out = cartridge_out.export_course(data["code"])
        if any(m.get("blueprint") for m in data["modules"]):
            assert any("blueprint" in line for line in left_out)
        clear_courses()
        report = cartridge_in.read_cartridge(body, f"{data['code']}.imscc")
        assert report.skipped == []
        assert report.code == data["code"]  # our own cartridge keeps its course code
        importer.import_course(report.data, actor=None, now=NOW)
        db.session.commit()
        for got, want_module in zip(report.data["modules"], data["modules"], strict=True):
            assert got["title"] == want_module["title"]
            assert _norm(got["lesson"]) == _norm(want_module["lesson"])
            # CC's QTI has no code-entry kind: those questions are left out, and said to be
            want = [q for q in want_module.get("questions", []) if q.get("kind") != "code_entry"]
            dropped = len(want_module.get("questions", [])) - len(want)
            named = [line for line in left_out if line.startswith(f"module {want_module['code']} ")]
            assert sum("kind code_entry" in line for line in named) == dropped
            assert [q["stem"] for q in got["questions"]] == [q["stem"].strip() for q in want]
            assert [q["correct"] for q in got["questions"]] == [q["correct"] for q in want]
            assert [q["choices"] for q in got["questions"]] == [
                [c.strip() for c in q["choices"]] for q in want
            ]
        clear_courses()


def test_the_exported_manifest_is_cc_1_3(app):
    importer.import_course(course_data("billing-reimbursement.toml"), actor=None, now=NOW)
    body, _ = cartridge_out.export_course("BILL")
    with zipfile.ZipFile(io.BytesIO(body)) as archive:
        root = parse_xml(archive.read("imsmanifest.xml"), "imsmanifest.xml")
        names = set(archive.namelist())
    assert root.tag == "{http://www.imsglobal.org/xsd/imsccv1p3/imscp_v1p1}manifest"
    ns = {"cp": "http://www.imsglobal.org/xsd/imsccv1p3/imscp_v1p1"}
    assert root.findtext("cp:metadata/cp:schemaversion", namespaces=ns) == "1.3.0"
    for file in root.iterfind(".//cp:file", ns):
        assert file.get("href") in names


def test_a_module_never_published_stays_out_of_the_cartridge_unless_asked_for(
    app, runner, tmp_path
):
    """A cartridge cannot mark a draft as one, so another LMS may show it to its students:
    the cartridge leaves it out and says so; --include-drafts (or ?drafts=1) keeps it. The
    course package keeps every module."""
    importer.import_course(course_data("billing-reimbursement.toml"), actor=None, now=NOW)
    draft = db.session.scalar(select(Module).where(Module.code == "BILL-2"))
    draft.published_version = None
    db.session.commit()

    def titles(body: bytes) -> list[str]:
        return [m["title"] for m in cartridge_in.read_cartridge(body, "x.imscc").data["modules"]]

    body, left_out = cartridge_out.export_course("BILL")
    assert draft.title not in titles(body)
    assert f"module BILL-2 “{draft.title}”: never published (a draft)" in left_out
    with_drafts, left_out = cartridge_out.export_course("BILL", include_drafts=True)
    assert draft.title in titles(with_drafts)
    assert not [line for line in left_out if "never published" in line]

    path = tmp_path / "bill.imscc"
    result = runner.invoke(args=["export-course", "BILL", "-o", str(path), "--cartridge"])
    assert "not exported: module BILL-2" in result.output
    assert draft.title not in titles(path.read_bytes())
    args = ["export-course", "BILL", "-o", str(path), "--cartridge", "--include-drafts"]
    assert runner.invoke(args=args).exit_code == 0
    assert draft.title in titles(path.read_bytes())

    with zipfile.ZipFile(io.BytesIO(native.export_course("BILL", NOW))) as package:
        manifest = json.loads(package.read("manifest.json"))
    assert "BILL-2" in [module["code"] for module in manifest["modules"]]


def test_a_student_takes_the_imported_moodle_course(client, runner, tmp_path):
    from lms.auth.models import Role
    from tests import factories
    from tests.conftest import login, post_form

    assert _import(tmp_path, runner, "moodle").exit_code == 0
    student = factories.user(Role.STUDENT)
    db.session.commit()
    login(client, student.email)
    first = db.session.scalar(select(Module).where(Module.code == "ICD10CMFOUND-1"))
    page = client.get(f"/modules/{first.id}").get_data(as_text=True)
    assert "Why the tabular list decides" in page
    assert 'href="https://www.cdc.gov/nchs/icd/icd-10-cm/files.html"' in page
    second = db.session.scalar(select(Module).where(Module.code == "ICD10CMFOUND-2"))
    response = post_form(
        client, f"/modules/{second.id}/quiz", factories.answer_form("ICD10CMFOUND-2")
    )
    assert response.status_code == 302
    assert "You passed with 100%." in client.get(response.headers["Location"]).get_data(
        as_text=True
    )


def _with_second_quiz(data: bytes) -> bytes:
    """The Moodle-shaped cartridge with the same quiz placed twice in Topic 2."""
    source = zipfile.ZipFile(io.BytesIO(data))
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as archive:
        for name in source.namelist():
            body = source.read(name)
            if name == "imsmanifest.xml":
                text = body.decode()
                text = text.replace(
                    '<item identifier="ITEM-105"',
                    '<item identifier="ITEM-106" identifierref="RES-106"><title>Second quiz'
                    '</title></item>\n          <item identifier="ITEM-105"',
                )
                text = text.replace(
                    '<resource identifier="RES-105"',
                    '<resource identifier="RES-106" '
                    'type="imsqti_xmlv1p2/imscc_xmlv1p1/assessment">'
                    '<file href="resource_104_quiz/assessment.xml"/></resource>\n'
                    '    <resource identifier="RES-105"',
                )
                body = text.encode()
            archive.writestr(name, body)
    return out.getvalue()


def test_two_assessments_in_one_module_become_one_quiz_and_the_report_says_so(app):
    single = cartridge_in.read_cartridge(cartridge("moodle"), "moodle.imscc")
    double = cartridge_in.read_cartridge(_with_second_quiz(cartridge("moodle")), "moodle.imscc")
    assert single.notes == []
    questions = len(single.data["modules"][1]["questions"])
    assert len(double.data["modules"][1]["questions"]) == 2 * questions
    (note,) = double.notes
    assert note.startswith("Topic 2: Practice: its 2 assessments")
    assert f"one quiz of {2 * questions} questions" in note
    assert any(line.startswith("Note: Topic 2") for line in double.lines())
