"""The charts of the dashboard and of the stream page (/streams/{id}), fed
by the event streams' `history` event and the live events after it: two
streams live from ffmpeg over RTMP, one interrupted (ffmpeg killed) and
resumed within reconnect_window while the pages are open. In Chromium
(browser/web_charts.mjs): the charts exist for both streams and their data
grows as stats arrive, the stream page starts from the server's history,
the interruption is marked from the live state event and shaded on the
canvas, and comes back from the history after a reload; the other,
recorded, ends and its page lists the recording; no console error (a CSP
refusal is one). Then the `history` event itself, read with
SseClient: its series, the interruption's marks and the gap in the lines.
Screenshots (dashboard with two live streams, the stream page; desktop and
phone) go to build/tests/artifacts/.

Run by hand: /usr/bin/python3 tests/integration/test_launcher_charts.py
Every wait is bounded."""
import json
import os
import queue
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import ffmpegpublisher  # noqa: E402
import launchercase  # noqa: E402
from gstlaunch import BUILD, SOURCE  # noqa: E402
from launchercase import BROWSER_DIR, LauncherCase  # noqa: E402
from launcherproc import wait_for  # noqa: E402
from sseclient import SseClient  # noqa: E402

ARTIFACTS = os.path.join(BUILD, "tests", "artifacts")
INPUT = None


def setUpModule():
    global INPUT
    launchercase.WORK = tempfile.mkdtemp(prefix="castline-charts-test-")
    INPUT = ffmpegpublisher.make_input(os.path.join(launchercase.WORK, "input.mp4"), 10)


def tearDownModule():
    shutil.rmtree(launchercase.WORK, ignore_errors=True)


class SteppedDriver:
    """A browser driver the test talks to while it runs: it prints
    `step NAME` lines and reads lines the test sends; its last line is its
    JSON result."""

    def __init__(self, script, *args):
        self.stderr = tempfile.TemporaryFile()
        self.proc = subprocess.Popen(["node", os.path.join(BROWSER_DIR, script), *args], cwd=SOURCE,
                                     stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=self.stderr,
                                     text=True)
        self.lines = queue.Queue()
        threading.Thread(target=self._read, daemon=True).start()

    def _read(self):
        for line in self.proc.stdout:
            self.lines.put(line.rstrip("\n"))
        self.lines.put(None)

    def failure(self, what):
        self.proc.kill()
        self.proc.wait(10)
        self.stderr.seek(0)
        return AssertionError(f"{what}; the driver said:\n{self.stderr.read().decode()[-3000:]}")

    def expect(self, name, timeout):
        deadline = time.monotonic() + timeout
        while True:
            try:
                line = self.lines.get(timeout=max(0.1, deadline - time.monotonic()))
            except queue.Empty:
                raise self.failure(f"no step {name} within {timeout} s")
            if line is None:
                raise self.failure(f"the driver ended before step {name}")
            if line == f"step {name}":
                return

    def say(self, line):
        self.proc.stdin.write(line + "\n")
        self.proc.stdin.flush()

    def result(self, timeout):
        try:
            self.proc.wait(timeout)
        except subprocess.TimeoutExpired:
            raise self.failure(f"no result within {timeout} s")
        if self.proc.returncode != 0:
            raise self.failure(f"the driver failed ({self.proc.returncode})")
        last = None
        while (line := self.lines.get(timeout=5)) is not None:
            last = line
        return json.loads(last)

    def close(self):
        if self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait(10)
        for f in (self.proc.stdin, self.proc.stdout, self.stderr):
            f.close()


def amber(rgb):
    """The interruption's shade over white (rgba(183, 121, 31, 0.18)), not
    white, grid grey or the bitrate's blue."""
    r, g, b = rgb
    return r - b >= 15 and r >= 200


class ChartsTest(LauncherCase):
    settings = {"rtmp": {}, "reconnect_window": 60}

    def setUp(self):
        super().setUp()
        self.publishers = {}      # stream id: its ffmpeg now

    def rtmp_publish(self, stream):
        """ffmpeg looping INPUT to the stream until killed."""
        proc = ffmpegpublisher.publish(INPUT, stream["rtmp_url"], loop=True)
        self.addCleanup(ffmpegpublisher.finish, proc, 10, True)
        self.publishers[stream["id"]] = proc
        return proc

    def kill_publisher(self, stream):
        """SIGKILL: no FCUnpublish, the TCP connection drops: interrupted."""
        ffmpegpublisher.finish(self.publishers.pop(stream["id"]), 10, kill=True)

    def resume(self, stream):
        """A new publisher for an interrupted stream: live again (one that
        comes while the lost session is still finalized is refused: again)."""
        for _ in range(5):
            proc = self.rtmp_publish(stream)
            if wait_for(lambda: proc.poll() is not None or
                        self.launcher.api("GET", f"/api/streams/{stream['id']}")[1]["state"] == "live", 20) \
                    and proc.poll() is None:
                return proc
            time.sleep(1)
        self.fail("the stream did not go live again")

    def history(self, path, stream_id):
        """The history event of stream_id a new client of path gets, and
        the names of the events before it."""
        sse = SseClient(self.launcher.port, path)
        self.addCleanup(sse.close)
        self.assertEqual(sse.status, 200)
        got = sse.next("history", lambda d: d["id"] == stream_id, 10)
        self.assertTrue(got, sse.seen)
        return got, [name for name, d in sse.seen if d.get("id") == stream_id]

    def test_charts_fill_and_mark_an_interruption(self):
        a, b = self.create(title="Main camera"), self.create(title="Stage left", record=True)
        self.rtmp_publish(a)
        self.rtmp_publish(b)
        for s in (a, b):
            self.wait_state(s["id"], "live", 20)
        # a history sample (every 5 s) before the pages come
        time.sleep(6)

        started = time.monotonic()
        driver = SteppedDriver("web_charts.mjs", "--base", f"http://127.0.0.1:{self.launcher.port}",
                               "--ids", f"{a['id']},{b['id']}", "--artifacts", ARTIFACTS)
        self.addCleanup(driver.close)
        driver.expect("ready", 90)
        self.kill_publisher(a)
        interrupted_at = time.monotonic()
        self.wait_state(a["id"], "interrupted", 20)
        driver.say("interrupted")
        driver.expect("marked", 30)
        # a band a few seconds wide
        time.sleep(max(0.0, 4 - (time.monotonic() - interrupted_at)))
        self.resume(a)
        driver.say("resumed")
        driver.expect("checked", 90)
        # B ends cleanly (SIGINT: ffmpeg unpublishes): its recording is written
        proc = self.publishers.pop(b["id"])
        proc.send_signal(signal.SIGINT)
        ffmpegpublisher.finish(proc, 15)
        self.wait_state(b["id"], "ended", 20)
        driver.say("ended")
        r = driver.result(90)
        print(f"FIGURE charts_browser_seconds={time.monotonic() - started:.1f}")
        for path in r["screenshots"]:
            print(f"screenshot: {path}")

        self.assertEqual(r["errors"], [], r["errors"])
        # the dashboard: a row of charts under each live stream, growing
        self.assertEqual(r["dashboardRows"], 2, r)
        for s in (a, b):
            self.assertGreater(r["dashboardGrown"][s["id"]], r["dashboardStart"][s["id"]] + 2, r)
            self.assertIn(f"/streams/{s['id']}", r["dashboardLinks"])
        self.assertEqual((r["dashboardCharts"]["charts"], r["dashboardCharts"]["canvases"]), (5, 5), r)
        self.assertGreater(r["dashboardCharts"]["bitrate"], 0, r)
        # the stream page: its charts start from the history (points older
        # than the page), then grow
        charts = r["streamCharts"]
        self.assertEqual((charts["charts"], charts["canvases"]), (5, 5), r)
        self.assertGreaterEqual(charts["firstPointAge"], 3, r)
        self.assertGreater(r["streamGrown"], r["streamStart"], r)
        self.assertLessEqual({"State", "Ingest", "Video", "Audio", "Bitrate", "Health"}, set(r["streamFacts"]), r)
        self.assertLessEqual({"Watch page", "HLS playback", "RTMP server"}, set(r["streamUrls"]), r)
        # the interruption, from the live state event on both pages
        self.assertIn("interrupted", r["dashboardMarked"], r)
        self.assertIn("interrupted", r["streamMarked"], r)
        self.assertEqual(r["streamState"], "Interrupted", r)
        # then live again: the charts grow, the band is shaded where the
        # stream was gone and not before it
        for name in ("streamBand", "dashboardBand", "reloaded"):
            band = r[name]["band"]
            self.assertTrue(band, f"{name}: no interruption span: {r[name]}")
            self.assertGreaterEqual(band["seconds"], 3, r[name])
            print(f"FIGURE {name}_band_seconds={band['seconds']:.1f} pixels_wide={band['pixelsWide']:.0f}")
            self.assertGreaterEqual(sum(map(amber, band["inside"])), 3, f"{name}: not shaded: {band}")
            self.assertTrue(band["before"], f"{name}: nothing charted before the band: {band}")
            self.assertEqual(sum(map(amber, band["before"])), 0, f"{name}: shaded before: {band}")
        self.assertEqual(r["streamBand"]["marks"][-2:], ["interrupted", "live"], r)
        # the cursor over one chart: each card reads its value at that time
        hover = r["streamHover"]
        self.assertEqual(len(hover), 5, r)
        self.assertEqual(len({h.split(" · ")[-1] for h in hover}), 1, hover)
        self.assertTrue(all(" · " in h for h in hover), hover)
        # after a reload the marks come from the server
        self.assertEqual(r["reloaded"]["marks"][-3:], ["live", "interrupted", "live"], r)
        self.assertGreaterEqual(r["reloaded"]["firstPointAge"], 20, r)

        # B ended: its page lists the recording (the watch page plays it),
        # its charts end with the ended mark
        self.assertEqual(r["endedState"], "Ended", r)
        self.assertEqual(r["endedRecording"], f"/watch/{b['id']}", r)
        self.assertEqual(r["endedCharts"]["marks"][-1], "ended", r)
        self.assertGreaterEqual(r["endedCharts"]["firstPointAge"], 20, r)

        # the history event itself: first the state, then the history, on
        # a stream's events and on every stream's
        h, names = self.history(f"/api/streams/{a['id']}/events", a["id"])
        self.assertEqual(names[:2], ["state", "history"])
        # every stream's: those not ended (B is)
        _, names = self.history("/api/events", a["id"])
        self.assertEqual(names[:2], ["state", "history"])
        series = h["series"]
        self.assertEqual((h["window"], h["interval"]), (900, 5))
        self.assertEqual({len(v) for v in series.values()}, {len(series["t"])}, series)
        self.assertGreaterEqual(len(series["t"]), 5, series)
        self.assertEqual(series["t"], sorted(series["t"]))
        self.assertTrue(all(h["now"] - 900 <= t <= h["now"] + 1 for t in series["t"]), h)
        # where the stream was interrupted: a point of nulls, so the lines break
        gap = [i for i, v in enumerate(series["bitrate"]) if v is None and series["viewers"][i] is None]
        self.assertTrue(gap, series)
        marks = [(m["state"], m["reason"]) for m in h["marks"]]
        self.assertEqual([m[0] for m in marks], ["live", "interrupted", "live"], h["marks"])
        self.assertIn("RTMP", marks[1][1])
        live = [i for i, v in enumerate(series["bitrate"]) if v]
        self.assertTrue(live and all(series["fps"][i] > 0 for i in live), series)
        self.assertTrue(any(series["keyframe_interval"][i] for i in live), series)
        self.assertTrue(all(0 <= series["health"][i] <= 100 for i in live), series)
        print(f"FIGURE history_samples={len(series['t'])} history_bytes={len(json.dumps(h))}")


if __name__ == "__main__":
    unittest.main(verbosity=2)
