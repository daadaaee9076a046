"""tracking_load.py - `crier serve` under load: every open and click it answers is logged
(wrk over real tokens), a kill -9 loses at most the last flush interval and leaves a readable
database, and one kept-alive connection serves two requests.

Tokens are real: 200 recipients get an email in a pickup folder, and their /o/ pixel and /c/
link are read back from the HTML part with Python's email package. The server runs with
--no-engine on a port picked here, because the public URL is rendered into the messages
before the server starts.
"""
import collections
import email
import email.policy
import glob
import http.client
import itertools
import json
import os
import re
import signal
import socket
import sqlite3
import subprocess
import threading
import time

from crier_test import expect, main

WRK = "/usr/bin/wrk"
RECIPIENTS = 200
TEMPLATE = {
    "from": "Shop <shop@example.com>",
    "subject": "Hi",
    "html": "<html><body><a href=\"https://shop.example.com/offer\">Offer</a></body></html>",
}
OFFER = "https://shop.example.com/offer"
START_TIMEOUT = 30  # seconds for `crier serve` to print "listening on"
STOP_TIMEOUT = 120  # seconds for it to write what is queued and exit after SIGTERM


def free_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


def setup(c, port, n=RECIPIENTS):
    """n recipients, one email delivery sent to a pickup folder with tracking links pointing
    at http://127.0.0.1:PORT. Returns (delivery id, [(open path, click path)] per recipient)."""
    c.run("init")
    c.write("p.csv", "email,first_name,tier\n" +
            "".join(f"person{i}@example.org,Pers{i},gold\n" for i in range(n)))
    c.run("import", "profiles", "p.csv")
    os.makedirs(c.path("pickup"))
    c.run("account", "add", "pickup", "pk", "--dir", c.path("pickup"))
    c.write("t.json", json.dumps(TEMPLATE))
    c.run("template", "add", "email", "offer", "t.json")
    c.run("config", "set", "public_url", f"http://127.0.0.1:{port}")
    d = c.run("delivery", "create", "--template", "offer", "--account", "pk",
              "--filter", "email is not null")[0].strip()
    c.run("delivery", "prepare", d)
    c.run("delivery", "confirm", d)
    c.run("engine", "run", "--until-idle")
    base = re.escape(f"http://127.0.0.1:{port}")
    paths = []
    for name in sorted(glob.glob(c.path("pickup/*.eml"))):
        with open(name, "rb") as f:
            m = email.message_from_bytes(f.read(), policy=email.policy.default)
        html = m.get_body(("html",)).get_content()
        clicks = re.findall(r'href="' + base + r'(/c/[A-Za-z0-9_-]+)"', html)
        opens = re.findall(r'src="' + base + r'(/o/[A-Za-z0-9_-]+)"', html)
        expect(len(clicks) == 1 and len(opens) == 1, (name, html))
        paths.append((opens[0], clicks[0]))
    expect(len(paths) == n, f"{len(paths)} messages in the pickup folder, expected {n}")
    return d, paths


class Server:
    """`crier serve` on 127.0.0.1:PORT (--no-engine, info logs on stderr). A context manager:
    whatever happens, the process is killed on exit."""

    def __init__(self, c, port, *extra):
        self.c, self.port = c, port
        k = len(glob.glob(c.path("serve-*.out")))
        self.out, self.err = c.path(f"serve-{k}.out"), c.path(f"serve-{k}.err")
        env = dict(os.environ)
        env.pop("CRIER_DB", None)
        with open(self.out, "w") as out, open(self.err, "w") as err:
            self.p = subprocess.Popen(
                [c.binary, "--db", c.url, "--log-level", "info", "serve",
                 "--listen", f"127.0.0.1:{port}", "--public-url", f"http://127.0.0.1:{port}",
                 "--no-engine", *extra], stdout=out, stderr=err, env=env, cwd=c.dir)
        want = f"listening on http://127.0.0.1:{port}"
        deadline = time.monotonic() + START_TIMEOUT
        while want not in self.read(self.out):
            if self.p.poll() is not None or time.monotonic() > deadline:
                self.p.kill()
                self.p.wait(10)
                raise AssertionError(f"crier serve did not start (exit {self.p.returncode}): "
                                     f"{self.read(self.err)}")
            time.sleep(0.02)

    @staticmethod
    def read(name):
        with open(name, errors="replace") as f:
            return f.read()

    def stop(self):
        """SIGTERM; expects exit 0 within STOP_TIMEOUT; returns the server's stderr."""
        self.p.send_signal(signal.SIGTERM)
        try:
            rc = self.p.wait(STOP_TIMEOUT)
        except subprocess.TimeoutExpired:
            raise AssertionError(f"crier serve still running {STOP_TIMEOUT} s after SIGTERM")
        err = self.read(self.err)
        expect(rc == 0, f"crier serve exited {rc} after SIGTERM: {err}")
        return err

    def kill9(self):
        self.p.send_signal(signal.SIGKILL)
        self.p.wait(STOP_TIMEOUT)

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        if self.p.poll() is None:
            self.p.kill()
            self.p.wait(STOP_TIMEOUT)


def received(stderr):
    """(hits received, refused) from the server's last log line."""
    m = re.search(r"serve: (\d+) hits received, (\d+) refused", stderr)
    expect(m, f"no 'hits received' line in the server's log: {stderr}")
    return int(m.group(1)), int(m.group(2))


def query(c, sql):
    """Rows of sql as tuples of strings (NULL as '')."""
    if c.backend == "sqlite":
        db = sqlite3.connect(c.url, timeout=30)
        try:
            return [tuple("" if v is None else str(v) for v in row)
                    for row in db.execute(sql).fetchall()]
        finally:
            db.close()
    p = subprocess.run(["psql", "-X", "-q", "-A", "-t", "-F", "\x1f", "-v", "ON_ERROR_STOP=1",
                        c.url, "-c", sql], capture_output=True, text=True, timeout=60)
    expect(p.returncode == 0, f"psql: {sql}: {p.stderr}")
    return [tuple(line.split("\x1f")) for line in p.stdout.splitlines() if line]


def count(c, sql):
    return int(query(c, sql)[0][0])


# ----------------------------------------------------------------------------- wrk ---

WRK_SECONDS, WRK_THREADS, WRK_CONNECTIONS = 5, 2, 32
BROWSER = "Mozilla/5.0 (X11; Linux x86_64; rv:128.0) Gecko/20100101 Firefox/128.0"

# Cycles through every recipient's open and click paths; counts the answers by status in
# each thread and prints the totals in done(), where the threads' states can be read.
WRK_LUA = """
paths = {%s}
local threads = {}
function setup(thread)
  thread:set("i", #threads * 97)
  table.insert(threads, thread)
end
function init(args)
  n200, n302, n503, nother = 0, 0, 0, 0
end
function request()
  i = i %% #paths + 1
  return wrk.format("GET", paths[i])
end
function response(status, headers, body)
  if status == 200 then n200 = n200 + 1
  elseif status == 302 then n302 = n302 + 1
  elseif status == 503 then n503 = n503 + 1
  else nother = nother + 1 end
end
function done(summary, latency, requests)
  local a, b, c, o = 0, 0, 0, 0
  for _, t in ipairs(threads) do
    a, b = a + t:get("n200"), b + t:get("n302")
    c, o = c + t:get("n503"), o + t:get("nother")
  end
  io.write(string.format("answers: 200=%%d 302=%%d 503=%%d other=%%d\\n", a, b, c, o))
end
"""


def test_load_every_answered_hit_is_logged(c):
    expect(os.access(WRK, os.X_OK), f"{WRK} is missing: install Debian's wrk "
                                    "(scripts/install-deps)")
    port = free_port()
    d, paths = setup(c, port)
    flat = [p for pair in paths for p in pair]
    c.write("load.lua", WRK_LUA % ", ".join(f'"{p}"' for p in flat))
    with Server(c, port) as srv:
        w = subprocess.run([WRK, f"-t{WRK_THREADS}", f"-c{WRK_CONNECTIONS}",
                            f"-d{WRK_SECONDS}s", "-H", f"User-Agent: {BROWSER}",
                            "-s", c.path("load.lua"), f"http://127.0.0.1:{port}/"],
                           capture_output=True, text=True, timeout=WRK_SECONDS + 60)
        out = w.stdout
        expect(w.returncode == 0, f"wrk exit {w.returncode}: {out} {w.stderr}")
        log = srv.stop()
    completed = int(re.search(r"(\d+) requests in", out).group(1))
    n200, n302, n503, nother = map(int, re.search(
        r"answers: 200=(\d+) 302=(\d+) 503=(\d+) other=(\d+)", out).groups())
    # 503: the writer was too far behind and the hit was refused, not acknowledged (the
    # server's promise under overload); anything else is a failure
    expect(nother == 0, f"answers other than 200/302/503 (forged tokens?): {out}")
    expect(n200 + n302 + n503 == completed, f"200s + 302s + 503s != completed: {out}")
    errs = re.search(r"Socket errors: connect (\d+), read (\d+), write (\d+)", out)
    expect(not errs or errs.groups() == ("0", "0", "0"), f"socket errors: {out}")
    expect(n200 > 0 and n302 > 0, out)

    hits, refused = received(log)
    expect(n503 <= refused <= n503 + WRK_CONNECTIONS, (log, n503))
    rows = {r[0]: r[1:] for r in query(
        c, "SELECT kind, count(*), count(DISTINCT log_id), count(profile_id), count(link_id), "
           "min(delivery_id), max(delivery_id), min(ip), max(ip), "
           "min(user_agent), max(user_agent), count(user_agent) "
           "FROM tracking_log GROUP BY kind")}
    expect(set(rows) == {"open", "click"}, rows)
    opens, clicks = int(rows["open"][0]), int(rows["click"][0])
    # each hit the server took is written: none lost between queue and table
    expect(opens + clicks == hits, f"{hits} hits received, {opens + clicks} logged")
    # every answered hit is logged; only requests in flight when wrk stopped (at most one per
    # connection: wrk does not pipeline here) may be logged without an answer
    expect(n200 <= opens and n302 <= clicks,
           f"answered 200={n200} 302={n302}, logged opens={opens} clicks={clicks}")
    unanswered = (opens - n200) + (clicks - n302)
    expect(unanswered <= WRK_CONNECTIONS,
           f"{unanswered} logged hits were never answered (more than {WRK_CONNECTIONS} "
           f"connections could have in flight): 200={n200} 302={n302} "
           f"opens={opens} clicks={clicks}")
    for kind, n in (("open", opens), ("click", clicks)):
        _, logs, profiles, links, dmin, dmax, ipmin, ipmax, uamin, uamax, uas = rows[kind]
        expect(int(profiles) == n and int(uas) == n, (kind, rows[kind]))
        expect(int(links) == (n if kind == "click" else 0), (kind, rows[kind]))
        expect(dmin == dmax == d, (kind, rows[kind]))
        expect(ipmin == ipmax == "127.0.0.1", (kind, rows[kind]))
        expect(uamin == uamax == BROWSER, (kind, rows[kind]))
        expect(int(logs) <= RECIPIENTS, (kind, rows[kind]))
        if completed >= 4 * len(flat) * WRK_THREADS:  # each thread went round its cycle
            expect(int(logs) == RECIPIENTS, f"{kind}s of {logs} recipients, not "
                                            f"{RECIPIENTS}")
    print(f"     wrk: {completed} answered in {WRK_SECONDS} s "
          f"({n200} opens, {n302} clicks, {n503} refused); {opens + clicks} logged, "
          f"{unanswered} of them unanswered (in flight)")


# ------------------------------------------------------------------------- kill -9 ---

FLUSH_MS = 200
# A hit answered this long before the kill must have been committed: one flush interval
# (0.2 s, the writer's wait) plus the time to commit that batch, with slack for a loaded
# machine, an ASan build or PostgreSQL. Hits answered later may be lost; nothing else.
DURABLE_AFTER_S = 1.5
LOAD_SECONDS = 3.0
CLIENTS = 4
MIN_EARLY = 100  # answered hits older than DURABLE_AFTER_S needed before killing


def test_kill_9_loses_at_most_the_flush_interval(c):
    port = free_port()
    d, paths = setup(c, port)
    counter = itertools.count()
    sent = set()
    answered = {}   # n -> monotonic time its 200 came
    refused = set()  # n answered 503: busy, not acknowledged, so never logged
    others = []     # (n, status) other answers
    failures = []   # (monotonic time, error) of requests that got no answer
    stop = threading.Event()

    def client():
        conn = None
        while not stop.is_set():
            n = next(counter)
            sent.add(n)
            try:
                if conn is None:
                    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
                conn.request("GET", paths[n % len(paths)][0], headers={"User-Agent": f"load-{n}"})
                r = conn.getresponse()
                r.read()
                if r.status == 200:
                    answered[n] = time.monotonic()
                elif r.status == 503:
                    refused.add(n)
                else:
                    others.append((n, r.status))
            except (OSError, http.client.HTTPException) as e:
                failures.append((time.monotonic(), repr(e)))
                if conn:
                    conn.close()
                conn = None
        if conn:
            conn.close()

    with Server(c, port, "--flush-ms", str(FLUSH_MS)) as srv:
        threads = [threading.Thread(target=client, daemon=True) for _ in range(CLIENTS)]
        t0 = time.monotonic()
        for t in threads:
            t.start()
        try:
            deadline = t0 + 120
            while True:
                now = time.monotonic()
                early = sum(1 for t in list(answered.values()) if t < now - DURABLE_AFTER_S)
                if now - t0 >= LOAD_SECONDS and early >= MIN_EARLY:
                    break
                expect(now < deadline, f"only {early} hits answered in {now - t0:.0f} s")
                expect(all(t.is_alive() for t in threads), "a client thread died")
                time.sleep(0.05)
            killed = time.monotonic()
            srv.kill9()
        finally:
            stop.set()
            for t in threads:
                t.join(30)
        expect(not any(t.is_alive() for t in threads), "client threads still running")
    expect(not others, f"answers other than 200 or 503: {others[:5]}")
    expect(all(t >= killed for t, _ in failures),
           f"requests failed before the kill: {[f for f in failures if f[0] < killed][:5]}")

    # (a) the database is intact and crier reads it
    if c.backend == "sqlite":
        ok = query(c, "PRAGMA integrity_check")
        expect(ok == [("ok",)], f"integrity_check: {ok}")
    logged = collections.Counter(ua for (ua,) in query(c, "SELECT user_agent FROM tracking_log"))
    c.run("delivery", "show", d)
    # (b) nothing answered long enough before the kill is lost
    ids = set()
    for ua, k in logged.items():
        expect(re.fullmatch(r"load-\d+", ua), f"unexpected user agent {ua!r} in the log")
        expect(k == 1, f"{ua} logged {k} times")
        ids.add(int(ua[5:]))
    lost = [n for n in answered if n not in ids]
    oldest = max((killed - answered[n] for n in lost), default=0)
    summary = (f"{len(answered)} answered, {len(ids)} logged; lost {len(lost)}, the oldest "
               f"answered {oldest * 1000:.0f} ms before the kill")
    lost_early = sorted(n for n in lost if answered[n] < killed - DURABLE_AFTER_S)
    expect(not lost_early, f"{len(lost_early)} hits answered more than {DURABLE_AFTER_S} s "
                           f"before the kill are not logged ({summary}), e.g. {lost_early[:5]}")
    # (c) nothing is logged that was not sent, or was refused
    expect(ids <= sent, f"logged but never sent: {sorted(ids - sent)[:5]}")
    expect(not ids & refused, f"refused (503) but logged: {sorted(ids & refused)[:5]}")
    print(f"     kill -9: {summary}; {len(ids - set(answered))} logged unanswered (in flight), "
          f"{len(refused)} refused")

    # (d) a restarted server on the same database serves and logs again
    with Server(c, port, "--flush-ms", str(FLUSH_MS)) as srv:
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
        conn.request("GET", paths[0][0], headers={"User-Agent": "after-restart"})
        r = conn.getresponse()
        expect(r.status == 200 and len(r.read()) == 43, r.status)
        conn.close()
        log = srv.stop()
    expect(received(log) == (1, 0), log)
    expect(count(c, "SELECT count(*) FROM tracking_log WHERE user_agent = 'after-restart'")
           == 1, "the hit after the restart is not logged")


# ---------------------------------------------------------------------- keep-alive ---

def read_response(f):
    """(status, {lower-case header: value}, body) of one HTTP/1.1 response; the body is
    read by Content-Length, which a kept-alive answer must carry."""
    line = f.readline()
    expect(line.startswith(b"HTTP/1.1 "), f"status line {line!r}")
    headers = {}
    while True:
        h = f.readline()
        expect(h, "connection closed inside the headers")
        if h == b"\r\n":
            break
        k, v = h.decode("latin-1").split(":", 1)
        headers[k.strip().lower()] = v.strip()
    expect("content-length" in headers, f"no Content-Length: {headers}")
    body = f.read(int(headers["content-length"]))
    return int(line.split()[1]), headers, body


def test_keep_alive_two_requests_one_connection(c):
    port = free_port()
    d, paths = setup(c, port, n=2)
    (open_path, click_path) = paths[1]
    with Server(c, port) as srv:
        s = socket.create_connection(("127.0.0.1", port), timeout=10)
        try:
            f = s.makefile("rb")
            s.sendall(f"GET {open_path} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\n"
                      "User-Agent: ka-open\r\n\r\n".encode())
            st, h, body = read_response(f)
            expect(st == 200 and h.get("content-type") == "image/gif" and len(body) == 43 and
                   body.startswith(b"GIF89a"), (st, h, body))
            expect(h.get("connection", "").lower() != "close", f"first answer closes: {h}")
            # the second request on the same socket: only a kept-alive connection answers
            s.sendall(f"GET {click_path} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\n"
                      "User-Agent: ka-click\r\n\r\n".encode())
            st, h, body = read_response(f)
            expect(st == 302 and h.get("location") == OFFER and body == b"", (st, h, body))
            expect(h.get("connection", "").lower() != "close", f"second answer closes: {h}")
            # and the server still holds it open: no end of file waiting to be read
            s.setblocking(False)
            try:
                eof = s.recv(1, socket.MSG_PEEK) == b""
            except BlockingIOError:
                eof = False
            expect(not eof, "the server closed the connection after the second answer")
            f.close()
        finally:
            s.close()
        log = srv.stop()
    expect(received(log) == (2, 0), log)
    # one batch: rows keep their arrival times, not necessarily their order of ids
    rows = query(c, "SELECT kind, user_agent, log_id, delivery_id FROM tracking_log "
                    "ORDER BY at, id")
    expect(len(rows) == 2 and rows[0][:2] == ("open", "ka-open") and
           rows[1][:2] == ("click", "ka-click") and rows[0][2] == rows[1][2] and
           rows[0][3] == rows[1][3] == d, rows)


if __name__ == "__main__":
    main([test_load_every_answered_hit_is_logged,
          test_kill_9_loses_at_most_the_flush_interval,
          test_keep_alive_two_requests_one_connection])
