"""A real S3 server (s3rver, from npm) on 127.0.0.1 for the integration tests
and the benchmark. Standard library only.

    with S3rver(source_dir) as s3:          # started, bucket "live" made
        s3.keys("prefix/")                  # ListObjectsV2 over plain HTTP
        body, headers = s3.get("prefix/playlist.m3u8")
        s3.stop(); s3.start()               # an outage: same port, same data
        s3.pause(); s3.resume()             # S3 that stops answering (SIGSTOP)

Started on a free port with its own temporary directory; stopped and
started again on the same port and directory (to simulate an outage);
always cleaned up (context manager, close(), and atexit for the rest).
s3rver serves unsigned GETs, so objects are read back with urllib.
"""
import atexit
import hashlib
import http.client
import os
import shutil
import signal
import socket
import subprocess
import tempfile
import time
import urllib.error
import urllib.parse
import urllib.request
import xml.etree.ElementTree as ET

S3_NS = "{*}"  # s3rver and AWS use different namespace URIs


def free_port():
    """A TCP port nothing listens on right now (also good as a closed port)."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class S3rver:
    def __init__(self, source_dir, bucket="live", port=None):
        self.binary = os.path.join(source_dir, "node_modules", ".bin", "s3rver")
        if not os.path.exists(self.binary):
            raise RuntimeError(f"{self.binary} is missing: run scripts/setup.sh "
                               "(or npm install --no-save s3rver@3.7.1)")
        self.bucket = bucket
        self.port = port or free_port()
        self.directory = tempfile.mkdtemp(prefix="castline-s3rver-")
        self.proc = None
        self.log = None
        self.closed = False
        atexit.register(self.close)

    @property
    def endpoint(self):
        return f"http://127.0.0.1:{self.port}"

    @property
    def running(self):
        return self.proc is not None and self.proc.poll() is None

    def start(self, timeout=20):
        """Start (again) on self.port with self.directory; return once it
        answers a ListObjectsV2 of the bucket, at most timeout seconds."""
        if self.closed:
            raise RuntimeError("this S3rver was closed")
        if self.running:
            return self
        # s3rver needs the legacy provider for the MD5-based continuation
        # tokens of ListObjectsV2 paging
        env = dict(os.environ, NODE_OPTIONS="--openssl-legacy-provider")
        if self.log is None:
            self.log = tempfile.TemporaryFile()
        self.proc = subprocess.Popen(
            [self.binary, "--directory", self.directory, "--address", "127.0.0.1",
             "--port", str(self.port), "--configure-bucket", self.bucket, "--silent"],
            stdout=self.log, stderr=self.log, stdin=subprocess.DEVNULL, env=env,
            start_new_session=True)  # a terminal's Ctrl-C is for the test runner
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                code = self.proc.returncode
                self.proc = None
                # the port may still be held by the old instance for a moment
                if time.monotonic() + 0.5 < deadline:
                    time.sleep(0.2)
                    return self.start(timeout=deadline - time.monotonic())
                raise RuntimeError(f"s3rver exited with {code}: {self.output()[-2000:]}")
            try:
                with urllib.request.urlopen(
                        f"{self.endpoint}/{self.bucket}?list-type=2&max-keys=1", timeout=1) as r:
                    r.read()
                return self
            except (urllib.error.URLError, OSError, http.client.HTTPException):
                time.sleep(0.1)
        self.stop()
        raise RuntimeError(f"s3rver did not answer within {timeout} s")

    def stop(self):
        """Stop the server (the data stays for a later start())."""
        if self.proc is None:
            return
        if self.proc.poll() is None:
            try:
                self.proc.send_signal(signal.SIGCONT)  # in case it was paused
                self.proc.terminate()
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(timeout=10)
        self.proc = None

    def restart(self, timeout=20):
        self.stop()
        return self.start(timeout)

    def pause(self):
        """S3 stops answering: connections are accepted by the kernel, no
        request gets an answer."""
        self.proc.send_signal(signal.SIGSTOP)

    def resume(self):
        self.proc.send_signal(signal.SIGCONT)

    def output(self):
        if self.log is None:
            return ""
        self.log.seek(0)
        return self.log.read().decode(errors="replace")

    def close(self):
        if self.closed:
            return
        self.stop()
        self.closed = True
        if self.log is not None:
            self.log.close()
        shutil.rmtree(self.directory, ignore_errors=True)

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc):
        self.close()

    # --- reading back (plain unsigned HTTP) ---
    def url(self, key):
        return f"{self.endpoint}/{self.bucket}/{urllib.parse.quote(key)}"

    def get(self, key, timeout=5):
        """(body bytes, headers dict with lower-case names), or (None, None)
        when there is no such object."""
        try:
            with urllib.request.urlopen(self.url(key), timeout=timeout) as r:
                return r.read(), {k.lower(): v for k, v in r.headers.items()}
        except urllib.error.HTTPError as e:
            if e.code == 404:
                return None, None
            raise

    def get_consistent(self, key, timeout=5):
        """Like get(), but (None, headers) when the body does not match its
        ETag: s3rver rewrites an object file in place, so a GET racing a PUT
        can read a torn body (a real S3 PUT is atomic), even a GET sent after
        the PUT was answered: s3rver answers once it has read the body and
        written the metadata (the new ETag), while the object file may still
        be empty or hold the previous version (seen: 4 reads in 500 right
        after the answer, with two clients listing meanwhile). Its metadata too: a
        GET answered with no ETag at all (seen with an empty body) is torn
        as well, since every stored object has one."""
        body, headers = self.get(key, timeout)
        if body is None:
            return None, None
        etag = headers.get("etag", "").strip('"')
        if not etag or ("-" not in etag and hashlib.md5(body).hexdigest() != etag):
            return None, headers
        return body, headers

    def keys(self, prefix="", timeout=5):
        """Every key under prefix (ListObjectsV2, following continuation tokens)."""
        keys, token = [], None
        for _ in range(10000):
            q = {"list-type": "2", "prefix": prefix}
            if token:
                q["continuation-token"] = token
            with urllib.request.urlopen(
                    f"{self.endpoint}/{self.bucket}?{urllib.parse.urlencode(q)}",
                    timeout=timeout) as r:
                root = ET.fromstring(r.read())
            keys += [c.findtext(f"{S3_NS}Key") for c in root.findall(f"{S3_NS}Contents")]
            if root.findtext(f"{S3_NS}IsTruncated") != "true":
                return keys
            token = root.findtext(f"{S3_NS}NextContinuationToken")
        raise RuntimeError("ListObjectsV2 did not end")
