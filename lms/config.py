"""Configuration: defaults here, ``LMS_*`` environment variables override them."""

from __future__ import annotations

import os
import secrets
from pathlib import Path
from typing import Any

from flask import Flask


class DefaultConfig:
    """Settings every deployment starts from; see the README for each one."""

    SCHOOL_NAME = "Demo School of Medical Billing and Coding"
    SQLALCHEMY_DATABASE_URI: str | None = None  # default: SQLite file under instance/
    SQLALCHEMY_ENGINE_OPTIONS: dict[str, Any] = {"pool_pre_ping": True}
    WTF_CSRF_TIME_LIMIT = None  # the token lives as long as the session
    SESSION_COOKIE_HTTPONLY = True
    SESSION_COOKIE_SAMESITE = "Lax"
    REMEMBER_COOKIE_HTTPONLY = True
    MAX_CONTENT_LENGTH = 16 * 1024 * 1024
    MEDIA_DIR: str | None = None  # lesson media; default instance/media (docs/DEPLOYMENT.md)
    # Lesson media in an S3-compatible bucket instead (docs/DEPLOYMENT.md): the bucket, the
    # endpoint of a non-AWS store (MinIO...), the region, and the prefix of the object keys.
    MEDIA_S3_BUCKET: str | None = None
    MEDIA_S3_ENDPOINT_URL: str | None = None
    MEDIA_S3_REGION: str | None = None
    MEDIA_S3_PREFIX: str = "media/"
    PUBLIC_BASE_URL: str | None = None  # used in links printed on certificates


def load_config(app: Flask, overrides: dict[str, Any] | None) -> None:
    """Fill ``app.config`` from defaults, then ``LMS_*`` variables, then ``overrides``."""
    app.config.from_object(DefaultConfig)
    app.config.from_prefixed_env("LMS")
    url = app.config.pop("DATABASE_URL", None)
    if url:
        app.config["SQLALCHEMY_DATABASE_URI"] = url
    if overrides:
        app.config.update(overrides)
    if not app.config.get("SQLALCHEMY_DATABASE_URI"):
        Path(app.instance_path).mkdir(mode=0o700, parents=True, exist_ok=True)
        app.config["SQLALCHEMY_DATABASE_URI"] = "sqlite:///" + os.path.join(
            app.instance_path, "lms.sqlite3"
        )
    app.config["SQLALCHEMY_DATABASE_URI"] = normalise_database_url(
        app.config["SQLALCHEMY_DATABASE_URI"]
    )
    if app.config["SQLALCHEMY_DATABASE_URI"].startswith("postgresql+psycopg"):
        app.config["SQLALCHEMY_ENGINE_OPTIONS"] = _planned_per_execution(
            app.config["SQLALCHEMY_ENGINE_OPTIONS"]
        )
    if not app.config.get("SECRET_KEY"):
        app.config["SECRET_KEY"] = _instance_secret_key(Path(app.instance_path))


def private_file(path: Path) -> None:
    """Make ``path`` readable by its owner only (0600), creating it empty if missing: a
    SQLite database holds every student's records (SQLite gives its -wal and -shm files the
    same mode)."""
    path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    try:
        os.close(os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600))
    except FileExistsError:
        if path.stat().st_mode & 0o077:
            path.chmod(0o600)


def _planned_per_execution(options: dict[str, Any]) -> dict[str, Any]:
    """PostgreSQL engine options with psycopg's server-side prepared statements off (unless
    the deployment chose otherwise): psycopg prepares a statement on its fifth execution, and
    PostgreSQL may then plan it once for every parameter. The rows of one cohort range from 10
    to 10,000; a plan made for the average cohort read the 10,000 cohort's booked exams in 37 ms
    instead of 1 ms (docs/PERFORMANCE.md). Planning each execution afresh costs well under a
    millisecond here, and it works behind PgBouncer's transaction pooling as well."""
    connect_args = {"prepare_threshold": None, **options.get("connect_args", {})}
    return {**options, "connect_args": connect_args}


def normalise_database_url(url: str) -> str:
    """Point plain ``postgres://`` and ``postgresql://`` URLs at the psycopg 3 driver."""
    for prefix in ("postgres://", "postgresql://"):
        if url.startswith(prefix):
            return "postgresql+psycopg://" + url[len(prefix) :]
    return url


def _instance_secret_key(instance: Path) -> str:
    """Read the secret key kept in ``instance/``, creating it on first run."""
    path = instance / "secret_key"
    if path.exists():
        return path.read_text().strip()
    instance.mkdir(mode=0o700, parents=True, exist_ok=True)
    key = secrets.token_hex(32)
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:  # another worker created it a moment ago
        return path.read_text().strip()
    with os.fdopen(fd, "w") as handle:
        handle.write(key)
    return key
