"""bounce_mailbox.py - `crier bounce poll` against a real mailbox server: Debian's dovecot,
started by the test on free ports of 127.0.0.1 with its own configuration, serving a Maildir
the test fills the way a local delivery agent does. POP3 then IMAP: bounces are applied and
deleted from the mailbox, a message that is not a bounce stays, --keep keeps everything.

dovecot's master process must start as root (it drops privileges per user); elsewhere the
test is skipped (exit 77, reported as skipped by CTest).
"""
import json
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time

from crier_test import expect, main
from cli_tracking import DSN, base, free_port, send_offer, sql

DOVECOT = "/usr/sbin/dovecot"
NOBODY = 65534

CONF = """protocols = pop3 imap
listen = 127.0.0.1
ssl = no
disable_plaintext_auth = no
auth_mechanisms = plain
base_dir = {d}/run
state_dir = {d}/state
log_path = {d}/dovecot.log
first_valid_uid = 1
mail_location = maildir:{d}/home/%u/Maildir
passdb {{
  driver = passwd-file
  args = scheme=PLAIN username_format=%u {d}/passwd
}}
userdb {{
  driver = static
  args = uid={uid} gid={uid} home={d}/home/%u
}}
service pop3-login {{
  chroot =
  inet_listener pop3 {{
    address = 127.0.0.1
    port = {pop3}
  }}
}}
service imap-login {{
  chroot =
  inet_listener imap {{
    address = 127.0.0.1
    port = {imap}
  }}
  inet_listener imaps {{
    port = 0
  }}
}}
service anvil {{
  chroot =
}}
"""

ARF = """From: Yahoo Feedback Loop <feedback@arf.mail.yahoo.example>
To: fbl@shop.example
Subject: FW: Hello
MIME-Version: 1.0
Content-Type: multipart/report; report-type=feedback-report; boundary="ARF"

--ARF
Content-Type: text/plain

This is an email abuse report.

--ARF
Content-Type: message/feedback-report

Feedback-Type: abuse
User-Agent: YahooFBL/1.0
Version: 1
Original-Rcpt-To: {rcpt}

--ARF
Content-Type: message/rfc822

From: Shop <shop@example.com>
To: {rcpt}
Subject: Hello
Message-ID: <{mid}>

Hello
--ARF--
"""

PERSONAL = "From: Zoe <zoe@example.net>\nSubject: about my order\n\nWhere is my parcel?\n"


class Dovecot:
    def __init__(self, d):
        self.d = d
        self.pop3, self.imap = free_port(), free_port()
        for sub in ["run", "state", "home/bounces/Maildir/new", "home/bounces/Maildir/cur",
                    "home/bounces/Maildir/tmp"]:
            os.makedirs(os.path.join(d, sub), exist_ok=True)
        with open(os.path.join(d, "passwd"), "w") as f:
            f.write("bounces:{PLAIN}letmein-42\n")
        self.conf = os.path.join(d, "dovecot.conf")
        with open(self.conf, "w") as f:
            f.write(CONF.format(d=d, uid=NOBODY, pop3=self.pop3, imap=self.imap))
        os.chmod(d, 0o755)
        for root, dirs, files in os.walk(os.path.join(d, "home")):
            for x in dirs + files:
                os.chown(os.path.join(root, x), NOBODY, NOBODY)
        subprocess.run([DOVECOT, "-c", self.conf], check=True)
        deadline = time.monotonic() + 30
        for port in (self.pop3, self.imap):
            while True:
                try:
                    socket.create_connection(("127.0.0.1", port), timeout=1).close()
                    break
                except OSError:
                    expect(time.monotonic() < deadline, "dovecot did not start: " +
                           open(os.path.join(d, "dovecot.log")).read())
                    time.sleep(0.1)

    def deliver(self, name, text):
        """As a local delivery agent: write into tmp/, then rename into new/."""
        tmp = os.path.join(self.d, "home/bounces/Maildir/tmp", name)
        with open(tmp, "w") as f:
            f.write(text.replace("\n", "\r\n"))
        os.chown(tmp, NOBODY, NOBODY)
        os.rename(tmp, os.path.join(self.d, "home/bounces/Maildir/new", name))

    def messages(self):
        box = os.path.join(self.d, "home/bounces/Maildir")
        return sorted(n.split(":")[0] for sub in ["new", "cur"]
                      for n in os.listdir(os.path.join(box, sub)))

    def stop(self):
        subprocess.run([DOVECOT, "-c", self.conf, "stop"], check=False)


def test_poll_pop3_then_imap(c):
    port = free_port()
    base(c, port)
    d = send_offer(c, port)
    mids = dict(sql(c, "SELECT address, message_id FROM delivery_log WHERE delivery_id = ?",
                    (d,)))
    # its own folder: dovecot's unprivileged processes cannot enter the test's (mode 0700)
    box = Dovecot(tempfile.mkdtemp(prefix="crier-dovecot-"))
    env = {"BOUNCE_PW": "letmein-42"}
    try:
        box.deliver("1.dsn", DSN.format(mid=mids["eve@example.org"]))
        box.deliver("2.arf", ARF.format(rcpt="bob@example.org", mid=mids["bob@example.org"]))
        box.deliver("3.personal", PERSONAL)
        # a wrong password: a clear error, nothing applied, nothing deleted
        _, err = c.run("bounce", "poll", "--url", f"pop3://127.0.0.1:{box.pop3}/", "--user",
                       "bounces", "--password-env", "NOPE", status=2, env={"NOPE": "x"})
        expect("pop3://127.0.0.1" in err, err)
        expect(box.messages() == ["1.dsn", "2.arf", "3.personal"], box.messages())
        # --keep: applied, left in the mailbox
        r = json.loads(c.run("bounce", "poll", "--url", f"pop3://127.0.0.1:{box.pop3}/",
                             "--user", "bounces", "--password-env", "BOUNCE_PW", "--keep",
                             "--json", env=env)[0])
        expect([(x["type"], x["recipient"], x["action"]) for x in r] ==
               [("hard", "eve@example.org", "quarantined"),
                ("complaint", "bob@example.org", "opted_out")], r)
        expect(box.messages() == ["1.dsn", "2.arf", "3.personal"], box.messages())
        # POP3: bounces applied and deleted, the personal message kept
        out, err = c.run("bounce", "poll", "--url", f"pop3://127.0.0.1:{box.pop3}/", "--user",
                         "bounces", "--password-env", "BOUNCE_PW", env=env)
        expect("3 messages read, 1 kept in the mailbox" in out, out)
        expect("not a bounce" in err, err)
        expect(box.messages() == ["3.personal"], box.messages())
        # IMAP: a soft bounce for Cy, then the mailbox holds only the personal message again
        soft = DSN.format(mid=mids["cy@example.org"]).replace("eve@", "cy@").replace(
            "Status: 5.1.1", "Status: 4.2.2").replace("550 5.1.1", "452 4.2.2")
        box.deliver("4.soft", soft)
        out, _ = c.run("bounce", "poll", "--url", f"imap://127.0.0.1:{box.imap}/INBOX",
                       "--user", "bounces", "--password-env", "BOUNCE_PW", env=env)
        expect("soft cy@example.org 4.2.2 -> soft_error" in out, out)
        expect("2 messages read, 1 kept" in out, out)
        expect(box.messages() == ["3.personal"], box.messages())
    finally:
        box.stop()
        shutil.rmtree(box.d, ignore_errors=True)
    k = c.json("delivery", "show", str(d), "--json")["kpis"]
    expect((k["failed_hard"], k["failed_soft"], k["complaints"]) == (1, 1, 2), k)
    q = dict(sql(c, "SELECT address, status FROM quarantine"))
    expect(q == {"eve@example.org": "quarantined", "cy@example.org": "to_retry"}, q)


if __name__ == "__main__":
    if os.geteuid() != 0 or not os.access(DOVECOT, os.X_OK):
        print("skipped: dovecot must be installed (scripts/install-deps) and started as root")
        sys.exit(77)
    main([test_poll_pop3_then_imap])
