"""Every POST route refuses a request without a CSRF token (400) and changes nothing."""

import pytest
from sqlalchemy import select

from lms.auth.models import Role
from lms.extensions import db
from tests import factories
from tests.conftest import csrf_token, login
from tests.security.test_object_access import CASES, scenario  # noqa: F401  (fixture)

# POST endpoints that do not use the session cookie (e.g. an API authenticated by a bearer
# token) and are therefore exempt from CSRF; each needs a reason.
_API = (
    "JSON API v1: authenticated only by a bearer token in the Authorization header, which a "
    "browser never adds to a cross-site request; it ignores the session cookie "
    "(tests/security/test_api_object_access.py, tests/api/)"
)
API_EXEMPT = {
    "Records.create_completion": _API,
    "Records.issue_certificate": _API,
    "Records.revoke_certificate": _API,
    "Content.create_course": _API,
    "Content.create_module": _API,
    "Content.publish_module": _API,
}
CSRF_EXEMPT: dict[str, str] = {
    **API_EXEMPT,
    # LTI 1.3: the platform (another site) posts these by design. The login initiation only
    # stores a random state and nonce and redirects; the launch is accepted only with a
    # platform-signed id_token whose nonce and state cookie match that login
    # (tests/lti/test_launch.py).
    "lti.login": "LTI 1.3 third-party initiated login: a cross-site POST by design",
    "lti.launch": "LTI 1.3 launch: authenticated by the platform's signed id_token and state",
}


def test_csrf_exempt_routes_ignore_the_session(app, scenario):  # noqa: F811
    """An exempt route really takes no cookie: a logged-in admin's session without a token
    is refused (401), so a forged cross-site POST cannot ride on the session."""
    client = app.test_client()
    assert login(client, scenario.people["admin"].email).status_code == 302
    before = snapshot()
    urls = app.url_map.bind("localhost")
    for rule in app.url_map.iter_rules():
        if rule.endpoint in API_EXEMPT:
            url = urls.build(rule.endpoint, dict.fromkeys(rule.arguments, 1))
            response = client.post(url, json={})
            assert response.status_code == 401, (rule.endpoint, response.status_code)
    # A launch without a signed id_token and its state is refused and logs nobody in.
    assert client.post("/lti/launch", data={"state": "forged"}).status_code == 400
    assert snapshot() == before


def post_routes(app):
    return sorted(
        (rule.endpoint, rule)
        for rule in app.url_map.iter_rules()
        if "POST" in rule.methods and rule.endpoint not in ("static", *CSRF_EXEMPT)
    )


def snapshot():
    """Every row of every table."""
    db.session.expire_all()
    return {
        table.name: sorted(map(tuple, db.session.execute(select(table)).all()), key=repr)
        for table in db.metadata.sorted_tables
    }


def test_there_are_post_routes_to_check(app):
    endpoints = {endpoint for endpoint, _ in post_routes(app)}
    assert {"auth.login", "auth.logout", "courses.submit_quiz"} <= endpoints


@pytest.mark.parametrize("as_role", [None, Role.ADMIN, Role.STUDENT, Role.INSTRUCTOR])
def test_every_post_without_token_is_refused_and_changes_nothing(app, scenario, as_role):  # noqa: F811
    client = app.test_client()
    if as_role is not None:
        person = scenario.people[
            {Role.ADMIN: "admin", Role.STUDENT: "owner", Role.INSTRUCTOR: "cohort_instructor"}[
                as_role
            ]
        ]
        assert login(client, person.email).status_code == 302
    targets = []
    for endpoint, rule in post_routes(app):
        if rule.arguments:
            assert endpoint in CASES, f"add {endpoint} to CASES in test_object_access.py"
            url, data = CASES[endpoint][0].build(scenario)
        else:
            url, data = rule.rule, {"email": factories.user(Role.STUDENT).email, "name": "X"}
        targets.append((endpoint, url, data))
    before = snapshot()
    for endpoint, url, data in targets:
        response = client.post(url, data=data)
        assert response.status_code == 400, (endpoint, url, response.status_code)
        assert "not sent from this site" in response.get_data(as_text=True), endpoint
        # A token from another session does not work either.
        stranger = app.test_client()
        response = client.post(url, data={**data, "csrf_token": csrf_token(stranger)})
        assert response.status_code == 400, (endpoint, url)
    assert snapshot() == before
    if as_role is not None:
        # Still logged in: the logout without a token was refused too.
        assert client.get("/account/password").status_code == 200
