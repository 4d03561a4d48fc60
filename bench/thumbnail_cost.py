#!/usr/bin/python3
"""What thumbnails cost (issue 22): castline-launcher with N live RTMP
streams passed through (H.264 720p with B-frames, AAC; no re-encode), with
thumbnails (thumbnails.interval 5: a keyframe decoded, scaled to 320 px
and encoded JPEG every 5 s a stream) and without (interval 0), in turn.

Input: one MP4 made once per run with FFmpeg (tests/integration/
ffmpegpublisher.py's make_input): --size (1280x720) 30 fps `testsrc`,
libx264 veryfast (B-frames), a keyframe every 2 s, AAC. Every publisher
is one FFmpeg pushing it in a loop at real time, no re-encode:
  ffmpeg -re -stream_loop -1 -i in.mp4 -c copy -f flv rtmp://127.0.0.1:PORT/live/KEY

For each round and mode (off, then on: alternating, so both see about the
same load from the rest of the machine), a fresh launcher: N streams, N
publishers, --warmup s until every stream is live and settled, then
--window s measured: the launcher's CPU (utime + stime of all its threads,
/proc/PID/stat; the publishers apart) and its RSS at the window's end
minus its RSS when idle. Each mode's figure is its round with the least
CPU (the one other work disturbed least). The cost of thumbnails is the
difference, a stream: CPU seconds a minute, per cent of one core, and MiB.
The thumbnails written in the window are counted (about window / 5 a
stream). Asserts nothing.

  bench/thumbnail_cost.py [--streams N] [--window S] [--warmup S] [--rounds R] [--json FILE]
  CASTLINE_BUILD_DIR    the build with castline-launcher (default: build)

Time: about R x 2 x (window + warmup + 5) s plus the input: ~2.5 min with
the defaults (N = 5, window 40 s, warm-up 8 s, R = 1).
"""
import argparse
import os
import shutil
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import benchlib  # noqa: E402

benchlib.setup_paths()
import ffmpegpublisher  # noqa: E402
from launcherproc import Launcher  # noqa: E402


def thumbnail_mtimes(data_dir, ids):
    """{id: mtime of its thumbnail.jpg, or None}"""
    out = {}
    for i in ids:
        try:
            out[i] = os.stat(os.path.join(data_dir, "live", i, "thumbnail.jpg")).st_mtime_ns
        except OSError:
            out[i] = None
    return out


def run_mode(work, source, interval, args):
    """One launcher with args.streams live streams, thumbnails every
    interval s (0: off): its CPU and memory over the window."""
    d = tempfile.mkdtemp(prefix=f"thumb-{interval}-", dir=work)
    launcher = Launcher(d, rtmp={}, idle_timeout=60, max_live_streams=max(16, args.streams),
                        thumbnails={"interval": interval}).start()
    pid = launcher.proc.pid
    pubs = []
    try:
        time.sleep(1)
        rss_idle = benchlib.rss_kib(pid)
        ids = []
        for n in range(args.streams):
            status, s = launcher.api("POST", "/api/streams", {"title": f"bench {n}"})
            if status != 201:
                raise RuntimeError(f"stream creation failed: {status} {s}")
            ids.append(s["id"])
            pubs.append(ffmpegpublisher.publish(source, s["rtmp_url"], loop=True))
            time.sleep(0.05)
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            live = [launcher.api("GET", f"/api/streams/{i}")[1].get("state") for i in ids]
            if all(x == "live" for x in live):
                break
            time.sleep(0.5)
        else:
            raise RuntimeError(f"not every stream went live: {live}")
        time.sleep(args.warmup)
        data_dir = os.path.join(d, "data")
        before = thumbnail_mtimes(data_dir, ids)
        cpu0, t0 = benchlib.cpu_seconds(pid), time.monotonic()
        written = {i: 0 for i in ids}
        last = dict(before)
        while time.monotonic() - t0 < args.window:
            time.sleep(0.5)
            now = thumbnail_mtimes(data_dir, ids)
            for i in ids:
                if now[i] is not None and now[i] != last[i]:
                    written[i] += 1
            last = now
        elapsed = time.monotonic() - t0
        cpu = benchlib.cpu_seconds(pid) - cpu0
        rss = benchlib.rss_kib(pid)
        return {"interval": interval, "streams": args.streams, "window_s": round(elapsed, 1),
                "cpu_s": round(cpu, 2), "cores": round(cpu / elapsed, 3),
                "rss_idle_mib": round(rss_idle / 1024, 1), "rss_mib": round(rss / 1024, 1),
                "thumbnails_written": sum(written.values())}
    finally:
        for p in pubs:
            ffmpegpublisher.finish(p, 5, kill=True)
        launcher.stop()
        shutil.rmtree(d, ignore_errors=True)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--streams", type=int, default=5)
    ap.add_argument("--window", type=float, default=40)
    ap.add_argument("--warmup", type=float, default=8)
    ap.add_argument("--rounds", type=int, default=1)
    ap.add_argument("--size", default="1280x720")
    ap.add_argument("--json")
    args = ap.parse_args()

    work = tempfile.mkdtemp(prefix="castline-thumbnail-bench-")
    try:
        source = ffmpegpublisher.make_input(os.path.join(work, "in.mp4"), 20, preset="veryfast",
                                            size=args.size)
        runs = {0: [], 5: []}
        for r in range(args.rounds):
            for interval in (0, 5):
                row = run_mode(work, source, interval, args)
                runs[interval].append(row)
                print(f"round {r + 1} interval {interval}: {row}", flush=True)
        best = {k: min(v, key=lambda x: x["cpu_s"] / x["window_s"]) for k, v in runs.items()}
        off, on = best[0], best[5]
        n = args.streams
        cpu_min = (on["cores"] - off["cores"]) * 60 / n          # CPU s a minute, a stream
        mem = ((on["rss_mib"] - on["rss_idle_mib"]) - (off["rss_mib"] - off["rss_idle_mib"])) / n
        benchlib.print_table(
            ["thumbnails", "streams", "launcher cores", "CPU s/min a stream", "RSS MiB a stream",
             "JPEGs in window"],
            [[("every 5 s" if k else "off"), n, f"{b['cores']:.3f}", f"{b['cores'] * 60 / n:.2f}",
              f"{(b['rss_mib'] - b['rss_idle_mib']) / n:.1f}", b["thumbnails_written"]]
             for k, b in ((0, off), (5, on))])
        print(f"FIGURE thumbnail_cpu_seconds_per_minute_per_stream={cpu_min:.3f} "
              f"thumbnail_cpu_percent_per_stream={cpu_min / 60 * 100:.2f} "
              f"thumbnail_rss_mib_per_stream={mem:.1f} streams={n} size={args.size}")
        if args.json:
            benchlib.write_json(args.json, {"machine": benchlib.machine(), "runs": runs,
                                            "cpu_s_per_min_per_stream": round(cpu_min, 3),
                                            "rss_mib_per_stream": round(mem, 1)})
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
