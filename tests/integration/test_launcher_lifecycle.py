"""The daemon's and a stream's lifecycle end to end: SIGTERM finalizes
the live playlists and a restart keeps the streams and their keys; an
idle publisher ends its stream; a publisher lost without stopping leaves
the stream interrupted, to resume with the same key within
reconnect_window (webhooks, metrics and one recording per session) or
end with DELETE, the window's end or a shutdown.

Standard library only, but for the Prometheus parser /metrics is read
with (Debian's python3-prometheus-client, for /usr/bin/python3, which
meson runs). Shared fixtures: launchercase.py.
Environment (meson sets it): CASTLINE_BUILD_DIR, CASTLINE_SOURCE_DIR,
CASTLINE_PRELOAD (sanitizer runtime, optional).
Run by hand: /usr/bin/python3 tests/integration/test_launcher_lifecycle.py [-k PATTERN]
Every wait is bounded.
"""
import json
import os
import signal
import sys
import time
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from wsclient import WsClient  # noqa: E402
from launcherproc import MIME, Launcher, quote, wait_for  # noqa: E402
from launchercase import LauncherCase, WebhookCase, WebhookReceiver, case_dir, metric_samples  # noqa: E402
from launchercase import setUpModule, tearDownModule  # noqa: E402,F401 (module fixture)


class LifecycleTest(unittest.TestCase):
    def setUp(self):
        self.dir = case_dir()

    def test_sigterm_finalizes_and_restart_keeps_streams(self):
        launcher = Launcher(self.dir).start()
        case = LauncherCase()
        case.launcher = launcher
        a, b = case.create(title="a"), case.create(title="b")
        wa = case.publish(a, "h264", pace=0.02, stop=False)
        wb = case.publish(b, "opus", pace=0.02, stop=False)
        case.wait_state(a["id"], "live")
        case.wait_state(b["id"], "live")
        self.assertEqual(launcher.stop(signal.SIGTERM), 0, launcher.output())
        for s in (a, b):
            path = os.path.join(self.dir, "data", "live", s["id"], "index.m3u8")
            with open(path) as f:
                self.assertIn("#EXT-X-ENDLIST", f.read(), f"{s['id']} not finalized")
        for ws in (wa, wb):
            ws.close()

        launcher = Launcher(self.dir, port=launcher.port).start()
        case.launcher = launcher
        try:
            status, got = launcher.api("GET", f"/api/streams/{a['id']}")
            self.assertEqual((status, got["state"]), (200, "ended"))
            c = case.create(title="c")
            launcher.stop()
            launcher = Launcher(self.dir, port=launcher.port).start()
            case.launcher = launcher
            case.publish(c, "h264")                    # the key survived the restart
            case.wait_state(c["id"], "ended")
        finally:
            self.assertEqual(launcher.stop(), 0)

    def test_idle_publisher_ends_the_stream(self):
        launcher = Launcher(self.dir, idle_timeout=2, reconnect_window=0).start()
        case = LauncherCase()
        case.launcher = launcher
        try:
            s = case.create()
            ws = case.publish(s, "h264", stop=False)
            case.wait_state(s["id"], "live")
            t0 = time.monotonic()
            case.wait_state(s["id"], "ended", 20)
            self.assertGreaterEqual(time.monotonic() - t0, 1.0)
            ws.close()
        finally:
            self.assertEqual(launcher.stop(), 0)



class ShutdownAdmissionTest(unittest.TestCase):
    """While the daemon finalizes on SIGTERM, no publisher is admitted,
    whatever its ingest: WHIP's is answered 503, the WebSocket's is closed
    1008 with the reason, and the stream stays as it was. The shutdown is
    held open here by the daemon's last webhook delivery, which the
    receiver does not answer yet (the daemon waits up to 3 s for it)."""

    def setUp(self):
        self.dir = case_dir()
        self.receiver = WebhookReceiver()

    def tearDown(self):
        self.receiver.stop()

    def test_no_publisher_is_admitted_while_shutting_down(self):
        launcher = Launcher(self.dir, webhooks={"urls": [self.receiver.url]}).start()
        case = LauncherCase()
        case.launcher = launcher
        self.receiver.hold()
        s = case.create(title="late")
        self.assertTrue(self.receiver.wait(1, 10), "stream.created never came")
        launcher.proc.send_signal(signal.SIGTERM)
        self.assertTrue(wait_for(lambda: "stopping: finalizing" in launcher.output(), 10),
                        launcher.output())

        status, _, body = launcher.request(
            "POST", f"/whip/{s['id']}", body="v=0\r\n",
            headers={"Content-Type": "application/sdp", "Authorization": f"Bearer {s['key']}"})
        self.assertEqual(status, 503, body)
        self.assertIn(b"shutting down", body)
        ws = WsClient(launcher.port, f"/ingest/{s['id']}?key={quote(s['key'])}"
                                     f"&mimeType={quote(MIME['vp8'])}")
        self.assertEqual(ws.status, 101)
        code, reason = ws.wait_close()
        ws.close()
        self.assertEqual((code, reason), (1008, "the server is shutting down"))

        self.receiver.release()
        self.assertEqual(launcher.stop(), 0, launcher.output())
        launcher = Launcher(self.dir, port=launcher.port).start()
        try:
            status, got = launcher.api("GET", f"/api/streams/{s['id']}")
            self.assertEqual((status, got["state"]), (200, "created"), got)
        finally:
            self.assertEqual(launcher.stop(), 0)

class ReconnectTest(WebhookCase):
    """A publisher lost without stopping leaves the stream interrupted; the
    same key within reconnect_window makes it live again, each session
    with its own segments and recording; DELETE or the window's end ends
    it."""
    extra_settings = {"reconnect_window": 30, "record": True, "idle_timeout": 30}

    def events(self, sid):
        return [(h["x-castline-event"], json.loads(b)["stream"]["state"])
                for h, b in self.receiver.received()
                if h["x-castline-event"].startswith("stream.")
                and json.loads(b)["stream"]["id"] == sid]

    def cut(self, s):
        ws = self.publish(s, "h264", stop=False)
        self.wait_state(s["id"], "live")
        ws.close()                                    # no close frame: lost
        return self.wait_state(s["id"], "interrupted")

    def test_lost_publisher_comes_back_then_stops(self):
        s = self.create(title="reconnect")
        got = self.cut(s)
        self.assertIn("1006", got["reason"])
        status = self.launcher.api("GET", f"/api/streams/{s['id']}/status")[1]
        self.assertEqual((status["state"], status["ended_at"]), ("interrupted", None))
        self.assertIn("#EXT-X-ENDLIST", self.playlist(s))
        samples, _ = metric_samples(self.launcher.request("GET", "/metrics")[2].decode())
        self.assertIn(({"state": "interrupted"}, 1.0), samples["castline_streams"])
        started = got["started_at"]

        self.publish(s, "h264")                       # back with the key, then a clean stop
        ended = self.wait_state(s["id"], "ended")
        self.assertEqual(ended["started_at"], started, "a resumed stream keeps its start")
        self.assertNotIn("reason", ended)
        playlist = self.playlist(s)
        self.assertRegex(playlist, r"s2-segment00000\.(ts|m4s)", "the second session's HLS")
        self.assertIn("#EXT-X-ENDLIST", playlist)
        self.assertTrue(self.receiver.wait(7, 30))
        self.assertTrue(wait_for(lambda: self.events(s["id"])[-1:] == [("stream.ended", "ended")]
                                 or None, 15), self.events(s["id"]))
        self.assertEqual(self.events(s["id"]), [
            ("stream.created", "created"), ("stream.started", "live"),
            ("stream.interrupted", "interrupted"), ("stream.resumed", "live"),
            ("stream.ended", "ended")])
        recordings = wait_for(lambda: (lambda r: r if len(r) == 2 else None)(
            self.launcher.api("GET", f"/api/streams/{s['id']}/recordings")[1]["recordings"]), 30)
        self.assertTrue(recordings, "not one recording per session")
        names = sorted(r["url"].rsplit("/", 1)[1] for r in recordings)
        self.assertEqual(names, ["s2-vod.m3u8", "vod.m3u8"])
        for name in names:
            status, _, body = self.launcher.request("GET", f"/live/{s['id']}/{name}")
            self.assertEqual(status, 200)
            self.assertEqual(("s2-segment" in body.decode()), name == "s2-vod.m3u8")

    def test_a_refused_whip_offer_leaves_the_stream_as_it_was(self):
        # an offer that passes the route's checks but that webrtcbin refuses
        # after the stream admitted it (a setup it does not know): an error
        # answer, and GET shows the stream exactly as before, fresh or
        # interrupted
        offer = ("v=0\r\no=- 1 0 IN IP4 0.0.0.0\r\ns=-\r\nt=0 0\r\n"
                 "a=ice-ufrag:abcd\r\na=ice-pwd:abcdefghijklmnopqrstuvwx\r\n"
                 "a=fingerprint:sha-256 00:11:22:33:44:55:66:77:88:99:AA:BB:CC:DD:EE:FF:"
                 "00:11:22:33:44:55:66:77:88:99:AA:BB:CC:DD:EE:FF\r\n"
                 "m=video 9 UDP/TLS/RTP/SAVPF 96\r\nc=IN IP4 0.0.0.0\r\na=mid:0\r\n"
                 "a=sendonly\r\na=setup:holdconn\r\na=rtpmap:96 VP8/90000\r\na=rtcp-mux\r\n"
                 "m=audio 9 UDP/TLS/RTP/SAVPF 111\r\nc=IN IP4 0.0.0.0\r\na=mid:1\r\n"
                 "a=sendonly\r\na=setup:holdconn\r\na=rtpmap:111 opus/48000/2\r\na=rtcp-mux\r\n")
        fresh = self.create(title="refused offer")
        interrupted = self.create(title="refused offer, interrupted")
        self.cut(interrupted)
        for s in (fresh, interrupted):
            before = self.launcher.api("GET", f"/api/streams/{s['id']}")[1]
            status, _, body = self.launcher.request("POST", f"/whip/{s['id']}", offer, {
                "Content-Type": "application/sdp", "Authorization": "Bearer " + s["key"]})
            self.assertGreaterEqual(status, 400, body)
            self.assertEqual(self.launcher.api("GET", f"/api/streams/{s['id']}")[1], before)
        self.assertEqual(self.launcher.api("DELETE", f"/api/streams/{interrupted['id']}")[0], 200)

    def test_delete_ends_an_interrupted_stream(self):
        s = self.create()
        self.cut(s)
        status, got = self.launcher.api("DELETE", f"/api/streams/{s['id']}")
        self.assertEqual((status, got["state"]), (200, "ended"))
        again = WsClient(self.launcher.port, f"/ingest/{s['id']}?key={quote(s['key'])}"
                         f"&mimeType={quote(MIME['h264'])}")
        self.assertEqual(again.wait_close()[0], 1008, "an ended stream took a publisher")
        again.close()
        self.assertTrue(wait_for(lambda: ("stream.ended", "ended") in self.events(s["id"]) or None,
                                 15))

    def test_wrong_key_does_not_resume(self):
        s = self.create()
        self.cut(s)
        ws = WsClient(self.launcher.port, f"/ingest/{s['id']}?key=wrong&mimeType=video%2Fwebm")
        self.assertEqual(ws.status, 401)
        ws.close()
        self.assertEqual(self.launcher.api("GET", f"/api/streams/{s['id']}")[1]["state"],
                         "interrupted")



class ReconnectWindowTest(LauncherCase):
    """Past reconnect_window without a publisher, an interrupted stream ends;
    a daemon restarted with one interrupted ends it too."""
    settings = {"reconnect_window": 2}

    def test_window_over_ends_the_stream(self):
        s = self.create()
        ws = self.publish(s, "h264", stop=False)
        self.wait_state(s["id"], "live")
        ws.close()
        self.wait_state(s["id"], "interrupted")
        t0 = time.monotonic()
        ended = self.wait_state(s["id"], "ended", 15)
        self.assertGreaterEqual(time.monotonic() - t0, 1.0)
        self.assertIn("did not come back", ended["reason"])
        self.assertTrue(ended["ended_at"])

    def test_shutdown_ends_an_interrupted_stream(self):
        self.launcher.stop()
        self.launcher = Launcher(self.dir, port=self.launcher.port, reconnect_window=600).start()
        s = self.create()
        ws = self.publish(s, "h264", stop=False)
        self.wait_state(s["id"], "live")
        ws.close()
        self.wait_state(s["id"], "interrupted")
        self.assertEqual(self.launcher.stop(), 0)
        self.launcher = Launcher(self.dir, port=self.launcher.port).start()
        status, got = self.launcher.api("GET", f"/api/streams/{s['id']}")
        self.assertEqual((status, got["state"]), (200, "ended"))


if __name__ == "__main__":
    unittest.main(verbosity=2)
