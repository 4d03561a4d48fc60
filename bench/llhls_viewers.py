#!/usr/bin/python3
"""LL-HLS viewers held on time: one 720p30 stream, N simulated LL-HLS viewers.

Issue 18. Runs the launcher built in $CASTLINE_BUILD_DIR (default build/)
on 127.0.0.1 with RTMP on and its defaults for HLS (Low-Latency HLS:
2 s segments, parts of hls.part_target), creates one stream and publishes
to it with FFmpeg over RTMP (rtmp_vs_nginx.make_input's 1280x720 30 fps
file, a keyframe every 2 s, pushed in a loop at real time with -c copy).

Then, for each count N: bench/llhls_load (built with the project: N
viewers in one thread, each on its own keep-alive connection following the
playlist part by part with blocking reloads, _HLS_msn/_HLS_part, and
fetching every new part whole) runs a ramp (N connections over 2 s), a
warm-up of --warmup s, then --window s measured:
  - viewers on time: every part the viewer fetched came within --late-ms
    (1000: about PART-HOLD-BACK, three parts, what an LL player holds in
    its buffer) of the moment the first viewer's playlist listed it, and
    none of its requests failed; the part delays' p50 / p99 / max;
    blocking reloads' median hold (about one part: the server answers as
    the part comes);
  - the launcher's CPU (utime + stime of every thread) in cores, and per
    viewer over its cost with no viewer (the publisher's own: RTMP ingest
    and the LL-HLS muxing); llhls_load's CPU apart; the launcher's RSS.
A count holds when every viewer is on time. Counts: --counts, then 1.5x
more up to --max while each holds. Goal: 2,000 viewers on this 2-core
machine; the client shares those cores (its CPU is given).

  bench/llhls_viewers.py [--quick] [--json FILE] [--counts 250,500,1000,2000]
                         [--max 4000] [--warmup 4] [--window 15]
  --quick   counts 100 and 500, 8 s windows: about 1 minute
Needs ffmpeg (scripts/setup.sh). Asserts nothing."""
import argparse
import json
import os
import resource
import signal
import subprocess
import sys
import tempfile
import time
import urllib.request

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
import benchlib  # noqa: E402

benchlib.setup_paths()
from launcherproc import Launcher, wait_for  # noqa: E402
from s3rver import free_port  # noqa: E402
import rtmp_vs_nginx  # noqa: E402  (its input file and FFmpeg publisher)

COUNTS = [250, 500, 1000, 2000]
GOAL = 2000
RAMP_MS = 2000
LATE_MS = 1000
RUN_BOUND_S = 1800


def load_path():
    return os.path.join(os.environ["CASTLINE_BUILD_DIR"], "bench", "llhls_load")


class Castline:
    """The launcher with RTMP on, one stream, FFmpeg publishing over RTMP."""

    def __init__(self, workdir):
        self.dir = os.path.join(workdir, "castline")
        os.makedirs(self.dir)
        self.launcher = Launcher(self.dir, idle_timeout=10, shutdown_timeout=15,
                                 rtmp={"port": free_port(), "host": "127.0.0.1"})
        self.workdir = workdir
        self.stream = None
        self.publisher = None

    def start(self, input_path):
        self.launcher.start()
        status, stream = self.launcher.api("POST", "/api/streams", {"title": "llhls viewers"})
        if status != 201:
            raise RuntimeError(f"stream creation failed: {status} {stream}")
        self.stream = stream
        self.publisher = rtmp_vs_nginx.Publisher(input_path, stream["rtmp_url"],
                                                 os.path.join(self.workdir, "ffmpeg.log"))
        if not wait_for(lambda: self.playlist_has_parts(), 40):
            raise RuntimeError("no LL-HLS playlist with parts:\n" + self.launcher.output()[-2000:])
        return self

    @property
    def path(self):
        return f"/live/{self.stream['id']}/index.m3u8"

    def playlist_has_parts(self):
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{self.launcher.port}{self.path}", timeout=5) as r:
                return "#EXT-X-PART:" in r.read().decode(errors="replace")
        except OSError:
            return False

    @property
    def pid(self):
        return self.launcher.proc.pid

    def stop(self):
        if self.publisher:
            self.publisher.stop()
        self.launcher.stop()


def run_step(server, n, warmup, window, workdir):
    row = {"viewers": n, "load_before": os.getloadavg()[0], "run_s": RAMP_MS / 1000 + warmup + window}
    client = None
    log = open(os.path.join(workdir, f"llhls_load-{n}.log"), "wb")
    if n:
        client = subprocess.Popen([load_path(), "--port", str(server.launcher.port), "--path", server.path,
                                   "--viewers", str(n), "--seconds", str(window), "--warmup", str(warmup),
                                   "--ramp-ms", str(RAMP_MS), "--late-ms", str(LATE_MS)],
                                  stdout=subprocess.PIPE, stderr=log, text=True)
    time.sleep(RAMP_MS / 1000 + warmup)
    before = {"at": time.monotonic(), "launcher": benchlib.cpu_seconds(server.pid),
              "client": benchlib.cpu_seconds(client.pid) if client else 0,
              "publisher": server.publisher.cpu(), "machine": benchlib.machine_busy()}
    time.sleep(window)
    after = {"at": time.monotonic(), "launcher": benchlib.cpu_seconds(server.pid),
             "client": benchlib.cpu_seconds(client.pid) if client else 0,
             "publisher": server.publisher.cpu(), "machine": benchlib.machine_busy()}
    span = after["at"] - before["at"]
    row.update({
        "launcher_cores": round((after["launcher"] - before["launcher"]) / span, 3),
        "client_cores": round((after["client"] - before["client"]) / span, 3),
        "publisher_cores": round(((after["publisher"] or 0) - (before["publisher"] or 0)) / span, 3),
        "machine_busy": round(benchlib.machine_share(before["machine"], after["machine"]), 3),
        "load_after": os.getloadavg()[0],
        "launcher_rss_mib": round(benchlib.rss_kib(server.pid) / 1024, 1),
        "launcher_threads": benchlib.tree_threads(server.pid),
        "publisher_alive": server.publisher.alive(),
    })
    if client:
        try:
            out, _ = client.communicate(timeout=30)
        except subprocess.TimeoutExpired:
            client.kill()
            out, _ = client.communicate()
        lines = [ln for ln in out.splitlines() if ln.startswith("{")]
        row.update(json.loads(lines[-1]) if lines else {"on_time": 0, "error": "no result"})
        row["viewers"] = n
        row["holds"] = row.get("on_time") == n and row["publisher_alive"]
    log.close()
    return row


def per_viewer(row, base):
    return benchlib.mcores_per_viewer(row, base, 3)


def step_line(row, base):
    if not row["viewers"]:
        return (f"  no viewer: launcher {row['launcher_cores']} cores, FFmpeg {row['publisher_cores']}, "
                f"machine {row['machine_busy']:.0%} (load {row['load_after']:.1f})")
    return (f"  {row['viewers']} viewers: {row.get('on_time')} on time, parts delay p50/p99/max "
            f"{row.get('part_delay_p50_ms')}/{row.get('part_delay_p99_ms')}/{row.get('part_delay_max_ms')} ms, "
            f"errors {row.get('errors')} closed {row.get('closed')} 503 {row.get('status_503')}; launcher "
            f"{row['launcher_cores']} cores ({per_viewer(row, base)} mcores a viewer), llhls_load "
            f"{row['client_cores']}, machine {row['machine_busy']:.0%} (load {row['load_after']:.1f})")


def report(rows):
    base = rows[0]
    print(f"LL-HLS viewers of one 720p30 H.264 stream, FFmpeg publishing over RTMP; a viewer is on "
          f"time when every part came within {LATE_MS} ms of its announcement; goal: {GOAL} viewers")
    benchlib.print_table(
        ["viewers", "on time", "part delay p50 / p99 / max ms", "blocking hold p50 ms", "requests/s",
         "launcher cores", "mcores a viewer", "RSS MiB", "threads", "llhls_load cores", "FFmpeg cores",
         "machine busy (load)", "holds"],
        [[r["viewers"], r.get("on_time", "-"),
          (f"{r.get('part_delay_p50_ms')} / {r.get('part_delay_p99_ms')} / {r.get('part_delay_max_ms')}"
           if r["viewers"] else "-"),
          r.get("blocking_wait_p50_ms", "-"),
          round(r.get("requests", 0) / r["run_s"]) if r["viewers"] else "-",
          r["launcher_cores"], per_viewer(r, base) if r["viewers"] else "(publisher's cost)",
          r["launcher_rss_mib"], r["launcher_threads"], r["client_cores"], r["publisher_cores"],
          f"{r['machine_busy']:.0%} ({r['load_after']:.1f})",
          ("yes" if r.get("holds") else "NO") if r["viewers"] else "-"] for r in rows])
    held = [r["viewers"] for r in rows if r["viewers"] and r.get("holds")]
    print(f"most viewers with every one on time: {max(held) if held else 0} (goal {GOAL})")
    print("  requests/s: over the whole run (ramp and warm-up too); mcores a viewer: (launcher "
          "cores - its cores with no viewer) / viewers, in thousandths of a core")


def overrun(signum, frame):
    raise RuntimeError(f"the run took over {RUN_BOUND_S} s")


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true", help="counts 100 and 500, short windows")
    ap.add_argument("--json", metavar="FILE", help="write the figures there as JSON")
    ap.add_argument("--counts", help="comma-separated viewer counts")
    ap.add_argument("--max", type=int, default=4000, help="largest count of the ramp")
    ap.add_argument("--warmup", type=float, default=4)
    ap.add_argument("--window", type=float, default=15)
    args = ap.parse_args()
    counts = [int(c) for c in args.counts.split(",")] if args.counts else COUNTS
    largest = args.max
    if args.quick:
        counts, largest, args.window = [100, 500], 500, 8
    if not os.path.exists(load_path()):
        sys.exit(f"{load_path()} is missing: build the project first")
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (min(hard, 65536), hard))
    signal.signal(signal.SIGALRM, overrun)
    signal.alarm(RUN_BOUND_S)
    rows = []
    with tempfile.TemporaryDirectory(prefix="castline-llhls-viewers-") as workdir:
        input_path = rtmp_vs_nginx.make_input(workdir, x264=("-tune", "zerolatency", "-bf", "0"))
        server = Castline(workdir).start(input_path)
        try:
            for n in [0, *benchlib.ramp_counts(counts, largest)]:
                row = run_step(server, n, args.warmup, args.window, workdir)
                rows.append(row)
                print(step_line(row, rows[0]), flush=True)
                if n and not row["holds"]:
                    break
        finally:
            server.stop()
    report(rows)
    benchlib.write_json(args.json, {"benchmark": "llhls-viewers", "machine": benchlib.machine(),
                                    "rows": rows, "late_ms": LATE_MS, "goal": GOAL,
                                    "command": "bench/llhls_viewers.py" + (" --quick" if args.quick else "")})


if __name__ == "__main__":
    main()
