"""bench/extract: an external delivery's extraction file of ROWS recipients generated and
exported to a folder by crier, against Debian's sqlite3 CLI (sqlite3 -csv -header) selecting
the same columns from the same SQLite database, in the same run.

Usage: run.py CRIER ROWS (bench/extract/run checks the build and sqlite3 first).

Preparation, as users run crier, once: `init`, `schema add-column profile city text`,
`import profiles` of ROWS generated profiles (timed: not the measured part), `template add
external` four times (the same six columns as CSV UTF-8, CSV gzip, CSV Windows-1252 and
fixed width). Each crier run, on a warm fresh copy of that database: `account add routing
--channel sms --mode external --export OUT`, `config set external.spool_dir`, `delivery
create --filter true --no-confirm`, `delivery prepare` (timed, reported apart), then the
measured part: `engine run --until-idle` (the file written into the spool, fsync, rename;
copied to OUT, fsync, rename, fsync of OUT; the delivery_log rows marked sent; the delivery
finished). With --log-json --log-level info, crier's own log lines split that run into
"write" (start to "rows written": the query, the writer, the spool fsync) and "export"
(to "exported": the copy to OUT with its fsyncs, the UPDATE of ROWS delivery_log rows, the
commit).

The sqlite3 CLI runs, on the prepared copy of the csv run (before crier's engine run):
- profile: the six columns straight from the profile table (phone, first_name,
  upper(last_name), coalesce(tier,'none'), a constant label, date('now'));
- join: crier's own query shape (delivery_log l JOIN profile p, delivery_id, status
  'pending', NOT proof, ORDER BY l.id, l.address for the number), built-in upper();
- join-gzip: join piped into gzip -6 (crier's gzip level) for the gzip run.
Each `> FILE` with no fsync; the bench then times `sync FILE` (an fsync of that file) and
reports it apart.

Every file is checked, or the bench fails: crier's files are read back (gunzip, decoded,
Python's csv module, or sliced by width) and must hold the header and exactly ROWS rows equal
to the generated profiles (upper-cased last names, 'none' for a null tier, the label, the
export's date); delivery status sent, kpis.exported == export.rows == ROWS, export.bytes the
file's size. sqlite3's output must hold ROWS rows plus the header.

rows/s is ROWS / wall seconds; MB/s is the file's contents (uncompressed for gzip, in its
encoding) / wall seconds, MB = 10^6 bytes. CPU seconds: the process's (rusage; for pipes, the
whole pipeline's) and the rest of the machine's busy time (/proc/stat) as "other"; when other
processes took more than 5% of the CPUs, the bench says its figures are low.

Environment: RUNS (best of RUNS runs, default 1), PERF=FILE (record crier's first engine run
with perf record -g into FILE), ONLY=csv,join,... (a subset of the runs, by key).
"""
import calendar
import csv
import gzip
import io
import json
import os
import shutil
import signal
import sqlite3
import subprocess
import sys
import tempfile
import time

CRIER, ROWS = os.path.abspath(sys.argv[1]), int(sys.argv[2])
RUNS = int(os.environ.get("RUNS") or 1)
PERF = os.environ.get("PERF")
PERF_CALLS = os.environ.get("PERF_CALLGRAPH") or "fp"  # fp is perf record -g
ONLY = [k for k in (os.environ.get("ONLY") or "").split(",") if k]
TICK = os.sysconf("SC_CLK_TCK")
LABEL = "Bench export"

# Windows-1252 holds all of these (œ, Œ, Ÿ too), so the cp1252 run cannot fail on a name
FIRST = ["Anaïs", "Bob", "Chloé", "David", "Émilie", "François", "Gaëlle", "Hélène", "Inès",
         "Jérôme", "Karim", "Léa", "Maëlys", "Noël", "Océane", "Paul", "Quentin", "Renée",
         "Sacha", "Théo", "Ugo", "Valérie", "William", "Yasmine", "Zoé"]
LAST = ["Dupont", "Müller", "Lefèvre", "Ngô", "Gonçalves", "O'Neil", "Dubœuf", "Martin",
        "Durand, Jr", "García", "Søndergaard", "Le \"Grand\"", "Bernard", "Petit", "Châtelain",
        "Nuñez", "Lemaître", "Roux", "Faÿ", "Moreau de la Tour"]
TIERS = ["gold", "silver", "bronze", None]
CITIES = ["Paris", "Lyon", "Saint-Étienne", "Besançon", "Orléans", "Nîmes", "Montréal",
          "Aix-en-Provence", "Bordeaux", "Lille", "Nantes"]

COLUMNS = [("Mobile", "recipient.address", 16, "left"),
           ("FirstName", "first_name", 12, "left"),
           ("LastName", "upper(last_name)", 20, "left"),
           ("Tier", "coalesce(tier, 'none')", 6, "left"),
           ("Campaign", "delivery.label", 14, "left"),
           ("Date", "delivery.date", 10, "right")]


def template(**props):
    cols = [{"label": l, "value": v} for l, v, _, _ in COLUMNS]
    if props.get("format") == "fixed":
        cols = [{"label": l, "value": v, "width": w, "align": a} for l, v, w, a in COLUMNS]
    return dict(props, columns=cols)


# (key, template, encoding for read-back)
CRIER_RUNS = [("csv", template(), "utf-8"),
              ("gzip", template(gzip=True), "utf-8"),
              ("cp1252", template(encoding="windows-1252"), "cp1252"),
              ("fixed", template(format="fixed", encoding="utf-8"), "utf-8")]
SQL_COLS = ("{phone} AS Mobile, first_name AS FirstName, upper(last_name) AS LastName, "
            "coalesce(tier, 'none') AS Tier, '" + LABEL + "' AS Campaign, date('now') AS Date")
SQLITE_RUNS = [
    ("profile", "SELECT " + SQL_COLS.format(phone="phone") +
     " FROM profile WHERE phone IS NOT NULL AND NOT sms_optout ORDER BY id", False),
    ("join", "SELECT " + SQL_COLS.format(phone="l.address") +
     " FROM delivery_log l JOIN profile p ON p.id = l.profile_id WHERE l.delivery_id = {d} "
     "AND l.status = 'pending' AND NOT l.proof ORDER BY l.id", False),
    ("join-gzip", None, True)]  # join | gzip -6

timed_child = []


def fail(msg):
    sys.exit(f"bench/extract: {msg}")


def on_signal(signum, _frame):
    for p in timed_child:
        if p.poll() is None:
            p.kill()
    sys.exit(128 + signum)


for sig in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP):
    signal.signal(sig, on_signal)


def sh(*args):
    r = subprocess.run(args, capture_output=True, text=True)
    if r.returncode:
        fail(f"{' '.join(args)} exited {r.returncode}:\n{r.stdout}{r.stderr}")
    return r.stdout


def crier(db, *args):
    return sh(CRIER, "--db", db, *args)


def machine_cpu():
    """CPU seconds the machine has spent busy (all CPUs, steal included) since boot."""
    with open("/proc/stat") as f:
        v = [int(x) for x in f.readline().split()[1:9]]
    return (sum(v) - v[3] - v[4]) / TICK  # all but idle and iowait


def timed(args, stdout=None, shell=False):
    """Runs a process (a shell pipeline with shell=True); returns (wall seconds, its CPU
    seconds, children included, CPU seconds of everything else meanwhile, its stderr)."""
    with tempfile.TemporaryFile() as out, tempfile.TemporaryFile() as err:
        m0 = machine_cpu()
        t0 = time.perf_counter()
        p = subprocess.Popen(args, stdout=stdout or out, stderr=err, shell=shell)
        timed_child[:] = [p]
        _, status, ru = os.wait4(p.pid, 0)
        wall = time.perf_counter() - t0
        m1 = machine_cpu()
        timed_child.clear()
        err.seek(0)
        errtext = err.read().decode(errors="replace")
        if os.waitstatus_to_exitcode(status):
            out.seek(0)
            fail(f"{args if shell else ' '.join(args)} exited "
                 f"{os.waitstatus_to_exitcode(status)}:\n{out.read().decode()}{errtext}")
        # a shell's children are waited for by the shell: their rusage is in /proc/stat only
        cpu = ru.ru_utime + ru.ru_stime
        return wall, cpu, max(0.0, (m1 - m0) - cpu), errtext


def warm(path):
    with open(path, "rb") as f:
        while f.read(1 << 20):
            pass


def fresh(src, dst):
    for sfx in ("", "-wal", "-shm"):
        if os.path.exists(dst + sfx):
            os.unlink(dst + sfx)
    shutil.copy(src, dst)
    warm(dst)  # the same warm page cache every run


def phone(i):
    return f"+336{i:08d}"


def profile(i):
    """(phone, first_name, last_name, tier) of generated profile i."""
    return (phone(i), FIRST[i % len(FIRST)], LAST[(i // 7) % len(LAST)],
            TIERS[(i // 3) % len(TIERS)])


def prepare_base(work):
    if ROWS > 10 ** 8:
        fail("at most 100,000,000 rows (+336 and 8 digits)")
    path = os.path.join(work, "p.csv")
    with open(path, "w", newline="") as f:
        w = csv.writer(f, lineterminator="\n")
        w.writerow(["external_id", "email", "phone", "first_name", "last_name", "tier",
                    "city", "country", "language"])
        for i in range(ROWS):
            ph, fn, ln, tier = profile(i)
            w.writerow([i + 1, f"user{i}@example.com", ph, fn, ln, tier or "",
                        CITIES[i % len(CITIES)], "FR", "fr"])
    base = os.path.join(work, "base.db")
    crier(base, "init")
    crier(base, "schema", "add-column", "profile", "city", "text")
    t0 = time.perf_counter()
    crier(base, "import", "profiles", path, "--key", "external_id")
    imported = time.perf_counter() - t0
    for key, tpl, _ in CRIER_RUNS:
        tp = os.path.join(work, f"{key}.json")
        with open(tp, "w") as f:
            json.dump(tpl, f, ensure_ascii=False)
        crier(base, "template", "add", "external", key, tp)
    os.unlink(path)
    with sqlite3.connect(base) as con:
        con.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    con.close()
    return base, imported


def expected_rows(date):
    for i in range(ROWS):
        ph, fn, ln, tier = profile(i)
        yield [ph, fn, ln.upper(), tier or "none", LABEL, date]


def check_rows(key, rows, date):
    """rows (the header first) against the generated profiles, in any order."""
    want_header = [c[0] for c in COLUMNS]
    if not rows or rows[0] != want_header:
        fail(f"{key}: header {rows[:1]}, expected {want_header}")
    body = rows[1:]
    if len(body) != ROWS:
        fail(f"{key}: {len(body)} rows read back, expected {ROWS}")
    body.sort(key=lambda r: r[0])  # the numbers are in profile order
    for i, (got, want) in enumerate(zip(body, expected_rows(date))):
        if got != want:
            fail(f"{key}: row of profile {i + 1} is {got}, expected {want}")


def read_back(key, path, encoding, fixed, date):
    """Checks the exported file; returns the size of its (uncompressed) contents."""
    opener = gzip.open if path.endswith(".gz") else open
    with opener(path, "rb") as f:
        raw = f.read()
    text = raw.decode(encoding)
    if fixed:
        lines = text.split("\r\n")
        if lines[-1] != "":
            fail(f"{key}: the file does not end with CRLF")
        rows, width = [], sum(c[2] for c in COLUMNS)
        for n, line in enumerate(lines[:-1]):
            if len(line) != width:
                fail(f"{key}: line {n + 1} has {len(line)} characters, expected {width}")
            row, at = [], 0
            for _, _, w, _ in COLUMNS:
                row.append(line[at:at + w].strip())
                at += w
            rows.append(row)
    else:
        rows = list(csv.reader(io.StringIO(text, newline="")))
        if not raw.endswith(b"\r\n"):
            fail(f"{key}: the file does not end with CRLF")
    check_rows(key, rows, date)
    return len(raw)


def log_times(stderr):
    """Seconds since the epoch of crier's 'rows written' and 'exported' log lines."""
    got = {}
    for line in stderr.splitlines():
        try:
            j = json.loads(line)
        except ValueError:
            continue
        msg, t = j.get("msg", ""), j.get("time")
        which = "written" if " rows written to " in msg else \
            "exported" if " exported to " in msg else None
        if which and t:
            got[which] = calendar.timegm(time.strptime(t[:19], "%Y-%m-%dT%H:%M:%S")) + \
                float("0" + t[19:-1])
    return got


def prepared_copy(work, base, key):
    db = os.path.join(work, f"{key}.db")
    fresh(base, db)
    out = os.path.join(work, f"out-{key}")
    spool = os.path.join(work, f"spool-{key}")
    shutil.rmtree(out, ignore_errors=True)
    shutil.rmtree(spool, ignore_errors=True)
    os.makedirs(out)
    crier(db, "config", "set", "external.spool_dir", spool)
    crier(db, "account", "add", "routing", "partner", "--channel", "sms", "--mode",
          "external", "--export", out, "--file-name", "bench-{delivery}.{ext}")
    d = json.loads(crier(db, "delivery", "create", "--template", key, "--account", "partner",
                         "--filter", "true", "--label", LABEL, "--no-confirm", "--json"))["id"]
    prep = timed([CRIER, "--db", db, "delivery", "prepare", str(d)])
    return db, out, d, prep[0]


def crier_run(work, base, key, encoding, fixed, perf, sqlite_runs):
    db, out, d, prep = prepared_copy(work, base, key)
    results = {}
    for skey, sql, gz in sqlite_runs:  # on this prepared copy, before crier's run
        results[skey] = sqlite_run(work, db, skey, sql, gz, d)
    engine = [CRIER, "--db", db, "--log-level", "info", "--log-json", "engine", "run",
              "--until-idle"]
    if perf:
        engine = ["perf", "record", "-F", "999", "--call-graph", PERF_CALLS, "-q", "-o", PERF,
                  *engine]
    t_start = time.time()
    wall, cpu, other, err = timed(engine)
    t_end = time.time()
    show = json.loads(crier(db, "delivery", "show", str(d), "--json"))
    k, ex = show["kpis"], show.get("export") or {}
    if (show["status"] != "sent" or k.get("exported") != ROWS or ex.get("rows") != ROWS or
            ex.get("status") != "exported"):
        fail(f"{key}: status {show['status']}, kpis {json.dumps(k)}, export {ex}; expected "
             f"sent with {ROWS} exported")
    files = os.listdir(out)
    if files != [ex["name"]]:
        fail(f"{key}: {files} in the export folder, expected [{ex['name']}]")
    path = os.path.join(out, files[0])
    size = os.path.getsize(path)
    if ex["bytes"] != size:
        fail(f"{key}: export.bytes {ex['bytes']}, the file has {size}")
    date = ex["exported_at"][:10]
    data = read_back(key, path, encoding, fixed, date)
    lt = log_times(err)
    written = lt.get("written", t_end) - t_start
    exported = lt.get("exported", t_end) - lt.get("written", t_start)
    results[key] = {"prepare": prep, "wall": wall, "cpu": cpu, "other": other,
                    "file": size, "data": data, "write": written, "export": exported,
                    "fsync": None}
    for sfx in ("", "-wal", "-shm"):
        if os.path.exists(db + sfx):
            os.unlink(db + sfx)
    shutil.rmtree(out, ignore_errors=True)
    return results


def sqlite_run(work, db, key, sql, gz, d):
    path = os.path.join(work, f"sqlite-{key}.csv" + (".gz" if gz else ""))
    join = SQLITE_RUNS[1][1].format(d=d)
    if gz:
        cmd = f"sqlite3 -csv -header 'file:{db}?mode=ro' \"{join}\" | gzip -6"
    else:
        cmd = ["sqlite3", "-csv", "-header", f"file:{db}?mode=ro", sql.format(d=d)]
    with open(path, "wb") as f:
        wall, cpu, other, _ = timed(cmd, stdout=f, shell=gz)
    s0 = time.perf_counter()
    sh("sync", path)  # an fsync of that file: timed apart
    fsync = time.perf_counter() - s0
    if gz:  # the shell's children: their CPU is in "other"; count it as the pipeline's
        cpu, other = cpu + other, 0.0
    opener = gzip.open if gz else open
    with opener(path, "rb") as f:
        raw = f.read()
    rows = list(csv.reader(io.StringIO(raw.decode(), newline="")))
    if len(rows) != ROWS + 1 or rows[0] != [c[0] for c in COLUMNS] or \
            any(len(r) != len(COLUMNS) for r in rows):
        fail(f"{key}: sqlite3 wrote {len(rows)} lines, expected {ROWS} rows and the header")
    size = os.path.getsize(path)
    os.unlink(path)
    return {"prepare": None, "wall": wall, "cpu": cpu, "other": other, "file": size,
            "data": len(raw), "write": None, "export": None, "fsync": fsync}


def main():
    work = tempfile.mkdtemp(prefix="crier-bench-extract-")
    try:
        base, imported = prepare_base(work)
        plan = [r for r in CRIER_RUNS if not ONLY or r[0] in ONLY]
        splan = [r for r in SQLITE_RUNS if not ONLY or r[0] in ONLY]
        if not plan and splan:
            plan = CRIER_RUNS[:1]  # the sqlite3 runs need a prepared copy
        best = {}
        for run in range(RUNS):
            for i, (key, _, encoding) in enumerate(plan):
                tpl = [t for k, t, _ in CRIER_RUNS if k == key][0]
                res = crier_run(work, base, key, encoding, tpl.get("format") == "fixed",
                                bool(PERF) and run == 0 and i == 0, splan if i == 0 else [])
                for k, r in res.items():
                    if k not in best or r["wall"] < best[k]["wall"]:
                        best[k] = r
        load = os.getloadavg()
        print(f"bench/extract: {ROWS} rows, 6 columns, an external delivery's file exported "
              f"to a folder by crier (engine run --until-idle) vs sqlite3 {sqlite3_version()} "
              f"-csv -header; {os.cpu_count()} CPUs, load {load[0]:.2f} {load[1]:.2f} "
              f"{load[2]:.2f}; best of {RUNS}")
        print(f"import profiles: {imported:.2f} s ({ROWS / imported:.0f} rows/s), not "
              f"measured below")
        print(f"{'run':<17} {'prepare s':>9} {'wall s':>7} {'rows/s':>9} {'MB':>7} "
              f"{'MB/s':>6} {'CPU s':>6} {'other':>6} {'write s':>7} {'export s':>8} "
              f"{'fsync s':>7}")
        order = [k for k, _, _ in plan] + [k for k, _, _ in splan]
        busy = []
        for key in order:
            r = best[key]
            name = ("crier " if key in [k for k, _, _ in CRIER_RUNS] else "sqlite3 ") + key

            def f(v, w=7):
                return f"{'-':>{w}}" if v is None else f"{v:{w}.2f}"
            print(f"{name:<17} {f(r['prepare'], 9)} {r['wall']:7.2f} "
                  f"{ROWS / r['wall']:9.0f} {r['data'] / 1e6:7.1f} "
                  f"{r['data'] / 1e6 / r['wall']:6.1f} {r['cpu']:6.2f} {r['other']:6.2f} "
                  f"{f(r['write'])} {f(r['export'], 8)} {f(r['fsync'])}")
            if r["other"] > 0.05 * (os.cpu_count() or 1) * r["wall"]:
                busy.append(key)
            if r["file"] != r["data"]:
                print(f"{'':<17} (gzip: {r['file'] / 1e6:.1f} MB on disk, "
                      f"{r['data'] / r['file']:.1f}x)")
        if busy:
            print(f"other processes took more than 5% of the CPUs during {', '.join(busy)}: "
                  "those figures are low")
        print(f"every crier file: the header and {ROWS} rows equal to the profiles', "
              f"kpis.exported {ROWS}; every sqlite3 output: {ROWS} rows and the header")
    finally:
        shutil.rmtree(work, ignore_errors=True)


def sqlite3_version():
    return sh("sqlite3", "--version").split()[0]


main()
