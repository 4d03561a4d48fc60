"""rtmpserversrc standalone, in the gst-launch-1.0 pipeline of its documentation,
fed by real publishers nobody here wrote: ffmpeg (RTMP and RTMPS), GStreamer's
rtmp2sink and librtmp's rtmpsink. The recording must last as long as what was
sent and carry the same H.264 SPS and AAC configuration (nothing re-encoded);
wrong keys, unknown applications and a second publisher are refused, and the
key never shows in the element's debug log.

Standard library only. Environment (meson sets it, see meson.build):
  CASTLINE_BUILD_DIR   the build tree; the plugin is in <it>/gst-plugins
Run by hand: python3 tests/integration/test_rtmpserversrc.py [-k PATTERN]
Every wait is bounded (subprocess time-outs, polls with a deadline).
"""
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from s3rver import free_port  # noqa: E402
from gstlaunch import Launch, gst_env, require_tools  # noqa: E402
from launcherproc import wait_for  # noqa: E402
from rtmpmedia import aac_config, annexb_units, make_ca  # noqa: E402

KEY = "k3y-must-not-leak-5d1e"
SECONDS = 4                      # the length of what each publisher sends

# the pipeline: the FLV demuxed and remuxed to MPEG-TS, not decoded
RECORD = ("rtmpserversrc port={port} application=live stream-key={key} {extra} ! "
          "flvdemux name=d d.video ! queue ! h264parse ! mpegtsmux name=m ! "
          "filesink location={out} d.audio ! queue ! aacparse ! m.")


def run(args, timeout=60):
    return subprocess.run(args, capture_output=True, text=True, errors="replace",
                          timeout=timeout, env=gst_env())


def first_sps(path):
    for unit in annexb_units(path):
        if unit and unit[0] & 0x1F == 7:
            return unit
    return None


def duration(path):
    out = run(["ffprobe", "-v", "error", "-show_entries", "format=duration", "-of", "csv=p=0",
               path]).stdout.strip()
    return float(out) if out and out != "N/A" else 0.0


def listening(port):
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=1):
            return True
    except OSError:
        return False


class RtmpServerSrcTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        require_tools("ffmpeg", "ffprobe", "openssl")
        cls.dir = tempfile.mkdtemp(prefix="castline-rtmp-")
        cls.mp4 = os.path.join(cls.dir, "in.mp4")
        subprocess.run(["ffmpeg", "-v", "error", "-y",
                        "-f", "lavfi", "-i", "testsrc=size=320x240:rate=30",
                        "-f", "lavfi", "-i", "sine=frequency=440:sample_rate=44100",
                        "-t", str(SECONDS), "-c:v", "libx264", "-preset", "ultrafast",
                        "-pix_fmt", "yuv420p", "-g", "30", "-c:a", "aac", "-b:a", "64k",
                        cls.mp4], check=True, timeout=60)
        cls.sps = first_sps(cls.mp4)
        cls.aac = aac_config(cls.mp4)
        assert cls.sps and cls.aac, "the test input has no SPS or AAC"

    @classmethod
    def tearDownClass(cls):
        shutil.rmtree(cls.dir, ignore_errors=True)

    def setUp(self):
        self.launches = []

    def tearDown(self):
        for launch in self.launches:
            launch.kill()

    def server(self, out, extra="", env=None):
        port = free_port()
        launch = Launch(RECORD.format(port=port, key=KEY, extra=extra, out=out), env=env)
        self.launches.append(launch)
        self.assertTrue(wait_for(lambda: listening(port) or launch.proc.poll() is not None, 10)
                        and launch.proc.poll() is None, "rtmpserversrc is not listening")
        return launch, port

    def ffmpeg(self, url, timeout=40, extra=()):
        return run(["ffmpeg", "-v", "warning", "-re", "-i", self.mp4, "-c", "copy", *extra,
                    "-f", "flv", url], timeout=timeout)

    def assert_recorded(self, launch, out):
        """The server ends by itself (the publisher unpublished: EOS) with a
        recording as long as the input, its H.264 and AAC untouched."""
        code = launch.finish(interrupt=False, timeout=30)
        self.assertEqual(code, 0, launch.output[-3000:])
        self.assertIn("reason=(string)unpublished", launch.output)
        self.assertAlmostEqual(duration(out), SECONDS, delta=0.5)
        self.assertEqual(first_sps(out), self.sps, "the SPS changed: re-encoded?")
        self.assertEqual(aac_config(out), self.aac)

    def gst_publish(self, *sink):
        """A GStreamer publisher: the MP4's streams remuxed to FLV into `sink`
        (its argv: gst-launch-1.0 escapes the spaces inside each argument)."""
        pipeline = ("filesrc location={mp4} ! qtdemux name=q q.video_0 ! queue ! h264parse ! "
                    "flvmux name=f streamable=true ! SINK q.audio_0 ! queue ! aacparse ! f."
                    ).format(mp4=self.mp4).split()
        at = pipeline.index("SINK")
        pipeline[at:at + 1] = sink
        return run(["gst-launch-1.0", "-q"] + pipeline, timeout=40)

    def test_ffmpeg_publishes(self):
        out = os.path.join(self.dir, "ffmpeg.ts")
        launch, port = self.server(out)
        result = self.ffmpeg(f"rtmp://127.0.0.1:{port}/live/{KEY}")
        self.assertEqual(result.returncode, 0, result.stderr)
        self.assert_recorded(launch, out)
        self.assertIn("tls=(boolean)false", launch.output)

    def test_rtmp2sink_publishes(self):
        out = os.path.join(self.dir, "rtmp2sink.ts")
        launch, port = self.server(out)
        result = self.gst_publish("rtmp2sink", f"location=rtmp://127.0.0.1:{port}/live/{KEY}")
        self.assertEqual(result.returncode, 0, result.stderr)
        self.assert_recorded(launch, out)

    def test_librtmp_rtmpsink_publishes(self):
        out = os.path.join(self.dir, "rtmpsink.ts")
        launch, port = self.server(out)
        # librtmp's options follow its URL, space separated, in one property
        result = self.gst_publish("rtmpsink", f"location=rtmp://127.0.0.1:{port}/live/{KEY} live=1")
        self.assertEqual(result.returncode, 0, result.stderr)
        self.assert_recorded(launch, out)

    def test_rtmps_ffmpeg_with_a_ca_made_here(self):
        ca, cert, key = make_ca(self.dir)
        out = os.path.join(self.dir, "rtmps.ts")
        launch, port = self.server(out, f"tls-certificate-file={cert} tls-key-file={key}")
        # plain RTMP against the TLS port fails
        plain = self.ffmpeg(f"rtmp://127.0.0.1:{port}/live/{KEY}", timeout=30)
        self.assertNotEqual(plain.returncode, 0)
        result = self.ffmpeg(f"rtmps://127.0.0.1:{port}/live/{KEY}",
                             extra=("-tls_verify", "1", "-ca_file", ca))
        self.assertEqual(result.returncode, 0, result.stderr)
        self.assert_recorded(launch, out)
        self.assertIn("tls=(boolean)true", launch.output)

    def test_wrong_key_and_unknown_application_refused(self):
        out = os.path.join(self.dir, "refused.ts")
        wrong = "wr0ng-key-must-not-leak-77"
        launch, port = self.server(out, env={"GST_DEBUG": "rtmp*:7", "GST_DEBUG_NO_COLOR": "1"})
        refused = self.ffmpeg(f"rtmp://127.0.0.1:{port}/live/{wrong}", timeout=30)
        self.assertNotEqual(refused.returncode, 0)
        self.assertIn("wrong stream key", refused.stderr)
        refused = self.ffmpeg(f"rtmp://127.0.0.1:{port}/other/{KEY}", timeout=30)
        self.assertNotEqual(refused.returncode, 0)
        self.assertIn("unknown application", refused.stderr)
        launch.finish(timeout=30)
        self.assertNotIn("rtmpserversrc-publisher-connected", launch.output)
        self.assertTrue(not os.path.exists(out) or os.path.getsize(out) == 0)
        for secret in (KEY, wrong):
            self.assertNotIn(secret, launch.output)
        self.assertIn("wrong stream key", launch.output)   # the log does say why

    def test_second_publisher_refused_while_one_is_live(self):
        out = os.path.join(self.dir, "first.ts")
        launch, port = self.server(out)
        url = f"rtmp://127.0.0.1:{port}/live/{KEY}"
        first = subprocess.Popen(["ffmpeg", "-v", "warning", "-re", "-i", self.mp4, "-c", "copy",
                                  "-f", "flv", url], stdout=subprocess.DEVNULL,
                                 stderr=subprocess.PIPE, text=True, env=gst_env())
        try:
            self.assertTrue(wait_for(lambda: os.path.exists(out) and os.path.getsize(out) > 0,
                                     10), "the first publisher is not live")
            second = self.ffmpeg(url, timeout=30)
            self.assertNotEqual(second.returncode, 0)
            self.assertIn("already publishing", second.stderr)
            _, errors = first.communicate(timeout=30)
            self.assertEqual(first.returncode, 0, errors)
        finally:
            if first.poll() is None:
                first.kill()
                first.wait()
        self.assert_recorded(launch, out)
        self.assertEqual(launch.output.count("rtmpserversrc-publisher-connected"), 1)


if __name__ == "__main__":
    unittest.main()
