#!/usr/bin/python3
"""The cost of WebRTC viewers: one 720p30 stream, N WHEP viewers.

Issue 17. Runs the launcher built in $CASTLINE_BUILD_DIR (default build/)
on 127.0.0.1 with RTMP on and `webrtc.max_viewers` above the largest
count, creates one stream, and publishes to it with FFmpeg over RTMP: a
file made once (rtmp_vs_nginx.make_input: 1280x720 30 fps testsrc2,
libx264 veryfast `-tune zerolatency -bf 0`, 2.5 Mb/s, a keyframe every
2 s, AAC 128 kb/s) pushed in a loop at real time with `-c copy`. The
stream's HLS goes on as usual (passthrough); its WebRTC viewers get the
H.264 as it came and the AAC as Opus (one encoder for the stream).

Then, for each count N: bench/whep_load (built with the project: N
webrtcbin viewers in one process, each POSTing a recvonly offer to
/whep/{id}, counting RTP and frames, decoding nothing; --drop-rtp: counted
off the socket and dropped there, which the server cannot tell, unless
--full-receivers) is started; once
every viewer is connected (or the bound passes), a warm-up of --warmup s,
then --window s measured:
  - the launcher's CPU (utime + stime of every thread, /proc), in cores,
    and per viewer over its cost with no viewer (N = 0: the publisher's
    own cost, ingest + HLS); the client's (whep_load's) CPU apart, and
    FFmpeg's; threads and RSS of the launcher;
  - each viewer's frame rate (RTP marker bits a second over the window);
    a viewer keeps up when it gets >= 90 % of the source's 30 fps;
  - the machine: its busy share and load average.
The client then DELETEs its sessions and the next count starts once the
stream shows no WebRTC viewer (or 20 s pass). A count holds when every
viewer connected and kept up. Counts: --counts, then 1.5x more up to
--max while each holds; the run stops at the first that does not.

--servers castline,janus: the same ramp against Janus 1.1.2 (Debian's,
bench/setup.sh; bench/janusproc.py), what people build WebRTC fan-out
with: its streaming plugin fed the same file over RTP by FFmpeg (H.264 as
it is, the AAC as Opus by FFmpeg), its viewers whep_load --janus (Janus 1.1
has no WHEP). MediaMTX, OvenMediaEngine and SRS are not packaged in
Debian 12 (nor on npm) and cannot be run here.

  bench/whep_viewers.py [--quick] [--json FILE] [--counts 1,10,25,50,75,100]
                        [--max 300] [--warmup 6] [--window 20]
                        [--servers castline[,janus]]
  --quick   counts 1 and 10, 4 s warm-up, 8 s windows: about 1 minute
  (default) about 1 minute a count and server
Needs ffmpeg (scripts/setup.sh) and the build's bench/whep_load. Both
clients run on the same cores as the server; their CPU is measured apart
and is never in the launcher's figure. Asserts nothing."""
import argparse
import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
import benchlib  # noqa: E402

benchlib.setup_paths()
from launcherproc import Launcher, wait_for  # noqa: E402
from s3rver import free_port  # noqa: E402
import rtmp_vs_nginx  # noqa: E402  (its input file and FFmpeg publisher)
from janusproc import Janus  # noqa: E402

FPS = rtmp_vs_nginx.FPS
KEEP_UP = 0.9             # of the source's frame rate, per viewer
COUNTS = [1, 10, 25, 50, 75, 100]
X264 = ["-tune", "zerolatency", "-bf", "0"]
RUN_BOUND_S = 1800


def whep_load_path():
    return os.path.join(os.environ["CASTLINE_BUILD_DIR"], "bench", "whep_load")


class LoadClient:
    """bench/whep_load with N viewers; its latest JSON line in .latest."""

    def __init__(self, target, viewers, log_path, full=False):
        self.log = open(log_path, "wb")
        light = [] if full else ["--drop-rtp"]
        self.proc = subprocess.Popen([whep_load_path(), *target, *light, "--viewers", str(viewers),
                                      "--spread-ms", "40", "--seconds", str(RUN_BOUND_S)],
                                     stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=self.log)
        self.latest = {}
        self.reader = threading.Thread(target=self._read, daemon=True)
        self.reader.start()

    def _read(self):
        for line in self.proc.stdout:
            try:
                self.latest = json.loads(line)
            except ValueError:
                pass

    def snapshot(self):
        return dict(self.latest)

    def cpu(self):
        try:
            return benchlib.cpu_seconds(self.proc.pid)
        except OSError:
            return None

    def stop(self):
        """SIGTERM: it DELETEs its sessions (at most 5 s), then exits."""
        rtmp_vs_nginx.end_process(self.proc, signal.SIGTERM)
        self.reader.join(timeout=5)
        self.log.close()


class Castline:
    """The launcher with RTMP on, one stream, FFmpeg publishing over RTMP."""
    name = "castline"

    def __init__(self, workdir, max_viewers):
        os.makedirs(os.path.join(workdir, "castline"))
        self.launcher = Launcher(os.path.join(workdir, "castline"), idle_timeout=10, shutdown_timeout=15,
                                 rtmp={"port": free_port(), "host": "127.0.0.1"},
                                 webrtc={"max_viewers": max_viewers})
        self.workdir = workdir
        self.stream = None
        self.publisher = None

    def start(self, input_path):
        self.launcher.start()
        status, stream = self.launcher.api("POST", "/api/streams", {"title": "whep viewers"})
        if status != 201:
            raise RuntimeError(f"stream creation failed: {status} {stream}")
        stream.setdefault("whep_url", f"http://127.0.0.1:{self.launcher.port}/whep/{stream['id']}")
        self.stream = stream
        self.publisher = rtmp_vs_nginx.Publisher(input_path, stream["rtmp_url"],
                                                 os.path.join(self.workdir, "ffmpeg-castline.log"))
        if not wait_for(lambda: self.info().get("state") == "live", 30):
            raise RuntimeError("the stream did not go live:\n" + self.launcher.output()[-2000:])
        return self

    @property
    def pid(self):
        return self.launcher.proc.pid

    def target(self):
        return ["--url", self.stream["whep_url"]]

    def info(self):
        status, s = self.launcher.api("GET", f"/api/streams/{self.stream['id']}")
        s = s if status == 200 and isinstance(s, dict) else {}
        return {k: s.get(k) for k in ("state", "viewers", "webrtc_viewers", "webrtc_seats", "reason")}

    def seats_freed(self):
        return bool(wait_for(lambda: not self.info().get("webrtc_viewers"), 20))

    def stop(self):
        if self.publisher:
            self.publisher.stop()
        self.launcher.stop()


class JanusServer:
    """Janus's streaming plugin, FFmpeg sending it RTP (bench/janusproc.py)."""
    name = "janus"

    def __init__(self, workdir, max_viewers):
        self.janus = Janus(workdir)
        self.workdir = workdir
        self.publisher = None

    def start(self, input_path):
        self.janus.start()
        self.publisher = rtmp_vs_nginx.Publisher(input_path, None,
                                                 os.path.join(self.workdir, "ffmpeg-janus.log"),
                                                 argv=self.janus.publish_command(input_path))
        time.sleep(2)
        return self

    @property
    def pid(self):
        return self.janus.pid

    def target(self):
        return ["--janus", self.janus.api_url]

    def info(self):
        return {"alive": self.janus.proc.poll() is None}

    def seats_freed(self):
        time.sleep(2)                  # whep_load has destroyed its sessions
        return True

    def stop(self):
        if self.publisher:
            self.publisher.stop()
        self.janus.stop()


SERVERS = {"castline": Castline, "janus": JanusServer}


def sample(server, clients):
    """CPU seconds of the server and of each client now, the machine's."""
    return {"at": time.monotonic(), "launcher": benchlib.cpu_seconds(server.pid),
            "clients": {name: c.cpu() for name, c in clients.items()},
            "machine": benchlib.machine_busy()}


def cores(before, after, key, name=None):
    a = after[key] if name is None else after[key][name]
    b = before[key] if name is None else before[key][name]
    if a is None or b is None:
        return None
    return (a - b) / (after["at"] - before["at"])


def run_step(server, n, warmup, window, workdir, full):
    """One count: figures of the server, the clients and every viewer."""
    publisher = server.publisher
    client = (LoadClient(server.target(), n, os.path.join(workdir, f"whep_load-{server.name}-{n}.log"),
                         full) if n else None)
    row = {"server": server.name, "viewers": n, "load_before": os.getloadavg()[0]}
    try:
        if client:
            bound = 20 + 0.3 * n
            wait_for(lambda: client.proc.poll() is not None
                     or client.latest.get("connected", 0) + client.latest.get("failed", 0) >= n, bound)
            row["connect_s"] = round(client.latest.get("t", 0), 1)
        time.sleep(warmup)
        clients = {"publisher": publisher}
        if client:
            clients["whep_load"] = client
        first = client.snapshot() if client else {}
        before = sample(server, clients)
        time.sleep(window)
        after = sample(server, clients)
        last = client.snapshot() if client else {}
        row.update({
            "launcher_cores": round(cores(before, after, "launcher"), 3),
            "publisher_cores": round(cores(before, after, "clients", "publisher") or 0, 3),
            "machine_busy": round(benchlib.machine_share(before["machine"], after["machine"]), 3),
            "load_after": os.getloadavg()[0],
            "launcher_threads": benchlib.tree_threads(server.pid),
            "launcher_rss_mib": round(benchlib.rss_kib(server.pid) / 1024, 1),
            "publisher_alive": publisher.alive(),
            "api": server.info(),
        })
        if client:
            row["client_cores"] = round(cores(before, after, "clients", "whep_load") or 0, 3)
            # over the client's own clock: its lines come once a second
            seconds = max(last.get("t", 0) - first.get("t", 0), 1e-3)
            f0, f1 = first.get("frames", []), last.get("frames", [])
            fps = [(b - a) / seconds for a, b in zip(f0, f1)]
            fps += [0.0] * (n - len(fps))           # viewers that never started
            audio = [(b - a) / seconds for a, b in zip(first.get("audio_packets", []),
                                                       last.get("audio_packets", []))]
            row.update({
                "connected": last.get("connected", 0), "failed": last.get("failed", 0),
                "statuses": last.get("statuses", {}),
                "fps_min": round(min(fps), 1), "fps_median": round(benchlib.percentile(fps, 0.5), 1),
                "audio_pps_median": round(benchlib.percentile(audio, 0.5), 1) if audio else None,
                "keeping_up": sum(1 for x in fps if x >= KEEP_UP * FPS),
            })
            row["holds"] = row["keeping_up"] == n and row["connected"] == n and row["publisher_alive"]
    finally:
        if client:
            client.stop()
            with open(client.log.name, errors="replace") as f:
                # whep_load's "viewer N: why" lines (libnice's warnings left out)
                row["client_errors"] = [ln for ln in f.read().splitlines() if ln.startswith("viewer ")][:5]
    # the seats are free again before the next count
    if n:
        row["seats_freed"] = server.seats_freed()
    return row


def measure(make_server, workdir, input_path, counts, largest, warmup, window, full):
    server = make_server(workdir, max(largest, max(counts)) + 10)
    rows = []
    try:
        server.start(input_path)
        for n in [0, *benchlib.ramp_counts(counts, largest)]:
            row = run_step(server, n, warmup, window, workdir, full)
            rows.append(row)
            print(step_line(row, rows[0]), flush=True)
            if n and not row["holds"]:
                break
    finally:
        server.stop()
    return rows


def per_viewer(row, base):
    return benchlib.mcores_per_viewer(row, base, 2)


def step_line(row, base):
    if not row["viewers"]:
        return (f"  {row['server']}, no viewer: server {row['launcher_cores']} cores, FFmpeg {row['publisher_cores']}, "
                f"machine {row['machine_busy']:.0%} (load {row['load_after']:.1f})")
    return (f"  {row['server']}, {row['viewers']} viewers: {row['connected']} connected, {row['keeping_up']} keeping up "
            f"(fps min {row['fps_min']}, median {row['fps_median']}), server {row['launcher_cores']} "
            f"cores ({per_viewer(row, base)} mcores a viewer), whep_load {row['client_cores']}, "
            f"machine {row['machine_busy']:.0%} (load {row['load_after']:.1f})")


def report(result):
    print(f"WebRTC viewers of one 720p30 H.264 stream, FFmpeg publishing; a viewer keeps up at "
          f">= {KEEP_UP * FPS:g} fps; goal: >= 50 viewers")
    table = []
    for name, rows in result["servers"].items():
        base = rows[0]
        table += [[name, r["viewers"], r.get("connected", "-"), r.get("keeping_up", "-"),
                   f"{r['fps_min']} / {r['fps_median']}" if r["viewers"] else "-",
                   r["launcher_cores"], per_viewer(r, base) if r["viewers"] else "(publisher's cost)",
                   r["launcher_threads"], r["launcher_rss_mib"], r.get("client_cores", "-"),
                   r["publisher_cores"], f"{r['machine_busy']:.0%} ({r['load_after']:.1f})",
                   ("yes" if r["holds"] else "NO") if r["viewers"] else "-"] for r in rows]
    benchlib.print_table(
        ["server", "viewers", "connected", "keeping up", "fps min / median", "server cores",
         "mcores a viewer", "threads", "RSS MiB", "whep_load cores", "FFmpeg cores",
         "machine busy (load)", "holds"], table)
    for name, rows in result["servers"].items():
        held = [r["viewers"] for r in rows if r["viewers"] and r["holds"]]
        failed = [r for r in rows if r["viewers"] and not r["holds"]]
        print(f"{name}: most viewers with every one keeping up: {max(held) if held else 0}"
              + (f"; first count that did not: {failed[0]['viewers']} ({failed[0]['keeping_up']} kept "
                 f"up, {failed[0]['connected']} connected, statuses {failed[0]['statuses']})" if failed
                 else "; no count failed (raise --max)"))
        for line in failed[0].get("client_errors", []) if failed else []:
            print(f"  whep_load: {line}")
    print("  mcores a viewer: (server cores - its cores with no viewer) / viewers, in thousandths "
          "of a core; castline's cores with no viewer are the publisher's own cost (RTMP ingest + "
          "HLS), Janus's its RTP relay's; FFmpeg cores: the publisher (for Janus it also encodes "
          "the Opus)")


class Overrun(Exception):
    pass


def overrun(signum, frame):
    raise Overrun(f"the run took over {RUN_BOUND_S} s")


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true", help="counts 1 and 10, short windows")
    ap.add_argument("--json", metavar="FILE", help="write the figures there as JSON")
    ap.add_argument("--counts", help="viewer counts to try, comma-separated")
    ap.add_argument("--max", type=int, default=300, help="go on 1.5x past the counts up to this")
    ap.add_argument("--warmup", type=float, default=6)
    ap.add_argument("--window", type=float, default=20)
    ap.add_argument("--servers", default="castline", help="castline and/or janus, comma-separated")
    ap.add_argument("--full-receivers", action="store_true",
                    help="whep_load without --drop-rtp: every packet through webrtcbin's receive path")
    args = ap.parse_args()
    servers = args.servers.split(",")
    if any(s not in SERVERS for s in servers):
        sys.exit(f"--servers: one or more of {', '.join(SERVERS)}")
    if "janus" in servers and not shutil.which("janus"):
        sys.exit("janus is not installed (bash bench/setup.sh)")
    if not shutil.which("ffmpeg"):
        sys.exit("ffmpeg is not installed (scripts/setup.sh)")
    if not os.access(whep_load_path(), os.X_OK):
        sys.exit(f"{whep_load_path()} is missing: build first (scripts/build.sh)")
    counts = [int(x) for x in args.counts.split(",")] if args.counts else COUNTS
    largest, warmup, window = args.max, args.warmup, args.window
    if args.quick:
        counts, largest, warmup, window = (counts if args.counts else [1, 10]), 0, 4, 8
    load = os.getloadavg()
    signal.signal(signal.SIGALRM, overrun)
    signal.alarm(RUN_BOUND_S)
    results = {}
    with tempfile.TemporaryDirectory(prefix="castline-whep-viewers-") as workdir:
        input_path = rtmp_vs_nginx.make_input(workdir, x264=X264)
        for name in servers:
            results[name] = measure(SERVERS[name], workdir, input_path, counts, largest, warmup, window,
                                    args.full_receivers)
    result = {"benchmark": "whep_viewers", "machine": benchlib.machine(), "load_before": load,
              "source_fps": FPS, "keep_up": KEEP_UP, "warmup_s": warmup, "window_s": window,
              "client": "full receivers" if args.full_receivers else "whep_load --drop-rtp",
              "servers": results, "command": "bench/whep_viewers.py " + " ".join(sys.argv[1:])}
    report(result)
    benchlib.write_json(args.json, result)


if __name__ == "__main__":
    main()
