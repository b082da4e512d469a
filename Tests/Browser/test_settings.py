"""The demos configured through swift-configuration (`SesameSettings`): a JSON file named by SESAME_CONFIG_FILE
chooses the session store, its SQLite file and the session lifetime, under the environment; a wrong value stops the
demo at start with the key named."""

import json
import os
import secrets
import shutil
import subprocess
import tempfile
import time
import urllib.request
from pathlib import Path

import pytest

from conftest import DEMOS, HTTPClient, demo_binary, free_port, running_demo


def config_file(settings):
    handle, path = tempfile.mkstemp(prefix="sesame-settings-", suffix=".json")
    with os.fdopen(handle, "w") as file:
        json.dump({"sesame": settings}, file)
    return path


def set_cookies(client):
    jar = next(h.cookiejar for h in client.opener.handlers if isinstance(h, urllib.request.HTTPCookieProcessor))
    return {cookie.name: cookie for cookie in jar}


@pytest.mark.parametrize("framework", list(DEMOS))
def test_a_config_file_chooses_the_store_its_file_and_the_lifetime(framework):
    path = config_file({"session": {"store": "sqlite", "lifetime": 7200}, "sqlite": {"path": "data/app.sqlite"}})
    try:
        with running_demo(framework, {"SESAME_CONFIG_FILE": path}) as demo:
            client = HTTPClient(demo)
            client.sign_in_with_link(f"settings-{secrets.token_hex(6)}@example.com")
            cookies = set_cookies(client)
            # Stored sessions (the `sesame-sid` cookie) in the configured file, living the configured two hours.
            assert "sesame-sid" in cookies and "sesame-session" not in cookies
            assert (Path(demo.workdir) / "data" / "app.sqlite").exists()
            assert 7000 < cookies["sesame-sid"].expires - time.time() <= 7200
            assert client.send("/api/me")[0] == 200
    finally:
        os.unlink(path)


@pytest.mark.parametrize("framework", list(DEMOS))
def test_the_environment_wins_over_the_file(framework):
    path = config_file({"session": {"store": "sqlite"}})
    try:
        with running_demo(framework, {"SESAME_CONFIG_FILE": path, "SESAME_SESSION_STORE": "stateless"}) as demo:
            client = HTTPClient(demo)
            client.sign_in_with_link(f"settings-{secrets.token_hex(6)}@example.com")
            assert "sesame-session" in set_cookies(client) and "sesame-sid" not in set_cookies(client)
    finally:
        os.unlink(path)


@pytest.mark.parametrize("framework", list(DEMOS))
def test_a_wrong_setting_stops_the_demo_naming_the_key(framework):
    path = config_file({"session": {"store": "floppy"}})
    workdir = tempfile.mkdtemp(prefix="sesame-settings-")
    try:
        env = {k: v for k, v in os.environ.items() if not k.startswith("SESAME_")}
        env.update(PORT=str(free_port()), SESAME_CONFIG_FILE=path)
        done = subprocess.run([str(demo_binary(framework))], cwd=workdir, env=env, stdin=subprocess.DEVNULL,
                              capture_output=True, text=True, timeout=60)
        output = done.stdout + done.stderr
        assert done.returncode != 0 and "sesame.session.store" in output, output
    finally:
        os.unlink(path)
        shutil.rmtree(workdir, ignore_errors=True)
