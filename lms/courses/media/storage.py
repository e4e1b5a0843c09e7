"""Where media bytes live: ``instance/media/<first two hex>/<sha256>``, one copy per content
(see docs/DEPLOYMENT.md). A file is written before the row that names it; a refused request
leaves at most an unreferenced file, never a row without its bytes."""

from __future__ import annotations

import hashlib
import os
import tempfile
from pathlib import Path

from flask import current_app


def root() -> Path:
    return Path(current_app.config.get("MEDIA_DIR") or Path(current_app.instance_path) / "media")


def path_of(sha256: str) -> Path:
    return root() / sha256[:2] / sha256


def put(data: bytes) -> str:
    """Store bytes by their SHA-256 (atomically: a temporary file renamed); the digest."""
    digest = hashlib.sha256(data).hexdigest()
    target = path_of(digest)
    if target.exists():
        return digest
    target.parent.mkdir(parents=True, exist_ok=True)
    handle, temporary = tempfile.mkstemp(dir=target.parent, prefix=".upload-")
    with os.fdopen(handle, "wb") as file:
        file.write(data)
    Path(temporary).replace(target)
    return digest


def get(sha256: str) -> bytes:
    return path_of(sha256).read_bytes()
