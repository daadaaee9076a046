"""bench/email: crier sending N personalised emails to smtp-sink, against libcurl alone
(the channel's ceiling) and against Node (liquidjs + nodemailer).

Usage: run.py CRIER N CONNECTIONS (bench/email/run installs smtp-sink and node's packages
first). Every side sends to its own fresh smtp-sink on 127.0.0.1 (a free port), which counts
the messages it received (-c); a side whose count differs from the number of recipients fails
the bench. Sinks are stopped whatever happens.

- crier, as users run it: `init`, `import profiles` (N generated), `template add email`
  (template.json), `account add smtp --tls none --connections C`, `delivery create --filter
  'email is not null' --no-confirm`, then timed: `delivery prepare` and `engine run
  --until-idle` (rendering, MIME, sending, outcomes recorded), each a whole process.
- ceiling: ceiling.c sends one message crier rendered (taken from a pickup-account run of
  the same template) as many times as crier sent, over the same number of connections, with
  libcurl's multi interface as crier's transport does: what the channel can do at best.
- node: node/send.js reads the same CSV, takes the same recipients, renders the same
  template with liquidjs and sends with nodemailer's pool (maxConnections = C). Before the
  runs, its renders of the first profiles are checked against crier's messages.

Times are wall-clock of whole processes; CPU is the process's user + system time. Each
figure is the best of RUNS runs.
"""
import email
import email.policy
import glob
import json
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
CRIER, N, CONNS = os.path.abspath(sys.argv[1]), int(sys.argv[2]), int(sys.argv[3])
RUNS = int(os.environ.get("RUNS") or (1 if N >= 100000 else 3))
PERF = os.environ.get("PERF")
SINK = "/usr/sbin/smtp-sink"
SAMPLE = 20  # profiles rendered by both crier and node to check they say the same

sinks = []  # running smtp-sink processes, stopped on any exit
timed_child = []  # the process timed() waits for, ended too


def stop_all(*_):
    for p in timed_child:
        if p.poll() is None:
            p.kill()
            p.wait()
    for s in list(sinks):
        s.stop()


def on_signal(signum, _frame):
    stop_all()
    sys.exit(128 + signum)


for sig in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP):
    signal.signal(sig, on_signal)


class Sink:
    """smtp-sink on 127.0.0.1, a free port, counting the messages it receives."""

    def __init__(self, work, name):
        self.out_path = os.path.join(work, f"sink-{name}.out")
        self.proc = None
        self.count = None
        self.port = None

    def __enter__(self):
        user = ["-u", "nobody"] if os.geteuid() == 0 else []
        for _ in range(20):
            with socket.socket() as s:
                s.bind(("127.0.0.1", 0))
                self.port = s.getsockname()[1]
            out = open(self.out_path, "wb")
            self.proc = subprocess.Popen([SINK, "-c", *user, f"127.0.0.1:{self.port}", "1024"],
                                         stdout=out, stderr=subprocess.STDOUT)
            out.close()
            sinks.append(self)
            for _ in range(200):
                if self.proc.poll() is not None:
                    break
                try:
                    socket.create_connection(("127.0.0.1", self.port), timeout=1).close()
                    return self
                except OSError:
                    time.sleep(0.01)
            self.stop()  # the port was taken meanwhile, or it did not start: another port
        sys.exit(f"bench/email: smtp-sink would not start; see {self.out_path}")

    def stop(self):
        if self.proc and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(5)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        if self in sinks:
            sinks.remove(self)

    def __exit__(self, *exc):
        self.stop()
        with open(self.out_path, "rb") as f:
            counts = re.findall(rb"mesg=(\d+)", f.read())
        self.count = int(counts[-1]) if counts else 0  # the counter's last update


def sh(*args, **kw):
    r = subprocess.run(args, capture_output=True, text=True, **kw)
    if r.returncode:
        sys.exit(f"bench/email: {' '.join(args)} exited {r.returncode}:\n{r.stdout}{r.stderr}")
    return r.stdout


def timed(*args, cwd=None):
    """Runs a process; returns (wall seconds, CPU seconds, stdout)."""
    with tempfile.TemporaryFile() as out, tempfile.TemporaryFile() as err:
        t0 = time.perf_counter()
        p = subprocess.Popen(args, stdout=out, stderr=err, cwd=cwd)
        timed_child[:] = [p]
        _, status, ru = os.wait4(p.pid, 0)
        wall = time.perf_counter() - t0
        timed_child.clear()
        p.returncode = os.waitstatus_to_exitcode(status)
        out.seek(0)
        err.seek(0)
        text = out.read().decode()
        if p.returncode:
            sys.exit(f"bench/email: {' '.join(args)} exited {p.returncode}:\n{text}"
                     f"{err.read().decode()}")
        return wall, ru.ru_utime + ru.ru_stime, text


def crier(db, *args):
    return sh(CRIER, "--db", db, *args)


def fresh(src, dst):
    for sfx in ("", "-wal", "-shm"):
        if os.path.exists(dst + sfx):
            os.unlink(dst + sfx)
    shutil.copy(src, dst)
    with open(dst, "rb") as f:  # the same warm page cache every run
        while f.read(1 << 20):
            pass


def check_sample(work, tpl):
    """crier (pickup account) and node render the first profiles alike; returns the path of
    crier's first message, the one the ceiling sends."""
    with open(os.path.join(work, "p.csv")) as f:
        lines = [next(f) for _ in range(SAMPLE + 1)]
    with open(os.path.join(work, "s.csv"), "w") as f:
        f.writelines(lines)
    db, pick = os.path.join(work, "s.db"), os.path.join(work, "pickup")
    os.makedirs(pick)
    crier(db, "init")
    crier(db, "import", "profiles", os.path.join(work, "s.csv"), "--key", "external_id")
    crier(db, "template", "add", "email", "offer", tpl)
    crier(db, "account", "add", "pickup", "drop", "--dir", pick)
    d = json.loads(crier(db, "delivery", "create", "--template", "offer", "--account", "drop",
                         "--filter", "email is not null", "--no-confirm", "--json"))["id"]
    crier(db, "delivery", "prepare", str(d))
    crier(db, "engine", "run", "--until-idle")
    files = sorted(glob.glob(os.path.join(pick, "*.eml")),
                   key=lambda p: int(re.findall(r"(\d+)\.eml$", p)[0]))
    node = [json.loads(line) for line in
            sh("node", "send.js", tpl, os.path.join(work, "s.csv"), "--render", str(SAMPLE),
               cwd=os.path.join(HERE, "node")).splitlines()]
    if len(files) != len(node) or not files:
        sys.exit(f"bench/email: crier sent {len(files)} of the first {SAMPLE} profiles, "
                 f"node {len(node)}")
    for path, js in zip(files, node):
        with open(path, "rb") as f:
            m = email.message_from_binary_file(f, policy=email.policy.default)
        mine = {"to": str(m["to"]), "subject": str(m["subject"]),
                "text": m.get_body(("plain",)).get_content(),
                "html": m.get_body(("html",)).get_content()}
        for k, v in mine.items():
            if v.rstrip("\r\n").replace("\r\n", "\n") != js[k].rstrip("\n"):
                sys.exit(f"bench/email: crier and node render {k} differently for {js['to']}:"
                         f"\n{v!r}\n{js[k]!r}")
    return files[0]


def main():
    work = tempfile.mkdtemp(prefix="crier-bench-email-")
    try:
        tpl = os.path.join(HERE, "template.json")
        csv = os.path.join(work, "p.csv")
        sh(CRIER, "demo", "generate", "profiles", "--count", str(N), "--out", csv)
        sample = check_sample(work, tpl)
        ceiling = os.path.join(work, "ceiling")
        cflags = sh("pkg-config", "--cflags", "--libs", "libcurl").split()
        sh("cc", "-O2", "-o", ceiling, os.path.join(HERE, "ceiling.c"), *cflags)

        base = os.path.join(work, "base.db")
        crier(base, "init")
        crier(base, "import", "profiles", csv, "--key", "external_id")
        crier(base, "template", "add", "email", "offer", tpl)
        sh("sqlite3", base, "PRAGMA wal_checkpoint(TRUNCATE);")

        best = {}

        def keep(name, wall, cpu):
            if name not in best or wall < best[name][0]:
                best[name] = (wall, cpu)

        db = os.path.join(work, "c.db")
        targeted = None
        for run in range(RUNS):
            # crier
            fresh(base, db)
            with Sink(work, "crier") as sink:
                crier(db, "account", "add", "smtp", "sink", "--url",
                      f"smtp://127.0.0.1:{sink.port}", "--tls", "none", "--connections",
                      str(CONNS))
                d = json.loads(crier(db, "delivery", "create", "--template", "offer",
                                     "--account", "sink", "--filter", "email is not null",
                                     "--no-confirm", "--json"))["id"]
                prep = timed(CRIER, "--db", db, "delivery", "prepare", str(d), "--json")
                engine = [CRIER, "--db", db, "engine", "run", "--until-idle"]
                if PERF and run == 0:
                    engine = ["perf", "record", "-F", "999", "-g", "-q", "-o", PERF, *engine]
                send = timed(*engine)
            show = json.loads(crier(db, "delivery", "show", str(d), "--json"))
            k = show["kpis"]
            targeted = k["targeted"]
            if show["status"] != "sent" or k["sent"] != targeted or sink.count != targeted:
                sys.exit(f"bench/email: crier: status {show['status']}, targeted {targeted}, "
                         f"sent {k['sent']}, the sink received {sink.count}")
            keep("prepare", prep[0], prep[1])
            keep("send", send[0], send[1])
            keep("both", prep[0] + send[0], prep[1] + send[1])

            # the ceiling: the same number of messages, identical
            with Sink(work, "ceiling") as sink:
                c = timed(ceiling, f"smtp://127.0.0.1:{sink.port}", sample, str(targeted),
                          str(CONNS))
            if sink.count != targeted:
                sys.exit(f"bench/email: ceiling: the sink received {sink.count} of {targeted}")
            keep("ceiling", c[0], c[1])

            # node
            with Sink(work, "node") as sink:
                nd = timed("node", "send.js", tpl, csv, f"smtp://127.0.0.1:{sink.port}",
                           str(CONNS), cwd=os.path.join(HERE, "node"))
            sent = int(nd[2].split()[1])
            if sent != targeted or sink.count != targeted:
                sys.exit(f"bench/email: node sent {sent} messages, the sink received "
                         f"{sink.count}, crier's target is {targeted}")
            keep("node", nd[0], nd[1])

        size = os.path.getsize(sample)
        ms = lambda name: targeted / best[name][0]  # noqa: E731
        print(f"bench/email: {N} profiles, {targeted} messages (targeted) of about {size} bytes, "
              f"{CONNS} connections to smtp-sink on 127.0.0.1; best of {RUNS}")
        print(f"{'':<46} {'seconds':>8} {'messages/s':>11} {'CPU s':>7}")
        rows = [("crier delivery prepare", "prepare", ""),
                ("crier engine run --until-idle (sending)", "send", ""),
                ("crier prepare + send", "both", ""),
                ("ceiling: libcurl multi, one message N times", "ceiling",
                 f"crier sends at {100 * ms('send') / ms('ceiling'):.0f}% of it (goal >= 80%)"),
                ("node: liquidjs + nodemailer pool", "node",
                 f"crier sends {ms('send') / ms('node'):.1f}x as fast, prepare + send "
                 f"{ms('both') / ms('node'):.1f}x (goal >= 10x)")]
        for label, key, note in rows:
            wall, cpu = best[key]
            rate = "" if key == "prepare" else f"{targeted / wall:11.0f}"
            print(f"{label:<46} {wall:8.2f} {rate:>11} {cpu:7.2f}  {note}".rstrip())
        print(f"every sink received exactly {targeted} messages; node's renders of the first "
              f"{SAMPLE} profiles match crier's messages")
    finally:
        stop_all()
        shutil.rmtree(work, ignore_errors=True)


main()
