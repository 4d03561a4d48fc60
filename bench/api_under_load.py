#!/usr/bin/python3
"""castline-launcher's admin API while its HTTP server is loaded: the
latency of GET /api/streams (answered on the main context) with N idle
connections held open (default 5000: clients that connected and sent
nothing, or keep-alive viewers between requests) and wrk hammering a
playlist (answered on the server's threads) at the same time. Prints a
table, asserts nothing.

Three runs, each of --requests API calls on fresh connections, one at a
time: the server idle; with the idle connections; with the idle
connections and wrk (-t1 -c32). The launcher's CPU and RSS are read from
/proc. The idle connections are reaped after http_request_timeout, so it
is set above the run's length.

  bench/api_under_load.py [--quick] [--json FILE] [--idle N] [--requests N]
  CASTLINE_BUILD_DIR   build with the launcher (default: build); not rebuilt
Time: about 1 minute (--quick: 1000 idle connections, 100 calls).
Needs wrk: bench/setup.sh installs it.
"""
import argparse
import http.client
import os
import resource
import shutil
import socket
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import benchlib  # noqa: E402

benchlib.setup_paths()
from launcherproc import Launcher  # noqa: E402


def api_latencies(port, n):
    """n GET /api/streams, each on a new connection; their times, ms."""
    times = []
    for _ in range(n):
        t0 = time.monotonic()
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
        conn.request("GET", "/api/streams")
        r = conn.getresponse()
        r.read()
        conn.close()
        if r.status != 200:
            raise RuntimeError(f"GET /api/streams answered {r.status}")
        times.append((time.monotonic() - t0) * 1000)
    return times


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--quick", action="store_true")
    p.add_argument("--json")
    p.add_argument("--idle", type=int)
    p.add_argument("--requests", type=int)
    args = p.parse_args()
    idle = args.idle or (1000 if args.quick else 5000)
    requests = args.requests or (100 if args.quick else 400)

    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
    work = tempfile.mkdtemp(prefix="castline-bench-api-")
    # all from 127.0.0.1: the per-address limit (5000 by default) above them
    launcher = Launcher(work, http_request_timeout=600,
                        http={"max_connections_per_address": 20000}).start()
    try:
        status, stream = launcher.api("POST", "/api/streams", {"title": "bench"})
        directory = os.path.join(work, "data", "live", stream["id"])
        os.makedirs(directory, exist_ok=True)
        with open(os.path.join(directory, "index.m3u8"), "w") as f:
            f.write("#EXTM3U\n#EXT-X-VERSION:3\n#EXT-X-TARGETDURATION:2\n#EXT-X-MEDIA-SEQUENCE:7\n"
                    + "".join(f"#EXTINF:2.0,\nsegment{n:05d}.ts\n" for n in range(7, 13)))
        pid = launcher.proc.pid
        rows, report = [], {}

        def run(name, load=None):
            cpu0, t0 = benchlib.cpu_seconds(pid), time.monotonic()
            times = api_latencies(launcher.port, requests)
            cpu = (benchlib.cpu_seconds(pid) - cpu0) / (time.monotonic() - t0)
            wrk_rate = None
            if load:
                out, _ = load.communicate(timeout=60)
                for line in out.splitlines():
                    if line.startswith("Requests/sec:"):
                        wrk_rate = float(line.split()[1])
            figures = {"p50_ms": round(benchlib.percentile(times, 0.5), 2),
                       "p99_ms": round(benchlib.percentile(times, 0.99), 2),
                       "max_ms": round(max(times), 2), "server_cpu": round(cpu, 2),
                       "rss_mib": round(benchlib.rss_kib(pid) / 1024, 1),
                       "playlist_req_s": wrk_rate}
            report[name] = figures
            rows.append([name] + list(figures.values()))

        run("idle server")
        held = []
        for _ in range(idle):
            held.append(socket.create_connection(("127.0.0.1", launcher.port), timeout=10))
        time.sleep(1)
        run(f"{idle} idle connections")
        wrk = subprocess.Popen(["wrk", "-t1", "-c32", "-d10s",
                                f"http://127.0.0.1:{launcher.port}/live/{stream['id']}/index.m3u8"],
                               stdout=subprocess.PIPE, text=True)
        time.sleep(1)
        run(f"{idle} idle connections + wrk on a playlist", wrk)
        for s in held:
            s.close()
        print(f"\n== GET /api/streams, {requests} calls on new connections, one at a time")
        benchlib.print_table(["while", "p50 ms", "p99 ms", "max ms", "server CPU", "RSS MiB",
                              "playlist req/s (wrk)"], rows)
        benchlib.write_json(args.json, {"idle": idle, "requests": requests, "runs": report})
    finally:
        launcher.stop()
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
