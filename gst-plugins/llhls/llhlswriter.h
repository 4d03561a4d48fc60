/* castline: what llhlssink does with its tracks' samples: cuts them into
 * parts and segments (PartCutter, on the driving track's timeline: video,
 * or audio when there is no video), writes each part as one moof+mdat
 * (fmp4writer) with whatever each track delivered since the last cut
 * (a cut waits, as a pending cut, until the other track has delivered up
 * to it, ended, or lags more than kMaxWait), keeps the playlist (LlHlsPlaylist), writes the files (each to a
 * temporary name, then renamed, so a reader never sees half a file),
 * deletes the files past max-files, and says what happened as a list of
 * events in the contract's order, for the element to emit once its lock
 * is released.
 *
 * Single-threaded: the element calls it under one lock from its two
 * streaming threads. Memory is bounded: a track that the driving track
 * leaves waiting, or the driving track waiting for the other's caps at the
 * start, keeps at most kMaxWait of samples, a sample at most
 * TrackCollector::kMaxSampleSize, a segment goes to disk part by part. */
#pragma once

#include "llhls/llhlsplaylist.h"
#include "llhls/partcutter.h"
#include "llhls/trackcollector.h"

#include <gst/gst.h>

#include <cstdio>
#include <deque>
#include <memory>
#include <optional>
#include <string>
#include <vector>

namespace castline::llhls {

struct WriterSettings {
  std::string location = "segment%05d.m4s";   /* "": no segment files */
  std::string init_location = "init.mp4";     /* "": no init file */
  std::string playlist_location = "playlist.m3u8";   /* "": no playlist file */
  std::string uri_prefix;
  bool write_parts = true;
  GstClockTime target_duration = 2 * GST_SECOND;
  GstClockTime part_target = 300 * GST_MSECOND;
  guint playlist_length = 6;
  guint max_files = 10;
  bool external_cuts = false;   /* segments close only at split_at () times */
};

struct WriterEvent {
  enum class Kind {
    kInit,               /* bytes */
    kFragmentOpened,     /* text: location, running_time */
    kPart,               /* msn, part, bytes, flag: independent, duration, text: uri */
    kSegment,            /* msn, duration, text: uri */
    kFragmentClosed,     /* text: location, running_time */
    kPlaylist,           /* text, delta (has_delta), msn, part, flag: ended */
    kDelete,             /* text: uri, msn */
    kKeyframeRequest,    /* running_time, count */
    kWarning,            /* text */
  };
  explicit WriterEvent (Kind k) : kind (k) {}

  Kind kind;
  guint64 msn = 0;
  guint part = 0;
  std::shared_ptr<GBytes> bytes;
  bool flag = false;
  GstClockTime duration = 0;
  GstClockTime running_time = GST_CLOCK_TIME_NONE;
  std::string text;
  std::string delta;
  bool has_delta = false;
};

/* "segment%05d.m4s" with n: one %d (flags 0, a width, l/ll, d/u/i) and
 * %% only; nullopt for any other pattern */
std::optional<std::string> format_location (const std::string & pattern, guint64 n);

class LlHlsWriter {
 public:
  /* how long a track may wait for the driving one before its oldest
   * samples are dropped (say audio while the video never comes), and how
   * much of the driving track waits at the start for the other's caps
   * before it goes alone (either way round) */
  static constexpr GstClockTime kMaxWait = 10 * GST_SECOND;
  /* how much of the driving track the first init waits for the other
   * pad's caps (in media time), then goes without that track */
  static constexpr GstClockTime kMaxCapsWait = kMaxWait;

  explicit LlHlsWriter (WriterSettings settings);
  ~LlHlsWriter ();
  LlHlsWriter (const LlHlsWriter &) = delete;
  LlHlsWriter & operator= (const LlHlsWriter &) = delete;

  /* "" or what is wrong with the settings */
  std::string check_settings () const;

  /* the element's pads: one video and one audio at most; before data */
  void add_track (TrackInfo::Kind kind);

  /* Each returns "" or an error for the application; events are appended. */
  std::string set_caps (TrackInfo::Kind kind, const GstCaps * caps,
      std::vector<WriterEvent> & events);
  std::string push (TrackInfo::Kind kind, GstBuffer * buffer, GstClockTime dts_rt,
      GstClockTime pts_rt, std::vector<WriterEvent> & events);
  /* EOS on one track; when all have it, the last part and segment close
   * and the final playlist comes (kPlaylist with flag). *all_done then. */
  std::string eos (TrackInfo::Kind kind, std::vector<WriterEvent> & events, bool * all_done);

  /* the segment closes before the first keyframe presented at or after
   * running time rt (PartCutter::split_at) */
  void split_at (GstClockTime rt) { cutter_.split_at (rt); }

  /* running time + offset = ns since 1970: dates the segments */
  void set_date_offset (gint64 rt_to_unix_ns) { date_offset_ = rt_to_unix_ns; }

 private:
  struct Track {
    explicit Track (TrackInfo::Kind kind, guint32 id) : collector (kind, id) {}
    TrackCollector collector;
    bool eos = false;
    bool in_init = false;        /* its config is in the current init */
    bool dropping_warned = false;
    bool eos_waits_for_caps = false; /* see eos () */
    GstClockTime taken_last = 0; /* its last sample in a part: its time */
    GstClockTime taken_end = 0;  /* and its end */
  };
  struct WrittenSegment {
    std::string path;
    std::vector<std::string> part_paths;
  };

  Track * track (TrackInfo::Kind kind);
  Track * driver ();
  bool waiting_for_caps (const Track * driver) const;
  std::string start (std::vector<WriterEvent> & events);
  std::string resume_eos_waiting_for_caps (std::vector<WriterEvent> & events, bool * all_done);
  std::string cut_before_held (Track * t, bool late, std::vector<WriterEvent> & events);
  void cut_waiting (Track * d, GstClockTime after);

  std::string open_segment (const CollectedSample & first, TrackInfo::Kind by,
      std::vector<WriterEvent> & events);
  std::string close_part (GstClockTime before, bool end_segment, bool end_stream,
      std::vector<WriterEvent> & events, Track * timed_by = nullptr);
  bool others_reached (const Track * d, GstClockTime at) const;
  std::string run_pending_cuts (std::vector<WriterEvent> & events);
  std::string write_init (std::vector<WriterEvent> & events);
  std::string part_name (guint64 msn, guint part) const;
  std::string segment_name (guint64 msn) const;
  std::string uri_of (const std::string & name) const;
  void expire_files ();

  WriterSettings settings_;
  std::deque<Track> tracks_;
  PartCutter cutter_;
  LlHlsPlaylist playlist_;
  TrackInfo::Kind last_driver_ = TrackInfo::Kind::kVideo;
  bool started_ = false;
  bool video_abandoned_ = false; /* its pad never got caps: audio drives */
  bool ended_ = false;
  bool reinit_ = false;          /* the next segment needs a new init */
  guint init_count_ = 0;         /* inits written */
  std::string map_uri_;
  bool segment_open_ = false;
  bool pending_discontinuity_ = false;
  guint64 msn_ = 0;              /* of the open segment */
  guint parts_in_segment_ = 0;
  GstClockTime segment_start_ = GST_CLOCK_TIME_NONE;
  /* where the last part ended on the timeline the playlist counts, and
   * the latest decode time a driving track reached: a track that takes
   * over behind it (audio late in a stream faster than real time, when
   * the video ends) catches up without adding to the timeline */
  GstClockTime timeline_end_ = 0;
  GstClockTime driven_to_ = 0;
  /* cuts the driving track asked for, made once every other track has
   * delivered its samples up to them (or ended, or lags more than
   * kMaxWait): a stream faster than real time, whose video runs ahead of
   * its audio, still gets parts with both; memory stays bounded by the
   * wait */
  struct PendingCut {
    GstClockTime at;
    bool segment;
    TrackInfo::Kind driver;
  };
  std::deque<PendingCut> pending_cuts_;
  bool tail_after_the_other_ended (const PendingCut & c);
  bool segment_by_video_ = false;  /* the open segment began at a video keyframe */
  GstClockTime stream_start_ = 0;
  GstClockTime segment_pts_ = GST_CLOCK_TIME_NONE;
  GstClockTime segment_written_ = 0;
  guint32 sequence_number_ = 0;  /* mfhd */
  guint keyframe_requests_ = 0;
  FILE *segment_file_ = nullptr; /* "<segment>.tmp", appended part by part */
  WrittenSegment open_files_;
  std::deque<WrittenSegment> written_;
  std::optional<gint64> date_offset_;
};

}  // namespace castline::llhls
