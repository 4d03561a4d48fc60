"""Thumbnails end to end: a live RTMP stream (ffmpeg, H.264 with B-frames
passed through, a moving test picture) gets /live/{id}/thumbnail.jpg, a
JPEG of its keyframes at most every thumbnails.interval (5) seconds,
served with a short cache lifetime, written atomically beside its
playlist, kept once it ended; an audio-only stream has none (404); with
S3 output it is uploaded beside the playlist; the dashboard's row shows
it and the watch page has it as its poster (Chromium).

Prints FIGURE lines: the seconds from the publisher's start to the first
thumbnail, the seconds between changes, the thumbnail's size.
Environment (meson sets it): CASTLINE_BUILD_DIR, CASTLINE_SOURCE_DIR.
Run by hand: /usr/bin/python3 tests/integration/test_launcher_thumbnails.py [-k PATTERN]
Every wait is bounded.
"""
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
import unittest
import urllib.error
import urllib.request

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import ffmpegpublisher  # noqa: E402
import launchercase  # noqa: E402
from gstlaunch import gst_env  # noqa: E402
from launcherproc import Launcher, wait_for  # noqa: E402
from launchercase import KeyedCase, LauncherCase, S3Case, node, s3_settings  # noqa: E402

SECONDS = 30          # the live input: long enough for three thumbnails
INTERVAL = 5          # thumbnails.interval's default
INPUT = None          # H.264 (B-frames, 2 s GOPs) + AAC, SECONDS (setUpModule)
BUILD = os.environ.get("CASTLINE_BUILD_DIR") or os.path.join(
    os.path.dirname(os.path.abspath(__file__)), "..", "..", "build")
ARTIFACTS = os.path.join(BUILD, "tests", "artifacts")


def setUpModule():
    global INPUT
    launchercase.WORK = tempfile.mkdtemp(prefix="castline-thumbnail-test-")
    INPUT = ffmpegpublisher.make_input(os.path.join(launchercase.WORK, "input.mp4"), SECONDS,
                                       preset="veryfast")


def tearDownModule():
    shutil.rmtree(launchercase.WORK, ignore_errors=True)


def get(url, timeout=10):
    """(status, headers, body) of a GET, whatever the status."""
    try:
        with urllib.request.urlopen(url, timeout=timeout) as r:
            return r.status, r.headers, r.read()
    except urllib.error.HTTPError as e:
        return e.code, e.headers, e.read()


def jpeg_size(test, data, directory):
    """data is one whole JPEG (SOI ... EOI) that GStreamer decodes: its
    (width, height) as jpegdec's caps say."""
    test.assertEqual(data[:2], b"\xff\xd8", "no JPEG SOI marker")
    test.assertEqual(data[-2:], b"\xff\xd9", "no JPEG EOI marker: cut short")
    path = os.path.join(directory, "probe.jpg")
    with open(path, "wb") as f:
        f.write(data)
    out = subprocess.run(["gst-launch-1.0", "-v", "filesrc", f"location={path}", "!", "jpegdec",
                          "!", "fakesink"], capture_output=True, timeout=30, env=gst_env())
    test.assertEqual(out.returncode, 0, out.stderr.decode())
    text = out.stdout.decode()
    w, h = re.search(r"width=\(int\)(\d+)", text), re.search(r"height=\(int\)(\d+)", text)
    test.assertTrue(w and h, text)
    return int(w.group(1)), int(h.group(1))


def publish(url, extra=()):
    return ffmpegpublisher.publish(INPUT, url, extra=extra)


class ThumbnailTest(KeyedCase):
    settings = {"rtmp": {}}

    def thumbnail(self, s):
        return self.launcher.request("GET", f"/live/{s['id']}/thumbnail.jpg")

    def test_live_stream_gets_a_thumbnail_that_changes_every_interval(self):
        s = self.create(title="thumbnails")
        self.assertEqual(s["thumbnail_url"],
                         f"http://127.0.0.1:{self.launcher.port}/live/{s['id']}/thumbnail.jpg")
        self.assertEqual(self.thumbnail(s)[0], 404, "a thumbnail before any picture")
        t0 = time.monotonic()
        pub = publish(s["rtmp_url"])
        self.addCleanup(ffmpegpublisher.finish, pub, 10, True)
        first = wait_for(lambda: (lambda r: r if r[0] == 200 else None)(self.thumbnail(s)), 20, 0.2)
        self.assertTrue(first, "no thumbnail within 20 s of the publisher's start")
        print(f"\nFIGURE thumbnail_first_seconds={time.monotonic() - t0:.1f}")
        status, hdrs, body = first
        self.assertEqual(hdrs.get("Content-Type"), "image/jpeg")
        self.assertEqual(hdrs.get("Cache-Control"), "max-age=5")
        self.assertEqual(jpeg_size(self, body, self.dir), (320, 240))
        print(f"FIGURE thumbnail_bytes={len(body)}")

        # what a viewer polling it sees: new bytes every interval, never sooner
        changes, last, deadline = [], body, time.monotonic() + 2.4 * INTERVAL
        while time.monotonic() < deadline:
            status, _, now = self.thumbnail(s)
            self.assertEqual(status, 200)
            self.assertEqual(now[-2:], b"\xff\xd9", "a thumbnail read half written")
            if now != last:
                changes.append(time.monotonic())
                last = now
            time.sleep(0.1)
        gaps = [b - a for a, b in zip(changes, changes[1:])]
        print(f"FIGURE thumbnail_changes={len(changes)} "
              f"thumbnail_gaps_seconds={','.join(f'{g:.1f}' for g in gaps)}")
        self.assertGreaterEqual(len(changes), 2, "the picture did not change every interval")
        self.assertTrue(all(g > INTERVAL - 1.0 for g in gaps), f"changed sooner than every "
                        f"{INTERVAL} s: {gaps}")
        self.assertEqual(jpeg_size(self, last, self.dir), (320, 240))
        live_dir = os.path.join(self.dir, "data", "live", s["id"])
        leftovers = [n for n in os.listdir(live_dir) if n.startswith("thumbnail") and n != "thumbnail.jpg"]
        self.assertEqual(leftovers, [], "temporary files left beside the thumbnail")

        # the pages, while live
        r = node("thumbnails.mjs", "--base", f"http://127.0.0.1:{self.launcher.port}",
                 "--id", s["id"], "--artifacts", ARTIFACTS)
        print("screenshots:", *r["screenshots"])
        self.assertEqual(r["errors"], [], r)
        self.assertEqual((r["dashboard"]["width"], r["dashboard"]["height"]), (320, 240), r)
        self.assertGreater(r["dashboard"]["shown"], 0, r)
        self.assertIn(f"/live/{s['id']}/thumbnail.jpg?", r["refreshedSrc"])
        self.assertNotEqual(r["refreshedSrc"], r["dashboard"]["src"], "the row's picture never asked again")
        self.assertIn(f"/live/{s['id']}/thumbnail.jpg?", r["poster"])
        self.assertEqual(r["posterSize"], [320, 240], r)

        # ended: the last picture stays, for the recording's page
        status, _ = self.launcher.api("DELETE", f"/api/streams/{s['id']}")
        self.assertIn(status, (200, 202))
        self.wait_state(s["id"], "ended")
        status, _, kept = self.thumbnail(s)
        self.assertEqual(status, 200, "the ended stream's last thumbnail is gone")
        self.assertEqual(kept[:2], b"\xff\xd8")

    def test_decoding_graphs_give_their_decoded_picture(self):
        # transcode (VP8 in) and abr (H.264 in) decode the video anyway:
        # the thumbnail is one of their pictures (video_raw), kept once ended
        for kind, pipeline in (("vp8", "transcode"), ("h264", "abr")):
            with self.subTest(pipeline=pipeline):
                s = self.create(title=pipeline, pipeline=pipeline)
                self.publish(s, launchercase.recording(kind, kind))
                got = self.wait_state(s["id"], "ended", 30)
                self.assertEqual(got["pipeline"], pipeline)
                status, hdrs, body = self.thumbnail(s)
                self.assertEqual(status, 200, f"no thumbnail of the {pipeline} graph")
                self.assertEqual(jpeg_size(self, body, self.dir), (320, 240))

    def test_audio_only_stream_has_no_thumbnail(self):
        s = self.create(title="radio")
        pub = publish(s["rtmp_url"], extra=("-vn", "-t", "8"))
        self.addCleanup(ffmpegpublisher.finish, pub, 10, True)
        got = self.wait_state(s["id"], "live", 15)
        self.assertEqual(got["pipeline"], "audio-only")
        time.sleep(3)            # a video stream has its first thumbnail by now
        status, _, _ = self.thumbnail(s)
        self.assertEqual(status, 404, "an audio-only stream has a thumbnail")
        self.assertFalse(os.path.exists(os.path.join(self.dir, "data", "live", s["id"],
                                                     "thumbnail.jpg")))


class ThumbnailsOffTest(KeyedCase):
    settings = {"rtmp": {}, "thumbnails": {"interval": 0}}

    def test_no_thumbnail_when_off(self):
        s = self.create(title="no thumbnails")
        self.assertIsNone(s["thumbnail_url"])
        pub = publish(s["rtmp_url"], extra=("-t", "6"))
        self.addCleanup(ffmpegpublisher.finish, pub, 10, True)
        self.wait_state(s["id"], "live", 15)
        self.assertTrue(wait_for(lambda: self.launcher.request(
            "GET", f"/live/{s['id']}/index.m3u8")[0] == 200, 15), "no HLS")
        self.assertEqual(self.launcher.request("GET", f"/live/{s['id']}/thumbnail.jpg")[0], 404)


class S3ThumbnailTest(S3Case):
    """With S3 output the thumbnail is uploaded beside the playlist."""

    def test_thumbnail_beside_the_playlist_in_the_bucket(self):
        launcher = Launcher(self.dir, rtmp={}, s3=s3_settings(self.s3)).start()
        case = LauncherCase()
        case.launcher = launcher
        try:
            s = case.create(title="to s3")
            self.assertEqual(s["thumbnail_url"], s["playback_url"].replace("index.m3u8", "thumbnail.jpg"))
            self.assertEqual(s["thumbnail_url"], self.s3.url(f"streams/{s['id']}/thumbnail.jpg"))
            pub = publish(s["rtmp_url"], extra=("-t", "8"))
            self.addCleanup(ffmpegpublisher.finish, pub, 10, True)
            # s3rver writes an object, then its metadata: a GET between the
            # two has the object with S3's default headers (a ci29 run got
            # binary/octet-stream). Cache-Control comes with the metadata
            got = wait_for(lambda: (lambda r: r if r[0] == 200 and r[1].get("Cache-Control")
                                    else None)(get(s["thumbnail_url"])), 25, 0.3)
            self.assertTrue(got, "no thumbnail with its headers in the bucket")
            _, hdrs, body = got
            self.assertEqual(hdrs.get("Content-Type"), "image/jpeg")
            self.assertEqual(hdrs.get("Cache-Control"), "max-age=5")
            self.assertEqual(jpeg_size(self, body, self.dir), (320, 240))
            self.assertTrue(wait_for(lambda: get(s["playback_url"])[0] == 200, 20),
                            "no playlist beside it")
            self.assertFalse(os.path.exists(os.path.join(self.dir, "data", "live", s["id"],
                                                         "thumbnail.jpg")), "also written locally")
            case.wait_state(s["id"], "ended", 30)
        finally:
            self.assertEqual(launcher.stop(), 0)


if __name__ == "__main__":
    unittest.main(verbosity=2)
