"""castline-launcher end to end: the real daemon on 127.0.0.1, its HTTP API,
WebSocket ingest fed with WebM/Matroska recordings made by GStreamer,
HLS served by the daemon (checked with ffprobe), lifecycle and restarts,
viewer counts, the events stream and /metrics.

Standard library only, but for the metrics tests' Prometheus parser
(Debian's python3-prometheus-client, for /usr/bin/python3, which meson
runs). Environment (meson sets it): CASTLINE_BUILD_DIR,
CASTLINE_SOURCE_DIR, CASTLINE_PRELOAD (sanitizer runtime, optional).
Run by hand: /usr/bin/python3 tests/integration/test_launcher.py [-k PATTERN]
Every wait is bounded.
"""
import hashlib
import hmac
import http.client
import http.server
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import unittest
import urllib.request

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from s3rver import S3rver  # noqa: E402
from wsclient import WsClient  # noqa: E402
from sseclient import SseClient  # noqa: E402
from gstlaunch import SOURCE  # noqa: E402
from launcherproc import MIME, Launcher, ffprobe, make_recording, quote, wait_for  # noqa: E402

RECORDINGS = {}


def abr_recording(kind, width, height, seconds=10):
    """A larger recording for the ABR tests, RECORDINGS[name] (made once);
    its name, which publish() takes as a kind."""
    name = f"{kind}-{height}p"
    if name not in RECORDINGS:
        RECORDINGS[name] = make_recording(WORK, kind, seconds, (width, height))
        MIME[name] = MIME[kind]
    return name


def setUpModule():
    global WORK
    WORK = tempfile.mkdtemp(prefix="castline-launcher-test-")
    for kind in ("vp8", "h264", "opus"):
        RECORDINGS[kind] = make_recording(WORK, kind)


def tearDownModule():
    shutil.rmtree(WORK, ignore_errors=True)


class LauncherCase(unittest.TestCase):
    settings = {}

    def setUp(self):
        self.dir = tempfile.mkdtemp(prefix="case-", dir=WORK)
        self.launcher = Launcher(self.dir, **self.settings).start()

    def tearDown(self):
        code = self.launcher.stop()
        if code != 0:
            print(self.launcher.output())
        self.assertEqual(code, 0, "the launcher did not exit 0 on SIGTERM")

    def create(self, **body):
        status, s = self.launcher.api("POST", "/api/streams", body)
        self.assertEqual(status, 201, s)
        return s

    def publish(self, stream, kind, pace=0.0, stop=True, key=None):
        """Sends a recording over the stream's WebSocket in 16 KiB messages;
        returns the client (closed when stop)."""
        target = (f"/ingest/{stream['id']}?key={quote(key or stream['key'])}"
                  f"&mimeType={quote(MIME[kind])}")
        ws = WsClient(self.launcher.port, target)
        self.assertEqual(ws.status, 101, "upgrade refused")
        data = RECORDINGS[kind]
        for i in range(0, len(data), 16384):
            ws.send_binary(data[i:i + 16384])
            if pace:
                time.sleep(pace)
        if stop:
            ws.send_text('{"type":"stop-stream"}')
            self.assertEqual(ws.wait_close()[0], 1000)
            ws.close()
        return ws

    def wait_state(self, stream_id, state, timeout=30):
        def check():
            status, s = self.launcher.api("GET", f"/api/streams/{stream_id}")
            return s if status == 200 and s["state"] == state else None
        s = wait_for(check, timeout)
        if not s:
            print(self.launcher.output())
        self.assertTrue(s, f"stream {stream_id} never {state}")
        return s

    def playlist(self, stream):
        status, hdrs, body = self.launcher.request("GET", f"/live/{stream['id']}/index.m3u8")
        self.assertEqual(status, 200)
        self.assertEqual(hdrs.get("Content-Type"), "application/vnd.apple.mpegurl")
        return body.decode()


class ApiTest(LauncherCase):
    def test_create_get_list_delete(self):
        s = self.create(title="Sunday service")
        self.assertEqual(s["state"], "created")
        self.assertGreaterEqual(len(s["key"]), 22, "a stream key under 128 bits")
        for field in ("whip_url", "ws_url", "playback_url"):
            self.assertIn(s["id"], s[field])
        self.assertTrue(s["ws_url"].startswith("ws://127.0.0.1:"))
        status, got = self.launcher.api("GET", f"/api/streams/{s['id']}")
        self.assertEqual(status, 200)
        self.assertNotIn("key", got, "the key is given out only at creation")
        self.assertEqual(got["title"], "Sunday service")
        status, all_ = self.launcher.api("GET", "/api/streams")
        self.assertEqual([x["id"] for x in all_["streams"]], [s["id"]])
        status, ended = self.launcher.api("DELETE", f"/api/streams/{s['id']}")
        self.assertEqual((status, ended["state"]), (200, "ended"))
        self.assertNotIn(s["key"], self.launcher.output(), "the stream key was logged")

    def test_scheduled_and_pipeline(self):
        s = self.create(title="later", scheduled_at="2099-01-01T10:00:00Z", pipeline="audio-only")
        self.assertEqual((s["state"], s["pipeline"]), ("scheduled", "audio-only"))
        self.assertEqual(s["scheduled_at"], "2099-01-01T10:00:00Z")

    def test_bad_requests(self):
        cases = [
            ('{"title": ', "application/json", 400),
            ('[1]', "application/json", 400),
            ('{"title": 5}', "application/json", 400),
            ('{"colour": "red"}', "application/json", 400),
            ('{"pipeline": "nope"}', "application/json", 400),
            ('{"pipeline": "../../etc/passwd"}', "application/json", 400),
            ('{"scheduled_at": "tomorrow"}', "application/json", 400),
            ('{"title": "' + "x" * 300 + '"}', "application/json", 400),
            ('title=x', "application/x-www-form-urlencoded", 415),
            ("{" + " " * 70000 + "}", "application/json", 413),
        ]
        for body, ctype, want in cases:
            status, answer = self.launcher.api("POST", "/api/streams", body, {"Content-Type": ctype})
            self.assertEqual(status, want, f"{body[:40]!r}: {answer}")
            self.assertIn("error", answer)
        for path, want in [("/api/streams/nosuch", 404), ("/api/streams/..%2F..%2Fetc", 400),
                           ("/api/streams/A'B", 400), ("/api/streams/a/b", 400),
                           ("/live/a%27b/index.m3u8", 400), ("/live/abc/..%2Fcastline.db", 400),
                           ("/live/abc/index.m3u8", 404)]:
            status, _, _ = self.launcher.request("GET", path)
            self.assertEqual(status, want, path)
        status, _ = self.launcher.api("PUT", "/api/streams")
        self.assertEqual(status, 405)


class ConnectionsTest(LauncherCase):
    """HTTP keep-alive, and no descriptor kept for a client that has gone:
    libsoup 3.2 alone would keep one for every keep-alive connection a
    client closed, and for every client that connects and never sends a
    request (see launcher/http/httpconnstream.h)."""
    settings = {"http_request_timeout": 2}

    def fds(self):
        return len(os.listdir(f"/proc/{self.launcher.proc.pid}/fd"))

    def test_keep_alive_serves_many_requests_on_one_connection(self):
        conn = http.client.HTTPConnection("127.0.0.1", self.launcher.port, timeout=10)
        conn.request("GET", "/api/streams")
        conn.getresponse().read()
        sock = conn.sock
        for path in ("/api/streams", "/live/abc/index.m3u8", "/metrics"):
            conn.request("GET", path)
            r = conn.getresponse()
            r.read()
            self.assertNotEqual(r.getheader("Connection"), "close", path)
            self.assertIs(conn.sock, sock, f"{path} was answered on a new connection")
        conn.close()

    def test_no_descriptor_outlives_its_client(self):
        self.launcher.request("GET", "/api/streams")
        base = self.fds()
        for _ in range(50):        # keep-alive connections the clients close
            conn = http.client.HTTPConnection("127.0.0.1", self.launcher.port, timeout=10)
            for _ in range(4):
                conn.request("GET", "/live/abc/index.m3u8")
                r = conn.getresponse()
                r.read()
                self.assertEqual(r.status, 404)
            conn.close()
        self.assertTrue(wait_for(lambda: self.fds() <= base, 5),
                        f"{self.fds()} descriptors open after closed keep-alive connections, "
                        f"{base} before")
        idle = http.client.HTTPConnection("127.0.0.1", self.launcher.port, timeout=10)
        idle.request("GET", "/api/streams")
        idle.getresponse().read()  # then silent, past http_request_timeout
        silent = [socket.create_connection(("127.0.0.1", self.launcher.port)) for _ in range(20)]
        for s in silent[:10]:
            s.close()              # connected, then gone without a request
        # the other ten stay, silent, past http_request_timeout
        self.assertTrue(wait_for(lambda: self.fds() <= base, 15),
                        f"{self.fds()} descriptors open, {base} before")
        for s in silent[10:] + [idle.sock]:
            s.settimeout(10)
            self.assertEqual(s.recv(1), b"", "a silent client was not disconnected, or got bytes")
            s.close()
        status, _, _ = self.launcher.request("GET", "/api/streams")
        self.assertEqual(status, 200)


class AuthTest(LauncherCase):
    settings = {"admin_token": "adm1n-t0ken-for-tests"}

    def test_token_required(self):
        self.assertEqual(self.launcher.api("GET", "/api/streams")[0], 401)
        self.assertEqual(self.launcher.api("GET", "/api/streams", headers={
            "Authorization": "Bearer wrong"})[0], 401)
        status, _ = self.launcher.api("GET", "/api/streams", headers={
            "Authorization": "Bearer adm1n-t0ken-for-tests"})
        self.assertEqual(status, 200)
        self.assertNotIn("adm1n-t0ken-for-tests", self.launcher.output())


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


BROWSER_DIR = os.path.join(os.path.dirname(os.path.abspath(__file__)), "browser")


def node(script, *args, timeout=120):
    """Runs a browser driver; its JSON result line. Chromium and node are
    installed by scripts/setup.sh: without them the browser tests fail."""
    out = subprocess.run(["node", os.path.join(BROWSER_DIR, script), *args], capture_output=True,
                         timeout=timeout, cwd=SOURCE)
    if out.returncode != 0:
        raise AssertionError(f"{script} failed ({out.returncode}): {out.stderr.decode()[-3000:]}")
    return json.loads(out.stdout.decode().strip().splitlines()[-1])


class BrowserTest(LauncherCase):
    """A real Chromium publishes over WHIP and MediaRecorder; another plays
    the stream with hls.js while it is live."""

    def play_while_live(self, stream, script, *args):
        """Runs a publisher driver in the background; while the stream is
        live, plays it with hls.js (4 s of the fake camera's 640x480);
        returns the publisher's JSON result."""
        pub = subprocess.Popen(["node", os.path.join(BROWSER_DIR, script), *args],
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE, cwd=SOURCE)
        try:
            self.wait_state(stream["id"], "live", 30)
            wait_for(lambda: self.launcher.request(
                "GET", f"/live/{stream['id']}/index.m3u8")[0] == 200, 20)
            played = node("hls_player.mjs", "--url", stream["playback_url"], "--seconds", "4")
            self.assertEqual(played["errors"], [], played)
            self.assertGreaterEqual(played["advanced"], 4, played)
            self.assertEqual((played["videoWidth"], played["videoHeight"]), (640, 480))
            out, err = pub.communicate(timeout=60)
        finally:
            if pub.poll() is None:
                pub.kill()
                pub.wait(timeout=10)
        self.assertEqual(pub.returncode, 0, err.decode()[-3000:])
        return json.loads(out.decode().strip().splitlines()[-1])

    def test_whip_h264_passthrough_plays_in_hlsjs(self):
        # Chromium's own offer: VP8 first, H.264 too; the answer picks H.264
        s = self.create(title="whip")
        result = self.play_while_live(s, "whip_publisher.mjs", "--url", s["whip_url"],
                                      "--key", s["key"], "--seconds", "14")
        self.assertEqual(result["status"], 201, result)
        self.assertTrue(result["answerHasCandidates"], result)
        self.assertTrue(result["connected"], result)
        self.assertEqual(result["deleteStatus"], 200)
        ended = self.wait_state(s["id"], "ended")
        self.assertEqual((ended["ingest"], ended["pipeline"]), ("whip", "passthrough"))
        playlist = self.playlist(s)
        self.assertIn("#EXT-X-ENDLIST", playlist)
        # the browser sends keyframes when asked (PLI): segments of about
        # hls.target_duration (2 s), the last one cut short by the end
        durations = [float(line[8:].split(",")[0]) for line in playlist.splitlines()
                     if line.startswith("#EXTINF:")]
        self.assertGreaterEqual(len(durations), 5, playlist)
        self.assertLessEqual(max(durations[1:-1]), 3.0, playlist)

    def test_whip_vp8_is_transcoded(self):
        s = self.create(title="whip vp8")
        result = node("whip_publisher.mjs", "--url", s["whip_url"], "--key", s["key"],
                      "--seconds", "6", "--codec", "vp8")
        self.assertEqual((result["status"], result["connected"]), (201, True), result)
        ended = self.wait_state(s["id"], "ended")
        self.assertEqual(ended["pipeline"], "transcode")
        info = ffprobe(s["playback_url"])
        self.assertEqual(sorted(st["codec_name"] for st in info["streams"]), ["aac", "h264"])

    def test_whip_refusals(self):
        s = self.create()
        result = node("whip_publisher.mjs", "--url", s["whip_url"], "--key", "wrong", "--seconds", "1")
        self.assertEqual(result["status"], 401)
        for body, ctype, want in [("v=0 garbage", "application/sdp", 400),
                                  ("x", "text/plain", 415)]:
            status, _, _ = self.launcher.request("POST", f"/whip/{s['id']}", body, {
                "Content-Type": ctype, "Authorization": "Bearer " + s["key"]})
            self.assertEqual(status, want)
        status, hdrs, _ = self.launcher.request("OPTIONS", f"/whip/{s['id']}")
        self.assertEqual(status, 204)
        self.assertEqual(hdrs.get("Accept-Post"), "application/sdp")
        self.assertEqual(self.launcher.api("GET", f"/api/streams/{s['id']}")[1]["state"], "created")

    def test_mediarecorder_vp8_plays_in_hlsjs(self):
        s = self.create(title="mediarecorder")
        url = f"{s['ws_url']}?key={quote(s['key'])}&mimeType={quote(MIME['vp8'])}"
        result = self.play_while_live(s, "webm_publisher.mjs", "--url", url, "--mime", MIME["vp8"],
                                      "--seconds", "14")
        self.assertEqual(result["closeCode"], 1000, result)
        ended = self.wait_state(s["id"], "ended")
        self.assertEqual((ended["ingest"], ended["pipeline"]), ("websocket", "transcode"))
        self.assertIn("#EXT-X-ENDLIST", self.playlist(s))

    def test_mediarecorder_audio_only(self):
        s = self.create(title="radio")
        url = f"{s['ws_url']}?key={quote(s['key'])}&mimeType={quote(MIME['opus'])}"
        result = node("webm_publisher.mjs", "--url", url, "--mime", MIME["opus"], "--seconds", "6")
        self.assertGreater(result["chunks"], 3, result)
        self.assertEqual(result["closeCode"], 1000, result)
        ended = self.wait_state(s["id"], "ended")
        self.assertEqual(ended["pipeline"], "audio-only")
        info = ffprobe(s["playback_url"])
        self.assertEqual([st["codec_name"] for st in info["streams"]], ["aac"])
        self.assertAlmostEqual(float(info["format"]["duration"]), 6, delta=1.5)


class WhipIceTest(LauncherCase):
    """ICE servers from the config reach the publisher as Link headers;
    trickled candidates are taken (204), an ICE restart refused (422).
    Nothing answers on the STUN/TURN ports, so the answer comes at the
    negotiation time-out with the candidates gathered by then."""
    settings = {"ice_servers": ["stun:127.0.0.1:3478", "turn://user:p4ss@127.0.0.1:3479"]}

    def test_links_and_trickle(self):
        s = self.create(title="trickle")
        result = node("whip_publisher.mjs", "--url", s["whip_url"], "--key", s["key"],
                      "--seconds", "2", "--trickle")
        self.assertEqual((result["status"], result["connected"]), (201, True), result)
        self.assertIn('<stun:127.0.0.1:3478>; rel="ice-server"', result["links"])
        self.assertIn('<turn:127.0.0.1:3479>; rel="ice-server"; username="user"; '
                      'credential="p4ss"; credential-type="password"', result["links"])
        self.assertEqual(result["patchStatus"], 204, result)
        self.assertEqual(result["restartStatus"], 422, result)
        self.assertEqual(result["deleteStatus"], 200, result)
        self.wait_state(s["id"], "ended")
        self.assertNotIn("p4ss", self.launcher.output(), "a TURN credential was logged")


class LimitTest(LauncherCase):
    settings = {"max_live_streams": 1}

    def test_limit(self):
        a, b = self.create(), self.create()
        wa = self.publish(a, "h264", stop=False)
        self.wait_state(a["id"], "live")
        wb = WsClient(self.launcher.port, f"/ingest/{b['id']}?key={quote(b['key'])}"
                      f"&mimeType={quote(MIME['h264'])}")
        code, reason = wb.wait_close()
        self.assertEqual(code, 1008)
        self.assertIn("limit", reason)
        wa.send_text('{"type":"stop-stream"}')
        wa.wait_close()


WEBHOOK_SECRET = "whsec-integration-secret-never-logged"
WEBHOOK_QUERY_TOKEN = "query-token-never-logged"


class WebhookReceiver:
    """An HTTP/1.1 server on 127.0.0.1 recording every POST as (lower-case
    headers, body); fail[event type] of them are answered 503 first."""

    def __init__(self):
        self.lock = threading.Lock()
        self.requests = []
        self.fail = {}
        receiver = self

        class Handler(http.server.BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def do_POST(self):
                body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
                headers = {k.lower(): v for k, v in self.headers.items()}
                with receiver.lock:
                    receiver.requests.append((headers, body))
                    event = headers.get("x-castline-event")
                    status = 503 if receiver.fail.get(event, 0) > 0 else 204
                    if status == 503:
                        receiver.fail[event] -= 1
                self.send_response(status)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, *args):
                pass

        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()
        self.url = (f"http://127.0.0.1:{self.server.server_address[1]}/hooks/castline"
                    f"?token={WEBHOOK_QUERY_TOKEN}")

    def received(self):
        with self.lock:
            return list(self.requests)

    def wait(self, count, timeout=30):
        return wait_for(lambda: len(self.received()) >= count and self.received(), timeout)

    def stop(self):
        self.server.shutdown()
        self.server.server_close()
        self.thread.join(timeout=10)


class WebhookCase(LauncherCase):
    """A launcher (with extra_settings) that POSTs its webhooks, signed with
    WEBHOOK_SECRET, to a Python receiver of the case's own."""
    extra_settings = {}

    def setUp(self):
        self.receiver = WebhookReceiver()
        self.settings = dict(self.extra_settings,
                             webhooks={"urls": [self.receiver.url], "secret": WEBHOOK_SECRET})
        try:
            super().setUp()
        except BaseException:
            self.receiver.stop()
            raise

    def tearDown(self):
        try:
            super().tearDown()
        finally:
            self.receiver.stop()


class WebhookTest(WebhookCase):
    """Stream events POSTed to a Python receiver, signed with the secret."""

    def check_signed(self, headers, body):
        ts = headers.get("x-castline-timestamp", "")
        self.assertTrue(ts.isdigit(), headers)
        self.assertLess(abs(int(ts) - time.time()), 60, "a timestamp that is not now")
        want = "sha256=" + hmac.new(WEBHOOK_SECRET.encode(), ts.encode() + b"." + body,
                                    hashlib.sha256).hexdigest()
        self.assertTrue(hmac.compare_digest(headers.get("x-castline-signature", ""), want),
                        "the signature does not check")

    def check_nothing_secret_logged(self, stream):
        out = self.launcher.output()
        for secret in (WEBHOOK_SECRET, WEBHOOK_QUERY_TOKEN, stream["key"]):
            self.assertNotIn(secret, out)

    def test_lifecycle_events_are_signed_in_order(self):
        s = self.create(title="hooked")
        self.publish(s, "h264")
        self.wait_state(s["id"], "ended")
        got = self.receiver.wait(3)
        self.assertTrue(got, "events missing: %r" % (self.receiver.received(),))
        self.assertEqual([h["x-castline-event"] for h, _ in got],
                         ["stream.created", "stream.started", "stream.ended"])
        for headers, body in got:
            self.check_signed(headers, body)
            self.assertEqual(headers["content-type"], "application/json")
            self.assertTrue(headers["user-agent"].startswith("castline/"), headers["user-agent"])
            event = json.loads(body)
            self.assertEqual(event["type"], headers["x-castline-event"])
            self.assertEqual(event["id"], headers["x-castline-delivery"])
            self.assertEqual(event["stream"]["id"], s["id"])
            self.assertNotIn(s["key"], body.decode())
            self.assertNotIn("key", event["stream"])
        self.assertEqual(len({h["x-castline-delivery"] for h, _ in got}), 3)
        ended = json.loads(got[2][1])["stream"]
        self.assertEqual((ended["state"], ended["pipeline"], ended["ingest"]),
                         ("ended", "passthrough", "websocket"))
        self.assertEqual(ended["playback_url"], s["playback_url"])
        self.assertTrue(ended["started_at"] and ended["ended_at"])
        self.assertEqual(self.launcher.stop(), 0)
        self.check_nothing_secret_logged(s)

    def test_shutdown_waits_for_stream_ended(self):
        # its first attempt fails: only a daemon that waits for its
        # webhooks before exiting makes the second
        self.receiver.fail = {"stream.ended": 1}
        s = self.create()
        ws = self.publish(s, "h264", pace=0.02, stop=False)
        self.wait_state(s["id"], "live")
        self.assertEqual(self.launcher.stop(), 0)
        # no waiting here: they must have come before the daemon exited
        types = [h["x-castline-event"] for h, _ in self.receiver.received()]
        self.assertEqual(types, ["stream.created", "stream.started",
                                 "stream.ended", "stream.ended"])
        ws.close()
        self.check_nothing_secret_logged(s)

    def test_unavailable_receiver_gets_the_event_retried(self):
        self.receiver.fail = {"stream.created": 1}
        s = self.create()
        got = self.receiver.wait(2, timeout=15)
        self.assertTrue(got, "not retried: %r" % (self.receiver.received(),))
        (h1, b1), (h2, b2) = got[:2]
        self.assertEqual(h1["x-castline-delivery"], h2["x-castline-delivery"])
        self.assertEqual(b1, b2)
        self.check_signed(h2, b2)
        self.assertEqual(json.loads(b2)["stream"]["id"], s["id"])
        time.sleep(1.5)                     # delivered once: no third attempt
        self.assertEqual(len(self.receiver.received()), 2)
        self.assertIn("HTTP 503", self.launcher.output())


class S3OutputTest(unittest.TestCase):
    """The same stream uploaded to S3 (s3rver) instead of served locally."""

    def setUp(self):
        self.dir = tempfile.mkdtemp(prefix="case-", dir=WORK)
        self.s3 = S3rver(SOURCE).start()

    def tearDown(self):
        self.s3.stop()

    def test_stream_to_bucket(self):
        secret = "S3RVER-secret-never-logged"
        launcher = Launcher(self.dir, s3={
            "endpoint": self.s3.endpoint, "bucket": self.s3.bucket, "access_key": "S3RVER",
            "secret_key": secret, "key_prefix": "streams/",
            "public_base_url": f"{self.s3.endpoint}/{self.s3.bucket}"}).start()
        case = LauncherCase()
        case.launcher = launcher
        try:
            s = case.create(title="to s3")
            self.assertEqual(s["playback_url"],
                             f"{self.s3.endpoint}/{self.s3.bucket}/streams/{s['id']}/index.m3u8")
            case.publish(s, "h264")
            case.wait_state(s["id"], "ended")
            with urllib.request.urlopen(s["playback_url"], timeout=10) as r:
                self.assertIn("#EXT-X-ENDLIST", r.read().decode())
            info = ffprobe(s["playback_url"])
            self.assertEqual(sorted(st["codec_name"] for st in info["streams"]), ["aac", "h264"])
            self.assertAlmostEqual(float(info["format"]["duration"]), 6, delta=1.5)
            self.assertFalse(os.path.exists(os.path.join(self.dir, "data", "live", s["id"],
                                                         "index.m3u8")), "HLS also written locally")
        finally:
            self.assertEqual(launcher.stop(), 0)
        self.assertNotIn(secret, launcher.output())


def stream_inf(master):
    """[(attributes, uri)] of a master playlist's EXT-X-STREAM-INF entries."""
    import re
    lines = master.splitlines()
    out = []
    for i, line in enumerate(lines):
        if line.startswith("#EXT-X-STREAM-INF:"):
            attrs = dict(re.findall(r'([A-Z-]+)=("[^"]*"|[^,]*)', line[len("#EXT-X-STREAM-INF:"):]))
            out.append(({k: v.strip('"') for k, v in attrs.items()}, lines[i + 1]))
    return out


def first_video_pts(url):
    """pts_time of the first video packet of a segment."""
    out = subprocess.run(["ffprobe", "-v", "error", "-select_streams", "v:0", "-show_entries",
                          "packet=pts_time", "-read_intervals", "%+#1", "-of", "json", url],
                         capture_output=True, timeout=60, check=True)
    return float(json.loads(out.stdout)["packets"][0]["pts_time"])


def video_bitrate(url):
    """kb/s of a playlist's video: its packets' bytes over their span."""
    out = subprocess.run(["ffprobe", "-v", "error", "-select_streams", "v:0", "-show_entries",
                          "packet=pts_time,size", "-of", "json", url],
                         capture_output=True, timeout=120, check=True)
    packets = json.loads(out.stdout)["packets"]
    times = [float(p["pts_time"]) for p in packets]
    size = sum(int(p["size"]) for p in packets)
    return size * 8 / 1000 / (max(times) - min(times) + 1 / 30)


def program_dates(playlist):
    """The EXT-X-PROGRAM-DATE-TIME values of a media playlist, as Unix times."""
    from datetime import datetime
    return [datetime.strptime(line.split(":", 1)[1], "%Y-%m-%dT%H:%M:%S.%f%z").timestamp()
            for line in playlist.splitlines() if line.startswith("#EXT-X-PROGRAM-DATE-TIME:")]


class AbrMixin:
    """Checks of an adaptive-bitrate stream's master and rungs, fetched with
    fetch(path) relative to the stream's folder (served or in the bucket)."""
    LADDER = {"1080p": (1080, 3000, 128), "720p": (720, 1500, 96), "480p": (480, 800, 64),
              "360p": (360, 400, 64)}

    def check_master(self, master, want):
        """want: [(rung, width, height)], top first; returns {rung: attrs}."""
        self.assertTrue(master.startswith("#EXTM3U"), master)
        entries = stream_inf(master)
        self.assertEqual([(uri, a["RESOLUTION"]) for a, uri in entries],
                         [(f"{r}/index.m3u8", f"{w}x{h}") for r, w, h in want], master)
        for attrs, uri in entries:
            rung = uri.split("/")[0]
            _, video, audio = self.LADDER[rung]
            self.assertRegex(attrs["CODECS"], r"^avc1\.[0-9a-f]{6},mp4a\.40\.2$")
            self.assertEqual(attrs["FRAME-RATE"], "30.000")
            avg, peak = int(attrs["AVERAGE-BANDWIDTH"]), int(attrs["BANDWIDTH"])
            self.assertGreaterEqual(avg, (video + audio) * 1000)
            self.assertGreater(peak, avg)
        return {uri.split("/")[0]: a for a, uri in entries}

    def check_rungs(self, url_of, want, encoded):
        """Sizes, bitrates, keyframe-aligned segments and dates of each rung;
        url_of(rung, file) is where a file of a rung is read."""
        for rung, w, h in want:
            info = ffprobe(url_of(rung, "index.m3u8"))
            video = [st for st in info["streams"] if st["codec_type"] == "video"][0]
            self.assertEqual((video["width"], video["height"]), (w, h), rung)
            self.assertEqual(sorted(st["codec_name"] for st in info["streams"]), ["aac", "h264"])
            if rung in encoded:
                kbps = video_bitrate(url_of(rung, "index.m3u8"))
                target = self.LADDER[rung][1]
                self.assertLess(abs(kbps - target) / target, 0.35, f"{rung}: {kbps:.0f} kb/s")
        # every rung's segment N starts at the same instant (one frame)
        for n in (1, 2, 3):
            pts = [first_video_pts(url_of(rung, f"segment{n:05d}.ts")) for rung, _, _ in want]
            self.assertLess(max(pts) - min(pts), 1 / 30 + 0.001, f"segment {n}: {pts}")

    def check_dates(self, playlist):
        dates = program_dates(playlist)
        segments = [line for line in playlist.splitlines() if line.startswith("#EXTINF:")]
        self.assertEqual(len(dates), len(segments), playlist)
        self.assertTrue(all(abs(d - time.time()) < 60 for d in dates), dates)
        self.assertEqual(dates, sorted(set(dates)), "dates not increasing")


class AbrTest(AbrMixin, LauncherCase):
    """The abr description: a ladder of rungs below the input, a master."""
    settings = {"idle_timeout": 20}

    def url_of(self, stream):
        return lambda rung, file: f"http://127.0.0.1:{self.launcher.port}/live/{stream['id']}/{rung}/{file}"

    def test_h264_720p_passthrough_top_and_aligned_rungs(self):
        kind = abr_recording("h264", 1280, 720)
        s = self.create(title="abr", pipeline="abr")
        self.publish(s, kind)
        ended = self.wait_state(s["id"], "ended", 120)
        self.assertEqual(ended["pipeline"], "abr")
        want = [("720p", 1280, 720), ("480p", 854, 480), ("360p", 640, 360)]
        self.check_master(self.playlist(s), want)
        self.check_rungs(self.url_of(s), want, encoded={"480p", "360p"})
        for rung, _, _ in want:
            status, hdrs, body = self.launcher.request("GET", f"/live/{s['id']}/{rung}/index.m3u8")
            self.assertEqual(status, 200)
            self.assertIn("#EXT-X-ENDLIST", body.decode())
            self.check_dates(body.decode())
        for path, want_status in [(f"/live/{s['id']}/1080p/index.m3u8", 404),
                                  (f"/live/{s['id']}/..%2F..%2Fcastline.db", 400),
                                  (f"/live/{s['id']}/a.b/index.m3u8", 400),
                                  (f"/live/{s['id']}/720p/x/index.m3u8", 400)]:
            self.assertEqual(self.launcher.request("GET", path)[0], want_status, path)

    def test_vp8_is_transcoded_into_every_rung(self):
        kind = abr_recording("vp8", 640, 480)
        s = self.create(title="abr vp8", pipeline="abr")
        self.publish(s, kind)
        self.wait_state(s["id"], "ended", 120)
        want = [("480p", 640, 480), ("360p", 480, 360)]
        self.check_master(self.playlist(s), want)
        self.check_rungs(self.url_of(s), want, encoded={"480p", "360p"})
        status, _, body = self.launcher.request("GET", f"/live/{s['id']}/360p/index.m3u8")
        self.check_dates(body.decode())


    def test_stats_are_the_top_rungs(self):
        kind = abr_recording("h264", 1280, 720)
        s = self.create(title="abr live", pipeline="abr")
        pub = Publisher(self.launcher.port, s, kind, seconds=8)
        pub.start()
        self.wait_state(s["id"], "live", 10)

        def stats():
            status, got = self.launcher.api("GET", f"/api/streams/{s['id']}")
            return got.get("stats", {}).get("video")
        video = wait_for(stats, 15)
        self.assertTrue(video, "no viewerstats for the top rung")
        self.assertEqual((video["codec"], video["width"], video["height"]), ("h264", 1280, 720))
        self.assertEqual(pub.finish(), 1000)
        self.wait_state(s["id"], "ended", 60)

    def test_no_video_fails_with_the_reason(self):
        # a recorder that promised video and sent none
        RECORDINGS["opus-as-vp8"] = RECORDINGS["opus"]
        MIME["opus-as-vp8"] = MIME["vp8"]
        s = self.create(title="abr no video", pipeline="abr")
        ws = self.publish(s, "opus-as-vp8", stop=False)
        self.addCleanup(ws.close)
        failed = self.wait_state(s["id"], "failed", 30)
        self.assertIn("needs video", failed["reason"])


class AbrDefaultTest(LauncherCase):
    """abr_default: a stream created without a pipeline, video coming, gets abr."""
    settings = {"abr_default": True, "ladder": [
        {"name": "low", "height": 180, "video_bitrate": 200, "audio_bitrate": 48}]}

    def test_video_gets_abr_audio_does_not(self):
        s = self.create()
        self.publish(s, "h264")
        ended = self.wait_state(s["id"], "ended", 60)
        self.assertEqual(ended["pipeline"], "abr")
        entries = stream_inf(self.playlist(s))
        self.assertEqual([(uri, a["RESOLUTION"]) for a, uri in entries],
                         [("low/index.m3u8", "320x240")])   # H.264 in: the input as it is
        radio = self.create()
        self.publish(radio, "opus")
        self.assertEqual(self.wait_state(radio["id"], "ended")["pipeline"], "audio-only")


class AbrS3Test(AbrMixin, unittest.TestCase):
    """abr into a bucket: the master at <prefix><id>/index.m3u8, each rung
    under <prefix><id>/<rung>/."""

    def setUp(self):
        self.dir = tempfile.mkdtemp(prefix="case-", dir=WORK)
        self.s3 = S3rver(SOURCE).start()
        self.addCleanup(self.s3.stop)

    def test_master_and_rungs_in_the_bucket(self):
        kind = abr_recording("h264", 1280, 720)
        launcher = Launcher(self.dir, s3={
            "endpoint": self.s3.endpoint, "bucket": self.s3.bucket, "access_key": "S3RVER",
            "secret_key": "S3RVER", "key_prefix": "streams/",
            "public_base_url": f"{self.s3.endpoint}/{self.s3.bucket}"}).start()
        case = LauncherCase()
        case.launcher = launcher
        try:
            s = case.create(title="abr s3", pipeline="abr")
            base = f"{self.s3.endpoint}/{self.s3.bucket}/streams/{s['id']}"
            self.assertEqual(s["playback_url"], base + "/index.m3u8")
            case.publish(s, kind)
            case.wait_state(s["id"], "ended", 120)
            with urllib.request.urlopen(s["playback_url"], timeout=10) as r:
                master = r.read().decode()
            want = [("720p", 1280, 720), ("480p", 854, 480), ("360p", 640, 360)]
            self.check_master(master, want)
            for rung, w, h in want:
                with urllib.request.urlopen(f"{base}/{rung}/index.m3u8", timeout=10) as r:
                    playlist = r.read().decode()
                self.assertIn("#EXT-X-ENDLIST", playlist)
                self.check_dates(playlist)
                video = [st for st in ffprobe(f"{base}/{rung}/index.m3u8")["streams"]
                         if st["codec_type"] == "video"][0]
                self.assertEqual((video["width"], video["height"]), (w, h))
            self.assertFalse(os.path.exists(os.path.join(self.dir, "data", "live", s["id"],
                                                         "index.m3u8")), "HLS also written locally")
        finally:
            self.assertEqual(launcher.stop(), 0)


class AbrBrowserTest(LauncherCase):
    """hls.js reads the master's levels and switches to the one it is told."""

    def test_hlsjs_switches_level(self):
        kind = abr_recording("h264", 1280, 720)
        s = self.create(title="abr play", pipeline="abr")
        self.publish(s, kind)
        self.wait_state(s["id"], "ended", 120)
        played = node("hls_player.mjs", "--url", s["playback_url"], "--seconds", "3",
                      "--level", "2")
        self.assertEqual(played["errors"], [], played)
        self.assertEqual([lv["height"] for lv in played["levels"]], [360, 480, 720], played)
        # hls.js orders levels by bitrate: 2 is 720p, the passthrough rung
        self.assertIn(2, played["switched"], played)
        self.assertEqual(played["switched"][-1], 2, played)
        self.assertEqual(played["videoHeight"], 720, played)
        self.assertGreaterEqual(played["advanced"], 2, played)
        played = node("hls_player.mjs", "--url", s["playback_url"], "--seconds", "3",
                      "--level", "0")
        self.assertEqual((played["switched"][-1], played["videoHeight"]), (0, 360), played)

    def test_whip_h264_ladder(self):
        # Chromium's camera over WebRTC: the passthrough top rung keeps its
        # keyframes (asked for with PLIs), the encoded rung lines up with it
        s = self.create(title="abr whip", pipeline="abr")
        result = node("whip_publisher.mjs", "--url", s["whip_url"], "--key", s["key"],
                      "--seconds", "10")
        self.assertEqual((result["status"], result["connected"]), (201, True), result)
        self.wait_state(s["id"], "ended", 60)
        entries = stream_inf(self.playlist(s))
        rungs = [uri.split("/")[0] for _, uri in entries]
        self.assertEqual(rungs[-1], "360p", entries)
        # WebRTC caps carry no frame rate: measured
        self.assertTrue(all(10 <= float(a["FRAME-RATE"]) <= 61 for a, _ in entries), entries)
        for n in (1, 2):
            pts = [first_video_pts(f"http://127.0.0.1:{self.launcher.port}/live/{s['id']}/{r}/"
                                   f"segment{n:05d}.ts") for r in rungs]
            self.assertLess(max(pts) - min(pts), 0.05, f"segment {n}: {pts}")


def playlist_entries(text):
    """[(uri, seconds)] of a media playlist, in order."""
    entries, duration = [], None
    for line in text.splitlines():
        if line.startswith("#EXTINF:"):
            duration = float(line[8:].split(",")[0])
        elif line and not line.startswith("#"):
            entries.append((line, duration))
    return entries


def playlist_tag(text, tag):
    for line in text.splitlines():
        if line.startswith(tag + ":"):
            return line[len(tag) + 1:]
    return None


RECORDED_SECONDS = 10
# segments of 1 s are cut at the recording's keyframes (every 2 s); the
# live playlist names 2 of the 5, so it has rolled by the end
RECORDING_HLS = {"target_duration": 1, "playlist_length": 2, "max_files": 2}


def long_recording():
    """an H.264 recording longer than the live playlist's window"""
    if "h264long" not in RECORDINGS:
        RECORDINGS["h264long"] = make_recording(WORK, "h264", seconds=RECORDED_SECONDS)
        MIME["h264long"] = MIME["h264"]


class RecordingMixin:
    def check_vod(self, vod_text, live_text, exists):
        """vod.m3u8 lists every segment from 0 with the live playlist's
        durations for those both name; returns its entries"""
        self.assertEqual(playlist_tag(vod_text, "#EXT-X-PLAYLIST-TYPE"), "VOD", vod_text)
        self.assertEqual(vod_text.rstrip().splitlines()[-1], "#EXT-X-ENDLIST", vod_text)
        self.assertEqual(playlist_tag(vod_text, "#EXT-X-MEDIA-SEQUENCE"), "0")
        vod = playlist_entries(vod_text)
        self.assertEqual([u for u, _ in vod], [f"segment{i:05d}.ts" for i in range(len(vod))],
                         vod_text)
        live = playlist_entries(live_text)
        self.assertNotEqual(live[0][0], "segment00000.ts", "the live playlist did not roll")
        self.assertLess(len(live), len(vod))
        self.assertEqual([u for u, _ in vod[-len(live):]], [u for u, _ in live])
        for (_, d_vod), (_, d_live) in zip(vod[-len(live):], live):
            self.assertAlmostEqual(d_vod, d_live, delta=0.002)
        target = int(playlist_tag(vod_text, "#EXT-X-TARGETDURATION"))
        self.assertGreaterEqual(target, max(d for _, d in vod))
        self.assertLess(target - 1, max(d for _, d in vod), "the target duration is not rounded up")
        for uri, _ in vod:
            self.assertTrue(exists(uri), f"{uri} is gone")
        return vod

    def check_recordings(self, launcher, stream, vod, url, count=1):
        def listed():
            status, got = launcher.api("GET", f"/api/streams/{stream['id']}/recordings")
            self.assertEqual(status, 200, got)
            return got["recordings"]
        recs = wait_for(listed, 15)
        self.assertTrue(recs, "no recording listed")
        self.assertEqual(len(recs), count, recs)
        rec = recs[0]
        self.assertEqual((rec["kind"], rec["url"], rec["segments"]), ("hls", url, len(vod)))
        self.assertAlmostEqual(rec["duration"], sum(d for _, d in vod), delta=0.01)
        self.assertTrue(rec["created_at"].endswith("Z"), rec)
        return recs


class RecordingTest(RecordingMixin, WebhookCase):
    """Recorded streams keep every segment and end with vod.m3u8 (and a
    recording.ready webhook); streams not recorded keep rolling."""
    extra_settings = {"hls": RECORDING_HLS, "idle_timeout": 30}

    def setUp(self):
        long_recording()
        super().setUp()

    def exists(self, stream):
        return lambda uri: self.launcher.request("HEAD", f"/live/{stream['id']}/{uri}")[0] == 200

    def test_recorded_stream_ends_with_a_vod_of_every_segment(self):
        s = self.create(title="recorded", record=True)
        self.assertTrue(s["record"])
        self.assertEqual(self.launcher.api("GET", f"/api/streams/{s['id']}/recordings"),
                         (200, {"recordings": []}), "a recording before the stream ended")
        pub = Publisher(self.launcher.port, s, "h264long", seconds=RECORDED_SECONDS * 0.8)
        pub.start()
        self.wait_state(s["id"], "live", 10)
        self.assertEqual(pub.finish(), 1000)
        ended = self.wait_state(s["id"], "ended")
        self.assertTrue(ended["record"])
        status, hdrs, body = self.launcher.request("GET", f"/live/{s['id']}/vod.m3u8")
        self.assertEqual(status, 200)
        self.assertEqual(hdrs.get("Content-Type"), "application/vnd.apple.mpegurl")
        vod = self.check_vod(body.decode(), self.playlist(s), self.exists(s))
        vod_url = s["playback_url"].replace("/index.m3u8", "/vod.m3u8")
        info = ffprobe(vod_url)
        self.assertEqual(sorted(st["codec_name"] for st in info["streams"]), ["aac", "h264"])
        self.assertAlmostEqual(float(info["format"]["duration"]), RECORDED_SECONDS, delta=1.5)
        recs = self.check_recordings(self.launcher, s, vod, vod_url)

        got = wait_for(lambda: [(h, b) for h, b in self.receiver.received()
                                if h.get("x-castline-event") == "recording.ready"], 15)
        self.assertTrue(got, "no recording.ready: %r" % (self.receiver.received(),))
        self.assertEqual(len(got), 1)
        headers, body = got[0]
        event = json.loads(body)
        self.assertEqual((event["type"], event["stream"]["id"], event["stream"]["state"]),
                         ("recording.ready", s["id"], "ended"))
        self.assertEqual(event["recordings"], recs)
        types = [h["x-castline-event"] for h, _ in self.receiver.received()]
        self.assertLess(types.index("stream.ended"), types.index("recording.ready"))
        self.assertNotIn(s["key"], body.decode())

    def test_stream_not_recorded_has_no_recordings_and_rolls(self):
        s = self.create(title="live only")
        self.assertFalse(s["record"])
        self.publish(s, "h264long")
        self.wait_state(s["id"], "ended")
        live = playlist_entries(self.playlist(s))
        self.assertNotEqual(live[0][0], "segment00000.ts")
        d = os.path.join(self.dir, "data", "live", s["id"])
        segments = sorted(f for f in os.listdir(d) if f.endswith(".ts"))
        self.assertLessEqual(len(segments), RECORDING_HLS["max_files"], segments)
        self.assertNotIn("segment00000.ts", segments, "an old segment was kept")
        self.assertFalse(os.path.exists(os.path.join(d, "vod.m3u8")))
        self.assertEqual(self.launcher.request("GET", f"/live/{s['id']}/vod.m3u8")[0], 404)
        time.sleep(1)
        self.assertEqual(self.launcher.api("GET", f"/api/streams/{s['id']}/recordings"),
                         (200, {"recordings": []}))
        self.assertNotIn("recording.ready",
                         [h.get("x-castline-event") for h, _ in self.receiver.received()])

    def test_bad_record_values_and_methods(self):
        for body in ('{"record": "yes"}', '{"record": 1}', '{"record": [true]}'):
            status, answer = self.launcher.api("POST", "/api/streams", body,
                                               {"Content-Type": "application/json"})
            self.assertEqual(status, 400, body)
            self.assertIn("record", answer["error"])
        s = self.create(record=False)
        self.assertFalse(s["record"])
        self.assertEqual(self.launcher.request("DELETE", f"/api/streams/{s['id']}/recordings")[0], 405)
        self.assertEqual(self.launcher.request("GET", "/api/streams/nosuch/recordings")[0], 404)
        self.assertEqual(self.launcher.request("GET", f"/api/streams/{s['id']}/recordings/x")[0], 400)

    def test_vod_plays_to_the_end_in_hlsjs(self):
        s = self.create(title="watch later", record=True)
        self.publish(s, "h264long")
        self.wait_state(s["id"], "ended")
        vod_url = s["playback_url"].replace("/index.m3u8", "/vod.m3u8")
        self.assertTrue(wait_for(lambda: self.launcher.request(
            "GET", f"/api/streams/{s['id']}/recordings")[2] != b'{"recordings":[]}', 15))
        played = node("hls_player.mjs", "--url", vod_url, "--to-end", "--rate", "4",
                      "--seconds", str(RECORDED_SECONDS + 5))
        self.assertEqual(played["errors"], [], played)
        self.assertTrue(played["ended"], played)
        self.assertAlmostEqual(played["duration"], RECORDED_SECONDS, delta=1.5)
        self.assertAlmostEqual(played["currentTime"], played["duration"], delta=0.5)
        self.assertLess(played["startTime"], 1.0, "playback did not start at the beginning")
        self.assertEqual((played["videoWidth"], played["videoHeight"]), (320, 240))


class RecordingMp4Test(RecordingMixin, LauncherCase):
    """record_mp4: recording.mp4 remuxed from the kept segments, next to
    vod.m3u8, listed and served."""
    settings = {"hls": RECORDING_HLS, "record": True, "record_mp4": True}

    def setUp(self):
        long_recording()
        super().setUp()

    def test_mp4_of_the_whole_stream(self):
        s = self.create(title="mp4")
        self.assertTrue(s["record"])
        self.publish(s, "h264long")
        self.wait_state(s["id"], "ended")
        base = s["playback_url"].replace("/index.m3u8", "")
        recs = wait_for(lambda: self.launcher.api("GET", f"/api/streams/{s['id']}/recordings")[1]
                        ["recordings"], 30)
        self.assertTrue(recs, "nothing listed")
        self.assertEqual([r["kind"] for r in recs], ["hls", "mp4"], recs)
        mp4 = recs[1]
        self.assertNotIn("error", mp4)
        self.assertEqual(mp4["url"], base + "/recording.mp4")
        path = os.path.join(self.dir, "data", "live", s["id"], "recording.mp4")
        self.assertEqual(mp4["bytes"], os.path.getsize(path))
        self.assertFalse(os.path.exists(path + ".part"))
        status, hdrs, _ = self.launcher.request("HEAD", f"/live/{s['id']}/recording.mp4")
        self.assertEqual((status, hdrs.get("Content-Type")), (200, "video/mp4"))
        info = ffprobe(mp4["url"])
        streams = {st["codec_type"]: st for st in info["streams"]}
        self.assertEqual((streams["video"]["codec_name"], streams["audio"]["codec_name"]),
                         ("h264", "aac"), info)
        self.assertEqual((streams["video"]["width"], streams["video"]["height"]), (320, 240))
        self.assertAlmostEqual(float(info["format"]["duration"]), RECORDED_SECONDS, delta=1.0)
        self.assertAlmostEqual(float(streams["video"]["duration"]), RECORDED_SECONDS, delta=1.0)
        self.assertAlmostEqual(mp4["duration"], recs[0]["duration"], delta=0.01)


class AbrRecordingTest(LauncherCase):
    """A recorded abr stream: a VOD per rung, in its folder, and a VOD
    master at the stream's root naming them."""

    def test_rung_vods_and_master(self):
        kind = abr_recording("h264", 640, 360)       # one rung: 360p, passed through
        s = self.create(title="abr recorded", pipeline="abr", record=True)
        self.publish(s, kind)
        self.wait_state(s["id"], "ended", 60)
        recs = wait_for(lambda: self.launcher.api("GET", f"/api/streams/{s['id']}/recordings")[1]
                        ["recordings"], 20)
        self.assertTrue(recs, "nothing listed")
        base = f"http://127.0.0.1:{self.launcher.port}/live/{s['id']}"
        self.assertEqual([(r["kind"], r["url"]) for r in recs],
                         [("hls", base + "/vod.m3u8"), ("hls", base + "/360p/vod.m3u8")], recs)
        status, _, master = self.launcher.request("GET", f"/live/{s['id']}/vod.m3u8")
        self.assertEqual(status, 200)
        entries = stream_inf(master.decode())
        self.assertEqual([uri for _, uri in entries], ["360p/vod.m3u8"], master)
        self.assertIn("RESOLUTION", entries[0][0])
        status, _, rung = self.launcher.request("GET", f"/live/{s['id']}/360p/vod.m3u8")
        self.assertEqual(status, 200)
        segs = playlist_entries(rung.decode())
        self.assertEqual([u for u, _ in segs], [f"segment{i:05d}.ts" for i in range(len(segs))])
        self.assertIn("#EXT-X-PLAYLIST-TYPE:VOD", rung.decode())
        self.assertAlmostEqual(recs[1]["duration"], sum(d for _, d in segs), delta=0.01)
        info = ffprobe(base + "/vod.m3u8")
        self.assertAlmostEqual(float(info["format"]["duration"]), 10, delta=1.5)


class S3RecordingTest(RecordingMixin, unittest.TestCase):
    """With S3 output (and config "record": true), vod.m3u8 goes to the
    stream's prefix next to its segments, which all stay."""

    def setUp(self):
        long_recording()
        self.dir = tempfile.mkdtemp(prefix="case-", dir=WORK)
        self.s3 = S3rver(SOURCE).start()
        self.addCleanup(self.s3.stop)

    def test_recording_in_the_bucket(self):
        public = f"{self.s3.endpoint}/{self.s3.bucket}"
        launcher = Launcher(self.dir, record=True, hls=RECORDING_HLS, s3={
            "endpoint": self.s3.endpoint, "bucket": self.s3.bucket, "access_key": "S3RVER",
            "secret_key": "S3RVER", "key_prefix": "streams/", "public_base_url": public}).start()
        case = LauncherCase()
        case.launcher = launcher
        try:
            s = case.create(title="to s3")
            self.assertTrue(s["record"], "config record: true did not apply")
            case.publish(s, "h264long")
            case.wait_state(s["id"], "ended")
            prefix = f"streams/{s['id']}/"
            vod_url = f"{public}/{prefix}vod.m3u8"
            # listed once uploaded
            recs = wait_for(lambda: launcher.api("GET", f"/api/streams/{s['id']}/recordings")[1]
                            ["recordings"], 20)
            self.assertTrue(recs, "no recording listed")
            body, headers = self.s3.get(prefix + "vod.m3u8")
            self.assertEqual(headers.get("content-type"), "application/vnd.apple.mpegurl")
            live, _ = self.s3.get(prefix + "index.m3u8")
            keys = set(self.s3.keys(prefix))
            vod = self.check_vod(body.decode(), live.decode(), lambda uri: prefix + uri in keys)
            self.check_recordings(launcher, s, vod, vod_url)
            info = ffprobe(vod_url)
            self.assertAlmostEqual(float(info["format"]["duration"]), RECORDED_SECONDS, delta=1.5)
            self.assertFalse(os.path.exists(os.path.join(self.dir, "data", "live", s["id"],
                                                         "vod.m3u8")), "VOD also written locally")
        finally:
            self.assertEqual(launcher.stop(), 0)


class LifecycleTest(unittest.TestCase):
    def setUp(self):
        self.dir = tempfile.mkdtemp(prefix="case-", dir=WORK)

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


class Poller(threading.Thread):
    """Calls fn at once, then every interval seconds until stop(); what it
    returns is kept, what it raises too."""

    def __init__(self, fn, interval=1.0):
        super().__init__(daemon=True)
        self.fn, self.interval = fn, interval
        self.stopped = threading.Event()
        self.results, self.errors = [], []

    def run(self):
        while True:
            try:
                self.results.append(self.fn())
            except Exception as e:  # noqa: BLE001 (reported by the test)
                self.errors.append(e)
            if self.stopped.wait(self.interval):
                return

    def stop(self):
        self.stopped.set()
        self.join(10)


class Publisher(threading.Thread):
    """A recording sent over a stream's WebSocket at about its own pace, in
    the background, so the stream is live with media flowing meanwhile."""

    def __init__(self, port, stream, kind, seconds=6):
        super().__init__(daemon=True)
        self.ws = WsClient(port, f"/ingest/{stream['id']}?key={quote(stream['key'])}"
                                 f"&mimeType={quote(MIME[kind])}")
        self.data, self.seconds = RECORDINGS[kind], seconds

    def run(self):
        chunks = range(0, len(self.data), 16384)
        for i in chunks:
            self.ws.send_binary(self.data[i:i + 16384])
            time.sleep(self.seconds / len(chunks))

    def finish(self):
        """Waits for the last chunk, then ends the stream."""
        self.join(self.seconds + 30)
        self.ws.send_text('{"type":"stop-stream"}')
        code = self.ws.wait_close()[0]
        self.ws.close()
        return code


def metric_samples(text):
    """{sample name: [(labels, value)]} from the Prometheus text, read with
    the reference parser."""
    try:
        from prometheus_client.parser import text_string_to_metric_families
    except ImportError:
        raise AssertionError("no prometheus_client for " + sys.executable + ": scripts/setup.sh "
                             "installs python3-prometheus-client for /usr/bin/python3") from None
    samples = {}
    types = {}
    for family in text_string_to_metric_families(text):
        for s in family.samples:
            samples.setdefault(s.name, []).append((s.labels, s.value))
            types[s.name] = family.type
    return samples, types


class MetricsMixin:
    def scrape(self, launcher=None, headers=None):
        status, hdrs, body = (launcher or self.launcher).request("GET", "/metrics", headers=headers)
        self.assertEqual(status, 200, body)
        self.assertEqual(hdrs.get("Content-Type"), "text/plain; version=0.0.4; charset=utf-8")
        return metric_samples(body.decode())

    @staticmethod
    def value(samples, name, **labels):
        for got, v in samples.get(name, []):
            if got == labels:
                return v
        return None


class ViewersTest(LauncherCase):
    """Concurrent viewers: players polling the playlist castline serves
    (address + User-Agent) and players sending heartbeats, added up.
    hls.target_duration 1 makes the playlist window its 10 s minimum."""
    settings = {"hls": {"target_duration": 1}, "idle_timeout": 120}

    def viewers(self, sid):
        status, s = self.launcher.api("GET", f"/api/streams/{sid}")
        self.assertEqual(status, 200)
        return s["viewers"]

    def wait_viewers(self, sid, n, timeout):
        return wait_for(lambda: self.viewers(sid) == n, timeout, 0.25)

    def test_players_and_heartbeats_add_up_then_expire(self):
        s = self.create()
        sid = s["id"]
        self.assertEqual(s["viewers"], 0)
        ws = self.publish(s, "h264", pace=0.01, stop=False)
        self.addCleanup(ws.close)
        self.wait_state(sid, "live", 10)
        playlist = f"/live/{sid}/index.m3u8"
        # HEAD: not a viewer
        self.assertTrue(wait_for(lambda: self.launcher.request("HEAD", playlist)[0] == 200, 20),
                        "no playlist")

        def player(ua):
            return lambda: self.launcher.request("GET", playlist, headers={"User-Agent": ua})[0]

        def heartbeat(viewer):
            return lambda: self.launcher.request("POST", f"/api/streams/{sid}/heartbeat",
                                                 {"viewer": viewer})[0]

        def decoy():
            """a segment, a missing playlist and a HEAD: none makes a viewer"""
            return [self.launcher.request(m, p, headers={"User-Agent": "Decoy"})[0]
                    for m, p in [("GET", f"/live/{sid}/segment00000.ts"),
                                 ("GET", f"/live/{sid}/no.m3u8"), ("HEAD", playlist)]]

        players = [Poller(player(f"TestPlayer/{i}")) for i in range(3)] + [Poller(decoy)]
        beats = [Poller(heartbeat(v)) for v in ("hb-one", "hb-two")]
        for p in players:
            p.start()
        try:
            self.assertTrue(self.wait_viewers(sid, 3, 10), f"viewers {self.viewers(sid)}, not 3")
            time.sleep(2.5)
            self.assertEqual(self.viewers(sid), 3, "a segment, a 404 or a HEAD made a viewer")
            for b in beats:
                b.start()
            self.assertTrue(self.wait_viewers(sid, 5, 10), f"viewers {self.viewers(sid)}, not 5")
            status, all_ = self.launcher.api("GET", "/api/streams")
            self.assertEqual([x["viewers"] for x in all_["streams"]], [5])
        finally:
            for p in players + beats:
                if p.is_alive():
                    p.stop()
        stopped = time.monotonic()
        for p in players[:3]:
            self.assertEqual((set(p.results), p.errors), ({200}, []))
        self.assertEqual({tuple(r) for r in players[3].results}, {(200, 404, 200)})
        for b in beats:
            self.assertEqual((set(b.results), b.errors), ({204}, []))

        time.sleep(3)
        self.assertEqual(self.viewers(sid), 5, "viewers gone before their window")
        # the players 10 s after their last poll, the heartbeats after 30 s
        self.assertTrue(self.wait_viewers(sid, 2, 12), f"viewers {self.viewers(sid)}, not 2")
        self.assertLess(time.monotonic() - stopped, 13)
        self.assertTrue(self.wait_viewers(sid, 0, 30), f"viewers {self.viewers(sid)}, not 0")
        self.assertGreater(time.monotonic() - stopped, 25, "heartbeats expired too soon")

        ws.send_text('{"type":"stop-stream"}')
        ws.wait_close()
        self.assertEqual(self.wait_state(sid, "ended")["viewers"], 0)


class PublicHeartbeatTest(LauncherCase):
    """With an admin token, the heartbeat is the one public /api path."""
    token = "adm1n-t0ken-for-viewers"
    settings = {"admin_token": token, "cors_origin": "https://player.example"}

    def test_heartbeat_is_public_the_rest_is_not(self):
        auth = {"Authorization": "Bearer " + self.token}
        status, s = self.launcher.api("POST", "/api/streams", {}, auth)
        self.assertEqual(status, 201)
        sid = s["id"]
        path = f"/api/streams/{sid}/heartbeat"
        status, hdrs, _ = self.launcher.request("POST", path, {"viewer": "p-1"})
        self.assertEqual(status, 204)
        self.assertEqual(hdrs.get("Access-Control-Allow-Origin"), "https://player.example")
        # navigator.sendBeacon sends text/plain
        status, _, _ = self.launcher.request("POST", path, '{"viewer":"beacon_2"}',
                                             {"Content-Type": "text/plain;charset=UTF-8"})
        self.assertEqual(status, 204)
        status, hdrs, _ = self.launcher.request("OPTIONS", path, headers={
            "Origin": "https://player.example", "Access-Control-Request-Method": "POST"})
        self.assertEqual(status, 204)
        self.assertIn("POST", hdrs.get("Access-Control-Allow-Methods", ""))
        self.assertIn("Content-Type", hdrs.get("Access-Control-Allow-Headers", ""))
        self.assertEqual(hdrs.get("Access-Control-Allow-Origin"), "https://player.example")

        for body, want in [({"viewer": ""}, 400), ({"viewer": "a b"}, 400),
                           ({"viewer": "x" * 65}, 400), ({"viewer": 5}, 400), ({}, 400),
                           ("not json", 400), ([1], 400), ("", 400),
                           ({"viewer": "p-1", "pad": "x" * 1100}, 413)]:
            status, hdrs, answer = self.launcher.request("POST", path, body)
            self.assertEqual(status, want, f"{str(body)[:40]}: {answer}")
            self.assertEqual(hdrs.get("Access-Control-Allow-Origin"), "https://player.example")
        for p, want in [("/api/streams/nosuch/heartbeat", 404), ("/api/streams/A'B/heartbeat", 400)]:
            self.assertEqual(self.launcher.request("POST", p, {"viewer": "p"})[0], want, p)
        self.assertEqual(self.launcher.request("GET", path)[0], 405)

        status, got = self.launcher.api("GET", f"/api/streams/{sid}", headers=auth)
        self.assertEqual((status, got["viewers"]), (200, 2))

        for p in ("/api/streams", f"/api/streams/{sid}", f"/api/streams/{sid}/events",
                  "/api/events", "/metrics", f"/api/streams/{sid}/heartbeat/x"):
            self.assertEqual(self.launcher.request("GET", p)[0], 401, p)
        self.assertEqual(self.launcher.request("GET", "/metrics", headers=auth)[0], 200)
        sse = SseClient(self.launcher.port, f"/api/streams/{sid}/events", headers=auth)
        self.addCleanup(sse.close)
        self.assertEqual(sse.status, 200)
        self.assertEqual(sse.next("state", timeout=5)["viewers"], 2)
        self.assertNotIn(self.token, self.launcher.output())


class EventsTest(LauncherCase):
    """GET /api/streams/{id}/events and /api/events (Server-Sent Events)."""
    settings = {"idle_timeout": 60}

    def test_state_live_stats_viewers_then_ended(self):
        s = self.create(title="events")
        sid = s["id"]
        sse = SseClient(self.launcher.port, f"/api/streams/{sid}/events")
        self.addCleanup(sse.close)
        self.assertEqual(sse.status, 200)
        self.assertTrue(sse.headers.get("Content-Type", "").startswith("text/event-stream"))
        self.assertEqual(sse.headers.get("Transfer-Encoding"), "chunked")
        first = sse.next(timeout=5)
        self.assertEqual(sse.seen[0][0], "state", "the first event is not the stream's state")
        self.assertEqual((first["id"], first["state"], first["viewers"]), (sid, "created", 0))

        pub = Publisher(self.launcher.port, s, "h264", seconds=6)
        pub.start()
        live = sse.next("state", lambda d: d["state"] == "live", 15)
        live_at = time.monotonic()
        self.assertTrue(live, sse.seen)
        self.assertEqual((live["id"], live["ingest"]), (sid, "websocket"))
        stats = sse.next("stats", lambda d: "video" in d["stats"], 15)
        self.assertTrue(stats, sse.seen)
        self.assertEqual(stats["id"], sid)
        self.assertEqual(stats["stats"]["video"]["codec"], "h264")
        self.assertGreater(stats["stats"]["video"]["bitrate"], 0)
        self.assertEqual(self.launcher.request("POST", f"/api/streams/{sid}/heartbeat",
                                               {"viewer": "watcher"})[0], 204)
        viewers = sse.next("viewers", timeout=5)
        self.assertEqual(viewers, {"id": sid, "viewers": 1})
        self.assertEqual(pub.finish(), 1000)
        ended = sse.next("state", lambda d: d["state"] == "ended", 30)
        live_for = time.monotonic() - live_at
        self.assertTrue(ended, sse.seen)
        self.assertEqual(ended["viewers"], 1)
        names = [name for name, _ in sse.seen]
        self.assertLess(names.index("stats"), names.index("viewers"))
        n_stats = names.count("stats")
        self.assertGreaterEqual(n_stats, 2, "stats only once while live")
        self.assertLessEqual(n_stats, live_for + 2, "stats more than once a second")
        self.assertTrue(all(d.get("id") == sid for _, d in sse.seen))

    def test_all_streams_and_keep_alive(self):
        sse = SseClient(self.launcher.port, "/api/events")
        self.addCleanup(sse.close)
        self.assertEqual(sse.status, 200)
        s = self.create(title="any")
        got = sse.next("state", lambda d: d["id"] == s["id"], 5)
        self.assertEqual(got["state"], "created")
        self.assertEqual(self.launcher.api("DELETE", f"/api/streams/{s['id']}")[0], 200)
        got = sse.next("state", lambda d: d["id"] == s["id"] and d["state"] == "ended", 5)
        self.assertTrue(got, sse.seen)
        # a second client of all streams is told of the streams that can still change
        other = self.create(title="waiting")
        late = SseClient(self.launcher.port, "/api/events")
        self.addCleanup(late.close)
        self.assertEqual(late.next("state", timeout=5)["id"], other["id"])
        comments = sse.comments
        self.assertTrue(wait_for(lambda: sse.comments > comments, 18), "no keep-alive in 15 s")

        for path, want in [("/api/streams/nosuch/events", 404), ("/api/events/x", 404)]:
            self.assertEqual(self.launcher.request("GET", path)[0], want, path)
        self.assertEqual(self.launcher.request("POST", f"/api/streams/{other['id']}/events")[0], 405)

    def test_at_most_100_clients_of_a_stream(self):
        s = self.create()
        path = f"/api/streams/{s['id']}/events"
        conns = []
        try:
            for _ in range(100):
                c = http.client.HTTPConnection("127.0.0.1", self.launcher.port, timeout=10)
                c.request("GET", path)
                r = c.getresponse()
                self.assertEqual(r.status, 200)
                # the response holds the socket (the answer says Connection:
                # close): dropped, it would close the stream
                conns.append((c, r))
            status, hdrs, body = self.launcher.request("GET", path)
            self.assertEqual(status, 503, body)
            self.assertIn("Retry-After", hdrs)
            other = SseClient(self.launcher.port, "/api/events")  # a limit of its own
            self.addCleanup(other.close)
            self.assertEqual(other.status, 200)
        finally:
            for c, r in conns:
                r.close()
                c.close()


class MetricsTest(MetricsMixin, LauncherCase):
    """GET /metrics read with Prometheus' own text parser."""
    settings = {"idle_timeout": 60}

    def test_families_while_live_and_after(self):
        samples, types = self.scrape()
        for state in ("created", "scheduled", "live", "ended", "failed"):
            self.assertEqual(self.value(samples, "castline_streams", state=state), 0, state)
        for name in ("castline_s3_uploads_total", "castline_s3_upload_failures_total",
                     "castline_s3_bytes_uploaded_total", "castline_webhook_deliveries_total",
                     "castline_webhook_failures_total"):
            self.assertEqual((self.value(samples, name), types[name]), (0, "counter"), name)
        self.assertEqual(types["castline_streams"], "gauge")

        s = self.create()
        sid = s["id"]
        pub = Publisher(self.launcher.port, s, "h264", seconds=6)
        pub.start()
        self.wait_state(sid, "live", 10)
        self.assertEqual(self.launcher.request("POST", f"/api/streams/{sid}/heartbeat",
                                               {"viewer": "m1"})[0], 204)

        def flowing():
            samples, _ = self.scrape()
            bitrate = self.value(samples, "castline_stream_bitrate_bits_per_second",
                                 stream=sid, kind="video")
            return samples if bitrate and bitrate > 0 else None
        samples = wait_for(flowing, 15, 0.5)
        self.assertTrue(samples, "no video bitrate while live")
        self.assertEqual(self.value(samples, "castline_streams", state="live"), 1)
        self.assertEqual(self.value(samples, "castline_streams", state="created"), 0)
        self.assertEqual(self.value(samples, "castline_stream_viewers", stream=sid), 1)
        self.assertGreater(self.value(samples, "castline_stream_bitrate_bits_per_second",
                                      stream=sid, kind="audio") or 0, 0)
        self.assertGreater(self.value(samples, "castline_stream_frames_per_second",
                                      stream=sid, kind="video") or 0, 0)
        self.assertIsNone(self.value(samples, "castline_stream_frames_per_second",
                                     stream=sid, kind="audio"))
        for kind in ("video", "audio"):
            health = self.value(samples, "castline_stream_health", stream=sid, kind=kind)
            self.assertTrue(health is not None and 0 <= health <= 100, (kind, health))
        self.assertEqual(self.value(samples, "castline_s3_uploads_total"), 0)

        self.assertEqual(pub.finish(), 1000)
        self.wait_state(sid, "ended")
        samples, _ = self.scrape()
        self.assertEqual(self.value(samples, "castline_streams", state="live"), 0)
        self.assertEqual(self.value(samples, "castline_streams", state="ended"), 1)
        self.assertFalse(samples.get("castline_stream_viewers"), "a stream sample after the end")


class S3MetricsTest(MetricsMixin, unittest.TestCase):
    """The s3 counters of /metrics rise while a stream uploads, and keep
    what ended pipelines uploaded."""

    def setUp(self):
        self.dir = tempfile.mkdtemp(prefix="case-", dir=WORK)
        self.s3 = S3rver(SOURCE).start()
        self.addCleanup(self.s3.stop)

    def counters(self, launcher):
        samples, _ = self.scrape(launcher)
        return tuple(self.value(samples, f"castline_s3_{n}_total")
                     for n in ("uploads", "upload_failures", "bytes_uploaded"))

    def test_s3_counters_rise_and_stay(self):
        launcher = Launcher(self.dir, idle_timeout=60, s3={
            "endpoint": self.s3.endpoint, "bucket": self.s3.bucket, "access_key": "S3RVER",
            "secret_key": "S3RVER", "public_base_url": f"{self.s3.endpoint}/{self.s3.bucket}"}).start()
        case = LauncherCase()
        case.launcher = launcher
        try:
            self.assertEqual(self.counters(launcher), (0, 0, 0))
            a = case.create(title="a")
            pub = Publisher(launcher.port, a, "h264", seconds=6)
            pub.start()
            case.wait_state(a["id"], "live", 10)
            live = wait_for(lambda: (lambda c: c if c[0] > 0 else None)(self.counters(launcher)), 20,
                            0.5)
            self.assertTrue(live, "nothing uploaded while live")
            self.assertGreater(live[2], 0)
            self.assertEqual(pub.finish(), 1000)
            case.wait_state(a["id"], "ended")
            after_a = self.counters(launcher)
            self.assertGreaterEqual(after_a[0], live[0])
            self.assertGreaterEqual(after_a[2], live[2])
            self.assertEqual(after_a[1], 0)
            b = case.create(title="b")
            case.publish(b, "h264")
            case.wait_state(b["id"], "ended")
            after_b = self.counters(launcher)
            self.assertGreater(after_b[0], after_a[0], "an ended pipeline's uploads forgotten")
            self.assertGreater(after_b[2], after_a[2])
        finally:
            self.assertEqual(launcher.stop(), 0)


WEB_FILES = {
    "dashboard.html": b"<!doctype html><title>dashboard</title>\n",
    "broadcast.html": b"<!doctype html><title>broadcast</title>\n",
    "watch.html": b"<!doctype html><title>watch</title>\n",
    "app.css": b"body { margin: 0 }\n",
    "app.js": b"export const x = 1;\n",
    "logo.svg": b"<svg xmlns='http://www.w3.org/2000/svg'/>\n",
    ".hidden.css": b"secret\n",
    "README": b"secret\n",
}


class WebPagesTest(LauncherCase):
    """The pages and their files from web_dir: types, headers, CSP, paths
    that must not get out of it, revalidation."""

    def setUp(self):
        self.web = tempfile.mkdtemp(prefix="web-", dir=WORK)
        for name, data in WEB_FILES.items():
            with open(os.path.join(self.web, name), "wb") as f:
                f.write(data)
        os.mkdir(os.path.join(self.web, "sub"))
        with open(os.path.join(self.web, "sub", "x.css"), "wb") as f:
            f.write(b"secret\n")
        with open(os.path.join(WORK, "outside.json"), "w") as f:
            f.write('"secret"')
        self.settings = {"web_dir": self.web}
        super().setUp()

    def test_pages_files_and_types(self):
        s = self.create()
        for path, name in [("/", "dashboard.html"), ("/broadcast", "broadcast.html"),
                           (f"/broadcast/{s['id']}", "broadcast.html"),
                           (f"/watch/{s['id']}", "watch.html")]:
            status, hdrs, body = self.launcher.request("GET", path)
            self.assertEqual((status, body), (200, WEB_FILES[name]), path)
            self.assertEqual(hdrs["Content-Type"], "text/html; charset=utf-8")
            csp = hdrs.get("Content-Security-Policy", "")
            for part in ("default-src 'self'", "script-src 'self'", "style-src 'self'",
                         "worker-src 'self' blob:", "media-src 'self' blob:",
                         "img-src 'self' data: blob:", "frame-ancestors 'none'"):
                self.assertIn(part, csp, path)
            self.assertIn(f"ws://127.0.0.1:{self.launcher.port}", csp)
            self.assertEqual(hdrs.get("X-Content-Type-Options"), "nosniff")
            self.assertEqual(hdrs.get("Referrer-Policy"), "no-referrer")
            self.assertEqual(hdrs.get("Cache-Control"), "no-cache")
        for name, ctype in [("app.css", "text/css; charset=utf-8"),
                            ("app.js", "text/javascript; charset=utf-8"),
                            ("logo.svg", "image/svg+xml")]:
            status, hdrs, body = self.launcher.request("GET", "/ui/" + name)
            self.assertEqual((status, hdrs["Content-Type"], body), (200, ctype, WEB_FILES[name]))
            self.assertNotIn("Content-Security-Policy", hdrs)
        status, hdrs, body = self.launcher.request("GET", "/ui/hls.min.js")
        self.assertEqual((status, hdrs["Content-Type"]), (200, "text/javascript; charset=utf-8"))
        self.assertGreater(len(body), 100000)
        status, hdrs, body = self.launcher.request("HEAD", "/")
        self.assertEqual((status, body), (200, b""))
        self.assertEqual(int(hdrs["Content-Length"]), len(WEB_FILES["dashboard.html"]))
        self.assertEqual(self.launcher.request("POST", "/")[0], 405)

    def test_nothing_outside_web_dir(self):
        for path in ["/ui/../outside.json", "/ui/%2e%2e/outside.json", "/ui/%2e%2e%2foutside.json",
                     "/ui/..%2F..%2Foutside.json", "/ui/.hidden.css", "/ui/README", "/ui/sub/x.css",
                     "/ui/sub%2fx.css", "/ui/", "/ui/" + "a" * 200 + ".css", "/ui/app.css%00.js",
                     "/watch/", "/watch/BAD!", "/watch/" + "a" * 65, "/broadcast/x/y",
                     "/dashboard.html", "/nowhere"]:
            status, hdrs, body = self.launcher.request("GET", path)
            self.assertIn(status, (400, 404), path)
            self.assertNotIn(b"secret", body, path)
        status, hdrs, body = self.launcher.request("GET", "/nowhere")
        self.assertEqual((status, hdrs["Content-Type"]), (404, "text/plain; charset=utf-8"))

    def test_revalidation_gives_304_until_the_file_changes(self):
        status, hdrs, _ = self.launcher.request("GET", "/ui/app.css")
        etag, modified = hdrs["ETag"], hdrs["Last-Modified"]
        status, hdrs, body = self.launcher.request("GET", "/ui/app.css", headers={"If-None-Match": etag})
        self.assertEqual((status, body, hdrs.get("ETag")), (304, b"", etag))
        status, _, _ = self.launcher.request("GET", "/ui/app.css",
                                             headers={"If-Modified-Since": modified})
        self.assertEqual(status, 304)
        status, _, _ = self.launcher.request("GET", "/", headers={"If-None-Match": etag})
        self.assertEqual(status, 200, "another file's ETag matched")
        path = os.path.join(self.web, "app.css")
        with open(path, "wb") as f:
            f.write(b"body { margin: 1px }\n")
        later = time.time() + 2
        os.utime(path, (later, later))
        status, hdrs, body = self.launcher.request("GET", "/ui/app.css", headers={"If-None-Match": etag})
        self.assertEqual((status, body), (200, b"body { margin: 1px }\n"))
        self.assertNotEqual(hdrs["ETag"], etag)
        os.unlink(path)
        self.assertEqual(self.launcher.request("GET", "/ui/app.css")[0], 404)

    def test_other_routes_are_untouched(self):
        s = self.create()
        self.assertEqual(self.launcher.api("GET", "/api/streams")[0], 200)
        self.assertEqual(self.launcher.request("GET", "/metrics")[0], 200)
        self.assertEqual(self.launcher.request("OPTIONS", f"/whip/{s['id']}")[0], 204)
        self.assertEqual(self.launcher.request("GET", f"/live/{s['id']}/index.m3u8")[0], 404)
        ws = WsClient(self.launcher.port, f"/ingest/{s['id']}?key=wrong&mimeType=video%2Fwebm")
        self.assertEqual(ws.status, 401)
        ws.close()


class StreamStatusTest(LauncherCase):
    """GET /api/streams/{id}/status: public, CORS, never the key."""
    settings = {"admin_token": "admin-secret-token", "idle_timeout": 30}
    FIELDS = {"id", "title", "state", "reason", "ingest", "scheduled_at", "started_at",
              "ended_at", "viewers", "playback_url"}

    def admin(self, method, path, body=None):
        return self.launcher.api(method, path, body, {"Authorization": "Bearer admin-secret-token"})

    def test_public_status_without_secrets(self):
        status, s = self.admin("POST", "/api/streams", {"title": "status"})
        self.assertEqual(status, 201)
        self.assertEqual(self.launcher.api("GET", f"/api/streams/{s['id']}")[0], 401)
        status, hdrs, body = self.launcher.request("GET", f"/api/streams/{s['id']}/status")
        self.assertEqual(status, 200)
        self.assertEqual(hdrs.get("Access-Control-Allow-Origin"), "*")
        self.assertEqual(hdrs.get("Cache-Control"), "no-store")
        got = json.loads(body)
        self.assertEqual(set(got), self.FIELDS)
        self.assertEqual((got["state"], got["title"], got["viewers"]), ("created", "status", 0))
        self.assertEqual(got["playback_url"], s["playback_url"])
        self.assertNotIn(s["key"].encode(), body)
        self.assertNotIn(hashlib.sha256(s["key"].encode()).hexdigest().encode(), body)
        self.assertEqual(self.launcher.request("GET", "/api/streams/nosuchstream/status")[0], 404)
        self.assertEqual(self.launcher.request("GET", "/api/streams/BAD!/status")[0], 404)
        self.assertEqual(self.launcher.request("POST", f"/api/streams/{s['id']}/status")[0], 405)
        self.assertEqual(self.launcher.request("OPTIONS", f"/api/streams/{s['id']}/status")[0], 204)

        ws = self.publish(s, "h264", pace=0.05, stop=False)

        def live_with_stats():
            _, got = self.launcher.api("GET", f"/api/streams/{s['id']}/status")
            return got if got["state"] == "live" and got.get("stats", {}).get("video") else None
        got = wait_for(live_with_stats, 15)
        self.assertTrue(got, "never live with stats")
        self.assertEqual(got["ingest"], "websocket")
        self.assertTrue(got["started_at"])
        self.assertEqual(set(got) - {"stats"}, self.FIELDS)
        ws.send_text('{"type":"stop-stream"}')
        ws.wait_close()
        ws.close()
        got = wait_for(lambda: (lambda g: g if g["state"] == "ended" else None)(
            self.launcher.api("GET", f"/api/streams/{s['id']}/status")[1]), 30)
        self.assertTrue(got and got["ended_at"], got)
        self.assertNotIn("stats", got)


class ViewerParamTest(LauncherCase):
    """A player that sends heartbeats and names itself in its playlist
    requests (?viewer=, as the watch page does) counts once."""
    settings = {"hls": {"target_duration": 1}, "idle_timeout": 60}

    def viewers(self, sid):
        return self.launcher.api("GET", f"/api/streams/{sid}")[1]["viewers"]

    def test_heartbeat_and_named_playlist_polls_count_once(self):
        s = self.create()
        ws = self.publish(s, "h264", pace=0.02, stop=False)
        self.addCleanup(ws.close)
        self.wait_state(s["id"], "live")
        self.assertTrue(wait_for(lambda: self.launcher.request(
            "GET", f"/live/{s['id']}/index.m3u8")[0] == 200 or None, 20), "no playlist")
        # that request counted as an address + User-Agent viewer: let it go
        # (playlist window: 10 s) would be slow; a fresh stream is cleaner
        s2 = self.create()
        ws2 = self.publish(s2, "h264", pace=0.02, stop=False)
        self.addCleanup(ws2.close)
        self.wait_state(s2["id"], "live")
        sid = s2["id"]
        self.assertTrue(wait_for(lambda: os.path.exists(os.path.join(
            self.dir, "data", "live", sid, "index.m3u8")) or None, 20))
        page = {"User-Agent": "watch-page/1"}
        for _ in range(3):
            self.assertEqual(self.launcher.request("POST", f"/api/streams/{sid}/heartbeat",
                                                   '{"viewer": "tab-1"}', page)[0], 204)
            status, _, _ = self.launcher.request("GET", f"/live/{sid}/index.m3u8?viewer=tab-1", None,
                                                 page)
            self.assertEqual(status, 200)
            time.sleep(0.3)
        self.assertEqual(self.viewers(sid), 1)
        # a bad viewer value: counted by address and User-Agent, no error
        status, _, _ = self.launcher.request("GET", f"/live/{sid}/index.m3u8?viewer=no%20good!", None,
                                             {"User-Agent": "other-player/2"})
        self.assertEqual(status, 200)
        self.assertEqual(self.viewers(sid), 2)
        for w in (ws, ws2):
            w.send_text('{"type":"stop-stream"}')
            w.wait_close()


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
        self.assertIn("s2-segment00000.ts", playlist, "the second session's HLS")
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
