"""One-time secrets (reset links, invitations, API tokens, LTI link requests): made from a
CSPRNG, mailed or shown once, and stored only as their SHA-256."""

from __future__ import annotations

import hashlib
import secrets


def new_secret() -> str:
    """A fresh 256-bit secret, URL-safe."""
    return secrets.token_urlsafe(32)


def hash_secret(secret: str) -> str:
    """The stored form of a secret: its SHA-256 in hex."""
    return hashlib.sha256(secret.encode()).hexdigest()


def same_secret(secret: str | None, stored_hash: str | None) -> bool:
    """True when ``secret`` hashes to ``stored_hash`` (compared in constant time)."""
    if not secret or not stored_hash:
        return False
    return secrets.compare_digest(hash_secret(secret), stored_hash)
