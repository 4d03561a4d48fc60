#!/usr/bin/python3
"""Streams per machine (issue 7, item 2): how many live streams one
castline-launcher sustains in real time on this machine, for
  c  1280x720 H.264 Matroska in, no video re-encode (`passthrough`), up to 64
  b  1280x720 VP8 WebM in, x264 720p out (`transcode`), up to 16

Each step runs k concurrent streams for N s of media (default 20): every
publisher sends the same recording over the WebSocket ingest in 500 ms
chunks at their timestamps (as MediaRecorder does), their starts spread
over one chunk interval. All publishers are one asyncio process with
frames built once, so the load generator stays cheap; its CPU is
measured and printed. k = 1, 2, 4, ... until a step fails or the cap,
then bisection between the last good and the first bad k (to within an
eighth of it).

A step keeps up when, for every stream: the ingest took it (101) and did
not close it early; no chunk went out more than 1 s after its time (the
launcher read what it was sent); each segment's announce delay (when it
showed up in the playlist, after the publisher sent its last frame) grew
by less than one target duration from the smallest to the last one
listed before the end (a pipeline that falls behind lists each segment
later than the one before; the delay itself is not judged, because
splitmuxsink announces a segment only at the next keyframe, or for
publisher keyframes exactly one target duration apart, the one after:
the raw lag, media sent minus media listed at the last chunk, is printed
too); and after stop-stream, its final playlist (#EXT-X-ENDLIST) came
within one target duration (the backlog left to catch up with).
Asserts nothing.

  bench/streams_per_machine.py [--seconds N] [--jobs cb] [--json FILE] [--quick]
  CASTLINE_BUILD_DIR    the build with castline-launcher (default: build)

Time: each step takes N + about 6 s (more for large k); bounded to 250 s
for c and 110 s for b (no step starts that would end past that): at most
about 6 min. --quick: N = 6, k = 1
and 2 for c, k = 1 for b, under 60 s.
"""
import argparse
import asyncio
import os
import shutil
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import benchlib  # noqa: E402

benchlib.setup_paths()
from launcherproc import Launcher, quote  # noqa: E402

HLS_TIME = 2
INTERVAL = 0.5            # the publishers' chunk interval (MediaRecorder's timeslice)
MAX_LATE = 1.0            # a send later than this behind its schedule: backpressure
MODES = {
    "c": {"title": "H.264 720p in, passthrough", "kind": "h264", "pipeline": "passthrough",
          "cap": 64, "budget": 250},
    "b": {"title": "VP8 720p in, x264 720p out", "kind": "vp8", "pipeline": "transcode",
          "cap": 16, "budget": 110},
}


def run_step(launcher, mode, frames, k, seconds):
    """k concurrent streams of mode; the step's figures and verdict."""
    pid = launcher.proc.pid
    streams = []
    for i in range(k):
        status, s = launcher.api("POST", "/api/streams", {"title": f"load {i}",
                                                           "pipeline": mode["pipeline"]})
        if status != 201:
            raise RuntimeError(f"stream creation failed: {status} {s}")
        streams.append(s)
    watchers = [benchlib.HlsWatcher(os.path.join(launcher.dir, "data", "live", s["id"], "index.m3u8"))
                for s in streams]
    lags = [None] * k         # media sent - media in the playlist, at the last chunk
    growth = [None] * k       # the last segment's announce delay - the smallest one
    drains = [None] * k       # last chunk -> final playlist
    window = {}

    async def run():
        loop = asyncio.get_running_loop()
        start = loop.time() + 0.5
        t0 = [start + i * INTERVAL / k for i in range(k)]
        window["cpu"] = (benchlib.cpu_seconds(pid), benchlib.self_cpu_seconds(),
                         benchlib.machine_busy(), start)

        def at_end(i):
            def record():
                watchers[i].poll()
                lags[i] = loop.time() - t0[i] - watchers[i].media_seconds()
                delays = watchers[i].announce_delays(t0[i])
                growth[i] = delays[-1] - min(delays) if delays else None
                if all(x is not None for x in lags):       # the last stream's last chunk
                    window["end"] = (benchlib.cpu_seconds(pid), benchlib.self_cpu_seconds(),
                                     benchlib.machine_busy(), loop.time())
            return record

        async def drain(i, sender):
            result = await sender
            if result.last_sent is None:
                return result
            while drains[i] is None and loop.time() < result.last_sent + 30:
                watchers[i].poll()
                if watchers[i].all_ended():
                    drains[i] = loop.time() - result.last_sent
                await asyncio.sleep(0.1)
            return result

        async def follow():
            # when each segment shows up, for its announce delay
            while not all(x is not None for x in lags):
                for w in watchers:
                    w.poll()
                await asyncio.sleep(0.2)

        senders = [follow()]
        for i, s in enumerate(streams):
            target = (f"/ingest/{s['id']}?key={quote(s['key'])}"
                      f"&mimeType={quote(benchlib.MIME[mode['kind']])}")
            sender = asyncio.ensure_future(benchlib.publish(launcher.port, target, frames, t0[i],
                                                            before_stop=at_end(i)))
            senders.append(drain(i, sender))
        done = (await asyncio.gather(*senders))[1:]
        if "end" not in window:                           # some stream never got to its end
            window["end"] = (benchlib.cpu_seconds(pid), benchlib.self_cpu_seconds(),
                             benchlib.machine_busy(), loop.time())
        return done

    results = asyncio.run(run())
    deadline = time.monotonic() + 30         # every stream ended before the next step
    while time.monotonic() < deadline:
        states = [launcher.api("GET", f"/api/streams/{s['id']}")[1].get("state") for s in streams]
        if all(st in ("ended", "failed") for st in states):
            break
        time.sleep(0.5)

    step = {"k": k, "seconds": seconds}
    if "end" in window:
        (l0, s0, m0, w0), (l1, s1, m1, w1) = window["cpu"], window["end"]
        wall = w1 - w0
        step.update({"launcher_cpu_per_s": round((l1 - l0) / wall, 3),
                     "publisher_cpu_per_s": round((s1 - s0) / wall, 3),
                     "machine_busy": round(benchlib.machine_share(m0, m1), 3)})
    bad = []
    for i, r in enumerate(results):
        if r.status != 101:
            bad.append(f"stream {i}: ingest answered {r.status}")
        elif r.closed_early:
            bad.append(f"stream {i}: closed early ({r.close_code})")
        elif r.max_late > MAX_LATE:
            bad.append(f"stream {i}: a send {r.max_late:.1f} s late")
        elif growth[i] is None or growth[i] >= HLS_TIME:
            bad.append(f"stream {i}: segments listed {growth[i] or 0:.1f} s later at the end than at "
                       "the start" if growth[i] is not None else f"stream {i}: no segment")
        elif drains[i] is None or drains[i] >= HLS_TIME:
            bad.append(f"stream {i}: final playlist "
                       + (f"{drains[i]:.1f} s" if drains[i] is not None else "never")
                       + " after stop")
    known = [x for x in lags if x is not None]
    done = [x for x in drains if x is not None]
    step.update({"keeps_up": not bad, "problems": bad[:5], "problem_count": len(bad),
                 "worst_lag_s": round(max(known), 2) if known else None,
                 "worst_growth_s": round(max(g for g in growth if g is not None), 2)
                 if any(g is not None for g in growth) else None,
                 "worst_drain_s": round(max(done), 2) if done else None,
                 "worst_send_late_s": round(max(r.max_late for r in results), 3)})
    return step


def search(launcher, mode, frames, seconds, quick):
    """k = 1, 2, 4, ... then bisection; the steps run, in order."""
    steps, good, bad = [], 0, None
    bounded = None
    started = time.monotonic()
    last = {"k": 1, "wall": seconds + 6.0}   # the last step's size and wall time, to predict the next

    def predicted(k):
        """A step's wall time: media time plus set-up and ending, which grow with k."""
        overhead = max(0.0, last["wall"] - seconds)
        return seconds + overhead * max(1.0, k / last["k"])

    def try_k(k):
        nonlocal bounded
        if time.monotonic() - started + predicted(k) > mode["budget"]:
            bounded = "time"
            return None
        began = time.monotonic()
        s = run_step(launcher, mode, frames, k, seconds)
        s["wall_s"] = round(time.monotonic() - began, 1)
        last.update(k=k, wall=s["wall_s"])
        steps.append(s)
        print(f"  k={k:3}: {'keeps up' if s['keeps_up'] else 'falls behind'}; launcher "
              f"{s.get('launcher_cpu_per_s')} CPU s/s, publishers {s.get('publisher_cpu_per_s')}, machine "
              f"{100 * s.get('machine_busy', 0):.0f} % busy; worst lag {s['worst_lag_s']} s, growth "
              f"{s['worst_growth_s']} s, drain "
              f"{s['worst_drain_s']} s, send late {s['worst_send_late_s']} s"
              + (f"; {s['problem_count']} streams: {s['problems'][0]}" if s["problems"] else "")
              + f" ({s['wall_s']} s)",
              flush=True)
        return s["keeps_up"]

    k = 1
    limit = 2 if quick and mode["pipeline"] == "passthrough" else 1 if quick else mode["cap"]
    while k <= limit:
        ok = try_k(k)
        if ok is None:
            break
        if not ok:
            bad = k
            break
        good = k
        k *= 2
    if bad is None and good < limit and k > limit and not quick:
        ok = try_k(limit)                      # the cap itself, if doubling stepped over it
        if ok:
            good = limit
        elif ok is False:
            bad = limit
    while bad is not None and bad - good > max(1, good // 8):
        mid = (good + bad) // 2
        ok = try_k(mid)
        if ok is None:
            break
        good, bad = (mid, bad) if ok else (good, mid)
    return good, bad, steps, bounded


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--seconds", type=int, default=None, help="media seconds per step (20)")
    ap.add_argument("--jobs", default="cb", help="c and/or b (both)")
    ap.add_argument("--json", default=None, help="write the figures here as JSON")
    ap.add_argument("--quick", action="store_true", help="short smoke run (<= 60 s)")
    opts = ap.parse_args()
    seconds = opts.seconds or (6 if opts.quick else 20)

    work = tempfile.mkdtemp(prefix="castline-load-")
    results = {"machine": benchlib.machine(), "media_seconds_per_step": seconds, "quick": opts.quick,
               "criteria": {"max_send_late_s": MAX_LATE, "max_announce_delay_growth_s": HLS_TIME,
                            "max_drain_s": HLS_TIME, "chunk_interval_s": INTERVAL},
               "modes": {}}
    try:
        for key in opts.jobs:
            mode = MODES[key]
            _, data = benchlib.make_input(work, mode["kind"], seconds)
            frames = benchlib.ws_frames(benchlib.recorder_chunks(data))
            directory = tempfile.mkdtemp(prefix=f"launcher-{key}-", dir=work)
            launcher = Launcher(directory, idle_timeout=10, shutdown_timeout=15,
                                max_live_streams=mode["cap"],
                                hls={"target_duration": HLS_TIME, "playlist_length": 5,
                                     "max_files": 10})
            launcher.start()
            print(f"[{key}] {mode['title']}: streams of {seconds} s", flush=True)
            try:
                good, bad, steps, bounded = search(launcher, mode, frames, seconds, opts.quick)
            finally:
                launcher.stop()
            at = next((s for s in steps if s["k"] == good and s["keeps_up"]), None)
            results["modes"][key] = {"title": mode["title"], "pipeline": mode["pipeline"],
                                     "cap": mode["cap"], "max_sustained": good,
                                     "first_failing": bad, "bounded_by": bounded,
                                     "at_max": at, "steps": steps}
    finally:
        shutil.rmtree(work, ignore_errors=True)

    m = results["machine"]
    print(f"\nStreams per machine: {m['cpu']} x{m['cores']}, {m['memory_mib']} MiB; {seconds} s per step; "
          f"load average at start {m['load_average'][0]:.2f}")
    rows = []
    for key, r in results["modes"].items():
        at = r["at_max"] or {}
        tested = max((s["k"] for s in r["steps"]), default=0)
        rows.append([key, r["title"], r["max_sustained"], r["first_failing"] or f"none up to {tested}",
                     at.get("launcher_cpu_per_s"), at.get("publisher_cpu_per_s"),
                     f"{100 * at['machine_busy']:.0f} %" if at else None, r["bounded_by"] or ""])
    benchlib.print_table(["job", "what", "max sustained", "first failing", "launcher CPU s/s",
                          "publishers CPU s/s", "machine busy", "bounded by"], rows)
    print("\nCPU s/s at the max: cores' worth the launcher used (2 = all of this machine); the "
          "publishers (this script, one process) share the machine and are counted in 'machine busy'.\n"
          "Figures taken while other work loads the machine are not final.")
    benchlib.write_json(opts.json, results)


if __name__ == "__main__":
    main()
