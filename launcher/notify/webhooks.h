/* castline-launcher: webhooks. Every event is POSTed as JSON to each
 * configured URL, signed with HMAC-SHA256 over "<timestamp>.<body>" when a
 * secret is set:
 *   {"id": delivery id, "type": "stream.started", "created_at": ISO 8601,
 *    "stream": {id, title, state, reason (as add_stream_record), pipeline, ingest,
 *               record, created_at, scheduled_at, started_at, ended_at,
 *               playback_url}}
 * ("recording.ready" adds "recordings", as recordings_json gives them;
 * "recording.deleted" adds "reason" ("api": DELETE /api/streams/{id}/recordings,
 * "retention": recordings.retention_days), "recordings" (those removed),
 * "removed" (their files) and "bytes" (freed; null with S3))
 * Each URL has its own ordered queue with one delivery in flight at a time,
 * on an asynchronous SoupSession of its own: posting returns at once and
 * nothing waits on the network, neither a pipeline nor the API.
 * Connection errors, time-outs, 5xx and 429 are retried with exponential
 * backoff (1 s doubling, jittered, at most 60 s; a Retry-After in seconds
 * is honoured under the same cap) up to WebhookSettings::retries times;
 * any other answer that is not 2xx gives up at once. The secret and the
 * stream key are never sent in a body nor logged; URLs are logged without
 * their userinfo and query. Main context only. */
#pragma once

#include "config/config.h"
#include "streams/streammanager.h"

#include <glib.h>
#include <json-glib/json-glib.h>
#include <libsoup/soup.h>

#include <functional>
#include <memory>
#include <string>
#include <vector>

namespace castline::launcher {

/* Counters since start, for /metrics. */
struct WebhookStats {
  guint64 delivered = 0;   /* events a URL answered 2xx to */
  guint64 failed = 0;      /* events given up on (not 2xx, or retries spent) */
  guint64 retried = 0;     /* attempts after a first one */
  guint64 dropped = 0;     /* events pushed out of a full queue */
};

/* The "stream" member of a webhook body: never the key nor its hash. */
JsonNode *webhook_stream_json (const StreamRecord & r, const std::string & playback_url);

/* The members of a "recording.deleted" body (a new object). */
JsonObject *recording_deleted_members (const StreamRecord & r,
    const std::string & playback_url, const RemovalResult & removed, const std::string & reason,
    const Config & config);

class WebhookSender {
 public:
  /* events waiting per URL, besides the one being delivered; past it the
   * oldest waiting one is dropped */
  static constexpr size_t kMaxQueue = 1000;

  explicit WebhookSender (const WebhookSettings & settings);
  /* Whatever is still queued or in flight is abandoned (cancelled). */
  ~WebhookSender ();
  WebhookSender (const WebhookSender &) = delete;
  WebhookSender & operator= (const WebhookSender &) = delete;

  /* Queues an event of `type` for every URL: the body is {"id", "type",
   * "created_at"} followed by the members of `members` (copied; NULL:
   * none), e.g. "stream". Returns at once. The path for every event,
   * "recording.ready" too (its "stream" and "recordings", recordings_json). */
  void post (const std::string & type, JsonObject * members);
  /* A StreamManager event: post (e.type, {"stream": ...}). */
  void post_stream_event (const StreamEvent & e, const std::string & playback_url);

  /* done runs once every queue is empty, or after timeout_ms with what
   * is left abandoned (logged); at once when nothing is pending. One flush
   * at a time; for the daemon's exit (done may destroy the sender). */
  void flush (guint timeout_ms, std::function<void ()> done);

  WebhookStats stats () const { return stats_; }
  /* nothing queued, waiting for a retry or in flight */
  bool idle () const;

  /* For tests: the first retry's delay (doubling after) and the cap,
   * 1000 and 60000 ms by default. */
  void set_backoff (guint base_ms, guint max_ms);

  struct Event;
  struct Target;

 private:
  friend struct Target;
  void start (Target & t);
  void send (Target & t);
  void on_answer (Target & t, SoupMessage * msg, GError * error);
  void retry_or_give_up (Target & t, const std::string & why, gint64 retry_after_s);
  void finish (Target & t, bool delivered, const std::string & why);
  void check_flushed ();
  void end_flush ();

  WebhookSettings settings_;
  SoupSession *session_ = nullptr;
  std::vector<std::shared_ptr<Target>> targets_;
  WebhookStats stats_;
  guint base_delay_ms_ = 1000;
  guint max_delay_ms_ = 60000;
  std::function<void ()> flush_done_;
  guint flush_timer_ = 0;
};

}  // namespace castline::launcher
