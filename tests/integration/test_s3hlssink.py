"""s3hlssink against a real S3 server (s3rver) with real gst-launch-1.0 runs.

Environment (set by meson): CASTLINE_BUILD_DIR, CASTLINE_SOURCE_DIR, and
CASTLINE_PRELOAD (the sanitizer runtime to preload into gst-launch-1.0 when
the plugin is built with sanitizers).
"""
import http.client
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

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from s3rver import S3rver, free_port  # noqa: E402

BUILD = os.environ.get("CASTLINE_BUILD_DIR", os.path.join(os.getcwd(), "build"))
SOURCE = os.environ.get("CASTLINE_SOURCE_DIR", os.getcwd())
SECRET = "S3RVER-secret-must-not-leak"  # s3rver checks only the access key id


def gst_env(extra=None):
    env = dict(os.environ)
    env["GST_PLUGIN_PATH"] = os.path.join(BUILD, "gst-plugins")
    if os.environ.get("CASTLINE_PRELOAD"):
        env["LD_PRELOAD"] = os.environ["CASTLINE_PRELOAD"]
    env.update(extra or {})
    return env


VIDEO = ("videotestsrc is-live=true ! video/x-raw,width=320,height=240,framerate=30/1 ! "
         "x264enc tune=zerolatency speed-preset=ultrafast key-int-max=30 ! h264parse ! queue ! ")
AUDIO = "audiotestsrc is-live=true volume=0.2 ! audioconvert ! avenc_aac ! aacparse ! queue ! s.audio"


def sink_args(s3, prefix, **props):
    args = {"name": "s", "bucket": s3.bucket, "key-prefix": prefix, "endpoint": s3.endpoint,
            "access-key": "S3RVER", "secret-key": SECRET, "target-duration": 1}
    args.update(props)
    return "s3hlssink " + " ".join(f"{k}={v}" for k, v in args.items()) + " "


class Launch:
    """gst-launch-1.0 -e -m in the background, stopped with SIGINT (EOS).
    Output goes to a file: a pipe nobody reads would fill and stall it."""

    def __init__(self, pipeline, env=None):
        self.log = tempfile.TemporaryFile(mode="w+", errors="replace")
        self.proc = subprocess.Popen(["gst-launch-1.0", "-e", "-m"] + pipeline.split(),
                                     stdout=self.log, stderr=subprocess.STDOUT,
                                     env=gst_env(env))
        self.output = ""

    def finish(self, interrupt=True, timeout=60):
        if interrupt and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGINT)
        stacks = ""
        try:
            self.proc.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            if shutil.which("gdb"):  # say where it hangs
                stacks = subprocess.run(
                    ["gdb", "-p", str(self.proc.pid), "-batch", "-ex", "thread apply all bt 15"],
                    capture_output=True, text=True, timeout=60).stdout
            self.proc.kill()
            self.proc.wait()
        self.log.seek(0)
        self.output = self.log.read()
        self.log.close()
        if self.proc.returncode == -signal.SIGKILL:
            raise AssertionError("gst-launch-1.0 did not end in time:\n" + self.output[-3000:]
                                 + "\n" + stacks)
        return self.proc.returncode


def playlist_names(text):
    return [l.strip() for l in text.splitlines() if l.strip() and not l.startswith("#")]


def whole_playlist(text):
    return (text.startswith("#EXTM3U") and "#EXT-X-TARGETDURATION" in text
            and (text.endswith("\n") or text.rstrip().endswith("#EXT-X-ENDLIST")))


def media_sequence(text):
    m = re.search(r"#EXT-X-MEDIA-SEQUENCE:(\d+)", text)
    return int(m.group(1)) if m else 0


class Watcher(threading.Thread):
    """Polls the bucket: fetch the playlist, THEN list the keys, so every
    segment the fetched playlist names must already be listed. (A segment
    named by a playlist is deleted only after max-files - playlist-length
    newer playlists went up, seconds later, so the listing cannot miss one
    that was legitimately there.)"""

    def __init__(self, s3, prefix):
        super().__init__(daemon=True)
        self.s3, self.prefix = s3, prefix
        self.stop_event = threading.Event()
        self.versions, self.violations, self.sequences = set(), [], []
        self.torn_reads = 0

    def run(self):
        while not self.stop_event.wait(0.1):
            try:
                body, _ = self.s3.get(self.prefix + "playlist.m3u8", timeout=2)
                if body is None:
                    continue
                keys = set(self.s3.keys(self.prefix, timeout=2))
            except (OSError, http.client.HTTPException):
                continue  # s3rver may be writing the object as we read it
            text = body.decode(errors="replace")
            if not whole_playlist(text):
                # s3rver rewrites an object in place: a read racing the
                # write sees it empty or cut (a real S3 PUT is atomic)
                self.torn_reads += 1
                continue
            self.versions.add(text)
            self.sequences.append(media_sequence(text))
            missing = [n for n in playlist_names(text) if self.prefix + n not in keys]
            if missing:
                self.violations.append((missing, text))

    def stop(self):
        self.stop_event.set()
        self.join(timeout=10)


class S3HlsSinkTest(unittest.TestCase):
    def setUp(self):
        self.s3 = S3rver(SOURCE).start()

    def tearDown(self):
        self.s3.close()

    def test_live_stream_uploads_in_order_and_finishes(self):
        prefix = "live/demo/"
        watcher = Watcher(self.s3, prefix)
        watcher.start()
        run = Launch(VIDEO + sink_args(self.s3, prefix, **{"playlist-length": 3, "max-files": 5})
                     + AUDIO)
        time.sleep(10)
        rc = run.finish()
        watcher.stop()
        self.assertEqual(rc, 0, run.output[-3000:])
        self.assertNotIn(SECRET, run.output)

        self.assertGreaterEqual(len(watcher.versions), 5, "too few playlist versions seen")
        self.assertEqual(watcher.violations, [], "a playlist named a segment not yet in the bucket")
        self.assertEqual(watcher.sequences, sorted(watcher.sequences), "media sequence went back")

        body, headers = self.s3.get(prefix + "playlist.m3u8")
        final = body.decode()
        self.assertIn("#EXT-X-ENDLIST", final)
        self.assertEqual(headers["content-type"], "application/vnd.apple.mpegurl")
        self.assertEqual(headers["cache-control"], "max-age=1")
        keys = set(self.s3.keys(prefix))
        names = playlist_names(final)
        self.assertEqual(len(names), 3)
        for n in names:
            self.assertIn(prefix + n, keys)
        segments = sorted(k for k in keys if k.endswith(".ts"))
        self.assertLessEqual(len(segments), 5, f"expired segments not deleted: {segments}")
        self.assertGreaterEqual(media_sequence(final), 5)
        _, seg_headers = self.s3.get(prefix + names[-1])
        self.assertEqual(seg_headers["content-type"], "video/mp2t")
        self.assertEqual(seg_headers["cache-control"], "max-age=31536000, immutable")

        probe = subprocess.run(["ffprobe", "-v", "error", "-show_entries", "stream=codec_name",
                                "-of", "csv=p=0", self.s3.url(prefix + "playlist.m3u8")],
                               capture_output=True, text=True, timeout=60)
        codecs = set(probe.stdout.split())
        self.assertTrue({"h264", "aac"} <= codecs, probe.stdout + probe.stderr)

    def test_outage_loses_nothing(self):
        prefix = "outage/"
        run = Launch(VIDEO + sink_args(self.s3, prefix, **{
            "playlist-length": 0, "max-files": 0, "request-timeout": 1000, "retries": 1}) + AUDIO)
        time.sleep(4)
        self.s3.stop()
        time.sleep(5)
        self.s3.start()
        time.sleep(5)
        rc = run.finish()
        self.assertEqual(rc, 0, run.output[-3000:])
        self.assertRegex(run.output, r"WARNING: from element .*S3 is not answering")
        self.assertIn("s3hlssink-recovered", run.output)

        body, _ = self.s3.get(prefix + "playlist.m3u8")
        final = body.decode()
        self.assertIn("#EXT-X-ENDLIST", final)
        names = playlist_names(final)
        numbers = [int(re.search(r"(\d+)", n).group(1)) for n in names]
        self.assertEqual(numbers, list(range(len(numbers))), "segments missing or out of order")
        self.assertGreaterEqual(len(names), 11, "fewer segments than seconds streamed")
        keys = set(self.s3.keys(prefix))
        for n in names:
            self.assertIn(prefix + n, keys, f"{n} named in the playlist but lost")

    def assert_refused(self, props, cause, extra_env=None):
        run = Launch(VIDEO + sink_args(self.s3, "bad/", **props).rstrip(), env=extra_env)
        rc = run.finish(interrupt=False, timeout=45)
        self.assertNotEqual(rc, 0, run.output[-2000:])
        self.assertRegex(run.output, r"ERROR: from element .*s3hlssink|ERROR: from element .*GstS3HlsSink")
        self.assertRegex(run.output, cause)
        self.assertNotIn(SECRET, run.output)
        return run.output

    def test_wrong_credentials(self):
        self.assert_refused({"access-key": "WRONG"}, r"HTTP 403")

    def test_wrong_credentials_mid_stream(self):
        self.assert_refused({"access-key": "WRONG", "check-bucket": "false"},
                            r"InvalidAccessKeyId")

    def test_unknown_bucket(self):
        self.assert_refused({"bucket": "no-such-bucket"}, r"NoSuchBucket")

    def test_unreachable_endpoint(self):
        out = self.assert_refused({"endpoint": f"http://127.0.0.1:{free_port()}", "retries": 1},
                                  r"ConnectionFailed")
        self.assertIn("Connection refused", out)

    def test_invalid_key_prefix(self):
        self.assert_refused({"key-prefix": "../x/"}, r"key-prefix")
        self.assert_refused({"key-prefix": "/abs/"}, r"must not start with '/'")

    def test_invalid_location(self):
        self.assert_refused({"location": "segment.ts"}, r"%d-style directive")
        self.assert_refused({"location": "a/b%05d.ts"}, r"plain file name")

    def test_secret_not_in_debug_log(self):
        out = self.assert_refused({"access-key": "WRONG", "check-bucket": "false"},
                                  r"InvalidAccessKeyId",
                                  extra_env={"GST_DEBUG": "*s3*:9,castline*:9"})
        self.assertIn("castline-s3client", out)  # the log was on
        self.assertNotIn(SECRET, out)

    def test_inspect_documents_and_hides_secrets(self):
        out = subprocess.run(["gst-inspect-1.0", "s3hlssink"], capture_output=True, text=True,
                             env=gst_env(), timeout=30)
        self.assertEqual(out.returncode, 0, out.stderr)
        self.assertIn("gst-launch-1.0 -e videotestsrc", out.stdout)
        for secret in ("secret-key", "session-token"):
            block = re.search(r"^  %s +:.*?(?=^  \S)" % secret, out.stdout,
                              re.M | re.S).group(0)
            self.assertIn("Write only", block)
            self.assertNotIn("readable", block)


if __name__ == "__main__":
    unittest.main(verbosity=2)
