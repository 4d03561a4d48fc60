/* castline: the CMAF boxes llhlssink writes; see fmp4writer.h. Every
 * integer is big-endian, written by BoxWriter only. */
#include "llhls/fmp4writer.h"

#include <gst/gst.h>

#include <algorithm>
#include <cstring>
#include <limits>

GST_DEBUG_CATEGORY_STATIC (fmp4writer_debug);
#define GST_CAT_DEFAULT fmp4writer_debug

namespace castline::llhls {

namespace {

void
init_debug ()
{
  static gsize once = 0;
  if (g_once_init_enter (&once)) {
    GST_DEBUG_CATEGORY_INIT (fmp4writer_debug, "fmp4writer", 0,
        "llhlssink's CMAF box writer");
    g_once_init_leave (&once, 1);
  }
}

/* Appends big-endian integers and boxes to a byte vector; a box's size is
 * patched in when it is closed. */
class BoxWriter {
 public:
  explicit BoxWriter (std::vector<guint8> & out) : out_ (out) {}

  void u8 (guint8 v) { out_.push_back (v); }
  void u16 (guint16 v) { put (v, 2); }
  void u24 (guint32 v) { put (v, 3); }
  void u32 (guint32 v) { put (v, 4); }
  void u64 (guint64 v) { put (v, 8); }
  void i32 (gint32 v) { u32 (static_cast<guint32> (v)); }
  void zeros (size_t n) { out_.insert (out_.end (), n, 0); }
  void bytes (const guint8 * data, size_t size)
  {
    if (size > 0)
      out_.insert (out_.end (), data, data + size);
  }
  void fourcc (const char *code) { bytes (reinterpret_cast<const guint8 *> (code), 4); }

  /* opens a box: returns its start, for close () */
  size_t open (const char *type)
  {
    size_t start = out_.size ();
    u32 (0);
    fourcc (type);
    return start;
  }
  /* opens a full box (version and 24-bit flags after the type) */
  size_t open_full (const char *type, guint8 version, guint32 flags)
  {
    size_t start = open (type);
    u8 (version);
    u24 (flags);
    return start;
  }
  void close (size_t start)
  {
    patch_u32 (start, static_cast<guint32> (out_.size () - start));
  }
  void patch_u32 (size_t at, guint32 v)
  {
    for (int i = 0; i < 4; i++)
      out_[at + i] = static_cast<guint8> (v >> (24 - 8 * i));
  }
  size_t pos () const { return out_.size (); }

 private:
  void put (guint64 v, int n)
  {
    for (int i = n - 1; i >= 0; i--)
      out_.push_back (static_cast<guint8> (v >> (8 * i)));
  }

  std::vector<guint8> & out_;
};

/* the unity matrix of mvhd and tkhd */
void
write_matrix (BoxWriter & w)
{
  const guint32 m[9] = { 0x00010000, 0, 0, 0, 0x00010000, 0, 0, 0, 0x40000000 };
  for (guint32 v : m)
    w.u32 (v);
}

/* an MPEG-4 descriptor (14496-1 expandable size, as few bytes as needed) */
void
write_descriptor_header (BoxWriter & w, guint8 tag, size_t size)
{
  w.u8 (tag);
  guint8 groups[4];
  int n = 0;
  do {
    groups[n++] = size & 0x7f;
    size >>= 7;
  } while (size > 0 && n < 4);
  for (int i = n - 1; i >= 0; i--)
    w.u8 (groups[i] | (i > 0 ? 0x80 : 0));
}

size_t
descriptor_size (size_t payload)
{
  size_t n = 1;
  for (size_t s = payload >> 7; s > 0; s >>= 7)
    n++;
  return 1 + n + payload;
}

/* esds: ES_Descriptor { DecoderConfigDescriptor { DecoderSpecificInfo =
 * the AudioSpecificConfig }, SLConfigDescriptor (predefined 2, MP4) } */
void
write_esds (BoxWriter & w, const TrackInfo & t)
{
  size_t dsi = descriptor_size (t.codec_data.size ());
  size_t dcd = descriptor_size (13 + dsi);
  size_t slc = descriptor_size (1);
  size_t box = w.open_full ("esds", 0, 0);
  write_descriptor_header (w, 0x03, 3 + dcd + slc);   /* ES_DescrTag */
  w.u16 (static_cast<guint16> (t.track_id));          /* ES_ID */
  w.u8 (0);                                           /* no depends/URL/OCR */
  write_descriptor_header (w, 0x04, 13 + dsi);        /* DecoderConfigDescrTag */
  w.u8 (0x40);                                        /* Audio ISO/IEC 14496-3 */
  w.u8 ((0x05 << 2) | 1);                             /* AudioStream, reserved 1 */
  w.u24 (0);                                          /* bufferSizeDB */
  w.u32 (0);                                          /* maxBitrate */
  w.u32 (0);                                          /* avgBitrate */
  write_descriptor_header (w, 0x05, t.codec_data.size ());  /* DecSpecificInfoTag */
  w.bytes (t.codec_data.data (), t.codec_data.size ());
  write_descriptor_header (w, 0x06, 1);               /* SLConfigDescrTag */
  w.u8 (0x02);
  w.close (box);
}

void
write_sample_entry_header (BoxWriter & w)
{
  w.zeros (6);        /* reserved */
  w.u16 (1);          /* data_reference_index */
}

void
write_avc1 (BoxWriter & w, const TrackInfo & t)
{
  size_t box = w.open ("avc1");
  write_sample_entry_header (w);
  w.u16 (0);          /* pre_defined */
  w.u16 (0);          /* reserved */
  w.zeros (12);       /* pre_defined */
  w.u16 (static_cast<guint16> (t.width));
  w.u16 (static_cast<guint16> (t.height));
  w.u32 (0x00480000); /* 72 dpi */
  w.u32 (0x00480000);
  w.u32 (0);          /* reserved */
  w.u16 (1);          /* frame_count */
  w.zeros (32);       /* compressorname */
  w.u16 (0x0018);     /* depth */
  w.u16 (0xffff);     /* pre_defined -1 */
  size_t avcc = w.open ("avcC");
  w.bytes (t.codec_data.data (), t.codec_data.size ());
  w.close (avcc);
  w.close (box);
}

void
write_mp4a (BoxWriter & w, const TrackInfo & t)
{
  size_t box = w.open ("mp4a");
  write_sample_entry_header (w);
  w.zeros (8);        /* reserved */
  w.u16 (static_cast<guint16> (t.channels));
  w.u16 (16);         /* samplesize */
  w.u16 (0);          /* pre_defined */
  w.u16 (0);          /* reserved */
  /* 16.16; a rate above 65535 does not fit: the AudioSpecificConfig has it */
  w.u32 (t.rate <= 0xffff ? t.rate << 16 : 0);
  write_esds (w, t);
  w.close (box);
}

/* stbl: the one sample description, no samples (they are in fragments) */
void
write_stbl (BoxWriter & w, const TrackInfo & t)
{
  size_t stbl = w.open ("stbl");
  size_t stsd = w.open_full ("stsd", 0, 0);
  w.u32 (1);
  if (t.kind == TrackInfo::Kind::kVideo)
    write_avc1 (w, t);
  else
    write_mp4a (w, t);
  w.close (stsd);
  for (const char *empty : { "stts", "stsc", "stco" }) {
    size_t b = w.open_full (empty, 0, 0);
    w.u32 (0);        /* entry_count */
    w.close (b);
  }
  size_t stsz = w.open_full ("stsz", 0, 0);
  w.u32 (0);          /* sample_size */
  w.u32 (0);          /* sample_count */
  w.close (stsz);
  w.close (stbl);
}

void
write_trak (BoxWriter & w, const TrackInfo & t)
{
  const bool video = t.kind == TrackInfo::Kind::kVideo;
  size_t trak = w.open ("trak");

  size_t tkhd = w.open_full ("tkhd", 0, 0x000003);  /* enabled, in movie */
  w.u32 (0);          /* creation_time */
  w.u32 (0);          /* modification_time */
  w.u32 (t.track_id);
  w.u32 (0);          /* reserved */
  w.u32 (0);          /* duration: live */
  w.zeros (8);        /* reserved */
  w.u16 (0);          /* layer */
  w.u16 (0);          /* alternate_group */
  w.u16 (video ? 0 : 0x0100);  /* volume */
  w.u16 (0);          /* reserved */
  write_matrix (w);
  w.u32 (video ? t.width << 16 : 0);
  w.u32 (video ? t.height << 16 : 0);
  w.close (tkhd);

  size_t mdia = w.open ("mdia");
  size_t mdhd = w.open_full ("mdhd", 0, 0);
  w.u32 (0);          /* creation_time */
  w.u32 (0);          /* modification_time */
  w.u32 (t.timescale);
  w.u32 (0);          /* duration: live */
  w.u16 ((('u' - 0x60) << 10) | (('n' - 0x60) << 5) | ('d' - 0x60));  /* und */
  w.u16 (0);          /* pre_defined */
  w.close (mdhd);

  size_t hdlr = w.open_full ("hdlr", 0, 0);
  w.u32 (0);          /* pre_defined */
  w.fourcc (video ? "vide" : "soun");
  w.zeros (12);       /* reserved */
  const char *name = video ? "VideoHandler" : "SoundHandler";
  w.bytes (reinterpret_cast<const guint8 *> (name), strlen (name) + 1);
  w.close (hdlr);

  size_t minf = w.open ("minf");
  if (video) {
    size_t vmhd = w.open_full ("vmhd", 0, 1);
    w.u16 (0);        /* graphicsmode: copy */
    w.zeros (6);      /* opcolor */
    w.close (vmhd);
  } else {
    size_t smhd = w.open_full ("smhd", 0, 0);
    w.u16 (0);        /* balance */
    w.u16 (0);        /* reserved */
    w.close (smhd);
  }
  size_t dinf = w.open ("dinf");
  size_t dref = w.open_full ("dref", 0, 0);
  w.u32 (1);
  size_t url = w.open_full ("url ", 0, 1);   /* media in this file */
  w.close (url);
  w.close (dref);
  w.close (dinf);
  write_stbl (w, t);
  w.close (minf);
  w.close (mdia);
  w.close (trak);
}

bool
track_is_valid (const TrackInfo & t)
{
  if (t.track_id == 0 || t.timescale == 0 || t.codec_data.empty ())
    return false;
  if (t.kind == TrackInfo::Kind::kVideo)
    return t.width > 0 && t.width <= 0xffff && t.height > 0 && t.height <= 0xffff;
  return t.channels > 0 && t.channels <= 0xffff && t.rate > 0
      /* the esds descriptors' sizes must fit their 28 bits */
      && t.codec_data.size () < (1u << 20);
}

}  // namespace

std::vector<guint8>
write_init (const std::vector<TrackInfo> & tracks)
{
  init_debug ();
  std::vector<guint8> out;
  if (tracks.empty ()) {
    GST_WARNING ("an init segment needs a track");
    return out;
  }
  guint32 next_track_id = 1;
  for (const TrackInfo & t : tracks) {
    if (!track_is_valid (t)) {
      GST_WARNING ("track %u cannot be described (no codec data, size, "
          "channels or rate)", t.track_id);
      return out;
    }
    next_track_id = std::max (next_track_id, t.track_id + 1);
  }

  BoxWriter w (out);
  /* ftyp: major iso6 (tfdt and trun version 1 need ISO BMFF version 6's
   * boxes), compatible iso6 and cmfc (a CMAF track: the brand CMAF 7.2
   * asks for in a CMAF header). No mp41: its readers need not know
   * version 1 truns. */
  size_t ftyp = w.open ("ftyp");
  w.fourcc ("iso6");
  w.u32 (0);          /* minor_version */
  w.fourcc ("iso6");
  w.fourcc ("cmfc");
  w.close (ftyp);

  size_t moov = w.open ("moov");
  size_t mvhd = w.open_full ("mvhd", 0, 0);
  w.u32 (0);          /* creation_time */
  w.u32 (0);          /* modification_time */
  w.u32 (1000);       /* timescale (only for mvhd's duration) */
  w.u32 (0);          /* duration: live */
  w.u32 (0x00010000); /* rate 1.0 */
  w.u16 (0x0100);     /* volume 1.0 */
  w.zeros (10);       /* reserved */
  write_matrix (w);
  w.zeros (24);       /* pre_defined */
  w.u32 (next_track_id);
  w.close (mvhd);

  for (const TrackInfo & t : tracks)
    write_trak (w, t);

  size_t mvex = w.open ("mvex");
  for (const TrackInfo & t : tracks) {
    size_t trex = w.open_full ("trex", 0, 0);
    w.u32 (t.track_id);
    w.u32 (1);        /* default_sample_description_index */
    w.u32 (0);        /* default_sample_duration */
    w.u32 (0);        /* default_sample_size */
    w.u32 (0);        /* default_sample_flags */
    w.close (trex);
  }
  w.close (mvex);
  w.close (moov);
  return out;
}

std::vector<guint8>
write_fragment (guint32 sequence_number, const std::vector<TrackRun> & runs)
{
  init_debug ();
  std::vector<guint8> out;
  /* the mdat's payload must be reachable with trun's signed 32-bit offsets */
  guint64 payload = 0;
  for (const TrackRun & run : runs) {
    for (const Sample & s : run.samples) {
      if (s.size > 0 && s.data == nullptr) {
        GST_WARNING ("a sample of track %u has %" G_GSIZE_FORMAT " bytes and no data",
            run.track_id, s.size);
        return out;
      }
      payload += s.size;
      if (payload > G_MAXINT32 / 2) {
        GST_WARNING ("a fragment of more than 1 GiB cannot be written");
        return out;
      }
    }
  }

  BoxWriter w (out);
  size_t moof = w.open ("moof");
  size_t mfhd = w.open_full ("mfhd", 0, 0);
  w.u32 (sequence_number);
  w.close (mfhd);

  std::vector<size_t> data_offset_at;   /* per written trun */
  for (const TrackRun & run : runs) {
    if (run.samples.empty ())
      continue;
    size_t traf = w.open ("traf");
    size_t tfhd = w.open_full ("tfhd", 0, 0x020000);  /* default-base-is-moof */
    w.u32 (run.track_id);
    w.close (tfhd);
    size_t tfdt = w.open_full ("tfdt", 1, 0);
    w.u64 (run.base_decode_time);
    w.close (tfdt);
    /* data-offset, sample duration, size, flags and composition offset */
    size_t trun = w.open_full ("trun", 1, 0x000001 | 0x000100 | 0x000200 | 0x000400 | 0x000800);
    w.u32 (static_cast<guint32> (run.samples.size ()));
    data_offset_at.push_back (w.pos ());
    w.i32 (0);        /* patched below */
    for (const Sample & s : run.samples) {
      w.u32 (s.duration);
      w.u32 (static_cast<guint32> (s.size));
      w.u32 (s.sync ? 0x02000000 : 0x01010000);
      w.i32 (s.composition_offset);
    }
    w.close (trun);
    w.close (traf);
  }
  w.close (moof);

  /* offsets from the moof's first byte (default-base-is-moof) */
  const size_t mdat_header = 8;
  size_t offset = (w.pos () - moof) + mdat_header;
  size_t i = 0;
  for (const TrackRun & run : runs) {
    if (run.samples.empty ())
      continue;
    w.patch_u32 (data_offset_at[i++], static_cast<guint32> (offset));
    for (const Sample & s : run.samples)
      offset += s.size;
  }

  size_t mdat = w.open ("mdat");
  out.reserve (out.size () + payload);
  for (const TrackRun & run : runs)
    for (const Sample & s : run.samples)
      w.bytes (s.data, s.size);
  w.close (mdat);
  return out;
}

std::string
codec_string (const TrackInfo & track)
{
  const std::vector<guint8> & c = track.codec_data;
  if (track.kind == TrackInfo::Kind::kVideo) {
    /* AVCDecoderConfigurationRecord: version 1, profile, compat, level */
    if (c.size () < 4 || c[0] != 1)
      return "";
    gchar *s = g_strdup_printf ("avc1.%02x%02x%02x", c[1], c[2], c[3]);
    std::string out (s);
    g_free (s);
    return out;
  }
  /* AudioSpecificConfig: audioObjectType, 5 bits; 31 escapes to 32 + 6 bits */
  if (c.empty ())
    return "";
  guint aot = c[0] >> 3;
  if (aot == 31) {
    if (c.size () < 2)
      return "";
    aot = 32 + (((c[0] & 0x07) << 3) | (c[1] >> 5));
  }
  if (aot == 0)
    return "";
  return "mp4a.40." + std::to_string (aot);
}

}  // namespace castline::llhls
