"""cli_push.py - push deliveries as users drive them (issue 9, seed 003): subscriptions,
preparation per device, proofs, sending into a file sink (the bodies APNs and FCM would get)
and over HTTP/2 to local APNs and FCM peers (tests/integration/push/), unregistered tokens
deactivating their subscription.
"""
import json
import os
import sys

from crier_test import expect, main

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "push"))
import test_push as peers  # noqa: E402  (the APNs and FCM peers and their keys)

PEOPLE = ("external_id,email,first_name,push_optout,tier\n"
          "1,a@x.org,Ann,false,gold\n"
          "2,b@x.org,Bob,false,gold\n"
          "3,c@x.org,Cat,true,gold\n"
          "4,d@x.org,Dan,false,gold\n")
SUBS = ("external_id,app,platform,token,active\n"
        "1,shop-app,ios,aaaa1111,true\n"
        "1,shop-app,ios,aaaa2222,true\n"
        "1,shop-app,android,droid-ann,true\n"
        "2,shop-app,ios,bbbb1111,false\n"
        "2,shop-app,android,droid-bob,true\n"
        "3,shop-app,ios,cccc1111,true\n"
        "4,other-app,ios,dddd1111,true\n")
TEMPLATE = {
    "title": "Hi {{ profile.first_name }}",
    "body": "Your {{ profile.tier }} offer is waiting",
    "badge": "{{ 1 | plus: 1 }}",
    "sound": "default",
    "deep_link": "shop://offer/{{ profile.external_id }}",
    "data": {"offer": "w{{ profile.external_id }}", "kind": "winter"},
    "ios": {"category": "OFFER", "mutable_content": True},
    "android": {"title": "Hey {{ profile.first_name }}", "priority": "high", "ttl": "1d",
                "channel_id": "promo"},
    "proof_to": ["proof-token-1"],
}


def setup(c):
    c.run("init")
    c.run("clock", "set", "2026-12-01T09:00:00Z")
    c.write("p.csv", PEOPLE)
    c.run("import", "profiles", "p.csv", "--key", "external_id")
    c.write("s.csv", SUBS)
    c.run("import", "subscriptions", "s.csv", "--key", "external_id")
    c.write("push.json", json.dumps(TEMPLATE))
    c.run("template", "add", "push", "offer", "push.json")


def sink(c, name, platform):
    os.makedirs(c.path(name), exist_ok=True)
    c.run("account", "add", "file", name, "--channel", "push", "--app", "shop-app",
          "--platform", platform, "--dir", c.path(name))


def lines(c, name, d):
    with open(c.path(f"{name}/{d}.jsonl")) as f:
        return [json.loads(x) for x in f]


def test_preparation_per_device_and_the_bodies(c):
    setup(c)
    sink(c, "ios", "ios")
    sink(c, "droid", "android")
    d = c.run("delivery", "create", "--template", "offer", "--account", "ios", "--filter",
              "true")[0].strip()
    c.run("delivery", "prepare", d)
    logs = c.json("delivery", "logs", d, "--json")
    got = sorted((x["address"] or "", x["reason"] or "") for x in logs)
    # Ann has two iPhones; Bob's iOS subscription is inactive; Cat opted out; Dan's is
    # another app's
    expect(got == [("", "missing_address"), ("", "missing_address"), ("aaaa1111", ""),
                   ("aaaa2222", ""), ("cccc1111", "opted_out")], got)
    missing = [x for x in logs if x["reason"] == "missing_address"]
    expect(all(x["error"] == "no active ios subscription to 'shop-app'" for x in missing),
           missing)
    out, _ = c.run("delivery", "proof", d)
    expect("1 proof sent" in out, out)
    c.run("delivery", "confirm", d)
    c.run("engine", "run", "--until-idle")
    msgs = lines(c, "ios", d)
    expect(len(msgs) == 3, msgs)
    proof = msgs[0]
    expect(proof["token"] == "proof-token-1" and
           proof["body"]["aps"]["alert"]["title"] == "[PROOF] Hi Ann", proof)
    bodies = {m["token"]: m["body"] for m in msgs[1:]}
    expect(set(bodies) == {"aaaa1111", "aaaa2222"}, bodies)
    expect(bodies["aaaa1111"] == {
        "aps": {"alert": {"title": "Hi Ann", "body": "Your gold offer is waiting"},
                "badge": 2, "sound": "default", "category": "OFFER", "mutable-content": 1},
        "deep_link": "shop://offer/1", "offer": "w1", "kind": "winter"}, bodies["aaaa1111"])
    k = c.json("delivery", "show", d, "--json")["kpis"]
    expect(k["targeted"] == 2 and k["sent"] == 2 and
           k["excluded"] == {"missing_address": 2, "opted_out": 1}, k)

    d2 = c.run("delivery", "create", "--template", "offer", "--account", "droid", "--filter",
               "external_id in ('1', '2')", "--no-confirm")[0].strip()
    c.run("delivery", "prepare", d2)
    c.run("engine", "run", "--until-idle")
    msgs = {m["token"]: m["body"] for m in lines(c, "droid", d2)}
    expect(set(msgs) == {"droid-ann", "droid-bob"}, msgs)
    expect(msgs["droid-bob"] == {"message": {
        "token": "droid-bob",
        "notification": {"title": "Hey Bob", "body": "Your gold offer is waiting"},
        "data": {"offer": "w2", "kind": "winter", "deep_link": "shop://offer/2"},
        "android": {"priority": "HIGH", "ttl": "86400s",
                    "notification": {"sound": "default", "channel_id": "promo"}}}},
        msgs["droid-bob"])


def test_subscriptions_are_managed(c):
    """Deactivated by hand, a device gets nothing; activated again, it does."""
    setup(c)
    sink(c, "ios", "ios")
    subs = c.json("subscriptions", "list", "--app", "shop-app", "--platform", "ios",
                  "--active", "--json")
    expect(sorted(x["token"] for x in subs) == ["aaaa1111", "aaaa2222", "cccc1111"], subs)
    two = [x["id"] for x in subs if x["token"] == "aaaa2222"][0]
    c.run("subscriptions", "deactivate", str(two), "--reason", "lost phone")
    s = c.json("subscriptions", "list", "--profile", "1", "--json")
    expect([(x["token"], x["active"], x["deactivation_reason"]) for x in s] ==
           [("aaaa1111", True, None), ("aaaa2222", False, "lost phone"),
            ("droid-ann", True, None)], s)
    d = c.run("delivery", "create", "--template", "offer", "--account", "ios", "--filter",
              "external_id = '1'")[0].strip()
    c.run("delivery", "prepare", d)
    expect([x["address"] for x in c.json("delivery", "logs", d, "--json")] == ["aaaa1111"],
           "a deactivated device is not targeted")
    c.run("subscriptions", "activate", str(two))
    c.run("delivery", "prepare", d)
    expect(sorted(x["address"] for x in c.json("delivery", "logs", d, "--json")) ==
           ["aaaa1111", "aaaa2222"], "activated again")
    _, err = c.run("subscriptions", "deactivate", "999", status=2)
    expect("no subscription 999" in err, err)


def test_templates_and_accounts_are_checked(c):
    setup(c)
    for bad, why in [({"body": "x", "ios": {"colour": "red"}}, "unknown field 'ios.colour'"),
                     ({"body": "x", "data": {"n": 1}}, "data.n must be a string"),
                     ({"body": "x", "android": {"priority": "urgent"}}, "priority is high"),
                     ({"ios": {"title": "only ios"}}, "needs a title or a body (for android)"),
                     ({"body": "{% if %}"}, "body:")]:
        c.write("bad.json", json.dumps(bad))
        _, err = c.run("template", "add", "push", "bad", "bad.json", status=2)
        expect(why in err, (bad, err))
    c.write("rsa.json", "{}")
    _, err = c.run("account", "add", "fcm", "f", "--app", "shop-app", "--service-account",
                   "rsa.json", status=2)
    expect("not a service account key" in err, err)
    sink(c, "droid", "android")
    _, err = c.run("account", "add", "apns", "a", "--app", "shop-app", "--team-id", "T",
                   "--key-id", "K", "--key", c.path("rsa.json"), "--topic", "x", status=2)
    expect("not an EC P-256 private key" in err, err)


def test_the_docs_template_works(c):
    """docs/push.md's template example, as a user would copy it, on both platforms."""
    import re
    doc = open(os.path.join(os.path.dirname(__file__), "..", "..", "docs", "push.md")).read()
    block = re.search(r"```json\n(.*?)```", doc, re.S).group(1)
    setup(c)
    c.write("offer-push.json", block)
    c.run("template", "add", "push", "doc", "offer-push.json")
    sink(c, "ios", "ios")
    sink(c, "droid", "android")
    for acct, key in (("ios", "aps"), ("droid", "message")):
        d = c.run("delivery", "create", "--template", "doc", "--account", acct, "--filter",
                  "external_id = '1'", "--no-confirm")[0].strip()
        c.run("delivery", "prepare", d)
        c.run("engine", "run", "--until-idle")
        body = lines(c, acct, d)[0]["body"]
        expect(key in body, body)
        title = (body["aps"]["alert"] if key == "aps" else body["message"]["notification"])
        expect(title["title"] == "Ann, your offer is here", body)


def sql(c, q, args=()):
    if c.backend == "sqlite":
        import sqlite3
        con = sqlite3.connect(c.url)
        try:
            return con.execute(q, args).fetchall()
        finally:
            con.close()
    import subprocess
    for a in args:
        q = q.replace("?", f"'{a}'", 1)
    out = subprocess.run(["psql", "-qAtX", "-F", "\t", c.url, "-c", q], capture_output=True,
                         text=True, check=True).stdout
    return [tuple(line.split("\t")) for line in out.splitlines() if line]


H2_SUBS = ("external_id,app,platform,token,active\n"
           "1,shop-app,ios,aaaa1111,true\n"
           "1,shop-app,android,droid-ann,true\n"
           "2,shop-app,ios,gone2222,true\n"
           "2,shop-app,android,gone-droid-bob,true\n"
           "4,shop-app,ios,slow4444,true\n"
           "4,shop-app,android,bad-droid-dan,true\n")


def active(c, token):
    v = sql(c, "SELECT active FROM subscription WHERE token = ?", (token,))[0][0]
    return v in (1, "t", "1", True)


def test_apns_and_fcm_over_http2(c):
    """Real HTTP/2 peers that verify the JWTs: sent, unregistered tokens deactivate their
    subscription and fail hard, a throttled one is retried after the back-off."""
    setup(c)
    c.write("s2.csv", H2_SUBS)
    c.run("import", "subscriptions", "s2.csv", "--key", "external_id")
    peers.WORK = c.dir
    peers.make_pki()
    with peers.apns_peer("apns") as apns, peers.fcm_peer("fcm") as fcm:
        c.run("account", "add", "apns", "ios", "--app", "shop-app", "--team-id", peers.TEAM,
              "--key-id", peers.KEY_ID, "--key", c.path("apns.p8"), "--topic", peers.TOPIC,
              "--url", apns.url, "--ca-file", c.path("ca.pem"))
        c.run("account", "add", "fcm", "droid", "--app", "shop-app", "--service-account",
              peers.service_account(fcm), "--url", fcm.url, "--ca-file", c.path("ca.pem"))
        d_ios = c.run("delivery", "create", "--template", "offer", "--account", "ios",
                      "--filter", "external_id in ('1', '2', '4')", "--no-confirm")[0].strip()
        d_and = c.run("delivery", "create", "--template", "offer", "--account", "droid",
                      "--filter", "external_id in ('1', '2', '4')", "--no-confirm")[0].strip()
        c.run("delivery", "prepare", d_ios)
        c.run("delivery", "prepare", d_and)
        c.run("engine", "run", "--until-idle")
        ios = {x["address"]: x for x in c.json("delivery", "logs", d_ios, "--json")}
        expect(ios["aaaa1111"]["status"] == "sent", ios)
        expect(ios["gone2222"]["status"] == "failed" and ios["gone2222"]["failure_type"] ==
               "hard" and "Unregistered" in ios["gone2222"]["error"], ios["gone2222"])
        expect(ios["slow4444"]["status"] == "pending" and "429" in ios["slow4444"]["error"],
               ios["slow4444"])
        reqs = apns.requests()
        ann = [r for r in reqs if r["token"] == "aaaa1111"]
        expect(len(ann) == 1 and json.loads(ann[0]["body"])["aps"]["alert"]["title"] ==
               "Hi Ann", ann)
        expect(ios["aaaa1111"]["message_id"] == ann[0]["apns_id"], (ios["aaaa1111"], ann[0]))
        droid = {x["address"]: x for x in c.json("delivery", "logs", d_and, "--json")}
        expect(droid["droid-ann"]["status"] == "sent" and
               droid["droid-ann"]["message_id"].startswith("projects/"), droid)
        for t in ("gone-droid-bob", "bad-droid-dan"):
            expect(droid[t]["status"] == "failed" and droid[t]["failure_type"] == "hard",
                   droid[t])
        # unregistered tokens: their subscriptions are off, so the next delivery skips them
        expect([active(c, t) for t in ("aaaa1111", "gone2222", "droid-ann", "gone-droid-bob",
                                       "bad-droid-dan", "slow4444")] ==
               [True, False, True, False, False, True], "subscriptions")
        gone = c.json("subscriptions", "list", "--inactive", "--app", "shop-app", "--json")
        expect(sorted((x["token"], x["deactivation_reason"]) for x in gone) ==
               [("bad-droid-dan", "unregistered"), ("bbbb1111", None),
                ("gone-droid-bob", "unregistered"), ("gone2222", "unregistered")], gone)
        expect(all(x["deactivated_at"].endswith("Z") for x in gone if x["deactivation_reason"]),
               gone)
        # the throttled one goes out after its back-off
        c.run("clock", "advance", "20m")
        c.run("engine", "run", "--until-idle")
        ios = {x["address"]: x for x in c.json("delivery", "logs", d_ios, "--json")}
        expect(ios["slow4444"]["status"] == "sent", ios["slow4444"])
        k = c.json("delivery", "show", d_ios, "--json")
        # Ann's two iPhones and Dan's; Bob's token is gone
        expect(k["status"] == "sent" and k["kpis"]["sent"] == 3 and
               k["kpis"]["failed_hard"] == 1, k)
        expect(len(apns.events("session")) <= 2, apns.events("session"))


if __name__ == "__main__":
    main([test_preparation_per_device_and_the_bodies, test_subscriptions_are_managed,
          test_templates_and_accounts_are_checked,
          test_apns_and_fcm_over_http2, test_the_docs_template_works])
