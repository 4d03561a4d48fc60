"""Hostile load and an audience at once while 5 streams are live (3 RTMP,
2 SRT, ffmpeg): 5,000 idle connections, 200 clients reading a segment at
1 KiB/s through a 4 KiB window, a flood of WHIP offers (bogus SDP) and
WebSocket upgrades with wrong keys, and 1,000 HLS viewers polling their
playlist (`?viewer=`) and fetching each new segment: hostileclients.py,
a process of its own, from 127.0.0.2 and up. Meanwhile this process,
from 127.0.0.1, measures what an operator and a viewer see:

- the API (GET /api/streams, a stream's /status) answers, every time;
  its latency is printed (p50, p99) and bounded generously;
- every stream keeps up: its served playlist gets a new segment at least
  every 3 target durations, all along;
- the 1,000 viewers are counted (the streams' `viewers`);
- the daemon's memory stays bounded (peak RSS printed);
- its descriptors come back to their count before the load once the
  clients leave.

Prints FIGURE lines: api_p50_ms, api_p99_ms, max_segment_gap_s, rss_peak_mib,
fds (before, peak, after) and what the clients got.

Standard library only. Environment (meson sets it): CASTLINE_BUILD_DIR,
CASTLINE_SOURCE_DIR. Run by hand:
/usr/bin/python3 tests/integration/test_resilience_load.py
Every wait is bounded.
"""
import http.client
import json
import os
import shutil
import sys
import tempfile
import threading
import time
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import ffmpegpublisher  # noqa: E402
from hostileclients import HostileClients, raise_descriptor_limit  # noqa: E402
from launcherproc import Launcher, wait_for  # noqa: E402

TARGET = 2                 # hls.target_duration (the default), s
LOAD_SECONDS = 40
CLIENTS = {"idle": 5000, "slow": 200, "flood_workers": 8, "viewers": 1000, "poll": TARGET}
# generous bounds: correctness, not speed (the figures say how fast)
API_P99_BOUND_S = 1.0
RSS_GROWTH_BOUND_MIB = 512
FD_SLACK = 16
WORK = None
MEDIA = None


def setUpModule():
    global WORK, MEDIA
    WORK = tempfile.mkdtemp(prefix="castline-load-test-")
    MEDIA = ffmpegpublisher.make_input(os.path.join(WORK, "input.mp4"), 10)


def tearDownModule():
    shutil.rmtree(WORK, ignore_errors=True)


def percentile(values, p):
    values = sorted(values)
    return values[min(len(values) - 1, int(len(values) * p))] if values else float("nan")


class Daemon:
    """the daemon's descriptors and memory, from /proc"""

    def __init__(self, pid):
        self.pid = pid

    def fds(self):
        return len(os.listdir(f"/proc/{self.pid}/fd"))

    def rss_mib(self):
        with open(f"/proc/{self.pid}/status") as f:
            for line in f:
                if line.startswith("VmRSS:"):
                    return int(line.split()[1]) / 1024
        return 0.0


class Watch(threading.Thread):
    """From 127.0.0.1 until stopped: the API's latency (and the viewers it
    counts), each stream's newest segment as its playlist is served (the
    longest time without a new one), the daemon's memory and descriptors."""

    def __init__(self, port, streams, daemon):
        super().__init__(daemon=True)
        self.port, self.streams, self.daemon = port, streams, daemon
        self.stopping = threading.Event()
        self.latencies, self.api_errors = [], []
        self.viewers_peak = 0
        self.newest = {s: (None, None) for s in streams}     # (uri, since)
        self.gaps = {s: 0.0 for s in streams}
        self.rss_peak = self.fds_peak = 0

    def stop(self):
        self.stopping.set()
        self.join(30)

    def get(self, conn, path):
        conn.request("GET", path)
        r = conn.getresponse()
        return r.status, r.read()

    def api(self, conn, path):
        started = time.monotonic()
        try:
            status, body = self.get(conn, path)
        except (OSError, http.client.HTTPException) as e:
            self.api_errors.append(f"{path}: {e!r}")
            conn.close()
            return None
        self.latencies.append(time.monotonic() - started)
        if status != 200:
            self.api_errors.append(f"{path}: {status}")
            return None
        return json.loads(body)

    def segments(self, conn, now):
        for s in self.streams:
            try:
                status, body = self.get(conn, f"/live/{s}/index.m3u8")
            except (OSError, http.client.HTTPException):
                conn.close()
                continue
            uris = [line for line in body.decode(errors="replace").splitlines()
                    if line and not line.startswith("#")] if status == 200 else []
            uri, since = self.newest[s]
            if uris and uris[-1] != uri:
                self.newest[s] = (uris[-1], now)
            elif since is not None:
                self.gaps[s] = max(self.gaps[s], now - since)

    def run(self):
        api = http.client.HTTPConnection("127.0.0.1", self.port, timeout=10)
        hls = http.client.HTTPConnection("127.0.0.1", self.port, timeout=10)
        tick = 0
        while not self.stopping.is_set():
            listing = self.api(api, "/api/streams")
            if listing:
                self.viewers_peak = max(self.viewers_peak, sum(
                    x.get("viewers", 0) for x in listing["streams"]))
            self.api(api, f"/api/streams/{self.streams[tick % len(self.streams)]}/status")
            if tick % 4 == 0:
                self.segments(hls, time.monotonic())
                self.rss_peak = max(self.rss_peak, self.daemon.rss_mib())
                self.fds_peak = max(self.fds_peak, self.daemon.fds())
            tick += 1
            self.stopping.wait(0.05)
        api.close()
        hls.close()


class LoadTest(unittest.TestCase):
    def setUp(self):
        raise_descriptor_limit()          # the daemon inherits it, and raises its own
        self.dir = tempfile.mkdtemp(prefix="case-", dir=WORK)
        self.launcher = Launcher(self.dir, record=True, rtmp={}, srt={}, idle_timeout=10,
                                 hls={"target_duration": TARGET}).start()
        self.addCleanup(self.launcher.stop)

    def go_live(self):
        ids = []
        for url in ("rtmp_url",) * 3 + ("srt_url",) * 2:
            s = self.launcher.api("POST", "/api/streams", {"title": f"load {url}"})[1]
            proc = ffmpegpublisher.publish(MEDIA, s[url], loop=True)
            self.addCleanup(ffmpegpublisher.finish, proc, 10, True)
            ids.append(s["id"])

        def segments(sid):
            status, _, body = self.launcher.request("GET", f"/live/{sid}/index.m3u8")
            return status == 200 and len([line for line in body.decode().splitlines()
                                          if line and not line.startswith("#")]) >= 2
        for sid in ids:
            self.assertTrue(wait_for(lambda: segments(sid), 40),
                            f"{sid} has no segments\n" + self.launcher.output()[-3000:])
        return ids

    def test_live_streams_keep_up_under_hostile_load_and_1000_viewers(self):
        streams = self.go_live()
        daemon = Daemon(self.launcher.proc.pid)
        time.sleep(1)
        fds_before, rss_before = daemon.fds(), daemon.rss_mib()

        clients = HostileClients(dict(CLIENTS, port=self.launcher.port, streams=streams,
                                      seconds=LOAD_SECONDS), os.path.join(self.dir, "clients.log"))
        self.addCleanup(clients.stop)
        self.assertTrue(clients.wait_ready(60), clients.output()[-2000:])
        watch = Watch(self.launcher.port, streams, daemon)
        watch.start()
        self.addCleanup(watch.stop)
        got = clients.result(LOAD_SECONDS + 60)
        watch.stop()
        self.assertIsNotNone(got, "the clients did not end:\n" + clients.output()[-2000:])
        fds_after = wait_for(lambda: (lambda n: n if n <= fds_before + FD_SLACK else None)(
            daemon.fds()), 30) or daemon.fds()

        p50, p99 = percentile(watch.latencies, 0.5), percentile(watch.latencies, 0.99)
        gap = max(watch.gaps.values())
        print(f"\nFIGURE api_p50_ms={p50 * 1000:.1f} api_p99_ms={p99 * 1000:.1f} "
              f"api_requests={len(watch.latencies)}", file=sys.stderr)
        print(f"FIGURE max_segment_gap_s={gap:.2f} target_duration_s={TARGET}", file=sys.stderr)
        print(f"FIGURE rss_before_mib={rss_before:.0f} rss_peak_mib={watch.rss_peak:.0f}",
              file=sys.stderr)
        print(f"FIGURE fds_before={fds_before} fds_peak={watch.fds_peak} fds_after={fds_after}",
              file=sys.stderr)
        print(f"FIGURE viewers_counted_peak={watch.viewers_peak} clients={json.dumps(got)}",
              file=sys.stderr)

        # what an operator and a viewer see
        self.assertEqual(watch.api_errors, [], "the API failed under load")
        self.assertLess(p99, API_P99_BOUND_S, "the API's p99 latency")
        self.assertGreaterEqual(watch.viewers_peak, CLIENTS["viewers"], "viewers not counted")
        for sid in streams:
            self.assertLessEqual(watch.gaps[sid], 3 * TARGET, f"stream {sid} fell behind")
            state = self.launcher.api("GET", f"/api/streams/{sid}")[1]["state"]
            self.assertEqual(state, "live", f"stream {sid} after the load")
        self.assertLess(watch.rss_peak - rss_before, RSS_GROWTH_BOUND_MIB, "memory grew")
        self.assertLessEqual(fds_after, fds_before + FD_SLACK, "descriptors not given back")

        # the load was what it says
        self.assertGreaterEqual(got.get("idle_opened", 0), CLIENTS["idle"], got)
        self.assertGreater(got.get("slow_bytes", 0), CLIENTS["slow"] * 10 * 1024, got)
        for kind in ("whip_401", "ws_401"):
            self.assertGreater(got.get(kind, 0), 500, got)
        self.assertGreater(got.get("segment_200", 0), CLIENTS["viewers"] * 5, got)


if __name__ == "__main__":
    unittest.main(verbosity=2)
