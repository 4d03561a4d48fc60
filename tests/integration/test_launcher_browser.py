"""A real Chromium (Debian's, driven by playwright-core through the node
scripts in browser/) publishes over WHIP (ICE servers, trickle) and with
MediaRecorder over the WebSocket ingest; hls.js plays the stream while it
is live, and switches between the levels of an abr stream. The slow
tests: meson runs them in the suites integration and browser.

Standard library only. Shared fixtures: launchercase.py.
Environment (meson sets it): CASTLINE_BUILD_DIR, CASTLINE_SOURCE_DIR,
CASTLINE_PRELOAD (sanitizer runtime, optional).
Run by hand: /usr/bin/python3 tests/integration/test_launcher_browser.py [-k PATTERN]
Every wait is bounded.
"""
import json
import os
import subprocess
import sys
import time
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from gstlaunch import SOURCE  # noqa: E402
from launcherproc import MIME, ffprobe, quote, wait_for  # noqa: E402
from launchercase import (  # noqa: E402
    BROWSER_DIR, LauncherCase, abr_recording, first_video_pts, node, probe_path,
    segment_ext, stream_inf)
from launchercase import setUpModule, tearDownModule  # noqa: E402,F401 (module fixture)


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
        # hls.target_duration (2 s), the last one cut short by the end. A
        # loaded Chromium answers a request late (3.05 s in a CI run): no
        # segment rounds to more than 3 s (RFC 8216's rule for a target
        # duration of 3), far from Chromium's own gop of 100 s
        durations = [float(line[8:].split(",")[0]) for line in playlist.splitlines()
                     if line.startswith("#EXTINF:")]
        self.assertGreaterEqual(len(durations), 5, playlist)
        self.assertLessEqual(max(round(d) for d in durations), 3, playlist)
        # no part adds no time (hls.js takes one of DURATION=0 for empty)
        self.assertNotIn("DURATION=0,", playlist)

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

    def test_mediarecorder_vp8_without_mime_type_gets_the_abr_ladder(self):
        # neither ?mimeType= nor a start message: Chromium's own WebM header
        # (V_VP8 with AlphaMode, A_OPUS) chooses the decoder for the ladder
        s = self.create(title="mediarecorder abr", pipeline="abr")
        url = f"{s['ws_url']}?key={quote(s['key'])}"
        result = node("webm_publisher.mjs", "--url", url, "--mime", MIME["vp8"], "--seconds", "6",
                      "--no-start")
        self.assertEqual(result["closeCode"], 1000, result)
        ended = self.wait_state(s["id"], "ended")
        self.assertEqual((ended["ingest"], ended["pipeline"]), ("websocket", "abr"))
        entries = stream_inf(self.playlist(s))
        self.assertEqual([(uri, a["RESOLUTION"]) for a, uri in entries],
                         [("480p/index.m3u8", "640x480"), ("360p/index.m3u8", "480x360")])
        info = ffprobe(f"http://127.0.0.1:{self.launcher.port}/live/{s['id']}/360p/index.m3u8")
        self.assertEqual(sorted(st["codec_name"] for st in info["streams"]), ["aac", "h264"])

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
        base = f"http://127.0.0.1:{self.launcher.port}/live/{s['id']}"
        ext = segment_ext(f"{base}/{rungs[0]}/index.m3u8")
        for n in (1, 2):
            pts = [first_video_pts(f"{base}/{r}/segment{n:05d}{ext}") for r in rungs]
            self.assertLess(max(pts) - min(pts), 0.05, f"segment {n}: {pts}")


class WhipAbrSizes(LauncherCase):
    """A WHIP publisher's ladder follows the size Chromium sends, which the
    page forces (scaleResolutionDownBy on a 1280x720 fake camera, the
    resolution kept whatever the bandwidth or CPU). Every segment is kept."""
    settings = {"hls": {"max_files": 100, "playlist_length": 100}}

    def publish_sizes(self, scales, seconds):
        """Publishes with those scales; the masters seen while live (each
        distinct text, in order) and the publisher's result."""
        s = self.create(title="abr sizes", pipeline="abr")
        pub = subprocess.Popen(["node", os.path.join(BROWSER_DIR, "whip_publisher.mjs"),
                                "--url", s["whip_url"], "--key", s["key"], "--camera", "1280x720",
                                "--scales", scales, "--seconds", str(seconds)],
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE, cwd=SOURCE)
        masters = []
        try:
            deadline = time.monotonic() + seconds + 60
            while pub.poll() is None and time.monotonic() < deadline:
                status, _, body = self.launcher.request("GET", f"/live/{s['id']}/index.m3u8")
                if status == 200 and (not masters or masters[-1] != body.decode()):
                    masters.append(body.decode())
                time.sleep(0.5)
            out, err = pub.communicate(timeout=30)
        finally:
            if pub.poll() is None:
                pub.kill()
                pub.wait(timeout=10)
        self.assertEqual(pub.returncode, 0, err.decode()[-3000:])
        result = json.loads(out.decode().strip().splitlines()[-1])
        self.assertEqual((result["status"], result["connected"]), (201, True), result)
        self.wait_state(s["id"], "ended", 60)
        masters.append(self.playlist(s))
        return s, masters, result

    def rung_file(self, s, rung, name):
        return f"http://127.0.0.1:{self.launcher.port}/live/{s['id']}/{rung}/{name}"

    def segments(self, s, rung):
        status, _, body = self.launcher.request("GET", f"/live/{s['id']}/{rung}/index.m3u8")
        self.assertEqual(status, 200, rung)
        return [line for line in body.decode().splitlines() if line.endswith((".ts", ".m4s"))]

    def size_of(self, url):
        video = [st for st in ffprobe(probe_path(url))["streams"] if st["codec_type"] == "video"][0]
        return f"{video['width']}x{video['height']}"



class WhipAbrSizeTest(WhipAbrSizes):
    """The ladder waits for the size to settle (abr_settle: 4 s)."""

    def test_ladder_waits_for_the_size_to_settle(self):
        # 320x180 for the first second, then 1280x720: with abr_settle (4 s)
        # the first master is already the 720p ladder
        s, masters, result = self.publish_sizes("4@0,1@1", 14)
        self.assertIn("1280x720", result["sizes"], result)
        want = [("720p/index.m3u8", "1280x720"), ("480p/index.m3u8", "854x480"),
                ("360p/index.m3u8", "640x360")]
        for master in (masters[0], masters[-1]):
            self.assertEqual([(uri, a["RESOLUTION"]) for a, uri in stream_inf(master)], want,
                             master)
        for rung, size in (("720p", "1280x720"), ("360p", "640x360")):
            first = self.segments(s, rung)[0]
            self.assertEqual(self.size_of(self.rung_file(s, rung, first)), size, rung)


class WhipAbrGrowthTest(WhipAbrSizes):
    """The ladder built for a small size (abr_settle 1) grows when the input
    does."""
    settings = {"abr_settle": 1, "hls": {"max_files": 100, "playlist_length": 100}}

    def test_ladder_grows_with_the_input(self):
        # 320x180 for 8 s (a one-rung ladder: 360p, the input as it is),
        # then 1280x720: 720p (the input) and 480p are added, 360p encoded
        s, masters, result = self.publish_sizes("4@0,1@8", 18)
        self.assertIn("1280x720", result["sizes"], result)
        self.assertEqual([(uri, a["RESOLUTION"]) for a, uri in stream_inf(masters[0])],
                         [("360p/index.m3u8", "320x180")], masters[0])
        grown = stream_inf(masters[-1])
        self.assertEqual([(uri, a["RESOLUTION"]) for a, uri in grown],
                         [("720p/index.m3u8", "1280x720"), ("480p/index.m3u8", "854x480"),
                          ("360p/index.m3u8", "640x360")], masters[-1])
        self.assertTrue(all(a["CODECS"].startswith("avc1.") for a, _ in grown), grown)
        segments = {rung: self.segments(s, rung) for rung in ("720p", "480p", "360p")}
        self.assertGreaterEqual(len(segments["720p"]), 3, segments)
        # the new rungs have their size; 360p was the input, then encoded
        for rung, size in (("720p", "1280x720"), ("480p", "854x480"), ("360p", "640x360")):
            last = self.rung_file(s, rung, segments[rung][-2])
            self.assertEqual(self.size_of(last), size, rung)
        self.assertEqual(self.size_of(self.rung_file(s, "360p", segments["360p"][0])), "320x180")
        # the new rungs' segments start where the old rung's do
        starts = {rung: [first_video_pts(self.rung_file(s, rung, f)) for f in segments[rung]]
                  for rung in segments}
        for rung in ("720p", "480p"):
            for pts in starts[rung][1:]:
                self.assertLess(min(abs(pts - p) for p in starts["360p"]), 0.05,
                                f"{rung} segment at {pts}: 360p's start at {starts['360p']}")

    def test_rungs_are_not_upscaled_when_the_input_shrinks(self):
        # 1280x720 (the 720p ladder), then 640x360: the rungs stay, 480p
        # carries the input at its own size, and the master is unchanged
        s, masters, result = self.publish_sizes("1@0,2@8", 16)
        self.assertIn("640x360", result["sizes"][-3:], result)
        want = [("720p/index.m3u8", "1280x720"), ("480p/index.m3u8", "854x480"),
                ("360p/index.m3u8", "640x360")]
        for master in masters:
            self.assertEqual([(uri, a["RESOLUTION"]) for a, uri in stream_inf(master)], want,
                             master)
        first, last = {}, {}
        for rung in ("720p", "480p", "360p"):
            segments = self.segments(s, rung)
            first[rung] = self.size_of(self.rung_file(s, rung, segments[0]))
            last[rung] = self.size_of(self.rung_file(s, rung, segments[-1]))
        self.assertEqual(first, {"720p": "1280x720", "480p": "854x480", "360p": "640x360"})
        self.assertEqual(last, {"720p": "640x360", "480p": "640x360", "360p": "640x360"})


if __name__ == "__main__":
    unittest.main(verbosity=2)
