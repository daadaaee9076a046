"""test_smsc.py - the SMPP transport (src/channel/sms/smpp*.c) against an SMSC simulator.

Usage: test_smsc.py SMSC_DRIVER WORKDIR. Installs the simulator's npm package with `npm ci`
when node_modules is missing, starts smsc.js (node-smpp as a server) on 127.0.0.1 for each
test, has smsc_driver send through it, and checks both sides: outcomes, message ids and
receipts on the client; the exact submit_sm bytes (addresses, data_coding, esm_class, UDH,
septets or UTF-16), throttled and dropped submits, binds and unbinds on the SMSC. Every
simulator is stopped when its test ends, pass or fail. The one timing assertion is a lower
bound (the rate limit cannot make sending faster).
"""
import json
import os
import subprocess
import sys
import traceback

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
from smsc_peer import Smsc as _Smsc, free_port, npm_ready  # noqa: E402


def Smsc(name, *opts):
    """A simulator logging into this run's WORK folder."""
    return _Smsc(WORK, name, *opts)


DRIVER = WORK = None

# GSM 03.38 codes that differ from ASCII, for the characters these tests use.
GSM_BASIC = {"@": 0x00, "$": 0x02, "_": 0x11}
GSM_EXT = {"{": 0x28, "}": 0x29, "€": 0x65, "[": 0x3C, "]": 0x3E, "~": 0x3D, "\\": 0x2F}


def expect(cond, what):
    if not cond:
        raise AssertionError(what)


def gsm7(text):
    """Unpacked septets, one per octet, as SMPP's short_message carries them."""
    out = bytearray()
    for ch in text:
        if ch in GSM_EXT:
            out += bytes([0x1B, GSM_EXT[ch]])
        elif ch in GSM_BASIC:
            out.append(GSM_BASIC[ch])
        else:
            expect(ch.isascii() and ch.isalnum() or ch in " .,!?:;'()-+/", f"test text: {ch!r}")
            out.append(ord(ch))
    return bytes(out)


def config(smsc, **kw):
    c = {"host": "127.0.0.1", "port": smsc.port, "system_id": "crier", "password": "secret",
         "source_addr": "Crier", "source_ton": 5, "source_npi": 0, "transceiver": 1,
         "window": 4, "timeout_secs": 10}
    c.update(kw)
    return c


def run(name, cfg, messages, **extra):
    """Runs smsc_driver; returns (results by id, receipts, the send line, all lines)."""
    spec = os.path.join(WORK, name + ".json")
    with open(spec, "w") as f:
        json.dump({"config": cfg, "messages": messages, **extra}, f)
    p = subprocess.run([DRIVER, spec], capture_output=True, text=True, timeout=120)
    expect(p.returncode == 0, f"smsc_driver exit {p.returncode}\nstderr: {p.stderr}")
    lines = [json.loads(line) for line in p.stdout.splitlines()]
    results, receipts, send = {}, [], None
    for line in lines:
        if "result" in line:
            r = line["result"]
            expect(r["id"] not in results, f"message {r['id']} reported twice")
            results[r["id"]] = r
        elif "receipt" in line:
            receipts.append(line["receipt"])
        elif "send" in line:
            send = line["send"]
    expect(lines and "free" in lines[-1], f"driver did not finish: {p.stdout}\n{p.stderr}")
    return results, receipts, send, lines


def acked_once(submits, messages):
    """Each part of each message was acknowledged ESME_ROK exactly once; returns the records
    of the acknowledged parts by destination, in part order."""
    by_dest = {}
    for r in submits:
        if r["status"] == 0:
            by_dest.setdefault(r["destination"], []).append(r)
    out = {}
    for m in messages:
        dest = m["to"][1:]
        recs = by_dest.get(dest, [])
        keys = [r["short_message"] for r in recs]
        expect(len(keys) == len(set(keys)),
               f"message {m['id']}: a part acknowledged twice: {recs}")
        if recs and recs[0]["esm_class"] & 0x40:  # order parts by the UDH sequence octet
            recs.sort(key=lambda r: bytes.fromhex(r["short_message"])[5])
        out[m["id"]] = recs
    return out


def udh_parts(recs):
    """(ref, total, seq, text bytes) of each concatenated part."""
    out = []
    for r in recs:
        b = bytes.fromhex(r["short_message"])
        expect(b[:3] == bytes([5, 0, 3]), f"UDH {b[:6].hex()}")
        out.append((b[3], b[4], b[5], b[6:]))
    return out


# ------------------------------------------------------------------------------------ tests

def test_bytes_encodings_and_receipts():
    """GSM-7, UCS-2 and 3-part messages byte for byte; ids; a receipt for every part."""
    long_text = ("Part of a long campaign message. " * 10)[:153 * 2 + 20]
    messages = [
        {"id": 1, "to": "+4915100000001", "text": "Hello @ {world} for 5€ $ _ok_"},
        {"id": 2, "to": "+4915100000002", "text": "Привет, мир 👋"},
        {"id": 3, "to": "+4915100000003", "text": long_text},
        {"id": 4, "to": "+4915100000004", "from": "+4930123456", "text": "from a number"},
        {"id": 5, "to": "+4915100000005", "text": "Ж" * 140},  # UCS-2, 3 parts of <= 67 units
    ]
    with Smsc("bytes") as smsc:
        results, receipts, send, _ = run("bytes", config(smsc), messages, receipts=1 + 1 + 3 + 1 + 3)
        expect(send["rc"] == 0, send)
        subs = smsc.submits()
        acked = acked_once(subs, messages)
        expect(len(subs) == 9, f"{len(subs)} submit_sm for 9 parts: {subs}")
        for m in messages:
            r = results.get(m["id"])
            expect(r and r["outcome"] == "sent" and r["status"] == 0, f"{m['id']}: {r}")
            ids = [x["message_id"] for x in acked[m["id"]]]
            expect(r["part_ids"] == ids and r["message_id"] == ids[0],
                   f"message {m['id']}: ids {r['part_ids']} != SMSC's {ids}")
        one = acked[1][0]
        expect(one["data_coding"] == 0 and one["esm_class"] == 0, one)
        expect(bytes.fromhex(one["short_message"]) == gsm7(messages[0]["text"]),
               f"GSM-7 bytes {one['short_message']}")
        expect((one["source"], one["source_ton"], one["source_npi"]) == ("Crier", 5, 0), one)
        expect((one["destination"], one["dest_ton"], one["dest_npi"]) == ("4915100000001", 1, 1),
               one)
        expect(one["registered_delivery"] == 1, "receipts requested with a handler set")
        two = acked[2][0]
        expect(two["data_coding"] == 8 and
               bytes.fromhex(two["short_message"]) == messages[1]["text"].encode("utf-16-be"),
               f"UCS-2 bytes {two}")
        three = udh_parts(acked[3])
        expect(len(three) == 3 and all(r["esm_class"] == 0x40 and r["data_coding"] == 0
                                       for r in acked[3]), acked[3])
        expect(len({p[0] for p in three}) == 1 and [p[1:3] for p in three] ==
               [(3, 1), (3, 2), (3, 3)], f"UDH {three}")
        expect([len(p[3]) for p in three] == [153, 153, 20], [len(p[3]) for p in three])
        expect(b"".join(p[3] for p in three) == gsm7(long_text), "3-part text altered")
        four = acked[4][0]
        expect((four["source"], four["source_ton"], four["source_npi"]) == ("4930123456", 1, 1),
               four)
        five = udh_parts(acked[5])
        expect(all(r["data_coding"] == 8 and r["esm_class"] == 0x40 for r in acked[5]), acked[5])
        expect(len(five) == 3 and five[0][0] != three[0][0], f"UCS-2 UDH {five}")
        expect(b"".join(p[3] for p in five) == messages[4]["text"].encode("utf-16-be"),
               "UCS-2 3-part text altered")
        all_ids = sorted(i for r in results.values() for i in r["part_ids"])
        got = sorted(x["message_id"] for x in receipts)
        expect(got == all_ids, f"receipts for {got}, parts {all_ids}")
        expect(all(x["state"] == "DELIVERED" and x["err"] == "000" for x in receipts), receipts)
        binds = smsc.events("bind_transceiver")
        expect(len(binds) == 1 and binds[0]["ok"], binds)
        expect(len(smsc.events("unbind")) == 1, "cr_smpp_free() sends unbind")


def test_throttle_and_drop():
    """Throttled submits retried, a dropped connection reopened, every part acked once."""
    messages = [{"id": i, "to": f"+4917000000{i:03d}", "text": f"message number {i}"}
                for i in range(1, 21)]
    messages[4]["text"] = "x" * 200  # two parts
    with Smsc("throttle", "--throttle-every", 4, "--drop-after", 9) as smsc:
        results, receipts, send, _ = run("throttle", config(smsc, window=5), messages)
        expect(send["rc"] == 0, send)
        expect(sorted(results) == list(range(1, 21)), f"outcomes for {sorted(results)}")
        bad = [r for r in results.values() if r["outcome"] != "sent"]
        expect(not bad, f"not sent: {bad}")
        subs = smsc.submits()
        acked = acked_once(subs, messages)
        for m in messages:
            n = 2 if m["id"] == 5 else 1
            expect(len(acked[m["id"]]) == n, f"message {m['id']}: {acked[m['id']]}")
            expect(results[m["id"]]["part_ids"] == [r["message_id"] for r in acked[m["id"]]],
                   f"message {m['id']}: ids")
        throttled = [r for r in subs if r["status"] == 88]
        expect(len(throttled) >= 3, f"{len(throttled)} throttled submits")
        unanswered = [r for r in subs if r["status"] is None]
        expect(unanswered, "the drop happened")
        for r in throttled + unanswered:
            later = [x for x in subs if x["destination"] == r["destination"] and
                     x["short_message"] == r["short_message"] and x["status"] == 0]
            expect(len(later) == 1, f"{r} was not resubmitted and acked once: {later}")
        binds = smsc.events("bind_transceiver")
        expect(len(binds) == 2 and all(b["ok"] for b in binds), f"binds: {binds}")
        expect(len({r["session"] for r in subs if r["status"] == 0}) == 2, "acks on 2 sessions")


def test_resp_timeout():
    """A submit_sm left unanswered: after timeout_secs the connection is reopened and the
    part resubmitted, acknowledged once (window 1: nothing else was in flight)."""
    messages = [{"id": i, "to": f"+4917100000{i:03d}", "text": f"timeout test {i}"}
                for i in range(1, 5)]
    with Smsc("timeout", "--ignore", 2) as smsc:
        results, _, send, _ = run("timeout", config(smsc, window=1, timeout_secs=1), messages)
        expect(send["rc"] == 0, send)
        expect(all(results[m["id"]]["outcome"] == "sent" for m in messages), results)
        subs = smsc.submits()
        acked_once(subs, messages)
        ignored = [r for r in subs if r["status"] is None]
        expect(len(ignored) == 1 and ignored[0]["destination"] == "4917100000002", ignored)
        expect(len(subs) == 5, f"{len(subs)} submits: 4 messages, one resubmitted")
        expect(len(smsc.events("bind_transceiver")) == 2, "reconnected after the time-out")


def test_refusals_transmitter_rate_and_enquire_link():
    """HARD for a refused or invalid destination; transmitter bind; rate; enquire_link."""
    messages = [
        {"id": 1, "to": "+4915200000001", "text": "one"},
        {"id": 2, "to": "+9990001", "text": "refused by the SMSC"},
        {"id": 3, "to": "4915200000003", "text": "no plus"},
        {"id": 4, "to": "+4915200000004", "text": "four"},
        {"id": 5, "to": "+4915200000005", "text": "five"},
        {"id": 6, "to": "+4915200000006", "text": "six"},
    ]
    with Smsc("refusals") as smsc:
        results, receipts, send, _ = run("refusals",
                                         config(smsc, transceiver=0, rate=10, enquire_secs=1),
                                         messages, receipts=1, receipt_wait_ms=2600)
        expect(send["rc"] == 0, send)
        for i in (1, 4, 5, 6):
            expect(results[i]["outcome"] == "sent", results[i])
        expect(results[2]["outcome"] == "hard" and results[2]["status"] == 11 and
               "ESME_RINVDSTADR" in results[2]["reply"], results[2])
        expect(results[3]["outcome"] == "hard" and results[3]["status"] == 0 and
               "E.164" in results[3]["reply"], results[3])
        expect(not receipts, f"a transmitter gets no receipts: {receipts}")
        subs = smsc.submits()
        expect(len(subs) == 5 and "4915200000003" not in [s["destination"] for s in subs],
               f"submits: {subs}")
        # 5 submits at 10/s with a bucket of depth 1: 4 waits of 100 ms (ms clock: 390).
        span = subs[-1]["t"] - subs[0]["t"]
        expect(span >= 390, f"5 submits at rate 10/s arrived within {span} ms")
        binds = smsc.events("bind_transmitter")
        expect(len(binds) == 1 and binds[0]["ok"], binds)
        expect(smsc.events("enquire_link"), "no enquire_link after 2.6 s idle (enquire_secs 1)")


def test_bind_errors():
    """A wrong password or system_id, and nobody listening: clear errors, no outcomes."""
    msg = [{"id": 1, "to": "+4915300000001", "text": "never sent"}]
    with Smsc("badpw") as smsc:
        results, _, send, _ = run("badpw", config(smsc, password="wrong"), msg)
        expect(send["rc"] != 0 and not results, f"{send} {results}")
        expect("bind_transceiver" in send["err"] and f"127.0.0.1:{smsc.port}" in send["err"]
               and "refused: ESME_RINVPASWD (invalid password)" in send["err"], send["err"])
        results, _, send, _ = run("badid", config(smsc, system_id="nobody"), msg)
        expect("ESME_RINVSYSID" in send["err"] and "'nobody'" in send["err"], send["err"])
        expect(not smsc.submits(), "nothing submitted")
        expect([b["ok"] for b in smsc.events("bind_transceiver")] == [False, False],
               smsc.records())
    port = free_port()
    results, _, send, _ = run("nobody", {"host": "127.0.0.1", "port": port, "system_id": "crier",
                                         "password": "secret", "transceiver": 1}, msg)
    expect(send["rc"] != 0 and not results and f"SMPP connect to 127.0.0.1:{port} failed"
           in send["err"], send)


def main():
    global DRIVER, WORK
    DRIVER, WORK = sys.argv[1], sys.argv[2]
    os.makedirs(WORK, exist_ok=True)
    npm_ready()
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
