"""The built `sesame` command line against real stores: keys (generate, rotate, jwks, cross-checked with joserfc),
migrate, users list/show/delete, sessions list/revoke and accounts unlink on the SQLite file a running demo writes
(and on PostgreSQL when the test server is there), with their errors and exit codes."""

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

from conftest import REPO, HTTPClient, running_demo


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

        # A user written straight into the schema: their (absent) sessions listed, everything of theirs revoked with
        # the shared revocation store, then deleted.
        user_id = uuid.uuid4().hex
        done = subprocess.run(["psql", url, "-q", "-v", "ON_ERROR_STOP=1", "-c",
                               f'INSERT INTO "{schema}".sesame_users (id, email, created_at, updated_at) '
                               f"VALUES ('{user_id}', 'pg-cli@example.com', 1800000000000, 1800000000000)"], capture_output=True, text=True)
        assert done.returncode == 0, done.stderr
        pg = ["--postgres", url, "--schema", schema]
        code, out, err = sesame("sessions", "list", "pg-cli@example.com", "--json", *pg)
        assert code == 0 and json.loads(out) == {"subject": "user:userID:" + user_id, "sessions": []}, err
        code, out, err = sesame("sessions", "revoke", user_id, "--json", *pg)
        assert code == 0 and json.loads(out) == {"subject": "user:userID:" + user_id, "ended": 0, "statelessTokensRevoked": True}, err
        code, out, err = sesame("users", "delete", user_id, "--yes", "--json", *pg)
        assert code == 0 and json.loads(out)["deleted"] == user_id, err
        code, out, err = sesame("users", "list", "--json", *pg)
        assert code == 0 and json.loads(out)["users"] == [], err
    finally:
        subprocess.run(["psql", url, "-q", "-c", f'DROP SCHEMA IF EXISTS "{schema}" CASCADE'], capture_output=True)


@pytest.fixture(params=["hummingbird"])
def stored_sqlite_demo(request):
    """The Hummingbird demo on stored sessions in its SQLite file (the CLI reads the same file)."""
    with running_demo(request.param, {"SESAME_SESSION_STORE": "sqlite"}) as server:
        yield server


def test_sessions_accounts_and_deletion_of_a_running_demo(stored_sqlite_demo):
    """Sessions listed and ended from the command line end at once in the running demo; unlinking refuses the last
    sign-in method; deleting a user ends their sessions first. The demo's session subject is `user:email:{email}`."""
    demo = stored_sqlite_demo
    email = f"cli-{secrets.token_hex(6)}@example.com"
    phone, laptop = HTTPClient(demo), HTTPClient(demo)
    phone.sign_in_with_link(email)
    laptop.sign_in_with_link(email)
    store = ["--sqlite", str(Path(demo.workdir) / ".sesame" / "sessions.sqlite")]
    database = store + ["--subject", "user:email:{email}"]

    code, out, err = sesame("sessions", "list", email, "--json", *database)
    assert code == 0, err
    listed = json.loads(out)
    assert listed["subject"] == "user:email:" + email and len(listed["sessions"]) == 2
    newest = listed["sessions"][0]["id"]
    assert len(newest) == 32

    # One session: the laptop's (the newer sign-in) ends; the phone's goes on.
    code, out, err = sesame("sessions", "revoke", email, "--session", newest, "--json", *database)
    assert code == 0 and json.loads(out)["ended"] == 1, err
    assert laptop.send("/api/me")[0] == 401 and phone.send("/api/me")[0] == 200
    assert "audit.kind=session_revoked" in err and "audit.user_agent=sesame-cli" in err
    code, out, err = sesame("sessions", "revoke", email, "--session", newest, *database)
    assert code == 1 and "has no session" in err

    # The link is the user's only way in: unlinking it is refused, and an unknown provider is named.
    code, out, err = sesame("accounts", "unlink", email, "link", *store)
    assert code == 1 and "last way" in err, (out, err)
    code, out, err = sesame("accounts", "unlink", email, "github", *store)
    assert code == 1 and "no github account" in err

    # Deletion needs --yes (a usage error), then ends the phone's session before the user goes.
    code, out, err = sesame("users", "delete", email, *database)
    assert code == 64 and "--yes" in err
    code, out, err = sesame("users", "delete", email, "--yes", "--json", *database)
    assert code == 0, err
    deleted = json.loads(out)
    assert deleted["sessionsEnded"] == 1 and deleted["statelessTokensRevoked"] is False
    assert phone.send("/api/me")[0] == 401
    code, out, err = sesame("users", "show", email, *store)
    assert code == 1 and "no user" in err
    code, out, err = sesame("sessions", "list", email, *database)
    assert code == 1 and out == "" and "no user" in err
    code, out, err = sesame("sessions", "list", email, "--subject", "user", *store)
    assert code == 64 and "{id} or {email}" in err
