"""One key store signs everything: rotation keeps old tokens verifying, retirement stops them."""

from __future__ import annotations

import stat

import pytest

from lms import signing


@pytest.fixture
def keys(app, tmp_path):
    """The app's key store on a folder of this test's own."""
    app.config["SIGNING_KEY_DIR"] = str(tmp_path / "keys")
    app.extensions.pop(signing.STORE_EXTENSION, None)
    yield signing.store()
    app.extensions.pop(signing.STORE_EXTENSION, None)


def test_the_first_key_is_made_on_first_use_private_to_the_owner(keys):
    assert keys.published() == []
    key = keys.current()
    (path,) = keys.folder.glob("*.pem")
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert path.name.endswith(f"-{key.kid}.pem")
    assert keys.current().kid == key.kid  # made once
    (published,) = keys.jwks()["keys"]
    # Named by a URL a verifier can follow: the key set's address, the thumbprint as fragment.
    assert published["kid"].endswith(f"/.well-known/jwks.json#{key.kid}")
    assert published["alg"] == "RS256"
    assert not {"d", "p", "q", "dp", "dq", "qi"} & set(published)


def test_a_rotation_signs_with_the_new_key_and_keeps_the_old_one_published(keys, client):
    old_token = keys.sign({"sub": "before"})
    old = keys.current()
    new = keys.rotate()
    assert keys.current().kid == new.kid != old.kid
    new_token = keys.sign({"sub": "after"})
    published = client.get("/.well-known/jwks.json").get_json()
    assert [k["kid"].rsplit("#")[1] for k in published["keys"]] == [new.kid, old.kid]
    assert client.get("/lti/jwks.json").get_json() == published  # one set, two addresses
    assert signing.verify(old_token, published)["sub"] == "before"
    assert signing.verify(new_token, published)["sub"] == "after"

    # Retired: no longer published, so what it signed no longer verifies.
    keys.retire(old.kid)
    published = client.get("/.well-known/jwks.json").get_json()
    assert [k["kid"].rsplit("#")[1] for k in published["keys"]] == [new.kid]
    with pytest.raises(signing.SignatureInvalid):
        signing.verify(old_token, published)
    assert (keys.folder / "retired").is_dir()
    with pytest.raises(ValueError, match="only key"):
        keys.retire(new.kid)


def test_the_commands_list_rotate_and_retire(keys, runner):
    first = keys.current()
    result = runner.invoke(args=["keys", "rotate"])
    assert result.exit_code == 0, result.output
    second = keys.current()
    listing = runner.invoke(args=["keys", "list"]).output.splitlines()
    assert listing[0].startswith(f"{second.kid}  signs")
    assert listing[1].startswith(f"{first.kid}  published")
    assert runner.invoke(args=["keys", "retire", "nope"]).exit_code != 0
    # "--" ends the options: a key id may begin with "-" (base64url), once in 64 keys
    assert runner.invoke(args=["keys", "retire", "--", first.kid]).exit_code == 0
    assert [k.kid for k in keys.published()] == [second.kid]


def test_a_key_from_the_environment_signs_beside_the_folder(app, keys):
    folder_key = keys.current()
    other = signing.KeyStore(keys.folder.parent / "elsewhere")
    pem = signing._pem(other.current().private).decode()
    app.config["SIGNING_KEY_PEM"] = pem
    app.extensions.pop(signing.STORE_EXTENSION, None)
    store = signing.store()
    assert [k.kid for k in store.published()] == [other.current().kid, folder_key.kid]
    assert signing.verify(store.sign({"x": 1}), store.jwks())["x"] == 1


def test_a_token_with_a_changed_payload_or_no_signature_fails(keys):
    token = keys.sign({"sub": "ada"})
    header, payload, sig = token.split(".")
    forged = keys.sign({"sub": "mallory"}).split(".")[1]
    with pytest.raises(signing.SignatureInvalid):
        signing.verify(f"{header}.{forged}.{sig}", keys.jwks())
    with pytest.raises(signing.SignatureInvalid):
        signing.verify(f"{header}.{payload}.", keys.jwks())


def test_the_key_set_is_open_to_browser_verifiers(client):
    for path in ("/.well-known/jwks.json", "/lti/jwks.json"):
        response = client.get(path, headers={"Origin": "https://verifier.example"})
        assert response.headers["Access-Control-Allow-Origin"] == "*"
        assert "Access-Control-Allow-Credentials" not in response.headers
