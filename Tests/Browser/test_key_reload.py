"""Keys replaced while a demo runs (`KeyRing` and `KeyReloadService`): the demo reloads its key file on SIGHUP; a
rotation keeps earlier sessions and signs new ones with the new key, dropping the old key ends the sessions it
signed at once, and a file that does not load keeps the current keys. Both demos, stateless sessions."""

import base64
import json
import os
import secrets
import signal
import time
import urllib.request
from pathlib import Path

import pytest
from joserfc.jwk import ECKey

from conftest import DEMOS, HTTPClient, running_demo


def session_kid(client):
    """The `kid` in the header of the session token in a client's cookie jar."""
    jar = next(h.cookiejar for h in client.opener.handlers if isinstance(h, urllib.request.HTTPCookieProcessor))
    token = next(c.value for c in jar if c.name == "sesame-session")
    header = token.split(".")[0]
    return json.loads(base64.urlsafe_b64decode(header + "=" * (-len(header) % 4)))["kid"]


def write_keys(path, keys):
    """Replaces the key file the way an operator's tooling would: a new file (mode 0600) renamed over the old."""
    staged = path.with_suffix(".new")
    descriptor = os.open(staged, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(descriptor, "w") as file:
        file.write(keys if isinstance(keys, str) else json.dumps({"keys": keys}))
    os.replace(staged, path)


def reload_and_wait(demo, marker):
    """Sends SIGHUP and waits for one more `marker` line in the demo's output."""
    seen = demo.output().count(marker)
    demo.process.send_signal(signal.SIGHUP)
    deadline = time.monotonic() + 15
    while demo.output().count(marker) <= seen:
        assert demo.process.poll() is None, f"the demo exited on SIGHUP:\n{demo.output()}"
        assert time.monotonic() < deadline, f"no {marker!r} after SIGHUP:\n{demo.output()}"
        time.sleep(0.1)


@pytest.mark.parametrize("framework", list(DEMOS))
def test_keys_rotate_and_drop_without_a_restart(framework):
    with running_demo(framework) as demo:
        key_file = Path(demo.workdir) / ".sesame" / "development-keys.json"
        old = json.loads(key_file.read_text())["keys"][0]
        email = f"keys-{secrets.token_hex(6)}@example.com"
        early = HTTPClient(demo)
        early.sign_in_with_link(email)
        assert early.send("/api/me")[0] == 200 and session_kid(early) == old["kid"]

        # Rotation: a new active key, the old one kept for verification.
        new = ECKey.generate_key("P-256", parameters={"alg": "ES256", "use": "sig", "kid": "rotated-" + secrets.token_hex(4)})
        new = {**new.as_dict(private=True), "alg": "ES256"}
        write_keys(key_file, [new, old])
        reload_and_wait(demo, "Replaced the keys")
        late = HTTPClient(demo)
        late.sign_in_with_link(email)
        assert session_kid(late) == new["kid"]
        assert early.send("/api/me")[0] == 200 and late.send("/api/me")[0] == 200

        # The old key dropped: the session it signed ends at once; the new one goes on.
        write_keys(key_file, [new])
        reload_and_wait(demo, "Replaced the keys")
        assert early.send("/api/me")[0] == 401
        assert late.send("/api/me")[0] == 200

        # A file that does not load keeps the keys the demo has.
        write_keys(key_file, '{"keys": [')
        reload_and_wait(demo, "Could not load the keys")
        assert late.send("/api/me")[0] == 200
        other = HTTPClient(demo)
        other.sign_in_with_link(email)
        assert session_kid(other) == new["kid"]


@pytest.mark.parametrize("framework", list(DEMOS))
def test_stored_session_cookies_follow_the_keys(framework):
    """Stored sessions (SQLite): the cookie's MAC is checked under the reloaded keys, and the check a cache remembers
    is made again after a reload, so a cookie whose key was dropped is refused although it was accepted before."""
    with running_demo(framework, {"SESAME_SESSION_STORE": "sqlite"}) as demo:
        key_file = Path(demo.workdir) / ".sesame" / "development-keys.json"
        old = json.loads(key_file.read_text())["keys"][0]
        email = f"keys-{secrets.token_hex(6)}@example.com"
        early = HTTPClient(demo)
        early.sign_in_with_link(email)
        assert early.send("/api/me")[0] == 200

        new = ECKey.generate_key("P-256", parameters={"alg": "ES256", "use": "sig", "kid": "rotated-" + secrets.token_hex(4)})
        write_keys(key_file, [{**new.as_dict(private=True), "alg": "ES256"}, old])
        reload_and_wait(demo, "Replaced the keys")
        late = HTTPClient(demo)
        late.sign_in_with_link(email)
        assert early.send("/api/me")[0] == 200 and late.send("/api/me")[0] == 200

        write_keys(key_file, [{**new.as_dict(private=True), "alg": "ES256"}])
        reload_and_wait(demo, "Replaced the keys")
        assert early.send("/api/me")[0] == 401
        assert late.send("/api/me")[0] == 200
