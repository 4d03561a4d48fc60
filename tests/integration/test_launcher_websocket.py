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
from launchercase import RECORDINGS, LauncherCase  # noqa: E402
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

    def refused(self, stream, kind, mime):
        """Sends the start of a recording (its header) with ?mimeType=mime
        (None: none); the server's (close code, reason)."""
        ws = WsClient(self.launcher.port, f"/ingest/{stream['id']}?key={quote(stream['key'])}"
                      + (f"&mimeType={quote(mime)}" if mime else ""))
        self.addCleanup(ws.close)
        self.assertEqual(ws.status, 101)
        ws.send_binary(RECORDINGS[kind][:16384])
        return ws.wait_close()

    def test_codecs_come_from_the_header_not_the_mime_type(self):
        # no mimeType: the header's V_VP8 and A_OPUS choose transcode
        stream = self.create(title="no mimeType")
        self.publish(stream, "vp8", mime="")
        s, _ = self.check_hls(stream, ["aac", "h264"])
        self.assertEqual(s["pipeline"], "transcode")

    def test_a_mime_type_the_header_contradicts_is_closed_with_1003(self):
        stream = self.create(title="wrong mimeType")
        before = self.launcher.api("GET", f"/api/streams/{stream['id']}")[1]
        code, reason = self.refused(stream, "vp8", MIME["h264"])
        self.assertEqual(code, 1003)
        self.assertIn("h264", reason)
        self.assertIn("vp8", reason)
        # never live: the stream is as it was, and takes a good publisher
        self.assertEqual(self.launcher.api("GET", f"/api/streams/{stream['id']}")[1], before)
        self.publish(stream, "vp8")
        self.check_hls(stream, ["aac", "h264"])

    def test_a_codec_no_pipeline_takes_is_closed_with_1003(self):
        stream = self.create(title="audio into video", pipeline="passthrough")
        code, reason = self.refused(stream, "opus", None)
        self.assertEqual(code, 1003)
        self.assertIn("passthrough", reason)
        self.assertIn("video none", reason)
        self.assertEqual(self.launcher.api("GET", f"/api/streams/{stream['id']}")[1]["state"],
                         "created")

    def check_bad_message_interrupts(self, message, want_code, want_reason):
        """Once live, message ends the publisher as a network drop does: a
        close with want_code and a reason containing want_reason, the
        stream interrupted; the same key with good media resumes it."""
        stream = self.create(title=f"bad message {want_code}")
        ws = self.publish(stream, "vp8", stop=False)
        self.addCleanup(ws.close)
        self.wait_state(stream["id"], "live")
        try:
            ws.send_binary(message)
        except OSError:
            pass                                      # closed before the whole message went
        code, reason = ws.wait_close()
        if want_code:
            self.assertEqual(code, want_code, reason)
            self.assertIn(want_reason, reason)
        s = self.wait_state(stream["id"], "interrupted")
        self.assertIn(str(want_code or 1009), s["reason"])
        self.assertIn("#EXT-X-ENDLIST", self.playlist(stream))
        self.publish(stream, "vp8")
        ended = self.wait_state(stream["id"], "ended")
        self.assertEqual(ended["started_at"], s["started_at"])
        self.assertRegex(self.playlist(stream), r"s2-segment00000\.(ts|m4s)",
                         "the second session's HLS")

    def test_garbage_after_live_interrupts_and_a_reconnect_resumes(self):
        # bytes no WebM element starts with, where the next one should be:
        # matroskademux fails on them
        self.check_bad_message_interrupts(b"\xff" * 16384, 1003, "cannot be read")

    def test_an_oversized_message_after_live_interrupts_and_a_reconnect_resumes(self):
        # webmwssrc's max-message-size: 4 MiB
        self.check_bad_message_interrupts(b"\x00" * (4 * 1024 * 1024 + 1), 1009, "too big")

    def test_a_frame_over_the_websocket_limit_interrupts(self):
        # over twice max-message-size libsoup itself drops the connection
        # (1009, maybe before the client reads the close frame)
        self.check_bad_message_interrupts(b"\x00" * (9 * 1024 * 1024), None, "")

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
