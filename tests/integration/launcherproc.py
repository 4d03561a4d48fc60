"""castline-launcher as a test or a benchmark drives it: the daemon with a
config of its own in a temporary directory (Launcher), recordings made
as a browser's MediaRecorder makes them (make_recording) and bounded
waits. Standard library only."""
import http.client
import json
import os
import signal
import socket
import subprocess
import time

from s3rver import free_port
from gstlaunch import BUILD, gst_env

LAUNCHER = os.path.join(BUILD, "launcher", "castline-launcher")


def make_recording(directory, kind, seconds=6, size=(320, 240), timeout=60):
    """A live-style recording as a browser's MediaRecorder makes it; a size
    other than 320x240 gets a moving picture with detail (encoders reach
    their bitrates on it). timeout: seconds the encoding may take."""
    path = os.path.join(directory, f"{kind}-{size[0]}x{size[1]}-{seconds}.rec")
    frames = seconds * 30
    audio = (f"audiotestsrc num-buffers={seconds * 50} samplesperbuffer=960 volume=0.2 ! "
             "audio/x-raw,rate=48000 ! opusenc ! m.")
    src = (f"videotestsrc num-buffers={frames}"
           + ("" if size == (320, 240) else " pattern=smpte horizontal-speed=4")
           + f" ! video/x-raw,width={size[0]},height={size[1]},framerate=30/1"
           + ("" if size == (320, 240) else ",format=I420"))
    video = {
        "vp8": f"{src} ! vp8enc deadline=1 keyframe-max-dist=60 target-bitrate=2000000 ! m.",
        "h264": f"{src} ! x264enc tune=zerolatency speed-preset=ultrafast key-int-max=60 ! h264parse ! m.",
        "opus": "",
    }[kind]
    mux = "matroskamux" if kind == "h264" else "webmmux"
    cmd = f"gst-launch-1.0 -q {mux} name=m streamable=true ! filesink location={path} {video} {audio}"
    subprocess.run(cmd, shell=True, check=True, timeout=timeout, env=gst_env())
    with open(path, "rb") as f:
        return f.read()


MIME = {
    "vp8": "video/webm;codecs=vp8,opus",
    "h264": "video/x-matroska;codecs=avc1,opus",
    "opus": "audio/webm;codecs=opus",
}


def free_udp_port():
    """A UDP port nothing is bound to right now (SRT's)."""
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def quote(s):
    from urllib.parse import quote as q
    return q(s, safe="")


def wait_for(predicate, timeout, interval=0.1):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(interval)
    return None


def ffprobe(url):
    out = subprocess.run(["ffprobe", "-v", "error", "-show_streams", "-show_format", "-of", "json",
                          url], capture_output=True, timeout=60, check=True)
    return json.loads(out.stdout)


class Launcher:
    """castline-launcher with a config of its own in a temporary data dir.
    RTMP is off (rtmp.port 0: parallel tests never collide on 1935) unless
    settings has an "rtmp" object; then its port, unless given, is a free
    one (rtmp_port). SRT likewise (srt.port 0, not 8890, unless settings
    has an "srt" object; then a free UDP port unless given: srt_port)."""

    def __init__(self, directory, **settings):
        self.dir = directory
        self.port = settings.pop("port", None) or free_port()
        rtmp = settings.pop("rtmp", None)
        rtmp = {"port": 0} if rtmp is None else {"port": free_port(), **rtmp}
        self.rtmp_port = rtmp["port"]
        srt = settings.pop("srt", None)
        srt = {"port": 0} if srt is None else {"port": free_udp_port(), **srt}
        self.srt_port = srt["port"]
        config = {"port": self.port, "data_dir": os.path.join(directory, "data"),
                  "idle_timeout": 5, "shutdown_timeout": 15, "rtmp": rtmp, "srt": srt}
        config.update(settings)
        self.config_path = os.path.join(directory, "config.json")
        with open(self.config_path, "w") as f:
            json.dump(config, f)
        self.log_path = os.path.join(directory, "launcher.log")
        self.proc = None
        # another launcher (an installed one) and how it is run: its
        # environment (None: gst_env ()) and working directory
        self.executable = LAUNCHER
        self.env = None
        self.cwd = None

    def start(self):
        self.log = open(self.log_path, "ab")
        self.proc = subprocess.Popen([self.executable, "--config", self.config_path],
                                     stdout=self.log, stderr=subprocess.STDOUT,
                                     env=self.env if self.env is not None else gst_env(),
                                     cwd=self.cwd, start_new_session=True)
        if not wait_for(self.listening, 20):
            self.stop()
            raise AssertionError("the launcher did not listen:\n" + self.output())
        return self

    def listening(self):
        if self.proc.poll() is not None:
            raise AssertionError("the launcher exited:\n" + self.output())
        try:
            self.request("GET", "/api/streams")
            return True
        except OSError:
            return False

    def output(self):
        with open(self.log_path, "rb") as f:
            return f.read().decode(errors="replace")

    def request(self, method, path, body=None, headers=None, timeout=10):
        conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=timeout)
        hdrs = dict(headers or {})
        if isinstance(body, (dict, list)):
            body = json.dumps(body)
            hdrs.setdefault("Content-Type", "application/json")
        conn.request(method, path, body=body, headers=hdrs)
        r = conn.getresponse()
        data = r.read()
        conn.close()
        return r.status, dict(r.getheaders()), data

    def api(self, method, path, body=None, headers=None):
        status, hdrs, data = self.request(method, path, body, headers)
        try:
            return status, json.loads(data) if data else None
        except ValueError:
            return status, data

    def kill9(self):
        """SIGKILL, as a crashed machine: nothing is finalized; start() may
        run the same node again."""
        if self.proc and self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait(timeout=10)
            self.log.close()

    def stop(self, sig=signal.SIGTERM, timeout=30):
        """Signals the daemon; its exit code (None if it had to be killed)."""
        if not self.proc or self.proc.poll() is not None:
            return self.proc.returncode if self.proc else None
        self.proc.send_signal(sig)
        try:
            return self.proc.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            subprocess.run(["gdb", "-p", str(self.proc.pid), "-batch", "-ex", "thread apply all bt"],
                           stdout=self.log, stderr=subprocess.STDOUT, timeout=60)
            self.proc.kill()
            self.proc.wait(timeout=10)
            return None
        finally:
            self.log.close()
