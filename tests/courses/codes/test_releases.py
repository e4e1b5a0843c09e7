"""Code-set releases (issue 18 item 4): a school loads a newer release and sees every
code-entry key it deleted or changed; an author marks each reviewed."""

from sqlalchemy import func, select

from lms.auth.models import Role
from lms.courses.codesets.releases import ReleaseError, read_release
from lms.courses.models import CodeSetRelease, Question, QuestionKind
from lms.extensions import db
from lms.ledger.models import AuditEvent
from tests import factories
from tests.conftest import login, post_form
from tests.courses.test_code_entry import coding_quiz


def order_line(number: int, code: str, billable: str, short: str, long: str) -> str:
    """A line of CMS's ICD-10-CM order file: fixed columns."""
    return f"{number:05d} {code:<7} {billable} {short:<60} {long}"


# An invented "next" release: E11.621 deleted (split, say), L97.411 described differently,
# and the rest as they were.
ORDER_FILE = "\n".join(
    [
        order_line(1, "E11", "0", "Type 2 diabetes mellitus", "Type 2 diabetes mellitus"),
        order_line(2, "E119", "1", "Type 2 diabetes w/o complications", "Type 2 diabetes"),
        order_line(
            3,
            "L97411",
            "1",
            "Non-prs chr ulc r heel",
            "Non-pressure chronic ulcer of "
            "right heel and midfoot limited to breakdown of skin, revised",
        ),  # fmt: skip
    ]
)


def test_the_order_file_and_the_codes_file_are_read(app):
    codes = read_release("icd10cm", ORDER_FILE)
    assert codes["E11"] == (False, "Type 2 diabetes mellitus")
    assert codes["E11.9"] == (True, "Type 2 diabetes")
    assert read_release("icd10cm", "E119    Type 2 diabetes mellitus\nA000  Cholera")["A00.0"][0]
    assert read_release("cpt", "99213\n11042\tnot kept") == {
        "99213": (True, ""),
        "11042": (True, ""),
    }
    for code_set, text in [("icd10cm", "not a code line"), ("cpt", "9921"), ("hcpcs", "")]:
        try:
            read_release(code_set, text)
        except ReleaseError:
            continue
        raise AssertionError(f"{code_set}: {text!r} was read")


def test_loading_a_release_lists_the_keys_it_changed_and_an_author_marks_them(
    app, client, runner, tmp_path
):
    coding_quiz()
    question_id = db.session.scalar(
        select(Question.id).where(Question.kind == QuestionKind.CODE_ENTRY)
    )
    release = tmp_path / "icd10cm_order_2027.txt"
    release.write_text(ORDER_FILE, encoding="utf-8")
    result = runner.invoke(args=["codes", "load", "icd10cm", str(release), "--label", "2027"])
    assert result.exit_code == 0, result.output
    assert "Loaded the icd10cm release 2027: 3 codes." in result.output
    assert f"question {question_id}: E11.621 deleted" in result.output
    assert f"question {question_id}: L97.411 description changed: was “" in result.output
    again = runner.invoke(args=["codes", "load", "icd10cm", str(release), "--label", "2027"])
    assert again.exit_code == 1 and "is loaded already" in again.output
    assert db.session.scalar(select(func.count()).select_from(CodeSetRelease)) == 1

    author = factories.user(Role.INSTRUCTOR)
    author.content_author = True
    db.session.commit()
    login(client, author.email)
    page = client.get("/codes/review").get_data(as_text=True)
    assert "Newest release: <strong>2027</strong>" in page
    assert "<code>E11.621</code></td>\n    <td>deleted" in page
    done = post_form(client, f"/codes/review/{question_id}", {"code_set": "icd10cm"})
    assert done.status_code == 302
    db.session.expire_all()
    assert db.session.get(Question, question_id).code_release == "icd10cm 2027"
    assert "No live code-entry key names a code" in client.get("/codes/review").get_data(
        as_text=True
    )
    assert (
        db.session.scalar(
            select(func.count())
            .select_from(AuditEvent)
            .where(AuditEvent.action == "question.key_reviewed")
        )
        == 1
    )


def test_a_bad_release_file_loads_nothing_and_a_non_author_cannot_mark(
    app, client, runner, tmp_path
):
    bad = tmp_path / "bad.txt"
    bad.write_text("E119 Type 2\nthis is not a code\nneither is this\n", encoding="utf-8")
    result = runner.invoke(args=["codes", "load", "icd10cm", str(bad), "--label", "x"])
    assert result.exit_code == 1
    assert "Nothing loaded from bad.txt: 2 line(s) are not a icd10cm release line: line 2, 3" in (
        result.output
    )
    assert db.session.scalar(select(func.count()).select_from(CodeSetRelease)) == 0
    coding_quiz()
    question_id = db.session.scalar(
        select(Question.id).where(Question.kind == QuestionKind.CODE_ENTRY)
    )
    login(client, factories.user(Role.INSTRUCTOR).email)
    refused = post_form(client, f"/codes/review/{question_id}", {"code_set": "icd10cm"})
    assert refused.status_code == 403
    db.session.expire_all()
    assert db.session.get(Question, question_id).code_release == "icd10cm 2026-04-01"
