"""A certificate's public code: 160 random bits, printed in readable groups."""

from __future__ import annotations

import base64
import re
import secrets

CODE_BYTES = 20  # 160 bits from the CSPRNG
CODE_GROUP = 4


def new_certificate_code() -> str:
    """A public code of 160 random bits, in groups of four: ``ABCD-EFGH-...``."""
    raw = base64.b32encode(secrets.token_bytes(CODE_BYTES)).decode()
    return "-".join(raw[i : i + CODE_GROUP] for i in range(0, len(raw), CODE_GROUP))


def normalise_code(code: str) -> str | None:
    """The canonical form of a typed or scanned code, or None if it cannot be one."""
    letters = re.sub(r"[\s-]", "", code).upper()
    if len(letters) != CODE_BYTES * 8 // 5 or not re.fullmatch(r"[A-Z2-7]+", letters):
        return None
    return "-".join(letters[i : i + CODE_GROUP] for i in range(0, len(letters), CODE_GROUP))
