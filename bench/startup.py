#!/usr/bin/python3
"""Bench item 6: start-up, from a publisher's first request to the first
playable playlist castline-launcher serves. Prints a table, asserts nothing.

- WHIP: headless Chromium (tests/integration/browser/whip_publisher.mjs:
  the fake camera at 640x480 and microphone, Chromium's own offer, so
  H.264 and `passthrough`). From its WHIP POST (the page's Date.now()
  before the fetch: ICE gathering, done before, is not counted) to the
  first GET /live/{id}/index.m3u8 (polled every 50 ms) that lists at least
  one segment, and at least three (where hls.js starts a live stream by
  default: liveSyncDurationCount 3). Also POST -> answer (the launcher
  gathers its candidates before answering) and POST -> ICE connected.
- WebSocket, for comparison: a recording (H.264 640x480 30 fps, a keyframe
  every 2 s, + Opus, Matroska as MediaRecorder makes it) sent at real time
  in 0.5 s chunks, from the upgrade request to the same two playlists.
Default settings (hls.target_duration 2). RUNS runs of each (5; --quick 1):
median, min and max.

  bench/startup.py [--quick] [--json FILE] [--runs N]
  CASTLINE_BUILD_DIR   build with the launcher (default: build); not rebuilt
Time: about 2 minutes (each WHIP run about 15 s, most of it Chromium
sending 9 s of media; each WebSocket run about 10 s); --quick about 30 s.
"""
import argparse
import asyncio
import json
import os
import shutil
import statistics
import subprocess
import tempfile
import threading
import time

import benchlib

benchlib.setup_paths()
from launcherproc import MIME, Launcher, make_recording, quote, wait_for  # noqa: E402

BROWSER_DIR = os.path.join(benchlib.SOURCE, "tests", "integration", "browser")
POLL_INTERVAL = 0.05
MEDIA_SECONDS = 9      # enough for three 2 s segments and the first keyframe's wait


class PlaylistPoller(threading.Thread):
    """GETs a stream's playlist every 50 ms until it lists three segments
    (or `timeout` s); the wall-clock times it first listed one and three."""

    def __init__(self, launcher, stream_id, timeout=40):
        super().__init__(daemon=True)
        self.launcher, self.path = launcher, f"/live/{stream_id}/index.m3u8"
        self.timeout = timeout
        self.first = self.third = None

    def run(self):
        deadline = time.monotonic() + self.timeout
        while time.monotonic() < deadline and self.third is None:
            try:
                status, _, body = self.launcher.request("GET", self.path, timeout=5)
            except OSError:
                status = 0
            if status == 200:
                segments = body.decode(errors="replace").count("#EXTINF:")
                now = time.time()
                if segments >= 1 and self.first is None:
                    self.first = now
                if segments >= 3:
                    self.third = now
            time.sleep(POLL_INTERVAL)


def wait_ended(launcher, stream_id):
    wait_for(lambda: launcher.api("GET", f"/api/streams/{stream_id}")[1]["state"]
             in ("ended", "failed"), 30, 0.2)


def since(t0, t):
    return None if t is None or t0 is None else round(t - t0, 3)


def whip_run(launcher):
    status, stream = launcher.api("POST", "/api/streams", {"title": "bench startup whip"})
    assert status == 201, stream
    poller = PlaylistPoller(launcher, stream["id"])
    poller.start()
    proc = subprocess.run(["node", os.path.join(BROWSER_DIR, "whip_publisher.mjs"),
                           "--url", stream["whip_url"], "--key", stream["key"],
                           "--seconds", str(MEDIA_SECONDS)],
                          capture_output=True, text=True, timeout=120, cwd=benchlib.SOURCE)
    poller.join(45)
    wait_ended(launcher, stream["id"])
    if proc.returncode != 0:
        return {"error": proc.stderr[-2000:]}
    out = json.loads(proc.stdout.strip().splitlines()[-1])
    posted = out.get("postedAt", 0) / 1000 or None
    result = {"status": out.get("status"), "connected": out.get("connected"),
              "answer_s": since(posted, out.get("answeredAt", 0) / 1000 or None),
              "connected_s": since(posted, out.get("connectedAt", 0) / 1000 or None),
              "first_segment_s": since(posted, poller.first),
              "three_segments_s": since(posted, poller.third)}
    if out.get("status") != 201 or not out.get("connected"):
        result["error"] = out.get("error") or "not connected"
    return result


def websocket_run(launcher, frames):
    status, stream = launcher.api("POST", "/api/streams", {"title": "bench startup websocket"})
    assert status == 201, stream
    poller = PlaylistPoller(launcher, stream["id"])
    poller.start()
    target = (f"/ingest/{stream['id']}?key={quote(stream['key'])}"
              f"&mimeType={quote(MIME['h264'])}")
    started = time.time()

    async def publish():
        return await benchlib.publish(launcher.port, target, frames,
                                      asyncio.get_running_loop().time())
    result = asyncio.run(publish())
    poller.join(45)
    wait_ended(launcher, stream["id"])
    out = {"status": result.status, "first_segment_s": since(started, poller.first),
           "three_segments_s": since(started, poller.third)}
    if result.status != 101:
        out["error"] = f"upgrade answered {result.status}"
    return out


def spread(runs, key):
    values = [r[key] for r in runs if r.get(key) is not None]
    if not values:
        return {"n": 0, "median": None, "min": None, "max": None}
    return {"n": len(values), "median": round(statistics.median(values), 3),
            "min": min(values), "max": max(values)}


def cell(s):
    return "-" if s["median"] is None else f"{s['median']:.2f} ({s['min']:.2f}-{s['max']:.2f})"


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--quick", action="store_true", help="one run of each, about 30 s")
    ap.add_argument("--json", metavar="FILE", help="also write the figures as JSON to FILE")
    ap.add_argument("--runs", type=int, help="runs of each ingest (5; --quick 1)")
    args = ap.parse_args()
    runs = args.runs or (1 if args.quick else 5)
    for tool in ("node", "chromium"):
        if not shutil.which(tool):
            raise SystemExit(f"{tool} is not installed: run scripts/setup.sh")
    figures = {"machine": benchlib.machine(), "quick": args.quick, "runs": runs,
               "target_duration": 2, "poll_interval_s": POLL_INTERVAL}
    t_start = time.monotonic()
    workdir = tempfile.mkdtemp(prefix="castline-bench-startup-")
    launcher = None
    try:
        recording = make_recording(workdir, "h264", seconds=MEDIA_SECONDS, size=(640, 480))
        frames = benchlib.ws_frames(benchlib.recorder_chunks(recording))
        launcher = Launcher(workdir, idle_timeout=10).start()
        figures["whip"] = [whip_run(launcher) for _ in range(runs)]
        figures["websocket"] = [websocket_run(launcher, frames) for _ in range(runs)]
    finally:
        if launcher:
            launcher.stop()
        shutil.rmtree(workdir, ignore_errors=True)

    rows = []
    for ingest, start in (("whip", "WHIP POST"), ("websocket", "WebSocket upgrade")):
        ok = [r for r in figures[ingest] if "error" not in r]
        summary = {k: spread(ok, k) for k in ("first_segment_s", "three_segments_s",
                                              "answer_s", "connected_s")}
        figures[f"{ingest}_summary"] = summary
        rows.append([f"{ingest} (from the {start})", f"{len(ok)}/{runs}",
                     cell(summary["first_segment_s"]), cell(summary["three_segments_s"]),
                     cell(summary["answer_s"]), cell(summary["connected_s"])])
        for r in figures[ingest]:
            if "error" in r:
                print(f"{ingest} run failed: {r['error']}")
    print(f"\n== start-up to the first playable playlist, seconds: median (min-max) of {runs}; "
          "2 s segments, playlist polled every 50 ms")
    benchlib.print_table(["ingest", "runs ok", ">= 1 segment", ">= 3 segments (hls.js start)",
                          "POST -> answer", "POST -> ICE connected"], rows)
    figures["elapsed_s"] = round(time.monotonic() - t_start, 1)
    print(f"(took {figures['elapsed_s']} s; load average at start "
          f"{figures['machine']['load_average'][0]:.2f})")
    benchlib.write_json(args.json, figures)


if __name__ == "__main__":
    main()
