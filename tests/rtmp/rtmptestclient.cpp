#include "rtmptestclient.h"

#include "rtmp/amf0.h"
#include "rtmp/connectionio.h"

#include <sys/socket.h>

namespace castline::test {

using castline::rtmp::AmfType;
using castline::rtmp::AmfValue;
using castline::rtmp::amf0_encode;

namespace {

/* ffmpeg's chunk streams: 2 control, 3 commands, 4 audio, 6 video, 8 the
 * published stream's commands and data */
constexpr uint32_t kCsidControl = 2, kCsidCommand = 3, kCsidAudio = 4, kCsidVideo = 6,
    kCsidStream = 8;
constexpr uint32_t kStreamId = 1;       /* what createStream answers */
constexpr size_t kPlainHandshake = 1536;

AmfValue
str (const std::string & s)
{
  return AmfValue::make_string (s);
}

AmfValue
num (double n)
{
  return AmfValue::make_number (n);
}

std::string
amf (const std::vector<AmfValue> & values)
{
  std::string out;
  for (const auto & v : values)
    amf0_encode (out, v);
  return out;
}

}  // namespace

std::string
PublishScript::c0c1 ()
{
  std::string out (1, '\x03');
  out.append (8, '\0');                 /* time, then zero: the plain handshake */
  for (size_t i = 8; i < kPlainHandshake; i++)
    out.push_back ((char) g_random_int_range (0, 256));
  return out;
}

std::string
PublishScript::c2 (const std::string & s0s1s2)
{
  return s0s1s2.substr (1, kPlainHandshake);
}

std::string
PublishScript::message (uint32_t csid, uint8_t type, uint32_t stream_id, uint32_t ts,
    const std::string & payload)
{
  std::string out;
  writer_.write (out, csid, type, stream_id, ts, payload);
  return out;
}

std::string
PublishScript::set_chunk_size (uint32_t size)
{
  std::string p;
  castline::rtmp::put_u32be (p, size);
  std::string out = message (kCsidControl, castline::rtmp::kMsgSetChunkSize, 0, 0, p);
  writer_.set_chunk_size (size);
  return out;
}

std::string
PublishScript::connect (const std::string & app, const std::string & tc_url)
{
  return message (kCsidCommand, castline::rtmp::kMsgCommandAmf0, 0, 0, amf ({str ("connect"),
      num (1), AmfValue::make_object ({{"app", str (app)}, {"type", str ("nonprivate")},
          {"flashVer", str ("FMLE/3.0 (compatible; castline test)")}, {"tcUrl", str (tc_url)}})}));
}

std::string
PublishScript::publish (const std::string & stream_name)
{
  auto command = [this] (uint32_t csid, uint32_t stream, std::vector<AmfValue> values) {
    return message (csid, castline::rtmp::kMsgCommandAmf0, stream, 0, amf (values));
  };
  return command (kCsidCommand, 0, {str ("releaseStream"), num (2), AmfValue::make_null (),
          str (stream_name)})
      + command (kCsidCommand, 0, {str ("FCPublish"), num (3), AmfValue::make_null (),
          str (stream_name)})
      + command (kCsidCommand, 0, {str ("createStream"), num (4), AmfValue::make_null ()})
      + command (kCsidStream, kStreamId, {str ("publish"), num (5), AmfValue::make_null (),
          str (stream_name), str ("live")});
}

std::string
PublishScript::metadata (bool video, bool audio)
{
  AmfValue meta;
  meta.type = AmfType::EcmaArray;
  if (video)
    meta.properties.emplace_back ("videocodecid", num (7));
  if (audio)
    meta.properties.emplace_back ("audiocodecid", num (10));
  return message (kCsidStream, castline::rtmp::kMsgDataAmf0, kStreamId, 0,
      amf ({str ("@setDataFrame"), str ("onMetaData"), meta}));
}

std::string
PublishScript::avc_sequence_header (uint32_t ts)
{
  /* keyframe + AVC, sequence header, composition time 0, then a record
   * with one SPS (Baseline 3.0) and one PPS */
  static const char body[] = "\x17\x00\x00\x00\x00"
      "\x01\x42\xc0\x1e\xff\xe1\x00\x08" "\x67\x42\xc0\x1e\xd9\x01\x40\x16"
      "\x01\x00\x04" "\x68\xcb\x83\xcb";
  return message (kCsidVideo, castline::rtmp::kMsgVideo, kStreamId, ts,
      std::string (body, sizeof body - 1));
}

std::string
PublishScript::aac_sequence_header (uint32_t ts)
{
  return message (kCsidAudio, castline::rtmp::kMsgAudio, kStreamId, ts,
      std::string ("\xaf\x00\x12\x10", 4));
}

std::string
PublishScript::video_frame (uint32_t ts, bool keyframe)
{
  std::string body (keyframe ? "\x17" : "\x27", 1);
  body += std::string ("\x01\x00\x00\x00" "\x00\x00\x00\x05", 8);
  body += keyframe ? std::string ("\x65\x88\x84\x00\x33", 5) : std::string ("\x41\x9a\x02\x03\x04", 5);
  return message (kCsidVideo, castline::rtmp::kMsgVideo, kStreamId, ts, body);
}

std::string
PublishScript::audio_frame (uint32_t ts)
{
  return message (kCsidAudio, castline::rtmp::kMsgAudio, kStreamId, ts,
      std::string ("\xaf\x01\x21\x10\x04\x60\x8c\x1c", 8));
}

std::string
PublishScript::unpublish (const std::string & stream_name)
{
  return message (kCsidCommand, castline::rtmp::kMsgCommandAmf0, 0, 0,
          amf ({str ("FCUnpublish"), num (6), AmfValue::make_null (), str (stream_name)}))
      + message (kCsidCommand, castline::rtmp::kMsgCommandAmf0, 0, 0,
          amf ({str ("deleteStream"), num (7), AmfValue::make_null (), num (kStreamId)}));
}

std::string
PublishScript::publish_exchange (const std::string & app, const std::string & key)
{
  /* in order: the chunk size applies to what follows it */
  std::string out = set_chunk_size (4096);
  out += connect (app, "rtmp://127.0.0.1/" + app);
  out += publish (key);
  out += metadata ();
  out += avc_sequence_header (0);
  return out + aac_sequence_header (0);
}

TestClient::TestClient (GIOStream * connection, unsigned timeout_s)
    : connection_ (G_IO_STREAM (g_object_ref (connection))),
      reader_ (castline::rtmp::Limits {})
{
  g_socket_set_timeout (castline::rtmp::socket_of (connection_), timeout_s);
}

TestClient::~TestClient ()
{
  g_io_stream_close (connection_, nullptr, nullptr);
  g_object_unref (connection_);
}

GIOStream *
TestClient::connect_tcp (int port)
{
  g_autoptr (GSocketClient) client = g_socket_client_new ();
  g_socket_client_set_timeout (client, 5);
  return G_IO_STREAM (g_socket_client_connect_to_host (client, "127.0.0.1", (guint16) port,
          nullptr, nullptr));
}

GIOStream *
TestClient::connect_tls (int port)
{
  g_autoptr (GIOStream) tcp = connect_tcp (port);
  if (!tcp)
    return nullptr;
  GIOStream *tls = g_tls_client_connection_new (tcp, nullptr, nullptr);
  if (!tls)
    return nullptr;
  /* the tests' certificates are their own: take any */
  g_signal_connect (tls, "accept-certificate", G_CALLBACK (+[] (GTlsConnection *,
          GTlsCertificate *, GTlsCertificateFlags, gpointer) -> gboolean { return TRUE; }),
      nullptr);
  g_socket_set_timeout (castline::rtmp::socket_of (tls), 5);
  if (!g_tls_connection_handshake (G_TLS_CONNECTION (tls), nullptr, nullptr)) {
    g_object_unref (tls);
    return nullptr;
  }
  return tls;
}

std::pair<GIOStream *, GIOStream *>
TestClient::socket_pair ()
{
  int fds[2];
  g_assert (socketpair (AF_UNIX, SOCK_STREAM, 0, fds) == 0);
  GIOStream *ends[2];
  for (int i = 0; i < 2; i++) {
    g_autoptr (GSocket) socket = g_socket_new_from_fd (fds[i], nullptr);
    g_assert (socket);
    ends[i] = G_IO_STREAM (g_socket_connection_factory_create_connection (socket));
  }
  return {ends[0], ends[1]};
}

bool
TestClient::send (const std::string & bytes)
{
  return g_output_stream_write_all (g_io_stream_get_output_stream (connection_), bytes.data (),
      bytes.size (), nullptr, nullptr, nullptr);
}

void
TestClient::close ()
{
  g_io_stream_close (connection_, nullptr, nullptr);
}

bool
TestClient::read_some ()
{
  char buffer[16384];
  gssize n = g_input_stream_read (g_io_stream_get_input_stream (connection_), buffer,
      sizeof buffer, nullptr, nullptr);
  if (n <= 0)
    return false;
  pending_.append (buffer, (size_t) n);
  return true;
}

bool
TestClient::handshake ()
{
  if (!send (PublishScript::c0c1 ()))
    return false;
  const size_t s0s1s2 = 1 + 2 * kPlainHandshake;
  while (pending_.size () < s0s1s2) {
    if (!read_some ())
      return false;
  }
  std::string answer = pending_.substr (0, s0s1s2);
  pending_.erase (0, s0s1s2);
  return send (PublishScript::c2 (answer));
}

std::string
TestClient::wait_code ()
{
  while (true) {
    /* the messages read so far */
    while (true) {
      castline::rtmp::RtmpMessage m;
      size_t used = 0;
      auto status = reader_.read ((const uint8_t *) pending_.data (), pending_.size (), &used, m);
      pending_.erase (0, used);
      if (status != castline::rtmp::ChunkReader::Status::Message)
        break;
      if (m.type != castline::rtmp::kMsgCommandAmf0)
        continue;
      std::vector<AmfValue> values;
      if (!castline::rtmp::amf0_decode_all ((const uint8_t *) m.payload.data (),
              m.payload.size (), 16, values, nullptr) || values.empty ())
        continue;
      Answer a;
      a.name = values[0].string;
      for (const auto & v : values) {
        if (v.type == AmfType::Object && v.get ("code")) {
          a.code = v.get_string ("code");
          a.description = v.get_string ("description");
        }
      }
      answers.push_back (a);
    }
    for (; next_answer_ < answers.size (); next_answer_++) {
      /* onFCPublish carries a Publish.Start of its own: not the answer */
      const Answer & a = answers[next_answer_];
      if (!a.code.empty () && a.name != "onFCPublish")
        return answers[next_answer_++].code;
    }
    if (!read_some ())
      return "";
  }
}

std::string
TestClient::publish (const std::string & app, const std::string & key)
{
  if (!handshake ())
    return "";
  sent = script.publish_exchange (app, key);
  if (!send (sent))
    return "";
  std::string code = wait_code ();
  return code == "NetConnection.Connect.Success" ? wait_code () : code;
}

bool
TestClient::wait_closed ()
{
  char buffer[4096];
  while (true) {
    GError *err = nullptr;
    gssize n = g_input_stream_read (g_io_stream_get_input_stream (connection_), buffer,
        sizeof buffer, nullptr, &err);
    bool timed_out = n < 0 && g_error_matches (err, G_IO_ERROR, G_IO_ERROR_TIMED_OUT);
    g_clear_error (&err);
    if (n > 0)
      continue;
    return !timed_out;
  }
}

}  // namespace castline::test
