"""Lesson media (issue 16 item 4): uploads checked by their bytes, stored by digest, served
with their type to signed-in readers; lessons name files as media/<file>."""

import hashlib
import io

import pytest
from sqlalchemy import func, select

from lms.auth.models import Role
from lms.courses.markdown import render_markdown
from lms.courses.media import service as media
from lms.courses.media import sniff
from lms.courses.media.models import MediaFile
from lms.courses.models import Course
from lms.courses.packages import load, native
from lms.courses.packages.read_course import course_content
from lms.errors import InvalidInput
from lms.extensions import db
from lms.ledger.models import AuditEvent
from tests import factories
from tests.conftest import csrf_token, login

PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64
MP4 = b"\x00\x00\x00\x18ftypisom" + b"\x00" * 64
VTT = b"WEBVTT\n\n00:00.000 --> 00:02.000\nThe surgeon excises the lesion.\n"


@pytest.fixture
def media_dir(app, tmp_path):
    app.config["MEDIA_DIR"] = str(tmp_path / "media")
    return tmp_path / "media"


def author(client):
    user = factories.user(Role.INSTRUCTOR)
    user.content_author = True
    db.session.commit()
    login(client, user.email)
    return user


def upload(client, course_id, name, data, **environ):
    return client.post(
        f"/courses/{course_id}/media",
        data={"csrf_token": csrf_token(client), "file": (io.BytesIO(data), name)},
        content_type="multipart/form-data",
        environ_overrides=environ or None,
    )


def stored_files(folder):
    return sorted(p.name for p in folder.rglob("*") if p.is_file()) if folder.exists() else []


def count_media():
    return db.session.scalar(select(func.count()).select_from(MediaFile))


def test_an_author_uploads_an_image_and_a_reader_gets_it_with_its_type(app, client, media_dir):
    course = factories.course("SURG", modules=1)
    author(client)
    done = upload(client, course.id, "ulcer.png", PNG)
    assert done.status_code == 302
    page = client.get(f"/courses/{course.id}/media").get_data(as_text=True)
    assert "![describe the image](media/ulcer.png)" in page
    assert stored_files(media_dir) == [hashlib.sha256(PNG).hexdigest()]
    assert (
        db.session.scalar(
            select(func.count())
            .select_from(AuditEvent)
            .where(AuditEvent.action == "media.uploaded")
        )
        == 1
    )

    reader = app.test_client()
    anonymous = reader.get(f"/courses/{course.id}/media/ulcer.png")
    assert anonymous.status_code in (302, 401)
    login(reader, factories.user(Role.STUDENT).email)
    served = reader.get(f"/courses/{course.id}/media/ulcer.png")
    assert served.status_code == 200 and served.data == PNG
    assert served.headers["Content-Type"] == "image/png"
    assert served.headers["X-Content-Type-Options"] == "nosniff"
    assert reader.get(f"/courses/{course.id}/media/other.png").status_code == 404
    course = db.session.get(Course, course.id)
    course.archived_at = factories.NOW  # an archived course's files leave students too
    db.session.commit()
    assert reader.get(f"/courses/{course.id}/media/ulcer.png").status_code == 404


@pytest.mark.parametrize(
    ("name", "data", "message"),
    [
        ("handout.pdf", PNG, "content is image/png, but its name ends in .pdf"),
        ("chart.png", b"<!doctype html><html><script>x()</script>", "HTML is not a media file"),
        ("diagram.svg", b'<?xml version="1.0"?><svg xmlns="x"></svg>', "SVG images are refused"),
        ("lecture.mp4", MP4, "A video needs captions or a transcript (WCAG 1.2)"),
        ("my ulcer!.png", PNG, "Name the file with letters, digits"),
    ],
)
def test_a_file_whose_bytes_or_name_do_not_fit_is_refused_nothing_written(
    app, client, media_dir, name, data, message
):
    course = factories.course("SURG", modules=1)
    author(client)
    refused = upload(client, course.id, name, data)
    assert refused.status_code == 400
    assert message in refused.get_data(as_text=True).replace("&#39;", "'")
    assert count_media() == 0
    assert stored_files(media_dir) == []


def test_a_video_is_taken_once_its_captions_are_there(app, client, media_dir):
    course = factories.course("SURG", modules=1)
    author(client)
    assert upload(client, course.id, "lecture.vtt", VTT).status_code == 302
    assert upload(client, course.id, "lecture.mp4", MP4).status_code == 302
    video = db.session.scalar(select(MediaFile).where(MediaFile.kind == "video"))
    assert video.captions_id is not None


def test_an_upload_over_the_form_limit_is_refused_unread_with_the_limit_beside_the_field(
    app, client, media_dir
):
    """A 200 MB video is over the form's limit (16 MB by default): the body is never read and
    the page says so beside the file field (here with the limit lowered to 4 KB)."""
    course = factories.course("SURG", modules=1)
    author(client)
    app.config["MAX_CONTENT_LENGTH"] = 4096
    refused = upload(client, course.id, "big.mp4", MP4 + b"\x00" * 8192)
    assert refused.status_code == 413
    assert "The file is too large" in refused.get_data(as_text=True)
    assert count_media() == 0 and stored_files(media_dir) == []


def test_a_file_over_its_kind_s_limit_is_refused(app, media_dir, monkeypatch):
    """Each kind has its own limit (a video 100 MB), whatever the form lets through."""
    course = factories.course("SURG", modules=1)
    media.store_media(course, "lecture.vtt", VTT, None, factories.NOW)
    monkeypatch.setitem(sniff.LIMITS, "video", 64)
    with pytest.raises(InvalidInput, match="A video file is at most"):
        media.store_media(course, "lecture.mp4", MP4, None, factories.NOW)
    assert count_media() == 1


def test_an_instructor_who_is_not_an_author_cannot_upload(app, client, media_dir):
    course = factories.course("SURG", modules=1)
    login(client, factories.user(Role.INSTRUCTOR).email)
    assert upload(client, course.id, "ulcer.png", PNG).status_code == 403
    assert count_media() == 0


def test_lessons_name_media_portably_and_images_need_alt_text(app, media_dir):
    course = factories.course("SURG", modules=1)
    media.store_media(course, "ulcer.png", PNG, None, factories.NOW)
    html = str(render_markdown("![Stage 3 ulcer](media/ulcer.png)", media_base="/c/1/media/"))
    assert 'src="/c/1/media/ulcer.png"' in html and 'alt="Stage 3 ulcer"' in html
    problems = media.markdown_media_problems(
        course, "![](media/ulcer.png)\n\n[Handout](media/handout.pdf)"
    )
    assert [p.message for p in problems] == [
        "The image media/ulcer.png needs alt text: ![what it shows](media/ulcer.png).",
        "The course has no file handout.pdf: upload it first.",
    ]
    assert media.markdown_media_problems(course, "![Stage 3 ulcer](media/ulcer.png)") == []


def test_a_course_package_carries_its_media_there_and_back(app, media_dir):
    course = factories.course("SURG", modules=1)
    media.store_media(course, "ulcer.png", PNG, None, factories.NOW)
    db.session.commit()
    data, files = course_content("SURG")
    assert files == {"ulcer.png": PNG}
    package = native.build(data, files, factories.NOW)
    report = load.read_any(package, "surg.zip")
    assert report.media == {"ulcer.png": PNG}
    copy = load.import_report(report, actor=None, now=factories.NOW, as_code="SURG2")
    db.session.commit()
    again = db.session.scalar(select(Course).where(Course.id == copy.id))
    assert [m.filename for m in media.list_media(again)] == ["ulcer.png"]


def test_with_a_bucket_configured_media_live_in_it_and_are_served_from_it(
    app, client, tmp_path, monkeypatch
):
    """An S3-compatible bucket (moto's in-process S3 here): uploads go to it by digest,
    nothing goes to disk, reads come from it, and a changed object is refused, not served."""
    moto = pytest.importorskip("moto")
    import boto3

    for name, value in {
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",  # noqa: S105 - moto's fake credentials
        "AWS_DEFAULT_REGION": "us-east-1",
    }.items():
        monkeypatch.setenv(name, value)
    app.config.update(
        MEDIA_DIR=str(tmp_path / "unused"), MEDIA_S3_BUCKET="school-media", MEDIA_S3_PREFIX="m/"
    )
    with moto.mock_aws():
        s3 = boto3.client("s3", region_name="us-east-1")
        s3.create_bucket(Bucket="school-media")
        course = factories.course("SURG", modules=1)
        author(client)
        assert upload(client, course.id, "ulcer.png", PNG).status_code == 302
        digest = hashlib.sha256(PNG).hexdigest()
        keys = [o["Key"] for o in s3.list_objects_v2(Bucket="school-media")["Contents"]]
        assert keys == [f"m/{digest}"] and stored_files(tmp_path / "unused") == []
        served = client.get(f"/courses/{course.id}/media/ulcer.png")
        assert served.status_code == 200 and served.data == PNG
        assert upload(client, course.id, "same.png", PNG).status_code == 302  # one copy
        assert len(s3.list_objects_v2(Bucket="school-media")["Contents"]) == 1
        s3.put_object(Bucket="school-media", Key=f"m/{digest}", Body=b"tampered")
        assert client.get(f"/courses/{course.id}/media/ulcer.png").status_code == 404
    app.extensions.pop("lms_media_s3", None)
