"""S3 unreachable for 30 s, then slow, with 5 live streams (issue 21).

castline-launcher uploads the HLS of 5 live RTMP streams (ffmpeg, -c copy,
a keyframe a second, 1 s segments) to s3rver through faultproxy.py. After
a normal start the proxy refuses connections (8 s), then blackholes them
(22 s: S3 accepts and never answers; connections that saw it stay dead),
then holds every answer 2 s (15 s), then passes again. Meanwhile a poller
reads every stream's playlist from s3rver directly (not through the
proxy) three times a second and checks that each segment it names is in
the bucket and that the media sequence never goes back; the stream's
`stats.s3` (GET /api/streams/{id}) and /metrics are sampled twice a
second. At the end: every stream's segments are numbered without a hole
and all stored, the last playlist names the newest, the stats and
/metrics showed the outage (s3-unavailable, pending uploads, retries,
last-error) and the recovery (available, nothing pending).

hls.max_files is set above the segments of the fault window: with the
default (10), segments that leave the live window during an outage are
never uploaded (s3hlssink skips what no playlist can name any more), a
documented choice this test does not measure.

Printed figures (one FIGURE line each):
  s3_resume_seconds     outage end to the first new playlist in the bucket
                        (the slowest stream; at least 2 x 2 s: its segment's
                        answer and its own are held)
  s3_catchup_seconds    outage end to the bucket's playlist naming the
                        newest segment made at the outage's end
  s3_drain_seconds      end of the slow phase to nothing pending
  s3_max_pending, s3_max_lag_seconds   the worst seen in the stats

Standard library, ffmpeg and s3rver. Shared fixtures: launchercase.py,
clusterproc.py (publisher, segment names), faultproxy.py.
Run by hand: /usr/bin/python3 tests/integration/test_resilience_s3.py
Every wait is bounded.
"""
import http.client
import os
import shutil
import sys
import tempfile
import threading
import time
import unittest
import urllib.error
import urllib.request

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from clusterproc import RtmpPublisher, make_input, playlist_entries, s3_keys  # noqa: E402
from clusterproc import segment_session  # noqa: E402
from launchercase import s3_settings  # noqa: E402
from faultproxy import FaultProxy  # noqa: E402
from launchercase import LauncherCase, MetricsMixin, S3Case  # noqa: E402
import launchercase  # noqa: E402
from launcherproc import Launcher, wait_for  # noqa: E402

STREAMS = 5
# the outage: 30 s. The blackhole ends 22 s in, just after the uploads
# hanging in it sent their third attempt (at about 20.5 s: time-outs of
# 10 s and the back-off): without the probe they sit on dead connections
# until about 31 s, nine seconds after S3 is back.
REFUSE, BLACKHOLE = 8, 22
SLOW, DELAY = 15, 2.0               # then every answer held 2 s
INPUT = None


def setUpModule():
    global INPUT
    launchercase.WORK = tempfile.mkdtemp(prefix="castline-resilience-s3-")
    INPUT = make_input(os.path.join(launchercase.WORK, "input.mp4"))


def tearDownModule():
    shutil.rmtree(launchercase.WORK, ignore_errors=True)


def media_sequence(text):
    for line in text.splitlines():
        if line.startswith("#EXT-X-MEDIA-SEQUENCE:"):
            return int(line.split(":", 1)[1])
    return None


class BucketWatch(threading.Thread):
    """Reads each stream's playlist straight from s3rver every `interval`
    seconds; records what every version names, the segments missing from
    the bucket when a playlist named them, a media sequence going back,
    and when each stream's playlist last changed."""

    def __init__(self, s3, prefixes, interval=0.3):
        super().__init__(daemon=True)
        self.s3, self.prefixes, self.interval = s3, prefixes, interval
        self.stopping = threading.Event()
        self.lock = threading.Lock()
        self.stored = {p: set() for p in prefixes}     # segment names seen in the bucket
        self.newest = {p: -1 for p in prefixes}        # newest segment number named
        self.changed = {p: [] for p in prefixes}       # (time, newest number) when it rose
        self.missing = []                              # (prefix, segment, playlist text)
        self.backwards = []                            # (prefix, was, now)
        self.sequence = dict.fromkeys(prefixes)
        self.reads = 0

    def exists(self, key):
        request = urllib.request.Request(self.s3.url(key), method="HEAD")
        try:
            with urllib.request.urlopen(request, timeout=5):
                return True
        except urllib.error.HTTPError as e:
            if e.code == 404:
                return False
            raise

    def check(self, prefix):
        text, _ = self.s3.get_consistent(prefix + "index.m3u8")
        if text is None:
            return                                     # not there yet, or torn (s3rver)
        text = text.decode()
        seq = media_sequence(text)
        names = [uri for uri, _, _ in playlist_entries(text)]
        for name in names:
            if name in self.stored[prefix]:
                continue
            if self.exists(prefix + name):
                self.stored[prefix].add(name)
            else:
                with self.lock:
                    self.missing.append((prefix, name, text))
        with self.lock:
            self.reads += 1
            was = self.sequence[prefix]
            if seq is not None and was is not None and seq < was:
                self.backwards.append((prefix, was, seq))
            self.sequence[prefix] = seq if seq is not None else was
            numbers = [segment_session(n)[1] for n in names if segment_session(n)]
            if numbers and max(numbers) > self.newest[prefix]:
                self.newest[prefix] = max(numbers)
                self.changed[prefix].append((time.monotonic(), max(numbers)))

    def run(self):
        while not self.stopping.is_set():
            for prefix in self.prefixes:
                try:
                    self.check(prefix)
                except (OSError, http.client.HTTPException, ValueError):
                    pass                               # s3rver busy or torn: read again next round
            self.stopping.wait(self.interval)

    def first_change_after(self, prefix, t, at_least=-1):
        """When prefix's playlist first named a segment numbered above
        at_least after t (None: not yet)."""
        with self.lock:
            for when, newest in self.changed[prefix]:
                if when >= t and newest > at_least:
                    return when
        return None

    def stop(self):
        self.stopping.set()
        self.join(15)


class S3OutageTest(MetricsMixin, S3Case):
    def setUp(self):
        super().setUp()
        self.proxy = FaultProxy(("127.0.0.1", self.s3.port))
        self.addCleanup(self.proxy.stop)
        s3 = dict(s3_settings(self.s3), endpoint=self.proxy.endpoint)
        self.launcher = Launcher(self.dir, rtmp={}, idle_timeout=30, s3=s3,
                                 hls={"target_duration": 1, "playlist_length": 6,
                                      "max_files": 500}).start()
        self.addCleanup(self.stop_launcher)
        self.case = LauncherCase()
        self.case.launcher = self.launcher
        self.publishers = []
        self.addCleanup(self.stop_publishers)

    def stop_publishers(self):
        for p in self.publishers:
            p.stop()

    def stop_launcher(self):
        code = self.launcher.stop()
        if code != 0:
            print(self.launcher.output()[-5000:])
        self.assertEqual(code, 0, "the launcher did not exit 0 on SIGTERM")

    def sample(self, ids):
        """({id: stats.s3}, /metrics samples) now."""
        stats = {}
        for i in ids:
            status, s = self.launcher.api("GET", f"/api/streams/{i}")
            if status == 200 and isinstance(s.get("stats"), dict) and "s3" in s["stats"]:
                stats[i] = s["stats"]["s3"]
        samples, _ = self.scrape()
        return stats, samples

    def test_outage_then_slow_s3_loses_no_segment(self):
        streams = [self.case.create(title=f"s3 outage {n}") for n in range(STREAMS)]
        ids = [s["id"] for s in streams]
        prefixes = {i: f"streams/{i}/" for i in ids}
        for s in streams:
            self.publishers.append(RtmpPublisher(INPUT, self.launcher, s["key"]))
        for i in ids:
            self.case.wait_state(i, "live", 20)
        watch = BucketWatch(self.s3, list(prefixes.values()))
        watch.start()
        self.addCleanup(watch.stop)
        self.assertTrue(wait_for(lambda: all(watch.newest[p] >= 2 for p in prefixes.values()), 30),
                        f"no segments in the bucket before the outage: {watch.newest}\n"
                        + self.launcher.output()[-3000:])

        timeline = []        # (time, phase, {id: stats.s3}, metrics samples)

        def run_phase(phase, seconds, mode, delay=0.0):
            self.proxy.set_mode(mode, delay)
            end = time.monotonic() + seconds
            while time.monotonic() < end:
                stats, samples = self.sample(ids)
                timeline.append((time.monotonic(), phase, stats, samples))
                time.sleep(max(0.0, min(0.5, end - time.monotonic())))

        samples0 = self.sample(ids)[1]
        retries0 = self.value(samples0, "castline_s3_request_retries_total")
        outage_start = time.monotonic()
        run_phase("outage", REFUSE, "refuse")
        run_phase("outage", BLACKHOLE, "blackhole")
        outage_end = time.monotonic()
        # what was made by the outage's end: the newest segment in the
        # bucket plus the segments waiting in the spool
        at_end, _ = self.sample(ids)
        caught_up_at = {i: watch.newest[prefixes[i]] + at_end[i]["spool-depth"] for i in ids}
        run_phase("slow", SLOW, "delay", DELAY)
        slow_end = time.monotonic()
        self.proxy.set_mode("pass")

        def drained():
            # the stats and /metrics read one after the other: a segment
            # made in between is pending in one; wait for both to say 0
            stats, samples = self.sample(ids)
            timeline.append((time.monotonic(), "after", stats, samples))
            return len(stats) == STREAMS and all(
                st["pending-uploads"] == 0 and not st["s3-unavailable"] for st in stats.values()
            ) and all(self.value(samples, "castline_stream_s3_pending_uploads", stream=i) == 0
                      for i in ids)
        self.assertTrue(wait_for(drained, 40, 0.25),
                        f"uploads still pending 40 s after S3 came back: {timeline[-1][2]}\n"
                        + self.launcher.output()[-3000:])
        drain_time = time.monotonic() - slow_end
        final_stats, final_samples = timeline[-1][2], timeline[-1][3]
        # the poller sees the playlist that the stats call current
        time.sleep(1.0)
        self.assertTrue(watch.is_alive(), "the poller died")
        watch.stop()

        for p in self.publishers:
            self.assertTrue(p.running, f"a publisher quit: {p.exited()}")
        for i in ids:
            self.assertEqual(self.case.wait_state(i, "live", 1)["state"], "live")

        # no playlist ever named a segment the bucket did not hold, nor went back
        self.assertGreater(watch.reads, 100, "the poller hardly read")
        self.assertEqual(watch.missing[:3], [], "a playlist named segments not in the bucket")
        self.assertEqual(watch.backwards, [], "an older playlist overwrote a newer one")

        # every segment stored, numbered without a hole, the newest named
        def stored(prefix):
            names = [k[len(prefix):] for k in s3_keys(self.s3, prefix)]
            return sorted(segment_session(n)[1] for n in names if segment_session(n))

        def named_last(prefix):
            text, _ = self.s3.get_consistent(prefix + "index.m3u8")
            return [segment_session(u)[1] for u, _, _ in playlist_entries(text.decode())][-1]

        for i in ids:
            prefix = prefixes[i]
            numbers = stored(prefix)
            self.assertTrue(numbers, f"no segment of {i}")
            holes = sorted(set(range(numbers[0], numbers[-1] + 1)) - set(numbers))
            self.assertEqual(holes, [], f"segments of {i} missing from the bucket")
            self.assertLessEqual(numbers[0], 1, f"{i}'s first segments are not in the bucket")
            self.assertGreaterEqual(numbers[-1], 40, f"{i} made too few segments: {numbers[-1]}")
            # a segment goes up before the playlist that names it: the
            # newest may be a moment ahead of the playlist, never for long
            self.assertTrue(wait_for(lambda: named_last(prefix) >= stored(prefix)[-1], 5, 0.2),
                            f"{i}: the bucket's playlist is not current")

        # the stats showed the outage and then the recovery, stream by stream
        during = [(t, st) for t, phase, st, _ in timeline if phase == "outage"]
        for i in ids:
            seen = [st[i] for _, st in during if i in st]
            self.assertTrue(any(s["s3-unavailable"] for s in seen),
                            f"{i}: stats.s3 never said S3 was unavailable")
            self.assertGreaterEqual(max(s["pending-uploads"] for s in seen), 10,
                                    f"{i}: the uploads waiting never showed")
            self.assertGreaterEqual(max(s["upload-lag"] for s in seen), 10e9)
            self.assertTrue(any(s["last-error"] for s in seen), f"{i}: no last-error")
            final = final_stats[i]
            self.assertFalse(final["s3-unavailable"])
            self.assertEqual((final["pending-uploads"], final["upload-lag"]), (0, 0))
            self.assertGreaterEqual(final["outages"], 1)
            self.assertGreater(final["requests-retried"], 0)

        # and /metrics too
        def gauge(samples, name, i):
            return self.value(samples, name, stream=i)
        for i in ids:
            self.assertTrue(any(gauge(s, "castline_stream_s3_unavailable", i) == 1
                                for _, phase, _, s in timeline if phase == "outage"),
                            f"{i}: /metrics never said S3 was unavailable")
            self.assertTrue(any((gauge(s, "castline_stream_s3_pending_uploads", i) or 0) >= 10
                                for _, phase, _, s in timeline if phase == "outage"))
            self.assertEqual(gauge(final_samples, "castline_stream_s3_unavailable", i), 0)
            self.assertEqual(gauge(final_samples, "castline_stream_s3_pending_uploads", i), 0)
        self.assertGreaterEqual(self.value(final_samples, "castline_s3_outages_total"), STREAMS)
        self.assertGreater(self.value(final_samples, "castline_s3_request_retries_total"),
                           retries0)
        self.assertEqual(self.value(final_samples, "castline_s3_upload_failures_total") or 0,
                         sum(final_stats[i]["uploads-failed"] for i in ids))

        # figures
        resume = [watch.first_change_after(prefixes[i], outage_end) for i in ids]
        catchup = [watch.first_change_after(prefixes[i], outage_end, caught_up_at[i] - 1)
                   for i in ids]
        self.assertNotIn(None, resume)
        self.assertNotIn(None, catchup)
        # a new playlist needs three answers at most (a probe's, its
        # segment's, its own), each held DELAY s, and a probe a second;
        # uploads left on connections that died with the outage wait out
        # their 10 s request time-out (about 13 s here)
        self.assertLess(max(resume) - outage_end, 3 * DELAY + 4,
                        "uploads did not resume at once after the outage")
        max_pending = max(st[i]["pending-uploads"] for _, _, st, _ in timeline for i in st)
        max_lag = max(st[i]["upload-lag"] for _, _, st, _ in timeline for i in st) / 1e9
        print(f"FIGURE s3_outage_seconds={outage_end - outage_start:.1f}")
        print(f"FIGURE s3_resume_seconds={max(resume) - outage_end:.1f}")
        print(f"FIGURE s3_catchup_seconds={max(catchup) - outage_end:.1f}")
        print(f"FIGURE s3_drain_seconds={drain_time:.1f}")
        print(f"FIGURE s3_max_pending={max_pending}")
        print(f"FIGURE s3_max_lag_seconds={max_lag:.1f}")
        print(f"FIGURE s3_proxy_counts={self.proxy.counts()}")


if __name__ == "__main__":
    unittest.main(verbosity=2)
