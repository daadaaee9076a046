"""crier_test.py - helpers for integration tests that drive the crier program.

A Crier object runs the binary against one fresh database (a SQLite file in a temporary
folder, or a new database on the PostgreSQL test cluster) and checks exit codes and output.
"""
import json
import os
import shutil
import subprocess
import sys
import tempfile
import uuid


class Crier:
    def __init__(self, binary, backend):
        self.binary = binary
        self.backend = backend
        self.dir = tempfile.mkdtemp(prefix="crier-it-")
        self.pg_db = None
        if backend == "sqlite":
            self.url = os.path.join(self.dir, "crier.db")
        else:
            admin = open(os.environ["CRIER_TEST_PG_FILE"]).read().strip()
            self.pg_db = "it_" + uuid.uuid4().hex[:12]
            subprocess.run(["psql", "-q", admin, "-c", f"CREATE DATABASE {self.pg_db}"],
                           check=True)
            self.admin = admin
            self.url = admin.rsplit("/", 1)[0] + "/" + self.pg_db

    def close(self):
        if self.pg_db:
            subprocess.run(["psql", "-q", self.admin, "-c",
                            f"DROP DATABASE IF EXISTS {self.pg_db} WITH (FORCE)"], check=False)
        shutil.rmtree(self.dir, ignore_errors=True)

    def path(self, name):
        return os.path.join(self.dir, name)

    def write(self, name, text, mode="w"):
        p = self.path(name)
        with open(p, mode) as f:
            f.write(text)
        return p

    def run(self, *args, status=0, env=None):
        """Runs crier --db URL ARGS; checks the exit status; returns (stdout, stderr)."""
        e = dict(os.environ)
        e.pop("CRIER_DB", None)
        if env:
            e.update(env)
        p = subprocess.run([self.binary, "--db", self.url, *args], capture_output=True,
                           text=True, env=e, cwd=self.dir)
        if p.returncode != status:
            raise AssertionError(f"crier {' '.join(args)}: exit {p.returncode}, expected "
                                 f"{status}\nstdout: {p.stdout}\nstderr: {p.stderr}")
        return p.stdout, p.stderr

    def json(self, *args, status=0):
        out, _ = self.run(*args, status=status)
        return json.loads(out)


def expect(cond, what):
    if not cond:
        raise AssertionError(what)


def main(tests):
    """Runs each test function with a fresh Crier; prints a pytest-like summary."""
    binary, backend = sys.argv[1], sys.argv[2]
    passed = failed = 0
    for t in tests:
        c = Crier(binary, backend)
        try:
            t(c)
            passed += 1
            print(f"ok   {t.__name__} [{backend}]")
        except Exception as e:  # report and go on with the next test
            failed += 1
            print(f"FAIL {t.__name__} [{backend}]: {e}")
        finally:
            c.close()
    print(f"{passed} passed, {failed} failed")
    sys.exit(1 if failed else 0)
