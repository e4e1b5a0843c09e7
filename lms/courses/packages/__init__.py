"""Whole courses in and out: our own course package (a zip with ``manifest.json``) and IMS
Common Cartridge 1.1-1.3 (``.imscc``), read and written.

Every importer turns its file into the content data of ``lms.courses.content.create_course``
(the shape of ``lms/demo/content/*.toml``) and hands it to ``importer.import_course``: the one
path by which a course is created, the demo's included. Reading is pure (bytes in, data and a
report out); only ``importer`` writes, in the caller's transaction."""

from __future__ import annotations


class PackageError(Exception):
    """A package or cartridge that cannot be read: ``where`` names the file and element."""

    def __init__(self, where: str, reason: str) -> None:
        self.where = where
        self.reason = reason
        super().__init__(f"{where}: {reason}")
