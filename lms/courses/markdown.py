"""Lesson Markdown rendered to HTML that is safe to show: no script survives."""

from __future__ import annotations

from functools import lru_cache

import nh3
from markdown_it import MarkdownIt
from markupsafe import Markup

_markdown = MarkdownIt("commonmark", {"html": False, "linkify": False}).enable("table")

ALLOWED_TAGS = {
    "h1", "h2", "h3", "h4", "h5", "h6", "p", "br", "hr", "blockquote", "pre", "code",
    "em", "strong", "del", "ul", "ol", "li", "a", "img",
    "table", "thead", "tbody", "tr", "th", "td",
}  # fmt: skip
ALLOWED_ATTRIBUTES = {
    "a": {"href", "title"},
    "img": {"src", "alt", "title"},
    "th": {"align"},
    "td": {"align"},
    "ol": {"start"},
}


MEDIA_PREFIX = "media/"


@lru_cache(maxsize=512)
def render_markdown(text: str, heading_offset: int = 1, media_base: str | None = None) -> Markup:
    """Render Markdown (with tables) and sanitise the HTML it gives.

    Headings move down ``heading_offset`` levels, so a lesson's ``#`` sits under the page's
    own ``<h1>`` and the outline stays valid for screen readers. With ``media_base`` (the
    course's media URL, ending in ``/``), links and images to ``media/<file>`` point there,
    so a lesson names its files portably (a course package carries them by name).

    The result depends on the text alone, so each worker keeps the last 512 it made: parsing
    and cleaning a lesson was 40% of the module page's time, and students open the same
    lessons all day. An edited lesson is new text, so it is never served stale."""
    tokens = _markdown.parse(text)
    for token in tokens:
        if token.type in ("heading_open", "heading_close"):
            level = min(6, int(token.tag[1]) + heading_offset)
            token.tag = f"h{level}"
        if media_base is not None:
            for child in [token, *(token.children or [])]:
                for attribute in ("src", "href"):
                    value = child.attrGet(attribute)
                    if isinstance(value, str) and value.startswith(MEDIA_PREFIX):
                        child.attrSet(attribute, media_base + value[len(MEDIA_PREFIX) :])
    html = _markdown.renderer.render(tokens, _markdown.options, {})
    clean = nh3.clean(
        html,
        tags=ALLOWED_TAGS,
        attributes=ALLOWED_ATTRIBUTES,
        url_schemes={"http", "https", "mailto"},
        link_rel="noopener noreferrer nofollow",
    )
    return Markup(clean)  # noqa: S704 - sanitised by nh3 just above  # nosec B704
