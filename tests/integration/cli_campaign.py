"""cli_campaign.py - `crier campaign add|list|show|close`, on one backend.

Every command and its --json shape; errors exit 2; the status follows the virtual clock
(planned -> running -> finished) and closing wins; show lists the workflows and deliveries
whose campaign_id points at the campaign (rows inserted here with SQL, as the workflow and
delivery commands are not this test's subject).
"""
import re
import sqlite3
import subprocess

from crier_test import expect, main

FIELDS = ["id", "name", "label", "status", "start", "end"]


def sql(c, statement):
    """Runs one SQL statement on the test database, outside crier."""
    if c.backend == "sqlite":
        db = sqlite3.connect(c.url)
        db.execute(statement)
        db.commit()
        db.close()
    else:
        subprocess.run(["psql", "-q", "-v", "ON_ERROR_STOP=1", c.url, "-c", statement],
                       check=True, capture_output=True)


def test_add_and_list_json(c):
    c.run("init")
    c.run("clock", "set", "2026-11-01T00:00:00Z")
    r = c.json("campaign", "add", "winter-2026", "--label", "Winter sale",
               "--start", "2026-12-01T09:00:00Z", "--end", "2027-01-31", "--json")
    expect(r == {"id": 1}, r)
    out, _ = c.run("campaign", "add", "spring")
    expect(out == "2\n", out)
    # options anywhere, --opt=value form, an offset converted to UTC
    out, _ = c.run("campaign", "add", "--start=2026-10-01T10:00:00+02:00", "autumn",
                   "--end", "2026-10-31")
    expect(out == "3\n", out)
    lst = c.json("campaign", "list", "--json")
    expect([list(x) for x in lst] == [FIELDS] * 3, lst)
    expect(lst[0] == {"id": 1, "name": "winter-2026", "label": "Winter sale",
                      "status": "planned", "start": "2026-12-01T09:00:00Z",
                      "end": "2027-01-31T00:00:00Z"}, lst[0])
    expect(lst[1] == {"id": 2, "name": "spring", "label": None, "status": "running",
                      "start": None, "end": None}, lst[1])
    expect(lst[2]["start"] == "2026-10-01T08:00:00Z" and lst[2]["status"] == "finished",
           lst[2])
    # the human table
    out, _ = c.run("campaign", "list")
    lines = out.splitlines()
    expect(lines[0].split() == ["ID", "NAME", "STATUS", "START", "END", "LABEL"], out)
    expect(lines[1].split() == ["1", "winter-2026", "planned", "2026-12-01T09:00:00Z",
                                "2027-01-31T00:00:00Z", "Winter", "sale"], out)
    expect(lines[2].split() == ["2", "spring", "running", "-", "-"], out)


def test_empty_list(c):
    c.run("init")
    expect(c.json("campaign", "list", "--json") == [], "empty list")
    out, _ = c.run("campaign", "list")
    expect(out == "no campaigns\n", out)


def test_status_follows_virtual_clock(c):
    c.run("init")
    c.run("clock", "set", "2026-11-30T09:00:00Z")
    c.run("campaign", "add", "xmas", "--start", "2026-12-01T09:00:00Z",
          "--end", "2026-12-08T09:00:00Z")

    def status():
        return c.json("campaign", "show", "xmas", "--json")["status"]

    expect(status() == "planned", status())
    c.run("clock", "advance", "23h59m")
    expect(status() == "planned", status())
    c.run("clock", "advance", "1m")  # the start instant itself: running
    expect(status() == "running", status())
    expect(c.json("campaign", "list", "--json")[0]["status"] == "running", "list agrees")
    c.run("clock", "advance", "6d")
    expect(status() == "running", status())
    c.run("clock", "advance", "1d")  # the end instant: finished
    expect(status() == "finished", status())
    out, _ = c.run("campaign", "show", "xmas")
    expect(re.search(r"^status\s+finished$", out, re.M), out)
    # the status is computed, never stored: setting the clock back makes it planned again
    c.run("clock", "set", "2026-11-01T00:00:00Z")
    expect(status() == "planned", status())


def test_close(c):
    c.run("init")
    c.run("clock", "set", "2026-12-02T00:00:00Z")
    c.run("campaign", "add", "xmas", "--start", "2026-12-01", "--end", "2026-12-31")
    c.run("campaign", "add", "other")
    out, _ = c.run("campaign", "close", "xmas")
    expect(out == "campaign 'xmas' closed\n", out)
    expect(c.json("campaign", "show", "xmas", "--json")["status"] == "closed", "closed")
    c.run("clock", "advance", "60d")
    expect(c.json("campaign", "show", "1", "--json")["status"] == "closed", "still closed")
    out, _ = c.run("campaign", "close", "1")
    expect(out == "campaign 'xmas' was already closed\n", out)
    # by id
    out, _ = c.run("campaign", "close", "2")
    expect(out == "campaign 'other' closed\n", out)
    expect([x["status"] for x in c.json("campaign", "list", "--json")] == ["closed", "closed"],
           "both closed")
    _, err = c.run("campaign", "close", "nope", status=2)
    expect(err == "crier: no campaign named 'nope'\n", err)


def test_show_members(c):
    c.run("init")
    c.run("clock", "set", "2026-12-02T00:00:00Z")
    c.run("campaign", "add", "winter", "--label", "Winter \u2744")
    c.run("campaign", "add", "summer")
    empty = c.json("campaign", "show", "summer", "--json")
    expect(list(empty) == FIELDS + ["workflows", "deliveries"], empty)
    expect(empty["workflows"] == [] and empty["deliveries"] == [], empty)
    out, _ = c.run("campaign", "show", "summer")
    expect("workflows\n  (none)\ndeliveries\n  (none)\n" in out, out)

    ts = "'2026-12-01 00:00:00'"
    sql(c, "INSERT INTO workflow (name, campaign_id, definition, status, created_at, "
           f"updated_at) VALUES ('gold-offer', 1, '{{}}', 'running', {ts}, {ts}), "
           f"('beach', 2, '{{}}', 'draft', {ts}, {ts}), ('nobody', NULL, '{{}}', 'draft', {ts}, {ts})")
    sql(c, "INSERT INTO delivery (label, channel, campaign_id, status, parent_id, created_at, "
           f"updated_at) VALUES ('Offer', 'email', 1, 'sent', NULL, {ts}, {ts}), "
           f"('Beach', 'sms', 2, 'draft', NULL, {ts}, {ts}), "
           f"('Offer 2026-12-02', 'email', 1, 'sent', 1, {ts}, {ts}), "
           f"(NULL, 'push', 1, 'ready', NULL, {ts}, {ts})")

    r = c.json("campaign", "show", "winter", "--json")
    expect(r == {"id": 1, "name": "winter", "label": "Winter \u2744", "status": "running",
                 "start": None, "end": None,
                 "workflows": [{"id": 1, "name": "gold-offer", "status": "running"}],
                 "deliveries": [{"id": 1, "label": "Offer", "channel": "email", "status": "sent"},
                                {"id": 4, "label": None, "channel": "push", "status": "ready"}]},
           r)
    # by id, the same campaign
    expect(c.json("campaign", "show", "1", "--json") == r, "show by id")
    r = c.json("campaign", "show", "summer", "--json")
    expect(r["workflows"] == [{"id": 2, "name": "beach", "status": "draft"}], r)
    expect(r["deliveries"] == [{"id": 2, "label": "Beach", "channel": "sms", "status": "draft"}],
           r)

    out, _ = c.run("campaign", "show", "winter")
    expect(re.search(r"^name\s+winter$", out, re.M), out)
    expect(re.search(r"^label\s+Winter \u2744$", out, re.M), out)
    expect(re.search(r"^start\s+-$", out, re.M), out)
    expect(re.search(r"^created\s+2026-12-02T00:00:00Z$", out, re.M), out)
    wf = out.split("workflows\n")[1].split("deliveries\n")
    expect(wf[0].split() == ["1", "running", "gold-offer"], out)
    expect(wf[1].split() == ["1", "email", "sent", "Offer", "4", "push", "ready"], out)


def test_errors(c):
    c.run("init")
    c.run("campaign", "add", "winter")
    _, err = c.run("campaign", "add", "winter", status=2)
    expect(err == "crier: a campaign named 'winter' already exists\n", err)
    _, err = c.run("campaign", "add", "winter sale", status=2)
    expect("invalid campaign name 'winter sale'" in err, err)
    _, err = c.run("campaign", "add", "2026", status=2)
    expect("not only digits" in err, err)
    _, err = c.run("campaign", "add", "", status=2)
    expect("cannot be empty" in err, err)
    _, err = c.run("campaign", "add", "x" * 101, status=2)
    expect("too long" in err, err)
    _, err = c.run("campaign", "add", "back", "--start", "2026-12-31", "--end", "2026-12-01",
                   status=2)
    expect("campaign end 2026-12-01T00:00:00Z is not after its start 2026-12-31T00:00:00Z"
           in err, err)
    _, err = c.run("campaign", "add", "bad", "--start", "tomorrow", status=2)
    expect("bad --start 'tomorrow'" in err, err)
    _, err = c.run("campaign", "add", "bad", "--end", "2026-02-30", status=2)
    expect("bad --end '2026-02-30'" in err, err)
    _, err = c.run("campaign", "add", "bad", "--label", status=2)
    expect("option --label needs a value" in err, err)
    _, err = c.run("campaign", "add", "bad", "--colour", "red", status=2)
    expect("unknown option '--colour'" in err, err)
    _, err = c.run("campaign", "add", status=2)
    expect("usage: crier campaign add NAME" in err, err)
    _, err = c.run("campaign", "show", "x", status=2)
    expect(err == "crier: no campaign named 'x'\n", err)
    _, err = c.run("campaign", "show", "42", "--json", status=2)
    expect(err == "crier: no campaign with id 42\n", err)
    _, err = c.run("campaign", "show", status=2)
    expect("usage: crier campaign show" in err, err)
    _, err = c.run("campaign", "frob", status=2)
    expect("unknown campaign command 'frob'" in err, err)
    _, err = c.run("campaign", status=2)
    expect("usage: crier campaign add" in err, err)
    # nothing was added by the failures
    expect([x["name"] for x in c.json("campaign", "list", "--json")] == ["winter"], "one")
    # the command is listed in the help
    out, _ = c.run("help")
    expect(re.search(r"^\s+campaign\s+add, list, show and close campaigns$", out, re.M), out)


if __name__ == "__main__":
    main([test_add_and_list_json, test_empty_list, test_status_follows_virtual_clock,
          test_close, test_show_members, test_errors])
