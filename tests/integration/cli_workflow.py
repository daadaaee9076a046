"""cli_workflow.py - workflows as users drive them: validate, start, engine run, status,
pause/resume/stop, schedulers on the virtual clock, the seed-001 and seed-003 examples with
stand-in delivery and tracking rows, and a restart-safety test that kills the engine.

Expected counts are computed here from the data (Python over the CSV or plain SQL), never by
asking crier the same question twice.
"""
import csv
import json
import os
import random
import signal
import sqlite3
import subprocess
import time

from crier_test import Crier, expect, main

EXAMPLES = os.path.join(os.path.dirname(__file__), "..", "..", "examples")


def sql(c, statement, params=()):
    """Runs one statement on the test database, outside crier; returns the rows."""
    if c.backend == "sqlite":
        db = sqlite3.connect(c.url)
        rows = db.execute(statement, params).fetchall()
        db.commit()
        db.close()
        return rows
    for p in params:  # psql has no parameters: the tests only pass ints and simple words
        statement = statement.replace("?", str(p) if isinstance(p, int) else f"'{p}'", 1)
    out = subprocess.run(["psql", "-qAtX", "-v", "ON_ERROR_STOP=1", c.url, "-c", statement],
                         check=True, capture_output=True, text=True).stdout
    return [tuple(line.split("|")) for line in out.splitlines() if line]


def ids(rows):
    return sorted(int(r[0]) for r in rows)


def setup(c, profiles=400, subscriptions=False):
    c.run("init")
    c.run("clock", "set", "2026-12-01T09:00:00Z")
    c.run("demo", "generate", "profiles", "--count", str(profiles), "--out", "p.csv")
    c.run("import", "profiles", "p.csv", "--key", "external_id", "--json")
    if subscriptions:
        c.run("demo", "generate", "subscriptions", "--count", str(profiles), "--out", "s.csv")
        c.run("import", "subscriptions", "s.csv", "--json")
    # templates, a pickup account and file sinks for SMS and push, as users add them
    os.makedirs(c.path("pickup"), exist_ok=True)
    os.makedirs(c.path("sms-sink"), exist_ok=True)
    c.run("account", "add", "file", "sms", "--dir", c.path("sms-sink"))
    c.run("account", "add", "pickup", "mail", "--dir", c.path("pickup"))
    for name in ["offer", "offer-reminder", "app-email"]:
        c.write(name + ".json", json.dumps({
            "from": "Shop <shop@example.com>", "subject": "Hello {{ profile.first_name }}",
            "html": "<p><a href=\"https://shop.example/offer\">offer</a></p>"}))
        c.run("template", "add", "email", name, name + ".json")
    c.write("sms.json", json.dumps({"text": "Hi {{ profile.first_name }}"}))
    for name in ["offer-sms", "app-sms"]:
        c.run("template", "add", "sms", name, "sms.json")
    c.run("template", "add", "sms", "birthday-sms",
          os.path.join(EXAMPLES, "seed-002-sms-template.json"))
    c.write("push.json", json.dumps({"title": "Hello {{ profile.first_name }}",
                                     "body": "Something new in the app"}))
    c.run("template", "add", "push", "app-push", "push.json")
    for name, platform in [("apns", "ios"), ("fcm", "android")]:
        os.makedirs(c.path(name), exist_ok=True)
        c.run("account", "add", "file", name, "--channel", "push", "--app", "shop-app",
              "--platform", platform, "--dir", c.path(name))


def status(c, run):
    s = c.json("workflow", "status", str(run), "--json")
    return s, {a["id"]: a for a in s["activities"]}


def run_engine(c):
    return c.json("engine", "run", "--until-idle", "--json")["steps"]


def test_validate_reports_every_problem(c):
    setup(c, profiles=10)
    bad = {
        "name": "bad",
        "activities": [
            {"id": "start", "type": "start"},
            {"id": "q", "type": "query", "filter": "tier = 'gold' and nosuch > 3"},
            {"id": "s", "type": "split", "segments": [{"name": "a", "filter": "opened(q)"}]},
            {"id": "w", "type": "wait"},
            {"id": "x", "type": "teleport"},
            {"id": "m", "type": "email", "template": "nope", "account": "sms", "colour": "red"},
        ],
        "transitions": [{"from": "start", "to": "q"}, {"from": "q", "to": "s"},
                        {"from": "s.b", "to": "w"}, {"from": "s.a", "to": "m"},
                        {"from": "m", "to": "w"}, {"from": "w", "to": "ghost"}],
    }
    c.write("bad.json", json.dumps(bad))
    r = c.json("workflow", "validate", "bad.json", "--json", status=1)
    expect(r["valid"] is False, r)
    where = {(e["activity"], e["field"]) for e in r["errors"]}
    for want in [("x", "type"), ("m", "colour"), ("s", "transitions[2]"),
                 ("m", "transitions[4]"), (None, "transitions[5]"), ("w", "duration")]:
        expect(want in where, (want, r["errors"]))
    # the structural problems are reported together; fix them and the store checks speak
    bad["activities"] = bad["activities"][:4] + [bad["activities"][5]]
    bad["activities"][3]["duration"] = "3d"
    del bad["activities"][4]["colour"]
    bad["activities"][4]["outbound"] = "with_population"
    bad["transitions"] = bad["transitions"][:2] + [{"from": "s.a", "to": "m"},
                                                   {"from": "m", "to": "w"}]
    c.write("bad.json", json.dumps(bad))
    r = c.json("workflow", "validate", "bad.json", "--json", status=1)
    msgs = {(e["activity"], e["field"]): e["message"] for e in r["errors"]}
    expect("1:19" in msgs[("q", "filter")] and "nosuch" in msgs[("q", "filter")], msgs)
    expect("unknown template 'nope'" in msgs[("m", "template")], msgs)
    expect("account 'sms' sends sms" in msgs[("m", "account")], msgs)
    expect("segments[0].filter" in [f for _, f in msgs], msgs)
    _, err = c.run("workflow", "start", "bad.json", status=2)
    expect("activity 'q', filter: 1:19" in err and "nothing was stored" in err, err)
    expect(c.json("workflow", "list", "--json") == [], "an invalid file stored nothing")


def test_examples_are_valid(c):
    setup(c, profiles=10)
    for f in ["seed-001-cross-channel.json", "seed-002-recurring-sms.json",
              "seed-003-push-cross-channel.json",
              "seed-003-push-cross-channel.yaml", "gold-segments.json"]:
        out, _ = c.run("workflow", "validate", os.path.join(EXAMPLES, f))
        expect("valid" in out, out)
    # the YAML file is the same document as the JSON one
    c.run("workflow", "add", os.path.join(EXAMPLES, "seed-003-push-cross-channel.json"))
    c.run("workflow", "add", os.path.join(EXAMPLES, "seed-003-push-cross-channel.yaml"))
    w = c.json("workflow", "list", "--json")
    expect(len(w) == 1 and w[0]["version"] == 1 and w[0]["status"] == "draft", w)
    expect(w[0]["campaign"] == "app-launch", "the campaign was created by the workflow")
    camp = c.json("campaign", "show", "app-launch", "--json")
    expect([x["name"] for x in camp["workflows"]] == ["app-cross-channel"], camp)


def read_profiles(c):
    with open(c.path("p.csv")) as f:
        return list(csv.DictReader(f))


def test_seed_001(c):
    setup(c)
    run = c.json("workflow", "start", os.path.join(EXAMPLES, "seed-001-cross-channel.json"),
                 "--json")["run"]
    run_engine(c)
    rows = read_profiles(c)
    gold = {r["email"] for r in rows if r["tier"] == "gold" and r["email"] and r["phone"]}
    s, a = status(c, run)
    expect(a["gold"]["count_out"] == len(gold) and len(gold) > 20, (len(gold), a["gold"]))
    expect(a["wait3d"]["status"] == "waiting" and a["offer"]["status"] == "done", a)
    offer = int(sql(c, "SELECT id FROM delivery WHERE workflow_run_id = ? AND activity_id = ?",
                    (run, "offer"))[0][0])
    # "confirm": false: prepared and sent (into the pickup folder) without a person
    sent = ids(sql(c, "SELECT profile_id FROM delivery_log WHERE delivery_id = ? AND status = "
                      "'sent'", (offer,)))
    excluded = sql(c, "SELECT count(*) FROM delivery_log WHERE delivery_id = ? AND status = "
                      "'excluded'", (offer,))
    expect(len(sent) + int(excluded[0][0]) == len(gold), (len(sent), excluded))
    expect(len([f for f in os.listdir(c.path("pickup")) if f.startswith(f"{offer}-")]) ==
           len(sent), "one .eml per recipient")
    # with_population: only the recipients actually targeted go on
    expect(a["offer"]["outputs"] == {"default": len(sent)}, a["offer"])
    members = sent
    # stand-in behaviour: a third opened, half of those clicked the offer link, a few
    # clicked another link only
    opened = members[::3]
    clicked_offer = opened[::2]
    clicked_other = opened[1::4]
    sql(c, "INSERT INTO delivery_url (delivery_id, link_id, url, label) VALUES "
           "(?, 1, 'https://shop.example/offer', 'offer')", (offer,))
    sql(c, "INSERT INTO delivery_url (delivery_id, link_id, url, label) VALUES "
           "(?, 2, 'https://shop.example/', 'home')", (offer,))
    for pid, kind, link in ([(p, "open", None) for p in opened] +
                            [(p, "click", 1) for p in clicked_offer] +
                            [(p, "click", 2) for p in clicked_other]):
        sql(c, "INSERT INTO tracking_log (delivery_id, profile_id, kind, link_id, at) "
               f"VALUES (?, ?, ?, {link if link else 'NULL'}, '2026-12-02')", (offer, pid, kind))
    c.run("clock", "advance", "2d")
    expect(run_engine(c) == 0, "nothing is due before three days")
    c.run("clock", "advance", "1d")
    run_engine(c)
    s, a = status(c, run)
    clicked = set(clicked_offer) | set(clicked_other)
    no_open = [p for p in members if p not in opened and p not in clicked]
    open_no_click = [p for p in opened if p not in clicked]
    outs = a["behaviour"]["outputs"]
    expect(outs == {"no_open": len(no_open), "open_no_click": len(open_no_click),
                    "clicked": len(clicked_offer)}, (outs, len(no_open)))
    engaged = ids(sql(c, "SELECT profile_id FROM list_member WHERE list_id = "
                         "(SELECT id FROM list WHERE name = 'engaged-gold')"))
    expect(engaged == sorted(clicked_offer), "the list holds who clicked the offer")
    for act, n, want in [("reminder", len(no_open), "sent"),
                         ("nudge", len(open_no_click), "sent")]:
        d = sql(c, "SELECT channel, status, population_id, id FROM delivery WHERE "
                   "workflow_run_id = ? AND activity_id = ?", (run, act))
        expect(len(d) == 1 and d[0][1] == want, d)
        got = sql(c, "SELECT count(*) FROM population_member WHERE population_id = ?",
                  (int(d[0][2]),))
        expect(int(got[0][0]) == n, (act, got, n))
    # the SMS branch end to end: the nudge was prepared on the phone column ("confirm":
    # false) and sent to everyone it targeted
    nudge = c.json("delivery", "show", str(int(d[0][3])), "--json")
    k = nudge["kpis"]
    expect(nudge["channel"] == "sms" and nudge["confirmed_by"] is None, nudge)
    expect(k["targeted"] + sum(k["excluded"].values()) == len(open_no_click), k)
    expect(k["targeted"] == k["sent"] > 0 and k["pending"] == 0, k)
    logs = c.json("delivery", "logs", str(nudge["id"]), "--json")
    expect(sorted(x["profile"] for x in logs) == sorted(open_no_click), "one row each")
    expect(all(x["address"].startswith("+") for x in logs if x["status"] == "sent"), logs[:3])
    expect(a["nudge"]["status"] == "done" and a["nudge"]["outputs"] == {}, a["nudge"])
    expect(s["status"] == "finished", s)
    camp = c.json("campaign", "show", "winter-2026", "--json")
    expect(len(camp["deliveries"]) == 3, camp)


def test_seed_003(c):
    setup(c, profiles=300, subscriptions=True)
    run = c.json("workflow", "start",
                 os.path.join(EXAMPLES, "seed-003-push-cross-channel.yaml"), "--json")["run"]
    run_engine(c)
    subs = sql(c, "SELECT s.id, s.platform, p.phone, p.email FROM subscription s "
                  "JOIN profile p ON p.id = s.profile_id WHERE s.app = 'shop-app' AND s.active")
    targeted = [r for r in subs if r[2] or r[3]]
    mobile = [r for r in targeted if r[2]]
    email = [r for r in targeted if not r[2] and r[3]]
    s, a = status(c, run)
    expect(a["subscribers"]["count_out"] == len(targeted) and len(mobile) > 10, a)
    expect(a["by_channel"]["outputs"] == {"mobile": len(mobile), "email": len(email)}, a)
    # the email and the SMS wait for a person to confirm them (the default): the union
    # waits too
    expect(a["mail"]["status"] == "waiting" and a["week"]["status"] == "idle", a)
    expect(a["sms"]["status"] == "waiting", a["sms"])
    mail, text = [int(sql(c, "SELECT id FROM delivery WHERE workflow_run_id = ? AND "
                             "activity_id = ?", (run, act))[0][0]) for act in ("mail", "sms")]
    expect(c.json("delivery", "show", str(mail), "--json")["status"] == "ready", mail)
    expect(c.json("delivery", "show", str(text), "--json")["status"] == "ready", text)
    c.run("delivery", "confirm", str(mail))
    run_engine(c)
    s, a = status(c, run)
    expect(a["mail"]["status"] == "done" and a["together"]["status"] == "collecting", a)
    c.run("delivery", "confirm", str(text))
    run_engine(c)
    s, a = status(c, run)
    expect(a["sms"]["status"] == "done" and a["week"]["status"] == "waiting", a)
    sms = c.json("delivery", "show", str(text), "--json")["kpis"]
    expect(sms["sent"] == sms["targeted"] > 0, sms)
    c.run("clock", "advance", "7d")
    run_engine(c)
    s, a = status(c, run)
    ios = sum(1 for r in targeted if r[1] == "ios")
    expect(a["by_platform"]["outputs"] == {"ios": ios, "android": len(targeted) - ios}, a)
    expect(a["push_ios"]["count_in"] == ios and a["push_ios"]["status"] == "waiting", a)
    pushes = {}
    for act in ("push_ios", "push_android"):
        d = int(sql(c, "SELECT id FROM delivery WHERE workflow_run_id = ? AND activity_id = ?",
                    (run, act))[0][0])
        show = c.json("delivery", "show", str(d), "--json")
        expect(show["status"] == "ready" and show["options"]["confirm"] is True, show)
        c.run("delivery", "confirm", str(d))
        pushes[act] = d
    run_engine(c)
    s, a = status(c, run)
    expect(s["status"] == "finished", s)
    # one notification per active subscription of the platform, into each account's sink
    for act, name, platform in [("push_ios", "apns", "ios"), ("push_android", "fcm", "android")]:
        with open(c.path(f"{name}/{pushes[act]}.jsonl")) as f:
            tokens = sorted(json.loads(x)["token"] for x in f)
        want = sorted(t for (t,) in sql(
            c, "SELECT s.token FROM subscription s JOIN profile p ON p.id = s.profile_id WHERE "
               "s.app = 'shop-app' AND s.active AND s.platform = ? AND (p.phone IS NOT NULL OR "
               "p.email IS NOT NULL) AND NOT coalesce(p.push_optout, false)", (platform,)))
        expect(tokens == want, (act, len(tokens), len(want)))


def test_scheduler_and_controls(c):
    setup(c, profiles=50)
    wf = {"name": "daily", "variables": {"min": 1},
          "activities": [
              {"id": "every_day", "type": "scheduler", "cron": "0 9 * * *",
               "timezone": "Europe/Paris", "end": "2026-12-08T12:00:00Z"},
              {"id": "q", "type": "query", "filter": "tier = 'gold'"},
              {"id": "enough", "type": "test", "condition": "count >= min"},
              {"id": "l", "type": "list_update", "list": "daily-gold", "mode": "replace"}],
          "transitions": [{"from": "every_day", "to": "q"}, {"from": "q", "to": "enough"},
                          {"from": "enough.true", "to": "l"}]}
    c.write("daily.json", json.dumps(wf))
    run = c.json("workflow", "start", "daily.json", "--json")["run"]
    s, a = status(c, run)
    # 09:00 UTC on 1 December is 10:00 in Paris: the first fire is 08:00 UTC the next day
    expect(a["every_day"]["wake_at"] == "2026-12-02T08:00:00Z", a["every_day"])
    expect(run_engine(c) == 0, "nothing before the first fire")
    c.run("clock", "advance", "1d")
    run_engine(c)
    s, a = status(c, run)
    expect(len(s["children"]) == 1 and s["status"] == "running", s)
    child, ca = status(c, s["children"][0])
    expect(child["parent"] == run and child["status"] == "finished", child)
    expect(ca["enough"]["outputs"] == {"true": ca["q"]["count_out"]}, ca)
    # pause: the next fire does not happen; resume: it does (once, missed fires collapse)
    c.run("workflow", "pause", str(run))
    c.run("workflow", "pause", str(run), status=2)
    c.run("clock", "advance", "1d")
    expect(run_engine(c) == 0, "a paused run does nothing")
    c.run("workflow", "resume", str(run))
    run_engine(c)
    s, _ = status(c, run)
    expect(len(s["children"]) == 2, s)
    # three days pass without an engine: the three missed fires collapse into one
    c.run("clock", "advance", "3d")
    run_engine(c)
    s, a = status(c, run)
    expect(len(s["children"]) == 3 and a["every_day"]["wake_at"] == "2026-12-07T08:00:00Z", s)
    # the fire planned for the 7th runs late on the 9th; the next would pass the end
    c.run("clock", "advance", "3d")
    run_engine(c)
    s, a = status(c, run)
    expect(s["status"] == "finished" and a["every_day"]["status"] == "done", s)
    expect(len(s["children"]) == 4, "the end date stopped the fires")
    w = c.json("workflow", "list", "--json")
    expect(w[0]["status"] == "finished" and w[0]["runs"] == 5, w)
    # stop: pending and waiting activities are stopped
    wf2 = {"name": "stopme", "activities": [
        {"id": "start", "type": "start"}, {"id": "q", "type": "query", "filter": "true"},
        {"id": "w", "type": "wait", "duration": "30d"}],
        "transitions": [{"from": "start", "to": "q"}, {"from": "q", "to": "w"}]}
    c.write("stop.json", json.dumps(wf2))
    run2 = c.json("workflow", "start", "stop.json", "--json")["run"]
    run_engine(c)
    c.run("workflow", "stop", str(run2))
    s, a = status(c, run2)
    expect(s["status"] == "stopped" and a["w"]["status"] == "stopped", s)
    _, err = c.run("workflow", "resume", str(run2), status=2)
    expect("stopped" in err, err)
    _, err = c.run("workflow", "status", "999", status=2)
    expect("no workflow run 999" in err, err)


def test_failure_pauses_then_resume_retries(c):
    setup(c, profiles=30)
    c.write("m.csv", "email\n")
    c.run("import", "list", "vip", "m.csv", "--json")
    wf = {"name": "vip", "activities": [
        {"id": "start", "type": "start"}, {"id": "r", "type": "read_list", "list": "vip"},
        {"id": "l", "type": "list_update", "list": "vip-copy"}],
        "transitions": [{"from": "start", "to": "r"}, {"from": "r", "to": "l"}]}
    c.write("vip.json", json.dumps(wf))
    c.run("workflow", "add", "vip.json")
    sql(c, "DELETE FROM list WHERE name = 'vip'")
    # the stored workflow no longer validates: starting it by name says why
    _, err = c.run("workflow", "start", "vip", status=2)
    expect("unknown list 'vip'" in err, err)
    c.run("import", "list", "vip", "m.csv", "--json")
    run = c.json("workflow", "start", "vip", "--json")["run"]
    sql(c, "DELETE FROM list WHERE name = 'vip'")  # gone between start and execution
    run_engine(c)
    s, a = status(c, run)
    expect(s["status"] == "paused" and a["r"]["status"] == "failed", s)
    expect("no list named 'vip'" in a["r"]["error"] and "vip" in s["error"], a["r"])
    expect(c.json("workflow", "list", "--json")[0]["status"] == "paused", "workflow paused")
    c.run("import", "list", "vip", "m.csv", "--json")
    c.run("workflow", "resume", str(run))
    run_engine(c)
    s, a = status(c, run)
    expect(s["status"] == "finished" and a["r"]["status"] == "done", s)


CRASH_WF = {
    "name": "crash",
    "activities": [
        {"id": "start", "type": "start"},
        {"id": "q", "type": "query", "filter": "tier in ('gold', 'silver', 'bronze')"},
        {"id": "s", "type": "split", "complement": True, "segments": [
            {"name": "fr", "filter": "country = 'FR'"},
            {"name": "young", "filter": "age(birth_date) < 35", "limit": 3000,
             "order": "birth_date desc"},
            {"name": "gold", "filter": "tier = 'gold'"}]},
        {"id": "l_fr", "type": "list_update", "list": "fr"},
        {"id": "l_young", "type": "list_update", "list": "young"},
        {"id": "l_gold", "type": "list_update", "list": "gold"},
        {"id": "q2", "type": "query", "filter": "email is not null"},
        {"id": "u", "type": "union"},
        {"id": "x", "type": "exclusion", "keep": "q2"},
        {"id": "d", "type": "dedup", "key": "phone"},
        {"id": "l_rest", "type": "list_update", "list": "rest", "mode": "replace"},
        {"id": "end", "type": "end"}],
    "transitions": [
        {"from": "start", "to": "q"}, {"from": "start", "to": "q2"}, {"from": "q", "to": "s"},
        {"from": "s.fr", "to": "l_fr"}, {"from": "s.young", "to": "l_young"},
        {"from": "s.gold", "to": "l_gold"}, {"from": "l_fr", "to": "u"},
        {"from": "l_young", "to": "u"}, {"from": "l_gold", "to": "u"},
        {"from": "q2", "to": "x"}, {"from": "u", "to": "x"}, {"from": "x", "to": "d"},
        {"from": "d", "to": "l_rest"}, {"from": "s.complement", "to": "end"},
        {"from": "l_rest", "to": "end"}]}


def outcome(c, run):
    s, a = status(c, run)
    lists = {}
    for name in ["fr", "young", "gold", "rest"]:
        lists[name] = ids(sql(c, "SELECT profile_id FROM list_member WHERE list_id = "
                                 "(SELECT id FROM list WHERE name = ?)", (name,)))
    counts = {k: (v["status"], v["count_in"], v["count_out"], v["outputs"], v["executions"])
              for k, v in a.items()}
    return s["status"], counts, lists


def test_crash_restart(c):
    """Kills the engine at random points, a bounded number of times, and checks the end
    state equals an uninterrupted run on an identical database."""
    n = 60000 if c.backend == "sqlite" else 20000
    setup(c, profiles=n)
    c.write("crash.json", json.dumps(CRASH_WF))
    ref = Crier(c.binary, c.backend)
    try:
        ref.run("init")
        ref.run("clock", "set", "2026-12-01T09:00:00Z")
        ref.run("import", "profiles", c.path("p.csv"), "--key", "external_id", "--json")
        ref_run = ref.json("workflow", "start", c.path("crash.json"), "--json")["run"]
        ref.run("engine", "run", "--until-idle")
        want = outcome(ref, ref_run)
    finally:
        ref.close()
    expect(want[0] == "finished" and len(want[2]["rest"]) > 100, want[0])
    run = c.json("workflow", "start", "crash.json", "--json")["run"]
    rnd = random.Random(int(os.environ.get("CRIER_CRASH_SEED", "20261123")))
    kills = 0
    for _ in range(8):
        p = subprocess.Popen([c.binary, "--db", c.url, "engine", "run", "--until-idle"],
                             stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        time.sleep(rnd.uniform(0.02, 0.4))
        if p.poll() is None:
            p.send_signal(signal.SIGKILL)
            kills += 1
        p.wait()
    # On PostgreSQL a killed client's backend finishes the statement it was running before it
    # notices, holding its row locks meanwhile; the next engine skips those rows (SKIP LOCKED)
    # and may go idle early, as a long-running engine would not: run it again until the run
    # ends (bounded).
    deadline = time.monotonic() + 60
    while True:
        c.run("engine", "run", "--until-idle")
        got = outcome(c, run)
        if got[0] != "running" or time.monotonic() > deadline:
            break
        time.sleep(0.2)
    print(f"     crash test: {kills} kills")
    expect(got == want, ("after kills", got[0], got[1], want[1]))


if __name__ == "__main__":
    main([test_validate_reports_every_problem, test_examples_are_valid, test_seed_001,
          test_seed_003, test_scheduler_and_controls, test_failure_pauses_then_resume_retries,
          test_crash_restart])
