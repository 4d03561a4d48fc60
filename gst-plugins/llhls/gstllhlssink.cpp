/**
 * SECTION:element-llhlssink
 * @title: llhlssink
 *
 * llhlssink writes Low-Latency HLS (Apple's HLS 2nd edition, RFC 8216bis)
 * in CMAF: an init segment (#EXT-X-MAP), fMP4 segments that each start
 * with a keyframe, and parts of about part-target seconds listed as
 * #EXT-X-PART (INDEPENDENT=YES where a part starts with a keyframe), with
 * #EXT-X-PRELOAD-HINT, #EXT-X-SERVER-CONTROL (blocking reload, delta
 * playlists) and an #EXT-X-PROGRAM-DATE-TIME before every segment. GStreamer
 * 1.22 has no C muxer for CMAF parts, so the element writes the boxes
 * itself (one moof+mdat per part; a segment is its parts one after the
 * other).
 *
 * Request pads "video" (H.264; an h264parse inside makes it avc/au) and
 * "audio" (AAC; an aacparse inside makes it raw); either alone works. Parts
 * are cut on the video's timeline (the audio's when alone) and carry what
 * each track delivered since the cut before; a cut waits (without
 * blocking) until the other track has delivered up to it, ended, or lags
 * more than 10 s. The first init waits for every pad's caps (up to
 * 10 s of the video's media), so that it names both tracks; a track whose
 * caps come later joins at a keyframe with a new init.
 *
 * Files go to location, init-location and playlist-location (each written
 * under a temporary name and renamed, so a reader never sees half of
 * one); part files, named segment00042.3.m4s after their segment, with
 * write-parts. Storage that keeps the stream elsewhere (memory, a server)
 * takes it from the signals: init-ready, part-ready, segment-ready,
 * playlist-ready (with the delta playlist for _HLS_skip=YES) and
 * delete-fragment, emitted on the streaming thread with the element's
 * lock released. Each segment also posts splitmuxsink's
 * "splitmuxsink-fragment-opened" and "splitmuxsink-fragment-closed"
 * element messages, as hlssink2 does.
 *
 * Blocking playlist reload (_HLS_msn, _HLS_part) needs a server that
 * holds requests; a plain file server can still serve what the element
 * writes to players that poll.
 *
 * ## Example launch line
 * |[
 * mkdir -p /tmp/ll && gst-launch-1.0 -e videotestsrc is-live=true ! x264enc tune=zerolatency key-int-max=60 ! \
 *     h264parse ! llhlssink name=out location=/tmp/ll/segment%05d.m4s \
 *     init-location=/tmp/ll/init.mp4 playlist-location=/tmp/ll/index.m3u8 \
 *     audiotestsrc is-live=true ! avenc_aac ! aacparse ! out.audio
 * ]| writes a live test stream with 2 s segments and 0.3 s parts into /tmp/ll.
 */
#include "llhls/gstllhlssink.h"

#include "castlineelements.h"
#include "common/playlistdates.h"
#include "llhls/llhlswriter.h"

#include <memory>
#include <mutex>
#include <string>
#include <vector>

GST_DEBUG_CATEGORY_EXTERN (gst_llhls_sink_debug);
#define GST_CAT_DEFAULT gst_llhls_sink_debug

using namespace castline::llhls;

#define DEFAULT_LOCATION "segment%05d.m4s"
#define DEFAULT_INIT_LOCATION "init.mp4"
#define DEFAULT_PLAYLIST_LOCATION "playlist.m3u8"
#define DEFAULT_PLAYLIST_URI_PREFIX ""
#define DEFAULT_TARGET_DURATION 2
#define DEFAULT_PART_TARGET 0.3
#define DEFAULT_PLAYLIST_LENGTH 6
#define DEFAULT_MAX_FILES 10
#define DEFAULT_WRITE_PARTS TRUE
#define DEFAULT_SEND_KEYFRAME_REQUESTS TRUE
#define DEFAULT_PROGRAM_DATE_TIME TRUE
#define DEFAULT_SEGMENT_CUTS GST_LLHLS_SINK_SEGMENT_CUTS_AUTO

/* who decides where segments close */
enum GstLlHlsSinkSegmentCuts {
  GST_LLHLS_SINK_SEGMENT_CUTS_AUTO,
  GST_LLHLS_SINK_SEGMENT_CUTS_EXTERNAL,
};

static GType
gst_llhls_sink_segment_cuts_get_type (void)
{
  static GType type = 0;
  static const GEnumValue values[] = {
    {GST_LLHLS_SINK_SEGMENT_CUTS_AUTO, "At a keyframe near target-duration, and where "
          "split-at-running-time asks", "auto"},
    {GST_LLHLS_SINK_SEGMENT_CUTS_EXTERNAL, "Only where split-at-running-time asks (and at "
          "a caps change)", "external"},
    {0, nullptr, nullptr},
  };
  if (g_once_init_enter (&type))
    g_once_init_leave (&type, g_enum_register_static ("GstLlHlsSinkSegmentCuts", values));
  return type;
}

enum {
  PROP_0,
  PROP_LOCATION,
  PROP_INIT_LOCATION,
  PROP_PLAYLIST_LOCATION,
  PROP_PLAYLIST_URI_PREFIX,
  PROP_TARGET_DURATION,
  PROP_PART_TARGET,
  PROP_PLAYLIST_LENGTH,
  PROP_MAX_FILES,
  PROP_WRITE_PARTS,
  PROP_SEND_KEYFRAME_REQUESTS,
  PROP_PROGRAM_DATE_TIME,
  PROP_SEGMENT_CUTS,
};

enum {
  SIGNAL_INIT_READY,
  SIGNAL_PART_READY,
  SIGNAL_SEGMENT_READY,
  SIGNAL_PLAYLIST_READY,
  SIGNAL_DELETE_FRAGMENT,
  LAST_SIGNAL,
};
static guint signals[LAST_SIGNAL];

static GstStaticPadTemplate video_template = GST_STATIC_PAD_TEMPLATE ("video",
    GST_PAD_SINK, GST_PAD_REQUEST, GST_STATIC_CAPS ("video/x-h264"));

static GstStaticPadTemplate audio_template = GST_STATIC_PAD_TEMPLATE ("audio",
    GST_PAD_SINK, GST_PAD_REQUEST, GST_STATIC_CAPS ("audio/mpeg, mpegversion=(int){ 2, 4 }"));

/* The inner writer's pads, fed by the parsers through a capsfilter of
 * these caps. Their caps query answers these (a pad without a template
 * answers its current caps, which would pin every later caps upstream,
 * an encoder's new size too, to the first ones). */
static GstStaticPadTemplate writer_video_template = GST_STATIC_PAD_TEMPLATE ("video",
    GST_PAD_SINK, GST_PAD_REQUEST,
    GST_STATIC_CAPS ("video/x-h264, stream-format=(string)avc, alignment=(string)au"));

static GstStaticPadTemplate writer_audio_template = GST_STATIC_PAD_TEMPLATE ("audio",
    GST_PAD_SINK, GST_PAD_REQUEST,
    GST_STATIC_CAPS ("audio/mpeg, mpegversion=(int){ 2, 4 }, stream-format=(string)raw"));

struct LlHlsSinkSettings {
  std::string location = DEFAULT_LOCATION;
  std::string init_location = DEFAULT_INIT_LOCATION;
  std::string playlist_location = DEFAULT_PLAYLIST_LOCATION;
  std::string playlist_uri_prefix = DEFAULT_PLAYLIST_URI_PREFIX;
  guint target_duration = DEFAULT_TARGET_DURATION;
  gdouble part_target = DEFAULT_PART_TARGET;
  guint playlist_length = DEFAULT_PLAYLIST_LENGTH;
  guint max_files = DEFAULT_MAX_FILES;
  gboolean write_parts = DEFAULT_WRITE_PARTS;
  gboolean send_keyframe_requests = DEFAULT_SEND_KEYFRAME_REQUESTS;
  gboolean program_date_time = DEFAULT_PROGRAM_DATE_TIME;
  GstLlHlsSinkSegmentCuts segment_cuts = DEFAULT_SEGMENT_CUTS;
};

/* A pad of the inner writer: which track, and its segment (streaming
 * thread only, under the state lock). */
struct TrackPad {
  TrackInfo::Kind kind;
  GstPad *pad = nullptr;           /* owned by the inner element */
  GstSegment segment;
};

struct GstLlHlsSinkPrivate {
  LlHlsSinkSettings settings;      /* under the object lock */

  /* the writer element, a child of the bin; a reference of our own, as
   * request pads are released after the bin's children have gone */
  GstElement *inner = nullptr;

  std::mutex lock;                 /* guards the fields below */
  std::unique_ptr<LlHlsWriter> writer;   /* from READY->PAUSED to PAUSED->READY */
  std::vector<std::unique_ptr<TrackPad>> pads;

  /* taken before `lock` is released and held while the events of one cut
   * are emitted: the signals keep the order the cuts were made in */
  std::mutex emit_lock;

  /* split-at-running-time times not yet handed to the writer: the signal
   * comes on another streaming thread, which must not wait for `lock`
   * (held while a part is written) */
  std::mutex splits_lock;
  std::vector<GstClockTime> splits;
};

struct _GstLlHlsSink {
  GstBin parent;
  GstLlHlsSinkPrivate *priv;
};

#define gst_llhls_sink_parent_class parent_class
G_DEFINE_TYPE_WITH_CODE (GstLlHlsSink, gst_llhls_sink, GST_TYPE_BIN,
    GST_DEBUG_CATEGORY_INIT (gst_llhls_sink_debug, "llhlssink", 0, "Low-Latency HLS sink"));
GST_ELEMENT_REGISTER_DEFINE (llhlssink, "llhlssink", GST_RANK_NONE, GST_TYPE_LLHLS_SINK);

/* The inner element: the sink pads the parsers feed, a sink for the bin's
 * EOS accounting. Not registered: only llhlssink makes one. */
#define GST_TYPE_LLHLS_SINK_WRITER (gst_llhls_sink_writer_get_type ())
G_DECLARE_FINAL_TYPE (GstLlHlsSinkWriter, gst_llhls_sink_writer, GST, LLHLS_SINK_WRITER,
    GstElement)
struct _GstLlHlsSinkWriter {
  GstElement parent;
  GstLlHlsSink *sink;              /* the bin holding it: outlives it */
};
G_DEFINE_TYPE (GstLlHlsSinkWriter, gst_llhls_sink_writer, GST_TYPE_ELEMENT);

static void
gst_llhls_sink_writer_class_init (GstLlHlsSinkWriterClass * klass)
{
  gst_element_class_set_static_metadata (GST_ELEMENT_CLASS (klass), "llhlssink writer",
      "Sink", "The part of llhlssink that writes (internal)", "castline");
}

static void
gst_llhls_sink_writer_init (GstLlHlsSinkWriter * self)
{
  GST_OBJECT_FLAG_SET (self, GST_ELEMENT_FLAG_SINK);
}

static void gst_llhls_sink_finalize (GObject * object);
static void gst_llhls_sink_split_at_running_time (GstLlHlsSink * self, guint64 rt);
static void gst_llhls_sink_set_property (GObject * object, guint prop_id,
    const GValue * value, GParamSpec * pspec);
static void gst_llhls_sink_get_property (GObject * object, guint prop_id,
    GValue * value, GParamSpec * pspec);
static GstStateChangeReturn gst_llhls_sink_change_state (GstElement * element,
    GstStateChange transition);
static GstPad *gst_llhls_sink_request_new_pad (GstElement * element,
    GstPadTemplate * templ, const gchar * name, const GstCaps * caps);
static void gst_llhls_sink_release_pad (GstElement * element, GstPad * pad);
static GstFlowReturn writer_chain (GstPad * pad, GstObject * parent, GstBuffer * buffer);
static gboolean writer_event (GstPad * pad, GstObject * parent, GstEvent * event);

static void
gst_llhls_sink_class_init (GstLlHlsSinkClass * klass)
{
  auto *gobject_class = G_OBJECT_CLASS (klass);
  auto *element_class = GST_ELEMENT_CLASS (klass);
  /* read when the element starts (READY->PAUSED) */
  const auto flags = (GParamFlags) (G_PARAM_READWRITE | G_PARAM_STATIC_STRINGS
      | GST_PARAM_MUTABLE_READY);
  const auto live = (GParamFlags) (G_PARAM_READWRITE | G_PARAM_STATIC_STRINGS
      | GST_PARAM_MUTABLE_PLAYING);

  gobject_class->finalize = gst_llhls_sink_finalize;
  gobject_class->set_property = gst_llhls_sink_set_property;
  gobject_class->get_property = gst_llhls_sink_get_property;

  g_object_class_install_property (gobject_class, PROP_LOCATION,
      g_param_spec_string ("location", "Segment location",
          "Where segments are written: a pattern with one %d-style number, the media "
          "sequence number (segment%05d.m4s). Parts go next to them as "
          "<segment without .m4s>.<part>.m4s. Empty: no segment or part files",
          DEFAULT_LOCATION, flags));
  g_object_class_install_property (gobject_class, PROP_INIT_LOCATION,
      g_param_spec_string ("init-location", "Init segment location",
          "Where the init segment (ftyp+moov) is written; after a caps change the next one "
          "is init1.mp4, init2.mp4... Empty: not written", DEFAULT_INIT_LOCATION, flags));
  g_object_class_install_property (gobject_class, PROP_PLAYLIST_LOCATION,
      g_param_spec_string ("playlist-location", "Playlist location",
          "Where the media playlist is written after each part. Empty: not written",
          DEFAULT_PLAYLIST_LOCATION, flags));
  g_object_class_install_property (gobject_class, PROP_PLAYLIST_URI_PREFIX,
      g_param_spec_string ("playlist-uri-prefix", "Playlist URI prefix",
          "Put before every URI the playlists name (init, segments, parts)",
          DEFAULT_PLAYLIST_URI_PREFIX, flags));
  g_object_class_install_property (gobject_class, PROP_TARGET_DURATION,
      g_param_spec_uint ("target-duration", "Target duration",
          "Seconds a segment lasts at least: it closes at the first keyframe after it",
          1, 3600, DEFAULT_TARGET_DURATION, flags));
  g_object_class_install_property (gobject_class, PROP_PART_TARGET,
      g_param_spec_double ("part-target", "Part target",
          "Seconds a part lasts at most (EXT-X-PART-INF:PART-TARGET)",
          0.1, 2.0, DEFAULT_PART_TARGET, flags));
  g_object_class_install_property (gobject_class, PROP_PLAYLIST_LENGTH,
      g_param_spec_uint ("playlist-length", "Playlist length",
          "Complete segments the playlist names", 1, G_MAXUINT,
          DEFAULT_PLAYLIST_LENGTH, flags));
  g_object_class_install_property (gobject_class, PROP_MAX_FILES,
      g_param_spec_uint ("max-files", "Max files",
          "Segment files kept on disk (with their parts); older ones are deleted. "
          "0 keeps them all", 0, G_MAXUINT, DEFAULT_MAX_FILES, flags));
  g_object_class_install_property (gobject_class, PROP_WRITE_PARTS,
      g_param_spec_boolean ("write-parts", "Write parts",
          "Write each part to a file of its own too (a plain file server can then serve "
          "the playlist's parts)", DEFAULT_WRITE_PARTS, flags));
  g_object_class_install_property (gobject_class, PROP_SEND_KEYFRAME_REQUESTS,
      g_param_spec_boolean ("send-keyframe-requests", "Send keyframe requests",
          "Ask upstream for a keyframe where each segment reaches target-duration "
          "(may change while running)", DEFAULT_SEND_KEYFRAME_REQUESTS, live));
  g_object_class_install_property (gobject_class, PROP_PROGRAM_DATE_TIME,
      g_param_spec_boolean ("program-date-time", "Program date time",
          "An EXT-X-PROGRAM-DATE-TIME before every segment: the real time of its first "
          "sample on the pipeline clock", DEFAULT_PROGRAM_DATE_TIME, flags));
  g_object_class_install_property (gobject_class, PROP_SEGMENT_CUTS,
      g_param_spec_enum ("segment-cuts", "Segment cuts",
          "Where segments close: auto (at the first keyframe from target-duration on, or "
          "one a tenth early when the next would be a tenth late; and where "
          "split-at-running-time asks) or external (only where split-at-running-time asks, "
          "as splitmuxsink with max-size-time 0; no keyframe requests). Parts are still cut "
          "by part-target", gst_llhls_sink_segment_cuts_get_type (), DEFAULT_SEGMENT_CUTS,
          flags));

  /**
   * GstLlHlsSink::init-ready:
   * @init: the init segment (ftyp+moov)
   *
   * Once before the first part, and again when the caps change.
   */
  signals[SIGNAL_INIT_READY] = g_signal_new ("init-ready", G_TYPE_FROM_CLASS (klass),
      G_SIGNAL_RUN_LAST, 0, nullptr, nullptr, nullptr, G_TYPE_NONE, 1, G_TYPE_BYTES);
  /**
   * GstLlHlsSink::part-ready:
   * @msn: the segment's media sequence number (from 0)
   * @part: the part's number in its segment (from 0)
   * @data: the part (moof+mdat)
   * @independent: it starts with a keyframe
   * @duration: seconds
   * @uri: its URI in the playlist
   */
  signals[SIGNAL_PART_READY] = g_signal_new ("part-ready", G_TYPE_FROM_CLASS (klass),
      G_SIGNAL_RUN_LAST, 0, nullptr, nullptr, nullptr, G_TYPE_NONE, 6, G_TYPE_UINT64,
      G_TYPE_UINT, G_TYPE_BYTES, G_TYPE_BOOLEAN, G_TYPE_DOUBLE, G_TYPE_STRING);
  /**
   * GstLlHlsSink::segment-ready:
   * @msn: the segment's media sequence number
   * @duration: seconds (its parts' sum)
   * @uri: its URI in the playlist
   *
   * The segment is complete; its parts all came before.
   */
  signals[SIGNAL_SEGMENT_READY] = g_signal_new ("segment-ready", G_TYPE_FROM_CLASS (klass),
      G_SIGNAL_RUN_LAST, 0, nullptr, nullptr, nullptr, G_TYPE_NONE, 3, G_TYPE_UINT64,
      G_TYPE_DOUBLE, G_TYPE_STRING);
  /**
   * GstLlHlsSink::playlist-ready:
   * @playlist: the media playlist
   * @delta_playlist: the delta playlist (_HLS_skip=YES), NULL while nothing can be skipped
   * @msn: the segment of the part just announced
   * @part: that part
   * @ended: the stream ended: the last playlist, with EXT-X-ENDLIST
   */
  signals[SIGNAL_PLAYLIST_READY] = g_signal_new ("playlist-ready", G_TYPE_FROM_CLASS (klass),
      G_SIGNAL_RUN_LAST, 0, nullptr, nullptr, nullptr, G_TYPE_NONE, 5, G_TYPE_STRING,
      G_TYPE_STRING, G_TYPE_UINT64, G_TYPE_UINT, G_TYPE_BOOLEAN);
  /**
   * GstLlHlsSink::delete-fragment:
   * @uri: the segment's URI
   * @msn: its media sequence number
   *
   * The segment (and its parts) left the playlist.
   */
  /**
   * GstLlHlsSink::split-at-running-time:
   * @rt: a running time
   *
   * Action signal, as splitmuxsink's: the open segment closes before the
   * first keyframe whose presentation running time is at or after @rt (a
   * time at or before the segment's start, or before a time already
   * asked for, is ignored). May be emitted from any thread. With
   * segment-cuts=external these are the only cuts, so sinks told the same
   * times cut at the same keyframes.
   *
   * |[
   * g_signal_emit_by_name (sink, "split-at-running-time", (guint64) rt);
   * ]|
   */
  g_signal_new_class_handler ("split-at-running-time", G_TYPE_FROM_CLASS (klass),
      (GSignalFlags) (G_SIGNAL_RUN_LAST | G_SIGNAL_ACTION),
      G_CALLBACK (gst_llhls_sink_split_at_running_time), nullptr, nullptr, nullptr,
      G_TYPE_NONE, 1, G_TYPE_UINT64);

  signals[SIGNAL_DELETE_FRAGMENT] = g_signal_new ("delete-fragment", G_TYPE_FROM_CLASS (klass),
      G_SIGNAL_RUN_LAST, 0, nullptr, nullptr, nullptr, G_TYPE_NONE, 2, G_TYPE_STRING,
      G_TYPE_UINT64);

  gst_element_class_add_static_pad_template (element_class, &video_template);
  gst_element_class_add_static_pad_template (element_class, &audio_template);
  gst_element_class_set_static_metadata (element_class, "Low-Latency HLS sink",
      "Sink/Muxer",
      "Writes Low-Latency HLS: CMAF (fMP4) init segment, segments and parts, and the "
      "playlist with parts, preload hints, blocking reload and delta updates",
      "castline");

  element_class->change_state = GST_DEBUG_FUNCPTR (gst_llhls_sink_change_state);
  element_class->request_new_pad = GST_DEBUG_FUNCPTR (gst_llhls_sink_request_new_pad);
  element_class->release_pad = GST_DEBUG_FUNCPTR (gst_llhls_sink_release_pad);
}

static void
gst_llhls_sink_init (GstLlHlsSink * self)
{
  self->priv = new GstLlHlsSinkPrivate ();
  auto *inner = GST_LLHLS_SINK_WRITER (g_object_new (GST_TYPE_LLHLS_SINK_WRITER,
          "name", "writer", nullptr));
  inner->sink = self;
  self->priv->inner = GST_ELEMENT (gst_object_ref_sink (inner));
  gst_bin_add (GST_BIN (self), self->priv->inner);
  GST_OBJECT_FLAG_SET (self, GST_ELEMENT_FLAG_SINK);
}

static void
gst_llhls_sink_finalize (GObject * object)
{
  auto *priv = GST_LLHLS_SINK (object)->priv;
  gst_object_unref (priv->inner);
  delete priv;
  G_OBJECT_CLASS (parent_class)->finalize (object);
}

static void
set_string (std::string & field, const GValue * value)
{
  const gchar *s = g_value_get_string (value);
  field = s ? s : "";
}

static void
gst_llhls_sink_set_property (GObject * object, guint prop_id, const GValue * value,
    GParamSpec * pspec)
{
  auto *self = GST_LLHLS_SINK (object);
  auto & s = self->priv->settings;
  GST_OBJECT_LOCK (self);
  switch (prop_id) {
    case PROP_LOCATION: set_string (s.location, value); break;
    case PROP_INIT_LOCATION: set_string (s.init_location, value); break;
    case PROP_PLAYLIST_LOCATION: set_string (s.playlist_location, value); break;
    case PROP_PLAYLIST_URI_PREFIX: set_string (s.playlist_uri_prefix, value); break;
    case PROP_TARGET_DURATION: s.target_duration = g_value_get_uint (value); break;
    case PROP_PART_TARGET: s.part_target = g_value_get_double (value); break;
    case PROP_PLAYLIST_LENGTH: s.playlist_length = g_value_get_uint (value); break;
    case PROP_MAX_FILES: s.max_files = g_value_get_uint (value); break;
    case PROP_WRITE_PARTS: s.write_parts = g_value_get_boolean (value); break;
    case PROP_SEND_KEYFRAME_REQUESTS: s.send_keyframe_requests = g_value_get_boolean (value); break;
    case PROP_PROGRAM_DATE_TIME: s.program_date_time = g_value_get_boolean (value); break;
    case PROP_SEGMENT_CUTS:
      s.segment_cuts = (GstLlHlsSinkSegmentCuts) g_value_get_enum (value);
      break;
    default: G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec); break;
  }
  GST_OBJECT_UNLOCK (self);
}

static void
gst_llhls_sink_get_property (GObject * object, guint prop_id, GValue * value,
    GParamSpec * pspec)
{
  auto *self = GST_LLHLS_SINK (object);
  const auto & s = self->priv->settings;
  GST_OBJECT_LOCK (self);
  switch (prop_id) {
    case PROP_LOCATION: g_value_set_string (value, s.location.c_str ()); break;
    case PROP_INIT_LOCATION: g_value_set_string (value, s.init_location.c_str ()); break;
    case PROP_PLAYLIST_LOCATION: g_value_set_string (value, s.playlist_location.c_str ()); break;
    case PROP_PLAYLIST_URI_PREFIX: g_value_set_string (value, s.playlist_uri_prefix.c_str ()); break;
    case PROP_TARGET_DURATION: g_value_set_uint (value, s.target_duration); break;
    case PROP_PART_TARGET: g_value_set_double (value, s.part_target); break;
    case PROP_PLAYLIST_LENGTH: g_value_set_uint (value, s.playlist_length); break;
    case PROP_MAX_FILES: g_value_set_uint (value, s.max_files); break;
    case PROP_WRITE_PARTS: g_value_set_boolean (value, s.write_parts); break;
    case PROP_SEND_KEYFRAME_REQUESTS: g_value_set_boolean (value, s.send_keyframe_requests); break;
    case PROP_PROGRAM_DATE_TIME: g_value_set_boolean (value, s.program_date_time); break;
    case PROP_SEGMENT_CUTS: g_value_set_enum (value, s.segment_cuts); break;
    default: G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec); break;
  }
  GST_OBJECT_UNLOCK (self);
}

static WriterSettings
writer_settings (GstLlHlsSink * self)
{
  WriterSettings w;
  GST_OBJECT_LOCK (self);
  const auto & s = self->priv->settings;
  w.location = s.location;
  w.init_location = s.init_location;
  w.playlist_location = s.playlist_location;
  w.uri_prefix = s.playlist_uri_prefix;
  w.write_parts = s.write_parts;
  w.target_duration = s.target_duration * GST_SECOND;
  w.part_target = (GstClockTime) (s.part_target * GST_SECOND + 0.5);
  w.playlist_length = s.playlist_length;
  w.max_files = s.max_files;
  w.external_cuts = s.segment_cuts == GST_LLHLS_SINK_SEGMENT_CUTS_EXTERNAL;
  GST_OBJECT_UNLOCK (self);
  return w;
}

static GstStateChangeReturn
gst_llhls_sink_change_state (GstElement * element, GstStateChange transition)
{
  auto *self = GST_LLHLS_SINK (element);
  auto *priv = self->priv;

  if (transition == GST_STATE_CHANGE_READY_TO_PAUSED) {
    auto writer = std::make_unique<LlHlsWriter> (writer_settings (self));
    std::string err = writer->check_settings ();
    if (!err.empty ()) {
      GST_ELEMENT_ERROR (self, RESOURCE, SETTINGS, ("Bad llhlssink settings"), ("%s",
              err.c_str ()));
      return GST_STATE_CHANGE_FAILURE;
    }
    std::lock_guard<std::mutex> lk (priv->lock);
    for (const auto & p : priv->pads) {
      writer->add_track (p->kind);
      gst_segment_init (&p->segment, GST_FORMAT_TIME);
    }
    priv->writer = std::move (writer);
  } else if (transition == GST_STATE_CHANGE_PAUSED_TO_PLAYING) {
    GST_OBJECT_LOCK (self);
    gboolean dates = priv->settings.program_date_time;
    GST_OBJECT_UNLOCK (self);
    auto offset = castline::common::running_time_to_unix_offset (element);
    std::lock_guard<std::mutex> lk (priv->lock);
    if (dates && offset && priv->writer)
      priv->writer->set_date_offset (*offset);
  }

  GstStateChangeReturn ret = GST_ELEMENT_CLASS (parent_class)->change_state (element, transition);

  if (transition == GST_STATE_CHANGE_PAUSED_TO_READY) {
    /* the pads are inactive now; events being emitted own their data */
    std::lock_guard<std::mutex> lk (priv->lock);
    priv->writer.reset ();
    std::lock_guard<std::mutex> slk (priv->splits_lock);
    priv->splits.clear ();   /* running times of the run that ended */
  }
  return ret;
}

static GstPad *
gst_llhls_sink_request_new_pad (GstElement * element, GstPadTemplate * templ,
    const gchar * name, const GstCaps * caps)
{
  (void) name;
  (void) caps;
  auto *self = GST_LLHLS_SINK (element);
  auto *priv = self->priv;
  bool video = templ == gst_element_class_get_pad_template (GST_ELEMENT_GET_CLASS (element),
      "video");
  const gchar *pad_name = video ? "video" : "audio";
  TrackInfo::Kind kind = video ? TrackInfo::Kind::kVideo : TrackInfo::Kind::kAudio;

  {
    std::lock_guard<std::mutex> lk (priv->lock);
    for (const auto & p : priv->pads)
      if (p->kind == kind) {
        GST_WARNING_OBJECT (self, "llhlssink takes one %s pad", pad_name);
        return nullptr;
      }
  }

  GstElement *parser = gst_element_factory_make (video ? "h264parse" : "aacparse", nullptr);
  GstElement *filter = gst_element_factory_make ("capsfilter", nullptr);
  if (!parser || !filter) {
    if (parser)
      gst_object_unref (gst_object_ref_sink (parser));
    if (filter)
      gst_object_unref (gst_object_ref_sink (filter));
    GST_ELEMENT_ERROR (self, CORE, MISSING_PLUGIN, ("%s is missing",
            video ? "h264parse" : "aacparse"), ("llhlssink needs gst-plugins-bad (h264parse) "
            "and gst-plugins-good (aacparse)"));
    return nullptr;
  }
  GstStaticPadTemplate *writer_template = video ? &writer_video_template : &writer_audio_template;
  g_autoptr (GstCaps) filter_caps = gst_static_pad_template_get_caps (writer_template);
  g_object_set (filter, "caps", filter_caps, nullptr);
  gst_bin_add_many (GST_BIN (self), parser, filter, nullptr);

  auto track = std::make_unique<TrackPad> ();
  track->kind = kind;
  gst_segment_init (&track->segment, GST_FORMAT_TIME);
  GstPad *pad = gst_pad_new_from_static_template (writer_template, pad_name);
  track->pad = pad;
  gst_pad_set_element_private (pad, track.get ());
  gst_pad_set_chain_function (pad, GST_DEBUG_FUNCPTR (writer_chain));
  gst_pad_set_event_function (pad, GST_DEBUG_FUNCPTR (writer_event));
  {
    std::lock_guard<std::mutex> lk (priv->lock);
    if (priv->writer)
      priv->writer->add_track (kind);
    priv->pads.push_back (std::move (track));
  }
  if (GST_STATE (priv->inner) > GST_STATE_READY)
    gst_pad_set_active (pad, TRUE);
  gst_element_add_pad (priv->inner, pad);

  gst_element_link (parser, filter);
  {
    /* this pad, not whichever of the writer's pads link would pick */
    g_autoptr (GstPad) filter_src = gst_element_get_static_pad (filter, "src");
    gst_pad_link (filter_src, pad);
  }
  gst_element_sync_state_with_parent (filter);
  gst_element_sync_state_with_parent (parser);

  g_autoptr (GstPad) target = gst_element_get_static_pad (parser, "sink");
  GstPad *ghost = gst_ghost_pad_new_from_template (pad_name, target, templ);
  gst_pad_set_active (ghost, TRUE);
  gst_element_add_pad (element, ghost);
  return ghost;
}

/* ---- the streaming side: the inner element's pads ---- */

static void
gst_llhls_sink_split_at_running_time (GstLlHlsSink * self, guint64 rt)
{
  auto *priv = self->priv;
  GST_DEBUG_OBJECT (self, "split at %" GST_TIME_FORMAT, GST_TIME_ARGS (rt));
  std::lock_guard<std::mutex> lk (priv->splits_lock);
  /* bounded while nothing streams: the writer keeps as many at most */
  if (priv->splits.size () >= PartCutter::kMaxSplits)
    priv->splits.erase (priv->splits.begin ());
  priv->splits.push_back (rt);
}

static void
emit_events (GstLlHlsSink * self, GstPad * video, std::vector<WriterEvent> & events)
{
  auto *priv = self->priv;
  for (auto & e : events) {
    switch (e.kind) {
      case WriterEvent::Kind::kInit:
        g_signal_emit (self, signals[SIGNAL_INIT_READY], 0, e.bytes.get ());
        break;
      case WriterEvent::Kind::kPart:
        g_signal_emit (self, signals[SIGNAL_PART_READY], 0, e.msn, e.part, e.bytes.get (),
            (gboolean) e.flag, (gdouble) e.duration / GST_SECOND, e.text.c_str ());
        break;
      case WriterEvent::Kind::kSegment:
        g_signal_emit (self, signals[SIGNAL_SEGMENT_READY], 0, e.msn,
            (gdouble) e.duration / GST_SECOND, e.text.c_str ());
        break;
      case WriterEvent::Kind::kPlaylist:
        g_signal_emit (self, signals[SIGNAL_PLAYLIST_READY], 0, e.text.c_str (),
            e.has_delta ? e.delta.c_str () : nullptr, e.msn, e.part, (gboolean) e.flag);
        break;
      case WriterEvent::Kind::kDelete:
        g_signal_emit (self, signals[SIGNAL_DELETE_FRAGMENT], 0, e.text.c_str (), e.msn);
        break;
      case WriterEvent::Kind::kFragmentOpened:
      case WriterEvent::Kind::kFragmentClosed: {
        bool opened = e.kind == WriterEvent::Kind::kFragmentOpened;
        GstStructure *s = gst_structure_new (opened ? "splitmuxsink-fragment-opened"
            : "splitmuxsink-fragment-closed", "location", G_TYPE_STRING, e.text.c_str (),
            "running-time", G_TYPE_UINT64, (guint64) e.running_time, nullptr);
        gst_element_post_message (priv->inner,
            gst_message_new_element (GST_OBJECT (priv->inner), s));
        break;
      }
      case WriterEvent::Kind::kKeyframeRequest: {
        GST_OBJECT_LOCK (self);
        gboolean send = priv->settings.send_keyframe_requests;
        GST_OBJECT_UNLOCK (self);
        if (!send || !video)
          break;
        /* what gst_video_event_new_upstream_force_key_unit makes */
        GstEvent *ev = gst_event_new_custom (GST_EVENT_CUSTOM_UPSTREAM,
            gst_structure_new ("GstForceKeyUnit", "running-time", G_TYPE_UINT64,
                (guint64) e.running_time, "all-headers", G_TYPE_BOOLEAN, TRUE,
                "count", G_TYPE_UINT, e.part, nullptr));
        GST_DEBUG_OBJECT (self, "asking for a keyframe at %" GST_TIME_FORMAT,
            GST_TIME_ARGS (e.running_time));
        gst_pad_push_event (video, ev);
        break;
      }
      case WriterEvent::Kind::kWarning:
        GST_ELEMENT_WARNING (self, STREAM, DEMUX, ("%s", e.text.c_str ()), (nullptr));
        break;
    }
  }
}

enum class Outcome { kOk, kError, kStopped };

/* Runs `work` under the lock, then emits its events in order with the
 * lock released (the emit lock keeps cuts of the two threads in order);
 * reports an error to the application. */
template <typename Work>
static Outcome
run_and_emit (GstLlHlsSink * self, Work work, GstElement * post_eos_from = nullptr)
{
  auto *priv = self->priv;
  std::vector<WriterEvent> events;
  std::string err;
  bool done = false;
  /* a reference: the video pad may be released while this thread emits */
  g_autoptr (GstPad) video = nullptr;
  std::unique_lock<std::mutex> lk (priv->lock);
  if (!priv->writer)
    return Outcome::kStopped;   /* not started, or stopping */
  {
    std::lock_guard<std::mutex> slk (priv->splits_lock);
    for (GstClockTime rt : priv->splits)
      priv->writer->split_at (rt);
    priv->splits.clear ();
  }
  err = work (*priv->writer, events, done);
  for (const auto & p : priv->pads)
    if (p->kind == TrackInfo::Kind::kVideo)
      video = GST_PAD (gst_object_ref (p->pad));
  std::unique_lock<std::mutex> emit (priv->emit_lock);
  lk.unlock ();
  emit_events (self, video, events);
  emit.unlock ();
  if (!err.empty ()) {
    GST_ELEMENT_ERROR (self, STREAM, FAILED, ("llhlssink cannot write this stream"), ("%s",
            err.c_str ()));
    return Outcome::kError;
  }
  if (done && post_eos_from)
    gst_element_post_message (post_eos_from, gst_message_new_eos (GST_OBJECT (post_eos_from)));
  return Outcome::kOk;
}

static GstClockTime
running_time (const GstSegment * segment, GstClockTime t)
{
  if (!GST_CLOCK_TIME_IS_VALID (t))
    return GST_CLOCK_TIME_NONE;
  guint64 rt = 0;
  /* before the segment's start (a decode time ahead of its presentation):
   * counted as 0, the collector keeps decode times in order */
  if (gst_segment_to_running_time_full (segment, GST_FORMAT_TIME, t, &rt) < 0)
    return 0;
  return rt;
}

static GstFlowReturn
writer_chain (GstPad * pad, GstObject * parent, GstBuffer * buffer)
{
  auto *self = GST_LLHLS_SINK_WRITER (parent)->sink;
  auto *track = static_cast<TrackPad *> (gst_pad_get_element_private (pad));
  Outcome out = run_and_emit (self, [&] (LlHlsWriter & w, std::vector<WriterEvent> & ev, bool &) {
        return w.push (track->kind, buffer, running_time (&track->segment, GST_BUFFER_DTS (buffer)),
            running_time (&track->segment, GST_BUFFER_PTS (buffer)), ev);
      });
  gst_buffer_unref (buffer);
  switch (out) {
    case Outcome::kOk: return GST_FLOW_OK;
    case Outcome::kStopped: return GST_FLOW_FLUSHING;
    default: return GST_FLOW_ERROR;
  }
}

static gboolean
writer_event (GstPad * pad, GstObject * parent, GstEvent * event)
{
  auto *inner = GST_LLHLS_SINK_WRITER (parent);
  auto *self = inner->sink;
  auto *track = static_cast<TrackPad *> (gst_pad_get_element_private (pad));
  bool ok = true;
  switch (GST_EVENT_TYPE (event)) {
    case GST_EVENT_CAPS: {
      GstCaps *caps = nullptr;
      gst_event_parse_caps (event, &caps);
      ok = run_and_emit (self, [&] (LlHlsWriter & w, std::vector<WriterEvent> & ev, bool &) {
            return w.set_caps (track->kind, caps, ev);
          }) != Outcome::kError;
      break;
    }
    case GST_EVENT_SEGMENT: {
      const GstSegment *segment = nullptr;
      gst_event_parse_segment (event, &segment);
      if (segment->format != GST_FORMAT_TIME) {
        GST_ELEMENT_ERROR (self, STREAM, FORMAT, ("llhlssink needs time segments"),
            ("got a %s segment", gst_format_get_name (segment->format)));
        ok = false;
        break;
      }
      std::lock_guard<std::mutex> lk (self->priv->lock);
      gst_segment_copy_into (segment, &track->segment);
      break;
    }
    case GST_EVENT_EOS:
      ok = run_and_emit (self, [&] (LlHlsWriter & w, std::vector<WriterEvent> & ev, bool & done) {
            return w.eos (track->kind, ev, &done);
          }, GST_ELEMENT (inner)) != Outcome::kError;
      break;
    case GST_EVENT_FLUSH_STOP: {
      std::lock_guard<std::mutex> lk (self->priv->lock);
      gst_segment_init (&track->segment, GST_FORMAT_TIME);
      break;
    }
    default:
      break;
  }
  gst_event_unref (event);
  return ok;
}

/* A pad given back: its track ends (as at EOS: the other one goes on),
 * its parser and the inner pad go. */
static void
gst_llhls_sink_release_pad (GstElement * element, GstPad * pad)
{
  auto *self = GST_LLHLS_SINK (element);
  auto *priv = self->priv;
  g_autoptr (GstPad) target = gst_ghost_pad_get_target (GST_GHOST_PAD (pad));
  g_autoptr (GstElement) parser = target ? gst_pad_get_parent_element (target) : nullptr;
  g_autoptr (GstPad) inner_pad = gst_element_get_static_pad (priv->inner, GST_PAD_NAME (pad));
  g_autoptr (GstPad) filter_src = inner_pad ? gst_pad_get_peer (inner_pad) : nullptr;
  g_autoptr (GstElement) filter = filter_src ? gst_pad_get_parent_element (filter_src) : nullptr;

  if (inner_pad) {
    /* waits for its streaming thread to leave the chain function */
    gst_pad_set_active (inner_pad, FALSE);
    auto *track = static_cast<TrackPad *> (gst_pad_get_element_private (inner_pad));
    run_and_emit (self, [&] (LlHlsWriter & w, std::vector<WriterEvent> & ev, bool & done) {
          return w.eos (track->kind, ev, &done);
        }, priv->inner);
    gst_element_remove_pad (priv->inner, inner_pad);
    std::lock_guard<std::mutex> lk (priv->lock);
    for (auto it = priv->pads.begin (); it != priv->pads.end (); ++it)
      if (it->get () == track) {
        priv->pads.erase (it);
        break;
      }
  }
  for (GstElement *e : {parser, filter}) {
    if (!e)
      continue;
    gst_element_set_locked_state (e, TRUE);
    gst_element_set_state (e, GST_STATE_NULL);
    if (GST_OBJECT_PARENT (e) == GST_OBJECT (self))
      gst_bin_remove (GST_BIN (self), e);
  }
  gst_element_remove_pad (element, pad);
}
