"""bench/sms: crier sending COUNT personalised SMS over SMPP 3.4 to the SMSC simulator
(tests/integration/smsc/smsc.js, node-smpp as a server) on 127.0.0.1.

Usage: run.py CRIER COUNT (bench/sms/run checks the build first).

Preparation, as users run crier, once: `init`, `import profiles` (COUNT profiles, distinct
French mobile numbers +336xxxxxxxx, first names), `template add sms` (a GSM 7-bit text of
about 100 characters with the first name; and a UCS-2 one, one part too). Each run, on a
fresh copy of that database: a simulator (its own port and log), `account add smpp --window
W`, `delivery create --no-confirm`, then, each a whole process and timed: `delivery prepare`
and `engine run --until-idle` (claim, render, submit_sm over one session with a window of W,
outcomes and receipts recorded).

Runs: window 10 and 50, with receipts (the simulator's default: a deliver_sm receipt for every
accepted submit_sm, recorded by crier as delivered) and without (--no-receipts), GSM 7-bit;
then window 50 with receipts and the UCS-2 text. Each run is checked, or the bench fails:
delivery status sent, kpis sent == COUNT (and delivered == COUNT with receipts), and the
simulator's count: exactly COUNT submit_sm, all accepted (status 0), COUNT distinct
destinations, one data_coding. The simulator runs with --log-summary (it counts instead of
appending a JSON line per submit_sm, which took about 45% of its CPU); SMSC_LOG=full logs every
submit_sm as the tests do and checks the destinations one by one against the profiles'.

CPU seconds during the sending run: crier's (rusage of the process) and the simulator's
(/proc/PID/stat, node's main thread and its helpers); "idle" is what neither used of the
wall time on one CPU each - time both spent waiting for the other.

Environment: RUNS (best of RUNS runs, default 1), PERF=FILE (record crier's first sending
run with perf record -g into FILE), ONLY=10on,50off,... (a subset of the runs, by key),
SMSC_LOG=full (see above), SMSC_OPTS (more simulator options for every run, e.g.
"--resp-delay 10" for a 10 ms round trip).
"""
import collections
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
sys.path.insert(0, os.path.join(ROOT, "tests", "integration", "smsc"))
from smsc_peer import Smsc  # noqa: E402

CRIER, COUNT = os.path.abspath(sys.argv[1]), int(sys.argv[2])
RUNS = int(os.environ.get("RUNS") or 1)
PERF = os.environ.get("PERF")
PERF_CALLS = os.environ.get("PERF_CALLGRAPH") or "fp"  # fp is perf record -g
ONLY = [k for k in (os.environ.get("ONLY") or "").split(",") if k]
SMSC_OPTS = (os.environ.get("SMSC_OPTS") or "").split()
FULL_LOG = os.environ.get("SMSC_LOG") == "full"
TICK = os.sysconf("SC_CLK_TCK")

FIRST = ["Ann", "Bob", "Chloé", "David", "Emma", "Fanny", "Gabriel", "Hélène", "Inès",
         "Jules", "Karim", "Léa", "Manon", "Nathan", "Océane", "Paul", "Quentin", "Rose",
         "Sacha", "Théo", "Ugo", "Valérie", "William", "Yasmine", "Zoé"]
# GSM 7-bit (é and è are in the basic set; ç is not: a "François" would make the text
# UCS-2), about 100 characters once rendered
GSM = ("Bonjour {{ profile.first_name }}, -20% sur toute la boutique ce soir avec le code "
       "SOIR20. STOP au 36180")
# UCS-2 (✨ is not GSM 7-bit), one part: at most 70 characters rendered
UCS2 = "{{ profile.first_name }} ✨ -20% ce soir, code SOIR20. STOP 36180"

# (key, window, receipts, template)
PLAN = [("10on", 10, True, "gsm"), ("50on", 50, True, "gsm"),
        ("10off", 10, False, "gsm"), ("50off", 50, False, "gsm"),
        ("50on-ucs2", 50, True, "ucs2")]

timed_child = []


def fail(msg):
    sys.exit(f"bench/sms: {msg}")


def on_signal(signum, _frame):
    for p in timed_child:
        if p.poll() is None:
            p.kill()
    sys.exit(128 + signum)  # Smsc's __exit__ stops the simulator


for sig in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP):
    signal.signal(sig, on_signal)


def sh(*args, env=None):
    r = subprocess.run(args, capture_output=True, text=True,
                       env=dict(os.environ, **env) if env else None)
    if r.returncode:
        fail(f"{' '.join(args)} exited {r.returncode}:\n{r.stdout}{r.stderr}")
    return r.stdout


def crier(db, *args, env=None):
    return sh(CRIER, "--db", db, *args, env=env)


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


def timed(args, watch=None):
    """Runs a process; returns (wall seconds, its CPU seconds, CPU seconds of process watch
    meanwhile, CPU seconds of everything else on the machine meanwhile)."""
    with tempfile.TemporaryFile() as out, tempfile.TemporaryFile() as err:
        w0 = process_cpu(watch) if watch else 0.0
        m0 = machine_cpu()
        t0 = time.perf_counter()
        p = subprocess.Popen(args, stdout=out, stderr=err)
        timed_child[:] = [p]
        _, status, ru = os.wait4(p.pid, 0)
        wall = time.perf_counter() - t0
        w1 = process_cpu(watch) if watch else 0.0
        m1 = machine_cpu()
        timed_child.clear()
        if os.waitstatus_to_exitcode(status):
            out.seek(0)
            err.seek(0)
            fail(f"{' '.join(args)} exited {os.waitstatus_to_exitcode(status)}:\n"
                 f"{out.read().decode()}{err.read().decode()}")
        cpu = ru.ru_utime + ru.ru_stime
        return wall, cpu, w1 - w0, max(0.0, (m1 - m0) - cpu - (w1 - w0))


def fresh(src, dst):
    for sfx in ("", "-wal", "-shm"):
        if os.path.exists(dst + sfx):
            os.unlink(dst + sfx)
    shutil.copy(src, dst)
    with open(dst, "rb") as f:  # the same warm page cache every run
        while f.read(1 << 20):
            pass


def phone(i):
    return f"+336{i:08d}"


def prepare_base(work):
    if COUNT > 10 ** 8:
        fail("at most 100,000,000 profiles (+336 and 8 digits)")
    csv = os.path.join(work, "p.csv")
    with open(csv, "w") as f:
        f.write("external_id,phone,first_name\n")
        for i in range(COUNT):
            f.write(f"{i + 1},{phone(i)},{FIRST[i % len(FIRST)]}\n")
    base = os.path.join(work, "base.db")
    crier(base, "init")
    crier(base, "import", "profiles", csv, "--key", "external_id")
    for name, text in (("gsm", GSM), ("ucs2", UCS2)):
        tpl = os.path.join(work, f"{name}.json")
        with open(tpl, "w") as f:
            json.dump({"text": text, "sender": "Boutique"}, f, ensure_ascii=False)
        crier(base, "template", "add", "sms", name, tpl)
    with sqlite3.connect(base) as con:
        con.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    con.close()
    return base


def check_smsc(key, smsc, ucs2):
    """The simulator saw exactly COUNT submits, all accepted, each destination once, one
    part each in the expected coding."""
    summary = smsc.log + ".summary"
    if os.path.exists(summary):  # --log-summary: counts only, written when it stopped
        with open(summary) as f:
            s = json.load(f)
        if not (s["submits"] == COUNT and s["accepted"] == COUNT and
                s["destinations"] == COUNT and s["data_coding"] == {str(8 if ucs2 else 0):
                                                                    COUNT}):
            fail(f"{key}: the simulator's summary {s}, expected {COUNT} submits accepted, "
                 f"{COUNT} distinct destinations, data_coding {8 if ucs2 else 0}")
        return
    n = ok = 0
    dests = collections.Counter()
    coding = collections.Counter()
    with open(smsc.log) as f:
        for line in f:
            r = json.loads(line)
            if "event" in r:
                continue
            n += 1
            ok += r["status"] == 0
            dests[r["destination"]] += 1
            coding[r["data_coding"]] += 1
    twice = [d for d, c in dests.items() if c > 1]
    missing = COUNT - len(dests)
    if n != COUNT or ok != COUNT or twice or missing:
        fail(f"{key}: the simulator logged {n} submit_sm, {ok} accepted, {len(dests)} "
             f"destinations ({len(twice)} more than once, e.g. {twice[:3]}), expected "
             f"{COUNT} accepted, each destination once")
    if coding != {8 if ucs2 else 0: COUNT}:
        fail(f"{key}: data_coding {dict(coding)}, expected {8 if ucs2 else 0} for all")
    want = {phone(i)[1:] for i in range(COUNT)}
    if set(dests) != want:
        fail(f"{key}: the destinations are not the profiles' numbers")


def one_run(work, base, key, window, receipts, tpl, perf):
    db = os.path.join(work, "run.db")
    fresh(base, db)
    opts = ([] if receipts else ["--no-receipts"]) + ([] if FULL_LOG else ["--log-summary"])
    opts += SMSC_OPTS
    with Smsc(work, key, *opts) as smsc:
        crier(db, "account", "add", "smpp", "smsc", "--host", "127.0.0.1", "--port",
              str(smsc.port), "--system-id", "crier", "--password-env", "SMSC_PW",
              "--source-addr", "Boutique", "--window", str(window), env={"SMSC_PW": "secret"})
        d = json.loads(crier(db, "delivery", "create", "--template", tpl, "--account", "smsc",
                             "--filter", "true", "--no-confirm", "--json"))["id"]
        prep = timed([CRIER, "--db", db, "delivery", "prepare", str(d)])
        engine = [CRIER, "--db", db, "engine", "run", "--until-idle"]
        if perf:
            engine = ["perf", "record", "-F", "999", "--call-graph", PERF_CALLS, "-q", "-o",
                      PERF, *engine]
        send = timed(engine, watch=smsc.proc.pid)
    show = json.loads(crier(db, "delivery", "show", str(d), "--json"))
    k = show["kpis"]
    if (show["status"] != "sent" or k["targeted"] != COUNT or k["sent"] != COUNT or
            (receipts and k["delivered"] != COUNT) or (not receipts and k["delivered"])):
        fail(f"{key}: status {show['status']}, kpis {json.dumps(k)}; expected sent with "
             f"{COUNT} targeted and sent, {COUNT if receipts else 0} delivered")
    check_smsc(key, smsc, tpl == "ucs2")
    if os.path.exists(smsc.log):
        os.unlink(smsc.log)
    return {"prepare": prep[0], "wall": send[0], "crier_cpu": send[1], "node_cpu": send[2],
            "other_cpu": send[3]}


def main():
    work = tempfile.mkdtemp(prefix="crier-bench-sms-")
    try:
        base = prepare_base(work)
        plan = [p for p in PLAN if not ONLY or p[0] in ONLY]
        best = {}
        for run in range(RUNS):
            for i, (key, window, receipts, tpl) in enumerate(plan):
                r = one_run(work, base, key, window, receipts, tpl,
                            perf=bool(PERF) and run == 0 and i == 0)
                if key not in best or r["wall"] < best[key]["wall"]:
                    best[key] = r
        print(f"bench/sms: {COUNT} SMS (one part each) over one SMPP session to smsc.js "
              f"({'a line logged per submit_sm' if FULL_LOG else '--log-summary'}"
              f"{' ' + ' '.join(SMSC_OPTS) if SMSC_OPTS else ''}) on 127.0.0.1; "
              f"{os.cpu_count()} CPUs; best of {RUNS}")
        print(f"{'window':>6} {'receipts':>8} {'text':>5} {'messages':>9} {'prepare s':>9} "
              f"{'send s':>8} {'messages/s':>10} {'crier CPU s':>11} {'node CPU s':>10} "
              f"{'other CPU s':>11}")
        for key, window, receipts, tpl in plan:
            r = best[key]
            print(f"{window:>6} {'on' if receipts else 'off':>8} {tpl:>5} {COUNT:>9} "
                  f"{r['prepare']:9.2f} {r['wall']:8.2f} {COUNT / r['wall']:10.0f} "
                  f"{r['crier_cpu']:11.2f} {r['node_cpu']:10.2f} {r['other_cpu']:11.2f}")
        busy = [k for k, *_ in plan
                 if best[k]["other_cpu"] > 0.05 * (os.cpu_count() or 1) * best[k]["wall"]]
        if busy:
            print(f"other processes took more than 5% of the CPUs during {', '.join(busy)}: "
                  "those figures are low")
        print(f"every run: delivery sent, {COUNT} sent (and delivered with receipts); the "
              f"simulator accepted exactly {COUNT} submit_sm, each destination once")
    finally:
        shutil.rmtree(work, ignore_errors=True)


main()
