"""``flask --app lms backup -o FILE`` and ``flask --app lms restore FILE``: one archive with
everything a school needs to come back on a new host, encrypted with a passphrase.

The archive (a gzipped tar, then encrypted with age's passphrase recipe through pyrage, so
``age -d FILE`` opens it too) holds:

- ``database/``: the database (SQLite's online backup API, or ``pg_dump`` in its custom
  format);
- ``evidence/``: the students' evidence files;
- ``keys/``: the school's signing keys (without them no issued badge would verify), and
  ``audit_key``, the key of the audit chain's MACs;
- ``manifest.json``: the format, when, which database, the head of the audit chain (an anchor
  the restore checks the chain against) and the SHA-256 of every other member.

A restore replaces the database, puts the files and keys back, and then ends every session
and revokes every API token issued before it: the restored rows predate logouts and
revocations made since, which must not come back to life. The file is written mode 0600.
"""

from __future__ import annotations

import hashlib
import io
import json
import logging
import os
import shutil
import sqlite3
import subprocess  # noqa: S404  # nosec B404
import tarfile
import tempfile
from datetime import datetime
from pathlib import Path
from typing import Any

import click
import pyrage
from flask import Blueprint, current_app
from sqlalchemy import update
from sqlalchemy.engine import make_url

from lms import signing
from lms.auth.models import User
from lms.auth.tokens import ApiToken
from lms.db import utcnow
from lms.extensions import db
from lms.ledger import audit

bp = Blueprint("backup_cli", __name__, cli_group=None)
log = logging.getLogger(__name__)

FORMAT = "lms-backup"
VERSION = 1
MIN_PASSPHRASE = 12
PASSPHRASE_ENV = "LMS_BACKUP_PASSPHRASE"  # noqa: S105 - the variable's name, not a secret


class BackupError(Exception):
    """A backup or restore that could not be done; the message says why."""


# --- the database ------------------------------------------------------------------------


def _sqlite_path() -> Path:
    return Path(db.engine.url.database or "")


def _libpq_url() -> str:
    """The database URL as libpq tools read it (no SQLAlchemy driver suffix)."""
    url = make_url(db.engine.url).set(drivername="postgresql")
    return url.render_as_string(hide_password=False)


def _tool(name: str) -> str:
    path = shutil.which(name)
    if path is None:
        raise BackupError(f"{name} is not installed or not on the PATH.")
    return path


def _run(command: list[str]) -> None:
    try:
        subprocess.run(command, check=True, capture_output=True)  # noqa: S603  # nosec B603
    except subprocess.CalledProcessError as error:
        detail = error.stderr.decode()[:500]
        raise BackupError(f"{Path(command[0]).name} failed: {detail}") from error


def dump_database(target: Path) -> str:
    """Write a consistent copy of the whole database to ``target``; its dialect."""
    dialect = db.engine.dialect.name
    if dialect == "sqlite":
        source, destination = sqlite3.connect(_sqlite_path()), sqlite3.connect(target)
        try:
            with destination:
                source.backup(destination)
        finally:
            destination.close()
            source.close()
    elif dialect == "postgresql":
        _run(
            [_tool("pg_dump"), "--format=custom", "--no-owner", "--file", str(target)]
            + ["--dbname", _libpq_url()]
        )
    else:
        raise BackupError(f"Backups of {dialect} databases are not supported.")
    return dialect


def load_database(source: Path) -> None:
    """Replace the whole database with the copy in ``source``."""
    dialect = db.engine.dialect.name
    db.session.remove()
    db.engine.dispose()
    if dialect == "sqlite":
        backup = sqlite3.connect(f"file:{source}?mode=ro", uri=True)
        live = sqlite3.connect(_sqlite_path())
        try:
            backup.execute("PRAGMA schema_version")  # fails early if it is not a database
            with live:
                backup.backup(live)
        finally:
            live.close()
            backup.close()
    else:
        _run(
            [_tool("pg_restore"), "--clean", "--if-exists", "--no-owner", "--single-transaction"]
            + ["--dbname", _libpq_url(), str(source)]
        )


# --- the files ---------------------------------------------------------------------------


def _evidence_folder() -> Path:
    folder = current_app.config.get("EVIDENCE_FOLDER")
    return Path(folder) if folder else Path(current_app.instance_path) / "evidence"


def _audit_key_file() -> Path | None:
    """The audit key's file, or None when the key comes from the environment."""
    if current_app.config.get("AUDIT_KEY"):
        return None
    configured = current_app.config.get("AUDIT_KEY_FILE")
    return Path(configured) if configured else Path(current_app.instance_path) / "audit_key"


def _members() -> dict[str, Path]:
    """What goes in the archive besides the database: archive name -> file on disk."""
    members: dict[str, Path] = {}
    evidence = _evidence_folder()
    if evidence.is_dir():
        for path in sorted(p for p in evidence.rglob("*") if p.is_file()):
            members[f"evidence/{path.relative_to(evidence).as_posix()}"] = path
    store = signing.store()
    if store.folder.is_dir():
        for path in sorted(p for p in store.folder.rglob("*.pem") if p.is_file()):
            members[f"keys/store/{path.relative_to(store.folder).as_posix()}"] = path
    if store.legacy_file is not None and store.legacy_file.is_file():
        members["keys/legacy.pem"] = store.legacy_file
    audit_file = _audit_key_file()
    if audit_file is not None and audit_file.is_file():
        members["keys/audit_key"] = audit_file
    return members


def _destination(name: str) -> Path | None:
    """Where a member of the archive goes back to on this host."""
    store = signing.store()
    if name.startswith("evidence/"):
        return _evidence_folder() / name.removeprefix("evidence/")
    if name.startswith("keys/store/"):
        return store.folder / name.removeprefix("keys/store/")
    if name == "keys/legacy.pem":
        return store.legacy_file
    if name == "keys/audit_key":
        return _audit_key_file()
    return None


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def _private_write(path: Path, data: bytes) -> None:
    """Write ``data`` to ``path`` (mode 0600) through a temporary file, so no half file."""
    path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    partial = path.with_name(path.name + ".partial")
    fd = os.open(partial, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "wb") as handle:
        handle.write(data)
    partial.replace(path)


# --- backup and restore ------------------------------------------------------------------


def write_backup(target: Path, passphrase: str, now: datetime) -> dict[str, Any]:
    """Write the encrypted archive to ``target`` (mode 0600); return its manifest."""
    with tempfile.TemporaryDirectory() as work:
        database = Path(work) / "database"
        dialect = dump_database(database)
        members = {f"database/lms.{'sqlite3' if dialect == 'sqlite' else 'pgdump'}": database}
        members.update(_members())
        head = audit.chain_head()
        manifest = {
            "format": FORMAT,
            "version": VERSION,
            "created_at": now.isoformat(),
            "dialect": dialect,
            "audit_head": None if head is None else {"id": head[0], "hash": head[1]},
            "keys_from_environment": bool(
                current_app.config.get("SIGNING_KEY_PEM") or current_app.config.get("AUDIT_KEY")
            ),
            "files": {name: _sha256(path) for name, path in members.items()},
        }
        archive = io.BytesIO()
        with tarfile.open(fileobj=archive, mode="w:gz") as tar:
            body = json.dumps(manifest, indent=2).encode()
            info = tarfile.TarInfo("manifest.json")
            info.size, info.mtime = len(body), int(now.timestamp())
            tar.addfile(info, io.BytesIO(body))
            for name, path in members.items():
                tar.add(path, arcname=name, recursive=False)
        _private_write(target, pyrage.passphrase.encrypt(archive.getvalue(), passphrase))
    return manifest


def read_backup(source: Path, passphrase: str, into: Path) -> dict[str, Any]:
    """Decrypt and unpack ``source`` into ``into``, checking every file against the manifest."""
    try:
        plain = pyrage.passphrase.decrypt(source.read_bytes(), passphrase)
    except pyrage.DecryptError as error:
        raise BackupError(
            "The file could not be decrypted: the passphrase is wrong, or it is not a backup."
        ) from error
    try:
        with tarfile.open(fileobj=io.BytesIO(plain), mode="r:gz") as tar:
            tar.extractall(into, filter="data")  # refuses absolute paths and ../
        manifest = json.loads((into / "manifest.json").read_text())
    except (tarfile.TarError, OSError, ValueError) as error:
        raise BackupError(f"The archive is damaged: {error}") from error
    if manifest.get("format") != FORMAT or manifest.get("version") != VERSION:
        raise BackupError("This is not a backup this version of the app can read.")
    for name, expected in manifest["files"].items():
        path = into / name
        if not path.is_file() or _sha256(path) != expected:
            raise BackupError(f"The archive is damaged: {name} does not match its checksum.")
    return manifest


def restore_backup(source: Path, passphrase: str, now: datetime) -> dict[str, Any]:
    """Replace the database, files and keys with the backup's; end every older session and
    API token; return what was done, with the audit chain's check against the backup."""
    with tempfile.TemporaryDirectory() as work:
        folder = Path(work)
        manifest = read_backup(source, passphrase, folder)
        if manifest["dialect"] != db.engine.dialect.name:
            raise BackupError(
                f"This is a backup of a {manifest['dialect']} database; this app uses "
                f"{db.engine.dialect.name}."
            )
        database = next(name for name in manifest["files"] if name.startswith("database/"))
        load_database(folder / database)
        for name in manifest["files"]:
            target = _destination(name)
            if target is not None:
                _private_write(target, (folder / name).read_bytes())
    current_app.extensions.pop(signing.STORE_EXTENSION, None)  # the keys may have changed
    ended = db.session.execute(update(User).values(sessions_valid_after=now)).rowcount
    revoked = db.session.execute(
        update(ApiToken).where(ApiToken.revoked_at.is_(None)).values(revoked_at=now)
    ).rowcount
    head = manifest["audit_head"]
    check = audit.verify_chain(None if head is None else (head["id"], head["hash"]))
    audit.record_event(
        "backup.restored",
        actor=None,
        now=now,
        details={
            "backup_created_at": manifest["created_at"],
            "sessions_ended_for": ended,
            "api_tokens_revoked": revoked,
            "audit_chain_intact": check.intact,
        },
    )
    db.session.commit()
    return {"manifest": manifest, "accounts": ended, "tokens": revoked, "chain": check}


# --- the commands ------------------------------------------------------------------------


def _passphrase(passphrase_file: Path | None, *, confirm: bool) -> str:
    if passphrase_file is not None:
        passphrase = passphrase_file.read_text().strip()
    elif os.environ.get(PASSPHRASE_ENV):
        passphrase = os.environ[PASSPHRASE_ENV]
    else:
        passphrase = click.prompt("Passphrase", hide_input=True, confirmation_prompt=confirm)
    if len(passphrase) < MIN_PASSPHRASE:
        raise click.ClickException(f"Use a passphrase of {MIN_PASSPHRASE} characters or more.")
    return passphrase


PASSPHRASE_OPTION = click.option(
    "--passphrase-file",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    help=f"A file holding the passphrase (else ${PASSPHRASE_ENV}, else a prompt).",
)


@bp.cli.command("backup")
@click.option(
    "-o",
    "--output",
    "output",
    required=True,
    type=click.Path(dir_okay=False, writable=True, path_type=Path),
    help="The file to write the backup to.",
)
@PASSPHRASE_OPTION
def backup_command(output: Path, passphrase_file: Path | None) -> None:
    """Back up the database, the evidence files and the keys, encrypted with a passphrase."""
    passphrase = _passphrase(passphrase_file, confirm=True)
    try:
        manifest = write_backup(output, passphrase, utcnow())
    except (BackupError, sqlite3.Error, OSError) as error:
        raise click.ClickException(f"Backup failed: {error}") from error
    head = manifest["audit_head"]
    anchor = "empty" if head is None else f"{head['id']}:{head['hash']}"
    log.info("backup written", extra={"event": "backup", "file": str(output), "audit": anchor})
    click.echo(f"Backup written to {output}: {len(manifest['files'])} files.")
    click.echo(f"Audit chain head at the backup: {anchor} (keep it: `audit verify --anchor`).")
    if manifest["keys_from_environment"]:
        click.echo("Keys given in the environment are not in the backup: keep them yourself.")


@bp.cli.command("restore")
@click.argument("source", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@PASSPHRASE_OPTION
@click.option("--yes", is_flag=True, help="Do not ask for confirmation.")
def restore_command(source: Path, passphrase_file: Path | None, yes: bool) -> None:
    """Replace the database, evidence files and keys with a backup made by ``backup``."""
    if not yes:
        click.confirm("This replaces every record in the database. Continue?", abort=True)
    passphrase = _passphrase(passphrase_file, confirm=False)
    try:
        done = restore_backup(source, passphrase, utcnow())
    except (BackupError, sqlite3.Error, OSError) as error:
        raise click.ClickException(f"Restore failed: {error}") from error
    log.info("database restored", extra={"event": "restore", "file": str(source)})
    click.echo(f"Restored the backup of {done['manifest']['created_at']} from {source}.")
    click.echo(
        f"Every session that began before this restore has ended ({done['accounts']} accounts "
        f"must log in again) and every API token was revoked ({done['tokens']}): make new ones."
    )
    chain = done["chain"]
    if chain.intact:
        click.echo(f"The audit chain is intact: {chain.checked} events checked.")
    else:
        click.echo(f"WARNING: the audit chain is broken at event {chain.broken_id}: {chain.reason}")
