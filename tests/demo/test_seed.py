"""``flask --app lms seed-demo`` builds the demo school once."""

from pathlib import Path

from sqlalchemy import func, select

from lms.auth.models import User
from lms.courses.models import Course, Module, Quiz, QuizItem
from lms.credentials.models import Certificate, Credential
from lms.extensions import db
from lms.ledger.models import LedgerEntry


def counts():
    return {
        model.__name__: db.session.scalar(select(func.count()).select_from(model))
        for model in (User, Course, Module, QuizItem, Credential, Certificate, LedgerEntry)
    }


def test_seed_demo_loads_once(app, client, runner):
    result = runner.invoke(args=["seed-demo"])
    assert result.exit_code == 0, result.output
    assert "Demo data loaded." in result.output
    for email in ("admin@example.com", "instructor@example.com", "student@example.com"):
        assert email in result.output
    first = counts()
    assert first["Course"] >= 3
    assert first["Module"] >= 9
    # every module's quiz holds four questions or more, or draws them by its blueprint
    fixed = db.session.scalar(select(func.count()).select_from(Quiz).where(Quiz.blueprint == ""))
    assert first["QuizItem"] >= 4 * fixed
    assert {"CPC", "CPB", "CCA"} <= set(db.session.scalars(select(Credential.code)))
    assert first["Certificate"] == 2  # one valid, one revoked

    again = runner.invoke(args=["seed-demo"])
    assert again.exit_code == 0
    assert "already present" in again.output
    assert counts() == first

    valid, revoked = db.session.scalars(select(Certificate).order_by(Certificate.id)).all()
    assert f"Issued demo certificate: http://127.0.0.1:5000/verify/{valid.code}" in again.output
    assert f"Revoked demo certificate: http://127.0.0.1:5000/verify/{revoked.code}" in again.output
    page = client.get(f"/verify/{valid.code}").get_data(as_text=True)
    assert "Valid." in page and "Priya Natarajan" in page
    page = client.get(f"/verify/{revoked.code}").get_data(as_text=True)
    assert "Revoked." in page and "Issued in error" in page and "attendance" not in page


def test_demo_logins_work(app, client, runner):
    from tests.conftest import login

    runner.invoke(args=["seed-demo"])
    for email, path in [
        ("student@example.com", "/dashboard"),
        ("instructor@example.com", "/cohorts"),
        ("admin@example.com", "/admin/exports"),
    ]:
        browser = app.test_client()
        assert login(browser, email, "demo-password").status_code == 302
        page = browser.get(path)
        assert page.status_code == 200, email


def test_the_printed_link_carries_the_address_the_demo_is_served_on(app, runner):
    """`make run PORT=5101` printed the verification link with port 5000 (issue 19)."""
    app.config["PUBLIC_BASE_URL"] = "http://127.0.0.1:5101"
    result = runner.invoke(args=["seed-demo"])
    assert result.exit_code == 0, result.output
    assert "http://127.0.0.1:5101/verify/" in result.output
    assert ":5000" not in result.output
    # make seed and make run give the command the address they serve on.
    makefile = (Path(__file__).resolve().parents[2] / "Makefile").read_text()
    assert "LMS_PUBLIC_BASE_URL:-http://$(HOST):$(PORT)" in makefile
    for target in ("seed:", "run:"):
        recipe = makefile.split(f"\n{target}", 1)[1].split("\n\n", 1)[0]
        assert "$(DEV_BASE_URL) $(FLASK)" in recipe, target
