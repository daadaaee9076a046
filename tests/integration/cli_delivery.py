"""cli_delivery.py - email deliveries as users drive them (seed 004: proof, analyse, confirm,
send), against a real SMTP peer on 127.0.0.1 (Debian's python3-aiosmtpd, tests/integration/
smtp/smtp_server.py) and a pickup folder; messages checked with Python's email package; a
crash test that kills the engine while it sends and counts what the server received.
"""
import email
import email.policy
import glob
import json
import os
import random
import signal
import subprocess
import sys
import time

from crier_test import expect, main

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "smtp"))
from smtp_server import SmtpPeer  # noqa: E402

HEADER = "external_id,email,first_name,last_name,tier,country,email_optout\n"


def people(n, extra=""):
    rows = [f"C{i},person{i}@example.org,Pers{i},Name{i},gold,FR,false" for i in range(n)]
    return HEADER + "\n".join(rows) + "\n" + extra


def received(peer):
    return [(m, email.message_from_bytes(m["data"], policy=email.policy.default))
            for m in peer.messages()]


TEMPLATE = {
    "from": "Boutique Été <shop@example.com>",
    "subject": "Bonjour {{ profile.first_name }}, votre offre",
    "html": "<p>Bonjour {{ profile.first_name | escape }},</p>"
            "<p><a href=\"https://shop.example/offer\">Voir l'offre</a></p>",
    "headers": {"X-Campaign": "winter-{{ profile.tier }}"},
    "proof_to": ["qa@example.com"],
}


def setup(c, csv_text, peer=None, pickup=False):
    c.run("init")
    c.run("clock", "set", "2026-12-01T09:00:00Z")
    c.write("p.csv", csv_text)
    c.run("import", "profiles", "p.csv", "--key", "external_id", "--json")
    c.write("offer.json", json.dumps(TEMPLATE))
    c.run("template", "add", "email", "offer", "offer.json")
    if peer:
        c.run("account", "add", "smtp", "mail", "--url", f"smtp://127.0.0.1:{peer.port}",
              "--tls", "none", "--connections", "3")
    if pickup:
        os.makedirs(c.path("pickup"), exist_ok=True)
        c.run("account", "add", "pickup", "drop", "--dir", c.path("pickup"))


def test_seed_004_proof_analyse_confirm_send(c):
    extra = ("X1,,NoMail,X,gold,FR,false\n"
             "X2,not-an-address,Bad,X,gold,FR,false\n"
             "X3,person1@example.org,Dup,X,gold,FR,false\n"
             "X4,optout@example.org,Opt,X,gold,FR,true\n"
             "X5,hard.bounce@example.org,Hard,X,gold,FR,false\n"
             "X6,soft.fail@example.org,Soft,X,gold,FR,false\n"
             "X7,silver@example.org,Silver,X,silver,FR,false\n")
    with SmtpPeer(c.path("smtp")) as peer:
        setup(c, people(40, extra), peer=peer)
        d = c.json("delivery", "create", "--template", "offer", "--account", "mail",
                   "--filter", "tier = 'gold'", "--label", "Winter offer", "--json")["id"]
        # proof first (BAT): to the template's proof address, marked, not counted
        out, _ = c.run("delivery", "proof", str(d))
        expect("1 proof sent" in out, out)
        msgs = received(peer)
        expect(len(msgs) == 1 and msgs[0][1]["subject"].startswith("[PROOF] Bonjour"), msgs)
        expect(msgs[0][0]["rcpt_tos"] == ["qa@example.com"], msgs[0][0])
        # analyse: exclusions with one reason each
        show = c.json("delivery", "prepare", str(d), "--json")
        k = show["kpis"]
        expect(show["status"] == "ready", show)
        expect(k["excluded"] == {"missing_address": 1, "invalid_address": 1, "duplicate": 1,
                                 "opted_out": 1}, k)
        expect(k["targeted"] == 42 and k["sent"] == 0 and k["pending"] == 42, k)
        logs = c.json("delivery", "logs", str(d), "--status", "excluded", "--json")
        reasons = sorted(log["reason"] for log in logs)
        expect(reasons == ["duplicate", "invalid_address", "missing_address", "opted_out"], logs)
        # nothing goes before confirmation
        c.run("engine", "run", "--until-idle")
        expect(len(received(peer)) == 1, "sent before confirmation")
        c.run("delivery", "confirm", str(d))
        c.run("engine", "run", "--until-idle")
        msgs = received(peer)[1:]
        rcpts = sorted(m[0]["rcpt_tos"][0] for m in msgs)
        want = sorted([f"person{i}@example.org" for i in range(40)])
        expect(rcpts == want, (len(rcpts), rcpts[:3]))
        # the messages, read by an independent parser
        m = [x[1] for x in msgs if x[0]["rcpt_tos"] == ["person7@example.org"]][0]
        expect(m["subject"] == "Bonjour Pers7, votre offre", m["subject"])
        expect(m["from"].addresses[0].display_name == "Boutique Été", m["from"])
        expect(m["x-campaign"] == "winter-gold", m["x-campaign"])
        expect(m.get_content_type() == "multipart/alternative", m.get_content_type())
        html = m.get_body(("html",)).get_content()
        text = m.get_body(("plain",)).get_content()
        expect("Bonjour Pers7" in html and "Bonjour Pers7" in text, text)
        expect("https://shop.example/offer" in text, "links kept in the text version")
        k = c.json("delivery", "show", str(d), "--json")["kpis"]
        expect(k["sent"] == 40 and k["failed_hard"] == 1 and k["pending"] == 1, k)
        # the hard bounce is quarantined: the next delivery excludes it
        d2 = c.json("delivery", "create", "--template", "offer", "--account", "mail",
                    "--filter", "email = 'hard.bounce@example.org'", "--json")["id"]
        k2 = c.json("delivery", "prepare", str(d2), "--json")["kpis"]
        expect(k2["excluded"] == {"quarantined": 1}, k2)
        # the soft failure is retried later, then fails when the validity period ends
        logs = c.json("delivery", "logs", str(d), "--status", "pending", "--json")
        expect(len(logs) == 1 and logs[0]["address"] == "soft.fail@example.org" and
               "451" in logs[0]["error"], logs)
        c.run("clock", "advance", "1h")
        c.run("engine", "run", "--until-idle")
        logs = c.json("delivery", "logs", str(d), "--status", "pending", "--json")
        expect(logs[0]["attempts"] == 2, logs)
        c.run("clock", "advance", "6d")
        c.run("engine", "run", "--until-idle")
        show = c.json("delivery", "show", str(d), "--json")
        expect(show["status"] == "sent" and show["kpis"]["failed_soft"] == 1, show)
        lst = c.json("delivery", "list", "--all", "--json")
        expect([x["id"] for x in lst] == [d, d2] and lst[0]["kpis"]["sent"] == 40, lst)
        expect(set(lst[0]) == {"id", "label", "channel", "status", "parent", "period", "kpis"},
               lst[0])


def test_lifecycle_errors_and_pickup(c):
    setup(c, people(5), pickup=True)
    _, err = c.run("delivery", "create", "--template", "nope", "--account", "drop",
                   "--filter", "true", status=2)
    expect("no template named 'nope'" in err, err)
    tpl = dict(TEMPLATE, subject="{{ campaign.name }}: {{ profile.first_name }}")
    c.write("camp.json", json.dumps(tpl))
    c.run("template", "add", "email", "offer", "camp.json", "--replace")
    d = c.json("delivery", "create", "--template", "offer", "--account", "drop",
               "--filter", "true", "--campaign", "winter-2026", "--strict", "--json")["id"]
    _, err = c.run("delivery", "confirm", str(d), status=2)
    expect("crier delivery prepare" in err, err)
    c.run("delivery", "prepare", str(d))
    c.run("delivery", "confirm", str(d))
    c.run("delivery", "pause", str(d))
    c.run("engine", "run", "--until-idle")
    expect(glob.glob(c.path("pickup/*.eml")) == [], "a paused delivery sends nothing")
    c.run("delivery", "resume", str(d))
    c.run("engine", "run", "--until-idle")
    files = sorted(glob.glob(c.path("pickup/*.eml")))
    expect(len(files) == 5, files)
    with open(files[0], "rb") as f:
        m = email.message_from_bytes(f.read(), policy=email.policy.default)
    expect(m["subject"].startswith("winter-2026: Pers"), m["subject"])
    expect(c.json("delivery", "show", str(d), "--json")["campaign"] == "winter-2026", d)
    expect(c.json("delivery", "show", str(d), "--json")["status"] == "sent", "sent")
    _, err = c.run("delivery", "stop", str(d), status=2)
    expect("already sent" in err, err)
    accts = c.json("account", "list", "--json")
    expect(accts[0]["name"] == "drop" and "password" not in json.dumps(accts), accts)


def test_dkim_signed_over_smtp(c):
    """An account with a DKIM key signs every message; python3-dkim verifies them with the
    public key published as the selector's TXT record would be."""
    import base64
    import dkim
    key, pub = c.path("dkim.pem"), c.path("dkim.pub")
    subprocess.run(["openssl", "genrsa", "-out", key, "2048"], check=True, capture_output=True)
    subprocess.run(["openssl", "rsa", "-in", key, "-pubout", "-outform", "DER", "-out", pub],
                   check=True, capture_output=True)
    with open(pub, "rb") as f:
        txt = b"v=DKIM1; k=rsa; p=" + base64.b64encode(f.read())

    def dns(name, timeout=5):
        return txt if name == b"s2026._domainkey.example.com." else None

    with SmtpPeer(c.path("smtp")) as peer:
        setup(c, people(3))
        c.run("account", "add", "smtp", "signed", "--url", f"smtp://127.0.0.1:{peer.port}",
              "--tls", "none", "--dkim-selector", "s2026", "--dkim-domain", "example.com",
              "--dkim-key", key)
        expect("BEGIN" not in c.run("account", "list", "--json")[0], "the key is never shown")
        d = c.json("delivery", "create", "--template", "offer", "--account", "signed",
                   "--filter", "true", "--no-confirm", "--json")["id"]
        c.run("delivery", "prepare", str(d))
        c.run("engine", "run", "--until-idle")
        msgs = peer.messages()
        expect(len(msgs) == 3, msgs)
        for m in msgs:
            expect(m["data"].startswith(b"DKIM-Signature:"), m["data"][:80])
            expect(dkim.verify(m["data"], dnsfunc=dns), m["data"][:400])


def test_unsubscribe_links(c):
    """With a public https URL, every message carries a signed one-click unsubscribe link
    (List-Unsubscribe + List-Unsubscribe-Post, RFC 8058) and a mailto; {{ unsubscribe_url }}
    and {{ mirror_url }} are the recipient's own links."""
    setup(c, people(3), pickup=True)
    c.run("config", "set", "public_url", "https://t.example.com/")
    c.run("config", "set", "unsubscribe.mailto", "unsub@example.com")
    tpl = dict(TEMPLATE, html=TEMPLATE["html"] + '<a href="{{ unsubscribe_url }}">stop</a>'
               '<a href="{{ mirror_url }}">web</a>')
    c.write("u.json", json.dumps(tpl))
    c.run("template", "add", "email", "offer", "u.json", "--replace")
    d = c.json("delivery", "create", "--template", "offer", "--account", "drop",
               "--filter", "true", "--no-confirm", "--json")["id"]
    c.run("delivery", "prepare", str(d))
    c.run("engine", "run", "--until-idle")
    links = set()
    for f in sorted(glob.glob(c.path("pickup/*.eml"))):
        with open(f, "rb") as fh:
            m = email.message_from_bytes(fh.read(), policy=email.policy.default)
        lu = m["list-unsubscribe"]
        expect(m["list-unsubscribe-post"] == "List-Unsubscribe=One-Click", m.items())
        url = lu.split(">")[0].lstrip("<")
        expect(url.startswith("https://t.example.com/u/") and len(url) < 80, lu)
        expect("<mailto:unsub@example.com?subject=unsubscribe%20" in lu, lu)
        html = m.get_body(("html",)).get_content()
        expect(f'href="{url}"' in html and 'href="https://t.example.com/m/' in html, html)
        links.add(url)
    expect(len(links) == 3, "one link per recipient")


def test_address_check(c):
    out, _ = c.run("address", "check", "--channel", "email", " Jean.Dupont@Exemple.FR ")
    expect(out.strip() == "Jean.Dupont@exemple.fr", out)
    r = c.json("address", "check", "--channel", "email", "jean@bücher.de", "--json")
    expect(r == {"address": "jean@xn--bcher-kva.de", "valid": True}, r)
    r = c.json("address", "check", "--channel", "email", "jean.example.org", "--json",
               status=1)
    expect(r["valid"] is False and "@" in r["reason"], r)


def test_sms_accounts_and_templates(c):
    """The stored parts of the SMS channel (issue 8): accounts checked against SMPP 3.4's
    field sizes, the password kept secret, templates with Liquid and a sender checked."""
    c.run("init")
    c.run("account", "add", "smpp", "smsc", "--host", "127.0.0.1", "--port", "2775",
          "--system-id", "crier", "--password-env", "SMPP_PW", "--source-addr", "SHOP",
          "--source-ton", "5", "--source-npi", "0", "--window", "50", "--rate", "100/s",
          env={"SMPP_PW": "s3cr3t"})
    os.makedirs(c.path("sms"), exist_ok=True)
    c.run("account", "add", "file", "sink", "--dir", c.path("sms"))
    acc = {a["name"]: a for a in c.json("account", "list", "--json")}
    expect(acc["smsc"]["channel"] == "sms" and acc["smsc"]["kind"] == "smpp", acc)
    st = acc["smsc"]["settings"]
    expect((st["system_id"], st["window"], st["bind"], st["source_ton"], st["rate"]) ==
           ("crier", 50, "transceiver", 5, 100), st)
    out, _ = c.run("account", "list", "--json")
    expect("s3cr3t" not in out, "the password is never printed")
    expect(acc["sink"]["channel"] == "sms" and acc["sink"]["settings"]["dir"] == c.path("sms"),
           acc["sink"])
    for args, env, want in [
        (["--system-id", "a-system-id-longer", "--password-env", "P"], {"P": "x"},
         "--system-id 'a-system-id-longer' is longer than the 15"),
        (["--system-id", "x", "--password-env", "P"], {"P": "123456789"}, "longer than the 8"),
        (["--system-id", "x", "--password-env", "P", "--bind", "receiver"], {"P": "x"},
         "--bind is transceiver or transmitter"),
        (["--system-id", "x", "--password-env", "P", "--source-ton", "7"], {"P": "x"},
         "--source-ton takes a number from 0 to 6"),
    ]:
        _, err = c.run("account", "add", "smpp", "bad", "--host", "h", "--source-addr", "A",
                       *args, status=2, env=env)
        expect(want in err, (want, err))
    c.write("promo.json", json.dumps({"text": "Hi {{ profile.first_name }}: -20% today "
                                              "https://shop.example/sale", "sender": "SHOP"}))
    c.run("template", "add", "sms", "promo", "promo.json")
    for content, want in [({"text": "Hi {{ profile.first_name"}, "text: unterminated"),
                          ({"text": "ok", "sender": "TOO LONG SENDER"}, "sender must be"),
                          ({"text": "ok", "subject": "x"}, "unknown field 'subject'"),
                          ({"sender": "SHOP"}, "needs a text")]:
        c.write("bad.json", json.dumps(content))
        _, err = c.run("template", "add", "sms", "bad", "bad.json", status=2)
        expect(want in err, (want, err))
    t = {x["name"]: x["channel"] for x in c.json("template", "list", "--json")}
    expect(t == {"promo": "sms"}, t)


def test_sms_preparation(c):
    """SMS analysis (issue 8): the phone column, E.164, sms_optout, duplicates, quarantine,
    and every text rendered to count its parts; too many parts: too_long."""
    from cli_workflow import sql
    c.run("init")
    c.write("p.csv", "external_id,phone,first_name,sms_optout\n"
                     "A,+33612345678,Ann,false\n"
                     "B,+33612345679,Bob,true\n"
                     "C,,Cy,false\n"
                     "D,+33612345678,Dee,false\n"
                     "E,+447700900123,Émile,false\n"
                     "F,+447700900124," + "Long" * 80 + ",false\n"
                     "G,+447700900125,Zoë,false\n")
    c.run("import", "profiles", "p.csv", "--key", "external_id")
    # a number that no import would let in (imports normalise phones)
    sql(c, "INSERT INTO profile (external_id, phone, first_name, created_at, updated_at) "
           "VALUES ('H', '+1555', 'Hal', '2026-01-01', '2026-01-01')")
    sql(c, "INSERT INTO quarantine (channel, address, status, first_at, last_at) VALUES "
           "('sms', '+447700900125', 'quarantined', '2026-01-01', '2026-01-01')")
    os.makedirs(c.path("sms"), exist_ok=True)
    c.run("account", "add", "file", "sink", "--dir", c.path("sms"))
    c.write("t.json", json.dumps({"text": "Hi {{ profile.first_name }}: -20% today only"}))
    c.run("template", "add", "sms", "promo", "t.json")
    c.run("config", "set", "sms.max_segments", "2")
    d = c.run("delivery", "create", "--template", "promo", "--account", "sink", "--filter",
              "true")[0].strip()
    c.run("delivery", "prepare", d)
    logs = c.json("delivery", "logs", d, "--json")
    why = sorted((x["address"] or "", x.get("reason") or "") for x in logs)
    expect(why == [("", "missing_address"), ("+1555", "invalid_number"),
                   ("+33612345678", ""), ("+33612345678", "duplicate"),
                   ("+33612345679", "opted_out"), ("+447700900123", ""),
                   ("+447700900124", "too_long"), ("+447700900125", "quarantined")], why)
    seg = dict(sql(c, "SELECT address, segments FROM delivery_log WHERE status = 'pending'"))
    # "Hi Ann: …" fits one GSM 7-bit part; "É" is in GSM 7-bit too (0x1F)
    expect({k: int(v) for k, v in seg.items()} == {"+33612345678": 1, "+447700900123": 1}, seg)
    too_long = [x for x in logs if x.get("reason") == "too_long"][0]
    expect("3 parts (GSM 7-bit, 340 septets), more than 2" == too_long["error"], too_long)
    bad = [x for x in logs if x.get("reason") == "invalid_number"][0]
    expect("+1555" in bad["error"], bad)
    show = c.json("delivery", "show", d, "--json")
    expect(show["status"] == "ready" and show["preparation"]["segments"] == 2, show)
    expect(show["kpis"]["targeted"] == 2, show["kpis"])


def test_crash_while_sending(c):
    """kill -9 the engine while it sends, a bounded number of times: everyone receives the
    message, and only messages in flight at a kill can arrive twice."""
    n = 3000
    with SmtpPeer(c.path("smtp")) as peer:
        setup(c, people(n), peer=peer)
        d = c.json("delivery", "create", "--template", "offer", "--account", "mail",
                   "--filter", "true", "--no-confirm", "--json")["id"]
        c.run("delivery", "prepare", str(d))
        rnd = random.Random(int(os.environ.get("CRIER_CRASH_SEED", "4")))
        kills = 0
        for _ in range(6):
            p = subprocess.Popen([c.binary, "--db", c.url, "engine", "run", "--until-idle"],
                                 stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
            time.sleep(rnd.uniform(0.1, 0.6))
            if p.poll() is None:
                p.send_signal(signal.SIGKILL)
                kills += 1
            p.wait()
        c.run("engine", "run", "--until-idle")
        rcpts = [m[0]["rcpt_tos"][0] for m in received(peer)]
        distinct = set(rcpts)
        dups = len(rcpts) - len(distinct)
        print(f"     crash test: {kills} kills, {len(rcpts)} messages, {dups} sent twice")
        expect(len(distinct) == n, f"{n - len(distinct)} recipients skipped")
        # in flight at a kill: what the 3 connections carry plus the outcomes not yet
        # recorded (recorded 32 at a time)
        expect(dups <= kills * 35, f"{dups} duplicates for {kills} kills")
        k = c.json("delivery", "show", str(d), "--json")["kpis"]
        expect(k["sent"] == n and k["pending"] == 0, k)


if __name__ == "__main__":
    main([test_seed_004_proof_analyse_confirm_send, test_lifecycle_errors_and_pickup,
          test_sms_accounts_and_templates, test_sms_preparation,
          test_dkim_signed_over_smtp, test_unsubscribe_links, test_address_check,
          test_crash_while_sending])
