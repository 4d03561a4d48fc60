"""webmwssrc with a real browser: Chromium's MediaRecorder (fake camera and
microphone, 500 ms timeslice) sends WebM chunks over a WebSocket to
webmwssrc in a gst-launch-1.0 pipeline that writes HLS; ffprobe reads the
result back.

Standard library only; environment as in gstlaunch.py. The publisher is
browser/webm_publisher.mjs (playwright-core driving /usr/bin/chromium).
Run by hand: python3 tests/integration/test_webmwssrc_browser.py [-k PATTERN]
Every wait is bounded: the driver's own 90 s bound, subprocess time-outs.
"""
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from gstlaunch import SOURCE, Launch, require_tools  # noqa: E402
from s3rver import free_port  # noqa: E402

PUBLISHER = os.path.join(os.path.dirname(os.path.abspath(__file__)), "browser",
                         "webm_publisher.mjs")
KEY = "browser-test-key-0123456789abcdef"
SECONDS = 6

# Demuxer branches hold a whole GOP before hlssink2 (FACTS.md: default
# queues deadlock splitmuxsink with Chromium's GOPs).
VIDEO_QUEUE = "queue max-size-time=0 max-size-buffers=0 max-size-bytes=67108864"
AUDIO_QUEUE = "queue max-size-time=0 max-size-buffers=0 max-size-bytes=16777216"
OPUS_TO_AAC = "opusdec ! audioconvert ! audioresample ! avenc_aac ! aacparse"
# VP8 decoded by vp8dec named explicitly (Chromium's WebM has AlphaMode)
VP8_TO_H264 = ("vp8dec ! videoconvert ! x264enc tune=zerolatency speed-preset=ultrafast "
               "key-int-max=30 ! h264parse")


def setUpModule():
    require_tools("ffprobe", "node")
    if not os.path.exists(os.path.join(SOURCE, "node_modules", "playwright-core")):
        raise RuntimeError("playwright-core is not installed (scripts/setup.sh)")
    if not os.path.exists("/usr/bin/chromium"):
        raise RuntimeError("chromium is not installed (scripts/setup.sh)")


def ffprobe(playlist):
    out = subprocess.run(["ffprobe", "-v", "error", "-show_entries",
                          "format=duration:stream=codec_type,codec_name,width,height,profile",
                          "-of", "json", playlist],
                         capture_output=True, text=True, timeout=60, check=True).stdout
    return json.loads(out)


class BrowserPublishTest(unittest.TestCase):
    def setUp(self):
        self.dir = tempfile.mkdtemp(prefix="castline-webmws-")
        self.port = free_port()
        self.gst = None

    def tearDown(self):
        if self.gst:
            self.gst.kill()
        shutil.rmtree(self.dir, ignore_errors=True)

    def publish(self, branches, mime, extra_args=()):
        """Runs the pipeline and the browser; returns (driver result, gst rc)."""
        playlist = os.path.join(self.dir, "index.m3u8")
        self.gst = Launch(
            f"webmwssrc port={self.port} key={KEY} ! matroskademux name=d {branches} "
            f"hlssink2 name=h target-duration=1 max-files=0 playlist-length=0 "
            f"location={self.dir}/segment%05d.ts playlist-location={playlist}")
        driver = subprocess.run(
            ["node", PUBLISHER, "--url", f"ws://127.0.0.1:{self.port}/?key={KEY}",
             "--mime", mime, "--seconds", str(SECONDS), *extra_args],
            capture_output=True, text=True, timeout=120, cwd=SOURCE)
        self.assertEqual(driver.returncode, 0, driver.stderr[-3000:])
        result = json.loads(driver.stdout.strip().splitlines()[-1])
        # the publisher's end (stop-stream or close) is EOS: gst-launch ends
        # by itself, no SIGINT
        rc = self.gst.finish(interrupt=False, timeout=60)
        return result, rc

    def assert_hls(self, rc, codecs, min_segments=1):
        output = self.gst.output
        self.assertEqual(rc, 0, output[-3000:])
        self.assertIn("webmwssrc-publisher-connected", output)
        self.assertIn("webmwssrc-publisher-disconnected", output)
        self.assertIn("Got EOS from element", output)
        with open(os.path.join(self.dir, "index.m3u8")) as f:
            text = f.read()
        self.assertTrue(text.rstrip().endswith("#EXT-X-ENDLIST"), text)
        segments = [line for line in text.splitlines() if line.endswith(".ts")]
        self.assertGreaterEqual(len(segments), min_segments, text)
        probe = ffprobe(os.path.join(self.dir, "index.m3u8"))
        found = {s["codec_type"]: s for s in probe["streams"]}
        self.assertEqual(sorted(found), sorted(codecs), probe)
        for kind, name in codecs.items():
            self.assertEqual(found[kind]["codec_name"], name, probe)
        if "video" in found:
            self.assertEqual((found["video"]["width"], found["video"]["height"]), (640, 480))
        duration = float(probe["format"]["duration"])
        self.assertGreater(duration, SECONDS - 1.5, probe)
        self.assertLess(duration, SECONDS + 1.5, probe)
        return found

    def test_vp8_opus_becomes_h264_aac_hls(self):
        result, rc = self.publish(
            f"d.video_0 ! {VIDEO_QUEUE} ! {VP8_TO_H264} ! h.video "
            f"d.audio_0 ! {AUDIO_QUEUE} ! {OPUS_TO_AAC} ! h.audio",
            "video/webm;codecs=vp8,opus")
        self.assertNotIn("error", result)
        self.assertEqual(result["closeCode"], 1000, result)   # stop-stream answered
        self.assertGreaterEqual(result["chunks"], SECONDS)    # 500 ms timeslice
        self.assert_hls(rc, {"video": "h264", "audio": "aac"}, min_segments=SECONDS - 1)

    def test_h264_passes_through_without_a_video_encoder(self):
        # Chromium records H.264 into Matroska: the video branch only
        # parses it, nothing decodes or encodes
        result, rc = self.publish(
            f"d.video_0 ! {VIDEO_QUEUE} ! h264parse ! viewerstats name=vs interval=1000 ! h.video "
            f"d.audio_0 ! {AUDIO_QUEUE} ! {OPUS_TO_AAC} ! h.audio",
            "video/webm;codecs=h264,opus")
        self.assertNotIn("error", result)
        self.assertEqual(result["closeCode"], 1000, result)
        self.assertIn('mime-type=(string)"video/webm\\;codecs\\=h264', self.gst.output)
        found = self.assert_hls(rc, {"video": "h264", "audio": "aac"})
        # x264 would say High/Main; Chromium's encoder makes Constrained Baseline
        self.assertIn("Baseline", found["video"].get("profile", ""), found)
        # viewerstats measured what the viewer of that branch gets
        stats = re.findall(r'from element "vs" \(element\): viewerstats, (.*);', self.gst.output)
        self.assertGreaterEqual(len(stats), SECONDS - 2, self.gst.output[-2000:])
        last = dict(re.findall(r"([a-z-]+)=\([a-z0-9]+\)([^,]+)", stats[-1]))
        self.assertEqual((last["codec"], last["width"], last["height"]), ("h264", "640", "480"))
        self.assertTrue(10 <= float(last["fps"]) <= 35, last)
        self.assertGreater(float(last["bitrate"]), 100000, last)
        self.assertGreater(int(last["health"]), 0, last)

    def test_audio_only_opus_becomes_aac_hls(self):
        result, rc = self.publish(f"d.audio_0 ! {AUDIO_QUEUE} ! {OPUS_TO_AAC} ! h.audio",
                                  "audio/webm;codecs=opus")
        self.assertNotIn("error", result)
        self.assertEqual(result["closeCode"], 1000, result)
        self.assertIn('mime-type=(string)"audio/webm', self.gst.output)
        self.assert_hls(rc, {"audio": "aac"}, min_segments=SECONDS - 1)

    def test_abrupt_close_mid_stream_still_finalizes(self):
        # the page closes the socket while recording: no stop-stream, the
        # last cluster cut short; the playlist must still be finished
        result, rc = self.publish(
            f"d.video_0 ! {VIDEO_QUEUE} ! {VP8_TO_H264} ! h.video "
            f"d.audio_0 ! {AUDIO_QUEUE} ! {OPUS_TO_AAC} ! h.audio",
            "video/webm;codecs=vp8,opus", ["--abrupt"])
        self.assertNotIn("error", result)
        self.assertEqual(result["closeCode"], 4000, result)
        self.assert_hls(rc, {"video": "h264", "audio": "aac"})


if __name__ == "__main__":
    unittest.main(verbosity=2)
