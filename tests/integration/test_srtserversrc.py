"""srtingestsrc (gst-plugins/srt/gstsrtserversrc.cpp) standalone, in the
gst-launch-1.0 pipeline of its documentation, fed by real SRT callers nobody
here wrote: ffmpeg, GStreamer's srtsink in
caller mode and srt-live-transmit (srt-tools). The recording must last as
long as what was sent and hold both streams (H.264 and AAC, demuxed and
remuxed, not decoded); a caller with the passphrase gets in, one without
it, or with a wrong key, does not, and the key never shows in the
element's debug log.

Standard library only. Environment (meson sets it, see meson.build):
  CASTLINE_BUILD_DIR   the build tree; the plugin is in <it>/gst-plugins
Run by hand: python3 tests/integration/test_srtserversrc.py [-k PATTERN]
Every wait is bounded (subprocess time-outs, polls with a deadline).
"""
import os
import shutil
import subprocess
import sys
import tempfile
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from gstlaunch import Launch, gst_env, require_tools  # noqa: E402
from launcherproc import wait_for  # noqa: E402

KEY = "k3y-must-not-leak-9c2f"
PASSPHRASE = "passphrase-must-not-leak-31"
SECONDS = 4                      # the length of what each caller sends

# the element's documented pipeline: the TS demuxed and remuxed to MP4
RECORD = ("srtingestsrc port={port} host=127.0.0.1 stream-id={key} {extra} ! tsdemux name=d "
          "d. ! video/x-h264 ! queue ! h264parse ! mp4mux name=m ! filesink location={out} "
          "d. ! audio/mpeg ! queue ! aacparse ! m.")
# the bytes as they come: a run no caller reaches ends on EOS too (tsdemux
# without a stream would hold it back)
STORE = "srtingestsrc port={port} host=127.0.0.1 stream-id={key} {extra} ! filesink location={out}"


def run(args, timeout=60, **kwargs):
    return subprocess.run(args, capture_output=True, text=True, errors="replace",
                          timeout=timeout, env=gst_env(), **kwargs)


def free_udp_port():
    import socket
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def udp_bound(port):
    """something has 127.0.0.1:port (UDP) bound"""
    want = f"0100007F:{port:04X}"
    with open("/proc/net/udp") as f:
        return any(line.split()[1] == want for line in f.readlines()[1:])


def probe(path):
    """(duration in seconds, the codec names of its streams)"""
    out = run(["ffprobe", "-v", "error", "-show_entries", "format=duration:stream=codec_name",
               "-of", "default=nw=1", path]).stdout
    fields = [line.split("=", 1) for line in out.splitlines() if "=" in line]
    duration = [float(v) for k, v in fields if k == "duration" and v != "N/A"]
    return (duration[0] if duration else 0.0), sorted(v for k, v in fields if k == "codec_name")


class SrtServerSrcTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        require_tools("ffmpeg", "ffprobe", "srt-live-transmit")
        cls.dir = tempfile.mkdtemp(prefix="castline-srt-")
        cls.mp4 = os.path.join(cls.dir, "in.mp4")
        subprocess.run(["ffmpeg", "-v", "error", "-y",
                        "-f", "lavfi", "-i", "testsrc=size=320x240:rate=30",
                        "-f", "lavfi", "-i", "sine=frequency=440:sample_rate=44100",
                        "-t", str(SECONDS), "-c:v", "libx264", "-preset", "ultrafast",
                        "-pix_fmt", "yuv420p", "-g", "30", "-c:a", "aac", "-b:a", "64k",
                        cls.mp4], check=True, timeout=60)
        cls.ts = os.path.join(cls.dir, "in.ts")
        subprocess.run(["ffmpeg", "-v", "error", "-y", "-i", cls.mp4, "-c", "copy",
                        "-f", "mpegts", cls.ts], check=True, timeout=60)

    @classmethod
    def tearDownClass(cls):
        shutil.rmtree(cls.dir, ignore_errors=True)

    def setUp(self):
        self.launches = []
        self.procs = []

    def tearDown(self):
        for proc in self.procs:
            if proc.poll() is None:
                proc.kill()
                proc.wait()
        for launch in self.launches:
            launch.kill()

    def server(self, out, extra="", env=None, pipeline=RECORD):
        port = free_udp_port()
        launch = Launch(pipeline.format(port=port, key=KEY, extra=extra, out=out), env=env)
        self.launches.append(launch)
        self.assertTrue(wait_for(lambda: udp_bound(port) or launch.proc.poll() is not None, 10)
                        and launch.proc.poll() is None, "srtingestsrc is not listening")
        return launch, port

    def ffmpeg(self, url, timeout=40):
        return run(["ffmpeg", "-v", "warning", "-re", "-i", self.mp4, "-c", "copy",
                    "-f", "mpegts", url], timeout=timeout)

    def assert_recorded(self, launch, out, reason="closed"):
        """The server ends by itself (the caller closed: EOS) with a recording
        as long as the input, holding both streams."""
        code = launch.finish(interrupt=False, timeout=30)
        self.assertEqual(code, 0, launch.output[-3000:])
        self.assertIn("srtserversrc-caller-connected", launch.output)
        self.assertIn(f"reason=(string){reason}", launch.output)
        duration, codecs = probe(out)
        self.assertAlmostEqual(duration, SECONDS, delta=0.5)
        self.assertEqual(codecs, ["aac", "h264"])

    def test_ffmpeg_calls(self):
        out = os.path.join(self.dir, "ffmpeg.mp4")
        launch, port = self.server(out)
        result = self.ffmpeg(f"srt://127.0.0.1:{port}?streamid={KEY}")
        self.assertEqual(result.returncode, 0, result.stderr)
        self.assert_recorded(launch, out)

    def test_srtsink_calls(self):
        out = os.path.join(self.dir, "srtsink.mp4")
        launch, port = self.server(out)
        # the file at its own pace (srtsink syncs on the clock), remuxed to TS;
        # SPS and PPS before every keyframe: srtsink 1.22 drops the buffers
        # mpegtsmux flags HEADER, and the first keyframe's SPS and PPS with them
        result = run(["gst-launch-1.0", "-q", "filesrc", f"location={self.mp4}", "!",
                      "qtdemux", "name=q", "q.video_0", "!", "queue", "!", "h264parse",
                      "config-interval=-1", "!",
                      "mpegtsmux", "name=m", "!", "srtsink", "mode=caller",
                      f"uri=srt://127.0.0.1:{port}", f"streamid=#!::r={KEY},m=publish",
                      "q.audio_0", "!", "queue", "!", "aacparse", "!", "m."], timeout=40)
        self.assertEqual(result.returncode, 0, result.stderr)
        self.assert_recorded(launch, out)

    def test_srt_live_transmit_calls(self):
        out = os.path.join(self.dir, "slt.mp4")
        # srt-live-transmit keeps the link up after its input ends: the
        # idle time-out ends the run
        launch, port = self.server(out, "idle-timeout=2")
        # ffmpeg paces the TS into srt-live-transmit's standard input
        feeder = subprocess.Popen(["ffmpeg", "-v", "error", "-re", "-i", self.ts, "-c", "copy",
                                   "-f", "mpegts", "-"], stdout=subprocess.PIPE,
                                  stdin=subprocess.DEVNULL, env=gst_env())
        self.procs.append(feeder)
        # -a no: end with the input (no reconnecting); -c 1316: 7 packets a message
        result = run(["srt-live-transmit", "-q", "-a", "no", "-c", "1316", "file://con",
                      f"srt://127.0.0.1:{port}?streamid={KEY}"], timeout=40, stdin=feeder.stdout)
        feeder.stdout.close()
        feeder.wait(timeout=10)
        self.assertEqual(result.returncode, 0, result.stderr)
        self.assert_recorded(launch, out, reason="timeout")

    def test_passphrase(self):
        out = os.path.join(self.dir, "encrypted.mp4")
        launch, port = self.server(out, f"passphrase={PASSPHRASE} pbkeylen=16",
                                   env={"GST_DEBUG": "srtingestsrc:7", "GST_DEBUG_NO_COLOR": "1"})
        refused = self.ffmpeg(f"srt://127.0.0.1:{port}?streamid={KEY}", timeout=30)
        self.assertNotEqual(refused.returncode, 0)
        refused = self.ffmpeg(f"srt://127.0.0.1:{port}?streamid={KEY}"
                              "&passphrase=another-passphrase", timeout=30)
        self.assertNotEqual(refused.returncode, 0)
        result = self.ffmpeg(f"srt://127.0.0.1:{port}?streamid={KEY}&passphrase={PASSPHRASE}")
        self.assertEqual(result.returncode, 0, result.stderr)
        self.assert_recorded(launch, out)
        self.assertEqual(launch.output.count("srtserversrc-caller-connected"), 1)
        self.assertNotIn(PASSPHRASE, launch.output)

    def test_wrong_key_refused(self):
        out = os.path.join(self.dir, "refused.ts")
        wrong = "wr0ng-key-must-not-leak-41"
        launch, port = self.server(out, env={"GST_DEBUG": "srtingestsrc:7",
                                             "GST_DEBUG_NO_COLOR": "1"}, pipeline=STORE)
        refused = self.ffmpeg(f"srt://127.0.0.1:{port}?streamid={wrong}", timeout=30)
        self.assertNotEqual(refused.returncode, 0)
        launch.finish(timeout=30)
        self.assertNotIn("srtserversrc-caller-connected", launch.output)
        self.assertEqual(os.path.getsize(out), 0)
        for secret in (KEY, wrong):
            self.assertNotIn(secret, launch.output)
        self.assertIn("wrong stream id", launch.output)   # the log does say why


if __name__ == "__main__":
    unittest.main()
