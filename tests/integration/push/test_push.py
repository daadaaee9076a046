"""test_push.py - the push transport (src/channel/push/) against local APNs and FCM peers.

Usage: test_push.py PUSH_DRIVER WORKDIR. Makes, with the openssl CLI, a throwaway CA and a
server certificate for 127.0.0.1, a second CA nobody uses (the "bad CA"), an APNs .p8 key (EC
P-256, PKCS#8) and a service account's RSA key, each with a spare of the same kind that the
peers do not know. Starts apns_server.js / fcm_server.js (Node's built-in http2) on a free port
of 127.0.0.1 for each test, has push_driver send through them, and checks both sides: exact
outcomes, unregistered flags, status and reasons, message ids against what the peer issued,
bodies byte for byte, JWTs (verified by the peers), connections used, credential renewal and
refusal, and the errors for an untrusted certificate and a closed port. Every peer is stopped
when its test ends, pass or fail. No timing assertions.
"""
import json
import os
import shutil
import socket
import subprocess
import sys
import traceback

HERE = os.path.dirname(os.path.abspath(__file__))
DRIVER = WORK = None
TEAM, KEY_ID, TOPIC = "TEAM123456", "KEY7654321", "com.example.crier"
EMAIL, PROJECT = "crier@demo-project.iam.gserviceaccount.com", "demo-project"


def expect(cond, what):
    if not cond:
        raise AssertionError(what)


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def openssl(*args):
    p = subprocess.run(["openssl", *args], cwd=WORK, capture_output=True, text=True)
    expect(p.returncode == 0, f"openssl {' '.join(args)}: {p.stderr}")


def path(name):
    return os.path.join(WORK, name)


def make_pki():
    """CA, server certificate (IP:127.0.0.1), bad CA, APNs keys, service account keys."""
    for ca in ("ca", "badca"):
        openssl("req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes",
                "-keyout", f"{ca}.key", "-out", f"{ca}.pem", "-days", "2",
                "-subj", f"/CN=crier test {ca}",
                "-addext", "basicConstraints=critical,CA:TRUE",
                "-addext", "keyUsage=critical,keyCertSign,cRLSign")
    openssl("req", "-new", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes",
            "-keyout", "server.key", "-out", "server.csr", "-subj", "/CN=127.0.0.1")
    with open(path("server.ext"), "w") as f:
        f.write("subjectAltName=IP:127.0.0.1\nbasicConstraints=CA:FALSE\n"
                "extendedKeyUsage=serverAuth\n")
    openssl("x509", "-req", "-in", "server.csr", "-CA", "ca.pem", "-CAkey", "ca.key",
            "-CAcreateserial", "-out", "server.pem", "-days", "2", "-extfile", "server.ext")
    for k in ("apns", "apns_other"):  # .p8 files are PKCS#8 PEM
        openssl("genpkey", "-algorithm", "EC", "-pkeyopt", "ec_paramgen_curve:P-256",
                "-out", f"{k}.p8")
        openssl("pkey", "-in", f"{k}.p8", "-pubout", "-out", f"{k}.pub")
    for k in ("sa", "sa_other"):
        openssl("genpkey", "-algorithm", "RSA", "-pkeyopt", "rsa_keygen_bits:2048",
                "-out", f"{k}.key")
        openssl("pkey", "-in", f"{k}.key", "-pubout", "-out", f"{k}.pub")


class Peer:
    """apns_server.js or fcm_server.js on a free port; its log read back as dicts."""

    def __init__(self, script, name, *opts):
        self.port = free_port()
        self.log = path(name + ".jsonl")
        self.args = ["node", os.path.join(HERE, script), str(self.port), self.log,
                     "--cert", path("server.pem"), "--key", path("server.key"),
                     *[str(o) for o in opts]]

    def __enter__(self):
        # stdin stays open as a pipe: the peer stops when this process goes away
        self.proc = subprocess.Popen(self.args, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                     stderr=subprocess.PIPE, text=True)
        line = self.proc.stdout.readline()
        if line.strip() != "listening":
            self.proc.kill()
            raise AssertionError(f"{self.args[1]} did not start: {line!r} "
                                 f"{self.proc.stderr.read()}")
        return self

    def __exit__(self, *exc):
        self.proc.terminate()
        try:
            self.proc.wait(10)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
        for f in (self.proc.stdin, self.proc.stdout, self.proc.stderr):
            f.close()

    @property
    def url(self):
        return f"https://127.0.0.1:{self.port}"

    def records(self):
        with open(self.log) as f:
            return [json.loads(line) for line in f]

    def requests(self):
        return [r for r in self.records() if "event" not in r]

    def events(self, name):
        return [r for r in self.records() if r.get("event") == name]


def apns_peer(name):
    return Peer("apns_server.js", name, "--team", TEAM, "--key-id", KEY_ID,
                "--pubkey", path("apns.pub"), "--topic", TOPIC)


def fcm_peer(name, *opts):
    return Peer("fcm_server.js", name, "--pubkey", path("sa.pub"), "--client-email", EMAIL,
                "--project", PROJECT, *opts)


def apns_config(peer, **kw):
    c = {"service": "apns", "name": "ios", "team_id": TEAM, "key_id": KEY_ID,
         "key_pem_file": path("apns.p8"), "topic": TOPIC, "url": peer.url,
         "ca_file": path("ca.pem"), "concurrency": 50}
    c.update(kw)
    return c


def service_account(peer, key="sa.key"):
    """The service account file, its token_uri on the peer."""
    with open(path(key)) as f:
        pem = f.read()
    sa = {"type": "service_account", "project_id": PROJECT, "private_key_id": "k1",
          "private_key": pem, "client_email": EMAIL, "token_uri": f"{peer.url}/token"}
    name = path(f"sa-{key}-{peer.port}.json")
    with open(name, "w") as f:
        json.dump(sa, f)
    return name


def fcm_config(peer, key="sa.key", **kw):
    c = {"service": "fcm", "name": "android", "service_account_file": service_account(peer, key),
         "url": peer.url, "ca_file": path("ca.pem"), "concurrency": 50}
    c.update(kw)
    return c


def run(name, cfg, messages, rounds=1):
    """Runs push_driver; returns (results by round then id, send lines by round, all lines)."""
    spec = path(name + ".spec.json")
    with open(spec, "w") as f:
        json.dump({"config": cfg, "messages": messages, "rounds": rounds}, f)
    p = subprocess.run([DRIVER, spec], capture_output=True, text=True, timeout=120)
    expect(p.returncode == 0, f"push_driver exit {p.returncode}\nstderr: {p.stderr}")
    lines = [json.loads(line) for line in p.stdout.splitlines()]
    results, sends = {}, {}
    for line in lines:
        if "result" in line:
            r = line["result"]
            got = results.setdefault(r["round"], {})
            expect(r["id"] not in got, f"message {r['id']} reported twice in round {r['round']}")
            got[r["id"]] = r
        elif "send" in line:
            sends[line["send"]["round"]] = line["send"]
    expect(lines and ("free" in lines[-1] or "new" in lines[-1]),
           f"driver did not finish: {p.stdout}\n{p.stderr}")
    return results, sends, lines


def check(r, outcome, status, reason, unregistered=False):
    expect((r["outcome"], r["status"], r["reason"], r["unregistered"]) ==
           (outcome, status, reason, unregistered), f"expected {outcome} {status} {reason} "
           f"unregistered={unregistered}: {r}")


def apns_body(i):
    # escapes, non-ASCII and a NUL-free control character: must arrive byte for byte
    return json.dumps({"aps": {"alert": {"title": f"Offre n°{i}", "body": "Ünïcode ✓ \"q\" \\ \t"},
                               "badge": i}, "crier": {"d": 7, "m": i}}, ensure_ascii=False)


# ------------------------------------------------------------------------------------ tests

def test_apns_outcomes():
    """Outcomes for every kind of answer, ids, bodies, JWTs, one connection for 60 messages at
    concurrency 50, a 403 that renews the JWT, and SOFT ones sent on the next call."""
    special = {"bad01": ("hard", 400, "BadDeviceToken", True),
               "gone02": ("hard", 410, "Unregistered", True),
               "topic03": ("hard", 400, "DeviceTokenNotForTopic", True),
               "big04": ("hard", 413, "PayloadTooLarge", False),
               "slow05": ("soft", 429, "TooManyRequests", False),
               "err06": ("soft", 500, "InternalServerError", False),
               "exp07": ("sent", 200, "ok", False)}
    tokens = list(special) + [f"{i:064x}" for i in range(1, 54)]
    messages = [{"id": 100 + i, "token": t, "body": apns_body(i)} for i, t in enumerate(tokens)]
    messages.append({"id": 999, "token": "ab/../cd", "body": "{}"})  # not a URL path segment
    with apns_peer("apns_outcomes") as peer:
        results, sends, _ = run("apns_outcomes", apns_config(peer), messages, rounds=2)
        expect(sends[1]["rc"] == 0 and sends[2]["rc"] == 0, sends)
        r1, r2 = results[1], results.get(2, {})
        expect(sorted(r1) == sorted(m["id"] for m in messages), f"round 1 ids {sorted(r1)}")
        reqs = peer.requests()
        by_token = {}
        for q in reqs:
            by_token.setdefault(q["token"], []).append(q)
        for m in messages[:-1]:
            r = r1[m["id"]]
            want = special.get(m["token"], ("sent", 200, "ok", False))
            check(r, *want)
            seen = by_token[m["token"]]
            expect(all(q["body"] == m["body"] for q in seen), f"body of {m['token']} altered")
            expect(all((q["topic"], q["push_type"], q["priority"], q["content_type"]) ==
                       (TOPIC, "alert", "10", "application/json") for q in seen), seen)
            if r["outcome"] == "sent":
                expect(r["message_id"] == seen[-1]["apns_id"] and r["message_id"],
                       f"{m['token']}: id {r['message_id']} != peer's {seen[-1]['apns_id']}")
            else:
                expect(r["message_id"] == "", r)
        expect(r1[104]["retry_after_ms"] == 7000, f"Retry-After: 7 -> {r1[104]}")
        expect(r1[105]["retry_after_ms"] == 0, r1[105])
        check(r1[999], "hard", 0, r1[999]["reason"], True)
        expect(not [q for q in reqs if "/ab" in q["path"] or q["path"].endswith("/cd")],
               "a request for the token that is not a path segment")
        # the 403: renewed once, resent with a new JWT, which the peer verified
        exp = by_token["exp07"]
        expect([q["status"] for q in exp] == [403, 200], f"exp07: {exp}")
        expect(exp[0]["jwt"] != exp[1]["jwt"], "resent with the same JWT")
        jwts = {q["jwt"] for q in reqs}
        expect(len(jwts) == 2, f"{len(jwts)} JWTs: one renewal expected")
        # requests in flight with the refused JWT are refused too, and resent with the new one
        refused = [q for q in reqs if q["status"] == 403]
        expect(all(q["jwt"] == exp[0]["jwt"] and q["reason"] == "ExpiredProviderToken"
                   for q in refused), refused)
        for q in refused:
            expect(by_token[q["token"]][-1]["jwt"] == exp[1]["jwt"], f"{q['token']} not resent")
        # round 2: only the SOFT ones, now accepted
        expect(sorted(r2) == [104, 105], f"round 2 ids {sorted(r2)}")
        for i in (104, 105):
            check(r2[i], "sent", 200, "ok")
        # one transport: its streams share a connection
        sessions = {q["session"] for q in reqs}
        expect(len(peer.events("session")) <= 2 and len(sessions) <= 2,
               f"{len(peer.events('session'))} connections for one transport")
        expect(max(q["concurrent"] for q in reqs) > 1, "streams were never concurrent")
        answered = [q for q in reqs if q["status"] != 403]
        expect(len(answered) == 60 + 2, f"{len(answered)} requests: 60, and 2 in round 2")


def test_apns_refused_key():
    """A key the team does not have: renewed once, refused again -> SOFT, CR_PUSH_EPERM, and no
    more messages taken."""
    messages = [{"id": i, "token": f"{i:064x}", "body": apns_body(i)} for i in range(1, 11)]
    with apns_peer("apns_refused") as peer:
        results, sends, _ = run("apns_refused",
                                apns_config(peer, key_pem_file=path("apns_other.p8"),
                                            concurrency=2), messages)
        s = sends[1]
        expect(s["rc"] != 0 and s["errname"] == "PERM", s)  # CR_PUSH_EPERM
        expect(s["err"] == "APNs account 'ios': credentials refused: 403 InvalidProviderToken "
               "(renewed once, refused again)", s["err"])
        r = results.get(1, {})
        expect(r and len(r) < len(messages), f"{len(r)} reported: it went on after the refusal")
        for x in r.values():
            check(x, "soft", 403, "InvalidProviderToken")
        reqs = peer.requests()
        expect(all(q["status"] == 403 for q in reqs), reqs)
        for i in r:
            tries = [q for q in reqs if q["token"] == f"{i:064x}"]
            expect(len(tries) == 2, f"message {i}: {len(tries)} tries, 2 expected")


def test_connect_errors():
    """An untrusted certificate and a closed port: CR_EIO naming the account and the URL, and no
    outcomes (APNs and FCM's token endpoint)."""
    msg = [{"id": 1, "token": "00ff", "body": "{}"}]
    with apns_peer("apns_badca") as peer:
        results, sends, _ = run("apns_badca", apns_config(peer, ca_file=path("badca.pem")), msg)
        s = sends[1]
        expect(s["errname"] == "IO" and not results, f"{s} {results}")
        want = f"APNs account 'ios': connect to {peer.url}: "
        expect(s["err"].startswith(want) and "certificate" in s["err"], s["err"])
        expect(not peer.requests(), "a request got through")
        # the right CA without ca_file: the system bundle does not know it
        results, sends, _ = run("apns_noca", apns_config(peer, ca_file=None), msg)
        expect(sends[1]["errname"] == "IO" and "certificate" in sends[1]["err"], sends)
    port = free_port()
    cfg = apns_config(apns_peer("unused"), url=f"https://127.0.0.1:{port}")
    results, sends, _ = run("apns_closed", cfg, msg)
    expect(sends[1]["errname"] == "IO" and not results and
           sends[1]["err"].startswith(f"APNs account 'ios': connect to https://127.0.0.1:{port}: "),
           sends)
    with fcm_peer("fcm_badca") as peer:
        results, sends, _ = run("fcm_badca", fcm_config(peer, ca_file=path("badca.pem")), msg)
        s = sends[1]
        expect(s["errname"] == "IO" and not results, f"{s} {results}")
        expect(s["err"].startswith(f"FCM account 'android': connect to {peer.url}/token: ") and
               "certificate" in s["err"], s["err"])


def fcm_body(token, i):
    return json.dumps({"message": {"token": token, "notification": {
        "title": f"Offre n°{i}", "body": "Ünïcode ✓ \"q\" \\"}, "data": {"m": str(i)}}},
        ensure_ascii=False)


def test_fcm_outcomes():
    """Outcomes for every kind of FCM answer, names, bodies, one access token fetched (RS256
    assertion verified by the peer) and renewed once after a 401, sends on one connection."""
    special = {"gone01": ("hard", 404, "UNREGISTERED", True),
               "bad02": ("hard", 400, "INVALID_ARGUMENT", True),
               "payload03": ("hard", 400, "INVALID_ARGUMENT", False),
               "mismatch04": ("hard", 403, "SENDER_ID_MISMATCH", True),
               "slow05": ("soft", 429, "QUOTA_EXCEEDED", False),
               "err06": ("soft", 503, "UNAVAILABLE", False),
               "exp07": ("sent", 200, "ok", False)}
    tokens = list(special) + [f"fcm-token:{i}_a-b" for i in range(1, 54)]
    messages = [{"id": 200 + i, "token": t, "body": fcm_body(t, i)} for i, t in enumerate(tokens)]
    with fcm_peer("fcm_outcomes") as peer:
        results, sends, _ = run("fcm_outcomes", fcm_config(peer), messages, rounds=2)
        expect(sends[1]["rc"] == 0 and sends[2]["rc"] == 0, sends)
        r1, r2 = results[1], results.get(2, {})
        expect(sorted(r1) == sorted(m["id"] for m in messages), f"round 1 ids {sorted(r1)}")
        reqs = peer.requests()
        by_token = {}
        for q in reqs:
            by_token.setdefault(q["token"], []).append(q)
        for m in messages:
            r = r1[m["id"]]
            check(r, *special.get(m["token"], ("sent", 200, "ok", False)))
            seen = by_token[m["token"]]
            expect(all(q["body"] == m["body"] for q in seen), f"body of {m['token']} altered")
            expect(all(q["content_type"] == "application/json; charset=utf-8" for q in seen), seen)
            if r["outcome"] == "sent":
                expect(r["message_id"] == seen[-1]["name"], f"{r} != {seen[-1]}")
        expect(r1[204]["retry_after_ms"] == 3000, r1[204])
        tok = peer.events("token")
        expect(len(tok) == 2 and all(t["ok"] for t in tok), f"token requests: {tok}")
        expect(tok[0]["content_type"] == "application/x-www-form-urlencoded", tok[0])
        exp = by_token["exp07"]
        expect([(q["status"], q["access_token_no"]) for q in exp] == [(401, 1), (200, 2)], exp)
        expect(sorted(r2) == [204, 205], f"round 2 ids {sorted(r2)}")
        for i in (204, 205):
            check(r2[i], "sent", 200, "ok")
        sessions = {q["session"] for q in reqs}
        expect(len(sessions) <= 2, f"sends used {len(sessions)} connections")
        expect(max(q["concurrent"] for q in reqs) > 1, "streams were never concurrent")


def test_fcm_token_cache_and_rate():
    """expires_in 3600: one token for two calls; expires_in 60 (less than the minute of margin):
    a new token before every message. A rate limit changes no outcome."""
    msgs = [{"id": i, "token": f"t{i}", "body": fcm_body(f"t{i}", i)} for i in range(1, 4)]
    with fcm_peer("fcm_cache") as peer:
        cfg = fcm_config(peer, concurrency=1, rate=50)
        results, sends, _ = run("fcm_cache", cfg, msgs + [{"id": 9, "token": "slow9",
                                                          "body": fcm_body("slow9", 9)}], rounds=2)
        expect(sends[1]["rc"] == 0 and sends[2]["rc"] == 0, sends)
        expect([r["outcome"] for r in results[1].values()].count("sent") == 3, results)
        check(results[2][9], "sent", 200, "ok")
        expect(len(peer.events("token")) == 1, f"{len(peer.events('token'))} token requests")
    with fcm_peer("fcm_short", "--token-life", 60) as peer:
        results, sends, _ = run("fcm_short", fcm_config(peer, concurrency=1), msgs)
        expect(sends[1]["rc"] == 0 and all(r["outcome"] == "sent" for r in results[1].values()),
               results)
        expect(len(peer.events("token")) == 3, f"{len(peer.events('token'))} token requests")
        expect([q["access_token_no"] for q in peer.requests()] == [1, 2, 3], peer.requests())


def test_fcm_refused_service_account():
    """A service account key the peer does not know: the token endpoint's invalid_grant is
    CR_PUSH_EPERM naming the account, before any message is taken."""
    msg = [{"id": 1, "token": "t1", "body": fcm_body("t1", 1)}]
    with fcm_peer("fcm_refused") as peer:
        results, sends, _ = run("fcm_refused", fcm_config(peer, key="sa_other.key"), msg)
        s = sends[1]
        expect(s["errname"] == "PERM" and not results, f"{s} {results}")
        expect(s["err"] == f"FCM account 'android': the token endpoint {peer.url}/token refused "
               f"the service account {EMAIL}: 400 invalid_grant (Invalid JWT Signature.)",
               s["err"])
        expect(not peer.requests(), "a message was sent without a token")


def main():
    global DRIVER, WORK
    DRIVER, WORK = sys.argv[1], sys.argv[2]
    shutil.rmtree(WORK, ignore_errors=True)
    os.makedirs(WORK)
    for tool in ("node", "openssl"):
        expect(shutil.which(tool), f"{tool} is needed for the push peers")
    make_pki()
    tests = [v for k, v in globals().items() if k.startswith("test_") and callable(v)]
    failed = 0
    for t in tests:
        try:
            t()
            print(f"ok   {t.__name__}")
        except Exception:
            failed += 1
            print(f"FAIL {t.__name__}")
            traceback.print_exc()
    print(f"{len(tests) - failed} of {len(tests)} passed")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
