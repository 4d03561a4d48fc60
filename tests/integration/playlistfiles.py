"""What the HLS playlists in a directory tree name, checked on disk: every
playlist (*.m3u8) parses as one (#EXTM3U first) and every file it names
(segment lines and EXT-X-MAP URIs) exists whole: an fMP4 file is a run of
boxes that ends exactly at its end, an MPEG-TS file whole packets each
starting with the sync byte. LL-HLS parts (EXT-X-PART, the preload hint)
are not files: castline serves them from memory while the stream is live
(README, LL-HLS); an ended playlist (#EXT-X-ENDLIST) names none. Local
playlists only (relative URIs). Standard library only."""
import os
import re

_URI = re.compile(r'URI="([^"]+)"')
_NAMING_TAGS = ("#EXT-X-MAP:",)


def named_files(text):
    """The files a playlist's text names (media lines, maps)."""
    names = []
    for line in text.splitlines():
        line = line.strip()
        if not line:
            continue
        if line.startswith(_NAMING_TAGS):
            names += _URI.findall(line)
        elif not line.startswith("#"):
            names.append(line)
    return names


def whole_file_problem(path):
    """Why the media file at path is not whole ("" when it is)."""
    with open(path, "rb") as f:
        data = f.read()
    if not data:
        return "empty"
    if path.endswith(".ts"):
        if len(data) % 188:
            return f"{len(data)} bytes: not whole 188-byte packets"
        if any(data[i] != 0x47 for i in range(0, len(data), 188)):
            return "a packet without its sync byte"
        return ""
    pos = 0
    while pos < len(data):
        if pos + 8 > len(data):
            return f"a box header cut at {pos}"
        size = int.from_bytes(data[pos:pos + 4], "big")
        if size == 1 and pos + 16 <= len(data):
            size = int.from_bytes(data[pos + 8:pos + 16], "big")
        if size < 8 or pos + size > len(data):
            return f"the box at {pos} ({data[pos + 4:pos + 8]!r}, {size} bytes) is cut"
        pos += size
    return ""


def playlist_problems(root):
    """(playlists checked, problems: one line each) for the tree at root."""
    checked, problems = [], []
    for folder, _, files in os.walk(root):
        for name in sorted(f for f in files if f.endswith(".m3u8")):
            path = os.path.join(folder, name)
            checked.append(path)
            with open(path, "rb") as f:
                raw = f.read()
            try:
                text = raw.decode()
            except UnicodeDecodeError:
                problems.append(f"{path}: not text")
                continue
            lines = [line for line in text.splitlines() if line.strip()]
            if not lines or lines[0] != "#EXTM3U":
                problems.append(f"{path}: does not start with #EXTM3U ({len(raw)} bytes)")
                continue
            if "#EXT-X-ENDLIST" in lines and any(
                    line.startswith(("#EXT-X-PART:", "#EXT-X-PRELOAD-HINT:")) for line in lines):
                problems.append(f"{path}: ended, and still names parts")
            for uri in named_files(text):
                if "://" in uri or uri.startswith("/"):
                    continue
                media = os.path.join(folder, uri.split("?")[0])
                if not os.path.isfile(media):
                    problems.append(f"{path}: names {uri}, which is not there")
                    continue
                if uri.endswith(".m3u8"):
                    continue          # a variant playlist: checked on its own
                why = whole_file_problem(media)
                if why:
                    problems.append(f"{path}: names {uri}, which is not whole: {why}")
    return checked, problems
