#!/usr/bin/python3
"""SRT publishers on one port (issue 19): castline-launcher's SRT ingest
against FFmpeg receiving SRT and writing HLS, the script users would write
instead. Same input, same senders, 2 s segments, all on 127.0.0.1; the two
never run at the same time.

Input: one MPEG-TS file made once per run with FFmpeg (bench/rtmp_vs_nginx.py's
make_input): 10 s of --size (1280x720) 30 fps `testsrc2` in H.264 (libx264
veryfast, main profile, yuv420p, --kbps (1000) kb/s, a keyframe every 2 s
exactly) plus 48 kHz AAC 128 kb/s. Every publisher is one FFmpeg
pushing it in a loop at real time, with no re-encode:
  ffmpeg -re -stream_loop -1 -i in.ts -c copy -f mpegts 'srt://127.0.0.1:PORT?streamid=KEY'
The receivers:
  castline  the launcher with `srt.port` set (one UDP port for every
            stream), each stream created with POST /api/streams and
            published to the `srt_url` it answers (streamid = its key); its
            HLS is the launcher's own (its defaults: LL-HLS, 2 s segments;
            hls.playlist_length 6), the pipeline the launcher picks
            (passthrough: no re-encode; --castline-pipeline NAME for another);
            castline-classic: the same with hls.low_latency false
            (hlssink2, MPEG-TS segments, what FFmpeg writes)
  ffmpeg    one FFmpeg a stream, each listening on a UDP port of its own
            (FFmpeg's SRT listener takes one caller):
            ffmpeg -i 'srt://127.0.0.1:PORT?mode=listener&streamid=KEY' -c copy
              -f hls -hls_time 2 -hls_list_size 6 -hls_flags delete_segments out.m3u8

For each count N (--counts 8,16,32,64,96, in turn, each on one receiver
then the other, so that both see about the same load from the rest of the
machine, a receiver dropping out at its first count that fails; then,
without --quick, 1.5x more up to --max while each holds, or a bisection
to an eighth below the first that failed), a fresh receiver:
its idle CPU and memory (castline: the idle daemon; FFmpeg: nothing yet),
N streams, N publishers started 50 ms apart, a warm-up until every
playlist has a segment and --warmup s more, then --window s measured
(bench/rtmp_vs_nginx.py's run_step, which says how in full):
  - the receiver's CPU (utime + stime from /proc/PID/stat of the launcher,
    or of the N FFmpeg receivers summed), in cores and thousandths of a
    core a stream; the publishers' CPU apart (they share the 2 cores);
  - its memory sampled every second: RSS, anonymous memory (RssAnon: heap
    and stacks) and PSS, the mean over the window minus the idle
    receiver's, a stream; N FFmpeg processes each map their own copy of
    the libraries in RSS, so anonymous memory is the figure to compare;
  - streams OK: a stream is OK when its publisher still runs, its
    playlist listed at least window - 4 s of media in the window and the
    delay with which its segments were listed grew by less than a segment
    (it keeps up), and the receiver holds it (castline: the API says
    `live`; FFmpeg: its receiver still runs). A count holds when every
    stream is OK;
  - castline's SRT link statistics (stats.srt of each stream: packets
    received, lost, retransmitted, dropped for coming later than the
    latency), summed over the streams, since each connected.

  bench/srt_publishers.py [--quick] [--json FILE] [--counts 8,16,32,64,96]
      [--max 144] [--window 20] [--warmup 4] [--servers ffmpeg,castline[,castline-classic]]
      [--size 1280x720] [--kbps 1000] [--castline-pipeline NAME]
  CASTLINE_BUILD_DIR    the build with castline-launcher (default: build)
Time: about 1 minute a count and receiver, so 10 to 20 minutes; --quick:
counts 4 and 8, 8 s windows, no search: about 3 minutes. Needs ffmpeg with
SRT (Debian's has it). Asserts nothing.
"""
import argparse
import os
import secrets
import shutil
import signal
import subprocess
import sys
import tempfile

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import benchlib  # noqa: E402

benchlib.setup_paths()
from launcherproc import free_udp_port, wait_for  # noqa: E402
import rtmp_vs_nginx  # noqa: E402  (its input, publishers, measured step and search)

HLS_TIME = rtmp_vs_nginx.HLS_TIME
LIST_SIZE = 6             # segments in a live playlist, both receivers
SERVERS = ("ffmpeg", "castline", "castline-classic")


class FfmpegSrt:
    """One FFmpeg receiver a stream, each an SRT listener on a UDP port of
    its own, writing HLS with -c copy into a directory of its own."""
    name = "ffmpeg"

    def __init__(self, workdir):
        self.dir = tempfile.mkdtemp(prefix="ffmpeg-srt-", dir=workdir)
        self.receivers = []             # (Popen, log file)

    def start(self):
        return self

    @property
    def pid(self):
        return [proc.pid for proc, _ in self.receivers]

    def new_stream(self, i):
        port, key = free_udp_port(), f"{i}-{secrets.token_hex(8)}"
        out = os.path.join(self.dir, str(i))
        os.makedirs(out)
        log = open(os.path.join(out, "ffmpeg.log"), "wb")
        proc = subprocess.Popen(
            ["ffmpeg", "-hide_banner", "-nostdin", "-loglevel", "error",
             "-i", f"srt://127.0.0.1:{port}?mode=listener&streamid={key}", "-c", "copy",
             "-f", "hls", "-hls_time", str(HLS_TIME), "-hls_list_size", str(LIST_SIZE),
             "-hls_flags", "delete_segments", os.path.join(out, "out.m3u8")],
            stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=log)
        self.receivers.append((proc, log))
        # a caller that comes before the listener retries its handshake for
        # libsrt's connect timeout (3 s) only
        if not wait_for(lambda: benchlib.udp_bound(port) or proc.poll() is not None, 10) \
                or proc.poll() is not None:
            raise RuntimeError(f"FFmpeg did not listen on UDP {port}:\n{self.errors()}")
        return rtmp_vs_nginx.Stream(f"srt://127.0.0.1:{port}?streamid={key}",
                                    os.path.join(out, "out.m3u8"), None, {"port": port})

    def stream_problems(self, streams):
        """The streams whose receiver has ended."""
        return [f"stream {i}: its FFmpeg receiver ended (exit {proc.returncode})"
                for i, (proc, _) in enumerate(self.receivers) if proc.poll() is not None]

    def errors(self):
        tails = []
        for i, (proc, log) in enumerate(self.receivers):
            log.flush()
            with open(log.name, "rb") as f:
                text = f.read().decode(errors="replace").strip()
            if text:
                tails.append(f"receiver {i}: {text[-300:]}")
        return "\n".join(tails)[-2000:]

    def stop(self):
        for proc, _ in self.receivers:          # all at once: each ends its playlist
            if proc.poll() is None:
                proc.send_signal(signal.SIGTERM)
        for proc, log in self.receivers:
            rtmp_vs_nginx.end_process(proc)
            log.close()
        shutil.rmtree(self.dir, ignore_errors=True)


def make_server(name, workdir, largest, pipeline):
    if name == "ffmpeg":
        return FfmpegSrt(workdir)
    server = rtmp_vs_nginx.Castline(workdir, largest, pipeline, ingest="srt", playlist_length=LIST_SIZE,
                                    low_latency=False if name == "castline-classic" else None)
    server.name = name
    return server


def measure(servers, make, counts, cap, input_path, workdir, warmup, window, search):
    """The counts in turn, each on every receiver in turn (so both see
    about the same load from the rest of the machine), a receiver
    dropping out at its first count that fails; then each receiver's
    search (rtmp_vs_nginx.largest_sustained). {name: {"steps",
    "max_sustained", "first_failing"}}."""
    steps = {name: [] for name in servers}

    def try_k(name, k):
        s = rtmp_vs_nginx.run_step(lambda: make(name), k, input_path, workdir, warmup, window)
        steps[name].append(s)
        print(step_line(name, s), flush=True)
        return s["keeps_up"]

    running = list(servers)
    for k in counts:
        running = [name for name in running if try_k(name, k)]
    out = {}
    for name in servers:
        if search:
            good, bad = rtmp_vs_nginx.largest_sustained(lambda k, name=name: try_k(name, k), steps[name], cap)
        else:
            good = max((s["k"] for s in steps[name] if s["keeps_up"]), default=0)
            bad = min((s["k"] for s in steps[name] if not s["keeps_up"]), default=None)
        out[name] = {"steps": sorted(steps[name], key=lambda s: s["k"]),
                     "max_sustained": good, "first_failing": bad}
    return out


def step_line(name, s):
    return (f"  {name} N={s['k']:3}: {s['streams_ok']}/{s['k']} streams OK; receiver "
            f"{s['server_cpu_cores']} cores ({1000 * s['server_cpu_per_stream']:.1f} mcores a stream, "
            f"{s['threads']} threads), MiB a stream RSS {s['rss_per_stream_mib']} / anon "
            f"{s['anon_per_stream_mib']} / PSS {s['pss_per_stream_mib']}; publishers "
            f"{s['publishers_cpu_cores']} cores; machine {100 * s['machine_busy']:.0f} % busy "
            f"(load {s['load_average']:.1f}); least listed {s['least_listed_s']} s of {s['wall_s']}"
            + (f"; SRT packets lost {s['link_totals'].get('packets-lost')}, dropped "
               f"{s['link_totals'].get('packets-dropped')} of {s['link_totals'].get('packets-received')}"
               if s.get("link_totals") else "")
            + (f"; {s['problem_count']} problems: {s['problems'][0]}" if s["problems"] else ""))


def report(results):
    m, inp = results["machine"], results["input"]
    print(f"\nSRT -> HLS passthrough, N publishers at once, {HLS_TIME} s segments, "
          f"{results['window_s']} s measured a count; {m['cpu']} x{m['cores']}, load average at start "
          f"{m['load_average'][0]:.2f}; input {inp['probe']}, {inp['kbps']} kb/s video")
    rows = []
    for name, entry in results["servers"].items():
        for s in entry["steps"]:
            rows.append([s["k"], name, s["server_cpu_cores"], round(1000 * s["server_cpu_per_stream"], 1),
                         s["rss_mib"], s["rss_per_stream_mib"], s["anon_per_stream_mib"],
                         s["pss_per_stream_mib"], s["threads"], s["publishers_cpu_cores"],
                         f"{100 * s['machine_busy']:.0f} % ({s['load_average']:.1f})",
                         s.get("link_totals", {}).get("packets-dropped", "-"),
                         f"{s['streams_ok']}/{s['k']}"])
    benchlib.print_table(["N", "receiver", "CPU (cores)", "mcores a stream", "RSS MiB", "RSS MiB a stream",
                          "anon MiB a stream", "PSS MiB a stream", "threads", "publishers' CPU (cores)",
                          "machine busy (load)", "SRT packets dropped", "streams OK"], rows)
    print("  receiver: the launcher, or the N FFmpeg receivers summed (/proc); the publishers (one "
          "FFmpeg -c copy each) ran on the same cores and are counted apart. Memory a stream: the "
          "mean over the window minus the idle receiver's, over N (FFmpeg's idle: none); anon: heap "
          "and stacks, the figure to compare (every FFmpeg's RSS counts its own libraries). SRT "
          "packets dropped: castline's stats.srt, every stream's since it connected (libsrt drops "
          "what comes later than the latency).")
    castline = results["servers"].get("castline") or results["servers"].get("castline-classic")
    if castline and castline["steps"]:
        s = castline["steps"][0]
        print(f"  the idle launcher (SRT on, no stream): RSS {s['idle_rss_mib']} MiB, anon "
              f"{s['idle_anon_mib']} MiB, {s['idle_threads']} threads, {s['idle_cpu_per_s']} cores")
    print("\nMost concurrent SRT publishers with every stream OK (publishers on the same 2 cores):")
    benchlib.print_table(["receiver", "max sustained", "first failing", "largest tried"],
                         [[n, e["max_sustained"], e["first_failing"] or "-",
                           max((s["k"] for s in e["steps"]), default=0)]
                          for n, e in results["servers"].items()])


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--quick", action="store_true", help="a smoke run, about 3 minutes")
    ap.add_argument("--json", metavar="FILE", help="also write the figures as JSON to FILE")
    ap.add_argument("--counts", help="publisher counts measured (8,16,32,64,96; --quick 4,8)")
    ap.add_argument("--max", type=int, default=144, help="the search for the most publishers stops here")
    ap.add_argument("--window", type=float, help="measured seconds per count (20; --quick 8)")
    ap.add_argument("--warmup", type=float, default=4, help="seconds after every first segment")
    ap.add_argument("--servers", default="ffmpeg,castline",
                    help=f"some of {','.join(SERVERS)}, measured in the order given")
    ap.add_argument("--size", default="1280x720", help="the input's picture size")
    ap.add_argument("--kbps", type=int, default=1000, help="the input's video bitrate (kb/s)")
    ap.add_argument("--castline-pipeline", help="the pipeline castline streams are created with")
    args = ap.parse_args()
    if not shutil.which("ffmpeg"):
        sys.exit("ffmpeg is not installed (scripts/setup.sh)")
    counts = [int(c) for c in (args.counts or ("4,8" if args.quick else "8,16,32,64,96")).split(",")]
    window = args.window or (8 if args.quick else 20)
    servers = [n for n in args.servers.split(",") if n]
    unknown = set(servers) - set(SERVERS)
    if unknown:
        sys.exit(f"unknown --servers {','.join(sorted(unknown))}: {' and/or '.join(SERVERS)}")

    work = tempfile.mkdtemp(prefix="castline-srt-bench-")
    largest = max(counts + [args.max])
    results = {"machine": benchlib.machine(), "quick": args.quick, "window_s": window,
               "warmup_s": args.warmup, "segment_s": HLS_TIME, "servers": {}}
    try:
        input_path = rtmp_vs_nginx.make_input(work, name="in.ts", size=args.size, kbps=args.kbps,
                                              x264=("-profile:v", "main"))
        results["input"] = {"probe": benchlib.probe_segment(input_path), "kbps": args.kbps,
                            "bytes": os.path.getsize(input_path), "seconds": 10}
        results["servers"] = measure(servers, lambda name: make_server(name, work, largest,
                                                                        args.castline_pipeline),
                                     counts, args.max, input_path, work, args.warmup, window,
                                     search=not args.quick)
    finally:
        shutil.rmtree(work, ignore_errors=True)
    report(results)
    benchlib.write_json(args.json, results)


if __name__ == "__main__":
    main()
