#!/usr/bin/env python3
"""Bounded memory: the demo on its in-memory stores under a flood of distinct random cookies, bearer tokens,
rate-limit keys and sign-in requests, while a few signed-in people go on using it.

    scripts/memory-flood.py [--seconds 600] [--sessions memory|stateless] [--plot docs/memory-flood.png]
                            [--report FILE] [--csv FILE]

Needs a built demo (SESAME_DEMO_BINARY, default .build/release/sesame-demo, else .build/debug/sesame-demo), wrk
and matplotlib (for the plot). The demo runs on a free loopback port in a temporary directory, trusting loopback as
its proxy, so that every flood request names a new client address in X-Forwarded-For (a distinct key for the
per-client rate limits, as from a botnet). wrk sends, in turn:

- `GET /api/me` with a random session cookie and a random other cookie;
- `GET /api/me` with a random `Authorization: Bearer` token shaped like a JWS;
- `POST /auth/signin/link` (magic link) for a random address from a random client;
- `POST /auth/callback/password` for a random address and password from a random client;
- `POST /auth/password/forgot` for a random address from a random client.

Every 5 s the script records the demo's resident memory (/proc/PID/status) and the entry counts of its bounded
structures (`GET /dev/memory`: rate-limit buckets, used IDs, revocations, session records, caches, the development
mailbox); twice a second each signed-in person reads `/api/me`. It fails, naming the check, when:

- the demo crashes, or answers a flood request with a 5xx other than 503 `server_busy` (the password-hashing
  queue is full: overload is refused at once, with Retry-After);
- a signed-in person's request does not answer 200;
- a structure holds more entries than its bound;
- resident memory has not levelled off: its peak over the last third of the run exceeds the peak over the second
  third by more than 10 % (and 16 MB).

The samples go to --csv, a plot of resident memory and entry counts over time to --plot, and a Markdown summary to
--report (and standard output).
"""

import argparse
import csv
import json
import os
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
# What each structure may hold at most (the demo's defaults: MemoryRateLimiter 100,000 keys each, the replay and
# revocation stores 100,000 entries each, MemorySessionStore 1,000,000 records, StoredSessions' two caches 65,536
# each, SessionTokens' cache 10,000 (SessionConfiguration.cacheCapacity), the mailbox 1,000 links and 2 x 1,000
# addresses x 20 messages).
BOUNDS = {
    "rate limiter": 100_000,
    "replay": 100_000,
    "revocations": 100_000,
    "session store: records": 1_000_000,
    "session store: group memberships": 2_000_000 + 1024,
    "stored sessions: caches": 2 * 65_536,
    "session tokens: verified-token cache": 10_000,
    "mailbox": 1_001 + 2 * 1_001 * 20,
}
LINK_PATTERN = "Development sign-in link for "
ALLOWED_5XX = {"503:server_busy"}


class Demo:
    def __init__(self, binary, sessions, workdir):
        self.port = free_port()
        self.base = f"http://localhost:{self.port}"
        self.log = Path(workdir) / "demo.log"
        env = {k: v for k, v in os.environ.items() if not k.startswith("SESAME_")}
        env.update(PORT=str(self.port), SESAME_SESSION_STORE=sessions, SESAME_TRUSTED_PROXIES="127.0.0.1",
                   SESAME_SQLITE_PATH=str(Path(workdir) / "users.sqlite"))
        # The log goes to a file (it names every link the flood asked for), not into this process's memory.
        self.log_file = open(self.log, "wb")
        self.process = subprocess.Popen([binary], cwd=workdir, env=env, stdout=self.log_file, stderr=subprocess.STDOUT)
        # The links sent to the legitimate people (the flood's own links are read past, never kept).
        self.legit_links = {}
        self.lock = threading.Lock()
        threading.Thread(target=self._follow_log, daemon=True).start()
        deadline = time.monotonic() + 60
        while send(self.base, "/auth/providers", timeout=2)[0] != 200:
            if self.process.poll() is not None or time.monotonic() > deadline:
                sys.exit(f"the demo did not start:\n{self.tail()}")
            time.sleep(0.2)

    def tail(self):
        return self.log.read_bytes()[-4000:].decode("utf-8", "replace")

    def _follow_log(self):
        marker = LINK_PATTERN.encode()
        with open(self.log, "rb") as log:
            pending = b""
            while True:
                chunk = log.readline()
                if not chunk:
                    if self.process.poll() is not None:
                        return
                    time.sleep(0.05)
                    continue
                pending += chunk
                if not pending.endswith(b"\n"):
                    continue
                line, pending = pending, b""
                if marker in line and b"@legit.example" in line:
                    email, _, link = line.decode().split(LINK_PATTERN, 1)[1].partition(": ")
                    with self.lock:
                        self.legit_links.setdefault(email, []).append(link.split()[0])

    def links(self, email):
        with self.lock:
            return list(self.legit_links.get(email, []))

    def sign_in(self, email, client):
        """A magic-link sign-in from `client`; returns the session's cookie jar, or None."""
        status, body, _, cookies = send(self.base, "/auth/csrf", client=client)
        if status != 200:
            return None
        jar = cookie_header(cookies)
        before = len(self.links(email))
        status, _, _, cookies = send(self.base, "/auth/signin/link", header(jar),
                                  {"email": email, "csrfToken": json.loads(body)["csrfToken"]}, client=client)
        if status not in (200, 302, 303):
            return None
        jar = cookie_header(cookies, jar)
        deadline = time.monotonic() + 15
        while len(links := self.links(email)) <= before:
            if time.monotonic() > deadline:
                return None
            time.sleep(0.05)
        link = urllib.parse.urlsplit(links[before])._replace(scheme="", netloc="").geturl()
        status, _, _, cookies = send(self.base, link, header(jar), client=client)
        jar = cookie_header(cookies, jar)
        if status not in (200, 302, 303) or send(self.base, "/api/me", header(jar))[0] != 200:
            return None
        return jar

    def rss_kb(self):
        """Resident and peak resident memory, in kB."""
        values = {}
        with open(f"/proc/{self.process.pid}/status") as status:
            for line in status:
                name, _, rest = line.partition(":")
                if name in ("VmRSS", "VmHWM"):
                    values[name] = int(rest.split()[0])
        return values["VmRSS"], values["VmHWM"]

    def stop(self):
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGINT)
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.kill()
        self.log_file.close()


WRK_SCRIPT = r"""
-- A flood of distinct random credentials and keys: none repeats, so nothing is ever a cache hit.
local base = "%(base)s"
local csrf_cookie = "%(cookie)s"
local csrf_token = "%(token)s"
local alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"
local counter = 0
local thread_id = 0
statuses = {}
local threads = {}

setup = function(thread)
  thread_id = thread_id + 1
  thread:set("seed", thread_id)
  table.insert(threads, thread)
end

init = function(args)
  math.randomseed(os.time() * 1000 + seed)
  statuses = {}
end

local function random_string(n)
  local parts = {}
  for i = 1, n do
    local k = math.random(1, 64)
    parts[i] = alphabet:sub(k, k)
  end
  return table.concat(parts)
end

local function random_client()
  return math.random(1, 223) .. "." .. math.random(0, 255) .. "." .. math.random(0, 255) .. "." .. math.random(1, 254)
end

local function form_post(path, body)
  return wrk.format("POST", path, {
    ["Cookie"] = csrf_cookie, ["Origin"] = base, ["Accept"] = "application/json",
    ["Content-Type"] = "application/x-www-form-urlencoded", ["X-Forwarded-For"] = random_client()}, body)
end

request = function()
  counter = counter + 1
  local kind = counter %% 5
  if kind == 0 then
    return wrk.format("GET", "/api/me", {["Accept"] = "application/json",
      ["Cookie"] = "sesame-sid=" .. random_string(43) .. "." .. random_string(43) .. "; " .. random_string(8) .. "=" .. random_string(24)})
  elseif kind == 1 then
    return wrk.format("GET", "/api/me", {["Accept"] = "application/json",
      ["Authorization"] = "Bearer eyJhbGciOiJFUzI1NiIsImtpZCI6IiJ9." .. random_string(120) .. "." .. random_string(86)})
  elseif kind == 2 then
    return form_post("/auth/signin/link", "email=" .. random_string(16) .. "%%40flood.example&csrfToken=" .. csrf_token)
  elseif kind == 3 then
    return form_post("/auth/callback/password", "email=" .. random_string(16) .. "%%40flood.example&password=" .. random_string(20) .. "&csrfToken=" .. csrf_token)
  else
    return form_post("/auth/password/forgot", "email=" .. random_string(16) .. "%%40flood.example&csrfToken=" .. csrf_token)
  end
end

response = function(status, headers, body)
  local key = tostring(status)
  if status >= 500 then
    -- A refusal under load names its stable code (server_busy: the password-hashing queue is full).
    key = key .. ":" .. (string.match(body or "", '"error"%%s*:%%s*"([%%w_]+)"') or "none")
  end
  statuses[key] = (statuses[key] or 0) + 1
end

done = function(summary, latency, requests)
  local totals = {}
  for _, thread in ipairs(threads) do
    local counts = thread:get("statuses")
    for status, count in pairs(counts) do totals[status] = (totals[status] or 0) + count end
  end
  local parts = {}
  for status, count in pairs(totals) do table.insert(parts, status .. "=" .. count) end
  table.sort(parts)
  io.write("STATUSES " .. table.concat(parts, " ") .. "\n")
end
"""


def bound_for(name):
    for prefix, bound in BOUNDS.items():
        if name.startswith(prefix):
            return bound
    return None


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--seconds", type=int, default=600)
    parser.add_argument("--sessions", choices=["memory", "stateless"], default="memory")
    parser.add_argument("--connections", type=int, default=32)
    parser.add_argument("--plot")
    parser.add_argument("--report")
    parser.add_argument("--csv")
    parser.add_argument("--replot", metavar="CSV", help="only draw --plot from an earlier run's --csv")
    parser.add_argument("--title", help="the plot's title")
    args = parser.parse_args()
    if args.replot:
        with open(args.replot) as source:
            rows = [{k: float(v) for k, v in row.items() if v != ""} for row in csv.DictReader(source)]
        names = [k for k in rows[0] if k not in ("seconds", "rss_kb", "peak_kb")]
        plot(rows, names, args.plot, args.title or args.replot)
        return

    binary = os.environ.get("SESAME_DEMO_BINARY")
    if not binary:
        for configuration in ("release", "debug"):
            candidate = REPO / ".build" / configuration / "sesame-demo"
            if candidate.exists():
                binary = str(candidate)
                break
    if not binary or not Path(binary).exists():
        sys.exit("no demo binary: build it (swift build -c release --product sesame-demo) or set SESAME_DEMO_BINARY")

    failures = []
    with tempfile.TemporaryDirectory(prefix="sesame-flood-") as workdir:
        demo = Demo(binary, args.sessions, workdir)
        try:
            people = []
            for index in range(4):
                jar = demo.sign_in(f"person{index}@legit.example", client=f"10.9.0.{index + 1}")
                if jar is None:
                    sys.exit(f"a legitimate sign-in failed before the flood:\n{demo.tail()}")
                people.append(jar)

            status, body, _, cookies = send(demo.base, "/auth/csrf", client="10.9.1.1")
            assert status == 200, status
            script = Path(workdir) / "flood.lua"
            script.write_text(WRK_SCRIPT % {"base": demo.base, "cookie": header(cookie_header(cookies)),
                                            "token": json.loads(body)["csrfToken"]})

            samples = []
            legit = Counter()
            legit_failures = []
            sign_ins = Counter()
            stop = threading.Event()
            start = time.monotonic()

            def sample():
                while True:
                    try:
                        rss, peak = demo.rss_kb()
                    except (FileNotFoundError, ProcessLookupError, KeyError):
                        return
                    status, body, _, _ = send(demo.base, "/dev/memory", timeout=30)
                    counts = json.loads(body)["counts"] if status == 200 else {}
                    samples.append({"seconds": round(time.monotonic() - start, 1), "rss_kb": rss, "peak_kb": peak, **counts})
                    if stop.wait(5):
                        return

            def probe():
                while not stop.is_set():
                    for index, jar in enumerate(people):
                        status, body, _, _ = send(demo.base, "/api/me", header(jar), timeout=30)
                        legit[status] += 1
                        if status != 200:
                            legit_failures.append((round(time.monotonic() - start, 1), index, status, body[:200]))
                    stop.wait(0.5)

            def sign_in_now_and_then():
                # A new person signs in every 30 s: reported, not required (a flood from enough addresses fills
                # the rate limiters, which then limit new keys rather than forget live ones).
                count = 0
                while not stop.wait(30):
                    count += 1
                    jar = demo.sign_in(f"newcomer{count}@legit.example", client=f"10.9.2.{count % 250 + 1}")
                    sign_ins["signed in" if jar else "refused"] += 1

            threads = [threading.Thread(target=f, daemon=True) for f in (sample, probe, sign_in_now_and_then)]
            for thread in threads:
                thread.start()
            wrk = subprocess.run(
                ["wrk", "-t2", f"-c{args.connections}", f"-d{args.seconds}s", "--timeout", "30s", "-s", str(script), demo.base],
                capture_output=True, text=True, timeout=args.seconds + 120)
            stop.set()
            for thread in threads:
                thread.join(timeout=60)
            final_counts = json.loads(send(demo.base, "/dev/memory")[1])["counts"]
            if demo.process.poll() is not None:
                failures.append(f"the demo exited with {demo.process.returncode}:\n{demo.tail()}")
        finally:
            demo.stop()

    statuses = {}
    for line in wrk.stdout.splitlines():
        if line.startswith("STATUSES "):
            statuses = {k: int(v) for k, v in (part.split("=") for part in line.split()[1:])}
    requests_line = next((line.strip() for line in wrk.stdout.splitlines() if "requests in" in line), "")
    errors_line = next((line.strip() for line in wrk.stdout.splitlines() if line.strip().startswith("Socket errors")), "")
    if not statuses:
        failures.append(f"wrk reported nothing:\n{wrk.stdout}\n{wrk.stderr}")
    # Overload is answered 503 with a stable code and Retry-After (the password-hashing queue is full); any other
    # 5xx is a failure.
    unexpected = {k: v for k, v in statuses.items() if k.startswith("5") and k not in ALLOWED_5XX}
    if unexpected:
        failures.append(f"flood requests answered 5xx other than {sorted(ALLOWED_5XX)}: {unexpected}")
    if errors_line:
        failures.append(f"wrk saw socket errors: {errors_line}")
    if legit_failures or legit[200] == 0:
        failures.append(f"signed-in requests failed: {legit_failures[:10]} (of {sum(legit.values())})")

    names = sorted({key for s in samples for key in s if key not in ("seconds", "rss_kb", "peak_kb")})
    for name in names:
        most = max(s.get(name, 0) for s in samples)
        bound = bound_for(name)
        if bound is None:
            failures.append(f"no bound is known for {name!r}: add it to BOUNDS")
        elif most > bound:
            failures.append(f"{name} held {most} entries, over its bound of {bound}")

    third = len(samples) // 3
    middle_peak = max(s["rss_kb"] for s in samples[third:2 * third]) if third else 0
    last_peak = max(s["rss_kb"] for s in samples[2 * third:]) if third else 0
    if third == 0:
        failures.append("too few samples to judge whether memory levelled off")
    elif last_peak > middle_peak * 1.10 and last_peak - middle_peak > 16 * 1024:
        failures.append(f"resident memory still grows: peak {middle_peak / 1024:.0f} MB in the second third, "
                        f"{last_peak / 1024:.0f} MB in the last")

    if args.csv:
        with open(args.csv, "w", newline="") as out:
            writer = csv.DictWriter(out, fieldnames=["seconds", "rss_kb", "peak_kb", *names])
            writer.writeheader()
            writer.writerows(samples)
    if args.plot:
        plot(samples, names, args.plot, args.title or f"{args.sessions} sessions, {args.seconds} s: {requests_line}")

    total = sum(statuses.values())
    lines = [
        f"Flood of {args.seconds} s on {args.sessions} sessions ({time.strftime('%Y-%m-%d', time.gmtime())}): {requests_line}",
        "",
        "| measure | value |",
        "| --- | --- |",
        f"| flood requests by status | {', '.join(f'{k}: {v:,}' for k, v in sorted(statuses.items()))} (total {total:,}) |",
        f"| signed-in requests (`/api/me`, 4 people, twice a second) | {', '.join(f'{k}: {v:,}' for k, v in sorted(legit.items()))} |",
        f"| new sign-ins every 30 s during the flood | {', '.join(f'{k}: {v}' for k, v in sorted(sign_ins.items())) or 'none'} |",
        f"| resident memory: first sample, peak of each third, last | {samples[0]['rss_kb'] / 1024:.0f} MB; "
        f"{max(s['rss_kb'] for s in samples[:max(third, 1)]) / 1024:.0f} / {middle_peak / 1024:.0f} / {last_peak / 1024:.0f} MB; "
        f"{samples[-1]['rss_kb'] / 1024:.0f} MB |",
    ]
    for name in names:
        lines.append(f"| entries: {name} (bound {bound_for(name) or '?':,}) | peak {max(s.get(name, 0) for s in samples):,}, "
                     f"end {final_counts.get(name, 0):,} |")
    report = "\n".join(lines)
    print(report)
    if args.report:
        Path(args.report).write_text(report + "\n")
    if failures:
        print("\nFAILED:\n- " + "\n- ".join(failures), file=sys.stderr)
        sys.exit(1)
    print("\nmemory levelled off, every structure stayed within its bound, and every signed-in request succeeded")


def plot(samples, names, path, title):
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    minutes = [s["seconds"] / 60 for s in samples]
    figure, (top, bottom) = plt.subplots(2, 1, figsize=(9, 7), sharex=True, height_ratios=[1, 1.3])
    top.plot(minutes, [s["rss_kb"] / 1024 for s in samples], color="tab:blue", label="resident memory")
    top.plot(minutes, [s["peak_kb"] / 1024 for s in samples], color="tab:red", linestyle="--", label="peak so far")
    top.set_ylabel("MB")
    top.set_ylim(bottom=0)
    top.grid(alpha=0.3)
    top.legend(loc="lower right")
    top.set_title(title, fontsize=9)
    for name in names:
        values = [s.get(name, 0) for s in samples]
        if max(values) > 0:
            bottom.plot(minutes, values, label=name)
    bottom.set_ylabel("entries held")
    bottom.set_xlabel("minutes into the flood")
    bottom.grid(alpha=0.3)
    bottom.legend(fontsize=7, loc="upper left")
    figure.tight_layout()
    figure.savefig(path, dpi=110)


if __name__ == "__main__":
    main()
