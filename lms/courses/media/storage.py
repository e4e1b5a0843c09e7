"""Where media bytes live, one copy per content, named by its SHA-256 (docs/DEPLOYMENT.md):

- by default under ``instance/media/<first two hex>/<sha256>`` (``MEDIA_DIR`` moves it);
- in an S3-compatible bucket when ``MEDIA_S3_BUCKET`` is set (AWS S3, MinIO, Ceph, R2...):
  the object ``<MEDIA_S3_PREFIX><sha256>``, at ``MEDIA_S3_ENDPOINT_URL`` when given, with the
  credentials boto3 finds (environment, profile, instance role), so every worker and host
  shares the files.

A file is written before the row that names it; a refused request leaves at most an
unreferenced file, never a row without its bytes. Bytes read back are checked against their
digest, so a file changed in the store is refused, not served."""

from __future__ import annotations

import hashlib
import os
import tempfile
from pathlib import Path

from flask import current_app

from lms.errors import NotFound


def root() -> Path:
    return Path(current_app.config.get("MEDIA_DIR") or Path(current_app.instance_path) / "media")


def path_of(sha256: str) -> Path:
    return root() / sha256[:2] / sha256


def _bucket() -> str | None:
    return current_app.config.get("MEDIA_S3_BUCKET") or None


def _s3_client():
    """One boto3 client per app (clients are thread-safe; creating one is slow)."""
    client = current_app.extensions.get("lms_media_s3")
    if client is None:
        import boto3  # only a school that configures a bucket pays for importing it

        config = current_app.config
        client = boto3.client(
            "s3",
            endpoint_url=config.get("MEDIA_S3_ENDPOINT_URL") or None,
            region_name=config.get("MEDIA_S3_REGION") or None,
        )
        current_app.extensions["lms_media_s3"] = client
    return client


def _key(sha256: str) -> str:
    return f"{current_app.config.get('MEDIA_S3_PREFIX', 'media/')}{sha256}"


def put(data: bytes) -> str:
    """Store bytes by their SHA-256 (on disk atomically: a temporary file renamed); the
    digest. Bytes already stored are not written again."""
    digest = hashlib.sha256(data).hexdigest()
    if _bucket():
        _put_s3(digest, data)
        return digest
    target = path_of(digest)
    if target.exists():
        return digest
    target.parent.mkdir(parents=True, exist_ok=True)
    handle, temporary = tempfile.mkstemp(dir=target.parent, prefix=".upload-")
    with os.fdopen(handle, "wb") as file:
        file.write(data)
    Path(temporary).replace(target)
    return digest


def _put_s3(digest: str, data: bytes) -> None:
    from botocore.exceptions import ClientError

    client, bucket = _s3_client(), _bucket()
    try:
        client.head_object(Bucket=bucket, Key=_key(digest))
        return
    except ClientError as error:
        if error.response.get("Error", {}).get("Code") not in ("404", "NoSuchKey", "NotFound"):
            raise
    client.put_object(
        Bucket=bucket,
        Key=_key(digest),
        Body=data,
        ContentType="application/octet-stream",  # the app serves the type it sniffed
    )


def get(sha256: str) -> bytes:
    """The bytes stored under ``sha256``; ``NotFound`` when the store lost them or they no
    longer match their digest."""
    if _bucket():
        from botocore.exceptions import ClientError

        try:
            body = _s3_client().get_object(Bucket=_bucket(), Key=_key(sha256))["Body"].read()
        except ClientError as error:
            raise NotFound("The file is missing from the media store.") from error
    else:
        try:
            body = path_of(sha256).read_bytes()
        except FileNotFoundError as error:
            raise NotFound("The file is missing from the media store.") from error
    if hashlib.sha256(body).hexdigest() != sha256:
        raise NotFound("The stored file no longer matches what was uploaded.")
    return body
