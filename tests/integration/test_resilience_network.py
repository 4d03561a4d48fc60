"""The resilience suite (issue 21): publishers on a bad network, against the
real daemon.

- An SRT caller (ffmpeg) through udprelay.py dropping 5 % of the
  datagrams and delaying each by up to 100 ms, both ways (this kernel has
  no netem), with the daemon's srt.latency at SRT_LATENCY_MS: the stream
  stays live, a new segment comes within a bound all along, and every
  segment decodes (SRT recovers the loss within its latency).
- The same link dark for 3 s (every datagram dropped), under libsrt's
  peer idle time-out: the caller stays connected and segments flow again.
- A WebSocket publisher that sends nothing for 8 s (the socket open),
  then what it recorded meanwhile and the rest: under idle_timeout (10 s)
  the stream stays live, segments come again within a bound after the
  stall, and a DELETE then finalizes it within shutdown_timeout.
- A WebSocket publisher silent for good (the socket open): closed with
  1001 after idle_timeout, the stream finalized and interrupted, then
  ended once reconnect_window passes; one silent when a DELETE comes:
  ended within shutdown_timeout, not failed.
Each prints its figures (FIGURE name=value) for the lead to quote.

No RTP/WHIP case: a WHIP publisher here is Chromium (webrtcbin has no WHIP
client in 1.22), and a relay in its path would need the SDP's candidates
rewritten: not cheap enough for this suite.

Standard library only. Shared fixtures: launchercase.py, ffmpegpublisher.py,
decodecheck.py, udprelay.py (its blackout()). Run by hand: /usr/bin/python3 tests/integration/test_resilience_network.py
Every wait is bounded.
"""
import os
import shutil
import sys
import tempfile
import threading
import time
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import launchercase  # noqa: E402
from launchercase import RECORDINGS, KeyedCase, recording  # noqa: E402
from launcherproc import MIME, quote  # noqa: E402
from llhlsplaylist import parse  # noqa: E402
from decodecheck import decode_errors_of  # noqa: E402
from ffmpegpublisher import finish, make_input, publish as ffmpeg_publish  # noqa: E402
from udprelay import UdpRelay  # noqa: E402
from wsclient import WsClient  # noqa: E402

SRT_SECONDS = 12
# the receiver's latency that rides out 5 % loss with 100 ms of jitter each
# way (RTT 0.2 s at worst): a lost datagram is known late (the jitter
# reorders), asked again and resent through the same jitter, at times more
# than once. About 4 RTTs; the default 120 ms gave up 7 to 20 packets in
# 12 s here, 300 none
SRT_LATENCY_MS = 500
WS_SECONDS = 24           # the WebSocket publishers' recording
TS = None                 # SRT_SECONDS of H.264 + AAC MPEG-TS (setUpModule)
WS = None                 # the WebSocket publishers' recording (setUpModule)
# a segment is 2 s (the recordings' GOPs): one more than this after the
# last is a stream that stopped flowing
SEGMENT_BOUND = 8.0


def setUpModule():
    global TS, WS
    launchercase.WORK = tempfile.mkdtemp(prefix="castline-network-test-")
    TS = make_input(os.path.join(launchercase.WORK, "input.ts"), SRT_SECONDS)
    WS = recording("h264-network", "h264", seconds=WS_SECONDS)


def tearDownModule():
    shutil.rmtree(launchercase.WORK, ignore_errors=True)


def figure(name, value):
    print(f"\nFIGURE {name}={value:.2f}" if isinstance(value, float) else
          f"\nFIGURE {name}={value}", file=sys.stderr)


class StallingPublisher(threading.Thread):
    """A MediaRecorder's WebSocket on a network that stalls: the recording
    is sent in 16 KiB messages at its own pace, except from stall_at s for
    stall_s s (None: for good), when nothing is sent and the socket stays
    open; after a stall, what was recorded meanwhile goes at once, then
    the rest at its pace. stalled / resumed are set when each begins,
    stalled_at / resumed_at (monotonic s) before them."""

    def __init__(self, port, stream, kind, seconds, stall_at, stall_s=None):
        super().__init__(daemon=True)
        self.ws = WsClient(port, f"/ingest/{stream['id']}?key={quote(stream['key'])}"
                                 f"&mimeType={quote(MIME[kind])}")
        self.data, self.seconds = RECORDINGS[kind], seconds
        self.stall_at, self.stall_s = stall_at, stall_s
        self.stalled, self.resumed, self.quit = threading.Event(), threading.Event(), False
        self.error, self.stalled_at, self.resumed_at = None, None, None

    def run(self):
        chunks = list(range(0, len(self.data), 16384))
        pace = self.seconds / len(chunks)
        start = time.monotonic()
        try:
            for n, i in enumerate(chunks):
                due = start + n * pace
                if n * pace >= self.stall_at and not self.stalled.is_set():
                    self.stalled_at = time.monotonic()
                    self.stalled.set()
                    if self.stall_s is None:
                        return
                    until = time.monotonic() + self.stall_s
                    while not self.quit and time.monotonic() < until:
                        time.sleep(0.05)
                    self.resumed_at = time.monotonic()
                    self.resumed.set()
                while not self.quit and time.monotonic() < due:
                    time.sleep(min(0.05, due - time.monotonic()))
                if self.quit:
                    return
                self.ws.send_binary(self.data[i:i + 16384])
        except OSError as e:          # closed by the server (a DELETE): the end
            self.error = e

    def stop(self):
        self.quit = True
        self.join(30)
        self.ws.close()


class SegmentLog:
    """What a viewer of a live LL-HLS playlist sees, polled: when each
    complete segment first showed (monotonic s), its bytes (fetched then:
    the playlist rolls), the init segment, the states the stream went
    through and when each was first seen."""

    def __init__(self, case, stream):
        self.case, self.id = case, stream["id"]
        self.seen, self.data, self.init, self.states, self.when = {}, {}, None, [], []

    def poll(self):
        status, s = self.case.launcher.api("GET", f"/api/streams/{self.id}")
        if status == 200 and (not self.states or self.states[-1] != s["state"]):
            self.states.append(s["state"])
            self.when.append(time.monotonic())
        status, _, body = self.case.launcher.request("GET", f"/live/{self.id}/index.m3u8")
        if status != 200:
            return None
        pl = parse(body.decode())
        if self.init is None and pl.map_uri:
            self.init = self.fetch(pl.map_uri)
        for seg in pl.complete:
            if seg.uri not in self.seen:
                self.seen[seg.uri] = time.monotonic()
                self.data[seg.uri] = self.fetch(seg.uri)
        return pl

    def watch(self, until, timeout, interval=0.2):
        """polls until until() or timeout s; until()'s last value"""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            self.poll()
            done = until()
            if done:
                return done
            time.sleep(interval)
        return None

    def fetch(self, uri):
        status, _, body = self.case.launcher.request("GET", f"/live/{self.id}/{uri}")
        return body if status == 200 else None

    def times(self):
        return sorted(self.seen.values())

    def gaps(self, after=0.0):
        """seconds between consecutive new segments, of those after time after"""
        t = [x for x in self.times() if x >= after]
        return [b - a for a, b in zip(t, t[1:])]

    def broken(self):
        """{uri: what ffmpeg says} of the segments that do not decode"""
        out = {}
        for uri, data in self.data.items():
            if data is None or self.init is None:
                out[uri] = "not served"
            elif (e := decode_errors_of(self.init + data, launchercase.WORK)):
                out[uri] = e
        return out


class NetworkCase(KeyedCase):
    def stream(self, s):
        return self.launcher.api("GET", f"/api/streams/{s['id']}")[1]


class LossyJitterySrtTest(NetworkCase):
    settings = {"srt": {"latency": SRT_LATENCY_MS}, "reconnect_window": 5}

    def test_segments_keep_flowing_through_loss_and_jitter(self):
        s = self.create(title="lossy and jittery")
        log = SegmentLog(self, s)
        with UdpRelay(("127.0.0.1", self.launcher.srt_port), loss=0.05, jitter_ms=100,
                      seed=21) as relay:
            pub = ffmpeg_publish(TS, f"srt://127.0.0.1:{relay.port}?streamid={quote(s['key'])}")
            try:
                self.wait_state(s["id"], "live", 20)
                link = {}

                def over():
                    nonlocal link
                    link = self.stream(s).get("stats", {}).get("srt", link)
                    return pub.poll() is not None
                log.watch(over, SRT_SECONDS + 30)
                code, err = finish(pub, SRT_SECONDS + 30)
            finally:
                finish(pub, 10, kill=True)
            counts = relay.counts()
            # while the caller sent: the last segment is closed once the
            # link's end is seen, later
            gaps = log.gaps()
        self.assertEqual(code, 0, err)
        # SRT has no unpublish: a caller that closes is lost (README, SRT)
        self.wait_state(s["id"], "interrupted", 15)
        log.poll()
        final = parse(self.playlist(s))
        self.assertTrue(final.ended, "the playlist was not finalized")
        figure("srt_lossy_segments", len(log.seen))
        figure("srt_lossy_segment_gap_max_seconds", max(gaps, default=0.0))
        figure("srt_lossy_relay_dropped", counts["up"]["dropped"] + counts["down"]["dropped"])
        for k in ("rtt-ms", "packets-lost", "packets-retransmitted", "packets-dropped"):
            figure("srt_lossy_" + k.replace("-", "_"), link.get(k, -1))
        self.assertGreater(counts["up"]["dropped"], 0)
        self.assertGreater(counts["down"]["dropped"], 0)
        self.assertGreater(link.get("packets-retransmitted", 0), 0, link)
        # live until the caller closed, with all it sent
        self.assertEqual(log.states, ["live", "interrupted"])
        self.assertGreaterEqual(log.when[1] - log.when[0], SRT_SECONDS - 1.5,
                                "interrupted before the caller's end")
        self.assertAlmostEqual(sum(g.duration for g in final.complete), SRT_SECONDS, delta=1.5)
        self.assertEqual(link.get("packets-dropped"), 0, "packets given up (too late): "
                         "srt.latency is too small for this link")
        self.assertLess(max(gaps), SEGMENT_BOUND, f"segments stopped flowing: {gaps}")
        self.assertEqual(log.broken(), {}, "segments that do not decode")


class DarkSrtLinkTest(NetworkCase):
    """The link goes dark for 3 s (every datagram dropped, both ways),
    under libsrt's peer idle time-out (5 s): the caller stays connected,
    what SRT could not resend within its latency is given up, not waited
    for, and segments flow again."""
    settings = {"srt": {"latency": SRT_LATENCY_MS}}
    DARK = 3.0

    def test_a_link_dark_for_3_s_stays_live(self):
        s = self.create(title="dark for a while")
        log = SegmentLog(self, s)
        with UdpRelay(("127.0.0.1", self.launcher.srt_port), seed=3) as relay:
            pub = ffmpeg_publish(TS, f"srt://127.0.0.1:{relay.port}?streamid={quote(s['key'])}",
                                 loop=True)
            try:
                self.wait_state(s["id"], "live", 20)
                self.assertTrue(log.watch(lambda: len(log.seen) >= 2, 20), "no segments")
                relay.blackout(self.DARK)
                back = time.monotonic() + self.DARK
                count = len(log.seen)
                flowing = log.watch(lambda: len(log.seen) >= count + 3, 3 * SEGMENT_BOUND)
                link = self.stream(s).get("stats", {}).get("srt", {})
                running = pub.poll() is None
            finally:
                finish(pub, 10, kill=True)
        after = [t - back for t in log.times() if t >= back]
        figure("srt_dark_first_segment_after_seconds", min(after, default=-1.0))
        figure("srt_dark_segment_gap_max_seconds", max(log.gaps(), default=0.0))
        figure("srt_dark_packets_dropped", link.get("packets-dropped", -1))
        self.assertTrue(flowing, f"no segments after the link came back: {log.gaps()}\n"
                        + self.launcher.output()[-3000:])
        self.assertTrue(running, "the caller gave up")
        self.assertEqual(log.states, ["live"])
        self.assertLess(max(log.gaps()), SEGMENT_BOUND + self.DARK, log.gaps())
        self.assertGreater(link.get("packets-dropped", 0), 0, link)
        self.assertEqual(log.broken(), {}, "segments that do not decode")


class StalledWebSocketTest(NetworkCase):
    """idle_timeout as shipped (10 s): an 8 s stall is no loss."""
    settings = {"idle_timeout": 10, "shutdown_timeout": 10}
    STALL = 8.0

    def test_a_stall_under_idle_timeout_keeps_the_stream_live(self):
        s = self.create(title="stalls")
        log = SegmentLog(self, s)
        pub = StallingPublisher(self.launcher.port, s, WS, WS_SECONDS, stall_at=5.0,
                                stall_s=self.STALL)
        self.addCleanup(pub.stop)
        pub.start()
        self.wait_state(s["id"], "live", 10)
        self.assertTrue(log.watch(pub.stalled.is_set, 15), "never stalled")
        before = len(log.seen)
        self.assertTrue(log.watch(pub.resumed.is_set, self.STALL + 5), "never resumed")
        # after the stall, new segments within a bound
        self.assertTrue(log.watch(lambda: len(log.seen) >= before + 3, 3 * SEGMENT_BOUND),
                        f"no segments after the stall: {log.seen}\n"
                        + self.launcher.output()[-3000:])
        figure("ws_stall_first_segment_after_seconds",
               min(t for t in log.times() if t >= pub.resumed_at) - pub.resumed_at)
        figure("ws_stall_segment_gap_max_seconds", max(log.gaps(), default=0.0))
        # a DELETE mid-stream finalizes it within shutdown_timeout
        status, _ = self.launcher.api("DELETE", f"/api/streams/{s['id']}")
        self.assertEqual(status, 202)
        asked = time.monotonic()
        ended = log.watch(lambda: log.states[-1] in ("ended", "failed") and log.states[-1], 25)
        took = time.monotonic() - asked
        figure("ws_stall_delete_to_ended_seconds", took)
        self.assertEqual(ended, "ended", self.stream(s))
        self.assertEqual(self.stream(s).get("reason", ""), "")
        self.assertLessEqual(took, self.settings["shutdown_timeout"] + 2)
        self.assertEqual(log.states, ["live", "ended"], "interrupted by an 8 s stall")
        final = parse(self.playlist(s))
        self.assertTrue(final.ended)
        self.assertEqual([g for g in final.segments if g.discontinuity], [])
        log.poll()
        self.assertEqual(log.broken(), {}, "segments that do not decode")


class SilentWebSocketTest(NetworkCase):
    settings = {"idle_timeout": 3, "reconnect_window": 3, "shutdown_timeout": 10}

    def test_a_silent_publisher_is_lost_after_idle_timeout(self):
        s = self.create(title="goes silent")
        log = SegmentLog(self, s)
        pub = StallingPublisher(self.launcher.port, s, WS, WS_SECONDS, stall_at=5.0)
        self.addCleanup(pub.stop)
        pub.start()
        self.wait_state(s["id"], "live", 10)
        self.assertTrue(log.watch(pub.stalled.is_set, 15), "never went silent")
        got = log.watch(lambda: log.states[-1] != "live", 3 + 15, interval=0.1)
        noticed = (log.when[-1] if got else time.monotonic()) - pub.stalled_at
        figure("ws_silent_to_interrupted_seconds", noticed)
        self.assertTrue(got, "still live, silent for " + str(noticed))
        self.assertEqual(log.states, ["live", "interrupted"])
        self.assertIn("1001", self.stream(s)["reason"])
        self.assertEqual(pub.ws.wait_close()[0], 1001)
        self.assertTrue(parse(self.playlist(s)).ended, "the playlist was not finalized")
        # nobody comes back: ended once the window passes
        log.watch(lambda: log.states[-1] != "interrupted", 3 + 10)
        self.assertEqual(log.states, ["live", "interrupted", "ended"])
        self.assertEqual(self.stream(s)["reason"], "the publisher did not come back within 3 s")
        self.assertEqual(log.broken(), {}, "segments that do not decode")

    def test_a_delete_while_the_publisher_is_silent_ends_the_stream(self):
        s = self.create(title="deleted while silent")
        log = SegmentLog(self, s)
        pub = StallingPublisher(self.launcher.port, s, WS, WS_SECONDS, stall_at=3.0)
        self.addCleanup(pub.stop)
        pub.start()
        self.wait_state(s["id"], "live", 10)
        self.assertTrue(log.watch(pub.stalled.is_set, 15), "never went silent")
        time.sleep(1.0)
        status, _ = self.launcher.api("DELETE", f"/api/streams/{s['id']}")
        self.assertEqual(status, 202)
        asked = time.monotonic()
        log.watch(lambda: log.states[-1] != "live", 25, interval=0.1)
        took = time.monotonic() - asked
        figure("ws_silent_delete_to_ended_seconds", took)
        self.assertEqual(log.states, ["live", "ended"], self.stream(s))
        self.assertEqual(self.stream(s).get("reason", ""), "")
        self.assertLessEqual(took, self.settings["shutdown_timeout"] + 2)
        self.assertTrue(parse(self.playlist(s)).ended)


if __name__ == "__main__":
    unittest.main()
