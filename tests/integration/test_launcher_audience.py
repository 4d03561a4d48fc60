"""Who watches and what the daemon tells of it, end to end: concurrent
viewers (players polling the playlist, heartbeats, ?viewer=), the public
heartbeat beside an admin token, the Server-Sent Events streams and
/metrics read with Prometheus' own parser.

Standard library only, but for the Prometheus parser /metrics is read
with (Debian's python3-prometheus-client, for /usr/bin/python3, which
meson runs). Shared fixtures: launchercase.py.
Environment (meson sets it): CASTLINE_BUILD_DIR, CASTLINE_SOURCE_DIR,
CASTLINE_PRELOAD (sanitizer runtime, optional).
Run by hand: /usr/bin/python3 tests/integration/test_launcher_audience.py [-k PATTERN]
Every wait is bounded.
"""
import http.client
import os
import sys
import threading
import time
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from sseclient import SseClient  # noqa: E402
from launcherproc import wait_for  # noqa: E402
from launchercase import LauncherCase, MetricsMixin, Publisher  # noqa: E402
from launchercase import setUpModule, tearDownModule  # noqa: E402,F401 (module fixture)


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

        # fMP4 (LL-HLS) or MPEG-TS; asked as the first player, which is not one more viewer
        text = self.launcher.request("GET", playlist, headers={"User-Agent": "TestPlayer/0"})[2]
        segment = "segment00000" + (".m4s" if b"#EXT-X-MAP:" in text else ".ts")

        def decoy():
            """a segment, a missing playlist and a HEAD: none makes a viewer"""
            return [self.launcher.request(m, p, headers={"User-Agent": "Decoy"})[0]
                    for m, p in [("GET", f"/live/{sid}/{segment}"),
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


if __name__ == "__main__":
    unittest.main(verbosity=2)
