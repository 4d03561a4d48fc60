#!/usr/bin/python3
"""Bench item 3: castline-launcher's HLS serving against nginx serving the
same files, on 127.0.0.1. Prints tables, asserts nothing.

One launcher, one live stream: an H.264 + Opus Matroska recording (720p30,
about 2 Mb/s: make_recording's moving picture) published over the WebSocket
ingest at real time, `passthrough`, 2 s segments (hls.target_duration 2,
playlist_length 6; max_files high enough that no segment is deleted during
the run). nginx (its own prefix in a temporary directory, `worker_processes
auto`, sendfile, default keep-alive) has the launcher's data_dir as root, so
/live/<id>/index.m3u8 is the same file from both.

1. wrk (`-t2 -c64 --latency`) on the playlist and on one segment: requests/s
   and p50/p99 latency, castline and nginx, each with wrk's keep-alive and
   with `-H 'Connection: close'`; castline/nginx ratios of the same mode
   against the target 0.8 (issue 14).
2. Simulated viewers (default 1000) of the stream for --seconds (60) against
   each server in turn: two processes of asyncio HTTP/1.1 clients, each
   viewer with a connection of its own kept alive when the server allows it
   (as a browser does; a request on a reused connection the server closed
   is retried once on a new one). Each viewer starts at a random moment
   within one target duration and polls the playlist once per target
   duration; its first playlist gives it its start (the newest segment, as
   a low-latency player), then it fetches every segment new to it, in
   order. It is on time if every segment it saw listed was fetched whole
   within one target duration of the playlist that listed it, no request
   failed (an error, a status other than 200, a short body) and no request
   took longer than a target duration. castline's own viewer count
   (`viewers` of GET /api/streams/{id}) is sampled during its run: every
   viewer has its own User-Agent, so it should say about 1000.
3. The descriptor limit: the launcher and nginx run with RLIMIT_NOFILE
   raised (65536, or the hard limit); a second launcher with the common
   default of 1024 then gets 1100 idle connections: does it still answer?

Both servers, wrk and the clients share this machine's cores (2 here): a
load tool takes CPU from the server it measures. The figures say so.

  bench/viewers.py [--quick] [--json FILE] [--viewers N] [--seconds S]
  CASTLINE_BUILD_DIR   build with the launcher (default: build); not rebuilt
Time: about 6 minutes (a 4-minute live stream, its recording made first);
--quick about 50 s (200 viewers for 8 s, 1 s wrk runs, no descriptor check).
Needs nginx and wrk: bench/setup.sh installs them.
"""
import argparse
import asyncio
import http.client
import multiprocessing
import os
import random
import re
import resource
import shutil
import socket
import subprocess
import tempfile
import threading
import time

import benchlib

benchlib.setup_paths()
from launcherproc import MIME, Launcher, make_recording, quote, wait_for  # noqa: E402
from nginxproc import Nginx  # noqa: E402

TARGET_DURATION = 2
REQUEST_TIMEOUT = 10       # a request's hard bound (late already after TARGET_DURATION)


def ms(seconds):
    return None if seconds is None else round(seconds * 1000, 1)


def children_cpu():
    """CPU seconds of this process's waited-for children so far (wrk)."""
    r = resource.getrusage(resource.RUSAGE_CHILDREN)
    return r.ru_utime + r.ru_stime


def raise_fd_limit(want=65536):
    """This process's soft RLIMIT_NOFILE (children inherit it) up to want,
    or to the hard limit when that is lower; returns the limit now."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    new = want if hard == resource.RLIM_INFINITY else min(want, hard)
    if new > soft:
        resource.setrlimit(resource.RLIMIT_NOFILE, (new, hard))
    return max(new, soft)


class LivePublisher(threading.Thread):
    """benchlib.publish in a thread of its own, so the stream stays live
    while the main thread runs wrk and the viewers: the recording at real
    time (MediaRecorder-like 0.5 s chunks), its first `burst` seconds at
    once so the first segments come sooner. stop() cuts it short."""

    def __init__(self, port, stream, recording, burst):
        super().__init__(daemon=True)
        self.port, self.stream, self.burst = port, stream, burst
        self.frames = benchlib.ws_frames(benchlib.recorder_chunks(recording))
        self.result, self.loop, self.task = None, None, None
        self.ready = threading.Event()

    def run(self):
        async def main():
            self.loop = asyncio.get_running_loop()
            target = (f"/ingest/{self.stream['id']}?key={quote(self.stream['key'])}"
                      f"&mimeType={quote(MIME['h264'])}")
            self.task = asyncio.ensure_future(benchlib.publish(
                self.port, target, self.frames, self.loop.time() - self.burst))
            self.ready.set()
            try:
                self.result = await self.task
            except asyncio.CancelledError:
                pass
        asyncio.run(main())

    def stop(self, timeout=30):
        if self.ready.wait(5) and self.is_alive():
            self.loop.call_soon_threadsafe(self.task.cancel)
        self.join(timeout)


# ---------------------------------------------------------------- nginx

def start_nginx(root, workdir):
    """nginx serving `root` on 127.0.0.1 like the launcher serves HLS."""
    nginx = Nginx(workdir)
    return nginx.start(f"""
http {{
  access_log off;
  sendfile on;
  tcp_nopush on;
{nginx.http_temp_paths()}
  types {{
    application/vnd.apple.mpegurl m3u8;
    video/mp2t ts;
    video/iso.segment m4s;
    video/mp4 mp4;
  }}
  default_type application/octet-stream;
  server {{
    listen 127.0.0.1:{nginx.port};
    root {root};
    # the headers castline sends
    location ~ \\.m3u8$ {{
      add_header Cache-Control no-cache;
      add_header Access-Control-Allow-Origin *;
    }}
    location ~ \\.ts$ {{
      add_header Cache-Control "max-age=86400, immutable";
      add_header Access-Control-Allow-Origin *;
    }}
  }}
}}
""")


def http_get(port, path, timeout=10):
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=timeout)
    try:
        conn.request("GET", path)
        r = conn.getresponse()
        return r.status, r.read()
    finally:
        conn.close()


# ---------------------------------------------------------------- wrk

def wrk_seconds(text):
    m = re.match(r"([\d.]+)(us|ms|s|m)$", text)
    value, unit = float(m.group(1)), m.group(2)
    return value * {"us": 1e-6, "ms": 1e-3, "s": 1.0, "m": 60.0}[unit]


def run_wrk(url, seconds, close, server_pid):
    """wrk -t2 -c64 on url: requests/s, latency p50/p99, errors, and the CPU
    the server and wrk took meanwhile (each as a share of one core)."""
    cmd = ["wrk", "-t2", "-c64", f"-d{seconds}s", "--latency", url]
    if close:
        cmd[1:1] = ["-H", "Connection: close"]
    cpu0, t0 = benchlib.tree_cpu(server_pid), time.monotonic()
    wrk0 = children_cpu()
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    out, _ = proc.communicate(timeout=seconds + 30)
    elapsed = time.monotonic() - t0
    server_cpu = benchlib.tree_cpu(server_pid) - cpu0
    wrk_cpu = children_cpu() - wrk0
    rps = re.search(r"Requests/sec:\s+([\d.]+)", out)
    if proc.returncode != 0 or not rps:
        raise RuntimeError(f"wrk failed ({proc.returncode}):\n{out}")
    lat = dict(re.findall(r"^\s+(50|99)%\s+(\S+)\s*$", out, re.M))
    sock = re.search(r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", out)
    non2xx = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    return {
        "requests_per_second": float(rps.group(1)),
        "p50_ms": ms(wrk_seconds(lat["50"])) if "50" in lat else None,
        "p99_ms": ms(wrk_seconds(lat["99"])) if "99" in lat else None,
        "requests": int(re.search(r"(\d+) requests in", out).group(1)),
        "socket_errors": sum(int(g) for g in sock.groups()) if sock else 0,
        "non_2xx": int(non2xx.group(1)) if non2xx else 0,
        "server_cpu_cores": round(server_cpu / elapsed, 2),
        "server_cpu_us_per_request": round(server_cpu / max(1, int(
            re.search(r"(\d+) requests in", out).group(1))) * 1e6, 1),
        "wrk_cpu_cores": round(wrk_cpu / elapsed, 2),
    }


# ---------------------------------------------------------------- viewers

class HttpConnection:
    """One viewer's HTTP/1.1 connection, kept alive while the server allows."""

    def __init__(self, port, user_agent):
        self.port, self.user_agent = port, user_agent
        self.reader = self.writer = None

    def close(self):
        if self.writer:
            self.writer.close()
        self.reader = self.writer = None

    async def get(self, path, keep_body):
        """(status, body bytes if keep_body else its length); raises
        OSError, asyncio.IncompleteReadError or ValueError on failure."""
        request = (f"GET {path} HTTP/1.1\r\nHost: 127.0.0.1:{self.port}\r\n"
                   f"User-Agent: {self.user_agent}\r\nAccept: */*\r\n\r\n").encode()
        for attempt in (0, 1):
            reused = self.writer is not None
            if not reused:
                self.reader, self.writer = await asyncio.open_connection("127.0.0.1", self.port)
            try:
                self.writer.write(request)
                head = await self.reader.readuntil(b"\r\n\r\n")
                break
            except (OSError, asyncio.IncompleteReadError):
                self.close()
                if not reused or attempt:
                    raise
        lines = head.decode("latin-1").split("\r\n")
        status = int(lines[0].split()[1])
        headers = {}
        for line in lines[1:]:
            if ":" in line:
                k, v = line.split(":", 1)
                headers[k.strip().lower()] = v.strip()
        if "content-length" not in headers:
            raise ValueError("no Content-Length")
        remaining = int(headers["content-length"])
        body, got = [], 0
        while remaining > 0:
            chunk = await self.reader.read(min(remaining, 1 << 18))
            if not chunk:
                raise asyncio.IncompleteReadError(b"", remaining)
            remaining -= len(chunk)
            got += len(chunk)
            if keep_body:
                body.append(chunk)
        if headers.get("connection", "").lower() == "close":
            self.close()
        return status, (b"".join(body) if keep_body else got)


class ViewerStats:
    def __init__(self):
        self.playlist_times, self.segment_times = [], []
        self.failures = self.late = self.segments = self.bytes = 0
        self.on_time = self.viewers = self.ended_early = 0
        self.errors = {}

    def failed(self, what):
        self.failures += 1
        self.errors[what] = self.errors.get(what, 0) + 1


async def timed_get(conn, path, keep_body, loop):
    t0 = loop.time()
    status, body = await asyncio.wait_for(conn.get(path, keep_body), REQUEST_TIMEOUT)
    return status, body, loop.time() - t0


async def one_viewer(index, port, stream_dir, start, end, stats):
    loop = asyncio.get_running_loop()
    conn = HttpConnection(port, f"castline-bench-viewer/{index}")
    seen, first, on_time = set(), True, True
    next_poll = start
    try:
        while True:
            await asyncio.sleep(max(0.0, next_poll - loop.time()))
            poll_start = loop.time()
            if poll_start >= end:
                break
            next_poll = poll_start + TARGET_DURATION
            try:
                status, body, took = await timed_get(conn, f"{stream_dir}/index.m3u8", True, loop)
            except (OSError, asyncio.IncompleteReadError, ValueError, asyncio.TimeoutError) as e:
                stats.failed(f"playlist: {type(e).__name__}")
                on_time = False
                conn.close()
                continue
            listed_at = loop.time()
            stats.playlist_times.append(took)
            if status != 200:
                stats.failed(f"playlist: HTTP {status}")
                on_time = False
                continue
            if took > TARGET_DURATION:
                stats.late += 1
                on_time = False
            text = body.decode(errors="replace")
            names = [line for line in text.splitlines() if line and not line.startswith("#")]
            new = [n for n in names if n not in seen]
            if first:               # start at the live edge
                seen.update(new[:-1])
                new = new[-1:]
                first = False
            for name in new:
                seen.add(name)
                try:
                    status, size, took = await timed_get(conn, f"{stream_dir}/{name}", False, loop)
                except (OSError, asyncio.IncompleteReadError, ValueError,
                        asyncio.TimeoutError) as e:
                    stats.failed(f"segment: {type(e).__name__}")
                    on_time = False
                    conn.close()
                    continue
                stats.segment_times.append(took)
                if status != 200:
                    stats.failed(f"segment: HTTP {status}")
                    on_time = False
                    continue
                stats.segments += 1
                stats.bytes += size
                if took > TARGET_DURATION or loop.time() - listed_at > TARGET_DURATION:
                    stats.late += 1
                    on_time = False
            if "#EXT-X-ENDLIST" in text:
                stats.ended_early += 1
                break
            next_poll = max(next_poll, loop.time())
    finally:
        conn.close()
    stats.viewers += 1
    stats.on_time += on_time


def viewer_process(args):
    """One process's share of the viewers (run through multiprocessing)."""
    indices, port, stream_dir, start_wall, seconds, seed = args
    raise_fd_limit()

    async def main():
        loop = asyncio.get_running_loop()
        start = loop.time() + (start_wall - time.time())
        stats = ViewerStats()
        rng = random.Random(seed)
        await asyncio.gather(*(one_viewer(i, port, stream_dir,
                                          start + rng.uniform(0, TARGET_DURATION),
                                          start + seconds, stats) for i in indices))
        return stats.__dict__

    return asyncio.run(main())


def run_viewers(port, stream_dir, viewers, seconds, processes=2):
    start_wall = time.time() + 2.0     # the processes' start-up, then all begin together
    shares = [(list(range(k, viewers, processes)), port, stream_dir, start_wall, seconds, k)
              for k in range(processes)]
    with multiprocessing.get_context("spawn").Pool(processes) as pool:
        parts = pool.map(viewer_process, shares)
    total = ViewerStats().__dict__
    for part in parts:
        for key, value in part.items():
            if key == "errors":
                for k, v in value.items():
                    total["errors"][k] = total["errors"].get(k, 0) + v
            else:
                total[key] += value
    return total


def summarize_viewers(total, seconds):
    return {
        "viewers": total["viewers"],
        "on_time": total["on_time"],
        "failed_requests": total["failures"],
        "late_requests": total["late"],
        "errors": total["errors"],
        "ended_early": total["ended_early"],
        "segments_fetched": total["segments"],
        "mbit_per_second": round(total["bytes"] * 8 / 1e6 / seconds, 1),
        "playlist_ms": {"p50": ms(benchlib.percentile(total["playlist_times"], 0.5)),
                        "p99": ms(benchlib.percentile(total["playlist_times"], 0.99)),
                        "max": ms(max(total["playlist_times"], default=None))},
        "segment_ms": {"p50": ms(benchlib.percentile(total["segment_times"], 0.5)),
                       "p99": ms(benchlib.percentile(total["segment_times"], 0.99)),
                       "max": ms(max(total["segment_times"], default=None))},
    }


class ViewerCountSampler(threading.Thread):
    """Samples the launcher's `viewers` of a stream every 2 s."""

    def __init__(self, launcher, stream_id):
        super().__init__(daemon=True)
        self.launcher, self.stream_id = launcher, stream_id
        self.samples, self.done = [], threading.Event()

    def run(self):
        while not self.done.wait(2.0):
            try:
                status, s = self.launcher.api("GET", f"/api/streams/{self.stream_id}")
                if status == 200:
                    self.samples.append(s.get("viewers"))
            except OSError:
                pass

    def stop(self):
        self.done.set()
        self.join(10)
        return self.samples


def metrics_viewers(launcher, stream_id):
    status, _, body = launcher.request("GET", "/metrics")
    if status != 200:
        return None
    m = re.search(r'^castline_stream_viewers\{stream="%s"\} (\S+)$' % re.escape(stream_id),
                  body.decode(), re.M)
    return float(m.group(1)) if m else None


# ---------------------------------------------------------------- descriptor limit

def fd_limit_check(workdir, connections=1100, limit=1024):
    """A launcher started with RLIMIT_NOFILE `limit` gets `connections`
    connections that send nothing: does an API request still get through,
    and what does the daemon do meanwhile?"""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    directory = os.path.join(workdir, "fdcheck")
    os.makedirs(directory)
    resource.setrlimit(resource.RLIMIT_NOFILE, (limit, hard))
    try:
        launcher = Launcher(directory).start()
    finally:
        resource.setrlimit(resource.RLIMIT_NOFILE, (soft, hard))
    socks, result = [], {"rlimit_nofile": limit, "idle_connections": connections}
    try:
        pid = launcher.proc.pid
        for _ in range(connections):
            try:
                socks.append(socket.create_connection(("127.0.0.1", launcher.port), timeout=2))
            except OSError:
                break
        result["connected"] = len(socks)
        time.sleep(1.0)
        cpu0 = benchlib.tree_cpu(pid)
        t0 = time.monotonic()
        try:
            status, _, _ = launcher.request("GET", "/api/streams", timeout=3)
            result["api_while_loaded"] = f"HTTP {status} in {ms(time.monotonic() - t0)} ms"
        except OSError as e:
            result["api_while_loaded"] = f"failed after {ms(time.monotonic() - t0)} ms: {e}"
        time.sleep(max(0.0, 3.0 - (time.monotonic() - t0)))
        result["launcher_cpu_cores_while_loaded"] = round(
            (benchlib.tree_cpu(pid) - cpu0) / (time.monotonic() - t0), 2)
        result["launcher_fds"] = len(os.listdir(f"/proc/{pid}/fd"))
        for s in socks:
            s.close()
        socks = []
        time.sleep(3.0)     # the listener's scan closes what the clients left
        try:
            status, _, _ = launcher.request("GET", "/api/streams", timeout=3)
            result["api_after"] = f"HTTP {status}"
        except OSError as e:
            result["api_after"] = f"failed: {e}"
        result["launcher_alive"] = launcher.proc.poll() is None
    finally:
        for s in socks:
            s.close()
        launcher.stop()
    log = launcher.output()
    result["log_lines_too_many_open_files"] = log.count("Too many open files")
    result["log_bytes"] = len(log)
    return result


# ---------------------------------------------------------------- main

class Plan:
    """How long each phase takes, and so how long the stream must be."""

    def __init__(self, args):
        self.quick = args.quick
        self.wrk_s = 1 if args.quick else 10
        self.settle_s = 0.5 if args.quick else 1.5     # between wrk runs: TIME_WAIT, scans
        self.viewers_s = args.seconds or (8 if args.quick else 60)
        self.viewers = args.viewers or (200 if args.quick else 1000)
        self.size = (640, 360) if args.quick else (1280, 720)
        # first segments + 8 wrk runs + 2 viewer runs (each: start-up, a
        # target duration of random starts, the run, a pause) + a margin
        self.stream_s = int(6 + 8 * (self.wrk_s + self.settle_s)
                            + 2 * (self.viewers_s + 6) + (5 if args.quick else 15))


def measure_wrk(plan, launcher, nginx, playlist_path, segment_path):
    results = {"playlist": {}, "segment": {}}
    servers = [(f"{name}_{mode}", port, pid, mode == "close")
               for name, port, pid in (("castline", launcher.port, launcher.proc.pid),
                                       ("nginx", nginx.port, nginx.proc.pid))
               for mode in ("keepalive", "close")]
    for target, path in (("playlist", playlist_path), ("segment", segment_path)):
        for server, port, pid, close in servers:
            results[target][server] = run_wrk(f"http://127.0.0.1:{port}{path}", plan.wrk_s, close,
                                              pid)
            time.sleep(plan.settle_s)
    rows = []
    for target in ("playlist", "segment"):
        for mode in ("keepalive", "close"):
            c = results[target][f"castline_{mode}"]["requests_per_second"]
            n = results[target][f"nginx_{mode}"]["requests_per_second"]
            results[f"{target}_ratio_{mode}"] = round(c / n, 3) if n else None
        for server, _, _, _ in servers:
            r = results[target][server]
            rows.append([target, server.replace("_", " "), f"{r['requests_per_second']:.0f}",
                         r["p50_ms"], r["p99_ms"], r["socket_errors"] + r["non_2xx"],
                         r["server_cpu_cores"], r["server_cpu_us_per_request"],
                         r["wrk_cpu_cores"]])
    return results, rows


def measure_viewers(plan, launcher, nginx, sid):
    out, rows = {}, []
    for server, port, pid in (("castline", launcher.port, launcher.proc.pid),
                              ("nginx", nginx.port, nginx.proc.pid)):
        sampler = ViewerCountSampler(launcher, sid) if server == "castline" else None
        if sampler:
            sampler.start()
        cpu0, clients0, t0 = benchlib.tree_cpu(pid), children_cpu(), time.monotonic()
        summary = summarize_viewers(run_viewers(port, f"/live/{sid}", plan.viewers,
                                                plan.viewers_s), plan.viewers_s)
        elapsed = time.monotonic() - t0
        summary["server_cpu_cores"] = round((benchlib.tree_cpu(pid) - cpu0) / elapsed, 2)
        summary["clients_cpu_cores"] = round((children_cpu() - clients0) / elapsed, 2)
        if sampler:
            samples = sampler.stop()
            summary["castline_viewer_count"] = {"samples": samples,
                                                "max": max(samples, default=None),
                                                "metrics_after": metrics_viewers(launcher, sid)}
            summary["launcher_rss_mib"] = round(benchlib.rss_kib(pid) / 1024, 1)
        out[server] = summary
        rows.append([server, f"{summary['on_time']}/{plan.viewers}", summary["failed_requests"],
                     summary["late_requests"], summary["playlist_ms"]["p50"],
                     summary["playlist_ms"]["p99"], summary["segment_ms"]["p50"],
                     summary["segment_ms"]["p99"], summary["mbit_per_second"],
                     summary["server_cpu_cores"], summary["clients_cpu_cores"]])
        time.sleep(1 if plan.quick else 3)
    return out, rows


def playlist_segments(port, path):
    status, body = http_get(port, path)
    return [line for line in body.decode().splitlines()
            if line and not line.startswith("#")] if status == 200 else []


def live_phase(plan, workdir, figures):
    """Items 1 and 2 against one live stream; fills figures."""
    # x264 ultrafast makes 720p at a few times real time on an idle machine
    recording = make_recording(workdir, "h264", seconds=plan.stream_s, size=plan.size,
                               timeout=60 + 2 * plan.stream_s)
    figures["stream"]["input"] = (f"H.264 {plan.size[0]}x{plan.size[1]} 30 fps + Opus Matroska, "
                                  f"{len(recording) * 8 / 1e6 / plan.stream_s:.2f} Mb/s, "
                                  "WebSocket ingest at real time")
    launcher = nginx = publisher = None
    try:
        launcher = Launcher(workdir, idle_timeout=10, hls={
            "target_duration": TARGET_DURATION, "playlist_length": 6, "max_files": 1000}).start()
        data_dir = os.path.join(workdir, "data")
        nginx = start_nginx(data_dir, workdir)
        status, stream = launcher.api("POST", "/api/streams", {"title": "bench viewers"})
        assert status == 201, stream
        sid = stream["id"]
        publisher = LivePublisher(launcher.port, stream, recording, burst=4)
        publisher.start()
        playlist_path = f"/live/{sid}/index.m3u8"
        names = wait_for(lambda: (n := playlist_segments(launcher.port, playlist_path))
                         and len(n) >= 2 and n, 30, 0.2)
        if not names:
            raise RuntimeError("no playlist with 2 segments:\n" + launcher.output()[-3000:])
        segment_path = f"/live/{sid}/{names[-1]}"
        segment_bytes = os.path.getsize(os.path.join(data_dir, "live", sid, names[-1]))
        for port in (launcher.port, nginx.port):      # the same bytes from both
            got_status, body = http_get(port, segment_path)
            assert got_status == 200 and len(body) == segment_bytes, (port, got_status)
        figures["segment_bytes"] = segment_bytes

        figures["wrk"], rows = measure_wrk(plan, launcher, nginx, playlist_path, segment_path)
        figures["wrk"]["command"] = f"wrk -t2 -c64 -d{plan.wrk_s}s --latency URL [-H 'Connection: close']"
        print(f"\n== wrk -t2 -c64 -d{plan.wrk_s}s: the playlist, and one {segment_bytes} B "
              "segment (CPU: cores used, and the server's CPU per request;\n   servers and wrk "
              "share the machine's cores)")
        benchlib.print_table(["request", "server", "req/s", "p50 ms", "p99 ms", "errors",
                              "server CPU", "us/req", "wrk CPU"], rows)
        w = figures["wrk"]
        print("castline/nginx req/s, same client mode (target >= 0.8, issue 14): " + ", ".join(
            f"{t} {w[f'{t}_ratio_keepalive']:.2f} with keep-alive, "
            f"{w[f'{t}_ratio_close']:.2f} with close" for t in ("playlist", "segment")))

        figures["viewers"], rows = measure_viewers(plan, launcher, nginx, sid)
        figures["viewers"].update(count=plan.viewers, seconds=plan.viewers_s)
        print(f"\n== {plan.viewers} simulated viewers for {plan.viewers_s} s, {TARGET_DURATION} s "
              "segments (target: every viewer on time; times in ms)")
        benchlib.print_table(["server", "on time", "failed", "late", "playlist p50", "p99",
                              "segment p50", "p99", "Mb/s", "server CPU", "clients CPU"], rows)
        count = figures["viewers"]["castline"]["castline_viewer_count"]
        print(f"castline's own viewer count during its run: max {count['max']} (every 2 s: "
              f"{count['samples']}), /metrics right after: {count['metrics_after']}; launcher RSS "
              f"{figures['viewers']['castline']['launcher_rss_mib']} MiB")
        for server in ("castline", "nginx"):
            if figures["viewers"][server]["errors"]:
                print(f"{server} errors: {figures['viewers'][server]['errors']}")
        figures["publisher_kept_up"] = publisher.is_alive()
        if not publisher.is_alive():
            print("warning: the stream ended before the last run did (recording too short)")
    finally:
        if publisher:
            publisher.stop()
        if nginx:
            nginx.stop()
        if launcher:
            launcher.stop()


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--quick", action="store_true", help="a smoke run, under 60 s")
    ap.add_argument("--json", metavar="FILE", help="also write the figures as JSON to FILE")
    ap.add_argument("--viewers", type=int, help="simulated viewers (1000; --quick 200)")
    ap.add_argument("--seconds", type=int, help="seconds of each viewer run (60; --quick 8)")
    args = ap.parse_args()
    os.environ["PATH"] += ":/usr/sbin"          # nginx, for a user whose PATH lacks it
    for tool in ("nginx", "wrk"):
        if not shutil.which(tool):
            raise SystemExit(f"{tool} is not installed: run bench/setup.sh")
    plan = Plan(args)
    t_start = time.monotonic()
    figures = {"machine": benchlib.machine(), "quick": args.quick,
               "rlimit_nofile": raise_fd_limit(),
               "stream": {"seconds": plan.stream_s, "target_duration": TARGET_DURATION,
                          "pipeline": "passthrough"}}
    workdir = tempfile.mkdtemp(prefix="castline-bench-viewers-")
    try:
        live_phase(plan, workdir, figures)
        if not args.quick:
            check = fd_limit_check(workdir)
            figures["fd_limit_check"] = check
            print(f"\n== a launcher at RLIMIT_NOFILE {check['rlimit_nofile']} given "
                  f"{check['connected']} idle connections: API {check['api_while_loaded']}; "
                  f"daemon CPU {check['launcher_cpu_cores_while_loaded']} cores, "
                  f"{check['launcher_fds']} descriptors; after they closed: API "
                  f"{check['api_after']}; 'Too many open files' {check['log_lines_too_many_open_files']}"
                  f" times in its log ({check['log_bytes']} bytes)")
    finally:
        shutil.rmtree(workdir, ignore_errors=True)
    figures["elapsed_s"] = round(time.monotonic() - t_start, 1)
    print(f"\n(took {figures['elapsed_s']} s; load average at start "
          f"{figures['machine']['load_average'][0]:.2f}: other load lowers every figure)")
    benchlib.write_json(args.json, figures)


if __name__ == "__main__":
    main()
