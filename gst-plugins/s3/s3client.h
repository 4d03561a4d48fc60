/* castline: an asynchronous S3 client on libsoup 3.
 *
 * One S3Client owns one worker thread running its own GMainContext; the
 * SoupSession lives there and every request runs there, so no libsoup
 * object is ever touched from two threads. Public methods may be called
 * from any thread; completion callbacks run on the client thread. wait()
 * turns any operation into a blocking call for threads that may block
 * (never the client thread itself).
 *
 * Every request is signed with SigV4 (x-amz-content-sha256 always set),
 * bounded by request_timeout_ms, and retried with exponential backoff and
 * full jitter on 5xx, 429/SlowDown, time-outs and connection failures;
 * other 4xx fail at once with S3's own message. An error's text never
 * holds the secret key or the session token, whatever the server sent.
 */
#pragma once

#include "s3/s3config.h"
#include "s3/s3error.h"

#include <gio/gio.h>

#include <functional>
#include <memory>
#include <string>
#include <vector>

namespace castline::s3 {

struct GBytesDeleter {
  void operator() (GBytes * b) const { g_bytes_unref (b); }
};
using BytesPtr = std::unique_ptr<GBytes, GBytesDeleter>;

struct S3Result {
  bool ok = false;
  unsigned http_status = 0;
  S3Error error;                /* meaningful when !ok */
  std::string etag;             /* PutObject, UploadPart, CompleteMultipartUpload */
  std::string upload_id;        /* CreateMultipartUpload */
  std::string content_type;     /* GetObject */
  std::string cache_control;    /* GetObject */
  std::shared_ptr<GBytes> body; /* GetObject */
  unsigned attempts = 0;
  gint64 duration_us = 0;       /* from first attempt to completion */
  gint64 attempt_sent_us = 0;   /* monotonic time the last attempt was sent */
};

using S3Callback = std::function<void (S3Result)>;

/* Told of every attempt that failed with an error that will be retried
 * (on the client thread), before the retry's delay: a caller that must
 * know of trouble sooner than the last retry's answer (an attempt that
 * timed out took request_timeout_ms; all of them take retries + 1 times
 * as long). */
using S3RetryObserver = std::function<void (const S3Error & error)>;

struct S3Part {
  int number;
  std::string etag;
};

class S3Client {
 public:
  explicit S3Client (S3Config config, S3RetryObserver on_retry = nullptr);
  ~S3Client ();
  S3Client (const S3Client &) = delete;
  S3Client & operator= (const S3Client &) = delete;

  const S3Config & config () const { return config_; }

  /* Runs fn on the client thread (at once when already there). */
  void invoke (std::function<void ()> fn);
  /* Runs fn on the client thread after delay_ms. */
  void invoke_later (unsigned delay_ms, std::function<void ()> fn);
  bool on_client_thread () const;

  void put_object (std::string key, GBytes * body, std::string content_type,
      std::string cache_control, S3Callback cb);
  void get_object (std::string key, S3Callback cb);
  /* HEAD on the bucket. A HEAD answer has no body, so a refusal (400,
   * 403) is asked again as a GET (ListObjectsV2 of no keys, which needs
   * the same permission) to report S3's own Code and Message
   * (SignatureDoesNotMatch, InvalidAccessKeyId, RequestTimeTooSkewed...)
   * rather than a bare status. */
  void head_bucket (S3Callback cb);
  void delete_object (std::string key, S3Callback cb);
  void delete_objects (std::vector<std::string> keys, S3Callback cb);
  void create_multipart_upload (std::string key, std::string content_type,
      std::string cache_control, S3Callback cb);
  void upload_part (std::string key, std::string upload_id, int part_number,
      GBytes * body, S3Callback cb);
  void complete_multipart_upload (std::string key, std::string upload_id,
      std::vector<S3Part> parts, S3Callback cb);
  void abort_multipart_upload (std::string key, std::string upload_id,
      S3Callback cb);

  /* Starts an operation and blocks until its callback has run. Must not be
   * called on the client thread. */
  S3Result wait (const std::function<void (S3Callback)> & start);

  /* Cancels every request in flight or waiting for a retry; their callbacks
   * run with code "Cancelled". */
  void cancel_all ();

  /* Is S3 there? A HEAD on the bucket on a new connection (a kept-alive
   * one may have died), bounded by timeout_ms, tried once: cb gets ok,
   * or S3's refusal, or a time-out or connection failure. For a caller
   * that waits on stalled requests to learn early that S3 answers
   * again. */
  void probe (unsigned timeout_ms, S3Callback cb);

  /* S3 answers again (a probe sent at since_us got an answer): every
   * attempt that has made no progress since then (one on a connection
   * that died: it would wait out the whole request time-out) starts over
   * at once on a new connection, and every request waiting for its retry
   * back-off is sent now. Neither counts as a failed attempt. Client
   * thread. */
  void restart_stalled (gint64 since_us);

  struct Request;

 private:
  void start_request (std::shared_ptr<Request> req);
  void send_attempt (std::shared_ptr<Request> req);
  void on_response (std::shared_ptr<Request> req, GBytes * body, GError * error);
  void finish (std::shared_ptr<Request> req, S3Result result);
  unsigned timeout_of (const Request & req) const;
  void cancel_active ();
  void thread_main ();

  struct Impl;
  S3Config config_;
  S3RetryObserver on_retry_;
  std::unique_ptr<Impl> impl_;
};

/* Backoff before retry number `attempt` (1-based): min(cap, base * 2^(attempt-1))
 * scaled by a random factor in [0.5, 1.0]. Exposed for the unit tests. */
unsigned backoff_delay_ms (unsigned attempt, unsigned base_ms, unsigned cap_ms);

}  // namespace castline::s3
