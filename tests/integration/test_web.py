"""castline's web pages (web/, served by the launcher) driven in Debian's
Chromium through playwright-core: the dashboard creates a stream, the
broadcast page goes live with the fake camera (WHIP, then the WebSocket
ingest), the watch page plays it and counts one viewer, the dashboard
ends it and every page says so; and what the broadcast page says for a
wrong key and a refused camera.

Screenshots of each page (desktop and a 390 px phone) go to
CASTLINE_ARTIFACTS_DIR (meson sets it: web-artifacts in the build dir).
Environment as test_launcher_*.py: CASTLINE_BUILD_DIR, CASTLINE_SOURCE_DIR.
Run by hand: /usr/bin/python3 tests/integration/test_web.py [-k PATTERN]
Every wait is bounded (the drivers' own bounds, and a subprocess time-out).
"""
import json
import os
import shutil
import subprocess
import sys
import tempfile
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from gstlaunch import BUILD, SOURCE  # noqa: E402
from launcherproc import Launcher  # noqa: E402

BROWSER_DIR = os.path.join(os.path.dirname(os.path.abspath(__file__)), "browser")
ARTIFACTS = os.environ.get("CASTLINE_ARTIFACTS_DIR") or os.path.join(BUILD, "web-artifacts")


def driver(script, *args, timeout=180):
    """Runs a page driver; its JSON result line (its stderr in the failure)."""
    out = subprocess.run(["node", os.path.join(BROWSER_DIR, script), *args], capture_output=True,
                         timeout=timeout, cwd=SOURCE)
    if out.returncode != 0:
        raise AssertionError(f"{script} failed ({out.returncode}); screenshots in {ARTIFACTS}:\n"
                             + out.stderr.decode()[-3000:])
    return json.loads(out.stdout.decode().strip().splitlines()[-1])


class WebPagesCase(unittest.TestCase):
    def setUp(self):
        self.dir = tempfile.mkdtemp(prefix="castline-web-test-")
        self.launcher = Launcher(self.dir, rtmp={}).start()
        self.base = f"http://127.0.0.1:{self.launcher.port}"

    def tearDown(self):
        code = self.launcher.stop()
        if code != 0:
            print(self.launcher.output())
        # next to the screenshots: what the daemon said during the test
        os.makedirs(ARTIFACTS, exist_ok=True)
        shutil.copy(self.launcher.log_path, os.path.join(ARTIFACTS, self.id().split(".")[-1] + ".launcher.log"))
        shutil.rmtree(self.dir, ignore_errors=True)
        self.assertEqual(code, 0, "the launcher did not exit 0 on SIGTERM")

    def stream(self, stream_id):
        status, s = self.launcher.api("GET", f"/api/streams/{stream_id}")
        self.assertEqual(status, 200, s)
        return s


class FlowTest(WebPagesCase):
    """Create on the dashboard, go live, watch, end: as a person would."""

    def check_flow(self, ingest):
        r = driver("web_flow.mjs", "--base", self.base, "--ingest", ingest, "--artifacts", ARTIFACTS)
        # the key shown once, handed to the broadcast page in the fragment,
        # which then leaves the address bar
        self.assertGreaterEqual(r["keyLength"], 22, r)
        self.assertTrue(r["linkCarriesKey"], r)
        # OBS's server and ffmpeg's whole URL, shown with the key
        self.assertLessEqual({"key", "whip_url", "ws_url", "rtmp_server", "rtmp_url"},
                             set(r["createdFields"]), r)
        self.assertTrue(r["fragmentRemoved"] and r["keyPrefilled"] and r["idPrefilled"], r)
        self.assertEqual(r["broadcastMessage"], "You are live.", r)
        # the watch page played, counted once everywhere
        self.assertGreaterEqual(r["watchAdvanced"], 2, r)
        self.assertEqual((r["watchViewers"], r["dashboardViewers"], r["broadcastViewers"]), ("1", "1", "1"), r)
        self.assertEqual(r["watchBadge"], "LIVE", r)
        self.assertTrue(r["watchLive"], r)
        # real time (WHEP: one quality, the publisher's) or, when that did
        # not play, HLS (Auto and the rungs); test_launcher_whep.py checks
        # which one the hybrid rule picks
        if r["watchMode"] == "Real-time":
            self.assertRegex(" ".join(r["watchQuality"]), r"^Source \(\d+p\)$", r)
        else:
            self.assertEqual(r["watchMode"], "HLS", r)
            self.assertEqual(r["watchQuality"][0], "Auto", r)
            self.assertGreater(len(r["watchQuality"]), 1, r)
        self.assertEqual(r["dashboardIngest"], {"whip": "WHIP", "websocket": "WebSocket"}[ingest], r)
        # ended from the dashboard: every page says so
        self.assertEqual((r["dashboardEnded"], r["broadcastEnded"]), ("Ended", "Ended"), r)
        self.assertIn("ended", r["watchEnded"], r)
        # a player that comes as the stream goes live may ask for the
        # playlist before its first segment is written: 404, retried
        self.assertEqual([e for e in r["errors"] if not e.endswith(f"404 GET /live/{r['id']}/index.m3u8")], [], r)
        s = self.stream(r["id"])
        self.assertEqual((s["state"], s["ingest"]), ("ended", ingest), s)
        return r

    def test_whip(self):
        self.check_flow("whip")

    def test_websocket(self):
        self.check_flow("websocket")


class ReconnectTest(WebPagesCase):
    """A WebSocket publisher that drops (no stop-stream) comes back by
    itself within reconnect_window; the watch page plays the new session."""

    def test_websocket_drop_reconnects(self):
        status, s = self.launcher.api("POST", "/api/streams", {"title": "reconnect"})
        self.assertEqual(status, 201, s)
        r = driver("web_reconnect.mjs", "--base", self.base, "--id", s["id"], "--key", s["key"],
                   "--artifacts", ARTIFACTS)
        self.assertGreaterEqual(r["playedBefore"], 2, r)
        self.assertRegex(r["reconnecting"], r"Reconnecting( in \d+ s)?…", r)
        self.assertEqual(r["stateWhileReconnecting"], "Reconnecting…", r)
        self.assertEqual(r["liveAgain"], "You are live.", r)
        self.assertEqual(r["sockets"], 2, r)
        self.assertGreaterEqual(r["playedAfter"], 2, r)
        self.assertIn("ended", r["watchEnded"], r)
        self.assertEqual(self.stream(s["id"])["state"], "ended")


class BroadcastErrorsTest(WebPagesCase):
    def setUp(self):
        super().setUp()
        status, s = self.launcher.api("POST", "/api/streams", {"title": "refusals"})
        self.assertEqual(status, 201, s)
        self.stream_id = s["id"]

    def test_wrong_key(self):
        r = driver("web_broadcast_errors.mjs", "--base", self.base, "--id", self.stream_id, "--case", "wrong-key",
                   "--artifacts", ARTIFACTS)
        self.assertEqual(r["messages"], {"whip": "Wrong stream id or key.", "websocket": "Wrong stream id or key."}, r)
        self.assertEqual(self.stream(self.stream_id)["state"], "created")

    def test_camera_refused(self):
        r = driver("web_broadcast_errors.mjs", "--base", self.base, "--id", self.stream_id, "--case", "camera-refused",
                   "--artifacts", ARTIFACTS)
        self.assertIn("access was refused", r["messages"]["camera"], r)
        self.assertEqual(r["errors"], [], r)


if __name__ == "__main__":
    unittest.main(verbosity=2)
