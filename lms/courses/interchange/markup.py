"""Moodle's text formats read as our plain text, and what our model cannot carry yet.

Moodle stores question text as HTML (``html``), as "Moodle auto-format" (``moodle``/
``moodle_auto_format``: HTML allowed, a line break is a line break), as plain text or as
Markdown. Our questions are plain text with line breaks: tags go, entities are read, and
``<br>``, paragraphs, list items and table rows become line breaks. Pure: no Flask, no
database."""

from __future__ import annotations

import html
import re

import nh3

HTML_FORMATS = ("html", "moodle", "moodle_auto_format")
# A break before or after these elements; everything else between tags runs on.
BREAKS = re.compile(r"<\s*(?:br|/p|p|/div|div|/li|li|/tr|/h[1-6]|/blockquote|hr)\b[^>]*>", re.I)
# An embedded file, a picture or a sound: the media store comes with a later issue.
MEDIA = re.compile(r"@@PLUGINFILE@@|<\s*(?:img|audio|video|source|object|embed)\b", re.I)
MEDIA_REASON = "images and audio are not imported yet"


def to_text(raw: str, fmt: str) -> str:
    """Our plain text (with line breaks) for ``raw`` written in Moodle's format ``fmt``."""
    if fmt in HTML_FORMATS:
        # In HTML a line break is a space; in Moodle's auto-format it is a line break.
        raw = re.sub(r"\s+", " ", raw) if fmt == "html" else raw.replace("\n", "<br>")
        raw = BREAKS.sub("\n", raw)
        raw = html.unescape(nh3.clean(raw, tags=set()))
    lines = [re.sub(r"[ \t\u00a0]+", " ", line).strip() for line in raw.splitlines()]
    return re.sub(r"\n{3,}", "\n\n", "\n".join(lines)).strip()


def has_media(*texts: str) -> bool:
    """Whether any of the texts embeds a file, a picture or a sound."""
    return any(MEDIA.search(text) for text in texts)


def rationale_with_feedback(general: str, feedback: list[tuple[str, str]]) -> str:
    """The rationale: the general feedback, then each choice's own feedback (choice, text),
    which our model has no place for, under a line that says so."""
    given = [(choice, text) for choice, text in feedback if text]
    if not given:
        return general
    lines = ["Feedback on the choices (imported: this app keeps no feedback per choice):"]
    lines += [f"- {choice}: {text}" for choice, text in given]
    return "\n\n".join(part for part in (general, "\n".join(lines)) if part)
