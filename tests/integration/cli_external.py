"""cli_external.py - external deliveries as users drive them (issue 10, seed 000): a routing
account, an extraction template, preparation with the channel's exclusions, preview, a proof
file, then the file generated and exported to a folder (and over SFTP in export/), read back
with Python's csv module; failed exports retried and reported; the seed-000 workflow.
"""
import csv
import gzip
import io
import json
import os
import shutil

import sys

from crier_test import expect, main

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "export"))
import test_export as ssh  # noqa: E402  (a real sshd on 127.0.0.1)

EXAMPLES = os.path.join(os.path.dirname(__file__), "..", "..", "examples")
PEOPLE = ("external_id,phone,first_name,last_name,tier,sms_optout\n"
          "1,+33612345601,Anaïs,Dupont,gold,false\n"
          "2,+33612345602,Bob,\"O'Neil; Jr\",gold,false\n"
          "4,+33612345604,Dan,Roux,,false\n"
          "5,+33612345605,Eve,Moreau,gold,true\n"
          "6,,Fay,Bon,gold,false\n")


def setup(c, template=None):
    c.run("init")
    c.run("clock", "set", "2026-12-01T09:00:00Z")
    c.write("p.csv", PEOPLE)
    c.run("import", "profiles", "p.csv", "--key", "external_id")
    if template:
        c.write("t.json", json.dumps(template))
        c.run("template", "add", "external", "extract", "t.json")
    else:
        c.run("template", "add", "external", "extract",
              os.path.join(EXAMPLES, "templates", "external-sms.json"))
    os.makedirs(c.path("out"), exist_ok=True)
    c.run("config", "set", "external.spool_dir", c.path("spool"))
    c.run("account", "add", "routing", "partner", "--channel", "sms", "--mode", "external",
          "--export", c.path("out"), "--file-name", "sms-{delivery}-{date}.{ext}")


def rows_of(path, sep=";", encoding="utf-8"):
    opener = gzip.open if path.endswith(".gz") else open
    with opener(path, "rb") as f:
        text = f.read().decode(encoding)
    return list(csv.reader(io.StringIO(text, newline=""), delimiter=sep))


def test_folder_export_end_to_end(c):
    setup(c)
    d = c.run("delivery", "create", "--template", "extract", "--account", "partner",
              "--filter", "true", "--label", "Winter SMS")[0].strip()
    c.run("delivery", "prepare", d)
    logs = c.json("delivery", "logs", d, "--json")
    why = sorted((x["address"] or "", x["reason"] or "") for x in logs)
    # the SMS channel's rules: a number, sms_optout
    expect(why == [("", "missing_address"), ("+33612345601", ""), ("+33612345602", ""),
                   ("+33612345604", ""), ("+33612345605", "opted_out")], why)
    out, _ = c.run("delivery", "preview", d, "--rows", "2")
    got = list(csv.reader(io.StringIO(out, newline=""), delimiter=";"))
    expect(got == [["Mobile", "FirstName", "LastName", "Tier", "Campaign", "Date"],
                   ["+33612345601", "Anaïs", "DUPONT", "gold", "Winter SMS", "2026-12-01"],
                   ["+33612345602", "Bob", "O'NEIL; JR", "gold", "Winter SMS", "2026-12-01"]],
           got)
    out, _ = c.run("delivery", "proof", d, "--to", c.path("proof.csv"))
    expect(out.strip() == f"proof file: {c.path('proof.csv')}", out)
    expect(len(rows_of(c.path("proof.csv"))) == 4, "a proof file of the first rows")
    expect(os.listdir(c.path("out")) == [], "a proof is never exported")
    c.run("delivery", "confirm", d)
    c.run("engine", "run", "--until-idle")
    files = os.listdir(c.path("out"))
    expect(files == [f"sms-{d}-20261201.csv"], files)
    with open(c.path("out/" + files[0]), "rb") as f:
        raw = f.read()
    expect(raw.count(b"\r\n") == 4 and raw.count(b"\n") == 4, "CRLF line endings")
    rows = rows_of(c.path("out/" + files[0]))
    expect(rows[1:] == [
        ["+33612345601", "Anaïs", "DUPONT", "gold", "Winter SMS", "2026-12-01"],
        ["+33612345602", "Bob", "O'NEIL; JR", "gold", "Winter SMS", "2026-12-01"],
        ["+33612345604", "Dan", "ROUX", "none", "Winter SMS", "2026-12-01"]], rows)
    show = c.json("delivery", "show", d, "--json")
    expect(show["status"] == "sent" and show["kpis"]["exported"] == 3 and
           show["kpis"]["sent"] == 3 and show["kpis"]["targeted"] == 3, show)
    ex = show["export"]
    expect(ex["status"] == "exported" and ex["rows"] == 3 and ex["attempts"] == 1 and
           ex["name"] == files[0], ex)
    expect(not os.path.exists(ex["file"]), "the spool copy goes once exported")
    sent = [x for x in c.json("delivery", "logs", d, "--json") if x["status"] == "sent"]
    expect(len(sent) == 3, sent)


def test_encodings_gzip_and_fixed_width(c):
    tmpl = {"format": "fixed", "header": False, "encoding": "windows-1252",
            "line_ending": "lf", "gzip": True,
            "columns": [{"label": "Mobile", "value": "recipient.address", "width": 14},
                        {"label": "Name", "value": "upper(first_name)", "width": 10},
                        {"label": "Id", "value": "recipient.id", "width": 4,
                         "align": "right"}]}
    setup(c, tmpl)
    d = c.run("delivery", "create", "--template", "extract", "--account", "partner",
              "--filter", "external_id in ('1', '2')", "--no-confirm")[0].strip()
    c.run("delivery", "prepare", d)
    c.run("engine", "run", "--until-idle")
    files = os.listdir(c.path("out"))
    expect(files == [f"sms-{d}-20261201.txt.gz"], files)
    with gzip.open(c.path("out/" + files[0]), "rb") as f:
        raw = f.read()
    ids = [x["id"] for x in c.json("delivery", "logs", d, "--json")]
    expect(raw == ("+33612345601  ANAÏS     %4d\n+33612345602  BOB       %4d\n" %
                   (ids[0], ids[1])).encode("cp1252"), raw)


def test_a_character_the_encoding_cannot_hold(c):
    tmpl = {"encoding": "iso-8859-1", "columns": [{"label": "Name", "value": "first_name"}]}
    setup(c, tmpl)
    c.write("p2.csv", "external_id,phone,first_name\n1,+33612345601,Anaïs 😀\n")
    c.run("import", "profiles", "p2.csv", "--key", "external_id")
    d = c.run("delivery", "create", "--template", "extract", "--account", "partner",
              "--filter", "external_id = '1'", "--no-confirm")[0].strip()
    c.run("delivery", "prepare", d)
    c.run("engine", "run", "--until-idle")
    show = c.json("delivery", "show", d, "--json")
    expect(show["status"] == "failed" and "U+1F600" in show["error"] and
           "Name" in show["error"], show)
    expect(os.listdir(c.path("out")) == [], "nothing exported")


def test_a_failed_export_is_retried_and_reported(c):
    setup(c)
    d = c.run("delivery", "create", "--template", "extract", "--account", "partner",
              "--filter", "true", "--no-confirm")[0].strip()
    c.run("delivery", "prepare", d)
    shutil.rmtree(c.path("out"))  # the partner's folder is gone
    c.run("engine", "run", "--until-idle")
    show = c.json("delivery", "show", d, "--json")
    ex = show["export"]
    expect(show["status"] == "sending" and ex["status"] == "retrying" and ex["attempts"] == 1
           and ex["error"] and os.path.exists(ex["file"]), show)
    expect(show["kpis"]["exported"] == 0 and show["kpis"]["pending"] == 3, show["kpis"])
    out, _ = c.run("delivery", "show", d)
    expect("file kept at" in out and "last error" in out, out)
    os.makedirs(c.path("out"))
    c.run("engine", "run", "--until-idle")  # not due yet: a minute's back-off
    expect(c.json("delivery", "show", d, "--json")["export"]["attempts"] == 1, "waited")
    c.run("clock", "advance", "2m")
    c.run("engine", "run", "--until-idle")
    show = c.json("delivery", "show", d, "--json")
    expect(show["status"] == "sent" and show["export"]["attempts"] == 2 and
           show["kpis"]["exported"] == 3, show)
    expect(len(os.listdir(c.path("out"))) == 1, os.listdir(c.path("out")))


def test_accounts_and_templates_are_checked(c):
    setup(c)
    for bad, why in [({"columns": []}, "columns"),
                     ({"columns": [{"label": "X", "value": "no_such_column"}]},
                      "columns[0] 'X'"),
                     ({"format": "fixed", "columns": [{"label": "X", "value": "phone"}]},
                      "width"),
                     ({"encoding": "ebcdic", "columns": [{"label": "X", "value": "phone"}]},
                      "encoding")]:
        c.write("bad.json", json.dumps(bad))
        _, err = c.run("template", "add", "external", "bad", "bad.json", status=2)
        expect(why in err, (bad, err))
    _, err = c.run("delivery", "create", "--template", "extract", "--account", "nope",
                   "--filter", "true", status=2)
    c.run("account", "add", "file", "sink", "--dir", c.path("out"))
    _, err = c.run("delivery", "create", "--template", "extract", "--account", "sink",
                   "--filter", "true", status=2)
    expect("needs a routing account" in err, err)
    _, err = c.run("account", "add", "routing", "r2", "--channel", "fax", "--export",
                   c.path("out"), status=2)
    expect("--channel email, sms or push" in err, err)
    _, err = c.run("account", "add", "routing", "r3", "--channel", "sms", "--export",
                   "sftp://u@127.0.0.1/x", status=2)
    expect("--ssh-key" in err, err)
    _, err = c.run("account", "add", "routing", "r4", "--channel", "sms", "--export",
                   c.path("out"), "--file-name", "x-{nope}.csv", status=2)
    expect("unknown placeholder" in err, err)


def test_seed_000_workflow(c):
    setup(c)
    c.run("account", "add", "routing", "sms-partner", "--channel", "sms", "--mode", "external",
          "--export", c.path("out"))
    c.run("template", "add", "external", "external-sms",
          os.path.join(EXAMPLES, "templates", "external-sms.json"))
    run = c.json("workflow", "start", os.path.join(EXAMPLES, "seed-000-external-sms.json"),
                 "--json")["run"]
    c.run("engine", "run", "--until-idle")
    s = c.json("workflow", "status", str(run), "--json")
    acts = {a["id"]: a for a in s["activities"]}
    expect(s["status"] == "finished", s)
    # gold with a phone: Anaïs, Bob, Eve (opted out)
    expect(acts["gold"]["count_out"] == 3 and acts["handoff"]["outputs"] == {"default": 2},
           acts)
    files = os.listdir(c.path("out"))
    expect(len(files) == 1 and files[0].startswith("crier-"), files)
    rows = rows_of(c.path("out/" + files[0]))
    expect([r[0] for r in rows[1:]] == ["+33612345601", "+33612345602"], rows)


def test_seed_000_over_sftp(c):
    """Seed 000 end to end with the SFTP target: a real OpenSSH server on 127.0.0.1, its host
    key pinned at the first export, a changed key refused."""
    if os.geteuid() != 0 or not os.access(ssh.SSHD, os.X_OK):
        print("     (skipped: sshd needs root and /usr/sbin/sshd; scripts/install-deps)")
        return
    setup(c)
    remote = c.path("remote")
    os.makedirs(remote)
    server = ssh.Sshd(c.path(""))
    try:
        keyfile = c.path("id_ed25519")
        ssh.keygen("-t", "ed25519", "-f", keyfile)
        server.authorize(keyfile + ".pub")
        c.run("account", "add", "routing", "sms-partner", "--channel", "sms", "--mode",
              "external", "--export", f"sftp://root@127.0.0.1:{server.port}{remote}",
              "--ssh-key", keyfile, "--file-name", "gold-{delivery}.{ext}")
        c.run("template", "add", "external", "external-sms",
              os.path.join(EXAMPLES, "templates", "external-sms.json"))
        run = c.json("workflow", "start", os.path.join(EXAMPLES, "seed-000-external-sms.json"),
                     "--json")["run"]
        c.run("engine", "run", "--until-idle")
        s = c.json("workflow", "status", str(run), "--json")
        expect(s["status"] == "finished", s)
        files = os.listdir(remote)
        expect(len(files) == 1 and files[0].startswith("gold-"), files)
        rows = rows_of(os.path.join(remote, files[0]))
        expect([r[0] for r in rows[1:]] == ["+33612345601", "+33612345602"], rows)
        acct = [a for a in c.json("account", "list", "--json") if a["name"] == "sms-partner"][0]
        expect(acct["settings"]["host_key_sha256"] == server.fingerprint(), acct)
        # the server's key changes: refused, the delivery fails and says so
        os.unlink(server.host_key)
        os.unlink(server.host_key + ".pub")
        server.stop()
        server = ssh.Sshd(c.path(""))
        server.authorize(keyfile + ".pub")
        c.run("account", "add", "routing", "moved", "--channel", "sms", "--export",
              f"sftp://root@127.0.0.1:{server.port}{remote}", "--ssh-key", keyfile,
              "--host-key-sha256", acct["settings"]["host_key_sha256"])
        d = c.run("delivery", "create", "--template", "external-sms", "--account", "moved",
                  "--filter", "external_id = '1'", "--no-confirm")[0].strip()
        c.run("delivery", "prepare", d)
        c.run("engine", "run", "--until-idle")
        show = c.json("delivery", "show", d, "--json")
        expect(show["status"] == "failed" and "changed" in show["error"] and
               os.path.exists(show["export"]["file"]), show)
        expect(len(os.listdir(remote)) == 1, os.listdir(remote))
    finally:
        server.stop()


if __name__ == "__main__":
    main([test_folder_export_end_to_end, test_encodings_gzip_and_fixed_width,
          test_a_character_the_encoding_cannot_hold, test_a_failed_export_is_retried_and_reported,
          test_accounts_and_templates_are_checked, test_seed_000_workflow,
          test_seed_000_over_sftp])
