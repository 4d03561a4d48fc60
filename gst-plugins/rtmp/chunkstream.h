/* castline rtmp: the chunk stream, RTMP's framing under the messages.
 *
 * ChunkReader reassembles messages from chunks: basic headers of 1 to 3
 * bytes (chunk stream ids 2 to 65599), the four message header types (0
 * full, 1 without the stream id, 2 a timestamp delta only, 3 nothing),
 * extended timestamps (the 24-bit field at 0xFFFFFF, then 4 bytes; on
 * type 3 chunks too, which ffmpeg and librtmp repeat on the continuation
 * chunks of a message and some others do not: a continuation's 4 bytes are
 * taken as the extended timestamp only when they equal it, as SRS does;
 * the reader waits for those 4 bytes to tell).
 * It applies Set Chunk Size and Abort itself; every other message is
 * returned whole.
 *
 * Everything a peer can make it hold is bounded by Limits: one message's
 * length, the chunk size, the chunk streams with a partial message (and
 * the chunk streams in use at all: four times as many), and the partial
 * messages' bytes together. A type 1-3 header on a chunk stream
 * that has had no type 0, or a new header while a message is incomplete
 * on that chunk stream, is an error.
 *
 * ChunkWriter cuts messages into chunks: a type 0 header, then type 3
 * continuations (with the extended timestamp repeated when there is one). */
#pragma once

#include "rtmp/rtmpsession.h"

#include <cstddef>
#include <cstdint>
#include <map>
#include <string>

namespace castline::rtmp {

/* message type ids */
enum MessageType : uint8_t {
  kMsgSetChunkSize = 1,
  kMsgAbort = 2,
  kMsgAcknowledgement = 3,
  kMsgUserControl = 4,
  kMsgWindowAckSize = 5,
  kMsgSetPeerBandwidth = 6,
  kMsgAudio = 8,
  kMsgVideo = 9,
  kMsgDataAmf3 = 15,
  kMsgCommandAmf3 = 17,
  kMsgDataAmf0 = 18,
  kMsgCommandAmf0 = 20,
  kMsgAggregate = 22,
};

constexpr uint32_t kDefaultChunkSize = 128;

struct RtmpMessage {
  uint32_t csid = 0;
  uint8_t type = 0;
  uint32_t stream_id = 0;
  uint32_t timestamp = 0;  /* absolute, in the peer's 32-bit milliseconds */
  std::string payload;
};

class ChunkReader {
 public:
  enum class Status { Message, NeedMore, Error };

  explicit ChunkReader (const Limits & limits);

  /* Reads whole chunks from data until a message completes (Message:
   * `message` is set) or what is left is not a whole chunk (NeedMore).
   * *consumed says how many bytes were used either way; the caller keeps
   * the rest and offers it again with more. Error: error () says why. */
  Status read (const uint8_t * data, size_t size, size_t * consumed, RtmpMessage & message);
  const std::string & error () const { return error_; }

  uint32_t chunk_size () const { return chunk_size_; }
  /* bytes held in partial messages */
  size_t buffered () const { return buffered_; }

 private:
  struct Stream {
    uint32_t csid = 0;
    uint32_t timestamp = 0;
    uint32_t delta = 0;
    uint32_t length = 0;
    uint8_t type = 0;
    uint32_t stream_id = 0;
    bool extended = false;     /* the last header had an extended timestamp */
    uint32_t extended_value = 0;
    bool in_progress = false;  /* a message is partly read */
    std::string partial;
  };

  enum class ChunkStatus { Chunk, NeedMore, Error };
  ChunkStatus read_chunk (const uint8_t * data, size_t size, size_t * consumed,
      Stream ** completed);
  bool fail (const std::string & what);
  bool apply_control (const RtmpMessage & message);

  Limits limits_;
  uint32_t chunk_size_ = kDefaultChunkSize;
  std::map<uint32_t, Stream> streams_;
  size_t in_progress_ = 0;
  size_t buffered_ = 0;
  std::string error_;
};

class ChunkWriter {
 public:
  void set_chunk_size (uint32_t size) { chunk_size_ = size; }
  uint32_t chunk_size () const { return chunk_size_; }

  /* Appends the chunks of one message to out. */
  void write (std::string & out, uint32_t csid, uint8_t type, uint32_t stream_id,
      uint32_t timestamp, const std::string & payload) const;

 private:
  uint32_t chunk_size_ = kDefaultChunkSize;
};

/* Big-endian helpers shared by the RTMP files. */
void put_u32be (std::string & out, uint32_t v);
uint32_t get_u32be (const uint8_t * p);

}  // namespace castline::rtmp
