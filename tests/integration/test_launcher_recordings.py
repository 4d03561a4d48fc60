"""Recordings end to end: a recorded stream keeps every segment and ends
with vod.m3u8 (listed, announced by a recording.ready webhook, played to
the end by hls.js in Chromium, hence the meson suite browser too), an
MP4 of the whole stream (record_mp4), a VOD per rung of an abr stream,
and a recording in a bucket (s3rver).

Standard library only. Shared fixtures: launchercase.py.
Environment (meson sets it): CASTLINE_BUILD_DIR, CASTLINE_SOURCE_DIR,
CASTLINE_PRELOAD (sanitizer runtime, optional).
Run by hand: /usr/bin/python3 tests/integration/test_launcher_recordings.py [-k PATTERN]
Every wait is bounded.
"""
import json
import os
import sys
import time
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from launcherproc import Launcher, ffprobe, wait_for  # noqa: E402
from launchercase import (  # noqa: E402
    LauncherCase, Publisher, S3Case, WebhookCase, abr_recording, node, recording, stream_inf)
from launchercase import setUpModule, tearDownModule  # noqa: E402,F401 (module fixture)


def playlist_entries(text):
    """[(uri, seconds)] of a media playlist, in order."""
    entries, duration = [], None
    for line in text.splitlines():
        if line.startswith("#EXTINF:"):
            duration = float(line[8:].split(",")[0])
        elif line and not line.startswith("#"):
            entries.append((line, duration))
    return entries



def segment_names(playlist, count):
    """segment00000 ... of count segments, with the extension a media
    playlist's segments have: .m4s after an EXT-X-MAP (fMP4, LL-HLS),
    else .ts"""
    ext = ".m4s" if "#EXT-X-MAP:" in playlist else ".ts"
    return [f"segment{i:05d}{ext}" for i in range(count)]


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
    recording("h264long", "h264", seconds=RECORDED_SECONDS)



class RecordingMixin:
    def check_vod(self, vod_text, live_text, exists):
        """vod.m3u8 lists every segment from 0 with the live playlist's
        durations for those both name; returns its entries"""
        self.assertEqual(playlist_tag(vod_text, "#EXT-X-PLAYLIST-TYPE"), "VOD", vod_text)
        self.assertEqual(vod_text.rstrip().splitlines()[-1], "#EXT-X-ENDLIST", vod_text)
        self.assertEqual(playlist_tag(vod_text, "#EXT-X-MEDIA-SEQUENCE"), "0")
        vod = playlist_entries(vod_text)
        self.assertEqual([u for u, _ in vod], segment_names(vod_text, len(vod)), vod_text)
        live = playlist_entries(live_text)
        self.assertNotEqual(live[0][0], segment_names(vod_text, 1)[0],
                            "the live playlist did not roll")
        self.assertLess(len(live), len(vod))
        self.assertEqual([u for u, _ in vod[-len(live):]], [u for u, _ in live])
        for (_, d_vod), (_, d_live) in zip(vod[-len(live):], live):
            self.assertAlmostEqual(d_vod, d_live, delta=0.002)
        target = int(playlist_tag(vod_text, "#EXT-X-TARGETDURATION"))
        self.assertGreaterEqual(target, max(d for _, d in vod))
        # (durations are written to the millisecond, the target from
        # nanoseconds: a 2.0004 s segment is "2.000" under a target of 3)
        self.assertLess(target - 1, max(d for _, d in vod) + 0.001,
                        "the target duration is not rounded up")
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
        playlist = self.playlist(s)
        live = playlist_entries(playlist)
        first = segment_names(playlist, 1)[0]
        self.assertNotEqual(live[0][0], first)
        d = os.path.join(self.dir, "data", "live", s["id"])
        segments = sorted(f for f in os.listdir(d) if f.endswith((".ts", ".m4s")))
        self.assertLessEqual(len(segments), RECORDING_HLS["max_files"], segments)
        self.assertNotIn(first, segments, "an old segment was kept")
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
        self.assertEqual(self.launcher.request("PUT", f"/api/streams/{s['id']}/recordings")[0], 405)
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
        self.assertEqual([u for u, _ in segs], segment_names(rung.decode(), len(segs)))
        self.assertIn("#EXT-X-PLAYLIST-TYPE:VOD", rung.decode())
        self.assertAlmostEqual(recs[1]["duration"], sum(d for _, d in segs), delta=0.01)
        info = ffprobe(base + "/vod.m3u8")
        self.assertAlmostEqual(float(info["format"]["duration"]), 10, delta=1.5)



class S3RecordingTest(RecordingMixin, S3Case):
    """With S3 output (and config "record": true), vod.m3u8 goes to the
    stream's prefix next to its segments, which all stay."""

    def setUp(self):
        long_recording()
        super().setUp()

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


if __name__ == "__main__":
    unittest.main(verbosity=2)
