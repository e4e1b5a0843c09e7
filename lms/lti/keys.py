"""The tool's RSA key pair: generated once, kept in the database, public half served as JWKS."""

from __future__ import annotations

import json
import secrets
from datetime import datetime
from typing import Any

import jwt
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from jwt.algorithms import RSAAlgorithm
from sqlalchemy import select

from lms.extensions import db
from lms.lti.models import LtiToolKey


def current_key(now: datetime) -> LtiToolKey:
    """The newest key of the tool, generated (and flushed) the first time it is needed."""
    key = db.session.scalar(select(LtiToolKey).order_by(LtiToolKey.id.desc()).limit(1))
    if key is None:
        key = generate_key(now)
    return key


def generate_key(now: datetime) -> LtiToolKey:
    """A new 2048-bit RSA key; older keys stay published so tokens they signed still verify."""
    private = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    pem = private.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    ).decode()
    key = LtiToolKey(kid=secrets.token_urlsafe(16), private_key_pem=pem, created_at=now)
    db.session.add(key)
    db.session.flush()
    return key


def public_jwks(now: datetime) -> dict[str, Any]:
    """The JSON Web Key Set of every tool key (public parts only)."""
    current_key(now)
    keys = []
    for key in db.session.scalars(select(LtiToolKey).order_by(LtiToolKey.id.desc())):
        private = serialization.load_pem_private_key(key.private_key_pem.encode(), None)
        jwk = json.loads(RSAAlgorithm.to_jwk(private.public_key()))
        jwk.update({"kid": key.kid, "alg": "RS256", "use": "sig"})
        keys.append(jwk)
    return {"keys": keys}


def sign(claims: dict[str, Any], now: datetime) -> str:
    """A JWT of ``claims`` signed RS256 with the tool's current key."""
    key = current_key(now)
    return jwt.encode(claims, key.private_key_pem, algorithm="RS256", headers={"kid": key.kid})
