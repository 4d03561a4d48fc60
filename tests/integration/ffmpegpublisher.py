"""ffmpeg as an RTMP or SRT publisher, what OBS and encoders send: an H.264 +
AAC test input made once (make_input), published as it is (-c copy, -re:
at its own pace) to an rtmp:// URL (FLV) or an srt:// URL (MPEG-TS), in
the background; finish() waits for it, bounded.

Standard library and Debian's ffmpeg (5.1: rtmp, rtmps and srt)."""
import subprocess


def make_input(path, seconds, preset="ultrafast", size="320x240"):
    """An H.264 (2 s GOPs) + AAC test file of seconds at path, in the
    container its extension names (.mp4, .ts); path. preset: x264's
    (ultrafast: no B-frames; veryfast and slower have them); size: WxH."""
    subprocess.run(["ffmpeg", "-v", "error", "-y", "-f", "lavfi", "-i",
                    f"testsrc=size={size}:rate=30", "-f", "lavfi", "-i",
                    "sine=frequency=440:sample_rate=44100", "-t", str(seconds),
                    "-c:v", "libx264", "-preset", preset, "-pix_fmt", "yuv420p", "-g", "60",
                    "-c:a", "aac", "-b:a", "96k", "-ac", "2", path],
                   check=True, timeout=60, capture_output=True)
    return path


def publish(source, url, loop=False, extra=()):
    """ffmpeg -re sending source as it is (-c copy) to url (rtmp:// or
    rtmps://: FLV; srt://: MPEG-TS), in the background; loop: for ever
    (until killed). Its stderr is piped: finish() reads it."""
    container = "mpegts" if url.startswith("srt://") else "flv"
    return subprocess.Popen(["ffmpeg", "-v", "error", "-nostdin", "-re"]
                            + (["-stream_loop", "-1"] if loop else [])
                            + ["-i", source, "-c", "copy", *extra, "-f", container, url],
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)


def finish(proc, timeout, kill=False):
    """Waits for a publisher (kill: SIGKILL first); its exit code and
    stderr."""
    if kill and proc.poll() is None:
        proc.kill()
    try:
        _, err = proc.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        proc.kill()
        _, err = proc.communicate(timeout=10)
    return proc.returncode, err.decode(errors="replace")
