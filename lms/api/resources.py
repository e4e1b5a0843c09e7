"""The API's resources: users, courses, cohorts and enrolments, completions, readiness,
certificates and exports. Views are thin: they call the same services as the HTML pages."""

from __future__ import annotations

from typing import Any

from flask import g, url_for
from flask_smorest import abort
from marshmallow import RAISE
from sqlalchemy import select
from sqlalchemy.orm import selectinload

from lms import links
from lms.api import schemas
from lms.api.core import ApiError, make_cursor, new_blueprint, read_cursor, token_required
from lms.auth.models import Role, User
from lms.auth.tokens import TokenScope
from lms.courses import reads as courses
from lms.credentials import service as credentials
from lms.db import utcnow
from lms.enrollment import service as enrollment
from lms.enrollment.models import Enrollment
from lms.errors import NotFound
from lms.extensions import db
from lms.ledger import audit
from lms.ledger import service as ledger
from lms.ledger.models import LedgerKind
from lms.reports import export_runs, exports
from lms.reports.filters import parse_filters
from lms.reports.views import stream_export

people = new_blueprint("People", "Users, courses with their modules, cohorts and enrolments.")
records = new_blueprint("Records", "Completions, readiness, certificates and exports.")

READ = TokenScope.READ
WRITE = TokenScope.WRITE


def _filters(args: dict[str, Any]) -> dict[str, Any]:
    """Schema-loaded filter arguments back under their public names."""
    raw = {k: str(v) for k, v in args.items() if k not in ("cursor", "limit", "format")}
    if "from_" in raw:
        raw["from"] = raw.pop("from_")
    return raw


# --- people ------------------------------------------------------------------------------


@people.route("/users")
@token_required(READ)
@people.arguments(schemas.UserQuery, location="query", unknown=RAISE)
@people.response(200, schemas.UserPage)
@people.alt_response(400, schema=schemas.ApiErrorSchema)
@people.alt_response(401, schema=schemas.ApiErrorSchema)
def list_users(args: dict[str, Any]):
    """List accounts, oldest first, a page at a time (cursor pagination)."""
    query_key = {"role": args.get("role")}
    after = read_cursor("users", args["cursor"], query_key)
    query = select(User).order_by(User.id).limit(args["limit"] + 1)
    if after is not None:
        query = query.where(User.id > after)
    if args.get("role"):
        query = query.where(User.role == Role(args["role"]))
    users = list(db.session.scalars(query))
    more = len(users) > args["limit"]
    users = users[: args["limit"]]
    cursor = make_cursor("users", users[-1].id, query_key) if more else None
    return {"items": users, "next_cursor": cursor}


@people.route("/users/<int(max=2147483647):user_id>")
@token_required(READ)
@people.response(200, schemas.UserSchema)
@people.alt_response(404, schema=schemas.ApiErrorSchema)
def get_user(user_id: int):
    """One account."""
    user = db.session.get(User, user_id)
    if user is None:
        raise NotFound("There is no such user.")
    return user


@people.route("/courses")
@token_required(READ)
@people.response(200, schemas.CourseList)
def list_courses():
    """Every course with its modules, in order."""
    return {"items": courses.list_courses()}


@people.route("/cohorts")
@token_required(READ)
@people.response(200, schemas.CohortList)
def list_cohorts():
    """Every cohort with its target credential."""
    cohorts = enrollment.cohorts_for(g.api_user)
    return {
        "items": [
            {
                "id": c.id,
                "name": c.name,
                "credential_code": c.credential.code,
                "start_date": c.start_date,
                "exam_date": c.exam_date,
            }
            for c in cohorts
        ]
    }


@people.route("/cohorts/<int(max=2147483647):cohort_id>/enrollments")
@token_required(READ)
@people.response(200, schemas.EnrollmentList)
@people.alt_response(404, schema=schemas.ApiErrorSchema)
def list_enrollments(cohort_id: int):
    """Everyone ever enrolled in a cohort, with their status."""
    cohort = enrollment.get_cohort_for(g.api_user, cohort_id)
    rows = db.session.scalars(
        select(Enrollment)
        .where(Enrollment.cohort_id == cohort.id)
        .options(selectinload(Enrollment.student))
        .order_by(Enrollment.id)
    )
    return {
        "items": [
            {
                "id": e.id,
                "cohort_id": e.cohort_id,
                "student_id": e.student_id,
                "student_email": e.student.email,
                "status": e.status.value,
                "enrolled_at": e.enrolled_at,
            }
            for e in rows
        ]
    }


# --- completions -------------------------------------------------------------------------


@records.route("/completions")
@token_required(READ)
@records.arguments(schemas.CompletionQuery, location="query", unknown=RAISE)
@records.response(200, schemas.CompletionPage)
@records.alt_response(400, schema=schemas.ApiErrorSchema)
@records.alt_response(401, schema=schemas.ApiErrorSchema)
@records.alt_response(422, schema=schemas.ApiErrorSchema)
def list_completions(args: dict[str, Any]):
    """Ledger entries, oldest first, filtered, a page at a time; each page is logged in the
    disclosure log of the students it contains."""
    raw = _filters(args)
    rf = parse_filters(g.api_user, raw)
    after = read_cursor("completions", args["cursor"], rf.described)
    items = list(exports.completion_records(rf, after_id=after, limit=args["limit"] + 1))
    more = len(items) > args["limit"]
    items = items[: args["limit"]]
    student_ids = sorted({item["student_id"] for item in items})
    if student_ids:
        export_runs.log_disclosure(
            g.api_user,
            "completions",
            "api-page",
            {**rf.described, "after": after, "limit": args["limit"]},
            select(User.id).where(User.id.in_(student_ids)),
            channel="api",
            now=utcnow(),
        )
    cursor = make_cursor("completions", items[-1]["entry_id"], rf.described) if more else None
    return {"items": items, "next_cursor": cursor}


@records.route("/completions", methods=["POST"])
@token_required(WRITE)
@records.arguments(schemas.CompletionCreate)
@records.response(201, schemas.CompletionSchema)
@records.alt_response(
    200,
    schema=schemas.CompletionSchema,
    description="Already recorded: the same student, module and source_ref (a retry).",
)
@records.alt_response(401, schema=schemas.ApiErrorSchema)
@records.alt_response(403, schema=schemas.ApiErrorSchema)
@records.alt_response(422, schema=schemas.ApiErrorSchema)
def create_completion(data: dict[str, Any]):
    """Record a module completion reported by an integration; it goes to the ledger like a
    quiz pass (and can make the student ready and issue a certificate). Sent again with the
    same source_ref, it is not recorded twice: the first entry is returned with 200."""
    now = utcnow()
    problems = {}
    student = db.session.get(User, data["student_id"])
    if student is None or not student.is_student:
        problems["student_id"] = ["There is no student with this number."]
    module = courses.modules_by_code([data["module_code"]]).get(data["module_code"])
    if module is None:
        problems["module_code"] = ["There is no module with this code."]
    if problems:
        raise_unprocessable(problems)
    if data["source_ref"]:
        existing = ledger.find_entry(
            student_id=student.id,
            kind=LedgerKind.MODULE_COMPLETED,
            module_id=module.id,
            source="api",
            source_ref=data["source_ref"],
        )
        if existing is not None:
            (record,) = exports.completion_records(after_id=existing.id - 1, limit=1)
            return record, 200
    entry = ledger.append_entry(
        student=student,
        kind=LedgerKind.MODULE_COMPLETED,
        module_id=module.id,
        module_version=module.published_version,
        score=data["score"],
        source="api",
        source_ref=data["source_ref"],
        actor=g.api_user,
        now=now,
        note=data["note"],
    )
    audit.record_event(
        "completion.recorded",
        actor=g.api_user,
        now=now,
        target_type="ledger_entry",
        target_id=entry.id,
        details={
            "student_id": student.id,
            "module": module.code,
            "score": data["score"],
            "token_id": g.api_token.id,
        },
    )
    (record,) = exports.completion_records(after_id=entry.id - 1, limit=1)
    return record


def raise_unprocessable(fields: dict[str, list[str]]):
    """A 422 with per-field messages, like a body of the wrong shape."""
    abort(422, messages={"json": fields})


# --- readiness and certificates ----------------------------------------------------------


def _credential(code: str):
    credential = credentials.get_credential_by_code(code)
    if credential is None:
        raise ApiError(400, f"There is no credential with the code {code[:20]}.")
    return credential


def _student(student_id: int) -> User:
    student = db.session.get(User, student_id)
    if student is None or not student.is_student:
        raise NotFound("There is no student with this number.")
    return student


@records.route("/readiness")
@token_required(READ)
@records.arguments(schemas.ReadinessQuery, location="query", unknown=RAISE)
@records.response(200, schemas.ReadinessSchema)
@records.alt_response(400, schema=schemas.ApiErrorSchema)
@records.alt_response(404, schema=schemas.ApiErrorSchema)
def readiness(args: dict[str, Any]):
    """Whether a student meets a credential's current requirements, and what is missing."""
    credential = _credential(args["credential"])
    student = _student(args["student_id"])
    result = credentials.evaluate_readiness(credential, [student.id], utcnow())
    outcome = result.outcomes[student.id]
    return {
        "student_id": student.id,
        "credential_code": credential.code,
        "requirement_version": result.requirement_set.version,
        "ready": outcome.met,
        "progress": round(outcome.progress, 4),
        "missing": [leaf.explanation for leaf in outcome.unmet()],
    }


def _certificate_body(certificate) -> dict[str, Any]:
    return {
        "code": certificate.code,
        "student_id": certificate.student_id,
        "student_name": certificate.student.full_name,
        "credential_code": certificate.credential.code,
        "requirement_version": certificate.requirement_set.version,
        "status": certificate.status.value,
        "valid": certificate.status.value == "issued",
        "issued_at": certificate.issued_at,
        "verify_url": links.external_url("credentials.verify", code=certificate.code),
    }


@records.route("/certificates", methods=["POST"])
@token_required(WRITE)
@records.arguments(schemas.CertificateIssue)
@records.response(201, schemas.CertificateSchema)
@records.alt_response(400, schema=schemas.ApiErrorSchema)
@records.alt_response(404, schema=schemas.ApiErrorSchema)
@records.alt_response(409, schema=schemas.ApiErrorSchema)
def issue_certificate(data: dict[str, Any]):
    """Issue a readiness certificate to a student who meets every requirement (409 if not)."""
    credential = _credential(data["credential_code"])
    student = _student(data["student_id"])
    certificate = credentials.issue_certificate(student, credential, g.api_user, utcnow())
    return _certificate_body(credentials.get_certificate_by_code(certificate.code))


@records.route("/certificates/<code>")
@token_required(READ)
@records.response(200, schemas.CertificateSchema)
@records.alt_response(404, schema=schemas.ApiErrorSchema)
def verify_certificate(code: str):
    """Verify a certificate by its public code (any case, with or without dashes)."""
    return _certificate_body(credentials.get_certificate_by_code(code))


@records.route("/certificates/<code>/revoke", methods=["POST"])
@token_required(WRITE)
@records.arguments(schemas.CertificateRevoke)
@records.response(200, schemas.CertificateSchema)
@records.alt_response(400, schema=schemas.ApiErrorSchema)
@records.alt_response(403, schema=schemas.ApiErrorSchema)
@records.alt_response(404, schema=schemas.ApiErrorSchema)
@records.alt_response(409, schema=schemas.ApiErrorSchema)
def revoke_certificate(data: dict[str, Any], code: str):
    """Revoke a certificate: a public reason from the list (its verification page shows it)
    and a private note (409 if already revoked or superseded)."""
    certificate = credentials.get_certificate_by_code(code)
    # the same rule as the web: an admin, or an instructor of an active cohort aimed at its
    # credential in which its holder is enrolled (403 otherwise)
    enrollment.revoke_certificate(
        g.api_user, certificate, data["public_reason"], data["note"], utcnow()
    )
    return _certificate_body(credentials.get_certificate_by_code(code))


# --- exports -----------------------------------------------------------------------------

STREAM_DOC = {
    "responses": {
        "200": {
            "description": "The export, streamed. X-Export-Id names its manifest.",
            "content": {
                mimetype: {"schema": {"type": "string", "format": "binary"}}
                for mimetype in sorted({m for m, _ in exports.FORMATS.values()})
            },
        }
    }
}


@records.route("/exports/<any(completions, certificates):dataset>")
@token_required(READ)
@records.arguments(schemas.ExportQuery, location="query", unknown=RAISE)
@records.doc(**STREAM_DOC)
@records.alt_response(400, schema=schemas.ApiErrorSchema)
@records.alt_response(422, schema=schemas.ApiErrorSchema)
def export(args: dict[str, Any], dataset: str):
    """Stream the completion ledger or the certificate register; then fetch its manifest."""
    started = export_runs.start_export(
        g.api_user,
        dataset,
        args["format"],
        _filters(args),
        channel="api",
        now=utcnow(),
        base_url=links.public_base_url(),
    )
    return stream_export(started, url_for("Records.export_manifest", run_id=started.run_id))


@records.route("/exports/<int(max=2147483647):run_id>/manifest")
@token_required(READ)
@records.response(200, schemas.ManifestSchema)
@records.alt_response(404, schema=schemas.ApiErrorSchema)
def export_manifest(run_id: int):
    """The manifest of an export: compare the file's SHA-256 and row count against it."""
    return export_runs.manifest(export_runs.get_export(run_id))
