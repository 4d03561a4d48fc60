/**
 * SECTION:element-s3hlssink
 * @title: s3hlssink
 *
 * s3hlssink writes live HLS straight into an S3-compatible bucket (AWS S3,
 * MinIO, Cloudflare R2, Supabase Storage, s3rver...). It wraps hlssink2 and
 * takes over its storage: each MPEG-TS segment is uploaded as soon as it is
 * closed, the playlist is uploaded only once every segment it names is in
 * the bucket (so a viewer never sees a name it cannot fetch), an older
 * playlist never overwrites a newer one, and expired segments are deleted
 * from the bucket once no uploaded playlist names them.
 *
 * Uploads run on a thread of their own, several segments at once
 * (max-parallel-uploads); the streaming thread never waits for the network.
 * When S3 is down or slow, finished segments wait in a spool (memory up to
 * spool-memory-limit, then files in spool-directory) and go up in order
 * when S3 answers again (a probe asks every second during an outage, so
 * uploads left on connections that died with it start over at once): the
 * element posts a warning when the outage starts, an element message
 * `s3hlssink-recovered` when it ends, and an
 * error only when the spool reaches spool-limit. Wrong credentials, a
 * missing bucket or an unreachable endpoint are reported as errors naming
 * the cause, at start when check-bucket is TRUE.
 *
 * On EOS the final playlist (with #EXT-X-ENDLIST) is uploaded and every
 * pending upload is flushed, for at most flush-timeout milliseconds, before
 * the element lets EOS through.
 *
 * Objects are named key-prefix + location (segments) and key-prefix +
 * playlist-location. Playlists are sent with Content-Type
 * application/vnd.apple.mpegurl and playlist-cache-control, segments with
 * video/mp2t and segment-cache-control. Credentials come from the
 * properties, else from the usual AWS_* environment variables; the secret
 * key and the session token are write-only and never logged.
 *
 * With program-date-time, every playlist gets an #EXT-X-PROGRAM-DATE-TIME
 * before each segment: the wall-clock time its first frame was captured
 * (its start running time on the pipeline clock, mapped to the system's
 * real time when the element went to PLAYING), which hlssink2 does not
 * write; players show and measure latency with it.
 *
 * The `stats` property (and gst-launch-1.0 -m, through the warnings and
 * messages) shows how the uploads are doing.
 *
 * ## Example launch line
 * |[
 * gst-launch-1.0 -e videotestsrc is-live=true ! x264enc tune=zerolatency key-int-max=30 ! h264parse ! \
 *     s3hlssink name=s bucket=live key-prefix=demo/ endpoint=http://127.0.0.1:4569 \
 *     access-key=S3RVER secret-key=S3RVER target-duration=2 \
 *     audiotestsrc is-live=true ! audioconvert ! avenc_aac ! aacparse ! s.audio
 * ]| uploads a live test stream to the bucket "live" of a local S3 server
 * (s3rver); play it from http://127.0.0.1:4569/live/demo/playlist.m3u8.
 */
#include "s3/gsts3hlssink.h"

#include "castlineelements.h"
#include "common/playlistdates.h"
#include "s3/hlsuploader.h"
#include "s3/s3outputstream.h"
#include "s3/s3properties.h"

#include <algorithm>
#include <memory>
#include <mutex>
#include <optional>

GST_DEBUG_CATEGORY_STATIC (gst_s3_hls_sink_debug);
#define GST_CAT_DEFAULT gst_s3_hls_sink_debug

using namespace castline::s3;
using castline::common::PlaylistDates;

#define DEFAULT_KEY_PREFIX ""
#define DEFAULT_LOCATION "segment%05d.ts"
#define DEFAULT_PLAYLIST_LOCATION "playlist.m3u8"
#define DEFAULT_TARGET_DURATION 2
#define DEFAULT_PLAYLIST_LENGTH 5
#define DEFAULT_MAX_FILES 10
#define DEFAULT_SEND_KEYFRAME_REQUESTS TRUE
#define DEFAULT_PLAYLIST_CACHE_CONTROL "max-age=1"
#define DEFAULT_SEGMENT_CACHE_CONTROL "max-age=31536000, immutable"
#define DEFAULT_MAX_PARALLEL_UPLOADS 4
#define DEFAULT_SPOOL_MEMORY_LIMIT (64 * 1024 * 1024)
#define DEFAULT_SPOOL_LIMIT (G_GUINT64_CONSTANT (1024) * 1024 * 1024)
#define DEFAULT_FLUSH_TIMEOUT 30000
#define DEFAULT_CHECK_BUCKET TRUE
#define DEFAULT_PROGRAM_DATE_TIME FALSE

enum {
  PROP_0,
  /* 1 .. CASTLINE_S3_PROP_LAST - 1: the S3 connection properties every
   * castline S3 element shares (s3properties.h) */
  PROP_KEY_PREFIX = CASTLINE_S3_PROP_LAST,
  PROP_LOCATION,
  PROP_PLAYLIST_LOCATION,
  PROP_PLAYLIST_ROOT,
  PROP_TARGET_DURATION,
  PROP_PLAYLIST_LENGTH,
  PROP_MAX_FILES,
  PROP_SEND_KEYFRAME_REQUESTS,
  PROP_PLAYLIST_CACHE_CONTROL,
  PROP_SEGMENT_CACHE_CONTROL,
  PROP_MAX_PARALLEL_UPLOADS,
  PROP_SPOOL_MEMORY_LIMIT,
  PROP_SPOOL_LIMIT,
  PROP_SPOOL_DIRECTORY,
  PROP_FLUSH_TIMEOUT,
  PROP_CHECK_BUCKET,
  PROP_PROGRAM_DATE_TIME,
  PROP_STATS,
};

static GstStaticPadTemplate video_template = GST_STATIC_PAD_TEMPLATE ("video",
    GST_PAD_SINK, GST_PAD_REQUEST,
    GST_STATIC_CAPS ("video/x-h264, stream-format=(string)byte-stream, alignment=(string)au; "
        "video/x-h265, stream-format=(string)byte-stream, alignment=(string)au"));

static GstStaticPadTemplate audio_template = GST_STATIC_PAD_TEMPLATE ("audio",
    GST_PAD_SINK, GST_PAD_REQUEST,
    GST_STATIC_CAPS ("audio/mpeg; audio/x-ac3; audio/x-eac3; audio/x-opus"));

struct S3HlsSinkSettings {
  S3Config s3;
  std::string key_prefix = DEFAULT_KEY_PREFIX;
  std::string location = DEFAULT_LOCATION;
  std::string playlist_location = DEFAULT_PLAYLIST_LOCATION;
  std::string playlist_root;
  guint target_duration = DEFAULT_TARGET_DURATION;
  guint playlist_length = DEFAULT_PLAYLIST_LENGTH;
  guint max_files = DEFAULT_MAX_FILES;
  gboolean send_keyframe_requests = DEFAULT_SEND_KEYFRAME_REQUESTS;
  std::string playlist_cache_control = DEFAULT_PLAYLIST_CACHE_CONTROL;
  std::string segment_cache_control = DEFAULT_SEGMENT_CACHE_CONTROL;
  guint max_parallel_uploads = DEFAULT_MAX_PARALLEL_UPLOADS;
  guint64 spool_memory_limit = DEFAULT_SPOOL_MEMORY_LIMIT;
  guint64 spool_limit = DEFAULT_SPOOL_LIMIT;
  std::string spool_directory;
  guint flush_timeout_ms = DEFAULT_FLUSH_TIMEOUT;
  gboolean check_bucket = DEFAULT_CHECK_BUCKET;
  gboolean program_date_time = DEFAULT_PROGRAM_DATE_TIME;
};

/* a reference on a GstObject, dropped with its holder */
struct GstObjectUnref {
  void operator() (gpointer object) const { gst_object_unref (object); }
};

struct GstS3HlsSinkPrivate {
  /* the inner hlssink2, a child of the bin; set in init (nullptr when
   * gst-plugins-bad's hls plugin is missing), then only read */
  std::unique_ptr<GstElement, GstObjectUnref> hlssink;

  S3HlsSinkSettings settings;                /* under the object lock */

  std::mutex lock;                           /* guards the fields below */
  std::shared_ptr<HlsUploader> uploader;
  GstMessage *held_eos = nullptr;            /* EOS waiting for the flush */
  guint64 epoch = 0;                         /* bumps when a run ends */
  /* with program-date-time: segment starts from the bus (handle_message),
   * read when a playlist is written (streaming threads) */
  std::shared_ptr<PlaylistDates> dates;
};

struct _GstS3HlsSink {
  GstBin parent;
  GstS3HlsSinkPrivate *priv;
};

#define gst_s3_hls_sink_parent_class parent_class
G_DEFINE_TYPE_WITH_CODE (GstS3HlsSink, gst_s3_hls_sink, GST_TYPE_BIN,
    GST_DEBUG_CATEGORY_INIT (gst_s3_hls_sink_debug, "s3hlssink", 0,
        "HLS into S3-compatible storage"));
GST_ELEMENT_REGISTER_DEFINE (s3hlssink, "s3hlssink", GST_RANK_NONE, GST_TYPE_S3_HLS_SINK);

static void gst_s3_hls_sink_finalize (GObject * object);
static void gst_s3_hls_sink_set_property (GObject * object, guint prop_id,
    const GValue * value, GParamSpec * pspec);
static void gst_s3_hls_sink_get_property (GObject * object, guint prop_id,
    GValue * value, GParamSpec * pspec);
static GstStateChangeReturn gst_s3_hls_sink_change_state (GstElement * element,
    GstStateChange transition);
static GstPad *gst_s3_hls_sink_request_new_pad (GstElement * element,
    GstPadTemplate * templ, const gchar * name, const GstCaps * caps);
static void gst_s3_hls_sink_release_pad (GstElement * element, GstPad * pad);
static void gst_s3_hls_sink_handle_message (GstBin * bin, GstMessage * message);

static GOutputStream *on_get_fragment_stream (GstElement * hlssink,
    const gchar * location, gpointer user_data);
static GOutputStream *on_get_playlist_stream (GstElement * hlssink,
    const gchar * location, gpointer user_data);
static void on_delete_fragment (GstElement * hlssink, const gchar * location,
    gpointer user_data);
static void note_segment_start (GstS3HlsSink * self, GstMessage * message);
static bool start_uploader (GstS3HlsSink * self);
static void stop_uploader (GstS3HlsSink * self);
static GstStructure *make_stats (GstS3HlsSink * self);

static void
gst_s3_hls_sink_class_init (GstS3HlsSinkClass * klass)
{
  auto *gobject_class = G_OBJECT_CLASS (klass);
  auto *element_class = GST_ELEMENT_CLASS (klass);
  auto *bin_class = GST_BIN_CLASS (klass);

  gobject_class->set_property = gst_s3_hls_sink_set_property;
  gobject_class->get_property = gst_s3_hls_sink_get_property;
  gobject_class->finalize = gst_s3_hls_sink_finalize;

  castline_s3_install_properties (gobject_class);

  const auto rw = (GParamFlags) (G_PARAM_READWRITE | G_PARAM_STATIC_STRINGS
      | GST_PARAM_MUTABLE_READY);
  g_object_class_install_property (gobject_class, PROP_KEY_PREFIX,
      g_param_spec_string ("key-prefix", "Key prefix",
          "Prepended to every object key, e.g. \"live/stream1/\" (no leading '/', "
          "no '.', '..' or empty path segments)", DEFAULT_KEY_PREFIX, rw));
  g_object_class_install_property (gobject_class, PROP_LOCATION,
      g_param_spec_string ("location", "Segment name",
          "Segment object name after key-prefix, with one %d-style directive "
          "for the index", DEFAULT_LOCATION, rw));
  g_object_class_install_property (gobject_class, PROP_PLAYLIST_LOCATION,
      g_param_spec_string ("playlist-location", "Playlist name",
          "Playlist object name after key-prefix", DEFAULT_PLAYLIST_LOCATION, rw));
  g_object_class_install_property (gobject_class, PROP_PLAYLIST_ROOT,
      g_param_spec_string ("playlist-root", "Playlist root",
          "Base URL written before each segment name in the playlist (for "
          "segments served from a CDN); default: names relative to the playlist",
          nullptr, rw));
  g_object_class_install_property (gobject_class, PROP_TARGET_DURATION,
      g_param_spec_uint ("target-duration", "Target duration",
          "Target segment duration in seconds (segments are cut at the first "
          "keyframe after it)", 1, G_MAXUINT, DEFAULT_TARGET_DURATION, rw));
  g_object_class_install_property (gobject_class, PROP_PLAYLIST_LENGTH,
      g_param_spec_uint ("playlist-length", "Playlist length",
          "Segments named by the live playlist (the rolling window); 0: all",
          0, G_MAXUINT, DEFAULT_PLAYLIST_LENGTH, rw));
  g_object_class_install_property (gobject_class, PROP_MAX_FILES,
      g_param_spec_uint ("max-files", "Max files",
          "Segments kept in the bucket; older ones are deleted once no uploaded "
          "playlist names them (0: keep all, e.g. for a recording)",
          0, G_MAXUINT, DEFAULT_MAX_FILES, rw));
  g_object_class_install_property (gobject_class, PROP_SEND_KEYFRAME_REQUESTS,
      g_param_spec_boolean ("send-keyframe-requests", "Send keyframe requests",
          "Ask the encoder upstream for a keyframe at each target-duration",
          DEFAULT_SEND_KEYFRAME_REQUESTS, rw));
  g_object_class_install_property (gobject_class, PROP_PLAYLIST_CACHE_CONTROL,
      g_param_spec_string ("playlist-cache-control", "Playlist Cache-Control",
          "Cache-Control of playlist objects: short, so players and CDNs see "
          "new segments", DEFAULT_PLAYLIST_CACHE_CONTROL, rw));
  g_object_class_install_property (gobject_class, PROP_SEGMENT_CACHE_CONTROL,
      g_param_spec_string ("segment-cache-control", "Segment Cache-Control",
          "Cache-Control of segment objects: long, they never change",
          DEFAULT_SEGMENT_CACHE_CONTROL, rw));
  g_object_class_install_property (gobject_class, PROP_MAX_PARALLEL_UPLOADS,
      g_param_spec_uint ("max-parallel-uploads", "Max parallel uploads",
          "Segment uploads and deletes in flight at once", 1, 32,
          DEFAULT_MAX_PARALLEL_UPLOADS, rw));
  g_object_class_install_property (gobject_class, PROP_SPOOL_MEMORY_LIMIT,
      g_param_spec_uint64 ("spool-memory-limit", "Spool memory limit",
          "Bytes of finished segments kept in memory while they wait for S3; "
          "beyond it they spill to spool-directory", 0, G_MAXUINT64,
          DEFAULT_SPOOL_MEMORY_LIMIT, rw));
  g_object_class_install_property (gobject_class, PROP_SPOOL_LIMIT,
      g_param_spec_uint64 ("spool-limit", "Spool limit",
          "Bytes of segments (memory and disk) that may wait for S3; when a "
          "segment does not fit, the element posts an error", 0, G_MAXUINT64,
          DEFAULT_SPOOL_LIMIT, rw));
  g_object_class_install_property (gobject_class, PROP_SPOOL_DIRECTORY,
      g_param_spec_string ("spool-directory", "Spool directory",
          "Where a private spill directory is made when the memory spool is "
          "full (default: the system temporary directory)", nullptr, rw));
  g_object_class_install_property (gobject_class, PROP_FLUSH_TIMEOUT,
      g_param_spec_uint ("flush-timeout", "Flush time-out",
          "At EOS, the longest wait in milliseconds for pending uploads before "
          "EOS goes on (with an error naming what was lost)", 0, G_MAXUINT,
          DEFAULT_FLUSH_TIMEOUT, rw));
  g_object_class_install_property (gobject_class, PROP_CHECK_BUCKET,
      g_param_spec_boolean ("check-bucket", "Check bucket",
          "At start, check with a HEAD request that the bucket exists and the "
          "credentials are accepted, and fail at once with the reason if not",
          DEFAULT_CHECK_BUCKET, rw));
  g_object_class_install_property (gobject_class, PROP_PROGRAM_DATE_TIME,
      g_param_spec_boolean ("program-date-time", "Program date time",
          "Write #EXT-X-PROGRAM-DATE-TIME before each segment of the playlist: the "
          "wall-clock time of its start (pipeline clock mapped to real time at PLAYING)",
          DEFAULT_PROGRAM_DATE_TIME, rw));
  g_object_class_install_property (gobject_class, PROP_STATS,
      g_param_spec_boxed ("stats", "Statistics",
          "Upload statistics: uploads-started/completed/failed, bytes-uploaded, "
          "deletes-completed, segments-skipped (expired before S3 took them), "
          "last-/worst-upload-latency (ns, segment closed to object stored), "
          "spool-depth, spool-bytes, pending-uploads, upload-lag (ns: age of the "
          "oldest segment not yet stored), s3-unavailable, outages, requests-retried, "
          "last-error, upload-latency-buckets (cumulative counts of segments stored "
          "within 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60 s of their close), "
          "upload-latency-count, upload-latency-sum (ns)",
          GST_TYPE_STRUCTURE, (GParamFlags) (G_PARAM_READABLE | G_PARAM_STATIC_STRINGS)));

  gst_element_class_add_static_pad_template (element_class, &video_template);
  gst_element_class_add_static_pad_template (element_class, &audio_template);
  gst_element_class_set_static_metadata (element_class,
      "HLS sink to S3-compatible storage", "Sink/Muxer",
      "Writes live HLS (MPEG-TS segments and a rolling playlist) into an S3 bucket "
      "as it is made, with ordered, retried, spooled uploads. Example: "
      "gst-launch-1.0 -e videotestsrc is-live=true ! x264enc tune=zerolatency key-int-max=30 ! "
      "h264parse ! s3hlssink name=s bucket=live key-prefix=demo/ "
      "endpoint=http://127.0.0.1:4569 access-key=S3RVER secret-key=S3RVER target-duration=2 "
      "audiotestsrc is-live=true ! audioconvert ! avenc_aac ! aacparse ! s.audio",
      "castline");

  element_class->change_state = GST_DEBUG_FUNCPTR (gst_s3_hls_sink_change_state);
  element_class->request_new_pad = GST_DEBUG_FUNCPTR (gst_s3_hls_sink_request_new_pad);
  element_class->release_pad = GST_DEBUG_FUNCPTR (gst_s3_hls_sink_release_pad);
  bin_class->handle_message = GST_DEBUG_FUNCPTR (gst_s3_hls_sink_handle_message);
}

static void
gst_s3_hls_sink_init (GstS3HlsSink * self)
{
  self->priv = new GstS3HlsSinkPrivate ();
  GstElement *hlssink = gst_element_factory_make ("hlssink2", "hlssink2");
  if (!hlssink) {
    GST_ERROR_OBJECT (self, "hlssink2 is missing (gst-plugins-bad's hls plugin)");
    return;
  }
  self->priv->hlssink.reset (GST_ELEMENT (gst_object_ref_sink (hlssink)));
  g_signal_connect (hlssink, "get-fragment-stream", G_CALLBACK (on_get_fragment_stream), self);
  g_signal_connect (hlssink, "get-playlist-stream", G_CALLBACK (on_get_playlist_stream), self);
  g_signal_connect (hlssink, "delete-fragment", G_CALLBACK (on_delete_fragment), self);
  gst_bin_add (GST_BIN (self), hlssink);
  GST_OBJECT_FLAG_SET (self, GST_ELEMENT_FLAG_SINK);
}

static void
gst_s3_hls_sink_finalize (GObject * object)
{
  auto *self = GST_S3_HLS_SINK (object);
  stop_uploader (self);
  delete self->priv;
  G_OBJECT_CLASS (parent_class)->finalize (object);
}

static void
gst_s3_hls_sink_set_property (GObject * object, guint prop_id, const GValue * value,
    GParamSpec * pspec)
{
  auto *self = GST_S3_HLS_SINK (object);
  GST_OBJECT_LOCK (self);
  S3HlsSinkSettings & s = self->priv->settings;
  if (!castline_s3_set_property (s.s3, prop_id, value)) {
    switch (prop_id) {
      case PROP_KEY_PREFIX: castline_string_from_value (s.key_prefix, value, DEFAULT_KEY_PREFIX); break;
      case PROP_LOCATION: castline_string_from_value (s.location, value, DEFAULT_LOCATION); break;
      case PROP_PLAYLIST_LOCATION: castline_string_from_value (s.playlist_location, value, DEFAULT_PLAYLIST_LOCATION); break;
      case PROP_PLAYLIST_ROOT: castline_string_from_value (s.playlist_root, value, ""); break;
      case PROP_TARGET_DURATION: s.target_duration = g_value_get_uint (value); break;
      case PROP_PLAYLIST_LENGTH: s.playlist_length = g_value_get_uint (value); break;
      case PROP_MAX_FILES: s.max_files = g_value_get_uint (value); break;
      case PROP_SEND_KEYFRAME_REQUESTS: s.send_keyframe_requests = g_value_get_boolean (value); break;
      case PROP_PLAYLIST_CACHE_CONTROL: castline_string_from_value (s.playlist_cache_control, value, ""); break;
      case PROP_SEGMENT_CACHE_CONTROL: castline_string_from_value (s.segment_cache_control, value, ""); break;
      case PROP_MAX_PARALLEL_UPLOADS: s.max_parallel_uploads = g_value_get_uint (value); break;
      case PROP_SPOOL_MEMORY_LIMIT: s.spool_memory_limit = g_value_get_uint64 (value); break;
      case PROP_SPOOL_LIMIT: s.spool_limit = g_value_get_uint64 (value); break;
      case PROP_SPOOL_DIRECTORY: castline_string_from_value (s.spool_directory, value, ""); break;
      case PROP_FLUSH_TIMEOUT: s.flush_timeout_ms = g_value_get_uint (value); break;
      case PROP_CHECK_BUCKET: s.check_bucket = g_value_get_boolean (value); break;
      case PROP_PROGRAM_DATE_TIME: s.program_date_time = g_value_get_boolean (value); break;
      default:
        G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
        break;
    }
  }
  GST_OBJECT_UNLOCK (self);
}

static void
gst_s3_hls_sink_get_property (GObject * object, guint prop_id, GValue * value,
    GParamSpec * pspec)
{
  auto *self = GST_S3_HLS_SINK (object);
  if (prop_id == PROP_STATS) {
    g_value_take_boxed (value, make_stats (self));
    return;
  }
  GST_OBJECT_LOCK (self);
  const S3HlsSinkSettings & s = self->priv->settings;
  if (!castline_s3_get_property (s.s3, prop_id, value)) {
    switch (prop_id) {
      case PROP_KEY_PREFIX: g_value_set_string (value, s.key_prefix.c_str ()); break;
      case PROP_LOCATION: g_value_set_string (value, s.location.c_str ()); break;
      case PROP_PLAYLIST_LOCATION: g_value_set_string (value, s.playlist_location.c_str ()); break;
      case PROP_PLAYLIST_ROOT:
        castline_string_to_value (s.playlist_root, value);
        break;
      case PROP_TARGET_DURATION: g_value_set_uint (value, s.target_duration); break;
      case PROP_PLAYLIST_LENGTH: g_value_set_uint (value, s.playlist_length); break;
      case PROP_MAX_FILES: g_value_set_uint (value, s.max_files); break;
      case PROP_SEND_KEYFRAME_REQUESTS: g_value_set_boolean (value, s.send_keyframe_requests); break;
      case PROP_PLAYLIST_CACHE_CONTROL: g_value_set_string (value, s.playlist_cache_control.c_str ()); break;
      case PROP_SEGMENT_CACHE_CONTROL: g_value_set_string (value, s.segment_cache_control.c_str ()); break;
      case PROP_MAX_PARALLEL_UPLOADS: g_value_set_uint (value, s.max_parallel_uploads); break;
      case PROP_SPOOL_MEMORY_LIMIT: g_value_set_uint64 (value, s.spool_memory_limit); break;
      case PROP_SPOOL_LIMIT: g_value_set_uint64 (value, s.spool_limit); break;
      case PROP_SPOOL_DIRECTORY:
        castline_string_to_value (s.spool_directory, value);
        break;
      case PROP_FLUSH_TIMEOUT: g_value_set_uint (value, s.flush_timeout_ms); break;
      case PROP_CHECK_BUCKET: g_value_set_boolean (value, s.check_bucket); break;
      case PROP_PROGRAM_DATE_TIME: g_value_set_boolean (value, s.program_date_time); break;
      default:
        G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
        break;
    }
  }
  GST_OBJECT_UNLOCK (self);
}

/* ---- state changes: an uploader per run, READY to PAUSED to READY ---- */

static GstStateChangeReturn
gst_s3_hls_sink_change_state (GstElement * element, GstStateChange transition)
{
  auto *self = GST_S3_HLS_SINK (element);

  if (transition == GST_STATE_CHANGE_READY_TO_PAUSED && !start_uploader (self))
    return GST_STATE_CHANGE_FAILURE;
  if (transition == GST_STATE_CHANGE_PAUSED_TO_PLAYING) {
    /* the real time of the pipeline clock, taken once: segment dates
     * then follow the clock, not later jumps of the system time (the
     * parent set the base time before this) */
    std::shared_ptr<PlaylistDates> dates;
    {
      std::lock_guard<std::mutex> lk (self->priv->lock);
      dates = self->priv->dates;
    }
    if (dates) {
      if (auto offset = castline::common::running_time_to_unix_offset (element))
        dates->set_offset (*offset);
    }
  }

  GstStateChangeReturn ret = GST_ELEMENT_CLASS (parent_class)->change_state (element, transition);

  if (transition == GST_STATE_CHANGE_PAUSED_TO_READY
      || (ret == GST_STATE_CHANGE_FAILURE && transition == GST_STATE_CHANGE_READY_TO_PAUSED))
    stop_uploader (self);
  return ret;
}

/* ---- pads ---- */

static GstPad *
gst_s3_hls_sink_request_new_pad (GstElement * element, GstPadTemplate * templ,
    const gchar * name, const GstCaps * caps)
{
  auto *self = GST_S3_HLS_SINK (element);
  const gchar *tname = GST_PAD_TEMPLATE_NAME_TEMPLATE (templ);
  if (!self->priv->hlssink)
    return nullptr;
  GstPad *inner = gst_element_request_pad_simple (self->priv->hlssink.get (), tname);
  if (!inner) {
    GST_WARNING_OBJECT (self, "hlssink2 gave no %s pad (only one of each)", tname);
    return nullptr;
  }
  GstPad *ghost = gst_ghost_pad_new_from_template (tname, inner, templ);
  gst_object_unref (inner);
  gst_pad_set_active (ghost, TRUE);
  gst_element_add_pad (element, ghost);
  (void) name;
  (void) caps;
  return ghost;
}

static void
gst_s3_hls_sink_release_pad (GstElement * element, GstPad * pad)
{
  auto *self = GST_S3_HLS_SINK (element);
  GstPad *inner = gst_ghost_pad_get_target (GST_GHOST_PAD (pad));
  gst_element_remove_pad (element, pad);
  if (inner) {
    gst_element_release_request_pad (self->priv->hlssink.get (), inner);
    gst_object_unref (inner);
  }
}

/* ---- EOS: let it through only once everything is uploaded ---- */

static void
gst_s3_hls_sink_handle_message (GstBin * bin, GstMessage * message)
{
  auto *self = GST_S3_HLS_SINK (bin);
  if (GST_MESSAGE_TYPE (message) == GST_MESSAGE_ELEMENT)
    note_segment_start (self, message);
  if (GST_MESSAGE_TYPE (message) != GST_MESSAGE_EOS) {
    GST_BIN_CLASS (parent_class)->handle_message (bin, message);
    return;
  }

  std::shared_ptr<HlsUploader> uploader;
  guint64 epoch;
  guint timeout;
  {
    std::lock_guard<std::mutex> lk (self->priv->lock);
    uploader = self->priv->uploader;
    if (!uploader) {
      GST_BIN_CLASS (parent_class)->handle_message (bin, message);
      return;
    }
    gst_message_replace (&self->priv->held_eos, message);
    gst_message_unref (message);
    epoch = self->priv->epoch;
  }
  GST_OBJECT_LOCK (self);
  timeout = self->priv->settings.flush_timeout_ms;
  GST_OBJECT_UNLOCK (self);

  GST_INFO_OBJECT (self, "EOS: flushing pending uploads (at most %u ms)", timeout);
  /* the element outlives the uploader, which drops this callback (and the
   * reference) unanswered when it is stopped first */
  std::shared_ptr<GstObject> keep (GST_OBJECT (gst_object_ref (self)), gst_object_unref);
  uploader->flush (timeout, [self, epoch, timeout, keep] (bool ok, size_t pending) {
    GstMessage *eos = nullptr;
    {
      std::lock_guard<std::mutex> lk (self->priv->lock);
      if (self->priv->epoch == epoch)
        eos = std::exchange (self->priv->held_eos, nullptr);
    }
    if (eos) {
      if (!ok)
        GST_ELEMENT_ERROR (self, RESOURCE, WRITE,
            ("S3 did not take every object by the end of the stream: %zu upload(s) lost",
                pending), ("still pending after flush-timeout (%u ms), or refused by S3",
                timeout));
      else
        GST_INFO_OBJECT (self, "every upload done, letting EOS through");
      GST_BIN_CLASS (parent_class)->handle_message (GST_BIN (self), eos);
    }
  });
}

/* ---- helpers ---- */

static std::shared_ptr<HlsUploader>
get_uploader (GstS3HlsSink * self)
{
  std::lock_guard<std::mutex> lk (self->priv->lock);
  return self->priv->uploader;
}

static std::string
basename_of (const gchar * location)
{
  g_autofree gchar *b = g_path_get_basename (location);
  return b;
}

/* A location template hlssink2 formats with the fragment index: a plain
 * file name with exactly one integer directive. */
static bool
validate_object_name (const std::string & name, bool is_template, std::string & error,
    const char *what)
{
  if (name.empty () || name.size () > 255) {
    error = std::string (what) + " must be a non-empty name of at most 255 bytes";
    return false;
  }
  if (name.find ('/') != std::string::npos || name.find ('\\') != std::string::npos
      || name == "." || name == "..") {
    error = std::string (what) + " '" + name
        + "' must be a plain file name (use key-prefix for folders)";
    return false;
  }
  for (unsigned char c : name)
    if (c < 0x20 || c == 0x7f) {
      error = std::string (what) + " contains a control character";
      return false;
    }
  if (is_template) {
    int directives = 0;
    for (size_t i = 0; i < name.size (); i++) {
      if (name[i] != '%')
        continue;
      if (i + 1 < name.size () && name[i + 1] == '%') {
        i++;
        continue;
      }
      size_t j = i + 1;
      while (j < name.size () && (g_ascii_isdigit (name[j])))
        j++;
      if (j >= name.size () || (name[j] != 'd' && name[j] != 'u')) {
        error = std::string (what) + " '" + name + "' may only hold an integer directive such as %05d";
        return false;
      }
      directives++;
      i = j;
    }
    if (directives != 1) {
      error = std::string (what) + " '" + name + "' needs exactly one %d-style directive";
      return false;
    }
  } else if (name.find ('%') != std::string::npos) {
    error = std::string (what) + " '" + name + "' must not contain '%'";
    return false;
  }
  return true;
}

/* ---- hlssink2 storage hooks (streaming thread) ---- */

static GOutputStream *
on_get_fragment_stream (GstElement *, const gchar * location, gpointer user_data)
{
  auto *self = GST_S3_HLS_SINK (user_data);
  std::shared_ptr<HlsUploader> uploader = get_uploader (self);
  if (!uploader)
    return nullptr;
  std::string name = basename_of (location);
  std::weak_ptr<HlsUploader> weak = uploader;
  GWeakRef *wref = g_new0 (GWeakRef, 1);
  g_weak_ref_init (wref, self);
  auto wref_holder = std::shared_ptr<GWeakRef> (wref, [] (GWeakRef * w) {
    g_weak_ref_clear (w);
    g_free (w);
  });
  return castline_s3_output_stream_new ([weak, name, wref_holder] (GBytes * bytes,
          GError ** error) -> bool {
    auto up = weak.lock ();
    if (!up)
      return true;  /* stopped: nothing to deliver to */
    std::string reason;
    if (up->submit_segment (name, bytes, reason))
      return true;
    g_autoptr (GstElement) element = (GstElement *) g_weak_ref_get (wref_holder.get ());
    if (element)
      GST_ELEMENT_ERROR (element, RESOURCE, NO_SPACE_LEFT,
          ("S3 upload spool is full: segments could not be kept until S3 recovers"),
          ("segment %s: %s", name.c_str (), reason.c_str ()));
    g_set_error (error, G_IO_ERROR, G_IO_ERROR_NO_SPACE, "%s", reason.c_str ());
    return false;
  });
}

static GOutputStream *
on_get_playlist_stream (GstElement *, const gchar * location, gpointer user_data)
{
  auto *self = GST_S3_HLS_SINK (user_data);
  std::shared_ptr<HlsUploader> uploader = get_uploader (self);
  if (!uploader)
    return nullptr;
  std::string name = basename_of (location);
  std::weak_ptr<HlsUploader> weak = uploader;
  std::shared_ptr<PlaylistDates> dates;
  {
    std::lock_guard<std::mutex> lk (self->priv->lock);
    dates = self->priv->dates;
  }
  return castline_s3_output_stream_new ([weak, name, dates] (GBytes * bytes, GError **) -> bool {
    if (auto up = weak.lock ()) {
      gsize len = 0;
      const char *data = (const char *) g_bytes_get_data (bytes, &len);
      std::string text (data ? data : "", len);
      if (dates)
        text = dates->rewrite (text);
      up->submit_playlist (name, text);
    }
    return true;
  });
}

static void
on_delete_fragment (GstElement *, const gchar * location, gpointer user_data)
{
  auto *self = GST_S3_HLS_SINK (user_data);
  if (auto up = get_uploader (self))
    up->expire_segment (basename_of (location));
}

/* ---- uploader events (upload thread) ---- */

static HlsUploaderListener
make_listener (GstS3HlsSink * self)
{
  /* The uploader never outlives the element (it is destroyed in
   * change_state before the element can be finalized), so the listener may
   * use self directly. */
  HlsUploaderListener l;
  l.on_outage = [self] (const S3Error & e) {
    GST_ELEMENT_WARNING_WITH_DETAILS (self, RESOURCE, WRITE,
        ("S3 is not answering: segments are kept in the spool and retried"),
        ("%s", e.describe ().c_str ()),
        ("s3-error-code", G_TYPE_STRING, e.code.c_str (),
         "http-status-code", G_TYPE_UINT, e.http_status, NULL));
  };
  l.on_recovered = [self] () {
    GST_INFO_OBJECT (self, "S3 answers again");
    gst_element_post_message (GST_ELEMENT (self),
        gst_message_new_element (GST_OBJECT (self),
            gst_structure_new_empty ("s3hlssink-recovered")));
  };
  l.on_fatal = [self] (const S3Error & e) {
    GST_ELEMENT_ERROR_WITH_DETAILS (self, RESOURCE, WRITE,
        ("S3 refused an upload: %s", e.describe ().c_str ()),
        ("%s; such an answer is not retried: nothing more is uploaded in this run",
            e.request_note ().c_str ()),
        ("s3-error-code", G_TYPE_STRING, e.code.c_str (),
         "http-status-code", G_TYPE_UINT, e.http_status, NULL));
  };
  return l;
}

/* ---- program-date-time ---- */

/* program-date-time: hlssink2's splitmuxsink says when each segment starts
 * (running time), maybe before PLAYING; it becomes real time when written */
static void
note_segment_start (GstS3HlsSink * self, GstMessage * message)
{
  const GstStructure *st = gst_message_get_structure (message);
  GstClockTime rt = GST_CLOCK_TIME_NONE;
  if (!st || !gst_structure_has_name (st, "splitmuxsink-fragment-opened")
      || !gst_structure_get_uint64 (st, "running-time", &rt))
    return;                        /* (an invalid rt still counts: see segment_started) */
  std::shared_ptr<PlaylistDates> dates;
  {
    std::lock_guard<std::mutex> lk (self->priv->lock);
    dates = self->priv->dates;
  }
  if (dates)
    dates->segment_started (rt);
}

/* ---- start and stop ---- */

static bool
start_uploader (GstS3HlsSink * self)
{
  if (!self->priv->hlssink) {
    GST_ELEMENT_ERROR (self, CORE, MISSING_PLUGIN,
        ("s3hlssink needs hlssink2 (gst-plugins-bad's hls plugin), which is not installed"),
        (nullptr));
    return false;
  }
  S3HlsSinkSettings s;
  GST_OBJECT_LOCK (self);
  s = self->priv->settings;
  GST_OBJECT_UNLOCK (self);

  s.s3.apply_environment ();
  std::string error;
  if (!s.s3.validate (error) || !validate_key_prefix (s.key_prefix, error)
      || !validate_object_name (s.location, true, error, "location")
      || !validate_object_name (s.playlist_location, false, error, "playlist-location")) {
    GST_ELEMENT_ERROR (self, RESOURCE, SETTINGS, ("Invalid S3 settings: %s", error.c_str ()),
        (nullptr));
    return false;
  }

  g_object_set (self->priv->hlssink.get (), "location", s.location.c_str (),
      "playlist-location", s.playlist_location.c_str (),
      "playlist-root", s.playlist_root.empty () ? nullptr : s.playlist_root.c_str (),
      "target-duration", s.target_duration, "playlist-length", s.playlist_length,
      "max-files", s.max_files, "send-keyframe-requests", s.send_keyframe_requests,
      nullptr);

  HlsUploaderSettings us;
  us.s3 = s.s3;
  us.key_prefix = s.key_prefix;
  us.playlist_cache_control = s.playlist_cache_control;
  us.segment_cache_control = s.segment_cache_control;
  us.max_parallel = s.max_parallel_uploads;
  us.spool_memory_limit = s.spool_memory_limit;
  us.spool_limit = s.spool_limit;
  us.spool_directory = s.spool_directory;
  auto uploader = std::make_shared<HlsUploader> (us, make_listener (self));

  if (s.check_bucket) {
    S3Result r = uploader->check_bucket ();
    if (!r.ok) {
      GST_ELEMENT_ERROR_WITH_DETAILS (self, RESOURCE, OPEN_WRITE,
          ("Cannot use S3 bucket '%s' at %s: %s", s.s3.bucket.c_str (),
              s.s3.url_for ("").url.c_str (), r.error.describe ().c_str ()),
          ("HEAD bucket failed after %u attempt(s); %s", r.attempts,
              r.error.request_note ().c_str ()),
          ("s3-error-code", G_TYPE_STRING, r.error.code.c_str (),
           "http-status-code", G_TYPE_UINT, r.error.http_status, NULL));
      return false;
    }
  }
  GST_INFO_OBJECT (self, "uploading to %s with key prefix '%s'",
      s.s3.url_for ("").url.c_str (), s.key_prefix.c_str ());

  std::lock_guard<std::mutex> lk (self->priv->lock);
  self->priv->uploader = std::move (uploader);
  self->priv->dates = s.program_date_time ? std::make_shared<PlaylistDates> () : nullptr;
  return true;
}

static void
stop_uploader (GstS3HlsSink * self)
{
  std::shared_ptr<HlsUploader> uploader;
  GstMessage *eos = nullptr;
  {
    std::lock_guard<std::mutex> lk (self->priv->lock);
    uploader = std::move (self->priv->uploader);
    eos = std::exchange (self->priv->held_eos, nullptr);
    self->priv->epoch++;
    self->priv->dates.reset ();
  }
  if (eos)
    gst_message_unref (eos);
  if (uploader) {
    HlsUploaderStats st = uploader->stats ();
    if (st.pending_uploads)
      GST_WARNING_OBJECT (self, "stopping with %" G_GUINT64_FORMAT
          " upload(s) not done", st.pending_uploads);
  }
  /* the last reference: joins the upload thread */
  uploader.reset ();
}

/* ---- stats ---- */

static GstStructure *
make_stats (GstS3HlsSink * self)
{
  HlsUploaderStats st;
  if (auto up = get_uploader (self))
    st = up->stats ();
  GstStructure *s = gst_structure_new ("s3hlssink-stats",
      "uploads-started", G_TYPE_UINT64, st.uploads_started,
      "uploads-completed", G_TYPE_UINT64, st.uploads_completed,
      "uploads-failed", G_TYPE_UINT64, st.uploads_failed,
      "bytes-uploaded", G_TYPE_UINT64, st.bytes_uploaded,
      "deletes-completed", G_TYPE_UINT64, st.deletes_completed,
      "segments-skipped", G_TYPE_UINT64, st.segments_skipped,
      "last-upload-latency", G_TYPE_UINT64,
      (guint64) (st.last_latency_us < 0 ? GST_CLOCK_TIME_NONE : st.last_latency_us * GST_USECOND),
      "worst-upload-latency", G_TYPE_UINT64,
      (guint64) (st.worst_latency_us < 0 ? GST_CLOCK_TIME_NONE : st.worst_latency_us * GST_USECOND),
      "spool-depth", G_TYPE_UINT64, st.spool_objects,
      "spool-bytes", G_TYPE_UINT64, st.spool_bytes,
      "pending-uploads", G_TYPE_UINT64, st.pending_uploads,
      "upload-lag", G_TYPE_UINT64, (guint64) (st.oldest_pending_us < 0 ? 0
          : std::max<gint64> (0, g_get_monotonic_time () - st.oldest_pending_us) * GST_USECOND),
      "s3-unavailable", G_TYPE_BOOLEAN, st.outage,
      "outages", G_TYPE_UINT64, st.outages,
      "requests-retried", G_TYPE_UINT64, st.requests_retried,
      "last-error", G_TYPE_STRING, st.last_error.c_str (),
      "upload-latency-count", G_TYPE_UINT64, st.latency.count,
      "upload-latency-sum", G_TYPE_UINT64, st.latency.sum_us * GST_USECOND, NULL);
  /* cumulative counts, one per castline::s3::kUploadLatencyBounds */
  GValue buckets = G_VALUE_INIT;
  gst_value_array_init (&buckets, st.latency.buckets.size ());
  for (guint64 n : st.latency.buckets) {
    GValue v = G_VALUE_INIT;
    g_value_init (&v, G_TYPE_UINT64);
    g_value_set_uint64 (&v, n);
    gst_value_array_append_and_take_value (&buckets, &v);
  }
  gst_structure_take_value (s, "upload-latency-buckets", &buckets);
  return s;
}
