"""The shipped catalogue, `sync-catalog`, and the admin's requirement editor."""

import json
from datetime import date

import pytest
from sqlalchemy import func, select

from lms.auth.models import Role
from lms.credentials import service as credentials
from lms.credentials.models import Certificate, Credential, RequirementSet
from lms.credentials.rules import StudentFacts, evaluate, parse_requirements
from lms.errors import InvalidInput
from lms.extensions import db
from lms.ledger.models import AuditEvent
from tests import factories
from tests.conftest import login, post_form

REFERENCE_CODES = {
    "CPC", "CPB", "CPC+CPB", "COC", "CIC", "CRC", "CPMA", "CPCO", "CDEO", "CDEI", "CPPM",
    "CEDC", "CCC", "CCA", "CCS", "CCS-P", "CPMS",
}  # fmt: skip


def test_catalogue_holds_every_reference_credential_with_sources_and_confidence():
    entries = {e["code"]: e for e in credentials.read_catalog()}
    assert set(entries) == REFERENCE_CODES
    assert credentials.catalog_problems(list(entries.values())) == []
    for entry in entries.values():
        assert entry["issuing_body"] and entry["exam_format"] and entry["eligibility"]
        assert entry["confidence"] in credentials.CONFIDENCE_LEVELS
    # facts nobody could confirm say so instead of a number
    for code in ("CDEI", "CEDC", "CCC", "CPMS"):
        assert entries[code]["confidence"] == "unverified"
        assert entries[code]["exam_format"].startswith("Unknown")
    # AAPC's own page gives the CPB's 135 questions (the content review, section 1)
    assert entries["CPB"]["confidence"] == "medium" and "135" in entries["CPB"]["exam_format"]
    assert entries["CPMS"]["issuing_body"] == "Not confirmed"
    assert "high school diploma" in entries["CCA"]["eligibility"]


TODAY = date(2026, 11, 2)


def facts(**kwargs):
    return StudentFacts(as_of=TODAY, **kwargs)


@pytest.mark.parametrize(
    ("student", "met"),
    [
        (facts(), False),
        (facts(experience_months=24), True),  # two years on their own
        (facts(experience_months=12), False),  # one of the two-of-three
        (facts(experience_months=12, evidence={"practicode": "verified"}), True),
        (
            facts(evidence={"practicode": "verified", "prep_course_80_hours": "verified"}),
            True,
        ),
        (facts(evidence={"practicode": "verified", "prep_course_80_hours": "submitted"}), False),
    ],
)
def test_apprentice_removal_path_for_cpc_and_coc_is_catalogue_data(student, met):
    paths = {e["code"]: e.get("information_path") for e in credentials.read_catalog()}
    tree = parse_requirements(paths["CPC"])
    assert parse_requirements(paths["COC"]) == tree
    assert paths["CCA"] is None
    assert evaluate(tree, student, {}).met is met


def audit_count(action):
    return db.session.scalar(
        select(func.count()).select_from(AuditEvent).where(AuditEvent.action == action)
    )


def test_sync_catalog_is_idempotent_and_audited(app, runner):
    result = runner.invoke(args=["sync-catalog"])
    assert result.exit_code == 0, result.output
    assert "17 credentials in the catalogue: 17 created, 0 updated." in result.output
    assert audit_count("catalog.synced") == 1
    result = runner.invoke(args=["sync-catalog"])
    assert "0 created, 0 updated" in result.output
    assert audit_count("catalog.synced") == 1
    cpms = db.session.scalar(select(Credential).where(Credential.code == "CPMS"))
    assert (cpms.confidence, cpms.is_verified, cpms.validity_months) == ("unverified", False, None)


def test_sync_catalog_refuses_a_bad_file_and_changes_nothing(app, runner, tmp_path):
    bad = tmp_path / "catalog.toml"
    bad.write_text(
        '[[credential]]\ncode = "CPC"\nname = "x"\nissuing_body = "AAPC"\nconfidence = "sure"\n'
        '[[credential]]\ncode = "CPC"\nname = "y"\nissuing_body = "AAPC"\nvalidity_months = 0\n'
    )
    result = runner.invoke(args=["sync-catalog", "--file", str(bad)])
    assert result.exit_code != 0
    assert "confidence must be one of" in result.output
    assert "the code appears twice" in result.output
    assert db.session.scalar(select(func.count()).select_from(Credential)) == 0


@pytest.fixture
def admin_and_cca(app):
    factories.course("TERM", modules=2)
    credential = factories.credential("CCA", modules=["TERM-1"])
    admin = factories.user(Role.ADMIN)
    return admin, credential


def versions(credential):
    return db.session.scalars(
        select(RequirementSet.version).where(RequirementSet.credential_id == credential.id)
    ).all()


def test_admin_edits_requirements_as_a_new_version(client, admin_and_cca):
    admin, credential = admin_and_cca
    login(client, admin.email)
    assert "CCA" in client.get("/admin/credentials").get_data(as_text=True)
    url = f"/admin/credentials/{credential.id}"
    page = client.get(url).get_data(as_text=True)
    assert "Current version: <strong>1</strong>" in page and "TERM-1" in page
    tree = {
        "type": "all_of",
        "children": [
            {"type": "evidence", "kind": "hs_diploma_or_ged"},
            {"type": "course_completed", "course": "TERM"},
            {"type": "assessment_score", "module": "TERM-2", "min_score": 75, "within_days": 60},
        ],
    }
    response = post_form(client, url, {"tree": json.dumps(tree)})
    assert response.status_code == 302
    assert versions(credential) == [1, 2]
    assert credentials.current_requirement_set(credential).tree == tree
    assert audit_count("requirements.saved") == 2  # the factory's, and the admin's


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("{not json", "This is not valid JSON"),
        ('{"type": "module_completed", "module": "NOPE-9"}', "unknown modules: NOPE-9"),
        ('{"type": "course_completed", "course": "NOPE"}', "unknown courses: NOPE"),
        (
            '{"type": "module_completed", "module": "TERM-1", "min_score": 170}',
            "min_score must be a number from 0 to 100",
        ),
        (
            '{"type": "n_of", "n": 3, "children": [{"type": "experience_months", '
            '"min_months": 6}]}',
            "n_of needs n between 1 and 1",
        ),
        (
            '{"type":"all_of","children":[' * 11
            + '{"type":"experience_months","min_months":1}'
            + "]}" * 11,
            "nested deeper than 10 levels",
        ),
    ],
)
def test_bad_requirements_are_refused_and_nothing_is_saved(client, admin_and_cca, text, message):
    admin, credential = admin_and_cca
    login(client, admin.email)
    response = post_form(client, f"/admin/credentials/{credential.id}", {"tree": text})
    assert response.status_code == 400
    assert message in response.get_data(as_text=True)
    assert versions(credential) == [1]


def test_every_problem_of_a_tree_is_shown_beside_it(client, admin_and_cca):
    admin, credential = admin_and_cca
    login(client, admin.email)
    tree = {
        "type": "all_of",
        "children": [
            {"type": "module_completed", "module": "NOPE-9"},
            {"type": "course_completed", "course": "NOPE"},
        ],
    }
    response = post_form(client, f"/admin/credentials/{credential.id}", {"tree": json.dumps(tree)})
    assert response.status_code == 400
    error = response.get_data(as_text=True).split('id="tree-error">')[1].split("</p>")[0]
    assert "unknown modules: NOPE-9." in error and "unknown courses: NOPE." in error
    assert versions(credential) == [1]


def test_instructors_and_students_cannot_edit_requirements(app, admin_and_cca):
    _, credential = admin_and_cca
    for role in (Role.INSTRUCTOR, Role.STUDENT):
        client = app.test_client()
        login(client, factories.user(role).email)
        response = post_form(client, f"/admin/credentials/{credential.id}", {"tree": "{}"})
        assert response.status_code == 403
    assert versions(credential) == [1]


def test_certificate_keeps_its_version_after_the_admin_changes_requirements(
    app, client, admin_and_cca
):
    admin, credential = admin_and_cca
    instructor = factories.user(Role.INSTRUCTOR)
    student = factories.user(Role.STUDENT, name="Casey Coder")
    factories.cohort(instructor, credential, [student])
    factories.pass_module(student, "TERM-1")
    certificate = db.session.scalar(select(Certificate))
    login(client, admin.email)
    post_form(
        client,
        f"/admin/credentials/{credential.id}",
        {"tree": '{"type": "module_completed", "module": "TERM-2"}'},
    )
    assert versions(credential) == [1, 2]
    page = app.test_client().get(f"/verify/{certificate.code}").get_data(as_text=True)
    assert "Valid." in page
    assert "<dt>Requirements version</dt><dd>1</dd>" in page


def test_a_minimum_score_below_the_module_s_pass_mark_is_refused_nothing_written(app):
    """A requirement asking 70% of a module that passes at 80% asks less than passing it:
    refused, with the module and both figures named (issue 18 item 7)."""
    factories.course("CODE", modules=2, passing=80)
    first = {"type": "module_completed", "module": "CODE-1", "min_score": 80}
    credential = factories.credential("CPC", tree={"type": "all_of", "children": [first]})
    before = db.session.scalar(select(func.count()).select_from(RequirementSet))
    tree = {
        "type": "all_of",
        "children": [
            {"type": "module_completed", "module": "CODE-1", "min_score": 80},
            {"type": "module_completed", "module": "CODE-2", "min_score": 70},
            {"type": "assessment_score", "module": "CODE-2", "min_score": 60, "within_days": 9},
        ],
    }
    with pytest.raises(InvalidInput) as refused:
        credentials.save_requirements(credential, tree, None, factories.NOW)
    messages = [problem.message for problem in refused.value.problems]
    assert messages == [
        "CODE-2: the minimum score 70% is below the module's pass mark (80%); ask for 80% or more.",
        "CODE-2: the minimum score 60% is below the module's pass mark (80%); ask for 80% or more.",
    ]
    assert db.session.scalar(select(func.count()).select_from(RequirementSet)) == before
    tree["children"] = tree["children"][:1]
    assert credentials.save_requirements(credential, tree, None, factories.NOW).version == 2
