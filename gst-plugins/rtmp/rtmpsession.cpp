#include "rtmp/rtmpsession.h"

#include "rtmp/amf0.h"
#include "rtmp/chunkstream.h"
#include "rtmp/flvtags.h"
#include "rtmp/handshake.h"
#include "rtmp/timestamps.h"

#include <algorithm>
#include <string>
#include <vector>

namespace castline::rtmp {

namespace {

/* chunk streams we send on, as nginx-rtmp and SRS do */
constexpr uint32_t kCsidControl = 2;
constexpr uint32_t kCsidCommand = 3;
constexpr uint32_t kCsidStatus = 5;
constexpr uint32_t kOutChunkSize = 4096;
constexpr uint32_t kWindowAckSize = 2500000;
constexpr uint8_t kPeerBandwidthDynamic = 2;
constexpr uint16_t kUserStreamBegin = 0;
constexpr uint16_t kUserPingRequest = 6;
constexpr uint16_t kUserPingResponse = 7;
/* the stream id createStream answers; publishing on another is allowed */
constexpr double kPublishStreamId = 1;
/* an aggregate message's sub-tags: 11-byte header, body, 4-byte size */
constexpr size_t kFlvTagHeader = 11;

using Props = std::vector<std::pair<std::string, AmfValue>>;

AmfValue
status_object (const std::string & level, const std::string & code, const std::string & description)
{
  return AmfValue::make_object ({{"level", AmfValue::make_string (level)},
      {"code", AmfValue::make_string (code)},
      {"description", AmfValue::make_string (description)}});
}

/* "live?x=y/" -> "live"; "live/sub" -> "live" */
std::string
first_segment (const std::string & path)
{
  std::string s = path.substr (0, path.find ('?'));
  size_t start = s.find_first_not_of ('/');
  if (start == std::string::npos)
    return "";
  return s.substr (start, s.find ('/', start) - start);
}

/* the application in a tcUrl: rtmp://host[:port]/APP[/...][?...] */
std::string
app_of_tc_url (const std::string & tc_url)
{
  size_t scheme = tc_url.find ("://");
  if (scheme == std::string::npos)
    return "";
  size_t path = tc_url.find ('/', scheme + 3);
  if (path == std::string::npos)
    return "";
  return first_segment (tc_url.substr (path));
}

Event
make_event (EventType type)
{
  Event e;
  e.type = type;
  return e;
}

GBytes *
bytes_of (std::string && s)
{
  auto *held = new std::string (std::move (s));
  return g_bytes_new_with_free_func (held->data (), held->size (),
      [] (gpointer p) { delete static_cast<std::string *> (p); }, held);
}

}  // namespace

struct PublishSession::Private {
  explicit Private (Start start, const Limits & l)
      : limits (l), reader (l), handshaking (start == Start::Handshake)
  {
    /* a message length field is 24 bits, and so is an FLV tag's */
    limits.max_message_size = std::min<size_t> (limits.max_message_size, 0xffffff);
  }

  Limits limits;
  ServerHandshake handshake;
  ChunkReader reader;
  ChunkWriter writer;
  MediaClock clock;
  bool handshaking;

  std::string input;        /* received, not read yet */
  std::string output;
  std::string discarded;    /* output in replay */
  std::deque<Event> events;
  std::string error;
  std::string app_filter;

  bool replay = false;
  bool connected = false;
  bool publish_pending = false;  /* the Publish event waits for its answer */
  bool publishing = false;
  bool publish_answered = false;
  bool ended = false;
  uint32_t publish_stream = 0;

  uint64_t received = 0;
  uint64_t acked = 0;
  uint32_t ack_window = kWindowAckSize;
  PublishedCodecs codecs;

  bool failed () const { return !error.empty (); }
  bool fail (const std::string & what)
  {
    if (error.empty ())
      error = what;
    return false;
  }

  std::string & sink () { return replay ? discarded : output; }

  void send (uint32_t csid, uint8_t type, uint32_t stream_id, const std::string & payload)
  {
    writer.write (sink (), csid, type, stream_id, 0, payload);
    discarded.clear ();
  }

  void send_control (uint8_t type, uint32_t value, int extra_byte = -1)
  {
    std::string p;
    put_u32be (p, value);
    if (extra_byte >= 0)
      p.push_back ((char) extra_byte);
    send (kCsidControl, type, 0, p);
  }

  void send_user_control (uint16_t event, const std::string & data)
  {
    std::string p;
    p.push_back ((char) (event >> 8));
    p.push_back ((char) (event & 0xff));
    p += data;
    send (kCsidControl, kMsgUserControl, 0, p);
  }

  void send_command (uint32_t csid, uint32_t stream_id, const std::vector<AmfValue> & values)
  {
    std::string p;
    for (const auto & v : values)
      amf0_encode (p, v);
    send (csid, kMsgCommandAmf0, stream_id, p);
  }

  void send_on_status (const AmfValue & info)
  {
    send_command (kCsidStatus, publish_stream, {AmfValue::make_string ("onStatus"),
        AmfValue::make_number (0), AmfValue::make_null (), info});
  }

  void answer_publish ()
  {
    std::string id;
    put_u32be (id, publish_stream);
    send_user_control (kUserStreamBegin, id);
    send_on_status (status_object ("status", "NetStream.Publish.Start", "Start publishing"));
    publish_answered = true;
  }

  void process ();
  bool handle (RtmpMessage & m);
  bool handle_user_control (const RtmpMessage & m);
  bool handle_command (const RtmpMessage & m);
  bool handle_connect (double txn, const std::vector<AmfValue> & args);
  bool handle_publish (const RtmpMessage & m, const std::vector<AmfValue> & args);
  bool handle_data (RtmpMessage & m);
  bool handle_media (uint8_t type, uint32_t timestamp, std::string && body);
  bool handle_aggregate (const RtmpMessage & m);
  void unpublish ();
  void read_metadata (const AmfValue & object);
};

void
PublishSession::Private::process ()
{
  size_t pos = 0;
  while (!failed ()) {
    const auto *data = (const uint8_t *) input.data () + pos;
    size_t size = input.size () - pos, used = 0;
    if (handshaking) {
      auto st = handshake.feed (data, size, &used, sink ());
      discarded.clear ();
      pos += used;
      if (st == ServerHandshake::Status::Error)
        fail (handshake.error ());
      else if (st == ServerHandshake::Status::Done)
        handshaking = false;
      else
        break;
      continue;
    }
    if (publish_pending || ended)
      break;
    RtmpMessage m;
    auto st = reader.read (data, size, &used, m);
    pos += used;
    if (st == ChunkReader::Status::Error)
      fail (reader.error ());
    else if (st == ChunkReader::Status::NeedMore)
      break;
    else
      handle (m);
  }
  input.erase (0, pos);
  if (!failed () && publish_pending && input.size () > limits.max_buffered)
    fail ("more than " + std::to_string (limits.max_buffered)
        + " bytes received while the publish waited for its answer");
  /* what ended leaves unread is dropped: the caller closes */
  if (ended)
    input.clear ();

  if (!failed () && !handshaking && ack_window > 0 && received - acked >= ack_window) {
    acked = received;
    send_control (kMsgAcknowledgement, (uint32_t) received);
  }
}

bool
PublishSession::Private::handle (RtmpMessage & m)
{
  switch (m.type) {
    case kMsgUserControl:
      return handle_user_control (m);
    case kMsgWindowAckSize:
      if (m.payload.size () < 4)
        return fail ("a Window Acknowledgement Size shorter than 4 bytes");
      ack_window = get_u32be ((const uint8_t *) m.payload.data ());
      return true;
    case kMsgCommandAmf0:
    case kMsgCommandAmf3:
      return handle_command (m);
    case kMsgDataAmf0:
    case kMsgDataAmf3:
      return handle_data (m);
    case kMsgAudio:
    case kMsgVideo:
      if (!publishing)
        return fail ("media before publish");
      if (m.stream_id != publish_stream)
        return fail ("media on message stream " + std::to_string (m.stream_id)
            + ", not the published one");
      return handle_media (m.type, m.timestamp, std::move (m.payload));
    case kMsgAggregate:
      return handle_aggregate (m);
    default:
      /* Acknowledgement, Set Peer Bandwidth and the unknown: nothing to do */
      return true;
  }
}

bool
PublishSession::Private::handle_user_control (const RtmpMessage & m)
{
  if (m.payload.size () < 2)
    return fail ("a User Control message shorter than 2 bytes");
  const auto *p = (const uint8_t *) m.payload.data ();
  uint16_t event = (uint16_t) ((p[0] << 8) | p[1]);
  if (event == kUserPingRequest) {
    if (m.payload.size () < 6)
      return fail ("a PingRequest without its timestamp");
    send_user_control (kUserPingResponse, m.payload.substr (2, 4));
  }
  return true;
}

bool
PublishSession::Private::handle_command (const RtmpMessage & m)
{
  const auto *p = (const uint8_t *) m.payload.data ();
  size_t size = m.payload.size ();
  /* an AMF3 command message starts with a byte (0) and then is AMF0 */
  if (m.type == kMsgCommandAmf3 && size > 0) {
    p++;
    size--;
  }
  std::vector<AmfValue> args;
  std::string amf_error;
  if (!amf0_decode_all (p, size, limits.max_amf_depth, args, &amf_error))
    return fail ("a malformed command: " + amf_error);
  if (args.size () < 2 || !args[0].is_string () || !args[1].is_number ())
    return fail ("a command without a name and a transaction id");
  const std::string & name = args[0].string;
  double txn = args[1].number;

  if (name == "connect")
    return handle_connect (txn, args);
  if (!connected)
    return fail ("a command before connect");

  if (name == "releaseStream") {
    if (txn != 0)
      send_command (kCsidCommand, 0, {AmfValue::make_string ("_result"),
          AmfValue::make_number (txn), AmfValue::make_null (), AmfValue::make_undefined ()});
  } else if (name == "FCPublish") {
    /* no stream name in the answer: it is the stream key */
    send_command (kCsidCommand, 0, {AmfValue::make_string ("onFCPublish"),
        AmfValue::make_number (0), AmfValue::make_null (),
        status_object ("status", "NetStream.Publish.Start", "FCPublish")});
    if (txn != 0)
      send_command (kCsidCommand, 0, {AmfValue::make_string ("_result"),
          AmfValue::make_number (txn), AmfValue::make_null (), AmfValue::make_undefined ()});
  } else if (name == "createStream") {
    send_command (kCsidCommand, 0, {AmfValue::make_string ("_result"),
        AmfValue::make_number (txn), AmfValue::make_null (),
        AmfValue::make_number (kPublishStreamId)});
  } else if (name == "publish") {
    return handle_publish (m, args);
  } else if (name == "FCUnpublish" || name == "deleteStream" || name == "closeStream") {
    unpublish ();
  } else if (name == "play" || name == "play2") {
    return fail ("a play command: castline takes publishers only");
  } else if (name == "_result" || name == "_error" || name == "onStatus"
      || name == "_checkbw" || name == "onBWDone") {
    /* answers to calls we never make, bandwidth probes */
  } else if (txn != 0) {
    send_command (kCsidCommand, m.stream_id, {AmfValue::make_string ("_error"),
        AmfValue::make_number (txn), AmfValue::make_null (),
        status_object ("error", "NetConnection.Call.Failed", "unknown command")});
  }
  return true;
}

bool
PublishSession::Private::handle_connect (double txn, const std::vector<AmfValue> & args)
{
  if (connected)
    return fail ("a second connect");
  static const AmfValue empty;
  const AmfValue & obj = args.size () > 2 && args[2].type == AmfType::Object ? args[2] : empty;
  std::string app = first_segment (obj.get_string ("app"));
  std::string tc_url = obj.get_string ("tcUrl");
  if (app.empty ())
    app = app_of_tc_url (tc_url);
  double encoding = obj.get_number ("objectEncoding", 0);

  if (!app_filter.empty () && app != app_filter) {
    send_command (kCsidCommand, 0, {AmfValue::make_string ("_error"),
        AmfValue::make_number (txn), AmfValue::make_null (),
        status_object ("error", "NetConnection.Connect.Rejected", "unknown application")});
    /* the app is not quoted: a misplaced stream key could be in it */
    return fail ("connect to an unknown application");
  }
  connected = true;

  send_control (kMsgWindowAckSize, kWindowAckSize);
  send_control (kMsgSetPeerBandwidth, kWindowAckSize, kPeerBandwidthDynamic);
  send_control (kMsgSetChunkSize, kOutChunkSize);
  writer.set_chunk_size (kOutChunkSize);
  AmfValue info = status_object ("status", "NetConnection.Connect.Success", "Connection succeeded.");
  info.properties.emplace_back ("objectEncoding", AmfValue::make_number (encoding));
  send_command (kCsidCommand, 0, {AmfValue::make_string ("_result"), AmfValue::make_number (txn),
      AmfValue::make_object ({{"fmsVer", AmfValue::make_string ("FMS/3,0,1,123")},
          {"capabilities", AmfValue::make_number (31)}}),
      info});

  Event e = make_event (EventType::Connect);
  e.app = app;
  e.tc_url = tc_url;
  events.push_back (std::move (e));
  return true;
}

bool
PublishSession::Private::handle_publish (const RtmpMessage & m, const std::vector<AmfValue> & args)
{
  if (publish_pending || publishing)
    return fail ("a second publish on one connection");
  Event e = make_event (EventType::Publish);
  if (args.size () > 3 && args[3].is_string ())
    e.stream_name = args[3].string;
  e.publish_type = args.size () > 4 && args[4].is_string () ? args[4].string : "live";
  publish_stream = m.stream_id;
  events.push_back (std::move (e));
  if (replay)
    publishing = true;  /* someone else accepted it */
  else
    publish_pending = true;
  return true;
}

void
PublishSession::Private::unpublish ()
{
  if (!(publishing || publish_pending) || ended)
    return;
  ended = true;
  events.push_back (make_event (EventType::Unpublish));
}

void
PublishSession::Private::read_metadata (const AmfValue & object)
{
  codecs.metadata_seen = true;
  for (const char *key : {"videocodecid", "audiocodecid"}) {
    const AmfValue *v = object.get (key);
    if (!v)
      continue;
    bool video = key[0] == 'v';
    std::string codec;
    if (v->is_number ())
      codec = video ? flv_video_codec_from_id (v->number) : flv_audio_codec_from_id (v->number);
    else if (v->is_string ())
      codec = flv_codec_from_fourcc (v->string);
    /* the tags themselves say it better once they have come */
    if (!codec.empty () && !(video ? codecs.video_seen : codecs.audio_seen))
      (video ? codecs.video : codecs.audio) = codec;
  }
}

bool
PublishSession::Private::handle_data (RtmpMessage & m)
{
  size_t start = m.type == kMsgDataAmf3 && !m.payload.empty () ? 1 : 0;
  const auto *p = (const uint8_t *) m.payload.data ();
  std::vector<AmfValue> values;
  std::string amf_error;
  if (!amf0_decode_all (p + start, m.payload.size () - start, limits.max_amf_depth, values,
          &amf_error))
    return fail ("a malformed data message: " + amf_error);
  if (values.empty () || !values[0].is_string ())
    return true;  /* nothing an FLV reader would take */
  if (values[0].string == "@clearDataFrame")
    return true;
  if (!publishing)
    return fail ("media before publish");
  if (m.stream_id != publish_stream)
    return true;  /* not the published stream's: nothing to pass on */
  if (values[0].string == "@setDataFrame") {
    /* the tag is what follows the "@setDataFrame" string */
    size_t after = start;
    AmfValue first;
    amf0_decode (p, m.payload.size (), &after, limits.max_amf_depth, first, nullptr);
    start = after;
    values.erase (values.begin ());
  }
  bool metadata = !values.empty () && values[0].is_string () && values[0].string == "onMetaData";
  if (metadata && values.size () > 1)
    read_metadata (values[1]);

  FlvTag tag;
  tag.type = kMsgDataAmf0;
  tag.timestamp = clock.rebase (kMsgDataAmf0, m.timestamp);
  tag.body = bytes_of (m.payload.substr (start));
  Event e = make_event (metadata ? EventType::Metadata : EventType::Media);
  e.tag = std::move (tag);
  events.push_back (std::move (e));
  return true;
}

bool
PublishSession::Private::handle_media (uint8_t type, uint32_t timestamp, std::string && body)
{
  if (ended || body.empty ())
    return true;  /* empty tags carry nothing (some encoders send them) */
  const auto *p = (const uint8_t *) body.data ();
  if (type == kMsgVideo) {
    std::string c = flv_video_codec (p, body.size ());
    if (!c.empty ())
      codecs.video = c;
    codecs.video_seen = true;
  } else {
    std::string c = flv_audio_codec (p, body.size ());
    if (!c.empty ())
      codecs.audio = c;
    codecs.audio_seen = true;
  }
  FlvTag tag;
  tag.type = type;
  tag.timestamp = clock.rebase (type, timestamp);
  tag.body = bytes_of (std::move (body));
  Event e = make_event (EventType::Media);
  e.tag = std::move (tag);
  events.push_back (std::move (e));
  return true;
}

/* FLV tags in one message; their timestamps are relative to the first's,
 * which is the message's */
bool
PublishSession::Private::handle_aggregate (const RtmpMessage & m)
{
  if (!publishing)
    return fail ("media before publish");
  const auto *p = (const uint8_t *) m.payload.data ();
  size_t size = m.payload.size (), pos = 0;
  bool first = true;
  uint32_t first_ts = 0;
  while (size - pos >= kFlvTagHeader) {
    uint8_t type = p[pos] & 0x1f;
    size_t body = ((size_t) p[pos + 1] << 16) | ((size_t) p[pos + 2] << 8) | p[pos + 3];
    uint32_t ts = ((uint32_t) p[pos + 7] << 24) | ((uint32_t) p[pos + 4] << 16)
        | ((uint32_t) p[pos + 5] << 8) | p[pos + 6];
    if (body > size - pos - kFlvTagHeader)
      return fail ("an aggregate message with a truncated tag");
    if (first) {
      first_ts = ts;
      first = false;
    }
    std::string b = m.payload.substr (pos + kFlvTagHeader, body);
    if (type == kMsgAudio || type == kMsgVideo) {
      if (!handle_media (type, m.timestamp + (ts - first_ts), std::move (b)))
        return false;
    }
    pos += kFlvTagHeader + body + std::min<size_t> (4, size - pos - kFlvTagHeader - body);
  }
  return true;
}

PublishSession::PublishSession (Start start, Limits limits)
    : priv_ (std::make_unique<Private> (start, limits))
{
}

PublishSession::~PublishSession () = default;

void
PublishSession::accept_app (const std::string & app)
{
  priv_->app_filter = app;
}

void
PublishSession::begin_replay ()
{
  priv_->replay = true;
}

void
PublishSession::end_replay ()
{
  priv_->replay = false;
}

bool
PublishSession::feed (const uint8_t * data, size_t size)
{
  Private & p = *priv_;
  if (p.failed ())
    return false;
  p.received += size;
  if (size)
    p.input.append ((const char *) data, size);
  p.process ();
  return !p.failed ();
}

const std::string &
PublishSession::error () const
{
  return priv_->error;
}

bool
PublishSession::next_event (Event & event)
{
  if (priv_->events.empty ())
    return false;
  event = std::move (priv_->events.front ());
  priv_->events.pop_front ();
  return true;
}

void
PublishSession::accept_publish ()
{
  Private & p = *priv_;
  if (p.failed ())
    return;
  if (p.publish_pending) {
    p.publish_pending = false;
    p.publishing = true;
  }
  if (!p.publishing || p.publish_answered)
    return;
  p.answer_publish ();
  p.process ();
}

void
PublishSession::refuse_publish (const std::string & code, const std::string & description)
{
  Private & p = *priv_;
  /* an accepted publish may be refused too, until it ends (a publisher
   * that cannot be taken after all: reject_publisher) */
  if (p.failed () || !(p.publish_pending || p.publishing) || p.ended)
    return;
  p.publish_pending = false;
  p.publishing = false;
  p.send_on_status (status_object ("error", code, description));
  p.fail ("the publish was refused (" + code + ")");
}

void
PublishSession::end_publish (const std::string & description)
{
  Private & p = *priv_;
  if (!p.publishing)
    return;
  p.send_on_status (status_object ("status", "NetStream.Unpublish.Success", description));
  p.ended = true;
}

bool
PublishSession::has_output () const
{
  return !priv_->output.empty ();
}

std::string
PublishSession::take_output ()
{
  std::string out;
  out.swap (priv_->output);
  return out;
}

bool
PublishSession::publishing () const
{
  return priv_->publishing;
}

bool
PublishSession::ended () const
{
  return priv_->ended;
}

const PublishedCodecs &
PublishSession::codecs () const
{
  return priv_->codecs;
}

uint64_t
PublishSession::bytes_received () const
{
  return priv_->received;
}

}  // namespace castline::rtmp
