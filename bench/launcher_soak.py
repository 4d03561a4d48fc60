#!/usr/bin/python3
"""castline-launcher soak: does a long-running daemon hold flat memory?

Runs the real launcher on 127.0.0.1 for --minutes with --streams streams
live at all times and --viewers simulated HLS viewers watching them:

- each stream slot publishes for --stream-seconds, then ends its stream
  and creates the next one; the slots take turns among the ingests:
  WebSocket (a MediaRecorder-like H.264 + Opus WebM, paced at real time),
  RTMP (ffmpeg -re -c copy, H.264 + AAC) and SRT (likewise, MPEG-TS), and
  every other stream is recorded, so each lifecycle path runs over and
  over (admission, pipeline, finalize, recording, webhooks-free events);
- the viewers (asyncio, one HTTP/1.1 connection a request) each poll a
  live stream's playlist every 2 s with ?viewer=<id> and fetch its newest
  segment when it changes, so they are counted as viewers;
- an SSE client follows /api/events throughout, and once a minute a burst
  of 200 API and 404 requests, 20 connections that send nothing and 20
  WebSocket upgrades with a wrong key arrives.

Every --interval seconds it samples the daemon's RSS, descriptors and
threads. At the end it prints the table's summary: the growth of RSS
over the last half of the run (a least-squares line through the samples
of the second half: its rise over that half, in KiB and as a share of
its mean), the same for descriptors, and writes the samples (--json) and
a plot of RSS and descriptors over time (--png, matplotlib from
bench/setup.sh). Asserts nothing.

  bench/launcher_soak.py [--minutes 60] [--streams 5] [--viewers 200]
      [--stream-seconds 120] [--interval 10]
      [--png docs/launcher-soak.png] [--json bench-results/launcher-soak.json]
  CASTLINE_BUILD_DIR    build directory (default: build)
"""
import argparse
import asyncio
import http.client
import os
import random
import socket
import subprocess
import sys
import tempfile
import threading
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
import benchlib  # noqa: E402

benchlib.setup_paths()
from launcherproc import MIME, Launcher, make_recording, quote  # noqa: E402
from wsclient import WsClient  # noqa: E402

INGESTS = ("websocket", "rtmp", "srt")


def fds(pid):
    return len(os.listdir(f"/proc/{pid}/fd"))


def make_ts_input(directory, seconds):
    """An H.264 + AAC file of seconds for ffmpeg -c copy (RTMP and SRT)."""
    path = os.path.join(directory, "input.mp4")
    subprocess.run(["ffmpeg", "-v", "error", "-f", "lavfi", "-i", "testsrc=size=320x240:rate=30",
                    "-f", "lavfi", "-i", "sine=frequency=440:sample_rate=44100",
                    "-t", str(seconds), "-c:v", "libx264", "-preset", "ultrafast",
                    "-pix_fmt", "yuv420p", "-g", "60", "-c:a", "aac", "-b:a", "96k",
                    "-ac", "2", path], check=True, timeout=300, capture_output=True)
    return path


class Soak:
    def __init__(self, args, work):
        self.args = args
        self.stop = threading.Event()
        self.live = []                 # ids of the streams being published
        self.lock = threading.Lock()
        self.errors = []               # what went wrong, for the summary
        self.streams_done = 0
        self.webm = make_recording(work, "h264", seconds=args.stream_seconds)
        self.media = make_ts_input(work, args.stream_seconds)
        self.launcher = Launcher(work, idle_timeout=5, shutdown_timeout=15,
                                 hls={"max_files": 6, "playlist_length": 4},
                                 rtmp={}, srt={}).start()

    # the publishers

    def slot(self, n):
        turn = n
        while not self.stop.is_set():
            ingest = INGESTS[turn % len(INGESTS)]
            try:
                self.publish_one(ingest, record=turn % 2 == 0)
                self.streams_done += 1
            except Exception as e:     # noqa: BLE001 - a soak goes on
                if not self.stop.is_set():     # not the daemon's own end
                    self.errors.append(f"{ingest}: {e}")
                time.sleep(2)
            turn += 1

    def publish_one(self, ingest, record):
        status, s = self.launcher.api("POST", "/api/streams",
                                      {"title": f"soak {ingest}", "record": record})
        if status != 201:
            raise RuntimeError(f"create answered {status}: {s}")
        with self.lock:
            self.live.append(s["id"])
        try:
            if ingest == "websocket":
                self.publish_ws(s)
            else:
                url = s["rtmp_url"] if ingest == "rtmp" else s["srt_url"]
                fmt = "flv" if ingest == "rtmp" else "mpegts"
                p = subprocess.Popen(["ffmpeg", "-v", "error", "-nostdin", "-re", "-i", self.media,
                                      "-c", "copy", "-f", fmt, url],
                                     stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
                try:
                    _, err = p.communicate(timeout=self.args.stream_seconds + 60)
                except subprocess.TimeoutExpired:
                    p.kill()
                    _, err = p.communicate()
                if p.returncode != 0:
                    raise RuntimeError(f"ffmpeg exited {p.returncode}: {err.decode()[-300:]}")
        finally:
            with self.lock:
                self.live.remove(s["id"])
        # the end: its publisher said so (WebSocket stop-stream, RTMP
        # deleteStream); an SRT caller that closes is a lost publisher
        # (interrupted), which the operator ends
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            state = self.launcher.api("GET", f"/api/streams/{s['id']}")[1]["state"]
            if state == "interrupted":
                self.launcher.api("DELETE", f"/api/streams/{s['id']}")
            elif state in ("ended", "failed"):
                if state == "failed":
                    raise RuntimeError(f"stream {s['id']} failed")
                return
            time.sleep(0.5)
        raise RuntimeError(f"stream {s['id']} did not end")

    def publish_ws(self, s):
        ws = WsClient(self.launcher.port, f"/ingest/{s['id']}?key={quote(s['key'])}"
                      f"&mimeType={quote(MIME['h264'])}")
        if ws.status != 101:
            raise RuntimeError(f"WebSocket upgrade answered {ws.status}")
        data = self.webm
        step = 16384
        pace = self.args.stream_seconds / max(1, len(data) // step)
        start = time.monotonic()
        for n, i in enumerate(range(0, len(data), step)):
            ws.send_binary(data[i:i + step])
            delay = start + (n + 1) * pace - time.monotonic()
            if delay > 0:
                time.sleep(delay)
        ws.send_text('{"type":"stop-stream"}')
        ws.wait_close()
        ws.close()

    # the viewers

    async def fetch(self, path):
        reader, writer = await asyncio.open_connection("127.0.0.1", self.launcher.port)
        try:
            writer.write(f"GET {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n"
                         .encode())
            await writer.drain()
            data = await asyncio.wait_for(reader.read(), 20)
        finally:
            writer.close()
        head, _, body = data.partition(b"\r\n\r\n")
        status = int(head.split(b" ", 2)[1]) if head.startswith(b"HTTP/") else 0
        return status, body

    async def viewer(self, n):
        viewer_id = f"soak{n:04d}"
        newest = None
        stream = None
        await asyncio.sleep(random.uniform(0, 2))
        while not self.stop.is_set():
            with self.lock:
                if stream not in self.live:
                    stream = random.choice(self.live) if self.live else None
            if stream:
                try:
                    status, body = await self.fetch(f"/live/{stream}/index.m3u8?viewer={viewer_id}")
                    if status == 200:
                        names = [ln for ln in body.decode(errors="replace").splitlines()
                                 if ln and not ln.startswith("#")]
                        if names and names[-1] != newest:
                            newest = names[-1]
                            await self.fetch(f"/live/{stream}/{newest}")
                except (OSError, asyncio.TimeoutError, ValueError, IndexError):
                    pass
            await asyncio.sleep(2)

    def viewers(self):
        async def all_viewers():
            await asyncio.gather(*(self.viewer(n) for n in range(self.args.viewers)))
        asyncio.run(all_viewers())

    # the rest of the traffic

    def events(self):
        while not self.stop.is_set():
            try:
                c = http.client.HTTPConnection("127.0.0.1", self.launcher.port, timeout=5)
                c.request("GET", "/api/events")
                r = c.getresponse()
                while not self.stop.is_set():
                    try:
                        if not r.fp.readline():
                            break
                    except socket.timeout:
                        continue
                c.close()
            except OSError:
                time.sleep(1)

    def burst(self):
        port = self.launcher.port
        for i in range(200):
            c = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
            c.request("GET", "/api/streams" if i % 2 else "/live/nosuch/index.m3u8")
            c.getresponse().read()
            c.close()
        silent = [socket.create_connection(("127.0.0.1", port)) for _ in range(20)]
        for s in silent:
            s.close()
        for _ in range(20):
            with self.lock:
                stream = self.live[0] if self.live else "nosuch"
            ws = WsClient(port, f"/ingest/{stream}?key=wrong&mimeType={quote(MIME['h264'])}")
            ws.close()


def slope(points):
    """Least-squares slope of (x, y) points."""
    n = len(points)
    mx = sum(x for x, _ in points) / n
    my = sum(y for _, y in points) / n
    sxx = sum((x - mx) ** 2 for x, _ in points)
    return sum((x - mx) * (y - my) for x, y in points) / sxx if sxx else 0.0, my


def plot(samples, path, summary):
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    minutes = [s["t"] / 60 for s in samples]
    fig, rss_axis = plt.subplots(figsize=(9, 4.5), dpi=100)
    rss_axis.plot(minutes, [s["rss_kib"] / 1024 for s in samples], color="tab:blue", label="RSS")
    rss_axis.set_xlabel("minutes")
    rss_axis.set_ylabel("RSS (MiB)", color="tab:blue")
    rss_axis.set_ylim(bottom=0)
    fd_axis = rss_axis.twinx()
    fd_axis.plot(minutes, [s["fds"] for s in samples], color="tab:orange", label="descriptors")
    fd_axis.set_ylabel("open descriptors", color="tab:orange")
    fd_axis.set_ylim(bottom=0)
    rss_axis.set_title("castline-launcher soak: " + summary, fontsize=9)
    rss_axis.grid(alpha=0.3)
    fig.tight_layout()
    fig.savefig(path)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--minutes", type=float, default=60)
    ap.add_argument("--streams", type=int, default=5)
    ap.add_argument("--viewers", type=int, default=200)
    ap.add_argument("--stream-seconds", type=int, default=120)
    ap.add_argument("--interval", type=float, default=10)
    ap.add_argument("--png")
    ap.add_argument("--json")
    args = ap.parse_args()
    work = tempfile.mkdtemp(prefix="castline-soak-")
    soak = Soak(args, work)
    pid = soak.launcher.proc.pid
    threads = [threading.Thread(target=soak.slot, args=(n,), daemon=True)
               for n in range(args.streams)]
    threads += [threading.Thread(target=soak.viewers, daemon=True),
                threading.Thread(target=soak.events, daemon=True)]
    for t in threads:
        t.start()
    samples = []
    start = time.monotonic()
    next_burst = start + 60
    try:
        while time.monotonic() - start < args.minutes * 60:
            time.sleep(args.interval)
            now = time.monotonic()
            if now >= next_burst:
                soak.burst()
                next_burst = now + 60
            _, listed = soak.launcher.api("GET", "/api/streams")
            live = [s for s in listed["streams"] if s["state"] == "live"]
            samples.append({"t": round(now - start, 1), "rss_kib": benchlib.rss_kib(pid),
                            "fds": fds(pid), "threads": benchlib.tree_threads(pid),
                            "live": len(live), "viewers": sum(s.get("viewers", 0) for s in live),
                            "streams_done": soak.streams_done})
            s = samples[-1]
            print(f"{s['t'] / 60:6.1f} min: RSS {s['rss_kib']} KiB, {s['fds']} descriptors, "
                  f"{s['threads']} threads, {s['live']} live, {s['viewers']} viewers, "
                  f"{s['streams_done']} streams done", flush=True)
    finally:
        soak.stop.set()
        code = soak.launcher.stop()
    half = [s for s in samples if s["t"] >= samples[-1]["t"] / 2]
    result = {"minutes": args.minutes, "streams": args.streams, "viewers": args.viewers,
              "stream_seconds": args.stream_seconds, "streams_done": soak.streams_done,
              "errors": soak.errors[:20], "exit_code": code, "samples": samples,
              "machine": benchlib.machine()}
    summary = ""
    if len(half) >= 3:
        span = half[-1]["t"] - half[0]["t"]
        rss_per_s, rss_mean = slope([(s["t"], s["rss_kib"]) for s in half])
        fd_per_s, fd_mean = slope([(s["t"], s["fds"]) for s in half])
        rise = rss_per_s * span
        result.update(second_half_minutes=round(span / 60, 1),
                      rss_rise_kib=round(rise), rss_rise_percent=round(100 * rise / rss_mean, 2),
                      rss_kib_per_hour=round(rss_per_s * 3600),
                      fds_rise=round(fd_per_s * span, 1), rss_peak_kib=max(s["rss_kib"] for s in samples))
        summary = (f"{args.streams} streams, {args.viewers} viewers, {soak.streams_done} streams in "
                   f"{args.minutes:g} min; last {span / 60:.0f} min: RSS {rise:+.0f} KiB "
                   f"({100 * rise / rss_mean:+.2f} %), descriptors {fd_per_s * span:+.1f}")
        print("second half: " + summary.split("; ", 1)[1] + f" (fitted line; mean RSS "
              f"{rss_mean:.0f} KiB); exit code {code}; {len(soak.errors)} publisher errors")
    for e in soak.errors[:5]:
        print("error:", e)
    if args.json:
        benchlib.write_json(args.json, result)
    if args.png and samples:
        plot(samples, args.png, summary)
        print(f"plot: {args.png}")


if __name__ == "__main__":
    main()
