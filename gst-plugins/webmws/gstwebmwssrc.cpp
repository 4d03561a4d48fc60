/**
 * SECTION:element-webmwssrc
 * @title: webmwssrc
 *
 * webmwssrc is a live source of the WebM (or Matroska) byte stream a
 * browser's MediaRecorder sends over a WebSocket, for `matroskademux` or
 * `parsebin` downstream. Its caps are `video/webm`, `audio/webm`,
 * `video/x-matroska` or `audio/x-matroska`, set when the first bytes come:
 * the container from the EBML DocType, audio or video from the mimeType the
 * publisher declares, else from the recording's tracks.
 *
 * ## Connections
 * Standalone (`port` >= 0), it runs its own WebSocket server on `host`:`port`
 * under `path`, on a thread of its own. With `port` = -1 it listens nowhere:
 * an application that runs one HTTP server for many streams accepts the
 * WebSocket itself and hands it over with the `add-connection` action
 * signal, from the thread running the GMainContext the connection was made
 * on; `add-connection-full` also hands over the mimeType and the first WebM
 * bytes an application read itself (to choose its pipeline from the
 * recording's header), and `end-publisher` closes the publisher with a
 * code and reason and ends the stream. When `key` is set, the standalone server asks for it as `?key=` or
 * `Authorization: Bearer`, and answers HTTP 401 without it.
 *
 * One publisher at a time: a second connection is closed with 1008, unless
 * `replace-publisher` is set, in which case the newest replaces the current
 * one (which is closed with 1008 "replaced by a newer publisher") and must
 * record the same tracks; the demuxer then reads a chained recording.
 *
 * ## Protocol
 * Binary messages carry the recording's bytes, in order, starting with the
 * EBML header (1A 45 DF A3 ..., DocType webm or matroska), whole within the
 * first 64 KiB (it may be split across messages; the first messages are
 * held until the Tracks are whole too): anything else is closed with 1003
 * and the reason, and so is a declared mimeType that contradicts the
 * tracks' CodecIDs (the reason names both). A message over
 * `max-message-size` is closed with 1009. Text messages are JSON objects
 * with a string "type":
 *
 * - `{"type":"start","mimeType":"video/webm;codecs=vp8,opus"}`: optional,
 *   before the first bytes (the URL may say the same: `?mimeType=...`);
 * - `{"type":"stop-stream"}`: the end of the stream; the source closes the
 *   connection with 1000 and sends EOS once every byte is out;
 * - `{"type":"ping", ...}`: answered `{"type":"pong", ...the ping's other
 *   members..., "received-bytes":N}` (a keep-alive and a progress report);
 * - anything else is answered `{"type":"error","reason":"...",
 *   "in-reply-to":"<type>"}` and posts a warning (at most 10 per
 *   publisher); the connection stays open.
 *
 * The stream ends (EOS) when the publisher stops, closes or is cut off after
 * sending WebM; a publisher refused before its first bytes leaves the
 * source waiting for another. With no bytes for `idle-timeout` seconds
 * after a publisher came, the source posts a warning, closes the publisher
 * with 1001 and sends EOS.
 *
 * ## Bounded memory
 * Messages wait for the streaming thread in a queue of at most
 * `max-queue-size` bytes. When it passes 75 % a warning says downstream is
 * not keeping up; when a message does not fit, the publisher is closed
 * with 1013 (Try Again Later) "downstream too slow" and the stream ends.
 *
 * ## Messages
 * Element messages: `webmwssrc-publisher-connected` (remote-address, path,
 * mime-type, replacing), `webmwssrc-publisher-disconnected` (the same, and
 * bytes, messages, duration in ns, close-code, reason, closed-by-publisher)
 * and `webmwssrc-publisher-refused` (remote-address, path, close-code or
 * http-status, reason). Warnings carry a `close-code` detail when a close
 * followed.
 *
 * ## Example launch lines
 * |[
 * gst-launch-1.0 -e webmwssrc port=8090 path=/ingest ! filesink location=recording.webm
 * ]| stores what a publisher sends to ws://127.0.0.1:8090/ingest, as it is.
 * |[
 * gst-launch-1.0 -e webmwssrc port=8090 path=/ingest ! matroskademux name=d \
 *     d.video_0 ! queue max-size-time=0 max-size-buffers=0 max-size-bytes=67108864 ! \
 *       vp8dec ! videoconvert ! x264enc tune=zerolatency key-int-max=60 ! h264parse ! \
 *       queue ! hls.video \
 *     d.audio_0 ! queue max-size-time=0 max-size-buffers=0 max-size-bytes=67108864 ! \
 *       opusdec ! audioconvert ! audioresample ! avenc_aac ! queue ! hls.audio \
 *     hlssink2 name=hls location=segment%05d.ts playlist-location=live.m3u8
 * ]| turns a browser's `video/webm;codecs=vp8,opus` recording sent to
 * ws://127.0.0.1:8090/ingest into HLS in the current directory. For
 * `video/webm;codecs=h264,opus` (Chromium sends Matroska) use
 * `d.video_0 ! h264parse ! queue ... ! hls.video`: no video re-encode. Name vp8dec/vp9dec explicitly: Chromium's VP8/VP9
 * carries AlphaMode, for which decodebin picks a decoder that fails.
 */
#include "webmws/gstwebmwssrc.h"

#include "castlineelements.h"
#include "webmws/chunkqueue.h"
#include "webmws/publisherhub.h"
#include "webmws/wsserver.h"

#include <libsoup/soup.h>

#include <memory>
#include <mutex>
#include <string>

GST_DEBUG_CATEGORY_STATIC (gst_webm_ws_src_debug);
#define GST_CAT_DEFAULT gst_webm_ws_src_debug

using namespace castline::webmws;

#define DEFAULT_HOST "127.0.0.1"
#define DEFAULT_PORT 8090
#define DEFAULT_PATH "/"
#define DEFAULT_REPLACE_PUBLISHER FALSE
#define DEFAULT_IDLE_TIMEOUT 10
#define DEFAULT_MAX_MESSAGE_SIZE (4 * 1024 * 1024)
#define DEFAULT_MAX_QUEUE_SIZE (32 * 1024 * 1024)

enum {
  PROP_0,
  PROP_HOST,
  PROP_PORT,
  PROP_BOUND_PORT,
  PROP_PATH,
  PROP_KEY,
  PROP_REPLACE_PUBLISHER,
  PROP_IDLE_TIMEOUT,
  PROP_MAX_MESSAGE_SIZE,
  PROP_MAX_QUEUE_SIZE,
  PROP_STATS,
};

enum {
  SIGNAL_ADD_CONNECTION,
  SIGNAL_ADD_CONNECTION_FULL,
  SIGNAL_END_PUBLISHER,
  LAST_SIGNAL,
};

static guint signals[LAST_SIGNAL];

static GstStaticPadTemplate src_template = GST_STATIC_PAD_TEMPLATE ("src",
    GST_PAD_SRC, GST_PAD_ALWAYS,
    GST_STATIC_CAPS ("video/webm; audio/webm; video/x-matroska; audio/x-matroska"));

struct WebmWsSrcSettings {
  std::string host = DEFAULT_HOST;
  int port = DEFAULT_PORT;
  std::string path = DEFAULT_PATH;
  std::string key;
  bool replace_publisher = DEFAULT_REPLACE_PUBLISHER;
  guint idle_timeout = DEFAULT_IDLE_TIMEOUT;
  guint64 max_message_size = DEFAULT_MAX_MESSAGE_SIZE;
  guint64 max_queue_size = DEFAULT_MAX_QUEUE_SIZE;
};

struct GstWebmWsSrcPrivate {
  std::mutex lock;                       /* settings, hub, queue */
  WebmWsSrcSettings settings;
  std::shared_ptr<ChunkQueue> queue;
  std::shared_ptr<PublisherHub> hub;
  std::unique_ptr<WsServer> server;
  int bound_port = 0;

  /* streaming thread */
  guint64 offset = 0;
  std::string media_type;
};

struct _GstWebmWsSrc {
  GstPushSrc parent;
  GstWebmWsSrcPrivate *priv;
};

/* The element, kept alive as long as a hub callback may run: a hub can
 * outlive stop() while a close waits for the application's context. */
using ElementRef = std::shared_ptr<GstElement>;

G_DEFINE_TYPE_WITH_CODE (GstWebmWsSrc, gst_webm_ws_src, GST_TYPE_PUSH_SRC,
    GST_DEBUG_CATEGORY_INIT (gst_webm_ws_src_debug, "webmwssrc", 0,
        "WebM over WebSocket source"));
GST_ELEMENT_REGISTER_DEFINE (webmwssrc, "webmwssrc", GST_RANK_NONE, GST_TYPE_WEBM_WS_SRC);

static void gst_webm_ws_src_finalize (GObject * object);
static void gst_webm_ws_src_set_property (GObject * object, guint prop_id,
    const GValue * value, GParamSpec * pspec);
static void gst_webm_ws_src_get_property (GObject * object, guint prop_id,
    GValue * value, GParamSpec * pspec);
static gboolean gst_webm_ws_src_start (GstBaseSrc * bsrc);
static gboolean gst_webm_ws_src_stop (GstBaseSrc * bsrc);
static gboolean gst_webm_ws_src_unlock (GstBaseSrc * bsrc);
static gboolean gst_webm_ws_src_unlock_stop (GstBaseSrc * bsrc);
static gboolean gst_webm_ws_src_negotiate (GstBaseSrc * bsrc);
static gboolean gst_webm_ws_src_query (GstBaseSrc * bsrc, GstQuery * query);
static GstFlowReturn gst_webm_ws_src_create (GstPushSrc * psrc, GstBuffer ** buf);

static gboolean add_connection (GstWebmWsSrc * self, SoupWebsocketConnection * conn);
static gboolean add_connection_full (GstWebmWsSrc * self, SoupWebsocketConnection * conn,
    const gchar * mime_type, GBytes * first_bytes);
static void end_publisher (GstWebmWsSrc * self, guint code, const gchar * reason);
static ElementRef element_ref (GstWebmWsSrc * self);
static HubListener make_listener (GstWebmWsSrc * self);
static void post (const ElementRef & e, GstStructure * s);
static void warn (const ElementRef & e, const std::string & text, const std::string & debug,
    guint close_code);
static GstStructure *stats_structure (GstWebmWsSrc * self);

static void
gst_webm_ws_src_class_init (GstWebmWsSrcClass * klass)
{
  auto *gobject_class = G_OBJECT_CLASS (klass);
  auto *element_class = GST_ELEMENT_CLASS (klass);
  auto *basesrc_class = GST_BASE_SRC_CLASS (klass);
  auto *pushsrc_class = GST_PUSH_SRC_CLASS (klass);
  const auto rw = (GParamFlags) (G_PARAM_READWRITE | G_PARAM_STATIC_STRINGS
      | GST_PARAM_MUTABLE_READY);

  gobject_class->set_property = gst_webm_ws_src_set_property;
  gobject_class->get_property = gst_webm_ws_src_get_property;
  gobject_class->finalize = gst_webm_ws_src_finalize;

  g_object_class_install_property (gobject_class, PROP_HOST,
      g_param_spec_string ("host", "Host",
          "IP address the standalone WebSocket server listens on (\"0.0.0.0\" for every "
          "interface, \"localhost\" for 127.0.0.1)", DEFAULT_HOST, rw));
  g_object_class_install_property (gobject_class, PROP_PORT,
      g_param_spec_int ("port", "Port",
          "TCP port of the standalone WebSocket server; 0 picks a free one (read it from "
          "bound-port), -1 runs no server: connections come only through add-connection",
          -1, 65535, DEFAULT_PORT, rw));
  g_object_class_install_property (gobject_class, PROP_BOUND_PORT,
      g_param_spec_int ("bound-port", "Bound port",
          "The port the standalone server listens on once started, else 0", 0, 65535, 0,
          (GParamFlags) (G_PARAM_READABLE | G_PARAM_STATIC_STRINGS)));
  g_object_class_install_property (gobject_class, PROP_PATH,
      g_param_spec_string ("path", "Path",
          "URL path the standalone server accepts WebSockets on (and below)", DEFAULT_PATH, rw));
  g_object_class_install_property (gobject_class, PROP_KEY,
      g_param_spec_string ("key", "Stream key",
          "Secret a publisher of the standalone server must give as ?key=... or "
          "\"Authorization: Bearer ...\" (HTTP 401 otherwise); unset: no key asked. "
          "Write-only, never logged", nullptr,
          (GParamFlags) (G_PARAM_WRITABLE | G_PARAM_STATIC_STRINGS | GST_PARAM_MUTABLE_READY)));
  g_object_class_install_property (gobject_class, PROP_REPLACE_PUBLISHER,
      g_param_spec_boolean ("replace-publisher", "Replace publisher",
          "A new connection replaces the live publisher (closed 1008) instead of being "
          "refused with 1008; it must record the same tracks", DEFAULT_REPLACE_PUBLISHER, rw));
  g_object_class_install_property (gobject_class, PROP_IDLE_TIMEOUT,
      g_param_spec_uint ("idle-timeout", "Idle timeout",
          "Seconds without data, once a publisher came, after which the publisher is "
          "closed (1001) and the stream ends with a warning; 0 waits forever",
          0, G_MAXUINT / 1000, DEFAULT_IDLE_TIMEOUT, rw));
  g_object_class_install_property (gobject_class, PROP_MAX_MESSAGE_SIZE,
      g_param_spec_uint64 ("max-message-size", "Max message size",
          "Largest WebSocket message in bytes; a larger one closes the publisher with 1009",
          1024, G_MAXUINT32, DEFAULT_MAX_MESSAGE_SIZE, rw));
  g_object_class_install_property (gobject_class, PROP_MAX_QUEUE_SIZE,
      g_param_spec_uint64 ("max-queue-size", "Max queue size",
          "Bytes received but not yet pushed downstream, at most; when full the publisher is "
          "closed with 1013 (downstream too slow). A message always fits an empty queue",
          64 * 1024, G_MAXUINT64, DEFAULT_MAX_QUEUE_SIZE, rw));
  g_object_class_install_property (gobject_class, PROP_STATS,
      g_param_spec_boxed ("stats", "Statistics",
          "publishers-accepted, publishers-refused, bytes-received, messages-received "
          "(guint64), publisher-live (boolean), publisher-address (string), queue-bytes "
          "(guint64)", GST_TYPE_STRUCTURE,
          (GParamFlags) (G_PARAM_READABLE | G_PARAM_STATIC_STRINGS)));

  /**
   * GstWebmWsSrc::add-connection:
   * @src: the webmwssrc
   * @connection: an open #SoupWebsocketConnection
   *
   * Hands a WebSocket the application accepted to the source, as if its own
   * server had. Call it on the thread running the GMainContext the
   * connection was made on: the source keeps using that context for it.
   * Returns FALSE when the source refused it (not running, or another
   * publisher is live); it has then been closed with the reason.
   */
  signals[SIGNAL_ADD_CONNECTION] = g_signal_new_class_handler ("add-connection",
      G_TYPE_FROM_CLASS (klass), (GSignalFlags) (G_SIGNAL_RUN_LAST | G_SIGNAL_ACTION),
      G_CALLBACK (add_connection), nullptr, nullptr, nullptr, G_TYPE_BOOLEAN, 1,
      SOUP_TYPE_WEBSOCKET_CONNECTION);

  /**
   * GstWebmWsSrc::add-connection-full:
   * @src: the webmwssrc
   * @connection: an open #SoupWebsocketConnection
   * @mime_type: (nullable): the mimeType the publisher declared, or NULL
   *   (then the URL's ?mimeType= counts, as for add-connection)
   * @first_bytes: (nullable): the WebM the application read from the
   *   connection before handing it over (to choose a pipeline from the
   *   recording's header), taken as the publisher's first binary message
   *
   * As add-connection, for a connection whose first messages the
   * application read itself. Same thread rule and return value.
   */
  signals[SIGNAL_ADD_CONNECTION_FULL] = g_signal_new_class_handler ("add-connection-full",
      G_TYPE_FROM_CLASS (klass), (GSignalFlags) (G_SIGNAL_RUN_LAST | G_SIGNAL_ACTION),
      G_CALLBACK (add_connection_full), nullptr, nullptr, nullptr, G_TYPE_BOOLEAN, 3,
      SOUP_TYPE_WEBSOCKET_CONNECTION, G_TYPE_STRING, G_TYPE_BYTES);

  /**
   * GstWebmWsSrc::end-publisher:
   * @src: the webmwssrc
   * @code: the WebSocket close code (1000-4999)
   * @reason: (nullable): the close reason (cut to 123 bytes)
   *
   * Closes the publisher, if any, with code and reason and ends the
   * stream (EOS), as the idle time-out does: for an application that
   * found the recording unreadable downstream. Any thread.
   */
  signals[SIGNAL_END_PUBLISHER] = g_signal_new_class_handler ("end-publisher",
      G_TYPE_FROM_CLASS (klass), (GSignalFlags) (G_SIGNAL_RUN_LAST | G_SIGNAL_ACTION),
      G_CALLBACK (end_publisher), nullptr, nullptr, nullptr, G_TYPE_NONE, 2,
      G_TYPE_UINT, G_TYPE_STRING);

  gst_element_class_add_static_pad_template (element_class, &src_template);
  gst_element_class_set_static_metadata (element_class,
      "WebM over WebSocket source", "Source/Network",
      "Receives the WebM/Matroska recording a browser's MediaRecorder sends over a "
      "WebSocket (own server, or connections handed over by add-connection). Example: "
      "gst-launch-1.0 -e webmwssrc port=8090 path=/ingest ! filesink location=recording.webm",
      "castline");

  basesrc_class->start = GST_DEBUG_FUNCPTR (gst_webm_ws_src_start);
  basesrc_class->stop = GST_DEBUG_FUNCPTR (gst_webm_ws_src_stop);
  basesrc_class->unlock = GST_DEBUG_FUNCPTR (gst_webm_ws_src_unlock);
  basesrc_class->unlock_stop = GST_DEBUG_FUNCPTR (gst_webm_ws_src_unlock_stop);
  basesrc_class->negotiate = GST_DEBUG_FUNCPTR (gst_webm_ws_src_negotiate);
  basesrc_class->query = GST_DEBUG_FUNCPTR (gst_webm_ws_src_query);
  pushsrc_class->create = GST_DEBUG_FUNCPTR (gst_webm_ws_src_create);
}

static void
gst_webm_ws_src_init (GstWebmWsSrc * self)
{
  self->priv = new GstWebmWsSrcPrivate ();
  gst_base_src_set_live (GST_BASE_SRC (self), TRUE);
  gst_base_src_set_format (GST_BASE_SRC (self), GST_FORMAT_BYTES);
}

static void
gst_webm_ws_src_finalize (GObject * object)
{
  delete GST_WEBM_WS_SRC (object)->priv;
  G_OBJECT_CLASS (gst_webm_ws_src_parent_class)->finalize (object);
}

static void
gst_webm_ws_src_set_property (GObject * object, guint prop_id, const GValue * value,
    GParamSpec * pspec)
{
  auto *self = GST_WEBM_WS_SRC (object);
  std::lock_guard<std::mutex> lk (self->priv->lock);
  WebmWsSrcSettings & s = self->priv->settings;
  switch (prop_id) {
    case PROP_HOST:
      s.host = g_value_get_string (value) ? g_value_get_string (value) : DEFAULT_HOST;
      break;
    case PROP_PORT:
      s.port = g_value_get_int (value);
      break;
    case PROP_PATH:
      s.path = g_value_get_string (value) ? g_value_get_string (value) : DEFAULT_PATH;
      break;
    case PROP_KEY:
      s.key = g_value_get_string (value) ? g_value_get_string (value) : "";
      break;
    case PROP_REPLACE_PUBLISHER:
      s.replace_publisher = g_value_get_boolean (value);
      break;
    case PROP_IDLE_TIMEOUT:
      s.idle_timeout = g_value_get_uint (value);
      break;
    case PROP_MAX_MESSAGE_SIZE:
      s.max_message_size = g_value_get_uint64 (value);
      break;
    case PROP_MAX_QUEUE_SIZE:
      s.max_queue_size = g_value_get_uint64 (value);
      break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
      break;
  }
}

static void
gst_webm_ws_src_get_property (GObject * object, guint prop_id, GValue * value,
    GParamSpec * pspec)
{
  auto *self = GST_WEBM_WS_SRC (object);
  if (prop_id == PROP_STATS) {
    g_value_take_boxed (value, stats_structure (self));
    return;
  }
  std::lock_guard<std::mutex> lk (self->priv->lock);
  const WebmWsSrcSettings & s = self->priv->settings;
  switch (prop_id) {
    case PROP_HOST:
      g_value_set_string (value, s.host.c_str ());
      break;
    case PROP_PORT:
      g_value_set_int (value, s.port);
      break;
    case PROP_BOUND_PORT:
      g_value_set_int (value, self->priv->bound_port);
      break;
    case PROP_PATH:
      g_value_set_string (value, s.path.c_str ());
      break;
    case PROP_REPLACE_PUBLISHER:
      g_value_set_boolean (value, s.replace_publisher);
      break;
    case PROP_IDLE_TIMEOUT:
      g_value_set_uint (value, s.idle_timeout);
      break;
    case PROP_MAX_MESSAGE_SIZE:
      g_value_set_uint64 (value, s.max_message_size);
      break;
    case PROP_MAX_QUEUE_SIZE:
      g_value_set_uint64 (value, s.max_queue_size);
      break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
      break;
  }
}

static gboolean
gst_webm_ws_src_start (GstBaseSrc * bsrc)
{
  auto *self = GST_WEBM_WS_SRC (bsrc);
  GstWebmWsSrcPrivate *p = self->priv;
  WebmWsSrcSettings s;
  {
    std::lock_guard<std::mutex> lk (p->lock);
    s = p->settings;
  }
  if (s.path.empty () || s.path[0] != '/') {
    GST_ELEMENT_ERROR (self, RESOURCE, SETTINGS, ("The path property must start with '/'"),
        ("path is '%s'", s.path.c_str ()));
    return FALSE;
  }

  auto queue = std::make_shared<ChunkQueue> (s.max_queue_size);
  HubSettings hs;
  hs.replace_publisher = s.replace_publisher;
  hs.max_message_size = s.max_message_size;
  auto hub = std::make_shared<PublisherHub> (hs, queue, make_listener (self));

  std::unique_ptr<WsServer> server;
  int bound_port = 0;
  if (s.port >= 0) {
    server = std::make_unique<WsServer> ();
    WsServerConfig config;
    config.host = s.host;
    config.port = s.port;
    config.path = s.path;
    config.key = s.key;
    WsServerCallbacks cb;
    std::weak_ptr<PublisherHub> weak = hub;
    cb.connection = [weak] (SoupWebsocketConnection * conn, const std::string & remote) {
      if (auto h = weak.lock ())
        h->add_connection (conn, remote);
      else
        soup_websocket_connection_close (conn, close_code::going_away, "the source is stopping");
    };
    ElementRef e = element_ref (self);
    cb.unauthorized = [e] (const std::string & remote, const std::string & path, unsigned status) {
      GST_INFO_OBJECT (e.get (), "refused %s on %s: missing or wrong key", remote.c_str (),
          path.c_str ());
      post (e, gst_structure_new ("webmwssrc-publisher-refused",
              "remote-address", G_TYPE_STRING, remote.c_str (),
              "path", G_TYPE_STRING, path.c_str (),
              "http-status", G_TYPE_UINT, status,
              "reason", G_TYPE_STRING, "missing or wrong key", NULL));
    };
    cb.open_connections = [weak] (GMainContext * ctx) -> size_t {
      auto h = weak.lock ();
      return h ? h->open_connections (ctx) : 0;
    };
    cb.abandon = [weak] (GMainContext * ctx) {
      if (auto h = weak.lock ())
        h->abandon (ctx);
    };
    std::string error;
    if (!server->start (config, std::move (cb), error)) {
      GST_ELEMENT_ERROR (self, RESOURCE, OPEN_READ,
          ("The WebSocket server for publishers cannot start: %s", error.c_str ()),
          ("standalone server for ws://%s:%d%s (port=-1 runs none: connections then come "
              "through add-connection)", s.host.c_str (), s.port, s.path.c_str ()));
      return FALSE;
    }
    bound_port = server->bound_port ();
    GST_INFO_OBJECT (self, "listening on ws://%s:%d%s%s", s.host.c_str (), bound_port,
        s.path.c_str (), s.key.empty () ? "" : " (key required)");
  }

  {
    std::lock_guard<std::mutex> lk (p->lock);
    p->queue = queue;
    p->hub = hub;
    p->server = std::move (server);
    p->bound_port = bound_port;
  }
  p->offset = 0;
  p->media_type.clear ();
  return TRUE;
}

static gboolean
gst_webm_ws_src_stop (GstBaseSrc * bsrc)
{
  auto *self = GST_WEBM_WS_SRC (bsrc);
  GstWebmWsSrcPrivate *p = self->priv;
  std::shared_ptr<PublisherHub> hub;
  std::unique_ptr<WsServer> server;
  {
    std::lock_guard<std::mutex> lk (p->lock);
    hub = std::move (p->hub);
    server = std::move (p->server);
    p->queue.reset ();
    p->bound_port = 0;
  }
  if (hub)
    hub->shutdown ();
  if (server)
    server->stop ();
  return TRUE;
}

static gboolean
gst_webm_ws_src_unlock (GstBaseSrc * bsrc)
{
  auto *p = GST_WEBM_WS_SRC (bsrc)->priv;
  std::lock_guard<std::mutex> lk (p->lock);
  if (p->queue)
    p->queue->set_flushing (true);
  return TRUE;
}

static gboolean
gst_webm_ws_src_unlock_stop (GstBaseSrc * bsrc)
{
  auto *p = GST_WEBM_WS_SRC (bsrc)->priv;
  std::lock_guard<std::mutex> lk (p->lock);
  if (p->queue)
    p->queue->set_flushing (false);
  return TRUE;
}

static gboolean
gst_webm_ws_src_query (GstBaseSrc * bsrc, GstQuery * query)
{
  if (GST_QUERY_TYPE (query) == GST_QUERY_SCHEDULING) {
    /* push mode only, no random access: what a socket gives */
    gst_query_set_scheduling (query, GST_SCHEDULING_FLAG_SEQUENTIAL, 1, -1, 0);
    gst_query_add_scheduling_mode (query, GST_PAD_MODE_PUSH);
    return TRUE;
  }
  return GST_BASE_SRC_CLASS (gst_webm_ws_src_parent_class)->query (bsrc, query);
}

/* Caps are set with the first bytes, when the source knows what they are. */
static gboolean
gst_webm_ws_src_negotiate (GstBaseSrc *)
{
  return TRUE;
}

static GstFlowReturn
gst_webm_ws_src_create (GstPushSrc * psrc, GstBuffer ** buf)
{
  auto *self = GST_WEBM_WS_SRC (psrc);
  GstWebmWsSrcPrivate *p = self->priv;
  std::shared_ptr<ChunkQueue> queue;
  std::shared_ptr<PublisherHub> hub;
  guint idle_timeout;
  {
    std::lock_guard<std::mutex> lk (p->lock);
    queue = p->queue;
    hub = p->hub;
    idle_timeout = p->settings.idle_timeout;
  }
  if (!queue)
    return GST_FLOW_FLUSHING;

  while (true) {
    Chunk chunk;
    switch (queue->pop (chunk, (gint64) idle_timeout * G_USEC_PER_SEC)) {
      case ChunkQueue::PopResult::flushing:
        return GST_FLOW_FLUSHING;
      case ChunkQueue::PopResult::end:
        GST_INFO_OBJECT (self, "end of stream after %" G_GUINT64_FORMAT " bytes", p->offset);
        return GST_FLOW_EOS;
      case ChunkQueue::PopResult::idle: {
        warn (element_ref (self), "No data from the publisher within idle-timeout: the stream ends",
            "nothing for " + std::to_string (idle_timeout) + " s; publisher closed with 1001 "
            "(going away)", close_code::going_away);
        if (hub)
          hub->end_idle ("idle for " + std::to_string (idle_timeout) + " s");
        else
          queue->push_end ();
        continue;
      }
      case ChunkQueue::PopResult::chunk:
        break;
    }
    if (chunk.first_of_publisher && chunk.media_type != p->media_type) {
      g_autoptr (GstCaps) caps = gst_caps_new_empty_simple (chunk.media_type.c_str ());
      GST_INFO_OBJECT (self, "caps %" GST_PTR_FORMAT, caps);
      if (!gst_base_src_set_caps (GST_BASE_SRC (self), caps)) {
        GST_ELEMENT_ERROR (self, CORE, NEGOTIATION,
            ("Downstream does not accept the publisher's %s stream", chunk.media_type.c_str ()),
            ("gst_base_src_set_caps (%" GST_PTR_FORMAT ") failed", caps));
        return GST_FLOW_NOT_NEGOTIATED;
      }
      p->media_type = chunk.media_type;
    }
    *buf = chunk_to_buffer (chunk, p->offset);
    p->offset += gst_buffer_get_size (*buf);
    return GST_FLOW_OK;
  }
}

/* ---- helpers ---- */

static ElementRef
element_ref (GstWebmWsSrc * self)
{
  return ElementRef ((GstElement *) gst_object_ref (self), gst_object_unref);
}

static GstStructure *
report_structure (const char *name, const PublisherReport & r, bool ended)
{
  GstStructure *s = gst_structure_new (name,
      "remote-address", G_TYPE_STRING, r.remote_address.c_str (),
      "path", G_TYPE_STRING, r.path.c_str (),
      "mime-type", G_TYPE_STRING, r.mime_type.c_str (),
      "replacing", G_TYPE_BOOLEAN, r.replacing, NULL);
  if (ended)
    gst_structure_set (s,
        "bytes", G_TYPE_UINT64, r.bytes,
        "messages", G_TYPE_UINT64, r.messages,
        "duration", G_TYPE_UINT64, r.duration_ns,
        "close-code", G_TYPE_UINT, (guint) r.close_code,
        "reason", G_TYPE_STRING, r.reason.c_str (),
        "closed-by-publisher", G_TYPE_BOOLEAN, r.closed_by_publisher, NULL);
  return s;
}

static void
post (const ElementRef & e, GstStructure * s)
{
  gst_element_post_message (e.get (), gst_message_new_element (GST_OBJECT (e.get ()), s));
}

/* A warning about the publisher: text for a person, debug with the
 * detail, and the WebSocket close code as a detail when a close followed
 * (close_code 0: none did). */
static void
warn (const ElementRef & e, const std::string & text, const std::string & debug,
    guint close_code)
{
  GstElement *el = e.get ();
  if (close_code)
    GST_ELEMENT_WARNING_WITH_DETAILS (el, RESOURCE, READ, ("%s", text.c_str ()),
        ("%s", debug.c_str ()), ("close-code", G_TYPE_UINT, close_code, NULL));
  else
    GST_ELEMENT_WARNING (el, RESOURCE, READ, ("%s", text.c_str ()), ("%s", debug.c_str ()));
}

/* what a person reads for a warning the publisher hub raised */
static const char *
warning_text (WarningKind kind)
{
  switch (kind) {
    case WarningKind::bad_stream:
      return "A publisher sent what this source cannot take and was closed";
    case WarningKind::too_big:
      return "A publisher sent a message over max-message-size and was closed";
    case WarningKind::bad_control:
      return "A publisher sent a control message this source does not understand";
    case WarningKind::replacement_differs:
      return "The replacing publisher records other tracks than the stream: the stream ends";
    case WarningKind::none:
      break;
  }
  return "A publisher had a problem";
}

static HubListener
make_listener (GstWebmWsSrc * self)
{
  ElementRef e = element_ref (self);
  HubListener l;
  l.connected = [e] (const PublisherReport & r) {
    GST_INFO_OBJECT (e.get (), "publisher %s connected%s", r.remote_address.c_str (),
        r.replacing ? ", replacing the previous one" : "");
    post (e, report_structure ("webmwssrc-publisher-connected", r, false));
  };
  l.disconnected = [e] (const PublisherReport & r) {
    GST_INFO_OBJECT (e.get (), "publisher %s left after %" G_GUINT64_FORMAT " bytes: %u %s",
        r.remote_address.c_str (), r.bytes, r.close_code, r.reason.c_str ());
    post (e, report_structure ("webmwssrc-publisher-disconnected", r, true));
  };
  l.refused = [e] (const PublisherReport & r) {
    GST_INFO_OBJECT (e.get (), "refused %s: %s", r.remote_address.c_str (), r.reason.c_str ());
    GstStructure *s = gst_structure_new ("webmwssrc-publisher-refused",
        "remote-address", G_TYPE_STRING, r.remote_address.c_str (),
        "path", G_TYPE_STRING, r.path.c_str (),
        "close-code", G_TYPE_UINT, (guint) r.close_code,
        "reason", G_TYPE_STRING, r.reason.c_str (), NULL);
    post (e, s);
  };
  l.warning = [e] (WarningKind kind, const std::string & text, uint16_t code) {
    warn (e, warning_text (kind), text, code);
  };
  l.queue_high = [e] (uint64_t queued, uint64_t max) {
    warn (e, "Downstream is not keeping up with the publisher",
        std::to_string (queued) + " of " + std::to_string (max) + " queue bytes used "
        "(max-queue-size)", 0);
  };
  l.queue_full = [e] (uint64_t queued, uint64_t max) {
    warn (e, "Downstream too slow: the publisher was closed and the stream ends",
        "a message did not fit the queue (" + std::to_string (queued) + " of "
        + std::to_string (max) + " bytes, max-queue-size); closed with 1013 (try again later)",
        close_code::try_again_later);
  };
  l.connection_lost = [e] (const PublisherReport & r) {
    warn (e, "The publisher was cut off mid-stream: the stream ends",
        "publisher " + r.remote_address + ": " + r.reason, close_code::abnormal);
  };
  return l;
}

static gboolean
add_connection (GstWebmWsSrc * self, SoupWebsocketConnection * conn)
{
  return add_connection_full (self, conn, nullptr, nullptr);
}

static gboolean
add_connection_full (GstWebmWsSrc * self, SoupWebsocketConnection * conn,
    const gchar * mime_type, GBytes * first_bytes)
{
  g_return_val_if_fail (SOUP_IS_WEBSOCKET_CONNECTION (conn), FALSE);
  std::shared_ptr<PublisherHub> hub;
  {
    std::lock_guard<std::mutex> lk (self->priv->lock);
    hub = self->priv->hub;
  }
  if (!hub) {
    GST_INFO_OBJECT (self, "a connection came while stopped: closing it");
    if (soup_websocket_connection_get_state (conn) == SOUP_WEBSOCKET_STATE_OPEN)
      soup_websocket_connection_close (conn, close_code::going_away, "the source is not running");
    return FALSE;
  }
  return hub->add_connection (conn, remote_address_of (conn), mime_type ? mime_type : "",
      first_bytes);
}

static void
end_publisher (GstWebmWsSrc * self, guint code, const gchar * reason)
{
  std::shared_ptr<PublisherHub> hub;
  {
    std::lock_guard<std::mutex> lk (self->priv->lock);
    hub = self->priv->hub;
  }
  if (code < 1000 || code > 4999)
    code = close_code::policy_violation;
  GST_INFO_OBJECT (self, "ending the publisher: %u %s", code, reason ? reason : "");
  if (hub)
    hub->end_stream ((uint16_t) code, reason ? reason : "");
}

static GstStructure *
stats_structure (GstWebmWsSrc * self)
{
  std::shared_ptr<PublisherHub> hub;
  std::shared_ptr<ChunkQueue> queue;
  {
    std::lock_guard<std::mutex> lk (self->priv->lock);
    hub = self->priv->hub;
    queue = self->priv->queue;
  }
  HubStats st = hub ? hub->stats () : HubStats ();
  return gst_structure_new ("webmwssrc-stats",
      "publishers-accepted", G_TYPE_UINT64, st.publishers_accepted,
      "publishers-refused", G_TYPE_UINT64, st.publishers_refused,
      "bytes-received", G_TYPE_UINT64, st.bytes_received,
      "messages-received", G_TYPE_UINT64, st.messages_received,
      "publisher-live", G_TYPE_BOOLEAN, st.publisher_live,
      "publisher-address", G_TYPE_STRING, st.publisher_address.c_str (),
      "queue-bytes", G_TYPE_UINT64, queue ? queue->bytes () : (guint64) 0, NULL);
}
