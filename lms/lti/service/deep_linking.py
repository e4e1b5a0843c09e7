"""Deep linking: the signed answer listing the modules an instructor placed in a course."""

from __future__ import annotations

import secrets
from collections.abc import Mapping
from datetime import datetime, timedelta
from typing import Any

from lms import signing
from lms.auth.models import User
from lms.courses import reads as courses
from lms.courses.models import Module
from lms.errors import InvalidInput
from lms.ledger import audit
from lms.lti import rules
from lms.lti.service.platforms import get_platform


def deep_link_choices() -> list[tuple[str, list[Module]]]:
    """Every course's title and modules, for the instructor to pick from."""
    return [(course.title, list(course.modules)) for course in courses.list_courses()]


def deep_link_response(
    actor: User,
    request_info: Mapping[str, Any],
    module_ids: list[int],
    launch_url: str,
    now: datetime,
) -> tuple[str, str]:
    """The signed LtiDeepLinkingResponse for the chosen modules, and where to post it."""
    if not module_ids:
        raise InvalidInput("Choose at least one module to place in the course.")
    if len(module_ids) > 1 and not request_info.get("accept_multiple", True):
        raise InvalidInput("This LMS accepts only one item here: choose a single module.")
    platform = get_platform(int(request_info["platform_id"]))
    by_id = {m.id: m for _title, modules in deep_link_choices() for m in modules}
    unknown = [i for i in module_ids if i not in by_id]
    if unknown:
        raise InvalidInput("Some of the chosen modules do not exist.")
    chosen = [by_id[i] for i in module_ids]
    items = [
        {
            "type": "ltiResourceLink",
            "title": module.title,
            "url": launch_url,
            "custom": {"module_code": module.code},
            "lineItem": {
                "scoreMaximum": 100,
                "label": module.title,
                "resourceId": module.code,
            },
        }
        for module in chosen
    ]
    claims: dict[str, Any] = {
        "iss": platform.client_id,
        "aud": [platform.issuer],
        "iat": int(now.timestamp()),
        "exp": int((now + timedelta(minutes=10)).timestamp()),
        "nonce": secrets.token_urlsafe(16),
        rules.CLAIM_DEPLOYMENT_ID: request_info["deployment_id"],
        rules.CLAIM_MESSAGE_TYPE: rules.DEEP_LINKING_RESPONSE,
        rules.CLAIM_VERSION: rules.LTI_VERSION,
        rules.CLAIM_DL_CONTENT_ITEMS: items,
    }
    if request_info.get("data") is not None:
        claims[rules.CLAIM_DL_DATA] = request_info["data"]
    token = signing.store().sign(claims)
    audit.record_event(
        "lti.deep_link_returned",
        actor=actor,
        now=now,
        target_type="lti_platform",
        target_id=platform.id,
        details={"modules": [m.code for m in chosen]},
    )
    return str(request_info["return_url"]), token
