/**
 * SECTION:element-keyframegate
 * @title: keyframegate
 *
 * keyframegate lets through one key unit every `interval` and drops
 * everything else: delta units (buffers flagged DELTA_UNIT) always, and key
 * units whose running time is less than `interval` after the last one let
 * through. It is the front of a thumbnail branch: a decoder behind it
 * decodes one picture every few seconds instead of the whole stream. Raw
 * video has no delta units, so on decoded video it only limits the rate.
 *
 * What comes out is a key-units-only stream, and it says so: its segment
 * carries the TRICKMODE_KEY_UNITS flag, and each key unit let through is
 * followed by a GAP event. A decoder (GstVideoDecoder) drains on a GAP in
 * that mode, so the picture comes out at once rather than after the
 * decoder's reordering delay (with B-frames, avdec_h264 holds two
 * pictures: two intervals late). `drain=false` leaves the segment and
 * the events alone.
 *
 * The running time starting again from below the last one (a new segment)
 * opens the gate at the next key unit.
 *
 * ## Example launch line
 * |[
 * gst-launch-1.0 videotestsrc is-live=true pattern=ball ! x264enc key-int-max=30 ! \
 *     h264parse ! keyframegate interval=5000000000 ! avdec_h264 ! videoconvert ! \
 *     videoscale ! video/x-raw,width=320,height=240 ! jpegenc ! \
 *     multifilesink location=thumb-%05d.jpg
 * ]| writes one JPEG every 5 seconds.
 */
#include "thumbnail/gstkeyframegate.h"

#include "castlineelements.h"

#include <mutex>

GST_DEBUG_CATEGORY_STATIC (gst_keyframe_gate_debug);
#define GST_CAT_DEFAULT gst_keyframe_gate_debug

#define DEFAULT_INTERVAL (5 * GST_SECOND)
#define DEFAULT_DRAIN TRUE

enum {
  PROP_0,
  PROP_INTERVAL,
  PROP_DRAIN,
  PROP_PASSED,
  PROP_DROPPED,
};

static GstStaticPadTemplate sink_template = GST_STATIC_PAD_TEMPLATE ("sink",
    GST_PAD_SINK, GST_PAD_ALWAYS, GST_STATIC_CAPS_ANY);
static GstStaticPadTemplate src_template = GST_STATIC_PAD_TEMPLATE ("src",
    GST_PAD_SRC, GST_PAD_ALWAYS, GST_STATIC_CAPS_ANY);

struct KeyframeGateSettings {
  GstClockTime interval = DEFAULT_INTERVAL;
  bool drain = DEFAULT_DRAIN;
};

/* Settings and streaming state apart, each under its own lock. */
struct GstKeyframeGatePrivate {
  std::mutex settings_lock;
  KeyframeGateSettings settings;

  /* the streaming thread's; the counters are read by the properties */
  std::mutex lock;
  GstSegment segment;
  GstClockTime last_passed = GST_CLOCK_TIME_NONE;   /* running time */
  guint64 passed = 0;
  guint64 dropped = 0;
};

struct _GstKeyframeGate {
  GstElement parent;
  GstPad *sinkpad;
  GstPad *srcpad;
  GstKeyframeGatePrivate *priv;
};

#define gst_keyframe_gate_parent_class parent_class
G_DEFINE_TYPE_WITH_CODE (GstKeyframeGate, gst_keyframe_gate, GST_TYPE_ELEMENT,
    GST_DEBUG_CATEGORY_INIT (gst_keyframe_gate_debug, "keyframegate", 0,
        "one key unit per interval"));
GST_ELEMENT_REGISTER_DEFINE (keyframegate, "keyframegate", GST_RANK_NONE, GST_TYPE_KEYFRAME_GATE);

static void gst_keyframe_gate_finalize (GObject * object);
static void gst_keyframe_gate_set_property (GObject * object, guint prop_id,
    const GValue * value, GParamSpec * pspec);
static void gst_keyframe_gate_get_property (GObject * object, guint prop_id,
    GValue * value, GParamSpec * pspec);
static GstStateChangeReturn gst_keyframe_gate_change_state (GstElement * element,
    GstStateChange transition);
static GstFlowReturn gst_keyframe_gate_chain (GstPad * pad, GstObject * parent,
    GstBuffer * buf);
static gboolean gst_keyframe_gate_sink_event (GstPad * pad, GstObject * parent,
    GstEvent * event);

static void
gst_keyframe_gate_class_init (GstKeyframeGateClass * klass)
{
  auto *gobject_class = G_OBJECT_CLASS (klass);
  auto *element_class = GST_ELEMENT_CLASS (klass);

  gobject_class->set_property = gst_keyframe_gate_set_property;
  gobject_class->get_property = gst_keyframe_gate_get_property;
  gobject_class->finalize = gst_keyframe_gate_finalize;

  const auto rw = (GParamFlags) (G_PARAM_READWRITE | G_PARAM_STATIC_STRINGS
      | GST_PARAM_MUTABLE_PLAYING);
  const auto ro = (GParamFlags) (G_PARAM_READABLE | G_PARAM_STATIC_STRINGS);
  g_object_class_install_property (gobject_class, PROP_INTERVAL,
      g_param_spec_uint64 ("interval", "Interval",
          "Least running time in nanoseconds between two key units let through "
          "(0: every key unit)", 0, G_MAXUINT64, DEFAULT_INTERVAL, rw));
  g_object_class_install_property (gobject_class, PROP_DRAIN,
      g_param_spec_boolean ("drain", "Drain",
          "Mark the segment TRICKMODE_KEY_UNITS and follow each key unit let through "
          "with a GAP event, so that a decoder downstream outputs its picture at once",
          DEFAULT_DRAIN, (GParamFlags) (rw & ~GST_PARAM_MUTABLE_PLAYING)));
  g_object_class_install_property (gobject_class, PROP_PASSED,
      g_param_spec_uint64 ("passed", "Passed", "Key units let through since READY",
          0, G_MAXUINT64, 0, ro));
  g_object_class_install_property (gobject_class, PROP_DROPPED,
      g_param_spec_uint64 ("dropped", "Dropped", "Buffers dropped since READY",
          0, G_MAXUINT64, 0, ro));

  gst_element_class_add_static_pad_template (element_class, &sink_template);
  gst_element_class_add_static_pad_template (element_class, &src_template);
  gst_element_class_set_static_metadata (element_class,
      "Keyframe gate", "Filter",
      "Lets through one key unit per interval and drops the rest (delta units, key "
      "units too close to the last), for a thumbnail branch that decodes a picture "
      "every few seconds",
      "castline");

  element_class->change_state = GST_DEBUG_FUNCPTR (gst_keyframe_gate_change_state);
}

static void
gst_keyframe_gate_init (GstKeyframeGate * self)
{
  self->priv = new GstKeyframeGatePrivate ();
  gst_segment_init (&self->priv->segment, GST_FORMAT_UNDEFINED);

  self->sinkpad = gst_pad_new_from_static_template (&sink_template, "sink");
  gst_pad_set_chain_function (self->sinkpad, GST_DEBUG_FUNCPTR (gst_keyframe_gate_chain));
  gst_pad_set_event_function (self->sinkpad, GST_DEBUG_FUNCPTR (gst_keyframe_gate_sink_event));
  GST_PAD_SET_PROXY_CAPS (self->sinkpad);
  GST_PAD_SET_PROXY_ALLOCATION (self->sinkpad);
  gst_element_add_pad (GST_ELEMENT (self), self->sinkpad);

  self->srcpad = gst_pad_new_from_static_template (&src_template, "src");
  GST_PAD_SET_PROXY_CAPS (self->srcpad);
  gst_element_add_pad (GST_ELEMENT (self), self->srcpad);
}

static void
gst_keyframe_gate_finalize (GObject * object)
{
  delete GST_KEYFRAME_GATE (object)->priv;
  G_OBJECT_CLASS (parent_class)->finalize (object);
}

static void
gst_keyframe_gate_set_property (GObject * object, guint prop_id, const GValue * value,
    GParamSpec * pspec)
{
  GstKeyframeGatePrivate *p = GST_KEYFRAME_GATE (object)->priv;
  std::lock_guard<std::mutex> lk (p->settings_lock);
  switch (prop_id) {
    case PROP_INTERVAL: p->settings.interval = g_value_get_uint64 (value); break;
    case PROP_DRAIN: p->settings.drain = g_value_get_boolean (value); break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
      break;
  }
}

static void
gst_keyframe_gate_get_property (GObject * object, guint prop_id, GValue * value,
    GParamSpec * pspec)
{
  GstKeyframeGatePrivate *p = GST_KEYFRAME_GATE (object)->priv;
  if (prop_id == PROP_PASSED || prop_id == PROP_DROPPED) {
    std::lock_guard<std::mutex> lk (p->lock);
    g_value_set_uint64 (value, prop_id == PROP_PASSED ? p->passed : p->dropped);
    return;
  }
  std::lock_guard<std::mutex> lk (p->settings_lock);
  switch (prop_id) {
    case PROP_INTERVAL: g_value_set_uint64 (value, p->settings.interval); break;
    case PROP_DRAIN: g_value_set_boolean (value, p->settings.drain); break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
      break;
  }
}

static GstStateChangeReturn
gst_keyframe_gate_change_state (GstElement * element, GstStateChange transition)
{
  GstKeyframeGatePrivate *p = GST_KEYFRAME_GATE (element)->priv;
  if (transition == GST_STATE_CHANGE_READY_TO_PAUSED) {
    std::lock_guard<std::mutex> lk (p->lock);
    gst_segment_init (&p->segment, GST_FORMAT_UNDEFINED);
    p->last_passed = GST_CLOCK_TIME_NONE;
    p->passed = p->dropped = 0;
  }
  return GST_ELEMENT_CLASS (parent_class)->change_state (element, transition);
}

static KeyframeGateSettings
settings_of (GstKeyframeGate * self)
{
  std::lock_guard<std::mutex> lk (self->priv->settings_lock);
  return self->priv->settings;
}

static gboolean
gst_keyframe_gate_sink_event (GstPad * pad, GstObject * parent, GstEvent * event)
{
  auto *self = GST_KEYFRAME_GATE (parent);
  GstKeyframeGatePrivate *p = self->priv;
  switch (GST_EVENT_TYPE (event)) {
    case GST_EVENT_SEGMENT: {
      GstSegment segment;
      gst_event_copy_segment (event, &segment);
      {
        std::lock_guard<std::mutex> lk (p->lock);
        p->segment = segment;
      }
      if (settings_of (self).drain && !(segment.flags & GST_SEGMENT_FLAG_TRICKMODE_KEY_UNITS)) {
        /* downstream sees what it gets: key units only */
        segment.flags = (GstSegmentFlags) (segment.flags | GST_SEGMENT_FLAG_TRICKMODE_KEY_UNITS);
        GstEvent *marked = gst_event_new_segment (&segment);
        gst_event_set_seqnum (marked, gst_event_get_seqnum (event));
        gst_event_unref (event);
        event = marked;
      }
      break;
    }
    case GST_EVENT_FLUSH_STOP: {
      std::lock_guard<std::mutex> lk (p->lock);
      gst_segment_init (&p->segment, GST_FORMAT_UNDEFINED);
      p->last_passed = GST_CLOCK_TIME_NONE;
      break;
    }
    case GST_EVENT_GAP:
      /* upstream's gaps are no pictures: the gate sends its own */
      if (settings_of (self).drain) {
        gst_event_unref (event);
        return TRUE;
      }
      break;
    default:
      break;
  }
  return gst_pad_event_default (pad, parent, event);
}

static GstFlowReturn
gst_keyframe_gate_chain (GstPad *, GstObject * parent, GstBuffer * buf)
{
  auto *self = GST_KEYFRAME_GATE (parent);
  GstKeyframeGatePrivate *p = self->priv;
  KeyframeGateSettings settings = settings_of (self);
  GstClockTime ts = GST_BUFFER_DTS_OR_PTS (buf);
  bool pass = false;
  {
    std::lock_guard<std::mutex> lk (p->lock);
    if (!GST_BUFFER_FLAG_IS_SET (buf, GST_BUFFER_FLAG_DELTA_UNIT)) {
      GstClockTime rt = p->segment.format == GST_FORMAT_TIME && GST_CLOCK_TIME_IS_VALID (ts)
          ? gst_segment_to_running_time (&p->segment, GST_FORMAT_TIME, ts) : GST_CLOCK_TIME_NONE;
      /* without a running time the gate cannot count: it lets the key
       * unit through rather than none ever */
      pass = !GST_CLOCK_TIME_IS_VALID (rt) || !GST_CLOCK_TIME_IS_VALID (p->last_passed)
          || rt < p->last_passed || rt - p->last_passed >= settings.interval;
      if (pass && GST_CLOCK_TIME_IS_VALID (rt))
        p->last_passed = rt;
    }
    if (pass)
      p->passed++;
    else
      p->dropped++;
  }
  if (!pass) {
    gst_buffer_unref (buf);
    return GST_FLOW_OK;
  }
  GstClockTime pts = GST_BUFFER_PTS_IS_VALID (buf) ? GST_BUFFER_PTS (buf) : ts;
  GstClockTime duration = GST_BUFFER_DURATION_IS_VALID (buf) ? GST_BUFFER_DURATION (buf) : 0;
  GST_LOG_OBJECT (self, "key unit through at %" GST_TIME_FORMAT, GST_TIME_ARGS (pts));
  GstFlowReturn ret = gst_pad_push (self->srcpad, buf);
  if (ret == GST_FLOW_OK && settings.drain && GST_CLOCK_TIME_IS_VALID (pts))
    gst_pad_push_event (self->srcpad, gst_event_new_gap (pts + duration, 0));
  return ret;
}
