#include "s3/s3client.h"

#include <gst/gst.h>
#include <libsoup/soup.h>

#include <algorithm>
#include <condition_variable>
#include <mutex>
#include <set>
#include <thread>

GST_DEBUG_CATEGORY_STATIC (castline_s3client_debug);
#define GST_CAT_DEFAULT castline_s3client_debug

namespace castline::s3 {

namespace {

constexpr unsigned kBackoffBaseMs = 200;
constexpr unsigned kBackoffCapMs = 5000;
constexpr unsigned kShutdownGraceMs = 2000;
constexpr unsigned kProgressCheckMs = 250;

void
ensure_debug_category ()
{
  static gsize once = 0;
  if (g_once_init_enter (&once)) {
    GST_DEBUG_CATEGORY_INIT (castline_s3client_debug, "castline-s3client", 0,
        "castline S3 client");
    g_once_init_leave (&once, 1);
  }
}

std::string
base64_md5 (GBytes * body)
{
  gsize len = 0;
  const guint8 *data = body ? (const guint8 *) g_bytes_get_data (body, &len) : nullptr;
  g_autoptr (GChecksum) md5 = g_checksum_new (G_CHECKSUM_MD5);
  if (len)
    g_checksum_update (md5, data, len);
  guint8 digest[16];
  gsize dlen = sizeof (digest);
  g_checksum_get_digest (md5, digest, &dlen);
  g_autofree gchar *b64 = g_base64_encode (digest, dlen);
  return b64;
}

S3Result
cancelled_result (const std::string & key)
{
  S3Result r;
  r.error.code = "Cancelled";
  r.error.message = "request cancelled";
  r.error.key = key;
  return r;
}

/* An error answer without an S3 error document (HEAD answers have no body;
 * proxies answer HTML): name the status. */
void
describe_bare_status (const std::string & key, unsigned status, const char *body,
    gsize len, S3Error & error)
{
  if (status == 403) {
    error.code = "AccessDenied";
    error.message = "access denied: check access-key, secret-key and the bucket's policy";
  } else if (status == 404) {
    error.code = key.empty () ? "NoSuchBucket" : "NoSuchKey";
    error.message = key.empty () ? "the bucket does not exist" : "no such object";
  } else {
    const char *phrase = soup_status_get_phrase (status);
    error.code = phrase ? phrase : "HTTPError";
    error.code.erase (std::remove (error.code.begin (), error.code.end (), ' '), error.code.end ());
  }
  if (len > 0)
    error.message = std::string (body, std::min<gsize> (len, 200));
}

/* Replaces every occurrence of secret in text (a server may echo what it
 * was sent, and the session token is sent). */
void
redact (std::string & text, const std::string & secret)
{
  if (secret.empty ())
    return;
  for (size_t at; (at = text.find (secret)) != std::string::npos;)
    text.replace (at, secret.size (), "(redacted)");
}

/* A refusal for which S3 sends an error document, unless the request
 * was a HEAD (bad signature, unknown key id, skewed clock, denied). */
bool
is_refusal (const S3Result & r)
{
  return !r.ok && (r.http_status == 400 || r.http_status == 403);
}

}  // namespace

unsigned
backoff_delay_ms (unsigned attempt, unsigned base_ms, unsigned cap_ms)
{
  guint64 d = base_ms;
  for (unsigned i = 1; i < attempt && d < cap_ms; i++)
    d *= 2;
  d = std::min<guint64> (d, cap_ms);
  /* Full jitter would allow 0; keep at least half so a dead server is not
   * hammered by every retry at once. */
  return (unsigned) (d / 2 + g_random_int_range (0, (gint32) (d / 2) + 1));
}

struct S3Client::Request {
  std::string method;
  std::string key;
  HeaderList query;             /* raw name/value */
  HeaderList headers;           /* extra headers, sent and (x-amz-*) signed */
  std::string content_type;
  BytesPtr body;
  bool check_error_in_200 = false;  /* CompleteMultipartUpload, DeleteObjects */
  bool quiet_404 = false;
  S3Callback cb;

  unsigned attempts = 0;
  gint64 started_us = 0;
  GCancellable *cancellable = nullptr;   /* of the attempt in flight */
  GSource *timer = nullptr;              /* time-out of the attempt, or retry delay */
  bool timed_out = false;
  bool cancelled = false;
  bool restart = false;                  /* the attempt is cancelled to start over */
  bool new_connection = false;           /* not on a kept-alive connection (it may be dead) */
  unsigned timeout_ms = 0;               /* 0: config's request_timeout_ms */
  int retries = -1;                      /* -1: config's retries */
  gint64 last_progress_us = 0;           /* of the attempt in flight */
  gint64 attempt_sent_us = 0;            /* when the last attempt was sent */
  SoupMessage *msg = nullptr;

  ~Request ()
  {
    g_clear_object (&cancellable);
    g_clear_object (&msg);
    if (timer) {
      g_source_destroy (timer);
      g_source_unref (timer);
    }
  }
};

struct S3Client::Impl {
  std::thread thread;
  GMainContext *context = nullptr;
  GMainLoop *loop = nullptr;
  SoupSession *session = nullptr;          /* client thread only */
  std::set<std::shared_ptr<Request>> active; /* client thread only */
  bool stopping = false;                    /* client thread only */

  std::mutex ready_lock;
  std::condition_variable ready_cond;
  bool ready = false;
};

namespace {

struct InvokeData {
  std::function<void ()> fn;
};

gboolean
invoke_cb (gpointer data)
{
  static_cast<InvokeData *> (data)->fn ();
  return G_SOURCE_REMOVE;
}

void
invoke_free (gpointer data)
{
  delete static_cast<InvokeData *> (data);
}

}  // namespace

S3Client::S3Client (S3Config config, S3RetryObserver on_retry)
  : config_ (std::move (config)), on_retry_ (std::move (on_retry)),
    impl_ (std::make_unique<Impl> ())
{
  ensure_debug_category ();
  impl_->context = g_main_context_new ();
  impl_->loop = g_main_loop_new (impl_->context, FALSE);
  impl_->thread = std::thread ([this] { thread_main (); });
  std::unique_lock<std::mutex> lk (impl_->ready_lock);
  impl_->ready_cond.wait (lk, [this] { return impl_->ready; });
}

S3Client::~S3Client ()
{
  invoke ([this] {
    impl_->stopping = true;
    cancel_active ();
    if (impl_->active.empty ())
      g_main_loop_quit (impl_->loop);
  });
  /* libsoup answers cancelled requests from the loop; do not wait forever */
  invoke_later (kShutdownGraceMs, [this] { g_main_loop_quit (impl_->loop); });
  impl_->thread.join ();
  g_main_loop_unref (impl_->loop);
  g_main_context_unref (impl_->context);
}

void
S3Client::thread_main ()
{
  g_main_context_push_thread_default (impl_->context);
  impl_->session = soup_session_new_with_options ("max-conns", 32,
      "max-conns-per-host", 8, "user-agent", "castline-s3/0.1", nullptr);
  if (!config_.ca_file.empty ()) {
    g_autoptr (GError) err = nullptr;
    g_autoptr (GTlsDatabase) db = g_tls_file_database_new (config_.ca_file.c_str (), &err);
    if (db)
      soup_session_set_tls_database (impl_->session, db);
    else
      GST_WARNING ("ignoring CA bundle %s: %s", config_.ca_file.c_str (),
          err->message);
  }
  {
    std::lock_guard<std::mutex> lk (impl_->ready_lock);
    impl_->ready = true;
  }
  impl_->ready_cond.notify_all ();

  g_main_loop_run (impl_->loop);

  /* Whatever is left was cancelled and will never be answered. */
  for (auto & req : std::vector<std::shared_ptr<Request>> (impl_->active.begin (),
          impl_->active.end ()))
    if (req->timer) {
      g_source_destroy (req->timer);
      g_clear_pointer (&req->timer, g_source_unref);
    }
  g_clear_object (&impl_->session);
  while (g_main_context_iteration (impl_->context, FALSE));
  impl_->active.clear ();
  g_main_context_pop_thread_default (impl_->context);
}

bool
S3Client::on_client_thread () const
{
  return std::this_thread::get_id () == impl_->thread.get_id ();
}

void
S3Client::invoke (std::function<void ()> fn)
{
  if (on_client_thread ()) {
    fn ();
    return;
  }
  g_main_context_invoke_full (impl_->context, G_PRIORITY_DEFAULT, invoke_cb,
      new InvokeData { std::move (fn) }, invoke_free);
}

void
S3Client::invoke_later (unsigned delay_ms, std::function<void ()> fn)
{
  GSource *src = g_timeout_source_new (delay_ms);
  g_source_set_callback (src, invoke_cb, new InvokeData { std::move (fn) },
      invoke_free);
  g_source_attach (src, impl_->context);
  g_source_unref (src);
}

S3Result
S3Client::wait (const std::function<void (S3Callback)> & start)
{
  g_return_val_if_fail (!on_client_thread (), S3Result ());
  std::mutex m;
  std::condition_variable c;
  bool done = false;
  S3Result out;
  start ([&] (S3Result r) {
    std::lock_guard<std::mutex> lk (m);
    out = std::move (r);
    done = true;
    c.notify_all ();
  });
  std::unique_lock<std::mutex> lk (m);
  c.wait (lk, [&] { return done; });
  return out;
}

void
S3Client::cancel_all ()
{
  invoke ([this] { cancel_active (); });
}

void
S3Client::cancel_active ()
{
  for (auto & req : std::vector<std::shared_ptr<Request>> (impl_->active.begin (),
          impl_->active.end ())) {
    req->cancelled = true;
    if (req->cancellable) {
      g_cancellable_cancel (req->cancellable);
    } else {
      /* waiting for a retry: answer now */
      finish (req, cancelled_result (req->key));
    }
  }
}

unsigned
S3Client::timeout_of (const Request & req) const
{
  return req.timeout_ms ? req.timeout_ms : config_.request_timeout_ms;
}

void
S3Client::restart_stalled (gint64 since_us)
{
  g_return_if_fail (on_client_thread ());
  gint64 now = g_get_monotonic_time ();
  for (auto & req : std::vector<std::shared_ptr<Request>> (impl_->active.begin (),
          impl_->active.end ())) {
    if (req->cancelled || req->restart)
      continue;
    if (req->cancellable) {
      /* an attempt in flight: its answer comes back cancelled (on_response) */
      if (req->last_progress_us >= since_us)
        continue;
      GST_INFO ("%s %s: no progress for %" G_GINT64_FORMAT " ms, starting it over",
          req->method.c_str (), req->key.c_str (), (now - req->last_progress_us) / 1000);
      req->restart = true;
      g_cancellable_cancel (req->cancellable);
    } else if (req->timer) {
      /* waiting out a retry back-off */
      g_source_destroy (req->timer);
      g_clear_pointer (&req->timer, g_source_unref);
      req->new_connection = true;
      send_attempt (req);
    }
  }
}

void
S3Client::start_request (std::shared_ptr<Request> req)
{
  invoke ([this, req] {
    if (impl_->stopping) {
      S3Result r = cancelled_result (req->key);
      if (req->cb)
        req->cb (std::move (r));
      return;
    }
    req->started_us = g_get_monotonic_time ();
    impl_->active.insert (req);
    send_attempt (req);
  });
}

namespace {

struct ResponseCtx {
  S3Client *client;
  std::shared_ptr<S3Client::Request> req;
};

}  // namespace

void
S3Client::send_attempt (std::shared_ptr<Request> req)
{
  req->attempts++;
  req->timed_out = false;

  std::string encoded_query;
  for (auto & [k, v] : req->query) {
    if (!encoded_query.empty ())
      encoded_query += "&";
    encoded_query += uri_encode (k, false) + "=" + uri_encode (v, false);
  }
  S3Url url = config_.url_for (req->key, encoded_query);

  SigningRequest sreq;
  sreq.method = req->method;
  sreq.path = url.path;
  sreq.query = req->query;
  sreq.headers.emplace_back ("Host", url.host);
  for (auto & h : req->headers)
    if (g_ascii_strncasecmp (h.first.c_str (), "x-amz-", 6) == 0
        || g_ascii_strcasecmp (h.first.c_str (), "content-md5") == 0)
      sreq.headers.push_back (h);
  gsize len = 0;
  const void *data = req->body ? g_bytes_get_data (req->body.get (), &len) : nullptr;
  sreq.payload_sha256 = sha256_hex (data ? data : "", len);

  SigningOptions opts;
  opts.region = config_.effective_region ();
  opts.amz_date = amz_date_from_unix (g_get_real_time () / G_USEC_PER_SEC);
  SigningResult signed_req = sign_request (sreq, config_.credentials, opts);

  g_clear_object (&req->msg);
  req->msg = soup_message_new (req->method.c_str (), url.url.c_str ());
  if (!req->msg) {
    S3Result r;
    r.error.code = "InvalidURL";
    r.error.message = "cannot build a request URL from the endpoint";
    r.error.key = req->key;
    finish (req, std::move (r));
    return;
  }
  if (req->new_connection)
    soup_message_add_flags (req->msg, SOUP_MESSAGE_NEW_CONNECTION);
  SoupMessageHeaders *hdrs = soup_message_get_request_headers (req->msg);
  for (auto & h : req->headers)
    soup_message_headers_replace (hdrs, h.first.c_str (), h.second.c_str ());
  for (auto & h : signed_req.headers_to_add)
    soup_message_headers_replace (hdrs, h.first.c_str (), h.second.c_str ());
  if (req->body) {
    soup_message_set_request_body_from_bytes (req->msg,
        req->content_type.empty () ? "application/octet-stream" : req->content_type.c_str (),
        req->body.get ());
  } else if (req->method == "PUT" || req->method == "POST") {
    soup_message_headers_set_content_length (hdrs, 0);
  }

  g_clear_object (&req->cancellable);
  req->cancellable = g_cancellable_new ();
  /* request-timeout bounds the time without progress: it restarts when the
   * request leaves the session's queue, with every chunk of body written
   * and when the answer's headers arrive, so a large part on a slow link
   * is not cut while it moves, and a dead connection still is. */
  req->last_progress_us = g_get_monotonic_time ();
  req->attempt_sent_us = req->last_progress_us;
  auto progress = +[] (SoupMessage *, gpointer data) {
    static_cast<Request *> (data)->last_progress_us = g_get_monotonic_time ();
  };
  auto chunk_progress = +[] (SoupMessage *, guint, gpointer data) {
    static_cast<Request *> (data)->last_progress_us = g_get_monotonic_time ();
  };
  g_signal_connect (req->msg, "starting", G_CALLBACK (progress), req.get ());
  g_signal_connect (req->msg, "wrote-headers", G_CALLBACK (progress), req.get ());
  g_signal_connect (req->msg, "wrote-body-data", G_CALLBACK (chunk_progress), req.get ());
  g_signal_connect (req->msg, "got-headers", G_CALLBACK (progress), req.get ());

  const unsigned timeout_ms = std::max (1u, timeout_of (*req));
  req->timer = g_timeout_source_new (std::min (timeout_ms / 4 + 1, kProgressCheckMs));
  auto *tctx = new ResponseCtx { this, req };
  g_source_set_callback (req->timer, [] (gpointer d) -> gboolean {
        auto *c = static_cast<ResponseCtx *> (d);
        gint64 idle_ms = (g_get_monotonic_time () - c->req->last_progress_us) / 1000;
        if (idle_ms < (gint64) c->client->timeout_of (*c->req))
          return G_SOURCE_CONTINUE;
        c->req->timed_out = true;
        if (c->req->cancellable)
          g_cancellable_cancel (c->req->cancellable);
        g_clear_pointer (&c->req->timer, g_source_unref);
        return G_SOURCE_REMOVE;
      }, tctx, [] (gpointer d) { delete static_cast<ResponseCtx *> (d); });
  g_source_attach (req->timer, impl_->context);

  GST_DEBUG ("%s %s (attempt %u)", req->method.c_str (), url.url.c_str (),
      req->attempts);
  auto *rctx = new ResponseCtx { this, req };
  soup_session_send_and_read_async (impl_->session, req->msg, G_PRIORITY_DEFAULT,
      req->cancellable, [] (GObject * src, GAsyncResult * res, gpointer d) {
        std::unique_ptr<ResponseCtx> c (static_cast<ResponseCtx *> (d));
        GError *err = nullptr;
        GBytes *body = soup_session_send_and_read_finish (SOUP_SESSION (src), res, &err);
        c->client->on_response (c->req, body, err);
        if (body)
          g_bytes_unref (body);
        g_clear_error (&err);
      }, rctx);
}

void
S3Client::on_response (std::shared_ptr<Request> req, GBytes * body, GError * error)
{
  if (req->timer) {
    g_source_destroy (req->timer);
    g_clear_pointer (&req->timer, g_source_unref);
  }

  S3Result r;
  r.attempts = req->attempts;
  r.attempt_sent_us = req->attempt_sent_us;
  r.error.key = req->key;
  r.error.bucket = config_.bucket;

  gsize blen = 0;
  const char *bdata = body ? (const char *) g_bytes_get_data (body, &blen) : nullptr;

  if (error && req->restart && !req->cancelled && !impl_->stopping) {
    /* restart_stalled (): the same attempt again, on a new connection */
    req->restart = false;
    req->attempts--;
    req->new_connection = true;
    send_attempt (req);
    return;
  }
  req->restart = false;

  if (error) {
    /* cancelled first: cancel_all () may come after the time-out fired but
     * before this answer, and a time-out would be retried */
    if (req->cancelled || impl_->stopping) {
      r.error.code = "Cancelled";
      r.error.message = "request cancelled";
    } else if (req->timed_out) {
      r.error.code = "Timeout";
      r.error.message = "no progress for " + std::to_string (timeout_of (*req)) + " ms";
    } else {
      r.error.code = "ConnectionFailed";
      r.error.message = error->message;
    }
  } else {
    r.http_status = soup_message_get_status (req->msg);
    r.error.http_status = r.http_status;
    SoupMessageHeaders *rh = soup_message_get_response_headers (req->msg);
    if (r.http_status >= 200 && r.http_status < 300) {
      S3Error in_body;
      if (req->check_error_in_200 && parse_s3_error_xml (bdata, blen, in_body)) {
        /* CompleteMultipartUpload can fail after a 200 */
        r.error = in_body;
        if (r.error.key.empty ())
          r.error.key = req->key;
        r.error.http_status = r.http_status;
        if (r.error.code == "InternalError" || r.error.code == "SlowDown")
          r.error.http_status = 500;
      } else {
        r.ok = true;
        /* kept with its quotes: CompleteMultipartUpload wants it as sent */
        if (const char *etag = soup_message_headers_get_one (rh, "ETag"))
          r.etag = etag;
        if (const char *ct = soup_message_headers_get_content_type (rh, nullptr))
          r.content_type = ct;
        if (const char *cc = soup_message_headers_get_one (rh, "Cache-Control"))
          r.cache_control = cc;
        if (body)
          r.body = std::shared_ptr<GBytes> (g_bytes_ref (body), g_bytes_unref);
        if (req->query.size () == 1 && req->query[0].first == "uploads")
          r.upload_id = xml_first_element_text (bdata, blen, "UploadId");
        if (r.etag.empty () && req->check_error_in_200)
          r.etag = xml_first_element_text (bdata, blen, "ETag");
      }
    } else {
      if (!parse_s3_error_xml (bdata, blen, r.error))
        describe_bare_status (req->key, r.http_status, bdata, blen, r.error);
    }
  }
  if (!r.ok) {
    for (const std::string * secret : { &config_.credentials.secret_key,
            &config_.credentials.session_token }) {
      redact (r.error.code, *secret);
      redact (r.error.message, *secret);
    }
  }

  bool cancelled = r.error.code == "Cancelled";
  unsigned retries = req->retries < 0 ? config_.retries : (unsigned) req->retries;
  if (!r.ok && !cancelled && r.error.retryable () && req->attempts <= retries
      && !impl_->stopping) {
    unsigned delay = backoff_delay_ms (req->attempts, kBackoffBaseMs, kBackoffCapMs);
    GST_INFO ("%s %s failed (%s), retry %u/%u in %u ms", req->method.c_str (),
        req->key.c_str (), r.error.describe ().c_str (), req->attempts,
        config_.retries, delay);
    if (on_retry_)
      on_retry_ (r.error);
    g_clear_object (&req->cancellable);
    req->timer = g_timeout_source_new (delay);
    auto *ctx = new ResponseCtx { this, req };
    g_source_set_callback (req->timer, [] (gpointer d) -> gboolean {
          auto *c = static_cast<ResponseCtx *> (d);
          g_clear_pointer (&c->req->timer, g_source_unref);
          c->client->send_attempt (c->req);
          return G_SOURCE_REMOVE;
        }, ctx, [] (gpointer d) { delete static_cast<ResponseCtx *> (d); });
    g_source_attach (req->timer, impl_->context);
    return;
  }
  finish (req, std::move (r));
}

void
S3Client::finish (std::shared_ptr<Request> req, S3Result result)
{
  if (req->timer) {
    g_source_destroy (req->timer);
    g_clear_pointer (&req->timer, g_source_unref);
  }
  result.attempts = req->attempts;
  result.duration_us = g_get_monotonic_time () - req->started_us;
  if (result.ok)
    GST_DEBUG ("%s %s: HTTP %u after %u attempt(s)", req->method.c_str (),
        req->key.c_str (), result.http_status, result.attempts);
  else if (!(req->quiet_404 && result.http_status == 404))
    GST_INFO ("%s %s: %s", req->method.c_str (), req->key.c_str (),
        result.error.describe ().c_str ());
  impl_->active.erase (req);
  S3Callback cb = std::move (req->cb);
  if (cb)
    cb (std::move (result));
  if (impl_->stopping && impl_->active.empty ())
    g_main_loop_quit (impl_->loop);
}

/* ---- operations ---- */

namespace {

std::shared_ptr<S3Client::Request>
make_request (const char *method, std::string key, S3Callback cb)
{
  auto req = std::make_shared<S3Client::Request> ();
  req->method = method;
  req->key = std::move (key);
  req->cb = std::move (cb);
  return req;
}

}  // namespace

void
S3Client::put_object (std::string key, GBytes * body, std::string content_type,
    std::string cache_control, S3Callback cb)
{
  auto req = make_request ("PUT", std::move (key), std::move (cb));
  req->body.reset (body ? g_bytes_ref (body) : g_bytes_new (nullptr, 0));
  req->content_type = std::move (content_type);
  if (!cache_control.empty ())
    req->headers.emplace_back ("Cache-Control", cache_control);
  start_request (req);
}

void
S3Client::get_object (std::string key, S3Callback cb)
{
  auto req = make_request ("GET", std::move (key), std::move (cb));
  req->quiet_404 = true;
  start_request (req);
}

void
S3Client::head_bucket (S3Callback cb)
{
  start_request (make_request ("HEAD", "", [this, cb = std::move (cb)] (S3Result head) mutable {
    if (!is_refusal (head) || impl_->stopping) {
      cb (std::move (head));
      return;
    }
    /* the same question as a GET, whose refusal has S3's error document */
    auto get = make_request ("GET", "", [cb = std::move (cb), head] (S3Result r) mutable {
      if (r.ok || r.error.http_status == 0 || r.error.code == "Cancelled") {
        cb (std::move (head));    /* no better answer: keep the HEAD's */
        return;
      }
      r.attempts += head.attempts;
      r.duration_us += head.duration_us;
      cb (std::move (r));
    });
    get->query.emplace_back ("list-type", "2");
    get->query.emplace_back ("max-keys", "0");
    start_request (get);
  }));
}

void
S3Client::probe (unsigned timeout_ms, S3Callback cb)
{
  auto req = make_request ("HEAD", "", std::move (cb));
  req->timeout_ms = std::max (1u, timeout_ms);
  req->retries = 0;
  req->quiet_404 = true;
  req->new_connection = true;
  start_request (req);
}

void
S3Client::delete_object (std::string key, S3Callback cb)
{
  start_request (make_request ("DELETE", std::move (key), std::move (cb)));
}

void
S3Client::delete_objects (std::vector<std::string> keys, S3Callback cb)
{
  std::string xml = "<?xml version=\"1.0\" encoding=\"UTF-8\"?>"
      "<Delete xmlns=\"http://s3.amazonaws.com/doc/2006-03-01/\"><Quiet>true</Quiet>";
  for (auto & k : keys)
    xml += "<Object><Key>" + xml_escape (k) + "</Key></Object>";
  xml += "</Delete>";
  auto req = make_request ("POST", "", std::move (cb));
  req->query.emplace_back ("delete", "");
  req->body.reset (g_bytes_new (xml.data (), xml.size ()));
  req->content_type = "application/xml";
  req->headers.emplace_back ("Content-MD5", base64_md5 (req->body.get ()));
  req->check_error_in_200 = true;
  start_request (req);
}

void
S3Client::create_multipart_upload (std::string key, std::string content_type,
    std::string cache_control, S3Callback cb)
{
  auto req = make_request ("POST", std::move (key), std::move (cb));
  req->query.emplace_back ("uploads", "");
  /* The object's Content-Type is given here, not on the parts. */
  if (!content_type.empty ())
    req->headers.emplace_back ("Content-Type", content_type);
  if (!cache_control.empty ())
    req->headers.emplace_back ("Cache-Control", cache_control);
  start_request (req);
}

void
S3Client::upload_part (std::string key, std::string upload_id, int part_number,
    GBytes * body, S3Callback cb)
{
  auto req = make_request ("PUT", std::move (key), std::move (cb));
  req->query.emplace_back ("partNumber", std::to_string (part_number));
  req->query.emplace_back ("uploadId", std::move (upload_id));
  req->body.reset (g_bytes_ref (body));
  start_request (req);
}

void
S3Client::complete_multipart_upload (std::string key, std::string upload_id,
    std::vector<S3Part> parts, S3Callback cb)
{
  std::string xml = "<?xml version=\"1.0\" encoding=\"UTF-8\"?>"
      "<CompleteMultipartUpload xmlns=\"http://s3.amazonaws.com/doc/2006-03-01/\">";
  for (auto & p : parts)
    xml += "<Part><PartNumber>" + std::to_string (p.number) + "</PartNumber><ETag>"
        + xml_escape (p.etag) + "</ETag></Part>";
  xml += "</CompleteMultipartUpload>";
  auto req = make_request ("POST", std::move (key), std::move (cb));
  req->query.emplace_back ("uploadId", std::move (upload_id));
  req->body.reset (g_bytes_new (xml.data (), xml.size ()));
  req->content_type = "application/xml";
  req->check_error_in_200 = true;
  start_request (req);
}

void
S3Client::abort_multipart_upload (std::string key, std::string upload_id,
    S3Callback cb)
{
  auto req = make_request ("DELETE", std::move (key), std::move (cb));
  req->query.emplace_back ("uploadId", std::move (upload_id));
  start_request (req);
}

}  // namespace castline::s3
