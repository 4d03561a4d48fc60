"""A WHIP publisher without a browser: GStreamer's webrtcbin sending a live
H.264 (constrained baseline, packetization-mode 1) + Opus test signal, or
Opus alone; its offer POSTed to a WHIP URL with the stream key, the
answer applied. Runs until SIGINT/SIGTERM, or until the connection fails.

    /usr/bin/python3 whippublisher.py WHIP_URL KEY [--audio-only]
    # prints "answered 201" once the answer is in, "connected" once ICE is

WhipPublisher starts it as a child process for a test (Debian's
python3-gi and gir1.2-gst-plugins-bad-1.0, for /usr/bin/python3)."""
import http.client
import os
import signal
import subprocess
import sys
import threading
import time
from urllib.parse import urlsplit

HERE = os.path.dirname(os.path.abspath(__file__))

WEBRTCBIN = "webrtcbin name=w bundle-policy=max-bundle "
VIDEO = (
    "videotestsrc is-live=true pattern=ball ! video/x-raw,width=320,height=240,framerate=30/1 "
    "! x264enc tune=zerolatency speed-preset=ultrafast key-int-max=60 bitrate=400 "
    "! video/x-h264,profile=constrained-baseline ! h264parse config-interval=-1 "
    "! rtph264pay pt=96 config-interval=-1 aggregate-mode=zero-latency "
    "! application/x-rtp,media=video,encoding-name=H264,payload=96,clock-rate=90000 ! w. ")
AUDIO = (
    "audiotestsrc is-live=true volume=0.2 ! audioconvert ! audioresample ! opusenc "
    "! rtpopuspay pt=111 "
    "! application/x-rtp,media=audio,encoding-name=OPUS,payload=111,clock-rate=48000 ! w.")


class WhipPublisher:
    """whippublisher.py as a child process; wait_answered() says whether
    the WHIP POST got its 201. stop() ends it (SIGTERM, then SIGKILL)."""

    def __init__(self, url, key, log_path, video=True):
        self.log = open(log_path, "ab")
        self.proc = subprocess.Popen(["/usr/bin/python3", os.path.join(HERE, "whippublisher.py"),
                                      url, key] + ([] if video else ["--audio-only"]),
                                     stdout=self.log, stderr=subprocess.STDOUT,
                                     stdin=subprocess.DEVNULL)
        self.log_path = log_path

    def output(self):
        with open(self.log_path, "rb") as f:
            return f.read().decode(errors="replace")

    def wait_answered(self, timeout=20):
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline and self.proc.poll() is None:
            if "answered 201" in self.output():
                return True
            time.sleep(0.1)
        return "answered 201" in self.output()

    def stop(self):
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(10)
        self.log.close()


def main(url, key, video=True):
    import gi
    gi.require_version("Gst", "1.0")
    gi.require_version("GstWebRTC", "1.0")
    gi.require_version("GstSdp", "1.0")
    from gi.repository import GLib, Gst, GstSdp, GstWebRTC

    Gst.init(None)
    loop = GLib.MainLoop()
    pipe = Gst.parse_launch(WEBRTCBIN + (VIDEO if video else "") + AUDIO)
    webrtc = pipe.get_by_name("w")
    failed = []

    def finish(reason):
        print(reason, flush=True)
        failed.append(reason)
        loop.quit()

    def post(offer):
        """the WHIP exchange, off the main loop (the server answers after
        its ICE gathering)"""
        parts = urlsplit(url)
        try:
            conn = http.client.HTTPConnection(parts.hostname, parts.port or 80, timeout=20)
            conn.request("POST", parts.path, body=offer, headers={
                "Content-Type": "application/sdp", "Authorization": f"Bearer {key}"})
            r = conn.getresponse()
            body = r.read().decode(errors="replace")
            conn.close()
        except OSError as e:
            GLib.idle_add(finish, f"POST failed: {e}")
            return
        if r.status != 201:
            GLib.idle_add(finish, f"answered {r.status}: {body[:200]}")
            return
        GLib.idle_add(apply_answer, body)

    def apply_answer(text):
        _, sdp = GstSdp.SDPMessage.new_from_text(text)
        answer = GstWebRTC.WebRTCSessionDescription.new(GstWebRTC.WebRTCSDPType.ANSWER, sdp)
        webrtc.emit("set-remote-description", answer, None)
        print("answered 201", flush=True)
        return False

    def gathered(*_):
        if webrtc.get_property("ice-gathering-state") != GstWebRTC.WebRTCICEGatheringState.COMPLETE:
            return
        if getattr(gathered, "done", False):
            return
        gathered.done = True
        offer = webrtc.get_property("local-description").sdp.as_text()
        threading.Thread(target=post, args=(offer,), daemon=True).start()

    def on_offer(promise, _):
        reply = promise.get_reply()      # held: the offer is borrowed from it
        offer = reply.get_value("offer")
        webrtc.emit("set-local-description", offer, None)

    def negotiate(*_):
        if getattr(negotiate, "done", False):
            return
        negotiate.done = True
        webrtc.emit("create-offer", None, Gst.Promise.new_with_change_func(on_offer, None))

    def state(*_):
        s = webrtc.get_property("connection-state")
        if s == GstWebRTC.WebRTCPeerConnectionState.CONNECTED:
            print("connected", flush=True)
        elif s == GstWebRTC.WebRTCPeerConnectionState.FAILED:
            GLib.idle_add(finish, "connection failed")

    def on_message(_, message):
        if message.type == Gst.MessageType.ERROR:
            err, debug = message.parse_error()
            finish(f"error: {err.message} ({debug})")

    # the transceivers exist once the pads are linked: a publisher only sends
    i = 0
    while (transceiver := webrtc.emit("get-transceiver", i)) is not None:
        transceiver.set_property("direction", GstWebRTC.WebRTCRTPTransceiverDirection.SENDONLY)
        i += 1
    webrtc.connect("on-negotiation-needed", negotiate)
    webrtc.connect("notify::ice-gathering-state", gathered)
    webrtc.connect("notify::connection-state", state)
    bus = pipe.get_bus()
    bus.add_signal_watch()
    bus.connect("message", on_message)
    for sig in (signal.SIGINT, signal.SIGTERM):
        GLib.unix_signal_add(GLib.PRIORITY_DEFAULT, sig, loop.quit)
    pipe.set_state(Gst.State.PLAYING)
    loop.run()
    pipe.set_state(Gst.State.NULL)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1], sys.argv[2], "--audio-only" not in sys.argv[3:]))
