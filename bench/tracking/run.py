"""bench/tracking: crier's tracking server (crier serve) under wrk, against a bare
libmicrohttpd pixel server that only appends to a buffered file (bare.c).

Usage: run.py CRIER SECONDS CONNECTIONS (bench/tracking/run checks for wrk first).

Preparation, as users run crier: `init`, `import profiles` (10,000 generated), a pickup
account, `template add email` (one link), `config set public_url`, `delivery create`,
`prepare`, `confirm`, `engine run --until-idle`; the messages' HTML parts give each
recipient's open-pixel path (/o/TOKEN) and click path (/c/TOKEN). The tokens do not depend on
the host of the public URL, so every server listens on a free port (127.0.0.1:0) and wrk is
pointed at it.

Each run, on 127.0.0.1, wrk -t2 -cCONNECTIONS -dSECONDS --latency with hits.lua:
- crier serve (fresh copy of the prepared SQLite database, default flush interval, the
  engine on, as users run it): the open paths in turn; then, on another fresh copy, a mix of
  80% opens and 20% clicks (every fifth request a click);
- bare (bare.c, built with cc): the open paths in turn.
Each server gets two requests first (checked: the GIF, or the 302 to the template's link),
then the load; then SIGTERM, and the bench waits for it to exit: crier writes its queued hits
first, bare closes its file. Rows logged (tracking_log rows, or lines) must equal the
responses answered (wrk's completed responses, none of them >= 400, plus the two checks),
with at most CONNECTIONS extra: requests in flight when wrk stops are answered and logged but
not counted by wrk. Anything else fails the bench.

Each figure is the best (highest requests/s) of RUNS runs (env, default 1). PERF=FILE records
crier serve during the first opens run with `perf record -g` (attached to the running server
for the wrk run only); PERF_CALLGRAPH=dwarf gives whole call chains (crier, libmicrohttpd and
libc are built without frame pointers), in a file about 100 times larger.

CPU seconds are counted during the wrk run only: the server's (/proc/PID/stat), wrk's
(rusage), and the rest of the machine's busy time (/proc/stat) as "other"; when other
processes took more than 5% of the CPUs, the bench says its figures are low.
"""
import email
import email.policy
import glob
import json
import os
import re
import shutil
import signal
import sqlite3
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request

HERE = os.path.dirname(os.path.abspath(__file__))
CRIER, SECONDS, CONNS = os.path.abspath(sys.argv[1]), int(sys.argv[2]), int(sys.argv[3])
RUNS = int(os.environ.get("RUNS") or 1)
PERF = os.environ.get("PERF")
PERF_CALLS = os.environ.get("PERF_CALLGRAPH") or "fp"  # fp is perf record -g
PROFILES = 10000
WRK_THREADS = 2
POOL = os.cpu_count() or 1  # crier serve's default pool size; bare gets the same
UA = ("Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) "
      "Thunderbird/115.0")  # hits.lua's, so crier does not count the hits as prefetches
LINK = "https://shop.example.com/offer"
TEMPLATE = {"from": "Shop <shop@example.com>", "subject": "Hi",
            "html": f'<html><body><a href="{LINK}">Offer</a></body></html>'}

children = []  # running servers and perf, stopped on any exit


def fail(msg):
    sys.exit(f"bench/tracking: {msg}")


def stop_all(*_):
    for p in list(children):
        if p.poll() is None:
            p.kill()
            p.wait()
    children.clear()


def on_signal(signum, _frame):
    stop_all()
    sys.exit(128 + signum)


for sig in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP):
    signal.signal(sig, on_signal)


def sh(*args, **kw):
    r = subprocess.run(args, capture_output=True, text=True, **kw)
    if r.returncode:
        fail(f"{' '.join(args)} exited {r.returncode}:\n{r.stdout}{r.stderr}")
    return r.stdout


def crier(db, *args):
    return sh(CRIER, "--db", db, *args)


class Server:
    """A server process that prints "listening on http://HOST:PORT" once it accepts
    connections; stopped with SIGTERM, and its exit waited for."""

    def __init__(self, name, args, work):
        self.name, self.args = name, args
        self.err_path = os.path.join(work, f"{name}.err")
        self.proc = None
        self.url = None

    def __enter__(self):
        with open(self.err_path, "wb") as err:
            self.proc = subprocess.Popen(self.args, stdout=subprocess.PIPE, stderr=err)
        children.append(self.proc)
        line = self.proc.stdout.readline().decode()
        m = re.match(r"listening on (http://\S+)", line)
        if not m:
            self.proc.wait()
            fail(f"{self.name} did not start ({line.strip()!r}); see {self.err_path}:\n"
                 f"{open(self.err_path).read()}")
        self.url = m.group(1)
        return self

    def stop(self):
        """SIGTERM, then waits for the exit (crier writes its queued hits first)."""
        self.proc.send_signal(signal.SIGTERM)
        self.proc.wait()
        children.remove(self.proc)
        if self.proc.returncode:
            fail(f"{self.name} exited {self.proc.returncode}; see {self.err_path}:\n"
                 f"{open(self.err_path).read()}")

    def __exit__(self, *exc):
        if self.proc in children:
            self.proc.kill()
            self.proc.wait()
            children.remove(self.proc)


def get(url):
    """(status, headers, body) of one GET that does not follow redirects."""

    class NoRedirect(urllib.request.HTTPRedirectHandler):
        def redirect_request(self, *a, **kw):
            return None

    req = urllib.request.Request(url, headers={"User-Agent": UA})
    try:
        with urllib.request.build_opener(NoRedirect).open(req, timeout=10) as r:
            return r.status, r.headers, r.read()
    except urllib.error.HTTPError as e:
        return e.code, e.headers, e.read()


def smoke(srv, opens, clicks):
    """Two requests checked before the load: the pixel, and a click when clicks is given.
    Returns how many hits they logged."""
    st, hd, body = get(srv.url + opens[0])
    if st != 200 or hd.get("Content-Type") != "image/gif" or len(body) != 43:
        fail(f"{srv.name}: GET {opens[0]} answered {st} {hd.get('Content-Type')}, "
             f"{len(body)} bytes (expected 200 image/gif, 43 bytes)")
    if not clicks:
        st, hd, body = get(srv.url + opens[1])
        if st != 200:
            fail(f"{srv.name}: GET {opens[1]} answered {st}")
        return 2
    st, hd, _ = get(srv.url + clicks[0])
    if st != 302 or hd.get("Location") != LINK:
        fail(f"{srv.name}: GET {clicks[0]} answered {st} to {hd.get('Location')} "
             f"(expected 302 to {LINK})")
    return 2


TICK = os.sysconf("SC_CLK_TCK")


def machine_cpu():
    """CPU seconds the machine has spent busy (all CPUs, steal included) since boot."""
    with open("/proc/stat") as f:
        v = [int(x) for x in f.readline().split()[1:9]]
    return (sum(v) - v[3] - v[4]) / TICK  # all but idle and iowait


def process_cpu(pid):
    """CPU seconds (user + system, all threads) process pid has used so far."""
    with open(f"/proc/{pid}/stat") as f:
        v = f.read().rsplit(")", 1)[1].split()
    return (int(v[11]) + int(v[12])) / TICK


def wrk(url, paths, server, perf_pid=None):
    """Runs wrk with hits.lua over the paths file against server (a Server); returns wrk's
    figures, with the CPU seconds used meanwhile by the server ("server_cpu"), by wrk
    ("wrk_cpu") and by everything else on the machine ("other_cpu", perf included)."""
    perf = None
    if perf_pid:
        perf = subprocess.Popen(["perf", "record", "-F", "999", "--call-graph", PERF_CALLS,
                                 "-q", "-o", PERF, "-p", str(perf_pid)],
                                stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        children.append(perf)
        time.sleep(0.5)  # perf attached before the load
    args = ["wrk", f"-t{WRK_THREADS}", f"-c{CONNS}", f"-d{SECONDS}s", "--latency",
            "-s", os.path.join(HERE, "hits.lua"), url, "--", paths, str(WRK_THREADS)]
    with tempfile.TemporaryFile() as out, tempfile.TemporaryFile() as err:
        m0, s0 = machine_cpu(), process_cpu(server.proc.pid)
        p = subprocess.Popen(args, stdout=out, stderr=err)
        children.append(p)
        _, status, ru = os.wait4(p.pid, 0)
        m1, s1 = machine_cpu(), process_cpu(server.proc.pid)
        children.remove(p)
        out.seek(0)
        err.seek(0)
        text = out.read().decode()
        if perf:
            perf.send_signal(signal.SIGINT)
            perf.wait()
            children.remove(perf)
        if os.waitstatus_to_exitcode(status):
            fail(f"{' '.join(args)} failed:\n{text}{err.read().decode()}")
    m = re.search(r"^bench-tracking (\{.*\})$", text, re.M)
    if not m:
        fail(f"wrk printed no figures:\n{text}")
    w = json.loads(m.group(1))
    w["rps"] = w["requests"] / (w["duration_us"] / 1e6)
    w["socket_errors"] = w["connect"] + w["read"] + w["write"] + w["timeout"]
    w["server_cpu"] = s1 - s0
    w["wrk_cpu"] = ru.ru_utime + ru.ru_stime
    w["other_cpu"] = max(0.0, (m1 - m0) - w["server_cpu"] - w["wrk_cpu"])
    return w


def check_rows(name, w, rows, extra_requests):
    """rows logged against responses answered (wrk's completed, none >= 400, plus the smoke
    requests); returns answered."""
    if w["status_errors"]:
        fail(f"{name}: {w['status_errors']} of {w['requests']} responses had a status >= 400 "
             "(forged token, busy queue?)")
    answered = w["requests"] + extra_requests
    if not answered <= rows <= answered + CONNS:
        fail(f"{name}: {rows} hits logged for {answered} answered (expected {answered} to "
             f"{answered + CONNS}: at most one request in flight per connection when wrk "
             "stops)")
    return answered


def fresh(src, dst):
    for sfx in ("", "-wal", "-shm"):
        if os.path.exists(dst + sfx):
            os.unlink(dst + sfx)
    shutil.copy(src, dst)
    with open(dst, "rb") as f:  # the same warm page cache every run
        while f.read(1 << 20):
            pass


def prepare(work):
    """The prepared database (base.db) and the recipients' (open, click) paths."""
    db, pick = os.path.join(work, "base.db"), os.path.join(work, "pickup")
    csv, tpl = os.path.join(work, "p.csv"), os.path.join(work, "t.json")
    with open(tpl, "w") as f:
        json.dump(TEMPLATE, f)
    os.makedirs(pick)
    sh(CRIER, "demo", "generate", "profiles", "--count", str(PROFILES), "--out", csv)
    crier(db, "init")
    crier(db, "import", "profiles", csv, "--key", "external_id")
    crier(db, "account", "add", "pickup", "pk", "--dir", pick)
    crier(db, "template", "add", "email", "offer", tpl)
    crier(db, "config", "set", "public_url", "http://127.0.0.1:8080")  # host replaced by wrk's
    d = crier(db, "delivery", "create", "--template", "offer", "--account", "pk",
              "--filter", "email is not null").strip()
    crier(db, "delivery", "prepare", d)
    crier(db, "delivery", "confirm", d)
    crier(db, "engine", "run", "--until-idle")
    sent = json.loads(crier(db, "delivery", "show", d, "--json"))["kpis"]["sent"]
    opens, clicks = [], []
    for path in sorted(glob.glob(os.path.join(pick, "*.eml")),
                       key=lambda p: int(re.findall(r"(\d+)\.eml$", p)[0])):
        with open(path, "rb") as f:
            m = email.message_from_binary_file(f, policy=email.policy.default)
        html = m.get_body(("html",)).get_content()
        o = re.findall(r'<img src="http://[^/"]+(/o/[^"]+)"', html)
        c = re.findall(r'<a href="http://[^/"]+(/c/[^"]+)"', html)
        if len(o) != 1 or len(c) != 1:
            fail(f"{path}: expected one /o/ pixel and one /c/ link in the HTML part:\n{html}")
        opens.append(o[0])
        clicks.append(c[0])
    if not opens or len(opens) != sent:
        fail(f"delivery {d} sent {sent} messages, {len(opens)} in {pick}")
    shutil.rmtree(pick)
    with sqlite3.connect(db) as con:
        con.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    return db, opens, clicks


def crier_rows(db):
    with sqlite3.connect(db) as con:
        kinds = dict(con.execute("SELECT kind, count(*) FROM tracking_log GROUP BY kind"))
        pre = con.execute("SELECT count(*) FROM tracking_log WHERE prefetch").fetchone()[0]
    con.close()
    if pre:
        fail(f"{pre} hits logged as prefetches (hits.lua's user agent is a mail client's)")
    return kinds


def main():
    work = tempfile.mkdtemp(prefix="crier-bench-tracking-")
    try:
        base, opens, clicks = prepare(work)
        opens_txt, mix_txt = os.path.join(work, "opens.txt"), os.path.join(work, "mix.txt")
        with open(opens_txt, "w") as f:
            f.writelines(p + "\n" for p in opens)
        with open(mix_txt, "w") as f:  # every fifth request a click: 80% opens, 20% clicks
            f.writelines((c if i % 5 == 4 else o) + "\n"
                         for i, (o, c) in enumerate(zip(opens, clicks)))
        bare = os.path.join(work, "bare")
        mhd = sh("pkg-config", "--cflags", "--libs", "libmicrohttpd").split()
        sh("cc", "-O2", "-o", bare, os.path.join(HERE, "bare.c"), *mhd, "-lpthread")

        best = {}

        def keep(key, w, rows, answered, note=""):
            if key not in best or w["rps"] > best[key]["w"]["rps"]:
                best[key] = {"w": w, "rows": rows, "answered": answered, "note": note}

        db = os.path.join(work, "c.db")
        for run in range(RUNS):
            for key, paths in (("opens", opens_txt), ("mix", mix_txt)):
                fresh(base, db)
                with Server(f"crier-{key}", [CRIER, "--db", db, "serve", "--listen",
                                             "127.0.0.1:0", "--threads", str(POOL)],
                            work) as srv:
                    n = smoke(srv, opens, clicks if key == "mix" else None)
                    perf = PERF and run == 0 and key == "opens"
                    w = wrk(srv.url, paths, srv, srv.proc.pid if perf else None)
                    srv.stop()
                kinds = crier_rows(db)
                rows = sum(kinds.values())
                answered = check_rows(f"crier ({key})", w, rows, n)
                note = ""
                if key == "mix":
                    share = kinds.get("click", 0) / rows
                    if not 0.19 < share < 0.21:
                        fail(f"crier (mix): {kinds} (expected 20% clicks)")
                    note = f"{100 * share:.0f}% clicks"
                keep(key, w, rows, answered, note)

            log = os.path.join(work, "bare.log")
            if os.path.exists(log):
                os.unlink(log)
            with Server("bare", [bare, "0", str(POOL), log], work) as srv:
                n = smoke(srv, opens, None)
                w = wrk(srv.url, opens_txt, srv)
                srv.stop()
            with open(log, "rb") as f:
                rows = sum(1 for _ in f)
            keep("bare", w, rows, check_rows("bare", w, rows, n))

        ncpu = os.cpu_count() or 1
        print(f"bench/tracking: {len(opens)} recipients ({PROFILES} profiles), wrk "
              f"-t{WRK_THREADS} -c{CONNS} -d{SECONDS}s on 127.0.0.1, server pools of {POOL} "
              f"threads; {ncpu} CPUs shared by server and wrk; best of {RUNS}")
        print(f"{'':<36} {'requests/s':>10} {'p99 ms':>7} {'logged / answered':>23} "
              f"{'CPU s: server':>13} {'wrk':>5} {'other':>5}  {'crier/bare':>10}")
        b = best["bare"]["w"]["rps"]
        rows = [("crier serve: opens", "opens"),
                ("crier serve: 80% opens, 20% clicks", "mix"),
                ("bare: libmicrohttpd + buffered file", "bare")]
        busy = []
        for label, key in rows:
            r = best[key]
            w = r["w"]
            ratio = "" if key == "bare" else f"{100 * w['rps'] / b:.0f}%"
            logged = f"{r['rows']} / {r['answered']}"
            extra = r["rows"] - r["answered"]
            if extra:
                logged += f" (+{extra})"
            notes = [r["note"]] if r["note"] else []
            if w["socket_errors"]:
                notes.append(f"{w['socket_errors']} socket errors")
            if w["other_cpu"] > 0.05 * ncpu * w["duration_us"] / 1e6:
                busy.append(label.split(":")[0])
            print(f"{label:<36} {w['rps']:10.0f} {w['p99_us'] / 1000:7.2f} {logged:>23} "
                  f"{w['server_cpu']:13.2f} {w['wrk_cpu']:5.2f} {w['other_cpu']:5.2f}  "
                  f"{ratio:>10}  {', '.join(notes)}".rstrip())
        o = best["opens"]["w"]["rps"]
        print(f"goal: crier >= 80000 tracked hits/s with durable logging: "
              f"{'met' if o >= 80000 else 'not met'} ({o:.0f} opens/s); every hit answered was "
              "logged (extra rows: requests in flight when wrk stopped)")
        if busy:
            print(f"warning: other processes took more than 5% of the CPUs during the runs of "
                  f"{' and '.join(sorted(set(busy)))}"
                  f"{' (perf included)' if PERF and 'crier serve' in busy else ''}: "
                  "these figures are low; run again on a quiet machine")
    finally:
        stop_all()
        shutil.rmtree(work, ignore_errors=True)


main()
