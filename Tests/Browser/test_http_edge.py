"""Bad input at the HTTP edge, against both demos over raw sockets (no browser): every route with every method,
oversized and malformed headers, cookies and bodies, invalid percent-encoding and UTF-8, deep JSON, and slow
bodies. The rules: no 5xx, no dropped connection without an answer, the demo alive after each case, and every JSON
refusal with one of the documented stable codes. The counts are printed (run with -s) for docs/security.md.
"""

import json
import re
import socket
import threading
import time
from collections import Counter
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]

# The stable codes: Sesame's AuthError codes, and the demo's own few.
CODES = set(re.findall(r'code: "([a-z_]+)"', (REPO / "Sources/Sesame/Errors/AuthError.swift").read_text()))
CODES |= {"unauthorized", "forbidden", "forbidden_origin", "invalid_request", "not_found", "temporarily_unavailable"}

ROUTES = [
    "/", "/check-email", "/dev/outbox?to=a%40example.com", "/signout", "/protected", "/account", "/account/unlink",
    "/account/signout-everywhere", "/account/delete", "/account/two-factor", "/account/security", "/account/password",
    "/account/passkeys", "/account/passkeys/options", "/account/passkeys/rename", "/account/passkeys/delete",
    "/account/sessions/end", "/api/me", "/client", "/client.js",
    "/auth", "/auth/providers", "/auth/csrf", "/auth/session", "/auth/signin", "/auth/signout", "/auth/error?error=x",
    "/auth/verify-request", "/auth/passkey.js", "/auth/client.js", "/auth/client.d.ts", "/auth/token", "/auth/revoke",
    "/auth/native/authorize", "/auth/native/complete", "/auth/native/other", "/auth/webauthn-options/passkey",
    "/auth/signin/link", "/auth/signin/password", "/auth/signin/passkey", "/auth/signin/nope",
    "/auth/callback/link", "/auth/callback/password", "/auth/callback/passkey", "/auth/callback/nope",
    "/auth/link/authorize", "/auth/link/callback", "/auth/password/authorize", "/auth/password/signup",
    "/auth/password/verify", "/auth/password/resend", "/auth/password/forgot", "/auth/password/reset",
    "/auth/password/two-factor", "/auth/password/two-factor-options", "/auth/passkey/signup", "/auth/passkey/signup-options",
    "/auth/passkey/options", "/auth/nope/authorize", "/auth/a/b/c/d", "/nope",
]
METHODS = ["GET", "HEAD", "POST", "PUT", "DELETE", "PATCH", "OPTIONS", "TRACE", "BREW"]


class Results:
    """What the battery saw, by kind of case."""

    def __init__(self):
        self.cases = Counter()
        self.statuses = Counter()

    def record(self, kind, status):
        self.cases[kind] += 1
        self.statuses[status // 100 * 100 if status else 0] += 1


RESULTS = {}


def exchange(demo, raw, timeout=15, pace=None):
    """Sends raw request bytes on a fresh connection and answers (status, headers, body); status 0 when the server
    closed without answering. `pace` = (chunk, seconds) dribbles the bytes."""
    port = int(demo.base_url.rsplit(":", 1)[1])
    with socket.create_connection(("127.0.0.1", port), timeout=timeout) as connection:
        try:
            if pace:
                chunk, delay = pace
                for start in range(0, len(raw), chunk):
                    connection.sendall(raw[start:start + chunk])
                    time.sleep(delay)
            else:
                connection.sendall(raw)
        except (BrokenPipeError, ConnectionResetError, socket.timeout):
            pass  # the server may answer (413, 431) and close, or stop reading, before taking everything
        data = b""
        try:
            while True:
                part = connection.recv(65536)
                if not part:
                    break
                data += part
                if b"\r\n\r\n" in data and response_complete(data):
                    break
        except (ConnectionResetError, socket.timeout):
            pass
    if not data.startswith(b"HTTP/1."):
        return 0, {}, b""
    head, _, body = data.partition(b"\r\n\r\n")
    lines = head.decode("latin-1").split("\r\n")
    status = int(lines[0].split(" ")[1])
    headers = {}
    for line in lines[1:]:
        name, _, value = line.partition(":")
        headers[name.strip().lower()] = value.strip()
    return status, headers, body


def response_complete(data):
    head, _, body = data.partition(b"\r\n\r\n")
    match = re.search(rb"(?i)content-length:\s*(\d+)", head)
    if match:
        return len(body) >= int(match.group(1))
    return b"transfer-encoding: chunked" in head.lower() and body.endswith(b"0\r\n\r\n")


def request(method, target, host, headers=(), body=b""):
    lines = [f"{method} {target} HTTP/1.1".encode("latin-1") if isinstance(target, str) else method.encode() + b" " + target + b" HTTP/1.1",
             b"Host: " + host.encode(), b"Connection: close"]
    for header in headers:
        lines.append(header if isinstance(header, bytes) else header.encode("latin-1"))
    if body or method in ("POST", "PUT", "PATCH"):
        lines.append(b"Content-Length: " + str(len(body)).encode())
    return b"\r\n".join(lines) + b"\r\n\r\n" + body


def check(demo, kind, status, headers, body, allow_no_answer=False):
    """The rules for one answer."""
    results = RESULTS.setdefault(demo.framework, Results())
    results.record(kind, status)
    assert status != 0 or allow_no_answer, f"{kind}: no answer"
    assert status < 500, f"{kind}: {status} {body[:200]!r}"
    if status >= 400 and headers.get("content-type", "").startswith("application/json") and body:
        error = json.loads(body).get("error")
        assert isinstance(error, str) and error in CODES, f"{kind}: undocumented code {error!r}"
    assert demo.process.poll() is None, f"{kind}: the demo exited"


def host_of(demo):
    return demo.base_url.split("//", 1)[1]


# MARK: Routes and methods


def test_every_route_with_every_method(demo):
    host = host_of(demo)
    for route in ROUTES:
        for method in METHODS:
            for headers in ([], ["Content-Type: application/x-www-form-urlencoded", f"Origin: {demo.base_url}"],
                            ["Content-Type: application/json", "Accept: application/json"]):
                body = b"" if method in ("GET", "HEAD", "OPTIONS", "TRACE") else (b"{}" if "json" in "".join(headers) else b"a=b")
                status, response_headers, response_body = exchange(demo, request(method, route, host, headers, body))
                # A method HTTP does not define is a protocol error to the parser: it may close without answering.
                check(demo, "route x method", status, response_headers, response_body, allow_no_answer=method == "BREW")


# MARK: Headers and cookies


def test_oversized_and_malformed_headers_and_cookies(demo):
    host = host_of(demo)
    cases = {
        "64 KiB cookie": ["Cookie: a=" + "x" * 65536],
        "2,000 cookies": ["Cookie: " + "; ".join(f"c{i}=v" for i in range(2000))],
        "garbage cookies": ["Cookie: ==;;; =; a==b; ;;"],
        "garbage session cookies": ["Cookie: sesame-session=" + "A" * 300 + "; sesame-session.0=x; sesame-session.1=%%%"],
        "a token of dots": ["Cookie: sesame-session=...."],
        "a huge bearer": ["Authorization: Bearer " + "a" * 20000],
        "a malformed bearer": ["Authorization: Bearer a.b.c.d.e.f"],
        "basic auth": ["Authorization: Basic !!!"],
        "many headers": [f"X-H{i}: v" for i in range(500)],
        "a forwarded chain": ["X-Forwarded-For: " + ", ".join(["1.2.3.4"] * 2000), "Forwarded: for=\"[::1\";;;"],
        "bad origin": ["Origin: null", "Sec-Fetch-Site: cross-site"],
        "odd accept": ["Accept: text/html;q=abc, */*;;;"],
    }
    for name, headers in cases.items():
        for route in ["/", "/api/me", "/auth/session", "/auth/csrf", "/auth/signin", "/protected"]:
            status, response_headers, body = exchange(demo, request("GET", route, host, headers))
            # A server may close on headers it will not read (431): an answer or a clean close, never a 5xx.
            check(demo, "header/cookie", status, response_headers, body, allow_no_answer=True)
    # Bytes that are not UTF-8 (nor valid header text) in a cookie, a header and the path.
    for raw in [
        request("GET", "/auth/session", host, [b"Cookie: sesame-session=\xff\xfe\xc3\x28; x=\x80"]),
        request("GET", "/api/me", host, [b"Authorization: Bearer \xff\xff.\xfe.\x00"]),
        request("GET", b"/auth/\xff\xfe", host),
        request("GET", b"/%C0%AF%ff", host),
    ]:
        status, response_headers, body = exchange(demo, raw)
        check(demo, "non-UTF-8", status, response_headers, body, allow_no_answer=True)


# MARK: Query strings and forms


def test_invalid_percent_encoding_and_utf8_in_queries_and_forms(demo):
    host = host_of(demo)
    values = ["%", "%zz", "%E0%A4", "%C0%AF", "%ED%A0%80", "%00", "a%2", "%%%%", "\u00e9".encode().decode("latin-1"), "x" * 20000]
    routes = ["/auth/signin?callbackUrl=", "/auth/error?error=", "/auth/native/authorize?client_id=", "/?redirect=",
              "/auth/webauthn-options/passkey?callbackUrl=", "/auth/password/reset?token=", "/dev/outbox?to="]
    for route in routes:
        for value in values:
            status, headers, body = exchange(demo, request("GET", route + value, host))
            # Raw non-ASCII in the request line is a protocol error to the HTTP parser (Vapor's closes the
            # connection); a very long line may be refused the same way.
            check(demo, "query", status, headers, body, allow_no_answer=len(value) > 10000 or not value.isascii())
    forms = [b"email=%zz&password=%", b"email=%E0%A4&password=x", b"&&&==&=", b"email=" + b"\xff" * 100, b"a" * 70000,
             b"csrfToken=%00&email=a%40b.c"]
    for route in ["/auth/signin/link", "/auth/callback/password", "/auth/password/signup", "/auth/token", "/auth/revoke",
                  "/auth/signout", "/account/password", "/auth/passkey/signup"]:
        for form in forms:
            status, headers, body = exchange(demo, request("POST", route, host, [
                "Content-Type: application/x-www-form-urlencoded", f"Origin: {demo.base_url}"], form))
            check(demo, "form", status, headers, body)


# MARK: Bodies


def test_deep_large_and_malformed_json_bodies(demo):
    host = host_of(demo)
    bodies = {
        "deep arrays": b"[" * 100000 + b"]" * 100000,
        "deep objects": b'{"a":' * 50000 + b"1" + b"}" * 50000,
        "truncated": b'{"data": {"a": [1, 2,',
        "not UTF-8": b'{"data": "\xff\xfe"}',
        "huge string": b'{"data": "' + b"x" * 900000 + b'"}',
        "duplicate keys": b'{"csrfToken": "a", "csrfToken": "b", "action": "authenticate", "action": "register"}',
        "numbers": b'{"data": 1e999999, "n": -0, "m": 123456789012345678901234567890}',
        "credential of garbage": b'{"action": "authenticate", "data": {"id": "", "rawId": "!!", "response": {"clientDataJSON": "%%%", "authenticatorData": "", "signature": ""}}}',
        "10 MB": b'{"a": "' + b"x" * 10_000_000 + b'"}',
    }
    for route in ["/auth/session", "/auth/callback/passkey", "/auth/passkey/signup-options", "/auth/password/two-factor",
                  "/auth/token", "/account/passkeys", "/auth/callback/password"]:
        for name, body in bodies.items():
            status, headers, response = exchange(demo, request("POST", route, host, [
                "Content-Type: application/json", "Accept: application/json", f"Origin: {demo.base_url}"], body))
            check(demo, "json body", status, headers, response, allow_no_answer=name == "10 MB")


def test_slow_bodies_do_not_hold_up_other_requests(demo):
    """Three clients dribble a body (a byte every 0.2 s); meanwhile, other requests are answered at once."""
    host = host_of(demo)
    slow = request("POST", "/auth/callback/password", host, [
        "Content-Type: application/x-www-form-urlencoded", f"Origin: {demo.base_url}"], b"email=a%40example.com&password=" + b"x" * 30)
    answers = []

    def dribble():
        answers.append(exchange(demo, slow, timeout=30, pace=(1, 0.2)))

    threads = [threading.Thread(target=dribble) for _ in range(3)]
    for thread in threads:
        thread.start()
    time.sleep(1)
    for _ in range(20):
        status, headers, body = exchange(demo, request("GET", "/auth/providers", host), timeout=5)
        check(demo, "beside slow bodies", status, headers, body)
        assert status == 200
    for thread in threads:
        thread.join()
    for status, headers, body in answers:
        check(demo, "slow body", status, headers, body, allow_no_answer=True)


def test_zz_summary(demo):
    """Prints what the battery saw on this demo (run with -s); fails if nothing was counted."""
    results = RESULTS.get(demo.framework)
    assert results and sum(results.cases.values()) > 1000
    print(f"\n{demo.framework}: {sum(results.cases.values())} cases {dict(results.cases)}; answers by class {dict(sorted(results.statuses.items()))}")


@pytest.fixture(autouse=True)
def the_demo_survives(demo):
    yield
    assert demo.process.poll() is None, "the demo exited"
