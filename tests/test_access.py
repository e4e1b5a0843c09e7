"""Every route declares who may use it; none is left open by accident."""

from lms.auth.access import PUBLIC
from lms.auth.models import Role

PUBLIC_ENDPOINTS = {
    "static",
    "health.healthz",
    "auth.home",
    "auth.login",
    "credentials.check",
    "credentials.verify",
    "credentials.verify_json",
    "credentials.certificate_pdf",
    "credentials.credential_jwt",
    "credentials.status_list",
    "keys.jwks",
    "keys.lti_jwks",
}
PUBLIC_ENDPOINTS |= {"lti.login", "lti.launch"}  # issue 10: the LMS calls these
PUBLIC_ENDPOINTS |= {"lti.link_request"}  # issue 20: explains a link request, changes nothing
PUBLIC_ENDPOINTS |= {"enrollment.accept_invitation"}  # issue 5: invitation links
PUBLIC_ENDPOINTS |= {"enrollment.calendar_feed"}  # issue 19: the token is the credential
PUBLIC_ENDPOINTS |= {"api.openapi_json", "api.docs"}  # issue 6: the API document
PUBLIC_ENDPOINTS |= {
    "account.forgot_password",
    "account.reset_password",
    "account.login_code",
}  # issue 7
PUBLIC_ENDPOINTS |= {"account.unsubscribe"}  # issue 19 item 12: the link in a notice


def test_every_route_declares_an_access_rule(app):
    undeclared = []
    rules = {}
    for rule in app.url_map.iter_rules():
        view = app.view_functions[rule.endpoint]
        access = getattr(view, "access_rule", None)
        if rule.endpoint == "static":
            continue
        if access is None:
            undeclared.append(rule.rule)
        rules[rule.endpoint] = access
    assert undeclared == []
    assert {e for e, access in rules.items() if access == PUBLIC} == PUBLIC_ENDPOINTS - {"static"}


def test_admin_and_instructor_routes_exclude_students(app):
    for rule in app.url_map.iter_rules():
        access = getattr(app.view_functions[rule.endpoint], "access_rule", None)
        if rule.rule.startswith(("/admin", "/cohorts", "/courses/import", "/courses/export")):
            assert Role.STUDENT not in access, rule.rule
