/* castline: the CMAF boxes llhlssink writes (ISO/IEC 14496-12, 14496-15
 * for avc1/avcC, 14496-14 for mp4a/esds; CMAF ISO/IEC 23000-19): an init
 * segment (ftyp + moov with mvex/trex, one trak per track) and fragments
 * (styp? no: moof + mdat, one traf per track with tfhd default-base-is-moof,
 * tfdt version 1, trun version 1 with per-sample duration, size, flags and
 * composition offset). Pure, no GStreamer element state: bytes in, bytes out.
 *
 * Timescales: video 90000, audio its sample rate. */
#pragma once

#include <glib.h>

#include <cstdint>
#include <string>
#include <vector>

namespace castline::llhls {

struct TrackInfo {
  enum class Kind { kVideo, kAudio };
  Kind kind = Kind::kVideo;
  guint32 track_id = 1;            /* 1 for video, 2 for audio (1 when alone) */
  guint32 timescale = 90000;
  /* video: the avcC record (AVCDecoderConfigurationRecord, as h264parse's
   * codec_data), width, height. audio: the AudioSpecificConfig (aacparse's
   * codec_data), channels, rate */
  std::vector<guint8> codec_data;
  guint32 width = 0, height = 0;
  guint32 channels = 0, rate = 0;
};

struct Sample {
  const guint8 *data = nullptr;    /* video: length-prefixed NAL units (avc); audio: one raw AAC frame */
  size_t size = 0;
  guint32 duration = 0;            /* in the track's timescale */
  gint32 composition_offset = 0;   /* pts - dts, in the track's timescale */
  bool sync = false;               /* a keyframe (every audio frame is) */
};

struct TrackRun {
  guint32 track_id = 1;
  guint64 base_decode_time = 0;    /* tfdt: the first sample's dts, in the track's timescale */
  std::vector<Sample> samples;     /* may be empty: no traf then */
};

/* ftyp (major iso6, compatible iso6 cmfc; see .cpp) + moov. Empty (and a
 * warning in the log) when a track cannot be described: no tracks, no
 * codec_data, a zero timescale, video without width/height or over
 * 65535, audio without channels or rate. */
std::vector<guint8> write_init (const std::vector<TrackInfo> & tracks);

/* moof (mfhd with sequence_number, counted from 1) + mdat, the runs'
 * samples in the order given (track after track). Empty (and a warning)
 * for a sample with a size and no data, or more than 1 GiB of samples. */
std::vector<guint8> write_fragment (guint32 sequence_number, const std::vector<TrackRun> & runs);

/* "avc1.64001f" from an avcC record, "mp4a.40.2" from an
 * AudioSpecificConfig: the CODECS a master playlist names; "" if malformed */
std::string codec_string (const TrackInfo & track);

}  // namespace castline::llhls
