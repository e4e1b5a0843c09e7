"""No template carries inline script, inline style or event handlers (the CSP forbids them)."""

import re
from pathlib import Path

import lms

TEMPLATES = Path(lms.__file__).parent / "templates"
FORBIDDEN = [
    (re.compile(r"<script(?![^>]*\bsrc=)[^>]*>", re.I), "inline <script>"),
    (re.compile(r"<style\b", re.I), "<style> element"),
    (re.compile(r"\sstyle\s*=", re.I), "style= attribute"),
    (re.compile(r"\son[a-z]+\s*=", re.I), "inline event handler"),
    (re.compile(r"javascript:", re.I), "javascript: URL"),
    (re.compile(r"\|\s*safe\b"), "|safe filter (mark safe in Python, after sanitising)"),
]


def test_templates_have_no_inline_script_or_style():
    problems = []
    files = sorted(TEMPLATES.rglob("*.html"))
    assert len(files) > 10
    for path in files:
        text = path.read_text()
        for pattern, what in FORBIDDEN:
            for match in pattern.finditer(text):
                line = text.count("\n", 0, match.start()) + 1
                problems.append(f"{path.relative_to(TEMPLATES)}:{line}: {what}")
    assert problems == []


def test_the_checks_catch_what_they_should():
    samples = [
        "<script>alert(1)</script>",
        '<p style="color:red">',
        '<a onclick="x()">',
        "<style>p{}</style>",
        "{{ text|safe }}",
    ]
    for sample in samples:
        assert any(pattern.search(sample) for pattern, _ in FORBIDDEN), sample
    assert not any(p.search('<script src="/static/js/a.js" defer></script>') for p, _ in FORBIDDEN)
