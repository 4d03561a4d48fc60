"""The watch page's recording mode in Debian's Chromium (playwright-core):
a recorded stream's watch page, open while it is live, turns into the
recording when the stream ends (no reload), plays it from the start and
seeks (currentTime jumps to 60 % and playback goes on); the dashboard's
recording link opens that page, which plays it; the MP4 is a download.

Screenshots (watch-recording-*.png, dashboard-recordings-*.png) go to
build/tests/artifacts/. Prints FIGURE recording_ready_seconds (from the
publisher's stop to the page saying RECORDING).
Environment as test_launcher_*.py: CASTLINE_BUILD_DIR, CASTLINE_SOURCE_DIR.
Run by hand: /usr/bin/python3 tests/integration/test_web_recording.py
Every wait is bounded (the driver's own bounds, and a subprocess time-out).
"""
import json
import os
import subprocess
import sys
import time
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from gstlaunch import BUILD, SOURCE  # noqa: E402
from launchercase import BROWSER_DIR, LauncherCase, Publisher, recording  # noqa: E402
from launchercase import setUpModule, tearDownModule  # noqa: E402,F401 (module fixture)

ARTIFACTS = os.path.join(BUILD, "tests", "artifacts")
SECONDS = 12


class WatchRecordingTest(LauncherCase):
    # live on HLS: WHEP is not what this is about (its POST answers 406 for
    # this recording's H.264, High 4:4:4; the page then plays HLS)
    settings = {"record_mp4": True, "webrtc": {"max_viewers": 0}}

    def setUp(self):
        recording("h264rec", "h264", seconds=SECONDS)
        super().setUp()

    def test_live_page_becomes_the_recording_and_seeks(self):
        s = self.create(title="recorded for the page", record=True)
        pub = Publisher(self.launcher.port, s, "h264rec", seconds=SECONDS)
        pub.start()
        self.wait_state(s["id"], "live", 10)
        base = f"http://127.0.0.1:{self.launcher.port}"
        page = subprocess.Popen(["node", os.path.join(BROWSER_DIR, "web_recording.mjs"), "--base", base,
                                 "--id", s["id"], "--artifacts", ARTIFACTS],
                                stdout=subprocess.PIPE, stderr=subprocess.PIPE, cwd=SOURCE)
        try:
            self.assertEqual(pub.finish(), 1000)
            stopped = time.monotonic()
            out, err = page.communicate(timeout=240)
        finally:
            if page.poll() is None:
                page.kill()
                page.communicate()
        self.assertEqual(page.returncode, 0, err.decode()[-3000:])
        r = json.loads(out.decode().strip().splitlines()[-1])
        print(f"FIGURE recording_page_done_after_stop_seconds={time.monotonic() - stopped:.1f}")
        for path in r["screenshots"]:
            print(f"screenshot: {path}")

        self.assertGreaterEqual(r["playedLive"], 1, r)
        self.assertEqual((r["badge"], r["mark"]), ("RECORDING", "same page"), r)
        self.assertIn("Recording", r["info"])
        mp4 = f"{base}/live/{s['id']}/recording.mp4"
        self.assertEqual(r["mp4Link"], mp4, r)
        self.assertGreaterEqual(r["playedRecording"], 1, r)
        # the whole stream, from its start
        self.assertAlmostEqual(r["before"]["duration"], SECONDS, delta=2, msg=r)
        self.assertLess(r["before"]["currentTime"], r["seekTarget"] - 2, r)
        self.assertIsNotNone(r["seekedTo"], r)
        self.assertAlmostEqual(r["seekedTo"], r["seekTarget"], delta=0.5, msg=r)
        self.assertGreaterEqual(r["playedAfterSeek"], 1, r)
        self.assertGreater(r["after"]["currentTime"], r["seekTarget"] + 0.9, r)
        self.assertTrue(r["overlayHidden"], r)
        self.assertTrue(r["delayHidden"], "a recording shows a delay behind live")
        self.assertRegex(r["dashboardViewers"] or "", r"^1\s*of the recording$", r)
        self.assertEqual(r["dashboardLink"], f"/watch/{s['id']}", r)
        self.assertEqual(r["dashboardMp4"], mp4, r)
        self.assertEqual((r["openedPath"], r["openedBadge"]), (f"/watch/{s['id']}", "RECORDING"), r)
        self.assertGreaterEqual(r["openedPlayed"], 1, r)
        self.assertEqual(r["errors"], [], r)


if __name__ == "__main__":
    unittest.main(verbosity=2)
