"""The credential catalogue: credentials, their requirement sets and versions, and the
catalogue file (``catalog.toml``) they are loaded from."""

from __future__ import annotations

import json
import tomllib
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path
from typing import Any

from sqlalchemy import func, select

from lms.auth.models import User
from lms.courses import reads as courses
from lms.credentials import rules
from lms.credentials.models import Credential, RequirementSet
from lms.errors import Conflict, InvalidInput, NotFound, Problem
from lms.extensions import db
from lms.ledger import audit
from lms.ledger.service import facts_changed

CATALOG_FILE = Path(__file__).with_name("catalog.toml")
CONFIDENCE_LEVELS = ("high", "medium", "low", "unverified")
CATALOG_FIELDS = ("name", "issuing_body", "exam_format", "eligibility", "notes", "source_url")

# --- credentials -------------------------------------------------------------------------


def list_credentials() -> list[Credential]:
    """Every credential in the catalogue, by code."""
    return list(db.session.scalars(select(Credential).order_by(Credential.code)))


def get_credential(credential_id: int) -> Credential:
    """One credential, or ``NotFound``."""
    credential = db.session.get(Credential, credential_id)
    if credential is None:
        raise NotFound("There is no such credential.")
    return credential


def get_credential_by_code(code: str) -> Credential | None:
    """The credential with this code (any case), or None."""
    return db.session.scalar(select(Credential).where(Credential.code == code.strip().upper()))


def information_tree(credential: Credential) -> rules.Requirement | None:
    """The information-only tree the catalogue shows beside a credential's requirements
    (AAPC's apprentice removal for CPC and COC), if it has one. It never decides readiness:
    AAPC lets an apprentice sit the exam."""
    data = credential.information_path
    return rules.parse_requirements(data) if data else None


# --- requirement sets --------------------------------------------------------------------


def newest_requirement_sets(credential_ids: Iterable[int]) -> dict[int, RequirementSet]:
    """The newest version of the requirements of each credential that has some, by credential
    id, in one query however many credentials."""
    credential_ids = list(credential_ids)
    if not credential_ids:
        return {}
    newest = (
        select(RequirementSet.credential_id, func.max(RequirementSet.version).label("version"))
        .where(RequirementSet.credential_id.in_(credential_ids))
        .group_by(RequirementSet.credential_id)
        .subquery()
    )
    found = db.session.scalars(
        select(RequirementSet).join(
            newest,
            (RequirementSet.credential_id == newest.c.credential_id)
            & (RequirementSet.version == newest.c.version),
        )
    )
    return {requirement_set.credential_id: requirement_set for requirement_set in found}


class NoRequirements(Conflict):
    """What needs a credential's requirements was asked of one that has none yet (409): a
    page about such a credential's cohort says so instead of judging anyone."""

    def __init__(self, credential: Credential) -> None:
        super().__init__(f"{credential.code} has no requirements yet.")
        self.credential = credential


def no_requirements(credential: Credential) -> NoRequirements:
    """The refusal of what needs requirements a credential does not have yet."""
    return NoRequirements(credential)


def with_requirements(credential_ids: Iterable[int]) -> set[int]:
    """Which of the credentials have requirements, in one query."""
    credential_ids = list(credential_ids)
    if not credential_ids:
        return set()
    return set(
        db.session.scalars(
            select(RequirementSet.credential_id)
            .where(RequirementSet.credential_id.in_(credential_ids))
            .distinct()
        )
    )


def current_requirement_set(credential: Credential) -> RequirementSet:
    """The newest version of a credential's requirements; ``Conflict`` when it has none."""
    requirement_set = newest_requirement_sets([credential.id]).get(credential.id)
    if requirement_set is None:
        raise no_requirements(credential)
    return requirement_set


def requirement_versions(credential: Credential) -> list[RequirementSet]:
    """Every version of a credential's requirements, newest first."""
    return list(
        db.session.scalars(
            select(RequirementSet)
            .where(RequirementSet.credential_id == credential.id)
            .order_by(RequirementSet.version.desc())
        )
    )


def required_module_ids(credential: Credential) -> list[int]:
    """The ids of the modules named by the credential's current requirements (none if unset)."""
    requirement_set = newest_requirement_sets([credential.id]).get(credential.id)
    if requirement_set is None:
        return []
    tree = rules.parse_requirements(requirement_set.tree)
    return [module.id for module in courses.modules_by_code(rules.module_codes(tree)).values()]


def credentials_naming_module(module_code: str) -> list[Credential]:
    """The credentials whose current requirements name the module, by code."""
    credentials = list(db.session.scalars(select(Credential).order_by(Credential.code)))
    newest = newest_requirement_sets(c.id for c in credentials)
    return [
        credential
        for credential in credentials
        if credential.id in newest
        and module_code in rules.module_codes(rules.parse_requirements(newest[credential.id].tree))
    ]


def _requirement_problems(tree_data: object) -> tuple[rules.Requirement | None, list[Problem]]:
    """A requirement tree read from its JSON form, and every problem with it (each on the
    form's ``tree`` field): its shape, and the modules and courses it names that do not
    exist."""
    try:
        tree = rules.parse_requirements(tree_data)
    except rules.RequirementError as error:
        return None, [Problem(f"{problem}.", "tree") for problem in error.problems]
    problems = []
    needs = tree.needs()
    modules = courses.modules_by_code(needs.modules)
    unknown = [code for code in needs.modules if code not in modules]
    if unknown:
        problems.append(
            Problem(f"The requirements name unknown modules: {', '.join(unknown)}.", "tree")
        )
    problems += _below_pass_marks(tree)
    known_courses = courses.courses_by_code(needs.courses)
    unknown = [code for code in needs.courses if code not in known_courses]
    if unknown:
        problems.append(
            Problem(f"The requirements name unknown courses: {', '.join(unknown)}.", "tree")
        )
    return tree, problems


def _below_pass_marks(tree: rules.Requirement) -> list[Problem]:
    """A minimum score below the module's own pass mark asks less than passing the module:
    a requirement's score is never below it (issue 18)."""
    scored = [
        leaf
        for leaf in rules.leaves(tree)
        if isinstance(leaf, rules.ModuleCompleted | rules.AssessmentScore)
        and leaf.min_score is not None
    ]
    marks = courses.pass_marks({leaf.module for leaf in scored}) if scored else {}
    return [
        Problem(
            f"{leaf.module}: the minimum score {leaf.min_score:g}% is below the module's pass "
            f"mark ({marks[leaf.module]}%); ask for {marks[leaf.module]}% or more.",
            "tree",
        )
        for leaf in scored
        if leaf.module in marks and leaf.min_score < marks[leaf.module]
    ]


def save_requirements(
    credential: Credential, tree_data: object, actor: User | None, now: datetime
) -> RequirementSet:
    """Validate a requirement tree and store it as the credential's next version; refused
    with every problem found."""
    tree, problems = _requirement_problems(tree_data)
    if problems or tree is None:
        raise InvalidInput(problems=problems)
    latest = newest_requirement_sets([credential.id]).get(credential.id)
    requirement_set = RequirementSet(
        credential_id=credential.id,
        version=(latest.version if latest else 0) + 1,
        tree=rules.requirement_to_data(tree),
        created_at=now,
        created_by_id=actor.id if actor else None,
    )
    db.session.add(requirement_set)
    db.session.flush()
    audit.record_event(
        "requirements.saved",
        actor=actor,
        now=now,
        target_type="credential",
        target_id=credential.id,
        details={"version": requirement_set.version},
    )
    facts_changed.send(None, credential_id=credential.id, now=now)
    return requirement_set


# --- the requirement builder ---------------------------------------------------------------


@dataclass(frozen=True)
class BuilderChoices:
    """What the builder's fields offer: every module and course, as (code, "code: title")."""

    modules: list[tuple[str, str]]
    courses: list[tuple[str, str]]
    titles: dict[str, str]  # module and course titles by code, for the outline's sentences


def builder_choices() -> BuilderChoices:
    """Every course and its modules, in two queries."""
    modules, course_rows, titles = [], [], {}
    for course in courses.list_courses():
        course_rows.append((course.code, f"{course.code}: {course.title}"))
        titles[course.code] = course.title
        for module in course.modules:
            modules.append((module.code, f"{module.code}: {module.title}"))
            titles[module.code] = module.title
    return BuilderChoices(modules, course_rows, titles)


def read_draft(tree_text: str) -> Any:
    """The builder's draft from the JSON field (None when empty), or ``InvalidInput`` on the
    field ``tree`` saying where the JSON is broken."""
    if not tree_text.strip():
        return None
    try:
        return json.loads(tree_text)
    except json.JSONDecodeError as error:
        raise InvalidInput(
            f"This is not valid JSON (line {error.lineno}, column {error.colno}: {error.msg}).",
            field="tree",
        ) from error


def draft_text(draft: Any) -> str:
    """The draft as the JSON field shows it."""
    return "" if draft is None else json.dumps(draft, indent=2)


def add_to_draft(tree_text: str, parent: str, kind: str, **fields: Any) -> str:
    """The draft with one requirement added under the group at ``parent`` (nothing is saved:
    the admin saves the draft as a new version when it is done). Refused with each problem on
    the builder field it is about."""
    draft = read_draft(tree_text)
    node, problems = rules.builder.new_node(kind, **fields)
    if node is None:
        raise InvalidInput(problems=[Problem(message, field) for message, field in problems])
    try:
        changed = rules.builder.add_node(draft, parent, node)
    except KeyError as error:
        raise InvalidInput(
            "That group is no longer in the draft: choose another.", field="parent"
        ) from error
    if rules.builder.depth(changed) > rules.MAX_DEPTH:
        raise InvalidInput(f"Groups may nest at most {rules.MAX_DEPTH} levels.", field="parent")
    return draft_text(changed)


def remove_from_draft(tree_text: str, path: str) -> str:
    """The draft without the requirement at ``path`` and what is under it (nothing saved)."""
    draft = read_draft(tree_text)
    try:
        return draft_text(rules.builder.remove_node(draft, path))
    except (KeyError, TypeError) as error:
        raise InvalidInput("That requirement is no longer in the draft.", field="tree") from error


@dataclass(frozen=True)
class VersionChange:
    """A saved version of a credential's requirements and what changed from the one before."""

    version: RequirementSet
    lines: list[rules.builder.DiffLine]


def version_changes(versions: list[RequirementSet], titles: dict[str, str]) -> list[VersionChange]:
    """Each version (newest first) with its readable difference to the version before it
    (the first against nothing, so every line is added)."""
    changes = []
    for index, version in enumerate(versions):
        before = versions[index + 1].tree if index + 1 < len(versions) else None
        lines = rules.builder.difference(
            rules.builder.outline_lines(before, titles),
            rules.builder.outline_lines(version.tree, titles),
        )
        changes.append(VersionChange(version, lines))
    return changes


# --- the catalogue file ------------------------------------------------------------------


def read_catalog(path: Path = CATALOG_FILE) -> list[dict]:
    """The credential entries of a catalogue file. An entry's ``information_path`` names a
    tree of the file's ``[information_path.<name>]`` tables, which is put in its place."""
    with path.open("rb") as handle:
        data = tomllib.load(handle)
    trees = data.get("information_path", {})
    entries = data["credential"]
    for entry in entries:
        name = entry.get("information_path")
        if isinstance(name, str) and name in trees:
            entry["information_path"] = trees[name]
    return entries


def _entry_problems(entry: dict[str, Any], where: str) -> list[Problem]:
    problems = []
    for name in ("name", "issuing_body"):
        if not isinstance(entry.get(name), str) or not entry[name].strip():
            problems.append(Problem(f"{where}: needs {name}", name))
    confidence = entry.get("confidence", "unverified")
    if confidence not in CONFIDENCE_LEVELS:
        problems.append(
            Problem(
                f"{where}: confidence must be one of {', '.join(CONFIDENCE_LEVELS)}", "confidence"
            )
        )
    checked = entry.get("checked_on")
    if checked is not None and not isinstance(checked, date):
        problems.append(
            Problem(f"{where}: checked_on must be a date such as 2026-11-01", "checked_on")
        )
    months = entry.get("validity_months")
    if months is not None and (
        isinstance(months, bool) or not isinstance(months, int) or not 1 <= months <= 120
    ):
        problems.append(
            Problem(
                f"{where}: validity_months must be a whole number from 1 to 120",
                "validity_months",
            )
        )
    path = entry.get("information_path")
    if isinstance(path, str):
        problems.append(
            Problem(f"{where}: information_path {path!r} names no tree", "information_path")
        )
    elif path is not None:
        try:
            rules.parse_requirements(path)
        except rules.RequirementError as error:
            problems.extend(
                Problem(f"{where}: information_path {problem}", "information_path")
                for problem in error.problems
            )
    return problems


def catalog_problems(entries: list[dict]) -> list[Problem]:
    """Every reason the catalogue entries cannot be loaded (empty when they can), each with
    the entry's field it is about."""
    problems, seen = [], set()
    for index, entry in enumerate(entries, start=1):
        code = entry.get("code")
        where = f"entry {index} ({code or 'no code'})"
        if not isinstance(code, str) or not code.strip() or len(code) > 20:
            problems.append(Problem(f"{where}: needs a code of at most 20 characters", "code"))
        elif code in seen:
            problems.append(Problem(f"{where}: the code appears twice", "code"))
        seen.add(code)
        problems.extend(_entry_problems(entry, where))
    return problems


@dataclass(frozen=True)
class CatalogSync:
    """What loading the catalogue did."""

    credentials: list[Credential]
    created: list[str]
    updated: list[str]


def _entry_values(entry: dict[str, Any]) -> dict[str, Any]:
    values = {name: entry.get(name, "") for name in CATALOG_FIELDS}
    values["checked_on"] = entry.get("checked_on")
    values["confidence"] = entry.get("confidence", "unverified")
    values["validity_months"] = entry.get("validity_months")
    path = entry.get("information_path")
    values["information_path"] = (
        rules.requirement_to_data(rules.parse_requirements(path)) if path else None
    )
    return values


def apply_catalog(entries: list[dict], actor: User | None, now: datetime | None) -> CatalogSync:
    """Create or update credentials from catalogue entries, matched by code. Running it again
    changes nothing; each change is audited when ``now`` is given. Refused, with every
    problem, when the entries have any."""
    problems = catalog_problems(entries)
    if problems:
        raise InvalidInput(problems=problems)
    existing = {c.code: c for c in db.session.scalars(select(Credential))}
    result, created, updated = [], [], []
    for entry in entries:
        credential = existing.get(entry["code"])
        is_new = credential is None
        if credential is None:
            credential = Credential(code=entry["code"])
        values = _entry_values(entry)
        changed = [name for name, value in values.items() if getattr(credential, name) != value]
        for name in changed:
            setattr(credential, name, values[name])
        db.session.add(credential)
        result.append(credential)
        if is_new:
            created.append(credential.code)
        elif changed:
            updated.append(credential.code)
    db.session.flush()
    if now is not None and (created or updated):
        audit.record_event(
            "catalog.synced",
            actor=actor,
            now=now,
            target_type="credential",
            details={"created": created, "updated": updated},
        )
    return CatalogSync(result, created, updated)


def sync_catalog(entries: list[dict]) -> list[Credential]:
    """Create or update credentials from catalogue entries, matched by code (unaudited: for
    the demo data and tests; the command uses ``apply_catalog``)."""
    return apply_catalog(entries, None, None).credentials
