"""Keep evidence files and the signing key of each test in its own temporary folder."""

import pytest


@pytest.fixture(autouse=True)
def private_instance_files(request, tmp_path):
    """Evidence uploads and the school's signing key go under the test's tmp_path."""
    if "app" not in request.fixturenames:
        return  # a pure rules test: no app, no files
    app = request.getfixturevalue("app")
    app.config["EVIDENCE_FOLDER"] = str(tmp_path / "evidence")
    app.config["SIGNING_KEY_FILE"] = str(tmp_path / "signing_key.pem")
    app.extensions.pop("lms_signing_key", None)
