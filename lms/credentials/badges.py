"""Open Badges 3.0: each readiness certificate as an AchievementCredential, signed by the
school's key as a VC-JWT (OB 3.0 section 8.2: the payload is the credential itself, with the
registered claims iss, jti, sub, nbf and exp). The header's ``kid`` is a URL a verifier can
follow to the key (``lms.signing``)."""

from __future__ import annotations

import hashlib
import uuid
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from lms import signing
from lms.credentials.certificates import status_list, wording
from lms.credentials.models import Certificate

ALGORITHM = signing.ALGORITHM  # RS256: the algorithm OB 3.0 requires every verifier to support
CONTEXT = [
    "https://www.w3.org/ns/credentials/v2",
    "https://purl.imsglobal.org/spec/ob/v3p0/context-3.0.3.json",
]
SignatureInvalid = signing.SignatureInvalid


def _iso(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%dT%H:%M:%SZ")


@dataclass(frozen=True)
class IssuerProfile:
    """Who issues the badges: the school, at its public address."""

    base_url: str  # without a trailing slash
    name: str

    def profile(self) -> dict[str, Any]:
        """The issuer as a credential names it (an OB 3.0 ``Profile``)."""
        base = self.base_url
        return {"id": f"{base}/", "type": ["Profile"], "name": self.name, "url": f"{base}/"}


def achievement_credential(
    certificate: Certificate, issuer: IssuerProfile, salt: str | None = None
) -> dict[str, Any]:
    """The OB 3.0 AchievementCredential of a loaded certificate (student, credential and
    requirement set loaded). The student is named by a salted hash of their email."""
    credential = certificate.credential
    base = issuer.base_url
    # The achievement is the same for every holder: its words name none.
    words = wording.of_certificate(certificate, issuer.name, named=False)
    # A salt fixed per certificate, so every download of it is the same credential.
    salt = salt or hashlib.sha256(f"salt:{certificate.code}".encode()).hexdigest()[:16]
    identity = hashlib.sha256((certificate.student.email.lower() + salt).encode()).hexdigest()
    data: dict[str, Any] = {
        "@context": CONTEXT,
        "id": f"{base}/verify/{certificate.code}",
        "type": ["VerifiableCredential", "OpenBadgeCredential"],
        "name": words.title,
        "issuer": issuer.profile(),
        "validFrom": _iso(certificate.issued_at),
        "credentialSubject": {
            # A name for the holder in this credential only: derived from the certificate, so
            # two credentials of one student cannot be linked by it.
            "id": f"urn:uuid:{uuid.uuid5(uuid.NAMESPACE_URL, f'{base}/verify/{certificate.code}')}",
            "type": ["AchievementSubject"],
            "identifier": [
                {
                    "type": "IdentityObject",
                    "hashed": True,
                    "identityHash": f"sha256${identity}",
                    "identityType": "emailAddress",
                    "salt": salt,
                }
            ],
            "achievement": {
                "id": f"{base}/credentials/{credential.code}/readiness",
                "type": ["Achievement"],
                "name": words.title,
                "description": f"{words.body} {words.disclaimer} {words.attribution}",
                "criteria": {
                    "narrative": (
                        f"Version {certificate.requirement_set.version} of "
                        f"{wording.possessive(issuer.name)} preparation requirements for the "
                        f"{wording.exam(credential.issuing_body, credential.code)}, all met. "
                        f"{words.disclaimer}"
                    )
                },
            },
        },
    }
    if certificate.expires_at is not None:
        data["validUntil"] = _iso(certificate.expires_at)
    # Where a verifier finds out whether it was revoked since (W3C Bitstring Status List).
    data["credentialStatus"] = status_list.status_entry(base, certificate.id)
    return data


def sign_credential(credential: dict[str, Any], keys: signing.KeyStore) -> str:
    """The VC-JWT of a credential: its members as the payload, plus the registered claims."""
    claims = dict(credential)
    claims["iss"] = credential["issuer"]["id"]
    claims["jti"] = credential["id"]
    claims["sub"] = credential["credentialSubject"]["id"]
    claims["nbf"] = int(datetime.fromisoformat(credential["validFrom"]).timestamp())
    if "validUntil" in credential:
        claims["exp"] = int(datetime.fromisoformat(credential["validUntil"]).timestamp())
    return keys.sign(claims, headers={"typ": "JWT"})


def verify_token(token: str, jwks: dict[str, Any]) -> dict[str, Any]:
    """The claims of a VC-JWT whose signature one of the published keys verifies, or
    ``SignatureInvalid`` (its times are not judged here)."""
    return signing.verify(token, jwks, options={"verify_exp": False, "verify_nbf": False})
