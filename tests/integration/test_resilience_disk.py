"""The data disk full: data_dir on a 3 MB tmpfs (in the test's own mount
namespace) that three recorded streams fill. Each stream fails alone,
with a reason that names the full disk (the API and the webhooks say so
even though the SQLite store on the same disk cannot take the write),
never `live` with no reason; a stream ended while the disk is full is
shown ended at once (the store on that disk takes it later); the API
answers throughout; every playlist left parses and names only files that
are there whole. Once files are deleted the states the store could not
take reach it (a restart on the same data_dir shows them), a failed
stream's playlist gets its end (#EXT-X-ENDLIST, no parts), and a new
stream goes live. With the store elsewhere (store.url sqlite:PATH), the
states are stored at once.

Prints FIGURE lines: full_to_failed_seconds (from the disk found full to
the last of the three shown failed by the API) and, with the store on
the full disk, store_caught_up_seconds (from files deleted to the three
failed states read from the database file).

Root only (mount). Standard library only. Shared fixtures: launchercase.py,
smalldisk.py, playlistfiles.py.
Run by hand: /usr/bin/python3 tests/integration/test_resilience_disk.py [-k PATTERN]
Every wait is bounded.
"""
import json
import os
import shutil
import sqlite3
import sys
import threading
import time
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import smalldisk  # noqa: E402
from launcherproc import Launcher, wait_for  # noqa: E402
from launchercase import (  # noqa: E402
    LauncherCase, Publisher, WebhookReceiver, abr_recording, case_dir)
from launchercase import setUpModule, tearDownModule  # noqa: E402,F401 (module fixture)
from playlistfiles import playlist_problems  # noqa: E402

DISK_MB = 3
STREAMS = 3
FULL = "the data disk is full"


class UntilClosed(Publisher):
    """A Publisher whose stream may fail under it: a connection the daemon
    closed ends the sending, quietly."""

    def run(self):
        try:
            super().run()
        except OSError:
            pass


class ApiWatch(threading.Thread):
    """GET /api/streams every 0.2 s until stop(): what did not answer 200."""

    def __init__(self, launcher):
        super().__init__(daemon=True)
        self.launcher, self.failures, self.calls = launcher, [], 0
        self.done = threading.Event()

    def run(self):
        while not self.done.wait(0.2):
            self.calls += 1
            try:
                status, body = self.launcher.api("GET", "/api/streams")
                if status != 200:
                    self.failures.append(f"{status}: {body}")
            except OSError as e:
                self.failures.append(repr(e))

    def stop(self):
        self.done.set()
        self.join(15)
        return self.failures


class DiskFullCase(unittest.TestCase):
    def setUp(self):
        self.dir = case_dir()
        self.data = os.path.join(self.dir, "data")
        self.disk = smalldisk.SmallDisk(self.data, DISK_MB)
        self.addCleanup(self.disk.unmount)
        self.receiver = WebhookReceiver()
        self.addCleanup(self.receiver.stop)
        self.kind = abr_recording("h264", 640, 360)       # about 2 Mbit/s, 10 s
        self.settings = {"data_dir": self.data, "record": True, "idle_timeout": 30,
                         "hls": {"target_duration": 1},
                         "webhooks": {"urls": [self.receiver.url]}}

    def start(self, **more):
        launcher = Launcher(self.dir, **self.settings, **more).start()
        self.addCleanup(launcher.stop)
        case = LauncherCase()
        case.launcher = launcher
        return launcher, case

    def fill(self, launcher, case):
        """Three recorded streams published until the disk is full; each
        must then fail with the disk's reason. The streams as the API
        shows them then."""
        streams = [case.create(title=f"fills {i}") for i in range(STREAMS)]
        watch = ApiWatch(launcher)
        watch.start()
        publishers = [UntilClosed(launcher.port, s, self.kind, seconds=10) for s in streams]
        for p in publishers:
            p.start()
        try:
            for s in streams:
                case.wait_state(s["id"], "live", 10)
            # full: nearly no byte free, or a stream already failed for it (a
            # failing writer frees its half-written segment at once, and a
            # loaded poll can miss the moment in between)
            def disk_full():
                return self.disk.free_bytes() < 64 * 1024 or any(
                    "disk is full" in (launcher.api("GET", f"/api/streams/{s['id']}")[1]
                                       .get("reason") or "") for s in streams)
            full = wait_for(lambda: disk_full() and time.monotonic(), 30, interval=0.05)
            self.assertTrue(full, "the disk never filled:\n" + launcher.output()[-3000:])
            self.disk.keep_full()           # what a failing stream frees is gone again
            # the API answers a create while the disk is full (the store may refuse it)
            status, body = launcher.api("POST", "/api/streams", {"title": "while full"})
            print(f"create while the disk is full: {status} {body if status != 201 else ''}")

            def shown():
                got = [launcher.api("GET", f"/api/streams/{s['id']}")[1] for s in streams]
                return got if all(g["state"] in ("failed", "ended") for g in got) else None
            got = wait_for(shown, 30, interval=0.05)
            self.assertTrue(got, "still shown live: %s\n%s" % (
                json.dumps([launcher.api("GET", f"/api/streams/{s['id']}")[1] for s in streams]),
                launcher.output()[-4000:]))
            print(f"FIGURE full_to_failed_seconds={time.monotonic() - full:.2f}")
        finally:
            for p in publishers:
                p.join(15)
                p.ws.close()
            failures = watch.stop()
        for g in got:
            self.assertEqual(g["state"], "failed", g)
            self.assertIn(FULL, g["reason"], g)
            print(f"stream {g['id']}: {g['reason']}")
        self.assertEqual(failures, [], f"the API did not answer ({watch.calls} calls)")
        self.assertGreater(watch.calls, 2)
        # the webhooks told each failure, with the same reason
        def failed_events():
            events = [json.loads(b) for _, b in self.receiver.received()]
            events = {e["stream"]["id"]: e for e in events if e["type"] == "stream.failed"}
            return events if len(events) >= STREAMS else None
        events = wait_for(failed_events, 15)
        self.assertTrue(events, "no stream.failed webhooks: %r" % (self.receiver.received(),))
        for g in got:
            self.assertEqual(events[g["id"]]["stream"]["reason"], g["reason"])
        # by chance: a failed stream frees its cut segment just before its state is saved
        kept = launcher.output().count("cannot store its state")
        print(f"FIGURE failed_states_kept_for_the_store={kept}")
        checked, problems = playlist_problems(self.data)
        self.assertGreaterEqual(len(checked), STREAMS, checked)
        self.assertEqual(problems, [], "torn playlists")
        return got

    def stored(self, db):
        """{id: (state, reason)} as the database file holds them."""
        with sqlite3.connect(f"file:{db}?mode=ro", uri=True, timeout=5) as conn:
            return {row[0]: (row[1], row[2])
                    for row in conn.execute("SELECT id, state, reason FROM streams")}


class StoreOnTheFullDiskTest(DiskFullCase):
    def test_full_disk_fails_its_streams_and_the_store_catches_up(self):
        launcher, case = self.start()
        waiting = case.create(title="ended while the disk is full")
        shown = self.fill(launcher, case)

        # a stream ended while the disk stays full: the store cannot take
        # it (nothing was freed just before, as a failed stream's files
        # are), yet the API, the webhooks, and later the store say ended
        status, ended = launcher.api("DELETE", f"/api/streams/{waiting['id']}")
        self.assertEqual((status, ended["state"]), (200, "ended"), ended)
        _, now = launcher.api("GET", f"/api/streams/{waiting['id']}")
        self.assertEqual(now["state"], "ended")
        self.assertIn(f"stream {waiting['id']}: cannot store its state (ended)", launcher.output())
        def told_ended():
            return any(e["type"] == "stream.ended" and e["stream"]["id"] == waiting["id"]
                       for e in (json.loads(b) for _, b in self.receiver.received()))
        self.assertTrue(wait_for(told_ended, 15), "no stream.ended webhook")
        shown.append(ended)

        # space freed (the files of all but one failed stream go): what the
        # store could not take lands, the playlists of the stream left get
        # their end, and a new stream goes live
        freed = time.monotonic()
        self.disk.free_up()
        for s in shown[1:]:
            shutil.rmtree(os.path.join(self.data, "live", s["id"]), ignore_errors=True)
        db = os.path.join(self.data, "castline.db")
        want = {s["id"]: (s["state"], s.get("reason", "")) for s in shown}
        caught_up = wait_for(
            lambda: all(self.stored(db).get(i) == w for i, w in want.items()), 30, interval=0.1)
        self.assertTrue(caught_up, "not stored: %r\n%s" % (self.stored(db),
                                                           launcher.output()[-3000:]))
        print(f"FIGURE store_caught_up_seconds={time.monotonic() - freed:.2f}")
        kept = os.path.join(self.data, "live", shown[0]["id"])
        def ended():
            with open(os.path.join(kept, "index.m3u8")) as f:
                return "#EXT-X-ENDLIST" in f.read()
        self.assertTrue(wait_for(ended, 20), "the failed stream's playlist was never ended:\n"
                        + launcher.output()[-3000:])
        self.assertEqual(playlist_problems(kept)[1], [], "torn playlists")
        later = launcher.output().count("the playlists of the failed stream cannot be ended yet")
        print(f"FIGURE failed_playlists_ended_later={later}")
        fresh = case.create(title="after")
        publisher = UntilClosed(launcher.port, fresh, "h264", seconds=3)
        publisher.start()
        case.wait_state(fresh["id"], "live", 10)
        self.assertEqual(publisher.finish(), 1000)
        self.assertNotIn("reason", case.wait_state(fresh["id"], "ended", 15))
        self.assertEqual(launcher.stop(), 0)

        again, case = self.start()
        for s in shown:
            _, now = again.api("GET", f"/api/streams/{s['id']}")
            self.assertEqual((now["state"], now.get("reason")), (s["state"], s.get("reason")))
        self.assertEqual(again.api("GET", f"/api/streams/{fresh['id']}")[1]["state"], "ended")
        self.assertEqual(again.stop(), 0)


class StoreElsewhereTest(DiskFullCase):
    def test_store_off_the_full_disk_takes_the_states_at_once(self):
        db = os.path.join(self.dir, "store", "castline.db")
        launcher, case = self.start(store={"url": f"sqlite:{db}"})
        shown = self.fill(launcher, case)
        self.disk.free_up()
        stored = self.stored(db)
        for s in shown:
            self.assertEqual(stored[s["id"]], ("failed", s["reason"]))
        self.assertNotIn("cannot store its state", launcher.output())
        self.assertEqual(launcher.stop(), 0)


if __name__ == "__main__":
    smalldisk.in_own_mount_namespace()
    unittest.main()
