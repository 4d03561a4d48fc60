"""SRT into castline-launcher with real callers no one here wrote: ffmpeg
(`-c copy -f mpegts srt://...`) and GStreamer's srtsink in caller mode
each publish H.264 + AAC to the srt_url the API hands out; the stream goes
live with ingest "srt", its LL-HLS validates and plays in hls.js in
Chromium, stats.srt and /metrics show the link. Three callers on the one
port at once. Refusals with the SRT reject reason a caller's libsrt holds
(srtcaller.py reads it; ffmpeg and srtsink print none): a wrong key, an
unknown id, "#!::r=KEY,m=request", a second publisher, a passphrase
missing or wrong. Through a relay dropping 5 % of the datagrams and
delaying each by up to 50 ms both ways (udprelay.py; no netem here) the
HLS has no broken segment and no gap. A caller that vanishes (kill -9):
interrupted, then live again with a new caller, then ended after the
reconnect window. An abr stream takes an SRT caller as its input. (SIGTERM
with SRT callers live: test_resilience_shutdown.py.)

Standard library only. Shared fixtures: launchercase.py, launcherproc.py.
Environment (meson sets it): CASTLINE_BUILD_DIR, CASTLINE_SOURCE_DIR.
Run by hand: /usr/bin/python3 tests/integration/test_launcher_srt.py [-k PATTERN]
Every wait is bounded; one Chromium at a time.
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
import ffmpegpublisher  # noqa: E402
import launchercase  # noqa: E402
import srtcaller  # noqa: E402
from decodecheck import decode_errors_of  # noqa: E402
from gstlaunch import gst_env  # noqa: E402
from launcherproc import Launcher, quote, wait_for  # noqa: E402
from launchercase import KeyedCase, MetricsMixin, first_video_pts, node, stream_inf  # noqa: E402
from llhlsplaylist import parse, validate  # noqa: E402
from rtmpmedia import aac_frames, annexb_units, slices_of, sps_of  # noqa: E402
from udprelay import UdpRelay  # noqa: E402

SECONDS = 10          # what a caller that is not looped sends
INPUT = None          # an H.264 + AAC MPEG-TS of SECONDS, 2 s GOPs (setUpModule)
PASSPHRASE = "castline-srt-test-passphrase"


def setUpModule():
    global INPUT
    launchercase.WORK = tempfile.mkdtemp(prefix="castline-srt-test-")
    INPUT = os.path.join(launchercase.WORK, "input.ts")
    ffmpegpublisher.make_input(INPUT, SECONDS)


def tearDownModule():
    shutil.rmtree(launchercase.WORK, ignore_errors=True)


def with_options(url, **options):
    """url with more query options (ffmpeg's: latency in microseconds)."""
    return url + "".join(f"&{k}={quote(str(v))}" for k, v in options.items())


def ffmpeg_publish(url, loop=False):
    """ffmpeg -re sending INPUT as it is (-c copy) to an srt:// url, in the
    background; loop: for ever (until killed)."""
    return ffmpegpublisher.publish(INPUT, url, loop)


def srtsink_publish(uri, seconds=SECONDS):
    """GStreamer's srtsink in caller mode sending a live H.264 + AAC
    MPEG-TS of seconds (x264enc, voaacenc, mpegtsmux); auto-reconnect off,
    so a refusal ends it with an error rather than retrying for ever.
    mpegtsmux alignment=7: srtsink sends each buffer as one SRT message,
    and libsrt refuses one over 1316 bytes, so without it every keyframe
    (SPS, PPS, IDR) is dropped, silently."""
    frames, audio_buffers = seconds * 30, seconds * 44100 // 1024
    pipeline = (
        f"mpegtsmux name=m alignment=7 ! srtsink auto-reconnect=false uri={uri} "
        f"videotestsrc is-live=true num-buffers={frames} "
        "! video/x-raw,width=320,height=240,framerate=30/1 "
        "! x264enc tune=zerolatency speed-preset=ultrafast key-int-max=30 ! h264parse ! m. "
        f"audiotestsrc is-live=true num-buffers={audio_buffers} samplesperbuffer=1024 "
        "! audio/x-raw,rate=44100,channels=2 ! voaacenc ! aacparse ! m.")
    return subprocess.Popen(["gst-launch-1.0", "-e", "-q", *pipeline.split()],
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, env=gst_env())


def finish(proc, timeout=SECONDS + 30, kill=False):
    """Waits for a caller (kill: SIGKILL first); its exit code and stderr."""
    return ffmpegpublisher.finish(proc, timeout, kill)


class SrtCase(KeyedCase, MetricsMixin):
    settings = {"srt": {}, "reconnect_window": 2}

    def setUp(self):
        super().setUp()
        self.callers = []

    def tearDown(self):
        for p in self.callers:
            finish(p, kill=True)
        super().tearDown()

    def caller(self, proc):
        """proc, killed at the end of the test if still running."""
        self.callers.append(proc)
        return proc

    def url(self, path):
        return f"http://127.0.0.1:{self.launcher.port}{path}"

    def stream(self, s):
        return self.launcher.api("GET", f"/api/streams/{s['id']}")[1]

    def live_playlist(self, s):
        status, _, body = self.launcher.request("GET", f"/live/{s['id']}/index.m3u8")
        return parse(body.decode()) if status == 200 else None

    def wait_segments(self, s, count, timeout=30):
        """the live playlist once it names count complete segments"""
        def ready():
            pl = self.live_playlist(s)
            return pl if pl and len(pl.complete) >= count else None
        pl = wait_for(ready, timeout, interval=0.3)
        self.assertTrue(pl, f"never {count} segments:\n{self.launcher.output()[-3000:]}")
        return pl

    def wait_link_stats(self, s, timeout=15):
        """stats.srt once it has an RTT and packets"""
        def ready():
            got = self.stream(s).get("stats", {}).get("srt", {})
            return got if got.get("packets-received") and "rtt-ms" in got else None
        got = wait_for(ready, timeout, interval=0.5)
        self.assertTrue(got, f"no stats.srt while live: {self.stream(s)}")
        return got

    def play_low_latency(self, s):
        """hls.js in low-latency mode plays the live stream 4 s, parts loaded."""
        played = node("hls_player.mjs", "--url", s["playback_url"], "--seconds", "4",
                      "--low-latency")
        self.assertEqual(played["errors"], [], played)
        self.assertGreaterEqual(played["advanced"], 4, played)
        self.assertEqual((played["videoWidth"], played["videoHeight"]), (320, 240), played)
        self.assertGreater(played["parts"], 0, f"no part loaded: {played}")
        return played

    def assert_live_and_playing(self, s):
        got = self.wait_state(s["id"], "live")
        self.assertEqual(got["ingest"], "srt")
        self.assertEqual(got["pipeline"], "passthrough")
        pl = self.wait_segments(s, 1)
        self.assertEqual(validate(pl), [], pl)
        self.play_low_latency(s)

    def refused(self, stream_id, passphrase=None):
        """The reject reason a caller with stream_id gets (0: let in)."""
        return srtcaller.connect("127.0.0.1", self.launcher.srt_port, stream_id, passphrase)


class PublishTest(SrtCase):
    """Each real caller's H.264 + AAC goes live and plays."""

    def test_ffmpeg_goes_live_and_plays_in_hlsjs(self):
        s = self.create(title="ffmpeg")
        server = f"srt://127.0.0.1:{self.launcher.srt_port}"
        self.assertEqual(s["srt_url"], f"{server}?streamid={quote(s['key'])}")
        self.assertEqual(self.stream(s).get("srt_server"), server)
        self.assertNotIn("srt_url", self.stream(s))      # the key is not shown again

        self.caller(ffmpeg_publish(s["srt_url"], loop=True))
        self.assert_live_and_playing(s)

        link = self.wait_link_stats(s)
        self.assertGreaterEqual(link["rtt-ms"], 0)
        self.assertGreater(link["bytes-received"], 0)
        samples, types = self.scrape()
        self.assertGreaterEqual(self.value(samples, "castline_srt_connections_accepted_total"), 1)
        self.assertIsNotNone(self.value(samples, "castline_srt_connections_refused_total"))
        rtt = self.value(samples, "castline_srt_rtt_seconds", stream=s["id"])
        self.assertIsNotNone(rtt, sorted(n for n in samples if "srt" in n))
        self.assertGreater(self.value(samples, "castline_srt_packets_received_total", stream=s["id"]), 0)

        # SRT has no unpublish: the caller gone, the stream waits out the window, then ends
        finish(self.callers.pop(), kill=True)
        self.wait_state(s["id"], "ended", 30)
        final = parse(self.playlist(s))
        self.assertTrue(final.ended)
        self.assertEqual(validate(final), [])

    def test_srtsink_goes_live_and_plays_in_hlsjs(self):
        s = self.create(title="srtsink")
        self.caller(srtsink_publish(s["srt_url"], seconds=30))
        self.assert_live_and_playing(s)
        self.wait_link_stats(s)

    def test_three_callers_on_one_port_at_once(self):
        streams = [self.create(title=t) for t in ("a", "b", "c")]
        for s in streams:
            self.caller(ffmpeg_publish(s["srt_url"], loop=True))
        first = {}
        for s in streams:
            got = self.wait_state(s["id"], "live", 60)
            self.assertEqual(got["ingest"], "srt")
            pl = self.wait_segments(s, 1)
            first[s["id"]] = pl.media_sequence + len(pl.complete)
        for s in streams:        # each playlist grows on its own
            grown = wait_for(lambda: (self.live_playlist(s).media_sequence
                                      + len(self.live_playlist(s).complete)) > first[s["id"]], 20)
            self.assertTrue(grown, f"{s['id']}'s playlist did not grow")
            self.assertEqual(validate(self.live_playlist(s)), [])
        # three links, told apart in /metrics
        samples, _ = self.scrape()
        ids = {labels.get("stream") for labels, _ in samples.get("castline_srt_rtt_seconds", [])}
        self.assertEqual(ids, {s["id"] for s in streams})


    def test_ffmpeg_into_abr(self):
        """an abr stream takes the SRT caller as its input: a 320x240 input
        is below every rung, so the master names the lowest alone, the
        caller's own H.264 passed through, and AAC"""
        s = self.create(title="abr", pipeline="abr")
        self.caller(ffmpeg_publish(s["srt_url"], loop=True))
        got = self.wait_state(s["id"], "live", 60)
        self.assertEqual((got["ingest"], got["pipeline"]), ("srt", "abr"))

        def master():
            status, _, body = self.launcher.request("GET", f"/live/{s['id']}/index.m3u8")
            return stream_inf(body.decode()) if status == 200 else None
        entries = wait_for(master, 30, interval=0.5)
        self.assertTrue(entries, f"no master playlist:\n{self.launcher.output()[-3000:]}")
        self.assertEqual(len(entries), 1, entries)
        attrs, uri = entries[0]
        self.assertEqual(attrs["RESOLUTION"], "320x240")
        self.assertIn("mp4a.40.2", attrs["CODECS"])
        rung = f"/live/{s['id']}/{uri}"

        def rung_segments():
            status, _, body = self.launcher.request("GET", rung)
            pl = parse(body.decode()) if status == 200 else None
            return pl if pl and len(pl.complete) >= 2 else None
        pl = wait_for(rung_segments, 30, interval=0.5)
        self.assertTrue(pl, f"the rung made no segments:\n{self.launcher.output()[-3000:]}")
        self.assertEqual(validate(pl), [], pl)
        finish(self.callers.pop(), kill=True)
        self.wait_state(s["id"], "ended", 30)
        self.assertEqual(sps_of(annexb_units(self.url(rung))), sps_of(annexb_units(INPUT)),
                         "the rung re-encoded what it should pass through")


class RefusalTest(SrtCase):
    """What a caller that may not go live hears, and what stays as it was."""

    settings = {"srt": {}, "reconnect_window": 30}

    def test_wrong_key_and_unknown_id_are_unauthorized(self):
        s = self.create()
        self.assertEqual(self.refused(s["key"] + "x"), srtcaller.SRT_REJX_UNAUTHORIZED)
        self.assertEqual(self.refused("no-such-stream-key"), srtcaller.SRT_REJX_UNAUTHORIZED)
        self.assertEqual(self.refused(""), srtcaller.SRT_REJX_BAD_REQUEST)
        # what ffmpeg says: libsrt's words, no code
        code, err = finish(ffmpeg_publish(s["srt_url"].replace(quote(s["key"]), "wrong")), 30)
        self.assertNotEqual(code, 0, "ffmpeg was let in")
        self.assertIn("rejection reason", err)
        self.assertEqual(self.stream(s)["state"], "created")
        samples, _ = self.scrape()
        self.assertGreaterEqual(self.value(samples, "castline_srt_connections_refused_total"), 4)

    def test_request_mode_is_refused_publish_mode_admitted(self):
        s = self.create()
        self.assertEqual(self.refused(f"#!::r={s['key']},m=request"), srtcaller.SRT_REJX_BAD_MODE)
        self.assertEqual(self.stream(s)["state"], "created")
        # the Access Control form from ffmpeg: as it is in the URL (ffmpeg
        # 5.1 sends the streamid option verbatim, percent signs and all)
        url = f"srt://127.0.0.1:{self.launcher.srt_port}?streamid=#!::r={s['key']},m=publish"
        self.caller(ffmpeg_publish(url, loop=True))
        self.assertEqual(self.wait_state(s["id"], "live")["ingest"], "srt")

    def test_a_second_caller_is_a_conflict(self):
        s = self.create()
        first = self.caller(ffmpeg_publish(s["srt_url"], loop=True))
        self.wait_state(s["id"], "live")
        self.assertEqual(self.refused(s["key"]), srtcaller.SRT_REJX_CONFLICT)
        code, err = finish(ffmpeg_publish(s["srt_url"]), 30)
        self.assertNotEqual(code, 0, "a second ffmpeg was let in")
        self.assertIsNone(first.poll(), "the first caller was cut off")
        self.assertEqual(self.stream(s)["state"], "live")


class PassphraseTest(SrtCase):
    """srt.passphrase: every caller must encrypt with it."""

    settings = {"srt": {"passphrase": PASSPHRASE}, "reconnect_window": 2}

    def test_missing_or_wrong_passphrase_is_refused_the_right_one_plays(self):
        s = self.create()
        self.assertEqual(self.refused(s["key"]), srtcaller.SRT_REJ_UNSECURE)
        self.assertEqual(self.refused(s["key"], "not-the-passphrase"), srtcaller.SRT_REJ_BADSECRET)
        # ffmpeg prints libsrt's words for these two
        code, err = finish(ffmpeg_publish(s["srt_url"]), 30)
        self.assertNotEqual(code, 0)
        self.assertIn("Password required or unexpected", err)
        code, err = finish(ffmpeg_publish(with_options(s["srt_url"],
                                                       passphrase="not-the-passphrase")), 30)
        self.assertNotEqual(code, 0)
        self.assertIn("Incorrect passphrase", err)
        self.assertEqual(self.stream(s)["state"], "created")

        self.caller(ffmpeg_publish(with_options(s["srt_url"], passphrase=PASSPHRASE), loop=True))
        self.assertEqual(self.wait_state(s["id"], "live")["ingest"], "srt")
        self.wait_segments(s, 1)
        self.assertNotIn(PASSPHRASE, self.launcher.output(), "the passphrase is in the log")


class LossyLinkTest(SrtCase):
    """5 % of the datagrams dropped and up to 50 ms of jitter each way,
    the caller's latency 500 ms: SRT recovers it all: no broken segment or
    part, no gap, the caller's own H.264 and AAC."""

    maxDiff = None

    def test_no_broken_segment_through_loss_and_jitter(self):
        s = self.create(title="lossy")
        with UdpRelay(("127.0.0.1", self.launcher.srt_port), loss=0.05, jitter_ms=50,
                      seed=19) as relay:
            url = (f"srt://127.0.0.1:{relay.port}?streamid={quote(s['key'])}")
            pub = self.caller(ffmpeg_publish(with_options(url, latency=500000)))
            self.wait_state(s["id"], "live")
            link, parts, listed = {}, {}, {}
            deadline = time.monotonic() + SECONDS + 30
            while pub.poll() is None and time.monotonic() < deadline:
                link = self.stream(s).get("stats", {}).get("srt", link)
                pl = self.live_playlist(s)
                for seg in (pl.segments if pl else []):
                    # every part, fetched while it is listed (parts are kept
                    # for the last few segments only)
                    for p in seg.parts:
                        if p.uri not in parts:
                            parts[p.uri] = self.fetch(s, p.uri)
                    if seg.uri and len(seg.parts) > len(listed.get(seg.uri, [])):
                        listed[seg.uri] = [p.uri for p in seg.parts]
                time.sleep(0.3)
            code, err = finish(pub)
            counts = relay.counts()
        self.assertEqual(code, 0, err)
        print(f"\nlossy link: relay {counts}; stats.srt at the end {link}", file=sys.stderr)
        self.assertGreater(counts["up"]["dropped"], 0)
        self.assertGreater(counts["down"]["dropped"], 0)
        self.assertGreater(link.get("packets-lost", 0), 0, link)
        self.assertGreater(link.get("packets-retransmitted", 0), 0, link)
        self.assertEqual(link.get("packets-dropped"), 0, "packets given up (too late)")

        self.wait_state(s["id"], "ended", 30)
        final = parse(self.playlist(s))
        self.assertTrue(final.ended)
        self.assertEqual(validate(final), [])
        init = self.fetch(s, final.map_uri)
        # every segment decodes without an error, init and segment
        broken = {seg.uri: e for seg in final.complete
                  if (e := self.decode_errors(init + self.fetch(s, seg.uri)))}
        self.assertEqual(broken, {}, "segments that do not decode")
        # every part was served, and a segment's parts in order decode too
        self.assertTrue(listed, "no segment seen with its parts")
        self.assertEqual([u for u, data in parts.items() if data is None], [], "parts not served")
        broken = {uri: e for uri, uris in listed.items()
                  if (e := self.decode_errors(init + b"".join(parts[u] for u in uris)))}
        self.assertEqual(broken, {}, "parts that do not decode")
        # passed through: every H.264 slice and AAC frame is one that was sent
        self.assert_sent_as_it_was(self.url(f"/live/{s['id']}/index.m3u8"))
        # as long as what was sent (but the last latency's worth, which SRT
        # drops at the caller's close), with no gap: each segment starts
        # where the one before it ended
        total = sum(seg.duration for seg in final.complete)
        self.assertAlmostEqual(total, SECONDS, delta=1.0, msg="the HLS lasts as long as sent")
        starts = [first_video_pts(self.url(f"/live/{s['id']}/{seg.uri}"))
                  for seg in final.complete]
        for i in range(1, len(starts)):
            self.assertAlmostEqual(starts[i] - starts[i - 1], final.complete[i - 1].duration,
                                   delta=0.1, msg=f"a gap before {final.complete[i].uri}")

    def assert_sent_as_it_was(self, url):
        """url's H.264 (SPS, slices) and AAC (config, frames) are INPUT's,
        untouched, nearly all of them (not the last latency's worth)."""
        sent, got = annexb_units(INPUT), annexb_units(url)
        self.assertEqual(sps_of(got), sps_of(sent), "the SPS changed")
        known = set(slices_of(sent))
        self.assertTrue(all(n in known for n in slices_of(got)), "a slice that was not sent")
        self.assertGreaterEqual(len(slices_of(got)), 0.85 * len(known))
        sent_config, sent_frames = aac_frames(INPUT)
        got_config, got_frames = aac_frames(url)
        self.assertEqual(got_config, sent_config, "the AAC config changed")
        known = set(sent_frames)
        self.assertTrue(all(f in known for f in got_frames), "an AAC frame that was not sent")
        self.assertGreaterEqual(len(got_frames), 0.85 * len(known))

    def fetch(self, s, uri):
        """a file of the stream's HLS; None when not served"""
        status, _, body = self.launcher.request("GET", f"/live/{s['id']}/{uri}")
        return body if status == 200 else None

    def decode_errors(self, data):
        return decode_errors_of(data, launchercase.WORK)


class VanishTest(SrtCase):
    """A caller that vanishes (kill -9: no shutdown sent): interrupted, a
    new caller with the key within the window resumes, after it: ended."""

    settings = {"srt": {}, "reconnect_window": 8, "idle_timeout": 5}

    def test_a_vanished_caller_resumes_within_the_window_then_ends(self):
        s = self.create()
        self.caller(ffmpeg_publish(s["srt_url"], loop=True))
        self.wait_state(s["id"], "live")
        self.wait_segments(s, 1)
        finish(self.callers.pop(), kill=True)
        gone = time.monotonic()
        got = self.wait_state(s["id"], "interrupted", 20)
        print(f"\ninterrupted {time.monotonic() - gone:.1f} s after the caller was killed "
              f"({got.get('reason')})", file=sys.stderr)

        self.caller(ffmpeg_publish(s["srt_url"], loop=True))
        self.assertEqual(self.wait_state(s["id"], "live", 20)["ingest"], "srt")
        self.wait_for_file(s, "s2-segment")
        finish(self.callers.pop(), kill=True)
        self.wait_state(s["id"], "interrupted", 20)
        gone = time.monotonic()
        self.wait_state(s["id"], "ended", 8 + 15)
        self.assertGreaterEqual(time.monotonic() - gone, 8 - 1, "ended before the window")
        self.assertTrue(parse(self.playlist(s)).ended)

    def wait_for_file(self, s, prefix):
        folder = os.path.join(self.dir, "data", "live", s["id"])
        self.assertTrue(wait_for(lambda: any(f.startswith(prefix) for f in os.listdir(folder)),
                                 20), os.listdir(folder))


class StartTest(unittest.TestCase):
    def test_a_port_in_use_is_a_start_error(self):
        taken = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        taken.bind(("127.0.0.1", 0))
        launcher = Launcher(launchercase.case_dir(), srt={"port": taken.getsockname()[1]})
        try:
            launcher.start()
        except AssertionError as failed:     # it exited before its HTTP port answered
            said = str(failed)
        else:                                # HTTP answered a moment before SRT failed
            self.assertTrue(wait_for(lambda: launcher.proc.poll() is not None, 10),
                            "the launcher runs without its SRT port")
            said = launcher.output()
        finally:
            code = launcher.stop()
            taken.close()
        self.assertNotIn(code, (0, None), said)
        self.assertIn("castline-launcher: SRT: cannot listen on", said)


if __name__ == "__main__":
    unittest.main(verbosity=2)
