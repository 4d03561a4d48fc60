/**
 * SECTION:element-s3sink
 * @title: s3sink
 *
 * s3sink streams one whole object (a recording, an archive file) into an
 * S3-compatible bucket with a multipart upload: every `part-size` bytes go
 * up as one part while the next part fills, at most `max-parts-in-flight`
 * at once (rendering waits when that many are uploading, so memory stays
 * bounded at about part-size × (max-parts-in-flight + 1)). EOS uploads the
 * last part and completes the upload; an object smaller than one part is
 * sent with a single PutObject instead.
 *
 * When S3 refuses a part for good (after `retries`), or the element stops
 * before EOS, the upload is aborted (`on-error=abort`, nothing is left in
 * the bucket) or completed with the parts uploaded so far
 * (`on-error=complete`, useful to keep most of a recording).
 *
 * S3 objects cannot be rewritten in place, so the input must be written
 * front to back. s3sink answers "not seekable" to the SEEKING query, so the
 * muxers that ask (mp4mux/qtmux, matroskamux) write a layout that needs no
 * rewrite; plain mp4mux then holds all its media data until EOS before
 * anything goes up, so stream with `mp4mux fragment-duration=1000` (or
 * matroskamux, mpegtsmux). A muxer that seeks back without asking (avimux)
 * gets an error, and the upload is ended as `on-error` says: what was
 * written is not the file the muxer meant.
 *
 * `part-size` below 5 MiB is refused (GObject's out-of-range warning; the
 * setting keeps its previous value).
 *
 * Credentials and connection settings are the same as s3hlssink's (see its
 * documentation); the secret key and the session token are write-only and
 * never logged.
 *
 * ## Example launch line
 * |[
 * gst-launch-1.0 -e videotestsrc num-buffers=300 ! x264enc ! h264parse ! \
 *     mp4mux fragment-duration=1000 ! s3sink bucket=live key=recordings/test.mp4 \
 *     endpoint=http://127.0.0.1:4569 access-key=S3RVER secret-key=S3RVER
 * ]| records 10 s of a test signal as fragmented MP4 into the bucket "live"
 * of a local S3 server.
 */
#include "s3/gsts3sink.h"

#include "castlineelements.h"
#include "s3/s3client.h"
#include "s3/s3properties.h"

#include <condition_variable>
#include <map>
#include <memory>
#include <mutex>

GST_DEBUG_CATEGORY_STATIC (gst_s3_sink_debug);
#define GST_CAT_DEFAULT gst_s3_sink_debug

using namespace castline::s3;

#define MIN_PART_SIZE (G_GUINT64_CONSTANT (5) * 1024 * 1024)
#define MAX_PART_SIZE (G_GUINT64_CONSTANT (5) * 1024 * 1024 * 1024)
#define DEFAULT_PART_SIZE (G_GUINT64_CONSTANT (8) * 1024 * 1024)
#define DEFAULT_MAX_PARTS_IN_FLIGHT 2
#define DEFAULT_ON_ERROR GST_S3_SINK_ON_ERROR_ABORT
#define DEFAULT_CHECK_BUCKET TRUE

enum {
  PROP_0,
  /* 1 .. CASTLINE_S3_PROP_LAST - 1: the S3 connection properties every
   * castline S3 element shares (s3properties.h) */
  PROP_KEY = CASTLINE_S3_PROP_LAST,
  PROP_CONTENT_TYPE,
  PROP_CACHE_CONTROL,
  PROP_PART_SIZE,
  PROP_MAX_PARTS_IN_FLIGHT,
  PROP_ON_ERROR,
  PROP_CHECK_BUCKET,
  PROP_STATS,
};

static GstStaticPadTemplate sink_template = GST_STATIC_PAD_TEMPLATE ("sink",
    GST_PAD_SINK, GST_PAD_ALWAYS, GST_STATIC_CAPS_ANY);

struct S3SinkSettings {
  S3Config s3;
  std::string key;
  std::string content_type;
  std::string cache_control;
  guint64 part_size = DEFAULT_PART_SIZE;
  guint max_parts_in_flight = DEFAULT_MAX_PARTS_IN_FLIGHT;
  GstS3SinkOnError on_error = DEFAULT_ON_ERROR;
  gboolean check_bucket = DEFAULT_CHECK_BUCKET;
};

struct GstS3SinkPrivate {
  S3SinkSettings settings;              /* under the object lock */

  /* one run, from start() to stop() */
  S3SinkSettings run;
  std::unique_ptr<S3Client> client;
  std::string caps_content_type;
  std::string part;                     /* streaming thread only; GByteArray stops at 4 GiB */
  guint64 position = 0;                 /* streaming thread only */
  std::string upload_id;                /* streaming thread only */
  int next_part = 1;                    /* streaming thread only */
  bool finished = true;                 /* completed, aborted, or nothing begun */
  bool refused_seek = false;            /* streaming thread only: the object is spoilt */

  std::mutex lock;                      /* guards the fields below */
  std::condition_variable cond;
  std::map<int, std::string> etags;     /* parts in the bucket */
  unsigned in_flight = 0;
  bool failed = false;
  S3Error error;
  bool flushing = false;
  guint64 bytes_uploaded = 0;
  guint64 parts_failed = 0;
  bool multipart = false;               /* a multipart upload was started */
};

struct _GstS3Sink {
  GstBaseSink parent;
  GstS3SinkPrivate *priv;
};

#define gst_s3_sink_parent_class parent_class
G_DEFINE_TYPE_WITH_CODE (GstS3Sink, gst_s3_sink, GST_TYPE_BASE_SINK,
    GST_DEBUG_CATEGORY_INIT (gst_s3_sink_debug, "s3sink", 0,
        "one object into S3-compatible storage"));
GST_ELEMENT_REGISTER_DEFINE (s3sink, "s3sink", GST_RANK_NONE, GST_TYPE_S3_SINK);

GType
gst_s3_sink_on_error_get_type (void)
{
  static GType type = 0;
  static const GEnumValue values[] = {
    { GST_S3_SINK_ON_ERROR_ABORT, "Abort the upload: nothing is left in the bucket", "abort" },
    { GST_S3_SINK_ON_ERROR_COMPLETE,
      "Complete the upload with the parts already uploaded", "complete" },
    { 0, nullptr, nullptr },
  };
  if (g_once_init_enter (&type)) {
    GType t = g_enum_register_static ("GstS3SinkOnError", values);
    g_once_init_leave (&type, t);
  }
  return type;
}

static void gst_s3_sink_finalize (GObject * object);
static void gst_s3_sink_set_property (GObject * object, guint prop_id,
    const GValue * value, GParamSpec * pspec);
static void gst_s3_sink_get_property (GObject * object, guint prop_id,
    GValue * value, GParamSpec * pspec);
static gboolean gst_s3_sink_start (GstBaseSink * sink);
static gboolean gst_s3_sink_stop (GstBaseSink * sink);
static GstFlowReturn gst_s3_sink_render (GstBaseSink * sink, GstBuffer * buffer);
static gboolean gst_s3_sink_event (GstBaseSink * sink, GstEvent * event);
static gboolean gst_s3_sink_set_caps (GstBaseSink * sink, GstCaps * caps);
static gboolean gst_s3_sink_query (GstBaseSink * sink, GstQuery * query);
static gboolean gst_s3_sink_unlock (GstBaseSink * sink);
static gboolean gst_s3_sink_unlock_stop (GstBaseSink * sink);

static void post_s3_error (GstS3Sink * self, const char *what, const char *request,
    const S3Error & e);
static void give_up_upload (GstS3Sink * self, const char *why);
static bool send_part (GstS3Sink * self, gsize size);
static GstFlowReturn wait_in_flight (GstS3Sink * self, unsigned limit);
static bool finish_object (GstS3Sink * self);

static void
gst_s3_sink_class_init (GstS3SinkClass * klass)
{
  auto *gobject_class = G_OBJECT_CLASS (klass);
  auto *element_class = GST_ELEMENT_CLASS (klass);
  auto *basesink_class = GST_BASE_SINK_CLASS (klass);

  gobject_class->set_property = gst_s3_sink_set_property;
  gobject_class->get_property = gst_s3_sink_get_property;
  gobject_class->finalize = gst_s3_sink_finalize;

  castline_s3_install_properties (gobject_class);
  const auto rw = (GParamFlags) (G_PARAM_READWRITE | G_PARAM_STATIC_STRINGS
      | GST_PARAM_MUTABLE_READY);
  g_object_class_install_property (gobject_class, PROP_KEY,
      g_param_spec_string ("key", "Key",
          "Object key, e.g. \"recordings/stream1.mp4\" (no leading '/', no '.', '..' "
          "or empty path segments)", nullptr, rw));
  g_object_class_install_property (gobject_class, PROP_CONTENT_TYPE,
      g_param_spec_string ("content-type", "Content-Type",
          "Content-Type of the object (default: from the caps, e.g. video/mp4 for "
          "mp4mux, else application/octet-stream)", nullptr, rw));
  g_object_class_install_property (gobject_class, PROP_CACHE_CONTROL,
      g_param_spec_string ("cache-control", "Cache-Control",
          "Cache-Control of the object (default: none)", nullptr, rw));
  g_object_class_install_property (gobject_class, PROP_PART_SIZE,
      g_param_spec_uint64 ("part-size", "Part size",
          "Bytes per multipart part (S3 needs at least 5 MiB for every part but "
          "the last: smaller values are refused with a warning and the setting is "
          "left as it was)", MIN_PART_SIZE, MAX_PART_SIZE, DEFAULT_PART_SIZE, rw));
  g_object_class_install_property (gobject_class, PROP_MAX_PARTS_IN_FLIGHT,
      g_param_spec_uint ("max-parts-in-flight", "Max parts in flight",
          "Parts uploading at once; rendering waits beyond it", 1, 16,
          DEFAULT_MAX_PARTS_IN_FLIGHT, rw));
  g_object_class_install_property (gobject_class, PROP_ON_ERROR,
      g_param_spec_enum ("on-error", "On error",
          "What to do with the multipart upload when a part fails for good or the "
          "element stops before EOS", GST_TYPE_S3_SINK_ON_ERROR, DEFAULT_ON_ERROR, rw));
  g_object_class_install_property (gobject_class, PROP_CHECK_BUCKET,
      g_param_spec_boolean ("check-bucket", "Check bucket",
          "At start, check with a HEAD request that the bucket exists and the "
          "credentials are accepted, and fail at once with the reason if not",
          DEFAULT_CHECK_BUCKET, rw));
  g_object_class_install_property (gobject_class, PROP_STATS,
      g_param_spec_boxed ("stats", "Statistics",
          "bytes-uploaded, parts-uploaded, parts-in-flight, parts-failed, and "
          "multipart (TRUE once a multipart upload was started)",
          GST_TYPE_STRUCTURE, (GParamFlags) (G_PARAM_READABLE | G_PARAM_STATIC_STRINGS)));

  gst_element_class_add_static_pad_template (element_class, &sink_template);
  gst_element_class_set_static_metadata (element_class,
      "S3 object sink", "Sink/Network",
      "Streams one object into an S3-compatible bucket with a multipart upload. "
      "Example: gst-launch-1.0 -e videotestsrc num-buffers=300 ! x264enc ! h264parse ! "
      "mp4mux fragment-duration=1000 ! s3sink bucket=live key=recordings/test.mp4 "
      "endpoint=http://127.0.0.1:4569 access-key=S3RVER secret-key=S3RVER",
      "castline");

  basesink_class->start = GST_DEBUG_FUNCPTR (gst_s3_sink_start);
  basesink_class->stop = GST_DEBUG_FUNCPTR (gst_s3_sink_stop);
  basesink_class->render = GST_DEBUG_FUNCPTR (gst_s3_sink_render);
  basesink_class->event = GST_DEBUG_FUNCPTR (gst_s3_sink_event);
  basesink_class->set_caps = GST_DEBUG_FUNCPTR (gst_s3_sink_set_caps);
  basesink_class->query = GST_DEBUG_FUNCPTR (gst_s3_sink_query);
  basesink_class->unlock = GST_DEBUG_FUNCPTR (gst_s3_sink_unlock);
  basesink_class->unlock_stop = GST_DEBUG_FUNCPTR (gst_s3_sink_unlock_stop);

  gst_type_mark_as_plugin_api (GST_TYPE_S3_SINK_ON_ERROR, (GstPluginAPIFlags) 0);
}

static void
gst_s3_sink_init (GstS3Sink * self)
{
  self->priv = new GstS3SinkPrivate ();
  gst_base_sink_set_sync (GST_BASE_SINK (self), FALSE);
}

static void
gst_s3_sink_finalize (GObject * object)
{
  auto *self = GST_S3_SINK (object);
  delete self->priv;
  G_OBJECT_CLASS (parent_class)->finalize (object);
}

static void
gst_s3_sink_set_property (GObject * object, guint prop_id, const GValue * value,
    GParamSpec * pspec)
{
  auto *self = GST_S3_SINK (object);
  GST_OBJECT_LOCK (self);
  S3SinkSettings & s = self->priv->settings;
  if (!castline_s3_set_property (s.s3, prop_id, value)) {
    switch (prop_id) {
      case PROP_KEY: castline_string_from_value (s.key, value); break;
      case PROP_CONTENT_TYPE: castline_string_from_value (s.content_type, value); break;
      case PROP_CACHE_CONTROL: castline_string_from_value (s.cache_control, value); break;
      case PROP_PART_SIZE: s.part_size = g_value_get_uint64 (value); break;
      case PROP_MAX_PARTS_IN_FLIGHT: s.max_parts_in_flight = g_value_get_uint (value); break;
      case PROP_ON_ERROR: s.on_error = (GstS3SinkOnError) g_value_get_enum (value); break;
      case PROP_CHECK_BUCKET: s.check_bucket = g_value_get_boolean (value); break;
      default:
        G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
        break;
    }
  }
  GST_OBJECT_UNLOCK (self);
}

static void
gst_s3_sink_get_property (GObject * object, guint prop_id, GValue * value, GParamSpec * pspec)
{
  auto *self = GST_S3_SINK (object);
  GstS3SinkPrivate *p = self->priv;
  if (prop_id == PROP_STATS) {
    std::lock_guard<std::mutex> lk (p->lock);
    g_value_take_boxed (value, gst_structure_new ("s3sink-stats",
            "bytes-uploaded", G_TYPE_UINT64, p->bytes_uploaded,
            "parts-uploaded", G_TYPE_UINT64, (guint64) p->etags.size (),
            "parts-in-flight", G_TYPE_UINT, p->in_flight,
            "parts-failed", G_TYPE_UINT64, p->parts_failed,
            "multipart", G_TYPE_BOOLEAN, (gboolean) p->multipart, NULL));
    return;
  }
  GST_OBJECT_LOCK (self);
  const S3SinkSettings & s = p->settings;
  if (!castline_s3_get_property (s.s3, prop_id, value)) {
    switch (prop_id) {
      case PROP_KEY: castline_string_to_value (s.key, value); break;
      case PROP_CONTENT_TYPE:
        castline_string_to_value (s.content_type, value);
        break;
      case PROP_CACHE_CONTROL:
        castline_string_to_value (s.cache_control, value);
        break;
      case PROP_PART_SIZE: g_value_set_uint64 (value, s.part_size); break;
      case PROP_MAX_PARTS_IN_FLIGHT: g_value_set_uint (value, s.max_parts_in_flight); break;
      case PROP_ON_ERROR: g_value_set_enum (value, s.on_error); break;
      case PROP_CHECK_BUCKET: g_value_set_boolean (value, s.check_bucket); break;
      default:
        G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
        break;
    }
  }
  GST_OBJECT_UNLOCK (self);
}

/* ---- start / stop / unlock ---- */

static gboolean
gst_s3_sink_start (GstBaseSink * sink)
{
  auto *self = GST_S3_SINK (sink);
  GstS3SinkPrivate *p = self->priv;
  GST_OBJECT_LOCK (self);
  p->run = p->settings;
  GST_OBJECT_UNLOCK (self);

  p->run.s3.apply_environment ();
  std::string error;
  if (!p->run.s3.validate (error) || !validate_object_key (p->run.key, error)) {
    GST_ELEMENT_ERROR (self, RESOURCE, SETTINGS, ("Invalid S3 settings: %s", error.c_str ()),
        (nullptr));
    return FALSE;
  }
  p->client = std::make_unique<S3Client> (p->run.s3);
  if (p->run.check_bucket) {
    S3Result r = p->client->wait ([p] (S3Callback cb) { p->client->head_bucket (std::move (cb)); });
    if (!r.ok) {
      post_s3_error (self, "Cannot use the S3 bucket", "HeadBucket", r.error);
      p->client.reset ();
      return FALSE;
    }
  }

  p->part.clear ();
  p->refused_seek = false;
  p->position = 0;
  p->upload_id.clear ();
  p->next_part = 1;
  p->finished = true;
  std::lock_guard<std::mutex> lk (p->lock);
  p->etags.clear ();
  p->in_flight = 0;
  p->failed = false;
  p->flushing = false;
  p->bytes_uploaded = 0;
  p->parts_failed = 0;
  p->multipart = false;
  return TRUE;
}

static gboolean
gst_s3_sink_stop (GstBaseSink * sink)
{
  auto *self = GST_S3_SINK (sink);
  GstS3SinkPrivate *p = self->priv;
  if (p->client && !p->finished)
    give_up_upload (self, "stopped before EOS");
  p->client.reset ();
  std::string ().swap (p->part);
  return TRUE;
}

static gboolean
gst_s3_sink_unlock (GstBaseSink * sink)
{
  GstS3SinkPrivate *p = GST_S3_SINK (sink)->priv;
  std::lock_guard<std::mutex> lk (p->lock);
  p->flushing = true;
  p->cond.notify_all ();
  return TRUE;
}

static gboolean
gst_s3_sink_unlock_stop (GstBaseSink * sink)
{
  GstS3SinkPrivate *p = GST_S3_SINK (sink)->priv;
  std::lock_guard<std::mutex> lk (p->lock);
  p->flushing = false;
  return TRUE;
}

/* ---- the stream (streaming thread) ---- */

static GstFlowReturn
gst_s3_sink_render (GstBaseSink * sink, GstBuffer * buffer)
{
  auto *self = GST_S3_SINK (sink);
  GstS3SinkPrivate *p = self->priv;
  if (G_UNLIKELY (p->refused_seek))
    return GST_FLOW_ERROR;   /* posted when the seek came */
  GstMapInfo map;
  if (!gst_buffer_map (buffer, &map, GST_MAP_READ)) {
    GST_ELEMENT_ERROR (self, RESOURCE, WRITE, ("Cannot read a buffer to upload"),
        ("gst_buffer_map (%" GST_PTR_FORMAT ", READ) failed", buffer));
    return GST_FLOW_ERROR;
  }
  p->part.append ((const char *) map.data, map.size);
  p->position += map.size;
  gst_buffer_unmap (buffer, &map);

  while (p->part.size () >= p->run.part_size) {
    GstFlowReturn ret = wait_in_flight (self, p->run.max_parts_in_flight);
    if (ret != GST_FLOW_OK)
      return ret;
    if (!send_part (self, p->run.part_size))
      return GST_FLOW_ERROR;
  }
  return GST_FLOW_OK;
}

static gboolean
gst_s3_sink_event (GstBaseSink * sink, GstEvent * event)
{
  auto *self = GST_S3_SINK (sink);
  GstS3SinkPrivate *p = self->priv;
  switch (GST_EVENT_TYPE (event)) {
    case GST_EVENT_SEGMENT: {
      const GstSegment *segment;
      gst_event_parse_segment (event, &segment);
      if (segment->format == GST_FORMAT_BYTES && segment->start != p->position) {
        GST_ELEMENT_ERROR (self, RESOURCE, SEEK,
            ("s3sink cannot seek: an S3 object is written once, front to back"),
            ("asked to write at byte %" G_GUINT64_FORMAT " after %" G_GUINT64_FORMAT
             " bytes; use a streamable muxer (mp4mux fragment-duration=1000, "
             "matroskamux streamable=true, mpegtsmux)", segment->start, p->position));
        p->refused_seek = true;
        gst_event_unref (event);
        return FALSE;
      }
      break;
    }
    case GST_EVENT_EOS:
      if (!finish_object (self)) {
        gst_event_unref (event);
        return FALSE;
      }
      break;
    default:
      break;
  }
  return GST_BASE_SINK_CLASS (parent_class)->event (sink, event);
}

static gboolean
gst_s3_sink_set_caps (GstBaseSink * sink, GstCaps * caps)
{
  auto *self = GST_S3_SINK (sink);
  const gchar *name = gst_structure_get_name (gst_caps_get_structure (caps, 0));
  static const struct { const char *caps, *type; } map[] = {
    { "video/quicktime", "video/mp4" }, { "video/mpegts", "video/mp2t" },
    { "audio/x-m4a", "audio/mp4" }, { "application/x-hls", "application/vnd.apple.mpegurl" },
  };
  std::string type = name;
  for (auto & m : map)
    if (type == m.caps)
      type = m.type;
  self->priv->caps_content_type = type;
  return TRUE;
}

/* Muxers ask before seeking back (qtmux, matroskamux): say no, so they
 * write a layout that needs no rewriting instead of failing at the end. */
static gboolean
gst_s3_sink_query (GstBaseSink * sink, GstQuery * query)
{
  if (GST_QUERY_TYPE (query) == GST_QUERY_SEEKING) {
    GstFormat format;
    gst_query_parse_seeking (query, &format, nullptr, nullptr, nullptr);
    if (format == GST_FORMAT_BYTES) {
      gst_query_set_seeking (query, format, FALSE, 0, -1);
      return TRUE;
    }
  }
  return GST_BASE_SINK_CLASS (parent_class)->query (sink, query);
}

/* ---- errors ---- */

/* what: for a person; request: the S3 operation that failed, for the
 * debug string */
static void
post_s3_error (GstS3Sink * self, const char *what, const char *request, const S3Error & e)
{
  GST_ELEMENT_ERROR_WITH_DETAILS (self, RESOURCE, WRITE,
      ("%s: %s", what, e.describe ().c_str ()),
      ("%s failed; %s", request, e.request_note ().c_str ()),
      ("s3-error-code", G_TYPE_STRING, e.code.c_str (),
       "http-status-code", G_TYPE_UINT, e.http_status, NULL));
}

/* Ends a multipart upload that cannot be completed as planned, as
 * on-error says. Streaming or application thread; blocks for a bounded time. */
static void
give_up_upload (GstS3Sink * self, const char *why)
{
  GstS3SinkPrivate *p = self->priv;
  if (p->finished || p->upload_id.empty ()) {
    p->finished = true;
    return;
  }
  p->finished = true;
  std::vector<S3Part> parts;
  {
    std::unique_lock<std::mutex> lk (p->lock);
    /* wait for the parts still in flight (each bounded by request-timeout) */
    p->cond.wait (lk, [p] { return p->in_flight == 0; });
    for (int n = 1; p->etags.count (n); n++)
      parts.push_back (S3Part { n, p->etags[n] });
  }
  const std::string key = p->run.key;
  const std::string id = p->upload_id;
  if (p->run.on_error == GST_S3_SINK_ON_ERROR_COMPLETE && !parts.empty ()) {
    GST_WARNING_OBJECT (self, "%s: completing %s with the %zu part(s) uploaded", why,
        key.c_str (), parts.size ());
    S3Result r = p->client->wait ([&] (S3Callback cb) {
      p->client->complete_multipart_upload (key, id, parts, std::move (cb));
    });
    if (r.ok)
      return;
    GST_WARNING_OBJECT (self, "completing failed (%s); aborting", r.error.describe ().c_str ());
  }
  GST_WARNING_OBJECT (self, "%s: aborting the upload of %s", why, key.c_str ());
  S3Result r = p->client->wait ([&] (S3Callback cb) {
    p->client->abort_multipart_upload (key, id, std::move (cb));
  });
  if (!r.ok)
    GST_WARNING_OBJECT (self, "abort failed: %s (the bucket's lifecycle rules must clean up)",
        r.error.describe ().c_str ());
}

/* ---- uploading (streaming thread) ---- */

static std::string
content_type (GstS3Sink * self)
{
  GstS3SinkPrivate *p = self->priv;
  if (!p->run.content_type.empty ())
    return p->run.content_type;
  if (!p->caps_content_type.empty ())
    return p->caps_content_type;
  return "application/octet-stream";
}

static bool
ensure_upload (GstS3Sink * self)
{
  GstS3SinkPrivate *p = self->priv;
  if (!p->upload_id.empty ())
    return true;
  S3Result r = p->client->wait ([&] (S3Callback cb) {
    p->client->create_multipart_upload (p->run.key, content_type (self), p->run.cache_control,
        std::move (cb));
  });
  if (!r.ok || r.upload_id.empty ()) {
    if (r.ok)
      r.error.code = "NoUploadId", r.error.message = "the answer named no upload id";
    post_s3_error (self, "S3 refused to start the upload", "CreateMultipartUpload", r.error);
    return false;
  }
  p->upload_id = r.upload_id;
  p->finished = false;
  {
    std::lock_guard<std::mutex> lk (p->lock);
    p->multipart = true;
  }
  GST_INFO_OBJECT (self, "multipart upload of %s started", p->run.key.c_str ());
  return true;
}

/* Sends the first `size` bytes of the part buffer as the next part. */
static bool
send_part (GstS3Sink * self, gsize size)
{
  GstS3SinkPrivate *p = self->priv;
  if (!ensure_upload (self))
    return false;
  GBytes *bytes = g_bytes_new (p->part.data (), size);
  p->part.erase (0, size);
  int number = p->next_part++;
  {
    std::lock_guard<std::mutex> lk (p->lock);
    p->in_flight++;
  }
  GST_DEBUG_OBJECT (self, "part %d: %" G_GSIZE_FORMAT " bytes", number, size);
  p->client->upload_part (p->run.key, p->upload_id, number, bytes,
      [p, number, size] (S3Result r) {
        std::lock_guard<std::mutex> lk (p->lock);
        p->in_flight--;
        if (r.ok) {
          p->etags[number] = r.etag;
          p->bytes_uploaded += size;
        } else {
          p->parts_failed++;
          if (!p->failed) {
            p->failed = true;
            p->error = r.error;
          }
        }
        p->cond.notify_all ();
      });
  g_bytes_unref (bytes);
  return true;
}

/* Waits until fewer than `limit` parts are in flight. */
static GstFlowReturn
wait_in_flight (GstS3Sink * self, unsigned limit)
{
  GstS3SinkPrivate *p = self->priv;
  std::unique_lock<std::mutex> lk (p->lock);
  p->cond.wait (lk, [p, limit] { return p->in_flight < limit || p->flushing || p->failed; });
  if (p->failed) {
    S3Error e = p->error;
    lk.unlock ();
    post_s3_error (self, "S3 refused a part of the upload", "UploadPart", e);
    give_up_upload (self, "a part failed");
    return GST_FLOW_ERROR;
  }
  if (p->flushing && p->in_flight >= limit)
    return GST_FLOW_FLUSHING;
  return GST_FLOW_OK;
}

/* EOS: the last part and the completion, or one PutObject. */
static bool
finish_object (GstS3Sink * self)
{
  GstS3SinkPrivate *p = self->priv;
  if (p->refused_seek) {
    /* the error is posted; what was written is not the stream's object */
    give_up_upload (self, "the stream asked to seek");
    return false;
  }
  if (p->upload_id.empty ()) {
    GBytes *bytes = g_bytes_new (p->part.data (), p->part.size ());
    S3Result r = p->client->wait ([&] (S3Callback cb) {
      p->client->put_object (p->run.key, bytes, content_type (self), p->run.cache_control,
          std::move (cb));
    });
    g_bytes_unref (bytes);
    p->part.clear ();
    if (!r.ok) {
      post_s3_error (self, "S3 refused the object", "PutObject", r.error);
      return false;
    }
    std::lock_guard<std::mutex> lk (p->lock);
    p->bytes_uploaded += p->position;
    return true;
  }

  if (!p->part.empty ()) {
    if (wait_in_flight (self, p->run.max_parts_in_flight) == GST_FLOW_ERROR)
      return false;
    if (!send_part (self, p->part.size ()))
      return false;
  }
  /* every part, with no flushing shortcut: EOS means the object must be whole */
  std::vector<S3Part> parts;
  {
    std::unique_lock<std::mutex> lk (p->lock);
    p->cond.wait (lk, [p] { return p->in_flight == 0; });
    if (p->failed) {
      S3Error e = p->error;
      lk.unlock ();
      post_s3_error (self, "S3 refused a part of the upload", "UploadPart", e);
      give_up_upload (self, "a part failed");
      return false;
    }
    for (auto & [n, etag] : p->etags)
      parts.push_back (S3Part { n, etag });
  }
  S3Result r = p->client->wait ([&] (S3Callback cb) {
    p->client->complete_multipart_upload (p->run.key, p->upload_id, parts, std::move (cb));
  });
  if (!r.ok) {
    post_s3_error (self, "S3 refused to complete the upload", "CompleteMultipartUpload",
        r.error);
    give_up_upload (self, "completing failed");
    return false;
  }
  p->finished = true;
  GST_INFO_OBJECT (self, "%s complete: %zu part(s), %" G_GUINT64_FORMAT " bytes",
      p->run.key.c_str (), parts.size (), p->position);
  return true;
}
