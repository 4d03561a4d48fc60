#!/usr/bin/python3
"""API operations per second of one castline-launcher node on each store
(issue 20): SQLite (the default, a file in data_dir) against PostgreSQL 15
(a server in a temporary directory, tests/pgserver.py, store.url). Prints a
table, asserts nothing.

For each store a fresh node; 100 streams made first; then, for each
client count k (--clients 1,4,16), k threads each on one keep-alive HTTP
connection calling as fast as answers come, for --seconds each:
  list    GET /api/streams (100 streams and more)
  get     GET /api/streams/{id} of one of the 100
  create  POST /api/streams (last: it grows the table)
Figures: operations per second (all threads), the median and p99 latency,
and the CPU of the launcher and of the database server (PostgreSQL's
processes; SQLite runs inside the launcher), in cores. Both stores wait
for the disk at each commit: SQLite as castline opens it (WAL,
synchronous FULL), PostgreSQL with fsync and synchronous_commit on (not
as tests/pgserver.py runs it for the tests). The machine has 2
cores shared by the database, the launcher and the load (the Python
clients): the figures are of the three together, not of castline alone.

  bench/api_ops.py [--quick] [--json FILE] [--clients 1,4,16] [--seconds 5]
      [--stores sqlite,postgresql]
  CASTLINE_BUILD_DIR   build with the launcher (default: build); not rebuilt
Time: about 1 minute (--quick: 2 s a run, clients 1 and 4).
"""
import argparse
import http.client
import json
import os
import shutil
import sys
import tempfile
import threading
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import benchlib  # noqa: E402

benchlib.setup_paths()
from clusterproc import database  # noqa: E402
from launcherproc import Launcher  # noqa: E402
from pgserver import PG_BIN, PgServer  # noqa: E402

STREAMS = 100


class DurablePgServer(PgServer):
    """tests/pgserver.py's server with fsync and synchronous commits on (the
    tests turn them off for speed): a commit waits for the disk, as
    SQLite's does (WAL, synchronous FULL) and as a deployment's would."""

    def _pg_ctl(self, *args, timeout=60):
        options = f"-p {self.port} -k {self.directory} -c listen_addresses=127.0.0.1"
        return self._as_server([os.path.join(PG_BIN, "pg_ctl"), "-D", self.data,
                                "-l", self.logfile, "-o", options, "-w", "-t", "30"]
                               + list(args), timeout=timeout)


def postgres_pids(pg):
    """The PostgreSQL server's postmaster (first line of postmaster.pid):
    benchlib.tree_cpu adds its backends."""
    for root, _, files in os.walk(pg.directory):
        if "postmaster.pid" in files:
            with open(os.path.join(root, "postmaster.pid")) as f:
                return int(f.readline())
    return None


def clients(port, k, seconds, call):
    """k threads calling call(conn, i) on a keep-alive connection each for
    seconds; (operations, latencies in ms, errors)."""
    deadline = time.monotonic() + seconds
    lock = threading.Lock()
    latencies, errors = [], [0]

    def run(n):
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
        mine, bad, i = [], 0, 0
        while time.monotonic() < deadline:
            t0 = time.monotonic()
            try:
                ok = call(conn, n * 1000000 + i)
            except (OSError, http.client.HTTPException):
                conn.close()
                conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
                ok = False
            mine.append((time.monotonic() - t0) * 1000)
            bad += not ok
            i += 1
        conn.close()
        with lock:
            latencies.extend(mine)
            errors[0] += bad

    threads = [threading.Thread(target=run, args=(n,)) for n in range(k)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(seconds + 60)
    return len(latencies), latencies, errors[0]


def request(conn, method, path, body=None):
    headers = {"Content-Type": "application/json"} if body is not None else {}
    conn.request(method, path, body=json.dumps(body) if body is not None else None,
                 headers=headers)
    r = conn.getresponse()
    data = r.read()
    return r.status, data


def measure_store(name, settings, pg, counts, seconds):
    """[row] of one store: each operation at each client count."""
    work = tempfile.mkdtemp(prefix=f"castline-bench-apiops-{name}-")
    launcher = Launcher(work, http={"max_connections_per_address": 1000}, **settings).start()
    rows = []
    try:
        ids = []
        for i in range(STREAMS):
            status, s = launcher.api("POST", "/api/streams", {"title": f"bench {i}"})
            if status != 201:
                raise RuntimeError(f"POST /api/streams answered {status}: {s}")
            ids.append(s["id"])
        ops = [
            ("list", lambda c, i: request(c, "GET", "/api/streams")[0] == 200),
            ("get", lambda c, i: request(c, "GET", f"/api/streams/{ids[i % STREAMS]}")[0] == 200),
            ("create", lambda c, i: request(c, "POST", "/api/streams",
                                            {"title": f"t{i}"})[0] == 201),
        ]
        pid, db = launcher.proc.pid, postgres_pids(pg) if pg else None
        for op, call in ops:
            for k in counts:
                cpu0, db0, t0 = (benchlib.tree_cpu(pid), benchlib.tree_cpu(db) if db else 0.0,
                                 time.monotonic())
                n, latencies, errors = clients(launcher.port, k, seconds, call)
                wall = time.monotonic() - t0
                rows.append([name, op, k, round(n / wall), errors,
                             round(benchlib.percentile(latencies, 0.5), 2),
                             round(benchlib.percentile(latencies, 0.99), 2),
                             round((benchlib.tree_cpu(pid) - cpu0) / wall, 2),
                             round((benchlib.tree_cpu(db) - db0) / wall, 2) if db else None])
                print("  ".join(str(c) for c in rows[-1]), flush=True)
    finally:
        code = launcher.stop()
        if code != 0:
            print(f"{name}: the launcher exited {code}:\n{launcher.output()[-2000:]}")
        shutil.rmtree(work, ignore_errors=True)
    return rows


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--quick", action="store_true")
    p.add_argument("--json")
    p.add_argument("--clients")
    p.add_argument("--seconds", type=float)
    p.add_argument("--stores", default="sqlite,postgresql")
    args = p.parse_args()
    counts = [int(c) for c in (args.clients or ("1,4" if args.quick else "1,4,16")).split(",")]
    seconds = args.seconds or (2 if args.quick else 5)

    headers = ["store", "operation", "clients", "ops/s", "errors", "p50 ms", "p99 ms",
               "launcher CPU", "database CPU"]
    print("  ".join(headers))
    rows = []
    for store in args.stores.split(","):
        if store == "sqlite":
            rows += measure_store("sqlite", {}, None, counts, seconds)
        else:
            pg = DurablePgServer().open()
            try:
                settings = {"store": {"url": database(pg, "apiops")}, "node": {"id": "bench"}}
                rows += measure_store("postgresql", settings, pg, counts, seconds)
            finally:
                pg.close()
    print(f"\n== API operations, {STREAMS} streams and more, {seconds:g} s a run; "
          "the database, the launcher and the clients share the machine's "
          f"{os.cpu_count()} cores")
    benchlib.print_table(headers, rows)
    benchlib.write_json(args.json, {"machine": benchlib.machine(), "seconds": seconds,
                                    "rows": [dict(zip(headers, r)) for r in rows]})


if __name__ == "__main__":
    main()
