"""test_export.py - the export transport (src/channel/external/export*.c), through export_driver.

Usage: test_export.py EXPORT_DRIVER local|sftp

local: exports into temporary folders: bytes identical, no temporary file left, an older file
replaced; a missing folder, a file given as the folder, a directory in the final name's place,
bad names and schemes fail as the header says. As root, two small tmpfs mounts stand for a
full disk (ENOSPC while writing: neither name left behind) and a read-only folder (root
ignores permission bits, so chmod would prove nothing); without root or mount rights those two
cases are skipped and said so.

sftp: starts a real OpenSSH sshd (`sshd -D -e -f CONFIG`, Debian's openssh-server) on free
127.0.0.1 ports with a configuration, host key and authorized_keys of its own in a temporary
folder, and kills it at the end. sshd must run as root (privilege separation), so without root
or without /usr/sbin/sshd the test exits 77 (skipped). It logs in as root, the one account
sure to exist, allowed by PermitRootLogin in this sshd only. A successful password login would
need an account with a known password, which this test will not create; a wrong password is
checked (CR_EPERM). Ports: the main one; one where the SFTP server is read-only
(internal-sftp -R: every write is "Permission denied", as root too); one that also accepts
ssh-rsa signatures, for the RSA key checks.

No timing assertions: waits (for sshd to listen) only bound how long a broken setup hangs.
"""
import json
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import traceback

DRIVER = None
WORK = None


def expect(cond, what):
    if not cond:
        raise AssertionError(what)


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def export(env=None, **spec):
    """Runs export_driver once; returns its JSON result."""
    path = os.path.join(WORK, "spec.json")
    with open(path, "w") as f:
        json.dump(spec, f)
    p = subprocess.run([DRIVER, path], capture_output=True, text=True, timeout=120, env=env)
    expect(p.returncode == 0, f"export_driver exited {p.returncode}: {p.stderr}")
    return json.loads(p.stdout.strip().splitlines()[-1])


def expect_rc(r, code, *words):
    if r["err"]:
        print("  ", r["code"], r["err"])
    expect(r["code"] == code, f"expected {code}, got {r}")
    for w in words:
        expect(w in r["err"], f"message lacks {w!r}: {r['err']!r}")


def listing(folder):
    return sorted(os.listdir(folder))


def source(name, size, seed=1):
    """A file of size pseudo-random bytes (several copy chunks when large)."""
    path = os.path.join(WORK, name)
    data = bytes((i * 7919 + seed * 31 + (i >> 8)) & 0xFF for i in range(size))
    with open(path, "wb") as f:
        f.write(data)
    return path, data


def read(path):
    with open(path, "rb") as f:
        return f.read()


def fresh_dir(name):
    d = os.path.join(WORK, name)
    os.mkdir(d)
    return d


# ---------------------------------------------------------------------------------------------
# Local folders
# ---------------------------------------------------------------------------------------------

def test_local_success():
    out = fresh_dir("out")
    src, data = source("a.bin", 700_000)
    r = export(url=out, path=src, name="clients.csv")
    expect_rc(r, "OK")
    expect(r["seen_host_key"] is None, f"a folder has no host key: {r}")
    expect(listing(out) == ["clients.csv"], f"folder holds {listing(out)}")
    expect(read(os.path.join(out, "clients.csv")) == data, "bytes differ")
    # Again, with other bytes: the older file is replaced, nothing else appears.
    src2, data2 = source("b.bin", 10, seed=2)
    expect_rc(export(url=out + "/", path=src2, name="clients.csv"), "OK")
    expect(listing(out) == ["clients.csv"], f"folder holds {listing(out)}")
    expect(read(os.path.join(out, "clients.csv")) == data2, "older file not replaced")
    # An empty file, a name with spaces and quotes, and a relative folder.
    empty, _ = source("empty.bin", 0)
    name = 'we "ird" #1.csv'
    r = export(url=os.path.relpath(out), path=empty, name=name)
    expect_rc(r, "OK")
    expect(read(os.path.join(out, name)) == b"", "empty file not empty")


def test_local_failures():
    src, _ = source("c.bin", 1000)
    missing = os.path.join(WORK, "nowhere", "out")
    expect_rc(export(url=missing, path=src, name="f.csv"), "IO", missing,
              "No such file or directory")
    expect(not os.path.exists(os.path.dirname(missing)), "a missing folder was created")
    # A file where the folder should be: fails for root too.
    expect_rc(export(url=src, path=src, name="f.csv"), "IO", src, "Not a directory")
    # A directory in the final name's place: the rename fails, the temporary file goes.
    out = fresh_dir("clash")
    os.mkdir(os.path.join(out, "f.csv"))
    expect_rc(export(url=out, path=src, name="f.csv"), "IO", out, "renaming .f.csv.part to f.csv")
    expect(listing(out) == ["f.csv"], f"folder holds {listing(out)}")
    # Missing source file.
    out = fresh_dir("nosrc")
    expect_rc(export(url=out, path=os.path.join(WORK, "none.bin"), name="f.csv"), "IO",
              "none.bin")
    expect(listing(out) == [], f"folder holds {listing(out)}")
    # Bad names and targets.
    for bad in ["a/b.csv", "", "..", ".", "line\nbreak.csv", "x" * 300]:
        expect_rc(export(url=out, path=src, name=bad), "INVAL")
    expect_rc(export(url="ftp://host/dir", path=src, name="f.csv"), "INVAL", "unsupported scheme")
    expect_rc(export(url="", path=src, name="f.csv"), "INVAL")
    expect(listing(out) == [], f"folder holds {listing(out)}")


def mount_tmpfs(path, opts):
    os.mkdir(path)
    p = subprocess.run(["mount", "-t", "tmpfs", "-o", opts, "tmpfs", path],
                       capture_output=True, text=True)
    if p.returncode != 0:
        print(f"  (cannot mount a tmpfs: {p.stderr.strip()})")
        return False
    return True


def umount(path):
    subprocess.run(["umount", path], capture_output=True)


def test_local_disk_full():
    if os.geteuid() != 0:
        print("  skipped: a full tmpfs needs root")
        return
    full = os.path.join(WORK, "full")
    if not mount_tmpfs(full, "size=64k,mode=0755"):
        print("  skipped")
        return
    try:
        src, _ = source("big.bin", 1_000_000)
        r = export(url=full, path=src, name="big.csv")
        expect_rc(r, "IO", full, "No space left on device")
        expect(listing(full) == [], f"full disk holds {listing(full)}")
        # Space is back: a small file goes through.
        small, data = source("small.bin", 1000)
        expect_rc(export(url=full, path=small, name="small.csv"), "OK")
        expect(listing(full) == ["small.csv"], f"tmpfs holds {listing(full)}")
        expect(read(os.path.join(full, "small.csv")) == data, "bytes differ")
    finally:
        umount(full)


def test_local_read_only():
    if os.geteuid() != 0:
        print("  skipped: a read-only tmpfs needs root (root ignores permission bits)")
        return
    ro = os.path.join(WORK, "ro")
    if not mount_tmpfs(ro, "size=64k,ro"):
        print("  skipped")
        return
    try:
        src, _ = source("d.bin", 100)
        expect_rc(export(url=ro, path=src, name="f.csv"), "IO", ro, "Read-only file system")
        expect(listing(ro) == [], f"read-only folder holds {listing(ro)}")
    finally:
        umount(ro)


# ---------------------------------------------------------------------------------------------
# SFTP against a real sshd
# ---------------------------------------------------------------------------------------------

SSHD = "/usr/sbin/sshd"
KEYGEN = "/usr/bin/ssh-keygen"


class Sshd:
    """sshd on three 127.0.0.1 ports (main, read-only SFTP, ssh-rsa accepted)."""

    def __init__(self, folder):
        self.dir = folder
        self.host_key = os.path.join(folder, "host_ed25519")
        keygen("-t", "ed25519", "-f", self.host_key)
        self.port, self.ro_port, self.rsa_port = free_port(), free_port(), free_port()
        self.authorized = os.path.join(folder, "authorized_keys")
        open(self.authorized, "w").close()
        self.config = os.path.join(folder, "sshd_config")
        with open(self.config, "w") as f:
            f.write(f"""\
Port {self.port}
Port {self.ro_port}
Port {self.rsa_port}
ListenAddress 127.0.0.1
HostKey {self.host_key}
PidFile {folder}/sshd.pid
AuthorizedKeysFile {self.authorized}
StrictModes no
PermitRootLogin yes
PubkeyAuthentication yes
PasswordAuthentication yes
PermitEmptyPasswords no
KbdInteractiveAuthentication no
UsePAM no
X11Forwarding no
AllowTcpForwarding no
Subsystem sftp internal-sftp
LogLevel VERBOSE
Match LocalPort {self.ro_port}
    ForceCommand internal-sftp -R
Match LocalPort {self.rsa_port}
    PubkeyAcceptedAlgorithms +ssh-rsa
""")
        self.log_path = os.path.join(folder, "sshd.log")
        self.log = open(self.log_path, "w")
        self.proc = subprocess.Popen([SSHD, "-D", "-e", "-f", self.config],
                                     stdout=self.log, stderr=subprocess.STDOUT)
        deadline = time.monotonic() + 20
        for port in (self.port, self.ro_port, self.rsa_port):
            while True:
                if self.proc.poll() is not None:
                    raise AssertionError(f"sshd exited {self.proc.returncode}: {self.tail()}")
                try:
                    socket.create_connection(("127.0.0.1", port), timeout=1).close()
                    break
                except OSError:
                    expect(time.monotonic() < deadline, f"sshd not listening: {self.tail()}")
                    time.sleep(0.05)

    def fingerprint(self):
        out = subprocess.run([KEYGEN, "-l", "-E", "sha256", "-f", self.host_key + ".pub"],
                             capture_output=True, text=True, check=True).stdout
        return out.split()[1].removeprefix("SHA256:")

    def authorize(self, pub):
        with open(self.authorized, "a") as f:
            f.write(read(pub).decode())

    def tail(self):
        self.log.flush()
        with open(self.log_path) as f:
            return f.read()[-3000:]

    def stop(self):
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self.log.close()


def keygen(*args):
    subprocess.run([KEYGEN, "-q", "-N", "", "-C", "crier-test", *args], check=True)


SSH = None
KEYS = {}


def key(kind):
    return KEYS[kind]


def url(port=None, folder=None):
    return f"sftp://root@127.0.0.1:{port or SSH.port}{folder or REMOTE}"


REMOTE = None


def sftp(name, path, **kw):
    spec = {"url": url(), "key_file": key("ed25519"), "path": path, "name": name,
            "timeout_secs": 30}
    spec.update(kw)
    return export(**{k: v for k, v in spec.items() if v is not None})


def test_sftp_tofu_and_bytes():
    src, data = source("s1.bin", 900_000)
    r = sftp("clients.csv", src)
    expect_rc(r, "OK")
    expect(r["seen_host_key"] == SSH.fingerprint(),
           f"TOFU key {r['seen_host_key']} is not ssh-keygen's {SSH.fingerprint()}")
    expect(listing(REMOTE) == ["clients.csv"], f"remote holds {listing(REMOTE)}")
    expect(read(os.path.join(REMOTE, "clients.csv")) == data, "bytes differ")
    # The same name again: replaced (OpenSSH's rename alone would refuse).
    src2, data2 = source("s2.bin", 5, seed=3)
    expect_rc(sftp("clients.csv", src2), "OK")
    expect(read(os.path.join(REMOTE, "clients.csv")) == data2, "older file not replaced")
    expect(listing(REMOTE) == ["clients.csv"], f"remote holds {listing(REMOTE)}")
    # An empty file and a name that needs quoting in SFTP commands and escaping in the URL.
    empty, _ = source("s3.bin", 0)
    name = 'we "ird" \\ #1?.csv'
    expect_rc(sftp(name, empty), "OK")
    expect(read(os.path.join(REMOTE, name)) == b"", "empty file not empty")
    os.unlink(os.path.join(REMOTE, name))


def test_sftp_pinned():
    fp = SSH.fingerprint()
    src, data = source("p1.bin", 1234)
    for pin in (fp, "SHA256:" + fp, fp + "="):
        r = sftp("pinned.csv", src, host_key_sha256=pin)
        expect_rc(r, "OK")
        expect(r["seen_host_key"] == fp, f"seen {r['seen_host_key']}")
    expect(read(os.path.join(REMOTE, "pinned.csv")) == data, "bytes differ")
    before = listing(REMOTE)
    # A valid fingerprint of another key.
    other = subprocess.run([KEYGEN, "-l", "-E", "sha256", "-f", key("ed25519") + ".pub"],
                           capture_output=True, text=True, check=True).stdout.split()[1]
    wrong = other.removeprefix("SHA256:")
    r = sftp("wrongpin.csv", src, host_key_sha256=other)
    expect_rc(r, "PERM")
    want = (f"host key of 127.0.0.1:{SSH.port} changed: SHA256:{fp} is not the pinned "
            f"SHA256:{wrong}")
    expect(r["err"] == want, f"message {r['err']!r}, wanted {want!r}")
    expect(r["seen_host_key"] is None, "a refused key is not handed out")
    expect(listing(REMOTE) == before, f"remote holds {listing(REMOTE)}")
    expect_rc(sftp("badpin.csv", src, host_key_sha256="not-a-fingerprint"), "INVAL", "pinned")
    expect(listing(REMOTE) == before, f"remote holds {listing(REMOTE)}")


def test_sftp_login_refused():
    src, _ = source("l1.bin", 100)
    before = listing(REMOTE)
    r = sftp("k.csv", src, key_file=key("stranger"))
    expect_rc(r, "PERM", url(), "login")
    r = sftp("pw.csv", src, key_file=None, password="wrong-s3cret")
    expect_rc(r, "PERM", url(), "login")
    expect("wrong-s3cret" not in r["err"], "the password is in the message")
    # A password in the URL is refused and never printed.
    r = sftp("pw.csv", src, url=url().replace("root@", "root:url-s3cret@"), key_file=None,
             password=None)
    expect_rc(r, "INVAL")
    expect("url-s3cret" not in r["err"], f"the password is in the message: {r['err']}")
    expect_rc(sftp("n.csv", src, key_file=None), "INVAL", "key file or a password")
    expect_rc(sftp("n.csv", src, key_file=os.path.join(WORK, "nokey")), "INVAL", "nokey")
    expect(listing(REMOTE) == before, f"remote holds {listing(REMOTE)}")


def test_sftp_server_down():
    src, _ = source("d1.bin", 100)
    port = free_port()  # nothing listens there
    r = sftp("down.csv", src, url=url(port))
    expect_rc(r, "IO", url(port), "connect")
    expect(r["seen_host_key"] is None, f"{r}")


def test_sftp_remote_refusals():
    src, _ = source("r1.bin", 300_000)
    before = listing(REMOTE)
    # Read-only SFTP server: the open for writing is refused.
    r = sftp("ro.csv", src, url=url(SSH.ro_port))
    expect_rc(r, "IO", url(SSH.ro_port), "upload of ro.csv.part", "Permission denied")
    expect(listing(REMOTE) == before, f"remote holds {listing(REMOTE)}")
    # Missing remote folder: nothing is created.
    missing = os.path.join(REMOTE, "nowhere")
    r = sftp("m.csv", src, url=url(folder=missing))
    expect_rc(r, "IO", "upload of m.csv.part")
    expect(not os.path.exists(missing), "a missing remote folder was created")
    # A directory in the final name's place: the upload works, the rename fails, and the
    # second request removes the .part.
    os.mkdir(os.path.join(REMOTE, "busy.csv"))
    r = sftp("busy.csv", src)
    expect_rc(r, "IO", url(), "rename of busy.csv.part to busy.csv")
    expect(listing(REMOTE) == sorted(before + ["busy.csv"]), f"remote holds {listing(REMOTE)}")
    expect(os.path.isdir(os.path.join(REMOTE, "busy.csv")), "busy.csv replaced")
    os.rmdir(os.path.join(REMOTE, "busy.csv"))


def test_sftp_remote_disk_full():
    # A small tmpfs as the remote folder: the upload starts, the server's disk fills, and the
    # second request removes the .part.
    full = os.path.join(WORK, "remote-full")
    if not mount_tmpfs(full, "size=64k,mode=0755"):
        print("  skipped")
        return
    try:
        src, _ = source("f1.bin", 1_000_000)
        r = sftp("big.csv", src, url=url(folder=full))
        expect_rc(r, "IO", url(folder=full), "upload of big.csv.part")
        expect(listing(full) == [], f"full remote folder holds {listing(full)}")
    finally:
        umount(full)


def test_sftp_home_relative():
    # "/~/" is the login's home (root's); reach REMOTE from there.
    home = os.path.expanduser("~root")
    rel = os.path.relpath(REMOTE, home)
    src, data = source("h1.bin", 2000)
    expect_rc(sftp("home.csv", src, url=url(folder="/~/" + rel)), "OK")
    expect(read(os.path.join(REMOTE, "home.csv")) == data, "bytes differ")
    os.unlink(os.path.join(REMOTE, "home.csv"))


def libssh2_leak_env(kind):
    """For ECDSA keys in OpenSSH format, an environment where LeakSanitizer (sanitizer builds)
    ignores libssh2 1.10's known leak in loading them (lsan-libssh2.supp); else None."""
    if kind != "ecdsa":
        return None
    env = dict(os.environ)
    supp = os.path.join(os.path.dirname(os.path.abspath(__file__)), "lsan-libssh2.supp")
    for var, opt in (("LSAN_OPTIONS", f"suppressions={supp}"),
                     ("ASAN_OPTIONS", "fast_unwind_on_malloc=0")):
        env[var] = ":".join(filter(None, [env.get(var), opt]))
    return env


def test_sftp_key_types():
    """Which client keys libssh2 (as linked) logs in with; the findings in export_sftp.c."""
    src, data = source("k1.bin", 4000)
    works = ["ed25519", "ecdsa", "ecdsa-pem"]
    rsa = ["rsa", "rsa-pem"]
    seen = {}
    for kind in works + rsa:
        r = sftp(f"key-{kind}.csv", src, key_file=key(kind), env=libssh2_leak_env(kind))
        seen[kind] = r["code"]
        if kind in rsa:
            # ssh-rsa (SHA-1) signatures only; OpenSSH >= 8.8 refuses them by default.
            expect_rc(r, "PERM", "login")
            r = sftp(f"key-{kind}.csv", src, key_file=key(kind), url=url(SSH.rsa_port))
            seen[kind + " (server allows ssh-rsa)"] = r["code"]
        expect_rc(r, "OK")
        expect(read(os.path.join(REMOTE, f"key-{kind}.csv")) == data, "bytes differ")
        os.unlink(os.path.join(REMOTE, f"key-{kind}.csv"))
    print("  key types:", ", ".join(f"{k}: {v}" for k, v in seen.items()))


def setup_sftp():
    global SSH, REMOTE
    if os.geteuid() != 0:
        print("skipped: sshd needs root")
        sys.exit(77)
    if not (os.access(SSHD, os.X_OK) and os.access(KEYGEN, os.X_OK)):
        print("skipped: no /usr/sbin/sshd or ssh-keygen (scripts/install-deps installs them)")
        sys.exit(77)
    # sshd's privilege separation folder, which the package's init script usually makes.
    os.makedirs("/run/sshd", mode=0o755, exist_ok=True)
    keys = fresh_dir("keys")
    for kind, args in {"ed25519": ["-t", "ed25519"], "ecdsa": ["-t", "ecdsa"],
                       "ecdsa-pem": ["-t", "ecdsa", "-m", "PEM"],
                       "rsa": ["-t", "rsa", "-b", "3072"],
                       "rsa-pem": ["-t", "rsa", "-b", "3072", "-m", "PEM"],
                       "stranger": ["-t", "ed25519"]}.items():
        KEYS[kind] = os.path.join(keys, "id_" + kind)
        keygen(*args, "-f", KEYS[kind])
    REMOTE = fresh_dir("remote")
    SSH = Sshd(fresh_dir("sshd"))
    for kind in KEYS:
        if kind != "stranger":
            SSH.authorize(KEYS[kind] + ".pub")


LOCAL = [test_local_success, test_local_failures, test_local_disk_full, test_local_read_only]
SFTP = [test_sftp_tofu_and_bytes, test_sftp_pinned, test_sftp_login_refused,
        test_sftp_server_down, test_sftp_remote_refusals, test_sftp_remote_disk_full,
        test_sftp_home_relative,
        test_sftp_key_types]


def main():
    global DRIVER, WORK
    if len(sys.argv) != 3 or sys.argv[2] not in ("local", "sftp"):
        print("usage: test_export.py EXPORT_DRIVER local|sftp", file=sys.stderr)
        return 2
    DRIVER = os.path.abspath(sys.argv[1])
    WORK = tempfile.mkdtemp(prefix="crier-export-")
    os.chdir(WORK)
    failed = 0
    try:
        if sys.argv[2] == "sftp":
            setup_sftp()
        for t in LOCAL if sys.argv[2] == "local" else SFTP:
            print(t.__name__)
            try:
                t()
                print("  ok")
            except Exception:
                failed += 1
                print("  FAIL")
                traceback.print_exc()
                if SSH:
                    print("  sshd log:\n" + SSH.tail())
    finally:
        if SSH:
            SSH.stop()
        shutil.rmtree(WORK, ignore_errors=True)
    print(f"{failed} failed" if failed else "all passed")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
