"""cli_sms.py - SMS deliveries as users drive them (issue 8, seed 002): prepare, proof,
confirm and send through an SMSC simulator on 127.0.0.1 (node-smpp as a server,
tests/integration/smsc/smsc.js) or a file sink; delivery receipts and STOP replies coming
back; tracked links in the text.
"""
import json
import os
import re
import sys

from crier_test import expect, main

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "smsc"))
from smsc_peer import Smsc  # noqa: E402
from cli_tracking import Server, free_port, request  # noqa: E402

PEOPLE = (
    "external_id,phone,first_name,sms_optout\n"
    "1,+33612345601,Ann,false\n"
    "2,+33612345602,Bob,false\n"
    "3,+33612345603,Zoë,false\n"         # UCS-2 (ë is not in GSM 7-bit)
    "4,+33612345699,Dan,false\n"         # the simulator answers UNDELIV for ...99
    "5,+33612345677,Eve,false\n"         # the phone that replies STOP
    "6,+33612345678,Fay,true\n"          # opted out: excluded
)
LONG = "x" * 170  # two GSM 7-bit parts with a UDH


def sql(c, q):
    if c.backend == "sqlite":
        import sqlite3
        con = sqlite3.connect(c.url)
        try:
            return con.execute(q).fetchall()
        finally:
            con.close()
    import subprocess
    out = subprocess.run(["psql", "-qAtX", "-F", "\t", c.url, "-c", q], capture_output=True,
                         text=True, check=True).stdout
    return [tuple(line.split("\t")) for line in out.splitlines() if line]


def setup(c, smsc=None, window=10):
    c.run("init")
    c.run("clock", "set", "2026-12-01T09:00:00Z")
    c.write("p.csv", PEOPLE)
    c.run("import", "profiles", "p.csv", "--key", "external_id")
    c.write("t.json", json.dumps({
        "text": "Bonjour {{ profile.first_name }}, -20% ce soir: https://shop.example/soir"
                "{% if profile.external_id == '2' %} " + LONG + "{% endif %}",
        "sender": "Boutique"}))
    c.run("template", "add", "sms", "soir", "t.json")
    if smsc:
        c.run("account", "add", "smpp", "smsc", "--host", "127.0.0.1", "--port",
              str(smsc.port), "--system-id", "crier", "--password-env", "SMSC_PW",
              "--source-addr", "Boutique", "--window", str(window),
              env={"SMSC_PW": "secret"})


def logs(c, d):
    return {x["address"]: x for x in c.json("delivery", "logs", d, "--json")}


def test_smpp_send_receipts_and_stop(c):
    with Smsc(c.dir, "e2e", "--undeliverable", "99", "--reply", "77", "Stop") as smsc:
        setup(c, smsc)
        c.run("config", "set", "public_url", "https://t.example")
        d = c.run("delivery", "create", "--template", "soir", "--account", "smsc",
                  "--filter", "true")[0].strip()
        c.run("delivery", "prepare", d)
        show = c.json("delivery", "show", d, "--json")
        # parts counted with the tracked link as it will be sent: Zoë's UCS-2 text is 69
        # units with it (one part); a token longer than the real one would make it two
        expect(show["status"] == "ready" and show["preparation"]["segments"] == 6, show)
        seg = {x["address"]: x for x in c.json("delivery", "logs", d, "--json")}
        expect(sql(c, "SELECT segments FROM delivery_log WHERE address = '+33612345603'")
               == [(1,)] or sql(c, "SELECT segments FROM delivery_log WHERE address = "
                                   "'+33612345603'") == [("1",)], seg)
        expect(show["kpis"]["excluded"] == {"opted_out": 1}, show["kpis"])
        c.run("delivery", "confirm", d)
        c.run("engine", "run", "--until-idle")
        subs = smsc.submits()
        # every targeted phone got its message once: one part each, two for Bob's long text
        dests = sorted(s["destination"] for s in subs)
        expect(dests == sorted(["33612345601", "33612345602", "33612345602", "33612345603",
                                "33612345699", "33612345677"]), dests)
        expect(all(s["status"] == 0 for s in subs), subs)
        expect(all(s["source"] == "Boutique" and s["source_ton"] == 5 for s in subs), subs)
        zoe = [s for s in subs if s["destination"] == "33612345603"][0]
        expect(zoe["data_coding"] == 8, zoe)
        text = bytes.fromhex(zoe["short_message"]).decode("utf-16-be")
        expect(re.fullmatch(r"Bonjour Zoë, -20% ce soir: https://t\.example/c/[A-Za-z0-9_-]+",
                            text), text)
        bob = sorted((s for s in subs if s["destination"] == "33612345602"),
                     key=lambda s: s["sequence"])
        expect([s["esm_class"] & 0x40 for s in bob] == [0x40, 0x40], bob)
        rows = logs(c, d)
        ids = {s["destination"]: s["message_id"] for s in subs}
        for phone in ("+33612345601", "+33612345603", "+33612345677"):
            r = rows[phone]
            expect(r["status"] == "delivered" and r["message_id"] == ids[phone[1:]], r)
        expect(rows["+33612345602"]["status"] == "delivered", rows["+33612345602"])
        dan = rows["+33612345699"]
        expect(dan["status"] == "failed" and dan["failure_type"] == "hard" and
               "UNDELIVERABLE" in dan["error"], dan)
        q = sql(c, "SELECT channel, address, status FROM quarantine")
        expect(q == [("sms", "+33612345699", "quarantined")], q)
        k = c.json("delivery", "show", d, "--json")["kpis"]
        # sent counts what the SMSC accepted and did not fail later
        expect(k["targeted"] == 5 and k["sent"] == 4 and k["delivered"] == 4 and
               k["failed_hard"] == 1 and k["unsubscriptions"] == 1, k)
        # Eve answered STOP: opted out of SMS, so the next delivery leaves her out
        out = sql(c, "SELECT external_id FROM profile WHERE sms_optout ORDER BY external_id")
        expect([r[0] for r in out] == ["5", "6"], out)
        d2 = c.run("delivery", "create", "--template", "soir", "--account", "smsc",
                   "--filter", "true")[0].strip()
        c.run("delivery", "prepare", d2)
        k2 = c.json("delivery", "show", d2, "--json")["kpis"]
        expect(k2["excluded"] == {"opted_out": 2, "quarantined": 1}, k2)
        # the session ended with an unbind
        expect(len(smsc.events("unbind")) >= 1, smsc.records())


def test_the_window_is_used(c):
    """With a slow SMSC, crier keeps up to --window submits unanswered, never more: the
    window is filled before waiting, not one message per round trip."""
    with Smsc(c.dir, "window", "--resp-delay", 300, "--no-receipts") as smsc:
        setup(c, smsc, window=4)
        c.write("many.csv", "external_id,phone,first_name\n" + "".join(
            f"m{i},+3361234{i:04d},M{i}\n" for i in range(24)))
        c.run("import", "profiles", "many.csv", "--key", "external_id")
        d = c.run("delivery", "create", "--template", "soir", "--account", "smsc",
                  "--filter", "external_id like 'm%'", "--no-confirm")[0].strip()
        c.run("delivery", "prepare", d)
        c.run("engine", "run", "--until-idle")
        subs = smsc.submits()
        expect(len(subs) == 24 and all(s["status"] == 0 for s in subs), subs)
        most = max(s["unanswered"] for s in subs)
        expect(2 <= most <= 3, f"at most {most} submits were waiting when one arrived (window 4)")


def test_an_smsc_gone_mid_delivery(c):
    """The SMSC goes away in the middle of a delivery: what it accepted stays sent (with its
    message id), the rest waits and goes out once an SMSC answers again; nobody gets the
    message twice and the delivery never fails."""
    many = "external_id,phone,first_name\n" + "".join(
        f"m{i},+3361234{i:04d},M{i}\n" for i in range(12))
    with Smsc(c.dir, "gone", "--exit-after", 6, "--no-receipts") as smsc:
        setup(c, smsc, window=1)
        c.write("many.csv", many)
        c.run("import", "profiles", "many.csv", "--key", "external_id")
        d = c.run("delivery", "create", "--template", "soir", "--account", "smsc",
                  "--filter", "external_id like 'm%'", "--no-confirm")[0].strip()
        c.run("delivery", "prepare", d)
        c.run("engine", "run", "--until-idle")
        first = [s for s in smsc.submits() if s["status"] == 0]
        port = smsc.port
    expect(len(first) == 5, first)
    show = c.json("delivery", "show", d, "--json")
    expect(show["status"] == "sending" and show["kpis"]["sent"] == 5 and
           show["kpis"]["pending"] == 7, show)
    sent = {x["address"]: x["message_id"] for x in c.json("delivery", "logs", d, "--json")
            if x["status"] == "sent"}
    expect(sorted(v for v in sent.values()) == sorted(s["message_id"] for s in first), sent)
    with Smsc(c.dir, "back", "--no-receipts", port=port) as smsc:
        # the one in flight when it went is a soft failure (retried after 15 minutes), the
        # others were never submitted (due again a minute later)
        c.run("clock", "advance", "20m")
        c.run("engine", "run", "--until-idle")
        second = [s for s in smsc.submits() if s["status"] == 0]
    dests = sorted(s["destination"] for s in first + second)
    expect(dests == sorted(f"3361234{i:04d}" for i in range(12)), dests)
    show = c.json("delivery", "show", d, "--json")
    expect(show["status"] == "sent" and show["kpis"]["sent"] == 12, show)


def test_stop_keywords_are_configurable(c):
    with Smsc(c.dir, "arret", "--reply", "77", "arrêt svp") as smsc:
        setup(c, smsc)
        c.run("config", "set", "sms.stop_keywords", "ARRÊT, STOP")
        d = c.run("delivery", "create", "--template", "soir", "--account", "smsc",
                  "--filter", "external_id = '5'", "--no-confirm")[0].strip()
        c.run("delivery", "prepare", d)
        c.run("engine", "run", "--until-idle")
        expect(smsc.events("reply"), smsc.records())
        out = sql(c, "SELECT external_id FROM profile WHERE sms_optout ORDER BY external_id")
        expect([r[0] for r in out] == ["5", "6"], out)
    with Smsc(c.dir, "other", "--reply", "77", "Merci") as smsc:
        sql_reset(c)
        c.run("account", "add", "smpp", "smsc2", "--host", "127.0.0.1", "--port",
              str(smsc.port), "--system-id", "crier", "--password-env", "SMSC_PW",
              "--source-addr", "+33700000000", env={"SMSC_PW": "secret"})
        d = c.run("delivery", "create", "--template", "soir", "--account", "smsc2",
                  "--filter", "external_id = '5'", "--no-confirm")[0].strip()
        c.run("delivery", "prepare", d)
        c.run("engine", "run", "--until-idle")
        subs = smsc.submits()
        expect(len(subs) == 1 and subs[0]["source"] == "Boutique", subs)
        out = sql(c, "SELECT external_id FROM profile WHERE sms_optout ORDER BY external_id")
        expect([r[0] for r in out] == ["6"], out)  # "Merci" is not a keyword


def sql_reset(c):
    if c.backend == "sqlite":
        import sqlite3
        con = sqlite3.connect(c.url)
        con.execute("UPDATE profile SET sms_optout = 0 WHERE external_id = '5'")
        con.commit()
        con.close()
    else:
        import subprocess
        subprocess.run(["psql", "-q", c.url, "-c",
                        "UPDATE profile SET sms_optout = false WHERE external_id = '5'"],
                       check=True)


def test_file_sink_and_proof(c):
    setup(c)
    os.makedirs(c.path("sms"), exist_ok=True)
    c.run("account", "add", "file", "sink", "--dir", c.path("sms"))
    d = c.run("delivery", "create", "--template", "soir", "--account", "sink", "--filter",
              "external_id in ('1', '3')", "--tracking", "none")[0].strip()
    c.run("delivery", "prepare", d)
    out, _ = c.run("delivery", "proof", d, "--to", "+33 6 00 00 00 01")
    expect("1 proof sent" in out, out)
    c.run("delivery", "confirm", d)
    c.run("engine", "run", "--until-idle")
    with open(c.path(f"sms/{d}.jsonl")) as f:
        lines = [json.loads(x) for x in f]
    expect(len(lines) == 3, lines)
    proof, *msgs = lines
    expect(proof["to"] == "+33600000001" and proof["text"].startswith("[PROOF] Bonjour Ann"),
           proof)
    got = sorted((m["to"], m["text"], m["coding"], m["parts"]) for m in msgs)
    expect(got == [("+33612345601", "Bonjour Ann, -20% ce soir: https://shop.example/soir",
                    "gsm7", 1),
                   ("+33612345603", "Bonjour Zoë, -20% ce soir: https://shop.example/soir",
                    "ucs2", 1)], got)
    k = c.json("delivery", "show", d, "--json")
    expect(k["status"] == "sent" and k["kpis"]["sent"] == 2 and k["kpis"]["targeted"] == 2, k)
    r = logs(c, d)["+33612345601"]
    expect(r["message_id"] == f"file-{r['id']}", r)


def test_click_on_an_sms_link(c):
    """A tracked link in an SMS redirects to the template's URL and counts as a click."""
    setup(c)
    port = free_port()
    c.run("config", "set", "public_url", f"http://127.0.0.1:{port}")
    os.makedirs(c.path("sms"), exist_ok=True)
    c.run("account", "add", "file", "sink", "--dir", c.path("sms"))
    d = c.run("delivery", "create", "--template", "soir", "--account", "sink", "--filter",
              "external_id = '1'", "--no-confirm")[0].strip()
    c.run("delivery", "prepare", d)
    c.run("engine", "run", "--until-idle")
    with open(c.path(f"sms/{d}.jsonl")) as f:
        text = json.loads(f.readline())["text"]
    m = re.search(r"http://127\.0\.0\.1:\d+(/c/[A-Za-z0-9_-]+)", text)
    expect(m, text)
    with Server(c, port) as srv:
        status, headers, _ = request(port, "GET", m.group(1))
        expect(status == 302 and headers["location"] == "https://shop.example/soir",
               (status, headers))
        path = m.group(1)
        forged = path[:8] + ("A" if path[8] != "A" else "B") + path[9:]  # altered
        status, _, _ = request(port, "GET", forged)
        expect(status == 404, status)
        srv.stop()
    k = c.json("delivery", "show", d, "--json")["kpis"]
    expect(k["clicks"] == 1 and k["unique_clicks"] == 1, k)


def test_the_docs_template_works(c):
    """docs/sms.md's template example, as a user would copy it."""
    doc = open(os.path.join(os.path.dirname(__file__), "..", "..", "docs", "sms.md")).read()
    block = re.search(r"```json\n(.*?)```", doc, re.S).group(1)
    setup(c)
    c.write("offer-sms.json", block)
    c.run("template", "add", "sms", "offer", "offer-sms.json")
    os.makedirs(c.path("sms"), exist_ok=True)
    c.run("account", "add", "file", "sink", "--dir", c.path("sms"))
    d = c.run("delivery", "create", "--template", "offer", "--account", "sink", "--filter",
              "external_id = '1'", "--no-confirm")[0].strip()
    c.run("delivery", "prepare", d)
    c.run("engine", "run", "--until-idle")
    with open(c.path(f"sms/{d}.jsonl")) as f:
        m = json.loads(f.readline())
    expect(m["from"] == "CrierShop" and m["text"] == "Ann, 20% off this week: "
           "https://shop.example/offer - STOP to opt out", m)


def test_smsc_refusing_the_bind_fails_the_delivery(c):
    with Smsc(c.dir, "badpw", "--password", "other") as smsc:
        setup(c, smsc)
        d = c.run("delivery", "create", "--template", "soir", "--account", "smsc",
                  "--filter", "external_id = '1'", "--no-confirm")[0].strip()
        c.run("delivery", "prepare", d)
        c.run("engine", "run", "--until-idle")
        show = c.json("delivery", "show", d, "--json")
        expect(show["status"] == "failed" and "ESME_RINVPASWD" in (show["error"] or ""), show)
        expect([x["status"] for x in c.json("delivery", "logs", d, "--json")] == ["pending"],
               "the recipient is not lost: back to pending")


if __name__ == "__main__":
    main([test_smpp_send_receipts_and_stop, test_the_window_is_used, test_an_smsc_gone_mid_delivery,
          test_stop_keywords_are_configurable,
          test_file_sink_and_proof, test_click_on_an_sms_link, test_the_docs_template_works,
          test_smsc_refusing_the_bind_fails_the_delivery])
