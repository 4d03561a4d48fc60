"""What the RTMP tests share to check that media went through untouched
and to serve RTMPS: the H.264 NAL units and the AAC frames and config of
any file or URL ffmpeg reads, and a CA with a server certificate for
127.0.0.1. Standard library, ffmpeg and openssl."""
import os
import subprocess


def annexb_units(path):
    """The H.264 NAL units of a file or URL (any container), in order."""
    data = subprocess.run(["ffmpeg", "-v", "error", "-i", path, "-map", "0:v:0", "-c", "copy",
                           "-bsf:v", "h264_mp4toannexb", "-f", "h264", "-"],
                          capture_output=True, timeout=60, check=True).stdout
    units, i = [], 0
    starts = []
    while True:
        i = data.find(b"\x00\x00\x01", i)
        if i < 0:
            break
        starts.append(i + 3)
        i += 3
    for n, s in enumerate(starts):
        end = starts[n + 1] - 3 if n + 1 < len(starts) else len(data)
        units.append(data[s:end].rstrip(b"\x00"))
    return units


def sps_of(nals):
    """the SPS among H.264 NAL units"""
    return {n for n in nals if n and n[0] & 0x1F == 7}


def slices_of(nals):
    """the coded slices (IDR or not) among H.264 NAL units, in order"""
    return [n for n in nals if n and n[0] & 0x1F in (1, 5)]


def aac_frames(path):
    """(config, frames) of a file's or URL's AAC: config is (object type,
    sampling frequency index, channel configuration), what the
    AudioSpecificConfig of an MP4 or an FLV says and the ADTS headers of a
    TS carry (from the ADTS ffmpeg writes, every header alike); frames are
    the raw AAC frames in order. (None, []) without AAC."""
    data = subprocess.run(["ffmpeg", "-v", "error", "-i", path, "-map", "0:a:0", "-c", "copy",
                           "-f", "adts", "-"], capture_output=True, timeout=60, check=True).stdout
    configs, frames, i = set(), [], 0
    while i + 7 <= len(data):
        if data[i] != 0xFF or data[i + 1] & 0xF0 != 0xF0:
            raise AssertionError(f"no ADTS sync at byte {i}")
        header = 7 if data[i + 1] & 1 else 9
        configs.add(((data[i + 2] >> 6) + 1, (data[i + 2] >> 2) & 0xF,
                     ((data[i + 2] & 1) << 2) | (data[i + 3] >> 6)))
        length = ((data[i + 3] & 3) << 11) | (data[i + 4] << 3) | (data[i + 5] >> 5)
        frames.append(data[i + header:i + length])
        i += length
    if len(configs) > 1:
        raise AssertionError(f"the AAC config changes: {configs}")
    return (configs.pop() if configs else None), frames


def aac_config(path):
    """The (object type, sampling frequency index, channel configuration) of
    a file's AAC, or None."""
    return aac_frames(path)[0]


def make_ca(directory):
    """A CA and a server certificate for 127.0.0.1 it signed, in directory;
    the paths (ca, cert, key), PEM."""
    ca_key, ca, key, csr, cert = (os.path.join(directory, n) for n in
                                  ("ca.key", "ca.pem", "srv.key", "srv.csr", "srv.pem"))
    ext = os.path.join(directory, "ext.cnf")
    with open(ext, "w") as f:
        f.write("subjectAltName=IP:127.0.0.1\n")
    for args in (["req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", ca_key,
                  "-out", ca, "-days", "2", "-subj", "/CN=castline test CA"],
                 ["req", "-newkey", "rsa:2048", "-nodes", "-keyout", key, "-out", csr,
                  "-subj", "/CN=127.0.0.1"],
                 ["x509", "-req", "-in", csr, "-CA", ca, "-CAkey", ca_key,
                  "-CAcreateserial", "-out", cert, "-days", "2", "-extfile", ext]):
        subprocess.run(["openssl", *args], check=True, capture_output=True, timeout=60)
    return ca, cert, key
