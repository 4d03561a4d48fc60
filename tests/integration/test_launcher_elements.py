"""GStreamer elements that are not installed: castline-launcher --check
names every one a description, the abr ladder or an ingest needs, and
exits 1; the daemon still starts, refuses the descriptions that lack
one with a reason naming it, and a stream that needs one fails alone
with that reason while another stream works. No GLib CRITICAL anywhere.

Standard library only. Shared fixtures: launchercase.py.
Environment (meson sets it): CASTLINE_BUILD_DIR, CASTLINE_SOURCE_DIR,
CASTLINE_PRELOAD (sanitizer runtime, optional).
Run by hand: /usr/bin/python3 tests/integration/test_launcher_elements.py [-k PATTERN]
Every wait is bounded.
"""
import os
import subprocess
import sys
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from wsclient import WsClient  # noqa: E402
from launcherproc import LAUNCHER, MIME, Launcher, quote  # noqa: E402
from launchercase import RECORDINGS, LauncherCase, case_dir  # noqa: E402
from launchercase import setUpModule, tearDownModule  # noqa: E402,F401 (module fixture)
from gstlaunch import gst_env  # noqa: E402

# passthrough's graph, which takes what the test publisher sends (H.264)
GRAPH = """description: a copy of passthrough, one element of which may be missing
video: h264
audio: opus
---
queue name=video_in ! h264parse ! {element} ! queue max-size-time=0 max-size-buffers=0
  max-size-bytes=67108864 ! out.video
queue name=audio_in ! opusdec ! audioconvert ! avenc_aac ! aacparse ! queue ! out.audio
{{output}}
"""


def check(config, env=None):
    out = subprocess.run([LAUNCHER, "--check", "--config", config], capture_output=True,
                         timeout=60, env=gst_env(env))
    return out.returncode, out.stdout.decode() + out.stderr.decode()


class MissingElementTest(unittest.TestCase):
    def setUp(self):
        self.dir = case_dir()
        self.pipelines = os.path.join(self.dir, "pipelines")
        os.makedirs(self.pipelines)

    def write_pipeline(self, element):
        with open(os.path.join(self.pipelines, "custom.pipeline"), "w") as f:
            f.write(GRAPH.format(element=element))

    def test_check_names_what_the_ladder_and_ingest_lack_without_the_castline_plugin(self):
        launcher = Launcher(self.dir, rtmp={})
        empty = os.path.join(self.dir, "no-plugins")
        os.makedirs(empty)
        code, out = check(launcher.config_path, {
            "GST_PLUGIN_PATH": empty, "GST_REGISTRY": os.path.join(self.dir, "registry.bin")})
        self.assertEqual(code, 1, out)
        abr = [line for line in out.splitlines() if "/abr.pipeline:" in line]
        self.assertEqual(len(abr), 1, out)
        # the abr graph itself has no viewerstats: its ladder's rungs do
        self.assertIn("missing GStreamer element 'viewerstats'", abr[0])
        self.assertIn("the WebSocket ingest: missing GStreamer element 'webmwssrc'", out)
        self.assertIn("the RTMP ingest: missing GStreamer element 'rtmpserversrc'", out)
        self.assertIn("thumbnails (thumbnails.interval): missing GStreamer element "
                      "'keyframegate'", out)
        self.assertNotIn("CRITICAL", out)

    def test_stream_needing_a_missing_element_fails_alone(self):
        settings = {"pipeline_dirs": [self.pipelines]}
        self.write_pipeline("identity")
        launcher = Launcher(self.dir, **settings)
        self.assertEqual(check(launcher.config_path)[0], 0)
        launcher.start()
        case = LauncherCase()
        case.launcher = launcher
        try:
            doomed = case.create(title="custom", pipeline="custom")
        finally:
            self.assertEqual(launcher.stop(), 0)

        # the element is gone (a plugin uninstalled) when the daemon starts again
        self.write_pipeline("castlinenosuchelement")
        code, out = check(launcher.config_path)
        self.assertEqual(code, 1, out)
        self.assertIn("custom.pipeline: missing GStreamer element 'castlinenosuchelement'", out)

        launcher = Launcher(self.dir, **settings).start()
        case.launcher = launcher
        try:
            status, body = launcher.api("POST", "/api/streams", {"pipeline": "custom"})
            self.assertEqual(status, 400)
            self.assertIn("'castlinenosuchelement'", body["error"])

            ws = WsClient(launcher.port, f"/ingest/{doomed['id']}?key={quote(doomed['key'])}"
                                         f"&mimeType={quote(MIME['h264'])}")
            if ws.status == 101:
                # the ingest reads the recording's header before it admits
                # the publisher: the pipeline is built then, and fails
                ws.send_binary(RECORDINGS["h264"][:16384])
                self.assertEqual(ws.wait_close()[0], 1011)
            ws.close()
            failed = case.wait_state(doomed["id"], "failed", 10)
            self.assertIn("'castlinenosuchelement'", failed["reason"])
            self.assertIn("custom", failed["reason"])

            other = case.create(title="other")
            case.publish(other, "h264")
            case.wait_state(other["id"], "ended")
            self.assertIn("#EXT-X-ENDLIST", case.playlist(other))
            self.assertNotIn("CRITICAL", launcher.output())
        finally:
            self.assertEqual(launcher.stop(), 0)


if __name__ == "__main__":
    unittest.main()
