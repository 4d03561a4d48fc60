#include "hls/abrbuilder.h"

#include "hls/branchjoin.h"
#include "hls/rungsize.h"
#include "hls/segmentcuts.h"
#include "streams/elementfactory.h"
#include "streams/elementnames.h"

#include <algorithm>
#include <chrono>

GST_DEBUG_CATEGORY (castline_abr_debug);
#define GST_CAT_DEFAULT castline_abr_debug

namespace castline::launcher {

namespace {

/* What a probe of one rung's encoded video needs. */
struct SpsWatch {
  AbrBuilder *builder;
  std::string rung;
};

/* Tells every encoder downstream of pad to make a keyframe at the running
 * time of a frame: a downstream GstForceKeyUnit event, pushed in band just
 * before that frame. Either at each input keyframe (follow_input: H.264
 * in, whose keyframes the passthrough rung keeps) or every interval.
 * Streaming thread only. */
struct KeyframeAligner {
  bool follow_input;
  GstClockTime interval;
  SegmentCuts *cuts;                         /* told of each, which cut segments; may be null */
  GstClockTime next = GST_CLOCK_TIME_NONE;   /* running time of the next forced one */
  guint count = 0;

  static GstPadProbeReturn
  probe (GstPad * pad, GstPadProbeInfo * info, gpointer data)
  {
    auto *k = static_cast<KeyframeAligner *> (data);
    GstBuffer *buf = GST_PAD_PROBE_INFO_BUFFER (info);
    GstClockTime pts = GST_BUFFER_PTS (buf);
    g_autoptr (GstEvent) seg_event = gst_pad_get_sticky_event (pad, GST_EVENT_SEGMENT, 0);
    if (!GST_CLOCK_TIME_IS_VALID (pts) || !seg_event)
      return GST_PAD_PROBE_OK;
    const GstSegment *seg;
    gst_event_parse_segment (seg_event, &seg);
    GstClockTime rt = gst_segment_to_running_time (seg, GST_FORMAT_TIME, pts);
    if (!GST_CLOCK_TIME_IS_VALID (rt))
      return GST_PAD_PROBE_OK;
    bool force;
    if (k->follow_input) {
      force = !GST_BUFFER_FLAG_IS_SET (buf, GST_BUFFER_FLAG_DELTA_UNIT);
    } else {
      bool wanted = k->cuts && k->cuts->wanted ();
      force = !GST_CLOCK_TIME_IS_VALID (k->next) || rt >= k->next || wanted;
      if (force)
        k->next = (GST_CLOCK_TIME_IS_VALID (k->next) && !wanted ? k->next : rt) + k->interval;
    }
    if (!force)
      return GST_PAD_PROBE_OK;
    GST_LOG_OBJECT (pad, "keyframe %u at running time %" GST_TIME_FORMAT " in every rung", k->count,
        GST_TIME_ARGS (rt));
    /* no running time: "the next frame", which is this one, since the
     * event travels in band just before it (a decoder sends it out with
     * the frame it came before); a time would have to match what each
     * encoder sees, and those need not be the same (decoders may restamp) */
    GstStructure *s = gst_structure_new ("GstForceKeyUnit",
        "timestamp", G_TYPE_UINT64, GST_CLOCK_TIME_NONE,
        "stream-time", G_TYPE_UINT64, GST_CLOCK_TIME_NONE,
        "running-time", G_TYPE_UINT64, GST_CLOCK_TIME_NONE,
        "all-headers", G_TYPE_BOOLEAN, TRUE, "count", G_TYPE_UINT, k->count++, nullptr);
    gst_pad_push_event (pad, gst_event_new_custom (GST_EVENT_CUSTOM_DOWNSTREAM, s));
    if (k->cuts)
      k->cuts->keyframe (rt);
    return GST_PAD_PROBE_OK;
  }
};

/* How long the input's audio waits for the rungs (on_audio_buffer): more
 * than building them takes; a stream whose video comes later than that
 * loses the audio before it rather than stalling (its demuxer may wait
 * for the audio to move before it gives the video out). */
constexpr gint64 kAudioHoldUs = 5 * G_USEC_PER_SEC;

/* the raw video's size and frame rate; false without a size */
bool
read_video_caps (GstCaps * caps, int & width, int & height, int & par_n, int & par_d, int & fps_n,
    int & fps_d)
{
  if (!caps || gst_caps_get_size (caps) == 0)
    return false;
  const GstStructure *s = gst_caps_get_structure (caps, 0);
  par_n = par_d = 1;
  fps_n = 0;
  fps_d = 1;
  gst_structure_get_fraction (s, "pixel-aspect-ratio", &par_n, &par_d);
  gst_structure_get_fraction (s, "framerate", &fps_n, &fps_d);
  return gst_structure_get_int (s, "width", &width) && gst_structure_get_int (s, "height", &height)
      && width > 0 && height > 0;
}

unsigned
top_height (const std::vector<Rung> & ladder)
{
  unsigned top = 0;
  for (const Rung & r : ladder)
    top = std::max (top, r.height);
  return top;
}

}  // namespace

AbrBuilder::AbrBuilder (GstBin * pipeline, std::vector<Rung> ladder, unsigned target_duration,
    Hooks hooks)
    : pipeline_ (pipeline), ladder_ (std::move (ladder)),
      interval_ (target_duration * GST_SECOND), hooks_ (std::move (hooks))
{
  static gsize debug_once = 0;
  if (g_once_init_enter (&debug_once)) {
    GST_DEBUG_CATEGORY_INIT (castline_abr_debug, "castline-abr", 0, "launcher ABR ladder");
    g_once_init_leave (&debug_once, 1);
  }
}

AbrBuilder::~AbrBuilder ()
{
  for (GstElement *e : { video_src_, video_raw_, audio_raw_ })
    if (e)
      gst_object_unref (e);
  if (decoder_pad_)
    gst_object_unref (decoder_pad_);
  if (settling_caps_)
    gst_caps_unref (settling_caps_);
}

void
AbrBuilder::set_size_adapts (GstClockTime settle)
{
  settle_ = SizeSettle ((gint64) (settle / GST_USECOND));
  cuts_ = std::make_unique<SegmentCuts> (interval_);
}

bool
AbrBuilder::install (std::string & error)
{
  video_src_ = gst_bin_get_by_name (pipeline_, names::kVideoSrcTee);
  video_raw_ = gst_bin_get_by_name (pipeline_, names::kVideoRawTee);
  audio_raw_ = gst_bin_get_by_name (pipeline_, names::kAudioRawTee);
  if (!video_raw_) {
    error = "an abr graph needs a tee named video_raw (the decoded video)";
    return false;
  }
  if (video_src_) {
    g_autoptr (GstPad) pad = gst_element_get_static_pad (video_src_, "sink");
    gst_pad_add_probe (pad, GST_PAD_PROBE_TYPE_EVENT_DOWNSTREAM, on_src_event, this, nullptr);
  }
  g_autoptr (GstPad) pad = gst_element_get_static_pad (video_raw_, "sink");
  gst_pad_add_probe (pad, GST_PAD_PROBE_TYPE_EVENT_DOWNSTREAM, on_raw_event, this, nullptr);
  /* a publisher faster than real time (a recording) may have sent much of
   * its audio before the rungs exist: it waits for them, at the audio's
   * entry queue (bounded by its limits), before the decoder: the caps
   * after it, chosen while audio_raw had no branch, are negotiated again
   * with the rungs' encoders (a reconfigure) when it flows. Not while a
   * live size settles (cuts_): the video of those seconds goes too. */
  g_autoptr (GstElement) audio_in = gst_bin_get_by_name (pipeline_, names::kAudioIn);
  if (audio_raw_ && audio_in && !cuts_) {
    g_autoptr (GstPad) audio = gst_element_get_static_pad (audio_in, "src");
    if (audio)
      gst_pad_add_probe (audio, (GstPadProbeType) (GST_PAD_PROBE_TYPE_BUFFER
              | GST_PAD_PROBE_TYPE_BUFFER_LIST), on_audio_buffer, this, nullptr);
  }
  return true;
}

/* The audio's streaming thread, after its entry queue: waits until the
 * rungs' audio branches are linked (they get this buffer and all after
 * it), the stream failed, the pipeline stops (its pad flushes), or
 * kAudioHoldUs passed since the first buffer. The queue fills meanwhile
 * and bounds what is held. */
GstPadProbeReturn
AbrBuilder::on_audio_buffer (GstPad * pad, GstPadProbeInfo *, gpointer data)
{
  auto *self = static_cast<AbrBuilder *> (data);
  std::unique_lock<std::mutex> lk (self->lock_);
  if (self->audio_hold_until_ < 0)
    self->audio_hold_until_ = g_get_monotonic_time () + kAudioHoldUs;
  for (;;) {
    if (self->audio_released_)
      return GST_PAD_PROBE_REMOVE;
    GST_OBJECT_LOCK (pad);
    bool flushing = GST_PAD_IS_FLUSHING (pad);
    GST_OBJECT_UNLOCK (pad);
    if (flushing)
      return GST_PAD_PROBE_OK;
    if (g_get_monotonic_time () >= self->audio_hold_until_) {
      GST_WARNING_OBJECT (pad, "no rungs %" G_GINT64_FORMAT " s after the first audio: "
          "the audio before them is lost", kAudioHoldUs / G_USEC_PER_SEC);
      self->audio_released_ = true;
      return GST_PAD_PROBE_REMOVE;
    }
    /* a slice: the pad's flushing is not signalled to the condition */
    self->audio_cond_.wait_for (lk, std::chrono::milliseconds (50));
  }
}

void
AbrBuilder::release_audio ()
{
  {
    std::lock_guard<std::mutex> lk (lock_);
    audio_released_ = true;
  }
  audio_cond_.notify_all ();
}

std::vector<RungPlan>
AbrBuilder::rungs () const
{
  std::lock_guard<std::mutex> lk (lock_);
  std::vector<RungPlan> plans;
  for (const Made & m : made_)
    plans.push_back (m.plan);
  return plans;
}

void
AbrBuilder::fail_stream (GstElement * where, const std::string & reason)
{
  GST_WARNING_OBJECT (where, "%s", reason.c_str ());
  release_audio ();
  GError *e = g_error_new_literal (GST_STREAM_ERROR, GST_STREAM_ERROR_FAILED, reason.c_str ());
  gst_element_post_message (where, gst_message_new_error (GST_OBJECT (where), e, reason.c_str ()));
  g_error_free (e);
}

/* H.264 caps before the passthrough tee: the rungs, with the input as the
 * top one; EOS while the size settles: the ladder for the size it has */
GstPadProbeReturn
AbrBuilder::on_src_event (GstPad * pad, GstPadProbeInfo * info, gpointer data)
{
  auto *self = static_cast<AbrBuilder *> (data);
  GstEvent *event = GST_PAD_PROBE_INFO_EVENT (info);
  if (GST_EVENT_TYPE (event) == GST_EVENT_EOS) {
    self->build_settled ();
    return GST_PAD_PROBE_OK;
  }
  if (GST_EVENT_TYPE (event) != GST_EVENT_CAPS)
    return GST_PAD_PROBE_OK;
  GstCaps *caps;
  gst_event_parse_caps (event, &caps);
  const GstStructure *s = gst_caps_get_structure (caps, 0);
  int w = 0, h = 0;
  if (!gst_structure_has_name (s, "video/x-h264") || !gst_structure_get_int (s, "width", &w)
      || !gst_structure_get_int (s, "height", &h)) {
    std::lock_guard<std::mutex> lk (self->lock_);
    /* not H.264 (or no size yet): the raw caps decide */
    return self->mode_known_ ? GST_PAD_PROBE_OK : GST_PAD_PROBE_REMOVE;
  }
  self->input_caps (pad, caps, true);
  return GST_PAD_PROBE_OK;
}

/* the decoded video's caps: the rungs, all encoded (unless H.264 came in);
 * EOS before any: no video ever came */
GstPadProbeReturn
AbrBuilder::on_raw_event (GstPad * pad, GstPadProbeInfo * info, gpointer data)
{
  auto *self = static_cast<AbrBuilder *> (data);
  GstEvent *event = GST_PAD_PROBE_INFO_EVENT (info);
  bool have_caps;
  {
    std::lock_guard<std::mutex> lk (self->lock_);
    if (self->mode_known_ && self->passthrough_)
      return GST_PAD_PROBE_REMOVE;
    have_caps = self->built_ || self->settling_caps_;
  }
  if (GST_EVENT_TYPE (event) == GST_EVENT_EOS) {
    if (!have_caps) {
      self->fail_stream (self->video_raw_, "the stream ended before any video: the abr pipeline needs video");
      return GST_PAD_PROBE_REMOVE;
    }
    self->build_settled ();
    return GST_PAD_PROBE_OK;
  }
  if (GST_EVENT_TYPE (event) != GST_EVENT_CAPS)
    return GST_PAD_PROBE_OK;
  GstCaps *caps;
  gst_event_parse_caps (event, &caps);
  self->input_caps (pad, caps, false);
  return GST_PAD_PROBE_OK;
}

/* Streaming thread of the input (pad: where its caps are watched). Before
 * the ladder: its size settles, or the ladder is built now; after: it may
 * grow. */
void
AbrBuilder::input_caps (GstPad * pad, GstCaps * caps, bool passthrough)
{
  GstElement *where = passthrough ? video_src_ : video_raw_;
  int w, h, par_n, par_d, fps_n, fps_d;
  if (!read_video_caps (caps, w, h, par_n, par_d, fps_n, fps_d)) {
    g_autofree gchar *text = gst_caps_to_string (caps);
    fail_stream (where, std::string ("the input video has no size: ") + text);
    return;
  }
  bool first = false, built, now = false;
  {
    std::lock_guard<std::mutex> lk (lock_);
    if (!mode_known_) {
      mode_known_ = true;
      passthrough_ = passthrough;
      first = true;
    }
    built = built_;
    if (!built) {
      gst_caps_replace (&settling_caps_, caps);
      gint64 t = g_get_monotonic_time ();
      settle_.saw (w, h, t);
      /* at the top rung's height already: nothing bigger to wait for */
      now = settle_.settled (t) || (unsigned) h >= top_height (ladder_);
    }
  }
  std::string error;
  if (built) {
    if (cuts_ && !grow (caps, error))
      fail_stream (where, error);
    return;
  }
  if (now) {
    build_settled ();
    return;
  }
  GST_INFO_OBJECT (pipeline_, "input %dx%d: the ladder waits for its size to settle", w, h);
  if (first)
    gst_pad_add_probe (pad, GST_PAD_PROBE_TYPE_BUFFER, on_input_buffer, this, nullptr);
}

/* frames while the size settles (they go nowhere): the ladder once it has */
GstPadProbeReturn
AbrBuilder::on_input_buffer (GstPad *, GstPadProbeInfo *, gpointer data)
{
  auto *self = static_cast<AbrBuilder *> (data);
  {
    std::lock_guard<std::mutex> lk (self->lock_);
    if (self->built_)
      return GST_PAD_PROBE_REMOVE;
    if (!self->settling_caps_ || !self->settle_.settled (g_get_monotonic_time ()))
      return GST_PAD_PROBE_OK;
  }
  self->build_settled ();
  return GST_PAD_PROBE_REMOVE;
}

/* the ladder for the latest caps, unless built; the input's streaming thread */
void
AbrBuilder::build_settled ()
{
  GstCaps *caps;
  bool passthrough;
  {
    std::lock_guard<std::mutex> lk (lock_);
    if (built_ || !settling_caps_)
      return;
    caps = settling_caps_;
    settling_caps_ = nullptr;
    passthrough = passthrough_;
  }
  std::string error;
  if (!build (caps, passthrough, error))
    fail_stream (passthrough ? video_src_ : video_raw_, error);
  release_audio ();                /* the rungs' audio branches are linked */
  gst_caps_unref (caps);
}

bool
AbrBuilder::build (GstCaps * caps, bool passthrough, std::string & error)
{
  int w, h, par_n, par_d, fps_n, fps_d;
  if (!read_video_caps (caps, w, h, par_n, par_d, fps_n, fps_d)) {
    g_autofree gchar *text = gst_caps_to_string (caps);
    error = std::string ("the input video has no size: ") + text;
    return false;
  }
  std::vector<RungPlan> plans = select_rungs (ladder_, w, h, par_n, par_d, passthrough);
  if (passthrough) {
    /* video_src's pad made with the graph, to the decoder: found before
     * the rungs add theirs */
    GstIterator *it = gst_element_iterate_src_pads (video_src_);
    GValue v = G_VALUE_INIT;
    if (gst_iterator_next (it, &v) == GST_ITERATOR_OK) {
      decoder_pad_ = GST_PAD (g_value_dup_object (&v));
      g_value_unset (&v);
    }
    gst_iterator_free (it);
  }
  {
    std::lock_guard<std::mutex> lk (lock_);
    built_ = true;
    master_due_ = true;
    for (const RungPlan & p : plans)
      made_.push_back ({ p, nullptr, "" });
    fps_n_ = fps_n;
    fps_d_ = fps_d;
    measuring_ = fps_n <= 0 || fps_d <= 0;
  }
  std::string names;
  for (const RungPlan & p : plans)
    names += " " + p.rung.name + (p.passthrough ? " (the input)" : "") + " " + std::to_string (p.width)
        + "x" + std::to_string (p.height);
  GST_INFO_OBJECT (pipeline_, "input %dx%d: rungs%s", w, h, names.c_str ());
  for (const RungPlan & p : plans)
    if (!build_rung (p, error))
      return false;
  align_keyframes (passthrough);
  /* the rungs start at the next keyframe: soon, after a settle time */
  if (hooks_.request_keyframe)
    hooks_.request_keyframe ();
  return true;
}

/* New caps after the ladder is built: rungs the input's size now allows
 * are added; rungs made for a smaller input take their new size in the
 * master. The input's streaming thread, before the caps (and the
 * keyframe of the new size after them) reach the tee. */
bool
AbrBuilder::grow (GstCaps * caps, std::string & error)
{
  int w, h, par_n, par_d, fps_n, fps_d;
  read_video_caps (caps, w, h, par_n, par_d, fps_n, fps_d);
  std::vector<RungPlan> added;
  bool encode_old = false;
  RungPlan old_top;
  {
    std::lock_guard<std::mutex> lk (lock_);
    std::vector<RungPlan> wanted = select_rungs (ladder_, w, h, par_n, par_d, passthrough_);
    for (const RungPlan & p : wanted) {
      auto m = std::find_if (made_.begin (), made_.end (),
          [&p] (const Made & m) { return m.plan.rung.name == p.rung.name; });
      if (m == made_.end ())
        added.push_back (p);
      else if (p.height > m->plan.height) {
        m->plan.width = p.width;   /* grown back to (or towards) its height */
        m->plan.height = p.height;
        master_due_ = true;
      }
    }
    if (!added.empty ()) {
      /* H.264 in: the new top rung passes the input through; the rung that
       * did is encoded from now on */
      for (Made & m : made_) {
        if (m.plan.passthrough)
          for (const RungPlan & p : wanted)
            if (p.rung.name == m.plan.rung.name) {
              old_top = p;
              encode_old = true;
            }
        m.plan.top = false;
      }
      for (const RungPlan & p : added)
        made_.push_back ({ p, nullptr, "" });
      std::stable_sort (made_.begin (), made_.end (),
          [] (const Made & a, const Made & b) { return a.plan.height > b.plan.height; });
      master_due_ = true;
    }
  }
  if (added.empty ()) {
    send_master_when_known ();
    return true;
  }
  std::string names;
  for (const RungPlan & p : added)
    names += " " + p.rung.name + " " + std::to_string (p.width) + "x" + std::to_string (p.height);
  GST_INFO_OBJECT (pipeline_, "input grew to %dx%d: rungs added:%s", w, h, names.c_str ());
  /* every rung's segment starts at the new size's first keyframe */
  cuts_->cut_at_next ();
  if (encode_old && !encode_passthrough_rung (old_top, error))
    return false;
  for (const RungPlan & p : added)
    if (!build_rung (p, error))
      return false;
  if (hooks_.request_keyframe)
    hooks_.request_keyframe ();
  return true;
}

/* The rung that passed the input through gets an encoder branch of its
 * own (plan), from video_raw, in place of its link to video_src: the
 * frames its queue holds go out first, then the encoder's, from the
 * forced keyframe of the new size's first frame. */
bool
AbrBuilder::encode_passthrough_rung (const RungPlan & plan, std::string & error)
{
  GstElement *old_video = nullptr;
  {
    std::lock_guard<std::mutex> lk (lock_);
    for (const Made & m : made_)
      if (m.plan.rung.name == plan.rung.name)
        old_video = m.video;
  }
  RungGraph g = rung_graph (plan, 0);
  std::string why = "no branch to encode";
  GstElement *video = old_video ? parse_graph (g.video, true, why) : nullptr;
  if (!video) {
    error = "rung " + plan.rung.name + ": " + why;
    return false;
  }
  gst_bin_add (pipeline_, video);
  g_autoptr (GstPad) in = gst_element_get_static_pad (video, "sink");
  g_autoptr (GstPad) out = gst_element_get_static_pad (video, "src");
  join_at_forced_keyframe (in);
  follow_input_size (video, plan.rung);
  continue_rung_stream (out);
  watch_sps (video, plan.rung.name);
  if (!gst_element_sync_state_with_parent (video)) {
    error = "rung " + plan.rung.name + ": its encoder does not start";
    return false;
  }
  /* the input's thread, upstream of video_src: the tee pushes nothing now */
  g_autoptr (GstPad) old_in = gst_element_get_static_pad (old_video, "sink");
  if (g_autoptr (GstPad) tee_pad = gst_pad_get_peer (old_in)) {
    gst_pad_unlink (tee_pad, old_in);
    gst_element_release_request_pad (video_src_, tee_pad);
  }
  if (gst_pad_link (out, old_in) != GST_PAD_LINK_OK || !gst_element_link (video_raw_, video)) {
    error = "rung " + plan.rung.name + ": its encoder does not link";
    return false;
  }
  {
    std::lock_guard<std::mutex> lk (lock_);
    for (Made & m : made_)
      if (m.plan.rung.name == plan.rung.name) {
        m.plan = plan;
        m.codec.clear ();          /* x264's, from its first SPS */
      }
  }
  GST_INFO_OBJECT (pipeline_, "rung %s: encoded at %ux%u from now on", plan.rung.name.c_str (),
      plan.width, plan.height);
  return true;
}

bool
AbrBuilder::build_rung (const RungPlan & plan, std::string & error)
{
  RungPlan graph = plan;
  {
    /* one viewerstats pair: the first top rung's (the API's stats) */
    std::lock_guard<std::mutex> lk (lock_);
    graph.top = plan.top && !stats_made_;
    stats_made_ = stats_made_ || plan.top;
  }
  RungGraph g = rung_graph (graph, 0);
  std::string why;
  GstElement *video = parse_graph (g.video, true, why);
  if (!video) {
    error = "rung " + plan.rung.name + ": " + why;
    return false;
  }
  GstElement *audio = nullptr;
  if (audio_raw_) {
    audio = parse_graph (g.audio, true, why);
    if (!audio) {
      error = "rung " + plan.rung.name + ": " + why;
      gst_object_unref (gst_object_ref_sink (video));
      return false;
    }
  }
  GstElement *sink = hooks_.make_sink (plan, error);
  if (!sink) {
    gst_object_unref (gst_object_ref_sink (video));
    if (audio)
      gst_object_unref (gst_object_ref_sink (audio));
    return false;
  }
  if (cuts_ && !cuts_->add (sink))
    GST_WARNING_OBJECT (sink,
        "rung %s: not an llhlssink nor a splitmuxsink inside: its segments may not line up",
        plan.rung.name.c_str ());
  gst_bin_add_many (pipeline_, sink, video, nullptr);
  if (audio)
    gst_bin_add (pipeline_, audio);
  bool linked = gst_element_link_pads (video, "src", sink, "video")
      && (!audio || gst_element_link_pads (audio, "src", sink, "audio"));
  if (!linked) {
    error = "rung " + plan.rung.name + ": its branches do not link to its sink";
    return false;               /* the elements stay in the pipeline, which fails */
  }
  watch_sps (video, plan.rung.name);
  {
    std::lock_guard<std::mutex> lk (lock_);
    for (Made & m : made_)
      if (m.plan.rung.name == plan.rung.name)
        m.video = video;
    g_autoptr (GstPad) out = gst_element_get_static_pad (video, "src");
    if (plan.top && measuring_)
      gst_pad_add_probe (out, (GstPadProbeType) (GST_PAD_PROBE_TYPE_BUFFER
              | GST_PAD_PROBE_TYPE_EVENT_DOWNSTREAM), on_rate, this, nullptr);
  }
  /* it starts at the keyframe every rung starts at; never above the input */
  g_autoptr (GstPad) in = gst_element_get_static_pad (video, "sink");
  if (plan.passthrough) {
    join_at_keyframe (in);
  } else {
    join_at_forced_keyframe (in);
    follow_input_size (video, plan.rung);
  }
  /* ready before the tees send anything: a branch still at NULL would
   * answer FLUSHING, which stops the ingest */
  for (GstElement *e : { sink, video, audio })
    if (e && !gst_element_sync_state_with_parent (e)) {
      error = "rung " + plan.rung.name + ": its elements do not start";
      return false;
    }
  GstElement *video_tee = plan.passthrough ? video_src_ : video_raw_;
  if (!video_tee || !gst_element_link (video_tee, video)
      || (audio && !gst_element_link (audio_raw_, audio))) {
    error = "rung " + plan.rung.name + ": cannot link it to the shared tees";
    return false;
  }
  end_if_tee_ended (video_tee, video);
  if (audio)
    end_if_tee_ended (audio_raw_, audio);
  return true;
}

void
AbrBuilder::watch_sps (GstElement * video, const std::string & rung)
{
  g_autoptr (GstPad) out = gst_element_get_static_pad (video, "src");
  gst_pad_add_probe (out, GST_PAD_PROBE_TYPE_BUFFER, on_sps, new SpsWatch { this, rung },
      [] (gpointer d) { delete static_cast<SpsWatch *> (d); });
}

void
AbrBuilder::align_keyframes (bool follow_input)
{
  /* H.264 in: at the decoder's input, where keyframes are flagged; other
   * input: decoded frames, every interval */
  GstPad *pad = nullptr;
  if (follow_input) {
    pad = decoder_pad_;
    decoder_pad_ = nullptr;
  } else {
    g_autoptr (GstPad) sink = gst_element_get_static_pad (video_raw_, "sink");
    pad = gst_pad_get_peer (sink);
  }
  if (!pad) {
    GST_WARNING_OBJECT (pipeline_, "no pad to align keyframes on: rungs may not line up");
    return;
  }
  gst_pad_add_probe (pad, GST_PAD_PROBE_TYPE_BUFFER, KeyframeAligner::probe,
      new KeyframeAligner { follow_input, interval_, cuts_.get () },
      [] (gpointer d) { delete static_cast<KeyframeAligner *> (d); });
  gst_object_unref (pad);
}

/* the first SPS of a rung's H.264: its CODECS; with every rung's, the master */
GstPadProbeReturn
AbrBuilder::on_sps (GstPad *, GstPadProbeInfo * info, gpointer data)
{
  auto *w = static_cast<SpsWatch *> (data);
  AbrBuilder *self = w->builder;
  GstBuffer *buf = GST_PAD_PROBE_INFO_BUFFER (info);
  GstMapInfo map;
  if (!gst_buffer_map (buf, &map, GST_MAP_READ))
    return GST_PAD_PROBE_OK;
  std::string codec = avc1_codec_from_byte_stream (map.data, map.size);
  gst_buffer_unmap (buf, &map);
  if (codec.empty ())
    return GST_PAD_PROBE_OK;

  {
    std::lock_guard<std::mutex> lk (self->lock_);
    for (Made & m : self->made_)
      if (m.plan.rung.name == w->rung)
        m.codec = codec;
  }
  self->send_master_when_known ();
  return GST_PAD_PROBE_REMOVE;
}

/* Caps without a frame rate (WebRTC): the top rung's over its first
 * second, for FRAME-RATE; the stream ending sooner gives up */
GstPadProbeReturn
AbrBuilder::on_rate (GstPad *, GstPadProbeInfo * info, gpointer data)
{
  auto *self = static_cast<AbrBuilder *> (data);
  if (info->type & GST_PAD_PROBE_TYPE_EVENT_DOWNSTREAM) {
    if (GST_EVENT_TYPE (GST_PAD_PROBE_INFO_EVENT (info)) != GST_EVENT_EOS)
      return GST_PAD_PROBE_OK;
    {
      std::lock_guard<std::mutex> lk (self->lock_);
      self->measuring_ = false;
    }
    self->send_master_when_known ();
    return GST_PAD_PROBE_REMOVE;
  }
  GstClockTime pts = GST_BUFFER_PTS (GST_PAD_PROBE_INFO_BUFFER (info));
  if (!GST_CLOCK_TIME_IS_VALID (pts))
    return GST_PAD_PROBE_OK;
  {
    std::lock_guard<std::mutex> lk (self->lock_);
    if (!GST_CLOCK_TIME_IS_VALID (self->rate_first_) || pts < self->rate_first_) {
      self->rate_first_ = pts;
      self->rate_frames_ = 0;
      return GST_PAD_PROBE_OK;
    }
    self->rate_frames_++;
    GstClockTime span = pts - self->rate_first_;
    if (span < GST_SECOND)
      return GST_PAD_PROBE_OK;
    /* frames per second, to a thousandth */
    self->fps_n_ = (int) gst_util_uint64_scale_round (self->rate_frames_, 1000 * GST_SECOND, span);
    self->fps_d_ = 1000;
    self->measuring_ = false;
  }
  self->send_master_when_known ();
  return GST_PAD_PROBE_REMOVE;
}

/* once every rung's codec (and the frame rate, if measured) is known:
 * at first, and after rungs are added */
void
AbrBuilder::send_master_when_known ()
{
  std::string master;
  {
    std::lock_guard<std::mutex> lk (lock_);
    bool ready = master_due_ && !measuring_ && !made_.empty ();
    for (const Made & m : made_)
      ready = ready && !m.codec.empty ();
    if (!ready)
      return;
    std::vector<Variant> variants;
    for (const Made & m : made_)
      variants.push_back ({ m.plan, m.codec, audio_raw_ != nullptr, fps_n_, fps_d_ });
    master = render_master_playlist (variants);
    master_due_ = false;
  }
  if (hooks_.master_ready)
    hooks_.master_ready (master);
}

}  // namespace castline::launcher
