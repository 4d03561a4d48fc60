"""A real S3 server (s3rver, from npm) on 127.0.0.1 for the integration tests.

Started on a free port with its own temporary directory; can be stopped and
started again on the same port (to simulate an outage); always cleaned up.
Objects are read back with plain unsigned HTTP, which s3rver serves.
"""
import atexit
import os
import shutil
import socket
import subprocess
import tempfile
import time
import urllib.error
import urllib.request
import xml.etree.ElementTree as ET

S3_NS = "{*}"  # s3rver and AWS use different namespace URIs


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class S3rver:
    def __init__(self, source_dir, bucket="live"):
        self.binary = os.path.join(source_dir, "node_modules", ".bin", "s3rver")
        if not os.path.exists(self.binary):
            raise RuntimeError(f"{self.binary} is missing: run scripts/setup.sh")
        self.bucket = bucket
        self.port = free_port()
        self.directory = tempfile.mkdtemp(prefix="castline-s3rver-")
        self.proc = None
        atexit.register(self.close)

    @property
    def endpoint(self):
        return f"http://127.0.0.1:{self.port}"

    def start(self, timeout=15):
        env = dict(os.environ, NODE_OPTIONS="--openssl-legacy-provider")
        self.proc = subprocess.Popen(
            [self.binary, "--directory", self.directory, "--address", "127.0.0.1",
             "--port", str(self.port), "--configure-bucket", self.bucket, "--silent"],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env=env)
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"s3rver exited with {self.proc.returncode}")
            try:
                urllib.request.urlopen(f"{self.endpoint}/{self.bucket}?list-type=2", timeout=1).read()
                return self
            except (urllib.error.URLError, ConnectionError, OSError):
                time.sleep(0.1)
        raise RuntimeError("s3rver did not answer in time")

    def stop(self):
        if self.proc and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(timeout=10)
        self.proc = None

    def close(self):
        self.stop()
        shutil.rmtree(self.directory, ignore_errors=True)

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc):
        self.close()

    # --- reading back ---
    def url(self, key):
        return f"{self.endpoint}/{self.bucket}/{urllib.request.quote(key)}"

    def get(self, key, timeout=5):
        """(body bytes, headers dict) or (None, None) when absent."""
        try:
            with urllib.request.urlopen(self.url(key), timeout=timeout) as r:
                return r.read(), {k.lower(): v for k, v in r.headers.items()}
        except urllib.error.HTTPError as e:
            if e.code == 404:
                return None, None
            raise

    def keys(self, prefix="", timeout=5):
        keys, token = [], None
        while True:
            q = f"list-type=2&prefix={urllib.request.quote(prefix)}"
            if token:
                q += f"&continuation-token={urllib.request.quote(token)}"
            with urllib.request.urlopen(f"{self.endpoint}/{self.bucket}?{q}", timeout=timeout) as r:
                root = ET.fromstring(r.read())
            keys += [c.find(f"{S3_NS}Key").text for c in root.findall(f"{S3_NS}Contents")]
            if root.findtext(f"{S3_NS}IsTruncated") != "true":
                return keys
            token = root.findtext(f"{S3_NS}NextContinuationToken")
