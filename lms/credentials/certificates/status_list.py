"""Revocation that a verifier can see: the W3C Bitstring Status List (v1.0).

Every certificate has a place in a status list: list ``id // LIST_BITS``, bit ``id %
LIST_BITS``. Its Open Badges credential names that place (``credentialStatus``, a
``BitstringStatusListEntry``), and ``/credentials/status/<n>`` serves the list as a signed
``BitstringStatusListCredential`` whose ``encodedList`` has the bit of every revoked
certificate set. A verifier holding an old copy of a credential fetches the list and finds it
revoked; nothing in the credential itself ever changes.
"""

from __future__ import annotations

import base64
import gzip
from collections.abc import Iterable
from datetime import datetime
from typing import Any

from sqlalchemy import select

from lms.credentials.models import Certificate, CertificateStatus
from lms.extensions import db

#: Bits in one list: 131,072 (16 KB), the specification's minimum, so that a list says
#: little about any one holder (group privacy).
LIST_BITS = 131_072
PURPOSE = "revocation"


def position(certificate_id: int) -> tuple[int, int]:
    """The list number and the bit of a certificate."""
    return divmod(certificate_id, LIST_BITS)


def list_path(number: int) -> str:
    """The path of a status list under the school's address."""
    return f"/credentials/status/{number}"


def status_entry(base_url: str, certificate_id: int) -> dict[str, Any]:
    """The ``credentialStatus`` of a certificate's credential."""
    number, index = position(certificate_id)
    url = base_url.rstrip("/") + list_path(number)
    return {
        "id": f"{url}#{index}",
        "type": "BitstringStatusListEntry",
        "statusPurpose": PURPOSE,
        "statusListIndex": str(index),
        "statusListCredential": url,
    }


def encode(indices: Iterable[int]) -> str:
    """The ``encodedList`` with these bits set: GZIP, then multibase base64url (no padding).
    Bit 0 is the left-most bit of the first byte."""
    bits = bytearray(LIST_BITS // 8)
    for index in indices:
        bits[index // 8] |= 0x80 >> (index % 8)
    compressed = gzip.compress(bytes(bits), mtime=0)
    return "u" + base64.urlsafe_b64encode(compressed).rstrip(b"=").decode()


def decode(encoded: str) -> bytes:
    """The bitstring of an ``encodedList`` (what a verifier does)."""
    if not encoded.startswith("u"):
        raise ValueError("not a multibase base64url string")
    body = encoded[1:]
    return gzip.decompress(base64.urlsafe_b64decode(body + "=" * (-len(body) % 4)))


def is_set(bits: bytes, index: int) -> bool:
    """Whether bit ``index`` of a bitstring is set."""
    return bool(bits[index // 8] & (0x80 >> (index % 8)))


def revoked_indices(number: int) -> list[int]:
    """The bits of list ``number`` whose certificates are revoked (one query)."""
    first = number * LIST_BITS
    ids = db.session.scalars(
        select(Certificate.id).where(
            Certificate.id >= first,
            Certificate.id < first + LIST_BITS,
            Certificate.status == CertificateStatus.REVOKED,
        )
    )
    return [certificate_id - first for certificate_id in ids]


def list_credential(
    base_url: str, issuer: dict[str, Any], number: int, now: datetime
) -> dict[str, Any]:
    """The ``BitstringStatusListCredential`` of list ``number``, as of ``now``."""
    url = base_url.rstrip("/") + list_path(number)
    return {
        "@context": ["https://www.w3.org/ns/credentials/v2"],
        "id": url,
        "type": ["VerifiableCredential", "BitstringStatusListCredential"],
        "issuer": issuer,
        "validFrom": now.strftime("%Y-%m-%dT%H:%M:%SZ"),
        "credentialSubject": {
            "id": f"{url}#list",
            "type": "BitstringStatusList",
            "statusPurpose": PURPOSE,
            "encodedList": encode(revoked_indices(number)),
        },
    }
