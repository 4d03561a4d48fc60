/* castline tests: the ISO BMFF box reader; see boxreader.h. */
#include "boxreader.h"

#include <cstring>

namespace castline::llhls::test {

namespace {

/* Big-endian reads over [pos, end), each checked: the first one past the
 * end sets error and every later read gives 0. */
struct Cursor {
  const guint8 *pos;
  const guint8 *end;
  const char *what;
  std::string *error;

  Cursor (const guint8 * data, size_t size, const char *box, std::string & err)
      : pos (data), end (data + size), what (box), error (&err) {}

  bool ok () const { return error->empty (); }
  size_t left () const { return end - pos; }
  bool need (size_t n)
  {
    if (!ok ())
      return false;
    if (left () < n) {
      *error = std::string (what) + ": truncated (needs " + std::to_string (n)
          + " more bytes, has " + std::to_string (left ()) + ")";
      return false;
    }
    return true;
  }
  guint64 uint (int n)
  {
    if (!need (n))
      return 0;
    guint64 v = 0;
    for (int i = 0; i < n; i++)
      v = (v << 8) | *pos++;
    return v;
  }
  guint8 u8 () { return static_cast<guint8> (uint (1)); }
  guint16 u16 () { return static_cast<guint16> (uint (2)); }
  guint32 u24 () { return static_cast<guint32> (uint (3)); }
  guint32 u32 () { return static_cast<guint32> (uint (4)); }
  guint64 u64 () { return uint (8); }
  void skip (size_t n)
  {
    if (need (n))
      pos += n;
  }
  std::string fourcc ()
  {
    if (!need (4))
      return "";
    std::string s (reinterpret_cast<const char *> (pos), 4);
    pos += 4;
    return s;
  }
  std::vector<guint8> bytes (size_t n)
  {
    if (!need (n))
      return {};
    std::vector<guint8> v (pos, pos + n);
    pos += n;
    return v;
  }
  /* a full box's version and flags */
  void full (guint8 & version, guint32 & flags)
  {
    version = u8 ();
    flags = u24 ();
  }
};

/* where the children of a box start in its payload, or -1 for a leaf */
long
children_at (const std::string & type)
{
  static const char *const containers[] = {
    "moov", "trak", "mdia", "minf", "dinf", "stbl", "mvex", "moof", "traf", "edts",
  };
  for (const char *c : containers)
    if (type == c)
      return 0;
  if (type == "stsd" || type == "dref")
    return 8;         /* version, flags, entry_count */
  if (type == "avc1")
    return 78;        /* VisualSampleEntry's fields */
  if (type == "mp4a")
    return 28;        /* AudioSampleEntry's fields */
  return -1;
}

const unsigned kMaxDepth = 16;

bool
parse_level (const guint8 * data, size_t size, std::vector<Box> & out,
    std::string & error, unsigned depth)
{
  if (depth > kMaxDepth) {
    error = "boxes nested deeper than " + std::to_string (kMaxDepth);
    return false;
  }
  size_t at = 0;
  while (at < size) {
    Cursor c (data + at, size - at, "box header", error);
    guint64 total = c.u32 ();
    std::string type = c.fourcc ();
    if (!c.ok ())
      return false;
    if (total == 1)
      total = c.u64 ();
    else if (total == 0)
      total = size - at;
    if (type == "uuid")
      c.skip (16);
    if (!c.ok ())
      return false;
    size_t header = c.pos - (data + at);
    if (total < header) {
      error = "box '" + type + "' at byte " + std::to_string (at) + ": size "
          + std::to_string (total) + " is smaller than its header";
      return false;
    }
    if (total > size - at) {
      error = "box '" + type + "' at byte " + std::to_string (at) + ": size "
          + std::to_string (total) + " runs past its parent (" + std::to_string (size - at)
          + " bytes left)";
      return false;
    }
    Box box;
    box.type = type;
    box.begin = data + at;
    box.total = total;
    box.data = c.pos;
    box.size = total - header;
    long inner = children_at (type);
    if (inner >= 0) {
      if (box.size < static_cast<size_t> (inner)) {
        error = "box '" + type + "': " + std::to_string (box.size)
            + " bytes, too short for its fields";
        return false;
      }
      if (!parse_level (box.data + inner, box.size - inner, box.children, error, depth + 1)) {
        error = type + "/" + error;
        return false;
      }
    }
    out.push_back (std::move (box));
    at += total;
  }
  return true;
}

void
collect (const std::vector<Box> & boxes, const std::vector<std::string> & path,
    size_t level, std::vector<const Box *> & out)
{
  for (const Box & b : boxes) {
    if (b.type != path[level])
      continue;
    if (level + 1 == path.size ())
      out.push_back (&b);
    else
      collect (b.children, path, level + 1, out);
  }
}

bool
expect_type (const Box & box, const char *type, std::string & error)
{
  error.clear ();
  if (box.type == type)
    return true;
  error = std::string ("expected a '") + type + "' box, got '" + box.type + "'";
  return false;
}

/* 14496-1 descriptors: tag, expandable size (at most 4 bytes) */
bool
read_descriptor (Cursor & c, guint8 & tag, size_t & size)
{
  tag = c.u8 ();
  size = 0;
  for (int i = 0; i < 4; i++) {
    guint8 b = c.u8 ();
    size = (size << 7) | (b & 0x7f);
    if (!(b & 0x80))
      break;
    if (i == 3) {
      *c.error = std::string (c.what) + ": descriptor size longer than 4 bytes";
      return false;
    }
  }
  if (!c.ok ())
    return false;
  if (size > c.left ()) {
    *c.error = std::string (c.what) + ": descriptor " + std::to_string (tag) + " of "
        + std::to_string (size) + " bytes runs past its box";
    return false;
  }
  return true;
}

/* esds: ES_Descriptor { DecoderConfigDescriptor { DecoderSpecificInfo } ... } */
bool
read_esds (const Box & box, Mp4a & out, std::string & error)
{
  Cursor c (box.data, box.size, "esds", error);
  guint8 version;
  guint32 flags;
  c.full (version, flags);
  guint8 tag;
  size_t size;
  if (!read_descriptor (c, tag, size))
    return false;
  if (tag != 0x03) {
    error = "esds: no ES_Descriptor (tag " + std::to_string (tag) + ")";
    return false;
  }
  Cursor es (c.pos, size, "ES_Descriptor", error);
  out.es_id = es.u16 ();
  guint8 es_flags = es.u8 ();
  if (es_flags & 0x80)
    es.skip (2);      /* dependsOn_ES_ID */
  if (es_flags & 0x40)
    es.skip (es.u8 ());   /* URL */
  if (es_flags & 0x20)
    es.skip (2);      /* OCR_ES_Id */
  bool have_config = false;
  while (es.ok () && es.left () > 0) {
    if (!read_descriptor (es, tag, size))
      return false;
    if (tag == 0x04) {
      Cursor dc (es.pos, size, "DecoderConfigDescriptor", error);
      out.object_type = dc.u8 ();
      out.stream_type = dc.u8 () >> 2;
      dc.skip (3 + 4 + 4);  /* bufferSizeDB, maxBitrate, avgBitrate */
      while (dc.ok () && dc.left () > 0) {
        guint8 inner_tag;
        size_t inner_size;
        if (!read_descriptor (dc, inner_tag, inner_size))
          return false;
        if (inner_tag == 0x05)
          out.decoder_specific_info = dc.bytes (inner_size);
        else
          dc.skip (inner_size);
      }
      if (!dc.ok ())
        return false;
      have_config = true;
    }
    es.skip (size);
  }
  if (!es.ok ())
    return false;
  if (!have_config) {
    error = "esds: no DecoderConfigDescriptor";
    return false;
  }
  return true;
}

}  // namespace

bool
parse_boxes (const guint8 * data, size_t size, std::vector<Box> & out, std::string & error)
{
  out.clear ();
  error.clear ();
  if (data == nullptr && size > 0) {
    error = "no data";
    return false;
  }
  return parse_level (data, size, out, error, 0);
}

std::vector<const Box *>
find_all (const std::vector<Box> & boxes, const std::string & path)
{
  std::vector<std::string> parts;
  gchar **split = g_strsplit (path.c_str (), "/", -1);
  for (gchar **p = split; *p; p++)
    parts.emplace_back (*p);
  g_strfreev (split);
  std::vector<const Box *> out;
  if (!parts.empty ())
    collect (boxes, parts, 0, out);
  return out;
}

const Box *
find (const std::vector<Box> & boxes, const std::string & path)
{
  std::vector<const Box *> all = find_all (boxes, path);
  return all.empty () ? nullptr : all.front ();
}

bool
read_mfhd (const Box & box, Mfhd & out, std::string & error)
{
  if (!expect_type (box, "mfhd", error))
    return false;
  Cursor c (box.data, box.size, "mfhd", error);
  guint8 version;
  guint32 flags;
  c.full (version, flags);
  out.sequence_number = c.u32 ();
  return c.ok ();
}

bool
read_tfhd (const Box & box, Tfhd & out, std::string & error)
{
  if (!expect_type (box, "tfhd", error))
    return false;
  Cursor c (box.data, box.size, "tfhd", error);
  guint8 version;
  c.full (version, out.flags);
  out.track_id = c.u32 ();
  if (out.flags & 0x000001)
    out.base_data_offset = c.u64 ();
  if (out.flags & 0x000002)
    out.sample_description_index = c.u32 ();
  if (out.flags & 0x000008)
    out.default_sample_duration = c.u32 ();
  if (out.flags & 0x000010)
    out.default_sample_size = c.u32 ();
  if (out.flags & 0x000020)
    out.default_sample_flags = c.u32 ();
  return c.ok ();
}

bool
read_tfdt (const Box & box, Tfdt & out, std::string & error)
{
  if (!expect_type (box, "tfdt", error))
    return false;
  Cursor c (box.data, box.size, "tfdt", error);
  guint32 flags;
  c.full (out.version, flags);
  out.base_media_decode_time = out.version == 1 ? c.u64 () : c.u32 ();
  return c.ok ();
}

bool
read_trun (const Box & box, Trun & out, std::string & error)
{
  if (!expect_type (box, "trun", error))
    return false;
  Cursor c (box.data, box.size, "trun", error);
  c.full (out.version, out.flags);
  guint32 count = c.u32 ();
  if (out.flags & 0x000001)
    out.data_offset = static_cast<gint32> (c.u32 ());
  if (out.flags & 0x000004)
    out.first_sample_flags = c.u32 ();
  if (!c.ok ())
    return false;
  size_t per_sample = 0;
  for (guint32 f : { 0x000100u, 0x000200u, 0x000400u, 0x000800u })
    if (out.flags & f)
      per_sample += 4;
  /* check the count against the box before allocating for it */
  if (per_sample > 0 && count > c.left () / per_sample) {
    error = "trun: " + std::to_string (count) + " samples of " + std::to_string (per_sample)
        + " bytes do not fit in " + std::to_string (c.left ()) + " bytes";
    return false;
  }
  if (per_sample == 0 && count > (1u << 24)) {
    error = "trun: " + std::to_string (count) + " samples without fields";
    return false;
  }
  out.samples.assign (count, TrunSample ());
  for (TrunSample & s : out.samples) {
    if (out.flags & 0x000100)
      s.duration = c.u32 ();
    if (out.flags & 0x000200)
      s.size = c.u32 ();
    if (out.flags & 0x000400)
      s.flags = c.u32 ();
    if (out.flags & 0x000800) {
      guint32 v = c.u32 ();
      s.composition_offset = out.version == 0 ? static_cast<gint64> (v)
          : static_cast<gint64> (static_cast<gint32> (v));
    }
  }
  return c.ok ();
}

bool
read_tkhd (const Box & box, Tkhd & out, std::string & error)
{
  if (!expect_type (box, "tkhd", error))
    return false;
  Cursor c (box.data, box.size, "tkhd", error);
  c.full (out.version, out.flags);
  const int t = out.version == 1 ? 8 : 4;
  c.skip (2 * t);     /* creation, modification */
  out.track_id = c.u32 ();
  c.skip (4);         /* reserved */
  out.duration = c.uint (t);
  c.skip (8 + 2 + 2); /* reserved, layer, alternate_group */
  out.volume = c.u16 ();
  c.skip (2 + 36);    /* reserved, matrix */
  out.width = c.u32 ();
  out.height = c.u32 ();
  return c.ok ();
}

bool
read_mvhd (const Box & box, Mvhd & out, std::string & error)
{
  if (!expect_type (box, "mvhd", error))
    return false;
  Cursor c (box.data, box.size, "mvhd", error);
  guint8 version;
  guint32 flags;
  c.full (version, flags);
  const int t = version == 1 ? 8 : 4;
  c.skip (2 * t);
  out.timescale = c.u32 ();
  out.duration = c.uint (t);
  c.skip (4 + 2 + 10 + 36 + 24);  /* rate, volume, reserved, matrix, pre_defined */
  out.next_track_id = c.u32 ();
  return c.ok ();
}

bool
read_mdhd (const Box & box, Mdhd & out, std::string & error)
{
  if (!expect_type (box, "mdhd", error))
    return false;
  Cursor c (box.data, box.size, "mdhd", error);
  guint8 version;
  guint32 flags;
  c.full (version, flags);
  const int t = version == 1 ? 8 : 4;
  c.skip (2 * t);
  out.timescale = c.u32 ();
  out.duration = c.uint (t);
  guint16 lang = c.u16 ();
  c.skip (2);         /* pre_defined */
  out.language.clear ();
  for (int shift = 10; shift >= 0; shift -= 5)
    out.language.push_back (static_cast<char> (((lang >> shift) & 0x1f) + 0x60));
  return c.ok ();
}

bool
read_hdlr (const Box & box, Hdlr & out, std::string & error)
{
  if (!expect_type (box, "hdlr", error))
    return false;
  Cursor c (box.data, box.size, "hdlr", error);
  guint8 version;
  guint32 flags;
  c.full (version, flags);
  c.skip (4);         /* pre_defined */
  out.handler_type = c.fourcc ();
  c.skip (12);        /* reserved */
  if (!c.ok ())
    return false;
  const guint8 *nul = static_cast<const guint8 *> (memchr (c.pos, 0, c.left ()));
  out.name.assign (reinterpret_cast<const char *> (c.pos), nul ? nul - c.pos : c.left ());
  return true;
}

bool
read_trex (const Box & box, Trex & out, std::string & error)
{
  if (!expect_type (box, "trex", error))
    return false;
  Cursor c (box.data, box.size, "trex", error);
  guint8 version;
  guint32 flags;
  c.full (version, flags);
  out.track_id = c.u32 ();
  out.default_sample_description_index = c.u32 ();
  out.default_sample_duration = c.u32 ();
  out.default_sample_size = c.u32 ();
  out.default_sample_flags = c.u32 ();
  return c.ok ();
}

bool
read_stsd (const Box & box, guint32 & entry_count, std::string & error)
{
  if (!expect_type (box, "stsd", error))
    return false;
  Cursor c (box.data, box.size, "stsd", error);
  guint8 version;
  guint32 flags;
  c.full (version, flags);
  entry_count = c.u32 ();
  return c.ok ();
}

bool
read_avc1 (const Box & box, Avc1 & out, std::string & error)
{
  if (!expect_type (box, "avc1", error))
    return false;
  Cursor c (box.data, box.size, "avc1", error);
  c.skip (6);
  out.data_reference_index = c.u16 ();
  c.skip (2 + 2 + 12);  /* pre_defined, reserved, pre_defined */
  out.width = c.u16 ();
  out.height = c.u16 ();
  if (!c.ok ())
    return false;
  const Box *avcc = find (box.children, "avcC");
  if (!avcc) {
    error = "avc1: no avcC";
    return false;
  }
  out.avcc.assign (avcc->data, avcc->data + avcc->size);
  return true;
}

bool
read_mp4a (const Box & box, Mp4a & out, std::string & error)
{
  if (!expect_type (box, "mp4a", error))
    return false;
  Cursor c (box.data, box.size, "mp4a", error);
  c.skip (6);
  out.data_reference_index = c.u16 ();
  c.skip (8);         /* reserved */
  out.channels = c.u16 ();
  out.sample_size = c.u16 ();
  c.skip (4);         /* pre_defined, reserved */
  out.rate = c.u32 ();
  if (!c.ok ())
    return false;
  const Box *esds = find (box.children, "esds");
  if (!esds) {
    error = "mp4a: no esds";
    return false;
  }
  return read_esds (*esds, out, error);
}

}  // namespace castline::llhls::test
