"""What the castline-launcher test files (test_launcher_*.py) share, so that
each is defined once: the module fixture (a temporary WORK directory and
the WebM/Matroska recordings, made once per file: import setUpModule and
tearDownModule into the test file), LauncherCase (a daemon per test and
the calls every test makes), the browser driver runner, the webhook
receiver, a background publisher, the /metrics parser and the HLS master
playlist readers more than one feature checks.

Standard library only, but for metric_samples (Debian's
python3-prometheus-client, for /usr/bin/python3, which meson runs).
Every wait is bounded.
"""
import http.server
import json
import os
import shutil
import subprocess
import sys
import tempfile
import threading
import time
import unittest

from s3rver import S3rver
from wsclient import WsClient
from gstlaunch import SOURCE
from launcherproc import MIME, Launcher, make_recording, quote, wait_for

WORK = None          # the test file's temporary directory (setUpModule)
RECORDINGS = {}      # name: the bytes LauncherCase.publish() and Publisher send


def setUpModule():
    global WORK
    WORK = tempfile.mkdtemp(prefix="castline-launcher-test-")
    for kind in ("vp8", "h264", "opus"):
        RECORDINGS[kind] = make_recording(WORK, kind)


def tearDownModule():
    shutil.rmtree(WORK, ignore_errors=True)


def case_dir(prefix="case-"):
    """A directory of one test's own under WORK."""
    return tempfile.mkdtemp(prefix=prefix, dir=WORK)


def recording(name, kind, seconds=6, size=(320, 240)):
    """RECORDINGS[name], made once (a recording other than the module's
    three: longer or larger); its name, which publish() takes as a kind."""
    if name not in RECORDINGS:
        RECORDINGS[name] = make_recording(WORK, kind, seconds, size)
        MIME[name] = MIME[kind]
    return name


def abr_recording(kind, width, height, seconds=10):
    """A larger recording for the ABR tests, RECORDINGS[name] (made once);
    its name, which publish() takes as a kind."""
    return recording(f"{kind}-{height}p", kind, seconds, (width, height))


class LauncherCase(unittest.TestCase):
    settings = {}

    def setUp(self):
        self.dir = case_dir()
        self.launcher = Launcher(self.dir, **self.settings).start()

    def tearDown(self):
        code = self.launcher.stop()
        if code != 0:
            print(self.launcher.output())
        self.assertEqual(code, 0, "the launcher did not exit 0 on SIGTERM")

    def create(self, **body):
        status, s = self.launcher.api("POST", "/api/streams", body)
        self.assertEqual(status, 201, s)
        return s

    def publish(self, stream, kind, pace=0.0, stop=True, key=None, mime=None):
        """Sends a recording over the stream's WebSocket in 16 KiB messages;
        returns the client (closed when stop). mime: the ?mimeType= sent
        (None: the recording's own, "": none)."""
        mime = MIME[kind] if mime is None else mime
        target = (f"/ingest/{stream['id']}?key={quote(key or stream['key'])}"
                  + (f"&mimeType={quote(mime)}" if mime else ""))
        ws = WsClient(self.launcher.port, target)
        self.assertEqual(ws.status, 101, "upgrade refused")
        data = RECORDINGS[kind]
        for i in range(0, len(data), 16384):
            ws.send_binary(data[i:i + 16384])
            if pace:
                time.sleep(pace)
        if stop:
            ws.send_text('{"type":"stop-stream"}')
            code, reason = ws.wait_close()
            if code != 1000:
                # 1001 "stream stopped": the stream's pipeline ended (failed)
                # before the stop was read; "idle for N s": nothing came for
                # the idle time-out. The stream and the log say why.
                _, record = self.launcher.api("GET", f"/api/streams/{stream['id']}")
                self.fail(f"the publisher was closed with {code} ({reason!r}), not 1000; "
                          f"the stream: {record}\n{self.launcher.output()[-3000:]}")
            ws.close()
        return ws

    def wait_state(self, stream_id, state, timeout=30):
        def check():
            status, s = self.launcher.api("GET", f"/api/streams/{stream_id}")
            return s if status == 200 and s["state"] == state else None
        s = wait_for(check, timeout)
        if not s:
            print(self.launcher.output())
        self.assertTrue(s, f"stream {stream_id} never {state}")
        return s

    def playlist(self, stream):
        status, hdrs, body = self.launcher.request("GET", f"/live/{stream['id']}/index.m3u8")
        self.assertEqual(status, 200)
        self.assertEqual(hdrs.get("Content-Type"), "application/vnd.apple.mpegurl")
        return body.decode()


BROWSER_DIR = os.path.join(os.path.dirname(os.path.abspath(__file__)), "browser")


def node(script, *args, timeout=120):
    """Runs a browser driver; its JSON result line. Chromium and node are
    installed by scripts/setup.sh: without them the browser tests fail."""
    out = subprocess.run(["node", os.path.join(BROWSER_DIR, script), *args], capture_output=True,
                         timeout=timeout, cwd=SOURCE)
    if out.returncode != 0:
        raise AssertionError(f"{script} failed ({out.returncode}): {out.stderr.decode()[-3000:]}")
    return json.loads(out.stdout.decode().strip().splitlines()[-1])


WEBHOOK_SECRET = "whsec-integration-secret-never-logged"
WEBHOOK_QUERY_TOKEN = "query-token-never-logged"


class KeyedCase(LauncherCase):
    """A LauncherCase whose streams' keys (every one create made) must
    never reach the launcher's log: checked at tearDown."""

    def setUp(self):
        super().setUp()
        self.keys = []

    def tearDown(self):
        try:
            super().tearDown()
        finally:
            log = self.launcher.output()
            for key in self.keys:
                self.assertNotIn(key, log, "a stream key is in the launcher's log")

    def create(self, **body):
        s = super().create(**body)
        self.keys.append(s["key"])
        return s


class WebhookReceiver:
    """An HTTP/1.1 server on 127.0.0.1 recording every POST as (lower-case
    headers, body); fail[event type] of them are answered 503 first. After
    hold(), answers wait until release() (at most 30 s): the daemon's
    deliveries stay in flight."""

    def __init__(self):
        self.lock = threading.Lock()
        self.requests = []
        self.fail = {}
        self.released = threading.Event()
        self.released.set()
        receiver = self

        class Handler(http.server.BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def do_POST(self):
                body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
                headers = {k.lower(): v for k, v in self.headers.items()}
                with receiver.lock:
                    receiver.requests.append((headers, body))
                    event = headers.get("x-castline-event")
                    status = 503 if receiver.fail.get(event, 0) > 0 else 204
                    if status == 503:
                        receiver.fail[event] -= 1
                receiver.released.wait(30)
                self.send_response(status)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, *args):
                pass

        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()
        self.url = (f"http://127.0.0.1:{self.server.server_address[1]}/hooks/castline"
                    f"?token={WEBHOOK_QUERY_TOKEN}")

    def hold(self):
        self.released.clear()

    def release(self):
        self.released.set()

    def received(self):
        with self.lock:
            return list(self.requests)

    def wait(self, count, timeout=30):
        return wait_for(lambda: len(self.received()) >= count and self.received(), timeout)

    def stop(self):
        self.release()
        self.server.shutdown()
        self.server.server_close()
        self.thread.join(timeout=10)


class WebhookCase(LauncherCase):
    """A launcher (with extra_settings) that POSTs its webhooks, signed with
    WEBHOOK_SECRET, to a Python receiver of the case's own."""
    extra_settings = {}

    def setUp(self):
        self.receiver = WebhookReceiver()
        self.settings = dict(self.extra_settings,
                             webhooks={"urls": [self.receiver.url], "secret": WEBHOOK_SECRET})
        try:
            super().setUp()
        except BaseException:
            self.receiver.stop()
            raise

    def tearDown(self):
        try:
            super().tearDown()
        finally:
            self.receiver.stop()


class Publisher(threading.Thread):
    """A recording sent over a stream's WebSocket at about its own pace, in
    the background, so the stream is live with media flowing meanwhile."""

    def __init__(self, port, stream, kind, seconds=6):
        super().__init__(daemon=True)
        self.ws = WsClient(port, f"/ingest/{stream['id']}?key={quote(stream['key'])}"
                                 f"&mimeType={quote(MIME[kind])}")
        self.data, self.seconds = RECORDINGS[kind], seconds

    def run(self):
        chunks = range(0, len(self.data), 16384)
        try:
            for i in chunks:
                self.ws.send_binary(self.data[i:i + 16384])
                time.sleep(self.seconds / len(chunks))
        except OSError:
            pass         # the daemon closed it (a shutdown) or the test did

    def finish(self):
        """Waits for the last chunk, then ends the stream."""
        self.join(self.seconds + 30)
        self.ws.send_text('{"type":"stop-stream"}')
        code = self.ws.wait_close()[0]
        self.ws.close()
        return code


def metric_samples(text):
    """{sample name: [(labels, value)]} from the Prometheus text, read with
    the reference parser."""
    try:
        from prometheus_client.parser import text_string_to_metric_families
    except ImportError:
        raise AssertionError("no prometheus_client for " + sys.executable + ": scripts/setup.sh "
                             "installs python3-prometheus-client for /usr/bin/python3") from None
    samples = {}
    types = {}
    for family in text_string_to_metric_families(text):
        for s in family.samples:
            samples.setdefault(s.name, []).append((s.labels, s.value))
            types[s.name] = family.type
    return samples, types


class MetricsMixin:
    def scrape(self, launcher=None, headers=None):
        status, hdrs, body = (launcher or self.launcher).request("GET", "/metrics", headers=headers)
        self.assertEqual(status, 200, body)
        self.assertEqual(hdrs.get("Content-Type"), "text/plain; version=0.0.4; charset=utf-8")
        return metric_samples(body.decode())

    @staticmethod
    def value(samples, name, **labels):
        for got, v in samples.get(name, []):
            if got == labels:
                return v
        return None


def stream_inf(master):
    """[(attributes, uri)] of a master playlist's EXT-X-STREAM-INF entries."""
    import re
    lines = master.splitlines()
    out = []
    for i, line in enumerate(lines):
        if line.startswith("#EXT-X-STREAM-INF:"):
            attrs = dict(re.findall(r'([A-Z-]+)=("[^"]*"|[^,]*)', line[len("#EXT-X-STREAM-INF:"):]))
            out.append(({k: v.strip('"') for k, v in attrs.items()}, lines[i + 1]))
    return out


def segment_ext(playlist_url):
    """The extension of a media playlist's segments: ".m4s" for fMP4 (an
    LL-HLS output, EXT-X-MAP), ".ts" for MPEG-TS (hls.low_latency off, S3)."""
    import urllib.request
    text = urllib.request.urlopen(playlist_url, timeout=10).read().decode()
    return ".m4s" if "#EXT-X-MAP:" in text else ".ts"


def init_url(segment_url):
    """The init segment of an fMP4 (LL-HLS) segment's URL: the EXT-X-MAP
    before it in the index.m3u8 next to it (init1.mp4 after a caps change),
    else the session's first ("s2-segment00003.m4s": "s2-init.mp4")."""
    import urllib.request
    base, _, name = segment_url.rpartition("/")
    current = None
    try:
        text = urllib.request.urlopen(f"{base}/index.m3u8", timeout=10).read().decode()
    except OSError:
        text = ""
    for line in text.splitlines():
        if line.startswith("#EXT-X-MAP:"):
            current = line.split('URI="', 1)[1].split('"', 1)[0]
        elif line == name and current:
            return f"{base}/{current}"
    return f"{base}/{name[:name.index('segment')]}init.mp4"


def probe_path(url):
    """What ffprobe reads for a segment's URL: the URL of an MPEG-TS one;
    for an fMP4 one (LL-HLS), a temporary file of its init segment and it
    (a CMAF segment alone has no moov)."""
    if not url.endswith(".m4s"):
        return url
    import urllib.request
    data = b"".join(urllib.request.urlopen(u, timeout=10).read()
                    for u in (init_url(url), url))
    fd, path = tempfile.mkstemp(suffix=".mp4", dir=WORK)
    with os.fdopen(fd, "wb") as f:
        f.write(data)
    return path


def first_video_pts(url):
    """pts_time of the first video packet of a segment (MPEG-TS or fMP4)."""
    out = subprocess.run(["ffprobe", "-v", "error", "-select_streams", "v:0", "-show_entries",
                          "packet=pts_time", "-read_intervals", "%+#1", "-of", "json",
                          probe_path(url)],
                         capture_output=True, timeout=60, check=True)
    return float(json.loads(out.stdout)["packets"][0]["pts_time"])


def s3_settings(s3):
    """The launcher's s3 object for an S3rver, streams under streams/."""
    return {"endpoint": s3.endpoint, "bucket": s3.bucket, "access_key": "S3RVER",
            "secret_key": "S3RVER", "key_prefix": "streams/",
            "public_base_url": f"{s3.endpoint}/{s3.bucket}"}


class S3Case(unittest.TestCase):
    """A test with an s3rver of its own (started, bucket made, stopped at
    the end) and a directory for the launcher it starts itself."""

    def setUp(self):
        self.dir = case_dir()
        self.s3 = S3rver(SOURCE).start()
        self.addCleanup(self.s3.stop)
