"""SIGTERM to a daemon with 10 live, recorded streams of every ingest: 3
WebSocket (MediaRecorder-style H.264 WebM), 3 RTMP and 2 SRT (ffmpeg), 2
WHIP (GStreamer's webrtcbin, whippublisher.py: H.264 and Opus). Within
shutdown_timeout (and a small bound for the webhooks' flush) the daemon
exits 0, and then: every live playlist ends with #EXT-X-ENDLIST, every
recording is written (vod.m3u8 and recording.mp4, both read by ffprobe),
the store (read by a daemon started again on the same data_dir) shows
every stream `ended` with the reason the shutdown gave, not the one of a
crash settled at start, and the webhooks stream.ended and recording.ready
went out for each before the exit.

Prints `FIGURE shutdown_seconds=...` (SIGTERM to exit).

Standard library only. Shared fixtures: launchercase.py, ffmpegpublisher.py,
whippublisher.py. Environment (meson sets it): CASTLINE_BUILD_DIR,
CASTLINE_SOURCE_DIR. Run by hand:
/usr/bin/python3 tests/integration/test_resilience_shutdown.py
Every wait is bounded.
"""
import json
import os
import shutil
import signal
import sys
import tempfile
import time
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import ffmpegpublisher  # noqa: E402
import launchercase  # noqa: E402
from launcherproc import Launcher, ffprobe, wait_for  # noqa: E402
from launchercase import LauncherCase, Publisher, WebhookReceiver, case_dir, recording  # noqa: E402
from whippublisher import WhipPublisher  # noqa: E402

SHUTDOWN_TIMEOUT = 10
# what the daemon may take past shutdown_timeout: the webhooks' flush (3 s)
# and the process's own exit
SLACK = 5
# 1 s segments, cut at the publishers' keyframes (every 2 s)
HLS = {"target_duration": 1, "playlist_length": 3, "max_files": 5}
MEDIA = None        # ffmpeg's input, H.264 + AAC MP4 (setUpModule)
WEBSOCKET = None    # the WebSocket publishers' recording, long enough to outlast the test


def setUpModule():
    global MEDIA, WEBSOCKET
    launchercase.WORK = tempfile.mkdtemp(prefix="castline-shutdown-test-")
    MEDIA = ffmpegpublisher.make_input(os.path.join(launchercase.WORK, "input.mp4"), 10)
    WEBSOCKET = recording("h264-60s", "h264", seconds=60)


def tearDownModule():
    shutil.rmtree(launchercase.WORK, ignore_errors=True)


def uris(text):
    return [line for line in text.splitlines() if line and not line.startswith("#")]


class ShutdownTest(unittest.TestCase):
    def setUp(self):
        self.dir = case_dir()
        self.receiver = WebhookReceiver()
        self.addCleanup(self.receiver.stop)
        self.launcher = Launcher(self.dir, record=True, record_mp4=True, hls=HLS,
                                 shutdown_timeout=SHUTDOWN_TIMEOUT, idle_timeout=10,
                                 rtmp={}, srt={}, webhooks={"urls": [self.receiver.url]}).start()
        self.addCleanup(self.launcher.stop)
        self.case = LauncherCase()
        self.case.launcher = self.launcher

    def folder(self, s):
        return os.path.join(self.dir, "data", "live", s["id"])

    def closed_segments(self, s):
        try:
            with open(os.path.join(self.folder(s), "index.m3u8")) as f:
                return len(uris(f.read()))
        except OSError:
            return 0

    def go_live(self):
        """10 streams, each live with segments; [(ingest, stream)]"""
        streams = []
        def create(ingest):
            s = self.case.create(title=f"shutdown {ingest} {len(streams)}")
            streams.append((ingest, s))
            return s
        for _ in range(3):
            p = Publisher(self.launcher.port, create("websocket"), WEBSOCKET, seconds=60)
            p.start()
            self.addCleanup(p.ws.close)
        for ingest, url in (("rtmp", "rtmp_url"), ("rtmp", "rtmp_url"), ("rtmp", "rtmp_url"),
                            ("srt", "srt_url"), ("srt", "srt_url")):
            proc = ffmpegpublisher.publish(MEDIA, create(ingest)[url], loop=True)
            self.addCleanup(ffmpegpublisher.finish, proc, 10, True)
        for i in range(2):
            s = create("whip")
            whip = WhipPublisher(s["whip_url"], s["key"], os.path.join(self.dir, f"whip{i}.log"))
            self.addCleanup(whip.stop)
            self.assertTrue(whip.wait_answered(30), whip.output())
        for ingest, s in streams:
            got = self.case.wait_state(s["id"], "live", 40)
            self.assertEqual(got["ingest"], ingest)
        for ingest, s in streams:
            self.assertTrue(wait_for(lambda: self.closed_segments(s) >= 2, 40),
                            f"{ingest} stream {s['id']}: no segments\n"
                            + self.launcher.output()[-3000:])
        return streams

    def test_sigterm_finalizes_ten_live_streams_of_every_ingest(self):
        streams = self.go_live()
        before = len(self.receiver.received())
        started = time.monotonic()
        code = self.launcher.stop(signal.SIGTERM, timeout=SHUTDOWN_TIMEOUT + 30)
        took = time.monotonic() - started
        print(f"\nFIGURE shutdown_seconds={took:.2f} streams={len(streams)}", file=sys.stderr)
        self.assertEqual(code, 0, self.launcher.output()[-5000:])
        self.assertLess(took, SHUTDOWN_TIMEOUT + SLACK, "past shutdown_timeout")
        log = self.launcher.output()
        self.assertNotIn("did not finalize in time", log)

        for ingest, s in streams:
            name = f"{ingest} stream {s['id']}"
            with open(os.path.join(self.folder(s), "index.m3u8")) as f:
                live = f.read()
            self.assertEqual(live.rstrip().splitlines()[-1], "#EXT-X-ENDLIST", f"{name}: {live}")
            with open(os.path.join(self.folder(s), "vod.m3u8")) as f:
                vod = f.read()
            self.assertEqual(vod.rstrip().splitlines()[-1], "#EXT-X-ENDLIST", f"{name}: {vod}")
            self.assertGreaterEqual(len(uris(vod)), 2, f"{name}: {vod}")
            for path in ("vod.m3u8", "recording.mp4"):
                info = ffprobe(os.path.join(self.folder(s), path))
                self.assertEqual(sorted(st["codec_name"] for st in info["streams"]),
                                 ["aac", "h264"], f"{name} {path}")
                self.assertGreater(float(info["format"]["duration"]), 1.0, f"{name} {path}")

        # the webhooks went out before the exit, one of each per stream
        sent = [(h["x-castline-event"], json.loads(b)) for h, b in self.receiver.received()[before:]]
        for ingest, s in streams:
            mine = [(event, body) for event, body in sent if body["stream"]["id"] == s["id"]]
            self.assertEqual([event for event, _ in mine], ["stream.ended", "recording.ready"],
                             f"{ingest} stream {s['id']}")
            self.assertEqual(mine[0][1]["stream"]["state"], "ended")
            self.assertEqual(sorted(r["kind"] for r in mine[1][1]["recordings"]), ["hls", "mp4"])

        # the store: every stream ended by the shutdown, not settled as a crash
        again = Launcher(self.dir, port=self.launcher.port, rtmp={}, srt={}).start()
        try:
            for ingest, s in streams:
                status, got = again.api("GET", f"/api/streams/{s['id']}")
                self.assertEqual((status, got["state"]), (200, "ended"), got)
                self.assertEqual(got.get("reason"), "the server stopped while the stream was live",
                                 f"{ingest} stream: {got}")
                self.assertTrue(got["ended_at"])
                recs = again.api("GET", f"/api/streams/{s['id']}/recordings")[1]["recordings"]
                self.assertEqual(sorted(r["kind"] for r in recs), ["hls", "mp4"], recs)
        finally:
            self.assertEqual(again.stop(), 0)


if __name__ == "__main__":
    unittest.main(verbosity=2)
