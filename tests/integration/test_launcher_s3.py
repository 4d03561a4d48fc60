"""S3 output end to end (s3rver): a stream uploaded to the bucket instead
of served locally, played from there, and the s3 counters of /metrics.
An abr ladder into a bucket: test_launcher_abr.py (AbrS3Test); a
recording into a bucket: test_launcher_recordings.py (S3RecordingTest).

Standard library only, but for the Prometheus parser /metrics is read
with (Debian's python3-prometheus-client, for /usr/bin/python3, which
meson runs). Shared fixtures: launchercase.py.
Environment (meson sets it): CASTLINE_BUILD_DIR, CASTLINE_SOURCE_DIR,
CASTLINE_PRELOAD (sanitizer runtime, optional).
Run by hand: /usr/bin/python3 tests/integration/test_launcher_s3.py [-k PATTERN]
Every wait is bounded.
"""
import os
import sys
import unittest
import urllib.request

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from launcherproc import Launcher, ffprobe, wait_for  # noqa: E402
from launchercase import LauncherCase, MetricsMixin, Publisher, S3Case  # noqa: E402
from launchercase import setUpModule, tearDownModule  # noqa: E402,F401 (module fixture)


class S3OutputTest(S3Case):
    """The same stream uploaded to S3 (s3rver) instead of served locally."""

    def test_stream_to_bucket(self):
        secret = "S3RVER-secret-never-logged"
        launcher = Launcher(self.dir, s3={
            "endpoint": self.s3.endpoint, "bucket": self.s3.bucket, "access_key": "S3RVER",
            "secret_key": secret, "key_prefix": "streams/",
            "public_base_url": f"{self.s3.endpoint}/{self.s3.bucket}"}).start()
        case = LauncherCase()
        case.launcher = launcher
        try:
            s = case.create(title="to s3")
            self.assertEqual(s["playback_url"],
                             f"{self.s3.endpoint}/{self.s3.bucket}/streams/{s['id']}/index.m3u8")
            case.publish(s, "h264")
            case.wait_state(s["id"], "ended")
            with urllib.request.urlopen(s["playback_url"], timeout=10) as r:
                self.assertIn("#EXT-X-ENDLIST", r.read().decode())
            info = ffprobe(s["playback_url"])
            self.assertEqual(sorted(st["codec_name"] for st in info["streams"]), ["aac", "h264"])
            self.assertAlmostEqual(float(info["format"]["duration"]), 6, delta=1.5)
            self.assertFalse(os.path.exists(os.path.join(self.dir, "data", "live", s["id"],
                                                         "index.m3u8")), "HLS also written locally")
        finally:
            self.assertEqual(launcher.stop(), 0)
        self.assertNotIn(secret, launcher.output())



class S3MetricsTest(MetricsMixin, S3Case):
    """The s3 counters of /metrics rise while a stream uploads, and keep
    what ended pipelines uploaded."""

    def counters(self, launcher):
        samples, _ = self.scrape(launcher)
        return tuple(self.value(samples, f"castline_s3_{n}_total")
                     for n in ("uploads", "upload_failures", "bytes_uploaded"))

    def test_s3_counters_rise_and_stay(self):
        launcher = Launcher(self.dir, idle_timeout=60, s3={
            "endpoint": self.s3.endpoint, "bucket": self.s3.bucket, "access_key": "S3RVER",
            "secret_key": "S3RVER", "public_base_url": f"{self.s3.endpoint}/{self.s3.bucket}"}).start()
        case = LauncherCase()
        case.launcher = launcher
        try:
            self.assertEqual(self.counters(launcher), (0, 0, 0))
            a = case.create(title="a")
            pub = Publisher(launcher.port, a, "h264", seconds=6)
            pub.start()
            case.wait_state(a["id"], "live", 10)
            live = wait_for(lambda: (lambda c: c if c[0] > 0 else None)(self.counters(launcher)), 20,
                            0.5)
            self.assertTrue(live, "nothing uploaded while live")
            self.assertGreater(live[2], 0)
            self.assertEqual(pub.finish(), 1000)
            case.wait_state(a["id"], "ended")
            after_a = self.counters(launcher)
            self.assertGreaterEqual(after_a[0], live[0])
            self.assertGreaterEqual(after_a[2], live[2])
            self.assertEqual(after_a[1], 0)
            b = case.create(title="b")
            case.publish(b, "h264")
            case.wait_state(b["id"], "ended")
            after_b = self.counters(launcher)
            self.assertGreater(after_b[0], after_a[0], "an ended pipeline's uploads forgotten")
            self.assertGreater(after_b[2], after_a[2])
        finally:
            self.assertEqual(launcher.stop(), 0)


if __name__ == "__main__":
    unittest.main(verbosity=2)
