/* castline: uploads one HLS stream to S3 as hlssink2 makes it.
 *
 * Glue between the producer (the streaming thread, through submit_*) and
 * S3 (an S3Client and its thread): bytes wait in a SegmentSpool, the
 * HlsUploadPlan says what may go next, and this class performs it. All plan
 * state lives on the client thread; the streaming thread only stores bytes
 * and posts a task, so it never waits on the network.
 *
 * When S3 fails with a retryable error (after the client's own retries),
 * or leaves one attempt unanswered for the request time-out, the uploader
 * enters an outage: it says so once through the listener, starts no new
 * request and keeps everything in the spool. It retries after a short
 * fixed pause when S3 could not be reached at all (refused, time-out:
 * nothing to slow down for, and the spool goes up as soon as S3 is back),
 * with exponential backoff when S3 answered with an error (5xx, SlowDown).
 * Throughout an outage a probe (a HEAD on the bucket, on a new
 * connection) asks every second whether S3 answers again, a few at once
 * when they hang: when one is answered, the pause ends and requests
 * stuck on dead connections start over at once, rather than each waiting
 * out its request time-out. The first
 * success ends the outage and the pause at once. A
 * non-retryable error (bad credentials, no such bucket) is reported as an
 * error once, and the uploader sends nothing more.
 */
#pragma once

#include "s3/hlsuploadplan.h"
#include "s3/s3client.h"
#include "s3/segmentspool.h"
#include "s3/uploadlatency.h"

#include <atomic>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <string>

namespace castline::s3 {

struct HlsUploaderSettings {
  S3Config s3;
  std::string key_prefix;
  std::string playlist_cache_control = "max-age=1";
  std::string segment_cache_control = "max-age=31536000, immutable";
  unsigned max_parallel = 4;
  uint64_t spool_memory_limit = 64ull << 20;
  uint64_t spool_limit = 1ull << 30;
  std::string spool_directory;
};

struct HlsUploaderStats {
  guint64 uploads_started = 0;
  guint64 uploads_completed = 0;
  guint64 uploads_failed = 0;      /* requests that failed after the client's retries */
  guint64 requests_retried = 0;    /* attempts (uploads, deletes) that failed and were tried again */
  guint64 outages = 0;             /* times S3 became unreachable (on_outage) */
  std::string last_error;          /* the latest failure, as S3Error::describe (no secrets) */
  guint64 bytes_uploaded = 0;
  guint64 deletes_completed = 0;
  guint64 segments_skipped = 0;    /* expired before S3 could take them */
  gint64 last_latency_us = -1;     /* segment closed to object in the bucket */
  gint64 worst_latency_us = -1;
  UploadLatencyHistogram latency;  /* of every segment stored */
  guint64 spool_objects = 0;
  guint64 spool_bytes = 0;
  guint64 pending_uploads = 0;
  gint64 oldest_pending_us = -1;   /* monotonic time the oldest segment not yet in the bucket was closed */
  bool outage = false;
};

struct HlsUploaderListener {
  /* S3 became unreachable (said once per outage): the first request that
   * failed after its retries, or the first attempt that timed out, so at
   * most request_timeout_ms (and the client's quarter-second progress
   * check) after S3 stopped answering a request. */
  std::function<void (const S3Error & error)> on_outage;
  /* S3 answers again after an outage. */
  std::function<void ()> on_recovered;
  /* Something that will not get better by waiting. */
  std::function<void (const S3Error & error)> on_fatal;
};

class HlsUploader {
 public:
  HlsUploader (HlsUploaderSettings settings, HlsUploaderListener listener);
  ~HlsUploader ();
  HlsUploader (const HlsUploader &) = delete;
  HlsUploader & operator= (const HlsUploader &) = delete;

  /* Any thread. False, with a reason, when the spool is full. */
  bool submit_segment (const std::string & name, GBytes * bytes, std::string & error);
  void submit_playlist (const std::string & name, std::string content);
  void expire_segment (const std::string & name);

  /* done(true, 0) once everything submitted so far is in the bucket, or
   * done(false, pending) after timeout_ms. done runs on the client thread. */
  void flush (unsigned timeout_ms, std::function<void (bool, size_t)> done);

  /* HEAD on the bucket, blocking (not on the upload thread): is it there,
   * reachable, and are the credentials accepted? */
  S3Result check_bucket ();

  HlsUploaderStats stats () const;
  std::string key_for (const std::string & name) const { return settings_.key_prefix + name; }

 private:
  void pump ();
  void start (const UploadAction & a);
  void on_done (const UploadAction & a, const S3Result & r, guint64 bytes);
  void on_retry (const S3Error & error);
  void enter_outage (const S3Error & error);
  void pause_for (unsigned delay_ms);
  void probe_tick ();
  void resume_now (gint64 stalled_since_us);
  void check_flush ();
  void update_spool_stats ();

  HlsUploaderSettings settings_;
  HlsUploaderListener listener_;
  SegmentSpool spool_;
  std::unique_ptr<S3Client> client_;
  std::atomic<bool> stopping_ { false };

  /* client thread only */
  HlsUploadPlan plan_;
  std::map<std::string, gint64> submitted_at_;
  bool paused_ = false;     /* no new requests: S3 is not answering */
  bool resume_pending_ = false;  /* a timer will end this pause */
  /* bumped when a pause ends early (S3 answered): a stale resume timer
   * must not end a later pause */
  guint64 pause_epoch_ = 0;
  bool outage_ = false;     /* reported through on_outage, not yet recovered */
  bool probing_ = false;    /* the probes' timer runs (during an outage) */
  unsigned probes_out_ = 0; /* probes sent, not yet answered or timed out */
  bool halted_ = false;     /* a fatal error was reported: no more requests */
  unsigned consecutive_failures_ = 0;
  std::function<void (bool, size_t)> flush_done_;
  guint64 flush_id_ = 0;

  mutable std::mutex stats_lock_;
  HlsUploaderStats stats_;
};

/* Content-Type for an HLS object name (.m3u8, .ts, .m4s, .mp4, .aac, ...). */
const char *hls_content_type (const std::string & name);

}  // namespace castline::s3
