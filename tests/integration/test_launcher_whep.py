"""WebRTC playback (WHEP) end to end: a real Chromium plays a live stream
over WHEP with the launcher's own client (web/whep.js, through
browser/whep_player.mjs) from a WHIP publisher (Chromium's fake camera),
an RTMP publisher (ffmpeg: H.264 as it came, AAC made Opus) and a
MediaRecorder publisher (VP8 + Opus); the watch page's hybrid rule
(webrtc.max_viewers=2: two pages on "Real-time", the third on "HLS", all
three counted); a viewer whose browser is killed hard frees its seat;
DELETE of the stream ends every viewer session; bad offers, unknown and
not-live streams get their status codes; webrtc.token asks for a Bearer.

Publishers are shared across the checks of a test: each test is one
launcher and one publisher. Standard library only. Shared fixtures:
launchercase.py. Environment (meson sets it): CASTLINE_BUILD_DIR,
CASTLINE_SOURCE_DIR. Run by hand:
/usr/bin/python3 tests/integration/test_launcher_whep.py [-k PATTERN]
Every wait is bounded.
"""
import json
import os
import signal
import subprocess
import sys
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from gstlaunch import SOURCE  # noqa: E402
from launcherproc import MIME, quote, wait_for  # noqa: E402
from launchercase import BROWSER_DIR, LauncherCase, node  # noqa: E402
from launchercase import setUpModule, tearDownModule  # noqa: E402,F401 (module fixture)

TOKEN = "whep-token-never-logged"

# A receive-only offer as a browser makes it, but for its codecs: what the
# launcher inspects (ICE credentials, a fingerprint, recvonly m-lines)
# before it builds anything.
OFFER = """v=0
o=- 4215 2 IN IP4 127.0.0.1
s=-
t=0 0
a=group:BUNDLE 0 1
a=fingerprint:sha-256 {fingerprint}
m=video 9 UDP/TLS/RTP/SAVPF 96
c=IN IP4 0.0.0.0
a=mid:0
a=ice-ufrag:Wh3p
a=ice-pwd:whepIcePasswordOf24Chars
a=setup:actpass
a=rtcp-mux
a=recvonly
a=rtpmap:96 {video}
{fmtp}m=audio 9 UDP/TLS/RTP/SAVPF 111
c=IN IP4 0.0.0.0
a=mid:1
a=ice-ufrag:Wh3p
a=ice-pwd:whepIcePasswordOf24Chars
a=setup:actpass
a=rtcp-mux
a=recvonly
a=rtpmap:111 {audio}
"""


def offer(video="H264/90000", audio="opus/48000/2"):
    fmtp = ("a=fmtp:96 level-asymmetry-allowed=1;packetization-mode=1;profile-level-id=42e01f\n"
            if video.startswith("H264") else "")
    fingerprint = ":".join(["AB"] * 32)
    return OFFER.format(video=video, audio=audio, fmtp=fmtp,
                        fingerprint=fingerprint).replace("\n", "\r\n")


def background(script, *args):
    """A browser driver in the background (its own session: a hard kill
    of the test leaves no Chromium behind)."""
    return subprocess.Popen(["node", os.path.join(BROWSER_DIR, script), *args],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, cwd=SOURCE)


def result_of(proc, timeout=150):
    """A background driver's JSON result line (an AssertionError with its
    stderr when it failed)."""
    try:
        out, err = proc.communicate(timeout=timeout)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait(timeout=10)
    if proc.returncode != 0:
        raise AssertionError(f"driver failed ({proc.returncode}): {err.decode()[-3000:]}")
    return json.loads(out.decode().strip().splitlines()[-1])


def stop(proc):
    if proc.poll() is None:
        proc.send_signal(signal.SIGINT)
        try:
            proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(timeout=10)


class WhepCase(LauncherCase):
    def setUp(self):
        super().setUp()
        self.procs = []

    def tearDown(self):
        for proc in self.procs:
            stop(proc)
        super().tearDown()

    def start(self, proc):
        self.procs.append(proc)
        return proc

    def rtmp_publisher(self, s, seconds):
        """ffmpeg publishing 640x480 H.264 (no B-frames) + AAC to the
        stream over RTMP for `seconds`."""
        return self.start(subprocess.Popen(
            ["ffmpeg", "-v", "error", "-nostdin", "-re",
             "-f", "lavfi", "-i", "testsrc=size=640x480:rate=30",
             "-f", "lavfi", "-i", "sine=frequency=440:sample_rate=44100", "-t", str(seconds),
             "-c:v", "libx264", "-preset", "ultrafast", "-tune", "zerolatency", "-bf", "0",
             "-g", "30", "-pix_fmt", "yuv420p", "-c:a", "aac", "-b:a", "96k", "-ac", "2",
             "-f", "flv", s["rtmp_url"]], stdout=subprocess.DEVNULL, stderr=subprocess.PIPE))

    def stream(self, stream_id):
        status, s = self.launcher.api("GET", f"/api/streams/{stream_id}")
        self.assertEqual(status, 200, s)
        return s

    def go_live(self, s, timeout=45):
        """Waits until the stream is live and its media known to WebRTC
        (whep_url given); the stream as the API shows it."""
        self.wait_state(s["id"], "live", timeout)
        live = self.stream(s["id"])
        self.assertEqual(live["whep_url"], f"http://127.0.0.1:{self.launcher.port}/whep/{s['id']}")
        return live

    def webrtc_viewers(self, stream_id, want, timeout=20):
        """Waits until the stream has `want` WebRTC viewers; the stream."""
        got = wait_for(lambda: (lambda s: s if s.get("webrtc_viewers") == want else None)(
            self.stream(stream_id)), timeout, 0.25)
        self.assertTrue(got, f"webrtc_viewers never {want}: {self.stream(stream_id)}")
        return got

    def post(self, stream_id, body, ctype="application/sdp", headers=None):
        return self.launcher.request("POST", f"/whep/{stream_id}", body,
                                     {"Content-Type": ctype, **(headers or {})})

    def play(self, stream, *args):
        """whep_player.mjs against the stream; its sessions."""
        return node("whep_player.mjs", "--url", stream["whep_url"], *args, timeout=150)["sessions"]

    def assert_played(self, session, size, video_codec, audio_codec="audio/opus"):
        self.assertEqual((session.get("status"), session["connected"]), (201, True), session)
        self.assertGreaterEqual(session["framesDecoded"], 20, session)
        # still decoding at the end, not a first frame only
        self.assertGreater(session["frames"][-1], session["frames"][0], session)
        self.assertEqual((session["frameWidth"], session["frameHeight"]), size, session)
        # and the <video> shows them: its size known, its time running
        self.assertEqual((session["videoWidth"], session["videoHeight"]), size, session)
        self.assertGreaterEqual(session["shownFor"], 2, session)
        self.assertEqual(session["videoCodec"], video_codec, session)
        self.assertTrue(session["audioTrack"], session)
        self.assertGreater(session["audioPackets"], 20, session)
        self.assertGreater(session["audioSamples"], 0, session)
        self.assertEqual(session["audioCodec"], audio_codec, session)
        self.assertIsNone(session.get("lost"), session)
        self.assertIn(session["deleteStatus"], (200, 204), session)


class WhipToWhepTest(WhepCase):
    """Chromium publishes over WHIP (H.264 passed through), another plays
    it over WHEP; refusals; DELETE of the stream ends its viewers."""

    def test_whip_publisher_to_whep(self):
        s = self.create(title="whip to whep")
        self.start(background("whip_publisher.mjs", "--url", s["whip_url"], "--key", s["key"],
                              "--seconds", "150"))
        s = self.go_live(s)
        self.assertEqual((s["webrtc_viewers"], s["webrtc_seats"]), (0, 100), s)
        status, public = self.launcher.api("GET", f"/api/streams/{s['id']}/status")
        self.assertEqual((public["whep_url"], public["webrtc_seats"]), (s["whep_url"], 100), public)

        [session] = self.play(s, "--seconds", "4")
        self.assert_played(session, (640, 480), "video/H264")
        self.assertTrue(session["location"].startswith(f"/whep/{s['id']}/"), session)
        self.webrtc_viewers(s["id"], 0, 10)

        self.check_watch_page_falls_back(s)
        self.check_refusals(s)
        self.check_delete_ends_every_session(s)

    def check_watch_page_falls_back(self, s):
        # a WebRTC that never connects (the browser's requests answered by
        # the driver): the watch page plays HLS within a few seconds
        r = node("whep_player.mjs", "--url", s["whep_url"], "--watch", "--fake-answer",
                 "--seconds", "2", timeout=150)
        [page] = r["sessions"]
        self.assertEqual((page["mode"], page["dataMode"]), ("HLS", "hls"), page)
        self.assertIn("did not connect within 5 s", page["note"], page)
        self.assertGreaterEqual(page["advanced"], 1.5, page)
        self.assertEqual((page["videoWidth"], page["videoHeight"]), (640, 480), page)
        self.assertEqual(r["errors"], [], r)

    def check_refusals(self, s):
        sid = s["id"]
        # not SDP, not SDP's type, too big, no codec the stream sends
        self.assertEqual(self.post(sid, "hello")[0], 400)
        self.assertEqual(self.post(sid, offer(), "text/plain")[0], 415)
        self.assertEqual(self.post(sid, "v=0\r\n" + "a=x\r\n" * 40000)[0], 413)
        status, _, body = self.post(sid, offer(video="AV1/90000", audio="PCMU/8000"))
        self.assertEqual(status, 406, body)
        # an unknown stream, a stream not live
        self.assertEqual(self.post("nosuchstream", offer())[0], 404)
        other = self.create(title="not live")
        self.assertEqual(self.post(other["id"], offer())[0], 409)
        # a browser's preflight
        status, hdrs, _ = self.launcher.request("OPTIONS", f"/whep/{sid}", headers={
            "Origin": "http://example.com", "Access-Control-Request-Method": "POST"})
        self.assertEqual(status, 204)
        self.assertEqual(hdrs.get("Access-Control-Allow-Origin"), "*")
        self.assertEqual(self.stream(sid)["webrtc_viewers"], 0)

    def check_delete_ends_every_session(self, s):
        viewers = self.start(background("whep_player.mjs", "--url", s["whep_url"], "--pages", "2",
                                        "--seconds", "15"))
        self.webrtc_viewers(s["id"], 2, 60)
        status, _ = self.launcher.api("DELETE", f"/api/streams/{s['id']}")
        self.assertIn(status, (200, 202))
        ended = self.wait_state(s["id"], "ended", 30)
        self.assertEqual(ended.get("webrtc_viewers", 0), 0, ended)
        sessions = result_of(viewers)["sessions"]
        for session in sessions:
            self.assertTrue(session["connected"], session)
            # the browser saw its connection go, and the session is gone
            self.assertTrue(session.get("lost"), session)
            status, _, _ = self.launcher.request("DELETE", session["location"])
            self.assertEqual(status, 404, session)


class RtmpToWhepTest(WhepCase):
    """ffmpeg publishes H.264 + AAC over RTMP: viewers get the H.264 as it
    came and the AAC as Opus. webrtc.token asks every viewer for it."""
    settings = {"rtmp": {}, "webrtc": {"token": TOKEN}}

    def test_rtmp_publisher_to_whep_with_a_token(self):
        s = self.create(title="rtmp to whep")
        self.rtmp_publisher(s, 40)
        s = self.go_live(s)
        self.assertEqual(self.stream(s["id"])["ingest"], "rtmp")
        for headers in ({}, {"Authorization": "Bearer wrong"}):
            status, _, _ = self.post(s["id"], offer(), headers=headers)
            self.assertEqual(status, 401, headers)
        [refused] = self.play(s, "--seconds", "1")
        self.assertEqual((refused["status"], refused["kind"]), (401, "auth"), refused)

        [session] = self.play(s, "--seconds", "4", "--token", TOKEN)
        self.assert_played(session, (640, 480), "video/H264")
        self.assertNotIn(TOKEN, self.launcher.output(), "the webrtc token was logged")


class MediaRecorderToWhepTest(WhepCase):
    """Chromium's MediaRecorder (VP8 + Opus WebM over the WebSocket): the
    VP8 goes to viewers as it came. A keyframe every 2 s, as the broadcast
    page asks (nothing can ask a MediaRecorder for one: a viewer waits for
    the next)."""

    def test_mediarecorder_publisher_to_whep(self):
        s = self.create(title="mediarecorder to whep")
        url = f"{s['ws_url']}?key={quote(s['key'])}&mimeType={quote(MIME['vp8'])}"
        self.start(background("webm_publisher.mjs", "--url", url, "--mime", MIME["vp8"],
                              "--seconds", "40", "--keyframe-ms", "2000"))
        s = self.go_live(s)
        [session] = self.play(s, "--seconds", "4")
        self.assert_played(session, (640, 480), "video/VP8")


class HybridTest(WhepCase):
    """Two WebRTC seats: the first two watch pages play in real time, the
    third falls back to HLS; all three count. A viewer whose browser is
    killed frees its seat. Published over RTMP (WhipToWhepTest has WHIP)."""
    settings = {"webrtc": {"max_viewers": 2}, "rtmp": {}}

    def test_seats_then_hls_and_a_killed_viewer_frees_its_seat(self):
        s = self.create(title="hybrid")
        self.rtmp_publisher(s, 100)
        s = self.go_live(s)
        self.assertEqual(s["webrtc_seats"], 2, s)
        # HEAD: a GET would count this test as a viewer
        wait_for(lambda: self.launcher.request("HEAD", f"/live/{s['id']}/index.m3u8")[0] == 200, 20)

        # page 0 then switches to HLS by hand
        # 5 s each: the HLS page starts a segment or two after the others
        # (it fell back), and on a loaded machine 3 s left it 1.7 s played
        pages = background("whep_player.mjs", "--url", s["whep_url"], "--watch", "--pages", "3",
                           "--seconds", "5", "--switch", "0")
        counted = wait_for(lambda: (lambda v: v if v.get("viewers") == 3
                                    and v.get("webrtc_viewers") == 2 else None)(
            self.stream(s["id"])), 90, 0.5)
        r = result_of(pages)
        self.assertTrue(counted, f"never 3 viewers, 2 of them WebRTC: {self.stream(s['id'])}")
        # the seats: two WebRTC sessions connected at once, and playing; the
        # third page refused one
        for page in r["sessions"][:2]:
            self.assertEqual((page["mode"], page["dataMode"]), ("Real-time", "rtc"), r)
        self.assertEqual((r["sessions"][2]["mode"], r["sessions"][2]["dataMode"]), ("HLS", "hls"), r)
        for page in r["sessions"]:
            self.assertGreaterEqual(page["advanced"], 2, page)
            self.assertEqual((page["videoWidth"], page["videoHeight"]), (640, 480), page)
            self.assertEqual(page["viewers"], "3", page)
            self.assertRegex(page["latency"], r"s behind live", page)
        self.assertIn("seat", r["sessions"][2]["note"], r)
        self.assertEqual(r["sessions"][2]["quality"][0], "Auto", r)
        # the switch by hand, from real time to the HLS
        self.assertEqual(r["sessions"][0]["switched"]["mode"], "HLS", r)
        self.assertGreaterEqual(r["sessions"][0]["switched"]["advanced"], 1, r)
        # the seats are free again once the pages closed (DELETE on pagehide)
        self.webrtc_viewers(s["id"], 0, 20)
        # the third page's WHEP POST was refused: that is the rule
        refused = f"watch 2: 503 POST /whep/{s['id']}"
        self.assertEqual([e for e in r["errors"] if e != refused], [], r)

        survivor = self.start(background("whep_player.mjs", "--url", s["whep_url"],
                                         "--seconds", "25"))
        victim = self.start(background("whep_player.mjs", "--url", s["whep_url"],
                                       "--kill-after", "4"))
        self.webrtc_viewers(s["id"], 2, 60)
        status, hdrs, _ = self.post(s["id"], offer())
        self.assertEqual(status, 503)
        self.assertTrue(hdrs.get("Retry-After", "").isdigit(), hdrs)
        killed = result_of(victim)
        self.assertTrue(killed["killed"], killed)
        self.assertTrue(killed["sessions"][0]["connected"], killed)
        # reaped: the browser sends nothing more (kSilentViewerS, 8 s)
        self.webrtc_viewers(s["id"], 1, 20)
        [again] = self.play(s, "--seconds", "1")
        self.assertEqual((again["status"], again["connected"]), (201, True), again)
        [kept] = result_of(survivor)["sessions"]
        # the other viewer played on, to the end
        self.assertIsNone(kept.get("lost"), kept)
        self.assertGreater(kept["frames"][-1], kept["frames"][-5] + 20, kept)


if __name__ == "__main__":
    unittest.main(verbosity=2)
