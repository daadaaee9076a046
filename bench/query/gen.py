#!/usr/bin/python3
"""gen.py DB [PROFILES] - fills a crier SQLite database (made by `crier init`) for bench/query.

Writes PROFILES profiles (default 1,000,000) straight into the tables with Python's sqlite3
module, in the store's formats (timestamps "YYYY-MM-DD HH:MM:SS" UTC, dates "YYYY-MM-DD",
booleans 0/1): tiers, countries, languages, emails (some at gmail.com, some in capitals),
phones, birth dates, creation times over three years before 2026-03-15 12:00 UTC, opt-outs;
a list 'vip' of 5% of them; a delivery (id 1) sent to 20% with opens and clicks on two links.
Deterministic: the same arguments give the same data.
"""
import datetime
import random
import sqlite3
import sys

NOW = datetime.datetime(2026, 3, 15, 12, 0, 0)
FIRST = ["Marie", "Jean", "Camille", "Louis", "Léa", "Hugo", "Chloé", "Lucas", "Emma", "Noah",
         "Zoé", "Émile", "Anna", "Paul", "Inès", "Jules", "Sarah", "Adam", "Lina", "Tom"]
LAST = ["Martin", "Bernard", "Dubois", "Thomas", "Robert", "Richard", "Petit", "Durand",
        "Leroy", "Moreau", "Simon", "Laurent", "Lefèvre", "Michel", "Garcia", "Müller"]
COUNTRIES = ["FR"] * 40 + ["BE"] * 10 + ["DE"] * 12 + ["ES"] * 10 + ["IT"] * 10 + \
            ["GB"] * 8 + ["US"] * 6 + ["CA"] * 4
TIERS = ["gold"] * 10 + ["silver"] * 20 + ["bronze"] * 30 + [None] * 40
DOMAINS = ["gmail.com"] * 30 + ["example.com"] * 30 + ["yahoo.fr"] * 20 + ["orange.fr"] * 20


def main():
    db = sys.argv[1]
    n = int(sys.argv[2]) if len(sys.argv) > 2 else 1000000
    rnd = random.Random(42)
    con = sqlite3.connect(db)
    con.execute("PRAGMA synchronous=OFF")
    con.execute("PRAGMA journal_mode=WAL")
    rows = []
    t0 = NOW - datetime.timedelta(days=3 * 365)
    for i in range(1, n + 1):
        first, last = rnd.choice(FIRST), rnd.choice(LAST)
        email = None
        if rnd.random() < 0.9:
            email = "%s.%s%d@%s" % (first.lower(), last.lower(), i, rnd.choice(DOMAINS))
            if rnd.random() < 0.05:
                email = email.upper()
        phone = "+336%08d" % i if rnd.random() < 0.6 else None
        birth = None
        if rnd.random() < 0.95:
            birth = (datetime.date(1940, 1, 1) +
                     datetime.timedelta(days=rnd.randrange(70 * 365))).isoformat()
        created = (t0 + datetime.timedelta(seconds=rnd.randrange(3 * 365 * 86400)))
        created = created.strftime("%Y-%m-%d %H:%M:%S")
        country = rnd.choice(COUNTRIES)
        lang = {"FR": "fr", "BE": "fr", "CA": "fr", "DE": "de", "ES": "es", "IT": "it"}.get(
            country, "en")
        rows.append(("ext%d" % i, email, phone, first, last, rnd.choice(TIERS), country, lang,
                     birth, created, created, int(rnd.random() < 0.08),
                     int(rnd.random() < 0.05), int(rnd.random() < 0.1), 1))
        if len(rows) == 50000:
            insert(con, rows)
            rows = []
    if rows:
        insert(con, rows)
    ts = NOW.strftime("%Y-%m-%d %H:%M:%S")
    con.execute("INSERT INTO list (name, created_at, updated_at) VALUES ('vip', ?, ?)", (ts, ts))
    con.executemany("INSERT INTO list_member (list_id, profile_id, added_at) VALUES (1, ?, ?)",
                    ((pid, ts) for pid in sorted(rnd.sample(range(1, n + 1), n // 20))))
    con.execute("INSERT INTO delivery (label, channel, created_at, updated_at) VALUES "
                "('offer', 'email', ?, ?)", (ts, ts))
    con.executemany("INSERT INTO delivery_url (delivery_id, link_id, url, label) VALUES "
                    "(1, ?, ?, ?)", [(1, "https://shop.example.com/offer", "offer"),
                                     (2, "https://shop.example.com/", "home")])
    targeted = sorted(rnd.sample(range(1, n + 1), n // 5))
    logs, tracks = [], []
    for pid in targeted:
        status = rnd.choice(["sent", "delivered", "delivered", "delivered", "failed"])
        logs.append((pid, status, ts, ts))
        if status != "failed" and rnd.random() < 0.3:
            tracks.append((pid, "open", None, ts))
            if rnd.random() < 0.25:
                tracks.append((pid, "click", rnd.choice([1, 2]), ts))
    con.executemany("INSERT INTO delivery_log (delivery_id, profile_id, address, status, "
                    "created_at, updated_at) VALUES (1, ?, 'x', ?, ?, ?)", logs)
    con.executemany("INSERT INTO tracking_log (delivery_id, profile_id, kind, link_id, at) "
                    "VALUES (1, ?, ?, ?, ?)", tracks)
    con.commit()
    con.execute("ANALYZE")
    con.commit()
    con.close()


def insert(con, rows):
    con.executemany(
        "INSERT INTO profile (external_id, email, phone, first_name, last_name, tier, country, "
        "language, birth_date, created_at, updated_at, email_optout, sms_optout, push_optout, "
        "tracking_consent) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)", rows)
    con.commit()


if __name__ == "__main__":
    main()
