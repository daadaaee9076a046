"""scripts/engage.py PICKUP_DIR [--opens 0.35] [--clicks 0.3] [--seed 2026] [--delivery ID] - the demo's
recipients: reads the messages of a pickup folder and, like a share of real readers, opens them
(loads the pixel) and clicks a link, by real HTTP requests to the tracking links inside. A
fraction of opens come through Apple's privacy proxy (flagged as prefetched by crier).
Python's standard library only. Prints what it did as one line of JSON.
"""
import argparse
import email
import email.policy
import glob
import http.client
import json
import random
import re
import urllib.parse

BROWSERS = [
    "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/605.1.15 (KHTML, like Gecko)",
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64; rv:133.0) Gecko/20100101 Firefox/133.0",
    "Mozilla/5.0 (iPhone; CPU iPhone OS 17_5 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like "
    "Gecko) Mobile/15E148",
    "Mozilla/5.0 (Windows NT 5.1; rv:11.0) Gecko Firefox/11.0 (via ggpht.com GoogleImageProxy)",
]


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("pickup")
    ap.add_argument("--opens", type=float, default=0.35, help="share of recipients who open")
    ap.add_argument("--clicks", type=float, default=0.3, help="share of openers who click")
    ap.add_argument("--seed", type=int, default=2026)
    ap.add_argument("--delivery", type=int, help="only the messages of this delivery "
                    "(pickup files are DELIVERY-LOG.eml)")
    a = ap.parse_args()
    rnd = random.Random(a.seed)
    conns = {}
    done = {"messages": 0, "opens": 0, "clicks": 0, "errors": 0}

    def get(url, ua):
        u = urllib.parse.urlsplit(url)
        key = (u.hostname, u.port)
        for attempt in range(2):  # a kept-alive connection the server closed: once more
            if key not in conns:
                conns[key] = http.client.HTTPConnection(u.hostname, u.port, timeout=10)
            try:
                conns[key].request("GET", u.path, headers={"User-Agent": ua})
                r = conns[key].getresponse()
                r.read()
                return r.status
            except (OSError, http.client.HTTPException):
                conns.pop(key).close()
        return 0

    pattern = f"{a.delivery}-*.eml" if a.delivery else "*.eml"
    for path in sorted(glob.glob(f"{a.pickup}/{pattern}")):
        with open(path, "rb") as f:
            msg = email.message_from_binary_file(f, policy=email.policy.default)
        part = msg.get_body(("html",))
        if part is None:
            continue
        done["messages"] += 1
        urls = re.findall(r'(?:href|src)="(https?://[^"]+)"', part.get_content())
        pixel = [u for u in urls if "/o/" in u]
        links = [u for u in urls if "/c/" in u]
        if rnd.random() >= a.opens:
            continue
        ua = "Mozilla/5.0" if rnd.random() < 0.15 else rnd.choice(BROWSERS)
        for _ in range(1 + (rnd.random() < 0.3)):  # some read it twice
            if pixel:
                ok = get(pixel[0], ua) == 200
                done["opens" if ok else "errors"] += 1
        if links and rnd.random() < a.clicks:
            ok = get(rnd.choice(links), ua) == 302
            done["clicks" if ok else "errors"] += 1
    for c in conns.values():
        c.close()
    print(json.dumps(done))


if __name__ == "__main__":
    main()
