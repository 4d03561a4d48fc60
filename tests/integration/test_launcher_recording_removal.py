"""Removing recordings: DELETE /api/streams/{id}/recordings (local output
with its MP4, and S3 with s3rver: the files gone from disk or bucket, the
segments the ended live playlist still names kept, the API and the public
status no longer listing them, a recording.deleted webhook), refused while
the stream is live; and recordings.retention_days pruning an old recording
(files, listing, webhook, log) while a newer one stays.

Prints FIGURE lines: delete_seconds (the DELETE's answer time, local and
S3) and retention_age_seconds (how old a recording was when the retention
pass removed it; the retention is 17.3 s).

Standard library only. Shared fixtures: launchercase.py.
Environment (meson sets it): CASTLINE_BUILD_DIR, CASTLINE_SOURCE_DIR.
Run by hand: /usr/bin/python3 tests/integration/test_launcher_recording_removal.py [-k PATTERN]
Every wait is bounded.
"""
import calendar
import json
import os
import sys
import time
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from launcherproc import Launcher, wait_for  # noqa: E402
from launchercase import (  # noqa: E402
    LauncherCase, Publisher, S3Case, WebhookCase, WebhookReceiver, recording, s3_settings)
from launchercase import setUpModule, tearDownModule  # noqa: E402,F401 (module fixture)

# 1 s segments; the live playlist names 2 of the recording's 6 or so, so
# the recording keeps segments the live playlist no longer names
REMOVAL_HLS = {"target_duration": 1, "playlist_length": 2, "max_files": 2}
# 0.0002 days: 17.28 s
RETENTION_DAYS = 0.0002


def playlist_files(text):
    """the files a playlist names: its segments and EXT-X-MAP init"""
    files = []
    for line in text.splitlines():
        if line.startswith("#EXT-X-MAP:"):
            files.append(line.split('URI="')[1].split('"')[0])
        elif line and not line.startswith("#"):
            files.append(line)
    return files


def events(receiver, kind):
    return [json.loads(b) for h, b in receiver.received() if h.get("x-castline-event") == kind]


class RemovalMixin:
    def recorded(self, launcher, kind="h264"):
        """a recorded stream published to its end, once its recordings are
        listed: (stream, recordings)"""
        s = self.create_on(launcher, title="to remove", record=True)
        case = LauncherCase()
        case.launcher = launcher
        case.publish(s, kind)
        case.wait_state(s["id"], "ended")
        recs = wait_for(lambda: launcher.api("GET", f"/api/streams/{s['id']}/recordings")[1]
                        ["recordings"], 30)
        self.assertTrue(recs, "no recording listed")
        return s, recs

    def create_on(self, launcher, **body):
        status, s = launcher.api("POST", "/api/streams", body)
        self.assertEqual(status, 201, s)
        return s

    def delete(self, launcher, stream_id):
        t0 = time.monotonic()
        status, got = launcher.api("DELETE", f"/api/streams/{stream_id}/recordings")
        return status, got, time.monotonic() - t0

    def check_unlisted(self, launcher, stream_id):
        self.assertEqual(launcher.api("GET", f"/api/streams/{stream_id}/recordings"),
                         (200, {"recordings": []}))
        self.assertEqual(launcher.api("GET", f"/api/streams/{stream_id}/status")[1]["recordings"], [])

    def check_webhook(self, receiver, stream, answer, reason):
        got = wait_for(lambda: events(receiver, "recording.deleted"), 15)
        self.assertTrue(got, "no recording.deleted webhook")
        event = got[-1]
        self.assertEqual((event["stream"]["id"], event["reason"]), (stream["id"], reason), event)
        self.assertEqual(event["removed"], answer["removed"])
        self.assertEqual(event["bytes"], answer["bytes"])
        self.assertEqual([r["name"] for r in event["recordings"]],
                         [r["name"] for r in answer["recordings"]])
        self.assertNotIn(stream["key"], json.dumps(event))
        return event


class LocalRemovalTest(RemovalMixin, WebhookCase):
    """DELETE with local output and record_mp4: vod.m3u8, recording.mp4 and
    the segments only the recording kept go; the ended live playlist and
    its segments stay and play."""
    extra_settings = {"hls": REMOVAL_HLS, "record_mp4": True}

    def setUp(self):
        recording("h264rm", "h264", seconds=8)
        super().setUp()

    def test_delete_removes_files_listing_and_tells(self):
        live = self.create(title="live", record=True)
        pub = Publisher(self.launcher.port, live, "h264rm", seconds=4)
        pub.start()
        self.wait_state(live["id"], "live", 10)
        status, got, _ = self.delete(self.launcher, live["id"])
        self.assertEqual(status, 409, got)
        self.assertIn("live", got["error"])
        self.assertEqual(pub.finish(), 1000)

        s, recs = self.recorded(self.launcher, "h264rm")
        self.assertEqual(sorted(r["kind"] for r in recs), ["hls", "mp4"], recs)
        public = self.launcher.api("GET", f"/api/streams/{s['id']}/status")[1]
        self.assertEqual([r["url"] for r in public["recordings"]], [r["url"] for r in recs])
        d = os.path.join(self.dir, "data", "live", s["id"])
        with open(os.path.join(d, "vod.m3u8")) as f:
            vod = playlist_files(f.read())
        with open(os.path.join(d, "index.m3u8")) as f:
            kept = set(playlist_files(f.read()))
        only_vod = [f for f in vod if f not in kept]
        self.assertTrue(only_vod and kept, (vod, kept))
        expected = only_vod + ["vod.m3u8", "recording.mp4"]
        size = sum(os.path.getsize(os.path.join(d, f)) for f in expected)

        status, got, took = self.delete(self.launcher, s["id"])
        print(f"FIGURE delete_seconds_local={took:.3f} files={len(got['removed'])}")
        self.assertEqual(status, 200, got)
        self.assertEqual(sorted(got["removed"]), sorted(expected))
        self.assertEqual(got["bytes"], size)
        self.assertEqual(sorted(r["kind"] for r in got["recordings"]), ["hls", "mp4"])
        for f in expected:
            self.assertFalse(os.path.exists(os.path.join(d, f)), f"{f} is still there")
        for f in kept:
            self.assertTrue(os.path.exists(os.path.join(d, f)), f"{f} of the live playlist went")
        self.assertEqual(self.launcher.request("GET", f"/live/{s['id']}/index.m3u8")[0], 200)
        self.assertEqual(self.launcher.request("GET", f"/live/{s['id']}/vod.m3u8")[0], 404)
        self.check_unlisted(self.launcher, s["id"])
        self.check_webhook(self.receiver, s, got, "api")
        self.assertIn(f"stream {s['id']}: 2 recordings removed (api)", self.launcher.output())

        # again: nothing left, nothing removed, no second webhook
        status, again, _ = self.delete(self.launcher, s["id"])
        self.assertEqual((status, again["removed"], again["bytes"]), (200, [], 0), again)
        self.assertEqual(self.launcher.request("DELETE", "/api/streams/nosuch/recordings")[0], 404)
        time.sleep(0.5)
        self.assertEqual(len(events(self.receiver, "recording.deleted")), 1)


class S3RemovalTest(RemovalMixin, S3Case):
    """DELETE with S3 output: the VOD and the segments only it names go
    from the bucket (DeleteObjects), the live playlist's stay."""

    def setUp(self):
        recording("h264rm", "h264", seconds=8)
        super().setUp()

    def test_delete_removes_objects(self):
        receiver = WebhookReceiver()
        self.addCleanup(receiver.stop)
        launcher = Launcher(self.dir, record=True, hls=REMOVAL_HLS,
                            webhooks={"urls": [receiver.url]}, s3=s3_settings(self.s3)).start()
        try:
            s, recs = self.recorded(launcher, "h264rm")
            prefix = f"streams/{s['id']}/"
            vod = playlist_files(self.s3.get(prefix + "vod.m3u8")[0].decode())
            kept = set(playlist_files(self.s3.get(prefix + "index.m3u8")[0].decode()))
            only_vod = [f for f in vod if f not in kept]
            self.assertTrue(only_vod, (vod, kept))
            before = set(self.s3.keys(prefix))
            self.assertLessEqual({prefix + f for f in vod}, before)

            status, got, took = self.delete(launcher, s["id"])
            print(f"FIGURE delete_seconds_s3={took:.3f} objects={len(got['removed'])}")
            self.assertEqual(status, 200, got)
            self.assertEqual(sorted(got["removed"]), sorted(only_vod + ["vod.m3u8"]))
            self.assertIsNone(got["bytes"])
            after = set(self.s3.keys(prefix))
            self.assertEqual(before - after, {prefix + f for f in got["removed"]})
            self.assertLessEqual({prefix + f for f in kept} | {prefix + "index.m3u8"}, after)
            self.check_unlisted(launcher, s["id"])
            self.check_webhook(receiver, s, got, "api")
        finally:
            self.assertEqual(launcher.stop(), 0)


class RetentionTest(RemovalMixin, WebhookCase):
    """recordings.retention_days 0.0002 (17.28 s; a pass every second):
    the older recording goes (files, listing, webhook, log), the newer
    one stays."""
    extra_settings = {"hls": REMOVAL_HLS, "recordings": {"retention_days": RETENTION_DAYS}}

    def test_old_recording_pruned_new_one_kept(self):
        old, old_recs = self.recorded(self.launcher)
        created = calendar.timegm(time.strptime(old_recs[0]["created_at"], "%Y-%m-%dT%H:%M:%SZ"))
        # the newer one half the retention younger (a fast publisher makes
        # both within a second or two: a loaded pass could take both)
        time.sleep(max(0.0, created + RETENTION_DAYS * 86400 / 2 - time.time()))
        new, _ = self.recorded(self.launcher)
        old_dir = os.path.join(self.dir, "data", "live", old["id"])
        self.assertTrue(os.path.exists(os.path.join(old_dir, "vod.m3u8")))
        listed = lambda sid: self.launcher.api("GET", f"/api/streams/{sid}/recordings")[1]["recordings"]
        self.assertTrue(wait_for(lambda: not listed(old["id"]), RETENTION_DAYS * 86400 + 20),
                        "the old recording was not pruned")
        gone_at = time.time()
        self.assertTrue(listed(new["id"]), "the newer recording went too")
        age = gone_at - created
        print(f"FIGURE retention_age_seconds={age:.1f} retention_seconds={RETENTION_DAYS * 86400:.2f}")
        self.assertGreaterEqual(age, RETENTION_DAYS * 86400 - 1, "pruned before its time")
        self.assertFalse(os.path.exists(os.path.join(old_dir, "vod.m3u8")))
        self.assertTrue(os.path.exists(os.path.join(self.dir, "data", "live", new["id"], "vod.m3u8")))
        event = wait_for(lambda: [e for e in events(self.receiver, "recording.deleted")
                                  if e["stream"]["id"] == old["id"]], 10)
        self.assertTrue(event, "no recording.deleted webhook")
        self.assertEqual(event[0]["reason"], "retention")
        self.assertIn("vod.m3u8", event[0]["removed"])
        self.assertIn(f"stream {old['id']}: 1 recording removed (retention)", self.launcher.output())

    def test_bad_retention_refused(self):
        for value in (-1, "7", 40000):
            d = os.path.join(self.dir, f"bad-{value}")
            os.makedirs(d)
            bad = Launcher(d, recordings={"retention_days": value})
            with self.assertRaises(AssertionError) as e:
                bad.start()
            bad.log.close()
            self.assertIn("'recordings.retention_days' must be a number of days", str(e.exception))


if __name__ == "__main__":
    unittest.main(verbosity=2)
