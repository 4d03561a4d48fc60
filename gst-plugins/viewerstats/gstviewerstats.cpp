/**
 * SECTION:element-viewerstats
 * @title: viewerstats
 *
 * viewerstats is a passthrough that measures what a viewer of its branch
 * gets, typically placed right before the HLS sink. It never copies or
 * changes a buffer. Every `interval` milliseconds it posts an element
 * message named "viewerstats", and the read-only `stats` property returns
 * the same structure:
 *
 * - bitrate (double, bits/s over `window`), fps (double, buffers/s over the
 *   window), caps-fps (double), width, height (int), codec (string, from
 *   the caps: "h264", "vp8", "aac", "opus"...)
 * - keyframe-interval (double, seconds between the last two keyframes) and
 *   keyframe-interval-frames (guint64), for video
 * - gaps (GAP events and timestamp jumps over 0.5 s), discontinuities
 *   (DISCONT buffers after the first), stalls (times no buffer came for
 *   `stall-threshold`), stalled (boolean, now)
 * - latency (gint64 ns: how far the buffers' running time is behind the
 *   pipeline clock's running time; -1 without a clock)
 * - buffers, bytes (guint64 totals) and health (guint, 0-100)
 *
 * Health starts at 100 and loses: 60 while stalled; 40 × (1 − fps /
 * caps-fps) when the frame rate is below the caps'; 15 when the keyframe
 * interval exceeds `max-keyframe-interval`; 15 when latency exceeds
 * `latency-threshold`; 10 per gap or discontinuity since the previous
 * report, at most 30. It is clamped to 0-100, and 0 before the first
 * buffer.
 *
 * ## Example launch line
 * |[
 * gst-launch-1.0 -m videotestsrc is-live=true ! x264enc tune=zerolatency ! h264parse ! \
 *     viewerstats interval=1000 ! fakesink
 * ]| prints a viewerstats message every second.
 */
#include "viewerstats/gstviewerstats.h"

#include "castlineelements.h"
#include "viewerstats/streammeter.h"

#include <mutex>
#include <utility>

GST_DEBUG_CATEGORY_STATIC (gst_viewer_stats_debug);
#define GST_CAT_DEFAULT gst_viewer_stats_debug

using castline::MeterLimits;
using castline::MeterSnapshot;
using castline::StreamMeter;

#define DEFAULT_INTERVAL 1000
#define DEFAULT_WINDOW 5000
#define DEFAULT_STALL_THRESHOLD 2000
#define DEFAULT_MAX_KEYFRAME_INTERVAL 4.0
#define DEFAULT_LATENCY_THRESHOLD 5000

enum {
  PROP_0,
  PROP_INTERVAL,
  PROP_WINDOW,
  PROP_STALL_THRESHOLD,
  PROP_MAX_KEYFRAME_INTERVAL,
  PROP_LATENCY_THRESHOLD,
  PROP_STATS,
};

static GstStaticPadTemplate sink_template = GST_STATIC_PAD_TEMPLATE ("sink",
    GST_PAD_SINK, GST_PAD_ALWAYS, GST_STATIC_CAPS_ANY);
static GstStaticPadTemplate src_template = GST_STATIC_PAD_TEMPLATE ("src",
    GST_PAD_SRC, GST_PAD_ALWAYS, GST_STATIC_CAPS_ANY);

/* The properties. Only start (interval) and the snapshots (the rest)
 * read them: the streaming thread never does. */
struct ViewerStatsSettings {
  guint interval_ms = DEFAULT_INTERVAL;
  guint window_ms = DEFAULT_WINDOW;
  guint stall_threshold_ms = DEFAULT_STALL_THRESHOLD;
  gdouble max_keyframe_interval = DEFAULT_MAX_KEYFRAME_INTERVAL;
  guint latency_threshold_ms = DEFAULT_LATENCY_THRESHOLD;

  MeterLimits limits () const
  {
    MeterLimits l;
    l.stall_threshold_us = (gint64) stall_threshold_ms * 1000;
    l.max_keyframe_interval = max_keyframe_interval;
    l.latency_threshold = (GstClockTime) latency_threshold_ms * GST_MSECOND;
    return l;
  }
};

/* Settings and state apart, each under its own lock, never both held:
 * a property change never waits for the meter, and a buffer never waits
 * for a property. */
struct GstViewerStatsPrivate {
  std::mutex settings_lock;
  ViewerStatsSettings settings;

  /* the state: fed by the streaming thread, read by the timer and the
   * stats property */
  std::mutex lock;
  StreamMeter meter;
  GstClockID timer = nullptr;    /* from start to stop */
};

struct _GstViewerStats {
  GstBaseTransform parent;
  GstViewerStatsPrivate *priv;
};

#define gst_viewer_stats_parent_class parent_class
G_DEFINE_TYPE_WITH_CODE (GstViewerStats, gst_viewer_stats, GST_TYPE_BASE_TRANSFORM,
    GST_DEBUG_CATEGORY_INIT (gst_viewer_stats_debug, "viewerstats", 0,
        "stream quality probe"));
GST_ELEMENT_REGISTER_DEFINE (viewerstats, "viewerstats", GST_RANK_NONE, GST_TYPE_VIEWER_STATS);

static void gst_viewer_stats_finalize (GObject * object);
static void gst_viewer_stats_set_property (GObject * object, guint prop_id,
    const GValue * value, GParamSpec * pspec);
static void gst_viewer_stats_get_property (GObject * object, guint prop_id,
    GValue * value, GParamSpec * pspec);
static gboolean gst_viewer_stats_start (GstBaseTransform * trans);
static gboolean gst_viewer_stats_stop (GstBaseTransform * trans);
static gboolean gst_viewer_stats_set_caps (GstBaseTransform * trans, GstCaps * incaps,
    GstCaps * outcaps);
static gboolean gst_viewer_stats_sink_event (GstBaseTransform * trans, GstEvent * event);
static GstFlowReturn gst_viewer_stats_transform_ip (GstBaseTransform * trans,
    GstBuffer * buf);

static GstStructure *take_snapshot (GstViewerStats * self);
static gboolean on_tick (GstClock * clock, GstClockTime time, GstClockID id,
    gpointer user_data);

static void
gst_viewer_stats_class_init (GstViewerStatsClass * klass)
{
  auto *gobject_class = G_OBJECT_CLASS (klass);
  auto *element_class = GST_ELEMENT_CLASS (klass);
  auto *trans_class = GST_BASE_TRANSFORM_CLASS (klass);

  gobject_class->set_property = gst_viewer_stats_set_property;
  gobject_class->get_property = gst_viewer_stats_get_property;
  gobject_class->finalize = gst_viewer_stats_finalize;

  const auto rw = (GParamFlags) (G_PARAM_READWRITE | G_PARAM_STATIC_STRINGS
      | GST_PARAM_MUTABLE_READY);
  g_object_class_install_property (gobject_class, PROP_INTERVAL,
      g_param_spec_uint ("interval", "Interval",
          "Milliseconds between two \"viewerstats\" element messages (0: none)",
          0, G_MAXUINT, DEFAULT_INTERVAL, rw));
  g_object_class_install_property (gobject_class, PROP_WINDOW,
      g_param_spec_uint ("window", "Window",
          "Sliding window in milliseconds for bitrate and fps", 100, 600000,
          DEFAULT_WINDOW, (GParamFlags) (rw | GST_PARAM_MUTABLE_PLAYING)));
  g_object_class_install_property (gobject_class, PROP_STALL_THRESHOLD,
      g_param_spec_uint ("stall-threshold", "Stall threshold",
          "Milliseconds without a buffer that count as a stall", 10, G_MAXUINT,
          DEFAULT_STALL_THRESHOLD, (GParamFlags) (rw | GST_PARAM_MUTABLE_PLAYING)));
  g_object_class_install_property (gobject_class, PROP_MAX_KEYFRAME_INTERVAL,
      g_param_spec_double ("max-keyframe-interval", "Max keyframe interval",
          "Keyframe interval in seconds above which health drops (HLS wants a "
          "keyframe at each segment start)", 0, 3600, DEFAULT_MAX_KEYFRAME_INTERVAL,
          (GParamFlags) (rw | GST_PARAM_MUTABLE_PLAYING)));
  g_object_class_install_property (gobject_class, PROP_LATENCY_THRESHOLD,
      g_param_spec_uint ("latency-threshold", "Latency threshold",
          "Latency in milliseconds above which health drops", 0, G_MAXUINT,
          DEFAULT_LATENCY_THRESHOLD, (GParamFlags) (rw | GST_PARAM_MUTABLE_PLAYING)));
  g_object_class_install_property (gobject_class, PROP_STATS,
      g_param_spec_boxed ("stats", "Statistics",
          "The measurements, as in the element message: bitrate, fps, caps-fps, width, "
          "height, codec, keyframe-interval, keyframe-interval-frames, gaps, "
          "discontinuities, stalls, stalled, latency, buffers, bytes, health",
          GST_TYPE_STRUCTURE, (GParamFlags) (G_PARAM_READABLE | G_PARAM_STATIC_STRINGS)));

  gst_element_class_add_static_pad_template (element_class, &sink_template);
  gst_element_class_add_static_pad_template (element_class, &src_template);
  gst_element_class_set_static_metadata (element_class,
      "Viewer statistics", "Filter/Analyzer",
      "Passthrough that measures bitrate, fps, resolution, codec, keyframe interval, "
      "gaps, stalls and latency, with a 0-100 health score, posted as \"viewerstats\" "
      "element messages. Example: gst-launch-1.0 -m videotestsrc is-live=true ! "
      "x264enc tune=zerolatency ! h264parse ! viewerstats interval=1000 ! fakesink",
      "castline");

  trans_class->start = GST_DEBUG_FUNCPTR (gst_viewer_stats_start);
  trans_class->stop = GST_DEBUG_FUNCPTR (gst_viewer_stats_stop);
  trans_class->set_caps = GST_DEBUG_FUNCPTR (gst_viewer_stats_set_caps);
  trans_class->sink_event = GST_DEBUG_FUNCPTR (gst_viewer_stats_sink_event);
  trans_class->transform_ip = GST_DEBUG_FUNCPTR (gst_viewer_stats_transform_ip);
  trans_class->passthrough_on_same_caps = TRUE;
}

static void
gst_viewer_stats_init (GstViewerStats * self)
{
  self->priv = new GstViewerStatsPrivate ();
  gst_base_transform_set_passthrough (GST_BASE_TRANSFORM (self), TRUE);
  gst_base_transform_set_in_place (GST_BASE_TRANSFORM (self), TRUE);
}

static void
gst_viewer_stats_finalize (GObject * object)
{
  delete GST_VIEWER_STATS (object)->priv;
  G_OBJECT_CLASS (parent_class)->finalize (object);
}

static void
gst_viewer_stats_set_property (GObject * object, guint prop_id, const GValue * value,
    GParamSpec * pspec)
{
  GstViewerStatsPrivate *p = GST_VIEWER_STATS (object)->priv;
  ViewerStatsSettings & s = p->settings;
  std::lock_guard<std::mutex> lk (p->settings_lock);
  switch (prop_id) {
    case PROP_INTERVAL: s.interval_ms = g_value_get_uint (value); break;
    case PROP_WINDOW: s.window_ms = g_value_get_uint (value); break;
    case PROP_STALL_THRESHOLD: s.stall_threshold_ms = g_value_get_uint (value); break;
    case PROP_MAX_KEYFRAME_INTERVAL: s.max_keyframe_interval = g_value_get_double (value); break;
    case PROP_LATENCY_THRESHOLD: s.latency_threshold_ms = g_value_get_uint (value); break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
      break;
  }
}

static void
gst_viewer_stats_get_property (GObject * object, guint prop_id, GValue * value,
    GParamSpec * pspec)
{
  auto *self = GST_VIEWER_STATS (object);
  if (prop_id == PROP_STATS) {
    g_value_take_boxed (value, take_snapshot (self));
    return;
  }
  GstViewerStatsPrivate *p = self->priv;
  const ViewerStatsSettings & s = p->settings;
  std::lock_guard<std::mutex> lk (p->settings_lock);
  switch (prop_id) {
    case PROP_INTERVAL: g_value_set_uint (value, s.interval_ms); break;
    case PROP_WINDOW: g_value_set_uint (value, s.window_ms); break;
    case PROP_STALL_THRESHOLD: g_value_set_uint (value, s.stall_threshold_ms); break;
    case PROP_MAX_KEYFRAME_INTERVAL: g_value_set_double (value, s.max_keyframe_interval); break;
    case PROP_LATENCY_THRESHOLD: g_value_set_uint (value, s.latency_threshold_ms); break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
      break;
  }
}

static gboolean
gst_viewer_stats_start (GstBaseTransform * trans)
{
  auto *self = GST_VIEWER_STATS (trans);
  GstViewerStatsPrivate *p = self->priv;
  guint interval_ms;
  {
    std::lock_guard<std::mutex> lk (p->settings_lock);
    interval_ms = p->settings.interval_ms;
  }

  std::lock_guard<std::mutex> lk (p->lock);
  p->meter.reset ();
  if (interval_ms > 0) {
    GstClock *clock = gst_system_clock_obtain ();
    GstClockTime interval = (GstClockTime) interval_ms * GST_MSECOND;
    p->timer = gst_clock_new_periodic_id (clock, gst_clock_get_time (clock) + interval, interval);
    gst_clock_id_wait_async (p->timer, on_tick, gst_object_ref (self), gst_object_unref);
    gst_object_unref (clock);
  }
  return TRUE;
}

static gboolean
gst_viewer_stats_stop (GstBaseTransform * trans)
{
  GstViewerStatsPrivate *p = GST_VIEWER_STATS (trans)->priv;
  GstClockID timer;
  {
    std::lock_guard<std::mutex> lk (p->lock);
    timer = std::exchange (p->timer, nullptr);
  }
  if (timer) {
    gst_clock_id_unschedule (timer);
    gst_clock_id_unref (timer);
  }
  return TRUE;
}

static gboolean
gst_viewer_stats_set_caps (GstBaseTransform * trans, GstCaps * incaps, GstCaps *)
{
  GstViewerStatsPrivate *p = GST_VIEWER_STATS (trans)->priv;
  std::lock_guard<std::mutex> lk (p->lock);
  p->meter.set_caps (incaps);
  return TRUE;
}

static gboolean
gst_viewer_stats_sink_event (GstBaseTransform * trans, GstEvent * event)
{
  if (GST_EVENT_TYPE (event) == GST_EVENT_GAP) {
    GstViewerStatsPrivate *p = GST_VIEWER_STATS (trans)->priv;
    std::lock_guard<std::mutex> lk (p->lock);
    p->meter.on_gap ();
  }
  return GST_BASE_TRANSFORM_CLASS (parent_class)->sink_event (trans, event);
}

static GstFlowReturn
gst_viewer_stats_transform_ip (GstBaseTransform * trans, GstBuffer * buf)
{
  auto *self = GST_VIEWER_STATS (trans);
  GstViewerStatsPrivate *p = self->priv;
  GstClockTime pts = GST_BUFFER_PTS_IS_VALID (buf) ? GST_BUFFER_PTS (buf) : GST_BUFFER_DTS (buf);

  /* live latency: the clock's running time minus the buffer's (the
   * clock and the base time in one take of the object lock) */
  gint64 latency = -1;
  GST_OBJECT_LOCK (self);
  GstClock *clock = GST_ELEMENT_CLOCK (self) ? GST_CLOCK (gst_object_ref (GST_ELEMENT_CLOCK (self)))
      : nullptr;
  const GstClockTime base = GST_ELEMENT_CAST (self)->base_time;
  GST_OBJECT_UNLOCK (self);
  if (clock) {
    GstClockTime running = trans->segment.format == GST_FORMAT_TIME
        ? gst_segment_to_running_time (&trans->segment, GST_FORMAT_TIME, pts) : GST_CLOCK_TIME_NONE;
    GstClockTime now = gst_clock_get_time (clock);
    if (GST_CLOCK_TIME_IS_VALID (running) && GST_CLOCK_TIME_IS_VALID (base) && now >= base)
      latency = (gint64) (now - base) - (gint64) running;
    gst_object_unref (clock);
  }

  std::lock_guard<std::mutex> lk (p->lock);
  p->meter.on_buffer (g_get_monotonic_time (), pts, GST_BUFFER_DURATION (buf),
      gst_buffer_get_size (buf), !GST_BUFFER_FLAG_IS_SET (buf, GST_BUFFER_FLAG_DELTA_UNIT),
      GST_BUFFER_FLAG_IS_SET (buf, GST_BUFFER_FLAG_DISCONT));
  if (latency != -1)
    p->meter.on_latency (latency);
  return GST_FLOW_OK;
}

/* ---- snapshots ---- */

static GstStructure *
to_structure (const MeterSnapshot & s)
{
  return gst_structure_new ("viewerstats",
      "bitrate", G_TYPE_DOUBLE, s.bitrate,
      "fps", G_TYPE_DOUBLE, s.fps,
      "caps-fps", G_TYPE_DOUBLE, s.caps_fps,
      "width", G_TYPE_INT, s.width,
      "height", G_TYPE_INT, s.height,
      "codec", G_TYPE_STRING, s.codec.c_str (),
      "keyframe-interval", G_TYPE_DOUBLE, s.keyframe_interval,
      "keyframe-interval-frames", G_TYPE_UINT64, s.keyframe_interval_frames,
      "gaps", G_TYPE_UINT64, s.gaps,
      "discontinuities", G_TYPE_UINT64, s.discontinuities,
      "stalls", G_TYPE_UINT64, s.stalls,
      "stalled", G_TYPE_BOOLEAN, s.stalled,
      "latency", G_TYPE_INT64, s.latency,
      "buffers", G_TYPE_UINT64, s.buffers,
      "bytes", G_TYPE_UINT64, s.bytes,
      "health", G_TYPE_UINT, s.health, NULL);
}

/* the timer's thread or the application's (stats) */
static GstStructure *
take_snapshot (GstViewerStats * self)
{
  GstViewerStatsPrivate *p = self->priv;
  ViewerStatsSettings settings;
  {
    std::lock_guard<std::mutex> lk (p->settings_lock);
    settings = p->settings;
  }

  MeterSnapshot snapshot;
  {
    std::lock_guard<std::mutex> lk (p->lock);
    p->meter.set_window_us ((gint64) settings.window_ms * 1000);
    snapshot = p->meter.snapshot (g_get_monotonic_time (), settings.limits ());
  }
  return to_structure (snapshot);
}

/* the system clock's thread, every interval */
static gboolean
on_tick (GstClock *, GstClockTime, GstClockID, gpointer user_data)
{
  auto *self = GST_VIEWER_STATS (user_data);
  GstStructure *s = take_snapshot (self);
  gst_element_post_message (GST_ELEMENT (self),
      gst_message_new_element (GST_OBJECT (self), s));
  return TRUE;
}
