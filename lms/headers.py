"""Response headers shared by every download: a file name in any script."""

from __future__ import annotations

import re
import unicodedata
from urllib.parse import quote


def download_names(filename: str) -> dict[str, str]:
    """``Content-Disposition`` parameters for a file name in any script: RFC 6266's
    ``filename*=UTF-8''...`` (RFC 5987) beside a plain ASCII ``filename`` for old clients.
    A header is Latin-1: "Кодирование ICD-10" written as it is was a 500."""
    ascii_name = unicodedata.normalize("NFKD", filename).encode("ascii", "ignore").decode()
    stem, dot, extension = ascii_name.rpartition(".")
    if not dot:
        stem, extension = extension, ""
    stem = re.sub(r"-{2,}", "-", re.sub(r"[^A-Za-z0-9._-]", "-", stem)).strip("-.") or "download"
    names = {"filename": stem + dot + extension}
    if names["filename"] != filename:
        names["filename*"] = "UTF-8''" + quote(filename, safe="")
    return names
