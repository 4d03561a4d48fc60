/* castline: the order in which an HLS stream's objects go to S3.
 *
 * Pure bookkeeping, no I/O and no clock, so every ordering rule is unit
 * tested (tests/s3/test_hlsuploadplan.cpp). The uploader feeds it what
 * hlssink2 produced and performs the actions it hands out:
 *
 *  - segments upload in the order they were made, up to max_parallel at once;
 *  - a playlist version is uploaded only when every segment it names is in
 *    the bucket; when several versions wait, only the newest ready one goes
 *    and the older ones are dropped, so an older playlist never overwrites
 *    a newer one (one playlist request at a time per playlist name);
 *  - an expired segment is deleted only once the playlist in the bucket no
 *    longer names it; one that expired before it was ever uploaded is not
 *    uploaded at all (no viewer can reach it any more);
 *  - a failed action goes back to the head of its queue (the uploader
 *    decides when to retry).
 */
#pragma once

#include <cstdint>
#include <deque>
#include <map>
#include <set>
#include <string>
#include <vector>

namespace castline::s3 {

struct UploadAction {
  enum class Kind { PutSegment, PutPlaylist, DeleteSegment };
  Kind kind;
  std::string name;          /* segment or playlist name, relative to the key prefix */
  uint64_t version = 0;      /* PutPlaylist: which version; PutSegment: generation of the bytes */
  std::string content;       /* PutPlaylist: the playlist text */

  bool operator== (const UploadAction & o) const
  {
    return kind == o.kind && name == o.name && version == o.version;
  }
};

class HlsUploadPlan {
 public:
  explicit HlsUploadPlan (unsigned max_parallel = 4) : max_parallel_ (max_parallel ? max_parallel : 1) {}

  /* A segment's bytes are final (again, if it was re-written); generation
   * identifies these bytes (increasing with every submission). */
  void segment_ready (const std::string & name, uint64_t generation);
  /* A new version of a playlist. */
  void playlist_ready (const std::string & name, const std::string & content);
  /* hlssink2 no longer needs this segment. */
  void segment_expired (const std::string & name);

  /* Actions to start now; they count as in flight until action_done(). */
  std::vector<UploadAction> take_actions ();
  void action_done (const UploadAction & action, bool ok);

  /* Segments whose bytes the uploader no longer needs to keep, each with
   * the generation it was released at (a later re-submission's bytes must
   * be kept). */
  std::vector<std::pair<std::string, uint64_t>> take_released ();

  /* Nothing queued, waiting or in flight. */
  bool idle () const;
  /* Objects still to upload (segments + newest playlist versions). */
  size_t pending_uploads () const;
  size_t in_flight () const { return in_flight_segments_ + in_flight_deletes_ + playlists_in_flight_; }

  /* Segment names a playlist text refers to (URI lines; the basename of
   * absolute or rooted URIs). */
  static std::vector<std::string> segment_names (const std::string & playlist);

 private:
  enum class SegState { Queued, InFlight, Uploaded, Deleting };
  struct Segment {
    SegState state = SegState::Queued;
    uint64_t generation = 0;
    bool dirty = false;     /* re-submitted while in flight */
    bool expired = false;
    uint64_t seq = 0;       /* order in which segments were first made */
  };
  struct Playlist {
    std::deque<UploadAction> waiting;      /* versions not yet uploaded, oldest first */
    std::set<std::string> remote_names;    /* segments named by the version in the bucket */
    std::set<std::string> in_flight_names; /* segments named by the version in flight */
    bool in_flight = false;
    uint64_t next_version = 1;
  };

  bool segment_uploaded (const std::string & name) const;
  bool named_by_any_remote (const std::string & name) const;
  void release (const std::string & name, uint64_t submissions);
  void requeue (const std::string & name);

  unsigned max_parallel_;
  std::map<std::string, Segment> segments_;
  std::deque<std::string> queue_;          /* segments to upload, in order */
  std::deque<std::string> delete_queue_;
  std::map<std::string, Playlist> playlists_;
  std::vector<std::pair<std::string, uint64_t>> released_;
  unsigned in_flight_segments_ = 0;
  unsigned in_flight_deletes_ = 0;
  unsigned playlists_in_flight_ = 0;
  uint64_t next_seq_ = 1;
};

}  // namespace castline::s3
