/* castline tests: a reader of ISO BMFF boxes (what fmp4writer and
 * llhlssink write), to check them field by field.
 *
 *   std::vector<Box> boxes;
 *   std::string error;
 *   if (!parse_boxes (data, size, boxes, error)) ...   // truncated, overlong
 *   const Box *trun = find (boxes, "moof/traf/trun");  // the first match
 *   Trun t;
 *   if (!read_trun (*trun, t, error)) ...
 *   const guint8 *first = find (boxes, "moof")->begin + t.data_offset;
 *
 * parse_boxes descends into the containers (moov trak mdia minf dinf stbl
 * mvex moof traf edts) and into stsd's sample entries (avc1: avcC;
 * mp4a: esds) and dref's entries. Every read checks its bounds: bad input
 * gives false and a message in error, never a read outside the buffer. */
#pragma once

#include <glib.h>

#include <string>
#include <vector>

namespace castline::llhls::test {

struct Box {
  std::string type;             /* "moof", "trun", ... */
  const guint8 *begin = nullptr;   /* the box's first byte (its size field) */
  size_t total = 0;             /* header and payload */
  const guint8 *data = nullptr;    /* the payload, after size, type (and largesize) */
  size_t size = 0;
  std::vector<Box> children;    /* for containers and sample entries */
};

/* Splits data into boxes, descending as above. A box whose size runs
 * past its parent (truncated) or is smaller than its header is an error;
 * size 0 runs to the end of its parent, size 1 reads a 64-bit largesize. */
bool parse_boxes (const guint8 * data, size_t size, std::vector<Box> & out,
    std::string & error);

/* The first box at a path of types ("moof/traf/trun"), or nullptr. */
const Box * find (const std::vector<Box> & boxes, const std::string & path);
/* Every box at that path, in file order ("moof/traf" gives each traf). */
std::vector<const Box *> find_all (const std::vector<Box> & boxes, const std::string & path);

/* Full boxes: version and flags are in every struct below that has them. */

struct Mfhd {
  guint32 sequence_number = 0;
};
bool read_mfhd (const Box & box, Mfhd & out, std::string & error);

struct Tfhd {
  guint32 flags = 0;
  guint32 track_id = 0;
  guint64 base_data_offset = 0;             /* flag 0x000001 */
  guint32 sample_description_index = 0;     /* 0x000002 */
  guint32 default_sample_duration = 0;      /* 0x000008 */
  guint32 default_sample_size = 0;          /* 0x000010 */
  guint32 default_sample_flags = 0;         /* 0x000020 */
  bool default_base_is_moof () const { return flags & 0x020000; }
};
bool read_tfhd (const Box & box, Tfhd & out, std::string & error);

struct Tfdt {
  guint8 version = 0;
  guint64 base_media_decode_time = 0;
};
bool read_tfdt (const Box & box, Tfdt & out, std::string & error);

struct TrunSample {
  guint32 duration = 0;                     /* present with 0x000100 */
  guint32 size = 0;                         /* 0x000200 */
  guint32 flags = 0;                        /* 0x000400 */
  gint64 composition_offset = 0;            /* 0x000800: signed in version 1 */
};
struct Trun {
  guint8 version = 0;
  guint32 flags = 0;
  gint32 data_offset = 0;                   /* 0x000001 */
  guint32 first_sample_flags = 0;           /* 0x000004 */
  std::vector<TrunSample> samples;
};
bool read_trun (const Box & box, Trun & out, std::string & error);

struct Tkhd {
  guint8 version = 0;
  guint32 flags = 0;                        /* 1 enabled, 2 in movie */
  guint32 track_id = 0;
  guint64 duration = 0;
  guint16 volume = 0;                       /* 8.8 */
  guint32 width = 0, height = 0;            /* 16.16 */
};
bool read_tkhd (const Box & box, Tkhd & out, std::string & error);

struct Mvhd {
  guint32 timescale = 0;
  guint64 duration = 0;
  guint32 next_track_id = 0;
};
bool read_mvhd (const Box & box, Mvhd & out, std::string & error);

struct Mdhd {
  guint32 timescale = 0;
  guint64 duration = 0;
  std::string language;                     /* "und" */
};
bool read_mdhd (const Box & box, Mdhd & out, std::string & error);

struct Hdlr {
  std::string handler_type;                 /* "vide", "soun" */
  std::string name;
};
bool read_hdlr (const Box & box, Hdlr & out, std::string & error);

struct Trex {
  guint32 track_id = 0;
  guint32 default_sample_description_index = 0;
  guint32 default_sample_duration = 0;
  guint32 default_sample_size = 0;
  guint32 default_sample_flags = 0;
};
bool read_trex (const Box & box, Trex & out, std::string & error);

/* an stsd's entry count (its entries are the stsd box's children) */
bool read_stsd (const Box & box, guint32 & entry_count, std::string & error);

struct Avc1 {
  guint16 data_reference_index = 0;
  guint16 width = 0, height = 0;
  std::vector<guint8> avcc;                 /* the avcC child's payload */
};
bool read_avc1 (const Box & box, Avc1 & out, std::string & error);

struct Mp4a {
  guint16 data_reference_index = 0;
  guint16 channels = 0;
  guint16 sample_size = 0;
  guint32 rate = 0;                         /* 16.16 */
  /* from the esds child */
  guint16 es_id = 0;
  guint8 object_type = 0;                   /* 0x40: MPEG-4 audio */
  guint8 stream_type = 0;                   /* 5: audio */
  std::vector<guint8> decoder_specific_info;   /* the AudioSpecificConfig */
};
bool read_mp4a (const Box & box, Mp4a & out, std::string & error);

}  // namespace castline::llhls::test
