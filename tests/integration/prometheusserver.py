"""A real Prometheus server (Debian's prometheus, 2.42) on 127.0.0.1 for the
integration tests: it scrapes one target every second and answers its HTTP
API. Standard library only.

    with PrometheusServer("127.0.0.1:8080", bearer_token="t") as prom:
        prom.wait_for("up == 1", 20)        # its first scrape came
        prom.query("castline_streams")      # /api/v1/query's result list
        prom.targets()                      # the active targets (health, lastError)

Its configuration, database and log live in a temporary directory of its
own, removed with it; it listens on a free port; every wait is bounded.
"""
import atexit
import json
import os
import shutil
import signal
import subprocess
import tempfile
import time
import urllib.error
import urllib.parse
import urllib.request

from s3rver import free_port

BINARY = "/usr/bin/prometheus"
JOB = "castline"


class PrometheusServer:
    def __init__(self, target, bearer_token=None, metrics_path="/metrics", interval="1s"):
        if not os.path.exists(BINARY):
            raise AssertionError(f"{BINARY} is missing: scripts/setup.sh installs Debian's "
                                 "prometheus")
        self.directory = tempfile.mkdtemp(prefix="castline-prometheus-")
        self.port = free_port()
        self.proc = None
        self.log = None
        scrape = {"job_name": JOB, "scrape_interval": interval, "scrape_timeout": interval,
                  "metrics_path": metrics_path, "static_configs": [{"targets": [target]}]}
        if bearer_token is not None:
            # the token in a file of its own, as an operator would keep it
            token_file = os.path.join(self.directory, "token")
            with open(token_file, "w") as f:
                f.write(bearer_token)
            os.chmod(token_file, 0o600)
            scrape["authorization"] = {"type": "Bearer", "credentials_file": token_file}
        self.config_path = os.path.join(self.directory, "prometheus.yml")
        with open(self.config_path, "w") as f:
            # JSON is YAML
            json.dump({"global": {"scrape_interval": interval, "evaluation_interval": interval},
                       "scrape_configs": [scrape]}, f, indent=2)
        atexit.register(self.close)

    @property
    def url(self):
        return f"http://127.0.0.1:{self.port}"

    def start(self, timeout=30):
        """Starts it; returns once /-/ready answers 200 (at most timeout s)."""
        self.log = open(os.path.join(self.directory, "prometheus.log"), "wb")
        self.proc = subprocess.Popen(
            [BINARY, f"--config.file={self.config_path}",
             f"--storage.tsdb.path={os.path.join(self.directory, 'data')}",
             f"--web.listen-address=127.0.0.1:{self.port}"],
            stdout=self.log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
            start_new_session=True)
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise AssertionError(f"prometheus exited with {self.proc.returncode}:\n"
                                     + self.output()[-3000:])
            try:
                with urllib.request.urlopen(f"{self.url}/-/ready", timeout=2) as r:
                    if r.status == 200:
                        return self
            except (urllib.error.URLError, OSError):
                pass
            time.sleep(0.2)
        self.close()
        raise AssertionError(f"prometheus was not ready within {timeout} s")

    def api(self, path, **params):
        """The data of a /api/v1 answer (AssertionError with Prometheus'
        error when its status is not success)."""
        query = urllib.parse.urlencode(params, doseq=True)
        try:
            with urllib.request.urlopen(f"{self.url}/api/v1/{path}?{query}", timeout=10) as r:
                body = json.load(r)
        except urllib.error.HTTPError as e:
            body = json.load(e)
        if body.get("status") != "success":
            raise AssertionError(f"/api/v1/{path} {params}: {body.get('errorType')}: "
                                 f"{body.get('error')}")
        return body["data"]

    def query(self, expr):
        """An instant query's result: [{"metric": labels, "value": [t, "v"]}]."""
        data = self.api("query", query=expr)
        if data["resultType"] != "vector":
            raise AssertionError(f"{expr}: a {data['resultType']}, not a vector")
        return data["result"]

    def wait_for(self, expr, timeout, interval=0.5):
        """The first non-empty result of expr within timeout s, else []."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            result = self.query(expr)
            if result:
                return result
            time.sleep(interval)
        return []

    def targets(self):
        return self.api("targets", state="active")["activeTargets"]

    def series(self, match, start):
        """Every label set of match's series since start (unix seconds)."""
        return self.api("series", **{"match[]": match, "start": f"{start:.3f}"})

    def metadata(self):
        """{family: [{"type", "help", "unit"}]} of what the targets exposed."""
        return self.api("metadata")

    def output(self):
        try:
            with open(os.path.join(self.directory, "prometheus.log"), "rb") as f:
                return f.read().decode(errors="replace")
        except OSError:
            return ""

    def stop(self):
        if self.proc is None:
            return
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(timeout=10)
        self.proc = None
        if self.log is not None:
            self.log.close()
            self.log = None

    def close(self):
        self.stop()
        shutil.rmtree(self.directory, ignore_errors=True)

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc):
        self.close()
