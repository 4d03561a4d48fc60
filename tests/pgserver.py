"""A real PostgreSQL 15 server on 127.0.0.1 for the tests. Standard library
only.

    with PgServer() as pg:                  # started, database "castline" made
    pg = PgServer().open()                  # the same, closed by pg.close() or at exit
        pg.url                              # postgresql://castline:PW@127.0.0.1:PORT/castline
        pg.psql("SELECT count(*) FROM streams")   # as the superuser, stdout
        pg.restart()                        # stopped and started: same port, same data
        pg.stop(); pg.start()               # an outage

A fresh cluster (initdb) in a temporary directory, on a free port, with
the Unix socket in that directory too. The server refuses to run as root,
so when we are root (CI is) it runs as the `postgres` user through
runuser and the directory is handed to that user. The role castline logs
in over TCP with a password (scram-sha-256 in pg_hba), so the password
in the URL is exercised as a deployment would. Always cleaned up (context
manager, close(), and atexit for the rest).
"""
import atexit
import os
import pwd
import secrets
import shutil
import signal
import socket
import subprocess
import tempfile

PG_BIN = "/usr/lib/postgresql/15/bin"


def free_port():
    """A TCP port nothing listens on right now."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class PgServer:
    def __init__(self, database="castline", user="castline", port=None):
        if not os.path.exists(os.path.join(PG_BIN, "postgres")):
            raise RuntimeError(f"{PG_BIN}/postgres is missing: run scripts/setup.sh "
                               "(apt-get install postgresql)")
        self.database = database
        self.user = user
        self.password = secrets.token_urlsafe(12)
        self.port = port or free_port()
        self.directory = tempfile.mkdtemp(prefix="castline-pg-")
        self.data = os.path.join(self.directory, "data")
        self.logfile = os.path.join(self.directory, "server.log")
        self.closed = False
        self.running = False
        # as root: the server's own user; else ourselves
        self.run_as = "postgres" if os.geteuid() == 0 else None
        self.superuser = self.run_as or pwd.getpwuid(os.geteuid()).pw_name
        if self.run_as:
            pw = pwd.getpwnam(self.run_as)
            os.chown(self.directory, pw.pw_uid, pw.pw_gid)
        os.chmod(self.directory, 0o700)
        atexit.register(self.close)
        pwfile = os.path.join(self.directory, "init.pw")
        self._as_server(["sh", "-c", "umask 077; cat > " + pwfile], input=secrets.token_hex(16))
        self._as_server([os.path.join(PG_BIN, "initdb"), "-D", self.data, "-U", self.superuser,
                         "--auth-local=trust", "--auth-host=scram-sha-256",
                         "--pwfile=" + pwfile, "--no-sync", "-E", "UTF8",
                         "--locale=C"], timeout=120)

    @property
    def url(self):
        return (f"postgresql://{self.user}:{self.password}@127.0.0.1:{self.port}"
                f"/{self.database}")

    def _as_server(self, argv, input=None, timeout=60):
        if self.run_as:
            argv = ["runuser", "-u", self.run_as, "--"] + argv
        r = subprocess.run(argv, input=input, capture_output=True, text=True,
                           timeout=timeout, cwd=self.directory)
        if r.returncode != 0:
            raise RuntimeError(f"{' '.join(argv)}: {r.returncode}\n{r.stdout}{r.stderr}")
        return r.stdout

    def _pg_ctl(self, *args, timeout=60):
        options = (f"-p {self.port} -k {self.directory} -c listen_addresses=127.0.0.1 "
                   "-c fsync=off -c full_page_writes=off -c synchronous_commit=off")
        return self._as_server([os.path.join(PG_BIN, "pg_ctl"), "-D", self.data,
                                "-l", self.logfile, "-o", options, "-w", "-t", "30"]
                               + list(args), timeout=timeout)

    def start(self):
        """Start (again) on self.port; return once it accepts connections."""
        if self.closed:
            raise RuntimeError("this PgServer was closed")
        if not self.running:
            self._pg_ctl("start")
            self.running = True
        return self

    def stop(self, mode="fast"):
        """Stop it (fast: clients are disconnected; immediate: as a crash)."""
        if self.running:
            self._pg_ctl("stop", "-m", mode)
            self.running = False

    def restart(self):
        self.stop()
        self.start()

    def psql(self, sql, database=None):
        """Run sql as the superuser over the Unix socket; its output
        (unaligned, tuples only)."""
        argv = [os.path.join(PG_BIN, "psql"), "-X", "-q", "-A", "-t", "-v", "ON_ERROR_STOP=1",
                "-h", self.directory, "-p", str(self.port), "-U", self.superuser,
                "-d", database or self.database, "-c", sql]
        r = subprocess.run(argv, capture_output=True, text=True, timeout=30)
        if r.returncode != 0:
            raise RuntimeError(f"psql: {sql}: {r.stderr}")
        return r.stdout

    def log(self):
        try:
            with open(self.logfile, errors="replace") as f:
                return f.read()
        except OSError:
            return ""

    def __enter__(self):
        return self.open()

    def open(self):
        """Start it and make the role and its database."""
        self.start()
        self.psql(f"CREATE ROLE {self.user} LOGIN PASSWORD '{self.password}'",
                  database="postgres")
        self.psql(f"CREATE DATABASE {self.database} OWNER {self.user}", database="postgres")
        return self

    def __exit__(self, *exc):
        self.close()

    def close(self):
        if self.closed:
            return
        try:
            self.stop(mode="immediate")
        except Exception:
            self._kill()
        self.closed = True
        shutil.rmtree(self.directory, ignore_errors=True)

    def _kill(self):
        """The server would not stop (a test left a backend stopped, or it
        is gone already): its session, postmaster and backends, killed."""
        try:
            with open(os.path.join(self.data, "postmaster.pid")) as f:
                pid = int(f.readline())
            for sig in (signal.SIGCONT, signal.SIGKILL):
                os.killpg(os.getpgid(pid), sig)
        except (OSError, ValueError):
            pass
        self.running = False
