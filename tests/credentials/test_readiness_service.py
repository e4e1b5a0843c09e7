"""Facts for the new leaves, gathered in a fixed number of queries; the signing key from
configuration."""

import json
from datetime import timedelta

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from jwt.algorithms import RSAAlgorithm

from lms import signing
from lms.auth.models import Role
from lms.credentials import service as credentials
from tests import factories
from tests.conftest import count_queries

TREE = {
    "type": "all_of",
    "children": [
        {"type": "course_completed", "course": "TERM"},
        {"type": "assessment_score", "module": "EXAM-1", "min_score": 80, "within_days": 30},
        {"type": "experience_months", "min_months": 6},
        {"type": "evidence", "kind": "membership"},
    ],
}


def test_readiness_of_a_cohort_takes_the_same_queries_for_one_or_many(app):
    factories.course("TERM", modules=2)
    factories.course("EXAM", modules=1)
    credential = factories.credential("CPC", tree=TREE)
    students = [factories.user(Role.STUDENT) for _ in range(6)]
    for student in students:
        factories.pass_module(student, "TERM-1")
        factories.pass_module(student, "EXAM-1", when=factories.NOW - timedelta(days=40))
    ids = [s.id for s in students]
    assert credential.id  # loaded before counting
    with count_queries() as one:
        credentials.evaluate_readiness(credential, ids[:1], factories.NOW)
    with count_queries() as many:
        result = credentials.evaluate_readiness(credential, ids, factories.NOW)
    # requirements, modules, courses, completions, attempts summed per module, the attempts
    # of the assessed module, evidence, contact hours, overrides
    assert len(many) == len(one) <= 9
    unmet = [leaf.explanation for leaf in result.outcomes[ids[3]].unmet()]
    assert unmet == [
        "Complete every module of Course TERM (TERM): 1 of 2 modules done",
        "Score 80% or more on Module 1 of EXAM (EXAM-1) within the last 30 days: "
        "your best, 100%, is older than that",
        "Have 6 months of verified coding experience: none verified yet",
        "Have your membership of the certifying body verified: not submitted yet",
    ]


def test_signing_key_from_configuration_is_used_and_published(app, client):
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    app.config["SIGNING_KEY_PEM"] = key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    ).decode()
    app.extensions.pop(signing.STORE_EXTENSION, None)
    try:
        published = client.get("/.well-known/jwks.json").get_json()["keys"][0]
        assert published["kid"].endswith("#" + signing.thumbprint(key.public_key()))
        assert published["n"] == json.loads(RSAAlgorithm.to_jwk(key.public_key()))["n"]
    finally:
        app.extensions.pop(signing.STORE_EXTENSION, None)
