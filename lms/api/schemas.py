"""Marshmallow schemas: they validate requests and shape responses, and the OpenAPI document
is generated from them (flask-smorest + apispec), so the two cannot drift apart."""

from __future__ import annotations

from marshmallow import RAISE, Schema, fields, validate

from lms.credentials.models import RevocationReason

LIMIT = fields.Integer(
    load_default=100, validate=validate.Range(1, 500), metadata={"description": "Page size."}
)
# Record numbers are 32-bit integers in PostgreSQL (and 64-bit in SQLite): a larger number
# sent by a client is refused with a 422 instead of failing in the database.
MAX_ID = 2**31 - 1
ID_RANGE = validate.Range(1, MAX_ID)
CURSOR = fields.String(
    load_default=None, metadata={"description": "The next_cursor of the previous page."}
)


class StrictSchema(Schema):
    """Unknown fields are refused (422), so typos do not pass silently."""

    class Meta:
        unknown = RAISE


class ErrorBody(Schema):
    status = fields.Integer(required=True)
    title = fields.String(required=True)
    message = fields.String(required=True)
    problems = fields.Dict(
        data_key="fields",
        keys=fields.String(),
        metadata={
            "description": "Per-field problems, for a body or parameters of the wrong shape."
        },
    )


class ApiErrorSchema(Schema):
    """Every error: ``{"error": {"status", "title", "message", "fields"?}}``."""

    error = fields.Nested(ErrorBody, required=True)


class PageQuery(StrictSchema):
    cursor = CURSOR
    limit = LIMIT


class UserQuery(PageQuery):
    role = fields.String(validate=validate.OneOf(["admin", "instructor", "student"]))


class UserSchema(Schema):
    id = fields.Integer(required=True)
    email = fields.String(required=True)
    full_name = fields.String(required=True)
    role = fields.String(required=True)
    active = fields.Boolean(required=True)
    created_at = fields.DateTime(required=True)


class UserPage(Schema):
    items = fields.List(fields.Nested(UserSchema), required=True)
    next_cursor = fields.String(allow_none=True, required=True)


class ModuleSchema(Schema):
    id = fields.Integer(required=True)
    code = fields.String(required=True)
    position = fields.Integer(required=True)
    title = fields.String(required=True)
    estimated_minutes = fields.Integer(required=True)


class CourseSchema(Schema):
    id = fields.Integer(required=True)
    code = fields.String(required=True)
    title = fields.String(required=True)
    topic_area = fields.String(required=True)
    modules = fields.List(fields.Nested(ModuleSchema), required=True)


class CourseList(Schema):
    items = fields.List(fields.Nested(CourseSchema), required=True)


class CohortSchema(Schema):
    id = fields.Integer(required=True)
    name = fields.String(required=True)
    credential_code = fields.String(required=True)
    start_date = fields.Date(required=True)
    exam_date = fields.Date(allow_none=True, required=True)


class CohortList(Schema):
    items = fields.List(fields.Nested(CohortSchema), required=True)


class EnrollmentSchema(Schema):
    id = fields.Integer(required=True)
    cohort_id = fields.Integer(required=True)
    student_id = fields.Integer(required=True)
    student_email = fields.String(required=True)
    status = fields.String(required=True)
    enrolled_at = fields.DateTime(required=True)


class EnrollmentList(Schema):
    items = fields.List(fields.Nested(EnrollmentSchema), required=True)


class FilterQuery(StrictSchema):
    """The filters every export and the completion list take."""

    cohort = fields.Integer(validate=ID_RANGE, metadata={"description": "Cohort number."})
    credential = fields.String(metadata={"description": "Credential code, e.g. CPC."})
    course = fields.String(metadata={"description": "Course code."})
    student = fields.String(metadata={"description": "Student number or email."})
    from_ = fields.Date(data_key="from", metadata={"description": "First day, YYYY-MM-DD."})
    to = fields.Date(metadata={"description": "Last day, YYYY-MM-DD, inclusive."})
    kind = fields.String(metadata={"description": "Entry kinds, comma-separated."})


class CompletionQuery(FilterQuery):
    cursor = CURSOR
    limit = LIMIT


class CompletionSchema(Schema):
    entry_id = fields.Integer(required=True)
    recorded_at = fields.DateTime(required=True)
    student_id = fields.Integer(required=True)
    student_email = fields.String(required=True)
    student_name = fields.String(required=True)
    kind = fields.String(required=True)
    course_code = fields.String(allow_none=True, required=True)
    module_code = fields.String(allow_none=True, required=True)
    module_title = fields.String(allow_none=True, required=True)
    credential_code = fields.String(allow_none=True, required=True)
    score = fields.Float(allow_none=True, required=True)
    source = fields.String(required=True)
    source_ref = fields.String(allow_none=True, required=True)
    actor_email = fields.String(allow_none=True, required=True)
    note = fields.String(allow_none=True, required=True)


class CompletionPage(Schema):
    items = fields.List(fields.Nested(CompletionSchema), required=True)
    next_cursor = fields.String(allow_none=True, required=True)


class CompletionCreate(StrictSchema):
    """A module completion reported by an integration (an SIS, a proctoring service ...)."""

    student_id = fields.Integer(required=True, strict=True, validate=ID_RANGE)
    module_code = fields.String(required=True, validate=validate.Length(1, 30))
    score = fields.Float(
        load_default=None, allow_none=True, validate=validate.Range(0, 100, min_inclusive=True)
    )
    source_ref = fields.String(load_default=None, validate=validate.Length(max=64))
    note = fields.String(load_default=None, validate=validate.Length(max=2000))


class ReadinessQuery(StrictSchema):
    student_id = fields.Integer(required=True, validate=ID_RANGE)
    credential = fields.String(required=True, metadata={"description": "Credential code."})


class ReadinessSchema(Schema):
    student_id = fields.Integer(required=True)
    credential_code = fields.String(required=True)
    requirement_version = fields.Integer(required=True)
    ready = fields.Boolean(required=True)
    progress = fields.Float(required=True)
    missing = fields.List(fields.String(), required=True)


class CertificateIssue(StrictSchema):
    student_id = fields.Integer(required=True, strict=True, validate=ID_RANGE)
    credential_code = fields.String(required=True, validate=validate.Length(1, 20))


class CertificateRevoke(StrictSchema):
    public_reason = fields.String(
        required=True,
        validate=validate.OneOf([reason.value for reason in RevocationReason]),
        metadata={"description": "The reason the verification page shows."},
    )
    note = fields.String(
        required=True,
        validate=validate.Length(1, 1000),
        metadata={"description": "Why, for the school's records; never shown publicly."},
    )


class CertificateSchema(Schema):
    code = fields.String(required=True)
    student_id = fields.Integer(required=True)
    student_name = fields.String(required=True)
    credential_code = fields.String(required=True)
    requirement_version = fields.Integer(required=True)
    status = fields.String(required=True)
    valid = fields.Boolean(required=True)
    issued_at = fields.DateTime(required=True)
    verify_url = fields.String(required=True)


class ExportQuery(FilterQuery):
    format = fields.String(
        load_default="jsonl", validate=validate.OneOf(["csv", "xlsx", "jsonl", "xapi"])
    )


class ManifestSchema(Schema):
    export_id = fields.Integer(required=True)
    dataset = fields.String(required=True)
    format = fields.String(required=True)
    filename = fields.String(required=True)
    filters = fields.Dict(required=True)
    channel = fields.String(required=True)
    exported_by = fields.String(allow_none=True, required=True)
    started_at = fields.String(required=True, metadata={"format": "date-time"})
    status = fields.String(required=True)
    complete = fields.Boolean(required=True)
    completed_at = fields.String(allow_none=True, required=True, metadata={"format": "date-time"})
    row_count = fields.Integer(allow_none=True, required=True)
    byte_count = fields.Integer(allow_none=True, required=True)
    sha256 = fields.String(allow_none=True, required=True)
    students_disclosed = fields.Integer(required=True)
    columns = fields.List(fields.String(), allow_none=True, required=True)


# --- content (issue 16): courses, modules and their lessons, for content:write tokens ----


class CourseWrite(StrictSchema):
    code = fields.String(required=True, metadata={"description": "e.g. CPT-SURG"})
    title = fields.String(required=True)
    topic_area = fields.String(required=True, metadata={"description": "e.g. coding"})
    description = fields.String(load_default="")
    sequential = fields.Boolean(load_default=False)


class CourseUpdate(StrictSchema):
    code = fields.String()
    title = fields.String()
    topic_area = fields.String()
    description = fields.String()
    sequential = fields.Boolean()
    archived = fields.Boolean(metadata={"description": "Archive the course, or bring it back."})


class ModuleWrite(StrictSchema):
    code = fields.String(required=True, metadata={"description": "Unique in the school"})
    title = fields.String(required=True)
    estimated_minutes = fields.Integer(required=True, validate=validate.Range(1, 24 * 60))
    lesson_markdown = fields.String(load_default="")


class DraftUpdate(StrictSchema):
    revision = fields.Integer(
        required=True,
        validate=validate.Range(0, MAX_ID),
        metadata={"description": "The draft's revision the change starts from (409 if stale)."},
    )
    title = fields.String()
    estimated_minutes = fields.Integer(validate=validate.Range(1, 24 * 60))
    lesson_markdown = fields.String()


class PublishWrite(StrictSchema):
    note = fields.String(required=True, metadata={"description": "What the version changes."})
    revision = fields.Integer(
        validate=validate.Range(0, MAX_ID),
        metadata={"description": "The draft's revision read (409 if another save came since)."},
    )


class CourseDetail(Schema):
    id = fields.Integer(required=True)
    code = fields.String(required=True)
    title = fields.String(required=True)
    topic_area = fields.String(required=True)
    description = fields.String(required=True)
    sequential = fields.Boolean(required=True)
    archived = fields.Boolean(required=True)
    modules = fields.List(fields.Nested(ModuleSchema), required=True)


class DraftSchema(Schema):
    title = fields.String(required=True)
    estimated_minutes = fields.Integer(required=True)
    lesson_markdown = fields.String(required=True)
    revision = fields.Integer(required=True)


class VersionSchema(Schema):
    number = fields.Integer(required=True)
    title = fields.String(required=True)
    note = fields.String(required=True)
    published_at = fields.DateTime(required=True)


class ModuleDetail(Schema):
    id = fields.Integer(required=True)
    course_id = fields.Integer(required=True)
    code = fields.String(required=True)
    position = fields.Integer(required=True)
    title = fields.String(required=True)
    estimated_minutes = fields.Integer(required=True)
    published_version = fields.Integer(allow_none=True, required=True)
    archived = fields.Boolean(required=True)
    draft = fields.Nested(DraftSchema, required=True)
    versions = fields.List(fields.Nested(VersionSchema), required=True)
