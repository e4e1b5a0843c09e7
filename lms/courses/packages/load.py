"""Which reader a file needs, and the one call the command line and the upload page make."""

from __future__ import annotations

import io
import zipfile
from datetime import datetime

from lms.auth.models import User
from lms.courses.models import Course
from lms.courses.packages import PackageError, cartridge_in, importer, native
from lms.courses.packages.archive import ZipLimits
from lms.courses.packages.report import ImportReport

MAX_UPLOAD = 100 * 1024 * 1024


def read_any(data: bytes, filename: str, limits: ZipLimits | None = None) -> ImportReport:
    """The report of a course package or a Common Cartridge, told apart by their manifests."""
    try:
        names = set(zipfile.ZipFile(io.BytesIO(data)).namelist())
    except (zipfile.BadZipFile, ValueError) as error:
        raise PackageError(filename, f"not a zip file ({error})") from error
    if "imsmanifest.xml" in names:
        return cartridge_in.read_cartridge(data, filename, limits)
    if native.MANIFEST in names:
        return native.read_package(data, filename, limits)
    raise PackageError(
        filename, "neither manifest.json (a course package) nor imsmanifest.xml (a cartridge)"
    )


def import_report(
    report: ImportReport, *, actor: User | None, now: datetime, as_code: str | None = None
) -> Course:
    """Create the course a report describes, with its media (the caller's transaction)."""
    return importer.import_course(
        report.data,
        actor=actor,
        now=now,
        as_code=as_code,
        source=report.source,
        media=report.media,
    )
