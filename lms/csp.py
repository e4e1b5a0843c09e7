"""The Content-Security-Policy every page carries (``lms.security`` adds it), the one variant
a page may ask for (a form that posts to an LMS's origin, for LTI deep linking), and the
cross-origin header of the public documents a verifier's browser fetches."""

from __future__ import annotations

from flask import Response


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


def open_to_any_origin(response: Response) -> Response:
    """Let a browser page on any site read this public document (a key set, a credential, a
    status list): no cookie travels with such a request, and nothing private is in it."""
    response.headers["Access-Control-Allow-Origin"] = "*"
    return response
