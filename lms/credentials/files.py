"""Evidence files: checked by their content, stored under the instance folder by a random
name, and never served from a public URL."""

from __future__ import annotations

import os
import secrets
from dataclasses import dataclass
from pathlib import Path

MAX_FILE_BYTES = 10 * 1024 * 1024

# The first bytes of each accepted format; the extension and the browser's claim are ignored.
SIGNATURES = (
    (b"%PDF-", "application/pdf", ".pdf"),
    (b"\x89PNG\r\n\x1a\n", "image/png", ".png"),
    (b"\xff\xd8\xff", "image/jpeg", ".jpg"),
)


class FileRefused(ValueError):
    """An upload that cannot be kept; the message says why."""


@dataclass(frozen=True)
class StoredFile:
    """Where an upload was kept and what it is."""

    key: str
    name: str
    content_type: str
    size: int


def sniff(content: bytes) -> tuple[str, str] | None:
    """(content type, extension) of a PDF, PNG or JPEG by its first bytes; None otherwise."""
    for magic, content_type, extension in SIGNATURES:
        if content.startswith(magic):
            return content_type, extension
    return None


def check_upload(content: bytes, filename: str) -> tuple[str, str]:
    """The content type and a safe display name of an upload, or ``FileRefused``."""
    if not content:
        raise FileRefused("The file is empty.")
    if len(content) > MAX_FILE_BYTES:
        raise FileRefused("The file is larger than 10 MB. Scan it at a lower resolution.")
    found = sniff(content)
    if found is None:
        raise FileRefused("Only PDF, PNG and JPEG files are accepted, and this file is none.")
    content_type, extension = found
    stem = Path(filename or "").stem
    safe = "".join(ch for ch in stem if ch.isalnum() or ch in " ._-").strip()[:100]
    return content_type, (safe or "evidence") + extension


def store(folder: Path, content: bytes, filename: str) -> StoredFile:
    """Check an upload and write it under ``folder`` by a random name (mode 0600)."""
    content_type, name = check_upload(content, filename)
    folder.mkdir(parents=True, exist_ok=True)
    key = secrets.token_hex(20)
    fd = os.open(folder / key, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "wb") as handle:
        handle.write(content)
    return StoredFile(key=key, name=name, content_type=content_type, size=len(content))


def path_of(folder: Path, key: str) -> Path:
    """The stored file of a key (keys are hex, so they cannot climb out of the folder)."""
    if not key or not all(ch in "0123456789abcdef" for ch in key):
        raise FileRefused("Not a stored file.")
    return folder / key
