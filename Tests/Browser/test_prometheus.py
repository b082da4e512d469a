"""A real Prometheus server (Debian's `prometheus`) on loopback scrapes each demo's `/metrics` every second while a
script signs in (one refused attempt, one magic-link sign-in, a few reads), and its query API must then show the
sign-in, the refusal, the token cache and the store timings; nothing Prometheus stored names the person or the link."""

import json
import secrets
import shutil
import subprocess
import tempfile
import time
import urllib.error
import urllib.parse
import urllib.request
from pathlib import Path

import pytest

from conftest import HTTPClient, free_port


class Prometheus:
    """`prometheus` on a free loopback port, scraping `target` every second, its data in a temporary directory."""

    def __init__(self, target):
        binary = shutil.which("prometheus")
        if not binary:
            pytest.fail("prometheus is not installed (apt-get install prometheus; scripts/test installs it)")
        self.workdir = Path(tempfile.mkdtemp(prefix="sesame-prometheus-"))
        self.port = free_port()
        config = self.workdir / "prometheus.yml"
        config.write_text(
            "global:\n  scrape_interval: 1s\n  scrape_timeout: 1s\n"
            "scrape_configs:\n  - job_name: sesame\n    metrics_path: /metrics\n"
            f"    static_configs:\n      - targets: ['{target}']\n")
        self.log = open(self.workdir / "prometheus.log", "wb")
        self.process = subprocess.Popen(
            [binary, f"--config.file={config}", f"--storage.tsdb.path={self.workdir / 'data'}",
             f"--web.listen-address=127.0.0.1:{self.port}", "--log.level=warn"],
            stdin=subprocess.DEVNULL, stdout=self.log, stderr=subprocess.STDOUT)
        self.wait(lambda: self.api("/-/ready", raw=True) is not None, "Prometheus did not get ready")

    def api(self, path, raw=False):
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{self.port}{path}", timeout=5) as response:
                body = response.read()
                return body if raw else json.loads(body)
        except (urllib.error.URLError, ConnectionError, TimeoutError):
            if self.process.poll() is not None:
                pytest.fail(f"prometheus exited with {self.process.returncode}:\n{self.output()}")
            return None

    def query(self, expression):
        """The instant vector of a PromQL expression, as {labels-tuple: value}."""
        answer = self.api("/api/v1/query?" + urllib.parse.urlencode({"query": expression}))
        assert answer and answer["status"] == "success", answer
        return {tuple(sorted(r["metric"].items())): float(r["value"][1]) for r in answer["data"]["result"]}

    def value(self, expression):
        """The sum of an expression's series (0 when there is none)."""
        return sum(self.query(expression).values())

    def wait(self, condition, message, timeout=30):
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if condition():
                return
            if self.process.poll() is not None:
                pytest.fail(f"prometheus exited with {self.process.returncode}:\n{self.output()}")
            time.sleep(0.25)
        pytest.fail(f"{message} within {timeout} s:\n{self.output()}")

    def output(self):
        self.log.flush()
        return (self.workdir / "prometheus.log").read_text(errors="replace")[-4000:]

    def stop(self):
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        self.log.close()
        shutil.rmtree(self.workdir, ignore_errors=True)


@pytest.fixture
def prometheus(demo):
    target = urllib.parse.urlsplit(demo.base_url).netloc.replace("localhost", "127.0.0.1")
    server = Prometheus(target)
    try:
        yield server
    finally:
        server.stop()


def test_prometheus_scrapes_the_sign_in_counters(demo, prometheus):
    # Prometheus sees the demo up, and has a first sample of its counters before the sign-in.
    prometheus.wait(lambda: prometheus.value('up{job="sesame"}') == 1, "the demo was not scraped")
    prometheus.wait(lambda: prometheus.query("sesame_token_cache_total"), "no Sesame metric was scraped")
    successes = 'sesame_sign_ins_total{provider="link",outcome="success"}'
    refusals = 'sesame_refusals_total{code="invalid_token"}'
    before = {name: prometheus.value(name) for name in (successes, refusals, 'sesame_token_cache_total{result="hit"}')}

    client = HTTPClient(demo)
    email = f"metrics-{secrets.token_hex(6)}@example.com"
    # A forged link first: refused with invalid_token.
    status, _, _ = client.send("/auth/callback/link?token=" + secrets.token_urlsafe(40))
    assert status == 400
    link = client.sign_in_with_link(email)
    for _ in range(3):
        status, _, body = client.send("/api/me")
        assert status == 200 and email.encode() in body, body

    # Within a few scrapes, Prometheus's own query API shows them.
    prometheus.wait(lambda: prometheus.value(successes) >= before[successes] + 1, "the sign-in was not counted")
    prometheus.wait(lambda: prometheus.value(refusals) >= before[refusals] + 1, "the refused link was not counted")
    prometheus.wait(lambda: prometheus.value('sesame_token_cache_total{result="hit"}') > before['sesame_token_cache_total{result="hit"}'],
                    "the token cache's hits were not counted")
    assert prometheus.value('sesame_store_operation_duration_seconds_count') > 0

    # Nothing Prometheus holds names the person, the link's token or the client's address.
    labels = prometheus.api("/api/v1/labels")["data"]
    values = [v for name in labels for v in prometheus.api(f"/api/v1/label/{name}/values")["data"]]
    token = urllib.parse.parse_qs(urllib.parse.urlsplit(link).query).get("token", [""])[0]
    for value in values:
        assert "@" not in value and email not in value, value
        assert not token or token not in value, value
    exposition = urllib.request.urlopen(demo.url("/metrics"), timeout=5).read().decode()
    assert email not in exposition and "@" not in exposition and (not token or token not in exposition)
