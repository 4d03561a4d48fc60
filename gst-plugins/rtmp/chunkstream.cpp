#include "rtmp/chunkstream.h"

#include <algorithm>

namespace castline::rtmp {

namespace {

constexpr uint32_t kExtendedMarker = 0xffffff;
constexpr size_t kHeaderSize[4] = {11, 7, 3, 0};
/* chunk streams known (each has its last header) per one that may hold a
 * partial message: publishers use five or so */
constexpr size_t kKnownStreamsPerPartial = 4;

uint32_t
get_u24be (const uint8_t * p)
{
  return ((uint32_t) p[0] << 16) | ((uint32_t) p[1] << 8) | p[2];
}

uint32_t
get_u32le (const uint8_t * p)
{
  return (uint32_t) p[0] | ((uint32_t) p[1] << 8) | ((uint32_t) p[2] << 16)
      | ((uint32_t) p[3] << 24);
}

void
put_u24be (std::string & out, uint32_t v)
{
  out.push_back ((char) ((v >> 16) & 0xff));
  out.push_back ((char) ((v >> 8) & 0xff));
  out.push_back ((char) (v & 0xff));
}

void
put_basic_header (std::string & out, uint8_t fmt, uint32_t csid)
{
  if (csid < 64) {
    out.push_back ((char) ((fmt << 6) | csid));
  } else if (csid < 64 + 256) {
    out.push_back ((char) (fmt << 6));
    out.push_back ((char) (csid - 64));
  } else {
    out.push_back ((char) ((fmt << 6) | 1));
    out.push_back ((char) ((csid - 64) & 0xff));
    out.push_back ((char) (((csid - 64) >> 8) & 0xff));
  }
}

}  // namespace

void
put_u32be (std::string & out, uint32_t v)
{
  out.push_back ((char) ((v >> 24) & 0xff));
  put_u24be (out, v & 0xffffff);
}

uint32_t
get_u32be (const uint8_t * p)
{
  return ((uint32_t) p[0] << 24) | get_u24be (p + 1);
}

ChunkReader::ChunkReader (const Limits & limits) : limits_ (limits) {}

bool
ChunkReader::fail (const std::string & what)
{
  if (error_.empty ())
    error_ = what;
  return false;
}

ChunkReader::ChunkStatus
ChunkReader::read_chunk (const uint8_t * data, size_t size, size_t * consumed, Stream ** completed)
{
  *completed = nullptr;
  size_t pos = 1;
  if (size < 1)
    return ChunkStatus::NeedMore;
  uint8_t fmt = data[0] >> 6;
  uint32_t csid = data[0] & 0x3f;
  if (csid == 0) {
    if (size < 2)
      return ChunkStatus::NeedMore;
    csid = 64 + data[1];
    pos = 2;
  } else if (csid == 1) {
    if (size < 3)
      return ChunkStatus::NeedMore;
    csid = 64 + data[1] + 256 * (uint32_t) data[2];
    pos = 3;
  }
  if (size < pos + kHeaderSize[fmt])
    return ChunkStatus::NeedMore;

  auto it = streams_.find (csid);
  if (fmt != 0 && it == streams_.end ()) {
    fail ("a type " + std::to_string (fmt) + " chunk header on chunk stream "
        + std::to_string (csid) + ", which has had no type 0 header");
    return ChunkStatus::Error;
  }
  if (it == streams_.end () && streams_.size () >= kKnownStreamsPerPartial * limits_.max_chunk_streams) {
    fail ("more than " + std::to_string (streams_.size ()) + " chunk streams in use");
    return ChunkStatus::Error;
  }
  static const Stream fresh;
  const Stream & st = it == streams_.end () ? fresh : it->second;
  if (fmt < 3 && st.in_progress) {
    fail ("a new message header on chunk stream " + std::to_string (csid)
        + " while its message is incomplete");
    return ChunkStatus::Error;
  }

  /* read the header without changing state: a partial chunk is read again */
  uint32_t ts_field = 0, length = st.length, stream_id = st.stream_id;
  uint8_t type = st.type;
  const uint8_t *h = data + pos;
  if (fmt <= 2)
    ts_field = get_u24be (h);
  if (fmt <= 1) {
    length = get_u24be (h + 3);
    type = h[6];
  }
  if (fmt == 0)
    stream_id = get_u32le (h + 7);
  pos += kHeaderSize[fmt];

  bool new_message = !st.in_progress;
  bool extended = fmt < 3 ? ts_field == kExtendedMarker : st.extended;
  uint32_t extended_value = st.extended_value;
  if (extended) {
    if (size < pos + 4)
      return ChunkStatus::NeedMore;
    uint32_t v = get_u32be (data + pos);
    if (new_message) {
      extended_value = v;
      pos += 4;
    } else if (v == st.extended_value) {
      pos += 4;  /* repeated on a continuation chunk */
    }
  }

  uint32_t timestamp = st.timestamp, delta = st.delta;
  if (new_message) {
    if (length > limits_.max_message_size) {
      fail ("a message of " + std::to_string (length) + " bytes on chunk stream "
          + std::to_string (csid) + " (the limit is "
          + std::to_string (limits_.max_message_size) + ")");
      return ChunkStatus::Error;
    }
    uint32_t field = extended ? extended_value : ts_field;
    if (fmt == 0) {
      timestamp = field;
      delta = field;
    } else {
      if (fmt != 3 || extended)
        delta = field;
      timestamp = st.timestamp + delta;
    }
  }

  size_t have = new_message ? 0 : st.partial.size ();
  size_t piece = std::min<size_t> (chunk_size_, length - have);
  if (size < pos + piece)
    return ChunkStatus::NeedMore;
  bool completes = have + piece == length;
  if (new_message && !completes && in_progress_ >= limits_.max_chunk_streams) {
    fail ("more than " + std::to_string (limits_.max_chunk_streams)
        + " chunk streams with a partial message");
    return ChunkStatus::Error;
  }
  if (!completes && buffered_ + piece > limits_.max_buffered) {
    fail ("more than " + std::to_string (limits_.max_buffered)
        + " bytes of partial messages");
    return ChunkStatus::Error;
  }

  Stream & s = streams_[csid];
  if (new_message) {
    s.csid = csid;
    s.timestamp = timestamp;
    s.delta = delta;
    s.length = length;
    s.type = type;
    s.stream_id = stream_id;
    s.extended = extended;
    s.extended_value = extended_value;
    s.partial.clear ();
  }
  s.partial.append ((const char *) data + pos, piece);
  pos += piece;
  if (completes) {
    if (!new_message) {
      in_progress_--;
      buffered_ -= have;
    }
    s.in_progress = false;
    *completed = &s;
  } else {
    if (new_message)
      in_progress_++;
    s.in_progress = true;
    buffered_ += piece;
  }
  *consumed = pos;
  return ChunkStatus::Chunk;
}

bool
ChunkReader::apply_control (const RtmpMessage & m)
{
  if (m.payload.size () < 4)
    return fail ("a protocol control message (type " + std::to_string (m.type)
        + ") shorter than 4 bytes");
  uint32_t v = get_u32be ((const uint8_t *) m.payload.data ());
  if (m.type == kMsgSetChunkSize) {
    if (v == 0 || (v & 0x80000000u) || v > limits_.max_chunk_size)
      return fail ("Set Chunk Size " + std::to_string (v) + " (allowed: 1 to "
          + std::to_string (limits_.max_chunk_size) + ")");
    chunk_size_ = v;
    return true;
  }
  /* Abort: drop the partial message of that chunk stream */
  auto it = streams_.find (v);
  if (it != streams_.end () && it->second.in_progress) {
    buffered_ -= it->second.partial.size ();
    in_progress_--;
    it->second.in_progress = false;
    it->second.partial.clear ();
    it->second.partial.shrink_to_fit ();
  }
  return true;
}

ChunkReader::Status
ChunkReader::read (const uint8_t * data, size_t size, size_t * consumed, RtmpMessage & message)
{
  *consumed = 0;
  if (!error_.empty ())
    return Status::Error;
  for (;;) {
    size_t used = 0;
    Stream *done = nullptr;
    ChunkStatus cs = read_chunk (data + *consumed, size - *consumed, &used, &done);
    if (cs == ChunkStatus::Error)
      return Status::Error;
    if (cs == ChunkStatus::NeedMore)
      return Status::NeedMore;
    *consumed += used;
    if (!done)
      continue;
    message.csid = done->csid;
    message.type = done->type;
    message.stream_id = done->stream_id;
    message.timestamp = done->timestamp;
    message.payload = std::move (done->partial);
    done->partial = std::string ();
    if (message.type == kMsgSetChunkSize || message.type == kMsgAbort) {
      if (!apply_control (message))
        return Status::Error;
      continue;
    }
    return Status::Message;
  }
}

void
ChunkWriter::write (std::string & out, uint32_t csid, uint8_t type, uint32_t stream_id,
    uint32_t timestamp, const std::string & payload) const
{
  bool extended = timestamp >= kExtendedMarker;
  put_basic_header (out, 0, csid);
  put_u24be (out, extended ? kExtendedMarker : timestamp);
  put_u24be (out, (uint32_t) payload.size ());
  out.push_back ((char) type);
  for (int i = 0; i < 4; i++)
    out.push_back ((char) ((stream_id >> (8 * i)) & 0xff));
  if (extended)
    put_u32be (out, timestamp);
  size_t pos = 0;
  for (;;) {
    size_t piece = std::min<size_t> (chunk_size_, payload.size () - pos);
    out.append (payload, pos, piece);
    pos += piece;
    if (pos >= payload.size ())
      break;
    put_basic_header (out, 3, csid);
    if (extended)
      put_u32be (out, timestamp);
  }
}

}  // namespace castline::rtmp
