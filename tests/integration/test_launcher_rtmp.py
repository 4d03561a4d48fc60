"""RTMP and RTMPS into castline-launcher with real publishers no one here
wrote: ffmpeg (`-re ... -c copy -f flv`), GStreamer's rtmp2sink and
librtmp's rtmpsink each publish H.264 + AAC; the HLS the launcher serves
lasts as long as what was sent (ffprobe), carries the publisher's own
H.264 SPS, slices and AAC frames (passed through, not re-encoded) and
plays to its end in hls.js in Chromium. RTMPS with ffmpeg against a CA the
test makes. Refusals (wrong key, unknown application, a second publisher
on a live stream), a publisher that goes silent (idle_timeout), one that
vanishes (kill -9) and resumes within the reconnect window, into abr,
a port in use. The key is never in the launcher's log. (SIGTERM with RTMP
publishers live: test_resilience_shutdown.py.)

Standard library only. Shared fixtures: launchercase.py, launcherproc.py.
Environment (meson sets it): CASTLINE_BUILD_DIR, CASTLINE_SOURCE_DIR.
Run by hand: /usr/bin/python3 tests/integration/test_launcher_rtmp.py [-k PATTERN]
Every wait is bounded.
"""
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import ffmpegpublisher  # noqa: E402
import launchercase  # noqa: E402
from gstlaunch import gst_env  # noqa: E402
from launcherproc import Launcher, ffprobe, wait_for  # noqa: E402
from s3rver import free_port  # noqa: E402
from launchercase import KeyedCase, MetricsMixin, node, stream_inf  # noqa: E402
from rtmpmedia import aac_frames, annexb_units, make_ca, slices_of, sps_of  # noqa: E402

SECONDS = 6           # what every publisher sends
INPUT = None          # an H.264 + AAC MP4 of SECONDS (setUpModule)


def setUpModule():
    global INPUT
    launchercase.WORK = tempfile.mkdtemp(prefix="castline-rtmp-test-")
    INPUT = os.path.join(launchercase.WORK, "input.mp4")
    ffmpegpublisher.make_input(INPUT, SECONDS)


def tearDownModule():
    shutil.rmtree(launchercase.WORK, ignore_errors=True)


def ffmpeg_publish(url, loop=False, extra=()):
    """ffmpeg -re publishing INPUT as it is (-c copy) to url, in the
    background; loop: for ever (until killed)."""
    return ffmpegpublisher.publish(INPUT, url, loop, extra)


def finish(proc, timeout=SECONDS + 30, kill=False):
    """Waits for a publisher (kill: SIGKILL first); its exit code and stderr."""
    return ffmpegpublisher.finish(proc, timeout, kill)


def gst_publish(sink, sent):
    """A live H.264 + AAC FLV of SECONDS (x264enc, voaacenc, flvmux
    streamable) to sink, a copy of what is sent into the file sent."""
    frames, audio_buffers = SECONDS * 30, SECONDS * 44100 // 1024
    pipeline = (
        f"flvmux name=m streamable=true ! tee name=t ! queue ! {sink} "
        f"t. ! queue ! filesink location={sent} "
        f"videotestsrc is-live=true num-buffers={frames} "
        "! video/x-raw,width=320,height=240,framerate=30/1 "
        "! x264enc tune=zerolatency speed-preset=ultrafast key-int-max=60 ! h264parse ! m. "
        f"audiotestsrc is-live=true num-buffers={audio_buffers} samplesperbuffer=1024 "
        "! audio/x-raw,rate=44100,channels=2 ! voaacenc ! aacparse ! m.")
    return subprocess.Popen(["gst-launch-1.0", "-e", "-q", *pipeline.split()],
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, env=gst_env())


class RtmpCase(KeyedCase, MetricsMixin):
    settings = {"rtmp": {}}

    def hls_url(self, stream):
        return f"http://127.0.0.1:{self.launcher.port}/live/{stream['id']}/index.m3u8"

    def assert_same_aac(self, sent, url):
        """url's AAC is what was sent: its config and its frames."""
        sent_config, sent_frames = aac_frames(sent)
        got_config, got_frames = aac_frames(url)
        self.assertEqual(got_config, sent_config, "the AAC AudioSpecificConfig changed")
        self.assertEqual(got_config[0], 2, "AAC LC")
        known = set(sent_frames)
        self.assertGreaterEqual(len(got_frames), 0.9 * len(known))
        self.assertTrue(all(f in known for f in got_frames), "an AAC frame that was not sent")

    def assert_passed_through(self, stream, sent):
        """The stream's final HLS: as long as what was sent, the sender's
        own SPS, slices and AAC frames, and it plays to its end in hls.js."""
        url = self.hls_url(stream)
        self.assertIn("#EXT-X-ENDLIST", self.playlist(stream))
        duration = float(ffprobe(url)["format"]["duration"])
        self.assertAlmostEqual(duration, SECONDS, delta=1.0, msg="the HLS lasts as long as sent")

        sent_nals, got_nals = annexb_units(sent), annexb_units(url)
        self.assertTrue(sps_of(sent_nals))
        self.assertEqual(sps_of(got_nals), sps_of(sent_nals), "the H.264 SPS changed")
        known = set(slices_of(sent_nals))
        got = slices_of(got_nals)
        self.assertGreaterEqual(len(got), 0.9 * len(known))
        self.assertTrue(all(n in known for n in got), "a slice that was not sent: re-encoded")

        self.assert_same_aac(sent, url)

        played = node("hls_player.mjs", "--url", stream["playback_url"], "--to-end", "--rate", "4",
                      "--seconds", str(SECONDS + 2))
        self.assertEqual(played["errors"], [], played)
        # every fragment buffered and `ended` fired (hls.js once stalled
        # 0.22 s short: its stream's last part was the audio's tail alone)
        self.assertTrue(played["ended"] and played["bufferEos"], played)
        self.assertEqual((played["videoWidth"], played["videoHeight"]), (320, 240))


class PublishTest(RtmpCase):
    """Each real publisher's H.264 + AAC goes to HLS untouched."""

    def test_ffmpeg_copy_is_passed_through(self):
        s = self.create(title="ffmpeg")
        server = f"rtmp://127.0.0.1:{self.launcher.rtmp_port}/live"
        self.assertEqual(s["rtmp_server"], server)
        self.assertEqual(s["rtmp_url"], f"{server}/{s['key']}")
        self.assertNotIn("rtmps_url", s)
        status, got = self.launcher.api("GET", f"/api/streams/{s['id']}")
        self.assertEqual(got["rtmp_server"], server)
        self.assertNotIn("rtmp_url", got)       # the key is not shown again

        code, err = finish(ffmpeg_publish(s["rtmp_url"]))
        self.assertEqual(code, 0, err)
        got = self.wait_state(s["id"], "ended")
        self.assertEqual(got["ingest"], "rtmp")
        self.assertIsNone(got.get("reason"), got)
        self.assert_passed_through(s, INPUT)
        samples, _ = self.scrape()
        self.assertGreaterEqual(self.value(samples, "castline_rtmp_connections_accepted_total"), 1)

    def test_ffmpeg_audio_only(self):
        s = self.create(title="radio")
        code, err = finish(ffmpeg_publish(s["rtmp_url"], extra=("-vn",)))
        self.assertEqual(code, 0, err)
        got = self.wait_state(s["id"], "ended")
        self.assertEqual(got["pipeline"], "audio-only")
        url = self.hls_url(s)
        self.assertAlmostEqual(float(ffprobe(url)["format"]["duration"]), SECONDS, delta=1.0)
        self.assert_same_aac(INPUT, url)

    def test_ffmpeg_into_abr(self):
        # a 320x240 input is below every rung: the lowest alone, the input itself
        s = self.create(title="abr", pipeline="abr")
        code, err = finish(ffmpeg_publish(s["rtmp_url"]))
        self.assertEqual(code, 0, err)
        self.wait_state(s["id"], "ended", 60)
        entries = stream_inf(self.playlist(s))
        self.assertEqual(len(entries), 1, entries)
        attrs, uri = entries[0]
        self.assertEqual(attrs["RESOLUTION"], "320x240")
        self.assertIn("mp4a.40.2", attrs["CODECS"])
        rung = f"http://127.0.0.1:{self.launcher.port}/live/{s['id']}/{uri}"
        self.assertAlmostEqual(float(ffprobe(rung)["format"]["duration"]), SECONDS, delta=1.0)
        self.assertEqual(sps_of(annexb_units(rung)), sps_of(annexb_units(INPUT)))
        self.assertEqual(aac_frames(rung)[0][0], 2, "AAC LC")

    def assert_gst_sink_passes_through(self, title, sink):
        """sink ({url}: the stream's RTMP URL) publishes; the stream ends
        with what was sent, untouched"""
        s = self.create(title=title)
        sent = os.path.join(self.dir, "sent.flv")
        code, err = finish(gst_publish(sink.format(url=s["rtmp_url"]), sent))
        self.assertEqual(code, 0, err)
        self.wait_state(s["id"], "ended")
        self.assert_passed_through(s, sent)

    def test_rtmp2sink_is_passed_through(self):
        self.assert_gst_sink_passes_through("rtmp2sink", "rtmp2sink location={url}")

    def test_librtmp_rtmpsink_is_passed_through(self):
        # librtmp's options follow the URL: a live publish
        self.assert_gst_sink_passes_through("rtmpsink", 'rtmpsink location="{url} live=1"')


class RtmpsTest(RtmpCase):
    def setUp(self):
        self.tls_dir = tempfile.mkdtemp(prefix="tls-", dir=launchercase.WORK)
        self.ca, cert, key = make_ca(self.tls_dir)
        self.settings = {"rtmp": {"tls_port": free_port(), "tls_cert": cert,
                                  "tls_key": key}}
        super().setUp()

    def test_ffmpeg_over_rtmps_with_a_ca_of_its_own(self):
        s = self.create(title="rtmps")
        tls_port = self.settings["rtmp"]["tls_port"]
        self.assertEqual(s["rtmps_url"], f"rtmps://127.0.0.1:{tls_port}/live/{s['key']}")
        # the server's chain is the test CA's
        check = subprocess.run(["openssl", "s_client", "-connect", f"127.0.0.1:{tls_port}",
                                "-CAfile", self.ca, "-verify_return_error", "-verify_ip",
                                "127.0.0.1"], input=b"", capture_output=True, timeout=30)
        self.assertEqual(check.returncode, 0, check.stdout.decode()[-2000:])
        code, err = finish(ffmpeg_publish(s["rtmps_url"],
                                          extra=("-tls_verify", "1", "-ca_file", self.ca)))
        self.assertEqual(code, 0, err)
        got = self.wait_state(s["id"], "ended")
        self.assertEqual(got["ingest"], "rtmps")
        duration = float(ffprobe(self.hls_url(s))["format"]["duration"])
        self.assertAlmostEqual(duration, SECONDS, delta=1.0)


class RefusalTest(RtmpCase):
    """What a publisher that may not go live hears, and what stays as it was."""

    settings = {"rtmp": {}, "reconnect_window": 30}

    def assert_refused(self, url, said):
        code, err = finish(ffmpeg_publish(url), timeout=30)
        self.assertNotEqual(code, 0, "ffmpeg was let in")
        self.assertIn(said, err)

    def test_wrong_key_and_unknown_application(self):
        s = self.create()
        base = f"rtmp://127.0.0.1:{self.launcher.rtmp_port}"
        self.assert_refused(f"{base}/live/{s['key']}x", "unknown stream key")
        self.assert_refused(f"{base}/other/{s['key']}", "")
        status, got = self.launcher.api("GET", f"/api/streams/{s['id']}")
        self.assertEqual(got["state"], "created")
        samples, _ = self.scrape()
        self.assertGreaterEqual(self.value(samples, "castline_rtmp_connections_refused_total"), 1)

    def test_a_second_publisher_is_refused(self):
        s = self.create()
        first = ffmpeg_publish(s["rtmp_url"], loop=True)
        try:
            self.wait_state(s["id"], "live")
            # the stats of every ingest: the publisher's H.264 and AAC as they came
            def stats():
                got = self.launcher.api("GET", f"/api/streams/{s['id']}")[1].get("stats", {})
                return got if got.get("video", {}).get("fps") and got.get("audio") else None
            self.assertTrue(wait_for(stats, 15), "no stats while live")
            self.assert_refused(s["rtmp_url"], "already has a publisher")
            self.assertIsNone(first.poll(), "the first publisher was cut off")
            self.assertEqual(self.launcher.api("GET", f"/api/streams/{s['id']}")[1]["state"], "live")
        finally:
            first.send_signal(signal.SIGINT)    # ffmpeg ends its stream: FCUnpublish
            finish(first)
        self.wait_state(s["id"], "ended")

    def test_a_vanished_publisher_resumes_within_the_window(self):
        s = self.create()
        first = ffmpeg_publish(s["rtmp_url"], loop=True)
        self.wait_state(s["id"], "live")
        wait_for(lambda: self.launcher.request("GET", f"/live/{s['id']}/index.m3u8")[0] == 200, 20)
        finish(first, kill=True)                # SIGKILL: no FCUnpublish, the TCP connection drops
        got = self.wait_state(s["id"], "interrupted", 20)
        self.assertIn("RTMP", got["reason"])
        # the same key within the window: live again, then a clean end
        second = ffmpeg_publish(s["rtmp_url"])
        self.wait_state(s["id"], "live", 20)
        code, err = finish(second)
        self.assertEqual(code, 0, err)
        self.wait_state(s["id"], "ended")
        files = os.listdir(os.path.join(self.dir, "data", "live", s["id"]))
        self.assertTrue(any(f.startswith("s2-segment") for f in files), files)


    def test_a_silent_publisher_times_out(self):
        # connected but sending nothing for idle_timeout (5 s): lost, like a drop
        s = self.create()
        first = ffmpeg_publish(s["rtmp_url"], loop=True)
        try:
            self.wait_state(s["id"], "live")
            first.send_signal(signal.SIGSTOP)
            got = self.wait_state(s["id"], "interrupted", 25)
            self.assertIn("timeout", got["reason"])
        finally:
            finish(first, kill=True)


class StartTest(unittest.TestCase):
    def test_a_port_in_use_is_a_start_error(self):
        taken = socket.socket()
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        try:
            launcher = Launcher(launchercase.case_dir(), rtmp={"port": taken.getsockname()[1]})
            with self.assertRaises(AssertionError) as failed:
                launcher.start()
            self.assertIn("castline-launcher: RTMP: ", str(failed.exception))
        finally:
            taken.close()


if __name__ == "__main__":
    unittest.main(verbosity=2)
