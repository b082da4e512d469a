"""Two demo processes on one store, no sticky sessions: a Hummingbird demo and a Vapor demo share one Redis (and
again one PostgreSQL), and a client alternates between them.

What one instance does, the other knows at once: a session made on one works on the other; a sign-out and a "sign
out everywhere" on one are refused on the other; a sign-in link redeemed on one cannot be redeemed on the other; the
rate limits are one budget; a refresh token rotated on one is spent on the other, and its reuse there ends the
family for both. Both processes serve one site (the same base URL, the same keys), as behind a load balancer.
"""

import base64
import hashlib
import http.cookiejar
import json
import os
import secrets
import subprocess
import tempfile
import urllib.error
import urllib.parse
import urllib.request
from pathlib import Path

import pytest

from conftest import REPO, free_port, start_demo, stop_demo

NATIVE_CLIENT = "sesame-demo-app"
NATIVE_REDIRECT = "sesame-demo:/signed-in"


@pytest.fixture(scope="module")
def stores():
    """The Redis and PostgreSQL URLs: scripts/test's servers (SESAME_TEST_REDIS_URL, SESAME_TEST_POSTGRES_URL), or
    private ones started here on loopback (and stopped afterwards)."""
    redis_url = os.environ.get("SESAME_TEST_REDIS_URL")
    postgres_url = os.environ.get("SESAME_TEST_POSTGRES_URL")
    services = None
    if not redis_url or not postgres_url:
        services = tempfile.mkdtemp(prefix="sesame-instances-")
        os.chmod(services, 0o755)
        if not redis_url:
            port = free_port()
            subprocess.run([REPO / "scripts/services/redis", "start", f"{services}/redis", str(port)], check=True)
            redis_url = f"redis://127.0.0.1:{port}/0"
        if not postgres_url:
            port = free_port()
            started = subprocess.run([REPO / "scripts/services/postgres", "start", f"{services}/postgres", str(port)],
                                     check=True, capture_output=True, text=True)
            postgres_url = started.stdout.strip().splitlines()[-1]
    try:
        yield {"redis": redis_url, "postgres": postgres_url}
    finally:
        if services:
            subprocess.run([REPO / "scripts/services/redis", "stop", f"{services}/redis"], check=False)
            subprocess.run([REPO / "scripts/services/postgres", "stop", f"{services}/postgres"], check=False)


class Pair:
    """Two demos serving one site: `a` on Hummingbird, `b` on Vapor."""

    def __init__(self, a, b, site, mode):
        self.a, self.b, self.site, self.mode = a, b, site, mode

    def on(self, server, link):
        """`link` (made for the site) as sent to `server`."""
        parts = urllib.parse.urlsplit(link)
        return urllib.parse.urlunsplit(parts._replace(netloc=urllib.parse.urlsplit(server.base_url).netloc))


@pytest.fixture(scope="module", params=[("redis", "redis"), ("postgres", "postgres"), ("redis", "stateless"),
                                        ("postgres", "stateless")], ids=lambda p: f"{p[0]}-{p[1]}")
def pair(request, stores):
    """A Hummingbird and a Vapor demo on one store: store-backed sessions there, or stateless sessions with their
    revocations, one-time flows, rate limits and refresh tokens there."""
    backend, mode = request.param
    workdir = tempfile.mkdtemp(prefix="sesame-instances-")
    port_a, port_b = free_port(), free_port()
    site = f"http://localhost:{port_a}"
    extra = {"SESAME_REDIS_URL" if backend == "redis" else "SESAME_POSTGRES_URL": stores[backend],
             "SESAME_SQLITE_PATH": str(Path(workdir) / "users.sqlite")}
    if mode != "stateless":
        extra["SESAME_SESSION_STORE"] = backend
    forget_rate_limits(backend, stores[backend])
    # The first writes the development keys into the shared directory; the second reads them.
    a = start_demo("hummingbird", port_a, workdir, extra, base_url=site)
    try:
        b = start_demo("vapor", port_b, workdir, extra, base_url=site)
        try:
            yield Pair(a, b, site, mode)
        finally:
            stop_demo(b)
    finally:
        stop_demo(a)


def forget_rate_limits(backend, url):
    """Empties the store's rate-limit buckets, so that each pair starts with the whole budget (all the pairs' requests
    come from 127.0.0.1)."""
    if backend == "redis":
        parts = urllib.parse.urlsplit(url)
        cli = ["redis-cli", "-h", parts.hostname, "-p", str(parts.port or 6379), "-n", parts.path.strip("/") or "0"]
        keys = subprocess.run(cli + ["--scan", "--pattern", "sesame:*-address:*"], capture_output=True, text=True, check=True).stdout.split()
        keys += subprocess.run(cli + ["--scan", "--pattern", "sesame:*-client:*"], capture_output=True, text=True, check=True).stdout.split()
        if keys:
            subprocess.run(cli + ["DEL", *keys], capture_output=True, check=True)
    else:
        subprocess.run(["psql", url, "-q", "-c", "DO $$ BEGIN IF to_regclass('sesame_rate_limits') IS NOT NULL THEN "
                        "DELETE FROM sesame_rate_limits; END IF; END $$;"], capture_output=True, check=True)


class NoRedirects(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args, **kwargs):
        return None


class Client:
    """One browser: a cookie jar shared by both instances (cookies ignore ports), the site's Origin on every
    request, redirects not followed."""

    def __init__(self, pair):
        self.pair = pair
        self.jar = http.cookiejar.CookieJar()
        self.opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(self.jar), NoRedirects())

    def send(self, server, path, form=None, headers=None, accept="application/json"):
        url = path if path.startswith("http") else server.url(path)
        data = urllib.parse.urlencode(form).encode() if form is not None else None
        request = urllib.request.Request(url, data=data, method="POST" if data is not None else "GET")
        request.add_header("Accept", accept)
        request.add_header("Origin", self.pair.site)
        for name, value in (headers or {}).items():
            request.add_header(name, value)
        try:
            with self.opener.open(request, timeout=15) as response:
                return response.status, dict(response.headers), response.read()
        except urllib.error.HTTPError as error:
            return error.code, dict(error.headers), error.read()

    def csrf(self, server):
        status, _, body = self.send(server, "/auth/csrf")
        assert status == 200, body
        return json.loads(body)["csrfToken"]

    def request_link(self, server, email, callback=None):
        form = {"email": email, "csrfToken": self.csrf(server)}
        if callback:
            form["callbackUrl"] = callback
        return self.send(server, "/auth/signin/link", form)

    def me(self, server):
        status, _, body = self.send(server, "/api/me")
        return status, (json.loads(body) if body.startswith(b"{") else body)


def sign_in(pair, client, email, request_on, redeem_on):
    """Requests a link from one instance and redeems it on the other; returns the link."""
    before = len(request_on.links_for(email))
    status, _, body = client.request_link(request_on, email)
    assert status in (200, 302, 303), body
    link = request_on.wait_for_link(email, after=before)
    status, headers, body = client.send(redeem_on, pair.on(redeem_on, link))
    assert status in (302, 303), (status, body)
    assert "error" not in headers.get("Location", ""), headers
    return link


def fresh_email():
    return f"user-{secrets.token_hex(6)}@example.com"


def test_a_session_made_on_one_instance_works_on_the_other(pair):
    client, email = Client(pair), fresh_email()
    sign_in(pair, client, email, request_on=pair.a, redeem_on=pair.b)
    for server in (pair.a, pair.b, pair.a):
        status, me = client.me(server)
        assert status == 200 and me["email"] == email, (server.framework, status, me)
    status, _, body = client.send(pair.a, "/auth/session")
    assert status == 200 and json.loads(body)["user"]["email"] == email


def test_a_link_redeemed_on_one_instance_is_refused_on_the_other(pair):
    client, email = Client(pair), fresh_email()
    before = len(pair.b.links_for(email))
    status, _, body = client.request_link(pair.b, email)
    assert status == 200, body
    link = pair.b.wait_for_link(email, after=before)
    # The link is bound to the browser that asked for it: a copy of that browser, binding cookie and all, tries
    # again after the first redemption, so only the spent link can stop it.
    binding = list(client.jar)
    status, headers, body = client.send(pair.a, pair.on(pair.a, link))
    assert status in (302, 303) and "error" not in headers.get("Location", ""), (status, headers, body)
    assert client.me(pair.b)[0] == 200
    for server in (pair.b, pair.a):
        thief = Client(pair)
        for cookie in binding:
            thief.jar.set_cookie(cookie)
        status, headers, body = thief.send(server, pair.on(server, link))
        # Spent: the link's one-time ID is in the shared replay store (the binding cookie matched).
        assert status == 400 and "already used" in json.loads(body)["error_description"], (server.framework, status, body)
        assert thief.me(server)[0] == 401


def test_sign_out_on_one_instance_is_refused_on_the_other_at_once(pair):
    client, email = Client(pair), fresh_email()
    sign_in(pair, client, email, request_on=pair.a, redeem_on=pair.a)
    stolen = [(c.name, c.value) for c in client.jar]
    status, _, body = client.send(pair.a, "/auth/signout", {"csrfToken": client.csrf(pair.a)})
    assert status in (200, 302, 303), body
    # The same cookie, replayed on the other instance right after, is refused.
    replay = Client(pair)
    for name, value in stolen:
        replay.jar.set_cookie(http.cookiejar.Cookie(0, name, value, None, False, "localhost", False, False, "/", True,
                                                    False, None, False, None, None, {}))
    assert replay.me(pair.b)[0] == 401
    assert replay.me(pair.a)[0] == 401


def test_sign_out_everywhere_on_one_instance_ends_sessions_served_by_the_other(pair):
    email = fresh_email()
    laptop, phone = Client(pair), Client(pair)
    sign_in(pair, laptop, email, request_on=pair.a, redeem_on=pair.a)
    sign_in(pair, phone, email, request_on=pair.b, redeem_on=pair.b)
    assert phone.me(pair.b)[0] == 200 and laptop.me(pair.a)[0] == 200
    status, _, body = laptop.send(pair.a, "/account/signout-everywhere", {})
    assert status in (302, 303), body
    assert phone.me(pair.b)[0] == 401
    assert phone.me(pair.a)[0] == 401
    assert laptop.me(pair.b)[0] == 401


def test_rate_limits_are_one_budget_across_instances(pair):
    client, email = Client(pair), fresh_email()
    # Five links per address per two minutes, wherever they are asked for.
    answers = []
    for index in range(7):
        server = pair.a if index % 2 == 0 else pair.b
        status, headers, body = client.request_link(server, email)
        answers.append((server.framework, status, headers.get("Location", "")))
    allowed = [a for a in answers if a[1] in (200, 302, 303) and "error" not in a[2]]
    limited = [a for a in answers if a not in allowed]
    assert len(allowed) == 5, answers
    assert all(status == 429 or "error" in location for _, status, location in limited), answers


def pkce():
    verifier = secrets.token_urlsafe(48)
    challenge = base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest()).rstrip(b"=").decode()
    return verifier, challenge


def native_tokens(pair, client, email):
    """A native app's sign-in: authorize on one instance, sign in and complete there, exchange the code on the other."""
    verifier, challenge = pkce()
    state = secrets.token_urlsafe(16)
    query = urllib.parse.urlencode({"response_type": "code", "client_id": NATIVE_CLIENT, "redirect_uri": NATIVE_REDIRECT,
                                    "code_challenge": challenge, "code_challenge_method": "S256", "state": state})
    status, headers, body = client.send(pair.a, f"/auth/native/authorize?{query}", accept="text/html")
    assert status in (302, 303), (status, body)
    before = len(pair.a.links_for(email))
    status, _, body = client.request_link(pair.a, email, callback="/auth/native/complete")
    link = pair.a.wait_for_link(email, after=before)
    status, headers, _ = client.send(pair.a, pair.on(pair.a, link), accept="text/html")
    assert status in (302, 303) and headers["Location"].endswith("/auth/native/complete"), headers
    status, headers, body = client.send(pair.a, "/auth/native/complete", accept="text/html")
    assert status in (302, 303) and headers["Location"].startswith(NATIVE_REDIRECT), (status, headers, body)
    returned = dict(urllib.parse.parse_qsl(urllib.parse.urlsplit(headers["Location"]).query))
    assert returned["state"] == state
    exchange = {"grant_type": "authorization_code", "code": returned["code"], "code_verifier": verifier,
                "client_id": NATIVE_CLIENT, "redirect_uri": NATIVE_REDIRECT}
    status, _, body = Client(pair).send(pair.b, "/auth/token", exchange)
    assert status == 200, body
    return json.loads(body), exchange


def refresh(pair, server, token):
    return Client(pair).send(server, "/auth/token", {"grant_type": "refresh_token", "refresh_token": token,
                                                     "client_id": NATIVE_CLIENT})


# Native apps' access tokens are the stateless session tokens: the two stateless pairs.
@pytest.mark.parametrize("pair", [("redis", "stateless"), ("postgres", "stateless")], indirect=True,
                         ids=["redis-stateless", "postgres-stateless"])
def test_refresh_token_rotation_is_one_family_across_instances(pair):
    tokens, exchange = native_tokens(pair, Client(pair), fresh_email())
    # The code was spent on B: A refuses it, and (a replayed code) revokes what it gave.
    status, _, body = Client(pair).send(pair.a, "/auth/token", exchange)
    assert status == 400 and json.loads(body)["error"] == "invalid_grant", body
    tokens, _ = native_tokens(pair, Client(pair), fresh_email())
    status, _, body = refresh(pair, pair.a, tokens["refresh_token"])
    assert status == 200, body
    rotated = json.loads(body)
    assert rotated["refresh_token"] != tokens["refresh_token"]
    status, _, body = refresh(pair, pair.b, rotated["refresh_token"])
    assert status == 200, body
    newest = json.loads(body)
    # The first token again, on the other instance, after the family moved on twice: reuse, and the family ends for
    # both instances (its latest refresh token and access token with it).
    status, _, body = refresh(pair, pair.b, tokens["refresh_token"])
    assert status == 400 and json.loads(body)["error"] == "invalid_grant", body
    for server in (pair.a, pair.b):
        status, _, body = refresh(pair, server, newest["refresh_token"])
        assert status == 400 and json.loads(body)["error"] == "invalid_grant", (server.framework, body)
        status, _, _ = Client(pair).send(server, "/api/me", headers={"Authorization": f"Bearer {newest['access_token']}"})
        assert status == 401, server.framework
