#!/usr/bin/python3
"""check_messages.py - an independent check of crier's email messages and DKIM signatures.

The cases below are the inputs. email_samples (C, crier's cr_mail_build / cr_dkim_sign) turns
them into .eml files; this script parses each with Python's own `email` package
(policy=email.policy.default) and checks that what a mail client would see equals the inputs:
decoded subject, display names and addresses, part types, charsets, transfer encodings and
decoded bodies; that the wire form is sound (CRLF only, 7-bit bytes, line lengths, no parser
defects); and verifies the DKIM signatures with dkimpy (python3-dkim) against a key made for
this run with the openssl command.

Usage: check_messages.py EMAIL_SAMPLES_BINARY WORKDIR
"""
import base64
import email
import email.policy
import email.utils
import json
import os
import re
import shutil
import subprocess
import sys
import datetime

import dkim

SELECTOR = "crier2026"
DOMAIN = "exemple.fr"
DATE = "2026-12-01T09:00:00Z"
DATE_DT = datetime.datetime(2026, 12, 1, 9, 0, 0, tzinfo=datetime.timezone.utc)

LONG_WORD = "x" * 2000
LONG_LINE = " ".join(["word%d" % i for i in range(150)])

CASES = [
    dict(name="ascii_text", from_="News <news@exemple.fr>", to="jean@example.com",
         subject="Your winter offer", text="Hello Jean,\n\nHere is your offer.\n",
         expect=dict(text="7bit"), sign=True),
    dict(name="french_both", from_="Équipe Crier <news@Exemple.FR>",
         to='"Dupont, Jean" <jean.dupont@example.com>', reply_to="Service client <aide@exemple.fr>",
         subject="Votre offre d'hiver : -20 % sur les écharpes, même le dimanche",
         text="Bonjour Jean,\n\nÀ bientôt, et bonne fête de fin d'année !\n",
         html="<p>Bonjour <b>Jean</b>,</p>\n<p>À bientôt, et bonne fête !</p>\n",
         expect=dict(text="quoted-printable", html="quoted-printable"), sign=True),
    dict(name="japanese_utf8", from_="クリエ <news@exemple.fr>", to="山田 太郎 <taro@example.jp>",
         subject="【重要】冬のセールのお知らせ：全商品20％オフ、今週末まで。お見逃しなく！",
         text="山田様\n\nいつもご利用ありがとうございます。冬のセールを開催します。\n",
         html="<p>山田様</p><p>冬のセールを開催します。</p>",
         expect=dict(text="base64", html="base64"), sign=True),
    dict(name="emoji", from_="Crier 🎉 Team <news@exemple.fr>", to="ana@example.com",
         subject="🎁 A gift for you 🎄✨ (and a 👍)", text="Hi Ana 👋\n\nEnjoy 🎉🎉🎉\n",
         sign=True),
    dict(name="long_lines", from_="news@exemple.fr", to="jean@example.com",
         subject=" ".join(["Subject%d" % i for i in range(40)]),
         text="short\n" + LONG_LINE + "\n" + LONG_WORD + "\nend\n",
         html="<p>" + LONG_LINE + "</p><p>" + LONG_WORD + "</p>",
         expect=dict(text="quoted-printable", html="quoted-printable"), sign=True),
    dict(name="long_subject_word", from_="news@exemple.fr", to="jean@example.com",
         subject="Look: " + "A" * 120 + " end", text="x\n"),
    dict(name="html_only", from_="News <news@exemple.fr>", to="jean@example.com",
         subject="HTML only", html="<html><body><p>Only <i>html</i> here.</p></body></html>\n",
         expect=dict(html="7bit"), sign=True),
    dict(name="text_only", from_="News <news@exemple.fr>", to="jean@example.com",
         subject="Text only", text="Only text.\nNo final line break"),
    dict(name="derived_text", from_="News <news@exemple.fr>", to="jean@example.com",
         subject="Derived", derive_text=True,
         html="<html><head><title>x</title><style>p{color:red}</style></head><body>"
              "<p>Bonjour&nbsp;Jean,</p><p>Voir <a href=\"https://exemple.fr/o\">l&#39;offre</a>"
              "</p><script>var a = 1;</script></body></html>",
         derived_contains=["Bonjour Jean,", "Voir l'offre (https://exemple.fr/o)"],
         derived_absent=["color", "var a", "<p>", "&nbsp;"], sign=True),
    dict(name="tricky", from_='"Doe, \\"JD\\" John" <john@exemple.fr>',
         to="<jean@example.com>",
         subject="Prix =?spécial?= et =?utf-8?q?faux?= mots",
         text="From the start\n= sign and trailing space \ttab\t\n.\n..\nline\rwith CR\r\n"
              "--=_crier_ not a boundary\n",
         expect=dict(text="quoted-printable"), sign=True),
    dict(name="headers_unsubscribe", from_="News <news@exemple.fr>", to="jean@example.com",
         subject="Headers", text="x\n",
         headers=[["X-Campaign", "winter-2026"], ["X-Note", "note spéciale — été"],
                  ["X-Mailer-Info", " ".join(["w%d" % i for i in range(60)])]],
         unsubscribe_mailto="unsub@exemple.fr?subject=unsubscribe",
         unsubscribe_url="https://exemple.fr/u/AbC123?d=42",
         message_id="campaign-42.r7@exemple.fr", sign=True),
    dict(name="long_unsubscribe_url", from_="news@exemple.fr", to="jean@example.com",
         subject="Long URL", text="x\n",
         unsubscribe_url="https://exemple.fr/u/" + "a" * 300, sign=True),
    dict(name="idn_to", from_="News <news@bücher.example>", to="Jürgen <juergen@Bücher.DE>",
         subject="IDN", text="x\n", expect_from="news@xn--bcher-kva.example",
         expect_to="juergen@xn--bcher-kva.de", sign=False),
    dict(name="empty_subject", from_="news@exemple.fr", to="jean@example.com", subject="",
         text="x\n", sign=True),
    dict(name="iso2022jp", from_="クリエ 通信 <news@exemple.fr>", to="山田 太郎 <taro@docomo.ne.jp>",
         subject="【重要】冬のセールのお知らせ：全商品２０％オフ、今週末まで。お見逃しなく！",
         text="山田様\n\nいつもご利用ありがとうございます。\n冬のセールを開催します。ABC 123\n",
         html="<p>山田様</p>\n<p>冬のセールを開催します。</p>\n",
         iso2022jp=True, expect=dict(text="7bit", html="7bit"), sign=True),
    dict(name="iso2022jp_long_line", from_="news@exemple.fr", to="taro@ezweb.ne.jp",
         subject="お知らせ", text="あ" * 600 + "\n", iso2022jp=True,
         expect=dict(text="base64"), sign=True),
    dict(name="iso2022jp_ascii_subject", from_="news@exemple.fr", to="taro@au.com",
         subject="Sale", text="セール\n", iso2022jp=True, expect=dict(text="7bit"), sign=True),
    # refusals
    dict(name="inject_subject", from_="news@exemple.fr", to="jean@example.com",
         subject="Hello\r\nBcc: victim@example.com", text="x\n",
         error="subject has a line break"),
    dict(name="inject_to", from_="news@exemple.fr", to="jean@example.com\nBcc: x@example.com",
         subject="Hi", text="x\n", error="to has a line break"),
    dict(name="inject_header", from_="news@exemple.fr", to="jean@example.com", subject="Hi",
         text="x\n", headers=[["X-A", "v\r\nBcc: x@example.com"]],
         error="header 'X-A' has a line break"),
    dict(name="inject_display_name", from_="Evil\n <news@exemple.fr>", to="jean@example.com",
         subject="Hi", text="x\n", error="from has a line break"),
    dict(name="jp_emoji", from_="news@exemple.fr", to="taro@docomo.ne.jp", subject="セール😀",
         text="x\n", iso2022jp=True, error="U+1F600"),
    dict(name="bad_address", from_="news@exemple.fr", to="jean@exa mple.com", subject="Hi",
         text="x\n", error="to: the domain 'exa mple.com' has a space"),
]

failures = []


def fail(case, what):
    failures.append("%s: %s" % (case["name"], what))


def parse_mailbox(s):
    """The display name and address the C side was given (mirrors the documented forms)."""
    s = s.strip()
    if s.endswith(">") and "<" in s:
        name, addr = s.rsplit("<", 1)
        name = name.strip()
        if len(name) >= 2 and name[0] == '"' and name[-1] == '"':
            name = re.sub(r"\\(.)", r"\1", name[1:-1])
        return name, addr[:-1]
    return "", s


def canon_body(s):
    s = s.replace("\r\n", "\n").replace("\r", "\n")
    return s if s.endswith("\n") else s + "\n"


def check_wire(case, raw):
    if any(b >= 0x80 for b in raw):
        fail(case, "8-bit byte on the wire")
    if b"\n" in raw.replace(b"\r\n", b"") or b"\r" in raw.replace(b"\r\n", b""):
        fail(case, "bare CR or LF")
    if not raw.endswith(b"\r\n"):
        fail(case, "does not end with CRLF")
    head, _, body = raw.partition(b"\r\n\r\n")
    for line in head.split(b"\r\n"):
        limit = 998 if case["name"] == "long_unsubscribe_url" else 78
        if len(line) > limit:
            fail(case, "header line of %d octets: %r" % (len(line), line[:60]))
        if line.strip() == b"":
            fail(case, "whitespace-only header line")
    for line in body.split(b"\r\n"):
        if len(line) > 998:
            fail(case, "body line of %d octets" % len(line))


def check_part_lines(case, part, jp):
    cte = part["content-transfer-encoding"]
    cte = str(cte).lower() if cte else "7bit"
    raw = part.get_payload(decode=False)
    limit = {"quoted-printable": 76, "base64": 76}.get(cte, 998 if jp else 78)
    for line in raw.replace("\r\n", "\n").split("\n"):
        if len(line) > limit:
            fail(case, "%s line of %d characters in %s" % (cte, len(line), part.get_content_type()))
    return cte


def check_message(case, raw, txt_record):
    check_wire(case, raw)
    msg = email.message_from_bytes(raw, policy=email.policy.default)
    jp = case.get("iso2022jp", False)
    for part in msg.walk():
        if part.defects:
            fail(case, "parser defects in %s: %r" % (part.get_content_type(), part.defects))
    for h in ("From", "To", "Subject"):
        if msg[h] is None:
            fail(case, "no %s header" % h)
            return
        for d in getattr(msg[h], "defects", ()):
            fail(case, "%s header defect: %r" % (h, d))
    if str(msg["subject"]) != case["subject"].strip():
        fail(case, "subject %r != %r" % (str(msg["subject"]), case["subject"]))
    for field, key, expect_key in (("from", "from_", "expect_from"), ("to", "to", "expect_to"),
                                   ("reply-to", "reply_to", None)):
        if key not in case:
            if msg[field] is not None:
                fail(case, "unexpected %s" % field)
            continue
        name, addr = parse_mailbox(case[key])
        addrs = msg[field].addresses
        if len(addrs) != 1:
            fail(case, "%s has %d addresses" % (field, len(addrs)))
            continue
        if addrs[0].display_name != name:
            fail(case, "%s display name %r != %r" % (field, addrs[0].display_name, name))
        want = case.get(expect_key) if expect_key else None
        want = want or (addr.split("@")[0] + "@" + addr.split("@")[1].lower())
        if addrs[0].addr_spec != want:
            fail(case, "%s address %r != %r" % (field, addrs[0].addr_spec, want))
    if email.utils.parsedate_to_datetime(str(msg["date"])) != DATE_DT:
        fail(case, "date %r" % str(msg["date"]))
    if str(msg["mime-version"]) != "1.0":
        fail(case, "MIME-Version %r" % str(msg["mime-version"]))
    mid = str(msg["message-id"])
    if case.get("message_id"):
        if mid != "<%s>" % case["message_id"]:
            fail(case, "Message-ID %r" % mid)
    else:
        from_domain = (case.get("expect_from") or parse_mailbox(case["from_"])[1]).split("@")[1]
        if not re.fullmatch(r"<[0-9a-f]{32}@%s>" % re.escape(from_domain.lower()), mid):
            fail(case, "generated Message-ID %r" % mid)
    for name, value in case.get("headers", []):
        if str(msg[name]) != value:
            fail(case, "header %s = %r, not %r" % (name, str(msg[name]), value))
    urls = []
    if case.get("unsubscribe_url"):
        urls.append("<%s>" % case["unsubscribe_url"])
    if case.get("unsubscribe_mailto"):
        urls.append("<mailto:%s>" % case["unsubscribe_mailto"])
    lu = msg["list-unsubscribe"]
    if urls and (lu is None or re.sub(r"\s+", "", str(lu)) != ",".join(urls)):
        fail(case, "List-Unsubscribe %r, not %r" % (lu and str(lu), urls))
    lup = msg["list-unsubscribe-post"]
    if case.get("unsubscribe_url"):
        if lup is None or str(lup) != "List-Unsubscribe=One-Click":
            fail(case, "List-Unsubscribe-Post %r" % (lup and str(lup)))
    elif lup is not None or (not urls and lu is not None):
        fail(case, "unexpected List-Unsubscribe header")

    # structure and bodies
    text = case.get("text")
    if case.get("derive_text"):
        text = open(os.path.join(WORKDIR, case["name"] + ".derived.txt"), encoding="utf-8").read()
    want = [("text/plain", text), ("text/html", case.get("html"))]
    want = [(t, b) for t, b in want if b is not None]
    if len(want) == 2:
        if msg.get_content_type() != "multipart/alternative":
            fail(case, "content type %s, not multipart/alternative" % msg.get_content_type())
            return
        parts = list(msg.iter_parts())
        boundary = msg.get_boundary()
        for t, b in want:
            if boundary in b:
                fail(case, "boundary appears in the content")
    else:
        parts = [msg]
    if [p.get_content_type() for p in parts] != [t for t, _ in want]:
        fail(case, "parts %r, not %r" % ([p.get_content_type() for p in parts],
                                         [t for t, _ in want]))
        return
    for part, (ctype, body) in zip(parts, want):
        charset = part.get_content_charset()
        if charset != ("iso-2022-jp" if jp else "utf-8"):
            fail(case, "%s charset %s" % (ctype, charset))
        cte = check_part_lines(case, part, jp)
        key = "text" if ctype == "text/plain" else "html"
        if case.get("expect", {}).get(key) and case["expect"][key] != cte:
            fail(case, "%s transfer encoding %s, not %s" % (ctype, cte, case["expect"][key]))
        got = canon_body(part.get_content())
        if got != canon_body(body):
            fail(case, "%s body differs:\n got %r\nwant %r" % (ctype, got[:200],
                                                              canon_body(body)[:200]))
        if jp and any(ord(c) > 127 for c in body):
            # the octets themselves are ISO-2022-JP: JIS X 0208 in, ASCII out (RFC 1468)
            octets = part.get_payload(decode=True)
            if b"\x1b$B" not in octets:
                fail(case, "%s is not ISO-2022-JP text: %r" % (ctype, octets[:40]))
            for line in octets.split(b"\r\n"):
                esc = line.rfind(b"\x1b")
                if esc >= 0 and line[esc:esc + 3] != b"\x1b(B":
                    fail(case, "%s has a line that does not end in ASCII: %r" % (ctype, line))
    if jp and any(ord(c) > 127 for c in case["subject"]):
        if b"Subject: =?ISO-2022-JP?B?" not in raw:
            fail(case, "subject not in ISO-2022-JP encoded words")
    for s in case.get("derived_contains", []):
        if s not in text:
            fail(case, "derived text lacks %r: %r" % (s, text))
    for s in case.get("derived_absent", []):
        if s in text:
            fail(case, "derived text has %r: %r" % (s, text))

    # DKIM
    if case.get("sign"):
        def dnsfunc(name, timeout=5):
            want_name = ("%s._domainkey.%s." % (SELECTOR, DOMAIN)).encode()
            return txt_record if name in (want_name, want_name[:-1]) else None

        if not raw.startswith(b"DKIM-Signature:"):
            fail(case, "no DKIM-Signature first")
        if not dkim.verify(raw, dnsfunc=dnsfunc):
            fail(case, "DKIM signature does not verify")
        sig = email.message_from_bytes(raw, policy=email.policy.compat32)["DKIM-Signature"]
        tags = dict(t.strip().split("=", 1) for t in re.sub(r"\s+", "", sig).split(";") if t)
        if tags.get("c") != "relaxed/relaxed" or tags.get("a") != "rsa-sha256":
            fail(case, "DKIM tags %r" % tags)
        h = tags.get("h", "").split(":")
        if h[0] != "from" or ("list-unsubscribe" in h) != bool(urls):
            fail(case, "DKIM h= %r" % h)
        # relaxed canonicalisation tolerates white space changes...
        head, _, body = raw.partition(b"\r\n\r\n")
        respaced = (head.replace(b"Subject: ", b"Subject:   \t") + b"\r\n\r\n" +
                    body.replace(b"\r\n", b"  \r\n") + b"\r\n\r\n")
        if not dkim.verify(respaced, dnsfunc=dnsfunc):
            fail(case, "DKIM does not verify after white space changes (relaxed)")
        # ...but not changes of content
        tampered = head + b"\r\n\r\nX" + body
        if dkim.verify(tampered, dnsfunc=dnsfunc):
            fail(case, "DKIM verifies a tampered body")
        tampered = head.replace(b"To: ", b"To: a", 1) + b"\r\n\r\n" + body
        if dkim.verify(tampered, dnsfunc=dnsfunc):
            fail(case, "DKIM verifies a tampered To")


def main():
    global WORKDIR
    if len(sys.argv) != 3:
        print(__doc__)
        return 2
    binary, WORKDIR = sys.argv[1], sys.argv[2]
    shutil.rmtree(WORKDIR, ignore_errors=True)
    os.makedirs(WORKDIR)
    key = os.path.join(WORKDIR, "dkim.pem")
    subprocess.run(["openssl", "genpkey", "-algorithm", "RSA", "-pkeyopt", "rsa_keygen_bits:2048",
                    "-out", key], check=True, capture_output=True)
    der = subprocess.run(["openssl", "pkey", "-in", key, "-pubout", "-outform", "DER"],
                         check=True, capture_output=True).stdout
    txt_record = b"v=DKIM1; k=rsa; p=" + base64.b64encode(der)

    cases_json = []
    for c in CASES:
        j = {k: v for k, v in c.items() if k not in ("from_", "expect", "error", "derived_contains",
                                                  "derived_absent", "expect_from", "expect_to")}
        j["from"] = c["from_"]
        j["date"] = DATE
        cases_json.append(j)
    with open(os.path.join(WORKDIR, "cases.json"), "w", encoding="utf-8") as f:
        json.dump(cases_json, f, ensure_ascii=False)
    subprocess.run([binary, os.path.join(WORKDIR, "cases.json"), WORKDIR, key, SELECTOR, DOMAIN],
                   check=True)

    checked = 0
    for case in CASES:
        eml = os.path.join(WORKDIR, case["name"] + ".eml")
        err = os.path.join(WORKDIR, case["name"] + ".err")
        if "error" in case:
            if not os.path.exists(err):
                fail(case, "built, but should be refused with %r" % case["error"])
            elif case["error"] not in open(err, encoding="utf-8").read():
                fail(case, "refused with %r, not %r" % (open(err, encoding="utf-8").read(),
                                                        case["error"]))
            checked += 1
            continue
        if os.path.exists(err):
            fail(case, "refused: " + open(err, encoding="utf-8").read())
            continue
        with open(eml, "rb") as f:
            check_message(case, f.read(), txt_record)
        checked += 1
    for f in failures:
        print("FAIL", f)
    print("%d cases checked, %d failures" % (checked, len(failures)))
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
