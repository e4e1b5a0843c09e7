"""LTI 1.3: registered platforms, the tool's keys, launches and the score outbox."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from sqlalchemy import ForeignKey, Numeric, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from lms.auth.models import User
from lms.db import UTCDateTime, enum_column
from lms.extensions import db


class LtiPlatform(db.Model):
    """A school's LMS (Canvas, Moodle ...) registered by an admin, trusted to launch the tool."""

    __tablename__ = "lti_platform"
    __table_args__ = (UniqueConstraint("issuer", "client_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    issuer: Mapped[str] = mapped_column(String(500))
    client_id: Mapped[str] = mapped_column(String(255))
    auth_login_url: Mapped[str] = mapped_column(String(1000))
    auth_token_url: Mapped[str] = mapped_column(String(1000))
    key_set_url: Mapped[str] = mapped_column(String(1000))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())

    deployments: Mapped[list[LtiDeployment]] = relationship(
        back_populates="platform",
        order_by="LtiDeployment.id",
        cascade="all, delete-orphan",
        lazy="raise",
    )


class LtiDeployment(db.Model):
    """One deployment id of a platform: an install of the tool in the LMS."""

    __tablename__ = "lti_deployment"
    __table_args__ = (UniqueConstraint("platform_id", "deployment_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    platform_id: Mapped[int] = mapped_column(ForeignKey("lti_platform.id"))
    deployment_id: Mapped[str] = mapped_column(String(255))

    platform: Mapped[LtiPlatform] = relationship(back_populates="deployments", lazy="raise")


class LtiLoginState(db.Model):
    """The state and nonce of one OIDC login, checked once by the launch that follows."""

    __tablename__ = "lti_login_state"

    id: Mapped[int] = mapped_column(primary_key=True)
    state: Mapped[str] = mapped_column(String(64), unique=True)
    nonce: Mapped[str] = mapped_column(String(64), unique=True)
    platform_id: Mapped[int] = mapped_column(ForeignKey("lti_platform.id"), index=True)
    # The link the login asked to open; the launch's target_link_uri must be the same.
    target_link_uri: Mapped[str] = mapped_column(String(1000), default="")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime())
    used_at: Mapped[datetime | None] = mapped_column(UTCDateTime())


class LtiIdentity(db.Model):
    """Who a platform's user (its ``sub``) is in this app."""

    __tablename__ = "lti_identity"
    __table_args__ = (UniqueConstraint("platform_id", "subject"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    platform_id: Mapped[int] = mapped_column(ForeignKey("lti_platform.id"))
    subject: Mapped[str] = mapped_column(String(255))
    user_id: Mapped[int] = mapped_column(ForeignKey("user_account.id"), index=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())

    user: Mapped[User] = relationship(lazy="raise")


class LinkOutcome(StrEnum):
    """How a request to link a platform user to an existing account ended."""

    CONFIRMED = "confirmed"
    DECLINED = "declined"


class LtiLinkRequest(db.Model):
    """A launch whose email matched an existing account that this platform user was never
    linked to. Nothing is linked until the account's owner, logged in, in the browser that
    launched, confirms; the launch's verified claims wait here so it can then finish."""

    __tablename__ = "lti_link_request"

    id: Mapped[int] = mapped_column(primary_key=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    browser_hash: Mapped[str] = mapped_column(String(64))
    platform_id: Mapped[int] = mapped_column(ForeignKey("lti_platform.id"))
    subject: Mapped[str] = mapped_column(String(255))
    user_id: Mapped[int] = mapped_column(ForeignKey("user_account.id"), index=True)
    claims: Mapped[str] = mapped_column(Text)  # JSON of the verified id_token
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime())
    resolved_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    outcome: Mapped[LinkOutcome | None] = mapped_column(
        enum_column(LinkOutcome, "lti_link_outcome")
    )

    platform: Mapped[LtiPlatform] = relationship(lazy="raise")
    user: Mapped[User] = relationship(lazy="raise")


class LtiContext(db.Model):
    """A course of the platform the tool was launched from, and the cohort it feeds."""

    __tablename__ = "lti_context"
    __table_args__ = (UniqueConstraint("platform_id", "context_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    platform_id: Mapped[int] = mapped_column(ForeignKey("lti_platform.id"))
    deployment_id: Mapped[str] = mapped_column(String(255))
    context_id: Mapped[str] = mapped_column(String(255))
    title: Mapped[str] = mapped_column(String(300), default="")
    memberships_url: Mapped[str | None] = mapped_column(String(1000))
    cohort_id: Mapped[int | None] = mapped_column(ForeignKey("cohort.id"))
    last_synced_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())

    platform: Mapped[LtiPlatform] = relationship(lazy="raise")


class LtiContextMember(db.Model):
    """A user who launched from (or was synced from) a platform course, and as what."""

    __tablename__ = "lti_context_member"
    __table_args__ = (UniqueConstraint("context_id", "user_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    context_id: Mapped[int] = mapped_column(ForeignKey("lti_context.id"))
    user_id: Mapped[int] = mapped_column(ForeignKey("user_account.id"), index=True)
    is_instructor: Mapped[bool] = mapped_column(default=False)
    # False once a roster sync no longer finds the learner in the platform course.
    active: Mapped[bool] = mapped_column(default=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())


class LtiResourceLink(db.Model):
    """A link placed in a platform course, the module it opens and its gradebook column."""

    __tablename__ = "lti_resource_link"
    __table_args__ = (UniqueConstraint("context_id", "resource_link_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    context_id: Mapped[int] = mapped_column(ForeignKey("lti_context.id"))
    resource_link_id: Mapped[str] = mapped_column(String(255))
    module_id: Mapped[int | None] = mapped_column(ForeignKey("module.id"), index=True)
    lineitem_url: Mapped[str | None] = mapped_column(String(1000))
    title: Mapped[str] = mapped_column(String(300), default="")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())

    context: Mapped[LtiContext] = relationship(lazy="raise")


class ScoreStatus(StrEnum):
    """Where a score waiting for the platform's gradebook is."""

    PENDING = "pending"
    SENT = "sent"


class LtiScoreOutbox(db.Model):
    """A score to send to a platform's line item; kept, and retried, until it is accepted."""

    __tablename__ = "lti_score_outbox"

    id: Mapped[int] = mapped_column(primary_key=True)
    link_id: Mapped[int] = mapped_column(ForeignKey("lti_resource_link.id"), index=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("user_account.id"))
    subject: Mapped[str] = mapped_column(String(255))
    ledger_entry_id: Mapped[int] = mapped_column(ForeignKey("ledger_entry.id"))
    score: Mapped[float] = mapped_column(Numeric(5, 2, asdecimal=False))
    status: Mapped[ScoreStatus] = mapped_column(enum_column(ScoreStatus, "lti_score_status"))
    attempts: Mapped[int] = mapped_column(default=0)
    next_attempt_at: Mapped[datetime] = mapped_column(UTCDateTime(), index=True)
    last_error: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime())

    link: Mapped[LtiResourceLink] = relationship(lazy="raise")
    user: Mapped[User] = relationship(lazy="raise")
