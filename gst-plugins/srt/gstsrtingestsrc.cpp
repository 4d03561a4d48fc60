/**
 * SECTION:element-srtingestsrc
 * @title: srtingestsrc
 *
 * srtingestsrc is an SRT server for one caller in live mode: OBS, vMix,
 * ffmpeg, hardware encoders, GStreamer's srtsink or srt-live-transmit call
 * it and it outputs the MPEG-TS they send (`video/mpegts`, whole 188-byte
 * packets, many to a buffer) for `tsdemux`. Nothing is decoded: H.264,
 * HEVC, AAC and Opus pass through untouched. Unlike `srtsrc` in listener
 * mode, it reads each caller's stream id before accepting it, so callers
 * are refused with a reason they see. (Its name is not "srtserversrc":
 * GStreamer's srt plugin registers that one, a deprecated name of srtsrc
 * in listener mode, and whichever plugin registers last would win.)
 *
 * ## Connections
 * Standalone (`port` >= 0), it listens on `host`:`port` (UDP) and takes a
 * caller whose stream id carries `stream-id`: either bare (ffmpeg's
 * `srt://HOST:PORT?streamid=KEY`, OBS's `streamid=KEY`) or in SRT's Access
 * Control form `#!::r=KEY,m=publish` (SRS and many encoders). A wrong key
 * is refused with SRT_REJX_UNAUTHORIZED (1401), a second caller while one
 * is live with SRT_REJX_CONFLICT (1409), `m=request` (playback) with
 * SRT_REJX_BAD_MODE (1405), a caller without a stream id (even with
 * `stream-id` unset, which takes any) with SRT_REJX_BAD_REQUEST (1400);
 * the caller's libsrt holds the code (srt_getrejectreason; ffmpeg 5.1,
 * srtsink and srt-live-transmit print only "Application-defined rejection
 * reason"). With `port`
 * = -1 it listens nowhere: an application that owns the port
 * (castline-launcher, one port for every stream) hands an accepted caller
 * over with the `add-caller` action signal.
 *
 * With `passphrase` set the caller must encrypt with the same one (AES,
 * `pbkeylen` bytes of key; 0 takes the caller's); a caller without it or
 * with another is refused by libsrt itself ("bad secret").
 *
 * One run is one broadcast: when the caller closes the link or it breaks
 * ("closed"), sends nothing for `idle-timeout` seconds ("timeout"), does
 * not send MPEG-TS ("not-ts": also an element error) or is ended with
 * `end-caller` ("ended"), the stream ends (EOS) once every packet read is
 * out. A lost caller also posts a warning.
 *
 * The stream id and the passphrase are never readable, printed or logged
 * by the element (gst-launch-1.0's parser does log the whole pipeline
 * description at GST_DEBUG level 4 and above).
 *
 * ## Messages
 * Element messages: `srtingestsrc-caller-connected` (remote-address) and
 * `srtingestsrc-caller-disconnected` (remote-address, reason: "closed",
 * "timeout", "not-ts" or "ended", and a description). The `stats` property
 * holds the caller's link statistics (RTT, loss, retransmissions, rate).
 *
 * ## Example launch lines
 * |[
 * gst-launch-1.0 -e srtingestsrc port=8890 stream-id=secret ! tsdemux name=d \
 *     d. ! video/x-h264 ! queue ! h264parse ! mp4mux name=m ! filesink location=out.mp4 \
 *     d. ! audio/mpeg ! queue ! aacparse ! m.
 * ]| records, without re-encoding, what
 * `ffmpeg -re -i in.mp4 -c copy -f mpegts 'srt://127.0.0.1:8890?streamid=secret'`
 * sends (OBS: Service Custom, Server
 * srt://127.0.0.1:8890?streamid=secret, Stream Key empty: OBS passes SRT
 * options in the URL). The file is finished when the caller stops.
 * |[
 * gst-launch-1.0 -e srtingestsrc port=8890 stream-id=secret ! tsdemux name=d \
 *     d. ! video/x-h264 ! queue max-size-time=0 max-size-buffers=0 max-size-bytes=67108864 ! \
 *     h264parse ! hls.video \
 *     d. ! audio/mpeg ! queue max-size-time=0 max-size-buffers=0 max-size-bytes=16777216 ! \
 *     aacparse ! hls.audio \
 *     hlssink2 name=hls target-duration=2 location=/tmp/segment%05d.ts \
 *     playlist-location=/tmp/playlist.m3u8
 * ]| makes HLS of what the caller sends, without re-encoding.
 */
#include "srt/gstsrtingestsrc.h"

#include "castlineelements.h"
#include "common/handover.h"
#include "common/secrets.h"
#include "srt/callerreader.h"
#include "srt/srtlistener.h"
#include "srt/srtsocket.h"

#include <srt/access_control.h>

#include <memory>
#include <mutex>
#include <string>
#include <vector>

GST_DEBUG_CATEGORY_STATIC (gst_srt_ingest_src_debug);
#define GST_CAT_DEFAULT gst_srt_ingest_src_debug

using namespace castline::srt;

#define DEFAULT_HOST "0.0.0.0"
#define DEFAULT_PORT 8890
#define DEFAULT_LATENCY 120
#define DEFAULT_PBKEYLEN 0
#define DEFAULT_MAX_PAYLOAD_SIZE 1316
#define DEFAULT_RECEIVE_BUFFER_SIZE 0
#define DEFAULT_IDLE_TIMEOUT 10
#define DEFAULT_PRELUDE_TIMEOUT 5

/* a buffer carries at most this much (whole packets) */
static constexpr size_t kMaxBufferBytes = 64 * 1024;
/* the longest the streaming thread waits for the caller at once */
static constexpr int kReadSliceMs = 100;

enum {
  PROP_0,
  PROP_HOST,
  PROP_PORT,
  PROP_BOUND_PORT,
  PROP_STREAM_ID,
  PROP_LATENCY,
  PROP_PASSPHRASE,
  PROP_PBKEYLEN,
  PROP_MAX_PAYLOAD_SIZE,
  PROP_RECEIVE_BUFFER_SIZE,
  PROP_IDLE_TIMEOUT,
  PROP_PRELUDE_TIMEOUT,
  PROP_STATS,
};

enum {
  SIGNAL_ADD_CALLER,
  SIGNAL_END_CALLER,
  LAST_SIGNAL,
};

static guint signals[LAST_SIGNAL];

static GstStaticPadTemplate src_template = GST_STATIC_PAD_TEMPLATE ("src",
    GST_PAD_SRC, GST_PAD_ALWAYS,
    GST_STATIC_CAPS ("video/mpegts, systemstream=(boolean)true, packetsize=(int)188"));

struct SrtIngestSrcSettings {
  std::string host = DEFAULT_HOST;
  int port = DEFAULT_PORT;
  std::string stream_id;               /* secret: never logged */
  std::string passphrase;              /* secret: never logged */
  guint latency = DEFAULT_LATENCY;
  gint pbkeylen = DEFAULT_PBKEYLEN;
  guint max_payload_size = DEFAULT_MAX_PAYLOAD_SIZE;
  guint receive_buffer_size = DEFAULT_RECEIVE_BUFFER_SIZE;
  guint idle_timeout = DEFAULT_IDLE_TIMEOUT;
  guint prelude_timeout = DEFAULT_PRELUDE_TIMEOUT;
};

/* A caller handed over, until the streaming thread takes it. */
struct SrtIncoming {
  SrtSocket socket;
  GBytes *replay;
  std::string remote_address;

  SrtIncoming (SrtSocket s, GBytes * r, std::string address)
      : socket (std::move (s)), replay (r ? g_bytes_ref (r) : nullptr),
        remote_address (std::move (address)) {}
  ~SrtIncoming ()
  {
    if (replay)
      g_bytes_unref (replay);
  }
  SrtIncoming (const SrtIncoming &) = delete;
  SrtIncoming & operator= (const SrtIncoming &) = delete;
};

struct GstSrtIngestSrcPrivate {
  castline::HandOver<SrtIncoming> handover; /* the run's caller */
  std::mutex lock;                     /* settings and the state below */
  SrtIngestSrcSettings settings;
  int bound_port = 0;
  /* the live caller, for stats (the streaming thread sets them) */
  SRTSOCKET live_socket = SRT_INVALID_SOCK;
  std::string live_address;
  guint64 live_resyncs = 0;
  std::unique_ptr<SrtLibrary> library; /* from start to stop */
  std::unique_ptr<SrtListener> listener;

  /* the streaming thread's */
  std::unique_ptr<CallerReader> reader;
  std::string remote_address;
  std::vector<uint8_t> pending;        /* whole packets not pushed yet */
  size_t pending_at = 0;
  bool caller_gone = false;            /* push pending, then EOS */
};

struct _GstSrtIngestSrc {
  GstPushSrc parent;
  GstSrtIngestSrcPrivate *priv;
};

G_DEFINE_TYPE_WITH_CODE (GstSrtIngestSrc, gst_srt_ingest_src, GST_TYPE_PUSH_SRC,
    GST_DEBUG_CATEGORY_INIT (gst_srt_ingest_src_debug, "srtingestsrc", 0,
        "SRT server source"));
GST_ELEMENT_REGISTER_DEFINE (srtingestsrc, "srtingestsrc", GST_RANK_NONE,
    GST_TYPE_SRT_INGEST_SRC);

static void gst_srt_ingest_src_finalize (GObject * object);
static void gst_srt_ingest_src_set_property (GObject * object, guint prop_id,
    const GValue * value, GParamSpec * pspec);
static void gst_srt_ingest_src_get_property (GObject * object, guint prop_id,
    GValue * value, GParamSpec * pspec);
static gboolean gst_srt_ingest_src_start (GstBaseSrc * bsrc);
static gboolean gst_srt_ingest_src_stop (GstBaseSrc * bsrc);
static gboolean gst_srt_ingest_src_unlock (GstBaseSrc * bsrc);
static gboolean gst_srt_ingest_src_unlock_stop (GstBaseSrc * bsrc);
static gboolean gst_srt_ingest_src_is_seekable (GstBaseSrc * bsrc);
static GstFlowReturn gst_srt_ingest_src_create (GstPushSrc * psrc, GstBuffer ** buf);

static gboolean add_caller_signal (GstSrtIngestSrc * self, gint socket, GBytes * replay,
    const gchar * remote_address);
static void end_caller (GstSrtIngestSrc * self, const gchar * reason);
static GstStructure *stats (GstSrtIngestSrc * self);
static std::unique_ptr<SrtListener> start_listener (GstSrtIngestSrc * self,
    const SrtIngestSrcSettings & s, std::string & error);

static void
gst_srt_ingest_src_class_init (GstSrtIngestSrcClass * klass)
{
  auto *gobject_class = G_OBJECT_CLASS (klass);
  auto *element_class = GST_ELEMENT_CLASS (klass);
  auto *basesrc_class = GST_BASE_SRC_CLASS (klass);
  auto *pushsrc_class = GST_PUSH_SRC_CLASS (klass);
  const auto rw = (GParamFlags) (G_PARAM_READWRITE | G_PARAM_STATIC_STRINGS
      | GST_PARAM_MUTABLE_READY);
  const auto secret = (GParamFlags) (G_PARAM_WRITABLE | G_PARAM_STATIC_STRINGS
      | GST_PARAM_MUTABLE_READY);

  gobject_class->set_property = gst_srt_ingest_src_set_property;
  gobject_class->get_property = gst_srt_ingest_src_get_property;
  gobject_class->finalize = gst_srt_ingest_src_finalize;

  g_object_class_install_property (gobject_class, PROP_HOST,
      g_param_spec_string ("host", "Host",
          "IP address the standalone listener listens on (\"0.0.0.0\" for every IPv4 "
          "interface, \"::\" for IPv6, \"localhost\" for 127.0.0.1)", DEFAULT_HOST, rw));
  g_object_class_install_property (gobject_class, PROP_PORT,
      g_param_spec_int ("port", "Port",
          "UDP port of the standalone listener; 0 picks a free one (read it from bound-port), "
          "-1 runs no listener: callers come only through add-caller",
          -1, 65535, DEFAULT_PORT, rw));
  g_object_class_install_property (gobject_class, PROP_BOUND_PORT,
      g_param_spec_int ("bound-port", "Bound port",
          "The UDP port the standalone listener listens on once started, else 0", 0, 65535, 0,
          (GParamFlags) (G_PARAM_READABLE | G_PARAM_STATIC_STRINGS)));
  g_object_class_install_property (gobject_class, PROP_STREAM_ID,
      g_param_spec_string ("stream-id", "Stream id",
          "The key a caller of the standalone listener must send as its stream id, bare "
          "(srt://HOST:PORT?streamid=KEY) or as \"#!::r=KEY,m=publish\" (compared in constant "
          "time); a wrong one is refused with SRT_REJX_UNAUTHORIZED (1401). Unset or \"\": any "
          "key (a caller without a stream id is refused all the same). Write-only, never logged", nullptr, secret));
  g_object_class_install_property (gobject_class, PROP_LATENCY,
      g_param_spec_uint ("latency", "Latency",
          "Receiver latency in milliseconds (SRTO_RCVLATENCY): how long lost packets may be "
          "retransmitted before they are given up; the larger of this and the caller's is used",
          0, 60000, DEFAULT_LATENCY, rw));
  g_object_class_install_property (gobject_class, PROP_PASSPHRASE,
      g_param_spec_string ("passphrase", "Passphrase",
          "Callers of the standalone listener must encrypt with this passphrase (10 to 79 "
          "characters, SRTO_PASSPHRASE); a caller without it or with another is refused. "
          "Unset: unencrypted callers only. Write-only, never logged", nullptr, secret));
  g_object_class_install_property (gobject_class, PROP_PBKEYLEN,
      g_param_spec_int ("pbkeylen", "Key length",
          "AES key length in bytes with a passphrase (SRTO_PBKEYLEN): 16, 24 or 32; 0 takes "
          "the caller's", 0, 32, DEFAULT_PBKEYLEN, rw));
  g_object_class_install_property (gobject_class, PROP_MAX_PAYLOAD_SIZE,
      g_param_spec_uint ("max-payload-size", "Max payload size",
          "Largest SRT message in bytes a caller may send (SRTO_PAYLOADSIZE; 1316 is 7 TS "
          "packets, what encoders send)", 188, 1456, DEFAULT_MAX_PAYLOAD_SIZE, rw));
  g_object_class_install_property (gobject_class, PROP_RECEIVE_BUFFER_SIZE,
      g_param_spec_uint ("receive-buffer-size", "Receive buffer size",
          "Bytes libsrt holds for a caller at most (SRTO_RCVBUF): the bound on what waits "
          "to be read; 0 keeps libsrt's default (about 8 MiB)", 0, 1024 * 1024 * 1024,
          DEFAULT_RECEIVE_BUFFER_SIZE, rw));
  g_object_class_install_property (gobject_class, PROP_IDLE_TIMEOUT,
      g_param_spec_uint ("idle-timeout", "Idle timeout",
          "Seconds without a byte from the live caller after which it is closed and the "
          "stream ends (EOS) with a warning, reason \"timeout\". 0 waits forever (a caller "
          "that vanishes still breaks the link after 5 s, SRTO_PEERIDLETIMEO)",
          0, G_MAXUINT / 1000000, DEFAULT_IDLE_TIMEOUT, rw));
  g_object_class_install_property (gobject_class, PROP_PRELUDE_TIMEOUT,
      g_param_spec_uint ("prelude-timeout", "Prelude timeout",
          "Seconds the standalone listener gives an accepted caller to send an MPEG-TS "
          "program table (PAT and PMT) before it is closed", 1, 3600, DEFAULT_PRELUDE_TIMEOUT,
          rw));
  g_object_class_install_property (gobject_class, PROP_STATS,
      g_param_spec_boxed ("stats", "Statistics",
          "The live caller's link (srt-stats): rtt-ms, receive-rate-mbps, bandwidth-mbps, "
          "latency-ms, packets-received, packets-lost (gaps seen, most recovered), "
          "packets-retransmitted, packets-dropped (too late), packets-undecrypted, "
          "bytes-received, ts-resyncs (MPEG-TS sync lost) and remote-address; empty with no "
          "caller", GST_TYPE_STRUCTURE,
          (GParamFlags) (G_PARAM_READABLE | G_PARAM_STATIC_STRINGS)));

  /**
   * GstSrtIngestSrc::add-caller:
   * @src: the srtingestsrc
   * @socket: an accepted SRT socket (SRTSOCKET) in live mode
   * @replay: (nullable): every payload byte already read from it, as read
   * @remote_address: (nullable): the caller's address, for messages
   *
   * Hands a caller over. Any thread. Returns FALSE when the source does
   * not take it (not started, a caller is there already, or the stream has
   * ended): the socket stays the signal's caller's. TRUE: the source owns
   * the socket and reads it on its streaming thread.
   */
  signals[SIGNAL_ADD_CALLER] = g_signal_new_class_handler ("add-caller",
      G_TYPE_FROM_CLASS (klass), (GSignalFlags) (G_SIGNAL_RUN_LAST | G_SIGNAL_ACTION),
      G_CALLBACK (add_caller_signal), nullptr, nullptr, nullptr, G_TYPE_BOOLEAN, 3,
      G_TYPE_INT, G_TYPE_BYTES, G_TYPE_STRING);

  /**
   * GstSrtIngestSrc::end-caller:
   * @src: the srtingestsrc
   * @reason: (nullable): why, for the disconnected message's description
   *
   * Closes the caller and ends the stream (EOS) once every packet read is
   * out; with no caller yet, ends the stream. Any thread.
   */
  signals[SIGNAL_END_CALLER] = g_signal_new_class_handler ("end-caller",
      G_TYPE_FROM_CLASS (klass), (GSignalFlags) (G_SIGNAL_RUN_LAST | G_SIGNAL_ACTION),
      G_CALLBACK (end_caller), nullptr, nullptr, nullptr, G_TYPE_NONE, 1, G_TYPE_STRING);

  gst_element_class_add_static_pad_template (element_class, &src_template);
  gst_element_class_set_static_metadata (element_class, "SRT server source",
      "Source/Network",
      "Receives one SRT caller (OBS, ffmpeg, encoders, srtsink) chosen by its stream id and "
      "outputs its MPEG-TS, untouched (own listener, or callers handed over by add-caller). "
      "Example: gst-launch-1.0 -e srtingestsrc port=8890 stream-id=secret ! "
      "filesink location=out.ts",
      "castline");

  basesrc_class->start = GST_DEBUG_FUNCPTR (gst_srt_ingest_src_start);
  basesrc_class->stop = GST_DEBUG_FUNCPTR (gst_srt_ingest_src_stop);
  basesrc_class->unlock = GST_DEBUG_FUNCPTR (gst_srt_ingest_src_unlock);
  basesrc_class->unlock_stop = GST_DEBUG_FUNCPTR (gst_srt_ingest_src_unlock_stop);
  basesrc_class->is_seekable = GST_DEBUG_FUNCPTR (gst_srt_ingest_src_is_seekable);
  pushsrc_class->create = GST_DEBUG_FUNCPTR (gst_srt_ingest_src_create);
}

static void
gst_srt_ingest_src_init (GstSrtIngestSrc * self)
{
  self->priv = new GstSrtIngestSrcPrivate ();
  /* live, and untimestamped: tsdemux times the stream by its PCR and PTS.
   * Arrival times (do-timestamp, as srtsrc) make tsdemux estimate clock
   * skew, which bends the first seconds' timestamps: repeated and
   * backward DTS in the first HLS segment (test_launcher_srt.py,
   * LossyLinkTest, with or without loss). */
  gst_base_src_set_live (GST_BASE_SRC (self), TRUE);
  gst_base_src_set_format (GST_BASE_SRC (self), GST_FORMAT_TIME);
  gst_base_src_set_do_timestamp (GST_BASE_SRC (self), FALSE);
}

static void
gst_srt_ingest_src_finalize (GObject * object)
{
  delete GST_SRT_INGEST_SRC (object)->priv;
  G_OBJECT_CLASS (gst_srt_ingest_src_parent_class)->finalize (object);
}

static std::string
string_or (const GValue * value, const char *fallback)
{
  const gchar *s = g_value_get_string (value);
  return s ? s : fallback;
}

static void
gst_srt_ingest_src_set_property (GObject * object, guint prop_id, const GValue * value,
    GParamSpec * pspec)
{
  auto *self = GST_SRT_INGEST_SRC (object);
  std::lock_guard<std::mutex> lk (self->priv->lock);
  SrtIngestSrcSettings & s = self->priv->settings;
  switch (prop_id) {
    case PROP_HOST:
      s.host = string_or (value, DEFAULT_HOST);
      break;
    case PROP_PORT:
      s.port = g_value_get_int (value);
      break;
    case PROP_STREAM_ID:
      s.stream_id = string_or (value, "");
      break;
    case PROP_LATENCY:
      s.latency = g_value_get_uint (value);
      break;
    case PROP_PASSPHRASE:
      s.passphrase = string_or (value, "");
      break;
    case PROP_PBKEYLEN:
      s.pbkeylen = g_value_get_int (value);
      break;
    case PROP_MAX_PAYLOAD_SIZE:
      s.max_payload_size = g_value_get_uint (value);
      break;
    case PROP_RECEIVE_BUFFER_SIZE:
      s.receive_buffer_size = g_value_get_uint (value);
      break;
    case PROP_IDLE_TIMEOUT:
      s.idle_timeout = g_value_get_uint (value);
      break;
    case PROP_PRELUDE_TIMEOUT:
      s.prelude_timeout = g_value_get_uint (value);
      break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
      break;
  }
}

static void
gst_srt_ingest_src_get_property (GObject * object, guint prop_id, GValue * value,
    GParamSpec * pspec)
{
  auto *self = GST_SRT_INGEST_SRC (object);
  if (prop_id == PROP_STATS) {
    g_value_take_boxed (value, stats (self));
    return;
  }
  std::lock_guard<std::mutex> lk (self->priv->lock);
  const SrtIngestSrcSettings & s = self->priv->settings;
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
    case PROP_LATENCY:
      g_value_set_uint (value, s.latency);
      break;
    case PROP_PBKEYLEN:
      g_value_set_int (value, s.pbkeylen);
      break;
    case PROP_MAX_PAYLOAD_SIZE:
      g_value_set_uint (value, s.max_payload_size);
      break;
    case PROP_RECEIVE_BUFFER_SIZE:
      g_value_set_uint (value, s.receive_buffer_size);
      break;
    case PROP_IDLE_TIMEOUT:
      g_value_set_uint (value, s.idle_timeout);
      break;
    case PROP_PRELUDE_TIMEOUT:
      g_value_set_uint (value, s.prelude_timeout);
      break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
      break;
  }
}

static gboolean
gst_srt_ingest_src_start (GstBaseSrc * bsrc)
{
  auto *self = GST_SRT_INGEST_SRC (bsrc);
  GstSrtIngestSrcPrivate *p = self->priv;
  SrtIngestSrcSettings s;
  auto library = std::make_unique<SrtLibrary> ();
  {
    std::lock_guard<std::mutex> lk (p->lock);
    s = p->settings;
    p->library = std::move (library);
  }
  p->handover.start ();
  p->reader.reset ();
  p->pending.clear ();
  p->pending_at = 0;
  p->caller_gone = false;

  if (s.port < 0)
    return TRUE;
  std::string error;
  auto listener = start_listener (self, s, error);
  if (!listener) {
    GST_ELEMENT_ERROR (self, RESOURCE, OPEN_READ,
        ("The SRT listener for callers cannot start: %s", error.c_str ()),
        ("standalone listener on %s:%d (port=-1 runs none: callers then come through "
            "add-caller)", s.host.c_str (), s.port));
    p->handover.stop ();
    std::lock_guard<std::mutex> lk (p->lock);
    p->library.reset ();
    return FALSE;
  }
  int port = listener->port ();
  GST_INFO_OBJECT (self, "listening on srt://%s:%d%s%s", s.host.c_str (), port,
      s.stream_id.empty () ? " (any stream id)" : " (stream id required)",
      s.passphrase.empty () ? "" : ", encrypted");
  std::lock_guard<std::mutex> lk (p->lock);
  p->listener = std::move (listener);
  p->bound_port = port;
  return TRUE;
}

static gboolean
gst_srt_ingest_src_stop (GstBaseSrc * bsrc)
{
  auto *self = GST_SRT_INGEST_SRC (bsrc);
  GstSrtIngestSrcPrivate *p = self->priv;
  std::unique_ptr<SrtListener> listener;
  std::unique_ptr<SrtIncoming> incoming = p->handover.stop ();
  {
    std::lock_guard<std::mutex> lk (p->lock);
    listener = std::move (p->listener);
    p->bound_port = 0;
    p->live_socket = SRT_INVALID_SOCK;
    p->live_address.clear ();
  }
  /* outside the lock: its thread may be in add_caller */
  listener.reset ();
  incoming.reset ();
  /* the streaming thread is stopped */
  p->reader.reset ();
  p->pending.clear ();
  p->pending_at = 0;
  std::lock_guard<std::mutex> lk (p->lock);
  p->library.reset ();                 /* after every socket of ours */
  return TRUE;
}

static gboolean
gst_srt_ingest_src_unlock (GstBaseSrc * bsrc)
{
  /* a read sees it within kReadSliceMs */
  GST_SRT_INGEST_SRC (bsrc)->priv->handover.unlock ();
  return TRUE;
}

static gboolean
gst_srt_ingest_src_unlock_stop (GstBaseSrc * bsrc)
{
  GST_SRT_INGEST_SRC (bsrc)->priv->handover.unlock_stop ();
  return TRUE;
}

static gboolean
gst_srt_ingest_src_is_seekable (GstBaseSrc *)
{
  return FALSE;
}

/* ---- the streaming thread ---- */

static void
post (GstSrtIngestSrc * self, GstStructure * s)
{
  gst_element_post_message (GST_ELEMENT (self), gst_message_new_element (GST_OBJECT (self), s));
}

/* The caller is gone (reader's reason): the messages, then the stream
 * drains and ends. */
static void
caller_ended (GstSrtIngestSrc * self)
{
  GstSrtIngestSrcPrivate *p = self->priv;
  CallerEnd reason = p->reader->reason ();
  const std::string & description = p->reader->description ();
  GST_INFO_OBJECT (self, "caller %s gone (%s): %s; %" G_GUINT64_FORMAT " bytes received, %"
      G_GUINT64_FORMAT " TS resyncs", p->remote_address.c_str (), caller_end_name (reason),
      description.c_str (), p->reader->bytes_received (), p->reader->resyncs ());
  p->handover.ended ();
  {
    std::lock_guard<std::mutex> lk (p->lock);
    p->live_socket = SRT_INVALID_SOCK;
    p->live_address.clear ();
  }
  p->caller_gone = true;
  post (self, gst_structure_new ("srtingestsrc-caller-disconnected",
          "remote-address", G_TYPE_STRING, p->remote_address.c_str (),
          "reason", G_TYPE_STRING, caller_end_name (reason),
          "description", G_TYPE_STRING, description.c_str (), NULL));
  switch (reason) {
    case CallerEnd::closed:
      GST_ELEMENT_WARNING (self, RESOURCE, READ,
          ("The SRT caller's link closed: the stream ends"),
          ("caller %s: %s", p->remote_address.c_str (), description.c_str ()));
      break;
    case CallerEnd::timeout:
      GST_ELEMENT_WARNING (self, RESOURCE, READ,
          ("Nothing from the SRT caller in time: the stream ends"),
          ("caller %s: %s", p->remote_address.c_str (), description.c_str ()));
      break;
    case CallerEnd::not_ts:
      GST_ELEMENT_ERROR (self, STREAM, WRONG_TYPE,
          ("The SRT caller does not send MPEG-TS: it was closed"),
          ("caller %s: %s", p->remote_address.c_str (), description.c_str ()));
      break;
    default:
      break;
  }
}

/* Blocks until a caller is handed over (its reader made and its replay
 * read), the stream is ended before one came, or flushing. */
static GstFlowReturn
wait_for_caller (GstSrtIngestSrc * self, guint64 unlocks)
{
  GstSrtIngestSrcPrivate *p = self->priv;
  std::unique_ptr<SrtIncoming> incoming;
  switch (p->handover.wait (unlocks, incoming)) {
    case castline::HandOver<SrtIncoming>::Wait::flushing:
      return GST_FLOW_FLUSHING;
    case castline::HandOver<SrtIncoming>::Wait::ended:
      GST_INFO_OBJECT (self, "ended before any caller came");
      p->caller_gone = true;
      return GST_FLOW_OK;
    case castline::HandOver<SrtIncoming>::Wait::incoming:
      break;
  }
  guint idle_timeout;
  {
    std::lock_guard<std::mutex> lk (p->lock);
    idle_timeout = p->settings.idle_timeout;
  }
  p->remote_address = incoming->remote_address;
  p->reader = std::make_unique<CallerReader> (std::move (incoming->socket), idle_timeout);
  GST_INFO_OBJECT (self, "caller %s is live (%" G_GSIZE_FORMAT " bytes to replay)",
      p->remote_address.c_str (), incoming->replay ? g_bytes_get_size (incoming->replay) : 0);
  {
    std::lock_guard<std::mutex> lk (p->lock);
    p->live_socket = p->reader->socket ();
    p->live_address = p->remote_address;
    p->live_resyncs = 0;
  }
  post (self, gst_structure_new ("srtingestsrc-caller-connected",
          "remote-address", G_TYPE_STRING, p->remote_address.c_str (), NULL));
  if (!p->reader->replay (incoming->replay, p->pending))
    caller_ended (self);
  return GST_FLOW_OK;
}

/* the next at most kMaxBufferBytes of pending */
static GstBuffer *
next_buffer (GstSrtIngestSrcPrivate * p)
{
  size_t size = std::min (p->pending.size () - p->pending_at, kMaxBufferBytes);
  GstBuffer *buffer = gst_buffer_new_memdup (p->pending.data () + p->pending_at, size);
  p->pending_at += size;
  if (p->pending_at == p->pending.size ()) {
    p->pending.clear ();
    p->pending_at = 0;
  }
  return buffer;
}

static GstFlowReturn
gst_srt_ingest_src_create (GstPushSrc * psrc, GstBuffer ** buf)
{
  auto *self = GST_SRT_INGEST_SRC (psrc);
  GstSrtIngestSrcPrivate *p = self->priv;
  guint64 unlocks = p->handover.unlocks ();
  if (!p->reader && !p->caller_gone) {
    GstFlowReturn ret = wait_for_caller (self, unlocks);
    if (ret != GST_FLOW_OK)
      return ret;
  }
  while (true) {
    if (p->pending_at < p->pending.size ()) {
      *buf = next_buffer (p);
      return GST_FLOW_OK;
    }
    if (p->caller_gone) {
      GST_INFO_OBJECT (self, "end of stream");
      return GST_FLOW_EOS;
    }
    std::string end_description;
    bool end = false;
    if (p->handover.interrupted (unlocks, &end, &end_description))
      return GST_FLOW_FLUSHING;
    {
      std::lock_guard<std::mutex> lk (p->lock);
      p->live_resyncs = p->reader->resyncs ();
    }
    if (end) {
      p->reader->end (end_description);
      caller_ended (self);
      continue;
    }
    if (p->reader->read (kReadSliceMs, kMaxBufferBytes, p->pending) == CallerReader::Read::ended)
      caller_ended (self);
  }
}

/* ---- handing callers over ---- */

/* Takes caller's socket (true) or leaves it there (false). Any thread. */
static bool
add_caller (GstSrtIngestSrc * self, SrtSocket & socket, GBytes * replay,
    const std::string & address)
{
  auto incoming = std::make_unique<SrtIncoming> (std::move (socket), replay, address);
  const char *why = nullptr;
  if (!self->priv->handover.offer (incoming, &why)) {
    GST_INFO_OBJECT (self, "not taking %s: %s", address.c_str (), why);
    socket = std::move (incoming->socket);
    return false;
  }
  GST_INFO_OBJECT (self, "caller %s handed over", address.c_str ());
  return true;
}

static gboolean
add_caller_signal (GstSrtIngestSrc * self, gint socket, GBytes * replay,
    const gchar * remote_address)
{
  g_return_val_if_fail (socket != SRT_INVALID_SOCK, FALSE);
  SrtSocket taken (socket);
  std::string address;
  if (remote_address) {
    address = remote_address;
  } else {
    struct sockaddr_storage addr;
    int len = sizeof (addr);
    if (srt_getpeername (socket, (struct sockaddr *) &addr, &len) == 0)
      address = address_string ((struct sockaddr *) &addr);
  }
  bool ok = add_caller (self, taken, replay, address);
  taken.release ();                    /* the element's now, or still the signal's caller's */
  return ok;
}

static void
end_caller (GstSrtIngestSrc * self, const gchar * reason)
{
  if (self->priv->handover.request_end (reason ? reason : "ended by the application"))
    GST_INFO_OBJECT (self, "ending the caller: %s", reason ? reason : "");
}

/* ---- stats ---- */

static GstStructure *
stats (GstSrtIngestSrc * self)
{
  GstSrtIngestSrcPrivate *p = self->priv;
  GstStructure *s = gst_structure_new_empty ("srt-stats");
  std::lock_guard<std::mutex> lk (p->lock);
  LinkStats link;
  /* a socket the streaming thread closed meanwhile only fails srt_bstats
   * (libsrt does not give a closed socket's id out again soon) */
  if (p->live_socket == SRT_INVALID_SOCK || !read_link_stats (p->live_socket, link))
    return s;
  gst_structure_set (s,
      "rtt-ms", G_TYPE_DOUBLE, link.rtt_ms,
      "receive-rate-mbps", G_TYPE_DOUBLE, link.receive_rate_mbps,
      "bandwidth-mbps", G_TYPE_DOUBLE, link.bandwidth_mbps,
      "latency-ms", G_TYPE_UINT, link.latency_ms,
      "packets-received", G_TYPE_UINT64, (guint64) link.packets_received,
      "packets-lost", G_TYPE_UINT64, (guint64) link.packets_lost,
      "packets-retransmitted", G_TYPE_UINT64, (guint64) link.packets_retransmitted,
      "packets-dropped", G_TYPE_UINT64, (guint64) link.packets_dropped,
      "packets-undecrypted", G_TYPE_UINT64, (guint64) link.packets_undecrypted,
      "bytes-received", G_TYPE_UINT64, (guint64) link.bytes_received,
      "ts-resyncs", G_TYPE_UINT64, (guint64) p->live_resyncs,
      "remote-address", G_TYPE_STRING, p->live_address.c_str (), NULL);
  return s;
}

/* ---- the standalone listener ---- */

static std::unique_ptr<SrtListener>
start_listener (GstSrtIngestSrc * self, const SrtIngestSrcSettings & s, std::string & error)
{
  ListenerSettings ls;
  ls.host = s.host;
  ls.port = s.port;
  ls.receiver.latency_ms = s.latency;
  ls.receiver.passphrase = s.passphrase;
  ls.receiver.pbkeylen = s.pbkeylen;
  ls.receiver.payload_size = s.max_payload_size;
  ls.receiver.receive_buffer_bytes = s.receive_buffer_size;
  ls.prelude_timeout_s = s.prelude_timeout;

  /* on libsrt's receiver thread, which stop () ends before self goes */
  auto decide = [self, key = s.stream_id] (const CallerRequest & request) -> Verdict {
    if (!key.empty () && !castline::keys_equal (key, request.stream.key)) {
      GST_INFO_OBJECT (self, "refused %s: wrong stream id", request.remote_address.c_str ());
      return { SRT_REJX_UNAUTHORIZED, "wrong stream id" };
    }
    if (!self->priv->handover.accepting ()) {
      GST_INFO_OBJECT (self, "refused %s: a caller is live", request.remote_address.c_str ());
      return { SRT_REJX_CONFLICT, "a caller is live already" };
    }
    return Verdict::accept ();
  };
  /* on the listener's thread, which stop () joins */
  auto ready = [self] (Caller && caller) {
    if (!add_caller (self, caller.socket, caller.replay, caller.request.remote_address))
      GST_INFO_OBJECT (self, "closing %s", caller.request.remote_address.c_str ());
  };
  auto listener = std::make_unique<SrtListener> (std::move (ls), std::move (decide),
      std::move (ready));
  if (!listener->start (error))
    return nullptr;
  return listener;
}
