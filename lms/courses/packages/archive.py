"""Reading an untrusted zip safely: no path that leaves the archive, no symlink, no zip bomb
(a limit on each member's compression ratio, on the total unpacked size and on the number
of members), and XML parsed with entities and DTDs refused."""

from __future__ import annotations

import io
import posixpath
import stat
import zipfile
from dataclasses import dataclass
from xml.etree.ElementTree import Element  # noqa: S405 - the type only; parsing is defused

import defusedxml.ElementTree as SafeET
from defusedxml import DefusedXmlException

from lms.courses.packages import PackageError


@dataclass(frozen=True)
class ZipLimits:
    """How much one package may unpack to."""

    max_members: int = 5000
    max_total: int = 200 * 1024 * 1024  # bytes, unpacked
    max_ratio: int = 100  # unpacked size / packed size, per member (above 1 MiB)


def clean_name(name: str) -> str:
    """A member's name, checked: relative, inside the archive, no backslash tricks."""
    if not name or name.startswith(("/", "\\")) or (len(name) > 1 and name[1] == ":"):
        raise PackageError(name or "(empty name)", "an absolute path is not allowed in a package")
    if "\\" in name or "\x00" in name:
        raise PackageError(name, "a backslash or NUL in a file name is not allowed")
    parts = name.split("/")
    if ".." in parts:
        raise PackageError(name, "a path with '..' is not allowed in a package")
    normal = posixpath.normpath(name)
    if normal.startswith("../") or normal == "..":
        raise PackageError(name, "the path leaves the package")
    return normal


class SafeZip:
    """The members of a zip, every name and size checked before anything is read."""

    def __init__(self, data: bytes, filename: str, limits: ZipLimits | None = None) -> None:
        self.filename = filename
        limits = limits or ZipLimits()
        try:
            self._zip = zipfile.ZipFile(io.BytesIO(data))
        except (zipfile.BadZipFile, ValueError) as error:
            raise PackageError(filename, f"not a zip file ({error})") from error
        infos = self._zip.infolist()
        if len(infos) > limits.max_members:
            raise PackageError(filename, f"more than {limits.max_members} files in the zip")
        self._members: dict[str, zipfile.ZipInfo] = {}
        total = 0
        for info in infos:
            name = clean_name(info.filename)
            mode = info.external_attr >> 16
            if stat.S_ISLNK(mode):
                raise PackageError(info.filename, "a symbolic link is not allowed in a package")
            if info.is_dir():
                continue
            total += info.file_size
            if total > limits.max_total:
                raise PackageError(
                    info.filename,
                    f"the package unpacks to more than {limits.max_total // (1024 * 1024)} MiB",
                )
            ratio = info.file_size / max(info.compress_size, 1)
            if info.file_size > 1024 * 1024 and ratio > limits.max_ratio:
                raise PackageError(
                    info.filename,
                    f"compressed {ratio:.0f} to 1, above the limit of {limits.max_ratio} to 1 "
                    "(a zip bomb?)",
                )
            if name in self._members:
                raise PackageError(info.filename, "the file is in the zip twice")
            self._members[name] = info
        self.limits = limits

    def names(self) -> list[str]:
        """Every file's (checked) name, in the zip's order."""
        return list(self._members)

    def has(self, name: str) -> bool:
        return name in self._members

    def read(self, name: str, element: str = "") -> bytes:
        """A member's bytes; never more than its declared size (a lying header is refused)."""
        info = self._members.get(name)
        if info is None:
            where = f"{element}: " if element else ""
            raise PackageError(name, f"{where}the file is named but not in the zip")
        with self._zip.open(info) as handle:
            data = handle.read(info.file_size + 1)
        if len(data) != info.file_size:
            raise PackageError(name, "the file's size differs from the zip's header")
        return data

    def read_text(self, name: str, element: str = "") -> str:
        try:
            return self.read(name, element).decode("utf-8")
        except UnicodeDecodeError as error:
            raise PackageError(name, f"not UTF-8 text ({error.reason})") from error


def parse_xml(data: bytes, name: str) -> Element:
    """The root of an XML file; entities, DTDs and external references are refused."""
    try:
        return SafeET.fromstring(data, forbid_dtd=True)
    except DefusedXmlException as error:
        raise PackageError(
            name, f"the XML declares a DTD or entities, which are refused ({type(error).__name__})"
        ) from error
    except SafeET.ParseError as error:
        raise PackageError(name, f"not well-formed XML ({error})") from error


def local(tag: str) -> str:
    """An element's name without its namespace."""
    return tag.rsplit("}", 1)[-1]
