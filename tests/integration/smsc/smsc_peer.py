"""smsc_peer.py - the SMSC simulator (smsc.js, node-smpp as a server) as a Python context
manager, for test_smsc.py and the CLI's SMS tests (../cli_sms.py).

Installs the simulator's npm package with `npm ci` when node_modules is missing (pinned by
package-lock.json). Each Smsc listens on a free port of 127.0.0.1 and is stopped when its
`with` block ends, pass or fail; its log (one JSON line per submit_sm or session event) is
read back as dicts.
"""
import fcntl
import json
import os
import shutil
import socket
import subprocess

HERE = os.path.dirname(os.path.abspath(__file__))


def expect(cond, what):
    if not cond:
        raise AssertionError(what)


def npm_ready():
    """npm ci once (the lock keeps two builds' test runs from racing on node_modules)."""
    if os.path.isdir(os.path.join(HERE, "node_modules", "smpp")):
        return
    npm = shutil.which("npm")
    expect(npm and shutil.which("node"), "node and npm are needed for the SMSC simulator")
    with open("/tmp/crier-smsc-npm.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if not os.path.isdir(os.path.join(HERE, "node_modules", "smpp")):
            p = subprocess.run([npm, "ci", "--silent", "--no-audit", "--no-fund"], cwd=HERE,
                               capture_output=True, text=True, timeout=240)
            expect(p.returncode == 0, f"npm ci failed in {HERE}:\n{p.stdout}{p.stderr}")


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Smsc:
    """smsc.js on a free port; the log is read back as a list of dicts."""

    def __init__(self, workdir, name, *opts, port=None):
        npm_ready()
        self.port = port or free_port()
        self.log = os.path.join(workdir, name + ".smsc.jsonl")
        if os.path.exists(self.log):
            os.unlink(self.log)
        self.opts = [str(o) for o in opts]

    def __enter__(self):
        self.proc = subprocess.Popen(["node", os.path.join(HERE, "smsc.js"), str(self.port),
                                      self.log, *self.opts],
                                     stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        line = self.proc.stdout.readline()
        if line.strip() != "listening":
            self.proc.kill()
            raise AssertionError(f"smsc.js did not start: {line!r} {self.proc.stderr.read()}")
        return self

    def __exit__(self, *exc):
        self.proc.terminate()
        try:
            self.proc.wait(10)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
        self.proc.stdout.close()
        self.proc.stderr.close()

    def records(self):
        if not os.path.exists(self.log):
            return []
        with open(self.log) as f:
            return [json.loads(line) for line in f]

    def submits(self):
        return [r for r in self.records() if "event" not in r]

    def events(self, name):
        return [r for r in self.records() if r.get("event") == name]
