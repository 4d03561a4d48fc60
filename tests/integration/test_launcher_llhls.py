"""Low-Latency HLS end to end (hls.low_latency, on by default): the real
launcher's live playlists follow the LL-HLS rules (llhlsplaylist.py),
ffprobe reads its fMP4 segments (init + segment), blocking playlist
reload waits for a future part and answers 503 after three target
durations for one that never comes, the delta playlist skips, a
recording has a VOD with EXT-X-MAP and an MP4; hls.js in Chromium plays
in low-latency mode (parts loaded) from WHIP and MediaRecorder publishers
and switches the rungs of an abr stream (the Chromium tests are in the
meson suite browser too). A classic-HLS test keeps hls.low_latency false
working (MPEG-TS, no parts).

Standard library only. Shared fixtures: launchercase.py.
Environment (meson sets it): CASTLINE_BUILD_DIR, CASTLINE_SOURCE_DIR,
CASTLINE_PRELOAD (sanitizer runtime, optional).
Run by hand: /usr/bin/python3 tests/integration/test_launcher_llhls.py [-k PATTERN]
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
    BROWSER_DIR, LauncherCase, Publisher, abr_recording, node, probe_path, recording,
    stream_inf)
from launchercase import setUpModule, tearDownModule  # noqa: E402,F401 (module fixture)
from llhlsplaylist import parse, validate, validate_delta  # noqa: E402


def long_h264():
    """20 s of H.264 (keyframes every 2 s) and Opus: a playlist long enough
    for the delta playlist to skip"""
    return recording("h264-20s", "h264", seconds=20)


class LlHlsCase(LauncherCase):
    """The playlist of a live stream, read and parsed."""

    def get(self, path, timeout=20):
        return self.launcher.request("GET", path, timeout=timeout)

    def live_playlist(self, s, query="", rung=""):
        folder = f"{s['id']}/{rung}" if rung else s["id"]
        status, hdrs, body = self.get(f"/live/{folder}/index.m3u8{query}")
        self.assertEqual(status, 200, body)
        return parse(body.decode())

    def wait_segments(self, s, count, timeout=30, rung=""):
        """the live playlist once it names count complete segments (none
        before its first part)"""
        folder = f"{s['id']}/{rung}" if rung else s["id"]

        def ready():
            status, _, body = self.get(f"/live/{folder}/index.m3u8")
            pl = parse(body.decode()) if status == 200 else None
            return pl if pl and len(pl.complete) >= count else None
        pl = wait_for(ready, timeout, interval=0.3)
        self.assertTrue(pl, f"never {count} segments:\n{self.launcher.output()[-3000:]}")
        return pl


class LlHlsTest(LlHlsCase):
    # 10 segments of 2 s named: CAN-SKIP-UNTIL (12 s) leaves some to skip;
    # a publisher that stops sending stays live for the blocking test
    settings = {"hls": {"playlist_length": 10, "max_files": 12}, "idle_timeout": 30,
                "record_mp4": True}

    def test_live_playlist_validates_and_segments_probe(self):
        long_h264()
        s = self.create(title="ll")
        pub = Publisher(self.launcher.port, s, "h264-20s", seconds=20)
        pub.start()
        try:
            pl = self.wait_segments(s, 2)
            self.assertEqual(validate(pl), [], pl)
            self.assertEqual(pl.map_uri, "init.mp4")
            self.assertEqual(pl.part_target, 0.3)
            self.assertEqual(pl.target, 2)
            # the dates are the media's real time: the newest segment ended
            # a moment ago (a paced publisher: media time is real time)
            from datetime import datetime
            newest = pl.complete[-1]
            end = datetime.fromisoformat(newest.date.replace("Z", "+00:00")).timestamp() \
                + newest.duration
            self.assertLess(abs(time.time() - end), 5, newest.date)
            # every part listed is served (from memory), as are init and segments
            for seg in pl.segments:
                for p in seg.parts:
                    status, hdrs, body = self.get(f"/live/{s['id']}/{p.uri}")
                    self.assertEqual(status, 200, p.uri)
                    self.assertIn(b"moof", body[:64], p.uri)
            # ffprobe reads init + a segment: H.264 and AAC
            seg = pl.complete[0]
            url = f"http://127.0.0.1:{self.launcher.port}/live/{s['id']}/{seg.uri}"
            info = ffprobe(probe_path(url))
            self.assertEqual(sorted(st["codec_name"] for st in info["streams"]), ["aac", "h264"])
            self.assertAlmostEqual(float(info["format"]["duration"]), seg.duration, delta=0.3)
            # the delta playlist, once the playlist is long enough to skip
            pl = self.wait_segments(s, 8, timeout=40)
            status, _, body = self.get(f"/live/{s['id']}/index.m3u8?_HLS_skip=YES")
            self.assertEqual(status, 200)
            delta = parse(body.decode())
            full = self.live_playlist(s)
            if delta.media_sequence == full.media_sequence and delta.last_part == full.last_part:
                self.assertEqual(validate_delta(delta, full), [], body.decode())
            else:                      # a part came between the two requests
                self.assertGreater(delta.skipped, 0, body.decode())
        finally:
            self.assertEqual(pub.finish(), 1000)
        ended = self.wait_state(s["id"], "ended")
        self.assertEqual(ended["pipeline"], "passthrough")
        final = parse(self.playlist(s))
        self.assertTrue(final.ended)
        self.assertEqual(validate(final), [])
        # ffmpeg plays the whole ended playlist
        info = ffprobe(s["playback_url"])
        self.assertEqual(sorted(st["codec_name"] for st in info["streams"]), ["aac", "h264"])

    def test_blocking_reload_waits_for_a_future_part_and_gives_up_after_three_targets(self):
        long_h264()
        s = self.create(title="blocking")
        ws = self.publish(s, "h264-20s", pace=0.0, stop=False)   # quickly, then silent
        try:
            pl = self.wait_segments(s, 1)
            # bad directives: 400
            for q in ("?_HLS_msn=x", "?_HLS_part=1", "?_HLS_msn=1&_HLS_part=-1",
                      "?_HLS_skip=maybe", f"?_HLS_msn={pl.next_part()[0] + 5}"):
                self.assertEqual(self.get(f"/live/{s['id']}/index.m3u8{q}")[0], 400, q)
            # the whole recording went in at once: the pipeline runs ahead of
            # nothing, so wait for the playlist to stop growing
            last = None
            for _ in range(60):
                now = self.live_playlist(s).last_part
                if now == last:
                    break
                last = now
                time.sleep(0.5)
            pl = self.live_playlist(s)
            msn, part = pl.next_part()
            started = time.monotonic()
            status, _, body = self.get(f"/live/{s['id']}/index.m3u8?_HLS_msn={msn}&_HLS_part={part}",
                                       timeout=30)
            waited = time.monotonic() - started
            # a part that never comes: 503 after 3 target durations (6 s)
            self.assertEqual(status, 503, body)
            self.assertGreaterEqual(waited, 3 * pl.target - 0.5)
            self.assertEqual(self.launcher.api("GET", f"/api/streams/{s['id']}")[1]["state"], "live")
        finally:
            ws.close()

    def test_blocking_reload_answers_when_the_part_exists(self):
        s = self.create(title="blocking live")
        pub = Publisher(self.launcher.port, s, "h264", seconds=6)
        pub.start()
        try:
            pl = self.wait_segments(s, 1)
            answered = []
            for _ in range(4):
                msn, part = pl.next_part()
                status, _, body = self.get(
                    f"/live/{s['id']}/index.m3u8?_HLS_msn={msn}&_HLS_part={part}", timeout=30)
                self.assertEqual(status, 200, body)
                pl = parse(body.decode())
                self.assertEqual(validate(pl), [], body.decode())
                # the answer holds the part asked for
                self.assertGreaterEqual(pl.last_part, (msn, part), body.decode())
                answered.append((msn, part))
            self.assertEqual(len(set(answered)), 4, answered)
        finally:
            self.assertEqual(pub.finish(), 1000)

    def test_recording_has_a_vod_with_its_init_and_an_mp4(self):
        s = self.create(title="ll recorded", record=True)
        # at the recording's pace (6 s), as a publisher sends
        pub = Publisher(self.launcher.port, s, "h264", seconds=6)
        pub.start()
        self.assertEqual(pub.finish(), 1000)
        self.wait_state(s["id"], "ended")
        recs = wait_for(lambda: self.launcher.api("GET", f"/api/streams/{s['id']}/recordings")[1]
                        ["recordings"], 30)
        self.assertEqual(sorted(r["kind"] for r in recs), ["hls", "mp4"], recs)
        status, _, vod = self.get(f"/live/{s['id']}/vod.m3u8")
        self.assertEqual(status, 200)
        vod = vod.decode()
        self.assertIn("#EXT-X-VERSION:7\n", vod)
        self.assertIn('#EXT-X-MAP:URI="init.mp4"\n', vod)
        self.assertNotIn("#EXT-X-PART", vod)
        base = f"http://127.0.0.1:{self.launcher.port}/live/{s['id']}"
        info = ffprobe(base + "/vod.m3u8")
        self.assertEqual(sorted(st["codec_name"] for st in info["streams"]), ["aac", "h264"])
        self.assertAlmostEqual(float(info["format"]["duration"]), 6, delta=1)
        mp4 = [r for r in recs if r["kind"] == "mp4"][0]
        info = ffprobe(mp4["url"])
        self.assertEqual(sorted(st["codec_name"] for st in info["streams"]), ["aac", "h264"])
        self.assertAlmostEqual(float(info["format"]["duration"]), 6, delta=1)
        folder = os.path.join(self.dir, "data", "live", s["id"])
        self.assertFalse([f for f in os.listdir(folder) if f.endswith((".cmaf", ".part"))])


class ClassicHlsTest(LlHlsCase):
    """hls.low_latency false: MPEG-TS segments with hlssink2, no parts."""
    settings = {"hls": {"low_latency": False}}

    def test_classic_hls_has_mpegts_segments_and_no_parts(self):
        s = self.create(title="classic")
        self.publish(s, "h264")
        self.wait_state(s["id"], "ended")
        text = self.playlist(s)
        self.assertNotIn("#EXT-X-PART", text)
        self.assertNotIn("#EXT-X-MAP", text)
        segments = [line for line in text.splitlines() if line and not line.startswith("#")]
        self.assertTrue(segments and all(u.endswith(".ts") for u in segments), text)
        info = ffprobe(s["playback_url"])
        self.assertEqual(sorted(st["codec_name"] for st in info["streams"]), ["aac", "h264"])


class LlHlsBrowserTest(LlHlsCase):
    """hls.js in Chromium, in low-latency mode, plays LL-HLS parts."""

    def play_low_latency(self, url, *args):
        played = node("hls_player.mjs", "--url", url, "--seconds", "4", "--low-latency", *args)
        self.assertEqual(played["errors"], [], played)
        self.assertGreaterEqual(played["advanced"], 4, played)
        self.assertTrue(played["lowLatencyMode"], played)
        self.assertGreater(played["partList"], 0, played)
        self.assertGreater(played["parts"], 0, f"no part loaded: {played}")
        return played

    def play_while_publishing(self, s, script, *args):
        pub = subprocess.Popen(["node", os.path.join(BROWSER_DIR, script), *args],
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE, cwd=SOURCE)
        try:
            self.wait_state(s["id"], "live", 30)
            self.wait_segments(s, 1)
            played = self.play_low_latency(s["playback_url"])
            out, err = pub.communicate(timeout=60)
        finally:
            if pub.poll() is None:
                pub.kill()
                pub.wait(timeout=10)
        self.assertEqual(pub.returncode, 0, err.decode()[-3000:])
        return played, json.loads(out.decode().strip().splitlines()[-1])

    def test_whip_publisher_plays_in_low_latency_mode(self):
        s = self.create(title="ll whip")
        played, result = self.play_while_publishing(
            s, "whip_publisher.mjs", "--url", s["whip_url"], "--key", s["key"], "--seconds", "16")
        self.assertEqual((result["status"], result["connected"]), (201, True), result)
        self.assertEqual((played["videoWidth"], played["videoHeight"]), (640, 480))
        self.assertIsNotNone(played["delay"], played)
        self.wait_state(s["id"], "ended")

    def test_mediarecorder_publisher_plays_in_low_latency_mode(self):
        s = self.create(title="ll mediarecorder")
        url = f"{s['ws_url']}?key={quote(s['key'])}&mimeType={quote(MIME['vp8'])}"
        played, result = self.play_while_publishing(
            s, "webm_publisher.mjs", "--url", url, "--mime", MIME["vp8"], "--seconds", "16")
        self.assertEqual(result["closeCode"], 1000, result)
        self.assertEqual(self.wait_state(s["id"], "ended")["pipeline"], "transcode")

    def test_abr_stream_switches_rungs(self):
        kind = abr_recording("h264", 854, 480, seconds=20)
        s = self.create(title="ll abr", pipeline="abr")
        pub = Publisher(self.launcher.port, s, kind, seconds=20)
        pub.start()
        try:
            master = wait_for(lambda: (lambda r: r[2].decode() if r[0] == 200
                                       and b"#EXT-X-STREAM-INF" in r[2] else None)(
                self.get(f"/live/{s['id']}/index.m3u8")), 30)
            self.assertTrue(master, "no master playlist")
            rungs = [uri.split("/")[0] for _, uri in stream_inf(master)]
            self.assertGreaterEqual(len(rungs), 2, master)
            for rung in rungs:
                pl = self.wait_segments(s, 1, rung=rung)
                self.assertEqual(validate(pl), [], rung)
            low = len(rungs) - 1
            played = self.play_low_latency(s["playback_url"], "--level", str(low))
            self.assertEqual(played["switched"][-1], low, played)
        finally:
            self.assertEqual(pub.finish(), 1000)


if __name__ == "__main__":
    unittest.main(verbosity=2)
