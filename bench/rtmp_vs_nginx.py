#!/usr/bin/python3
"""RTMP -> HLS passthrough (issue 16): castline-launcher's RTMP ingest
against nginx with nginx-rtmp (`libnginx-mod-rtmp`, `hls on`), the
classic RTMP-to-HLS server. Same input, same segment length (2 s), both on
127.0.0.1; the two servers never run at the same time.

Input: one file made once per run with FFmpeg: 10 s of 1280x720 30 fps
`testsrc2` (a moving picture) in H.264 (libx264 veryfast, yuv420p,
2.5 Mb/s, a keyframe every 2 s exactly) plus 48 kHz AAC 128 kb/s, in MP4.
Every publisher is one FFmpeg process pushing it in a loop at real time,
`ffmpeg -re -stream_loop -1 -i in.mp4 -c copy -f flv rtmp://127.0.0.1:PORT/live/<key>`:
  castline  a stream created with POST /api/streams, published to its
            `rtmp_url`; its HLS is the launcher's (hls.target_duration 2,
            playlist_length 5); the pipeline the launcher picks
            (--castline-pipeline NAME to name one)
  nginx     nginx 1.22 from a prefix of its own, `worker_processes auto`,
            `application live { live on; hls on; hls_path DIR;
            hls_fragment 2s; hls_playlist_length 10s; }`; key = stream name

1. Cost per stream at each of --counts (1, 16, 64): a fresh server, its
   idle memory, k publishers started 50 ms apart, a warm-up until every
   playlist has a segment and --warmup s more, then a --window s (30)
   measured: the server's CPU (utime + stime from /proc of the server's
   processes only: the launcher; nginx's master and workers) per second
   and per stream, and its memory: RSS, PSS (smaps_rollup) and anonymous
   memory (RssAnon: heap and stacks), for nginx summed over its
   processes, sampled every second, the mean over the window minus the
   idle server's, per stream. PSS (and a private-pages count alike)
   moves with what else maps the same files: castline's falls as the
   FFmpegs start, both mapping libavcodec (castline through gst-libav),
   so anonymous memory is the figure to compare.
   The publishers (k FFmpeg processes) and this script share the 2 cores
   with the server: their CPU is measured apart (from /proc too) and
   printed, never counted in the server's figure; "machine busy" is the
   whole machine (/proc/stat), other work included.
2. Streams per machine: a count keeps up when, for every stream, its
   publisher is still running at the end, the listing delays (when a
   segment was listed - the end of its media in the stream) of the
   segments listed in the window grew by less than one segment (2 s) from
   the least to the last (a server that falls behind lists each segment
   later than the one before; a backlog from the start that no longer
   grows is not judged), and its playlist listed at least window - 2
   segments of media during the window (no stall at the end; a segment
   of slack for when the window starts and ends, one for the polling). The largest
   count of (1) that keeps up; if all do, 1.5 x more until one fails or
   --max (128); a count that fails is bisected against the last good one
   (to an eighth). Each server on its own.
3. Glass-to-glass latency: this script paints the wall-clock time (ms, as
   latency_stamp.js's 8x8 grid, 640x480 grey) 30 times a second and pipes
   each frame as it is painted to an FFmpeg that encodes it (libx264
   ultrafast zerolatency, 2 s GOP, plus a live AAC tone) and publishes
   it over RTMP; latency_player.mjs (bench/latency.py's player: hls.js in
   headless Chromium) plays the server's HLS and reads the time back off
   each frame shown: glass to glass = display time - paint time, both
   from this machine's clock, so it includes the publisher's encoding,
   the server, the segment length and hls.js's hold-back (per setting).

  bench/rtmp_vs_nginx.py [--quick] [--json FILE] [--counts 1,16,64] [--max N]
      [--window S] [--servers nginx,castline] [--no-latency | --latency-only]
      [--castline-pipeline NAME]
  CASTLINE_BUILD_DIR    the build with castline-launcher (default: build)
Time: about 50 s to 2 min per count and server (--window 30), the
search, and 2 x 60 s of latency: about 20 minutes. --quick: counts 1 and 4, 8 s
windows, no search, 5 + 10 s of latency: about 2 minutes.
Needs nginx with libnginx-mod-rtmp (bench/setup.sh), ffmpeg, node and
chromium (scripts/setup.sh). Asserts nothing.
"""
import argparse
import json
import os
import secrets
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import benchlib  # noqa: E402

benchlib.setup_paths()
from launcherproc import Launcher  # noqa: E402
from nginxproc import RTMP_MODULE, Nginx  # noqa: E402
from s3rver import free_port  # noqa: E402
import latency  # noqa: E402  (its player and how it summarizes it)

HLS_TIME = 2              # segment length (s) of both servers
PLAYLIST_LENGTH = 5       # segments in a live playlist (10 s)
START_SPREAD = 0.05       # s between two publishers' starts
FPS = 30
STAMP_SIZE = (640, 480)
LATENCY_CONFIGS = latency.CONFIGS[:2]     # hls.js defaults, one segment of hold-back


def make_input(directory, seconds=10, x264=(), name="in.mp4", size="1280x720", kbps=2500):
    """The publishers' file: 720p30 H.264 (2 s GOP, 2.5 Mb/s) + AAC in MP4;
    x264: more FFmpeg options for its encoder (bench/whep_viewers.py: what
    a WebRTC audience needs, no B-frames); name's extension picks the
    container (bench/srt_publishers.py: in.ts), size and kbps the video's."""
    path = os.path.join(directory, name)
    subprocess.run(["ffmpeg", "-hide_banner", "-nostdin", "-loglevel", "error", "-y",
                    "-f", "lavfi", "-i", f"testsrc2=size={size}:rate=30",
                    "-f", "lavfi", "-i", "sine=frequency=440:sample_rate=48000",
                    "-t", str(seconds), "-c:v", "libx264", "-preset", "veryfast", "-pix_fmt", "yuv420p",
                    *x264,
                    "-g", str(2 * FPS), "-keyint_min", str(2 * FPS), "-sc_threshold", "0",
                    "-b:v", f"{kbps}k", "-maxrate", f"{kbps}k", "-bufsize", f"{2 * kbps}k",
                    "-c:a", "aac", "-b:a", "128k", path], check=True, timeout=120)
    return path


# ---------------------------------------------------------------- the servers

class Stream:
    def __init__(self, publish_url, playlist, playlist_url, info=None):
        self.publish_url = publish_url      # rtmp://127.0.0.1:PORT/live/<key>
        self.playlist = playlist            # the playlist on disk
        self.playlist_url = playlist_url    # the same over HTTP
        self.info = info or {}


class NginxRtmp:
    """nginx-rtmp publishing HLS into its prefix; the HLS also served over
    HTTP (for the latency player) by the same nginx."""
    name = "nginx"

    def __init__(self, workdir):
        self.nginx = Nginx(workdir, f"nginx-rtmp-{secrets.token_hex(3)}")
        self.rtmp_port = free_port()
        self.hls_dir = os.path.join(self.nginx.dir, "hls")

    def start(self):
        os.makedirs(self.hls_dir, exist_ok=True)
        n = self.nginx
        self.nginx.start(f"""
rtmp {{
  server {{
    listen 127.0.0.1:{self.rtmp_port};
    application live {{
      live on;
      record off;
      hls on;
      hls_path {self.hls_dir};
      hls_fragment {HLS_TIME}s;
      hls_playlist_length {PLAYLIST_LENGTH * HLS_TIME}s;
    }}
  }}
}}
http {{
  access_log off;
  sendfile on;
{n.http_temp_paths()}
  types {{
    application/vnd.apple.mpegurl m3u8;
    video/mp2t ts;
  }}
  server {{
    listen 127.0.0.1:{n.port};
    location /hls/ {{
      alias {self.hls_dir}/;
      add_header Cache-Control no-cache;
      add_header Access-Control-Allow-Origin *;
    }}
  }}
}}
""", modules=[RTMP_MODULE], wait_ports=[self.rtmp_port, n.port])
        return self

    @property
    def pid(self):
        return self.nginx.proc.pid

    def new_stream(self, i):
        key = f"{i}-{secrets.token_hex(8)}"
        return Stream(f"rtmp://127.0.0.1:{self.rtmp_port}/live/{key}",
                      os.path.join(self.hls_dir, f"{key}.m3u8"),
                      f"http://127.0.0.1:{self.nginx.port}/hls/{key}.m3u8")

    def errors(self):
        return self.nginx.errors()

    def stream_problems(self, streams):
        """What the server itself says is wrong with streams: nothing here."""
        return []

    def stop(self):
        self.nginx.stop()


class Castline:
    """castline-launcher with one ingest, "rtmp" or "srt" (bench/srt_publishers.py),
    on a port of its own; publishers go to the `<ingest>_url` of each stream.
    low_latency: hls.low_latency (None: the launcher's default)."""
    name = "castline"

    def __init__(self, workdir, max_streams, pipeline=None, ingest="rtmp",
                 playlist_length=PLAYLIST_LENGTH, low_latency=None):
        directory = tempfile.mkdtemp(prefix="castline-", dir=workdir)
        self.pipeline = pipeline
        self.ingest = ingest
        self.launcher = Launcher(directory, idle_timeout=10, shutdown_timeout=15,
                                 max_live_streams=max(16, max_streams),
                                 **{ingest: {"host": "127.0.0.1"}},   # on a free port
                                 hls={"target_duration": HLS_TIME, "playlist_length": playlist_length,
                                      "max_files": 2 * playlist_length,
                                      **({} if low_latency is None else {"low_latency": low_latency})})

    def start(self):
        self.launcher.start()
        return self

    @property
    def pid(self):
        return self.launcher.proc.pid

    def new_stream(self, i):
        body = {"title": f"{self.ingest} bench {i}"}
        if self.pipeline:
            body["pipeline"] = self.pipeline
        status, s = self.launcher.api("POST", "/api/streams", body)
        url = f"{self.ingest}_url"
        if status != 201 or not s.get(url):
            raise RuntimeError(f"stream creation failed: {status} {s}")
        return Stream(s[url],
                      os.path.join(self.launcher.dir, "data", "live", s["id"], "index.m3u8"),
                      f"http://127.0.0.1:{self.launcher.port}/live/{s['id']}/index.m3u8",
                      {"id": s["id"]})

    def describe(self, stream):
        """The launcher's view of a stream: its state, pipeline and ingest."""
        status, s = self.launcher.api("GET", f"/api/streams/{stream.info['id']}")
        return {k: s.get(k) for k in ("state", "pipeline", "ingest", "reason")} if status == 200 else {}

    def stream_problems(self, streams):
        """The streams the launcher does not say are live."""
        problems = []
        for i, stream in enumerate(streams):
            seen = self.describe(stream)
            if seen.get("state") != "live":
                problems.append(f"stream {i}: {seen.get('state')} ({seen.get('reason')})")
        return problems

    def link_totals(self, streams):
        """The ingest's own link statistics (`stats.<ingest>` of each
        stream: SRT's packets lost, dropped too late, retransmitted),
        summed over streams; {} when the ingest has none."""
        totals = {}
        for stream in streams:
            status, s = self.launcher.api("GET", f"/api/streams/{stream.info['id']}")
            link = ((s or {}).get("stats") or {}).get(self.ingest) if status == 200 else None
            for key, value in (link or {}).items():
                if key.startswith("packets-") or key == "ts-resyncs":
                    totals[key] = totals.get(key, 0) + value
        return totals

    def errors(self):
        return self.launcher.output()[-2000:]

    def stop(self):
        self.launcher.stop()


# ---------------------------------------------------------------- publishers

def end_process(proc, sig=None):
    """Sends sig (None: proc is ending on its own), waits up to 10 s, then kills."""
    if sig is not None and proc.poll() is None:
        proc.send_signal(sig)
    try:
        proc.wait(timeout=10)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait(timeout=10)


class Publisher:
    """One FFmpeg pushing the file in a loop at real time (over RTMP, over
    SRT for an srt:// url, or as argv says: bench/janusproc.py's RTP)."""

    def __init__(self, input_path, url, log_path, argv=None):
        self.log = open(log_path, "wb")
        argv = argv or ["ffmpeg", "-hide_banner", "-nostdin", "-loglevel", "error",
                        "-re", "-stream_loop", "-1", "-i", input_path, "-c", "copy",
                        "-f", "mpegts" if url.startswith("srt://") else "flv", url]
        self.proc = subprocess.Popen(argv, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                                     stderr=self.log)
        self.cpu_seen = 0.0

    def cpu(self):
        """Its CPU seconds so far (the last seen, once it has ended)."""
        try:
            self.cpu_seen = benchlib.cpu_seconds(self.proc.pid)
        except OSError:
            pass
        return self.cpu_seen

    def alive(self):
        return self.proc.poll() is None

    def stop(self):
        end_process(self.proc, signal.SIGTERM)
        self.log.close()


# ---------------------------------------------------------------- one step

def listed_between(watcher, t0, t1):
    """Seconds of media in the segments first listed in (t0, t1]."""
    return sum(d for seq, (_, d) in watcher.segments.items() if t0 < watcher.seen_at[seq] <= t1)


def delay_growth(watcher, t0, t1):
    """How much later than the least the last segment first listed in
    (t0, t1] was listed after the end of its media (s): about 0 for a
    stream in real time, growing with the run for one falling behind."""
    delays = [d for seq, d in zip(sorted(watcher.segments), watcher.announce_delays(0.0))
              if t0 < watcher.seen_at[seq] <= t1]
    return delays[-1] - min(delays) if delays else None


def run_step(make_server, k, input_path, workdir, warmup, window):
    """k publishers on a fresh server; its figures and verdict. A server
    (NginxRtmp, Castline, srt_publishers.FfmpegSrt) has start(), pid (a
    process id, or a list of them: every tree_* of benchlib takes either),
    new_stream(i) -> Stream, stream_problems(streams) (what it says is
    wrong with them, each "stream <i>: ..."), errors() and stop()."""
    server = make_server().start()
    publishers, step = [], {"k": k, "window_s": window}
    try:
        time.sleep(1)
        idle = benchlib.tree_memory_kib(server.pid)
        cpu0, t0 = benchlib.tree_cpu(server.pid), time.monotonic()
        time.sleep(2)
        step["idle_cpu_per_s"] = round((benchlib.tree_cpu(server.pid) - cpu0) / (time.monotonic() - t0), 4)
        step.update({f"idle_{key}_mib": round(v / 1024, 1) for key, v in idle.items()})
        step["processes"] = len(benchlib.tree_pids(server.pid))
        step["idle_threads"] = benchlib.tree_threads(server.pid)

        streams = [server.new_stream(i) for i in range(k)]
        watchers = [benchlib.HlsWatcher(s.playlist) for s in streams]

        def poll():
            for w in watchers:
                w.poll()

        logs = os.path.join(workdir, f"{server.name}-{k}-logs")
        os.makedirs(logs, exist_ok=True)
        started = time.monotonic()
        for i, s in enumerate(streams):
            publishers.append(Publisher(input_path, s.publish_url, os.path.join(logs, f"{i}.log")))
            time.sleep(START_SPREAD)
        poll()
        # warm-up: every playlist has a segment (bounded), then `warmup` s more
        deadline = time.monotonic() + 30 + k * 0.2
        while time.monotonic() < deadline and not all(w.segments for w in watchers):
            time.sleep(0.5)
            poll()
        step["first_segments_s"] = round(time.monotonic() - started, 1)
        end_warmup = time.monotonic() + warmup
        while time.monotonic() < end_warmup:
            time.sleep(0.5)
            poll()

        # the measured window
        c0, p0, s0 = (benchlib.tree_cpu(server.pid), sum(p.cpu() for p in publishers),
                      benchlib.self_cpu_seconds())
        m0, w0 = benchlib.machine_busy(), time.monotonic()
        samples, next_sample = [], w0
        while time.monotonic() < w0 + window:
            poll()
            if time.monotonic() >= next_sample:
                samples.append(benchlib.tree_memory_kib(server.pid))
                next_sample += 1.0
            time.sleep(0.5)
        poll()
        step["threads"] = benchlib.tree_threads(server.pid)
        c1, p1, s1 = (benchlib.tree_cpu(server.pid), sum(p.cpu() for p in publishers),
                      benchlib.self_cpu_seconds())
        m1, w1 = benchlib.machine_busy(), time.monotonic()
        wall = w1 - w0

        server_cores = (c1 - c0) / wall
        memory = {key: sum(x[key] for x in samples) / len(samples) for key in idle}
        step.update({
            "server_cpu_cores": round(server_cores, 3),
            "server_cpu_per_stream": round(server_cores / k, 4),
            "publishers_cpu_cores": round((p1 - p0) / wall, 3),
            "publisher_cpu_each": round((p1 - p0) / wall / k, 4),
            "script_cpu_cores": round((s1 - s0) / wall, 3),
            "machine_busy": round(benchlib.machine_share(m0, m1), 3),
            "load_average": os.getloadavg()[0],
        })
        for key, v in memory.items():
            step[f"{key}_mib"] = round(v / 1024, 1)
            step[f"{key}_per_stream_mib"] = round((v - idle[key]) / 1024 / k, 2)

        problems, listed, growth = [], [], []
        for i, (w, p) in enumerate(zip(watchers, publishers)):
            got = listed_between(w, w0, w1)
            listed.append(got)
            growth.append(delay_growth(w, w0, w1))
            if not p.alive():
                problems.append(f"stream {i}: the publisher ended (exit {p.proc.returncode})")
            elif growth[i] is None or growth[i] >= HLS_TIME:
                problems.append(f"stream {i}: segments listed {growth[i] or 0:.1f} s later at the end")
            elif got < wall - 2 * HLS_TIME:
                problems.append(f"stream {i}: {got:.1f} s of media listed in {wall:.1f} s")
        problems += server.stream_problems(streams)
        failing = {p.split(":", 1)[0] for p in problems}          # "stream <i>"
        step.update({"keeps_up": not problems, "streams_ok": k - len(failing),
                     "problem_count": len(problems), "problems": problems[:5],
                     "least_listed_s": round(min(listed), 1), "wall_s": round(wall, 1),
                     "worst_growth_s": round(max((g for g in growth if g is not None), default=0), 2)})
        last = watchers[0].summary()[""]["last"]
        step["probe"] = benchlib.probe_segment(last)
        if isinstance(server, Castline):
            step["castline_stream"] = server.describe(streams[0])
            step["link_totals"] = server.link_totals(streams)
        if problems:
            step["server_log_tail"] = server.errors()[-800:]
    finally:
        for p in publishers:
            p.stop()
        server.stop()
    return step


def step_line(name, s):
    return (f"  {name} k={s['k']:3}: {'keeps up' if s['keeps_up'] else 'falls behind'}; "
            f"server {s.get('server_cpu_cores')} cores ({s.get('server_cpu_per_stream')} a stream, "
            f"{s.get('threads')} threads), MiB a stream RSS {s.get('rss_per_stream_mib')} / anon "
            f"{s.get('anon_per_stream_mib')} / PSS {s.get('pss_per_stream_mib')}; publishers "
            f"{s.get('publishers_cpu_cores')} cores; machine {100 * s.get('machine_busy', 0):.0f} % busy "
            f"(load {s.get('load_average', 0):.1f}); least listed {s.get('least_listed_s')} s of "
            f"{s.get('wall_s')}; {s.get('probe')}"
            + (f"; {s['problem_count']} streams: {s['problems'][0]}" if s.get("problems") else ""))


def largest_sustained(try_k, steps, cap):
    """The largest k that keeps up: beyond the counts already measured
    (steps) by 1.5 x up to cap, or bisecting below the first that failed."""
    good = max((s["k"] for s in steps if s["keeps_up"]), default=0)
    bad = min((s["k"] for s in steps if not s["keeps_up"] and s["k"] > good), default=None)
    while bad is None and good and good < cap:
        k = min(cap, int(good * 1.5))
        if try_k(k):
            good = k
        else:
            bad = k
    while bad is not None and bad - good > max(1, good // 8):
        mid = (good + bad) // 2
        good, bad = (mid, bad) if try_k(mid) else (good, mid)
    return good, bad


# ---------------------------------------------------------------- latency

def stamp_frame(ms, size=STAMP_SIZE):
    """latency_stamp.js's picture of ms as one grey frame (a byte a pixel)."""
    w, h = size
    data = [(int(ms) >> (8 * (5 - i))) & 0xFF for i in range(6)]
    a = b = 0
    for x in data:
        a = (a + x) % 255
        b = (b + a) % 255
    bits = [(byte >> (7 - j)) & 1 for byte in data + [b, a] for j in range(8)]
    rows = []
    for r in range(8):
        line = b"".join((b"\xff" if bits[r * 8 + c] else b"\x00")
                        * (round((c + 1) * w / 8) - round(c * w / 8)) for c in range(8))
        rows.append(line * (round((r + 1) * h / 8) - round(r * h / 8)))
    return b"".join(rows)


class StampPublisher(threading.Thread):
    """Paints the time FPS times a second and pipes each frame, as it is
    painted, into an FFmpeg that encodes it and publishes it over RTMP."""

    def __init__(self, url, log_path):
        super().__init__(daemon=True)
        w, h = STAMP_SIZE
        self.log = open(log_path, "wb")
        self.proc = subprocess.Popen(
            ["ffmpeg", "-hide_banner", "-loglevel", "error",
             "-f", "rawvideo", "-pix_fmt", "gray", "-video_size", f"{w}x{h}", "-framerate", str(FPS),
             # the frames pace it all: an audio input read at its own pace (-re)
             # would hold them back in FFmpeg's input queue
             "-i", "pipe:0", "-f", "lavfi", "-i", "sine=frequency=440:sample_rate=48000",
             "-map", "0:v", "-map", "1:a", "-c:v", "libx264", "-preset", "ultrafast",
             "-tune", "zerolatency", "-pix_fmt", "yuv420p", "-g", str(2 * FPS),
             "-keyint_min", str(2 * FPS), "-sc_threshold", "0", "-b:v", "1500k",
             "-c:a", "aac", "-b:a", "128k", "-f", "flv", url],
            stdin=subprocess.PIPE, stdout=subprocess.DEVNULL, stderr=self.log)
        self.halt = threading.Event()
        self.frames = 0
        self.writes = []                # how long FFmpeg took to take each frame (s)

    def run(self):
        start = time.monotonic()
        try:
            while not self.halt.is_set():
                due = start + self.frames / FPS
                delay = due - time.monotonic()
                if delay > 0:
                    time.sleep(delay)
                frame = stamp_frame(time.time() * 1000)
                began = time.monotonic()
                self.proc.stdin.write(frame)
                self.proc.stdin.flush()
                self.writes.append(time.monotonic() - began)
                self.frames += 1
        except (BrokenPipeError, ValueError):
            pass

    def stop(self):
        self.halt.set()
        self.join(5)
        try:
            self.proc.stdin.close()      # FFmpeg ends at the end of its input
        except OSError:
            pass
        end_process(self.proc)
        self.log.close()


def measure_latency(make_server, workdir, warmup, seconds):
    server = make_server().start()
    publisher = None
    try:
        stream = server.new_stream(0)
        publisher = StampPublisher(stream.publish_url, os.path.join(workdir, f"{server.name}-stamp.log"))
        publisher.start()
        watcher = benchlib.HlsWatcher(stream.playlist)
        deadline = time.monotonic() + 40
        while time.monotonic() < deadline and len(watcher.segments) < 3 and publisher.proc.poll() is None:
            time.sleep(0.2)
            watcher.poll()
        if len(watcher.segments) < 3:
            raise RuntimeError(f"{server.name}: no 3 segments within 40 s:\n{server.errors()}")
        player = subprocess.run(["node", os.path.join(benchlib.HERE, "latency_player.mjs"),
                                 "--url", stream.playlist_url, "--configs", json.dumps(LATENCY_CONFIGS),
                                 "--warmup", str(warmup), "--seconds", str(seconds)],
                                capture_output=True, text=True, timeout=warmup + seconds + 120)
        played = latency.last_json_line(player.stdout)
        if not played:
            raise RuntimeError(f"{server.name}: the player gave no result:\n{player.stderr[-2000:]}")
        watcher.poll()
        extinf = [d for _, d in watcher.segments.values()]
        return {"rows": [latency.player_row(p) for p in played["players"]],
                "frames_painted": publisher.frames,
                "frame_write_ms": {"median": round(1000 * benchlib.percentile(publisher.writes, 0.5), 1),
                                   "p95": round(1000 * benchlib.percentile(publisher.writes, 0.95), 1),
                                   "max": round(1000 * max(publisher.writes), 1)},
                "extinf_median": benchlib.percentile(extinf, 0.5)}
    finally:
        if publisher:
            publisher.stop()
        server.stop()


# ---------------------------------------------------------------- main

def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--quick", action="store_true", help="a smoke run, about 2 minutes")
    ap.add_argument("--json", metavar="FILE", help="also write the figures as JSON to FILE")
    ap.add_argument("--counts", help="stream counts measured (1,16,64; --quick 1,4)")
    ap.add_argument("--max", type=int, default=128, help="the streams-per-machine search stops here")
    ap.add_argument("--window", type=float, help="measured seconds per count (30; --quick 8)")
    ap.add_argument("--warmup", type=float, default=4, help="seconds after every first segment")
    ap.add_argument("--servers", default="nginx,castline", help="nginx and/or castline")
    ap.add_argument("--no-latency", action="store_true", help="skip the latency measurement")
    ap.add_argument("--latency-only", action="store_true", help="only the latency measurement")
    ap.add_argument("--castline-pipeline", help="the pipeline castline streams are created with")
    args = ap.parse_args()
    os.environ["PATH"] += ":/usr/sbin"          # nginx, for a user whose PATH lacks it
    for tool in ("nginx", "ffmpeg") + (() if args.no_latency else ("node", "chromium")):
        if not shutil.which(tool):
            sys.exit(f"{tool} is not installed (bench/setup.sh, scripts/setup.sh)")
    if not os.path.exists(RTMP_MODULE):
        sys.exit(f"{RTMP_MODULE} is missing: bench/setup.sh installs libnginx-mod-rtmp")
    counts = [] if args.latency_only else \
        [int(c) for c in (args.counts or ("1,4" if args.quick else "1,16,64")).split(",")]
    window = args.window or (8 if args.quick else 30)
    servers = args.servers.split(",")
    lat_warmup, lat_seconds = (5, 10) if args.quick else (10, 30)

    work = tempfile.mkdtemp(prefix="castline-rtmp-bench-")
    factories = {"nginx": lambda: NginxRtmp(work),
                 "castline": lambda: Castline(work, max(counts + [args.max]), args.castline_pipeline)}
    results = {"machine": benchlib.machine(), "quick": args.quick, "window_s": window,
               "warmup_s": args.warmup, "segment_s": HLS_TIME, "servers": {}}
    try:
        input_path = make_input(work)
        results["input"] = {"probe": benchlib.probe_segment(input_path),
                            "bytes": os.path.getsize(input_path), "seconds": 10}
        steps = {name: [] for name in servers}
        for k in counts:                # the servers in turn at each count
            for name in servers:
                s = run_step(factories[name], k, input_path, work, args.warmup, window)
                steps[name].append(s)
                print(step_line(name, s), flush=True)
        for name in servers:
            entry = {"steps": steps[name]}
            if not counts:
                good = bad = None
            elif not args.quick:
                def try_k(k, name=name):
                    s = run_step(factories[name], k, input_path, work, args.warmup, window)
                    steps[name].append(s)
                    print(step_line(name, s), flush=True)
                    return s["keeps_up"]
                good, bad = largest_sustained(try_k, steps[name], args.max)
            else:
                good = max((s["k"] for s in steps[name] if s["keeps_up"]), default=0)
                bad = min((s["k"] for s in steps[name] if not s["keeps_up"]), default=None)
            entry.update(max_sustained=good, first_failing=bad)
            results["servers"][name] = entry
        if not args.no_latency:
            for name in servers:
                results["servers"][name]["latency"] = measure_latency(factories[name], work,
                                                                      lat_warmup, lat_seconds)
    finally:
        shutil.rmtree(work, ignore_errors=True)
    report(results, counts, servers, args)
    benchlib.write_json(args.json, results)


def report(results, counts, servers, args):
    m = results["machine"]
    print(f"\nRTMP -> HLS passthrough, {HLS_TIME} s segments, {results['window_s']} s measured a count; "
          f"{m['cpu']} x{m['cores']}, load average at start {m['load_average'][0]:.2f}; input "
          f"{results['input']['probe']}")
    if counts:
        report_load(results, counts, servers)
    if not args.no_latency:
        print("\nGlass to glass (ms, median / p95): time painted -> FFmpeg x264 -> RTMP -> server -> "
              "HLS -> hls.js frame shown")
        benchlib.print_table(["server", "hls.js", "glass to glass", "hold-back", "waiting", "unread"],
                             [[n, r["name"], latency.fmt(r["glass_ms"]), latency.fmt(r["hold_back_ms"]),
                               r["waiting"], f"{r['unread']}/{r['samples']}"]
                              for n in servers for r in results["servers"][n]["latency"]["rows"]])
        for n in servers:
            w = results["servers"][n]["latency"]["frame_write_ms"]
            print(f"  {n}: FFmpeg took each frame in {w['median']} ms (median), {w['p95']} (p95), "
                  f"{w['max']} (max)")


def report_load(results, counts, servers):
    rows = []
    for k in counts:
        for name in servers:
            s = next(x for x in results["servers"][name]["steps"] if x["k"] == k)
            rows.append([k, name, s["server_cpu_cores"], s["server_cpu_per_stream"],
                         s["rss_per_stream_mib"], s["anon_per_stream_mib"], s["pss_per_stream_mib"],
                         s["publishers_cpu_cores"],
                         f"{100 * s['machine_busy']:.0f} %", "yes" if s["keeps_up"] else "no"])
    benchlib.print_table(["streams", "server", "server CPU (cores)", "CPU a stream", "RSS MiB a stream",
                          "anon MiB a stream", "PSS MiB a stream", "publishers' CPU (cores)",
                          "machine busy", "real time"],
                         rows)
    print("  server CPU: the server's processes only (/proc); the publishers (one FFmpeg each) ran on "
          "the same cores and are counted apart. Memory a stream: mean over the window minus the idle "
          "server's, over k; anon: heap and stacks; PSS falls when the publishers map the same "
          "libraries as the server (castline's libav* through gst-libav).")
    print("\nStreams per machine (every playlist gains segments in real time, publishers on the same cores):")
    benchlib.print_table(["server", "max sustained", "first failing", "largest tried"],
                         [[n, results["servers"][n]["max_sustained"],
                           results["servers"][n]["first_failing"] or "-",
                           max(s["k"] for s in results["servers"][n]["steps"])] for n in servers])


if __name__ == "__main__":
    main()
