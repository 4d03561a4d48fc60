"""A castline cluster as test_cluster.py and bench/cluster_failover.py run
it: three castline-launcher nodes (Launcher, launcherproc.py) on loopback
ports sharing one PostgreSQL database (store.url) and, optionally, one
s3rver bucket; an ffmpeg RTMP publisher to any node; the S3 HLS of a
stream read back per session. Standard library, ffmpeg and PostgreSQL 15.

    pg = start_postgres()                         # tests/pgserver.py
    cluster = Cluster(directory, database(pg, "failover"), lease=4,
                      s3=s3_settings(s3), rtmp={}).start()   # launchercase.py
    cluster["b"].kill9(); cluster.stop()

Every wait is bounded; every process started here is stopped by its owner.
"""
import os
import re
import signal
import subprocess
import sys
import time
import urllib.error
from datetime import datetime

from launcherproc import Launcher
from s3rver import free_port

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
from pgserver import PgServer  # noqa: E402,F401 (re-exported: the tests' one import)

NODE_IDS = ("a", "b", "c")


def database(pg, name):
    """A fresh database of pg for one group of nodes (a test class, a
    benchmark run): its store URL. Nodes of different groups never see
    each other's lease rows or streams."""
    pg.psql(f"CREATE DATABASE {name} OWNER {pg.user}", database="postgres")
    return pg.url.rpartition("/")[0] + "/" + name


def start_postgres():
    """A PgServer started, its role and database made; close() it."""
    return PgServer().open()


def restart_postgres(pg, down=2.0):
    """The database away for down seconds (clients disconnected), then
    back on the same port with the same data."""
    pg.stop()
    time.sleep(down)
    pg.start()


class Cluster:
    """Nodes NODE_IDS (or ids), each a Launcher in directory/<id> with
    store.url, node.id, node.public_url (its own loopback port) and
    node.lease; settings go to every node, per_node[id] on top for one."""

    def __init__(self, directory, store_url, lease=4, ids=NODE_IDS, per_node=None, **settings):
        self.nodes = {}
        for node_id in ids:
            port = free_port()
            node_dir = os.path.join(directory, node_id)
            os.makedirs(node_dir, exist_ok=True)
            own = dict(settings, **(per_node or {}).get(node_id, {}))
            self.nodes[node_id] = Launcher(
                node_dir, port=port, store={"url": store_url},
                node={"id": node_id, "public_url": f"http://127.0.0.1:{port}", "lease": lease},
                **own)

    def __getitem__(self, node_id):
        return self.nodes[node_id]

    def __iter__(self):
        return iter(self.nodes.values())

    def start(self):
        try:
            for node in self:
                node.start()
        except BaseException:
            self.stop()
            raise
        return self

    def stop(self):
        """SIGTERM to every node still running; {id: exit code} of those
        (a node killed before is not in it)."""
        codes = {}
        for node_id, node in self.nodes.items():
            if node.proc and node.proc.poll() is None:
                codes[node_id] = node.stop()
        return codes

    def public_url(self, node_id):
        return f"http://127.0.0.1:{self.nodes[node_id].port}"

    def logs(self, tail=3000):
        return "\n".join(f"--- node {i}:\n{n.output()[-tail:]}" for i, n in self.nodes.items()
                         if n.proc)


def make_input(path, seconds=10, size="320x240"):
    """An H.264 + AAC MP4 of seconds, a keyframe every second (segments of
    hls.target_duration 1 close every second), for ffmpeg to publish."""
    subprocess.run(["ffmpeg", "-v", "error", "-y", "-f", "lavfi", "-i", f"testsrc=size={size}:rate=30",
                    "-f", "lavfi", "-i", "sine=frequency=440:sample_rate=44100", "-t", str(seconds),
                    "-c:v", "libx264", "-preset", "ultrafast", "-pix_fmt", "yuv420p", "-g", "30",
                    "-c:a", "aac", "-b:a", "64k", "-ac", "2", path],
                   check=True, timeout=60, capture_output=True)
    return path


class RtmpPublisher:
    """ffmpeg -re publishing an input in a loop (-c copy) to one node's
    RTMP port with the stream's key, until stopped."""

    def __init__(self, input_path, node, key):
        self.url = f"rtmp://127.0.0.1:{node.rtmp_port}/live/{key}"
        self.proc = subprocess.Popen(
            ["ffmpeg", "-v", "error", "-nostdin", "-re", "-stream_loop", "-1", "-i", input_path,
             "-c", "copy", "-f", "flv", self.url],
            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        self.code, self.err = None, ""

    @property
    def running(self):
        return self.proc.poll() is None

    def stop(self, sig=signal.SIGINT, timeout=20):
        """SIGINT (ffmpeg ends its stream: FCUnpublish), or sig; SIGKILL
        after timeout. (exit code, stderr)."""
        if self.proc.poll() is None:
            self.proc.send_signal(sig)
        try:
            _, err = self.proc.communicate(timeout=timeout)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            _, err = self.proc.communicate(timeout=10)
        self.code, self.err = self.proc.returncode, self.err + err.decode(errors="replace")
        return self.code, self.err

    def exited(self):
        """(exit code, stderr) once ffmpeg exited by itself, else None."""
        if self.proc.poll() is None:
            return None
        return self.stop()


def s3_keys(s3, prefix, tries=10):
    """s3.keys(prefix), asked again when s3rver answers 500: it does when
    a listing meets an object being written (seen with uploads from a
    live stream every second)."""
    for n in range(tries):
        try:
            return s3.keys(prefix)
        except urllib.error.HTTPError as e:
            if e.code != 500 or n == tries - 1:
                raise
            time.sleep(0.1)


SEGMENT = re.compile(r"^(s(\d+)-)?segment(\d+)\.(ts|m4s)$")


def segment_session(name):
    """(session, number) of a segment file name: segment00003.ts is
    (1, 3), s2-segment00000.ts (2, 0); None for another file."""
    m = SEGMENT.match(name)
    return (int(m.group(2) or 1), int(m.group(3))) if m else None


def playlist_entries(text):
    """[(uri, duration, program date as a Unix time or None)] of a media
    playlist, in order."""
    entries, duration, date = [], None, None
    for line in text.splitlines():
        if line.startswith("#EXTINF:"):
            duration = float(line[8:].split(",")[0])
        elif line.startswith("#EXT-X-PROGRAM-DATE-TIME:"):
            date = datetime.strptime(line.split(":", 1)[1],
                                     "%Y-%m-%dT%H:%M:%S.%f%z").timestamp()
        elif line and not line.startswith("#"):
            entries.append((line, duration, date))
            duration, date = None, None
    return entries
