#!/usr/bin/python3
"""Glass-to-glass latency: Chromium WHIP publisher -> castline -> hls.js or WHEP.

Issue 7, item 4. Runs the launcher built in $CASTLINE_BUILD_DIR (default
build/) on 127.0.0.1 with 1 s segments and a stream on the `passthrough`
pipeline (Chromium's H.264 goes to HLS as it is). latency_publisher.mjs
paints the time on a canvas 30 times a second and publishes it over WHIP;
latency_player.mjs plays the stream with hls.js, one player per hls.js
setting below, side by side, and reads the time back off the frames on
screen. Prints and writes (--json FILE):

  per hls.js setting: glass-to-glass (display time - painted time) and
  PROGRAM-DATE-TIME latency (now - hls.playingDate) median and p95, the
  difference (capture to ingest, which the dates cannot see), the player's
  hold-back behind the newest segment it knows, stalls (`waiting` events,
  hls.js bufferStalledError) in the measured window;
  the segments: EXTINF (the launcher asks the publisher for keyframes, so
  a segment is cut at the first keyframe past 0.9 s), segment end (its
  date + EXTINF) to the file closed on disk (mtime), and to the segment
  listed in the served playlist (polled every 50 ms).

With --whep (issue 17) the player plays the stream over WebRTC instead:
Chromium POSTs a recvonly offer to the stream's WHEP URL and shows what
it receives; the figures are glass-to-glass p50 / p90 / max (target: p50
<= 400 ms on loopback), POST -> first frame, and the receiver's own
view (frames decoded and dropped, freezes, jitter-buffer delay).

With --llhls (issue 18) two runs side by side, each on the launcher's
defaults (2 s segments): classic HLS (hls.low_latency false) played with
hls.js's defaults, then Low-Latency HLS (parts of hls.part_target, 0.3 s,
blocking playlist reload) played with hls.js in low-latency mode as the
watch page plays it (lowLatencyMode: PART-HOLD-BACK behind the newest
part; maxLiveSyncPlaybackRate 1.1: up to 10 % faster to get there);
goal: p50 <= 1.5 s for LL-HLS.

  bench/latency.py [--quick] [--json FILE] [--configs JSON] [--whep] [--llhls]
  --quick     10 s warm-up, 15 s measured: about 45 s in all
              (--whep: 5 s warm-up, 20 s measured)
  (default)   15 s warm-up, 45 s measured: about 80 s in all
              (--whep: 10 s warm-up, 60 s measured)
  --configs   the hls.js settings to compare, as [{"name", "hls": {...}}]
  --whep      play over WHEP, not HLS
  Every wait is bounded; the whole run is killed past 4 minutes.
Needs node, Debian's chromium and node_modules (scripts/setup.sh).
Asserts nothing."""
import argparse
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
import benchlib  # noqa: E402

benchlib.setup_paths()
from launcherproc import Launcher, wait_for  # noqa: E402

SEGMENT_SECONDS = 1
TARGET_MS = 3000
WHEP_TARGET_MS = 400   # glass to glass, p50, over WHEP
RUN_BOUND_S = 480     # the whole run (--llhls: two); the finally blocks still clean up
LLHLS_TARGET_MS = 1500  # glass to glass, p50, LL-HLS with hls.js low-latency mode
# --llhls: (name, the launcher's hls settings, hls.js's) for each run
LLHLS_RUNS = [
    ("classic HLS, hls.js defaults", {"target_duration": 2, "low_latency": False}, {}),
    # as the watch page plays it: up to 10 % faster to reach PART-HOLD-BACK after a late start
    ("LL-HLS, hls.js lowLatencyMode", {"target_duration": 2, "low_latency": True},
     {"lowLatencyMode": True, "maxLiveSyncPlaybackRate": 1.1}),
]

# hls.js 1.7.4 defaults (liveSyncDurationCount 3: three target durations
# behind the newest segment's end, never caught up: a player stays as late
# as it started), and two low-latency settings: one or one and a half
# segments of hold-back, with playback up to 10 % faster (hls.js's
# lowLatencyMode, on by default, does that with maxLiveSyncPlaybackRate > 1)
# to win back a late start or a stall instead of staying late.
CONFIGS = [
    {"name": "hls.js defaults", "hls": {}},
    {"name": "low latency 1 segment", "hls": {"liveSyncDurationCount": 1, "maxLiveSyncPlaybackRate": 1.1}},
    {"name": "low latency 1.5 s", "hls": {"liveSyncDuration": 1.5, "liveMaxLatencyDuration": 5,
                                          "maxLiveSyncPlaybackRate": 1.1}},
]


def spread(values):
    values = [v for v in values if v is not None]
    if not values:
        return {"n": 0, "median": None, "p90": None, "p95": None, "max": None}
    return {"n": len(values), "median": round(benchlib.percentile(values, 0.5)),
            "p90": round(benchlib.percentile(values, 0.9)),
            "p95": round(benchlib.percentile(values, 0.95)), "max": round(max(values))}


def parse_time(iso):
    """Seconds since 1970 of the launcher's EXT-X-PROGRAM-DATE-TIME
    (2026-12-01T09:52:18.533Z)."""
    from datetime import datetime, timezone
    return datetime.strptime(iso, "%Y-%m-%dT%H:%M:%S.%fZ").replace(tzinfo=timezone.utc).timestamp()


class SegmentTimes(threading.Thread):
    """Polls the served playlist every 50 ms and notes, per segment, its
    date, EXTINF, its file's mtime on disk and when it was first listed."""

    def __init__(self, url, directory):
        super().__init__(daemon=True)
        self.url = url
        self.dir = directory
        self.segments = {}      # uri -> {"pdt", "extinf", "mtime", "listed"}
        self.target = None
        self.halt = threading.Event()

    def run(self):
        while not self.halt.wait(0.05):
            try:
                with urllib.request.urlopen(self.url, timeout=5) as r:
                    text = r.read().decode()
            except OSError:
                continue
            now = time.time()
            pdt = extinf = None
            for line in text.splitlines():
                if line.startswith("#EXT-X-TARGETDURATION:"):
                    self.target = int(line.split(":", 1)[1])
                elif line.startswith("#EXT-X-PROGRAM-DATE-TIME:"):
                    pdt = parse_time(line.split(":", 1)[1])
                elif line.startswith("#EXTINF:"):
                    extinf = float(re.match(r"#EXTINF:([0-9.]+)", line).group(1))
                elif line and not line.startswith("#"):
                    if line not in self.segments and pdt is not None and extinf is not None:
                        try:
                            mtime = os.stat(os.path.join(self.dir, line)).st_mtime
                        except OSError:
                            mtime = None
                        self.segments[line] = {"pdt": pdt, "extinf": extinf, "mtime": mtime,
                                               "listed": now}
                    pdt = extinf = None

    def summary(self, since):
        """Figures over the segments that started after `since` (s since
        1970) but the last (a publisher's DELETE cuts it short)."""
        segs = sorted((s for s in self.segments.values() if s["pdt"] >= since),
                      key=lambda s: s["pdt"])[:-1]
        extinf = [s["extinf"] for s in segs]
        closed = [(s["mtime"] - s["pdt"] - s["extinf"]) * 1000 for s in segs if s["mtime"]]
        listed = [(s["listed"] - s["pdt"] - s["extinf"]) * 1000 for s in segs]
        return {"count": len(segs), "target_duration": self.target,
                "extinf": extinf, "over_target": sum(1 for x in extinf if round(x) > (self.target or 0)),
                "extinf_min": round(min(extinf), 3) if extinf else None,
                "extinf_median": round(benchlib.percentile(extinf, 0.5), 3) if extinf else None,
                "extinf_max": round(max(extinf), 3) if extinf else None,
                "end_to_file_closed_ms": spread(closed),
                "end_to_listed_ms": spread(listed)}


def node_driver(script, args, **kw):
    return subprocess.Popen(["node", os.path.join(HERE, script), *args], **kw)


def last_json_line(text):
    for line in reversed(text.splitlines()):
        if line.startswith("{"):
            return json.loads(line)
    return None


def player_row(player):
    """One hls.js setting's figures from its player's samples."""
    samples = player["samples"]
    glass = [s[0] for s in samples]
    pdt = [s[1] for s in samples]
    row = {"name": player["name"], "hls": player.get("hls"), "samples": len(samples),
           "unread": player["unread"], "glass_ms": spread(glass), "pdt_ms": spread(pdt),
           "capture_to_ingest_ms": spread([g - p for g, p, *_ in samples
                                           if g is not None and p is not None]),
           "ingest_to_edge_ms": spread([p - e for _, p, e, *_ in samples
                                        if p is not None and e is not None]),
           "hold_back_ms": spread([s[2] for s in samples]),
           "buffer_ahead_ms": spread([s[3] for s in samples]),
           "max_rate": max((s[4] for s in samples), default=None),
           "waiting": player["waiting"], "stalled_ms": round(player["stalledMs"]),
           "buffer_stalled_errors": player["bufferStalled"], "waiting_in_warmup": player["waitingWarmup"],
           "fatal": player["fatal"], "size": f"{player.get('width')}x{player.get('height')}",
           "visibility": player["visibility"], "started": player["started"],
           "glass_ms_by_5s": [spread(glass[i:i + 25])["median"] for i in range(0, len(glass), 25)]}
    if player.get("webrtc") is not None:
        row["webrtc"] = player["webrtc"]
        row["meets_target"] = (row["glass_ms"]["median"] is not None
                               and row["glass_ms"]["median"] <= WHEP_TARGET_MS and not player["fatal"])
    else:
        row["meets_target"] = (row["glass_ms"]["p95"] is not None and row["glass_ms"]["p95"] <= TARGET_MS
                               and not player["waiting"] and not player["fatal"])
    return row


def measure(directory, warmup, seconds, configs, whep=False, hls=None):
    hls = hls or {"target_duration": SEGMENT_SECONDS, "low_latency": False}
    launcher = Launcher(directory, hls=dict(hls, playlist_length=6, max_files=12)).start()
    publisher = None
    publisher_log = open(os.path.join(directory, "publisher.log"), "w+")
    watcher = None
    try:
        status, stream = launcher.api("POST", "/api/streams", {"title": "latency",
                                                               "pipeline": "passthrough"})
        assert status == 201, stream
        playlist = f"http://127.0.0.1:{launcher.port}/live/{stream['id']}/index.m3u8"
        publisher = node_driver("latency_publisher.mjs",
                                ["--url", stream["whip_url"], "--max-seconds", str(warmup + seconds + 120)],
                                env=dict(os.environ, WHIP_KEY=stream["key"]), stdin=subprocess.PIPE,
                                stdout=publisher_log, stderr=subprocess.STDOUT)
        watcher = SegmentTimes(playlist, os.path.join(directory, "data", "live", stream["id"]))
        watcher.start()
        if not wait_for(lambda: len(watcher.segments) >= 3 or publisher.poll() is not None, 40):
            raise RuntimeError("no segments within 40 s:\n" + launcher.output()[-2000:])
        if publisher.poll() is not None:
            publisher_log.seek(0)
            raise RuntimeError("the publisher ended:\n" + publisher_log.read()[-2000:])
        source = (["--whep", stream.get("whep_url")
                   or f"http://127.0.0.1:{launcher.port}/whep/{stream['id']}"] if whep
                  else ["--url", playlist, "--configs", json.dumps(configs)])
        player = subprocess.run(["node", os.path.join(HERE, "latency_player.mjs"), *source,
                                 "--warmup", str(warmup), "--seconds", str(seconds)],
                                capture_output=True, text=True, timeout=warmup + seconds + 120)
        played = last_json_line(player.stdout)
        if not played:
            raise RuntimeError("the player gave no result:\n" + player.stderr[-2000:])
    finally:
        if watcher:
            watcher.halt.set()
        if publisher:
            publisher.stdin.close()          # the publisher DELETEs its session
            try:
                publisher.wait(timeout=60)
            except subprocess.TimeoutExpired:
                publisher.kill()
                publisher.wait()
        launcher.stop()
        publisher_log.seek(0)
        published = last_json_line(publisher_log.read()) or {}
        publisher_log.close()
    rows = [player_row(p) for p in played["players"]]
    measured_from = min((r["started"] for r in rows if r["started"]), default=0) / 1000 + warmup
    return {"publisher": published, "segments": watcher.summary(measured_from), "rows": rows,
            "hls_config": hls}


def fmt(s):
    return "-" if s["median"] is None else f"{s['median']} / {s['p95']}"


def report_whep(result):
    print(f"glass-to-glass latency, Chromium WHIP -> castline -> WHEP -> Chromium; ms; "
          f"target p50 <= {WHEP_TARGET_MS} ms")
    rows = []
    for r in result["rows"]:
        g, w = r["glass_ms"], r.get("webrtc") or {}
        rows.append([r["name"], g["median"], g["p90"], g["max"], f"{r['unread']}/{r['samples']}",
                     w.get("postToFirstFrameMs"), w.get("jitterBufferMs"),
                     f"{w.get('framesDecoded')}/{w.get('framesDropped')}",
                     f"{w.get('freezeCount')} ({w.get('totalFreezesDuration')} s)", w.get("packetsLost"),
                     r["size"], "met" if r["meets_target"] else "missed"])
    benchlib.print_table(["player", "p50", "p90", "max", "unread", "POST->1st frame",
                          "jitter buffer", "decoded/dropped", "freezes", "lost", "size", "target"], rows)
    for r in result["rows"]:
        if r["fatal"]:
            print(f"  {r['name']}: fatal {r['fatal']}")
    print("  jitter buffer: the receiver's mean jitterBufferDelay a frame (inbound-rtp); "
          "freezes: its freezeCount (totalFreezesDuration)")
    report_publisher(result["publisher"])


def meets(row, hls, target_ms):
    """classic: the row's own verdict (p95 within TARGET_MS, no stall); LL-HLS: p50 within target_ms"""
    if not hls.get("low_latency"):
        return row["meets_target"]
    return row["glass_ms"]["median"] is not None and row["glass_ms"]["median"] <= target_ms


def report(result, target_ms=TARGET_MS):
    h = result.get("hls_config", {})
    kind = (f"LL-HLS, {h.get('target_duration')} s segments, parts of {h.get('part_target', 0.3)} s"
            if h.get("low_latency") else f"classic HLS, {h.get('target_duration', SEGMENT_SECONDS)} s segments")
    print(f"glass-to-glass latency, Chromium WHIP -> castline (passthrough, {kind}) -> hls.js; "
          f"ms, median / p95; target {'p50' if h.get('low_latency') else 'p95'} <= {target_ms} ms")
    benchlib.print_table(
        ["hls.js", "glass-to-glass", "PDT (now-playingDate)", "capture->ingest", "ingest->edge",
         "hold-back", "waiting", "stalled ms", "unread", "target"],
        [[r["name"], fmt(r["glass_ms"]), fmt(r["pdt_ms"]), fmt(r["capture_to_ingest_ms"]),
          fmt(r["ingest_to_edge_ms"]), fmt(r["hold_back_ms"]), r["waiting"], r["stalled_ms"],
          f"{r['unread']}/{r['samples']}", "met" if meets(r, h, target_ms) else "missed"]
         for r in result["rows"]])
    print("  capture->ingest = glass-to-glass - PDT (what the dates cannot see); ingest->edge = "
          "PDT - hold-back (age of the newest segment the player knows); hold-back = that "
          "segment's end - playhead; waiting: `waiting` events in the measured window; target "
          "met: p95 within it and no stall")
    for r in result["rows"]:
        print(f"  {r['name']}: {json.dumps(r['hls'])}, video {r['size']}, "
              f"max playbackRate {r['max_rate']}, bufferStalledError {r['buffer_stalled_errors']}"
              + (f", fatal {r['fatal']}" if r["fatal"] else ""))
    s = result["segments"]
    print(f"segments measured: {s['count']}, EXTINF min/median/max {s['extinf_min']}/"
          f"{s['extinf_median']}/{s['extinf_max']} s, TARGETDURATION {s['target_duration']} "
          f"({s['over_target']} over it, rounded as RFC 8216 rounds); "
          f"segment end -> file closed {fmt(s['end_to_file_closed_ms'])} ms, "
          f"-> listed in the playlist {fmt(s['end_to_listed_ms'])} ms")
    report_publisher(result["publisher"])


def report_publisher(p):
    print(f"publisher: {p.get('codec')} ({p.get('encoder')}) {p.get('width')}x{p.get('height')}, "
          f"{p.get('framesEncoded')} frames, {p.get('keyFramesEncoded')} keyframes "
          f"(PLI {p.get('pliCount')}, FIR {p.get('firCount')}), quality limit "
          f"{p.get('qualityLimitation')}")


class Overrun(Exception):
    pass


def overrun(signum, frame):
    raise Overrun(f"the run took over {RUN_BOUND_S} s")


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true", help="15 s measured instead of 45 s")
    ap.add_argument("--json", metavar="FILE", help="write the figures there as JSON")
    ap.add_argument("--configs", help="hls.js settings to compare, as JSON")
    ap.add_argument("--whep", action="store_true", help="play over WHEP (WebRTC), not HLS")
    ap.add_argument("--llhls", action="store_true",
                    help="classic HLS against LL-HLS, each with the launcher's defaults")
    args = ap.parse_args()
    for tool in ("node", "chromium"):
        if not shutil.which(tool):
            sys.exit(f"{tool} is not installed (scripts/setup.sh)")
    if args.whep:
        warmup, seconds = (5, 20) if args.quick else (10, 60)
    else:
        warmup, seconds = (10, 15) if args.quick else (15, 45)
    configs = json.loads(args.configs) if args.configs else CONFIGS
    load = os.getloadavg()
    signal.signal(signal.SIGALRM, overrun)
    signal.alarm(RUN_BOUND_S)
    if args.llhls:
        runs = []
        for name, hls, player in LLHLS_RUNS:
            with tempfile.TemporaryDirectory(prefix="castline-latency-") as directory:
                runs.append(measure(directory, warmup, seconds, [{"name": name, "hls": player}], hls=hls))
            report(runs[-1], LLHLS_TARGET_MS if hls["low_latency"] else TARGET_MS)
        benchlib.write_json(args.json, {"benchmark": "latency-llhls", "machine": benchlib.machine(),
                                        "load_before": load, "warmup_s": warmup, "measured_s": seconds,
                                        "runs": runs, "target_ms": LLHLS_TARGET_MS,
                                        "command": "bench/latency.py --llhls" + (" --quick" if args.quick else "")})
        return
    with tempfile.TemporaryDirectory(prefix="castline-latency-") as directory:
        result = measure(directory, warmup, seconds, configs, whep=args.whep)
    result.update({"benchmark": "latency-whep" if args.whep else "latency", "machine": benchlib.machine(),
                   "load_before": load, "segment_seconds": SEGMENT_SECONDS, "warmup_s": warmup,
                   "measured_s": seconds, "target_ms": WHEP_TARGET_MS if args.whep else TARGET_MS,
                   "command": "bench/latency.py" + (" --whep" if args.whep else "")
                   + (" --quick" if args.quick else "")})
    (report_whep if args.whep else report)(result)
    benchlib.write_json(args.json, result)


if __name__ == "__main__":
    main()
