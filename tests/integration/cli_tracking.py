"""cli_tracking.py - what recipients do, over real HTTP against `crier serve`: opens, clicks,
unsubscribe (page and RFC 8058 one-click), tracking consent, the mirror page, forged tokens
and open-redirect attempts, the bounce webhook and `crier bounce ingest`, secret rotation, and
the seed-001 workflow splitting on real opens and clicks made over HTTP while `crier serve`
runs the engine. Expected numbers come from the hits the test made, never from crier.
"""
import email
import email.policy
import glob
import http.client
import json
import os
import re
import socket
import subprocess
import sys
import time
import urllib.parse

from crier_test import expect, main
from cli_workflow import EXAMPLES, ids, setup as workflow_setup, sql, status

TEMPLATE = {
    "from": "Shop <shop@example.com>",
    "subject": "Hello {{ profile.first_name }}",
    "html": "<html><body><p>Hello {{ profile.first_name | escape }}</p>"
            "<a href=\"https://shop.example/offer?who={{ profile.external_id }}\" "
            "data-label=\"offer\">See the offer</a> "
            "<a href=\"https://shop.example/\">Home</a> "
            "<a href=\"mailto:help@shop.example\">Help</a> "
            "<a href=\"https://shop.example/legal\" data-notrack>Legal</a> "
            "<a href=\"{{ mirror_url }}\">View online</a> "
            "<a href=\"{{ unsubscribe_url }}\">Unsubscribe</a></body></html>",
}
PEOPLE = ("external_id,email,first_name,tier,tracking_consent\n"
          "C1,ann@example.org,Ann,gold,true\n"
          "C2,bob@example.org,Bob,gold,true\n"
          "C3,cy@example.org,Cy,gold,true\n"
          "C4,dee@example.org,Dee,gold,false\n"
          "C5,eve@example.org,Eve,gold,true\n")


def free_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


class Server:
    """crier serve on a free port of 127.0.0.1; stopped (SIGTERM, queued hits written) by
    stop() or at the end of a `with` block."""

    def __init__(self, c, port, *extra):
        self.c, self.port = c, port
        self.p = subprocess.Popen([c.binary, "--db", c.url, "serve", "--listen",
                                   f"127.0.0.1:{port}", "--flush-ms", "100", *extra],
                                  stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                                  cwd=c.dir)
        line = self.p.stdout.readline()
        expect(line.startswith("listening on http://127.0.0.1:"),
               f"serve did not start: {line!r} {self.p.stderr.read() if not line else ''}")

    def stop(self):
        if self.p.poll() is None:
            self.p.terminate()
            try:
                self.p.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.p.kill()
                self.p.wait()
                raise AssertionError("serve did not stop on SIGTERM")
            expect(self.p.returncode == 0, f"serve exit {self.p.returncode}: "
                                           f"{self.p.stderr.read()}")

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        if self.p.poll() is None:
            self.p.kill() if exc[0] else self.stop()
            self.p.wait()


def request(port, method, path, body=None, headers=None):
    """One request on a fresh connection: (status, headers dict, body bytes)."""
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    try:
        conn.request(method, path, body=body, headers=headers or {})
        r = conn.getresponse()
        return r.status, {k.lower(): v for k, v in r.getheaders()}, r.read()
    finally:
        conn.close()


def links_of(path):
    """The href and src URLs of a pickup .eml's HTML part, and the part itself."""
    with open(path, "rb") as f:
        m = email.message_from_binary_file(f, policy=email.policy.default)
    html = m.get_body(("html",)).get_content()
    return re.findall(r'(?:href|src)="([^"]+)"', html), html, m


def by_recipient(c, delivery):
    """{email: (log id, [urls])} from the pickup folder (files are DELIVERY-LOG.eml)."""
    addr = dict(sql(c, "SELECT id, address FROM delivery_log WHERE delivery_id = ?",
                    (delivery,)))
    out = {}
    for f in glob.glob(c.path(f"pickup/{delivery}-*.eml")):
        log = int(os.path.basename(f).split("-")[1].split(".")[0])
        urls, html, msg = links_of(f)
        out[addr[str(log)] if c.backend != "sqlite" else addr[log]] = (log, urls, msg)
    return out


def send_offer(c, port, template=TEMPLATE, tracking=None, name="offer"):
    c.write(name + ".json", json.dumps(template))
    c.run("template", "add", "email", name, name + ".json")
    args = ["delivery", "create", "--template", name, "--account", "drop", "--filter",
            "email is not null", "--label", name]
    if tracking:
        args += ["--tracking", tracking]
    d = int(c.run(*args)[0])
    c.run("delivery", "prepare", str(d))
    c.run("delivery", "confirm", str(d))
    c.run("engine", "run", "--until-idle")
    return d


def base(c, port):
    c.run("init")
    c.run("clock", "set", "2026-12-01T09:00:00Z")
    c.write("p.csv", PEOPLE)
    c.run("import", "profiles", "p.csv", "--key", "external_id")
    os.makedirs(c.path("pickup"), exist_ok=True)
    c.run("account", "add", "pickup", "drop", "--dir", c.path("pickup"),
          "--tracking-consent", "required")
    c.run("config", "set", "public_url", f"http://127.0.0.1:{port}")


def kind_of(url):
    return urllib.parse.urlsplit(url).path[1:2]


def count(c, where, params=()):
    return int(sql(c, f"SELECT count(*) FROM tracking_log WHERE {where}", params)[0][0])


def test_links_in_messages(c):
    port = free_port()
    base(c, port)
    d = send_offer(c, port)
    rec = by_recipient(c, d)
    expect(len(rec) == 5, rec.keys())
    pub = f"http://127.0.0.1:{port}/"
    for addr, (log, urls, msg) in rec.items():
        tracked = [u for u in urls if u.startswith(pub)]
        kinds = sorted(kind_of(u) for u in tracked)
        # two click links, mirror, unsubscribe; the pixel only with consent (the account
        # requires it); mailto and data-notrack links untouched
        want = ["c", "c", "m", "u"] + ([] if addr == "dee@example.org" else ["o"])
        expect(kinds == sorted(want), (addr, kinds))
        expect("mailto:help@shop.example" in urls and "https://shop.example/legal" in urls,
               urls)
        expect(not any(u.startswith("https://shop.example/offer") for u in urls),
               "tracked links hide the destination")
        # an http public URL: no RFC 8058 header (it needs https), the variable is there
        expect(msg["List-Unsubscribe"] is None, msg["List-Unsubscribe"])
    # links are stored once per distinct URL: two offers (personalised) + home per person
    rows = sql(c, "SELECT url, label FROM delivery_url WHERE delivery_id = ? ORDER BY link_id",
               (d,))
    expect(len(rows) == 6 and rows[0][1] == "offer" and
           {r[0] for r in rows if r[1] == "Home"} == {"https://shop.example/"}, rows)
    # tracking off for a delivery: no pixel, no click links; opens only off: no pixel
    d2 = send_offer(c, port, tracking="none", name="plain")
    for addr, (log, urls, msg) in by_recipient(c, d2).items():
        expect(not any(kind_of(u) in "oc" for u in urls if u.startswith(pub)), urls)
        expect("https://shop.example/" in urls, urls)
    d3 = send_offer(c, port, tracking="no_opens", name="noopen")
    for addr, (log, urls, msg) in by_recipient(c, d3).items():
        ks = sorted(kind_of(u) for u in urls if u.startswith(pub))
        expect(ks == ["c", "c", "m", "u"], ks)


def test_opens_clicks_unsubscribe_mirror(c):
    port = free_port()
    base(c, port)
    d = send_offer(c, port)
    rec = by_recipient(c, d)
    tok = {}
    for a, (log, urls, _) in rec.items():
        tok[a] = {k: [] for k in "ocmu"}
        for u in urls:
            if u.startswith(f"http://127.0.0.1:{port}/"):
                tok[a][kind_of(u)].append(urllib.parse.urlsplit(u).path)
    ann, bob, cy, dee = (tok[a] for a in ["ann@example.org", "bob@example.org",
                                          "cy@example.org", "dee@example.org"])
    with Server(c, port, "--no-engine") as srv:
        # opens: Ann twice from a browser, Bob through Apple's proxy (flagged, kept)
        for who, ua in [(ann, "Mozilla/5.0 (Macintosh) Firefox/133.0"),
                        (ann, "Mozilla/5.0 (Macintosh) Firefox/133.0"), (bob, "Mozilla/5.0")]:
            st, h, body = request(port, "GET", who["o"][0], headers={"User-Agent": ua})
            expect(st == 200 and len(body) == 43 and body[:6] == b"GIF89a" and
                   h["content-type"] == "image/gif" and "no-store" in h["cache-control"],
                   (st, h, len(body)))
        # clicks: Ann on the offer, Cy on Home without loading images
        st, h, _ = request(port, "GET", ann["c"][0], headers={"User-Agent": "Firefox"})
        expect(st == 302 and h["location"] == "https://shop.example/offer?who=C1", (st, h))
        st, h, _ = request(port, "GET", cy["c"][1], headers={"User-Agent": "Firefox"})
        expect(st == 302 and h["location"] == "https://shop.example/", (st, h))
        # forged, altered, truncated, wrong kind, open-redirect attempts: 404, nothing logged
        good = ann["c"][0]
        t = good.split("/")[2]
        flip = t[:-3] + ("A" if t[-3] != "A" else "B") + t[-2:]
        for path in [f"/c/{flip}", f"/c/{t[:-4]}", f"/c/{t}x", "/o/" + t, "/c/" + ann["o"][0][3:],
                     "/c/https://evil.example/", "/c/", "/x/" + t, "/c/" + t + "/..%2F"]:
            st, h, _ = request(port, "GET", path)
            expect(st == 404 and "location" not in h, (path, st, h))
        # a query naming another destination changes nothing: only the stored URL is used
        st, h, _ = request(port, "GET", good + "?url=https://evil.example/&to=https://x.example")
        expect(st == 302 and h["location"] == "https://shop.example/offer?who=C1", h)
        # the mirror page: the message as Bob got it, links tracked, no pixel
        st, h, body = request(port, "GET", bob["m"][0])
        page = body.decode()
        expect(st == 200 and "text/html" in h["content-type"] and "Hello Bob" in page, st)
        expect(f"127.0.0.1:{port}/c/" in page and f"/o/" not in page, page)
        st, _, _ = request(port, "GET", bob["m"][0][:-2] + "zz")
        expect(st == 404, st)
        # unsubscribe: the page, then RFC 8058's one-click POST
        st, h, body = request(port, "GET", dee["u"][0])
        expect(st == 200 and b"<form method=\"post\"" in body, body)
        st, _, _ = request(port, "POST", dee["u"][0], body="List-Unsubscribe=One-Click",
                           headers={"Content-Type": "application/x-www-form-urlencoded"})
        expect(st == 200, st)
        # withdrawing tracking consent from the same page
        st, _, body = request(port, "POST", bob["u"][0], body="action=consent",
                              headers={"Content-Type": "application/x-www-form-urlencoded"})
        expect(st == 200 and b"Tracking is off" in body, body)
        st, _, _ = request(port, "POST", bob["u"][0][:-1], body="List-Unsubscribe=One-Click")
        expect(st == 404, st)
        srv.stop()
    flags = dict(sql(c, "SELECT email, email_optout FROM profile"))
    consent = dict(sql(c, "SELECT email, tracking_consent FROM profile"))
    truthy = lambda v: str(v) in ("1", "t", "true")  # noqa: E731
    expect(sorted(a for a, v in flags.items() if truthy(v)) == ["dee@example.org"], flags)
    expect(sorted(a for a, v in consent.items() if not truthy(v)) ==
           ["bob@example.org", "dee@example.org"], consent)
    expect(count(c, "kind = 'open'") == 3 and count(c, "kind = 'click'") == 3 and
           count(c, "kind = 'unsubscribe'") == 1, "forged requests wrote nothing")
    expect(count(c, "kind = 'open' AND prefetch") == 1, "Apple's proxy is flagged")
    k = c.json("delivery", "show", str(d), "--json")["kpis"]
    expect((k["opens"], k["unique_opens"], k["clicks"], k["unique_clicks"],
            k["unsubscriptions"], k["prefetched_opens"]) == (3, 3, 3, 2, 1, 1), k)
    links = {x["label"]: x for x in k["links"]}
    expect(links["offer"]["clicks"] == 2 and links["offer"]["unique_clicks"] == 1 and
           links["Home"]["clicks"] == 1, k["links"])
    # behaviour predicates see it: a click counts as an open
    q = lambda f: ids([(int(x),) for x in c.run("query", f, "--ids")[0].split()])  # noqa: E731
    pid = {a: int(i) for i, a in sql(c, "SELECT id, email FROM profile")}
    expect(q(f"opened({d})") == sorted([pid["ann@example.org"], pid["bob@example.org"],
                                        pid["cy@example.org"]]), q(f"opened({d})"))
    expect(q(f"clicked({d}, 'offer')") == [pid["ann@example.org"]], "by label")
    expect(q(f"unsubscribed({d})") == [pid["dee@example.org"]], "unsubscribed")
    # the next delivery leaves Dee out, and gives Bob (consent withdrawn) no pixel
    d2 = send_offer(c, port, name="again")
    logs = c.json("delivery", "logs", str(d2), "--json")
    why = {x["address"]: x.get("reason") for x in logs}
    expect(why["dee@example.org"] == "opted_out" and why["ann@example.org"] is None, why)
    for addr, (log, urls, _) in by_recipient(c, d2).items():
        expect(any(kind_of(u) == "o" for u in urls) == (addr in ("ann@example.org",
                                                                   "cy@example.org",
                                                                   "eve@example.org")),
               (addr, urls))


def test_bounces_webhook_and_dsn(c):
    port = free_port()
    base(c, port)
    d = send_offer(c, port)
    mids = dict(sql(c, "SELECT address, message_id FROM delivery_log WHERE delivery_id = ?",
                    (d,)))
    c.run("config", "set", "bounce.webhook_secret", "s3cret-for-tests")
    with Server(c, port, "--no-engine") as srv:
        hook = "/webhook/bounces"
        ev = json.dumps({"type": "bounce", "email": "ann@example.org", "bounce_type": "hard",
                         "status": "5.1.1", "diagnostic": "550 5.1.1 no such user"})
        for hdr in [{}, {"Authorization": "Bearer wrong"}, {"Authorization": "s3cret-for-tests"}]:
            st, _, body = request(port, "POST", hook, body=ev, headers=hdr)
            expect(st == 401 and json.loads(body)["error"]["code"] == "unauthorized", body)
        auth = {"Authorization": "Bearer s3cret-for-tests", "Content-Type": "application/json"}
        st, _, body = request(port, "POST", hook, body="{not json", headers=auth)
        expect(st == 400 and json.loads(body)["error"]["code"] == "invalid_json", body)
        st, _, body = request(port, "POST", hook, body=json.dumps([{"type": "bounce"}]),
                              headers=auth)
        err = json.loads(body)["error"]
        expect(st == 400 and "event 0" in err["message"], body)
        expect(count(c, "kind = 'bounce'") == 0, "a refused request applies nothing")
        batch = {"events": [
            json.loads(ev),
            {"type": "complaint", "message_id": mids["bob@example.org"]},
            {"type": "bounce", "email": "cy@example.org", "status": "4.2.2",
             "diagnostic": "452 mailbox full"},
            {"type": "bounce", "email": "nobody@example.org"}]}
        st, _, body = request(port, "POST", hook, body=json.dumps(batch), headers=auth)
        r = json.loads(body)
        expect(st == 200 and r["matched"] == 3 and r["unmatched"] == 1, r)
        expect([x["action"] for x in r["results"]] ==
               ["quarantined", "opted_out", "soft_error", "unmatched"], r)
        srv.stop()
    # an RFC 3464 report from an MTA, matched by the Message-ID of the original
    dsn = DSN.format(mid=mids["eve@example.org"]).replace("\n", "\r\n")
    c.write("dsn.eml", dsn)
    out, _ = c.run("bounce", "ingest", "dsn.eml")
    expect("hard eve@example.org 5.1.1 -> quarantined" in out, out)
    c.write("junk.eml", "From: a@b.example\r\nSubject: hello\r\n\r\nnot a bounce\r\n")
    _, err = c.run("bounce", "ingest", "junk.eml", "dsn.eml", status=2)
    expect("junk.eml" in err, err)
    k = c.json("delivery", "show", str(d), "--json")["kpis"]
    expect((k["failed_hard"], k["failed_soft"], k["complaints"], k["sent"]) == (2, 1, 1, 2), k)
    expect(k["bounces"] == 4, "hard Ann, soft Cy, Eve twice (the second file re-applied)")
    q = dict(sql(c, "SELECT address, status FROM quarantine"))
    expect(q == {"ann@example.org": "quarantined", "eve@example.org": "quarantined",
                 "cy@example.org": "to_retry"}, q)
    # the next delivery: quarantined and complaining addresses are left out
    d2 = send_offer(c, port, name="again")
    why = {x["address"]: x.get("reason") for x in c.json("delivery", "logs", str(d2), "--json")}
    expect(why == {"ann@example.org": "quarantined", "bob@example.org": "opted_out",
                   "cy@example.org": None, "dee@example.org": None,
                   "eve@example.org": "quarantined"}, why)


DSN = """From: MAILER-DAEMON@mx.example.net (Mail Delivery System)
To: shop@example.com
Subject: Undelivered Mail Returned to Sender
MIME-Version: 1.0
Content-Type: multipart/report; report-type=delivery-status;
\tboundary="B0UND"

--B0UND
Content-Type: text/plain; charset=us-ascii

I'm sorry to have to inform you that your message could not be delivered.

--B0UND
Content-Type: message/delivery-status

Reporting-MTA: dns; mx.example.net

Final-Recipient: rfc822; eve@example.org
Original-Recipient: rfc822;eve@example.org
Action: failed
Status: 5.1.1
Diagnostic-Code: smtp; 550 5.1.1 <eve@example.org>: Recipient address rejected

--B0UND
Content-Type: text/rfc822-headers

From: Shop <shop@example.com>
To: eve@example.org
Subject: Hello Eve
Message-ID: <{mid}>

--B0UND--
"""


def test_secret_rotation(c):
    port = free_port()
    base(c, port)
    d = send_offer(c, port)
    old = by_recipient(c, d)["ann@example.org"][1]
    old_open = next(urllib.parse.urlsplit(u).path for u in old if kind_of(u) == "o")
    out, _ = c.run("tracking", "rotate-secret", "--grace", "2d")
    expect("2026-12-03T09:00:00Z" in out, out)
    _, err = c.run("config", "get", "tracking.secret", status=2)
    expect("never printed" in err, err)
    d2 = send_offer(c, port, name="fresh")
    new_open = next(urllib.parse.urlsplit(u).path
                    for u in by_recipient(c, d2)["ann@example.org"][1] if kind_of(u) == "o")
    with Server(c, port, "--no-engine"):
        for path in [old_open, new_open]:
            expect(request(port, "GET", path)[0] == 200, f"{path} works during the grace")
    c.run("clock", "advance", "3d")
    with Server(c, port, "--no-engine"):
        expect(request(port, "GET", old_open)[0] == 404, "the old secret has expired")
        expect(request(port, "GET", new_open)[0] == 200, "the new one works")


def test_seed_001_on_real_hits(c):
    """The seed-001 workflow with `crier serve` running the engine: the offer is sent while
    the server runs, recipients open and click over HTTP, and three days later the split
    follows what they did."""
    workflow_setup(c, profiles=300)
    port = free_port()
    c.run("config", "set", "public_url", f"http://127.0.0.1:{port}")
    sql(c, "UPDATE template SET content = ? WHERE name = 'offer'", (json.dumps({
        "from": "Shop <shop@example.com>", "subject": "Hello {{ profile.first_name }}",
        "html": "<p><a href=\"https://shop.example/offer\">offer</a> "
                "<a href=\"https://shop.example/\">home</a></p>"}),))
    with Server(c, port) as srv:
        run = c.json("workflow", "start", os.path.join(EXAMPLES, "seed-001-cross-channel.json"),
                     "--json")["run"]
        deadline = time.monotonic() + 120
        while True:
            s, a = status(c, run)
            if a["wait3d"]["status"] == "waiting":
                break
            expect(time.monotonic() < deadline, f"the offer was not sent: {a}")
            time.sleep(0.2)
        offer = int(sql(c, "SELECT id FROM delivery WHERE workflow_run_id = ? AND "
                           "activity_id = 'offer'", (run,))[0][0])
        rec = by_recipient(c, offer)
        pid = {a: int(i) for i, a in sql(c, "SELECT id, email FROM profile")}
        people = sorted(rec, key=lambda a: pid[a])
        expect(len(people) > 20, len(people))
        opened = people[::3]
        clicked_offer = opened[::2]
        clicked_home = people[1::7]  # clicked without loading images: an open all the same
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
        for who, kind, n in ([(a, "o", 0) for a in opened] + [(a, "c", 0) for a in clicked_offer]
                             + [(a, "c", 1) for a in clicked_home]):
            urls = [u for u in rec[who][1] if kind_of(u) == kind]
            conn.request("GET", urllib.parse.urlsplit(urls[n]).path,
                         headers={"User-Agent": "Mozilla/5.0 (X11) Firefox/133.0"})
            r = conn.getresponse()
            r.read()
            expect(r.status == (200 if kind == "o" else 302), r.status)
        conn.close()
        hits = len(opened) + len(clicked_offer) + len(clicked_home)
        deadline = time.monotonic() + 30
        while count(c, "delivery_id = ?", (offer,)) < hits:
            expect(time.monotonic() < deadline, "the hits were not written")
            time.sleep(0.1)
        c.run("clock", "advance", "3d")
        deadline = time.monotonic() + 120
        while status(c, run)[0]["status"] != "finished":
            expect(time.monotonic() < deadline, f"the run did not finish: {status(c, run)}")
            time.sleep(0.2)
        srv.stop()
    s, a = status(c, run)
    clicked = set(clicked_offer) | set(clicked_home)
    seen = set(opened) | clicked
    outs = a["behaviour"]["outputs"]
    want = {"no_open": len([p for p in people if p not in seen]),
            "open_no_click": len([p for p in seen if p not in clicked]),
            "clicked": len(clicked_offer)}
    expect(outs == want, (outs, want))
    engaged = ids(sql(c, "SELECT profile_id FROM list_member WHERE list_id = "
                         "(SELECT id FROM list WHERE name = 'engaged-gold')"))
    expect(engaged == sorted(pid[p] for p in clicked_offer), "who clicked the offer")
    k = c.json("delivery", "show", str(offer), "--json")["kpis"]
    expect((k["opens"], k["unique_opens"], k["clicks"], k["unique_clicks"]) ==
           (len(opened), len(seen), len(clicked_offer) + len(clicked_home), len(clicked)), k)


if __name__ == "__main__":
    main([test_links_in_messages, test_opens_clicks_unsubscribe_mirror,
          test_bounces_webhook_and_dsn, test_secret_rotation, test_seed_001_on_real_hits])
