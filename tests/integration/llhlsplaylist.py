"""Parses and validates a Low-Latency HLS media playlist (RFC 8216bis and
Apple's HLS 2nd edition) as castline's llhlssink writes it; written once,
for every test that reads one (test_launcher_llhls.py, the element's and
the benchmarks').

    pl = parse(text)           # a Playlist, or ValueError for broken syntax
    problems = validate(pl)    # [] when every rule holds
    problems = validate_delta(delta, full)   # an _HLS_skip=YES answer

Standard library only.
"""
import re
from dataclasses import dataclass, field

ATTR = re.compile(r'([A-Z0-9-]+)=("[^"]*"|[^,]*)')


def attributes(text):
    """An attribute list (KEY=value,KEY="quoted") as a dict of strings."""
    return {k: v[1:-1] if v.startswith('"') else v for k, v in ATTR.findall(text)}


@dataclass
class Part:
    uri: str
    duration: float
    independent: bool


@dataclass
class Segment:
    msn: int
    uri: str = ""              # "" for the segment being written (parts only)
    duration: float = 0.0
    date: str = ""             # its EXT-X-PROGRAM-DATE-TIME
    parts: list = field(default_factory=list)
    discontinuity: bool = False


@dataclass
class Playlist:
    version: int = 0
    target: int = 0
    part_target: float = 0.0
    server_control: dict = field(default_factory=dict)
    media_sequence: int = 0
    skipped: int = 0           # EXT-X-SKIP:SKIPPED-SEGMENTS (a delta playlist)
    map_uri: str = ""
    segments: list = field(default_factory=list)   # complete ones, then the open one
    preload_hint: dict = field(default_factory=dict)
    ended: bool = False

    @property
    def complete(self):
        return [s for s in self.segments if s.uri]

    @property
    def last_part(self):
        """(msn, part index) of the newest part listed, or None."""
        for s in reversed(self.segments):
            if s.parts:
                return s.msn, len(s.parts) - 1
        return None

    def next_part(self):
        """(msn, part) of the part after the newest listed: what a blocking
        reload asks for next."""
        last = self.last_part
        if last is None:
            return (self.segments[-1].msn + 1 if self.segments else self.media_sequence), 0
        msn, part = last
        seg = next(s for s in self.segments if s.msn == msn)
        return (msn + 1, 0) if seg.uri else (msn, part + 1)


def parse(text):
    lines = [line.strip() for line in text.splitlines() if line.strip()]
    if not lines or lines[0] != "#EXTM3U":
        raise ValueError("no #EXTM3U first")
    pl = Playlist()
    pending = Segment(msn=-1)
    started = False
    for line in lines[1:]:
        tag, _, value = line.partition(":")
        if tag == "#EXT-X-VERSION":
            pl.version = int(value)
        elif tag == "#EXT-X-TARGETDURATION":
            pl.target = int(value)
        elif tag == "#EXT-X-PART-INF":
            pl.part_target = float(attributes(value)["PART-TARGET"])
        elif tag == "#EXT-X-SERVER-CONTROL":
            pl.server_control = attributes(value)
        elif tag == "#EXT-X-MEDIA-SEQUENCE":
            pl.media_sequence = int(value)
        elif tag == "#EXT-X-SKIP":
            pl.skipped = int(attributes(value)["SKIPPED-SEGMENTS"])
        elif tag == "#EXT-X-MAP":
            pl.map_uri = pl.map_uri or attributes(value)["URI"]
        elif tag == "#EXT-X-PROGRAM-DATE-TIME":
            pending.date = value
        elif tag == "#EXT-X-DISCONTINUITY":
            pending.discontinuity = True
        elif tag == "#EXT-X-PART":
            a = attributes(value)
            pending.parts.append(Part(a["URI"], float(a["DURATION"]),
                                      a.get("INDEPENDENT") == "YES"))
        elif tag == "#EXTINF":
            pending.duration = float(value.split(",")[0])
            started = True
        elif tag == "#EXT-X-PRELOAD-HINT":
            pl.preload_hint = attributes(value)
        elif tag == "#EXT-X-ENDLIST":
            pl.ended = True
        elif not line.startswith("#"):
            if not started:
                raise ValueError(f"a URI without #EXTINF: {line}")
            pending.uri = line
            pending.msn = pl.media_sequence + pl.skipped + len(pl.segments)
            pl.segments.append(pending)
            pending = Segment(msn=-1)
            started = False
    if pending.parts:          # the segment being written: its parts so far
        pending.msn = pl.media_sequence + pl.skipped + len(pl.segments)
        pl.segments.append(pending)
    return pl


def validate(pl, jitter=0.05):
    """The rules a live LL-HLS playlist must follow; a list of what breaks
    them. jitter: by how much (s) a part may exceed PART-TARGET (a frame's
    timestamps)."""
    problems = []
    sc = pl.server_control
    if pl.version < 6:
        problems.append(f"EXT-X-VERSION {pl.version} < 6 (EXT-X-MAP, parts)")
    if pl.target < 1:
        problems.append("no EXT-X-TARGETDURATION")
    if not pl.part_target:
        problems.append("no EXT-X-PART-INF:PART-TARGET")
    if sc.get("CAN-BLOCK-RELOAD") != "YES":
        problems.append(f"no CAN-BLOCK-RELOAD=YES: {sc}")
    phb = float(sc.get("PART-HOLD-BACK", 0))
    if phb < 2 * pl.part_target:
        problems.append(f"PART-HOLD-BACK {phb} < 2 x PART-TARGET {pl.part_target}")
    if "CAN-SKIP-UNTIL" in sc and float(sc["CAN-SKIP-UNTIL"]) < 6 * pl.target:
        problems.append(f"CAN-SKIP-UNTIL {sc['CAN-SKIP-UNTIL']} < 6 x target duration")
    if not pl.map_uri:
        problems.append("no EXT-X-MAP (fMP4 needs its init segment)")
    if not pl.segments:
        problems.append("no segment")
    for s in pl.segments:
        if s.uri and round(s.duration) > pl.target:
            problems.append(f"segment {s.msn}: EXTINF {s.duration} > target {pl.target}")
        if s.uri and not s.date and pl.skipped == 0:
            problems.append(f"segment {s.msn}: no EXT-X-PROGRAM-DATE-TIME")
        for i, p in enumerate(s.parts):
            if p.duration > pl.part_target + jitter:
                problems.append(f"segment {s.msn} part {i}: {p.duration} > PART-TARGET "
                                f"{pl.part_target}")
            stem = s.uri[:-len(".m4s")] if s.uri.endswith(".m4s") else None
            if stem and p.uri != f"{stem}.{i}.m4s":
                problems.append(f"segment {s.msn} part {i} is {p.uri}, not {stem}.{i}.m4s")
        if s.parts:
            if not s.parts[0].independent:
                problems.append(f"segment {s.msn}: its first part (a keyframe) is not "
                                "INDEPENDENT=YES")
            if s.uri and abs(sum(p.duration for p in s.parts) - s.duration) > 0.1:
                problems.append(f"segment {s.msn}: its parts last "
                                f"{sum(p.duration for p in s.parts):.3f} s, its EXTINF "
                                f"{s.duration}")
    msns = [s.msn for s in pl.segments]
    if msns != list(range(pl.media_sequence + pl.skipped,
                          pl.media_sequence + pl.skipped + len(msns))):
        problems.append(f"media sequence numbers {msns} do not follow "
                        f"EXT-X-MEDIA-SEQUENCE {pl.media_sequence}")
    # parts are listed for the last segments (3 target durations) only, in
    # one run up to the newest
    with_parts = [i for i, s in enumerate(pl.segments) if s.parts]
    if not with_parts and not pl.ended:
        problems.append("no EXT-X-PART in a live playlist")
    if with_parts and with_parts != list(range(with_parts[0], len(pl.segments))):
        problems.append("segments with parts are not the last ones")
    if pl.ended:
        if pl.preload_hint:
            problems.append("a preload hint after EXT-X-ENDLIST")
    else:
        hint = pl.preload_hint
        if hint.get("TYPE") != "PART":
            problems.append(f"no EXT-X-PRELOAD-HINT:TYPE=PART: {hint}")
        elif pl.last_part:
            msn, part = pl.next_part()
            seg = pl.segments[-1]
            stem = (seg.uri or seg.parts[0].uri.rsplit(".", 2)[0] + ".m4s")[:-len(".m4s")]
            if msn != seg.msn:
                stem = re.sub(r"\d+$", lambda m: f"{int(m.group()) + 1:0{len(m.group())}d}", stem)
            if hint.get("URI") != f"{stem}.{part}.m4s":
                problems.append(f"the preload hint {hint.get('URI')} is not the next part "
                                f"{stem}.{part}.m4s")
    return problems


def validate_delta(delta, full):
    """A delta playlist (_HLS_skip=YES) against the full one of the same
    moment: EXT-X-SKIP in place of older segments, the same media
    sequence, the same newest segments."""
    problems = validate(delta)
    if delta.skipped <= 0:
        problems.append("no EXT-X-SKIP:SKIPPED-SEGMENTS in the delta playlist")
    if delta.media_sequence != full.media_sequence:
        problems.append(f"media sequence {delta.media_sequence} != {full.media_sequence}")
    until = float(full.server_control.get("CAN-SKIP-UNTIL", 0))
    kept = [s.uri for s in delta.segments]
    if not kept or kept != [s.uri for s in full.segments[-len(kept):]]:
        problems.append("the delta's segments are not the full playlist's newest")
    if sum(s.duration for s in full.segments[delta.skipped:]) < until - full.target:
        problems.append(f"skipped {delta.skipped} segments, some within CAN-SKIP-UNTIL {until}")
    return problems
