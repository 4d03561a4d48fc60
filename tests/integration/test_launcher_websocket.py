"""WebSocket ingest end to end: WebM/Matroska recordings made by
GStreamer, sent as a browser's MediaRecorder sends them, come out as HLS
served by the daemon (checked with ffprobe): VP8 transcoded, H.264 passed
through, audio only; stats while live, refusals, a publisher cut off or
sending garbage, two streams at once. MediaRecorder in a real Chromium:
test_launcher_browser.py.

Standard library only. Shared fixtures: launchercase.py.
Environment (meson sets it): CASTLINE_BUILD_DIR, CASTLINE_SOURCE_DIR,
CASTLINE_PRELOAD (sanitizer runtime, optional).
Run by hand: /usr/bin/python3 tests/integration/test_launcher_websocket.py [-k PATTERN]
Every wait is bounded.
"""
import os
import sys
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from wsclient import WsClient  # noqa: E402
from launcherproc import MIME, ffprobe, quote, wait_for  # noqa: E402
from launchercase import LauncherCase  # noqa: E402
from launchercase import setUpModule, tearDownModule  # noqa: E402,F401 (module fixture)


class WebSocketIngestTest(LauncherCase):
    def check_hls(self, stream, want_codecs, seconds=6):
        s = self.wait_state(stream["id"], "ended")
        self.assertEqual(s["ingest"], "websocket")
        text = self.playlist(stream)
        self.assertIn("#EXT-X-ENDLIST", text)
        info = ffprobe(stream["playback_url"])
        codecs = sorted(st["codec_name"] for st in info["streams"])
        self.assertEqual(codecs, sorted(want_codecs), info)
        self.assertAlmostEqual(float(info["format"]["duration"]), seconds, delta=1.5)
        return s, info

    def test_vp8_is_transcoded_to_h264(self):
        stream = self.create(title="vp8")
        self.publish(stream, "vp8")
        s, _ = self.check_hls(stream, ["aac", "h264"])
        self.assertEqual(s["pipeline"], "transcode")

    def test_h264_passes_through(self):
        stream = self.create(title="h264")
        self.publish(stream, "h264")
        s, info = self.check_hls(stream, ["aac", "h264"])
        self.assertEqual(s["pipeline"], "passthrough")
        video = [st for st in info["streams"] if st["codec_type"] == "video"][0]
        self.assertEqual((video["width"], video["height"]), (320, 240))

    def test_audio_only(self):
        stream = self.create(title="radio")
        self.publish(stream, "opus")
        s, _ = self.check_hls(stream, ["aac"])
        self.assertEqual(s["pipeline"], "audio-only")

    def test_stats_while_live(self):
        stream = self.create()
        ws = self.publish(stream, "h264", pace=0.05, stop=False)
        s = self.wait_state(stream["id"], "live", 10)

        def stats():
            status, got = self.launcher.api("GET", f"/api/streams/{stream['id']}")
            return got.get("stats", {}).get("video")
        video = wait_for(stats, 10)
        self.assertTrue(video, "no viewerstats for the video branch")
        self.assertEqual(video["codec"], "h264")
        self.assertEqual((video["width"], video["height"]), (320, 240))
        ws.send_text('{"type":"stop-stream"}')
        ws.wait_close()
        ws.close()
        self.wait_state(stream["id"], "ended")

    def test_refusals(self):
        stream = self.create()
        ws = WsClient(self.launcher.port, f"/ingest/{stream['id']}?key=wrong&mimeType=video%2Fwebm")
        self.assertEqual(ws.status, 401)
        ws = WsClient(self.launcher.port, f"/ingest/{stream['id']}?key={quote(stream['key'])}")
        self.assertEqual(ws.status, 400, "no mimeType and no pipeline")
        ws = WsClient(self.launcher.port, f"/ingest/..%2Fx?key=k&mimeType=video%2Fwebm")
        self.assertEqual(ws.status, 400)
        ws = WsClient(self.launcher.port, f"/ingest/{stream['id']}?key={quote(stream['key'])}"
                      "&mimeType=video%2Fmp4")
        self.assertEqual(ws.status, 415)

        first = self.publish(stream, "vp8", stop=False)
        second = WsClient(self.launcher.port, f"/ingest/{stream['id']}?key={quote(stream['key'])}"
                          f"&mimeType={quote(MIME['vp8'])}")
        self.assertEqual(second.status, 101)
        code, reason = second.wait_close()
        self.assertEqual(code, 1008)
        self.assertIn("publisher", reason)
        first.send_text('{"type":"stop-stream"}')
        first.wait_close()
        self.wait_state(stream["id"], "ended")
        again = WsClient(self.launcher.port, f"/ingest/{stream['id']}?key={quote(stream['key'])}"
                         f"&mimeType={quote(MIME['vp8'])}")
        self.assertEqual(again.wait_close()[0], 1008, "an ended stream took a publisher")

    def test_disconnect_and_garbage(self):
        stream = self.create()
        ws = self.publish(stream, "vp8", stop=False)
        ws.close()                                    # no close frame: cut
        s = self.wait_state(stream["id"], "interrupted")   # it may come back (ReconnectTest)
        self.assertIn("#EXT-X-ENDLIST", self.playlist(stream))
        self.assertEqual(self.launcher.api("DELETE", f"/api/streams/{stream['id']}")[0], 200)
        self.wait_state(stream["id"], "ended")

        bad = self.create()
        ws = WsClient(self.launcher.port, f"/ingest/{bad['id']}?key={quote(bad['key'])}"
                      f"&mimeType={quote(MIME['vp8'])}")
        ws.send_binary(b"\x00garbage" * 100)
        self.assertEqual(ws.wait_close()[0], 1003)

    def test_two_streams_at_once(self):
        a, b = self.create(title="a"), self.create(title="b")
        wa = self.publish(a, "h264", stop=False)
        wb = self.publish(b, "vp8", stop=False)
        self.wait_state(a["id"], "live")
        self.wait_state(b["id"], "live")
        for ws in (wa, wb):
            ws.send_text('{"type":"stop-stream"}')
            ws.wait_close()
        self.check_hls(a, ["aac", "h264"])
        self.check_hls(b, ["aac", "h264"])


if __name__ == "__main__":
    unittest.main(verbosity=2)
