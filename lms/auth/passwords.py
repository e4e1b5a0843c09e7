"""Password hashing with argon2id (argon2-cffi) and the password policy."""

from __future__ import annotations

from functools import cache

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

MIN_PASSWORD_LENGTH = 12

_hasher = PasswordHasher()


def configure_hashing(time_cost: int | None = None, memory_cost: int | None = None) -> None:
    """Set argon2's cost (memory in KiB); the defaults are argon2-cffi's recommended ones.

    Tests lower the cost to run fast; hashes made with any cost still verify."""
    global _hasher
    defaults = PasswordHasher()
    _hasher = PasswordHasher(
        time_cost=time_cost or defaults.time_cost,
        memory_cost=memory_cost or defaults.memory_cost,
    )
    _dummy_hash.cache_clear()


@cache
def _dummy_hash() -> str:
    return _hasher.hash("a password nobody has")


def hash_password(password: str) -> str:
    """Hash a password for storage."""
    return _hasher.hash(password)


def verify_password(stored_hash: str | None, password: str) -> bool:
    """True when ``password`` matches ``stored_hash``; False for no hash or a bad one."""
    if not stored_hash:
        # Spend the time of a real check, so timing does not tell that an account is missing.
        stored_hash, password = _dummy_hash(), "not the password"
    try:
        return _hasher.verify(stored_hash, password)
    except (VerificationError, InvalidHashError):
        return False


def password_problems(password: str) -> list[str]:
    """Every reason the policy refuses ``password``; empty when it is acceptable."""
    problems = []
    if len(password) < MIN_PASSWORD_LENGTH:
        problems.append(f"Use at least {MIN_PASSWORD_LENGTH} characters.")
    if password.strip() != password:
        problems.append("Do not start or end the password with a space.")
    return problems
