"""Logging in and out, roles, and sessions that really end."""

from sqlalchemy import func, select

from lms.auth.models import Role, User
from lms.extensions import db
from lms.ledger.models import AuditEvent
from tests import factories
from tests.conftest import csrf_token, login, post_form


def audit_actions():
    return list(db.session.scalars(select(AuditEvent.action).order_by(AuditEvent.id)))


def test_login_page_has_email_and_password_fields(client):
    page = client.get("/login").get_data(as_text=True)
    assert 'name="email"' in page and 'name="password"' in page


def test_student_logs_in_and_lands_on_dashboard(client):
    student = factories.user(Role.STUDENT, name="Sam Rivera")
    response = login(client, student.email)
    assert response.status_code == 302
    assert response.headers["Location"] == "/"
    home = client.get("/", follow_redirects=True)
    assert home.request.path == "/dashboard"
    assert "Welcome, Sam Rivera." in home.get_data(as_text=True)
    assert audit_actions()[-1] == "login.succeeded"


def test_each_role_lands_on_its_start_page(client):
    for role, path in [(Role.INSTRUCTOR, "/cohorts"), (Role.ADMIN, "/admin/exports")]:
        person = factories.user(role)
        login(client, person.email)
        assert client.get("/", follow_redirects=True).request.path == path
        post_form(client, "/logout")


def test_wrong_password_is_refused_with_401_and_audited(client):
    student = factories.user(Role.STUDENT)
    response = login(client, student.email, "not the password at all")
    assert response.status_code == 401
    assert "The email or password is not right." in response.get_data(as_text=True)
    assert client.get("/dashboard").status_code == 302  # still logged out
    assert audit_actions()[-1] == "login.failed"


def test_unknown_email_gets_the_same_answer(client):
    response = login(client, "nobody@example.org", "whatever password")
    assert response.status_code == 401
    assert "The email or password is not right." in response.get_data(as_text=True)


def test_disabled_account_cannot_log_in(client):
    student = factories.user(Role.STUDENT)
    student.active = False
    db.session.commit()
    assert login(client, student.email).status_code == 401


def test_anonymous_visitor_is_sent_to_login(client):
    response = client.get("/dashboard")
    assert response.status_code == 302
    assert response.headers["Location"].startswith("/login?next=")


def test_next_only_goes_to_this_site(client):
    student = factories.user(Role.STUDENT)
    response = client.post(
        "/login?next=https://evil.example/steal",
        data={
            "email": student.email,
            "password": factories.PASSWORD,
            "csrf_token": csrf_token(client),
        },
    )
    assert response.headers["Location"] == "/"


def test_login_without_csrf_token_is_refused(client):
    student = factories.user(Role.STUDENT)
    response = client.post("/login", data={"email": student.email, "password": factories.PASSWORD})
    assert response.status_code == 400
    assert "Reload the page" in response.get_data(as_text=True)
    assert client.get("/dashboard").status_code == 302
    assert "login.succeeded" not in audit_actions()


def test_logout_ends_every_session_including_copied_cookies(app, client):
    student = factories.user(Role.STUDENT)
    login(client, student.email)
    other_device = app.test_client()
    login(other_device, student.email)
    stolen = client.get_cookie("session").value

    assert post_form(client, "/logout").status_code == 302
    assert client.get("/dashboard").status_code == 302
    assert other_device.get("/dashboard").status_code == 302

    replay = app.test_client()
    replay.set_cookie("session", stolen)
    assert replay.get("/dashboard").status_code == 302


def test_logout_needs_post(client):
    student = factories.user(Role.STUDENT)
    login(client, student.email)
    assert client.get("/logout").status_code == 200  # a confirmation form, nothing ended
    assert client.get("/dashboard").status_code == 200


def test_student_gets_403_on_instructor_and_admin_pages(client):
    student = factories.user(Role.STUDENT)
    login(client, student.email)
    for path in ["/cohorts", "/cohorts/new", "/admin/exports", "/admin/exports/completions.csv"]:
        response = client.get(path)
        assert response.status_code == 403, path
        assert "This page is only for" in response.get_data(as_text=True)


def test_instructor_gets_403_on_admin_pages(client):
    instructor = factories.user(Role.INSTRUCTOR)
    login(client, instructor.email)
    assert client.get("/admin/exports").status_code == 403


def test_error_pages_answer_json_when_asked(client):
    response = client.get("/verify/NOPE", headers={"Accept": "application/json"})
    assert response.status_code == 404
    assert response.get_json()["error"]["status"] == 404


def test_create_user_cli(runner):
    result = runner.invoke(
        args=[
            "create-user",
            "--role",
            "instructor",
            "--name",
            "Ina Structor",
            "New.Teacher@Example.org",
        ],
        input="a long enough password\na long enough password\n",
    )
    assert result.exit_code == 0, result.output
    assert "Created instructor new.teacher@example.org." in result.output
    user = db.session.scalar(select(User).where(User.email == "new.teacher@example.org"))
    assert user.role is Role.INSTRUCTOR
    assert user.password_hash.startswith("$argon2id$")


def test_create_user_cli_refuses_bad_input(runner):
    factories.user(Role.STUDENT, email="taken@example.org")
    before = db.session.scalar(select(func.count()).select_from(User))
    cases = [
        (["create-user", "--name", "X", "not-an-email"], "not a valid email address"),
        (["create-user", "--name", "X", "short@example.org"], "at least 12 characters"),
        (["create-user", "--name", "X", "TAKEN@example.org"], "already exists"),
    ]
    for args, message in cases:
        password = "short" if "short" in args[-1] else "long enough password"
        result = runner.invoke(args=args, input=f"{password}\n{password}\n")
        assert result.exit_code != 0
        assert message in result.output
    assert db.session.scalar(select(func.count()).select_from(User)) == before
