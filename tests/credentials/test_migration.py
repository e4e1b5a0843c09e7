"""The issue-15 migration gives the CPC and COC rows of an existing database the apprentice
path the shipped catalogue has, and downgrades again without tripping foreign keys."""

from __future__ import annotations

import json
from pathlib import Path

from flask_migrate import downgrade, upgrade
from sqlalchemy import create_engine, text

from lms.credentials import service as credentials
from lms.credentials.rules import parse_requirements, requirement_to_data
from tests.conftest import _app_for

BEFORE = "4b94a9ef6e2c"


def test_upgrade_gives_cpc_and_coc_the_catalogue_s_apprentice_path(tmp_path: Path):
    url = f"sqlite:///{tmp_path / 'old.sqlite3'}"
    app = _app_for(url)
    engine = create_engine(url)
    with app.app_context():
        upgrade(revision=BEFORE)
        with engine.begin() as connection:
            for number, code in enumerate(("CPC", "COC", "CCA"), start=1):
                connection.execute(
                    text(
                        "INSERT INTO credential (id, code, name, issuing_body, exam_format,"
                        " eligibility, source_url, confidence, notes)"
                        " VALUES (:id, :code, 'x', 'y', '', '', '', 'high', '')"
                    ),
                    {"id": number, "code": code},
                )
            connection.execute(
                text(
                    "INSERT INTO requirement_set (id, credential_id, version, tree, created_at)"
                    " VALUES (1, 1, 1, '{}', '2026-01-01 00:00:00')"
                )
            )
        upgrade()
        with engine.connect() as connection:
            rows = dict(
                connection.execute(text("SELECT code, information_path FROM credential")).all()
            )
        catalogue = {e["code"]: e.get("information_path") for e in credentials.read_catalog()}
        shipped = requirement_to_data(parse_requirements(catalogue["CPC"]))
        assert json.loads(rows["CPC"]) == json.loads(rows["COC"]) == shipped
        assert rows["CCA"] is None
        downgrade(revision=BEFORE)
        with engine.connect() as connection:
            assert connection.execute(text("SELECT count(*) FROM credential")).scalar() == 3
        upgrade()
    engine.dispose()
