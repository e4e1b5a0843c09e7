"""``flask backup`` and ``flask restore``: one encrypted archive gives back exactly the records,
the evidence files and the keys that were saved, on this host or a fresh one; and nothing that
was ended after the backup (a session, an API token) comes back to life."""

import io
import json
import stat
import tarfile
from pathlib import Path

import pyrage
import pytest
from sqlalchemy import func, select, text
from sqlalchemy.exc import DatabaseError

from lms import signing
from lms.auth import tokens
from lms.auth.models import Role, User
from lms.extensions import db
from lms.ledger import audit
from lms.ledger.models import AuditEvent, LedgerEntry
from tests import factories
from tests.conftest import login

PASSPHRASE = "correct horse battery staple"


def snapshot():
    """Every row of every table."""
    db.session.expire_all()
    return {
        table.name: sorted(map(tuple, db.session.execute(select(table)).all()), key=repr)
        for table in db.metadata.sorted_tables
    }


@pytest.fixture
def instance(app, tmp_path):
    """The app's files (evidence, keys, the audit key) in a folder of this test's own."""
    folder = tmp_path / "instance"
    app.config.update(
        EVIDENCE_FOLDER=str(folder / "evidence"),
        SIGNING_KEY_DIR=str(folder / "keys"),
        SIGNING_KEY_FILE=str(folder / "signing_key.pem"),
        AUDIT_KEY_FILE=str(folder / "audit_key"),
    )
    app.extensions.pop(signing.STORE_EXTENSION, None)
    yield folder
    app.extensions.pop(signing.STORE_EXTENSION, None)


@pytest.fixture
def passphrase_file(tmp_path):
    path = tmp_path / "passphrase"
    path.write_text(PASSPHRASE + "\n")
    return str(path)


def backup(runner, target, passphrase_file):
    result = runner.invoke(args=["backup", "-o", str(target), "--passphrase-file", passphrase_file])
    assert result.exit_code == 0, result.output
    return result


def restore(runner, target, passphrase_file):
    return runner.invoke(
        args=["restore", "--yes", str(target), "--passphrase-file", passphrase_file]
    )


def school():
    factories.course("TERM", modules=2)
    credential = factories.credential("CPC", modules=["TERM-1"])
    student = factories.user(Role.STUDENT, name="Sam Rivera")
    factories.cohort(factories.user(Role.INSTRUCTOR), credential, [student])
    factories.pass_module(student, "TERM-1")  # a ledger entry and a certificate
    return student


def test_backup_then_restore_gives_back_the_same_records(
    app, runner, tmp_path, instance, passphrase_file
):
    student = school()
    signing.store().current()  # the school's signing key exists
    (instance / "evidence" / "ab").mkdir(parents=True)
    (instance / "evidence" / "ab" / "scan.pdf").write_bytes(b"%PDF-1.4 a diploma")
    saved = snapshot()
    assert saved["ledger_entry"] and saved["certificate"] and saved["audit_event"]
    db.session.commit()

    target = tmp_path / "lms.backup"
    result = backup(runner, target, passphrase_file)
    assert f"Backup written to {target}" in result.output
    assert stat.S_IMODE(target.stat().st_mode) == 0o600
    # Encrypted: neither the records nor the key are readable in the file.
    raw = target.read_bytes()
    assert raw.startswith(b"age-encryption.org/v1") and b"Sam Rivera" not in raw
    assert b"PRIVATE KEY" not in raw

    # Life goes on after the backup...
    factories.user(Role.STUDENT, name="Late Comer")
    factories.pass_module(student, "TERM-2")
    assert snapshot() != saved

    result = restore(runner, target, passphrase_file)
    assert result.exit_code == 0, result.output
    assert "The audit chain is intact" in result.output
    restored = snapshot()
    # Every row is as it was, except what the restore itself records: every account's
    # sessions end, and the restore is audited.
    assert {k: v for k, v in restored.items() if k not in ("user_account", "audit_event")} == {
        k: v for k, v in saved.items() if k not in ("user_account", "audit_event")
    }
    added = [row for row in restored["audit_event"] if row not in saved["audit_event"]]
    assert all(row in restored["audit_event"] for row in saved["audit_event"])
    assert len(added) == 1
    assert db.session.scalar(select(AuditEvent.action).order_by(AuditEvent.id.desc()).limit(1)) == (
        "backup.restored"
    )
    assert db.session.scalar(select(func.count()).select_from(User)) == 2
    assert audit.verify_chain().intact
    # The restored database still refuses changes to the ledger.
    entry_count = db.session.scalar(select(func.count()).select_from(LedgerEntry))
    with pytest.raises(DatabaseError, match="append-only"):
        db.session.execute(text("DELETE FROM ledger_entry"))
    db.session.rollback()
    assert db.session.scalar(select(func.count()).select_from(LedgerEntry)) == entry_count


def test_a_restore_on_a_fresh_host_brings_back_files_and_keys(
    app, runner, tmp_path, instance, passphrase_file
):
    school()
    key = signing.store().current()
    jwks = signing.store().jwks()
    evidence = instance / "evidence" / "cd" / "ged.png"
    evidence.parent.mkdir(parents=True)
    evidence.write_bytes(b"\x89PNG\r\n\x1a\n a GED")
    audit_key = audit.audit_key()
    db.session.commit()
    target = tmp_path / "lms.backup"
    backup(runner, target, passphrase_file)

    # A new host: the instance folder is gone.
    for path in sorted(instance.rglob("*"), reverse=True):
        path.unlink() if path.is_file() else path.rmdir()
    app.extensions.pop(signing.STORE_EXTENSION, None)
    result = restore(runner, target, passphrase_file)
    assert result.exit_code == 0, result.output
    assert evidence.read_bytes() == b"\x89PNG\r\n\x1a\n a GED"
    assert stat.S_IMODE(evidence.stat().st_mode) == 0o600
    assert signing.store().current().kid == key.kid
    assert signing.store().jwks() == jwks  # every badge issued before still verifies
    assert audit.audit_key() == audit_key
    assert audit.verify_chain().intact


def test_a_restore_ends_every_older_session_and_api_token(
    app, runner, tmp_path, instance, passphrase_file
):
    admin = factories.user(Role.ADMIN)
    email = admin.email
    _, secret = tokens.create_token(
        admin, name="SIS", scope=tokens.TokenScope.READ, days=30, now=factories.NOW
    )
    db.session.commit()
    browser = app.test_client()
    assert login(browser, admin.email).status_code == 302
    target = tmp_path / "lms.backup"
    backup(runner, target, passphrase_file)
    # After the backup the admin logs out (the cookie is dead) and revokes the token...
    stolen = browser.get_cookie(app.config["SESSION_COOKIE_NAME"]).value
    browser.post("/logout", data={})  # the form needs a token; end it the service's way:
    db.session.get(User, admin.id).session_epoch += 1
    token = db.session.scalar(select(tokens.ApiToken))
    token.revoked_at = factories.NOW
    db.session.commit()

    result = restore(runner, target, passphrase_file)
    assert result.exit_code == 0, result.output
    assert "must log in again" in result.output and "API token was revoked" in result.output
    # ...and the restore, which brought back the old epoch and the live token, keeps both dead.
    thief = app.test_client()
    thief.set_cookie(app.config["SESSION_COOKIE_NAME"], stolen)
    assert thief.get("/admin/users").status_code == 302  # to the login page
    api = app.test_client().get("/api/v1/users", headers={"Authorization": f"Bearer {secret}"})
    assert api.status_code == 401
    assert "backup.restored" in db.session.scalars(select(AuditEvent.action)).all()
    # A login after the restore works as usual.
    fresh = app.test_client()
    assert login(fresh, email).status_code == 302
    assert fresh.get("/admin/users").status_code == 200


def test_a_wrong_passphrase_or_a_damaged_archive_changes_nothing(
    app, runner, tmp_path, instance, passphrase_file
):
    factories.user(Role.STUDENT)
    db.session.commit()
    target = tmp_path / "lms.backup"
    backup(runner, target, passphrase_file)
    factories.user(Role.STUDENT)
    before = snapshot()

    wrong = tmp_path / "wrong"
    wrong.write_text("a different passphrase")
    result = restore(runner, target, str(wrong))
    assert result.exit_code != 0 and "passphrase is wrong" in result.output

    # An archive whose database does not match its manifest's checksum is refused.
    plain = pyrage.passphrase.decrypt(target.read_bytes(), PASSPHRASE)
    tampered = io.BytesIO()
    with (
        tarfile.open(fileobj=io.BytesIO(plain), mode="r:gz") as source,
        tarfile.open(fileobj=tampered, mode="w:gz") as copy,
    ):
        for member in source.getmembers():
            data = source.extractfile(member).read()
            if member.name.startswith("database/"):
                data = data[:-1] + bytes([data[-1] ^ 1])
            copy.addfile(member, io.BytesIO(data))
    forged = tmp_path / "forged.backup"
    forged.write_bytes(pyrage.passphrase.encrypt(tampered.getvalue(), PASSPHRASE))
    result = restore(runner, forged, passphrase_file)
    assert result.exit_code != 0 and "does not match its checksum" in result.output

    bogus = tmp_path / "notes.txt"
    bogus.write_text("not a backup at all")
    result = restore(runner, bogus, passphrase_file)
    assert result.exit_code != 0 and "Restore failed" in result.output
    assert snapshot() == before


def test_restore_asks_for_confirmation_and_short_passphrases_are_refused(
    runner, tmp_path, instance, passphrase_file
):
    target = tmp_path / "lms.backup"
    backup(runner, target, passphrase_file)
    factories.user(Role.STUDENT)
    result = runner.invoke(
        args=["restore", str(target), "--passphrase-file", passphrase_file], input="n\n"
    )
    assert result.exit_code != 0
    assert db.session.scalar(select(func.count()).select_from(User)) == 1
    short = tmp_path / "short"
    short.write_text("abc")
    result = runner.invoke(
        args=["backup", "-o", str(tmp_path / "x"), "--passphrase-file", str(short)]
    )
    assert result.exit_code != 0 and "12 characters" in result.output
    assert not (tmp_path / "x").exists()


def test_the_manifest_lists_every_file_with_its_checksum_and_the_audit_head(
    runner, tmp_path, instance, passphrase_file
):
    school()
    signing.store().current()
    db.session.commit()
    head = audit.chain_head()
    target = tmp_path / "lms.backup"
    result = backup(runner, target, passphrase_file)
    assert f"{head[0]}:{head[1]}" in result.output
    plain = pyrage.passphrase.decrypt(target.read_bytes(), PASSPHRASE)
    with tarfile.open(fileobj=io.BytesIO(plain), mode="r:gz") as tar:
        manifest = json.loads(tar.extractfile("manifest.json").read())
        names = set(tar.getnames())
    assert manifest["audit_head"] == {"id": head[0], "hash": head[1]}
    assert set(manifest["files"]) | {"manifest.json"} == names
    assert any(name.startswith("database/") for name in names)
    assert "keys/audit_key" in names and any(n.startswith("keys/store/") for n in names)
    assert Path(target).stat().st_size > 0
