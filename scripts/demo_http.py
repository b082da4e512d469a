"""HTTP helpers the scripts that drive a running demo share (scripts/store-faults.py, scripts/memory-flood.py):
a free loopback port, one request without following redirects, and a cookie jar."""

import socket
import time
import urllib.error
import urllib.parse
import urllib.request


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class NoRedirects(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args, **kwargs):
        return None


OPENER = urllib.request.build_opener(NoRedirects())


def send(base, path, cookies="", form=None, timeout=30, client=None):
    """One request (from `client`, named in X-Forwarded-For to the demo, which trusts loopback as its proxy);
    returns (status, body, seconds, set-cookie values)."""
    data = urllib.parse.urlencode(form).encode() if form is not None else None
    request = urllib.request.Request(base + path, data=data, method="POST" if data is not None else "GET")
    request.add_header("Accept", "application/json")
    request.add_header("Origin", base)
    if cookies:
        request.add_header("Cookie", cookies)
    if client:
        request.add_header("X-Forwarded-For", client)
    start = time.monotonic()
    try:
        with OPENER.open(request, timeout=timeout) as response:
            return response.status, response.read(), time.monotonic() - start, response.headers.get_all("Set-Cookie") or []
    except urllib.error.HTTPError as error:
        return error.code, error.read(), time.monotonic() - start, error.headers.get_all("Set-Cookie") or []
    except (urllib.error.URLError, ConnectionError, TimeoutError, socket.timeout) as error:
        return 0, str(error).encode(), time.monotonic() - start, []


def cookie_header(set_cookies, jar=None):
    jar = dict(jar or {})
    for value in set_cookies:
        name, _, rest = value.partition("=")
        jar[name] = rest.split(";", 1)[0]
    return jar


def header(jar):
    return "; ".join(f"{k}={v}" for k, v in jar.items() if v)
