"""Bad packages and cartridges: a clear message naming the file and the element, and nothing
written (issue 17, "Bad input")."""

from __future__ import annotations

import io
import json
import stat
import zipfile
from datetime import UTC, datetime

import pytest

from lms.courses.packages import importer, native
from lms.courses.packages.archive import SafeZip, ZipLimits
from lms.demo.seed import course_data
from lms.extensions import db
from tests.courses.packages.cartridges import FIXTURES, cartridge
from tests.courses.packages.helpers import course_count, files_of, make_zip

NOW = datetime(2026, 12, 5, 9, 0, tzinfo=UTC)


@pytest.fixture
def package(app) -> bytes:
    """The package of the demo's anatomy course, exported from a database that is then
    emptied of courses (so an import of it would succeed)."""
    importer.import_course(course_data("anatomy-physiology.toml"), actor=None, now=NOW)
    db.session.flush()
    body = native.export_course("AP", NOW)
    db.session.rollback()
    assert course_count() == 0
    return body


def run_import(runner, tmp_path, body: bytes, name: str = "course.zip", *args: str):
    path = tmp_path / name
    path.write_bytes(body)
    return runner.invoke(args=["import-course", str(path), *args])


def refused(result, *words: str) -> None:
    assert result.exit_code != 0, result.output
    assert "Nothing imported" in result.output
    for word in words:
        assert word in result.output, result.output
    assert course_count() == 0


def test_a_good_package_imports(runner, tmp_path, package):
    result = run_import(runner, tmp_path, package)
    assert result.exit_code == 0, result.output
    assert "Course AP imported." in result.output
    assert course_count() == 1


def test_dot_dot_in_a_path_is_refused(runner, tmp_path, package):
    files = files_of(package) | {"../evil.md": b"x"}
    refused(run_import(runner, tmp_path, make_zip(files)), "../evil.md", "'..'")


def test_an_absolute_path_is_refused(runner, tmp_path, package):
    files = files_of(package) | {"/etc/evil": b"x"}
    refused(run_import(runner, tmp_path, make_zip(files)), "/etc/evil", "absolute path")


def test_a_symlink_is_refused(runner, tmp_path, package):
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as archive:
        for name, body in files_of(package).items():
            archive.writestr(name, body)
        link = zipfile.ZipInfo("lessons/link.md")
        link.external_attr = (stat.S_IFLNK | 0o777) << 16
        archive.writestr(link, "/etc/passwd")
    refused(run_import(runner, tmp_path, out.getvalue()), "lessons/link.md", "symbolic link")


def test_a_zip_bomb_is_refused_by_its_ratio(runner, tmp_path, package):
    files = files_of(package) | {"media/zeros.bin": b"\0" * (20 * 1024 * 1024)}
    refused(run_import(runner, tmp_path, make_zip(files)), "media/zeros.bin", "zip bomb")


def test_a_package_too_large_unpacked_is_refused(package):
    with pytest.raises(native.PackageError) as caught:
        SafeZip(package, "course.zip", ZipLimits(max_total=1000))
    assert "unpacks to more than" in str(caught.value)


def test_a_manifest_naming_a_missing_file_is_refused(runner, tmp_path, package):
    files = files_of(package)
    del files["lessons/01-AP-1.md"]
    refused(
        run_import(runner, tmp_path, make_zip(files)),
        "lessons/01-AP-1.md",
        "manifest.json: files",
        "not in the zip",
    )


def test_a_cartridge_naming_a_missing_file_is_refused(runner, tmp_path):
    with zipfile.ZipFile(io.BytesIO(cartridge("moodle"))) as archive:
        files = {n: archive.read(n) for n in archive.namelist() if not n.endswith("page.html")}
    refused(
        run_import(runner, tmp_path, make_zip(files), "moodle.imscc"),
        "resource_101_page/page.html",
        "resource RES-101",
    )


def test_a_hash_mismatch_is_refused(runner, tmp_path, package):
    files = files_of(package)
    files["lessons/01-AP-1.md"] += b"\nA sentence added after export."
    refused(run_import(runner, tmp_path, make_zip(files)), "lessons/01-AP-1.md", "SHA-256")


def test_an_unknown_format_version_is_refused(runner, tmp_path, package):
    files = files_of(package)
    manifest = json.loads(files["manifest.json"])
    manifest["format_version"] = 99
    files["manifest.json"] = json.dumps(manifest).encode()
    refused(run_import(runner, tmp_path, make_zip(files)), "format_version", "99")


def _with_manifest(xml_head: str) -> bytes:
    original = (FIXTURES / "moodle" / "imsmanifest.xml").read_text()
    body = original.replace('<?xml version="1.0" encoding="UTF-8"?>', xml_head, 1)
    with zipfile.ZipFile(io.BytesIO(cartridge("moodle"))) as archive:
        files = {n: archive.read(n) for n in archive.namelist()}
    files["imsmanifest.xml"] = body.encode()
    return make_zip(files)


def test_an_external_entity_is_refused(runner, tmp_path):
    head = '<?xml version="1.0"?>\n<!DOCTYPE m [<!ENTITY x SYSTEM "file:///etc/passwd">]>'
    refused(run_import(runner, tmp_path, _with_manifest(head), "x.imscc"), "imsmanifest.xml", "DTD")


def test_entity_expansion_is_refused(runner, tmp_path):
    head = (
        '<?xml version="1.0"?>\n<!DOCTYPE m [<!ENTITY a "aaaaaaaaaa">'
        '<!ENTITY b "&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;">]>'
    )
    refused(run_import(runner, tmp_path, _with_manifest(head), "x.imscc"), "imsmanifest.xml", "DTD")


def test_an_existing_code_without_as_is_refused(runner, tmp_path, package):
    assert run_import(runner, tmp_path, package).exit_code == 0
    result = run_import(runner, tmp_path, package)
    assert result.exit_code != 0
    assert "exists already" in result.output and "--as" in result.output
    assert course_count() == 1
    copy = run_import(runner, tmp_path, package, "course.zip", "--as", "AP2")
    assert copy.exit_code == 0, copy.output
    assert course_count() == 2


def test_not_a_zip_is_refused(runner, tmp_path, app):
    refused(run_import(runner, tmp_path, b"hello", "course.zip"), "course.zip", "not a zip")
