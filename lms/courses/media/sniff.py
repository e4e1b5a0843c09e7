"""What a file is, told by its bytes (never by its name), and how large it may be. Pure."""

from __future__ import annotations

import re
from dataclasses import dataclass

MB = 1024 * 1024
LIMITS = {"image": 10 * MB, "pdf": 25 * MB, "audio": 50 * MB, "video": 100 * MB, "captions": MB}
SAFE_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,119}")


@dataclass(frozen=True)
class Sniffed:
    kind: str
    content_type: str


def sniff(data: bytes) -> Sniffed | str:
    """The kind and Content-Type of a file from its first bytes, or why it is refused."""
    head = data[:64]
    if head.startswith(b"\x89PNG\r\n\x1a\n"):
        return Sniffed("image", "image/png")
    if head.startswith(b"\xff\xd8\xff"):
        return Sniffed("image", "image/jpeg")
    if head[:4] == b"RIFF" and head[8:12] == b"WEBP":
        return Sniffed("image", "image/webp")
    if head.startswith((b"GIF87a", b"GIF89a")):
        return Sniffed("image", "image/gif")
    if head.startswith(b"%PDF-"):
        return Sniffed("pdf", "application/pdf")
    if head.startswith(b"ID3") or head[:2] in (b"\xff\xfb", b"\xff\xf3", b"\xff\xf2"):
        return Sniffed("audio", "audio/mpeg")
    if head.startswith(b"OggS"):
        return Sniffed("audio", "audio/ogg")
    if head[:4] == b"RIFF" and head[8:12] == b"WAVE":
        return Sniffed("audio", "audio/wav")
    if head[4:8] == b"ftyp":
        brand = head[8:12]
        if brand in (b"M4A ", b"M4B "):
            return Sniffed("audio", "audio/mp4")
        return Sniffed("video", "video/mp4")
    if head.startswith(b"\x1a\x45\xdf\xa3"):
        return Sniffed("video", "video/webm")
    text = head.lstrip(b"\xef\xbb\xbf").lstrip()
    if text.startswith(b"WEBVTT"):
        return Sniffed("captions", "text/vtt")
    lowered = data[:1024].lower()
    if b"<svg" in lowered:
        return (
            "SVG images are refused: an SVG can carry scripts and links that run in the "
            "reader's browser. Export it as PNG or WebP."
        )
    if b"<html" in lowered or b"<script" in lowered or b"<!doctype" in lowered:
        return "HTML is not a media file: lessons are written in the editor."
    if _is_text(data):
        return Sniffed("captions", "text/plain; charset=utf-8")  # a transcript
    return "The file is not an image (PNG, JPEG, WebP, GIF), PDF, audio, video or captions."


def _is_text(data: bytes) -> bool:
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError:
        return False
    return "\x00" not in text


def name_problem(filename: str, sniffed: Sniffed) -> str | None:
    """Why a file name cannot be kept: unsafe characters, or an extension that says another
    type than the bytes (a PNG named .pdf)."""
    if not SAFE_NAME.fullmatch(filename) or ".." in filename:
        return "Name the file with letters, digits, dots, dashes or underscores (e.g. ulcer.png)."
    extension = filename.rsplit(".", 1)[-1].lower() if "." in filename else ""
    expected = {
        "image/png": {"png"},
        "image/jpeg": {"jpg", "jpeg"},
        "image/webp": {"webp"},
        "image/gif": {"gif"},
        "application/pdf": {"pdf"},
        "audio/mpeg": {"mp3"},
        "audio/ogg": {"ogg", "oga"},
        "audio/wav": {"wav"},
        "audio/mp4": {"m4a"},
        "video/mp4": {"mp4", "m4v"},
        "video/webm": {"webm"},
        "text/vtt": {"vtt"},
        "text/plain; charset=utf-8": {"txt"},
    }[sniffed.content_type]
    if extension not in expected:
        return (
            f"The file's content is {sniffed.content_type.split(';')[0]}, but its name ends in "
            f".{extension or '(nothing)'}: name it .{sorted(expected)[0]}."
        )
    return None
