"""bench/push: crier sending COUNT personalised push notifications over HTTP/2 to the local
APNs and FCM peers of the tests (tests/integration/push/), at two concurrencies.

Usage: run.py CRIER COUNT (bench/push/run checks for node and openssl first).

Once: a throwaway PKI (test_push.make_pki(): CA, a server certificate for 127.0.0.1, the APNs
.p8 key, the service account's RSA key), COUNT profiles (external_id, first_name, tier), each
with one active iOS and one active Android subscription of app shop-app, imported with `crier
import profiles` / `import subscriptions` into a fresh SQLite database, and a push template
with personalisation (`template add push`).

Each run, on a fresh copy of that database: the peer (apns_server.js or fcm_server.js, a free
port, --delay-ms 0, and unless PEER_LOG=full, --log buffered --jwt-cache on), `account add
apns|fcm … --concurrency C --url https://127.0.0.1:PORT --ca-file ca.pem`, `delivery create
--filter true --no-confirm`, then timed: `delivery prepare` and `engine run --until-idle`,
each a whole process. Checked after each run: the delivery is sent and its kpis say
sent = targeted = COUNT; the peer's log has exactly COUNT requests, all answered 200, every
token of the platform exactly once, each body rendered for that token's profile.

CPU seconds during `engine run`: crier's (rusage), the peer's (/proc/PID/stat) and the rest of
the machine's busy time (/proc/stat) as "other". Each figure is the best of RUNS runs.
"""
import json
import os
import shutil
import signal
import sqlite3
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
sys.path.insert(0, os.path.join(ROOT, "tests", "integration", "push"))
import test_push as peers  # noqa: E402  (the APNs and FCM peers, their keys)

CRIER, COUNT = os.path.abspath(sys.argv[1]), int(sys.argv[2])
RUNS = int(os.environ.get("RUNS") or 1)
PERF = os.environ.get("PERF")
KEEP = os.environ.get("KEEP") == "1"
FULL_LOG = os.environ.get("PEER_LOG") == "full"
KEYS = ["apns100", "apns500", "fcm100", "fcm500"]
ONLY = [k for k in (os.environ.get("ONLY") or ",".join(KEYS)).split(",") if k]
TEMPLATE = {
    "title": "Hi {{ profile.first_name }}",
    "body": "Your {{ profile.tier }} offer is waiting",
    "badge": "1",
    "sound": "default",
    "deep_link": "shop://offer/{{ profile.external_id }}",
    "data": {"offer": "w{{ profile.external_id }}", "kind": "winter"},
    "ios": {"category": "OFFER"},
    "android": {"title": "Hey {{ profile.first_name }}", "priority": "high",
                "channel_id": "promo"},
}
NAMES = ["Ann", "Bob", "Cat", "Dan", "Éva", "Zoë", "Li", "Noé"]
TIERS = ["gold", "silver", "bronze"]
TICK = os.sysconf("SC_CLK_TCK")

timed_child = []  # the process timed() waits for, ended on any exit
live_peers = []


def fail(msg):
    sys.exit(f"bench/push: {msg}")


def stop_all(*_):
    for p in timed_child:
        if p.poll() is None:
            p.kill()
            p.wait()
    for p in list(live_peers):
        p.__exit__(None, None, None)
    live_peers.clear()


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


def machine_cpu():
    """CPU seconds the machine has spent busy (all CPUs) since boot."""
    with open("/proc/stat") as f:
        v = [int(x) for x in f.readline().split()[1:9]]
    return (sum(v) - v[3] - v[4]) / TICK


def process_cpu(pid):
    """CPU seconds (user + system) process pid has used so far."""
    with open(f"/proc/{pid}/stat") as f:
        v = f.read().rsplit(")", 1)[1].split()
    return (int(v[11]) + int(v[12])) / TICK


def timed(*args, peer_pid=None):
    """Runs a process; returns {wall, cpu (its own), peer (the peer's CPU meanwhile), other}."""
    with tempfile.TemporaryFile() as out, tempfile.TemporaryFile() as err:
        m0 = machine_cpu()
        n0 = process_cpu(peer_pid) if peer_pid else 0
        t0 = time.perf_counter()
        p = subprocess.Popen(args, stdout=out, stderr=err)
        timed_child[:] = [p]
        _, status, ru = os.wait4(p.pid, 0)
        wall = time.perf_counter() - t0
        n1 = process_cpu(peer_pid) if peer_pid else 0
        m1 = machine_cpu()
        timed_child.clear()
        if os.waitstatus_to_exitcode(status):
            out.seek(0)
            err.seek(0)
            fail(f"{' '.join(args)} exited {os.waitstatus_to_exitcode(status)}:\n"
                 f"{out.read().decode()}{err.read().decode()}")
        cpu = ru.ru_utime + ru.ru_stime
        return {"wall": wall, "cpu": cpu, "peer": n1 - n0,
                "other": max(0.0, (m1 - m0) - cpu - (n1 - n0))}


def fresh(src, dst):
    for sfx in ("", "-wal", "-shm"):
        if os.path.exists(dst + sfx):
            os.unlink(dst + sfx)
    shutil.copy(src, dst)
    with open(dst, "rb") as f:  # the same warm page cache every run
        while f.read(1 << 20):
            pass


def token(platform, i):
    """Profile i's device token: 64 hex digits for iOS (leading zeros: never one of the
    peers' special prefixes), an FCM-like string for Android."""
    return f"{i:064x}" if platform == "ios" else f"fcm-{i:08d}-APA91bBench{i * 7919 % 100000:05d}"


def base_db(work):
    db = os.path.join(work, "base.db")
    prof, subs, tpl = (os.path.join(work, n) for n in ("p.csv", "s.csv", "t.json"))
    with open(prof, "w") as f:
        f.write("external_id,first_name,tier\n")
        for i in range(1, COUNT + 1):
            f.write(f"{i},{NAMES[i % len(NAMES)]},{TIERS[i % len(TIERS)]}\n")
    with open(subs, "w") as f:
        f.write("external_id,app,platform,token,active\n")
        for i in range(1, COUNT + 1):
            f.write(f"{i},shop-app,ios,{token('ios', i)},true\n")
            f.write(f"{i},shop-app,android,{token('android', i)},true\n")
    with open(tpl, "w") as f:
        json.dump(TEMPLATE, f)
    crier(db, "init")
    crier(db, "import", "profiles", prof, "--key", "external_id")
    crier(db, "import", "subscriptions", subs, "--key", "external_id")
    crier(db, "template", "add", "push", "offer", tpl)
    with sqlite3.connect(db) as con:
        con.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    con.close()
    return db


def peer_opts():
    return ["--delay-ms", "0"] + ([] if FULL_LOG else ["--log", "buffered", "--jwt-cache", "on"])


def check(key, platform, show, reqs):
    """The delivery and the peer's log agree: the delivery sent, kpis sent = targeted = COUNT,
    every request answered 200, every token of the platform reached the peer, each body
    personalised for its profile. Returns how many requests repeated a token already sent
    (main() reports them and fails the bench: a device would show the notification twice)."""
    k = show["kpis"]
    problems = []
    if show["status"] != "sent" or k["sent"] != COUNT or k["targeted"] != COUNT:
        problems.append(f"delivery {show['status']}, targeted {k['targeted']}, sent "
                        f"{k['sent']} (expected {COUNT})")
    bad = [r for r in reqs if r["status"] != 200]
    if bad:
        problems.append(f"{len(bad)} of {len(reqs)} requests not answered 200, e.g. "
                        f"{ {k: bad[0].get(k) for k in ('token', 'status', 'body')} }")
    want = {token(platform, i): i for i in range(1, COUNT + 1)}
    seen = set()
    for r in reqs:
        t = r["token"]
        if t is None:
            continue  # FCM: a body without a token (an empty one), counted below
        if t not in want:
            fail(f"{key}: token {t!r} unknown")
        seen.add(t)
        i = want[t]
        if not r["body"] or r["status"] != 200:
            continue  # counted above or below
        body = json.loads(r["body"])
        if platform == "ios":
            title, offer = body["aps"]["alert"]["title"], body.get("offer")
            expect_title = f"Hi {NAMES[i % len(NAMES)]}"
        else:
            title = body["message"]["notification"]["title"]
            offer = body["message"]["data"]["offer"]
            expect_title = f"Hey {NAMES[i % len(NAMES)]}"
        if title != expect_title or offer != f"w{i}":
            fail(f"{key}: token {t}: title {title!r}, offer {offer!r} (expected "
                 f"{expect_title!r}, 'w{i}')")
    if len(seen) != COUNT:
        problems.append(f"{COUNT - len(seen)} tokens never reached the peer")
    if len(reqs) > len(seen):
        problems.append(f"{len(reqs) - len(seen)} requests repeated a token already answered")
    empty = sum(1 for r in reqs if not r["body"])
    if empty:
        problems.append(f"{empty} requests with an empty body")
    return len(reqs) - len(seen), problems


_runs = [0]


def run_no():
    _runs[0] += 1
    return _runs[0]


def one_run(key, base, db, first):
    service, conc = ("apns", int(key[4:])) if key.startswith("apns") else ("fcm", int(key[3:]))
    fresh(base, db)
    if service == "apns":
        peer = peers.Peer("apns_server.js", f"{key}-{run_no()}", "--team",
                          peers.TEAM, "--key-id", peers.KEY_ID, "--pubkey",
                          peers.path("apns.pub"), "--topic", peers.TOPIC, *peer_opts())
    else:
        peer = peers.Peer("fcm_server.js", f"{key}-{run_no()}", "--pubkey",
                          peers.path("sa.pub"), "--client-email", peers.EMAIL, "--project",
                          peers.PROJECT, *peer_opts())
    with peer:
        live_peers.append(peer)
        if service == "apns":
            crier(db, "account", "add", "apns", "ios", "--app", "shop-app", "--team-id",
                  peers.TEAM, "--key-id", peers.KEY_ID, "--key", peers.path("apns.p8"),
                  "--topic", peers.TOPIC, "--url", peer.url, "--ca-file", peers.path("ca.pem"),
                  "--concurrency", str(conc))
        else:
            crier(db, "account", "add", "fcm", "droid", "--app", "shop-app",
                  "--service-account", peers.service_account(peer), "--url", peer.url,
                  "--ca-file", peers.path("ca.pem"), "--concurrency", str(conc))
        acct = "ios" if service == "apns" else "droid"
        d = json.loads(crier(db, "delivery", "create", "--template", "offer", "--account", acct,
                             "--filter", "true", "--no-confirm", "--json"))["id"]
        prep = timed(CRIER, "--db", db, "delivery", "prepare", str(d), "--json")
        engine = [CRIER, "--db", db, "engine", "run", "--until-idle"]
        if PERF and first:
            engine = ["perf", "record", "-F", "999", "-g", "-q", "-o", PERF, *engine]
        send = timed(*engine, peer_pid=peer.proc.pid)
        live_peers.remove(peer)
    # the peer is stopped (its buffered log written): read it back
    reqs = peer.requests()
    if service == "fcm":
        tokens = peer.events("token")
        if not tokens or not all(t["ok"] for t in tokens):
            fail(f"{key}: access tokens: {tokens}")
    show = json.loads(crier(db, "delivery", "show", str(d), "--json"))
    dups, problems = check(key, "ios" if service == "apns" else "android", show, reqs)
    sessions = len(peer.events("session"))
    return prep, send, sessions, dups, problems


def main():
    bad = [k for k in ONLY if k not in KEYS]
    if bad:
        fail(f"ONLY: unknown run {bad[0]} (runs: {' '.join(KEYS)})")
    work = tempfile.mkdtemp(prefix="crier-bench-push-")
    try:
        peers.WORK = work
        peers.make_pki()
        t0 = time.perf_counter()
        base = base_db(work)
        setup = time.perf_counter() - t0
        db = os.path.join(work, "c.db")
        best, dup_total, failed = {}, {}, []
        for run in range(RUNS):
            for key in ONLY:
                prep, send, sessions, dups, problems = one_run(key, base, db,
                                                               run == 0 and key == ONLY[0])
                dup_total[key] = dup_total.get(key, 0) + dups
                failed.extend(f"{key} (run {run + 1}): {p}" for p in problems)
                if key not in best or send["wall"] < best[key][1]["wall"]:
                    best[key] = (prep, send, sessions)
        ncpu = os.cpu_count() or 1
        print(f"bench/push: {COUNT} profiles, one iOS and one Android subscription each; "
              f"HTTP/2 + TLS to Node peers on 127.0.0.1 (--delay-ms 0, "
              f"{'full per-request log, every JWT verified' if FULL_LOG else '--log buffered --jwt-cache on'}"
              f"); {ncpu} CPUs shared by crier and the peer; best of {RUNS}; setup (import, "
              f"template) {setup:.1f} s")
        print(f"{'service':<8} {'concurrency':>11} {'notifications':>13} {'seconds':>8} "
              f"{'notifications/s':>15}   {'prepare s':>9}  {'CPU s: crier':>12} {'peer':>6} "
              f"{'other':>6}  {'conns':>5} {'re-sent':>7}")
        busy = []
        for key in ONLY:
            prep, send, sessions = best[key]
            service = "APNs" if key.startswith("apns") else "FCM"
            conc = key[4:] if key.startswith("apns") else key[3:]
            if send["other"] > 0.05 * ncpu * send["wall"]:
                busy.append(key)
            print(f"{service:<8} {conc:>11} {COUNT:>13} {send['wall']:8.2f} "
                  f"{COUNT / send['wall']:15.0f}   {prep['wall']:9.2f}  {send['cpu']:12.2f} "
                  f"{send['peer']:6.2f} {send['other']:6.2f}  {sessions:>5} "
                  f"{dup_total[key]:>7}")
        if not failed:
            print(f"checked: every delivery sent, kpis sent = {COUNT}, every request answered "
                  "200, every token reached the peer once, each body personalised")
        if busy:
            print(f"warning: other processes took more than 5% of the CPUs during "
                  f"{', '.join(busy)}: these figures are low; run again on a quiet machine")
        if failed:
            print("FAILED (conns > 1: the peer ended a connection with GOAWAY and libcurl re-sent "
                  "the requests in flight on a new one; README.md):\n  " + "\n  ".join(failed))
            sys.exit(1)
    finally:
        stop_all()
        if KEEP:
            print(f"bench/push: kept {work}", file=sys.stderr)
        else:
            shutil.rmtree(work, ignore_errors=True)


main()
