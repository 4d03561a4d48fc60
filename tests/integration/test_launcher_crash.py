"""A daemon killed (SIGKILL) in the middle of a recorded stream, started
again on the same data_dir: the stream is settled as a lost publisher's
session would have been. Its live playlist ends with #EXT-X-ENDLIST, the
crashed session's recording (vod.m3u8, recording.mp4 with record_mp4) is
written from the segments the daemon had closed (all but the one being
written), readable by ffprobe, and the stream is `interrupted` with a
reason saying the daemon stopped unexpectedly, for a whole
reconnect_window: its publisher coming back resumes it (live again, a
new session, recorded on its own), else it ends when the window passes,
with the reason. The webhooks say so: stream.interrupted, recording.ready,
then stream.resumed or stream.ended. The same with S3 output (s3rver):
the bucket's playlist ended, the VOD uploaded; with the bucket
unreachable at start, the daemon serves at once, refuses the publisher
until the bucket is settled in the background, then resumes it.

Standard library only. Shared fixtures: launchercase.py.
Environment (meson sets it): CASTLINE_BUILD_DIR, CASTLINE_SOURCE_DIR,
CASTLINE_PRELOAD (sanitizer runtime, optional).
Run by hand: /usr/bin/python3 tests/integration/test_launcher_crash.py [-k PATTERN]
Every wait is bounded.
"""
import json
import os
import sys
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from launcherproc import MIME, Launcher, ffprobe, quote, wait_for  # noqa: E402
from wsclient import WsClient  # noqa: E402
from launchercase import (  # noqa: E402
    LauncherCase, S3Case, WebhookReceiver, abr_recording, case_dir, recording)
from launchercase import setUpModule, tearDownModule  # noqa: E402,F401 (module fixture)

SECONDS = 10
# 1 s segments cut at the recording's keyframes (every 2 s)
HLS = {"target_duration": 1, "playlist_length": 2, "max_files": 2}
UNEXPECTED = "the daemon stopped unexpectedly while the stream was live"
WINDOW = 30           # reconnect_window when the publisher comes back
SHORT_WINDOW = 3      # when nobody does
GONE = f"the publisher did not come back within {SHORT_WINDOW} s"


def segments_of(text):
    return [line for line in text.splitlines() if line and not line.startswith("#")]


class CrashMixin:
    def go_live_and_kill(self, launcher, closed, kind=None, **body):
        """A recorded stream published without a stop; the daemon is killed
        once closed(stream), the segments it has closed, is 3 or more. The
        stream."""
        case = LauncherCase()
        case.launcher = launcher
        s = case.create(title="killed", record=True, **body)
        ws = case.publish(s, kind or recording("h264long", "h264", seconds=SECONDS), pace=0.01,
                          stop=False)
        case.wait_state(s["id"], "live", 10)
        self.assertTrue(wait_for(lambda: closed(s) >= 3, 30),
                        "too few segments:\n" + launcher.output())
        launcher.proc.kill()
        launcher.proc.wait(10)
        launcher.log.close()
        ws.close()
        return s

    def check_settled(self, launcher, s, receiver):
        """The stream the killed daemon left, after the next start:
        interrupted with the reason (or ended already, past a short window),
        the crashed session's recording written, and told: stream.interrupted
        with the reason first, then recording.ready with the recordings.
        Those recordings."""
        case = LauncherCase()
        case.launcher = launcher
        status, got = launcher.api("GET", f"/api/streams/{s['id']}")
        self.assertEqual(status, 200)
        self.assertIn((got["state"], got.get("reason")),
                      [("interrupted", UNEXPECTED), ("ended", GONE)], got)
        recs = wait_for(lambda: launcher.api("GET", f"/api/streams/{s['id']}/recordings")[1]
                        ["recordings"], 30)
        self.assertTrue(recs, "no recording:\n" + launcher.output())
        got = wait_for(lambda: (e := self.events(receiver, s)) and "recording.ready" in [
            x["type"] for x in e] and e, 30)
        self.assertTrue(got, "no recording.ready: %r" % (receiver.received(),))
        types = [e["type"] for e in got if e["type"] != "stream.ended"]
        self.assertEqual(types, ["stream.interrupted", "recording.ready"])
        self.assertEqual(got[0]["stream"]["reason"], UNEXPECTED)
        ready = next(e for e in got if e["type"] == "recording.ready")
        by_url = lambda r: r["url"]  # noqa: E731
        self.assertEqual(sorted(ready["recordings"], key=by_url), sorted(recs, key=by_url))
        self.assertNotIn("CRITICAL", launcher.output())
        return recs

    @staticmethod
    def events(receiver, s):
        """the webhooks of stream s about its state and recordings, in order"""
        got = [json.loads(b) for _, b in receiver.received()]
        return [e for e in got if e["stream"]["id"] == s["id"] and e["type"] in (
            "stream.interrupted", "stream.resumed", "stream.ended", "recording.ready")]

    def check_gone(self, launcher, s, receiver):
        """Nobody came back: ended with the reason once the short window
        passed, told once."""
        case = LauncherCase()
        case.launcher = launcher
        self.assertEqual(case.wait_state(s["id"], "ended", SHORT_WINDOW + 10)["reason"], GONE)
        ended = [e for e in self.events(receiver, s) if e["type"] == "stream.ended"]
        self.assertEqual([e["stream"]["reason"] for e in ended], [GONE])


class CrashLocalTest(CrashMixin, unittest.TestCase):
    def setUp(self):
        self.dir = case_dir()
        self.receiver = WebhookReceiver()
        self.addCleanup(self.receiver.stop)
        self.settings = {"hls": HLS, "record_mp4": True, "idle_timeout": 30,
                         "reconnect_window": WINDOW, "webhooks": {"urls": [self.receiver.url]}}

    def test_killed_stream_resumes_after_the_restart_each_session_recorded(self):
        folder = lambda s: os.path.join(self.dir, "data", "live", s["id"])  # noqa: E731
        segment_files = lambda s: sorted(f for f in os.listdir(folder(s))  # noqa: E731
                                         if f.endswith((".ts", ".m4s")))
        first = Launcher(self.dir, **self.settings).start()
        try:
            # the newest segment file is still being written
            s = self.go_live_and_kill(first, lambda s: len(segment_files(s)) - 1)
        finally:
            first.stop()
        on_disk = len(segment_files(s))
        with open(os.path.join(folder(s), "index.m3u8")) as f:
            self.assertNotIn("#EXT-X-ENDLIST", f.read(), "the kill came after the end")

        launcher = Launcher(self.dir, **self.settings).start()
        try:
            with open(os.path.join(folder(s), "index.m3u8")) as f:
                live = f.read()
            self.assertEqual(live.rstrip().splitlines()[-1], "#EXT-X-ENDLIST", live)
            recs = self.check_settled(launcher, s, self.receiver)
            self.assertEqual([r["kind"] for r in recs], ["hls", "mp4"], recs)
            with open(os.path.join(folder(s), "vod.m3u8")) as f:
                vod = f.read()
            uris = segments_of(vod)
            # at most the segment being written is lost
            self.assertGreaterEqual(len(uris), max(3, on_disk - 1), vod)
            ext = ".m4s" if "#EXT-X-MAP:" in vod else ".ts"
            self.assertEqual(uris, [f"segment{i:05d}{ext}" for i in range(len(uris))])
            self.assertEqual(vod.rstrip().splitlines()[-1], "#EXT-X-ENDLIST")
            self.assertEqual(recs[0]["segments"], len(uris))
            info = ffprobe(recs[0]["url"])
            self.assertEqual(sorted(st["codec_name"] for st in info["streams"]), ["aac", "h264"])
            self.assertAlmostEqual(float(info["format"]["duration"]), recs[0]["duration"],
                                   delta=1.0)
            self.assertNotIn("error", recs[1])
            info = ffprobe(os.path.join(folder(s), "recording.mp4"))
            self.assertAlmostEqual(float(info["format"]["duration"]), recs[0]["duration"],
                                   delta=1.0)
            self.assertFalse(os.path.exists(os.path.join(self.dir, "data", "recording-journal",
                                                         s["id"])), "the journal is left")

            # its publisher comes back within the window: live again, session 2
            case = LauncherCase()
            case.launcher = launcher
            started = launcher.api("GET", f"/api/streams/{s['id']}")[1]["started_at"]
            case.publish(s, recording("h264long", "h264", seconds=SECONDS), pace=0.01)
            ended = case.wait_state(s["id"], "ended", 30)
            self.assertNotIn("reason", ended)
            self.assertEqual(ended["started_at"], started)
            got = wait_for(lambda: (e := self.events(self.receiver, s))
                           and len(e) == 5 and e, 30)
            self.assertEqual([e["type"] for e in got or self.events(self.receiver, s)],
                             ["stream.interrupted", "recording.ready", "stream.resumed",
                              "stream.ended", "recording.ready"])
            # each session recorded on its own
            recs = launcher.api("GET", f"/api/streams/{s['id']}/recordings")[1]["recordings"]
            self.assertEqual(sorted(r["url"].rsplit("/", 1)[1] for r in recs),
                             ["recording.mp4", "s2-recording.mp4", "s2-vod.m3u8", "vod.m3u8"])
            with open(os.path.join(folder(s), "index.m3u8")) as f:
                live = f.read()
            self.assertTrue(all(u.startswith("s2-") for u in segments_of(live)), live)
            info = ffprobe(os.path.join(folder(s), "s2-vod.m3u8"))
            self.assertAlmostEqual(float(info["format"]["duration"]), SECONDS, delta=1.5)
        finally:
            self.assertEqual(launcher.stop(), 0)
        # settled once: a third start tells nothing again
        again = Launcher(self.dir, **self.settings).start()
        try:
            before = len(self.receiver.received())
            case = LauncherCase()
            case.launcher = again
            self.assertNotIn("reason", case.wait_state(s["id"], "ended", 5))
            self.assertEqual(len(self.receiver.received()), before)
        finally:
            self.assertEqual(again.stop(), 0)


class CrashAbrTest(CrashMixin, unittest.TestCase):
    def test_killed_abr_stream_ends_its_rung_playlists(self):
        receiver = WebhookReceiver()
        self.addCleanup(receiver.stop)
        directory = case_dir()
        settings = {"hls": HLS, "idle_timeout": 30, "reconnect_window": SHORT_WINDOW,
                    "webhooks": {"urls": [receiver.url]}}
        first = Launcher(directory, **settings).start()
        kind = abr_recording("h264", 640, 360)       # one rung: 360p, passed through
        try:
            s = self.go_live_and_kill(first, lambda s: len([
                f for f in os.listdir(os.path.join(directory, "data", "live", s["id"], "360p"))
                if f.endswith((".ts", ".m4s"))]) - 1 if os.path.isdir(os.path.join(
                    directory, "data", "live", s["id"], "360p")) else 0, kind, pipeline="abr")
        finally:
            first.stop()
        folder = os.path.join(directory, "data", "live", s["id"])
        launcher = Launcher(directory, **settings).start()
        try:
            self.check_settled(launcher, s, receiver)
            with open(os.path.join(folder, "360p", "index.m3u8")) as f:
                self.assertEqual(f.read().rstrip().splitlines()[-1], "#EXT-X-ENDLIST")
            with open(os.path.join(folder, "index.m3u8")) as f:
                self.assertNotIn("#EXT-X-ENDLIST", f.read(), "a master playlist was ended")
            with open(os.path.join(folder, "vod.m3u8")) as f:
                self.assertIn("360p/vod.m3u8", f.read())
            info = ffprobe(os.path.join(folder, "360p", "vod.m3u8"))
            self.assertEqual(sorted(st["codec_name"] for st in info["streams"]), ["aac", "h264"])
            self.check_gone(launcher, s, receiver)
        finally:
            self.assertEqual(launcher.stop(), 0)


class CrashS3Test(CrashMixin, S3Case):
    def killed_in_the_bucket(self, receiver):
        """(settings, stream) of a daemon killed in the middle of a
        recorded stream to S3"""
        public = f"{self.s3.endpoint}/{self.s3.bucket}"
        settings = {"hls": HLS, "idle_timeout": 30, "reconnect_window": WINDOW,
                    "webhooks": {"urls": [receiver.url]},
                    "s3": {"endpoint": self.s3.endpoint, "bucket": self.s3.bucket,
                           "access_key": "S3RVER", "secret_key": "S3RVER",
                           "key_prefix": "streams/", "public_base_url": public}}
        first = Launcher(self.dir, **settings).start()
        try:
            # a segment is uploaded once closed
            s = self.go_live_and_kill(first, lambda s: len([
                k for k in self.s3.keys(f"streams/{s['id']}/") if k.endswith(".ts")]))
        finally:
            first.stop()
        return settings, s

    def test_killed_daemon_settles_the_stream_in_the_bucket(self):
        receiver = WebhookReceiver()
        self.addCleanup(receiver.stop)
        settings, s = self.killed_in_the_bucket(receiver)
        public = settings["s3"]["public_base_url"]
        prefix = f"streams/{s['id']}/"
        launcher = Launcher(self.dir, **settings).start()
        try:
            self.check_settled(launcher, s, receiver)
            live, _ = self.s3.get(prefix + "index.m3u8")
            self.assertEqual(live.decode().rstrip().splitlines()[-1], "#EXT-X-ENDLIST")
            vod, _ = self.s3.get(prefix + "vod.m3u8")
            uris = segments_of(vod.decode())
            self.assertGreaterEqual(len(uris), 2, vod)
            keys = set(self.s3.keys(prefix))
            for uri in uris:
                self.assertIn(prefix + uri, keys)
            self.assertEqual(uris[-1], segments_of(live.decode())[-1])
            info = ffprobe(f"{public}/{prefix}vod.m3u8")
            self.assertEqual(sorted(st["codec_name"] for st in info["streams"]), ["aac", "h264"])
        finally:
            self.assertEqual(launcher.stop(), 0)

    def test_unreachable_bucket_is_settled_when_it_is_back_then_resumed(self):
        receiver = WebhookReceiver()
        self.addCleanup(receiver.stop)
        settings, s = self.killed_in_the_bucket(receiver)
        self.s3.stop()
        launcher = Launcher(self.dir, **settings).start()   # not held up by S3
        try:
            case = LauncherCase()
            case.launcher = launcher
            self.assertEqual(case.wait_state(s["id"], "interrupted", 5)["reason"], UNEXPECTED)
            self.assertTrue(wait_for(lambda: "trying again in 10 s" in launcher.output(), 30),
                            launcher.output())
            # its bucket's playlists not ended yet: its publisher must wait
            kind = recording("h264long", "h264", seconds=SECONDS)
            ws = WsClient(launcher.port, f"/ingest/{s['id']}?key={quote(s['key'])}"
                                         f"&mimeType={quote(MIME[kind])}")
            self.assertEqual(ws.status, 101)
            code, reason = ws.wait_close()
            ws.close()
            self.assertEqual(code, 1008, reason)
            self.assertIn("being finalized", reason)
            self.s3.start()
            self.check_settled(launcher, s, receiver)
            prefix = f"streams/{s['id']}/"
            live, _ = self.s3.get(prefix + "index.m3u8")
            self.assertEqual(live.decode().rstrip().splitlines()[-1], "#EXT-X-ENDLIST")
            # then it resumes: the bucket's playlist is the new session's
            case.publish(s, kind, pace=0.01)
            self.assertNotIn("reason", case.wait_state(s["id"], "ended", 30))
            live, _ = self.s3.get(prefix + "index.m3u8")
            uris = segments_of(live.decode())
            self.assertTrue(uris and all(u.startswith("s2-") for u in uris), live)
            self.assertEqual(live.decode().rstrip().splitlines()[-1], "#EXT-X-ENDLIST")
        finally:
            self.assertEqual(launcher.stop(), 0)


if __name__ == "__main__":
    unittest.main()
