"""A castline cluster end to end with the real components (issue 20): a
PostgreSQL 15 server the test starts in a temporary directory, s3rver,
and three castline-launcher nodes (a, b, c) on loopback ports sharing one
database, published to by ffmpeg over RTMP.

- Any node answers for any stream: created on a, published to b, read and
  deleted from c (202, b finalizes), listed everywhere; SSE on a carries
  b's events; each webhook event is POSTed once by the whole cluster.
- Two publishers with one key racing on two nodes: exactly one is live.
- kill -9 of the owning node: a survivor marks the stream interrupted
  within the lease and a few seconds; the publisher resumes on another
  node; the HLS in S3 has no hole, no segment lost, and no gap beyond the
  outage. Nobody coming back: ended with a reason after reconnect_window.
- PostgreSQL restarted mid-stream: the stream stays live, segments keep
  coming, the API answers again. PostgreSQL away for longer than a lease:
  the node stops its streams (fenced), and none is left shown live.
- SIGTERM of the owner (a rolling restart): interrupted, not ended; the
  publisher resumes on another node.
- Local output: a non-owner answers /live/... with 302 to the owner; a
  node at max_live_streams answers WHIP with 307 to one with room.
- GET /api/nodes: three nodes alive; a killed one is not after its lease.
- No node logs the store's password or a stream key.

PostgreSQL and s3rver are started once for the file (a database per
class); the three nodes once per class. Standard library, ffmpeg,
PostgreSQL 15 (scripts/setup.sh installs it). Shared fixtures:
clusterproc.py, launcherproc.py, launchercase.py.
Environment (meson sets it): CASTLINE_BUILD_DIR, CASTLINE_SOURCE_DIR.
Run by hand: /usr/bin/python3 tests/integration/test_cluster.py [Class|-k name]
Every wait is bounded.
"""
import json
import os
import shutil
import sys
import tempfile
import time
import unittest
import urllib.request

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from clusterproc import (Cluster, RtmpPublisher, database, make_input,  # noqa: E402
                         playlist_entries, restart_postgres, s3_keys,
                         segment_session, start_postgres)
from gstlaunch import SOURCE  # noqa: E402
from launchercase import WebhookReceiver, s3_settings  # noqa: E402
from launcherproc import wait_for  # noqa: E402
from s3rver import S3rver  # noqa: E402
from sseclient import SseClient  # noqa: E402

LEASE = 4                 # node.lease, seconds: a lost node is noticed within LEASE + a sweep
PG_DOWN = 2.0             # seconds the database is away when restarted mid-stream
WORK = None               # the file's temporary directory
INPUT = None              # the H.264 + AAC every publisher loops (make_input)
PG = None                 # the file's PostgreSQL server
S3 = None                 # the file's s3rver

# local output: classic HLS, a segment a second, none deleted while a test looks
LOCAL_HLS = {"low_latency": False, "target_duration": 1, "max_files": 1000}
# into S3: every segment and the whole session in the playlist, none deleted
S3_HLS = {"low_latency": False, "target_duration": 1, "playlist_length": 1000, "max_files": 1000}


def setUpModule():
    global WORK, INPUT, PG, S3
    WORK = tempfile.mkdtemp(prefix="castline-cluster-test-")
    INPUT = make_input(os.path.join(WORK, "input.mp4"))
    PG = start_postgres()
    S3 = S3rver(SOURCE).start()


def tearDownModule():
    for stop in (S3 and S3.close, PG and PG.close):
        if stop:
            stop()
    shutil.rmtree(WORK, ignore_errors=True)


def read_text(path):
    with open(path) as f:
        return f.read()


class ClusterCase(unittest.TestCase):
    """Three nodes of a database of the class's own, all POSTing webhooks
    to one receiver; settings for every node, per_node for some. No node
    logs the store's password or a stream's key (checked at the end)."""
    settings = {}
    per_node = {}
    lease = LEASE

    @classmethod
    def setUpClass(cls):
        cls.receiver = WebhookReceiver()
        directory = tempfile.mkdtemp(prefix=cls.__name__ + "-", dir=WORK)
        cls.cluster = Cluster(directory, database(PG, cls.__name__.lower()), lease=cls.lease,
                              per_node=cls.per_node, rtmp={}, idle_timeout=10,
                              webhooks={"urls": [cls.receiver.url]}, **cls.settings)
        try:
            cls.cluster.start()
        except BaseException:
            cls.receiver.stop()
            raise
        cls.a, cls.b, cls.c = (cls.cluster[i] for i in ("a", "b", "c"))
        cls.keys = []

    @classmethod
    def tearDownClass(cls):
        codes = cls.cluster.stop()
        cls.receiver.stop()
        bad = {i: code for i, code in codes.items() if code != 0}
        if bad:
            raise AssertionError(f"nodes did not exit 0 on SIGTERM: {bad}\n{cls.cluster.logs()}")
        for node_id, node in cls.cluster.nodes.items():
            log = node.output()
            if PG.password in log:
                raise AssertionError(f"the store's password is in node {node_id}'s log")
            if any(key in log for key in cls.keys):
                raise AssertionError(f"a stream key is in node {node_id}'s log")

    def setUp(self):
        self.publishers = []

    def tearDown(self):
        for p in self.publishers:
            p.stop(timeout=5)

    # ---- calls every test makes

    def create(self, node, **body):
        status, s = node.api("POST", "/api/streams", body)
        self.assertEqual(status, 201, s)
        self.keys.append(s["key"])
        return s

    def get(self, node, sid):
        status, s = node.api("GET", f"/api/streams/{sid}")
        self.assertEqual(status, 200, s)
        return s

    def wait_state(self, on, sid, state, timeout=20, **fields):
        """The stream as node on shows it once in state (and with fields,
        node="b": run by b); fails with every node's log otherwise."""
        def check():
            try:
                status, s = on.api("GET", f"/api/streams/{sid}")
            except OSError:
                return None
            return s if (status == 200 and s["state"] == state
                         and all(s.get(k) == v for k, v in fields.items())) else None
        got = wait_for(check, timeout, 0.2)
        if not got:
            last = on.api("GET", f"/api/streams/{sid}")
            self.fail(f"stream {sid} never {state} {fields} on port {on.port}: {last}\n"
                      + self.cluster.logs())
        return got

    def publish(self, node, s):
        p = RtmpPublisher(INPUT, node, s["key"])
        self.publishers.append(p)
        return p

    def events(self, sid):
        """[(type, stream)] of the webhooks received for stream sid."""
        out = []
        for headers, body in self.receiver.received():
            event = json.loads(body)
            stream = event.get("stream") or {}
            if stream.get("id") == sid:
                out.append((headers.get("x-castline-event"), stream))
        return out

    def assert_each_event_once(self, sid, types, settle=3.0):
        """Every event of types came for sid, each exactly once (after
        settle seconds in which a duplicate from another node would come)."""
        got = wait_for(lambda: set(types) <= {t for t, _ in self.events(sid)}, 30)
        self.assertTrue(got, f"events missing: {[t for t, _ in self.events(sid)]}")
        time.sleep(settle)
        counts = {}
        for t, _ in self.events(sid):
            counts[t] = counts.get(t, 0) + 1
        self.assertEqual({t: counts.get(t, 0) for t in types}, {t: 1 for t in types},
                         f"not exactly once: {counts}")
        return {t: s for t, s in self.events(sid)}

    def local_files(self, node, sid):
        d = os.path.join(node.dir, "data", "live", sid)
        return os.listdir(d) if os.path.isdir(d) else []

    def local_segments(self, node, sid):
        return [f for f in self.local_files(node, sid) if segment_session(f)]


class ClusterLocalTest(ClusterCase):
    """Local HLS output on each node; c takes one live stream at most.
    A lease longer than the database restart's outage (stop, PG_DOWN,
    start): a node that cannot renew for a lease stops its streams."""
    settings = {"hls": LOCAL_HLS}
    per_node = {"c": {"max_live_streams": 1}}
    lease = 6

    def test_any_node_answers_for_any_stream(self):
        sse = SseClient(self.a.port, "/api/events")
        self.addCleanup(sse.close)
        self.assertEqual(sse.status, 200)
        s = self.create(self.a, title="across")
        sid = s["id"]
        self.assertEqual(s.get("node"), "", "a node before any publisher")
        self.publish(self.b, s)
        got = self.wait_state(self.c, sid, "live", node="b")
        self.assertEqual(got["ingest"], "rtmp")
        for n in self.cluster:
            status, listed = n.api("GET", "/api/streams")
            self.assertEqual(status, 200)
            mine = [x for x in listed["streams"] if x["id"] == sid]
            self.assertEqual([(x["state"], x["node"]) for x in mine], [("live", "b")],
                             f"the list on port {n.port}")
        self.assertTrue(sse.next("state", lambda d: d["id"] == sid and d["state"] == "live", 20),
                        f"a never heard of b's stream going live: {sse.seen}")
        self.assertTrue(wait_for(lambda: len(self.local_segments(self.b, sid)) >= 2, 20),
                        "b wrote no segment")
        self.assertEqual(self.local_segments(self.a, sid) + self.local_segments(self.c, sid), [],
                         "a node that does not run the stream wrote its HLS")

        status, _ = self.c.api("DELETE", f"/api/streams/{sid}")
        self.assertEqual(status, 202, "DELETE on a node that does not run the stream")
        ended = self.wait_state(self.a, sid, "ended", 15)
        self.assertEqual(ended["node"], "b", "the node that ran it")
        playlist = os.path.join(self.b.dir, "data", "live", sid, "index.m3u8")
        self.assertTrue(wait_for(lambda: "#EXT-X-ENDLIST" in read_text(playlist), 10),
                        "b did not finalize its playlist")
        self.assertTrue(sse.next("state", lambda d: d["id"] == sid and d["state"] == "ended", 10))
        self.assertTrue(wait_for(lambda: self.publishers[0].exited(), 15),
                        "b kept the publisher after the end")

        events = self.assert_each_event_once(
            sid, ("stream.created", "stream.started", "stream.ended"))
        self.assertEqual(events["stream.started"]["node"], "b")
        self.assertEqual(events["stream.ended"]["state"], "ended")

    def test_racing_publishers_one_wins(self):
        # each stream published to a and b at the same moment, five times
        streams = [self.create(self.c, title=f"race {i}") for i in range(5)]
        pairs = [(self.publish(self.a, s), self.publish(self.b, s)) for s in streams]
        for s, (pa, pb) in zip(streams, pairs):
            loser = wait_for(lambda: [p for p in (pa, pb) if not p.running], 30)
            self.assertTrue(loser, f"both publishers of {s['id']} still run after 30 s")
            self.assertEqual(len(loser), 1, f"both publishers of {s['id']} were refused: "
                             f"{pa.exited()} {pb.exited()}")
            code, err = loser[0].exited()
            self.assertNotEqual(code, 0, "the loser ended well")
            winner = "a" if loser[0] is pb else "b"
            self.wait_state(self.c, s["id"], "live", 10, node=winner)
        time.sleep(2)                     # the winners are held, not cut off later
        for s, (pa, pb) in zip(streams, pairs):
            self.assertEqual(sum(p.running for p in (pa, pb)), 1, s["id"])
            self.assertEqual(self.get(self.c, s["id"])["state"], "live")
        for pa, pb in pairs:
            for p in (pa, pb):
                p.stop()
        for s in streams:
            self.wait_state(self.a, s["id"], "ended", 20)
            started = [t for t, _ in self.events(s["id"]) if t == "stream.started"]
            self.assertLessEqual(len(started), 1, s["id"])

    def test_database_restart_keeps_streams_live(self):
        s = self.create(self.a, title="through a restart")
        sid = s["id"]
        self.publish(self.b, s)
        self.wait_state(self.a, sid, "live", node="b")
        self.assertTrue(wait_for(lambda: len(self.local_segments(self.b, sid)) >= 2, 20))
        restart_postgres(PG, PG_DOWN)
        restarted = len(self.local_segments(self.b, sid))
        # the API answers again (after a reconnect), and the stream never stopped
        for n in self.cluster:
            got = self.wait_state(n, sid, "live", 20, node="b")
            self.assertEqual(got["state"], "live")
        self.assertTrue(wait_for(lambda: len(self.local_segments(self.b, sid)) >= restarted + 3,
                                 15), "no new segments after the database came back")
        self.assertTrue(self.publishers[0].running, "the publisher was dropped")
        # writes work too: a stream created and deleted from another node
        other = self.create(self.c, title="after the restart")
        self.assertEqual(self.get(self.a, other["id"])["state"], "created")
        self.assertIn(self.a.api("DELETE", f"/api/streams/{other['id']}")[0], (200, 202))
        self.assertEqual(self.a.api("DELETE", f"/api/streams/{sid}")[0], 202)
        self.wait_state(self.c, sid, "ended", 15)

    def test_playback_and_whip_redirect_to_the_right_node(self):
        s = self.create(self.a, title="on c")
        sid = s["id"]
        self.publish(self.c, s)
        self.wait_state(self.a, sid, "live", node="c")
        self.assertTrue(wait_for(lambda: self.c.request(
            "GET", f"/live/{sid}/index.m3u8")[0] == 200, 20), "c serves no playlist")
        path = f"/live/{sid}/index.m3u8?viewer=x1"
        for n in (self.a, self.b):
            status, headers, _ = n.request("GET", path)
            self.assertEqual(status, 302, f"port {n.port}")
            self.assertEqual(headers.get("Location"), self.cluster.public_url("c") + path)
        with urllib.request.urlopen(self.cluster.public_url("a") + path, timeout=10) as r:
            self.assertEqual(r.status, 200)
            self.assertTrue(r.read().decode().startswith("#EXTM3U"))

        # c holds its one live stream: a WHIP publisher is sent to a node with room
        other = self.create(self.b, title="whip")
        offer = ("v=0\r\no=- 1 0 IN IP4 0.0.0.0\r\ns=-\r\nt=0 0\r\n"
                 "a=ice-ufrag:abcd\r\na=ice-pwd:abcdefghijklmnopqrstuvwx\r\n"
                 "a=fingerprint:sha-256 " + ":".join(["AB"] * 32) + "\r\n"
                 "m=video 9 UDP/TLS/RTP/SAVPF 96\r\nc=IN IP4 0.0.0.0\r\na=mid:0\r\n"
                 "a=sendonly\r\na=setup:holdconn\r\na=rtpmap:96 VP8/90000\r\na=rtcp-mux\r\n")
        headers = {"Content-Type": "application/sdp", "Authorization": "Bearer " + other["key"]}
        status, got, body = self.c.request("POST", f"/whip/{other['id']}", offer, headers)
        self.assertEqual(status, 307, body)
        rooms = [self.cluster.public_url(i) + f"/whip/{other['id']}" for i in ("a", "b")]
        self.assertIn(got.get("Location"), rooms)
        # followed as a WHIP client does (the same POST): that node takes
        # it in (this offer's setup is one webrtcbin refuses: no session left)
        target = self.a if got["Location"] == rooms[0] else self.b
        status, got, body = target.request("POST", f"/whip/{other['id']}", offer, headers)
        self.assertNotIn(status, (307, 404, 503), body)
        self.assertEqual(self.get(self.a, other["id"])["state"], "created")
        self.assertEqual(self.a.api("DELETE", f"/api/streams/{sid}")[0], 202)
        self.wait_state(self.b, sid, "ended", 15)

    def test_a_node_without_its_lease_stops_its_streams(self):
        # the database away for longer than a lease: every node is fenced,
        # and b stops the stream it runs (nobody may take it over meanwhile)
        s = self.create(self.a, title="fenced")
        sid = s["id"]
        publisher = self.publish(self.b, s)
        self.wait_state(self.a, sid, "live", node="b")
        self.assertTrue(wait_for(lambda: len(self.local_segments(self.b, sid)) >= 2, 20))
        PG.stop()
        down = time.monotonic()
        try:
            self.assertTrue(wait_for(lambda: not publisher.running, self.lease + 8),
                            "b kept its stream without a lease\n" + self.cluster.logs())
            self.assertGreaterEqual(time.monotonic() - down, self.lease - 2,
                                    "b stopped its stream before its lease ran out")
            playlist = os.path.join(self.b.dir, "data", "live", sid, "index.m3u8")
            self.assertTrue(wait_for(lambda: "#EXT-X-ENDLIST" in read_text(playlist), 10),
                            "b did not finalize its playlist")
        finally:
            PG.start()
            # whatever failed above, the next test gets three nodes with their leases
            renewed = all(wait_for(lambda: self.alive_on(n) == ["a", "b", "c"], self.lease + 10)
                          for n in self.cluster)
        self.assertTrue(renewed, "the nodes did not renew their leases again")
        # the database back: the stream is not shown live on a node that stopped it
        seen = []

        def settled():
            status, st = self.a.api("GET", f"/api/streams/{sid}")
            seen.append((status, st.get("state") if status == 200 else st))
            return st if status == 200 and st["state"] in ("interrupted", "ended") else None
        got = wait_for(settled, self.lease + 10, 0.5)
        self.assertTrue(got, f"a answered {seen[-3:]}\n" + self.cluster.logs())
        if got["state"] == "interrupted":       # its publisher may resume it anywhere
            self.publish(self.c, s)
            self.wait_state(self.a, sid, "live", 20, node="c")
        self.assertIn(self.a.api("DELETE", f"/api/streams/{sid}")[0], (200, 202))
        self.wait_state(self.a, sid, "ended", 15)
        # a stream that exists is never "no stream", the database reconnecting
        # or not: while a's connection is not back yet (one attempt every
        # 2 s), it is 503, "the stream store cannot be reached"
        self.assertTrue({status for status, _ in seen} <= {200, 503}, f"a answered {seen}")
        self.assertTrue(all(st == {"error": "the stream store cannot be reached"}
                            for status, st in seen if status == 503), f"a answered {seen}")

    def alive_on(self, node):
        """The nodes alive as node sees them: as of its last lease tick
        (every lease/5 s), so a node started or lost a moment ago may not
        show yet."""
        return sorted(x["id"] for x in node.api("GET", "/api/nodes")[1]["nodes"] if x["alive"])

    def test_nodes_list_and_a_lost_node(self):
        for n, node_id in zip(self.cluster, ("a", "b", "c")):
            self.assertTrue(wait_for(lambda: self.alive_on(n) == ["a", "b", "c"], self.lease),
                            f"{node_id} sees {self.alive_on(n)} alive")
            status, got = n.api("GET", "/api/nodes")
            self.assertEqual(status, 200, got)
            self.assertEqual((got["self"], got["store"]), (node_id, "postgresql"))
            nodes = {x["id"]: x for x in got["nodes"]}
            for i, x in nodes.items():
                self.assertEqual(x["public_url"], self.cluster.public_url(i))
                for field in ("live_streams", "max_live_streams", "lease_left_ms", "started_at"):
                    self.assertIn(field, x)
            self.assertEqual(nodes["c"]["max_live_streams"], 1)
        self.c.kill9()
        killed = time.monotonic()
        try:
            self.assertTrue(wait_for(lambda: self.alive_on(self.a) == ["a", "b"], self.lease + 5),
                            "c still alive after its lease")
            self.assertGreaterEqual(time.monotonic() - killed, self.lease - 1.5,
                                    "c dead before its lease ran out")
            self.assertTrue(wait_for(lambda: self.alive_on(self.b) == ["a", "b"], 3),
                            f"b sees {self.alive_on(self.b)} alive")
        finally:
            self.c.start()
        self.assertTrue(wait_for(lambda: all(x["alive"] for x in self.a.api(
            "GET", "/api/nodes")[1]["nodes"]), 10), "c not alive again after its restart")


class S3ClusterCase(ClusterCase):
    """The nodes upload their HLS to the file's s3rver."""
    window = 30

    @classmethod
    def setUpClass(cls):
        cls.settings = {"hls": S3_HLS, "s3": s3_settings(S3), "reconnect_window": cls.window}
        super().setUpClass()

    def s3_segments(self, sid):
        """{(session, number): key} of the stream's segments in the bucket."""
        out = {}
        for key in s3_keys(S3, f"streams/{sid}/"):
            got = segment_session(key.rsplit("/", 1)[1])
            if got:
                out[got] = key
        return out

    def live_until_killed(self, title):
        """A stream created on a, live on b with 3 segments in S3, then b
        killed (-9); (stream, monotonic time of the kill)."""
        s = self.create(self.a, title=title)
        publisher = self.publish(self.b, s)
        self.wait_state(self.a, s["id"], "live", node="b")
        self.assertTrue(s["playback_url"].startswith(S3.endpoint), s["playback_url"])
        self.assertTrue(wait_for(lambda: len(self.s3_segments(s["id"])) >= 3, 20),
                        "no segments in S3\n" + self.cluster.logs())
        self.b.kill9()
        killed = time.monotonic()
        publisher.stop(timeout=5)
        self.addCleanup(lambda: self.b.proc.poll() is None or self.b.start())
        return s, killed


class ClusterFailoverTest(S3ClusterCase):
    window = 30

    def test_killed_owner_resumes_on_another_node(self):
        s, killed = self.live_until_killed("failover")
        sid, prefix = s["id"], f"streams/{s['id']}/"
        got = self.wait_state(self.a, sid, "interrupted", LEASE + 10)
        noticed = time.monotonic() - killed
        self.assertLessEqual(noticed, LEASE + 6, "interrupted too late")
        self.assertIn("its node b was lost", got.get("reason", ""))
        first_playlist = S3.get(prefix + "index.m3u8")[0].decode()

        self.publish(self.c, s)
        resumed = self.wait_state(self.a, sid, "live", 20, node="c")
        outage = time.monotonic() - killed
        self.assertEqual(resumed["playback_url"], s["playback_url"])
        self.assertTrue(wait_for(lambda: sum(k[0] == 2 for k in self.s3_segments(sid)) >= 2, 20),
                        "no s2- segments in S3\n" + self.cluster.logs())
        # b back (a fresh start): it sees the stream live on c and routes a DELETE there
        self.b.start()
        self.wait_state(self.b, sid, "live", 10, node="c")
        self.assertEqual(self.b.api("DELETE", f"/api/streams/{sid}")[0], 202)
        self.wait_state(self.b, sid, "ended", 15)
        last_playlist = S3.get(prefix + "index.m3u8")[0].decode()

        # session 1: numbered without a hole, every segment its last playlist named is there
        segments = self.s3_segments(sid)
        first = sorted(n for (session, n) in segments if session == 1)
        self.assertEqual(first, list(range(len(first))), "a hole in session 1")
        first_entries = [e for e in playlist_entries(first_playlist)
                         if segment_session(e[0]) and segment_session(e[0])[0] == 1]
        self.assertTrue(first_entries, first_playlist)
        for uri, _, _ in first_entries:
            self.assertIn(segment_session(uri), segments, f"{uri} named but not in S3")
        # session 2: its segments, every one named there, dated right after the outage
        second_entries = [e for e in playlist_entries(last_playlist)
                          if segment_session(e[0]) and segment_session(e[0])[0] == 2]
        self.assertTrue(second_entries, last_playlist)
        self.assertTrue(last_playlist.rstrip().endswith("#EXT-X-ENDLIST"), last_playlist)
        for uri, _, _ in second_entries:
            self.assertIn(segment_session(uri), segments, f"{uri} named but not in S3")
        _, duration, date = first_entries[-1]
        first_end = date + duration
        gap = second_entries[0][2] - first_end
        print(f"\n  interrupted after {noticed:.1f} s, live again on c after {outage:.1f} s, "
              f"a media gap of {gap:.1f} s", file=sys.stderr)
        self.assertGreaterEqual(gap, -0.5, "session 2 dated before session 1 ended")
        # the segment b was writing when it died is lost with it: a segment more
        self.assertLessEqual(gap, outage + 2 * S3_HLS["target_duration"] + 2,
                             f"a gap of {gap:.1f} s for an outage of {outage:.1f} s")

        events = self.assert_each_event_once(
            sid, ("stream.created", "stream.started", "stream.interrupted", "stream.resumed",
                  "stream.ended"))
        self.assertEqual(events["stream.resumed"]["node"], "c")
        self.assertIn("its node b was lost", events["stream.interrupted"].get("reason", ""))


    def test_sigterm_leaves_streams_to_resume_elsewhere(self):
        # a rolling restart: b finalizes its stream's playlist, leaves it
        # interrupted and gives up its lease; the publisher resumes on c
        s = self.create(self.a, title="rolling restart")
        sid, prefix = s["id"], f"streams/{s['id']}/"
        self.publish(self.b, s)
        self.wait_state(self.a, sid, "live", node="b")
        self.assertTrue(wait_for(lambda: len(self.s3_segments(sid)) >= 2, 20))
        self.addCleanup(lambda: self.b.proc.poll() is None or self.b.start())
        self.assertEqual(self.b.stop(), 0, "b did not exit 0 on SIGTERM")
        got = self.wait_state(self.a, sid, "interrupted", 10)
        self.assertTrue(S3.get(prefix + "index.m3u8")[0].decode().rstrip().endswith(
            "#EXT-X-ENDLIST"), "b did not finalize the playlist in S3")
        self.assertTrue(wait_for(lambda: "b" not in self.alive_on_a(), 5),
                        "b's lease still alive after its SIGTERM")
        self.publish(self.c, s)
        self.wait_state(self.a, sid, "live", 20, node="c")
        self.assertTrue(wait_for(lambda: sum(k[0] == 2 for k in self.s3_segments(sid)) >= 1, 20),
                        "no s2- segment in S3")
        self.assertEqual(self.a.api("DELETE", f"/api/streams/{sid}")[0], 202)
        self.wait_state(self.a, sid, "ended", 15)
        self.assert_each_event_once(sid, ("stream.started", "stream.interrupted",
                                          "stream.resumed", "stream.ended"))
        self.assertTrue(got.get("reason"), got)

    def alive_on_a(self):
        return [x["id"] for x in self.a.api("GET", "/api/nodes")[1]["nodes"] if x["alive"]]


class ClusterNoResumeTest(S3ClusterCase):
    window = 5

    def test_killed_owner_nobody_back_ends_after_the_window(self):
        s, killed = self.live_until_killed("not back")
        sid = s["id"]
        self.wait_state(self.c, sid, "interrupted", LEASE + 10)
        interrupted = time.monotonic()
        ended = self.wait_state(self.c, sid, "ended", self.window + LEASE + 5)
        self.assertGreaterEqual(time.monotonic() - interrupted, self.window - 1,
                                "ended before the window")
        self.assertTrue(ended.get("reason"), ended)
        self.assertEqual(self.get(self.a, sid)["state"], "ended")
        self.assert_each_event_once(sid, ("stream.interrupted", "stream.ended"))


if __name__ == "__main__":
    unittest.main(verbosity=2)
