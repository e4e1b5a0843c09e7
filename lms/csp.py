"""The Content-Security-Policy every page carries (``lms.security`` adds it), and the one
variant a page may ask for: a form that posts to an LMS's origin (LTI deep linking)."""

from __future__ import annotations


def content_security_policy(form_targets: tuple[str, ...] = ()) -> str:
    """The app's strict policy; ``form_targets`` are extra origins a form may post to (an
    LMS that receives a deep-linking answer)."""
    return "; ".join(
        [
            "default-src 'self'",
            "script-src 'self'",
            "style-src 'self'",
            "img-src 'self' data:",
            "font-src 'self'",
            "connect-src 'self'",
            "object-src 'none'",
            "base-uri 'none'",
            "frame-ancestors 'none'",
            " ".join(["form-action 'self'", *form_targets]),
        ]
    )


CONTENT_SECURITY_POLICY = content_security_policy()
