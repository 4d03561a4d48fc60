"""Whether media the daemon wrote decodes: every frame through ffmpeg, what
it says at -v error (test_launcher_srt.py, test_resilience_network.py).
Standard library and Debian's ffmpeg; every run is bounded.

    decode_errors("segment.ts")                        # "" when it decodes
    decode_errors_of(init + segment, WORK)             # bytes, through a file
"""
import os
import subprocess
import tempfile


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
