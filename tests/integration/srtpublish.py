"""ffmpeg as an SRT caller for the tests that publish over SRT
(test_launcher_srt.py, test_resilience_network.py): the MPEG-TS it sends,
the caller in the background, waiting for it, and whether what came out
decodes. Standard library only; every wait is bounded.

    ts = make_ts(os.path.join(WORK, "input.ts"), seconds=10)
    pub = ffmpeg_publish(ts, with_options(s["srt_url"], latency=500000))
    code, err = finish(pub)
"""
import os
import subprocess
import tempfile

from launcherproc import quote


def make_ts(path, seconds):
    """An H.264 + AAC MPEG-TS of seconds at path (320x240, 30 fps, 2 s
    GOPs, as an encoder sends); path."""
    subprocess.run(["ffmpeg", "-v", "error", "-f", "lavfi", "-i", "testsrc=size=320x240:rate=30",
                    "-f", "lavfi", "-i", "sine=frequency=440:sample_rate=44100", "-t", str(seconds),
                    "-c:v", "libx264", "-preset", "ultrafast", "-pix_fmt", "yuv420p", "-g", "60",
                    "-c:a", "aac", "-b:a", "96k", "-ac", "2", "-f", "mpegts", path],
                   check=True, timeout=60, capture_output=True)
    return path


def with_options(url, **options):
    """url with more query options (ffmpeg's: latency in microseconds)."""
    return url + "".join(f"&{k}={quote(str(v))}" for k, v in options.items())


def ffmpeg_publish(ts, url, loop=False):
    """ffmpeg -re sending the MPEG-TS file ts as it is (-c copy) to an
    srt:// url, in the background; loop: for ever (until killed)."""
    return subprocess.Popen(["ffmpeg", "-v", "error", "-nostdin", "-re"]
                            + (["-stream_loop", "-1"] if loop else [])
                            + ["-i", ts, "-c", "copy", "-f", "mpegts", url],
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)


def finish(proc, timeout=40, kill=False):
    """Waits for a caller (kill: SIGKILL first); its exit code and stderr."""
    if kill and proc.poll() is None:
        proc.kill()
    try:
        _, err = proc.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        proc.kill()
        _, err = proc.communicate(timeout=10)
    return proc.returncode, err.decode(errors="replace")


def decode_errors(path):
    """What ffmpeg -v error says decoding every frame of path ("": none)."""
    out = subprocess.run(["ffmpeg", "-v", "error", "-nostdin", "-i", path, "-f", "null", "-"],
                         capture_output=True, timeout=60)
    return out.stderr.decode(errors="replace").strip() or (
        f"exit {out.returncode}" if out.returncode else "")


def decode_errors_of(data, directory, suffix=".mp4"):
    """decode_errors of bytes (an fMP4 init segment and a segment or its
    parts, or an MPEG-TS segment), through a temporary file in directory."""
    fd, path = tempfile.mkstemp(suffix=suffix, dir=directory)
    with os.fdopen(fd, "wb") as f:
        f.write(data)
    try:
        return decode_errors(path)
    finally:
        os.unlink(path)
