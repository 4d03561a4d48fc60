/* castline-launcher: Server-Sent Events of the streams, on the API's
 * server (GET /api/streams/{id}/events for one stream, /api/events for
 * all). Every event's data is one JSON object naming its stream:
 *   event: state     the stream object (as GET /api/streams/{id}), first
 *                    on connect (/api/events: of every stream not ended
 *                    or failed), then on every change
 *   event: viewers   {"id", "viewers"} when the count changes (checked
 *                    every second)
 *   event: stats     {"id", "stats"} the latest viewerstats of the live
 *                    stream's branches when they change, at most once a
 *                    second
 *   event: history   the stream's last 15 minutes (StatsHistory::json:
 *                    bitrate, fps, keyframe interval, health, viewers
 *                    every 5 s, and its state changes), once on connect,
 *                    right after its first state (/api/events: while the
 *                    client has under kMaxBuffered / 2 unsent, so many
 *                    streams never cut a new client off); the pages chart
 *                    it and append the stats, viewers and state that follow
 * and a comment line every 15 s, so proxies keep the connection and a
 * vanished client is noticed (a server sees a closed connection only when
 * it writes). Bounded: kMaxPerStream clients of one stream (and of
 * /api/events), kMaxClients in all (503 past either), and a client that
 * leaves over kMaxBuffered bytes unread is disconnected.
 * Main context only; tick () drives it once a second. */
#pragma once

#include "streams/streammanager.h"
#include "notify/statshistory.h"
#include "notify/viewercounter.h"

#include "common/http/message.h"

#include <functional>
#include <map>
#include <memory>
#include <string>

namespace castline::launcher {

class EventStream {
 public:
  static constexpr size_t kMaxPerStream = 100;
  static constexpr size_t kMaxClients = 1000;
  static constexpr size_t kMaxBuffered = 1024 * 1024;
  static constexpr gint64 kKeepAliveUs = 15 * G_USEC_PER_SEC;

  /* stream_json: a stream as the API shows it */
  EventStream (StreamManager & manager, const ViewerCounter & viewers,
      std::function<std::string (const StreamRecord &)> stream_json);
  /* Forgets every client (the daemon stops; the server closes them). */
  ~EventStream ();
  EventStream (const EventStream &) = delete;
  EventStream & operator= (const EventStream &) = delete;

  /* Takes a GET as an event stream: of the stream id (known), or of all
   * streams when id is empty. false past the limits, with the reason (the
   * caller answers 503); res is untouched then. */
  bool serve (const http::Request & req, http::Response & res, const std::string & id,
      std::string & refusal);

  /* Once a second: viewers and stats events, keep-alives; every
   * StatsHistory::kIntervalMs a history sample of each live stream. */
  void tick (gint64 now_us);

  size_t clients () const { return clients_.size (); }

 private:
  struct Client {
    std::shared_ptr<http::ResponseStream> out;
    std::string stream;            /* "": all */
    std::string peer;              /* the client's address, for the log */
    gint64 last_write_us = 0;
    bool too_slow = false;         /* to be cut off (reap) */
  };

  void on_stream_event (const StreamEvent & e);
  /* sends to every client of the stream and of all streams */
  void broadcast (const std::string & stream, const char *event, const std::string & data,
      gint64 now_us);
  /* appends to the client's response; past kMaxBuffered unread it is
   * marked too_slow instead */
  void send (Client & c, const std::string & text, gint64 now_us);
  /* cuts off the clients marked too_slow */
  void reap ();
  /* a sample of every live stream into history_ (now_us monotonic,
   * now_ms the wall clock's unix ms) */
  void sample (gint64 now_us, gint64 now_ms);
  /* a stream's viewers: HLS and WebRTC, as the stream's `viewers` */
  unsigned viewers_of (const std::string & id, gint64 now_us) const;
  size_t count_of (const std::string & stream) const;

  StreamManager & manager_;
  const ViewerCounter & viewers_;
  std::function<std::string (const StreamRecord &)> stream_json_;
  std::map<http::ResponseStream *, Client> clients_;
  std::map<std::string, unsigned> last_viewers_;     /* the last counts, non-zero only */
  std::map<std::string, std::string> last_stats_;    /* what was told, live streams only */
  StatsHistory history_;
  gint64 next_sample_us_ = 0;                        /* monotonic */
  std::shared_ptr<EventStream *> self_;              /* the event listener's way back */
};

}  // namespace castline::launcher
