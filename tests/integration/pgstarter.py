"""TEMPORARY: a minimal PostgreSQL 15 server in a temporary directory, the
API of h20-store's tests/pgserver.py (url, psql, restart, stop), until that
branch is merged; then this file goes. Runs the server as the postgres
user (it refuses root)."""
import atexit
import os
import pwd
import shutil
import subprocess
import tempfile
import time

from s3rver import free_port

BIN = "/usr/lib/postgresql/15/bin"
PASSWORD = "castline-pg-password-never-logged"


class PgServer:
    def __init__(self):
        self.dir = tempfile.mkdtemp(prefix="castline-pg-")
        self.data = os.path.join(self.dir, "data")
        self.port = free_port()
        user = pwd.getpwnam("postgres")
        os.chown(self.dir, user.pw_uid, user.pw_gid)
        pwfile = os.path.join(self.dir, "pw")
        with open(pwfile, "w") as f:
            f.write(PASSWORD)
        os.chown(pwfile, user.pw_uid, user.pw_gid)
        self._as_postgres([f"{BIN}/initdb", "-D", self.data, "-U", "castline", "--pwfile", pwfile,
                           "--auth-local=trust", "--auth-host=scram-sha-256", "-E", "UTF8"])
        self.url = f"postgresql://castline:{PASSWORD}@127.0.0.1:{self.port}/castline"
        self.running = False
        atexit.register(self.stop)
        self.start()
        self.psql("CREATE DATABASE castline")

    def _as_postgres(self, cmd, timeout=60):
        subprocess.run(["runuser", "-u", "postgres", "--", *cmd], check=True, timeout=timeout,
                       capture_output=True)

    def start(self):
        self._as_postgres([f"{BIN}/pg_ctl", "-D", self.data, "-w", "-l",
                           os.path.join(self.dir, "log"), "-o",
                           f"-p {self.port} -k {self.dir} -c listen_addresses=127.0.0.1", "start"])
        self.running = True

    def psql(self, sql, database="postgres"):
        out = subprocess.run(["psql", "-h", self.dir, "-p", str(self.port), "-U", "castline",
                              "-d", database, "-v", "ON_ERROR_STOP=1", "-At", "-c", sql],
                             check=True, timeout=60, capture_output=True)
        return out.stdout.decode()

    def restart(self, down=2.0):
        self._as_postgres([f"{BIN}/pg_ctl", "-D", self.data, "-w", "-m", "fast", "stop"])
        time.sleep(down)
        self.start()

    def stop(self):
        if self.running:
            self.running = False
            try:
                self._as_postgres([f"{BIN}/pg_ctl", "-D", self.data, "-w", "-m", "immediate",
                                   "stop"])
            except subprocess.SubprocessError:
                pass
        shutil.rmtree(self.dir, ignore_errors=True)
