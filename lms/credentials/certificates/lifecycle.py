"""Issuing certificates on a verdict already reached, superseding older ones, revoking, and
each cohort's choice of automatic issue.

Judge once, issue many: ``issue_on`` takes the readiness its caller has just judged and
judges nothing again, and issues to any number of students in a fixed number of
statements."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import datetime

from sqlalchemy import insert, or_, select, update
from sqlalchemy.exc import IntegrityError

from lms import links
from lms.auth import notices as in_app
from lms.auth.models import Role, User
from lms.credentials import rules
from lms.credentials.certificates import wording
from lms.credentials.certificates.codes import new_certificate_code
from lms.credentials.models import (
    Certificate,
    CertificateEvent,
    CertificateEventKind,
    CertificateStatus,
    CohortCertificatePolicy,
    Credential,
    RequirementSet,
    RevocationReason,
)
from lms.credentials.readiness import Readiness, evaluate_readiness, evaluate_readiness_in
from lms.db import among
from lms.errors import Conflict, InvalidInput, PermissionDenied, Problem
from lms.extensions import db
from lms.ledger import audit
from lms.ledger import service as ledger
from lms.ledger.models import LedgerKind
from lms.mail import notices

# --- issuing -------------------------------------------------------------------------------


def add_months(moment: datetime, months: int) -> datetime:
    """The same day and time ``months`` later (the last day of a shorter month)."""
    month_index = moment.month - 1 + months
    year, month = moment.year + month_index // 12, month_index % 12 + 1
    for day in range(moment.day, 27, -1):
        try:
            return moment.replace(year=year, month=month, day=day)
        except ValueError:
            continue
    return moment.replace(year=year, month=month, day=min(moment.day, 28))


class AwardingBodyUnconfirmed(Conflict):
    """A certificate was asked of a credential whose awarding body the catalogue does not
    confirm (409); automatic issue passes such a credential over instead."""

    def __init__(self, credential: Credential) -> None:
        super().__init__(
            f"The awarding body of {credential.code} is not confirmed in the catalogue: no "
            "readiness certificate is issued for it."
        )
        self.credential = credential


def refuse_unconfirmed(credential: Credential) -> None:
    """``AwardingBodyUnconfirmed`` when the catalogue does not confirm who awards the
    credential (``Credential.awarding_body_confirmed``)."""
    if not credential.awarding_body_confirmed:
        raise AwardingBodyUnconfirmed(credential)


def certificate_snapshot(
    credential: Credential, requirement_set: RequirementSet, outcome: rules.Outcome
) -> dict:
    """The facts a certificate is issued on, frozen into it: the verdict on every requirement."""
    return {
        "credential": credential.code,
        "requirement_version": requirement_set.version,
        "outcome": outcome.to_data(),
    }


def issue_on(
    readiness: Readiness,
    students: Sequence[User],
    actor: User | None,
    now: datetime,
    *,
    skip_held: bool = False,
    again_after_revocation: bool = False,
) -> list[Certificate]:
    """Issue the certificate to each student on the verdict ``readiness`` holds (the caller
    has just judged them; nothing is judged again), in a fixed number of statements however
    many students. Older certificates of the credential are superseded. 409 when a student
    is not ready, or already holds a valid one under this requirement version (a revoked,
    superseded or expired one leaves room to issue again); with ``skip_held``, those who
    hold it are left alone. A student whose certificate of this version was revoked counts
    as holding it unless ``again_after_revocation``: only an instructor's issue to that one
    student gives it again, never an automatic or a bulk issue."""
    credential, requirement_set = readiness.credential, readiness.requirement_set
    refuse_unconfirmed(credential)
    for student in students:
        outcome = readiness.outcomes[student.id]
        if not outcome.met:
            missing = "; ".join(leaf.explanation for leaf in outcome.unmet())
            raise Conflict(f"{student.full_name} is not ready for {credential.code}: {missing}.")
    if not students:
        return []
    # One query for both: who holds this version, and what an issue now supersedes.
    earlier = db.session.scalars(
        select(Certificate).where(
            among(Certificate.student_id, [s.id for s in students]),
            Certificate.credential_id == credential.id,
            or_(
                Certificate.requirement_set_id == requirement_set.id,
                Certificate.status == CertificateStatus.ISSUED,
            ),
        )
    ).all()
    held = {
        c.student_id
        for c in earlier
        if c.requirement_set_id == requirement_set.id
        and (
            c.status_at(now) is CertificateStatus.ISSUED
            or (c.status is CertificateStatus.REVOKED and not again_after_revocation)
        )
    }
    for student in students:
        if student.id in held and not skip_held:
            raise Conflict(
                f"{student.full_name} already has a {credential.code} certificate "
                f"for version {requirement_set.version} of its requirements."
            )
    students = [s for s in students if s.id not in held]
    if not students:
        return []
    # Superseded before the new ones go in: an expired certificate of this same version is
    # still "issued" in its row, and only one issued row per version may exist.
    issuing = {s.id for s in students}
    superseded = [
        c for c in earlier if c.student_id in issuing and c.status is CertificateStatus.ISSUED
    ]
    if superseded:
        db.session.execute(
            update(Certificate)
            .where(Certificate.id.in_([c.id for c in superseded]))
            .values(status=CertificateStatus.SUPERSEDED)
        )
    certificates = _insert(readiness, students, actor, now)
    _record_issue(readiness, students, certificates, superseded, actor, now)
    return certificates


def _insert(
    readiness: Readiness, students: Sequence[User], actor: User | None, now: datetime
) -> list[Certificate]:
    """The new certificates, in one statement, in the order of ``students``."""
    credential, requirement_set = readiness.credential, readiness.requirement_set
    expires_at = add_months(now, credential.validity_months) if credential.validity_months else None
    rows = [
        {
            "code": new_certificate_code(),
            "student_id": student.id,
            "credential_id": credential.id,
            "requirement_set_id": requirement_set.id,
            "status": CertificateStatus.ISSUED,
            "issued_at": now,
            "issued_by_id": actor.id if actor else None,
            "expires_at": expires_at,
            "snapshot": certificate_snapshot(
                credential, requirement_set, readiness.outcomes[student.id]
            ),
        }
        for student in students
    ]
    try:
        with db.session.begin_nested():
            inserted = db.session.scalars(insert(Certificate).returning(Certificate), rows).all()
    except IntegrityError as error:  # issued at the same moment by another request
        who = students[0].full_name if len(students) == 1 else "One of the students"
        raise Conflict(f"{who} already has this certificate.") from error
    by_student = {certificate.student_id: certificate for certificate in inserted}
    return [by_student[student.id] for student in students]


def _record_issue(
    readiness: Readiness,
    students: Sequence[User],
    certificates: list[Certificate],
    superseded: Sequence[Certificate],
    actor: User | None,
    now: datetime,
) -> None:
    """The events of the new certificates and of those they superseded, their audit events
    and their ledger entries: a statement for each kind of row, whatever their number."""
    credential, version = readiness.credential, readiness.requirement_set.version
    actor_id = actor.id if actor else None
    new_of = {certificate.student_id: certificate.id for certificate in certificates}
    events = [
        {"certificate_id": c.id, "kind": CertificateEventKind.ISSUED, "replaced_by_id": None}
        for c in certificates
    ] + [
        {
            "certificate_id": c.id,
            "kind": CertificateEventKind.SUPERSEDED,
            "replaced_by_id": new_of[c.student_id],
        }
        for c in superseded
    ]
    db.session.execute(
        insert(CertificateEvent),
        [{**event, "occurred_at": now, "actor_id": actor_id} for event in events],
    )
    details = {"credential": credential.code, "requirement_version": version}
    audit.record_events(
        "certificate.issued",
        actor=actor,
        now=now,
        target_type="certificate",
        targets=[(c.id, {"student_id": c.student_id, **details}) for c in certificates],
    )
    ledger.append_entries(
        LedgerKind.CERTIFICATE_ISSUED,
        source="certificate",
        actor=actor,
        now=now,
        rows=[
            (student, {"credential_id": credential.id, "source_ref": f"certificate:{c.id}"})
            for student, c in zip(students, certificates, strict=True)
        ],
    )
    in_app.notify(
        [c.student_id for c in certificates],
        "certificate.issued",
        f"Your {credential.code} readiness certificate is issued: download it, or share its "
        "verification link, from your progress page.",
        "/dashboard",
        now,
    )
    _notify(
        [
            _notice(
                student,
                certificate,
                f"Your {credential.code} readiness certificate",
                "Your school has issued your readiness certificate for the "
                f"{wording.exam(credential.issuing_body, credential.code)} (it is not the "
                f"{credential.code} credential itself). Anyone you show it to can check it at",
            )
            for student, certificate in zip(students, certificates, strict=True)
        ],
        now,
    )


def _notice(student: User, certificate: Certificate, subject: str, news: str) -> notices.Notice:
    link = links.external_url("credentials.verify", code=certificate.code)
    return notices.Notice(
        user_id=student.id,
        email=student.email,
        subject=subject,
        body=f"Hello {student.full_name},\n\n{news}\n\n{link}\n",
        key=f"certificate:{certificate.id}:{certificate.status.value}",
    )


def _notify(certificate_notices: list[notices.Notice], now: datetime) -> None:
    """Mail each student about their certificate (unless they turned these notices off)."""
    notices.notify_many("certificate", certificate_notices, now)


def issue_certificate(
    student: User,
    credential: Credential,
    actor: User | None,
    now: datetime,
    *,
    cohort_id: int | None = None,
) -> Certificate:
    """Judge one student in ``cohort_id`` (only the overrides recorded there count; None:
    outside any cohort) and issue the certificate on that verdict (again, after a
    revocation); 409 if the student is not ready or holds a valid one under the current
    requirements, or whose awarding body the catalogue does not confirm."""
    refuse_unconfirmed(credential)
    readiness = evaluate_readiness(credential, [student.id], now, cohort_id=cohort_id)
    (certificate,) = issue_on(readiness, [student], actor, now, again_after_revocation=True)
    return certificate


def issue_to_ready_students(
    actor: User,
    credential: Credential,
    students: Iterable[User],
    now: datetime,
    *,
    cohort_id: int | None = None,
) -> list[Certificate]:
    """Judge the students once, in ``cohort_id``, and issue the certificate to every one who
    is ready and does not hold it under the current requirements; the others are left
    alone. 409 when the catalogue does not confirm the credential's awarding body."""
    refuse_unconfirmed(credential)
    students = list(students)
    readiness = evaluate_readiness(credential, [s.id for s in students], now, cohort_id=cohort_id)
    ready = [s for s in students if readiness.outcomes[s.id].met]
    return issue_on(readiness, ready, actor, now, skip_held=True)


def issue_if_ready(
    student: User, cohorts: Sequence[tuple[Credential, int | None]], now: datetime
) -> list[Certificate]:
    """Issue automatically the certificates the student has just become ready for, of the
    given (credential, cohort id) pairs, unless the cohort has automatic issue turned off
    (no cohort: on). Each credential is judged in each of its cohorts (the overrides of that
    cohort count there), from one gathering of facts, and the certificate is issued on the
    first verdict that says ready; a credential without requirements, or whose awarding
    body the catalogue does not confirm, is passed over."""
    policy = auto_issue_settings({cohort_id for _, cohort_id in cohorts if cohort_id})
    wanted = [
        (credential, cohort_id)
        for credential, cohort_id in cohorts
        if (cohort_id is None or policy[cohort_id]) and credential.awarding_body_confirmed
    ]
    issued, done = [], set()
    for _, readiness in evaluate_readiness_in(wanted, [student.id], now):
        if readiness.credential.id not in done and readiness.outcomes[student.id].met:
            done.add(readiness.credential.id)
            issued += issue_on(readiness, [student], None, now, skip_held=True)
    return issued


# --- revoking ------------------------------------------------------------------------------


def revoke_certificate(
    actor: User,
    certificate: Certificate,
    public_reason: RevocationReason | str | None,
    note: str,
    now: datetime,
    *,
    instructor_may: bool = False,
) -> Certificate:
    """Revoke a certificate: a public reason from the short list (the verification page
    shows its words) and a private note for the school's records (never shown publicly);
    409 when it is already revoked or superseded.

    An admin may revoke any certificate. An instructor only with ``instructor_may``: the
    caller has checked that they teach an active cohort aimed at its credential in which its
    holder is actively enrolled (cohorts sit above this layer: call
    ``lms.enrollment.service.revoke_certificate``, which checks it). 403 otherwise."""
    if not (actor.is_admin or (instructor_may and actor.role is Role.INSTRUCTOR)):
        raise PermissionDenied(
            "Only an admin, or an instructor of an active cohort aimed at this credential "
            "in which its holder is enrolled, revokes a certificate."
        )
    problems = []
    try:
        public_reason = RevocationReason(public_reason)
    except ValueError:
        problems.append(
            Problem("Choose the reason the verification page will show.", "public_reason")
        )
    note = (note or "").strip()
    if not note:
        problems.append(
            Problem("Write a note on why, for the school's records (it stays private).", "note")
        )
    elif len(note) > 1000:
        problems.append(Problem("Keep the note under 1000 characters.", "note"))
    if problems:
        raise InvalidInput(problems=problems)
    if certificate.status is not CertificateStatus.ISSUED:
        raise Conflict(f"This certificate is already {certificate.status.value}.")
    certificate.status = CertificateStatus.REVOKED
    db.session.add(
        CertificateEvent(
            certificate_id=certificate.id,
            kind=CertificateEventKind.REVOKED,
            occurred_at=now,
            actor_id=actor.id,
            reason=note,
            public_reason=public_reason,
        )
    )
    db.session.flush()
    audit.record_event(
        "certificate.revoked",
        actor=actor,
        now=now,
        target_type="certificate",
        target_id=certificate.id,
        details={
            "student_id": certificate.student_id,
            "public_reason": public_reason.value,
            "note": note,
        },
    )
    ledger.append_entry(
        student=db.session.get(User, certificate.student_id),
        kind=LedgerKind.CERTIFICATE_REVOKED,
        credential_id=certificate.credential_id,
        source="certificate",
        source_ref=f"certificate:{certificate.id}",
        actor=actor,
        now=now,
        note=f"{public_reason.label}. {note}",
    )
    student = db.session.get(User, certificate.student_id)
    credential = db.session.get(Credential, certificate.credential_id)
    in_app.notify(
        [certificate.student_id],
        "certificate.revoked",
        f"Your {credential.code} readiness certificate was revoked: {public_reason.label}.",
        "/dashboard",
        now,
    )
    _notify(
        [
            _notice(
                student,
                certificate,
                f"Your {credential.code} readiness certificate was revoked",
                f"Your school has revoked your {credential.code} readiness certificate "
                f"({public_reason.label.lower()}). Its verification page now says so:",
            )
        ],
        now,
    )
    return certificate


# --- automatic issue -----------------------------------------------------------------------


def auto_issue_settings(cohort_ids: Iterable[int]) -> dict[int, bool]:
    """Whether each cohort issues certificates automatically (the default), in one query."""
    cohort_ids = list(cohort_ids)
    result = dict.fromkeys(cohort_ids, True)
    if cohort_ids:
        rows = db.session.execute(
            select(CohortCertificatePolicy.cohort_id, CohortCertificatePolicy.auto_issue).where(
                CohortCertificatePolicy.cohort_id.in_(cohort_ids)
            )
        )
        result.update({cohort_id: enabled for cohort_id, enabled in rows})
    return result


def set_auto_issue(actor: User, cohort_id: int, enabled: bool, now: datetime) -> None:
    """Turn automatic issue on or off for a cohort the caller has checked the actor teaches."""
    policy = db.session.get(CohortCertificatePolicy, cohort_id)
    if policy is None:
        policy = CohortCertificatePolicy(cohort_id=cohort_id)
        db.session.add(policy)
    policy.auto_issue = enabled
    policy.changed_at = now
    policy.changed_by_id = actor.id
    db.session.flush()
    audit.record_event(
        "cohort.auto_issue_changed",
        actor=actor,
        now=now,
        target_type="cohort",
        target_id=cohort_id,
        details={"auto_issue": enabled},
    )
