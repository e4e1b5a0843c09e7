"""The school's signing keys: one store for every token the app signs (Open Badges 3.0
credentials, LTI messages and client assertions), one JWK set that publishes them.

Keys are RSA (RS256, which OB 3.0 and LTI 1.3 both require verifiers to support), kept as PEM
files in ``LMS_SIGNING_KEY_DIR`` (default ``instance/keys/``, each file mode 0600), never in
the database, so a database dump carries no private key. A key is named (``kid``) by a URL a
verifier can follow: the JWK set's address with the key's RFC 7638 thumbprint as fragment.
The newest key signs; every key in
the folder is published, so a token signed before a rotation still verifies. Rotation is
``flask --app lms keys rotate``; a key is dropped from publication (once nothing it signed is
still in use) with ``flask --app lms keys retire KID``, which moves its file to ``retired/``.

``LMS_SIGNING_KEY_PEM`` gives a key in the environment instead (several hosts then sign with
the same key): it signs, and is published beside the folder's. A key file from before the
store (``LMS_SIGNING_KEY_FILE``, or ``instance/signing_key.pem``) is still published, and
signs until a newer key exists.
"""

from __future__ import annotations

import base64
import hashlib
import json
import os
import threading
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import jwt
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from flask import Flask, current_app
from jwt.algorithms import RSAAlgorithm

from lms import links

ALGORITHM = "RS256"
KEY_BITS = 2048
STORE_EXTENSION = "lms.signing_keys"


class SignatureInvalid(ValueError):
    """A token that none of the published keys signed, or that was changed since."""


@dataclass(frozen=True)
class SigningKey:
    """One RSA key pair and its id (the RFC 7638 thumbprint of its public half)."""

    kid: str
    private: rsa.RSAPrivateKey
    source: str  # where it came from: a file name, or "environment"

    def public_jwk(self) -> dict[str, Any]:
        """The public half as a JWK, with its id (as a URL), algorithm and use."""
        jwk = json.loads(RSAAlgorithm.to_jwk(self.private.public_key()))
        return {**jwk, "kid": key_url(self.kid), "alg": ALGORITHM, "use": "sig"}


def key_url(kid: str) -> str:
    """The key's id as a URL a verifier can follow: the JWK set's address, with the key's
    thumbprint as the fragment (``https://school/.well-known/jwks.json#<thumbprint>``)."""
    return f"{links.external_url('keys.jwks')}#{kid}"


def thumbprint(public: rsa.RSAPublicKey) -> str:
    """RFC 7638: the SHA-256 of the key's required members in lexicographic order."""
    jwk = json.loads(RSAAlgorithm.to_jwk(public))
    canonical = json.dumps(
        {"e": jwk["e"], "kty": "RSA", "n": jwk["n"]}, separators=(",", ":"), sort_keys=True
    )
    digest = hashlib.sha256(canonical.encode()).digest()
    return base64.urlsafe_b64encode(digest).rstrip(b"=").decode()


def _loaded(pem: bytes, source: str) -> SigningKey:
    private = serialization.load_pem_private_key(pem, password=None)
    if not isinstance(private, rsa.RSAPrivateKey):
        raise ValueError(f"{source} is not an RSA private key")
    return SigningKey(thumbprint(private.public_key()), private, source)


def _pem(private: rsa.RSAPrivateKey) -> bytes:
    return private.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )


class KeyStore:
    """The keys of one deployment: a folder of PEM files, plus a key from the environment."""

    def __init__(
        self, folder: Path, pem: str | None = None, legacy_file: Path | None = None
    ) -> None:
        self.folder = folder
        self.pem = pem
        self.legacy_file = legacy_file
        self._lock = threading.Lock()
        self._cache: tuple[tuple[Any, ...], list[SigningKey]] | None = None

    def _files(self) -> list[Path]:
        if not self.folder.is_dir():
            return []
        return sorted(self.folder.glob("*.pem"))  # names start with their creation time

    def _stamp(self) -> tuple[Any, ...]:
        files = self._files()
        legacy = self.legacy_file if self.legacy_file and self.legacy_file.exists() else None
        return (tuple((p.name, p.stat().st_mtime_ns) for p in files), legacy, self.pem)

    def published(self) -> list[SigningKey]:
        """Every published key, the one that signs first (read again when the folder changes)."""
        stamp = self._stamp()
        with self._lock:
            if self._cache is not None and self._cache[0] == stamp:
                return self._cache[1]
        found = [_loaded(path.read_bytes(), path.name) for path in reversed(self._files())]
        if self.legacy_file is not None and self.legacy_file.exists():
            found.append(_loaded(self.legacy_file.read_bytes(), self.legacy_file.name))
        if self.pem:
            found.insert(0, _loaded(self.pem.encode(), "environment"))
        seen: set[str] = set()
        unique = []
        for key in found:  # the same key named twice (a file and the environment) once
            if key.kid not in seen:
                seen.add(key.kid)
                unique.append(key)
        with self._lock:
            self._cache = (stamp, unique)
        return unique

    def current(self) -> SigningKey:
        """The key that signs: the newest, made on first use when there is none."""
        keys = self.published()
        return keys[0] if keys else self.rotate()

    def rotate(self, now: datetime | None = None) -> SigningKey:
        """Make a new key that signs from now on; the older ones stay published."""
        private = rsa.generate_private_key(public_exponent=65537, key_size=KEY_BITS)
        key = SigningKey(thumbprint(private.public_key()), private, "")
        moment = (now or datetime.now(UTC)).strftime("%Y%m%dT%H%M%S%fZ")
        self.folder.mkdir(parents=True, exist_ok=True)
        path = self.folder / f"{moment}-{key.kid}.pem"
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "wb") as handle:
            handle.write(_pem(private))
        return SigningKey(key.kid, private, path.name)

    def retire(self, kid: str) -> Path:
        """Stop publishing a key of the folder (its file moves to ``retired/``)."""
        keys = self.published()
        match = next((key for key in keys if key.kid == kid), None)
        if match is None or not match.source.endswith(f"-{kid}.pem"):
            raise KeyError(f"no key {kid} in {self.folder}")
        if len(keys) == 1:
            raise ValueError("that is the only key: rotate first, so something still signs")
        retired = self.folder / "retired"
        retired.mkdir(exist_ok=True)
        target = retired / match.source
        (self.folder / match.source).rename(target)
        return target

    def jwks(self) -> dict[str, Any]:
        """The JWK set of every published key (public halves only)."""
        return {"keys": [key.public_jwk() for key in self.published()]}

    def sign(self, claims: dict[str, Any], headers: dict[str, Any] | None = None) -> str:
        """A JWT of ``claims`` signed RS256 with the current key (its ``kid`` in the header)."""
        key = self.current()
        return jwt.encode(
            claims,
            key.private,
            algorithm=ALGORITHM,
            headers={**(headers or {}), "kid": key_url(key.kid)},
        )


def verify(token: str, key_set: dict[str, Any], **options: Any) -> dict[str, Any]:
    """The claims of a JWT that a key of ``key_set`` signed (RS256 only), or
    ``SignatureInvalid``. ``options`` go to PyJWT (``audience``, ``leeway`` ...)."""
    try:
        kid = str(jwt.get_unverified_header(token).get("kid") or "")
        keys = jwt.PyJWKSet.from_dict(key_set).keys
        # A key is known by its thumbprint, the fragment of its URL (the address before it may
        # be spelled another way, e.g. a development host by name or by number).
        key = next((k for k in keys if _thumb(k.key_id) == _thumb(kid)), None)
        if key is None:
            raise SignatureInvalid("the token names a key that is not published")
        return jwt.decode(token, key=key, algorithms=[ALGORITHM], **options)
    except (jwt.PyJWTError, ValueError) as error:
        if isinstance(error, SignatureInvalid):
            raise
        raise SignatureInvalid(f"the signature does not verify: {error}") from error


def _thumb(kid: str | None) -> str:
    return (kid or "").rsplit("#", 1)[-1]


def store() -> KeyStore:
    """The app's key store (made once per app from its configuration)."""
    found = current_app.extensions.get(STORE_EXTENSION)
    if found is None:
        found = _store_for(current_app)
        current_app.extensions[STORE_EXTENSION] = found
    return found


def _store_for(app: Flask) -> KeyStore:
    instance = Path(app.instance_path)
    folder = app.config.get("SIGNING_KEY_DIR") or instance / "keys"
    legacy = app.config.get("SIGNING_KEY_FILE") or instance / "signing_key.pem"
    return KeyStore(Path(folder), app.config.get("SIGNING_KEY_PEM"), Path(legacy))
