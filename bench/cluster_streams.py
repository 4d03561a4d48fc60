#!/usr/bin/python3
"""Live streams spread over a castline cluster (issue 20) against the same
streams on one node. Prints a table, asserts nothing.

Two set-ups, in turn, on one PostgreSQL 15 server (tests/pgserver.py, a
database each): one node, and three nodes (a, b, c) on loopback ports.
Local HLS output (the launcher's default: LL-HLS, 2 s segments). For each
count N (--counts 8,16,32): N streams created on a, N ffmpeg publishers
over RTMP (a 640x360 H.264 + AAC MP4 in a loop, -re -c copy, a keyframe a
second: passthrough, no re-encode), stream i to node i mod the node count;
once every stream is live, --warmup s (4), then --window s (15) measured:
  - the CPU of each launcher (utime + stime from /proc), summed, in cores
    and in thousandths of a core a stream;
  - streams OK: live on the node it was published to (a's API) with its
    playlist on that node grown by at least window/2 - 2 segments;
  - a's GET /api/streams: the median time of 20 calls during the window
    (the list of N streams, owners and viewers from every node).
Everything (the nodes, PostgreSQL, the N publishers and this script)
shares the machine's 2 cores: three nodes on one machine measure the
cluster's overhead (leases, the bus, the shares), not three machines'
capacity.

  bench/cluster_streams.py [--quick] [--json FILE] [--counts 8,16,32]
      [--window 15] [--warmup 4]
  CASTLINE_BUILD_DIR   build with the launcher (default: build); not rebuilt
Time: about 1 minute a count and set-up (--quick: count 8, 8 s windows).
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
                         segment_session, start_postgres)
from launcherproc import wait_for  # noqa: E402


def segments(node, sid):
    d = os.path.join(node.dir, "data", "live", sid)
    try:
        return sum(1 for f in os.listdir(d) if segment_session(f))
    except OSError:
        return 0


def list_ms(node, calls=20):
    times = []
    for _ in range(calls):
        t0 = time.monotonic()
        node.api("GET", "/api/streams")
        times.append((time.monotonic() - t0) * 1000)
    return benchlib.percentile(times, 0.5)


def one_count(cluster, ids, input_path, n, warmup, window):
    a = cluster[ids[0]]
    streams = [a.api("POST", "/api/streams", {"title": f"s{i}"})[1] for i in range(n)]
    owner = {s["id"]: ids[i % len(ids)] for i, s in enumerate(streams)}
    publishers = [RtmpPublisher(input_path, cluster[owner[s["id"]]], s["key"]) for s in streams]
    try:
        def all_live():
            listed = a.api("GET", "/api/streams")[1]["streams"]
            return sum(x["state"] == "live" for x in listed if x["id"] in owner) == n
        live = wait_for(all_live, 30 + n, 0.5)
        time.sleep(warmup)
        pids = [node.proc.pid for node in cluster]
        before = {sid: segments(cluster[o], sid) for sid, o in owner.items()}
        cpu0, t0 = sum(benchlib.tree_cpu(p) for p in pids), time.monotonic()
        latency = list_ms(a)
        time.sleep(max(0.0, window - (time.monotonic() - t0)))
        cores = (sum(benchlib.tree_cpu(p) for p in pids) - cpu0) / (time.monotonic() - t0)
        listed = {x["id"]: x for x in a.api("GET", "/api/streams")[1]["streams"]}
        ok = sum(1 for sid, o in owner.items()
                 if listed.get(sid, {}).get("state") == "live" and listed[sid].get("node") == o
                 and segments(cluster[o], sid) - before[sid] >= window / 2 - 2)
        return {"streams": n, "all_live": bool(live), "ok": ok, "cores": round(cores, 3),
                "mcores_a_stream": round(1000 * cores / n, 1),
                "list_ms": round(latency, 2)}
    finally:
        for p in publishers:
            p.stop(timeout=10)
        for s in streams:
            a.api("DELETE", f"/api/streams/{s['id']}")
        wait_for(lambda: all(a.api("GET", f"/api/streams/{s['id']}")[1]["state"] == "ended"
                             for s in streams), 30, 0.5)


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--quick", action="store_true")
    p.add_argument("--json")
    p.add_argument("--counts")
    p.add_argument("--window", type=float)
    p.add_argument("--warmup", type=float, default=4)
    args = p.parse_args()
    counts = [int(c) for c in (args.counts or ("8" if args.quick else "8,16,32")).split(",")]
    window = args.window or (8 if args.quick else 15)
    work = tempfile.mkdtemp(prefix="castline-bench-cluster-streams-")
    pg = start_postgres()
    rows, report = [], []
    try:
        input_path = make_input(os.path.join(work, "input.mp4"), size="640x360")
        for name, ids in (("one node", ("a",)), ("three nodes", ("a", "b", "c"))):
            cluster = Cluster(os.path.join(work, name.replace(" ", "-")),
                              database(pg, name.replace(" ", "_")), ids=ids, rtmp={},
                              idle_timeout=10, max_live_streams=1000).start()
            try:
                for n in counts:
                    got = dict(one_count(cluster, ids, input_path, n, args.warmup, window),
                               setup=name)
                    report.append(got)
                    rows.append([name, n, f"{got['ok']}/{n}", got["cores"],
                                 got["mcores_a_stream"], got["list_ms"]])
                    print("  ".join(str(c) for c in rows[-1]), flush=True)
            finally:
                cluster.stop()
        print(f"\n== RTMP passthrough streams, local LL-HLS, {window:g} s windows; the nodes, "
              f"PostgreSQL and the publishers share {os.cpu_count()} cores")
        benchlib.print_table(["set-up", "streams", "OK", "launchers' CPU (cores)",
                              "mcores a stream", "GET /api/streams p50 ms"], rows)
        benchlib.write_json(args.json, {"machine": benchlib.machine(), "window": window,
                                        "runs": report})
    finally:
        pg.close()
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
