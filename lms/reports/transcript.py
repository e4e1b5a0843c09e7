"""A student's transcript: modules with dates and scores, evidence and certificates,
as a page and as a PDF (reportlab)."""

from __future__ import annotations

import io
from dataclasses import dataclass
from datetime import UTC, datetime
from xml.sax.saxutils import escape

from reportlab.lib import colors
from reportlab.lib.pagesizes import LETTER
from reportlab.lib.styles import getSampleStyleSheet
from reportlab.lib.units import inch
from reportlab.platypus import Paragraph, SimpleDocTemplate, Spacer, Table, TableStyle
from sqlalchemy import func, select

from lms.auth.models import User
from lms.courses.models import Course, Module
from lms.credentials import service as credentials
from lms.credentials.models import Certificate, Evidence
from lms.credentials.rules import EVIDENCE_LABELS
from lms.enrollment import service as enrollment
from lms.errors import NotFound
from lms.extensions import db
from lms.ledger.models import LedgerEntry, LedgerKind


@dataclass(frozen=True)
class ModuleLine:
    """A module the student completed: first completion and best score."""

    course_code: str
    course_title: str
    module_code: str
    module_title: str
    first_completed_at: datetime
    best_score: float | None
    completions: int
    # The module version of the first completion (versions only grow, so the smallest one
    # recorded): what the student studied, whatever was published since. None before
    # versions were kept.
    version: int | None = None


@dataclass(frozen=True)
class Transcript:
    """Everything a transcript shows, computed in a fixed number of queries."""

    student: User
    generated_at: datetime
    modules: list[ModuleLine]
    evidence: list[Evidence]
    certificates: list[Certificate]

    def evidence_label(self, evidence: Evidence) -> str:
        return EVIDENCE_LABELS[evidence.kind].capitalize()


def student_for_transcript(actor: User, student_id: int) -> User:
    """The student whose transcript the actor may read: their own, an admin any, an
    instructor their cohorts' students; ``NotFound`` for everyone else."""
    student = db.session.get(User, student_id)
    allowed = (
        student is not None
        and student.is_student
        and (
            actor.id == student.id
            or actor.is_admin
            or (actor.is_instructor and enrollment.teaches_student(actor, student.id))
        )
    )
    if not allowed:
        raise NotFound("There is no such transcript among the ones you may read.")
    return student


def build_transcript(student: User, now: datetime) -> Transcript:
    """The student's transcript from the ledger, evidence and certificates (five queries)."""
    rows = db.session.execute(
        select(
            Course.code,
            Course.title,
            Module.code,
            Module.title,
            Module.position,
            func.min(LedgerEntry.recorded_at),
            func.max(LedgerEntry.score),
            func.count(LedgerEntry.id),
            func.min(LedgerEntry.module_version),
        )
        .join(Module, Module.id == LedgerEntry.module_id)
        .join(Course, Course.id == Module.course_id)
        .where(
            LedgerEntry.student_id == student.id,
            LedgerEntry.kind == LedgerKind.MODULE_COMPLETED,
        )
        .group_by(Course.code, Course.title, Module.code, Module.title, Module.position)
        .order_by(Course.code, Module.position)
    )
    modules = [
        ModuleLine(
            course_code=row[0],
            course_title=row[1],
            module_code=row[2],
            module_title=row[3],
            first_completed_at=_as_datetime(row[5]),
            best_score=None if row[6] is None else float(row[6]),
            completions=row[7],
            version=row[8],
        )
        for row in rows
    ]
    return Transcript(
        student=student,
        generated_at=now,
        modules=modules,
        evidence=credentials.evidence_of([student.id]),
        certificates=credentials.certificates_of([student.id]),
    )


def _as_datetime(value: datetime | str) -> datetime:
    # Aggregates bypass the column type, so SQLite hands back naive text here.
    if isinstance(value, str):
        value = datetime.fromisoformat(value)
    return value if value.tzinfo else value.replace(tzinfo=UTC)


def render_pdf(transcript: Transcript, school: str) -> bytes:
    """The transcript as a PDF of US Letter pages."""
    buffer = io.BytesIO()
    document = SimpleDocTemplate(
        buffer,
        pagesize=LETTER,
        title=f"Transcript of {transcript.student.full_name}",
        author=school,
        leftMargin=0.75 * inch,
        rightMargin=0.75 * inch,
    )
    styles = getSampleStyleSheet()
    story = [
        Paragraph(escape(school), styles["Title"]),
        Paragraph(f"Transcript of {escape(transcript.student.full_name)}", styles["Heading1"]),
        Paragraph(
            f"{escape(transcript.student.email)} · generated "
            f"{transcript.generated_at.strftime('%d %b %Y, %H:%M UTC')}",
            styles["Normal"],
        ),
        Spacer(1, 12),
        Paragraph("Modules completed", styles["Heading2"]),
    ]
    table_style = TableStyle(
        [
            ("FONTNAME", (0, 0), (-1, 0), "Helvetica-Bold"),
            ("LINEBELOW", (0, 0), (-1, 0), 1, colors.black),
            ("VALIGN", (0, 0), (-1, -1), "TOP"),
            ("FONTSIZE", (0, 0), (-1, -1), 9),
        ]
    )
    cell = styles["BodyText"]
    if transcript.modules:
        data = [["Course", "Module (version studied)", "First completed", "Best score"]] + [
            [
                line.course_code,
                Paragraph(
                    escape(
                        f"{line.module_code} {line.module_title}"
                        + (f" (version {line.version})" if line.version else "")
                    ),
                    cell,
                ),
                line.first_completed_at.strftime("%d %b %Y"),
                "—" if line.best_score is None else f"{line.best_score:.0f}%",
            ]
            for line in transcript.modules
        ]
        story.append(
            Table(
                data,
                colWidths=[1 * inch, 3.4 * inch, 1.3 * inch, 1 * inch],
                style=table_style,
                repeatRows=1,
            )
        )
    else:
        story.append(Paragraph("No module completed yet.", styles["Normal"]))
    story += [Spacer(1, 12), Paragraph("Eligibility evidence", styles["Heading2"])]
    if transcript.evidence:
        data = [["Kind", "Details", "Submitted", "Status"]] + [
            [
                Paragraph(escape(transcript.evidence_label(item)), cell),
                Paragraph(escape(item.detail), cell),
                item.submitted_at.strftime("%d %b %Y"),
                item.status.value,
            ]
            for item in transcript.evidence
        ]
        story.append(
            Table(
                data,
                colWidths=[1.8 * inch, 2.9 * inch, 1 * inch, 1 * inch],
                style=table_style,
                repeatRows=1,
            )
        )
    else:
        story.append(Paragraph("No evidence recorded.", styles["Normal"]))
    story += [Spacer(1, 12), Paragraph("Readiness certificates", styles["Heading2"])]
    if transcript.certificates:
        data = [["Credential", "Issued", "Status", "Verification code"]] + [
            [
                certificate.credential.code,
                certificate.issued_at.strftime("%d %b %Y"),
                certificate.status.value,
                certificate.code,
            ]
            for certificate in transcript.certificates
        ]
        story.append(
            Table(
                data,
                colWidths=[1 * inch, 1 * inch, 0.9 * inch, 3.8 * inch],
                style=table_style,
                repeatRows=1,
            )
        )
    else:
        story.append(Paragraph("No certificate issued yet.", styles["Normal"]))
    document.build(story)
    return buffer.getvalue()
