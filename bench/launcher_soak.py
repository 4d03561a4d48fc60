#!/usr/bin/python3
"""castline-launcher soak: does a long-running daemon hold flat memory?

Runs the real launcher on 127.0.0.1 and repeats CYCLES times: create a
stream, publish a 6 s H.264 + Opus recording over the WebSocket (paced
at about real time), while players fetch its playlist, then end it. Every
cycle also makes 500 plain HTTP requests (half of them asking for
keep-alive, which the daemon turns down) and 20 connections that send
nothing. After each cycle it prints the daemon's RSS and open descriptors;
at the end, the growth over the second half of the run per cycle. Asserts
nothing.

  bench/launcher_soak.py [CYCLES]      (default 20; about 10 s a cycle)
  CASTLINE_BUILD_DIR                   build directory (default: build)
"""
import os
import socket
import sys
import tempfile
import threading
import time
import http.client

HERE = os.path.dirname(os.path.abspath(__file__))
SOURCE = os.path.dirname(HERE)
os.environ.setdefault("CASTLINE_SOURCE_DIR", SOURCE)
os.environ.setdefault("CASTLINE_BUILD_DIR", os.path.join(SOURCE, os.environ.get(
    "CASTLINE_BUILD_DIR", "build")))
os.environ.setdefault("GST_REGISTRY", os.path.join(tempfile.gettempdir(), "castline-soak.registry"))
sys.path.insert(0, os.path.join(SOURCE, "tests", "integration"))

from launcherproc import MIME, Launcher, make_recording, quote, wait_for  # noqa: E402
from wsclient import WsClient  # noqa: E402


def rss_kib(pid):
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    return 0


def fds(pid):
    return len(os.listdir(f"/proc/{pid}/fd"))


def http_burst(port, n):
    for i in range(n):
        c = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
        c.request("GET", "/api/streams" if i % 2 else "/live/nosuch/index.m3u8",
                  headers={} if i % 4 else {"Connection": "keep-alive"})
        c.getresponse().read()
        c.close()
    silent = [socket.create_connection(("127.0.0.1", port)) for _ in range(20)]
    for s in silent:
        s.close()


def cycle(launcher, recording):
    status, s = launcher.api("POST", "/api/streams", {"title": "soak"})
    assert status == 201, s
    ws = WsClient(launcher.port, f"/ingest/{s['id']}?key={quote(s['key'])}"
                  f"&mimeType={quote(MIME['h264'])}")
    assert ws.status == 101, ws.status
    stop = threading.Event()

    def player():
        while not stop.is_set():
            launcher.request("GET", f"/live/{s['id']}/index.m3u8")
            time.sleep(0.5)
    players = [threading.Thread(target=player) for _ in range(3)]
    for p in players:
        p.start()
    step = 16384
    pace = 6.0 / max(1, len(recording) // step)
    for i in range(0, len(recording), step):
        ws.send_binary(recording[i:i + step])
        time.sleep(pace)
    ws.send_text('{"type":"stop-stream"}')
    ws.wait_close()
    ws.close()
    wait_for(lambda: launcher.api("GET", f"/api/streams/{s['id']}")[1]["state"] == "ended", 30)
    stop.set()
    for p in players:
        p.join()


def main():
    cycles = int(sys.argv[1]) if len(sys.argv) > 1 else 20
    work = tempfile.mkdtemp(prefix="castline-soak-")
    recording = make_recording(work, "h264")
    launcher = Launcher(work, idle_timeout=5, shutdown_timeout=15,
                        hls={"max_files": 4, "playlist_length": 3}).start()
    pid = launcher.proc.pid
    samples = []
    try:
        print(f"start: RSS {rss_kib(pid)} KiB, {fds(pid)} descriptors")
        for n in range(1, cycles + 1):
            cycle(launcher, recording)
            http_burst(launcher.port, 500)
            time.sleep(3)          # the listener's scans close what is left
            samples.append((rss_kib(pid), fds(pid)))
            print(f"cycle {n:3}: RSS {samples[-1][0]} KiB, {samples[-1][1]} descriptors")
    finally:
        code = launcher.stop()
    half = len(samples) // 2
    if half >= 1 and len(samples) - half >= 2:
        first, last = samples[half], samples[-1]
        per = (last[0] - first[0]) / (len(samples) - 1 - half)
        print(f"second half: RSS {first[0]} -> {last[0]} KiB ({per:+.0f} KiB a cycle), "
              f"descriptors {first[1]} -> {last[1]}; exit code {code}")


if __name__ == "__main__":
    main()
