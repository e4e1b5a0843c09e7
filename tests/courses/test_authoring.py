"""Authoring in the browser (issue 16): courses and modules created and edited by content
authors, lessons written as drafts beside their preview, published as versions that are kept,
compared and restored; a completion names the version passed; every bad input is refused
with its message beside the field, the right status, and the database as before."""

from __future__ import annotations

import re

from sqlalchemy import func, select

from lms.auth.models import Role
from lms.courses.authoring import service as authoring
from lms.courses.authoring.models import ModuleDraft, ModuleVersion
from lms.courses.models import Course, Lesson, Module, Question, QuestionBank, Quiz, QuizItem
from lms.courses.packages.importer import import_course
from lms.courses.packages.report import ImportReport
from lms.courses.rules import authoring as rules
from lms.extensions import db
from lms.ledger.models import AuditEvent, LedgerEntry, LedgerKind
from tests import factories
from tests.conftest import login, post_form
from tests.courses.builders import practice_exam

LESSON = """# Wound repair

## Simple, intermediate, complex

| Repair | What it involves |
|---|---|
| Simple | one layer |
| Intermediate | layered closure |

Sum the lengths of repairs of the same classification and anatomic group.
"""


def _author(client, role=Role.ADMIN):
    author = factories.user(role, author=role is Role.INSTRUCTOR)
    login(client, author.email)
    return author


def _rows(model) -> int:
    return db.session.scalar(select(func.count()).select_from(model))


def _audit(action: str) -> list[AuditEvent]:
    return list(db.session.scalars(select(AuditEvent).where(AuditEvent.action == action)))


def _new_course(client, code="CPT-SURG", title="CPT Surgery: Integumentary"):
    return post_form(
        client,
        "/courses/new",
        {"code": code, "title": title, "topic_area": "coding", "description": "Skin."},
    )


def _new_module(client, course_id, code="CPT-SURG-1", lesson=LESSON, title="Wound repair"):
    return post_form(
        client,
        f"/courses/{course_id}/modules/new",
        {"code": code, "title": title, "estimated_minutes": "45", "lesson_markdown": lesson},
    )


def _save(client, module_id, lesson, revision, title="Wound repair"):
    return post_form(
        client,
        f"/modules/{module_id}/edit",
        {
            "action": "save",
            "title": title,
            "estimated_minutes": "45",
            "lesson_markdown": lesson,
            "revision": str(revision),
        },
    )


def _publish(client, module_id, note="First version"):
    revision = authoring.draft_of(db.session.get(Module, module_id)).revision
    return post_form(
        client, f"/modules/{module_id}/publish", {"note": note, "revision": str(revision)}
    )


# --- the rules ----------------------------------------------------------------------------


def test_the_lesson_rules_name_each_problem():
    assert rules.lesson_problems(LESSON, publishing=True) == []
    raw = rules.lesson_problems("# A\n\n<script>alert(1)</script>\n\nText <b>bold</b>.")
    assert len(raw) == 3 and all("without HTML" in p.message for p in raw)  # <b> and </b>
    script = rules.lesson_problems("# A\n\n[click](javascript:alert(1))")
    assert [p.field for p in script] == ["lesson_markdown"] and "javascript:" in script[0].message
    assert rules.lesson_problems("[x](JaVa&#115;cript:alert(1))")  # an entity does not hide it
    assert rules.lesson_problems("[x](https://www.cms.gov) [y](media/a.pdf) [z](#s)") == []
    assert "2 top-level headings" in rules.lesson_problems("# One\n\n# Two\n")[0].message
    assert rules.lesson_problems("# One\n\n```\n# not a heading\n```\n") == []
    assert rules.lesson_problems("![](media/x.png)") == []  # a draft may lack alt text
    assert "alt text" in rules.lesson_problems("![](media/x.png)", publishing=True)[0].message
    big = rules.lesson_problems("a" * (rules.LESSON_MAX_BYTES + 1))
    assert "at most 1 MB" in big[0].message
    assert rules.lesson_problems("Use `<b>` for bold.") == []  # HTML in code is text


def test_the_diff_shows_what_changed_with_context():
    old = "# T\n\none\ntwo\nthree\nfour\nfive\nsix\nseven\n"
    new = "# T\n\none\ntwo\nTHREE\nfour\nfive\nsix\nseven\neight\n"
    lines = rules.lesson_diff(old, new, context=1)
    kinds = [(line.kind, line.text) if line else None for line in lines]
    assert ("removed", "three") in kinds and ("added", "THREE") in kinds
    assert ("added", "eight") in kinds and None in kinds  # a gap between the two changes
    assert ("same", "# T") not in kinds  # far from any change


# --- courses ------------------------------------------------------------------------------


def test_an_author_creates_and_edits_a_course_and_each_change_is_audited(client):
    _author(client)
    response = _new_course(client)
    assert response.status_code == 302
    course = db.session.scalar(select(Course).where(Course.code == "CPT-SURG"))
    assert course.title == "CPT Surgery: Integumentary" and course.topic_area == "coding"
    page = client.get(f"/courses/{course.id}/edit").get_data(as_text=True)
    assert "No modules yet." in page and "Add a module" in page
    response = post_form(
        client,
        f"/courses/{course.id}/edit",
        {"code": "CPT-SURG", "title": "CPT Surgery 10000", "topic_area": "coding"},
    )
    assert response.status_code == 302
    db.session.refresh(course)
    assert course.title == "CPT Surgery 10000" and course.description == ""
    (updated,) = _audit("course.updated")
    assert updated.details["title"] == {
        "from": "CPT Surgery: Integumentary",
        "to": "CPT Surgery 10000",
    }
    assert len(_audit("course.created")) == 1


def test_a_course_without_a_title_or_with_a_code_in_use_is_refused_beside_the_field(client):
    _author(client)
    factories.course("TERM")
    before = (_rows(Course), _rows(AuditEvent))
    response = _new_course(client, title="  ")
    assert response.status_code == 400
    page = response.get_data(as_text=True)
    assert 'id="title-error"' in page and "Give a title." in page
    response = _new_course(client, code="term")  # codes are read in capitals
    assert response.status_code == 409
    assert "A course with the code TERM exists already." in response.get_data(as_text=True)
    assert (_rows(Course), _rows(AuditEvent)) == before


def test_an_archived_course_leaves_the_students_catalogue(client):
    factories.course("TERM")
    author = factories.user(Role.ADMIN)
    course = db.session.scalar(select(Course))
    authoring.archive_course(author, course.id, True, factories.NOW)
    db.session.commit()
    login(client, factories.user(Role.STUDENT).email)
    assert "Course TERM" not in client.get("/courses").get_data(as_text=True)
    module = factories.module("TERM-1")
    assert client.get(f"/modules/{module.id}").status_code == 404


# --- modules, drafts and publishing -------------------------------------------------------


def test_a_new_module_is_a_draft_that_students_see_once_published(client, app):
    _author(client)
    _new_course(client)
    course = db.session.scalar(select(Course).where(Course.code == "CPT-SURG"))
    assert _new_module(client, course.id).status_code == 302
    module = db.session.scalar(select(Module).where(Module.code == "CPT-SURG-1"))
    assert module.published_version is None
    assert db.session.get(ModuleDraft, module.id).lesson_markdown == LESSON
    editor = client.get(f"/modules/{module.id}/edit").get_data(as_text=True)
    assert "<table>" in editor and "<h2>Wound repair</h2>" in editor  # the preview
    assert "never published" in editor

    student = factories.user(Role.STUDENT)
    other = app.test_client()
    login(other, student.email)
    assert "Wound repair" not in other.get("/courses").get_data(as_text=True)
    assert other.get(f"/modules/{module.id}").status_code == 404

    assert _publish(client, module.id).status_code == 302
    db.session.refresh(module)
    assert module.published_version == 1
    lesson = db.session.scalar(select(Lesson).where(Lesson.module_id == module.id))
    assert lesson.body_markdown == LESSON
    other = app.test_client()
    login(other, student.email)
    assert "Wound repair" in other.get("/courses").get_data(as_text=True)
    page = other.get(f"/modules/{module.id}").get_data(as_text=True)
    assert "Sum the lengths of repairs" in page
    (published,) = _audit("module.published")
    assert published.details == {"version": 1, "note": "First version", "title": "Wound repair"}


def test_a_duplicate_module_code_a_huge_lesson_or_html_is_refused_and_nothing_written(client):
    _author(client)
    factories.course("TERM")
    course = db.session.scalar(select(Course))
    before = (_rows(Module), _rows(ModuleDraft), _rows(AuditEvent))
    response = _new_module(client, course.id, code="term-1")
    assert response.status_code == 409
    page = response.get_data(as_text=True)
    assert 'id="code-error"' in page and "The module code TERM-1 is in use already" in page
    response = _new_module(client, course.id, lesson="x" * 1_000_001)
    assert response.status_code == 400 and "at most 1 MB" in response.get_data(as_text=True)
    response = _new_module(client, course.id, lesson="# A\n\n<iframe src=x></iframe>")
    assert response.status_code == 400
    assert 'id="lesson_markdown-error"' in response.get_data(as_text=True)
    response = _new_module(client, course.id, lesson="[x](javascript:alert(1))")
    assert response.status_code == 400
    response = _new_module(client, course.id, title="")
    assert response.status_code == 400 and "Give a title." in response.get_data(as_text=True)
    assert (_rows(Module), _rows(ModuleDraft), _rows(AuditEvent)) == before


def test_two_authors_saving_the_same_draft_the_second_is_told_and_keeps_their_text(app, client):
    _author(client)
    factories.course("TERM")
    module = factories.module("TERM-1")
    opened = authoring.draft_of(module).revision  # both open the editor at this revision
    other = app.test_client()
    _author(other, Role.INSTRUCTOR)
    assert _save(other, module.id, "# One\n\nFirst author's text.\n", opened).status_code == 302
    response = _save(client, module.id, "# One\n\nSecond author's text.\n", opened)
    assert response.status_code == 409
    page = response.get_data(as_text=True)
    assert "The draft changed since you opened it" in page
    assert "Second author&#39;s text." in page  # still in the form, nothing lost
    draft = db.session.get(ModuleDraft, module.id)
    db.session.refresh(draft)
    assert draft.lesson_markdown == "# One\n\nFirst author's text.\n"
    assert len(_audit("module.draft_saved")) == 1


def test_publishing_needs_a_note_alt_text_and_the_media_named(client):
    _author(client)
    factories.course("TERM")
    module = factories.module("TERM-1")
    draft = authoring.draft_of(module)
    assert _save(client, module.id, "# L\n\n![](media/wound.png)\n", draft.revision).status_code
    versions = _rows(ModuleVersion)
    response = _publish(client, module.id, note="")
    assert response.status_code == 400
    page = response.get_data(as_text=True)
    assert "Say in a few words what this version changes." in page
    assert "Give every image alt text before publishing" in page
    assert "The course has no file wound.png" in page
    assert _rows(ModuleVersion) == versions
    lesson = db.session.scalar(select(Lesson).where(Lesson.module_id == module.id))
    assert "wound.png" not in lesson.body_markdown  # students still read version 1


def test_a_completion_keeps_the_version_studied_after_a_new_one_is_published(client, app):
    _author(client)
    factories.course("TERM")
    module = factories.module("TERM-1")
    student = factories.user(Role.STUDENT)
    factories.pass_module(student, "TERM-1")
    entry = db.session.scalar(select(LedgerEntry).where(LedgerEntry.student_id == student.id))
    assert entry.kind is LedgerKind.MODULE_COMPLETED and entry.module_version == 1

    revision = authoring.draft_of(module).revision
    rewritten = "# Lesson 1\n\nRewritten for 2027.\n"
    assert _save(client, module.id, rewritten, revision, title="Module 1 of TERM").status_code
    assert _publish(client, module.id, note="Rewritten for the 2027 code set").status_code == 302
    db.session.refresh(module)
    assert module.published_version == 2
    db.session.refresh(entry)
    assert entry.module_version == 1  # the ledger is never rewritten

    own = app.test_client()
    login(own, student.email)
    transcript = own.get(f"/transcripts/{student.id}").get_data(as_text=True)
    row = re.search(r"TERM-1 Module 1 of TERM</td>\s*<td>([^<]+)</td>", transcript)
    assert row and row.group(1) == "Version 1"
    other = factories.user(Role.STUDENT)
    factories.pass_module(other, "TERM-1")
    newer = db.session.scalar(select(LedgerEntry).where(LedgerEntry.student_id == other.id))
    assert newer.module_version == 2


def test_the_versions_page_compares_and_restores(client):
    _author(client)
    factories.course("TERM")
    module = factories.module("TERM-1")
    first = authoring.draft_of(module).lesson_markdown
    revision = authoring.draft_of(module).revision
    _save(client, module.id, first.replace("heart", "heart muscle") + "\nNew line.\n", revision)
    assert _publish(client, module.id, note="Clearer wording").status_code == 302
    page = client.get(f"/modules/{module.id}/versions").get_data(as_text=True)
    assert "Clearer wording" in page and "Version 2 against version 1" in page
    assert '<span class="visually-hidden">Added: </span>New line.' in page
    assert '<span class="visually-hidden">Removed: </span>The root *cardi/o* means heart.' in page

    response = post_form(client, f"/modules/{module.id}/versions/1/restore", {})
    assert response.status_code == 302
    db.session.refresh(module)
    assert module.published_version == 3
    restored = db.session.scalar(
        select(ModuleVersion).where(ModuleVersion.module_id == module.id, ModuleVersion.number == 3)
    )
    assert restored.lesson_markdown == first and restored.note == "Restored version 1."
    assert client.get(f"/modules/{module.id}/versions?compare=9").status_code == 404


def test_restoring_over_unpublished_changes_asks_first(client):
    _author(client)
    factories.course("TERM")
    module = factories.module("TERM-1")
    revision = authoring.draft_of(module).revision
    _save(client, module.id, "# Lesson 1\n\nv2\n", revision)
    _publish(client, module.id, note="v2")
    _save(client, module.id, "# Lesson 1\n\nwork in progress\n", revision + 1)
    response = post_form(client, f"/modules/{module.id}/versions/1/restore", {})
    assert response.status_code == 409
    assert "The draft holds changes that are not published." in response.get_data(as_text=True)
    assert db.session.get(ModuleDraft, module.id).lesson_markdown.endswith("work in progress\n")
    response = post_form(client, f"/modules/{module.id}/versions/1/restore", {"discard_draft": "y"})
    assert response.status_code == 302


def test_modules_move_with_buttons_that_need_no_javascript(client):
    _author(client)
    factories.course("TERM", modules=3)
    course = db.session.scalar(select(Course))
    third = factories.module("TERM-3")
    assert post_form(client, f"/modules/{third.id}/move", {"step": "up"}).status_code == 302
    order = db.session.scalars(
        select(Module.code).where(Module.course_id == course.id).order_by(Module.position)
    ).all()
    assert order == ["TERM-1", "TERM-3", "TERM-2"]
    first = factories.module("TERM-1")
    response = post_form(client, f"/modules/{first.id}/move", {"step": "up"})
    assert response.status_code == 400  # the first module already
    assert len(_audit("module.moved")) == 1


def test_a_required_module_shows_who_depends_on_it_and_is_archived_not_deleted(client):
    author = _author(client)
    factories.course("TERM")
    credential = factories.credential("CPC", modules=["TERM-1"])
    instructor = factories.user(Role.INSTRUCTOR)
    factories.cohort(instructor, credential, name="Evening CPC 2027")
    module = factories.module("TERM-1")
    page = client.get(f"/modules/{module.id}/edit").get_data(as_text=True)
    assert "Before you change this module" in page
    assert "Credential: CPC: Credential CPC" in page and "Cohort: Evening CPC 2027" in page

    factories.pass_module(factories.user(Role.STUDENT), "TERM-1")
    response = post_form(client, f"/modules/{module.id}/delete")
    assert response.status_code == 409
    assert "archived, not deleted" in response.get_data(as_text=True)
    assert db.session.get(Module, module.id) is not None
    assert post_form(client, f"/modules/{module.id}/archive", {"archived": "1"}).status_code == 302
    db.session.refresh(module)
    assert module.archived_at is not None
    assert module not in db.session.scalar(select(Course)).modules  # what students see
    assert [e.actor_id for e in _audit("module.archived")] == [author.id]


def test_a_module_without_history_is_deleted_with_its_draft_and_versions(client):
    _author(client)
    factories.course("TERM")
    course = db.session.scalar(select(Course))
    _new_module(client, course.id, code="TERM-9")
    module_id = db.session.scalar(select(Module.id).where(Module.code == "TERM-9"))
    _publish(client, module_id)
    assert post_form(client, f"/modules/{module_id}/delete").status_code == 302
    assert db.session.scalar(select(Module).where(Module.code == "TERM-9")) is None
    assert db.session.get(ModuleDraft, module_id) is None
    assert _rows(ModuleVersion) == 2  # the two modules of TERM still have theirs
    assert _audit("module.deleted")[0].details == {"code": "TERM-9", "title": "Wound repair"}


def test_an_instructor_who_is_not_an_author_reads_but_cannot_write(client):
    factories.course("TERM")
    module = factories.module("TERM-1")
    course = db.session.scalar(select(Course))
    login(client, factories.user(Role.INSTRUCTOR).email)
    page = client.get(f"/modules/{module.id}/edit").get_data(as_text=True)
    assert "Only the school's content authors change modules" in page
    assert 'name="lesson_markdown"' not in page
    drafts = _rows(ModuleDraft)
    assert _save(client, module.id, "# Mine\n", 0).status_code == 403
    assert _new_course(client).status_code == 403
    assert _new_module(client, course.id).status_code == 403
    assert _rows(ModuleDraft) == drafts and _rows(Course) == 1
    login(client, factories.user(Role.STUDENT).email)
    assert client.get(f"/modules/{module.id}/edit").status_code == 403


def test_the_demo_loader_and_the_importers_write_through_the_editor_s_service(app):
    """Every module of a content file is added as a draft and published as version 1 by the
    authoring service: no second way to create content."""
    factories.course("TERM", modules=2)
    versions = db.session.scalars(select(ModuleVersion).order_by(ModuleVersion.id)).all()
    assert [(v.number, v.published_by_id) for v in versions] == [(1, None), (1, None)]
    assert {e.action for e in db.session.scalars(select(AuditEvent))} >= {
        "course.created",
        "module.created",
        "module.published",
    }


# --- the quiz builder ---------------------------------------------------------------------


def _items(quiz_id: int) -> list[str]:
    return [
        str(qid)
        for qid in db.session.scalars(
            select(QuizItem.question_id)
            .where(QuizItem.quiz_id == quiz_id)
            .order_by(QuizItem.position)
        )
    ]


def test_an_author_builds_a_quiz_by_hand_and_previews_it(client):
    _author(client)
    factories.course("TERM", questions=3)
    course = db.session.scalar(select(Course))
    _new_module(client, course.id, code="TERM-5")
    module = db.session.scalar(select(Module).where(Module.code == "TERM-5"))
    page = client.get(f"/modules/{module.id}/quiz/build").get_data(as_text=True)
    assert "Create the quiz" in page
    bank_id = db.session.scalar(select(QuestionBank.id))
    response = post_form(
        client,
        f"/modules/{module.id}/quiz/build",
        {"action": "create", "title": "Wound repair quiz", "bank_id": bank_id, "passing_score": 80},
    )
    assert response.status_code == 302
    quiz = db.session.scalar(select(Quiz).where(Quiz.module_id == module.id))
    assert (quiz.title, quiz.passing_score, quiz.bank_id) == ("Wound repair quiz", 80, bank_id)

    page = client.get(f"/modules/{module.id}/quiz/build?bank={bank_id}&q=module+2")
    listed = re.findall(r'name="question" value="(\d+)"', page.get_data(as_text=True))
    assert len(listed) == 3  # the three questions of TERM-2, by their words
    picked = listed[:2]
    response = post_form(
        client, f"/modules/{module.id}/quiz/build", {"action": "add", "question": picked}
    )
    assert response.status_code == 302
    assert _items(quiz.id) == picked

    # the same question twice, or one that does not exist: refused, nothing added
    again = post_form(
        client, f"/modules/{module.id}/quiz/build", {"action": "add", "question": [picked[0]]}
    )
    assert again.status_code == 400 and "in the quiz already" in again.get_data(as_text=True)
    missing = post_form(
        client, f"/modules/{module.id}/quiz/build", {"action": "add", "question": ["999999"]}
    )
    assert missing.status_code == 400
    assert len(_items(quiz.id)) == 2

    preview = client.get(f"/modules/{module.id}/quiz/preview").get_data(as_text=True)
    assert preview.count('class="question"') == 2 and "TERM module 2 question 1?" in preview
    assert "Nothing can be submitted here." in preview and "<form" not in preview.split("<main")[-1]

    response = post_form(
        client, f"/modules/{module.id}/quiz/build", {"action": "remove", "question": picked[0]}
    )
    assert response.status_code == 302
    assert _items(quiz.id) == [picked[1]]
    actions = [
        e.action for e in db.session.scalars(select(AuditEvent)) if e.action.startswith("quiz")
    ]
    assert actions == ["quiz.created", "quiz.questions_added", "quiz.question_removed"]


def test_a_blueprint_quiz_is_previewed_as_one_draw_and_takes_no_hand_picks(client):
    _author(client)
    practice_exam(per_area=3, draw=2, minutes=None)
    quiz = db.session.scalar(select(Quiz))
    preview = client.get(f"/modules/{quiz.module_id}/quiz/preview")
    assert preview.status_code == 200
    assert "one draw of the blueprint" in preview.get_data(as_text=True)
    some = db.session.scalar(select(Question.id))
    response = post_form(
        client, f"/modules/{quiz.module_id}/quiz/build", {"action": "add", "question": [some]}
    )
    assert response.status_code == 409
    assert "draws its questions by its blueprint" in response.get_data(as_text=True)


def test_an_imported_lesson_that_cannot_be_published_stays_a_draft_and_the_report_says_so(app):
    data = {
        "code": "IMP",
        "title": "Imported",
        "topic_area": "coding",
        "modules": [
            {"code": "IMP-1", "title": "Fine", "lesson": "# Fine\n\nText.\n"},
            {"code": "IMP-2", "title": "No alt", "lesson": "# Figure\n\n![](media/x.png)\n"},
        ],
    }
    report = ImportReport(source="course package", data=data)
    (line,) = report.drafts()
    assert line.startswith("IMP-2: Give every image alt text")
    import_course(data, actor=None, now=factories.NOW)
    db.session.commit()
    states = dict(db.session.execute(select(Module.code, Module.published_version)).all())
    assert states == {"IMP-1": 1, "IMP-2": None}
