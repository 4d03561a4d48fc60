/* castline-launcher: concurrent viewers per stream, from what players
 * send us: the playlist requests of players castline serves the HLS to
 * (a viewer is a remote address + User-Agent), and the heartbeats of
 * players fed from S3 or a CDN (a viewer is the opaque id it sends). A
 * viewer counts while its last request is younger than the window of its
 * kind; the count of a stream is both kinds added.
 *
 * Identities are kept as 64-bit keyed hashes (HMAC-SHA256 under a key
 * drawn at start, truncated), never as the address, the User-Agent or the
 * id: nothing here links a viewer to an address. Memory is bounded: at
 * most max_viewers per stream (the least recently seen go first), expired
 * entries are dropped by prune(), and a stream nobody watched for a window
 * holds nothing at all (so an ended stream vanishes once its last viewer
 * leaves).
 *
 * Time is passed in (monotonic µs, g_get_monotonic_time ()), so the
 * counting is tested without sleeping. Any thread (a mutex): playlists are
 * answered on the HTTP server's threads. */
#pragma once

#include <glib.h>

#include <list>
#include <memory>
#include <mutex>
#include <string>
#include <unordered_map>
#include <vector>

namespace castline::launcher {

class ViewerCounter {
 public:
  struct Settings {
    gint64 playlist_window_us = 10 * G_USEC_PER_SEC;
    /* players send a heartbeat every 10 s: three may be late or lost */
    gint64 heartbeat_window_us = 30 * G_USEC_PER_SEC;
    size_t max_viewers = 100000;         /* per stream, both kinds together */
  };

  /* max (10 s, 3 × the segment length): a player polls the live playlist
   * about once a segment, and may skip one or two polls */
  static Settings settings_for (unsigned hls_target_duration_s);

  /* 1 to 64 of [A-Za-z0-9_-] */
  static bool valid_viewer_id (const std::string & id);

  explicit ViewerCounter (Settings settings);
  ~ViewerCounter ();
  ViewerCounter (const ViewerCounter &) = delete;
  ViewerCounter & operator= (const ViewerCounter &) = delete;

  const Settings & settings () const { return settings_; }

  /* A playlist answered to a player (a successful .m3u8 GET). */
  void playlist_request (const std::string & stream, const std::string & address,
      const std::string & user_agent, gint64 now_us);
  /* A heartbeat; viewer must be valid_viewer_id (). */
  void heartbeat (const std::string & stream, const std::string & viewer, gint64 now_us);

  /* Viewers of a stream right now, both kinds added. Costs the number of
   * entries expired since the last prune (). */
  unsigned count (const std::string & stream, gint64 now_us) const;

  /* Drops expired entries and the streams left without any. Cheap enough
   * to run every second. */
  void prune (gint64 now_us);

  /* The streams something is tracked for (expired entries included until
   * the next prune). */
  std::vector<std::string> streams () const;
  /* Entries held for a stream, expired or not (what memory holds). */
  size_t tracked (const std::string & stream) const;

 private:
  /* viewers of one kind, least recently seen first */
  class Recency {
   public:
    void touch (guint64 who, gint64 now_us);
    /* entries seen after cutoff */
    size_t fresh (gint64 cutoff_us) const;
    void expire (gint64 cutoff_us);
    bool empty () const { return order_.empty (); }
    size_t size () const { return order_.size (); }
    gint64 oldest () const { return order_.front ().last_us; }
    void drop_oldest ();

   private:
    struct Seen {
      guint64 who;
      gint64 last_us;
    };
    std::list<Seen> order_;
    std::unordered_map<guint64, std::list<Seen>::iterator> index_;
  };

  struct Viewers {
    Recency playlist;
    Recency heartbeat;
  };

  guint64 identity (char kind, const std::string & a, const std::string & b) const;
  void touch (const std::string & stream, Recency Viewers::*kind, guint64 who, gint64 now_us);

  Settings settings_;
  std::unique_ptr<GHmac, decltype (&g_hmac_unref)> hmac_;   /* read-only after construction */
  mutable std::mutex lock_;                                 /* streams_ */
  std::unordered_map<std::string, Viewers> streams_;
};

}  // namespace castline::launcher
