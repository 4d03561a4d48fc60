/* castline: llhlssink's cutting, writing and bookkeeping (see the header). */
#include "llhls/llhlswriter.h"

#include "llhls/fmp4writer.h"

#include <glib/gstdio.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <utility>

/* the element's category ("llhlssink"), defined here so that the unit
 * tests that link this file alone log too */
GST_DEBUG_CATEGORY (gst_llhls_sink_debug);
#define GST_CAT_DEFAULT gst_llhls_sink_debug

namespace castline::llhls {

std::optional<std::string>
format_location (const std::string & pattern, guint64 n)
{
  std::string out;
  bool seen = false;
  for (size_t i = 0; i < pattern.size (); i++) {
    char c = pattern[i];
    if (c != '%') {
      out += c;
      continue;
    }
    if (i + 1 < pattern.size () && pattern[i + 1] == '%') {
      out += '%';
      i++;
      continue;
    }
    if (seen)
      return std::nullopt;
    seen = true;
    size_t j = i + 1;
    bool zero = j < pattern.size () && pattern[j] == '0';
    if (zero)
      j++;
    int width = 0;
    while (j < pattern.size () && g_ascii_isdigit (pattern[j]) && width < 100)
      width = width * 10 + (pattern[j++] - '0');
    while (j < pattern.size () && pattern[j] == 'l')
      j++;
    if (j >= pattern.size () || (pattern[j] != 'd' && pattern[j] != 'u' && pattern[j] != 'i')
        || width > 20)
      return std::nullopt;
    std::string digits = std::to_string (n);
    if ((int) digits.size () < width)
      digits.insert (0, width - digits.size (), zero ? '0' : ' ');
    out += digits;
    i = j;
  }
  if (!seen)
    return std::nullopt;
  return out;
}

/* a GBytes holding a copy of the bytes, shared by the events */
static std::shared_ptr<GBytes>
to_bytes (const std::vector<guint8> & v)
{
  return std::shared_ptr<GBytes> (g_bytes_new (v.data (), v.size ()), g_bytes_unref);
}

/* write a whole file under a temporary name, then rename it into place */
static std::string
write_file (const std::string & path, const void *data, size_t size)
{
  g_autoptr (GError) error = nullptr;
  if (!g_file_set_contents (path.c_str (), (const gchar *) data, size, &error))
    return std::string ("could not write ") + path + ": " + error->message;
  return "";
}

static std::string
basename_of (const std::string & path)
{
  g_autofree gchar *b = g_path_get_basename (path.c_str ());
  return b;
}

LlHlsWriter::LlHlsWriter (WriterSettings settings)
  : settings_ (std::move (settings)),
    cutter_ (settings_.part_target, settings_.target_duration),
    playlist_ (LlHlsPlaylist::Config {settings_.target_duration, settings_.part_target,
        settings_.playlist_length,
        [this] (guint64 msn, guint part) { return uri_of (part_name (msn, part)); }})
{
  if (!gst_llhls_sink_debug)
    GST_DEBUG_CATEGORY_INIT (gst_llhls_sink_debug, "llhlssink", 0, "Low-Latency HLS sink");
  cutter_.set_external_cuts (settings_.external_cuts);
}

LlHlsWriter::~LlHlsWriter ()
{
  if (segment_file_) {
    fclose (segment_file_);
    g_unlink ((open_files_.path + ".tmp").c_str ());
  }
}

std::string
LlHlsWriter::check_settings () const
{
  if (!settings_.location.empty () && !format_location (settings_.location, 0))
    return "location '" + settings_.location
        + "' needs exactly one %d-style number (as segment%05d.m4s) and no other %";
  if (settings_.part_target > settings_.target_duration)
    return "part-target is longer than target-duration";
  return "";
}

void
LlHlsWriter::add_track (TrackInfo::Kind kind)
{
  if (!track (kind))
    tracks_.emplace_back (kind, kind == TrackInfo::Kind::kVideo ? 1 : 2);
}

LlHlsWriter::Track *
LlHlsWriter::track (TrackInfo::Kind kind)
{
  for (auto & t : tracks_)
    if (t.collector.kind () == kind)
      return &t;
  return nullptr;
}

LlHlsWriter::Track *
LlHlsWriter::driver ()
{
  /* video drives the cuts while it flows, audio otherwise (and when a
   * video pad never got caps, once the audio gave up waiting) */
  Track *v = track (TrackInfo::Kind::kVideo);
  if (v && !v->eos && (v->collector.has_info () || !video_abandoned_))
    return v;
  Track *a = track (TrackInfo::Kind::kAudio);
  if (a && !a->eos)
    return a;
  return nullptr;
}

bool
LlHlsWriter::waiting_for_caps (const Track * d) const
{
  for (const auto & t : tracks_)
    if (&t != d && !t.eos && !t.collector.has_info ())
      return true;
  return false;
}

std::string
LlHlsWriter::segment_name (guint64 msn) const
{
  const std::string & pattern = settings_.location.empty () ? std::string ("segment%05d.m4s")
      : settings_.location;
  return format_location (pattern, msn).value_or ("segment" + std::to_string (msn) + ".m4s");
}

std::string
LlHlsWriter::part_name (guint64 msn, guint part) const
{
  std::string seg = segment_name (msn);
  if (g_str_has_suffix (seg.c_str (), ".m4s"))
    seg.resize (seg.size () - 4);
  return seg + "." + std::to_string (part) + ".m4s";
}

std::string
LlHlsWriter::uri_of (const std::string & name) const
{
  return settings_.uri_prefix + basename_of (name);
}

std::string
LlHlsWriter::set_caps (TrackInfo::Kind kind, const GstCaps * caps,
    std::vector<WriterEvent> & events)
{
  Track *t = track (kind);
  if (!t)
    return "caps for a track the element does not have";
  bool had = t->collector.has_info ();
  bool changed = false;
  std::string err = t->collector.set_caps (caps, &changed);
  if (!err.empty ())
    return err;
  if (started_ && (changed || (!had && !t->in_init))) {
    /* a new init for the next segment, cut at the driving track's next
     * keyframe however short the segment is: new codec settings, or an
     * audio that came late (a late video drives from its own first
     * keyframe, where push () cuts) */
    GST_INFO ("%s caps %s: a new init segment follows",
        kind == TrackInfo::Kind::kVideo ? "video" : "audio", changed ? "changed" : "arrived");
    reinit_ = true;
    Track *d = driver ();
    if (changed || (d && d != t && d->in_init))
      cutter_.force_segment ();
  }
  bool all_done = false;
  return started_ ? "" : resume_eos_waiting_for_caps (events, &all_done);
}

/* a driver whose EOS waited for the other track's caps ends now that
 * they came, or that the other track ended without them */
std::string
LlHlsWriter::resume_eos_waiting_for_caps (std::vector<WriterEvent> & events, bool * all_done)
{
  for (auto & t : tracks_)
    if (t.eos_waits_for_caps && !waiting_for_caps (&t)) {
      t.eos_waits_for_caps = false;
      return eos (t.collector.kind (), events, all_done);
    }
  return "";
}

std::string
LlHlsWriter::write_init (std::vector<WriterEvent> & events)
{
  std::vector<TrackInfo> infos;
  Track *v = track (TrackInfo::Kind::kVideo);
  Track *a = track (TrackInfo::Kind::kAudio);
  for (Track *t : {v, a}) {
    if (!t)
      continue;
    t->in_init = t->collector.has_info ();
    if (!t->in_init)
      continue;
    TrackInfo info = t->collector.info ();
    info.track_id = (t == a && v && v->in_init) ? 2 : 1;
    infos.push_back (std::move (info));
  }
  if (infos.empty ())
    return "no track has caps";
  std::vector<guint8> init = castline::llhls::write_init (infos);
  if (init.empty ())
    return "the tracks' caps cannot be described in an init segment";

  std::string name = settings_.init_location.empty () ? "init.mp4" : settings_.init_location;
  if (init_count_ > 0) {
    if (g_str_has_suffix (name.c_str (), ".mp4"))
      name.resize (name.size () - 4);
    name += std::to_string (init_count_) + ".mp4";
  }
  init_count_++;
  if (!settings_.init_location.empty ()) {
    std::string err = write_file (name, init.data (), init.size ());
    if (!err.empty ())
      return err;
  }
  map_uri_ = uri_of (name);
  WriterEvent e {WriterEvent::Kind::kInit};
  e.bytes = to_bytes (init);
  e.text = map_uri_;
  events.push_back (std::move (e));
  return "";
}

std::string
LlHlsWriter::start (std::vector<WriterEvent> & events)
{
  Track *d = driver ();
  const CollectedSample *first = !d->collector.ready ().empty ()
      ? &d->collector.ready ().front () : &*d->collector.held ();
  started_ = true;
  std::string err = write_init (events);
  if (!err.empty ())
    return err;
  cutter_.next (first->dts_ns, 0, true, first->pts_ns);
  timeline_end_ = driven_to_ = stream_start_ = first->dts_ns;
  err = open_segment (*first, d->collector.kind (), events);
  if (!err.empty ())
    return err;

  /* what waited for the other track's caps is cut as if it had just come */
  cut_waiting (d, first->dts_ns);
  return run_pending_cuts (events);
}

/* the driver's complete samples after `after`, which waited (for the
 * other track's caps, or while the other track drove), are cut as if
 * they had just come: at their times, not one part of all of them. The
 * cuts take samples from the collector, so their times are read first. */
void
LlHlsWriter::cut_waiting (Track * d, GstClockTime after)
{
  struct Waited {
    GstClockTime dts, pts, duration;
    bool sync;
  };
  std::vector<Waited> waited;
  for (const auto & s : d->collector.ready ())
    if (s.dts_ns > after)
      waited.push_back (Waited {s.dts_ns, s.pts_ns, d->collector.ticks_to_ns (s.duration),
              s.sync});
  for (const auto & w : waited) {
    PartCutter::Cut cut = cutter_.next (w.dts, w.duration, w.sync, w.pts);
    if (cut != PartCutter::Cut::kNone)
      pending_cuts_.push_back (PendingCut {w.dts, cut == PartCutter::Cut::kSegment,
              d->collector.kind ()});
  }
  if (!waited.empty ())
    driven_to_ = waited.back ().dts;   /* an ended driver's: all of it */
}

/* every track in the init but d has samples up to `at`, has ended, or
 * lags too far behind d to be waited for */
bool
LlHlsWriter::others_reached (const Track * d, GstClockTime at) const
{
  auto latest = [this] (const Track & t) {
    const auto & c = t.collector;
    if (c.held ())
      return c.held ()->dts_ns;
    return c.ready ().empty () ? stream_start_ : c.ready ().back ().dts_ns;
  };
  GstClockTime lead = latest (*d);
  for (const auto & t : tracks_) {
    if (&t == d || !t.in_init || t.eos)
      continue;
    GstClockTime got = latest (t);
    if (got < at && lead - std::min (lead, got) <= kMaxWait)
      return false;
  }
  return true;
}

std::string
LlHlsWriter::run_pending_cuts (std::vector<WriterEvent> & events)
{
  while (!pending_cuts_.empty ()) {
    PendingCut c = pending_cuts_.front ();
    Track *d = track (c.driver);
    if (!others_reached (d, c.at))
      return "";
    pending_cuts_.pop_front ();
    if (tail_after_the_other_ended (c))
      c.segment = false;        /* the tail stays in the last segment of both */
    const auto & d_ready = d->collector.ready ();
    if (!c.segment && (d_ready.empty () || d_ready.front ().dts_ns >= c.at))
      continue;                 /* no part where its track has nothing: the next takes it */
    std::string err = close_part (c.at, c.segment, false, events, d);
    if (!err.empty ())
      return err;
    if (!c.segment)
      continue;
    const auto & c_ready = d->collector.ready ();
    const CollectedSample *first = !c_ready.empty () ? &c_ready.front ()
        : d->collector.held () ? &*d->collector.held () : nullptr;
    if (!first)
      return "a segment was cut where its track has no sample";
    err = open_segment (*first, c.driver, events);
    if (!err.empty ())
      return err;
  }
  return "";
}

std::string
LlHlsWriter::open_segment (const CollectedSample & first, TrackInfo::Kind by,
    std::vector<WriterEvent> & events)
{
  bool discontinuity = false;
  if (reinit_) {
    reinit_ = false;
    std::string err = write_init (events);
    if (!err.empty ())
      return err;
    discontinuity = true;
  }
  GstClockTime rt = first.pts_ns;
  std::string seg = segment_name (playlist_.segments ().empty () ? 0
      : playlist_.segments ().back ().msn + 1);
  msn_ = playlist_.begin_segment (uri_of (seg), map_uri_, discontinuity, rt);
  segment_open_ = true;
  parts_in_segment_ = 0;
  segment_start_ = rt;
  segment_by_video_ = by == TrackInfo::Kind::kVideo;
  open_files_ = WrittenSegment {};
  if (!settings_.location.empty ()) {
    open_files_.path = seg;
    std::string tmp = seg + ".tmp";
    segment_file_ = g_fopen (tmp.c_str (), "wb");
    if (!segment_file_)
      return "could not open " + tmp + ": " + g_strerror (errno);
  }
  WriterEvent opened {WriterEvent::Kind::kFragmentOpened};
  opened.text = settings_.location.empty () ? uri_of (seg) : seg;
  opened.running_time = rt;
  opened.msn = msn_;
  events.push_back (std::move (opened));

  Track *v = track (TrackInfo::Kind::kVideo);
  if (v && v->in_init && !v->eos && !settings_.external_cuts) {
    WriterEvent k {WriterEvent::Kind::kKeyframeRequest};
    k.running_time = rt + settings_.target_duration;
    k.part = ++keyframe_requests_;
    events.push_back (std::move (k));
  }
  return "";
}

std::string
LlHlsWriter::close_part (GstClockTime before, bool end_segment, bool end_stream,
    std::vector<WriterEvent> & events, Track * timed_by)
{
  /* the part's duration follows the track that asked for the cut, else
   * the driving track, or the last one that drove (at EOS, or when a
   * late video takes over) */
  Track *d = timed_by ? timed_by : driver ();
  if (!d || !d->in_init)
    d = track (last_driver_);
  std::vector<std::vector<CollectedSample>> taken;
  std::vector<TrackRun> runs;
  GstClockTime duration = 0, end = 0, others_end = 0;
  /* independent: every track in it starts with a sync sample (audio
   * always does; video with a keyframe) */
  bool independent = true;
  Track *v = track (TrackInfo::Kind::kVideo);
  Track *a = track (TrackInfo::Kind::kAudio);
  taken.reserve (2);
  for (Track *t : {v, a}) {
    if (!t || !t->in_init)
      continue;
    /* every track up to the cut (an ended one too: its samples past
     * the cut go with the driver's that come at their time) */
    taken.push_back (t->collector.take (before));
    const auto & samples = taken.back ();
    if (samples.empty ())
      continue;
    independent = independent && samples.front ().sync;
    TrackRun run;
    run.track_id = (t == a && v && v->in_init) ? 2 : 1;
    run.base_decode_time = samples.front ().dts;
    for (const auto & s : samples) {
      Sample out;
      out.data = s.data.data ();
      out.size = s.data.size ();
      out.duration = s.duration;
      out.composition_offset = s.composition_offset;
      out.sync = s.sync;
      run.samples.push_back (out);
    }
    t->taken_last = samples.back ().dts_ns;
    t->taken_end = t->collector.ticks_to_ns (samples.back ().dts + samples.back ().duration);
    if (t == d)
      end = t->taken_end;
    else
      others_end = std::max (others_end, t->taken_end);
    runs.push_back (std::move (run));
  }

  /* what the part adds to the timeline: the driver's samples, or the
   * others' when it has none in it (an ended video's last frame), and at
   * the end every track's (a video that outlasts the audio); samples
   * that lag behind it (catching up) add nothing */
  if (end == 0 || end_stream)
    end = std::max (end, others_end);
  duration = end > timeline_end_ ? end - timeline_end_ : 0;
  if (!runs.empty ()) {
    std::vector<guint8> frag = write_fragment (++sequence_number_, runs);
    if (frag.empty ())
      return "a part could not be written (more than 1 GiB of samples)";
    timeline_end_ = std::max (timeline_end_, end);
    guint part = playlist_.add_part (duration, uri_of (part_name (msn_, parts_in_segment_)),
        independent);
    parts_in_segment_++;
    std::string part_path = part_name (msn_, part);
    if (!settings_.location.empty ()) {
      if (settings_.write_parts) {
        std::string err = write_file (part_path, frag.data (), frag.size ());
        if (!err.empty ())
          return err;
        open_files_.part_paths.push_back (part_path);
      }
      if (fwrite (frag.data (), 1, frag.size (), segment_file_) != frag.size ())
        return "could not write " + open_files_.path + ".tmp: " + g_strerror (errno);
    }
    WriterEvent e {WriterEvent::Kind::kPart};
    e.msn = msn_;
    e.part = part;
    e.bytes = to_bytes (frag);
    e.flag = independent;
    e.duration = duration;
    e.text = uri_of (part_path);
    events.push_back (std::move (e));
  }

  if (end_segment && parts_in_segment_ > 0) {
    if (segment_file_) {
      std::string tmp = open_files_.path + ".tmp";
      bool ok = fclose (segment_file_) == 0;
      segment_file_ = nullptr;
      if (!ok || g_rename (tmp.c_str (), open_files_.path.c_str ()) != 0)
        return "could not write " + open_files_.path + ": " + g_strerror (errno);
      /* with max-files 0 every file stays: nothing to remember */
      if (settings_.max_files > 0) {
        written_.push_back (std::move (open_files_));
        expire_files ();
      }
    }
    playlist_.end_segment ();
    const PlaylistSegment & s = playlist_.segments ().back ();
    WriterEvent e {WriterEvent::Kind::kSegment};
    e.msn = msn_;
    e.duration = s.duration ();
    e.text = s.uri;
    events.push_back (e);
    WriterEvent closed {WriterEvent::Kind::kFragmentClosed};
    closed.msn = msn_;
    closed.text = settings_.location.empty () ? s.uri : segment_name (msn_);
    closed.running_time = segment_start_ + s.duration ();
    events.push_back (std::move (closed));
    segment_open_ = false;
  }
  if (end_stream)
    playlist_.end ();
  if (parts_in_segment_ == 0 && !end_stream)
    return "";

  /* the playlist that comes out no longer names what leaves it; the
   * deletions follow it */
  std::vector<PlaylistSegment> gone = playlist_.trim ();
  WriterEvent pl {WriterEvent::Kind::kPlaylist};
  pl.text = *playlist_.render (false, date_offset_);
  auto delta = playlist_.render (true, date_offset_);
  pl.has_delta = delta.has_value ();
  pl.delta = delta.value_or ("");
  pl.msn = msn_;
  pl.part = parts_in_segment_ > 0 ? parts_in_segment_ - 1 : 0;
  pl.flag = end_stream;
  if (!settings_.playlist_location.empty ()) {
    std::string err = write_file (settings_.playlist_location, pl.text.data (), pl.text.size ());
    if (!err.empty ())
      return err;
  }
  events.push_back (std::move (pl));

  for (const auto & g : gone) {
    WriterEvent e {WriterEvent::Kind::kDelete};
    e.msn = g.msn;
    e.text = g.uri;
    events.push_back (std::move (e));
  }
  return "";
}

void
LlHlsWriter::expire_files ()
{
  while (settings_.max_files > 0 && written_.size () > settings_.max_files) {
    const WrittenSegment & w = written_.front ();
    for (const auto & p : w.part_paths)
      g_unlink (p.c_str ());
    g_unlink (w.path.c_str ());
    written_.pop_front ();
  }
}

std::string
LlHlsWriter::push (TrackInfo::Kind kind, GstBuffer * buffer, GstClockTime dts_rt,
    GstClockTime pts_rt, std::vector<WriterEvent> & events)
{
  Track *t = track (kind);
  if (!t)
    return "a buffer for a track the element does not have";
  if (ended_ || t->eos)
    return "";
  Track *d = driver ();
  bool is_driver = t == d;
  /* a track that came late joins with the next init: the audio at the
   * driving video's next keyframe, a video (that then drives) at its
   * first keyframe */
  bool late = started_ && !t->in_init;
  if (late && (!is_driver || GST_BUFFER_FLAG_IS_SET (buffer, GST_BUFFER_FLAG_DELTA_UNIT)))
    return "";
  if (is_driver && !started_ && kind == TrackInfo::Kind::kVideo
      && t->collector.ready ().empty () && !t->collector.held ()
      && GST_BUFFER_FLAG_IS_SET (buffer, GST_BUFFER_FLAG_DELTA_UNIT)) {
    GST_DEBUG ("dropping video before its first keyframe");
    return "";
  }
  std::string err = t->collector.push (buffer, dts_rt, pts_rt);
  if (!err.empty ())
    return err;
  if (!t->collector.held ())
    return "";                  /* an empty buffer */

  if (!is_driver && !started_ && !d->collector.has_info () && !t->collector.ready ().empty ()
      && t->collector.held ()->dts_ns - t->collector.ready ().front ().dts_ns > kMaxWait) {
    /* a video pad that never got caps: the audio goes alone; the video
     * joins at a segment of its own if it comes */
    video_abandoned_ = true;
    d = driver ();
    is_driver = true;
    WriterEvent e {WriterEvent::Kind::kWarning};
    e.text = "no video caps after " + std::to_string (kMaxWait / GST_SECOND)
        + " s of audio: the audio goes alone";
    events.push_back (std::move (e));
  }
  if (!is_driver) {
    GstClockTime wait = started_ ? kMaxWait : std::max (kMaxWait, settings_.target_duration);
    size_t dropped = t->collector.drop_older_than (wait);
    if (dropped && !t->dropping_warned) {
      t->dropping_warned = true;
      WriterEvent e {WriterEvent::Kind::kWarning};
      e.text = std::string (kind == TrackInfo::Kind::kVideo ? "video" : "audio")
          + " waits for the other track too long: its oldest samples are dropped";
      events.push_back (std::move (e));
    }
    /* its samples may be what a cut waits for */
    return started_ ? run_pending_cuts (events) : "";
  }

  err = cut_before_held (t, late, events);
  last_driver_ = kind;
  return err;
}

/* the driving track's new sample is held: close the part (and segment)
 * before it if the cutter says so */
std::string
LlHlsWriter::cut_before_held (Track * t, bool late, std::vector<WriterEvent> & events)
{
  std::string err;
  const CollectedSample & held = *t->collector.held ();
  if (started_ && t->collector.kind () != last_driver_) {
    const auto & ready = t->collector.ready ();
    cutter_.driver_changed (ready.empty () ? held.dts_ns : ready.front ().dts_ns);
    /* its samples past the last driver's (an audio ahead of an ended
     * video) get their cuts, or its first part would take them all */
    if (!late && pending_cuts_.empty ())
      cut_waiting (t, driven_to_);
  }
  if (late)
    cutter_.force_segment ();
  if (!started_) {
    const auto & ready = t->collector.ready ();
    GstClockTime first = ready.empty () ? held.dts_ns : ready.front ().dts_ns;
    /* the first init names every track: the driver waits for the other
     * pad's caps, bounded in media time (a publisher faster than real
     * time delivers seconds of video at once), then goes alone; the
     * other track joins later at a keyframe with a new init */
    if (waiting_for_caps (t) && !video_abandoned_) {
      if (held.dts_ns - first <= kMaxCapsWait)
        return "";
      bool video = t->collector.kind () == TrackInfo::Kind::kVideo;
      WriterEvent e {WriterEvent::Kind::kWarning};
      e.text = std::string ("no ") + (video ? "audio" : "video") + " caps after "
          + std::to_string (kMaxCapsWait / GST_SECOND) + " s of " + (video ? "video" : "audio")
          + ": it goes alone until they come";
      events.push_back (std::move (e));
    }
    bool first_is_held = ready.empty ();
    err = start (events);
    driven_to_ = held.dts_ns;
    if (!err.empty () || first_is_held)
      return err;
  } else if (!late && held.dts_ns < driven_to_) {
    /* catching up: no cut of its own before it has (the cuts the last
     * driver made may wait for its samples) */
    return run_pending_cuts (events);
  }
  driven_to_ = held.dts_ns;
  PartCutter::Cut cut = cutter_.next (held.dts_ns, t->collector.held_duration_estimate (),
      held.sync, held.pts_ns);
  if (cut == PartCutter::Cut::kNone)
    return run_pending_cuts (events);   /* a cut may have waited for it */
  pending_cuts_.push_back (PendingCut {held.dts_ns, cut == PartCutter::Cut::kSegment,
          t->collector.kind ()});
  return run_pending_cuts (events);
}

/* the tail of a track that outlasts the other (its last frames, in a
 * stream whose audio ends a little after its video, or before it) stays
 * in the last segment with both tracks: hls.js never buffers all of a
 * segment without a track its init names, and it stalled before the end
 * (a keyframe just past the audio's end does not start a segment either).
 * Bounded: past half a part target after the other's end a keyframe
 * starts a segment again, and past kMaxWait of segment an audio alone
 * gets segments again; a new init (caps changed) still cuts. Parts are
 * cut as ever (a segment cut skipped is a part cut): an ended playlist
 * names no part (LlHlsPlaylist). */
bool
LlHlsWriter::tail_after_the_other_ended (const PendingCut & c)
{
  bool audio = c.driver == TrackInfo::Kind::kAudio;
  Track *other = track (audio ? TrackInfo::Kind::kVideo : TrackInfo::Kind::kAudio);
  if (!c.segment || !other || !other->in_init || !other->eos || !segment_open_ || reinit_)
    return false;
  /* a cut past the start of the other's last sample leaves it none */
  const auto & ready = other->collector.ready ();
  GstClockTime other_last = ready.empty () ? other->taken_last : ready.back ().dts_ns;
  GstClockTime other_end = ready.empty () ? other->taken_end
      : other->collector.ticks_to_ns (ready.back ().dts + ready.back ().duration);
  if (c.at > other_last && c.at < other_end + settings_.part_target / 2)
    return true;
  return audio && segment_by_video_ && GST_CLOCK_TIME_IS_VALID (segment_start_)
      && c.at < segment_start_ + kMaxWait;
}

std::string
LlHlsWriter::eos (TrackInfo::Kind kind, std::vector<WriterEvent> & events, bool * all_done)
{
  *all_done = false;
  Track *t = track (kind);
  if (!t || t->eos)
    return "";
  Track *d = driver ();
  t->collector.finish ();
  if (!started_ && t == d && (t->collector.held () || !t->collector.ready ().empty ())) {
    if (waiting_for_caps (t) && !video_abandoned_) {
      /* a publisher faster than real time: the whole video came before
       * the audio's caps (its encoder's first buffer). The EOS waits for
       * them, or for the other track's own EOS, so that the one init names
       * both tracks instead of the audio joining an ended video */
      GST_DEBUG ("EOS before the other track's caps: the first init waits for them");
      t->eos_waits_for_caps = true;
      return "";
    }
    std::string err = start (events);
    if (!err.empty ())
      return err;
  }
  t->eos = true;
  if (!started_) {
    std::string err = resume_eos_waiting_for_caps (events, all_done);
    if (!err.empty () || *all_done || started_)
      return err;
  }
  for (const auto & other : tracks_)
    if (!other.eos)
      return started_ ? run_pending_cuts (events) : "";
  *all_done = true;
  if (ended_)
    return "";
  ended_ = true;
  if (!started_)
    return "";                  /* nothing ever came */
  for (auto & other : tracks_)
    other.collector.finish ();
  std::string err = run_pending_cuts (events);
  if (!err.empty ())
    return err;
  return close_part (GST_CLOCK_TIME_NONE, true, true, events);
}

}  // namespace castline::llhls
