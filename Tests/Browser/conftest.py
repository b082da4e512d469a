"""The browser tests' fixtures: the two demos (`demo`), headless Chromium (`browser`, light and dark) and Chromium with
a virtual passkey authenticator (`passkey_browser`)."""

import contextlib
import os
import re
import shutil
import signal
import socket
import subprocess
import tempfile
import threading
import time
import http.cookiejar
import json
import urllib.error
import urllib.parse
import urllib.request
from pathlib import Path

import pytest
from selenium import webdriver
from selenium.webdriver.chrome.service import Service

REPO = Path(__file__).resolve().parents[2]
LINK_LINE = re.compile(r"Development sign-in link for (\S+): (\S+)")


class Demo:
    """A running demo (`sesame-demo` or `sesame-demo-vapor`): its base URL and everything it has printed so far."""

    def __init__(self, framework, process, base_url, workdir):
        self.framework = framework
        self.process = process
        self.base_url = base_url
        self.workdir = workdir
        self.lines = []
        self._lock = threading.Lock()
        self._reader = threading.Thread(target=self._read, daemon=True)
        self._reader.start()

    def _read(self):
        for raw in self.process.stdout:
            with self._lock:
                self.lines.append(raw.decode("utf-8", "replace").rstrip("\n"))

    def output(self):
        with self._lock:
            return "\n".join(self.lines)

    def url(self, path):
        return self.base_url + path

    def links_for(self, email):
        """The sign-in links the demo printed for `email`, oldest first."""
        with self._lock:
            return [m.group(2) for line in self.lines if (m := LINK_LINE.search(line)) and m.group(1) == email]

    def wait_for_link(self, email, after=0, timeout=15):
        """The first link for `email` beyond the `after` ones already seen, waiting for the log line."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            links = self.links_for(email)
            if len(links) > after:
                return links[after]
            if self.process.poll() is not None:
                break
            time.sleep(0.1)
        raise AssertionError(f"no sign-in link for {email} in the demo's output:\n{self.output()}")


def free_port():
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


DEMOS = {
    "hummingbird": ("SESAME_DEMO_BINARY", "sesame-demo"),
    "vapor": ("SESAME_DEMO_VAPOR_BINARY", "sesame-demo-vapor"),
}


def demo_binary(framework):
    """The prebuilt demo for `framework`: env SESAME_DEMO_BINARY (Hummingbird) or SESAME_DEMO_VAPOR_BINARY (Vapor),
    default .build/debug/sesame-demo or .build/debug/sesame-demo-vapor, relative to the working directory or the
    repository."""
    variable, product = DEMOS[framework]
    binary = Path(os.environ.get(variable, f".build/debug/{product}"))
    if not binary.is_absolute():
        binary = (Path.cwd() / binary) if (Path.cwd() / binary).exists() else (REPO / binary)
    if not binary.exists():
        pytest.fail(f"{binary} does not exist: build it first (swift build --product {product})")
    return binary


def start_demo(framework, port, workdir, extra=None, base_url=None):
    """Starts the `framework` demo on `port` in `workdir` (its development keys go to .sesame/ there) with the
    environment's SESAME_ variables replaced by `extra`, served as localhost unless `base_url` says otherwise
    (browsers accept a WebAuthn RP ID only on a domain), and waits until it answers."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("SESAME_")}
    env.update(PORT=str(port), **(extra or {}))
    if base_url:
        env["SESAME_BASE_URL"] = base_url
    process = subprocess.Popen([str(demo_binary(framework))], cwd=workdir, env=env, stdin=subprocess.DEVNULL,
                               stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    server = Demo(framework, process, f"http://localhost:{port}", workdir)
    deadline = time.monotonic() + 60
    while True:
        if process.poll() is not None:
            pytest.fail(f"the {framework} demo exited with {process.returncode}:\n{server.output()}")
        try:
            with urllib.request.urlopen(server.url("/auth/providers"), timeout=2) as response:
                if response.status == 200:
                    return server
        except (urllib.error.URLError, ConnectionError, TimeoutError):
            pass
        if time.monotonic() > deadline:
            stop_demo(server)
            pytest.fail(f"the {framework} demo did not answer on {server.base_url} within 60 s:\n{server.output()}")
        time.sleep(0.2)


def stop_demo(server):
    """Stops a demo with SIGINT (SIGKILL after 10 s)."""
    if server.process.poll() is None:
        server.process.send_signal(signal.SIGINT)
        try:
            server.process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            server.process.kill()
            server.process.wait()


@contextlib.contextmanager
def running_demo(framework, extra=None):
    """The `framework` demo with the SESAME_ variables `extra`, on a free loopback port, in a temporary directory,
    stopped and removed afterwards."""
    workdir = tempfile.mkdtemp(prefix="sesame-browser-")
    server = None
    try:
        server = start_demo(framework, free_port(), workdir, extra)
        yield server
    finally:
        if server:
            stop_demo(server)
        shutil.rmtree(workdir, ignore_errors=True)


@pytest.fixture(scope="session", params=list(DEMOS))
def demo(request):
    """A prebuilt demo (see ``demo_binary``), on Hummingbird or on Vapor, stateless sessions."""
    with running_demo(request.param) as server:
        yield server


def chromium_paths():
    binary = os.environ.get("CHROMIUM_BINARY") or shutil.which("chromium") or shutil.which("chromium-browser")
    driver = os.environ.get("CHROMEDRIVER") or shutil.which("chromedriver")
    if not binary or not driver:
        pytest.fail("chromium and chromium-driver are needed (apt-get install chromium chromium-driver)")
    return binary, driver


@pytest.fixture(params=["light", "dark"])
def browser(request):
    """Headless Chromium (1000x800), once with a light and once with a dark preferred colour scheme."""
    scheme = request.param
    binary, driver_path = chromium_paths()
    options = webdriver.ChromeOptions()
    options.binary_location = binary
    for argument in ["--headless=new", "--no-sandbox", "--disable-dev-shm-usage", "--window-size=1000,800",
                     "--hide-scrollbars", "--force-device-scale-factor=1"]:
        options.add_argument(argument)
    driver = webdriver.Chrome(options=options, service=Service(executable_path=driver_path))
    try:
        driver.set_window_size(1000, 800)
        # The emulated media feature stays for the tab's later navigations.
        driver.execute_cdp_cmd("Emulation.setEmulatedMedia", {"features": [{"name": "prefers-color-scheme", "value": scheme}]})
        driver.scheme = scheme
        yield driver
    finally:
        driver.quit()


@pytest.fixture
def passkey_browser():
    """Headless Chromium with a virtual platform authenticator: CTAP2, internal transport, resident keys, user
    verification, presence simulated."""
    binary, driver_path = chromium_paths()
    options = webdriver.ChromeOptions()
    options.binary_location = binary
    for argument in ["--headless=new", "--no-sandbox", "--disable-dev-shm-usage", "--window-size=1000,800", "--force-device-scale-factor=1"]:
        options.add_argument(argument)
    driver = webdriver.Chrome(options=options, service=Service(executable_path=driver_path))
    try:
        driver.scheme = "light"
        driver.execute_cdp_cmd("WebAuthn.enable", {"enableUI": False})
        driver.authenticator = add_authenticator(driver)
        yield driver
    finally:
        driver.quit()


def add_authenticator(driver, user_verified=True):
    return driver.execute_cdp_cmd("WebAuthn.addVirtualAuthenticator", {"options": {
        "protocol": "ctap2", "transport": "internal", "hasResidentKey": True, "hasUserVerification": True,
        "isUserVerified": user_verified, "automaticPresenceSimulation": True}})["authenticatorId"]


class NoRedirects(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args, **kwargs):
        return None


class HTTPClient:
    """A script's browser for one demo: a cookie jar, the demo's Origin on every request, JSON accepted, redirects
    not followed."""

    def __init__(self, server):
        self.server = server
        self.opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(http.cookiejar.CookieJar()), NoRedirects())

    def send(self, path, form=None):
        data = urllib.parse.urlencode(form).encode() if form is not None else None
        request = urllib.request.Request(self.server.url(path) if path.startswith("/") else path, data=data,
                                         method="POST" if data is not None else "GET")
        request.add_header("Accept", "application/json")
        request.add_header("Origin", self.server.base_url)
        try:
            with self.opener.open(request, timeout=15) as response:
                return response.status, dict(response.headers), response.read()
        except urllib.error.HTTPError as error:
            return error.code, dict(error.headers), error.read()

    def sign_in_with_link(self, email):
        """A magic-link sign-in for `email`; returns the link it redeemed."""
        status, _, body = self.send("/auth/csrf")
        assert status == 200, body
        seen = len(self.server.links_for(email))
        status, _, body = self.send("/auth/signin/link", {"email": email, "csrfToken": json.loads(body)["csrfToken"]})
        assert status in (200, 302, 303), body
        link = self.server.wait_for_link(email, after=seen)
        status, headers, body = self.send(link)
        assert status in (302, 303) and "error" not in headers.get("Location", ""), (status, headers, body)
        return link
