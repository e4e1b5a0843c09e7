"""Pure LTI rules: roles, claim checks, backoff, service URLs."""

from datetime import UTC, datetime, timedelta

import pytest

from lms.lti import rules
from tests.lti.conftest import ADMINISTRATOR, INSTRUCTOR, LEARNER, TEACHING_ASSISTANT

NOW = datetime(2026, 11, 2, 15, 30, tzinfo=UTC)


@pytest.mark.parametrize(
    ("roles", "expected"),
    [
        ([LEARNER], "student"),
        (["Learner"], "student"),
        ([INSTRUCTOR], "instructor"),
        ([TEACHING_ASSISTANT], "instructor"),
        ([LEARNER, TEACHING_ASSISTANT], "instructor"),
        ([ADMINISTRATOR, INSTRUCTOR], "admin"),
        (["http://purl.imsglobal.org/vocab/lis/v2/membership#Mentor"], None),
        ([], None),
    ],
)
def test_roles_map_to_the_highest_app_role(roles, expected):
    assert rules.map_role(roles) == expected


def good_claims(**changes):
    claims = {
        "iss": "https://lms.example.edu",
        "aud": "client-1",
        "sub": "user-1",
        "iat": int(NOW.timestamp()),
        "exp": int((NOW + timedelta(minutes=5)).timestamp()),
        "nonce": "n-1",
        rules.CLAIM_DEPLOYMENT_ID: "d-1",
        rules.CLAIM_VERSION: "1.3.0",
        rules.CLAIM_MESSAGE_TYPE: rules.RESOURCE_LINK_REQUEST,
        rules.CLAIM_ROLES: [LEARNER],
        rules.CLAIM_RESOURCE_LINK: {"id": "link-1"},
        rules.CLAIM_TARGET_LINK_URI: "https://tool.example/lti/launch",
    }
    claims.update(changes)
    return {k: v for k, v in claims.items() if v is not None}


EXPECTED = rules.Expectation(
    "https://lms.example.edu",
    "client-1",
    "n-1",
    frozenset({"d-1"}),
    target_link_uri="https://tool.example/lti/launch",
)


def test_good_claims_have_no_problem():
    assert rules.launch_problems(good_claims(), EXPECTED, NOW) == []
    assert rules.launch_problems(good_claims(aud=["client-1"]), EXPECTED, NOW) == []


def test_every_problem_is_reported_not_only_the_first():
    claims = good_claims(
        iss="https://evil.example",
        aud="someone-else",
        exp=int((NOW - timedelta(minutes=5)).timestamp()),
        nonce="other",
        **{rules.CLAIM_DEPLOYMENT_ID: "d-9", rules.CLAIM_VERSION: "1.1"},
    )
    problems = rules.launch_problems(claims, EXPECTED, NOW)
    assert problems == [
        "The token was issued by another platform.",
        "The token is not meant for this tool (audience).",
        "The token has expired.",
        "The token's nonce does not match this login.",
        "The deployment is not registered for this platform.",
        "Only LTI 1.3.0 launches are supported.",
    ]


def test_an_audience_the_tool_does_not_trust_is_refused_whatever_azp_says():
    claims = good_claims(aud=["client-1", "other"])
    assert rules.launch_problems(claims, EXPECTED, NOW) == [
        "The token also names audiences this tool does not trust."
    ]
    assert rules.launch_problems(dict(claims, azp="client-1"), EXPECTED, NOW) == [
        "The token also names audiences this tool does not trust."
    ]


def test_an_authorised_party_other_than_the_tool_is_refused():
    assert rules.launch_problems(good_claims(azp="someone-else"), EXPECTED, NOW) == [
        "The token's authorised party (azp) is not this tool."
    ]
    assert rules.launch_problems(good_claims(azp="client-1"), EXPECTED, NOW) == []


def test_the_launch_opens_the_link_its_login_named():
    missing = good_claims(**{rules.CLAIM_TARGET_LINK_URI: None})
    assert rules.launch_problems(missing, EXPECTED, NOW) == [
        "The launch does not say which link it opens (target_link_uri)."
    ]
    changed = good_claims(**{rules.CLAIM_TARGET_LINK_URI: "https://tool.example/other"})
    assert rules.launch_problems(changed, EXPECTED, NOW) == [
        "The launch opens another link than the one its login named."
    ]


def test_times_are_checked_against_now_with_a_minute_of_leeway():
    in_leeway = good_claims(exp=int((NOW - timedelta(seconds=30)).timestamp()))
    assert rules.launch_problems(in_leeway, EXPECTED, NOW) == []
    future = good_claims(iat=int((NOW + timedelta(minutes=10)).timestamp()))
    assert rules.launch_problems(future, EXPECTED, NOW) == [
        "The token's issue time is not plausible."
    ]
    no_exp = good_claims(exp=None)
    assert rules.launch_problems(no_exp, EXPECTED, NOW) == [
        "The token has no expiry or issue time."
    ]


def test_deep_linking_needs_a_return_url_and_links_need_an_id():
    claims = good_claims(**{rules.CLAIM_MESSAGE_TYPE: rules.DEEP_LINKING_REQUEST})
    assert rules.launch_problems(claims, EXPECTED, NOW) == [
        "The deep-linking request has no return URL."
    ]
    settings = {"deep_link_return_url": "https://lms/return", "accept_types": ["file"]}
    claims[rules.CLAIM_DL_SETTINGS] = settings
    assert rules.launch_problems(claims, EXPECTED, NOW) == [
        "The LMS does not accept links to tool content here."
    ]
    claims = good_claims(**{rules.CLAIM_RESOURCE_LINK: {}, "sub": ""})
    assert rules.launch_problems(claims, EXPECTED, NOW) == [
        "The launch does not say who the user is (sub).",
        "The launch does not name its resource link.",
    ]


def test_retry_delay_doubles_from_a_minute_up_to_six_hours():
    delays = [rules.retry_delay(n) for n in (1, 2, 3, 4, 20)]
    assert delays == [
        timedelta(minutes=1),
        timedelta(minutes=2),
        timedelta(minutes=4),
        timedelta(minutes=8),
        timedelta(hours=6),
    ]


def test_scores_url_goes_before_the_query_string():
    assert rules.scores_url(
        "https://m.edu/mod/lti/services.php/2/lineitems/5/lineitem?type_id=1"
    ) == ("https://m.edu/mod/lti/services.php/2/lineitems/5/lineitem/scores?type_id=1")
    assert rules.scores_url("https://c.edu/api/lti/courses/1/line_items/3/") == (
        "https://c.edu/api/lti/courses/1/line_items/3/scores"
    )


def test_display_name_falls_back_to_given_and_family_then_email():
    assert rules.display_name({"given_name": "Ana", "family_name": "Ruiz"}) == "Ana Ruiz"
    assert rules.display_name({"email": "kim@school.edu"}) == "kim"
