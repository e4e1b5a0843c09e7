"""The requirement builder (issue 19 item 17): an admin adds, removes and nests requirements
with form fields beside the JSON; every saved version is kept with a readable difference to
the one before it."""

import html
import json
import re

from sqlalchemy import func, select

from lms.auth.models import Role
from lms.credentials import service as credentials
from lms.credentials.models import RequirementSet
from lms.credentials.rules import builder, parse_requirements
from lms.extensions import db
from tests import factories
from tests.conftest import login, post_form

TITLES = {"T-1": "Word parts", "T-2": "Body systems", "T": "Terminology"}


# --- the pure builder ---------------------------------------------------------------------


def test_a_first_leaf_is_wrapped_in_all_of_and_groups_nest_by_path():
    leaf, problems = builder.new_node("module_completed", module="T-1", min_score=70)
    assert problems == []
    draft = builder.add_node(None, "", leaf)
    assert draft == {"type": "all_of", "children": [leaf]}
    group, _ = builder.new_node("n_of", n=1, label="Eligibility")
    draft = builder.add_node(draft, "", group)
    diploma, _ = builder.new_node("evidence", evidence="hs_diploma_or_ged")
    experience, _ = builder.new_node("experience_months", months=24)
    draft = builder.add_node(builder.add_node(draft, "1", diploma), "1", experience)
    assert builder.group_paths(draft) == ["", "1"]
    assert [(row.path, row.depth) for row in builder.outline(draft, TITLES)] == [
        ("", 0), ("0", 1), ("1", 1), ("1.0", 2), ("1.1", 2)
    ]  # fmt: skip
    assert builder.outline(draft, TITLES)[2].text == "At least 1 of (Eligibility):"
    parse_requirements(draft)  # the built tree is one the engine reads

    smaller = builder.remove_node(draft, "1.0")
    assert [c["type"] for c in smaller["children"][1]["children"]] == ["experience_months"]
    assert draft["children"][1]["children"][0] == diploma  # the draft given is not changed
    assert builder.remove_node(draft, "") is None


def test_a_new_node_says_which_field_is_wrong():
    assert builder.new_node("module_completed") == (None, [("Choose a module.", "module")])
    node, problems = builder.new_node("assessment_score", module="T-1", min_score=140)
    assert node is None and problems == [("A score is a number from 0 to 100.", "min_score")]
    assert builder.new_node("n_of")[1] == [
        ("Say how many of the group must be met (1 or more).", "n")
    ]
    assert builder.new_node("nonsense")[1] == [("Choose a kind of requirement.", "kind")]


def test_the_difference_between_two_versions_reads_as_lines_added_and_removed():
    old = {"type": "all_of", "children": [{"type": "module_completed", "module": "T-1"}]}
    new = {
        "type": "all_of",
        "children": [
            {"type": "module_completed", "module": "T-1", "min_score": 80},
            {"type": "course_completed", "course": "T"},
        ],
    }
    lines = builder.difference(
        builder.outline_lines(old, TITLES), builder.outline_lines(new, TITLES)
    )
    signs = [line.sign for line in lines]
    assert signs.count(" ") == 1 and signs.count("-") == 1 and signs.count("+") == 2
    assert lines[0] == builder.DiffLine(" ", "All of:")
    removed = next(line for line in lines if line.sign == "-")
    assert "Word parts" in removed.text and "80" not in removed.text


# --- the page -----------------------------------------------------------------------------


def _textarea(page: str) -> str:
    match = re.search(r'<textarea[^>]*name="tree"[^>]*>(.*?)</textarea>', page, re.S)
    return html.unescape(match.group(1)).strip()


def _versions(credential_id):
    return db.session.scalar(
        select(func.count())
        .select_from(RequirementSet)
        .where(RequirementSet.credential_id == credential_id)
    )


def test_an_admin_builds_requirements_with_fields_saves_them_and_sees_what_changed(client):
    factories.course("TERM", modules=2)
    (credential,) = credentials.sync_catalog(
        [{"code": "NEW", "name": "A new credential", "issuing_body": "AAPC"}]
    )
    db.session.commit()
    login(client, factories.user(Role.ADMIN).email)
    url = f"/admin/credentials/{credential.id}"
    assert "The draft is empty" in client.get(url).get_data(as_text=True)

    page = post_form(
        client,
        url,
        {"action": "add", "tree": "", "kind": "module_completed", "module": "TERM-1",
         "min_score": "70"},
    )  # fmt: skip
    assert page.status_code == 200
    draft = _textarea(page.get_data(as_text=True))
    assert json.loads(draft)["children"][0] == {
        "type": "module_completed", "module": "TERM-1", "min_score": 70.0
    }  # fmt: skip
    page = post_form(
        client, url, {"action": "add", "tree": draft, "parent": "", "kind": "any_of",
                      "label": "Eligibility"}
    )  # fmt: skip
    draft = _textarea(page.get_data(as_text=True))
    page = post_form(
        client, url, {"action": "add", "tree": draft, "parent": "1", "kind": "evidence",
                      "evidence": "hs_diploma_or_ged"}
    )  # fmt: skip
    text = page.get_data(as_text=True)
    assert "Any one of (Eligibility):" in text
    assert "Nothing here is saved" in text
    assert _versions(credential.id) == 0  # building writes nothing

    draft = _textarea(text)
    response = post_form(client, url, {"action": "save", "tree": draft})
    assert response.status_code == 302
    saved = db.session.scalar(
        select(RequirementSet).where(RequirementSet.credential_id == credential.id)
    )
    assert saved.version == 1 and saved.tree == json.loads(draft)

    # Remove the module and save again: version 2, and the page shows the removal.
    # the Remove buttons' forms carry the draft as the page shows it
    shown = client.get(url).get_data(as_text=True)
    carried = re.search(r'<input type="hidden" name="tree" value="([^"]*)">', shown).group(1)
    assert json.loads(html.unescape(carried)) == saved.tree
    page = post_form(client, url, {"remove": "0", "tree": html.unescape(carried)})
    assert page.status_code == 200
    draft = _textarea(page.get_data(as_text=True))
    assert post_form(client, url, {"action": "save", "tree": draft}).status_code == 302
    assert _versions(credential.id) == 2
    text = client.get(url).get_data(as_text=True)
    changes = text[text.index("Versions and what changed") :]
    removed = re.findall(r"Removed: </span><del>(.*?)</del>", changes)
    assert len(removed) == 1 and "Module 1 of TERM (at least 70%)" in removed[0], removed
    assert "Version 2" in changes and "Version 1" in changes


def test_a_refused_builder_step_comes_back_with_its_message_beside_the_field(client):
    factories.course("TERM", modules=1)
    credential = factories.credential("CPC", modules=["TERM-1"])
    login(client, factories.user(Role.ADMIN).email)
    url = f"/admin/credentials/{credential.id}"
    tree = json.dumps(db.session.scalar(select(RequirementSet.tree)))

    response = post_form(client, url, {"action": "add", "tree": tree, "kind": "module_completed"})
    assert response.status_code == 400
    page = response.get_data(as_text=True)
    assert re.search(r'id="module-error">Choose a module\.</p>', page)
    assert json.loads(_textarea(page)) == json.loads(tree)  # the draft is kept as it was

    response = post_form(client, url, {"remove": "7.3", "tree": tree})
    assert response.status_code == 400
    assert "That requirement is no longer in the draft." in response.get_data(as_text=True)

    response = post_form(client, url, {"action": "save", "tree": ""})
    assert response.status_code == 400
    assert "Write the requirements, or add them with the builder." in response.get_data(
        as_text=True
    )
    assert _versions(credential.id) == 1
