/**
 * SECTION:element-rtmpserversrc
 * @title: rtmpserversrc
 *
 * rtmpserversrc is an RTMP (and RTMPS) server for one publisher: OBS,
 * ffmpeg, hardware encoders, GStreamer's rtmp2sink or librtmp's rtmpsink
 * publish to it, and it outputs what they send as a live `video/x-flv`
 * stream (the FLV header, with the audio and video flags of the
 * publisher's codecs, then each of the publisher's tags with its
 * timestamp, rebased to start at 0) for `flvdemux`, as `rtmp2src` does.
 * Nothing is decoded: H.264 and AAC pass through untouched.
 *
 * ## Connections
 * Standalone (`port` >= 0), it listens on `host`:`port` (RTMPS when
 * `tls-certificate-file` and `tls-key-file` are set: TLS from the first
 * byte), on a thread of its own, and takes a publisher that connects to
 * `application` and publishes `stream-key` (its stream name, as in
 * rtmp://HOST:PORT/APPLICATION/STREAM-KEY; a "?query" tail is ignored): a
 * wrong key is answered NetStream.Publish.BadName, an unknown application
 * NetConnection.Connect.Rejected, and a second publisher while one is live
 * NetStream.Publish.Rejected "already publishing". With `port` = -1 it
 * listens nowhere: an application that owns the port (castline-launcher)
 * hands a publisher over with the `add-connection` action signal, past its
 * handshake, with the bytes it read already.
 *
 * One run is one broadcast: when the publisher ends (FCUnpublish,
 * deleteStream), drops, sends nothing for `idle-timeout` seconds, breaks
 * the protocol, or is ended with `end-publisher`, the stream ends (EOS)
 * once every tag read is out. A lost publisher also posts a warning; none
 * of these is an error of the element.
 *
 * The stream key is never readable, printed or logged.
 *
 * ## Messages
 * Element messages: `rtmpserversrc-publisher-connected` (remote-address,
 * tls) and `rtmpserversrc-publisher-disconnected` (remote-address, reason:
 * "unpublished", "closed", "timeout", "protocol-error" or "ended", and a
 * description).
 *
 * ## Example launch lines
 * |[
 * gst-launch-1.0 -e rtmpserversrc port=1935 application=live stream-key=secret ! \
 *     flvdemux name=d \
 *     d.video ! queue ! h264parse ! mpegtsmux name=m ! filesink location=out.ts \
 *     d.audio ! queue ! aacparse ! m.
 * ]| records, without re-encoding, what
 * `ffmpeg -re -i input.mp4 -c copy -f flv rtmp://127.0.0.1:1935/live/secret`
 * publishes (OBS: Server rtmp://127.0.0.1:1935/live, Stream Key secret).
 * |[
 * gst-launch-1.0 -e rtmpserversrc port=1936 stream-key=secret \
 *     tls-certificate-file=cert.pem tls-key-file=key.pem ! filesink location=out.flv
 * ]| stores what a publisher sends to rtmps://HOST:1936/live/secret as an FLV file.
 */
#include "rtmp/gstrtmpserversrc.h"

#include "castlineelements.h"
#include "common/handover.h"
#include "common/secrets.h"
#include "rtmp/connectionio.h"
#include "rtmp/listenerthread.h"
#include "rtmp/publisherreader.h"
#include "rtmp/rtmplistener.h"

#include <deque>
#include <memory>
#include <mutex>
#include <string>

GST_DEBUG_CATEGORY_STATIC (gst_rtmp_server_src_debug);
#define GST_CAT_DEFAULT gst_rtmp_server_src_debug

using namespace castline::rtmp;

#define DEFAULT_HOST "0.0.0.0"
#define DEFAULT_PORT 1935
#define DEFAULT_APPLICATION "live"
#define DEFAULT_IDLE_TIMEOUT 10
#define DEFAULT_MAX_MESSAGE_SIZE (4 * 1024 * 1024)

enum {
  PROP_0,
  PROP_HOST,
  PROP_PORT,
  PROP_BOUND_PORT,
  PROP_APPLICATION,
  PROP_STREAM_KEY,
  PROP_TLS_CERTIFICATE_FILE,
  PROP_TLS_KEY_FILE,
  PROP_IDLE_TIMEOUT,
  PROP_MAX_MESSAGE_SIZE,
};

enum {
  SIGNAL_ADD_CONNECTION,
  SIGNAL_END_PUBLISHER,
  LAST_SIGNAL,
};

static guint signals[LAST_SIGNAL];

static GstStaticPadTemplate src_template = GST_STATIC_PAD_TEMPLATE ("src",
    GST_PAD_SRC, GST_PAD_ALWAYS, GST_STATIC_CAPS ("video/x-flv"));

struct RtmpServerSrcSettings {
  std::string host = DEFAULT_HOST;
  int port = DEFAULT_PORT;
  std::string application = DEFAULT_APPLICATION;
  std::string stream_key;              /* secret: never logged */
  std::string tls_certificate_file, tls_key_file;
  guint idle_timeout = DEFAULT_IDLE_TIMEOUT;
  guint max_message_size = DEFAULT_MAX_MESSAGE_SIZE;

  Limits limits () const
  {
    Limits l;
    l.max_message_size = max_message_size;
    l.max_buffered = std::max (l.max_buffered, (size_t) max_message_size * 2);
    return l;
  }
};

/* A connection handed over, until the streaming thread takes it. */
struct RtmpIncoming {
  GIOStream *connection;
  GBytes *replay;
  std::string remote_address;

  RtmpIncoming (GIOStream * c, GBytes * r, std::string address)
      : connection (G_IO_STREAM (g_object_ref (c))), replay (r ? g_bytes_ref (r) : nullptr),
        remote_address (std::move (address)) {}
  ~RtmpIncoming ()
  {
    g_object_unref (connection);
    if (replay)
      g_bytes_unref (replay);
  }
  RtmpIncoming (const RtmpIncoming &) = delete;
  RtmpIncoming & operator= (const RtmpIncoming &) = delete;
};

struct GstRtmpServerSrcPrivate {
  castline::HandOver<RtmpIncoming> handover; /* the run's publisher */
  std::mutex lock;                     /* settings and the state below */
  RtmpServerSrcSettings settings;
  GCancellable *cancellable = nullptr; /* the streaming thread's reads */
  int bound_port = 0;
  std::unique_ptr<ListenerThread> listener;

  /* the streaming thread's */
  std::unique_ptr<PublisherReader> reader;
  std::string remote_address;
  std::deque<FlvTag> tags;
  bool header_sent = false;
  bool publisher_gone = false;         /* drain the tags, then EOS */
  guint64 offset = 0;
};

struct _GstRtmpServerSrc {
  GstPushSrc parent;
  GstRtmpServerSrcPrivate *priv;
};

G_DEFINE_TYPE_WITH_CODE (GstRtmpServerSrc, gst_rtmp_server_src, GST_TYPE_PUSH_SRC,
    GST_DEBUG_CATEGORY_INIT (gst_rtmp_server_src_debug, "rtmpserversrc", 0,
        "RTMP server source"));
GST_ELEMENT_REGISTER_DEFINE (rtmpserversrc, "rtmpserversrc", GST_RANK_NONE,
    GST_TYPE_RTMP_SERVER_SRC);

static void gst_rtmp_server_src_finalize (GObject * object);
static void gst_rtmp_server_src_set_property (GObject * object, guint prop_id,
    const GValue * value, GParamSpec * pspec);
static void gst_rtmp_server_src_get_property (GObject * object, guint prop_id,
    GValue * value, GParamSpec * pspec);
static gboolean gst_rtmp_server_src_start (GstBaseSrc * bsrc);
static gboolean gst_rtmp_server_src_stop (GstBaseSrc * bsrc);
static gboolean gst_rtmp_server_src_unlock (GstBaseSrc * bsrc);
static gboolean gst_rtmp_server_src_unlock_stop (GstBaseSrc * bsrc);
static gboolean gst_rtmp_server_src_is_seekable (GstBaseSrc * bsrc);
static GstFlowReturn gst_rtmp_server_src_create (GstPushSrc * psrc, GstBuffer ** buf);

static gboolean add_connection (GstRtmpServerSrc * self, GIOStream * connection,
    GBytes * replay, const gchar * remote_address);
static void end_publisher (GstRtmpServerSrc * self, const gchar * description);
static std::unique_ptr<ListenerThread> start_listener (GstRtmpServerSrc * self,
    const RtmpServerSrcSettings & s, std::string & error);

static void
gst_rtmp_server_src_class_init (GstRtmpServerSrcClass * klass)
{
  auto *gobject_class = G_OBJECT_CLASS (klass);
  auto *element_class = GST_ELEMENT_CLASS (klass);
  auto *basesrc_class = GST_BASE_SRC_CLASS (klass);
  auto *pushsrc_class = GST_PUSH_SRC_CLASS (klass);
  const auto rw = (GParamFlags) (G_PARAM_READWRITE | G_PARAM_STATIC_STRINGS
      | GST_PARAM_MUTABLE_READY);

  gobject_class->set_property = gst_rtmp_server_src_set_property;
  gobject_class->get_property = gst_rtmp_server_src_get_property;
  gobject_class->finalize = gst_rtmp_server_src_finalize;

  g_object_class_install_property (gobject_class, PROP_HOST,
      g_param_spec_string ("host", "Host",
          "IP address the standalone listener listens on (\"0.0.0.0\" for every IPv4 "
          "interface, \"localhost\" for 127.0.0.1)", DEFAULT_HOST, rw));
  g_object_class_install_property (gobject_class, PROP_PORT,
      g_param_spec_int ("port", "Port",
          "TCP port of the standalone listener; 0 picks a free one (read it from bound-port), "
          "-1 runs no listener: publishers come only through add-connection",
          -1, 65535, DEFAULT_PORT, rw));
  g_object_class_install_property (gobject_class, PROP_BOUND_PORT,
      g_param_spec_int ("bound-port", "Bound port",
          "The port the standalone listener listens on once started, else 0", 0, 65535, 0,
          (GParamFlags) (G_PARAM_READABLE | G_PARAM_STATIC_STRINGS)));
  g_object_class_install_property (gobject_class, PROP_APPLICATION,
      g_param_spec_string ("application", "Application",
          "The RTMP application publishers of the standalone listener must connect to (the "
          "first path segment of rtmp://HOST:PORT/APPLICATION/STREAM-KEY); \"\" any",
          DEFAULT_APPLICATION, rw));
  g_object_class_install_property (gobject_class, PROP_STREAM_KEY,
      g_param_spec_string ("stream-key", "Stream key",
          "The stream name a publisher of the standalone listener must publish (compared in "
          "constant time, a \"?query\" tail ignored); a wrong one is refused with "
          "NetStream.Publish.BadName. Unset: any name. Write-only, never logged", nullptr,
          (GParamFlags) (G_PARAM_WRITABLE | G_PARAM_STATIC_STRINGS | GST_PARAM_MUTABLE_READY)));
  g_object_class_install_property (gobject_class, PROP_TLS_CERTIFICATE_FILE,
      g_param_spec_string ("tls-certificate-file", "TLS certificate file",
          "PEM file of the standalone listener's certificate (and its chain); with "
          "tls-key-file it speaks RTMPS, TLS from the first byte", nullptr, rw));
  g_object_class_install_property (gobject_class, PROP_TLS_KEY_FILE,
      g_param_spec_string ("tls-key-file", "TLS key file",
          "PEM file of the private key of tls-certificate-file", nullptr, rw));
  g_object_class_install_property (gobject_class, PROP_IDLE_TIMEOUT,
      g_param_spec_uint ("idle-timeout", "Idle timeout",
          "Seconds without a byte from the live publisher after which it is closed and the "
          "stream ends (EOS) with a warning; also bounds writing to it. 0 waits forever",
          0, G_MAXUINT / 1000, DEFAULT_IDLE_TIMEOUT, rw));
  g_object_class_install_property (gobject_class, PROP_MAX_MESSAGE_SIZE,
      g_param_spec_uint ("max-message-size", "Max message size",
          "Largest RTMP message (a video frame) in bytes; a larger one is a protocol error "
          "that closes the publisher", 4096, 256 * 1024 * 1024, DEFAULT_MAX_MESSAGE_SIZE, rw));

  /**
   * GstRtmpServerSrc::add-connection:
   * @src: the rtmpserversrc
   * @connection: a publisher's #GSocketConnection or #GTlsConnection, past
   *   its RTMP handshake
   * @replay: (nullable): every byte read from it after the handshake (and
   *   answered already by whoever read it: connect, createStream, publish)
   * @remote_address: (nullable): the publisher's address, for messages
   *
   * Hands a publisher over. Any thread. Returns FALSE when the source does
   * not take it (not started, a publisher is there already, or the stream
   * has ended): the connection stays the caller's. TRUE: the source holds
   * a reference and reads it on its streaming thread.
   */
  signals[SIGNAL_ADD_CONNECTION] = g_signal_new_class_handler ("add-connection",
      G_TYPE_FROM_CLASS (klass), (GSignalFlags) (G_SIGNAL_RUN_LAST | G_SIGNAL_ACTION),
      G_CALLBACK (add_connection), nullptr, nullptr, nullptr, G_TYPE_BOOLEAN, 3,
      G_TYPE_IO_STREAM, G_TYPE_BYTES, G_TYPE_STRING);

  /**
   * GstRtmpServerSrc::end-publisher:
   * @src: the rtmpserversrc
   * @description: (nullable): what the publisher is told
   *
   * Sends the publisher onStatus NetStream.Unpublish.Success with the
   * description, closes it and ends the stream (EOS) once every tag read
   * is out. Any thread.
   */
  signals[SIGNAL_END_PUBLISHER] = g_signal_new_class_handler ("end-publisher",
      G_TYPE_FROM_CLASS (klass), (GSignalFlags) (G_SIGNAL_RUN_LAST | G_SIGNAL_ACTION),
      G_CALLBACK (end_publisher), nullptr, nullptr, nullptr, G_TYPE_NONE, 1, G_TYPE_STRING);

  gst_element_class_add_static_pad_template (element_class, &src_template);
  gst_element_class_set_static_metadata (element_class, "RTMP server source",
      "Source/Network",
      "Receives one RTMP or RTMPS publisher (OBS, ffmpeg, encoders) and outputs its FLV "
      "stream, untouched (own listener, or connections handed over by add-connection). "
      "Example: gst-launch-1.0 -e rtmpserversrc port=1935 stream-key=secret ! "
      "filesink location=out.flv",
      "castline");

  basesrc_class->start = GST_DEBUG_FUNCPTR (gst_rtmp_server_src_start);
  basesrc_class->stop = GST_DEBUG_FUNCPTR (gst_rtmp_server_src_stop);
  basesrc_class->unlock = GST_DEBUG_FUNCPTR (gst_rtmp_server_src_unlock);
  basesrc_class->unlock_stop = GST_DEBUG_FUNCPTR (gst_rtmp_server_src_unlock_stop);
  basesrc_class->is_seekable = GST_DEBUG_FUNCPTR (gst_rtmp_server_src_is_seekable);
  pushsrc_class->create = GST_DEBUG_FUNCPTR (gst_rtmp_server_src_create);
}

static void
gst_rtmp_server_src_init (GstRtmpServerSrc * self)
{
  self->priv = new GstRtmpServerSrcPrivate ();
  gst_base_src_set_live (GST_BASE_SRC (self), TRUE);
  gst_base_src_set_format (GST_BASE_SRC (self), GST_FORMAT_BYTES);
}

static void
gst_rtmp_server_src_finalize (GObject * object)
{
  auto *p = GST_RTMP_SERVER_SRC (object)->priv;
  g_clear_object (&p->cancellable);
  delete p;
  G_OBJECT_CLASS (gst_rtmp_server_src_parent_class)->finalize (object);
}

static std::string
string_or (const GValue * value, const char *fallback)
{
  const gchar *s = g_value_get_string (value);
  return s ? s : fallback;
}

static void
gst_rtmp_server_src_set_property (GObject * object, guint prop_id, const GValue * value,
    GParamSpec * pspec)
{
  auto *self = GST_RTMP_SERVER_SRC (object);
  std::lock_guard<std::mutex> lk (self->priv->lock);
  RtmpServerSrcSettings & s = self->priv->settings;
  switch (prop_id) {
    case PROP_HOST:
      s.host = string_or (value, DEFAULT_HOST);
      break;
    case PROP_PORT:
      s.port = g_value_get_int (value);
      break;
    case PROP_APPLICATION:
      s.application = string_or (value, "");
      break;
    case PROP_STREAM_KEY:
      s.stream_key = string_or (value, "");
      break;
    case PROP_TLS_CERTIFICATE_FILE:
      s.tls_certificate_file = string_or (value, "");
      break;
    case PROP_TLS_KEY_FILE:
      s.tls_key_file = string_or (value, "");
      break;
    case PROP_IDLE_TIMEOUT:
      s.idle_timeout = g_value_get_uint (value);
      break;
    case PROP_MAX_MESSAGE_SIZE:
      s.max_message_size = g_value_get_uint (value);
      break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
      break;
  }
}

static void
gst_rtmp_server_src_get_property (GObject * object, guint prop_id, GValue * value,
    GParamSpec * pspec)
{
  auto *self = GST_RTMP_SERVER_SRC (object);
  std::lock_guard<std::mutex> lk (self->priv->lock);
  const RtmpServerSrcSettings & s = self->priv->settings;
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
    case PROP_APPLICATION:
      g_value_set_string (value, s.application.c_str ());
      break;
    case PROP_TLS_CERTIFICATE_FILE:
      g_value_set_string (value, s.tls_certificate_file.empty () ? nullptr :
          s.tls_certificate_file.c_str ());
      break;
    case PROP_TLS_KEY_FILE:
      g_value_set_string (value, s.tls_key_file.empty () ? nullptr : s.tls_key_file.c_str ());
      break;
    case PROP_IDLE_TIMEOUT:
      g_value_set_uint (value, s.idle_timeout);
      break;
    case PROP_MAX_MESSAGE_SIZE:
      g_value_set_uint (value, s.max_message_size);
      break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
      break;
  }
}

static gboolean
gst_rtmp_server_src_start (GstBaseSrc * bsrc)
{
  auto *self = GST_RTMP_SERVER_SRC (bsrc);
  GstRtmpServerSrcPrivate *p = self->priv;
  RtmpServerSrcSettings s;
  {
    std::lock_guard<std::mutex> lk (p->lock);
    s = p->settings;
    g_clear_object (&p->cancellable);
    p->cancellable = g_cancellable_new ();
  }
  p->handover.start ();
  p->reader.reset ();
  p->tags.clear ();
  p->header_sent = false;
  p->publisher_gone = false;
  p->offset = 0;

  if (s.port < 0)
    return TRUE;
  std::string error;
  auto listener = start_listener (self, s, error);
  if (!listener) {
    GST_ELEMENT_ERROR (self, RESOURCE, OPEN_READ,
        ("The RTMP listener for publishers cannot start: %s", error.c_str ()),
        ("standalone listener on %s:%d (port=-1 runs none: publishers then come through "
            "add-connection)", s.host.c_str (), s.port));
    p->handover.stop ();
    return FALSE;
  }
  int port = listener->port ();
  GST_INFO_OBJECT (self, "listening on %s://%s:%d/%s%s", s.tls_certificate_file.empty () ?
      "rtmp" : "rtmps", s.host.c_str (), port, s.application.c_str (),
      s.stream_key.empty () ? " (any stream key)" : " (stream key required)");
  std::lock_guard<std::mutex> lk (p->lock);
  p->listener = std::move (listener);
  p->bound_port = port;
  return TRUE;
}

static gboolean
gst_rtmp_server_src_stop (GstBaseSrc * bsrc)
{
  auto *self = GST_RTMP_SERVER_SRC (bsrc);
  GstRtmpServerSrcPrivate *p = self->priv;
  std::unique_ptr<ListenerThread> listener;
  std::unique_ptr<RtmpIncoming> incoming = p->handover.stop ();
  {
    std::lock_guard<std::mutex> lk (p->lock);
    listener = std::move (p->listener);
    p->bound_port = 0;
  }
  /* outside the lock: its thread may be in add_connection */
  listener.reset ();
  if (incoming)
    close_now (incoming->connection);
  /* the streaming thread is stopped */
  p->reader.reset ();
  p->tags.clear ();
  return TRUE;
}

static gboolean
gst_rtmp_server_src_unlock (GstBaseSrc * bsrc)
{
  auto *p = GST_RTMP_SERVER_SRC (bsrc)->priv;
  p->handover.unlock ();
  std::lock_guard<std::mutex> lk (p->lock);
  if (p->cancellable)
    g_cancellable_cancel (p->cancellable);
  return TRUE;
}

static gboolean
gst_rtmp_server_src_unlock_stop (GstBaseSrc * bsrc)
{
  auto *p = GST_RTMP_SERVER_SRC (bsrc)->priv;
  p->handover.unlock_stop ();
  std::lock_guard<std::mutex> lk (p->lock);
  if (!p->cancellable || g_cancellable_is_cancelled (p->cancellable)) {
    g_clear_object (&p->cancellable);
    p->cancellable = g_cancellable_new ();
  }
  return TRUE;
}

static gboolean
gst_rtmp_server_src_is_seekable (GstBaseSrc *)
{
  return FALSE;                        /* push mode only: what a socket gives */
}

/* ---- the streaming thread ---- */

static void
post (GstRtmpServerSrc * self, GstStructure * s)
{
  gst_element_post_message (GST_ELEMENT (self), gst_message_new_element (GST_OBJECT (self), s));
}

/* The publisher is gone (reader's reason): the messages, then the stream
 * drains and ends. */
static void
publisher_ended (GstRtmpServerSrc * self)
{
  GstRtmpServerSrcPrivate *p = self->priv;
  EndReason reason = p->reader->reason ();
  const std::string & description = p->reader->description ();
  GST_INFO_OBJECT (self, "publisher %s gone (%s): %s; %" G_GUINT64_FORMAT " bytes received",
      p->remote_address.c_str (), end_reason_name (reason), description.c_str (),
      p->reader->bytes_received ());
  p->handover.ended ();
  p->publisher_gone = true;
  post (self, gst_structure_new ("rtmpserversrc-publisher-disconnected",
          "remote-address", G_TYPE_STRING, p->remote_address.c_str (),
          "reason", G_TYPE_STRING, end_reason_name (reason),
          "description", G_TYPE_STRING, description.c_str (), NULL));
  const char *text = nullptr;
  switch (reason) {
    case EndReason::Closed:
      text = "The publisher's connection dropped without unpublishing: the stream ends";
      break;
    case EndReason::Timeout:
      text = "Nothing from the publisher within idle-timeout: the stream ends";
      break;
    case EndReason::ProtocolError:
      text = "The publisher broke the RTMP protocol or a limit and was closed: the stream ends";
      break;
    default:
      break;
  }
  if (text)
    GST_ELEMENT_WARNING (self, RESOURCE, READ, ("%s", text), ("publisher %s: %s",
            p->remote_address.c_str (), description.c_str ()));
}

/* Blocks until a publisher is handed over (its reader made and its replay
 * read), the stream is ended before one came, or flushing. */
static GstFlowReturn
wait_for_publisher (GstRtmpServerSrc * self, uint64_t unlocks)
{
  GstRtmpServerSrcPrivate *p = self->priv;
  std::unique_ptr<RtmpIncoming> incoming;
  switch (p->handover.wait (unlocks, incoming)) {
    case castline::HandOver<RtmpIncoming>::Wait::flushing:
      return GST_FLOW_FLUSHING;
    case castline::HandOver<RtmpIncoming>::Wait::ended:
      GST_INFO_OBJECT (self, "ended before any publisher came");
      p->publisher_gone = true;
      return GST_FLOW_OK;
    case castline::HandOver<RtmpIncoming>::Wait::incoming:
      break;
  }
  RtmpServerSrcSettings s;
  {
    std::lock_guard<std::mutex> lk (p->lock);
    s = p->settings;
  }
  p->reader = std::make_unique<PublisherReader> (incoming->connection, s.limits (),
      s.idle_timeout);
  p->remote_address = incoming->remote_address;
  GST_INFO_OBJECT (self, "publisher %s is live (%s, %" G_GSIZE_FORMAT " bytes to replay)",
      p->remote_address.c_str (), p->reader->tls () ? "RTMPS" : "RTMP",
      incoming->replay ? g_bytes_get_size (incoming->replay) : 0);
  post (self, gst_structure_new ("rtmpserversrc-publisher-connected",
          "remote-address", G_TYPE_STRING, p->remote_address.c_str (),
          "tls", G_TYPE_BOOLEAN, p->reader->tls (), NULL));
  if (!p->reader->replay (incoming->replay, p->tags))
    publisher_ended (self);
  return GST_FLOW_OK;
}

static GstBuffer *
take_bytes (GstRtmpServerSrc * self, GBytes * bytes)
{
  GstBuffer *buffer = gst_buffer_new_wrapped_bytes (bytes);
  g_bytes_unref (bytes);
  GST_BUFFER_OFFSET (buffer) = self->priv->offset;
  self->priv->offset += gst_buffer_get_size (buffer);
  GST_BUFFER_OFFSET_END (buffer) = self->priv->offset;
  return buffer;
}

/* The FLV header before the first tag, flagged with what the publisher
 * sends (onMetaData's codecs, or the tags seen), then each tag. */
static GstBuffer *
next_buffer (GstRtmpServerSrc * self)
{
  GstRtmpServerSrcPrivate *p = self->priv;
  if (!p->header_sent) {
    const PublishedCodecs & c = p->reader->codecs ();
    bool video = !c.video.empty () || c.video_seen;
    bool audio = !c.audio.empty () || c.audio_seen;
    if (!video && !audio) {
      video = p->tags.front ().type == 9;
      audio = p->tags.front ().type == 8;
    }
    GST_INFO_OBJECT (self, "FLV header: video %s, audio %s", video ? c.video.c_str () : "none",
        audio ? c.audio.c_str () : "none");
    p->header_sent = true;
    return take_bytes (self, flv_header (audio, video));
  }
  FlvTag tag = std::move (p->tags.front ());
  p->tags.pop_front ();
  return take_bytes (self, flv_tag (tag));
}

static GstFlowReturn
gst_rtmp_server_src_create (GstPushSrc * psrc, GstBuffer ** buf)
{
  auto *self = GST_RTMP_SERVER_SRC (psrc);
  GstRtmpServerSrcPrivate *p = self->priv;
  uint64_t unlocks = p->handover.unlocks ();
  if (!p->reader && !p->publisher_gone) {
    GstFlowReturn ret = wait_for_publisher (self, unlocks);
    if (ret != GST_FLOW_OK)
      return ret;
  }
  while (true) {
    if (!p->tags.empty ()) {
      *buf = next_buffer (self);
      return GST_FLOW_OK;
    }
    if (p->publisher_gone) {
      GST_INFO_OBJECT (self, "end of stream after %" G_GUINT64_FORMAT " bytes", p->offset);
      return GST_FLOW_EOS;
    }
    g_autoptr (GCancellable) cancellable = nullptr;
    std::string end_description;
    bool end = false;
    if (p->handover.interrupted (unlocks, &end, &end_description))
      return GST_FLOW_FLUSHING;
    {
      std::lock_guard<std::mutex> lk (p->lock);
      cancellable = G_CANCELLABLE (g_object_ref (p->cancellable));
    }
    if (end) {
      p->reader->end (end_description);
      publisher_ended (self);
      continue;
    }
    switch (p->reader->read (cancellable, p->tags)) {
      case PublisherReader::Read::Ok:
      case PublisherReader::Read::Cancelled:
        break;                         /* flushing or end_requested: seen above */
      case PublisherReader::Read::Ended:
        publisher_ended (self);
        break;
    }
  }
}

/* ---- handing publishers over ---- */

static gboolean
add_connection (GstRtmpServerSrc * self, GIOStream * connection, GBytes * replay,
    const gchar * remote_address)
{
  g_return_val_if_fail (G_IS_IO_STREAM (connection), FALSE);
  std::string address = remote_address ? remote_address : remote_address_of (connection);
  auto incoming = std::make_unique<RtmpIncoming> (connection, replay, address);
  const char *why = nullptr;
  if (!self->priv->handover.offer (incoming, &why)) {
    GST_INFO_OBJECT (self, "not taking %s: %s", address.c_str (), why);
    return FALSE;
  }
  GST_INFO_OBJECT (self, "publisher %s handed over", address.c_str ());
  return TRUE;
}

static void
end_publisher (GstRtmpServerSrc * self, const gchar * description)
{
  GstRtmpServerSrcPrivate *p = self->priv;
  if (!p->handover.request_end (description ? description : ""))
    return;
  GST_INFO_OBJECT (self, "ending the publisher: %s", description ? description : "");
  std::lock_guard<std::mutex> lk (p->lock);
  if (p->cancellable)
    g_cancellable_cancel (p->cancellable);
}

/* ---- the standalone listener ---- */

static std::unique_ptr<ListenerThread>
start_listener (GstRtmpServerSrc * self, const RtmpServerSrcSettings & s, std::string & error)
{
  ListenerSettings ls;
  ls.host = s.host;
  ls.port = s.port;
  ls.tls_certificate_file = s.tls_certificate_file;
  ls.tls_key_file = s.tls_key_file;
  ls.application = s.application;
  ls.limits = s.limits ();

  /* on the listener's thread, which stop () joins before self goes */
  auto decide = [self, key = s.stream_key] (const PublishRequest & request,
      std::shared_ptr<PublishDecision> decision) {
    if (!key.empty () && !castline::keys_equal (key, request.stream_name)) {
      GST_INFO_OBJECT (self, "refused %s: wrong stream key", request.remote_address.c_str ());
      decision->refuse ("NetStream.Publish.BadName", "wrong stream key");
      return;
    }
    if (!self->priv->handover.accepting ()) {
      GST_INFO_OBJECT (self, "refused %s: already publishing", request.remote_address.c_str ());
      decision->refuse ("NetStream.Publish.Rejected", "already publishing");
      return;
    }
    decision->accept ();
  };
  auto ready = [self] (Publisher && publisher) {
    if (add_connection (self, publisher.connection, publisher.replay,
            publisher.request.remote_address.c_str ()))
      g_clear_object (&publisher.connection);
    else
      reject_publisher (std::move (publisher), "NetStream.Publish.Rejected",
          "already publishing");
  };
  auto listener = std::make_unique<ListenerThread> ();
  if (!listener->start (std::move (ls), std::move (decide), std::move (ready), error))
    return nullptr;
  return listener;
}
