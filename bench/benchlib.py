"""What castline's benchmark scripts share: process CPU and memory from
/proc, inputs made with GStreamer and cut into MediaRecorder-like chunks,
a cheap paced WebSocket publisher (asyncio, one process for any number of
streams), a watcher that follows HLS playlists on disk, the machine's
description, and table/JSON output. Standard library only.

Import it after putting tests/integration on sys.path (bench scripts do
that through `setup_paths()` below, before importing anything else)."""
import asyncio
import json
import math
import os
import platform
import re
import shutil
import socket
import struct
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
SOURCE = os.path.dirname(HERE)
CLK_TCK = os.sysconf("SC_CLK_TCK")


def setup_paths():
    """CASTLINE_SOURCE_DIR/BUILD_DIR defaults and tests/integration on the
    path, so launcherproc and friends import; the registry cache goes to a
    file of its own, so a bench never rebuilds the tests' one."""
    os.environ.setdefault("CASTLINE_SOURCE_DIR", SOURCE)
    build = os.environ.get("CASTLINE_BUILD_DIR", "build")
    os.environ["CASTLINE_BUILD_DIR"] = os.path.join(SOURCE, build)  # absolute stays absolute
    os.environ.setdefault("GST_REGISTRY", os.path.join("/tmp", f"castline-bench-{os.getuid()}.registry"))
    sys.path.insert(0, os.path.join(SOURCE, "tests", "integration"))


# ---------------------------------------------------------------- /proc

def cpu_seconds(pid):
    """utime + stime of every thread of pid so far (its children not)."""
    with open(f"/proc/{pid}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / CLK_TCK


def tree_pids(pid):
    """pid and its living descendants (nginx's workers), pid first; pid
    may be a list of process ids (FFmpeg receivers, one a stream): each
    with its descendants. Every tree_* function below takes either."""
    if isinstance(pid, (list, tuple)):
        return [p for root in pid for p in tree_pids(root)]
    pids = [pid]
    try:
        for tid in os.listdir(f"/proc/{pid}/task"):
            with open(f"/proc/{pid}/task/{tid}/children") as f:
                for child in f.read().split():
                    pids += tree_pids(int(child))
    except OSError:
        pass
    return pids


def tree_cpu(pid):
    """CPU seconds of pid and its living descendants (nginx's workers)."""
    total = 0.0
    for p in tree_pids(pid):
        try:
            total += cpu_seconds(p)
        except OSError:
            pass                          # ended meanwhile
    return total


def tree_threads(pid):
    """Threads of pid and its living descendants."""
    count = 0
    for p in tree_pids(pid):
        try:
            count += len(os.listdir(f"/proc/{p}/task"))
        except OSError:
            pass
    return count


def pss_kib(pid):
    """pid's proportional set size (smaps_rollup): each resident page it
    shares with other processes divided among them, so a master and its
    workers add up without counting their shared pages twice."""
    try:
        with open(f"/proc/{pid}/smaps_rollup") as f:
            for line in f:
                if line.startswith("Pss:"):
                    return int(line.split()[1])
    except OSError:
        pass
    return 0


def tree_memory_kib(pid):
    """{"rss", "pss", "anon"} of pid and its living descendants, summed,
    KiB; anon: resident anonymous memory (heap, stacks: RssAnon), which
    other processes mapping the same libraries do not change."""
    total = {"rss": 0, "pss": 0, "anon": 0}
    for p in tree_pids(pid):
        try:
            total["rss"] += rss_kib(p)
            total["anon"] += _status_kib(p, "RssAnon:")
        except OSError:
            continue                      # ended meanwhile
        total["pss"] += pss_kib(p)
    return total


def _status_kib(pid, key):
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith(key):
                return int(line.split()[1])
    return 0


def rss_kib(pid):
    return _status_kib(pid, "VmRSS:")


def peak_rss_kib(pid):
    return _status_kib(pid, "VmHWM:")


def reset_peak_rss(pid):
    """Restarts pid's VmHWM from its current RSS (Linux >= 4.0, same user or
    root); False if not allowed."""
    try:
        with open(f"/proc/{pid}/clear_refs", "w") as f:
            f.write("5")
        return True
    except OSError:
        return False


def udp_bound(port, host="127.0.0.1"):
    """Whether a UDP socket is bound to host:port (/proc/net/udp): an SRT
    listener that can be called."""
    want = f"{socket.htonl(int.from_bytes(socket.inet_aton(host), 'big')):08X}:{port:04X}"
    try:
        with open("/proc/net/udp") as f:
            return any(line.split()[1] == want for line in list(f)[1:])
    except OSError:
        return False


def machine_busy():
    """(busy, total) jiffies of the whole machine, for a CPU share over an
    interval: take two and divide the differences."""
    with open("/proc/stat") as f:
        v = [int(x) for x in f.readline().split()[1:]]
    idle = v[3] + v[4]
    total = sum(v[:8])
    return total - idle, total


def machine_share(before, after):
    """Fraction of all cores busy between two machine_busy() readings."""
    busy, total = after[0] - before[0], after[1] - before[1]
    return busy / total if total else 0.0


def self_cpu_seconds():
    """This process's CPU (the load generator's own cost)."""
    t = os.times()
    return t.user + t.system


def run_measured(argv, timeout, log_path, on_tick=None):
    """Runs argv to its end (killed after timeout s), calling on_tick()
    every 0.1 s meanwhile; (exit status, CPU s, peak RSS KiB) from wait4's
    rusage, threads included."""
    with open(log_path, "wb") as log:
        proc = subprocess.Popen(argv, stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL)
    deadline = time.monotonic() + timeout
    while True:
        pid, status, ru = os.wait4(proc.pid, os.WNOHANG)
        if pid:
            proc.returncode = os.waitstatus_to_exitcode(status)
            return proc.returncode, ru.ru_utime + ru.ru_stime, ru.ru_maxrss
        if time.monotonic() > deadline:
            proc.kill()
        if on_tick:
            on_tick()
        time.sleep(0.1)


# ---------------------------------------------------------------- inputs

MIME = {
    "opus": "audio/webm;codecs=opus",
    "vp8": "video/webm;codecs=vp8,opus",
    "h264": "video/x-matroska;codecs=avc1,opus",
}


def make_input(directory, kind, seconds, size=(1280, 720)):
    """A recording as a browser's MediaRecorder makes it (launcherproc's:
    a 30 fps SMPTE picture scrolling 4 px a frame, Opus audio), written to
    directory/<kind>.<webm|mkv> for FFmpeg too; (path, bytes)."""
    from launcherproc import make_recording
    # 720p VP8 encodes at about real time here; give a loaded machine room
    data = make_recording(directory, kind, seconds=seconds, size=size, timeout=60 + 4 * seconds)
    path = os.path.join(directory, f"{kind}-{seconds}s.{'mkv' if kind == 'h264' else 'webm'}")
    with open(path, "wb") as f:
        f.write(data)
    return path, data


# EBML ids the chunker looks at
_SEGMENT, _INFO, _CLUSTER = 0x18538067, 0x1549A966, 0x1F43B675
_TIMECODE_SCALE, _TIMECODE = 0x2AD7B1, 0xE7
_SIMPLE_BLOCK, _BLOCK_GROUP, _BLOCK = 0xA3, 0xA0, 0xA1


def _vint(data, i, keep_marker):
    first = data[i]
    length, mask = 1, 0x80
    while length <= 8 and not first & mask:
        mask >>= 1
        length += 1
    value = first if keep_marker else first & (mask - 1)
    for k in range(1, length):
        value = (value << 8) | data[i + k]
    unknown = not keep_marker and value == (1 << (7 * length)) - 1
    return value, length, unknown


def _block_time(data, i):
    """The relative timecode of a (Simple)Block whose payload starts at i."""
    _, n, _ = _vint(data, i, False)
    return struct.unpack(">h", data[i + n:i + n + 2])[0]


def block_times(data):
    """[(end offset, seconds)] of every block of a WebM/Matroska stream in
    file order. Streamable files (what MediaRecorder and matroskamux
    streamable=true write) have a Segment and Clusters of unknown size:
    those are descended into, as is Info; anything else is skipped whole."""
    out = []
    scale, cluster = 1_000_000, 0
    i, end = 0, len(data)
    while i < end:
        eid, n, _ = _vint(data, i, True)
        size, m, unknown = _vint(data, i + n, False)
        body = i + n + m
        if eid in (_SEGMENT, _CLUSTER, _INFO):
            i = body            # children follow; siblings come after them
            continue
        if eid == _TIMECODE_SCALE:
            scale = int.from_bytes(data[body:body + size], "big")
        elif eid == _TIMECODE:
            cluster = int.from_bytes(data[body:body + size], "big")
        elif eid == _SIMPLE_BLOCK:
            out.append((body + size, (cluster + _block_time(data, body)) * scale / 1e9))
        elif eid == _BLOCK_GROUP:
            j = body
            while j < body + size:
                cid, cn, _ = _vint(data, j, True)
                csize, cm, _ = _vint(data, j + cn, False)
                if cid == _BLOCK:
                    out.append((body + size, (cluster + _block_time(data, j + cn + cm)) * scale / 1e9))
                j += cn + cm + csize
        i = body + size
    return out


def recorder_chunks(data, interval=0.5, seconds=None):
    """The stream cut as MediaRecorder with a timeslice of interval cuts it:
    [(media time it is sent at, bytes)], chunk j holding what was recorded
    before (j + 1) * interval. seconds: stop there (a prefix of a
    streamable WebM is itself a valid stream)."""
    times = block_times(data)
    length = times[-1][1] if times else 0.0
    if seconds is not None:
        length = min(length, seconds)
    chunks, start, p, j = [], 0, 0, 0
    while start < len(data):
        tick = (j + 1) * interval
        while p < len(times) and times[p][1] < tick:
            p += 1
        last = tick >= length
        cut = len(data) if last and seconds is None else (times[p - 1][0] if p else 0)
        if cut > start:
            chunks.append((tick, data[start:cut]))
            start = cut
        if last:
            break
        j += 1
    return chunks


# ---------------------------------------------------------------- WebSocket publisher

def ws_frame(opcode, payload):
    """One masked client frame (RFC 6455); masking XORs as one big integer,
    so a 150 KB chunk costs microseconds, not a Python loop."""
    n = len(payload)
    head = bytes([0x80 | opcode])
    if n < 126:
        head += bytes([0x80 | n])
    elif n < 65536:
        head += bytes([0x80 | 126]) + struct.pack(">H", n)
    else:
        head += bytes([0x80 | 127]) + struct.pack(">Q", n)
    mask = os.urandom(4)
    key = (mask * (n // 4 + 1))[:n]
    body = (int.from_bytes(payload, "big") ^ int.from_bytes(key, "big")).to_bytes(n, "big") if n else b""
    return head + mask + body


def ws_frames(chunks):
    """recorder_chunks as ready-to-send binary frames: built once, sent to
    as many streams as wanted (every stream gets the same bytes)."""
    return [(at, ws_frame(0x2, chunk)) for at, chunk in chunks]


STOP_FRAME = ws_frame(0x1, b'{"type":"stop-stream"}')


class PublishResult:
    def __init__(self):
        self.status = 0
        self.max_late = 0.0       # worst (send finished - its schedule), s
        self.sent_bytes = 0
        self.close_code = None    # the server's close code, if it closed
        self.closed_early = False  # the server closed before stop-stream
        self.last_sent = None     # monotonic time of the last media chunk


async def _read_close(reader, result):
    """Reads server frames until a close frame; records its code."""
    try:
        while True:
            h = await reader.readexactly(2)
            n = h[1] & 0x7F
            if n == 126:
                n = struct.unpack(">H", await reader.readexactly(2))[0]
            elif n == 127:
                n = struct.unpack(">Q", await reader.readexactly(8))[0]
            payload = await reader.readexactly(n)
            if h[0] & 0x0F == 0x8:
                result.close_code = struct.unpack(">H", payload[:2])[0] if len(payload) >= 2 else 1005
                return
    except (asyncio.IncompleteReadError, ConnectionError, OSError):
        result.close_code = result.close_code or 1006


async def publish(port, target, frames, t0, close_timeout=30, before_stop=None):
    """Sends frames to ws://127.0.0.1:port/target, each at t0 + its media
    time (the event loop's monotonic clock), calls before_stop() after the
    last one, then sends stop-stream and waits for the close."""
    result = PublishResult()
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    try:
        key = "dGhlIHNhbXBsZSBub25jZQ=="
        writer.write((f"GET {target} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nUpgrade: websocket\r\n"
                      f"Connection: Upgrade\r\nSec-WebSocket-Key: {key}\r\n"
                      "Sec-WebSocket-Version: 13\r\n\r\n").encode())
        head = await asyncio.wait_for(reader.readuntil(b"\r\n\r\n"), 10)
        result.status = int(head.split(b" ", 2)[1])
        if result.status != 101:
            return result
        closing = asyncio.ensure_future(_read_close(reader, result))
        loop = asyncio.get_running_loop()
        for at, frame in frames:
            delay = t0 + at - loop.time()
            if delay > 0:
                await asyncio.sleep(delay)
            if closing.done():
                result.closed_early = True
                break
            writer.write(frame)
            await writer.drain()
            result.sent_bytes += len(frame)
            result.max_late = max(result.max_late, loop.time() - (t0 + at))
        result.last_sent = loop.time()
        if before_stop:
            before_stop()
        if not closing.done():
            writer.write(STOP_FRAME)
            await writer.drain()
        await asyncio.wait_for(closing, close_timeout)
    except (asyncio.TimeoutError, ConnectionError, OSError):
        pass
    finally:
        writer.close()
    return result


# ---------------------------------------------------------------- HLS on disk

_INF = re.compile(r"#EXTINF:([0-9.]+)")


class HlsWatcher:
    """Follows an HLS playlist on disk (a master: each of its variants) and
    remembers every segment ever listed, so segments a sliding window
    dropped still count. poll() often enough that none is missed (a
    window of 5 x 2 s: every few seconds is plenty)."""

    def __init__(self, playlist):
        self.playlist = playlist
        self.variants = None            # {uri: HlsWatcher} once the playlist shows a master
        self.segments = {}              # media sequence number -> (uri, seconds)
        self.seen_at = {}               # media sequence number -> monotonic time first listed
        self.ended = False
        self.first_seen = None          # monotonic time the first segment was listed

    def poll(self):
        try:
            with open(self.playlist) as f:
                text = f.read()
        except OSError:
            return
        if self.variants is None and "#EXT-X-STREAM-INF" in text:
            base = os.path.dirname(self.playlist)
            uris = [ln.strip() for ln in text.splitlines() if ln.strip() and not ln.startswith("#")]
            self.variants = {u: HlsWatcher(os.path.join(base, u)) for u in uris}
        if self.variants is not None:
            for v in self.variants.values():
                v.poll()
            return
        seq, duration = 0, None
        now = time.monotonic()
        for line in text.splitlines():
            if line.startswith("#EXT-X-MEDIA-SEQUENCE:"):
                seq = int(line.split(":", 1)[1])
            elif line.startswith("#EXTINF:"):
                duration = float(_INF.match(line).group(1))
            elif line and not line.startswith("#") and duration is not None:
                self.segments.setdefault(seq, (line.strip(), duration))
                self.seen_at.setdefault(seq, now)
                seq, duration = seq + 1, None
        if self.segments and self.first_seen is None:
            self.first_seen = time.monotonic()
        self.ended = "#EXT-X-ENDLIST" in text

    def media_seconds(self):
        """Seconds of media in every segment listed so far (a master: its
        variant with the least)."""
        if self.variants is not None:
            return min((v.media_seconds() for v in self.variants.values()), default=0.0)
        return sum(d for _, d in self.segments.values())

    def announce_delays(self, t0, until=None):
        """For each segment listed (by the monotonic time until), how long
        after its last media second was sent it was listed: its listing
        time - (t0 + the media time its end is at), t0 being when media time
        0 was sent. Steady for a pipeline that keeps up; growing for one
        that falls behind. A media playlist only."""
        delays, end = [], 0.0
        for seq in sorted(self.segments):
            end += self.segments[seq][1]
            if until is None or self.seen_at[seq] <= until:
                delays.append(self.seen_at[seq] - (t0 + end))
        return delays

    def all_ended(self):
        if self.variants is not None:
            return bool(self.variants) and all(v.ended for v in self.variants.values())
        return self.ended

    def summary(self):
        """{variant: {"segments", "seconds", "last"}}: the last segment's path,
        for ffprobe; one entry "" for a media playlist."""
        if self.variants is not None:
            return {u: v.summary()[""] for u, v in self.variants.items()}
        last = self.segments[max(self.segments)][0] if self.segments else None
        path = os.path.join(os.path.dirname(self.playlist), last) if last else None
        return {"": {"segments": len(self.segments), "seconds": round(self.media_seconds(), 2),
                     "last": path}}


def probe_segment(path):
    """'h264 1280x720 + aac 48000 Hz' for a segment file (ffprobe)."""
    if not path or not os.path.exists(path):
        return "segment gone"
    out = subprocess.run(["ffprobe", "-v", "error", "-show_streams", "-of", "json", path],
                         capture_output=True, timeout=30)
    parts = []
    for s in json.loads(out.stdout or b"{}").get("streams", []):
        if s.get("codec_type") == "video":
            parts.append(f"{s.get('codec_name')} {s.get('width')}x{s.get('height')}")
        elif s.get("codec_type") == "audio":
            parts.append(f"{s.get('codec_name')} {s.get('sample_rate')} Hz")
    return " + ".join(parts) or "no streams"


# ---------------------------------------------------------------- output

def machine():
    """What the figures were measured on and with."""
    def first_line(argv):
        try:
            return subprocess.run(argv, capture_output=True, text=True, timeout=10).stdout.splitlines()[0]
        except (OSError, IndexError, subprocess.TimeoutExpired):
            return "?"
    model = "?"
    with open("/proc/cpuinfo") as f:
        for line in f:
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    with open("/proc/meminfo") as f:
        mem = int(f.readline().split()[1]) // 1024
    x264 = "?"
    if shutil.which("dpkg-query"):
        x264 = first_line(["dpkg-query", "-W", "-f", "${Version}\n", "libx264-164"])
    return {"cpu": model, "cores": os.cpu_count(), "memory_mib": mem, "kernel": platform.release(),
            "gstreamer": first_line(["gst-launch-1.0", "--version"]).split()[-1],
            "ffmpeg": first_line(["ffmpeg", "-version"]).split()[2],
            "libx264": x264, "load_average": os.getloadavg()}


def mcores_per_viewer(row, base, digits=2):
    """(row's launcher cores - base's, with no viewer) / row's viewers, in
    thousandths of a core; None for the row with no viewer"""
    if not row["viewers"]:
        return None
    return round((row["launcher_cores"] - base["launcher_cores"]) / row["viewers"] * 1000, digits)


def ramp_counts(counts, largest):
    """The counts given, then 1.5x the last while under largest (a ramp
    that a benchmark stops at the first count that does not hold)."""
    for n in counts:
        yield n
    n = counts[-1]
    while int(n * 1.5) <= largest:
        n = int(n * 1.5)
        yield n


def percentile(values, fraction):
    """Nearest-rank percentile (fraction 0.5 is the median); None when empty."""
    if not values:
        return None
    v = sorted(values)
    return v[max(0, math.ceil(fraction * len(v)) - 1)]


def print_table(headers, rows):
    cells = [[str(h) for h in headers]] + [["" if c is None else str(c) for c in r] for r in rows]
    widths = [max(len(r[i]) for r in cells) for i in range(len(headers))]
    for n, r in enumerate(cells):
        print("  ".join(c.ljust(w) for c, w in zip(r, widths)).rstrip())
        if n == 0:
            print("  ".join("-" * w for w in widths))


def write_json(path, obj):
    if path:
        with open(path, "w") as f:
            json.dump(obj, f, indent=2)
            f.write("\n")
