"""Adaptive bitrate (pipeline "abr") end to end: a ladder of rungs below the
input and a master playlist, checked with ffprobe (sizes, bitrates,
keyframe-aligned segments, program dates), served or in a bucket
(s3rver); abr_default; a stream without video refused. hls.js switching
levels and a WHIP ladder: test_launcher_browser.py (AbrBrowserTest); abr
recordings: test_launcher_recordings.py (AbrRecordingTest).

Standard library only. Shared fixtures: launchercase.py.
Environment (meson sets it): CASTLINE_BUILD_DIR, CASTLINE_SOURCE_DIR,
CASTLINE_PRELOAD (sanitizer runtime, optional).
Run by hand: /usr/bin/python3 tests/integration/test_launcher_abr.py [-k PATTERN]
Every wait is bounded.
"""
import json
import os
import subprocess
import sys
import time
import unittest
import urllib.request

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from launcherproc import MIME, Launcher, ffprobe, quote, wait_for  # noqa: E402
from wsclient import WsClient  # noqa: E402
from launchercase import (  # noqa: E402
    RECORDINGS, LauncherCase, Publisher, S3Case, abr_recording, first_video_pts, recording,
    s3_settings, segment_ext, stream_inf)
from launchercase import setUpModule, tearDownModule  # noqa: E402,F401 (module fixture)


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
        ext = segment_ext(url_of(want[0][0], "index.m3u8"))
        for n in (1, 2, 3):
            pts = [first_video_pts(url_of(rung, f"segment{n:05d}{ext}")) for rung, _, _ in want]
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

    def test_vp8_without_mime_type_is_transcoded_into_every_rung(self):
        # no mimeType: the recording's header, not a guess from the
        # pipeline (H.264 first), says VP8
        kind = abr_recording("vp8", 640, 480)
        s = self.create(title="abr vp8", pipeline="abr")
        self.publish(s, kind, mime="")
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

    def test_no_video_is_refused_before_going_live(self):
        # the recording's header says there is no video: refused with 1003
        # and the reason, whether a mimeType promised video or none was given
        s = self.create(title="abr no video", pipeline="abr")
        for mime, want in [(MIME["vp8"], "no video"), ("", "video none")]:
            ws = WsClient(self.launcher.port, f"/ingest/{s['id']}?key={quote(s['key'])}"
                          + (f"&mimeType={quote(mime)}" if mime else ""))
            self.addCleanup(ws.close)
            ws.send_binary(RECORDINGS["opus"][:16384])
            code, reason = ws.wait_close()
            self.assertEqual(code, 1003, reason)
            self.assertIn(want, reason)
        self.assertEqual(self.launcher.api("GET", f"/api/streams/{s['id']}")[1]["state"], "created")



class ShortAbrTest(LauncherCase):
    """A stream that ends while its ladder is being built: its EOS does not
    reach the rungs' sinks; the stream must still leave `live`, within
    shutdown_timeout."""
    settings = {"shutdown_timeout": 3}

    def test_a_one_second_stream_does_not_stay_live(self):
        name = recording("vp8-480p-1s", "vp8", 1, (640, 480))
        s = self.create(title="abr 1 s", pipeline="abr")
        self.publish(s, name)
        state = lambda: self.launcher.api("GET", f"/api/streams/{s['id']}")[1]["state"]  # noqa: E731
        self.assertTrue(wait_for(lambda: state() != "live", 20),
                        "still live 20 s after its publisher stopped")
        self.assertIn(state(), ("ended", "failed"))


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



class AbrS3Test(AbrMixin, S3Case):
    """abr into a bucket: the master at <prefix><id>/index.m3u8, each rung
    under <prefix><id>/<rung>/."""

    def test_master_and_rungs_in_the_bucket(self):
        kind = abr_recording("h264", 1280, 720)
        launcher = Launcher(self.dir, s3=s3_settings(self.s3)).start()
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


if __name__ == "__main__":
    unittest.main(verbosity=2)
