"""Keep evidence files of each test in its own temporary folder (the signing keys of the
whole run live in one temporary folder: see tests/conftest.py)."""

import pytest


@pytest.fixture(autouse=True)
def private_instance_files(request, tmp_path):
    """Evidence uploads go under the test's tmp_path."""
    if "app" not in request.fixturenames:
        return  # a pure rules test: no app, no files
    app = request.getfixturevalue("app")
    app.config["EVIDENCE_FOLDER"] = str(tmp_path / "evidence")
