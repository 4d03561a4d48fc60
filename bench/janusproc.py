"""Janus (Debian's `janus` 1.1.2, bench/setup.sh) as bench/whep_viewers.py
runs it to compare with castline's WHEP: this user, a configuration of
its own in a temporary directory, in the foreground, its HTTP API on
127.0.0.1 only, the streaming plugin alone with one RTP mountpoint (id 1:
H.264 and Opus). Janus has no WHEP in 1.1: its viewers talk its own HTTP
API (bench/whep_load --janus). Janus takes RTP, not RTMP: its publisher is
FFmpeg sending the same file's H.264 as it is and its AAC as Opus
(FFmpeg's one Opus encoder in place of castline's). Standard library only;
tests/integration must be on sys.path (benchlib.setup_paths)."""
import os
import signal
import socket
import subprocess

from launcherproc import wait_for
from s3rver import free_port

LIB = "/usr/lib/x86_64-linux-gnu/janus"
MOUNTPOINT = 1
VIDEO_PT, AUDIO_PT = 96, 111


def free_udp_port():
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Janus:
    """One Janus: start() writes its configuration and runs it until its
    HTTP API answers; stop() ends it. api_url: its REST API's base."""

    def __init__(self, workdir):
        self.dir = os.path.join(workdir, "janus")
        self.port = free_port()
        self.video_port, self.audio_port = free_udp_port(), free_udp_port()
        self.api_url = f"http://127.0.0.1:{self.port}/janus"
        self.proc = None
        self.log = None

    def _write(self, name, text):
        with open(os.path.join(self.dir, name), "w") as f:
            f.write(text)

    def start(self):
        os.makedirs(self.dir, exist_ok=True)
        plugins = [p for p in os.listdir(os.path.join(LIB, "plugins")) if p != "libjanus_streaming.so"]
        transports = [t for t in os.listdir(os.path.join(LIB, "transports")) if t != "libjanus_http.so"]
        self._write("janus.jcfg", f"""general: {{
  configs_folder = "{self.dir}"
  plugins_folder = "{LIB}/plugins"
  transports_folder = "{LIB}/transports"
  events_folder = "{LIB}/events"
  loggers_folder = "{LIB}/loggers"
  log_to_stdout = true
  debug_level = 3
  session_timeout = 0
}}
plugins: {{ disable = "{','.join(plugins)}" }}
transports: {{ disable = "{','.join(transports)}" }}
events: {{ broadcast = false }}
loggers: {{ disable = "libjanus_jsonlog.so" }}
media: {{ rtp_port_range = "20000-60000" }}
nat: {{ ignore_mdns = true }}
""")
        self._write("janus.transport.http.jcfg", f"""general: {{
  base_path = "/janus"
  http = true
  port = {self.port}
  ip = "127.0.0.1"
  https = false
}}
admin: {{ admin_http = false }}
""")
        self._write("janus.plugin.streaming.jcfg", f"""general: {{ }}
bench: {{
  type = "rtp"
  id = {MOUNTPOINT}
  description = "bench"
  media = (
    {{ type = "video" mid = "v" port = {self.video_port} pt = {VIDEO_PT} codec = "h264"
       fmtp = "profile-level-id=42e01f;packetization-mode=1" }},
    {{ type = "audio" mid = "a" port = {self.audio_port} pt = {AUDIO_PT} codec = "opus" }}
  )
}}
""")
        self.log = open(os.path.join(self.dir, "janus.log"), "ab")
        self.proc = subprocess.Popen(["janus", "-F", self.dir, "-C", os.path.join(self.dir, "janus.jcfg")],
                                     stdout=self.log, stderr=subprocess.STDOUT,
                                     stdin=subprocess.DEVNULL, start_new_session=True)
        if not wait_for(self._listening, 15):
            self.stop()
            raise RuntimeError("janus did not listen: " + self.errors())
        return self

    def _listening(self):
        if self.proc.poll() is not None:
            raise RuntimeError("janus exited: " + self.errors())
        try:
            socket.create_connection(("127.0.0.1", self.port), timeout=1).close()
            return True
        except OSError:
            return False

    def publish_command(self, input_path):
        """FFmpeg sending input_path in a loop at real time to the
        mountpoint: H.264 as it is, AAC as Opus."""
        return ["ffmpeg", "-hide_banner", "-nostdin", "-loglevel", "error", "-re", "-stream_loop", "-1",
                "-i", input_path,
                "-map", "0:v", "-c:v", "copy", "-payload_type", str(VIDEO_PT),
                "-f", "rtp", f"rtp://127.0.0.1:{self.video_port}?pkt_size=1200",
                "-map", "0:a", "-c:a", "libopus", "-b:a", "96k", "-ar", "48000", "-ac", "2",
                "-payload_type", str(AUDIO_PT), "-f", "rtp", f"rtp://127.0.0.1:{self.audio_port}?pkt_size=1200"]

    def errors(self):
        try:
            with open(os.path.join(self.dir, "janus.log"), errors="replace") as f:
                return f.read()[-2000:]
        except OSError:
            return ""

    @property
    def pid(self):
        return self.proc.pid

    def stop(self):
        if self.proc and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGINT)
            try:
                self.proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                os.killpg(self.proc.pid, signal.SIGKILL)
                self.proc.wait(timeout=10)
        if self.log:
            self.log.close()
            self.log = None
