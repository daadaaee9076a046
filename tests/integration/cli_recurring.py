"""cli_recurring.py - the workflow SMS activity, single and recurring (issue 8, seed 002): a
daily scheduler over a virtual month aggregated per ISO week, a single SMS waiting for its
confirmation, and the edges of periods (a DST change in Paris, a week across the year end,
aggregation none, fires that wait for an execution's sending).

SMS go to a file sink account; assertions read `crier delivery show/logs --json`, `crier
workflow status --json` and the store, never the sink's format. Expected periods, fire days
and populations are computed here (Python's zoneinfo and isocalendar over the CSV).
"""
import csv
import json
import os
import sqlite3
import subprocess
from datetime import date, datetime, timedelta, timezone
from zoneinfo import ZoneInfo

from crier_test import expect, main

EXAMPLES = os.path.join(os.path.dirname(__file__), "..", "..", "examples")
PARIS = ZoneInfo("Europe/Paris")


def sql(c, statement):
    if c.backend == "sqlite":
        db = sqlite3.connect(c.url)
        try:
            return db.execute(statement).fetchall()
        finally:
            db.close()
    out = subprocess.run(["psql", "-qAtX", "-v", "ON_ERROR_STOP=1", c.url, "-c", statement],
                         check=True, capture_output=True, text=True).stdout
    return [tuple(line.split("|")) for line in out.splitlines() if line]


def setup(c, profiles, clock):
    c.run("init")
    c.run("clock", "set", clock)
    c.run("demo", "generate", "profiles", "--count", str(profiles), "--out", "p.csv")
    c.run("import", "profiles", "p.csv", "--key", "external_id", "--json")
    os.makedirs(c.path("sink"), exist_ok=True)
    c.run("account", "add", "file", "sms", "--dir", c.path("sink"))
    c.run("template", "add", "sms", "birthday-sms",
          os.path.join(EXAMPLES, "seed-002-sms-template.json"))
    with open(c.path("p.csv")) as f:
        return list(csv.DictReader(f))


def engine(c):
    return c.json("engine", "run", "--until-idle", "--json")["steps"]


def days(c, n):
    """n virtual days, the engine running after each."""
    for _ in range(n):
        c.run("clock", "advance", "1d")
        engine(c)


def show(c, d):
    return c.json("delivery", "show", str(d), "--json")


def parent_of(c, run, activity):
    rows = sql(c, f"SELECT id FROM delivery WHERE workflow_run_id = {run} AND activity_id = "
                  f"'{activity}' AND parent_id IS NULL")
    expect(len(rows) == 1, ("one parent", rows))
    return int(rows[0][0])


def fires(c, run):
    """{child run: (its planned fire time, aware UTC)} from the scheduler's cause text."""
    s = c.json("workflow", "status", str(run), "--json")
    out = {}
    for child in s["children"]:
        rows = sql(c, f"SELECT cause FROM workflow_run WHERE id = {child}")
        at = rows[0][0].rsplit(" at ", 1)[1]
        out[child] = datetime.fromisoformat(at.replace("Z", "+00:00"))
    return out


def week_key(d):
    y, w, _ = d.isocalendar()
    return f"{y:04d}-W{w:02d}"


def log_counts(c, delivery):
    """{fire id: (targeted, excluded)} of an execution, from the store."""
    out = {}
    for fire, status, n in sql(c, f"SELECT fire_id, status = 'excluded', count(*) FROM "
                                  f"delivery_log WHERE delivery_id = {delivery} GROUP BY "
                                  f"fire_id, status = 'excluded'"):
        t, e = out.get(int(fire), (0, 0))
        excluded = str(status) in ("1", "t", "True")
        out[int(fire)] = (t + (0 if excluded else int(n)), e + (int(n) if excluded else 0))
    return out


def test_seed_002_birthday_sms_per_week(c):
    rows = setup(c, 2000, "2026-11-30T12:00:00Z")
    run = c.json("workflow", "start", os.path.join(EXAMPLES, "seed-002-recurring-sms.json"),
                 "--json")["run"]
    days(c, 32)  # to 2027-01-01: the scheduler's end has passed
    s = c.json("workflow", "status", str(run), "--json")
    expect(s["status"] == "finished" and len(s["children"]) == 31, (s["status"], s["children"]))
    fired = fires(c, run)
    local = {child: t.astimezone(PARIS) for child, t in fired.items()}
    expect(sorted(d.date() for d in local.values()) ==
           [date(2026, 12, 1) + timedelta(days=i) for i in range(31)], "one fire a day")
    expect(all((d.hour, d.minute) == (9, 0) for d in local.values()), "at 09:00 in Paris")
    # each fire's population: the profiles whose birthday it is, with a phone
    by_day = {}
    for r in rows:
        b = date.fromisoformat(r["birth_date"]) if r["birth_date"] else None
        if b and r["phone"]:
            by_day[(b.month, b.day)] = by_day.get((b.month, b.day), 0) + 1
    per_fire = {}
    for child in fired:
        _, a = None, {x["id"]: x for x in c.json("workflow", "status", str(child),
                                                 "--json")["activities"]}
        want = by_day.get((local[child].month, local[child].day), 0)
        expect(a["birthdays"]["count_out"] == want, (child, a["birthdays"], want))
        expect(a["wishes"]["status"] == "done" and a["wishes"]["count_in"] == want, a["wishes"])
        per_fire[child] = want
    expect(sum(per_fire.values()) > 60, "enough birthdays to mean something")

    parent = parent_of(c, run, "wishes")
    p = show(c, parent)
    expect(p["status"] == "recurring" and p["parent"] is None and p["period"] is None, p)
    expect(p["options"]["recurring"] == {"aggregation": "week"} and
           p["options"]["confirm"] is False, p["options"])
    weeks = sorted({week_key(d.date()) for d in local.values()})
    expect(weeks == ["2026-W49", "2026-W50", "2026-W51", "2026-W52", "2026-W53"], weeks)
    execs = p["executions"]
    expect([e["period"] for e in execs] == weeks, execs)
    total = {"targeted": 0, "sent": 0}
    for e in execs:
        x = show(c, e["id"])
        expect(x["parent"] == parent and x["period"] == e["period"] and x["status"] == "sent", x)
        expect(x["label"] == "Birthday wishes \u2014 " + e["period"], x["label"])
        in_week = [ch for ch in fired if week_key(local[ch].date()) == e["period"]]
        expect(sorted(f["run"] for f in x["fires"]) == sorted(in_week), (x["fires"], in_week))
        # every fire's recipients are in the execution: targeted + excluded = its population
        counts = log_counts(c, e["id"])
        expect(set(counts) <= {f["id"] for f in x["fires"]}, (counts, x["fires"]))
        for f in x["fires"]:
            t, ex = counts.get(f["id"], (0, 0))
            expect(t + ex == per_fire[f["run"]], (f, t, ex, per_fire[f["run"]]))
            expect(f["preparation"]["targeted"] == t, f)
        k = x["kpis"]
        expect(k["targeted"] == sum(t for t, _ in counts.values()) ==
               sum(f["preparation"]["targeted"] for f in x["fires"]), (k, counts))
        expect(k["sent"] == k["targeted"] and k["pending"] == 0, k)
        expect(x["preparation"]["fires"] == len(in_week), x["preparation"])
        total["targeted"] += k["targeted"]
        total["sent"] += k["sent"]
    expect(p["kpis"]["targeted"] == total["targeted"] and p["kpis"]["sent"] == total["sent"],
           (p["kpis"], total))
    expect(total["targeted"] > 50, total)
    # executions are hidden from the default listing; --all shows them under their parent
    listed = c.json("delivery", "list", "--json")
    expect([d["id"] for d in listed] == [parent] and listed[0]["status"] == "recurring", listed)
    expect(listed[0]["kpis"]["targeted"] == total["targeted"], listed[0])
    every = {d["id"]: d for d in c.json("delivery", "list", "--all", "--json")}
    expect(all(every[e["id"]]["parent"] == parent and every[e["id"]]["period"] == e["period"]
               for e in execs), every)
    # the parent's logs are its executions'
    logs = c.json("delivery", "logs", str(parent), "--json")
    expect(len([x for x in logs if x["status"] == "sent"]) == total["sent"], len(logs))
    # a campaign reports the recurring delivery once
    camp = c.json("campaign", "show", "birthdays-2026", "--json")
    expect([d["id"] for d in camp["deliveries"]] == [parent], camp["deliveries"])
    # the parent is never prepared, confirmed or sent by hand; nor is an execution prepared
    _, err = c.run("delivery", "prepare", str(parent), status=2)
    expect("recurring" in err, err)
    _, err = c.run("delivery", "confirm", str(parent), status=2)
    expect("recurring" in err, err)
    _, err = c.run("delivery", "prepare", str(execs[0]["id"]), status=2)
    expect("execution of recurring delivery" in err, err)


def test_single_sms_waits_for_confirmation(c):
    rows = setup(c, 300, "2026-12-01T09:00:00Z")
    wf = {"name": "one-sms", "activities": [
        {"id": "start", "type": "start"},
        {"id": "gold", "type": "query", "filter": "tier = 'gold' and phone is not null"},
        {"id": "text", "type": "sms", "template": "birthday-sms", "account": "sms",
         "outbound": "with_population"},
        {"id": "texted", "type": "list_update", "list": "texted"}],
        "transitions": [{"from": "start", "to": "gold"}, {"from": "gold", "to": "text"},
                        {"from": "text", "to": "texted"}]}
    c.write("one.json", json.dumps(wf))
    run = c.json("workflow", "start", "one.json", "--json")["run"]
    engine(c)
    gold = sum(1 for r in rows if r["tier"] == "gold" and r["phone"])
    a = {x["id"]: x for x in c.json("workflow", "status", str(run), "--json")["activities"]}
    expect(a["gold"]["count_out"] == gold and gold > 10, a["gold"])
    expect(a["text"]["status"] == "waiting", a["text"])
    d = int(sql(c, f"SELECT id FROM delivery WHERE workflow_run_id = {run} AND activity_id = "
                   f"'text'")[0][0])
    x = show(c, d)
    expect(x["status"] == "ready" and x["kpis"]["targeted"] + sum(
        x["kpis"]["excluded"].values()) == gold, x)
    expect(x["kpis"]["sent"] == 0 and x["preparation"]["segments"] >= x["kpis"]["targeted"], x)
    # nothing happens without a person, however long
    c.run("clock", "advance", "2d")
    engine(c)
    expect(show(c, d)["status"] == "ready", "still ready")
    expect(c.json("workflow", "status", str(run), "--json")["status"] == "running", run)
    c.run("delivery", "confirm", str(d))
    engine(c)
    x = show(c, d)
    expect(x["status"] == "sent" and x["kpis"]["sent"] == x["kpis"]["targeted"], x)
    s = c.json("workflow", "status", str(run), "--json")
    a = {y["id"]: y for y in s["activities"]}
    expect(s["status"] == "finished" and a["text"]["outputs"] == {
        "default": x["kpis"]["targeted"]}, a["text"])
    sent = sorted(int(r[0]) for r in sql(c, f"SELECT profile_id FROM delivery_log WHERE "
                                           f"delivery_id = {d} AND status = 'sent'"))
    listed = sorted(int(r[0]) for r in sql(c, "SELECT profile_id FROM list_member WHERE list_id "
                                             "= (SELECT id FROM list WHERE name = 'texted')"))
    expect(listed == sent, "with_population: the recipients actually targeted")


def recurring_wf(name, cron, start, end, query, acts):
    return {"name": name, "activities": [
        {"id": "tick", "type": "scheduler", "cron": cron, "timezone": "Europe/Paris",
         "start": start, "end": end},
        {"id": "q", "type": "query", "filter": query}] + [
        dict({"id": i, "type": "sms", "template": "birthday-sms", "account": "sms"}, **extra)
        for i, extra in acts],
        "transitions": [{"from": "tick", "to": "q"}] + [{"from": "q", "to": i} for i, _ in acts]}


def periods_check(c, run, activity, want):
    """want: {period: number of fires}; checks the executions and that each counts all its
    fires' recipients, the same recipients each time (the query is the same every day)."""
    p = show(c, parent_of(c, run, activity))
    got = {}
    for e in p["executions"]:
        x = show(c, e["id"])
        per = log_counts(c, e["id"])
        expect(len({v for v in per.values()}) <= 1, ("same recipients every fire", per))
        got[e["period"]] = len(x["fires"])
        one = next(iter(per.values()))[0] if per else 0
        expect(x["kpis"]["targeted"] == one * len(x["fires"]) and x["status"] == "sent",
               (e, x["kpis"]))
    expect(got == want, (activity, got, want))
    expect(p["kpis"]["targeted"] == sum(show(c, e["id"])["kpis"]["targeted"]
                                        for e in p["executions"]), p["kpis"])
    return p


def test_dst_week_in_paris(c):
    setup(c, 200, "2026-03-25T12:00:00Z")
    # 00:30 in Paris: on Monday 30 March (CEST) that is still Sunday 22:30 in UTC
    wf = recurring_wf("dst", "30 0 * * *", "2026-03-26T00:00:00+01:00",
                      "2026-04-01T12:00:00+02:00", "tier = 'gold' and phone is not null",
                      [("by_day", {"confirm": False, "recurring": {"aggregation": "day"}}),
                       ("by_week", {"confirm": False, "recurring": {"aggregation": "week"}})])
    c.write("dst.json", json.dumps(wf))
    run = c.json("workflow", "start", "dst.json", "--json")["run"]
    days(c, 8)
    fired = fires(c, run)
    local = sorted(t.astimezone(PARIS) for t in fired.values())
    expect([(d.day, d.hour, d.minute) for d in local] ==
           [(d, 0, 30) for d in (26, 27, 28, 29, 30, 31)] + [(1, 0, 30)], local)
    utc_monday = [t for t in fired.values() if t.astimezone(PARIS).day == 30][0]
    expect(utc_monday.date() == date(2026, 3, 29), "the Monday fire is Sunday in UTC")
    periods_check(c, run, "by_day", {d.date().isoformat(): 1 for d in local})
    periods_check(c, run, "by_week", {"2026-W13": 4, "2026-W14": 3})


def test_week_across_year_end_and_none(c):
    setup(c, 200, "2026-12-29T12:00:00Z")
    wf = recurring_wf("newyear", "0 9 * * *", "2026-12-30T00:00:00+01:00",
                      "2027-01-05T23:00:00+01:00", "tier = 'gold' and phone is not null",
                      [("w", {"confirm": False, "recurring": {"aggregation": "week"}}),
                       ("m", {"confirm": False, "recurring": {"aggregation": "month"}}),
                       ("y", {"confirm": False, "recurring": {"aggregation": "year"}}),
                       ("n", {"confirm": False, "recurring": {"aggregation": "none"}})])
    c.write("ny.json", json.dumps(wf))
    run = c.json("workflow", "start", "ny.json", "--json")["run"]
    days(c, 8)
    # 30 Dec 2026 to 3 Jan 2027 are ISO week 53 of 2026; 4 and 5 January start 2027-W01
    periods_check(c, run, "w", {"2026-W53": 5, "2027-W01": 2})
    periods_check(c, run, "m", {"2026-12": 2, "2027-01": 5})
    periods_check(c, run, "y", {"2026": 2, "2027": 5})
    p = periods_check(c, run, "n", {f"{d}T09:00": 1 for d in [
        "2026-12-30", "2026-12-31", "2027-01-01", "2027-01-02", "2027-01-03", "2027-01-04",
        "2027-01-05"]})
    expect(len(p["executions"]) == 7, "none: an execution per fire")
    # the same profiles got the SMS every day: de-duplication is judged within a fire
    e = show(c, p["executions"][0]["id"])
    w = show(c, show(c, parent_of(c, run, "w"))["executions"][0]["id"])
    expect(w["kpis"]["targeted"] == 5 * e["kpis"]["targeted"] > 0, (w["kpis"], e["kpis"]))


def test_recurring_confirmation(c):
    """Fires of one period share the execution's confirmation; a fire that needs confirming
    waits while the execution sends what an earlier confirmation released."""
    setup(c, 200, "2026-12-01T12:00:00Z")
    wf = recurring_wf("confirmed", "0 9 * * *", "2026-12-02T00:00:00+01:00",
                      "2026-12-06T23:00:00+01:00", "tier = 'gold' and phone is not null",
                      [("s", {"recurring": {"aggregation": "week"},
                              "outbound": "with_population"})])
    wf["activities"].append({"id": "l", "type": "list_update", "list": "texted"})
    wf["transitions"].append({"from": "s", "to": "l"})
    c.write("conf.json", json.dumps(wf))
    run = c.json("workflow", "start", "conf.json", "--json")["run"]
    days(c, 2)  # fires of 2 and 3 December: prepared, both awaiting the one confirmation
    parent = parent_of(c, run, "s")
    ex = show(c, parent)["executions"]
    expect(len(ex) == 1 and ex[0]["status"] == "ready", ex)
    d = ex[0]["id"]
    x = show(c, d)
    per = log_counts(c, d)
    expect(len(x["fires"]) == 2 and all(f["confirmed_at"] is None for f in x["fires"]), x)
    one = next(iter(per.values()))[0]
    expect(x["kpis"]["targeted"] == 2 * one and x["kpis"]["sent"] == 0 and one > 3, x["kpis"])
    c.run("delivery", "confirm", str(d))
    engine(c)
    x = show(c, d)
    expect(x["status"] == "sent" and x["kpis"]["sent"] == 2 * one, x["kpis"])
    children = sorted(fires(c, run))
    for ch in children:
        a = {y["id"]: y for y in c.json("workflow", "status", str(ch), "--json")["activities"]}
        expect(a["s"]["status"] == "done" and a["s"]["outputs"] == {"default": one}, a["s"])
    # a new fire re-opens the execution for its own recipients only
    days(c, 1)
    x = show(c, d)
    expect(x["status"] == "ready" and x["kpis"]["sent"] == 2 * one and
           x["kpis"]["pending"] == one, x["kpis"])
    c.run("delivery", "confirm", str(d))
    # paused while sending: the next fire, which needs confirming, waits for the sending
    c.run("delivery", "pause", str(d))
    days(c, 1)
    x = show(c, d)
    expect(x["status"] == "paused" and len(x["fires"]) == 4, x["status"])
    expect(x["fires"][3]["prepared_at"] is None and x["kpis"]["targeted"] == 3 * one, x)
    c.run("delivery", "resume", str(d))
    engine(c)
    x = show(c, d)
    expect(x["status"] == "ready" and x["fires"][3]["prepared_at"] is not None, x["status"])
    expect(x["kpis"]["sent"] == 3 * one and x["kpis"]["pending"] == one, x["kpis"])
    c.run("delivery", "confirm", str(d))
    engine(c)
    x = show(c, d)
    expect(x["status"] == "sent" and x["kpis"]["sent"] == 4 * one, x["kpis"])
    s = c.json("workflow", "status", str(run), "--json")
    expect(len(s["children"]) == 4, s)
    for ch in s["children"]:
        a = {y["id"]: y for y in c.json("workflow", "status", str(ch), "--json")["activities"]}
        expect(a["s"]["status"] == "done" and a["s"]["outputs"] == {"default": one}, (ch, a))
    texted = sql(c, "SELECT count(*) FROM list_member")
    expect(int(texted[0][0]) == one, texted)
    # stopping the parent stops the recurrence: the last fire sends nothing, goes nowhere
    c.run("delivery", "stop", str(parent))
    days(c, 1)
    s = c.json("workflow", "status", str(run), "--json")
    expect(len(s["children"]) == 5 and s["status"] == "finished", s)
    a = {y["id"]: y for y in c.json("workflow", "status", str(s["children"][-1]),
                                    "--json")["activities"]}
    expect(a["s"]["status"] == "done" and a["s"]["outputs"] == {}, a["s"])
    p = show(c, parent)
    expect(p["status"] == "stopped" and len(p["executions"]) == 1 and
           p["kpis"]["targeted"] == 4 * one, p)


def test_validation(c):
    setup(c, 10, "2026-12-01T09:00:00Z")
    wf = recurring_wf("bad", "0 9 * * *", "2026-12-01T00:00:00Z", "2026-12-09T00:00:00Z",
                      "true", [("s", {"recurring": {"aggregation": "fortnight"}}),
                               ("t", {"recurring": {}})])
    c.write("bad.json", json.dumps(wf))
    r = c.json("workflow", "validate", "bad.json", "--json", status=1)
    msgs = {(e["activity"], e["field"]): e["message"] for e in r["errors"]}
    expect("not 'fortnight'" in msgs[("s", "recurring.aggregation")], msgs)
    expect("needs an aggregation" in msgs[("t", "recurring.aggregation")], msgs)


if __name__ == "__main__":
    main([test_seed_002_birthday_sms_per_week, test_single_sms_waits_for_confirmation,
          test_dst_week_in_paris, test_week_across_year_end_and_none,
          test_recurring_confirmation, test_validation])
