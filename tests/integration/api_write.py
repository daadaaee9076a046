"""api_write.py - the REST API routes that create and change things, with a real HTTP client:
workflows created, versioned and validated from a JSON body (problems as `crier workflow
validate --json` lists them), deliveries created (and an external one's file previewed),
campaigns created and closed, accounts of every kind with write-only secrets, subscriptions
activated and deactivated, opens and clicks over time (per hour, per day), users changed by an
admin and passwords changed by their owner. Every created object is compared with what the CLI
shows for it; roles are checked on each route (and on every route by api.py's OpenAPI test).
"""
import copy
import json
import os

from crier_test import expect, main
from cli_tracking import Server, free_port
from cli_workflow import EXAMPLES, sql
from api import Api, PASSWORD, seed, users


def seed001():
    with open(os.path.join(EXAMPLES, "seed-001-cross-channel.json")) as f:
        return json.load(f)


def cli_validate(c, doc, name="doc.json"):
    """`crier workflow validate FILE --json` of doc: (exit status, answer)."""
    c.write(name, json.dumps(doc))
    for status in (0, 1):
        try:
            return status, c.json("workflow", "validate", name, "--json", status=status)
        except AssertionError:
            continue
    raise AssertionError("workflow validate exited neither 0 nor 1")


# ------------------------------------------------------------------------------ workflows --

def test_workflows_create_update_validate(c):
    seed(c)
    keys = users(c)
    op, viewer = keys["operator"], keys["viewer"]
    with Server(c, free_port(), "--no-engine") as s:
        api = Api(s.port)
        doc = seed001()
        doc["name"] = "gold-offer-api"
        doc["activities"][1]["position"] = {"x": 120, "y": 40}  # the canvas keeps its places
        api.error(403, "POST", "/workflows", "forbidden", key=viewer, body=doc)
        st, _, made = api.request("POST", "/workflows", key=op, body=doc)
        expect(st == 201, f"create: {st} {made}")
        listed = {w["id"]: w for w in c.json("workflow", "list", "--json")}
        expect(made["id"] in listed and
               {k: v for k, v in made.items() if k != "definition"} == listed[made["id"]],
               f"created workflow as workflow list shows it: {made}")
        expect(made["status"] == "draft" and made["version"] == 1, made)
        expect(made["definition"]["activities"] == doc["activities"] and
               made["definition"]["name"] == "gold-offer-api", "the definition kept as sent")
        expect(api.ok("GET", f"/workflows/{made['id']}", key=viewer) == made, "GET answers it")
        # the same definition stored by the CLI (from a file) is the same document
        c.write("same.json", json.dumps(dict(doc, name="gold-offer-cli")))
        cli_id = int(c.run("workflow", "add", "same.json")[0])
        cli_def = api.ok("GET", f"/workflows/{cli_id}", key=viewer)["definition"]
        expect(dict(cli_def, name="gold-offer-api") == made["definition"],
               "API and CLI store the same definition")
        # a taken name: 409, pointing at PUT
        e, _ = api.error(409, "POST", "/workflows", "exists", "name", key=op, body=doc)
        expect(f"/workflows/{made['id']}" in e["message"], e)
        # a new version by PUT (the name may be left out); unchanged: same version
        doc2 = copy.deepcopy(doc)
        del doc2["name"]
        doc2["activities"][1]["filter"] = "tier = 'gold' and email is not null"
        api.error(403, "PUT", f"/workflows/{made['id']}", "forbidden", key=viewer, body=doc2)
        v2 = api.ok("PUT", f"/workflows/{made['id']}", key=op, body=doc2)
        expect(v2["version"] == 2 and v2["id"] == made["id"] and
               v2["definition"]["activities"][1]["filter"] == doc2["activities"][1]["filter"],
               f"new version: {v2}")
        same = api.ok("PUT", f"/workflows/{made['id']}", key=op, body=doc2)
        expect(same["version"] == 2, "an unchanged definition is not a new version")
        api.error(400, "PUT", f"/workflows/{made['id']}", "invalid", "name", key=op,
                  body=dict(doc2, name="gold-offer"))
        api.error(404, "PUT", "/workflows/999999", "not_found", key=op, body=doc2)
        api.error(404, "GET", "/workflows/999999", "not_found", key=viewer)
        # runs started after the update use version 2
        run = api.ok("POST", f"/workflows/{made['id']}/start", key=op)["run"]
        runs = api.ok("GET", f"/workflows/{made['id']}/runs", key=viewer)
        expect([(r["run"], r["version"]) for r in runs] == [(run, 2)], runs)
        expect(api.ok("GET", f"/workflows/{made['id']}", key=viewer)["status"] == "started",
               "started")
        # invalid definitions: every problem, as workflow validate --json lists them
        bad = copy.deepcopy(doc)
        bad["name"] = "broken"
        bad["activities"][1]["filter"] = "tier = 'gold' and tierz = 1"
        bad["activities"][2]["template"] = "no-such-template"
        status, want = cli_validate(c, bad)
        expect(status == 1 and not want["valid"] and len(want["errors"]) >= 2, want)
        e, _ = api.error(400, "POST", "/workflows", "invalid_workflow", key=op, body=bad)
        expect(e["problems"] == want["errors"], f"problems {e['problems']} != {want['errors']}")
        expect(api.ok("POST", "/workflows/validate", key=viewer, body=bad) == want,
               "validate answers the CLI's JSON")
        expect("broken" not in [w["name"] for w in c.json("workflow", "list", "--json")],
               "nothing stored")
        # a document that is not well formed: its problems (the store is not asked)
        bad2 = dict(copy.deepcopy(doc), name="broken2")
        bad2["transitions"].append({"from": "nowhere", "to": "gold"})
        bad2["activities"][3]["duration"] = "soon"
        _, want2 = cli_validate(c, bad2, "doc2.json")
        expect(len(want2["errors"]) >= 1, want2)
        e, _ = api.error(400, "PUT", f"/workflows/{made['id']}", "invalid_workflow", key=op,
                         body=dict(bad2, name="gold-offer-api"))
        expect(e["problems"] == want2["errors"], e)
        good = api.ok("POST", "/workflows/validate", key=viewer, body=doc)
        expect(good == {"valid": True, "errors": []} == cli_validate(c, doc)[1], good)
        # not a definition at all
        api.error(400, "POST", "/workflows/validate", "invalid_json", key=viewer,
                  raw=b'{"name": "x", ', headers={"Content-Type": "application/json"})
        e, _ = api.error(400, "POST", "/workflows", "invalid_workflow", key=op,
                         body={"name": "x"})
        expect(e["problems"], e)
        # /workflows/validate is its own resource, not a workflow id
        e, h = api.error(405, "GET", "/workflows/validate", "method_not_allowed", key=viewer)
        expect(h["allow"] == "POST", h)


# ----------------------------------------------------------------------------- deliveries --

def test_deliveries_create_and_preview(c):
    seed(c)
    keys = users(c)
    c.run("config", "set", "external.spool_dir", c.path("spool"))
    os.makedirs(c.path("out"), exist_ok=True)
    c.run("account", "add", "routing", "partner", "--channel", "sms", "--mode", "external",
          "--export", c.path("out"))
    c.run("template", "add", "external", "extract",
          os.path.join(EXAMPLES, "templates", "external-sms.json"))
    op, viewer = keys["operator"], keys["viewer"]
    gold = "tier = 'gold' and email is not null"
    with Server(c, free_port(), "--no-engine") as s:
        api = Api(s.port)
        body = {"template": "offer", "account": "mail", "filter": gold, "label": "API offer",
                "campaign": "spring-2027", "confirm": False, "validity": "2d",
                "tracking": "no_opens"}
        api.error(403, "POST", "/deliveries", "forbidden", key=viewer, body=body)
        st, _, d = api.request("POST", "/deliveries", key=op, body=body)
        expect(st == 201 and d["status"] == "draft", f"create: {st} {d}")
        expect(d == c.json("delivery", "show", str(d["id"]), "--json"), "answers delivery show")
        # the same delivery made by the CLI has the same options
        cli = int(c.run("delivery", "create", "--template", "offer", "--account", "mail",
                        "--filter", gold, "--label", "API offer", "--campaign", "spring-2027",
                        "--no-confirm", "--validity", "2d", "--tracking", "no_opens")[0])
        shown = c.json("delivery", "show", str(cli), "--json")
        for k in ("label", "channel", "template", "account", "campaign", "options", "status"):
            expect(shown[k] == d[k], f"{k}: CLI {shown[k]} != API {d[k]}")
        camp = [x for x in c.json("campaign", "list", "--json") if x["name"] == "spring-2027"]
        expect(len(camp) == 1, "the campaign was created by name, once")
        by_id = api.ok("POST", "/deliveries", key=op,
                       body={"template": "offer", "account": "mail", "filter": gold,
                             "campaign": camp[0]["id"]})
        expect(by_id["campaign"] == d["campaign"] and by_id["label"] == "offer" and
               by_id["options"]["confirm"] is True, f"campaign by id, defaults: {by_id}")
        # it works: prepared and counted as the CLI's
        prepared = api.ok("POST", f"/deliveries/{d['id']}/prepare", key=op)
        expect(prepared["status"] == "sending" and prepared["kpis"]["targeted"] > 0,  # no confirm
               prepared["kpis"])
        # mistakes, each naming its field; the filter's place too
        def bad(field, code="invalid", status=400, **change):
            e, _ = api.error(status, "POST", "/deliveries", code, field, key=op,
                             body={k: v for k, v in dict(body, **change).items()
                                   if v is not None})
            return e
        e = bad("filter", filter="tier = 'gold' and tierz = 1")
        expect(e["line"] == 1 and e["column"] == 19, f"filter error place: {e}")
        e = bad("filter", filter="tier = ")
        expect(e.get("line") == 1, e)
        bad("template", template="nope")
        bad("account", account="nope")
        # an email template with a routing account: refused after the campaign was looked up
        bad("account", account="partner", campaign="never-made")
        bad("template", template=None)
        bad("filter", filter=None)
        bad("validity", validity="soon")
        bad("tracking", tracking="some")
        bad("confirm", confirm="yes")
        bad("campaign", campaign=999999)
        bad("campaign", campaign="no spaces allowed")
        bad("campaign", campaign=[1])
        before = len(c.json("delivery", "list", "--all", "--json"))
        expect(len([x for x in c.json("campaign", "list", "--json")]) == 2,
               "a refused delivery leaves no campaign behind")
        # an external delivery's file, previewed
        ext = api.ok("POST", "/deliveries", key=op,
                     body={"template": "extract", "account": "partner",
                           "filter": "phone is not null"})
        api.ok("POST", f"/deliveries/{ext['id']}/prepare", key=op)
        for rows in (3, 10):
            st, h, _ = api.request("GET", f"/deliveries/{ext['id']}/preview?rows={rows}",
                                   key=viewer)
            want, _ = c.run("delivery", "preview", str(ext["id"]), "--rows", str(rows))
            got = raw_get(api, f"/deliveries/{ext['id']}/preview?rows={rows}", viewer)
            expect(st == 200 and h["content-type"].startswith("text/csv") and
                   "charset=utf-8" in h["content-type"], f"preview: {st} {h}")
            # the CLI's output is read as text here (CRLF becomes LF); the API's is the file's
            expect(got.replace(b"\r\n", b"\n") == want.encode() and b"\r\n" in got,
                   f"preview rows={rows}:\n{got!r}\n{want!r}")
            expect(len(got.decode().splitlines()) == rows + 1, got)
        api.error(400, "GET", f"/deliveries/{ext['id']}/preview?rows=0", "invalid", "rows",
                  key=viewer)
        api.error(400, "GET", f"/deliveries/{d['id']}/preview", "invalid", key=viewer)
        api.error(404, "GET", "/deliveries/999999/preview", "not_found", key=viewer)
        expect(len(c.json("delivery", "list", "--all", "--json")) == before + 1, "one more")


def raw_get(api, path, key):
    import http.client
    conn = http.client.HTTPConnection("127.0.0.1", api.port, timeout=60)
    try:
        conn.request("GET", "/api/v1" + path, headers={"Authorization": "Bearer " + key})
        return conn.getresponse().read()
    finally:
        conn.close()


def test_timeline(c):
    seed(c)
    keys = users(c)
    viewer = keys["viewer"]
    out, _ = c.run("delivery", "create", "--template", "offer", "--account", "mail", "--filter",
                   "tier = 'gold' and email is not null", "--json")
    d = json.loads(out)["id"]
    c.run("delivery", "prepare", str(d))
    logs = [int(r[0]) for r in sql(c, "SELECT id FROM delivery_log WHERE delivery_id = ? "
                                      "ORDER BY id", (d,))]
    expect(len(logs) >= 4, "recipients")
    a, b, x, y = logs[:4]
    hits = [  # (log, kind, at, prefetch)
        (a, "open", "2026-12-01 09:05:00", False), (a, "open", "2026-12-01 09:55:59", False),
        (b, "open", "2026-12-01 09:30:00", True), (a, "click", "2026-12-01 09:56:00", False),
        (x, "click", "2026-12-01 11:00:00", False),          # 10:00 has none: a zero bucket
        (b, "open", "2026-12-02 08:00:00.250000", False), (y, "click", "2026-12-02 23:59:59", False),
        (y, "click", "2026-12-02 23:59:59.5", False),
        (a, "unsubscribe", "2026-12-01 09:57:00", False),    # not an open nor a click
    ]
    for log, kind, at, pf in hits:
        sql(c, "INSERT INTO tracking_log (delivery_id, profile_id, log_id, kind, at, prefetch) "
               f"VALUES (?, NULL, ?, ?, ?, {'TRUE' if pf else 'FALSE'})", (d, log, kind, at))
    with Server(c, free_port(), "--no-engine") as s:
        api = Api(s.port)
        hour = api.ok("GET", f"/deliveries/{d}/timeline?bucket=hour", key=viewer)
        expect(hour == api.ok("GET", f"/deliveries/{d}/timeline", key=viewer), "hour default")
        got = [(i["at"], i["opens"], i["unique_opens"], i["clicks"], i["unique_clicks"])
               for i in hour["items"]]
        expect(got[:3] == [("2026-12-01T09:00:00Z", 3, 2, 1, 1),
                           ("2026-12-01T10:00:00Z", 0, 0, 0, 0),
                           ("2026-12-01T11:00:00Z", 0, 1, 1, 1)], got[:3])
        expect(got[-1] == ("2026-12-02T23:00:00Z", 0, 1, 2, 1) and
               ("2026-12-02T08:00:00Z", 1, 1, 0, 0) in got and len(got) == 24 + 15, got)
        expect(all(i[1:] == (0, 0, 0, 0) for i in got[3:] if i[0] not in
                   ("2026-12-02T08:00:00Z", "2026-12-02T23:00:00Z")), "zeros in between")
        day = api.ok("GET", f"/deliveries/{d}/timeline?bucket=day", key=viewer)
        expect(day["bucket"] == "day" and day["delivery"] == d, day)
        expect([(i["at"], i["opens"], i["unique_opens"], i["clicks"], i["unique_clicks"])
                for i in day["items"]] == [("2026-12-01T00:00:00Z", 3, 3, 2, 2),
                                           ("2026-12-02T00:00:00Z", 1, 2, 2, 1)], day)
        kpis = api.ok("GET", f"/deliveries/{d}/kpis", key=viewer)
        expect(sum(i["opens"] for i in day["items"]) == kpis["opens"] and
               sum(i["clicks"] for i in day["items"]) == kpis["clicks"], "sums are the KPIs")
        api.error(400, "GET", f"/deliveries/{d}/timeline?bucket=week", "invalid", "bucket",
                  key=viewer)
        api.error(404, "GET", "/deliveries/999999/timeline", "not_found", key=viewer)
        api.error(401, "GET", f"/deliveries/{d}/timeline")
        # a delivery nobody opened: no buckets
        out, _ = c.run("delivery", "create", "--template", "offer", "--account", "mail",
                       "--filter", "false", "--json")
        empty = api.ok("GET", f"/deliveries/{json.loads(out)['id']}/timeline", key=viewer)
        expect(empty["items"] == [], empty)


# ------------------------------------------------------------ campaigns and subscriptions --

def test_campaigns_and_subscriptions(c):
    seed(c)
    keys = users(c)
    op, viewer = keys["operator"], keys["viewer"]
    with Server(c, free_port(), "--no-engine") as s:
        api = Api(s.port)
        body = {"name": "spring-2027", "label": "Spring", "start": "2027-03-01T00:00:00Z",
                "end": "2027-06-01T00:00:00+02:00"}
        api.error(403, "POST", "/campaigns", "forbidden", key=viewer, body=body)
        st, _, camp = api.request("POST", "/campaigns", key=op, body=body)
        expect(st == 201 and camp["name"] == "spring-2027" and camp["end"] ==
               "2027-05-31T22:00:00Z", f"create: {st} {camp}")
        expect(camp == c.json("campaign", "show", "spring-2027", "--json"), "campaign show")
        bare = api.ok("POST", "/campaigns", key=op, body={"name": "bare"})
        expect(bare["start"] is None and bare["label"] is None and bare["status"] == "running",
               bare)
        api.error(409, "POST", "/campaigns", "exists", "name", key=op, body=body)
        api.error(400, "POST", "/campaigns", "invalid", "name", key=op, body={"name": "12"})
        api.error(400, "POST", "/campaigns", "invalid", "name", key=op, body={"label": "x"})
        api.error(400, "POST", "/campaigns", "invalid", "start", key=op,
                  body={"name": "x1", "start": "next monday"})
        api.error(400, "POST", "/campaigns", "invalid", "end", key=op,
                  body={"name": "x2", "start": "2027-03-01", "end": "2027-02-01"})
        api.error(400, "POST", "/campaigns", "invalid", "label", key=op,
                  body={"name": "x3", "label": "x" * 501})
        api.error(403, "POST", f"/campaigns/{camp['id']}/close", "forbidden", key=viewer)
        closed = api.ok("POST", f"/campaigns/{camp['id']}/close", key=op)
        expect(closed["status"] == "closed" and
               closed == c.json("campaign", "show", str(camp["id"]), "--json"), closed)
        expect(api.ok("POST", f"/campaigns/{camp['id']}/close", key=op) == closed, "idempotent")
        api.error(404, "POST", "/campaigns/999999/close", "not_found", key=op)
        expect(api.ok("GET", "/campaigns", key=viewer) == c.json("campaign", "list", "--json"),
               "campaign list")
        # subscriptions
        subs = c.json("subscriptions", "list", "--json")
        sid = subs[0]["id"]
        api.error(403, "POST", f"/subscriptions/{sid}/deactivate", "forbidden", key=viewer)
        off = api.ok("POST", f"/subscriptions/{sid}/deactivate", key=op,
                     body={"reason": "lost phone"})
        listed = {x["id"]: x for x in c.json("subscriptions", "list", "--json")}
        expect(off == listed[sid] and off["active"] is False and
               off["deactivation_reason"] == "lost phone", off)
        on = api.ok("POST", f"/subscriptions/{sid}/activate", key=op)
        expect(on["active"] is True and on["deactivation_reason"] is None and
               on == {x["id"]: x for x in c.json("subscriptions", "list", "--json")}[sid], on)
        off = api.ok("POST", f"/subscriptions/{sid}/deactivate", key=op)   # no body
        expect(off["deactivation_reason"] == "manual", off)
        api.error(400, "POST", f"/subscriptions/{sid}/deactivate", "invalid", "reason", key=op,
                  body={"reason": 3})
        api.error(404, "POST", "/subscriptions/999999/activate", "not_found", key=op)
        api.error(404, "POST", "/subscriptions/999999/deactivate", "not_found", key=op)


# -------------------------------------------------------------------------------- users --

def test_users_patch_and_password(c):
    c.run("init")
    keys = users(c)
    admin = keys["admin"]
    with Server(c, free_port(), "--no-engine") as s:
        api = Api(s.port)
        ids = {u["name"]: u["id"] for u in c.json("user", "list", "--json")}
        op_id, admin_id = ids["operator1"], ids["admin1"]
        api.error(403, "PATCH", f"/users/{op_id}", "forbidden", key=keys["operator"],
                  body={"role": "admin"})
        cookie, csrf, _, _ = api.login("operator1")
        u = api.ok("PATCH", f"/users/{op_id}", key=admin, body={"role": "viewer"})
        expect(u["role"] == "viewer" and
               u == [x for x in c.json("user", "list", "--json") if x["id"] == op_id][0], u)
        api.error(403, "POST", "/deliveries/1/confirm", "forbidden", key=keys["operator"])
        api.ok("PATCH", f"/users/{op_id}", key=admin, body={"role": "operator"})
        # disabled: its key and its sessions are refused, and stay ended once enabled again
        u = api.ok("PATCH", f"/users/{op_id}", key=admin, body={"disabled": True})
        expect(u["disabled"] is True and u["role"] == "operator", u)
        api.error(401, "GET", "/me", "invalid_api_key", key=keys["operator"])
        api.error(401, "GET", "/me", "session_expired", cookie=cookie)
        api.error(401, "POST", "/login", "login_failed",
                  body={"name": "operator1", "password": PASSWORD})
        api.ok("PATCH", f"/users/{op_id}", key=admin, body={"disabled": False})
        expect(api.ok("GET", "/me", key=keys["operator"])["name"] == "operator1", "key again")
        api.error(401, "GET", "/me", "session_expired", cookie=cookie)
        # mistakes
        api.error(400, "PATCH", f"/users/{op_id}", "invalid", "role", key=admin,
                  body={"role": "root"})
        api.error(400, "PATCH", f"/users/{op_id}", "invalid", "disabled", key=admin,
                  body={"disabled": "yes"})
        api.error(400, "PATCH", f"/users/{op_id}", "invalid", "password", key=admin,
                  body={"password": "new password 123"})
        api.error(404, "PATCH", "/users/999999", "not_found", key=admin, body={"role": "viewer"})
        # never without an enabled admin
        api.error(409, "PATCH", f"/users/{admin_id}", "wrong_state", key=admin,
                  body={"disabled": True})
        api.error(409, "PATCH", f"/users/{admin_id}", "wrong_state", key=admin,
                  body={"role": "viewer"})
        api.ok("PATCH", f"/users/{op_id}", key=admin, body={"role": "admin"})
        me = api.ok("PATCH", f"/users/{admin_id}", key=admin, body={"role": "operator"})
        expect(me["role"] == "operator", me)
        api.error(403, "GET", "/users", "forbidden", key=admin)
        # a password changed by its owner, who proves the old one
        cookie, csrf, _, _ = api.login("viewer1")
        other, _, _, _ = api.login("viewer1")
        api.error(403, "POST", "/me/password", "csrf", cookie=cookie,
                  body={"old_password": PASSWORD, "new_password": "a new passphrase"})
        api.error(403, "POST", "/me/password", "wrong_password", "old_password", cookie=cookie,
                  csrf=csrf, body={"old_password": "not it at all",
                                   "new_password": "a new passphrase"})
        api.error(400, "POST", "/me/password", "invalid", "new_password", cookie=cookie,
                  csrf=csrf, body={"old_password": PASSWORD, "new_password": "short"})
        api.error(400, "POST", "/me/password", "invalid", "new_password", cookie=cookie,
                  csrf=csrf, body={"old_password": PASSWORD})
        done = api.ok("POST", "/me/password", cookie=cookie, csrf=csrf,
                      body={"old_password": PASSWORD, "new_password": "a new passphrase"})
        expect(done == {"changed": True}, done)
        expect(api.ok("GET", "/me", cookie=cookie)["name"] == "viewer1", "this session stays")
        api.error(401, "GET", "/me", "session_expired", cookie=other)
        api.error(401, "POST", "/login", "login_failed",
                  body={"name": "viewer1", "password": PASSWORD})
        api.login("viewer1", "a new passphrase")
        # with a key: the key stays valid
        api.ok("POST", "/me/password", key=keys["viewer"],
               body={"old_password": "a new passphrase", "new_password": PASSWORD})
        api.login("viewer1")
        # wrong old passwords are throttled like logins
        seen = None
        for _ in range(14):
            st, h, j = api.request("POST", "/me/password", key=keys["viewer"],
                                   body={"old_password": "guess guess", "new_password": "x" * 9})
            expect(st in (403, 429), f"{st} {j}")
            if st == 429:
                seen = h
                break
        expect(seen and int(seen["retry-after"]) >= 1, "throttled")


# ----------------------------------------------------------------------------- accounts --

def keypair(c, name, algorithm):
    import subprocess
    opts = (["-pkeyopt", "ec_paramgen_curve:P-256"] if algorithm == "EC" else
            ["-pkeyopt", "rsa_keygen_bits:2048"])
    subprocess.run(["openssl", "genpkey", "-algorithm", algorithm, *opts, "-out", c.path(name)],
                   check=True, capture_output=True)
    return open(c.path(name)).read()


def test_accounts(c):
    c.run("init")
    keys = users(c)
    admin = keys["admin"]
    for d in ("pickup", "sink", "out"):
        os.makedirs(c.path(d), exist_ok=True)
    c.write("ca.pem", "not checked here\n")
    ec = keypair(c, "apns.p8", "EC")
    rsa = keypair(c, "rsa.pem", "RSA")
    sa = {"type": "service_account", "project_id": "shop-123",
          "client_email": "crier@shop-123.iam.gserviceaccount.com", "private_key": rsa}
    c.write("sa.json", json.dumps(sa))
    ssh = keypair(c, "ssh.pem", "RSA")
    fp = "A" * 43
    secret_values = ["s3cret-pw", "smpp-pw", "sftp-pw", ec.split("\n")[1], rsa.split("\n")[1]]
    # (API body, the same account by the CLI, its environment)
    cases = [
        ({"kind": "smtp", "url": "smtp://127.0.0.1:2525", "tls": "none", "user": "u",
          "password": "s3cret-pw", "connections": 4, "rate": 50, "dkim_selector": "s1",
          "dkim_domain": "shop.example", "dkim_key": rsa, "bcc": "archive@shop.example",
          "daily_limit": 1000, "tracking_consent": "required"},
         ["smtp", "--url", "smtp://127.0.0.1:2525", "--tls", "none", "--user", "u",
          "--password-env", "PW", "--connections", "4", "--rate", "50", "--dkim-selector", "s1",
          "--dkim-domain", "shop.example", "--dkim-key", c.path("rsa.pem"), "--bcc",
          "archive@shop.example", "--daily-limit", "1000", "--tracking-consent", "required"],
         {"PW": "s3cret-pw"}),
        ({"kind": "smtp", "url": "smtps://mail.example:465"},
         ["smtp", "--url", "smtps://mail.example:465"], {}),
        ({"kind": "pickup", "dir": c.path("pickup")}, ["pickup", "--dir", c.path("pickup")], {}),
        ({"kind": "smpp", "host": "127.0.0.1", "port": 2776, "system_id": "crier",
          "password": "smpp-pw", "source_addr": "SHOP", "source_ton": 5, "source_npi": 0,
          "bind": "transmitter", "window": 50, "rate": 100.5},
         ["smpp", "--host", "127.0.0.1", "--port", "2776", "--system-id", "crier",
          "--password-env", "PW", "--source-addr", "SHOP", "--source-ton", "5", "--source-npi",
          "0", "--bind", "transmitter", "--window", "50", "--rate", "100.5"],
         {"PW": "smpp-pw"}),
        ({"kind": "file", "dir": c.path("sink")}, ["file", "--dir", c.path("sink")], {}),
        ({"kind": "file", "dir": c.path("sink"), "channel": "push", "app": "shop-app",
          "platform": "android"},
         ["file", "--dir", c.path("sink"), "--channel", "push", "--app", "shop-app",
          "--platform", "android"], {}),
        ({"kind": "apns", "app": "shop-app", "team_id": "T1", "key_id": "K1", "key": ec,
          "topic": "com.shop.app", "environment": "sandbox", "url": "https://127.0.0.1:8443",
          "ca_file": c.path("ca.pem"), "concurrency": 20},
         ["apns", "--app", "shop-app", "--team-id", "T1", "--key-id", "K1", "--key",
          c.path("apns.p8"), "--topic", "com.shop.app", "--environment", "sandbox", "--url",
          "https://127.0.0.1:8443", "--ca-file", c.path("ca.pem"), "--concurrency", "20"], {}),
        ({"kind": "fcm", "app": "shop-app", "service_account": sa},
         ["fcm", "--app", "shop-app", "--service-account", c.path("sa.json")], {}),
        ({"kind": "fcm", "app": "shop-app", "service_account": json.dumps(sa),
          "project_id": "other", "token_url": "https://127.0.0.1:9/token"},
         ["fcm", "--app", "shop-app", "--service-account", c.path("sa.json"), "--project-id",
          "other", "--token-url", "https://127.0.0.1:9/token"], {}),
        ({"kind": "routing", "channel": "sms", "export": c.path("out"),
          "file_name": "sms-{delivery}.{ext}"},
         ["routing", "--channel", "sms", "--mode", "external", "--export", c.path("out"),
          "--file-name", "sms-{delivery}.{ext}"], {}),
        ({"kind": "routing", "channel": "push", "mode": "external", "app": "shop-app",
          "platform": "ios", "export": "sftp://u@127.0.0.1:2222/in", "ssh_key": ssh,
          "host_key_sha256": "SHA256:" + fp},
         ["routing", "--channel", "push", "--app", "shop-app", "--platform", "ios", "--export",
          "sftp://u@127.0.0.1:2222/in", "--ssh-key", c.path("ssh.pem"), "--host-key-sha256",
          "SHA256:" + fp], {}),
        ({"kind": "routing", "channel": "email", "export": "sftp://u@127.0.0.1/in",
          "password": "sftp-pw"},
         ["routing", "--channel", "email", "--export", "sftp://u@127.0.0.1/in",
          "--password-env", "PW"], {"PW": "sftp-pw"}),
    ]
    with Server(c, free_port(), "--no-engine") as s:
        api = Api(s.port)
        for i, (body, cli, env) in enumerate(cases):
            api.error(403, "POST", "/accounts", "forbidden", key=keys["operator"],
                      body=dict(body, name=f"api{i}"))
            st, _, made = api.request("POST", "/accounts", key=admin,
                                      body=dict(body, name=f"api{i}"))
            expect(st == 201, f"{body['kind']} #{i}: {st} {made}")
            c.run("account", "add", cli[0], f"cli{i}", *cli[1:], env=env)
            listed = {a["name"]: a for a in c.json("account", "list", "--json")}
            expect(made == listed[f"api{i}"], f"answer is as listed: {made}")
            want = dict(listed[f"cli{i}"], name=made["name"], id=made["id"])
            expect(made == want, f"{body['kind']} #{i}: API {made}\n    CLI {want}")
        # the secrets were stored, and are never shown
        shown = json.dumps(api.ok("GET", "/accounts", key=keys["viewer"]))
        for v in secret_values:
            expect(v not in shown, f"a secret is shown: {v[:12]}")
        stored = dict(sql(c, "SELECT name, secrets FROM account"))
        expect("s3cret-pw" in stored["api0"] and "BEGIN PRIVATE KEY" in stored["api6"] and
               "client_email" in stored["api7"], "secrets stored")
        expect(json.loads(stored["api7"]) == json.loads(stored["cli7"]) or
               json.loads(json.loads(stored["api7"])["service_account"]) == sa,
               "the service account stored whole")
        # mistakes, each naming its field
        def bad(field, code="invalid", status=400, **body):
            api.error(status, "POST", "/accounts", code, field, key=admin, body=body)
        bad("kind", kind="fax", name="x")
        bad("name", kind="smtp", url="smtp://h:25")
        bad("name", "exists", 409, kind="smtp", name="api0", url="smtp://h:25")
        bad("url", kind="smtp", name="x", url="http://h")
        bad("tls", kind="smtp", name="x", url="smtp://h:25", tls="ssl")
        bad("password", kind="smtp", name="x", url="smtp://h:25", user="u")
        bad("dkim_key", kind="smtp", name="x", url="smtp://h:25", dkim_selector="s",
            dkim_domain="d", dkim_key="not a key")
        bad("dkim_domain", kind="smtp", name="x", url="smtp://h:25", dkim_selector="s")
        bad("connections", kind="smtp", name="x", url="smtp://h:25", connections=0)
        bad("rate", kind="smtp", name="x", url="smtp://h:25", rate="fast")
        bad("pasword", kind="smtp", name="x", url="smtp://h:25", pasword="typo")
        bad("dir", kind="pickup", name="x", dir="relative/dir")
        bad("dir", kind="pickup", name="x")
        bad("password", kind="smpp", name="x", host="h", system_id="s", source_addr="a",
            password="longer than 8")
        bad("system_id", kind="smpp", name="x", host="h", system_id="s" * 16, source_addr="a",
            password="p")
        bad("source_ton", kind="smpp", name="x", host="h", system_id="s", source_addr="a",
            password="p", source_ton=7)
        bad("app", kind="file", name="x", dir=c.path("sink"), channel="push")
        bad("platform", kind="file", name="x", dir=c.path("sink"), platform="ios")
        bad("key", kind="apns", name="x", app="a", team_id="t", key_id="k", topic="t", key=rsa)
        bad("url", kind="apns", name="x", app="a", team_id="t", key_id="k", topic="t", key=ec,
            url="http://h")
        bad("ca_file", kind="apns", name="x", app="a", team_id="t", key_id="k", topic="t",
            key=ec, ca_file="/no/such/ca.pem")
        bad("service_account", kind="fcm", name="x", app="a", service_account="{}")
        bad("service_account", kind="fcm", name="x", app="a",
            service_account=dict(sa, private_key=ec))
        bad("project_id", kind="fcm", name="x", app="a",
            service_account={k: v for k, v in sa.items() if k != "project_id"})
        bad("ssh_key", kind="routing", name="x", channel="sms", export="sftp://u@h/in")
        bad("ssh_key", kind="routing", name="x", channel="sms", export=c.path("out"),
            ssh_key=ssh)
        bad("export", kind="routing", name="x", channel="sms", export="/no/such/folder")
        bad("export", kind="routing", name="x", channel="sms", export="ftp://h/in")
        bad("file_name", kind="routing", name="x", channel="sms", export=c.path("out"),
            file_name="x-{nope}.csv")
        bad("host_key_sha256", kind="routing", name="x", channel="sms",
            export="sftp://u@h/in", password="p", host_key_sha256="short")
        bad("mode", kind="routing", name="x", channel="sms", mode="bulk", export=c.path("out"))
        bad("channel", kind="routing", name="x", channel="fax", export=c.path("out"))
        expect("x" not in [a["name"] for a in c.json("account", "list", "--json")], "none made")


if __name__ == "__main__":
    main([test_workflows_create_update_validate, test_deliveries_create_and_preview,
          test_timeline, test_campaigns_and_subscriptions, test_users_patch_and_password,
          test_accounts])
