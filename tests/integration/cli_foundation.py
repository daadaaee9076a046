"""cli_foundation.py - the foundation's command-line contracts, on one backend.

init (idempotent), import profiles/subscriptions/list with --json and the human summary,
exit statuses, profiles count/show/export, schema add-column, clock shared across
invocations, address check, config.
"""
import csv
import io
import re
import sys

from crier_test import expect, main

PROFILES = (
    "email,first_name,last_name,phone,tier,country,birth_date\n"
    "alice@Example.com,Alice,Martin,06 12 34 56 78,gold,FR,1990-04-01\n"
    "bob@example.com,Bob,Durand,+33612345679,silver,FR,1985-13-01\n"
    "carol@example.com,Carol,Petit,0470 12 34 56,gold,BE,\n"
    ",Nobody,,,,,\n"
)


def test_init_idempotent(c):
    out, _ = c.run("init")
    expect("initialised" in out and "at schema version" in out, out)
    out, _ = c.run("init")
    expect("up to date" in out, out)
    # Other commands refuse an uninitialised database with a hint.
    c2_url = c.path("other.db") if c.backend == "sqlite" else None
    if c2_url:
        import subprocess
        p = subprocess.run([c.binary, "--db", c2_url, "profiles", "count"],
                           capture_output=True, text=True)
        expect(p.returncode == 2 and "crier init" in p.stderr, p.stderr)


def test_import_json_contract(c):
    c.run("init")
    f = c.write("p.csv", PROFILES)
    r = c.json("import", "profiles", f, "--default-country", "FR", "--json")
    expect(set(r) == {"read", "inserted", "updated", "rejected"}, r)
    expect(r["read"] == 4 and r["inserted"] == 2 and r["updated"] == 0, r)
    expect([x["line"] for x in r["rejected"]] == [3, 5], r)
    expect("bad date '1985-13-01'" in r["rejected"][0]["reason"], r)
    expect(r["rejected"][1]["reason"] == "empty key 'email'", r)
    # again: updates, same rejections
    r = c.json("import", "profiles", f, "--json")
    expect(r["inserted"] == 0 and r["updated"] == 2 and len(r["rejected"]) == 2, r)
    # human summary, rejections on stderr with file:line
    out, err = c.run("import", "profiles", f)
    expect("read 4 rows: 0 inserted, 2 updated, 2 rejected" in out, out)
    expect(re.search(r"p\.csv:3: rejected: column 'birth_date'", err), err)
    out, _ = c.run("profiles", "count")
    expect(out.strip() == "2", out)


def test_import_file_errors_exit_2(c):
    c.run("init")
    _, err = c.run("import", "profiles", c.path("missing.csv"), status=2)
    expect("cannot open" in err, err)
    f = c.write("bad.csv", "email,nickname\nx@y.z,zz\n")
    _, err = c.run("import", "profiles", f, "--json", status=2)
    expect("unknown column 'nickname'" in err and "columns:" in err, err)
    f = c.write("nokey.csv", "first_name\nBob\n")
    _, err = c.run("import", "profiles", f, status=2)
    expect("no 'email' column" in err, err)
    _, err = c.run("import", "profiles", f, "--key", "phone_number", status=2)
    expect("unknown key" in err, err)
    _, err = c.run("import", "profiles", f, "--default-country", "XX", status=2)
    expect("not a country" in err, err)
    out, _ = c.run("profiles", "count")
    expect(out.strip() == "0", out)


def test_show_export_round_trip(c):
    c.run("init")
    c.run("import", "profiles", c.write("p.csv", PROFILES))
    p = c.json("profiles", "show", "1", "--json")
    expect(p["email"] == "alice@example.com" and p["phone"] == "+33612345678", p)
    expect(p["birth_date"] == "1990-04-01" and p["email_optout"] is False, p)
    expect(p["tracking_consent"] is True and p["subscriptions"] == [] and p["lists"] == [], p)
    out, _ = c.run("profiles", "show", "1")
    expect(re.search(r"^email\s+alice@example.com$", out, re.M), out)
    _, err = c.run("profiles", "show", "42", status=2)
    expect("no profile with id 42" in err, err)
    out, _ = c.run("profiles", "export", c.path("out.csv"))
    expect("exported 2 profiles" in out, out)
    rows = list(csv.DictReader(open(c.path("out.csv"), newline="")))
    expect([r["email"] for r in rows] == ["alice@example.com", "carol@example.com"], rows)
    expect(rows[1]["phone"] == "+32470123456", rows)
    # the export imports back: nothing changes but updated_at
    r = c.json("import", "profiles", c.path("out.csv"), "--json")
    expect(r["updated"] == 2 and r["rejected"] == [], r)
    out, _ = c.run("profiles", "export", "-")
    expect(out.startswith("id,external_id,email,phone,"), out[:80])


def test_custom_column(c):
    c.run("init")
    out, _ = c.run("schema", "add-column", "profile", "loyalty_points", "integer")
    expect("added" in out, out)
    _, err = c.run("schema", "add-column", "profile", "loyalty_points", "integer", status=2)
    expect("already has a column" in err, err)
    _, err = c.run("schema", "add-column", "profile", "Bad Name", "text", status=2)
    expect("column name" in err, err)
    _, err = c.run("schema", "add-column", "profile", "x", "money", status=2)
    expect("unknown column type 'money'" in err, err)
    f = c.write("p.csv", "email,loyalty_points\na@x.org,10\nb@x.org,ten\n")
    r = c.json("import", "profiles", f, "--json")
    expect(r["inserted"] == 1 and "bad integer 'ten'" in r["rejected"][0]["reason"], r)
    p = c.json("profiles", "show", "1", "--json")
    expect(p["loyalty_points"] == 10, p)
    cols = c.json("schema", "columns", "--json")
    expect({"name": "loyalty_points", "type": "integer", "builtin": False} in cols, cols)


def test_subscriptions_and_list(c):
    c.run("init")
    c.run("import", "profiles", c.write("p.csv", PROFILES))
    f = c.write("s.csv", "email,app,platform,token\nalice@example.com,shop,ios,t1\n"
                         "carol@example.com,shop,android,t2\nzed@x.org,shop,ios,t3\n")
    r = c.json("import", "subscriptions", f, "--json")
    expect(r["inserted"] == 2 and r["rejected"][0]["line"] == 4, r)
    p = c.json("profiles", "show", "1", "--json")
    expect(p["subscriptions"][0]["platform"] == "ios" and p["subscriptions"][0]["active"], p)
    f = c.write("l.csv", "phone\n+32470123456\n06 12 34 56 78\n")
    r = c.json("import", "list", "vip", f, "--key", "phone", "--default-country", "FR", "--json")
    expect(r["inserted"] == 2 and r["rejected"] == [], r)
    for pid in ("1", "2"):
        p = c.json("profiles", "show", pid, "--json")
        expect(p["lists"] == ["vip"], p)


def test_clock_shared(c):
    c.run("init")
    out, _ = c.run("clock", "show")
    expect(out.strip().endswith("(real)"), out)
    out, _ = c.run("clock", "set", "2026-12-01T09:00:00Z")
    expect(out.strip() == "2026-12-01T09:00:00Z (virtual)", out)
    out, _ = c.run("clock", "advance", "3d")
    expect(out.strip() == "2026-12-04T09:00:00Z (virtual)", out)
    # another invocation sees it, and new profiles are stamped with it
    out, _ = c.run("clock", "show")
    expect(out.strip() == "2026-12-04T09:00:00Z (virtual)", out)
    c.run("import", "profiles", c.write("p.csv", "email\nz@x.org\n"))
    p = c.json("profiles", "show", "1", "--json")
    expect(p["created_at"] == "2026-12-04 09:00:00", p)
    _, err = c.run("clock", "advance", "1 month", status=2)
    expect("months and years vary" in err, err)
    _, err = c.run("clock", "set", "2026-13-01", status=2)
    expect("bad timestamp" in err, err)
    out, _ = c.run("clock", "real")
    expect(out.strip().endswith("(real)"), out)


def test_address_check(c):
    out, _ = c.run("address", "check", "--channel", "sms", "06 12 34 56 78",
                   "--default-country", "fr")
    expect(out.strip() == "+33612345678", out)
    out, _ = c.run("address", "check", "--channel", "sms", "+44 7911 123456", "--json")
    expect('"e164":"+447911123456"' in out and '"type":"mobile"' in out, out)
    _, err = c.run("address", "check", "--channel", "sms", "12", "--default-country", "FR",
                   status=1)
    expect("too short" in err, err)
    _, err = c.run("address", "check", "--channel", "sms", "06 12 34 56 78", status=1)
    expect("country calling code" in err, err)
    _, err = c.run("address", "check", "+33612345678", status=2)
    expect("--channel" in err, err)


def test_config_and_secrets(c):
    c.run("init")
    c.run("config", "set", "public_url", "https://t.example.com")
    out, _ = c.run("config", "get", "public_url")
    expect(out.strip() == "https://t.example.com", out)
    _, err = c.run("config", "get", "tracking.secret", status=2)
    expect("never printed" in err, err)
    c.run("config", "get", "nothing.here", status=1)


def test_usage_errors(c):
    _, err = c.run("frobnicate", status=2)
    expect("unknown command 'frobnicate'" in err, err)
    _, err = c.run("import", "profiles", status=2)
    expect("usage:" in err, err)
    _, err = c.run("init", "--bogus", status=2)
    expect("unknown option '--bogus'" in err, err)
    out, _ = c.run("version")
    expect(out.startswith("crier "), out)


if __name__ == "__main__":
    main([test_init_idempotent, test_import_json_contract, test_import_file_errors_exit_2,
          test_show_export_round_trip, test_custom_column, test_subscriptions_and_list,
          test_clock_shared, test_address_check, test_config_and_secrets, test_usage_errors])
