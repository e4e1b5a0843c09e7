"""Hostile text in names, lesson Markdown and questions comes out inert on every page."""

from html.parser import HTMLParser

from sqlalchemy import select

from lms.auth.models import Role
from lms.courses import content
from lms.courses.models import Lesson
from lms.credentials.models import Certificate
from lms.extensions import db
from tests import factories
from tests.conftest import login

PAYLOADS = [
    "<script>alert('xss')</script>",
    '"><img src=x onerror=alert(1)>',
    "<svg onload=alert(1)>",
    "javascript:alert(1)",
    "';alert(1)//",
]
HOSTILE = " ".join(PAYLOADS)

LESSON = f"""# Lesson

{HOSTILE}

<script>alert('raw html')</script>
<a href="javascript:alert(1)">click</a>
<p onclick="alert(1)">para</p>

[a link](javascript:alert(1)) and ![an image](javascript:alert(2))
[data](data:text/html;base64,PHNjcmlwdD5hbGVydCgxKTwvc2NyaXB0Pg==)
"""


class ActiveContent(HTMLParser):
    """Collects everything in a page that could run script."""

    def __init__(self):
        super().__init__()
        self.problems: list[str] = []

    def handle_starttag(self, tag, attrs):
        inline_script = tag == "script" and not dict(attrs).get("src")
        if inline_script or tag in ("iframe", "object", "embed", "svg", "math", "style"):
            self.problems.append(f"<{tag}>")
        for name, value in attrs:
            if name.startswith("on") or name in ("style", "srcdoc", "formaction"):
                self.problems.append(f"<{tag} {name}=...>")
            if name in ("href", "src", "action") and value:
                scheme = value.strip().lower().replace("\t", "").replace("\n", "")
                if scheme.startswith(("javascript:", "data:", "vbscript:")):
                    self.problems.append(f"<{tag} {name}={value}>")


def active_content(page: str) -> list[str]:
    parser = ActiveContent()
    parser.feed(page)
    return parser.problems


def test_hostile_text_is_inert_on_every_page_that_shows_it(app):
    content.create_course(
        {
            "code": "EVIL",
            "title": f"Course {HOSTILE}",
            "topic_area": "terminology",
            "description": HOSTILE,
            "modules": [
                {
                    "code": "EVIL-1",
                    "title": f"Module {HOSTILE}",
                    "passing_score": 70,
                    "lesson": "# Lesson\n\nReplaced below.\n",
                    "questions": [
                        {
                            "stem": f"Which? {HOSTILE}",
                            "choices": [f"Right {PAYLOADS[0]}", f"Wrong {PAYLOADS[1]}"],
                            "correct": 0,
                            "rationale": f"Because {PAYLOADS[2]}",
                        }
                    ],
                }
            ],
        }
    )
    # The editor refuses raw HTML and script links (tests/courses/test_authoring.py); a lesson
    # already stored with them (written before those checks) must still render inert.
    lesson = db.session.scalar(
        select(Lesson).where(Lesson.module_id == factories.module("EVIL-1").id)
    )
    lesson.body_markdown = LESSON
    db.session.commit()
    credential = factories.credential("CPC", modules=["EVIL-1"])
    student = factories.user(Role.STUDENT, name=f"Sam {HOSTILE}")
    instructor = factories.user(Role.INSTRUCTOR, name=f"Dana {HOSTILE}")
    admin = factories.user(Role.ADMIN)
    cohort = factories.cohort(instructor, credential, [student], name=f"Cohort {HOSTILE}")
    attempt = factories.pass_module(student, "EVIL-1")
    code = db.session.scalar(select(Certificate.code))
    assert code, "the certificate should be issued"
    module_id = factories.module("EVIL-1").id

    pages = {
        student: [
            "/dashboard",
            "/courses",
            f"/modules/{module_id}",
            f"/attempts/{attempt.id}",
            "/evidence",
        ],
        instructor: ["/cohorts", f"/cohorts/{cohort.id}", f"/modules/{module_id}"],
        admin: ["/admin/users", f"/attempts/{attempt.id}", "/cohorts"],
        None: [f"/verify/{code}"],
    }
    checked = 0
    for person, paths in pages.items():
        client = app.test_client()
        if person is not None:
            login(client, person.email)
        for path in paths:
            response = client.get(path)
            assert response.status_code == 200, path
            page = response.get_data(as_text=True)
            assert active_content(page) == [], path
            assert "&lt;script&gt;" in page or "alert" not in page, path
            checked += 1
    assert checked == 12


def test_the_checker_finds_active_content():
    assert active_content('<p onclick="x()">a</p><script>b()</script>') == [
        "<p onclick=...>",
        "<script>",
    ]
    assert active_content('<a href=" JavaScript:alert(1)">x</a>') != []
    assert active_content('<script src="/static/js/app.js" defer></script>') == []
