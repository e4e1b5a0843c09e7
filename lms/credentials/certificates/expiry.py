"""Certificates about to expire: each holder is mailed once, some days before the end date
(``flask --app lms send-digests`` runs it weekly)."""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import select

from lms import links
from lms.auth.models import User
from lms.credentials.models import Certificate, CertificateStatus, Credential
from lms.extensions import db
from lms.mail import notices

EXPIRY_NOTICE_DAYS = 30


def notify_expiring(now: datetime, within_days: int = EXPIRY_NOTICE_DAYS) -> int:
    """Mail each student whose valid certificate expires within ``within_days`` (once per
    certificate: the notice's key names it); how many were queued."""
    rows = db.session.execute(
        select(Certificate, User, Credential)
        .join(User, User.id == Certificate.student_id)
        .join(Credential, Credential.id == Certificate.credential_id)
        .where(
            Certificate.status == CertificateStatus.ISSUED,
            Certificate.expires_at > now,
            Certificate.expires_at <= now + timedelta(days=within_days),
            User.active.is_(True),
        )
        .order_by(Certificate.id)
    ).all()
    return notices.notify_many(
        "certificate",
        [
            notices.Notice(
                user_id=student.id,
                email=student.email,
                subject=f"Your {credential.code} readiness certificate expires soon",
                body=(
                    f"Hello {student.full_name},\n\nYour {credential.code} readiness certificate "
                    f"expires on {certificate.expires_at:%d %b %Y}. Ask your school how to "
                    "renew it. Its verification page:\n\n"
                    f"{links.external_url('credentials.verify', code=certificate.code)}\n"
                ),
                key=f"certificate:{certificate.id}:expiring",
            )
            for certificate, student, credential in rows
        ],
        now,
    )
