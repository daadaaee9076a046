"""demo_run.py - `make run`'s script (scripts/demo) on 1,000 profiles in a temporary folder,
the server stopped after the summary: every seed scenario ends as designed, every channel's
sink holds what the deliveries say they sent, the readers' hits were counted.

Usage: demo_run.py CRIER_BINARY
"""
import glob
import json
import os
import re
import shutil
import socket
import subprocess
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
DEMO = os.path.join(HERE, "..", "..", "scripts", "demo")


def expect(cond, what):
    if not cond:
        raise AssertionError(what)


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def main():
    crier = os.path.abspath(sys.argv[1])
    work = tempfile.mkdtemp(prefix="crier-demo-")
    try:
        env = dict(os.environ, CRIER_DEMO_SERVE="0", CRIER_DEMO_PROFILES="1000",
                   CRIER_DEMO_LISTEN=f"127.0.0.1:{free_port()}")
        env.pop("CRIER_DB", None)
        p = subprocess.run(["sh", DEMO, crier], cwd=work, env=env, capture_output=True,
                           text=True, timeout=600)
        out = p.stdout
        expect(p.returncode == 0, f"demo exit {p.returncode}\n{out[-3000:]}\n{p.stderr[-3000:]}")
        for seed in ("seed 004", "seed 000", "seed 001", "seed 003", "seed 002"):
            expect(f"== {seed}" in out, f"{seed} missing:\n{out}")
        runs = re.findall(r"^run \d+ of ([\w-]+): (\w+)$", out, re.M)
        expect(runs == [("gold-offer", "finished"), ("app-cross-channel", "finished")], runs)
        hits = [json.loads(x) for x in re.findall(r'^(\{"messages".*\})$', out, re.M)]
        expect(len(hits) == 2 and all(h["opens"] > 0 and h["errors"] == 0 for h in hits), hits)

        def c(*args):
            r = subprocess.run([crier, "--db", os.path.join(work, "demo.db"), *args],
                               capture_output=True, text=True, check=True)
            return json.loads(r.stdout)

        deliveries = c("delivery", "list", "--all", "--json")
        by_channel = {}
        for d in deliveries:
            if d["status"] != "recurring":
                expect(d["status"] == "sent", d)
                by_channel[d["channel"]] = by_channel.get(d["channel"], 0) + d["kpis"]["sent"]
        expect(set(by_channel) == {"email", "sms", "push", "external"}, by_channel)
        # what the sinks hold is what the deliveries sent (proofs aside)
        emails = [f for f in glob.glob(f"{work}/demo-pickup/*.eml")]
        # plus seed 004's proof to qa@example.com
        expect(len(emails) == by_channel["email"] + 1, (len(emails), by_channel))
        sms = sum(1 for f in glob.glob(f"{work}/demo-sms/*.jsonl") for _ in open(f))
        expect(sms == by_channel["sms"], (sms, by_channel))
        push = sum(1 for f in glob.glob(f"{work}/demo-push/*/*.jsonl") for _ in open(f))
        expect(push == by_channel["push"], (push, by_channel))
        rows = sum(1 for f in glob.glob(f"{work}/demo-external/*.csv") for _ in open(f)) - 1
        expect(rows == by_channel["external"], (rows, by_channel))
        clicks = c("delivery", "show", "1", "--json")["kpis"]
        expect(clicks["unique_opens"] > 0 and clicks["clicks"] > 0, clicks)
        users = c("user", "list", "--json")
        expect([(u["name"], u["role"]) for u in users] == [("demo", "admin")], users)
        recurring = [d for d in deliveries if d["status"] == "recurring"]
        expect(len(recurring) == 1 and recurring[0]["kpis"]["sent"] > 0, recurring)
        print(f"ok   demo: {len(deliveries)} deliveries, sent {by_channel}")
        return 0
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    try:
        sys.exit(main())
    except AssertionError as e:
        print(f"FAIL demo: {e}")
        sys.exit(1)
