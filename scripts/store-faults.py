#!/usr/bin/env python3
"""Store faults under load: the demo on the Redis store, then on the PostgreSQL store, under wrk, while the store
server is killed and restarted, then stopped with SIGSTOP for 10 s and continued.

    scripts/store-faults.py [redis|postgres ...] [--seconds-before N] [--report FILE]

Needs a built demo (SESAME_DEMO_BINARY, default .build/release/sesame-demo, else .build/debug/sesame-demo), wrk,
redis-server and PostgreSQL (scripts/services installs the servers; wrk comes from Debian). Each store gets its own
server on a free loopback port in a temporary directory (never the tests' servers). Exits non-zero, naming the
check, when an expectation fails:

- the demo never crashes;
- during a fault, requests that need the store answer 503 with the stable code `temporarily_unavailable`, none
  takes longer than the store's deadline (plus a margin), and requests that do not need it keep answering 200;
- within 5 s of the store's return every route works again;
- no session committed before a fault is lost, and no signed-out session comes back.

The prober's counts (by route class, status, and phase) and the recovery times are printed as a Markdown table (and
written to --report).
"""

import argparse
import json
import os
import re
import signal
import subprocess
import sys
import tempfile
import threading
import time
import urllib.error
import urllib.parse
import urllib.request
from collections import Counter
from pathlib import Path

from demo_http import cookie_header, free_port, header, send

REPO = Path(__file__).resolve().parents[1]
LINK = re.compile(r"Development sign-in link for (\S+): (\S+)")
# The stores' own deadlines (RedisConfiguration.commandTimeout 2 s, the PostgreSQL stores' operationTimeout 5 s),
# and what a request may take beyond them (the demo's own work, a reconnect attempt).
DEADLINE = {"redis": 2.0, "postgres": 5.0}
MARGIN = 1.5
RECOVERY_LIMIT = 5.0


class Demo:
    def __init__(self, binary, backend, url, workdir):
        self.port = free_port()
        self.base = f"http://localhost:{self.port}"
        env = {k: v for k, v in os.environ.items() if not k.startswith("SESAME_")}
        # Loopback is the "load balancer": each prober sign-in comes from its own client address, so the per-client
        # rate limits (one budget in the store) do not turn the probes away.
        env.update(PORT=str(self.port), SESAME_SESSION_STORE=backend, SESAME_TRUSTED_PROXIES="127.0.0.1",
                   SESAME_SQLITE_PATH=str(Path(workdir) / "users.sqlite"))
        env["SESAME_REDIS_URL" if backend == "redis" else "SESAME_POSTGRES_URL"] = url
        self.process = subprocess.Popen([binary], cwd=workdir, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
        self.lines = []
        self.lock = threading.Lock()
        threading.Thread(target=self._read, daemon=True).start()
        deadline = time.monotonic() + 60
        while send(self.base, "/auth/providers", timeout=2)[0] != 200:
            if self.process.poll() is not None or time.monotonic() > deadline:
                sys.exit(f"the demo did not start:\n{self.output()}")
            time.sleep(0.2)

    def _read(self):
        for raw in self.process.stdout:
            with self.lock:
                self.lines.append(raw.decode("utf-8", "replace"))

    def output(self):
        with self.lock:
            return "".join(self.lines[-40:])

    def link(self, email, after):
        deadline = time.monotonic() + 15
        while time.monotonic() < deadline:
            with self.lock:
                links = [m.group(2) for line in self.lines if (m := LINK.search(line)) and m.group(1) == email]
            if len(links) > after:
                return links[after]
            time.sleep(0.05)
        return None

    def sign_in(self, email, client=None):
        """A magic-link sign-in; returns the session's cookie jar, or None with the failing status."""
        status, body, _, cookies = send(self.base, "/auth/csrf", client=client)
        if status != 200:
            return None, status
        jar = cookie_header(cookies)
        with self.lock:
            before = sum(1 for line in self.lines if (m := LINK.search(line)) and m.group(1) == email)
        status, _, _, cookies = send(self.base, "/auth/signin/link", header(jar),
                                     {"email": email, "csrfToken": json.loads(body)["csrfToken"]}, client=client)
        if status not in (200, 302, 303):
            return None, status
        # The link works only in the browser that asked for it (its binding cookie).
        jar = cookie_header(cookies, jar)
        link = self.link(email, before)
        if link is None:
            return None, 0
        status, _, _, cookies = send(self.base, urllib.parse.urlsplit(link)._replace(scheme="", netloc="").geturl(),
                                     header(jar), client=client)
        jar = cookie_header(cookies, jar)
        if status not in (200, 302, 303) or not jar.get("sesame-sid"):
            return None, status
        return jar, status

    def sign_out(self, jar):
        status, body, _, cookies = send(self.base, "/auth/csrf", header(jar))
        if status != 200:
            return status
        jar = cookie_header(cookies, jar)
        return send(self.base, "/auth/signout", header(jar), {"csrfToken": json.loads(body)["csrfToken"]})[0]

    def stop(self):
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGINT)
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.kill()


class Store:
    """A private store server that can be killed, restarted, stopped and continued."""

    def __init__(self, backend, directory):
        self.backend, self.directory, self.port = backend, directory, free_port()
        self.start()

    def start(self):
        script = REPO / "scripts/services" / self.backend
        out = subprocess.run([script, "start", f"{self.directory}/{self.backend}", str(self.port)],
                             check=True, capture_output=True, text=True).stdout
        self.url = (f"redis://127.0.0.1:{self.port}/0" if self.backend == "redis" else out.strip().splitlines()[-1])

    def pids(self):
        if self.backend == "redis":
            return [int(Path(f"{self.directory}/redis/redis.pid").read_text())]
        postmaster = int(Path(f"{self.directory}/postgres/data/postmaster.pid").read_text().split()[0])
        children = subprocess.run(["ps", "-o", "pid=", "--ppid", str(postmaster)], capture_output=True, text=True).stdout.split()
        return [postmaster] + [int(p) for p in children]

    def kill(self):
        """A crash: SIGKILL for Redis (its append-only file is fsynced every second), an immediate shutdown (no
        checkpoint, recovery at the next start) for PostgreSQL."""
        if self.backend == "redis":
            for pid in self.pids():
                os.kill(pid, signal.SIGKILL)
        else:
            subprocess.run(["pkill", "-KILL", "-P", str(self.pids()[0])], check=False)
            os.kill(self.pids()[0], signal.SIGKILL)
        time.sleep(0.5)

    def signal_all(self, sig):
        for pid in self.pids():
            try:
                os.kill(pid, sig)
            except ProcessLookupError:
                pass

    def stop(self):
        self.signal_all(signal.SIGCONT)
        subprocess.run([REPO / "scripts/services" / self.backend, "stop", f"{self.directory}/{self.backend}"], check=False)


class Prober:
    """Requests of each class, one after another per class, with their time, status and duration."""

    # read: /api/me, which requires the session (503 without the store). page: the home page, where the session is
    # optional (without the store it shows the signed-out view and writes nothing; with it, it counts the visit in
    # the session's data: a store write). sign-in and sign-out need the store. static: /auth/providers.
    CLASSES = ["read", "page", "sign-in", "sign-out", "static"]
    NEEDS_STORE = {"read", "sign-in", "sign-out"}

    def __init__(self, demo, sessions):
        self.demo, self.sessions = demo, sessions
        self.records = []
        self.lock = threading.Lock()
        self.stopping = threading.Event()
        self.counter = 0

    def record(self, kind, status, seconds, body=b""):
        with self.lock:
            self.records.append((time.monotonic(), kind, status, seconds, body[:200]))

    def loop(self, kind):
        index = 0
        while not self.stopping.is_set():
            index += 1
            jar = self.sessions[index % len(self.sessions)]
            start = time.monotonic()
            if kind == "read":
                status, body, seconds, _ = send(self.demo.base, "/api/me", header(jar))
            elif kind == "page":
                status, body, seconds, cookies = send(self.demo.base, "/", header(jar))
                if any(c.startswith("sesame-sid=;") or "Max-Age=0" in c and c.startswith("sesame-sid") for c in cookies):
                    # An outage must not sign anyone out.
                    status = -1
            elif kind == "static":
                status, body, seconds, _ = send(self.demo.base, "/auth/providers")
            elif kind == "sign-in":
                with self.lock:
                    self.counter += 1
                    email = f"probe-{self.counter}@example.com"
                signed, status = self.demo.sign_in(email, client=f"10.{self.counter // 65536 % 256}.{self.counter // 256 % 256}.{self.counter % 256}")
                body, seconds = b"", time.monotonic() - start
                if signed:
                    status = 200
            else:
                with self.lock:
                    jar = self.fresh.pop() if self.fresh else None
                if jar is None:
                    time.sleep(0.05)
                    continue
                status = self.demo.sign_out(jar)
                body, seconds = b"", time.monotonic() - start
                status = 200 if status in (200, 302, 303) else status
                with self.lock:
                    # Signed out: must stay out. Refused: still signed in, tried again later.
                    (self.signed_out if status == 200 else self.fresh).append(jar)
            self.record(kind, status, seconds, body)
            # Sign-outs spend the sessions made for them: about three a second, enough for the whole run.
            time.sleep(1.0 if kind == "sign-out" else 0.05)

    def run(self, fresh):
        # Sessions to sign out (the sign-ins add more): some are signed out during the faults.
        self.fresh, self.signed_out = list(fresh), []
        # Three clients per class: a request stuck past the deadline cannot hide the others.
        self.threads = [threading.Thread(target=self.loop, args=(kind,), daemon=True) for kind in self.CLASSES for _ in range(3)]
        for thread in self.threads:
            thread.start()

    def stop(self):
        self.stopping.set()
        for thread in self.threads:
            thread.join(timeout=40)


WRK_SCRIPT = """
-- Signed-in reads (/api/me), session-data writes (the home page counts visits), and a static route, with the
-- sessions' cookies.
local paths = {"/api/me", "/", "/api/me", "/auth/providers"}
local cookies = {%s}
local counter = 0
request = function()
  counter = counter + 1
  return wrk.format("GET", paths[(counter %% #paths) + 1], {["Cookie"] = cookies[(counter %% #cookies) + 1], ["Accept"] = "application/json"})
end
"""


def visits(demo, jar):
    """The visit count the home page shows for a session (and counts one more), or None when it shows none."""
    status, body, _, _ = send(demo.base, "/", header(jar))
    found = re.search(rb"kept in the session store\): (\d+)", body)
    return int(found.group(1)) if status == 200 and found else None


def run_backend(backend, binary, seconds_before):
    directory = tempfile.mkdtemp(prefix=f"sesame-faults-{backend}-")
    os.chmod(directory, 0o755)
    store = Store(backend, directory)
    workdir = tempfile.mkdtemp(prefix="sesame-faults-demo-")
    demo = Demo(binary, backend, store.url, workdir)
    failures = []
    try:
        # Sessions committed before any fault (and some signed out again): none may be lost or come back.
        kept, ended = [], []
        for index in range(12):
            jar, status = demo.sign_in(f"kept-{index}@example.com")
            if not jar:
                sys.exit(f"{backend}: sign-in before the faults failed with {status}:\n{demo.output()}")
            (ended if index % 4 == 3 else kept).append(jar)
        for jar in ended:
            if demo.sign_out(jar) not in (200, 302, 303):
                sys.exit(f"{backend}: sign-out before the faults failed")
        visits_before = visits(demo, kept[0])
        # Redis fsyncs its append-only file every second: give the last commits that second.
        time.sleep(1.5)

        script = Path(workdir) / "load.lua"
        script.write_text(WRK_SCRIPT % ", ".join(json.dumps(header(j)) for j in kept))
        phases = []
        prober = Prober(demo, kept)
        total = seconds_before + 10 + 12 + 10 + 12
        wrk = subprocess.Popen(["wrk", "-t2", "-c16", f"-d{total}s", "--timeout", "10s", "-s", str(script), demo.base],
                               stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
        to_end = []
        for index in range(int(total * 3.5)):
            jar, status = demo.sign_in(f"to-end-{index}@example.com", client=f"10.200.{index // 256}.{index % 256}")
            if not jar:
                sys.exit(f"{backend}: sign-in before the faults failed with {status}")
            to_end.append(jar)
        prober.run(to_end)
        time.sleep(seconds_before)

        # Fault 1: the server dies, and comes back 10 s later (with its data).
        t0 = time.monotonic()
        store.kill()
        time.sleep(10)
        store.start()
        t1 = time.monotonic()
        phases.append(("killed and restarted", t0, t1))
        time.sleep(12)

        # Fault 2: a stall, not a refusal.
        t0 = time.monotonic()
        store.signal_all(signal.SIGSTOP)
        time.sleep(10)
        store.signal_all(signal.SIGCONT)
        t1 = time.monotonic()
        phases.append(("stopped 10 s (SIGSTOP)", t0, t1))
        time.sleep(12)
        prober.stop()
        wrk_out, _ = wrk.communicate(timeout=120)

        if demo.process.poll() is not None:
            failures.append(f"{backend}: the demo exited with {demo.process.returncode}")
        records = prober.records
        deadline = DEADLINE[backend] + MARGIN
        summary = {}
        for index, (name, start, end) in enumerate(phases):
            # Every request that began during the fault (after the first half second), however long it took.
            during = [r for r in records if start + 0.5 <= r[0] - r[3] <= end]
            # Until the next fault begins.
            until = phases[index + 1][1] if index + 1 < len(phases) else float("inf")
            after = [r for r in records if r[0] - r[3] >= end and r[0] <= until]
            for when, kind, status, seconds, body in during:
                if kind not in Prober.NEEDS_STORE and status != 200:
                    failures.append(f"{backend}, {name}: {kind} answered {status} during the fault")
                if kind in Prober.NEEDS_STORE and status not in (200, 503):
                    failures.append(f"{backend}, {name}: {kind} answered {status} during the fault: {body!r}")
                if status == 503 and b"temporarily_unavailable" not in body and kind == "read":
                    failures.append(f"{backend}, {name}: a 503 without the stable code: {body!r}")

            # Recovery: from the store's return until every class has answered 200 and none failed since.
            recovered = None
            per_class = {}
            for kind in Prober.CLASSES:
                ok_since = None
                for when, k, status, seconds, body in after:
                    if k != kind:
                        continue
                    if status == 200:
                        ok_since = ok_since or when
                    else:
                        ok_since = None
                if ok_since is None:
                    failures.append(f"{backend}, {name}: {kind} did not recover")
                else:
                    per_class[kind] = round(max(0, ok_since - end), 2)
                    recovered = max(recovered or 0, ok_since - end)
            print(f"{backend}, {name}: recovery by class {per_class}", file=sys.stderr)
            if recovered is not None and recovered > RECOVERY_LIMIT:
                failures.append(f"{backend}, {name}: recovery took {recovered:.1f} s")
            counts = Counter((kind, status) for _, kind, status, _, _ in during)
            slowest = max((r[3] for r in during), default=0)
            summary[name] = (counts, recovered, slowest)
        # No request anywhere in the run (a fault's first moments included) waits past the store's deadline.
        for when, kind, status, seconds, body in records:
            if seconds > deadline:
                failures.append(f"{backend}: a {kind} request took {seconds:.1f} s (deadline {deadline} s), answering {status}")
        outside = [r for r in records if not any(s <= r[0] and r[0] - r[3] <= e + RECOVERY_LIMIT for _, s, e in phases)]
        for when, kind, status, seconds, body in outside:
            if status != 200:
                failures.append(f"{backend}: {kind} answered {status} outside the faults: {body!r}")

        # Nothing committed before the faults was lost; nothing signed out came back.
        for jar in kept:
            if send(demo.base, "/api/me", header(jar))[0] != 200:
                failures.append(f"{backend}: a session committed before the faults was lost")
        for jar in ended + prober.signed_out:
            if send(demo.base, "/api/me", header(jar))[0] != 401:
                failures.append(f"{backend}: a signed-out session came back")
        print(f"{backend}: {len(ended) + len(prober.signed_out)} signed-out sessions checked, {len(kept)} kept", file=sys.stderr)
        # The session data written before and between the faults is there, and writes go on.
        visits_after = visits(demo, kept[0])
        if visits_before is None or visits_after is None or visits_after <= visits_before:
            failures.append(f"{backend}: the session's visit count went from {visits_before} to {visits_after}")
        return summary, Counter((kind, status) for _, kind, status, _, _ in outside), wrk_out, failures
    finally:
        demo.stop()
        store.stop()


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("backends", nargs="*", default=["redis", "postgres"])
    parser.add_argument("--seconds-before", type=float, default=8)
    parser.add_argument("--report")
    args = parser.parse_args()
    binary = os.environ.get("SESAME_DEMO_BINARY")
    if not binary:
        release, debug = REPO / ".build/release/sesame-demo", REPO / ".build/debug/sesame-demo"
        binary = str(release if release.exists() else debug)
    lines = ["| store | fault | class | 200 | 503 | other | slowest during | recovery |", "|---|---|---|---|---|---|---|---|"]
    all_failures = []
    for backend in args.backends:
        summary, outside, wrk_out, failures = run_backend(backend, binary, args.seconds_before)
        all_failures += failures
        for name, (counts, recovered, slowest) in summary.items():
            for kind in Prober.CLASSES:
                ok, unavailable = counts[(kind, 200)], counts[(kind, 503)]
                other = sum(c for (k, s), c in counts.items() if k == kind and s not in (200, 503))
                lines.append(f"| {backend} | {name} | {kind} | {ok} | {unavailable} | {other} | {slowest:.2f} s | "
                             f"{'' if recovered is None else f'{recovered:.2f} s'} |")
        outside_ok = sum(c for (k, s), c in outside.items() if s == 200)
        outside_other = sum(c for (k, s), c in outside.items() if s != 200)
        lines.append(f"| {backend} | none (outside the faults) | all | {outside_ok} | – | {outside_other} | | |")
        wrk_statuses = "; ".join(line.strip() for line in wrk_out.splitlines()
                                 if "requests in" in line or "Non-2xx" in line or "Socket errors" in line or "Requests/sec" in line)
        lines.append(f"| {backend} | wrk load (whole run) | – | {wrk_statuses} | | | | |")
    report = "\n".join(lines)
    print(report)
    if args.report:
        Path(args.report).write_text(report + "\n")
    if all_failures:
        print("\nFAILED:\n" + "\n".join(sorted(set(all_failures))), file=sys.stderr)
        sys.exit(1)
    print("\nall expectations held")


if __name__ == "__main__":
    main()
