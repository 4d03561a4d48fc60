/* castline tests: an RTMP publisher scripted byte by byte, for the tests of
 * rtmpserversrc, its listener and the launcher's RTMP ingest.
 *
 * PublishScript makes what a client sends to publish (C0 C1 and C2 of the
 * plain handshake, connect, releaseStream, FCPublish, createStream,
 * publish, @setDataFrame onMetaData, H.264 and AAC tags, FCUnpublish,
 * deleteStream) with the engine's chunk writer and AMF0 encoder, on
 * ffmpeg's chunk streams. TestClient sends it over a GIOStream and reads
 * the server's answers back with the chunk reader and the AMF0 decoder;
 * every read is bounded by a time-out. */
#pragma once

#include "rtmp/chunkstream.h"

#include <gio/gio.h>

#include <string>
#include <utility>
#include <vector>

namespace castline::test {

class PublishScript {
 public:
  /* the plain handshake: C0 C1, then C2 (S1 echoed) once S0 S1 S2 came */
  static std::string c0c1 ();
  static std::string c2 (const std::string & s0s1s2);

  /* applies to the messages made after it (mind C++'s unspecified order
   * of the operands of +) */
  std::string set_chunk_size (uint32_t size);
  std::string connect (const std::string & app, const std::string & tc_url);
  /* releaseStream, FCPublish, createStream, publish (live) */
  std::string publish (const std::string & stream_name);
  std::string metadata (bool video = true, bool audio = true);
  /* AVCDecoderConfigurationRecord / AudioSpecificConfig (AAC LC 44.1 kHz
   * stereo), at ts (ms) */
  std::string avc_sequence_header (uint32_t ts);
  std::string aac_sequence_header (uint32_t ts);
  std::string video_frame (uint32_t ts, bool keyframe);
  std::string audio_frame (uint32_t ts);
  /* FCUnpublish, deleteStream */
  std::string unpublish (const std::string & stream_name);
  std::string message (uint32_t csid, uint8_t type, uint32_t stream_id, uint32_t ts,
      const std::string & payload);

  /* connect to `app`, publish `key`, the metadata and both sequence
   * headers at ts 0: what a listener needs to hand the publisher over */
  std::string publish_exchange (const std::string & app, const std::string & key);

 private:
  castline::rtmp::ChunkWriter writer_;
};

/* One answer of the server: a command's name ("_result", "_error",
 * "onStatus", "onFCPublish"...) and its info object's code and
 * description, when it has one. */
struct Answer {
  std::string name;
  std::string code;
  std::string description;
};

class TestClient {
 public:
  /* takes a reference; every read waits at most timeout_s */
  explicit TestClient (GIOStream * connection, unsigned timeout_s = 5);
  ~TestClient ();
  TestClient (const TestClient &) = delete;
  TestClient & operator= (const TestClient &) = delete;

  /* a TCP connection to 127.0.0.1:port, or nullptr */
  static GIOStream *connect_tcp (int port);
  /* the same with TLS over it, its handshake made (any certificate taken),
   * or nullptr */
  static GIOStream *connect_tls (int port);
  /* a connected pair of sockets: (the server's end, the client's end) */
  static std::pair<GIOStream *, GIOStream *> socket_pair ();

  bool send (const std::string & bytes);
  /* hangs up (what a publisher does after Unpublish.Success) */
  void close ();
  /* C0 C1, S0 S1 S2 read, C2 */
  bool handshake ();
  /* Reads answers until one has an info code (a _result of connect, an
   * _error, an onStatus; not onFCPublish): that code; "" when the connection closed or
   * nothing came in time. Every answer read is kept in answers. */
  std::string wait_code ();
  /* For a listener: the handshake, then publish_exchange (app, key) (kept
   * in `sent`); the code that answers the publish
   * ("NetStream.Publish.Start" or a refusal), or the connect's when it is
   * not NetConnection.Connect.Success, or "". */
  std::string publish (const std::string & app, const std::string & key);
  std::string sent;

  /* Reads until the server closes: true; false when it did not in time. */
  bool wait_closed ();

  std::vector<Answer> answers;
  PublishScript script;

 private:
  /* one blocking read into pending_: false at the end or on a time-out */
  bool read_some ();

  GIOStream *connection_;
  castline::rtmp::ChunkReader reader_;
  std::string pending_;
  size_t next_answer_ = 0;
};

}  // namespace castline::test
