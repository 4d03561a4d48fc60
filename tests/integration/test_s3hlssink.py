"""s3hlssink against a real S3 server (s3rver) with real gst-launch-1.0 runs.

Standard library only. Environment (meson sets it, see meson.build):
  CASTLINE_BUILD_DIR   the build tree; the plugin is in <it>/gst-plugins
  CASTLINE_SOURCE_DIR  the source tree; s3rver is <it>/node_modules/.bin/s3rver
  CASTLINE_PRELOAD     the sanitizer runtime to preload into gst-launch-1.0
                       when the plugin is built with sanitizers (optional)
Run by hand: python3 tests/integration/test_s3hlssink.py [-k PATTERN]
Every wait is bounded: subprocess and HTTP time-outs, and polls of the
condition waited for (segments in the bucket, uploads resumed) with a
deadline (launcherproc.wait_for), so a slow machine gets the time it needs
and a fast one none more. The few fixed sleeps left are not waits: each
makes S3 stay away for a set time (the outage being simulated) or gives
the pipeline time to do what it must not (end while S3 is away).
"""
import http.client
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
import unittest
import xml.etree.ElementTree as ET

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from s3rver import S3rver, free_port  # noqa: E402
from gstlaunch import SOURCE, Launch, gst_env, require_tools  # noqa: E402
from launcherproc import wait_for  # noqa: E402

SECRET = "S3RVER-secret-must-not-leak"   # s3rver checks only the access key id
TOKEN = "S3RVER-token-must-not-leak"

PLAYLIST_TYPE = "application/vnd.apple.mpegurl"
SEGMENT_TYPE = "video/mp2t"
PLAYLIST_CACHE = "max-age=1"                        # the element's defaults
SEGMENT_CACHE = "max-age=31536000, immutable"

VIDEO = ("videotestsrc is-live=true ! video/x-raw,width=320,height=240,framerate=30/1 ! "
         "x264enc tune=zerolatency speed-preset=ultrafast key-int-max=30 ! h264parse ! queue ! ")
AUDIO = ("audiotestsrc is-live=true volume=0.2 ! audioconvert ! avenc_aac ! aacparse ! "
         "queue ! s.audio")


def sink_args(s3, prefix, **props):
    args = {"name": "s", "bucket": s3.bucket, "key-prefix": prefix, "endpoint": s3.endpoint,
            "access-key": "S3RVER", "secret-key": SECRET, "target-duration": 1}
    args.update(props)
    return "s3hlssink " + " ".join(f"{k}={v}" for k, v in args.items()) + " "


# --- playlists ---

def playlist_names(text):
    return [l.strip() for l in text.splitlines() if l.strip() and not l.startswith("#")]


def media_sequence(text):
    m = re.search(r"^#EXT-X-MEDIA-SEQUENCE:(\d+)", text, re.M)
    return int(m.group(1)) if m else 0


def index_of(name):
    """The fragment index of segment%05d.ts."""
    m = re.fullmatch(r"(?:.*/)?segment(\d+)\.ts", name)
    if not m:
        raise AssertionError(f"unexpected segment name {name!r}")
    return int(m.group(1))


def assert_well_formed(test, text, prefix, keys):
    """The playlist names segments segment<N>.ts numbered from its
    media sequence on, consecutively, each present under prefix."""
    names = playlist_names(text)
    first = media_sequence(text)
    test.assertEqual([index_of(n) for n in names], list(range(first, first + len(names))),
                     "segments out of order or missing:\n" + text)
    missing = [n for n in names if prefix + n not in keys]
    test.assertEqual(missing, [], "the playlist names segments not in the bucket:\n" + text)
    return names


class Watcher(threading.Thread):
    """Polls the bucket every 100 ms while a pipeline runs.

    Each round fetches the playlist FIRST and lists the keys AFTER: every
    segment the fetched version names must have been in the bucket before
    that version was uploaded, so it must be in the later listing too. (It
    could only be gone if it were deleted in between, and the element deletes
    a segment only once no uploaded playlist names it, which takes
    max-files - playlist-length more segments: seconds, not the few ms between
    the two requests.) Listing first and fetching second would not be sound:
    a new playlist with a new segment could be uploaded in between.

    Torn reads (s3rver rewrites objects in place) are recognised by their
    body not matching the ETag (MD5) and skipped. Errors while s3rver is
    down are skipped."""

    def __init__(self, s3, prefix, playlist="playlist.m3u8"):
        super().__init__(daemon=True)
        self.s3, self.prefix, self.playlist = s3, prefix, playlist
        self.stop_event = threading.Event()
        self.versions = []       # (monotonic time, text), in the order seen
        self.violations = []     # (missing names, text)
        self.segments_seen = set()
        self.torn_reads = 0

    def run(self):
        while not self.stop_event.wait(0.1):
            try:
                body, headers = self.s3.get_consistent(self.prefix + self.playlist, timeout=2)
                keys = set(self.s3.keys(self.prefix, timeout=2))
            except (OSError, http.client.HTTPException, ET.ParseError):
                continue  # s3rver stopped, paused, or restarting
            self.segments_seen.update(k for k in keys if k.endswith(".ts"))
            if body is None:
                self.torn_reads += headers is not None  # else: no playlist yet
                continue
            if not body:
                # s3hlssink never uploads an empty playlist: s3rver caught
                # between truncating its file and writing it
                self.torn_reads += 1
                continue
            text = body.decode(errors="replace")
            if not self.versions or self.versions[-1][1] != text:
                self.versions.append((time.monotonic(), text))
            missing = [n for n in playlist_names(text) if self.prefix + n not in keys]
            if missing:
                self.violations.append((missing, text))

    def newest_segment(self):
        """The index of the newest segment the newest version seen names; -1
        before the first."""
        names = playlist_names(self.versions[-1][1]) if self.versions else []
        return index_of(names[-1]) if names else -1

    def stop(self):
        self.stop_event.set()
        self.join(timeout=15)

    def check(self, test, min_versions):
        test.assertEqual(self.violations[:3], [],
                         "a playlist named segments not yet in the bucket")
        test.assertGreaterEqual(len(self.versions), min_versions,
                                f"too few playlist versions seen ({self.torn_reads} torn reads)")
        # never an older playlist over a newer one: the window only moves on
        windows = []
        for _, text in self.versions:
            names = playlist_names(text)
            windows.append((media_sequence(text), index_of(names[-1]) if names else -1))
        for i, (a, b) in enumerate(zip(windows, windows[1:])):
            test.assertLessEqual(a, b, "an older playlist replaced a newer one "
                                 "(media sequence, last segment): " + str(windows)
                                 + "; the later one read:\n" + repr(self.versions[i + 1][1]))


def spool_files(directory):
    return [os.path.join(r, f) for r, _, files in os.walk(directory) for f in files]


def setUpModule():
    require_tools("ffprobe")


class S3Case(unittest.TestCase):
    def setUp(self):
        self.s3 = S3rver(SOURCE)
        self.addCleanup(self.s3.close)
        self.s3.start()

    def launch(self, pipeline, env=None, args=()):
        run = Launch(pipeline, env=env, args=args)
        self.addCleanup(run.kill)
        return run

    def watch(self, prefix):
        w = Watcher(self.s3, prefix)
        self.addCleanup(w.stop)
        w.start()
        return w

    def newest_segment(self, prefix):
        """The index of the newest segment the bucket's playlist names; -1
        with no playlist (yet), an empty one, a torn read or S3 not
        answering."""
        try:
            body, _ = self.s3.get_consistent(prefix + "playlist.m3u8", timeout=2)
        except (OSError, http.client.HTTPException):
            return -1
        names = playlist_names(body.decode(errors="replace")) if body else []
        return index_of(names[-1]) if names else -1

    def wait_uploaded(self, prefix, index, watcher=None, timeout=20):
        """Waits until the bucket's playlist names segment index or a later
        one: the pipeline runs and S3 has taken its uploads up to there.
        With a watcher: until the watcher has read that playlist, so that it
        is one of the versions the watcher checks."""
        newest = watcher.newest_segment if watcher else lambda: self.newest_segment(prefix)
        self.assertTrue(wait_for(lambda: newest() >= index, timeout),
                        f"no playlist naming segment {index} in the bucket within {timeout} s")

    def wait_resumed(self, prefix, watcher=None, timeout=20):
        """Once S3 is back: waits until the element uploads again (after its
        back-off, up to 5 s), a playlist naming a newer segment than the
        one the bucket held when S3 came back (the last before the outage)."""
        held = wait_for(lambda: self.newest_segment(prefix) + 1, 10)  # index + 1: 0 is none
        self.assertTrue(held, "no playlist in the bucket once S3 was back")
        self.wait_uploaded(prefix, held, watcher, timeout)

    def final_playlist(self, prefix):
        """The playlist as the element left it. s3rver answers a PUT before
        the body is in its file (it writes the metadata, with the new ETag,
        first): a GET right after may read an empty body or the previous
        version, so the read is repeated until the body matches its ETag."""
        def read():
            body, headers = self.s3.get_consistent(prefix + "playlist.m3u8")
            return (body, headers) if body is not None else None
        got = wait_for(read, 10)
        self.assertIsNotNone(got, "no playlist (or only torn reads of it) in the bucket")
        return got[0].decode(), got[1]

    def assert_warning_then_recovered(self, output, cause):
        m = re.search(r"^WARNING: from element \S*GstS3HlsSink:s: S3 is not answering.*\n"
                      r"Additional debug info:\n(.*\n.*)", output, re.M)
        self.assertIsNotNone(m, "no outage warning:\n" + output[-3000:])
        self.assertRegex(m.group(1), cause)
        recovered = output.find('from element "s" (element): s3hlssink-recovered')
        self.assertGreater(recovered, m.start(), "no s3hlssink-recovered message after the warning")


class LiveTest(S3Case):
    def test_live_stream_uploads_in_order_and_finishes(self):
        prefix = "live/demo/"
        watcher = self.watch(prefix)
        run = self.launch(VIDEO + sink_args(self.s3, prefix, **{
            "playlist-length": 3, "max-files": 5}) + AUDIO)
        # segments 0 to 8: more than max-files + 2, so expired ones are deleted
        self.wait_uploaded(prefix, 8, watcher, timeout=40)
        rc = run.finish()
        watcher.stop()
        self.assertEqual(rc, 0, run.output[-3000:])
        self.assertNotIn(SECRET, run.output)
        self.assertNotRegex(run.output, r"(?m)^(ERROR|WARNING): ")

        # while it ran: only uploaded segments named, never back in time
        watcher.check(self, min_versions=6)

        # at the end: the final playlist, the newest segments, no more
        final, headers = self.final_playlist(prefix)
        self.assertTrue(final.rstrip().endswith("#EXT-X-ENDLIST"), final)
        self.assertEqual(headers["content-type"], PLAYLIST_TYPE)
        self.assertEqual(headers["cache-control"], PLAYLIST_CACHE)
        keys = set(self.s3.keys(prefix))
        names = assert_well_formed(self, final, prefix, keys)
        self.assertEqual(len(names), 3, final)
        segments = sorted(k for k in keys if k.endswith(".ts"))
        self.assertEqual(keys - set(segments), {prefix + "playlist.m3u8"})
        # expired segments were deleted: more were made than are left
        self.assertGreater(len(watcher.segments_seen | set(segments)), 5 + 2,
                           "too few segments made to see deletion")
        self.assertLessEqual(len(segments), 5, f"expired segments not deleted: {segments}")
        # what is left is the newest, and the final playlist names the last one
        indices = [index_of(k) for k in segments]
        self.assertEqual(indices, list(range(indices[0], indices[0] + len(indices))), segments)
        self.assertEqual(indices[-1], index_of(names[-1]), "a newer segment than the final playlist")
        self.assertGreaterEqual(indices[-1], 8, "fewer segments than seconds streamed")
        for key in segments:
            _, seg_headers = self.s3.get(key)
            self.assertEqual(seg_headers["content-type"], SEGMENT_TYPE, key)
            self.assertEqual(seg_headers["cache-control"], SEGMENT_CACHE, key)

        probe = subprocess.run(["ffprobe", "-v", "error", "-show_streams", "-of", "json",
                                self.s3.url(prefix + "playlist.m3u8")],
                               capture_output=True, text=True, timeout=60)
        self.assertEqual(probe.returncode, 0, probe.stderr)
        streams = {(s.get("codec_type"), s.get("codec_name"))
                   for s in json.loads(probe.stdout).get("streams", [])}
        self.assertIn(("video", "h264"), streams, probe.stdout)
        self.assertIn(("audio", "aac"), streams, probe.stdout)


class OutageTest(S3Case):
    def assert_nothing_lost(self, prefix, seconds):
        final, _ = self.final_playlist(prefix)
        self.assertTrue(final.rstrip().endswith("#EXT-X-ENDLIST"), final)
        keys = set(self.s3.keys(prefix))
        names = assert_well_formed(self, final, prefix, keys)
        self.assertEqual(media_sequence(final), 0)
        # one segment per target-duration (1 s) of the run, less start-up
        self.assertGreaterEqual(len(names), seconds - 4,
                                f"fewer segments than {seconds:.1f} s of streaming:\n{final}")
        self.assertLessEqual(len(names), seconds + 2, final)
        extra = sorted(k for k in keys if k.endswith(".ts") and k[len(prefix):] not in names)
        self.assertEqual(extra, [], "segments in the bucket the final playlist does not name")

    def test_outage_restart_loses_nothing(self):
        """S3 goes away (connection refused) and comes back on the same port."""
        prefix = "outage/"
        watcher = self.watch(prefix)
        run = self.launch(VIDEO + sink_args(self.s3, prefix, **{
            "playlist-length": 0, "max-files": 0}) + AUDIO)
        self.wait_uploaded(prefix, 1, watcher)
        self.s3.stop()
        time.sleep(5)  # not a wait: the outage lasts 5 s
        self.assertIsNone(run.proc.poll(), "gst-launch-1.0 ended during the outage")
        self.s3.start()
        self.wait_resumed(prefix, watcher)
        rc = run.finish()
        watcher.stop()
        self.assertEqual(rc, 0, run.output[-3000:])
        self.assert_warning_then_recovered(run.output, r"ConnectionFailed")
        self.assertNotRegex(run.output, r"(?m)^ERROR: ")
        # few versions: none while S3 is away, and uploads resume only after
        # the element's back-off (up to 5 s) once S3 is back
        watcher.check(self, min_versions=3)
        self.assert_nothing_lost(prefix, run.ended - run.started)

    def test_hang_spools_to_disk_and_recovers(self):
        """S3 stops answering (SIGSTOP: connections hang); segments beyond
        spool-memory-limit wait in files under spool-directory."""
        prefix = "hang/"
        spool = tempfile.mkdtemp(prefix="castline-spool-test-")
        self.addCleanup(shutil.rmtree, spool, True)
        watcher = self.watch(prefix)
        run = self.launch(VIDEO + sink_args(self.s3, prefix, **{
            "playlist-length": 0, "max-files": 0, "request-timeout": 1000, "retries": 1,
            "spool-memory-limit": 200000, "spool-directory": spool}) + AUDIO)
        self.wait_uploaded(prefix, 1, watcher)
        self.s3.pause()
        paused_at = time.monotonic()
        try:
            spilled = wait_for(lambda: len(spool_files(spool)) >= 2, timeout=5)
            # not a wait: S3 hangs for 5 s in all, however soon the spool filled
            time.sleep(max(0.0, paused_at + 5 - time.monotonic()))
        finally:
            self.s3.resume()
        self.wait_resumed(prefix, watcher)
        rc = run.finish()
        watcher.stop()
        self.assertEqual(rc, 0, run.output[-3000:])
        self.assertTrue(spilled, "no segment was spooled to spool-directory during the outage")
        self.assert_warning_then_recovered(run.output, r"Timeout")
        # few versions: none while S3 is away, and uploads resume only after
        # the element's back-off (up to 5 s) once S3 is back
        watcher.check(self, min_versions=3)
        self.assert_nothing_lost(prefix, run.ended - run.started)
        self.assertEqual(spool_files(spool), [], "spool files left behind")

    def test_eos_during_outage_waits_for_s3(self):
        """EOS while S3 is down: EOS is held until S3 is back and has every
        object (within flush-timeout), then the pipeline ends cleanly."""
        prefix = "eos/"
        run = self.launch(VIDEO + sink_args(self.s3, prefix, **{
            "playlist-length": 0, "max-files": 0, "flush-timeout": 25000}) + AUDIO)
        self.wait_uploaded(prefix, 1)
        self.s3.stop()
        time.sleep(2)  # not a wait: segments made while S3 is away
        run.proc.send_signal(signal.SIGINT)
        eos_at = time.monotonic()
        time.sleep(3)  # not a wait: 3 s in which EOS must not go through
        self.assertIsNone(run.proc.poll(), "EOS went through before S3 had the objects")
        self.s3.start()
        rc = run.finish(interrupt=False, timeout=40)
        self.assertEqual(rc, 0, run.output[-3000:])
        self.assertNotRegex(run.output, r"(?m)^ERROR: ")
        self.assertIn("s3hlssink-recovered", run.output)
        self.assert_nothing_lost(prefix, eos_at - run.started)

    def test_eos_during_endless_outage_fails_after_flush_timeout(self):
        prefix = "lost/"
        run = self.launch(VIDEO + sink_args(self.s3, prefix, **{
            "playlist-length": 0, "max-files": 0, "flush-timeout": 3000}) + AUDIO)
        self.wait_uploaded(prefix, 1)
        self.s3.stop()
        time.sleep(1)  # not a wait: segments made while S3 is away
        run.proc.send_signal(signal.SIGINT)
        eos_at = time.monotonic()
        rc = run.finish(interrupt=False, timeout=40)
        waited = run.ended - eos_at
        self.assertNotEqual(rc, 0, run.output[-3000:])
        self.assertRegex(run.output, r"ERROR: from element \S*GstS3HlsSink:s: S3 did not take "
                         r"every object by the end of the stream: \d+ upload\(s\) lost")
        self.assertGreaterEqual(waited, 2.5, "did not wait for flush-timeout")
        self.assertLess(waited, 20, "waited far beyond flush-timeout")

    def test_spool_limit_is_an_error(self):
        prefix = "full/"
        run = self.launch(VIDEO + sink_args(self.s3, prefix, **{
            "playlist-length": 0, "max-files": 0, "spool-limit": 1000000}) + AUDIO)
        self.wait_uploaded(prefix, 1)
        self.s3.stop()
        rc = run.finish(interrupt=False, timeout=40)  # ends by itself
        self.assertNotEqual(rc, 0, run.output[-3000:])
        self.assertRegex(run.output, r"ERROR: from element \S*GstS3HlsSink:s: S3 upload spool "
                         r"is full")
        self.assertRegex(run.output, r"spool limit of \d+ KiB reached")


class BadInputTest(S3Case):
    def assert_refused(self, props, cause, env=None, args=(), timeout=45):
        run = self.launch(VIDEO + sink_args(self.s3, "bad/", **props).rstrip(),
                          env=env, args=args)
        rc = run.finish(interrupt=False, timeout=timeout)
        self.assertNotEqual(rc, 0, run.output[-2000:])
        m = re.search(r"^ERROR: from element \S*GstS3HlsSink:s: (.*)", run.output, re.M)
        self.assertIsNotNone(m, "no error from s3hlssink:\n" + run.output[-2000:])
        self.assertRegex(m.group(1), cause)
        self.assertNotIn(SECRET, run.output)
        self.assertNotIn(TOKEN, run.output)
        self.assertEqual(self.s3.keys("bad/"), [], "objects uploaded despite the error")
        return run.output

    def test_wrong_access_key_at_start(self):
        # a HEAD answer has no body: the check asks again with a GET to name
        # S3's own Code and Message
        self.assert_refused({"access-key": "WRONG", "session-token": TOKEN},
                            r"InvalidAccessKeyId \(HTTP 403\): The AWS Access Key Id you "
                            r"provided does not exist")

    def test_wrong_access_key_mid_stream(self):
        self.assert_refused({"access-key": "WRONG", "check-bucket": "false"},
                            r"InvalidAccessKeyId.*HTTP 403|HTTP 403.*InvalidAccessKeyId")

    def test_unknown_bucket_at_start(self):
        self.assert_refused({"bucket": "no-such-bucket"}, r"NoSuchBucket.*404|404.*NoSuchBucket")

    def test_unknown_bucket_mid_stream(self):
        self.assert_refused({"bucket": "no-such-bucket", "check-bucket": "false"},
                            r"NoSuchBucket")

    def test_unreachable_endpoint(self):
        started = time.monotonic()
        out = self.assert_refused({"endpoint": f"http://127.0.0.1:{free_port()}"},
                                  r"ConnectionFailed.*Connection refused")
        self.assertLess(time.monotonic() - started, 30, out[-2000:])

    def test_invalid_key_prefix(self):
        self.assert_refused({"key-prefix": "../x"}, r"key-prefix '\.\./x'")
        self.assert_refused({"key-prefix": "/abs"}, r"key-prefix '/abs' must not start with '/'")
        self.assert_refused({"key-prefix": "a//b/"}, r"key-prefix 'a//b/'")

    def test_invalid_location(self):
        self.assert_refused({"location": "segment.ts"}, r"location .*%d-style directive")
        self.assert_refused({"location": "a/b%05d.ts"}, r"location .*plain file name")
        self.assert_refused({"location": "seg%s.ts"}, r"location .*integer directive")

    def test_secrets_not_in_debug_log(self):
        debug = {"GST_DEBUG": "*s3*:6,castline*:9"}
        # a run that works (requests signed with the secret and the token)
        prefix = "log/"
        run = self.launch(VIDEO + sink_args(self.s3, prefix, **{"session-token": TOKEN}) + AUDIO,
                          env=debug, args=("-v",))
        self.wait_uploaded(prefix, 0)  # a playlist signed, PUT and logged
        rc = run.finish()
        self.assertEqual(rc, 0, run.output[-3000:])
        self.assertIn("castline-s3client", run.output)  # the log was on
        self.assertRegex(run.output, r"PUT \S*playlist\.m3u8")
        self.assertNotIn(SECRET, run.output)
        self.assertNotIn(TOKEN, run.output)
        # and one that fails
        out = self.assert_refused({"access-key": "WRONG", "check-bucket": "false",
                                   "session-token": TOKEN}, r"InvalidAccessKeyId",
                                  env=debug, args=("-v",))
        self.assertIn("castline-s3client", out)


class InspectTest(unittest.TestCase):
    def test_inspect_documents_and_hides_secrets(self):
        out = subprocess.run(["gst-inspect-1.0", "s3hlssink"], capture_output=True, text=True,
                             env=gst_env(), timeout=30)
        self.assertEqual(out.returncode, 0, out.stderr)
        self.assertIn("gst-launch-1.0 -e videotestsrc", out.stdout)  # the example
        self.assertRegex(out.stdout, r"SINK template: 'video'")
        self.assertRegex(out.stdout, r"SINK template: 'audio'")
        for secret in ("secret-key", "session-token"):
            m = re.search(r"^  %s +:.*?(?=^  \S)" % secret, out.stdout, re.M | re.S)
            self.assertIsNotNone(m, f"{secret} not listed")
            block = m.group(0)
            self.assertIn("Write only", block)
            self.assertNotRegex(block, r"flags: .*readable")
            self.assertNotRegex(block, r'Default: "', "a value is shown")
        stats = re.search(r"^  stats +:.*?(?=^  \S|\Z)", out.stdout, re.M | re.S).group(0)
        self.assertRegex(stats, r"flags: readable(?!, writable)")


if __name__ == "__main__":
    unittest.main(verbosity=2)
