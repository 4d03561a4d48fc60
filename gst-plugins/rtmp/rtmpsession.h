/* castline rtmp: one RTMP publisher's protocol, without I/O (sans-I/O): the
 * caller feeds the bytes it received and sends the bytes the session gives
 * back; the session says what happened as events. The same object serves
 * the launcher's negotiation (main context) and rtmpserversrc's streaming
 * thread; it is not thread-safe (one thread at a time).
 *
 * What it does, in order:
 *   - the handshake (C0 C1 -> S0 S1 S2, then C2): the plain one and the
 *     digest one (HMAC-SHA256 at either offset scheme) - handshake.h;
 *   - the chunk stream: the four header types, extended timestamps, Set
 *     Chunk Size, Abort, Acknowledgement / Window Acknowledgement Size,
 *     Set Peer Bandwidth, User Control ping -> pong - chunkstream.h;
 *   - AMF0 commands - amf0.h: connect (-> Window Ack Size, Set Peer
 *     Bandwidth, Set Chunk Size, _result NetConnection.Connect.Success, or
 *     _error NetConnection.Connect.Rejected when the app is refused),
 *     releaseStream / FCPublish (-> onFCPublish), createStream (-> _result
 *     with stream id 1), publish (-> the Publish event; the answer waits
 *     for accept_publish / refuse_publish), @setDataFrame / onMetaData,
 *     FCUnpublish / deleteStream / closeStream (-> Unpublish), and anything
 *     else answered _error or ignored as the spec allows;
 *   - media: audio (8), video (9) and data (18) messages of the published
 *     stream become FLV tags with rebased timestamps.
 *
 * Limits (bounds a hostile peer cannot pass): a message over
 * max_message_size, a chunk size over max_chunk_size or 0 / with the top
 * bit set, more than max_chunk_streams chunk streams holding a partial
 * message, more than max_buffered bytes of partial messages in all, AMF
 * nesting over max_amf_depth, an unknown chunk stream id on a type 1-3
 * header, a command before connect or media before publish: each is an
 * error (feed returns false, error () says what) and the caller closes
 * the connection. Nothing is held that the limits do not bound. */
#pragma once

#include <glib.h>

#include <cstddef>
#include <cstdint>
#include <deque>
#include <memory>
#include <string>

namespace castline::rtmp {

struct Limits {
  size_t max_message_size = 4 * 1024 * 1024;    /* one message's length */
  uint32_t max_chunk_size = 1024 * 1024;         /* what Set Chunk Size may ask */
  size_t max_chunk_streams = 64;                 /* with a partial message at once
                                                  * (and 4 times as many in use) */
  size_t max_buffered = 16 * 1024 * 1024;        /* partial messages together */
  unsigned max_amf_depth = 16;                   /* nested objects and arrays */
};

/* One FLV tag's worth of media, as rtmpserversrc outputs it. */
struct FlvTag {
  uint8_t type = 0;            /* 8 audio, 9 video, 18 script data */
  uint32_t timestamp = 0;      /* ms, rebased: see PublishSession */
  /* the message's payload: the FLV tag body (what follows the 11-byte tag
   * header in a file) */
  GBytes *body = nullptr;      /* owned */

  FlvTag () = default;
  FlvTag (const FlvTag &) = delete;
  FlvTag & operator= (const FlvTag &) = delete;
  FlvTag (FlvTag && o) noexcept;
  FlvTag & operator= (FlvTag && o) noexcept;
  ~FlvTag ();
};

/* What the publisher sends, as far as it is known: lower-case names as the
 * launcher's pipeline catalog uses them ("h264", "hevc", "av1", "vp9",
 * "vp6", "h263" / "aac", "mp3", "opus", "speex", "pcm", ...); "" unknown
 * yet or none. From onMetaData's videocodecid / audiocodecid (numbers,
 * or Enhanced RTMP FourCCs) and, over them, from the first media tags
 * (an Enhanced RTMP video tag's FourCC: hvc1, av01, vp09). */
struct PublishedCodecs {
  std::string video;
  std::string audio;
  bool metadata_seen = false;  /* onMetaData came */
  bool video_seen = false;     /* a video tag came */
  bool audio_seen = false;     /* an audio tag came */
};

enum class EventType {
  Connect,     /* app, tc_url: answered already (see accept_app) */
  Publish,     /* stream_name (the secret key: never log it), publish_type
                * ("live", "record", "append"): waits for accept_publish or
                * refuse_publish; nothing after it is read until then */
  Metadata,    /* onMetaData came (codecs () updated); also a tag */
  Media,       /* tag: an FLV tag (audio, video or onMetaData) */
  Unpublish,   /* FCUnpublish, deleteStream or closeStream: the end */
};

struct Event {
  EventType type;
  std::string app, tc_url;             /* Connect */
  std::string stream_name, publish_type;  /* Publish */
  FlvTag tag;                          /* Media, Metadata */
};

class PublishSession {
 public:
  enum class Start {
    Handshake,       /* a new connection: the handshake comes first */
    AfterHandshake,  /* a connection handed over after its handshake */
  };
  PublishSession (Start start, Limits limits = {});
  ~PublishSession ();
  PublishSession (const PublishSession &) = delete;
  PublishSession & operator= (const PublishSession &) = delete;

  /* Which applications connect accepts: "" any; else exactly this one (the
   * first path segment of the tcUrl / the connect's "app", without a query
   * ("live?x=y" is "live")). Before feeding. A refused one is answered
   * _error NetConnection.Connect.Rejected "unknown application" and feed
   * returns false. */
  void accept_app (const std::string & app);

  /* Replay: what is fed was read (and answered) by someone else already,
   * from after the handshake: the session takes it as if it were live but
   * gives no output, and accepts the publish the replay contains. For a
   * connection handed over with the bytes already read (the launcher to
   * rtmpserversrc). Set before the first feed; cleared by end_replay (),
   * after which the session goes on live. The replay's events are queued
   * as live ones are (its Publish event too, with publishing () already
   * true); after end_replay (), accept_publish () sends the publish's
   * answer if whoever read the replay did not (call it exactly then).
   * A replay may start with the handshake (Start::Handshake: everything
   * the client sent, from its first byte; the handshake is 1 + 2 * 1536
   * bytes of it) or after it (Start::AfterHandshake). */
  void begin_replay ();
  void end_replay ();

  /* Takes bytes received. False on a protocol error or a limit (error ()),
   * after which the session takes nothing more. Events are queued; after a
   * Publish event feeding goes on, but what follows is held (bounded by
   * max_buffered) until the answer. */
  bool feed (const uint8_t * data, size_t size);
  const std::string & error () const;

  /* The next event, in order; false when none. */
  bool next_event (Event & event);

  /* The answer to the Publish event: onStatus NetStream.Publish.Start (and
   * Stream Begin); the held input is read on (check error () after) ... */
  void accept_publish ();
  /* ... or an onStatus error: code "NetStream.Publish.BadName" (wrong
   * key, unknown stream, live already) or "NetStream.Publish.Rejected",
   * with a description the publisher shows; then the caller closes the
   * connection once the output is sent. Also after accept_publish, until
   * the end (a publisher accepted that cannot be taken after all). */
  void refuse_publish (const std::string & code, const std::string & description);
  /* onStatus NetStream.Unpublish.Success (the server ends the stream, or
   * answers the publisher's own FCUnpublish): before closing. */
  void end_publish (const std::string & description);

  /* Bytes to send, in order (answers, acknowledgements, pongs); the caller
   * takes them all and sends them before reading again. */
  bool has_output () const;
  std::string take_output ();

  bool publishing () const;       /* the publish was accepted */
  bool ended () const;            /* Unpublish came, or end_publish */
  const PublishedCodecs & codecs () const;
  uint64_t bytes_received () const;

 private:
  struct Private;
  std::unique_ptr<Private> priv_;
};

/* Timestamps: RTMP's are 32-bit milliseconds that wrap (after 49.7 days)
 * and that some encoders start anywhere or make jump (a restart on the
 * same connection). A tag's `timestamp` is the publisher's, unwrapped
 * (continued past 2^32), minus the first media message's (so the first
 * tag is at 0), with every jump of more than 10 s forward or any step
 * backward of more than 1 s (per media type) taken out: the tag then
 * follows the previous one of its type by one frame-ish step (the last
 * delta seen, else 33 ms video / 23 ms audio). Always fits FLV's 32-bit
 * (the FLV writer uses the extended byte). */

/* The FLV stream rtmpserversrc outputs: the 9-byte header (+ the first
 * 4-byte PreviousTagSize 0) with the audio / video flags, then each tag
 * (11-byte header, body, 4-byte size). */
GBytes *flv_header (bool has_audio, bool has_video);
GBytes *flv_tag (const FlvTag & tag);

/* The codec of one audio or video tag body (as PublishedCodecs), "" when
 * the body is empty. Enhanced RTMP video (the IsExHeader bit, a FourCC):
 * "hevc", "av1", "vp9"; legacy CodecID 7 "h264", 12 "hevc" (the
 * Chinese-CDN convention), 2 "h263", 4/5 "vp6"; audio SoundFormat 10
 * "aac", 2/14 "mp3", 11 "speex", 3/0 "pcm", 13 "opus" (some encoders). */
std::string flv_video_codec (const uint8_t * body, size_t size);
std::string flv_audio_codec (const uint8_t * body, size_t size);
/* Whether a tag body is an H.264 sequence header (AVCDecoderConfiguration
 * Record) / an AAC AudioSpecificConfig (AACPacketType 0). */
bool flv_is_sequence_header (uint8_t type, const uint8_t * body, size_t size);

}  // namespace castline::rtmp
