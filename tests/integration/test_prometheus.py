"""Prometheus for real: Debian's prometheus server scrapes a running
launcher (its /metrics behind the admin token, every second) while two
WebSocket streams upload their HLS to S3 (s3rver) and every webhook fails,
then its HTTP API is asked what it made of castline's series: the target
up with no scrape error, every family castline exposed present with the
type it declared, the per-stream series labelled with their stream, the
counters monotonic across a stream's end and rising, and every expression
of docs/grafana-dashboard.json naming only castline's metrics and
answering with data.

Standard library only (prometheusserver.py drives the server). Shared
fixtures: launchercase.py.
Environment (meson sets it): CASTLINE_BUILD_DIR, CASTLINE_SOURCE_DIR,
CASTLINE_PRELOAD (sanitizer runtime, optional).
Run by hand: /usr/bin/python3 tests/integration/test_prometheus.py
Every wait is bounded.
"""
import json
import os
import re
import sys
import time
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from gstlaunch import SOURCE  # noqa: E402
from launcherproc import Launcher, wait_for  # noqa: E402
from launchercase import LauncherCase, Publisher, S3Case, recording  # noqa: E402
from launchercase import setUpModule, tearDownModule  # noqa: E402,F401 (module fixture)
from prometheusserver import JOB, PrometheusServer  # noqa: E402
from s3rver import free_port  # noqa: E402

TOKEN = "prometheus-scrape-token-never-logged"
DASHBOARD = os.path.join(SOURCE, "docs", "grafana-dashboard.json")
HISTOGRAM_SUFFIXES = ("_bucket", "_sum", "_count")


def exposition(text):
    """({family: type}, {family: {sample name: [label names]}}) of a
    Prometheus text: every # TYPE line, and the samples under it."""
    types, samples = {}, {}
    for line in text.splitlines():
        if line.startswith("# TYPE "):
            _, _, name, kind = line.split(" ", 3)
            types[name] = kind
        elif line and not line.startswith("#"):
            name = re.match(r"[a-zA-Z_:][a-zA-Z0-9_:]*", line).group(0)
            labels = re.findall(r'([a-zA-Z_][a-zA-Z0-9_]*)="', line[len(name):].split("}")[0]) \
                if line[len(name):].startswith("{") else []
            family = name
            for suffix in HISTOGRAM_SUFFIXES:
                base = name[:-len(suffix)]
                if name.endswith(suffix) and types.get(base) == "histogram":
                    family = base
            samples.setdefault(family, {}).setdefault(name, sorted(labels))
    return types, samples


def dashboard_queries(dashboard):
    """[(panel title, expr)] of every panel target, and the template
    variables' queries."""
    out = [(p["title"], t["expr"]) for p in dashboard["panels"] for t in p.get("targets", [])]
    for v in dashboard["templating"]["list"]:
        if v["type"] == "query":
            out.append((f"${v['name']}", v["query"]["query"] if isinstance(v["query"], dict)
                        else v["query"]))
    return out


def runnable(expr):
    """A panel's expression as Grafana would send it: every stream, a
    1-minute rate window."""
    return expr.replace("$__rate_interval", "1m").replace("$stream", ".*")


class PrometheusScrapeTest(S3Case):
    """Two streams to S3 under Prometheus' scrapes; one ends midway."""

    def admin(self, method, path, body=None):
        return self.launcher.api(method, path, body, {"Authorization": f"Bearer {TOKEN}"})

    def create(self, title):
        status, s = self.admin("POST", "/api/streams", {"title": title})
        self.assertEqual(status, 201, s)
        return s

    def wait_state(self, sid, state, timeout=20):
        got = wait_for(lambda: self.admin("GET", f"/api/streams/{sid}")[1]["state"] == state,
                       timeout, 0.2)
        self.assertTrue(got, f"stream {sid} never {state}:\n{self.launcher.output()[-3000:]}")

    def metrics_text(self):
        status, hdrs, body = self.launcher.request("GET", "/metrics", headers={
            "Authorization": f"Bearer {TOKEN}"})
        self.assertEqual(status, 200, body)
        return body.decode()

    def value(self, expr):
        result = self.prom.query(expr)
        return float(result[0]["value"][1]) if result else None

    def test_prometheus_scrapes_castline(self):
        started = time.time()
        long_run = recording("h264-20s", "h264", seconds=20)
        self.launcher = Launcher(self.dir, admin_token=TOKEN, idle_timeout=60, s3={
            "endpoint": self.s3.endpoint, "bucket": self.s3.bucket, "access_key": "S3RVER",
            "secret_key": "S3RVER", "public_base_url": f"{self.s3.endpoint}/{self.s3.bucket}"},
            # nothing listens there and no retry: every event is a failure
            webhooks={"urls": [f"http://127.0.0.1:{free_port()}/hooks"], "retries": 0}).start()
        self.addCleanup(self.stop_launcher)
        self.assertEqual(self.launcher.request("GET", "/metrics")[0], 401)

        self.prom = PrometheusServer(f"127.0.0.1:{self.launcher.port}", bearer_token=TOKEN)
        self.addCleanup(self.prom.close)
        t0 = time.monotonic()
        self.prom.start()
        up = self.prom.wait_for(f'up{{job="{JOB}"}} == 1', 30)
        self.assertTrue(up, "no successful scrape in 30 s:\n" + self.prom.output()[-3000:])
        print(f"FIGURE prometheus_first_scrape_seconds={time.monotonic() - t0:.1f}")

        a, b = self.create("stays"), self.create("ends")
        pub_a = Publisher(self.launcher.port, a, long_run, seconds=20)
        pub_b = Publisher(self.launcher.port, b, "h264", seconds=6)
        pub_a.start()
        pub_b.start()
        self.wait_state(a["id"], "live")
        self.wait_state(b["id"], "live")
        # both streams' segments in the bucket, as Prometheus saw them
        self.assertTrue(self.prom.wait_for(
            'count(castline_stream_health{kind="video"}) == 2 '
            'and on() castline_s3_upload_duration_seconds_count > 2', 30),
            "Prometheus never saw two live streams uploading:\n" + self.metrics_text())
        text_live = self.metrics_text()

        # b ends: its pipeline's S3 counts must stay in the totals
        self.assertEqual(pub_b.finish(), 1000)
        self.wait_state(b["id"], "ended")
        self.assertTrue(self.prom.wait_for('castline_streams{state="ended"} == 1', 15),
                        "Prometheus never saw the stream end")
        uploads_before = self.value("castline_s3_uploads_total")
        # some scrapes after the end, with a still uploading
        self.assertTrue(self.prom.wait_for(f"castline_s3_uploads_total > {uploads_before}", 20),
                        "no upload counted after the end of b")
        text = self.metrics_text()
        types, _ = exposition(text)
        _, samples = exposition(text_live)

        with self.subTest("the target is up, no scrape error"):
            targets = [t for t in self.prom.targets() if t["labels"]["job"] == JOB]
            self.assertEqual(len(targets), 1, targets)
            self.assertEqual((targets[0]["health"], targets[0]["lastError"]), ("up", ""),
                             targets[0])
            worst = self.value(f'max_over_time(scrape_duration_seconds{{job="{JOB}"}}[5m])')
            print(f"FIGURE metrics_scrape_seconds={worst:.4f} (worst of the test's scrapes)")

        # every series Prometheus holds of the job over the test's time
        series = self.prom.series(f'{{job="{JOB}"}}', started - 5)
        by_name = {}
        for s in series:
            by_name.setdefault(s["__name__"], []).append(s)

        with self.subTest("every family with samples is a series, with its labels"):
            self.assertTrue(samples)
            for family, names in samples.items():
                for name, labels in names.items():
                    self.assertIn(name, by_name, f"{name} ({family}) is not in Prometheus")
                    for s in by_name[name]:
                        self.assertEqual(sorted(set(s) - {"__name__", "job", "instance"}),
                                         labels, (name, s))
            print(f"FIGURE families_exposed={len(types)} families_with_series={len(samples)} "
                  f"series={len(series)}")

        with self.subTest("the types Prometheus read are those declared"):
            metadata = self.prom.metadata()
            # every # TYPE line, a family with no sample too
            for family in types:
                self.assertIn(family, metadata, f"no metadata for {family}")
                self.assertEqual({m["type"] for m in metadata[family]}, {types[family]}, family)
            self.assertEqual(types["castline_s3_upload_duration_seconds"], "histogram")

        with self.subTest("per-stream series carry their stream"):
            ids = {a["id"], b["id"]}
            per_stream = {name for name, ss in by_name.items()
                          if any("stream" in s for s in ss)}
            for name in ("castline_stream_viewers", "castline_stream_bitrate_bits_per_second",
                         "castline_stream_health", "castline_stream_frames_per_second",
                         "castline_stream_s3_pending_uploads", "castline_stream_webrtc_viewers"):
                self.assertIn(name, per_stream)
            for name in per_stream:
                got = {s["stream"] for s in by_name[name]}
                self.assertEqual(got, ids, name)
                self.assertTrue(name.startswith("castline_stream_") or name.startswith("castline_srt_"),
                                name)
            # and the ended stream's series are gone from the newest scrape
            self.assertEqual(self.prom.query(f'castline_stream_health{{stream="{b["id"]}"}}'), [])

        with self.subTest("counters never reset and the busy ones rose"):
            counters = [f for f, kind in types.items() if kind == "counter" and f in samples]
            counters += ["castline_s3_upload_duration_seconds_count",
                         "castline_s3_upload_duration_seconds_bucket"]
            self.assertIn("castline_s3_uploads_total", counters)
            for name in counters:
                resets = self.prom.query(f"resets({name}[5m]) > 0")
                self.assertEqual(resets, [], f"{name} went back")
            for name in ("castline_s3_uploads_total", "castline_s3_bytes_uploaded_total",
                         "castline_webhook_failures_total",
                         "castline_s3_upload_duration_seconds_count"):
                rose = self.value(f"increase({name}[5m])")
                self.assertTrue(rose and rose > 0, f"{name} did not rise: {rose}")
            self.assertEqual(self.value("castline_webhook_deliveries_total"), 0)
            for q in (0.5, 0.95):
                got = self.value(f"histogram_quantile({q}, sum by (le) "
                                 f"(rate(castline_s3_upload_duration_seconds_bucket[5m])))")
                print(f"FIGURE s3_upload_p{int(q * 100)}_seconds={got:.3f} (s3rver on loopback, "
                      f"Prometheus' estimate from the histogram)")

        with self.subTest("docs/grafana-dashboard.json asks only for castline's series"):
            with open(DASHBOARD) as f:
                dashboard = json.load(f)
            self.assertGreaterEqual(dashboard["schemaVersion"], 36)
            self.assertEqual([i["name"] for i in dashboard["__inputs"]], ["DS_PROMETHEUS"])
            variables = {v["name"]: v for v in dashboard["templating"]["list"]}
            self.assertIn("label_values(", variables["stream"]["definition"])
            queries = dashboard_queries(dashboard)
            self.assertGreaterEqual(len(queries), 10)
            exposed = set(types)
            for family, kind in types.items():
                if kind == "histogram":
                    exposed |= {family + s for s in HISTOGRAM_SUFFIXES}
            titles = " | ".join(p["title"] for p in dashboard["panels"]).lower()
            for topic in ("streams", "bitrate", "viewers", "health", "s3 upload latency",
                          "s3 errors", "webhook failures"):
                self.assertIn(topic, titles)
            for title, expr in queries:
                names = set(re.findall(r"\bcastline_[a-z0-9_]+", expr))
                self.assertTrue(names, f"{title}: {expr} names no castline metric")
                self.assertLessEqual(names, exposed, f"{title}: {expr}")
                if expr.startswith("label_values("):
                    metric, label = re.match(r"label_values\((\w+),\s*(\w+)\)", expr).groups()
                    values = self.prom.api(f"label/{label}/values", **{"match[]": metric})
                    self.assertIn(a["id"], values, expr)
                    continue
                self.assertTrue(self.prom.query(runnable(expr)),
                                f"{title}: {runnable(expr)} answered no data")

        pub_a.finish()
        self.assertNotIn(TOKEN, self.launcher.output())
        self.assertNotIn(TOKEN, self.prom.output())

    def stop_launcher(self):
        code = self.launcher.stop()
        if code != 0:
            print(self.launcher.output()[-5000:])
        self.assertEqual(code, 0, "the launcher did not exit 0 on SIGTERM")


if __name__ == "__main__":
    unittest.main()
