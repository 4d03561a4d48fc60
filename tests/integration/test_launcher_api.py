"""castline-launcher's HTTP API end to end: streams created, read, listed
and deleted, malformed requests refused, the admin token, keep-alive
connections and the descriptors of clients gone, the live-stream limit,
and the public status of a stream.

Standard library only. Shared fixtures: launchercase.py.
Environment (meson sets it): CASTLINE_BUILD_DIR, CASTLINE_SOURCE_DIR,
CASTLINE_PRELOAD (sanitizer runtime, optional).
Run by hand: /usr/bin/python3 tests/integration/test_launcher_api.py [-k PATTERN]
Every wait is bounded.
"""
import hashlib
import http.client
import json
import os
import socket
import sys
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from wsclient import WsClient  # noqa: E402
from launcherproc import MIME, quote, wait_for  # noqa: E402
from launchercase import LauncherCase  # noqa: E402
from launchercase import setUpModule, tearDownModule  # noqa: E402,F401 (module fixture)


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
    the libsoup 3.2 server the launcher had before libmicrohttpd kept one
    for every keep-alive connection a client closed, and for every client
    that connects and never sends a request."""
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



class StreamStatusTest(LauncherCase):
    """GET /api/streams/{id}/status: public, CORS, never the key."""
    settings = {"admin_token": "admin-secret-token", "idle_timeout": 30}
    FIELDS = {"id", "title", "state", "reason", "ingest", "scheduled_at", "started_at",
              "ended_at", "viewers", "playback_url", "whep_url", "webrtc_viewers",
              "webrtc_seats", "recordings", "thumbnail_url"}

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


if __name__ == "__main__":
    unittest.main(verbosity=2)
