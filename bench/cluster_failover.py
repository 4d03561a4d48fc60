#!/usr/bin/python3
"""Failover of a castline cluster (issue 20): how long after kill -9 of
the node running a live stream the survivors say so, and how long until
the stream plays again from another node. Prints a table, asserts nothing.

Three castline-launcher nodes (a, b, c) on loopback ports, one PostgreSQL
15 server in a temporary directory (tests/pgserver.py) as the store, one
s3rver bucket for the HLS (1 s segments: hls.target_duration 1, a keyframe
a second), node.lease --lease (4 s), reconnect_window 60. Each run:
  - a stream created on a, ffmpeg publishing over RTMP (a 320x240 H.264 +
    AAC MP4 in a loop, -re -c copy) to the run's owner (b, c, b, ...), until
    3 segments are in S3;
  - the owner killed with SIGKILL (t = 0); its publisher's connection
    drops and it reconnects as OBS does: ffmpeg to another survivor (a),
    again every --retry s (1) while refused (the stream is still held by
    the dead node until the survivors notice);
  - interrupted: the first time a survivor's API (a's GET
    /api/streams/{id}, polled every 50 ms) says interrupted;
  - live again: the first time it says live on the new node;
  - playing again: the first time the bucket holds a segment of the new
    session (s2-segment*.ts, ListObjectsV2 polled every 100 ms): what a
    player's next playlist reload finds;
  then DELETE, the killed node started again, its lease fresh.
The processes (three nodes, PostgreSQL, s3rver, ffmpeg, this script) share
the machine's 2 cores.

  bench/cluster_failover.py [--quick] [--runs 5] [--lease 4] [--retry 1] [--json FILE]
  CASTLINE_BUILD_DIR   build with the launcher (default: build); not rebuilt
Time: about 20 s a run (--quick: 2 runs).
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
from clusterproc import (Cluster, RtmpPublisher, database, make_input,  # noqa: E402
                         s3_keys, segment_session, start_postgres)
from launchercase import s3_settings  # noqa: E402
from launcherproc import wait_for  # noqa: E402
from s3rver import S3rver  # noqa: E402

HLS = {"low_latency": False, "target_duration": 1, "max_files": 1000}


def state(node, sid):
    try:
        status, s = node.api("GET", f"/api/streams/{sid}")
    except OSError:
        return None, None
    return (s["state"], s.get("node")) if status == 200 else (None, None)


def sessions_in_s3(s3, sid):
    return {segment_session(k.rsplit("/", 1)[1]) for k in s3_keys(s3, f"streams/{sid}/")} - {None}


def one_run(cluster, s3, input_path, owner, survivor, retry):
    """{figure: seconds after the kill} of one failover."""
    a = cluster["a"]
    status, s = a.api("POST", "/api/streams", {"title": "failover"})
    sid = s["id"]
    first = RtmpPublisher(input_path, cluster[owner], s["key"])
    publishers = [first]
    try:
        if not wait_for(lambda: state(a, sid)[0] == "live", 20):
            raise RuntimeError("never live\n" + cluster.logs())
        if not wait_for(lambda: len(sessions_in_s3(s3, sid)) >= 3, 20):
            raise RuntimeError("no segments in S3\n" + cluster.logs())
        cluster[owner].kill9()
        killed = time.monotonic()
        first.stop(timeout=5)
        got, last_try = {}, None
        while len(got) < 3 and time.monotonic() - killed < 90:
            now = time.monotonic()
            current = publishers[-1]
            if (current is first or not current.running) and (
                    last_try is None or now - last_try >= retry):
                publishers.append(RtmpPublisher(input_path, cluster[survivor], s["key"]))
                last_try = now
            st, node = state(a, sid)
            if st == "interrupted" and "interrupted" not in got:
                got["interrupted"] = now - killed
            if st == "live" and node == survivor and "live again" not in got:
                got["live again"] = now - killed
                got.setdefault("interrupted", None)     # never seen between two polls
            if "live again" in got and any(sess == 2 for sess, _ in sessions_in_s3(s3, sid)):
                got["playing again"] = time.monotonic() - killed
            time.sleep(0.05)
        got["publisher attempts"] = len(publishers) - 1
        return got
    finally:
        a.api("DELETE", f"/api/streams/{sid}")
        wait_for(lambda: state(a, sid)[0] == "ended", 20)
        for p in publishers:
            p.stop(timeout=5)
        cluster[owner].start()
        wait_for(lambda: all(x["alive"] for x in a.api("GET", "/api/nodes")[1]["nodes"]), 20)


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--quick", action="store_true", help="2 runs")
    p.add_argument("--runs", type=int)
    p.add_argument("--lease", type=int, default=4)
    p.add_argument("--retry", type=float, default=1.0)
    p.add_argument("--json")
    args = p.parse_args()
    args.runs = args.runs or (2 if args.quick else 5)
    work = tempfile.mkdtemp(prefix="castline-bench-failover-")
    pg = s3 = cluster = None
    try:
        input_path = make_input(os.path.join(work, "input.mp4"))
        pg = start_postgres()
        s3 = S3rver(benchlib.SOURCE).start()
        cluster = Cluster(work, database(pg, "failover"), lease=args.lease, rtmp={},
                          reconnect_window=60, idle_timeout=10, hls=HLS,
                          s3=s3_settings(s3)).start()
        runs = []
        for n in range(args.runs):
            owner = ("b", "c")[n % 2]
            got = one_run(cluster, s3, input_path, owner, "a", args.retry)
            runs.append(got)
            print(f"run {n + 1}: owner {owner}: " + ", ".join(
                f"{k} {v:.2f} s" if isinstance(v, float) else f"{k} {v}" for k, v in got.items()),
                flush=True)
        rows = []
        for figure in ("interrupted", "live again", "playing again"):
            values = [r[figure] for r in runs if r.get(figure) is not None]
            rows.append([figure, len(values),
                         f"{benchlib.percentile(values, 0.5):.2f}" if values else None,
                         f"{max(values):.2f}" if values else None])
        print(f"\n== kill -9 of the owning node → (seconds), {args.runs} runs, lease "
              f"{args.lease} s, a publisher retrying every {args.retry:g} s; three nodes, "
              f"PostgreSQL, s3rver and ffmpeg share {os.cpu_count()} cores")
        benchlib.print_table(["kill -9 →", "runs", "median s", "max s"], rows)
        benchlib.write_json(args.json, {"machine": benchlib.machine(), "lease": args.lease,
                                        "retry": args.retry, "runs": runs})
    finally:
        if cluster:
            cluster.stop()
        if s3:
            s3.close()
        if pg:
            pg.close()
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
