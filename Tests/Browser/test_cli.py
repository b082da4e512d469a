"""The built `sesame` command line against real stores: keys (generate, rotate, jwks, cross-checked with joserfc),
migrate, and users list/show on the SQLite file a running demo writes (and on PostgreSQL when the test server is
there), with its errors and exit codes."""

import json
import os
import secrets
import subprocess
import tempfile
import uuid
from pathlib import Path

import pytest
from joserfc import jws
from joserfc.jwk import KeySet

from conftest import REPO, HTTPClient


def cli_binary():
    binary = Path(os.environ.get("SESAME_CLI_BINARY", ".build/debug/sesame"))
    if not binary.is_absolute():
        binary = (Path.cwd() / binary) if (Path.cwd() / binary).exists() else (REPO / binary)
    if not binary.exists():
        pytest.fail(f"{binary} does not exist: build it first (swift build --product sesame)")
    return binary


def sesame(*arguments, env=None, cwd=None):
    """Runs the CLI with only the given SESAME_ variables; returns (exit code, stdout, stderr)."""
    environment = {k: v for k, v in os.environ.items() if not k.startswith("SESAME_")}
    environment.update(env or {})
    done = subprocess.run([str(cli_binary()), *arguments], env=environment, cwd=cwd or tempfile.gettempdir(),
                          capture_output=True, text=True, timeout=60)
    return done.returncode, done.stdout, done.stderr


def env_lines(text):
    return {name: value.strip("'") for line in text.splitlines() if not line.startswith("#") and "=" in line
            for name, _, value in [line.partition("=")]}


def test_keys_generate_rotate_and_jwks():
    code, out, err = sesame("keys", "generate")
    assert code == 0, err
    first = env_lines(out)
    active = json.loads(first["SESAME_SIGNING_KEY"])
    assert active["kty"] == "EC" and "d" in active and "SESAME_VERIFICATION_KEYS" not in first

    # The JWKS publishes the public half only, and joserfc verifies a token signed with the private key against it.
    code, out, err = sesame("keys", "jwks", env=first)
    assert code == 0, err
    published = json.loads(out)
    assert [key["kid"] for key in published["keys"]] == [active["kid"]] and "d" not in published["keys"][0]
    private = KeySet.import_key_set({"keys": [active]}).keys[0]
    token = jws.serialize_compact({"alg": "ES256", "kid": active["kid"]}, b"payload", private)
    assert jws.deserialize_compact(token, KeySet.import_key_set(published)).payload == b"payload"

    # Rotation: a new active key; the old one verifies only, as its public half.
    code, out, err = sesame("keys", "rotate", "--json", env=first)
    assert code == 0, err
    rotated = json.loads(out)
    new_active = json.loads(rotated["SESAME_SIGNING_KEY"])
    older = json.loads(rotated["SESAME_VERIFICATION_KEYS"])
    assert new_active["kid"] != active["kid"] and [k["kid"] for k in older] == [active["kid"]] and "d" not in older[0]
    code, out, err = sesame("keys", "jwks", env={k: v for k, v in rotated.items() if k.startswith("SESAME_")})
    assert code == 0, err
    assert [k["kid"] for k in json.loads(out)["keys"]] == [new_active["kid"], active["kid"]]

    # A symmetric key: rotated with its secret kept (it is needed to verify), and nothing public to publish.
    code, out, err = sesame("keys", "generate", "--alg", "HS256")
    hmac = env_lines(out)
    assert code == 0 and json.loads(hmac["SESAME_SIGNING_KEY"])["kty"] == "oct"
    code, out, err = sesame("keys", "rotate", "--json", env=hmac)
    assert code == 0 and "k" in json.loads(json.loads(out)["SESAME_VERIFICATION_KEYS"])[0]
    code, _, err = sesame("keys", "jwks", env=hmac)
    assert code == 1 and "symmetric" in err
    # An encryption key cannot replace a signing key.
    code, _, err = sesame("keys", "rotate", "--alg", "A256GCM", env=first)
    assert code == 1 and "one signs, the other encrypts" in err


def test_keys_errors():
    code, out, err = sesame("keys", "jwks")
    assert code == 1 and out == "" and "SESAME_SIGNING_KEY is not set" in err
    code, _, err = sesame("keys", "rotate", env={"SESAME_SIGNING_KEY": "not a key"})
    assert code == 1 and "invalid_key" in err
    code, _, err = sesame("keys", "generate", "--alg", "none")
    assert code == 64 and "--alg" in err
    code, out, _ = sesame("keys", "--help")
    assert code == 0 and "rotate" in out and "jwks" in out
    code, _, err = sesame("unknown-command")
    assert code == 64


def test_users_of_a_running_demo(demo):
    """The demo's own SQLite file: a person who signed in with a link is listed and shown, with the link account."""
    email = f"cli-{secrets.token_hex(6)}@example.com"
    HTTPClient(demo).sign_in_with_link(email)
    database = ["--sqlite", str(Path(demo.workdir) / ".sesame" / "sessions.sqlite")]

    code, out, err = sesame("users", "show", email, "--json", *database)
    assert code == 0, err
    shown = json.loads(out)
    assert shown["email"] == email and shown["emailVerified"] and [a["provider"] for a in shown["accounts"]] == ["link"]
    assert shown["passkeys"] == 0 and shown["authenticatorApp"] is False
    code, out, err = sesame("users", "show", shown["id"], *database)
    assert code == 0 and email in out and "account:\tlink" in out, err

    # Paging through everyone reaches them; every page respects the limit.
    seen, after = [], None
    while True:
        code, out, err = sesame("users", "list", "--json", "--limit", "2", *database, *(["--after", after] if after else []))
        assert code == 0, err
        page = json.loads(out)
        assert len(page["users"]) <= 2
        seen += page["users"]
        if not page["next"]:
            break
        after = page["next"]
    assert email in [user["email"] for user in seen]
    assert [user["id"] for user in seen] == sorted(user["id"] for user in seen)

    code, out, err = sesame("users", "show", "nobody-" + email, *database)
    assert code == 1 and out == "" and "no user" in err


def test_migrate_and_store_errors(tmp_path):
    database = tmp_path / "nested" / "accounts.sqlite"
    code, out, err = sesame("users", "list", "--sqlite", str(database))
    assert code == 1 and "no such file" in err and not database.exists()
    code, out, err = sesame("migrate", "--sqlite", str(database), "--json")
    assert code == 0, err
    assert json.loads(out)["version"] >= 1 and database.exists()
    code, out, err = sesame("users", "list", "--sqlite", str(database), "--json")
    assert code == 0 and json.loads(out) == {"users": [], "next": None}, err
    code, out, err = sesame("users", "list", "--sqlite", str(database), "--limit", "0")
    assert code == 64 and "--limit" in err
    code, out, err = sesame("users", "list", "--sqlite", str(database), "--postgres", "postgres://x@127.0.0.1:1/x")
    assert code == 64 and "two stores" in err
    # A PostgreSQL server that is not there: a clear failure, not a hang.
    code, out, err = sesame("users", "list", "--postgres", "postgres://sesame@127.0.0.1:9/nothing")
    assert code == 1 and "PostgreSQL" in err


@pytest.mark.skipif(not os.environ.get("SESAME_TEST_POSTGRES_URL"), reason="needs the test PostgreSQL server (scripts/test starts it)")
def test_migrate_and_list_on_postgresql():
    url = os.environ["SESAME_TEST_POSTGRES_URL"]
    schema = "sesame_cli_" + uuid.uuid4().hex[:12]
    try:
        code, out, err = sesame("migrate", "--postgres", url, "--schema", schema, "--json")
        assert code == 0, err
        first = json.loads(out)
        assert first["applied"] and first["version"] == first["applied"][-1]
        code, out, err = sesame("migrate", "--postgres", url, "--schema", schema, "--json")
        assert code == 0 and json.loads(out) == {"store": "PostgreSQL", "applied": [], "version": first["version"]}, err
        # SESAME_POSTGRES_URL is the default store.
        code, out, err = sesame("users", "list", "--schema", schema, "--json", env={"SESAME_POSTGRES_URL": url})
        assert code == 0 and json.loads(out)["users"] == [], err
        code, out, err = sesame("users", "show", "nobody@example.com", "--schema", schema, env={"SESAME_POSTGRES_URL": url})
        assert code == 1 and "no user" in err
    finally:
        subprocess.run(["psql", url, "-q", "-c", f'DROP SCHEMA IF EXISTS "{schema}" CASCADE'], capture_output=True)
