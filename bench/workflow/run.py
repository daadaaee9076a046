"""bench/workflow: crier's workflow engine against sqlite3 running the same statements.

The workflow is query -> split into three segments -> one list update per segment, on a
database of N generated profiles. crier runs it as users do (`workflow start` then
`engine run --until-idle`: two processes, the definition parsed and checked, one
transaction per activity, the engine's bookkeeping). sqlite3 runs, on a copy of the same
database, the statements that do the work: the same INSERT ... SELECT into populations
(values written as literals, since the shell cannot bind), the same counts, the same list
inserts, one transaction per activity, with the pragmas crier sets. The ratio is the cost of
the engine around the SQL. Each figure is the best of RUNS runs.
"""
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time

CRIER, N, RUNS = os.path.abspath(sys.argv[1]), int(sys.argv[2]), int(sys.argv[3])
NOW = "2026-12-01T09:00:00Z"

WF = {
    "name": "bench",
    "activities": [
        {"id": "start", "type": "start"},
        {"id": "q", "type": "query", "filter": "tier in ('gold', 'silver') and email is not null"},
        {"id": "s", "type": "split", "segments": [
            {"name": "fr", "filter": "country = 'FR'"},
            {"name": "young", "filter": "birth_date > date '1990-01-01'"},
            {"name": "gold", "filter": "tier = 'gold'"}]},
        {"id": "l_fr", "type": "list_update", "list": "fr"},
        {"id": "l_young", "type": "list_update", "list": "young"},
        {"id": "l_gold", "type": "list_update", "list": "gold"}],
    "transitions": [
        {"from": "start", "to": "q"}, {"from": "q", "to": "s"},
        {"from": "s.fr", "to": "l_fr"}, {"from": "s.young", "to": "l_young"},
        {"from": "s.gold", "to": "l_gold"}]}

TS = "'2026-12-01 09:00:00'"
MEMBERS = "INSERT INTO population_member (population_id, item_id, profile_id) "


def pop(i, out):
    return (f"INSERT INTO population (id, run_id, from_activity, output, dimension, count, "
            f"created_at) VALUES ({i}, NULL, 'x', '{out}', 'profile', 0, {TS});\n")


def count(i):
    return (f"UPDATE population SET count = (SELECT count(*) FROM population_member "
            f"WHERE population_id = {i}) WHERE id = {i};\n")


def not_in(*pops):
    return "".join(f" AND NOT EXISTS (SELECT 1 FROM population_member x WHERE "
                   f"x.population_id = {p} AND x.item_id = m.item_id)" for p in pops)


SEG = "SELECT {i}, m.item_id, m.profile_id FROM population_member m JOIN profile p ON " \
      "p.id = m.item_id WHERE m.population_id = 1{excl} AND ({cond});\n"
BASELINE = (
    "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL; PRAGMA foreign_keys=ON; "
    "PRAGMA temp_store=MEMORY; PRAGMA threads=2;\n"
    "BEGIN IMMEDIATE;\n" + pop(1, "default") + MEMBERS +
    "SELECT 1, p.id, p.id FROM profile p WHERE ((p.\"tier\" IN ('gold', 'silver')) AND "
    "(p.\"email\" IS NOT NULL));\n" + count(1) + "COMMIT;\n"
    "BEGIN IMMEDIATE;\n" +
    pop(2, "fr") + MEMBERS + SEG.format(i=2, excl="", cond="p.\"country\" = 'FR'") + count(2) +
    pop(3, "young") + MEMBERS + SEG.format(i=3, excl=not_in(2),
                                           cond="p.\"birth_date\" > '1990-01-01'") + count(3) +
    pop(4, "gold") + MEMBERS + SEG.format(i=4, excl=not_in(2, 3),
                                          cond="p.\"tier\" = 'gold'") + count(4) +
    "COMMIT;\n" +
    "".join(
        f"BEGIN IMMEDIATE;\nINSERT INTO list (name, created_at, updated_at) VALUES ('{name}', "
        f"{TS}, {TS}) ON CONFLICT (name) DO NOTHING;\n"
        f"INSERT INTO list_member (list_id, profile_id, added_at) SELECT (SELECT id FROM list "
        f"WHERE name = '{name}'), profile_id, {TS} FROM population_member WHERE "
        f"population_id = {p} ON CONFLICT DO NOTHING;\nCOMMIT;\n"
        for name, p in [("fr", 2), ("young", 3), ("gold", 4)]))


def sh(*args, **kw):
    return subprocess.run(args, check=True, capture_output=True, text=True, **kw).stdout


def best(prepare, run):
    b = None
    for _ in range(RUNS):
        prepare()
        t0 = time.perf_counter()
        run()
        t = time.perf_counter() - t0
        b = t if b is None or t < b else b
    return b


def main():
    work = tempfile.mkdtemp(prefix="crier-bench-wf-")
    try:
        os.chdir(work)
        sh(CRIER, "demo", "generate", "profiles", "--count", str(N), "--out", "p.csv")
        sh(CRIER, "--db", "base.db", "init")
        sh(CRIER, "--db", "base.db", "clock", "set", NOW)
        sh(CRIER, "--db", "base.db", "import", "profiles", "p.csv", "--key", "external_id",
           "--json")
        sh("sqlite3", "base.db", "PRAGMA wal_checkpoint(TRUNCATE); ANALYZE;")
        with open("wf.json", "w") as f:
            json.dump(WF, f)
        with open("baseline.sql", "w") as f:
            f.write(BASELINE)

        def fresh(name):
            def prep():
                for sfx in ("", "-wal", "-shm"):
                    if os.path.exists(name + sfx):
                        os.unlink(name + sfx)
                shutil.copy("base.db", name)
                with open(name, "rb") as f:  # the same warm page cache for both sides
                    while f.read(1 << 20):
                        pass
            return prep

        def crier_run():
            sh(CRIER, "--db", "c.db", "workflow", "start", "wf.json")
            sh(CRIER, "--db", "c.db", "engine", "run", "--until-idle")

        t_crier = best(fresh("c.db"), crier_run)
        t_sql = best(fresh("s.db"), lambda: sh("sqlite3", "s.db", stdin=open("baseline.sql")))
        # both did the same work
        q = ("SELECT l.name, count(*) FROM list_member m JOIN list l ON l.id = m.list_id "
             "GROUP BY l.name ORDER BY l.name")
        a, b = sh("sqlite3", "c.db", q), sh("sqlite3", "s.db", q)
        if a != b:
            sys.exit(f"bench/workflow: the two runs disagree:\n{a}\n{b}")
        print(f"bench/workflow: {N} profiles; lists {' '.join(a.split())}; best of {RUNS}")
        print(f"{'sqlite3, the same statements':<45} {t_sql:8.3f} s")
        print(f"{'crier workflow start + engine run':<45} {t_crier:8.3f} s  "
              f"({t_crier / t_sql:.2f}x)")
    finally:
        os.chdir("/")
        shutil.rmtree(work, ignore_errors=True)


main()
