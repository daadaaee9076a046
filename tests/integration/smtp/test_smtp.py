"""test_smtp.py - the SMTP transport (src/channel/email/smtp.c) against real SMTP servers.

Usage: test_smtp.py SMTP_DRIVER WORKDIR. Makes a throwaway CA and server certificate in
WORKDIR with openssl, starts aiosmtpd servers (smtp_server.py) on 127.0.0.1, has smtp_driver
send through them, and checks both sides: outcomes and reply codes on the client, the exact
bytes, envelopes, TLS, AUTH and connection counts on the server. Every server is stopped when
its test ends, pass or fail. No assertion depends on timing.
"""
import json
import logging
import os
import re
import shutil
import subprocess
import sys
import traceback
import warnings

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from smtp_server import SmtpPeer, free_port  # noqa: E402

DRIVER = WORK = None
CERTS = {}


def expect(cond, what):
    if not cond:
        raise AssertionError(what)


def make_certs(d):
    """A CA and a certificate for 127.0.0.1 / localhost signed by it (EC P-256, 2 days)."""
    os.makedirs(d, exist_ok=True)

    def ossl(*args):
        subprocess.run(["openssl", *args], check=True, capture_output=True, cwd=d)

    ec = ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes"]
    ossl("req", "-x509", *ec, "-keyout", "ca.key", "-out", "ca.pem", "-days", "2",
         "-subj", "/CN=crier throwaway test CA",
         "-addext", "basicConstraints=critical,CA:TRUE",
         "-addext", "keyUsage=critical,keyCertSign,cRLSign")
    ossl("req", *ec, "-keyout", "server.key", "-out", "server.csr", "-subj", "/CN=127.0.0.1")
    with open(os.path.join(d, "server.ext"), "w") as f:
        f.write("basicConstraints=CA:FALSE\nkeyUsage=digitalSignature,keyEncipherment\n"
                "extendedKeyUsage=serverAuth\nsubjectAltName=IP:127.0.0.1,DNS:localhost\n")
    ossl("x509", "-req", "-in", "server.csr", "-CA", "ca.pem", "-CAkey", "ca.key",
         "-CAcreateserial", "-out", "server.pem", "-days", "2", "-extfile", "server.ext")
    return {"ca": os.path.join(d, "ca.pem"), "cert": os.path.join(d, "server.pem"),
            "key": os.path.join(d, "server.key")}


def msg(i, rcpt, body="Hello.\r\n", mail_from="news@crier.test", bcc=None, headers=""):
    data = (f"X-Test-Id: {i}\r\nFrom: <{mail_from}>\r\nTo: <{rcpt}>\r\nSubject: message {i}\r\n"
            f"{headers}\r\n{body}")
    m = {"id": i, "mail_from": mail_from, "rcpt": rcpt, "data": data}
    if bcc:
        m["bcc"] = bcc
    return m


def run(name, config, batches):
    """Runs smtp_driver; returns its output with results keyed by id per batch."""
    spec = os.path.join(WORK, name + ".json")
    with open(spec, "w") as f:
        json.dump({"config": config, "batches": batches}, f)
    p = subprocess.run([DRIVER, spec], capture_output=True, text=True, timeout=180)
    expect(p.returncode == 0, f"smtp_driver exit {p.returncode}\nstderr: {p.stderr}")
    out = json.loads(p.stdout)
    for b in out["batches"]:
        ids = [r["id"] for r in b["results"]]
        expect(len(ids) == len(set(ids)), f"an id reported twice: {ids}")
        b["by_id"] = {r["id"]: r for r in b["results"]}
    return out


def peer(name, **kw):
    return SmtpPeer(os.path.join(WORK, name), **kw)


def received(p):
    """Server-side messages keyed by X-Test-Id; fails on a duplicate."""
    out = {}
    for m in p.messages():
        i = int(re.search(rb"X-Test-Id: (\d+)", m["data"]).group(1))
        expect(i not in out, f"message {i} received twice")
        out[i] = m
    return out


def check_sent(results, ids):
    for i in ids:
        r = results.get(i)
        expect(r is not None, f"message {i}: no outcome")
        expect(r["outcome"] == "sent" and r["code"] == 250 and "queued as" in r["reply"],
               f"message {i}: {r}")


def check_identical(got, sent):
    for m in sent:
        expect(m["id"] in got, f"message {m['id']} did not arrive")
        expect(got[m["id"]]["data"] == m["data"].encode(),
               f"message {m['id']} altered:\n{got[m['id']]['data']!r}\n!=\n{m['data'].encode()!r}")
        want = m["mail_from"] or "<>"  # aiosmtpd keeps the null sender as "<>"
        expect(got[m["id"]]["mail_from"] == want, f"message {m['id']}: envelope sender")


# ------------------------------------------------------------------------------------ tests

def test_bytes_reuse_and_connection_limit():
    """Data byte for byte (dot-stuffing both ways), reuse across messages and calls, the cap."""
    bodies = [
        "Hello.\r\n",
        ".leading dot\r\n..two dots\r\n.\r\nthe line above is a lone dot\r\n",
        "\r\n.\r\n\r\n..\r\n",
        "".join(f".{n:05d} {'x' * 900}\r\n" for n in range(120)),  # ~110 KB, 900+ byte lines
        "no blank line issues\r\n\r\n\r\n",
    ]
    first = [msg(i, f"user{i}@example.test", bodies[i % len(bodies)]) for i in range(1, 25)]
    second = [msg(i, f"user{i}@example.test", bodies[i % len(bodies)]) for i in range(25, 37)]
    # A message whose very first byte is a dot (not a valid header, but the bytes must survive).
    odd = {"id": 37, "mail_from": "news@crier.test", "rcpt": "user37@example.test",
           "data": ".\r\nX-Test-Id: 37\r\n.x\r\n"}
    with peer("reuse") as p:
        out = run("reuse", {"url": f"smtp://127.0.0.1:{p.port}", "connections": 3,
                            "helo": "crier.test"}, [first, second + [odd]])
        expect(out["new"]["rc"] == 0, out["new"])
        for b in out["batches"]:
            expect(b["rc"] == 0, b)
        check_sent(out["batches"][0]["by_id"], [m["id"] for m in first])
        check_sent(out["batches"][1]["by_id"], [m["id"] for m in second + [odd]])
        got = received(p)
        expect(len(got) == 37, f"{len(got)} messages received, 37 sent")
        check_identical(got, first + second + [odd])
        for m in first + second:
            expect(got[m["id"]]["rcpt_tos"] == [m["rcpt"]], f"message {m['id']}: recipients")
            expect(got[m["id"]]["helo"] == "crier.test", "EHLO name")
        expect(1 <= p.most_at_once <= 3, f"{p.most_at_once} connections at once, limit 3")
        expect(p.connections <= 3, f"{p.connections} connections for 37 messages in two calls")
        expect(p.quits == p.connections, f"{p.quits} QUITs for {p.connections} connections")


def test_classification():
    """2xx sent, 4xx soft, 5xx hard (MAIL, RCPT, data), dropped connection soft, bcc rules."""
    batch = [
        msg(1, "ok1@example.test"),
        msg(2, "soft@example.test"),
        msg(3, "hard@example.test"),
        msg(4, "drop@example.test"),
        msg(5, "ok5@example.test", mail_from="hard-sender@crier.test"),
        msg(6, "ok6@example.test", mail_from="soft-sender@crier.test"),
        msg(7, "ok7@example.test", headers="X-Test-Reply: 554\r\n"),
        msg(8, "ok8@example.test", headers="X-Test-Reply: 452\r\n"),
        msg(9, "ok9@example.test", bcc="archive@crier.test"),
        msg(10, "ok10@example.test", bcc="hard-archive@crier.test"),
        msg(11, "ok11@example.test", bcc="soft-archive@crier.test"),
        msg(12, "hard@example.test", bcc="archive@crier.test"),
        msg(13, "soft@example.test", bcc="hard-archive@crier.test"),
        msg(14, "ok14@example.test"),
        msg(15, "ok15@example.test", mail_from=""),  # the null sender <>
    ]
    with peer("classify") as p:
        out = run("classify", {"url": f"smtp://127.0.0.1:{p.port}", "connections": 2},
                  [batch])
        b = out["batches"][0]
        expect(b["rc"] == 0, b)
        r = b["by_id"]
        expect(len(r) == len(batch), f"{len(r)} outcomes for {len(batch)} messages")
        check_sent(r, [1, 9, 10, 11, 14, 15])
        expect(r[2]["outcome"] == "soft" and r[2]["code"] == 451
               and "try again later" in r[2]["reply"], r[2])
        expect(r[3]["outcome"] == "hard" and r[3]["code"] == 550
               and r[3]["reply"] == "5.1.1 <hard@example.test>: user unknown", r[3])
        expect(r[4]["outcome"] == "soft" and r[4]["code"] == 0 and r[4]["reply"], r[4])
        expect(r[5]["outcome"] == "hard" and r[5]["code"] == 550
               and "sender unknown" in r[5]["reply"], r[5])
        expect(r[6]["outcome"] == "soft" and r[6]["code"] == 451, r[6])
        expect(r[7]["outcome"] == "hard" and r[7]["code"] == 554
               and "message refused" in r[7]["reply"], r[7])
        expect(r[8]["outcome"] == "soft" and r[8]["code"] == 452, r[8])
        expect(r[12]["outcome"] == "hard" and r[12]["code"] == 550
               and "hard@example.test" in r[12]["reply"], r[12])
        expect(r[13]["outcome"] == "soft" and r[13]["code"] == 451, r[13])
        got = received(p)
        expect(sorted(got) == [1, 9, 10, 11, 14, 15], f"received {sorted(got)}")
        check_identical(got, [m for m in batch if m["id"] in got])
        expect(got[9]["rcpt_tos"] == ["ok9@example.test", "archive@crier.test"],
               got[9]["rcpt_tos"])
        expect(got[10]["rcpt_tos"] == ["ok10@example.test"], got[10]["rcpt_tos"])
        expect(got[11]["rcpt_tos"] == ["ok11@example.test"], got[11]["rcpt_tos"])
        expect(p.most_at_once <= 2, f"{p.most_at_once} connections at once, limit 2")


def test_timeout_and_refused_connection():
    """A server that does not answer in time, and a port nobody listens on: soft, code 0."""
    with peer("timeout") as p:
        out = run("timeout", {"url": f"smtp://127.0.0.1:{p.port}", "connections": 2,
                              "timeout_ms": 1500},
                  [[msg(1, "slow@example.test"), msg(2, "ok@example.test")]])
        r = out["batches"][0]["by_id"]
        expect(r[1]["outcome"] == "soft" and r[1]["code"] == 0
               and "timed out" in r[1]["reply"].lower(), r[1])
        check_sent(r, [2])
        expect(sorted(received(p)) == [2], "only message 2 arrives")
    port = free_port()
    out = run("refused", {"url": f"smtp://127.0.0.1:{port}", "connections": 1},
              [[msg(1, "a@example.test"), msg(2, "b@example.test")]])
    b = out["batches"][0]
    expect(b["rc"] == 0, b)
    for i in (1, 2):
        expect(b["by_id"][i]["outcome"] == "soft" and b["by_id"][i]["code"] == 0
               and b["by_id"][i]["reply"], b["by_id"][i])


def test_starttls_auth_and_verification():
    """STARTTLS with the test CA and AUTH; without the CA verification fails; bad password."""
    batch = [msg(i, f"user{i}@example.test") for i in range(1, 11)]
    with peer("starttls", tls="starttls", cert=CERTS["cert"], key=CERTS["key"],
              auth={"crier": "s3cret"}) as p:
        url = f"smtp://127.0.0.1:{p.port}"
        base = {"url": url, "tls": "starttls", "user": "crier", "password": "s3cret",
                "connections": 2}
        out = run("starttls", dict(base, ca_file=CERTS["ca"]), [batch])
        check_sent(out["batches"][0]["by_id"], range(1, 11))
        got = received(p)
        check_identical(got, batch)
        for m in got.values():
            expect(m["tls"], "message received over TLS")
            expect(m["auth"] == {"mechanism": "PLAIN", "login": "crier"}, m["auth"])
        expect(p.connections <= 2, f"{p.connections} connections for 10 messages, limit 2")

        out = run("starttls-noca", base, [[msg(20, "a@example.test"), msg(21, "b@example.test")]])
        for r in out["batches"][0]["results"]:
            expect(r["outcome"] == "soft" and r["code"] == 0
                   and "certificate" in r["reply"].lower(), r)

        out = run("starttls-badpw", dict(base, ca_file=CERTS["ca"], password="wrong"),
                  [[msg(30, "a@example.test")]])
        r = out["batches"][0]["by_id"][30]
        expect(r["outcome"] == "soft" and r["code"] == 535, r)
        expect(len(received(p)) == 10, "nothing more arrives")


def test_implicit_tls():
    batch = [msg(i, f"user{i}@example.test") for i in range(1, 5)]
    with peer("implicit", tls="implicit", cert=CERTS["cert"], key=CERTS["key"]) as p:
        out = run("implicit", {"url": f"smtps://127.0.0.1:{p.port}", "tls": "implicit",
                               "ca_file": CERTS["ca"], "connections": 2}, [batch])
        check_sent(out["batches"][0]["by_id"], range(1, 5))
        got = received(p)
        check_identical(got, batch)
        expect(all(m["tls"] for m in got.values()), "implicit TLS")


def test_auth_mechanisms():
    """AUTH PLAIN and AUTH LOGIN (the server offers one at a time), here without TLS."""
    for mech, exclude in (("PLAIN", ["LOGIN"]), ("LOGIN", ["PLAIN"])):
        with peer("auth-" + mech, auth={"crier": "pa ss:word"}, auth_exclude=exclude) as p:
            out = run("auth-" + mech, {"url": f"smtp://127.0.0.1:{p.port}", "user": "crier",
                                       "password": "pa ss:word", "connections": 1},
                      [[msg(1, "a@example.test"), msg(2, "b@example.test")]])
            check_sent(out["batches"][0]["by_id"], [1, 2])
            got = received(p)
            expect(sorted(got) == [1, 2], sorted(got))
            for m in got.values():
                expect(m["auth"] == {"mechanism": mech, "login": "crier"}, m["auth"])
            expect(p.connections == 1, f"{p.connections} connections")
            out = run("noauth-" + mech, {"url": f"smtp://127.0.0.1:{p.port}"},
                      [[msg(3, "c@example.test")]])
            r = out["batches"][0]["by_id"][3]
            # 530 "authentication required" to MAIL FROM: our set-up, not the address: soft
            expect(r["outcome"] == "soft" and r["code"] == 530, r)


def test_server_closes_idle_connections():
    """Pooled connections the server closed while idle are replaced, not reported as failures."""
    first = [msg(i, f"user{i}@example.test") for i in range(1, 5)]
    second = [msg(i, f"user{i}@example.test") for i in range(5, 9)]
    with peer("idle", idle_timeout=1) as p:
        out = run("idle", {"url": f"smtp://127.0.0.1:{p.port}", "connections": 2},
                  [first, {"pause_ms": 2500, "messages": second}])
        check_sent(out["batches"][0]["by_id"], range(1, 5))
        check_sent(out["batches"][1]["by_id"], range(5, 9))
        check_identical(received(p), first + second)
        expect(p.most_at_once <= 2, p.most_at_once)
        expect(p.connections > 2, "the second call opened new connections")


def test_rate_limited():
    """With a rate set everything still arrives, once (the pace itself is not asserted)."""
    batch = [msg(i, f"user{i}@example.test") for i in range(1, 13)]
    with peer("rate") as p:
        out = run("rate", {"url": f"smtp://127.0.0.1:{p.port}", "connections": 3, "rate": 25},
                  [batch[:6], batch[6:]])
        for b in out["batches"]:
            expect(b["rc"] == 0, b)
        check_sent(out["batches"][0]["by_id"], range(1, 7))
        check_sent(out["batches"][1]["by_id"], range(7, 13))
        check_identical(received(p), batch)
        expect(p.most_at_once <= 3, p.most_at_once)


def test_bad_input():
    """Refused before anything is sent: config errors and messages that would break SMTP."""
    out = run("badcfg", {"url": "smtps://127.0.0.1:1", "tls": "none"}, [])
    expect(out["new"]["rc"] < 0 and "smtp://" in out["new"]["err"], out["new"])
    out = run("badcfg2", {"url": "smtp://127.0.0.1:1", "connections": 1000}, [])
    expect(out["new"]["rc"] < 0 and "connections" in out["new"]["err"], out["new"])
    with peer("badmsg") as p:
        url = f"smtp://127.0.0.1:{p.port}"
        bare = msg(2, "b@example.test", body="line\nsmuggled\r\n")
        out = run("badmsg", {"url": url},
                  [[msg(1, "a@example.test"), bare],
                   [msg(3, "c@example.test\r\nRCPT TO:<x@evil.test>")],
                   [msg(4, "d@example.test")]])
        b = out["batches"]
        expect(b[0]["rc"] < 0 and "message 2: bare LF" in b[0]["err"] and not b[0]["results"],
               b[0])
        expect(b[1]["rc"] < 0 and "line break" in b[1]["err"] and not b[1]["results"], b[1])
        check_sent(b[2]["by_id"], [4])
        expect(sorted(received(p)) == [4], "only the valid call sends")


TESTS = [test_bytes_reuse_and_connection_limit, test_classification,
         test_timeout_and_refused_connection, test_starttls_auth_and_verification,
         test_implicit_tls, test_auth_mechanisms, test_server_closes_idle_connections,
         test_rate_limited, test_bad_input]


def main():
    global DRIVER, WORK
    if not os.environ.get("SMTP_TEST_VERBOSE"):  # TLS failures are expected: quiet tracebacks
        logging.getLogger("mail.log").setLevel(logging.CRITICAL)
        warnings.filterwarnings("ignore", "Requiring AUTH while not requiring TLS")
    DRIVER, WORK = sys.argv[1], sys.argv[2]
    shutil.rmtree(WORK, ignore_errors=True)
    os.makedirs(WORK)
    CERTS.update(make_certs(os.path.join(WORK, "tls")))
    only = sys.argv[3:]
    failed = 0
    for t in TESTS:
        if only and t.__name__ not in only:
            continue
        try:
            t()
            print(f"ok   {t.__name__}", flush=True)
        except Exception:
            failed += 1
            print(f"FAIL {t.__name__}\n{traceback.format_exc()}", flush=True)
    print(f"{failed} failed" if failed else "all passed")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
