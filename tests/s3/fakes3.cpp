#include "fakes3.h"

#include <libsoup/soup.h>

#include <algorithm>
#include <condition_variable>
#include <functional>
#include <thread>

namespace castline::test {

struct Upload {
  std::string key;
  std::string content_type;
  std::string cache_control;
  std::map<int, std::string> parts;
};

struct FakeS3::Impl {
  std::string access_key;
  std::thread thread;
  GMainContext *context = nullptr;
  GMainLoop *loop = nullptr;
  SoupServer *server = nullptr;
  guint port = 0;

  mutable std::mutex lock;
  std::condition_variable ready_cond;
  bool ready = false;
  std::map<std::string, FakeObject> objects;
  std::map<std::string, Upload> uploads;
  std::vector<std::string> aborted;
  std::vector<FakeRequest> log;
  unsigned fail_count = 0;
  unsigned fail_status = 0;
  std::string fail_code;
  std::string fail_method;
  std::string fail_query;
  std::string fail_message;
  bool hanging = false;             /* server thread only */
  std::vector<SoupServerMessage *> held;  /* server thread only, owned refs */
  unsigned delay_ms = 0;
  bool down = false;                /* server thread only */
  unsigned next_order = 1;
  unsigned next_upload = 1;
};

namespace {

void
answer_error (SoupServerMessage * msg, unsigned status, const std::string & code,
    const std::string & text, const std::string & key)
{
  std::string xml = "<?xml version=\"1.0\" encoding=\"UTF-8\"?><Error><Code>" + code
      + "</Code><Message>" + text + "</Message><Key>" + key
      + "</Key><RequestId>fake</RequestId></Error>";
  soup_server_message_set_status (msg, status, nullptr);
  soup_server_message_set_response (msg, "application/xml", SOUP_MEMORY_COPY, xml.data (),
      xml.size ());
}

void
answer_xml (SoupServerMessage * msg, const std::string & xml)
{
  soup_server_message_set_status (msg, 200, nullptr);
  soup_server_message_set_response (msg, "application/xml", SOUP_MEMORY_COPY, xml.data (),
      xml.size ());
}

std::string
query_value (GHashTable * q, const char *name)
{
  const char *v = q ? (const char *) g_hash_table_lookup (q, name) : nullptr;
  return v ? v : "";
}

void
store (FakeS3::Impl * impl, const std::string & key, std::string data,
    std::string content_type, std::string cache_control)
{
  FakeObject & o = impl->objects[key];
  o.data = std::move (data);
  o.content_type = std::move (content_type);
  o.cache_control = std::move (cache_control);
  o.arrival_us = g_get_monotonic_time ();
  o.order = impl->next_order++;
}

/* Handles one request under the lock; returns the status answered. */
unsigned
handle (FakeS3::Impl * impl, const std::string & bucket, SoupServerMessage * msg,
    const char *path, GHashTable * query, const std::string & raw_query)
{
  std::string method = soup_server_message_get_method (msg);
  SoupMessageHeaders *rh = soup_server_message_get_request_headers (msg);
  SoupMessageBody *body = soup_server_message_get_request_body (msg);
  std::string data (body->data ? body->data : "", body->length);

  const char *auth = soup_message_headers_get_one (rh, "Authorization");
  std::string cred = auth ? auth : "";
  auto c = cred.find ("Credential=");
  std::string akid = c == std::string::npos ? "" : cred.substr (c + 11, cred.find ('/', c) - c - 11);
  if (akid != impl->access_key) {
    answer_error (msg, 403, "InvalidAccessKeyId", "The access key does not exist", "");
    return 403;
  }
  const char *sha = soup_message_headers_get_one (rh, "x-amz-content-sha256");
  g_autofree gchar *want = g_compute_checksum_for_data (G_CHECKSUM_SHA256,
      (const guchar *) data.data (), data.size ());
  if (!sha || std::string (sha) != want) {
    answer_error (msg, 400, "XAmzContentSHA256Mismatch", "payload hash differs", "");
    return 400;
  }

  /* /bucket[/key] */
  std::string p = path;
  std::string b = p.substr (1, p.find ('/', 1) == std::string::npos ? std::string::npos
      : p.find ('/', 1) - 1);
  std::string key = p.size () > b.size () + 2 ? p.substr (b.size () + 2) : "";
  if (b != bucket) {
    answer_error (msg, 404, "NoSuchBucket", "The specified bucket does not exist", key);
    return 404;
  }
  if (impl->fail_count && (impl->fail_method.empty () || impl->fail_method == method)
      && raw_query.find (impl->fail_query) != std::string::npos) {
    impl->fail_count--;
    answer_error (msg, impl->fail_status, impl->fail_code, impl->fail_message, key);
    return impl->fail_status;
  }

  if (key.empty ()) {
    if (method == "HEAD") {
      soup_server_message_set_status (msg, 200, nullptr);
      return 200;
    }
    if (method == "GET" && query_value (query, "list-type") == "2") {
      /* ListObjectsV2, keys left out: the bucket's check asks it */
      answer_xml (msg, "<ListBucketResult><Name>" + bucket + "</Name><KeyCount>0</KeyCount>"
          "<IsTruncated>false</IsTruncated></ListBucketResult>");
      return 200;
    }
    if (method == "POST" && query && g_hash_table_contains (query, "delete")) {
      size_t pos = 0;
      while ((pos = data.find ("<Key>", pos)) != std::string::npos) {
        size_t end = data.find ("</Key>", pos);
        impl->objects.erase (data.substr (pos + 5, end - pos - 5));
        pos = end;
      }
      answer_xml (msg, "<DeleteResult/>");
      return 200;
    }
    answer_error (msg, 405, "MethodNotAllowed", "not supported by the fake", "");
    return 405;
  }

  std::string upload_id = query_value (query, "uploadId");
  if (method == "PUT" && !upload_id.empty ()) {
    auto it = impl->uploads.find (upload_id);
    if (it == impl->uploads.end ()) {
      answer_error (msg, 404, "NoSuchUpload", "no such upload", key);
      return 404;
    }
    int n = atoi (query_value (query, "partNumber").c_str ());
    it->second.parts[n] = data;
    std::string etag = "\"etag-" + upload_id + "-" + std::to_string (n) + "\"";
    soup_message_headers_replace (soup_server_message_get_response_headers (msg), "ETag",
        etag.c_str ());
    soup_server_message_set_status (msg, 200, nullptr);
    return 200;
  }
  if (method == "PUT") {
    const char *ct = soup_message_headers_get_one (rh, "Content-Type");
    const char *cc = soup_message_headers_get_one (rh, "Cache-Control");
    store (impl, key, data, ct ? ct : "", cc ? cc : "");
    soup_message_headers_replace (soup_server_message_get_response_headers (msg), "ETag",
        "\"fake\"");
    soup_server_message_set_status (msg, 200, nullptr);
    return 200;
  }
  if (method == "POST" && query && g_hash_table_contains (query, "uploads")) {
    std::string id = "upload" + std::to_string (impl->next_upload++);
    const char *ct = soup_message_headers_get_one (rh, "Content-Type");
    const char *cc = soup_message_headers_get_one (rh, "Cache-Control");
    impl->uploads[id] = Upload { key, ct ? ct : "", cc ? cc : "", {} };
    answer_xml (msg, "<InitiateMultipartUploadResult><Bucket>" + bucket + "</Bucket><Key>" + key
        + "</Key><UploadId>" + id + "</UploadId></InitiateMultipartUploadResult>");
    return 200;
  }
  if (method == "POST" && !upload_id.empty ()) {
    auto it = impl->uploads.find (upload_id);
    if (it == impl->uploads.end ()) {
      answer_error (msg, 404, "NoSuchUpload", "no such upload", key);
      return 404;
    }
    std::string whole;
    size_t pos = 0;
    while ((pos = data.find ("<PartNumber>", pos)) != std::string::npos) {
      int n = atoi (data.c_str () + pos + 12);
      auto part = it->second.parts.find (n);
      size_t etag_at = data.find ("<ETag>", pos);
      size_t etag_end = data.find ("</ETag>", pos);
      std::string etag = etag_at == std::string::npos || etag_end == std::string::npos
          ? "" : data.substr (etag_at + 6, etag_end - etag_at - 6);
      for (size_t q; (q = etag.find ("&quot;")) != std::string::npos;)
        etag.replace (q, 6, "\"");
      if (part == it->second.parts.end ()
          || etag != "\"etag-" + upload_id + "-" + std::to_string (n) + "\"") {
        answer_error (msg, 400, "InvalidPart",
            "a listed part was not uploaded or its ETag differs", key);
        return 400;
      }
      whole += part->second;
      pos += 12;
    }
    store (impl, key, whole, it->second.content_type, it->second.cache_control);
    impl->uploads.erase (it);
    answer_xml (msg, "<CompleteMultipartUploadResult><Key>" + key
        + "</Key><ETag>\"done\"</ETag></CompleteMultipartUploadResult>");
    return 200;
  }
  if (method == "DELETE" && !upload_id.empty ()) {
    impl->uploads.erase (upload_id);
    impl->aborted.push_back (upload_id);
    soup_server_message_set_status (msg, 204, nullptr);
    return 204;
  }
  if (method == "DELETE") {
    impl->objects.erase (key);
    soup_server_message_set_status (msg, 204, nullptr);
    return 204;
  }
  if (method == "GET" || method == "HEAD") {
    auto it = impl->objects.find (key);
    if (it == impl->objects.end ()) {
      answer_error (msg, 404, "NoSuchKey", "The specified key does not exist.", key);
      return 404;
    }
    soup_server_message_set_status (msg, 200, nullptr);
    soup_server_message_set_response (msg, it->second.content_type.c_str (), SOUP_MEMORY_COPY,
        it->second.data.data (), it->second.data.size ());
    return 200;
  }
  answer_error (msg, 405, "MethodNotAllowed", "not supported by the fake", key);
  return 405;
}

struct Held {
  SoupServerMessage *msg;
};

}  // namespace

FakeS3::FakeS3 (std::string bucket, std::string access_key)
  : bucket_ (std::move (bucket)), impl_ (std::make_unique<Impl> ())
{
  impl_->access_key = std::move (access_key);
  impl_->context = g_main_context_new ();
  impl_->loop = g_main_loop_new (impl_->context, FALSE);
  impl_->thread = std::thread ([this] {
    g_main_context_push_thread_default (impl_->context);
    impl_->server = soup_server_new ("server-header", "fakes3", nullptr);
    soup_server_add_handler (impl_->server, nullptr,
        [] (SoupServer *, SoupServerMessage * msg, const char *path, GHashTable * query,
            gpointer data) {
          auto *self = static_cast<FakeS3 *> (data);
          if (self->impl_->down) {
            /* an outage: the connection closes with no answer */
            GIOStream *conn = soup_server_message_steal_connection (msg);
            g_io_stream_close (conn, nullptr, nullptr);
            g_object_unref (conn);
            return;
          }
          unsigned delay;
          {
            std::lock_guard<std::mutex> lk (self->impl_->lock);
            FakeRequest r;
            r.method = soup_server_message_get_method (msg);
            r.path = path;
            GUri *uri = soup_server_message_get_uri (msg);
            r.query = g_uri_get_query (uri) ? g_uri_get_query (uri) : "";
            const char *a = soup_message_headers_get_one (
                soup_server_message_get_request_headers (msg), "Authorization");
            r.authorization = a ? a : "";
            SoupMessageHeadersIter it;
            const char *hname, *hvalue;
            soup_message_headers_iter_init (&it, soup_server_message_get_request_headers (msg));
            while (soup_message_headers_iter_next (&it, &hname, &hvalue))
              r.headers += std::string (hname) + ": " + hvalue + "\n";
            SoupMessageBody *b = soup_server_message_get_request_body (msg);
            if (b->length < 4096)
              r.small_body.assign (b->data ? b->data : "", b->length);
            r.status = handle (self->impl_.get (), self->bucket_, msg, path, query, r.query);
            r.arrival_us = g_get_monotonic_time ();
            self->impl_->log.push_back (r);
            delay = self->impl_->delay_ms;
          }
          if (self->impl_->hanging) {
            soup_server_message_pause (msg);
            self->impl_->held.push_back ((SoupServerMessage *) g_object_ref (msg));
            /* a client that gave up: nothing to answer any more */
            g_signal_connect (msg, "disconnected", G_CALLBACK (+[] (SoupServerMessage * m,
                    gpointer data) {
                  auto & held = static_cast<FakeS3::Impl *> (data)->held;
                  auto it = std::find (held.begin (), held.end (), m);
                  if (it != held.end ()) {
                    held.erase (it);
                    g_object_unref (m);
                  }
                }), self->impl_.get ());
            return;
          }
          if (delay) {
            soup_server_message_pause (msg);
            g_object_ref (msg);
            GSource *src = g_timeout_source_new (delay);
            g_source_set_callback (src, [] (gpointer m) -> gboolean {
                  soup_server_message_unpause (SOUP_SERVER_MESSAGE (m));
                  return G_SOURCE_REMOVE;
                }, msg, g_object_unref);
            g_source_attach (src, g_main_context_get_thread_default ());
            g_source_unref (src);
          }
        }, this, nullptr);
    GError *err = nullptr;
    if (!soup_server_listen_local (impl_->server, 0, SOUP_SERVER_LISTEN_IPV4_ONLY, &err))
      g_error ("fake S3 cannot listen: %s", err->message);
    GSList *uris = soup_server_get_uris (impl_->server);
    impl_->port = g_uri_get_port ((GUri *) uris->data);
    g_slist_free_full (uris, (GDestroyNotify) g_uri_unref);
    {
      std::lock_guard<std::mutex> lk (impl_->lock);
      impl_->ready = true;
    }
    impl_->ready_cond.notify_all ();
    g_main_loop_run (impl_->loop);
    for (auto *held : impl_->held)
      g_object_unref (held);
    impl_->held.clear ();
    soup_server_disconnect (impl_->server);
    g_clear_object (&impl_->server);
    while (g_main_context_iteration (impl_->context, FALSE));
    g_main_context_pop_thread_default (impl_->context);
  });
  std::unique_lock<std::mutex> lk (impl_->lock);
  impl_->ready_cond.wait (lk, [this] { return impl_->ready; });
}

FakeS3::~FakeS3 ()
{
  g_main_context_invoke (impl_->context, [] (gpointer l) -> gboolean {
        g_main_loop_quit ((GMainLoop *) l);
        return G_SOURCE_REMOVE;
      }, impl_->loop);
  impl_->thread.join ();
  g_main_loop_unref (impl_->loop);
  g_main_context_unref (impl_->context);
}

std::string
FakeS3::endpoint () const
{
  return "http://127.0.0.1:" + std::to_string (impl_->port);
}

void
FakeS3::fail_next (unsigned n, unsigned status, const std::string & code,
    const std::string & method, const std::string & query_part, const std::string & message)
{
  std::lock_guard<std::mutex> lk (impl_->lock);
  impl_->fail_query = query_part;
  impl_->fail_count = n;
  impl_->fail_status = status;
  impl_->fail_code = code;
  impl_->fail_method = method;
  impl_->fail_message = message;
}

void
FakeS3::set_delay_ms (unsigned ms)
{
  std::lock_guard<std::mutex> lk (impl_->lock);
  impl_->delay_ms = ms;
}

bool
FakeS3::has (const std::string & key) const
{
  std::lock_guard<std::mutex> lk (impl_->lock);
  return impl_->objects.count (key) > 0;
}

FakeObject
FakeS3::object (const std::string & key) const
{
  std::lock_guard<std::mutex> lk (impl_->lock);
  auto it = impl_->objects.find (key);
  return it == impl_->objects.end () ? FakeObject () : it->second;
}

std::vector<std::string>
FakeS3::keys () const
{
  std::lock_guard<std::mutex> lk (impl_->lock);
  std::vector<std::string> out;
  for (auto & [k, o] : impl_->objects)
    out.push_back (k);
  return out;
}

std::vector<FakeRequest>
FakeS3::requests () const
{
  std::lock_guard<std::mutex> lk (impl_->lock);
  return impl_->log;
}

size_t
FakeS3::request_count () const
{
  std::lock_guard<std::mutex> lk (impl_->lock);
  return impl_->log.size ();
}

namespace {

/* Runs fn on the server thread, which owns the SoupServer, and waits until
 * it has run, so the caller's next request sees the new state. */
void
run_on_server (GMainContext * context, const std::function<void ()> & fn)
{
  struct Call {
    const std::function<void ()> *fn;
    std::mutex m;
    std::condition_variable c;
    bool done = false;
  } call;
  call.fn = &fn;
  g_main_context_invoke (context, [] (gpointer d) -> gboolean {
        auto *c = static_cast<Call *> (d);
        (*c->fn) ();
        std::lock_guard<std::mutex> lk (c->m);
        c->done = true;
        c->c.notify_all ();
        return G_SOURCE_REMOVE;
      }, &call);
  std::unique_lock<std::mutex> lk (call.m);
  call.c.wait (lk, [&] { return call.done; });
}

}  // namespace

void
FakeS3::set_down (bool down)
{
  Impl *impl = impl_.get ();
  run_on_server (impl->context, [impl, down] {
    if (down == impl->down)
      return;
    impl->down = down;
    if (down) {
      soup_server_disconnect (impl->server);
      return;
    }
    GError *err = nullptr;
    if (!soup_server_listen_local (impl->server, impl->port, SOUP_SERVER_LISTEN_IPV4_ONLY, &err))
      g_error ("fake S3 cannot listen again on %u: %s", impl->port, err->message);
  });
}

void
FakeS3::set_hanging (bool hanging, bool answer_held)
{
  Impl *impl = impl_.get ();
  run_on_server (impl->context, [impl, hanging, answer_held] {
    impl->hanging = hanging;
    if (hanging || !answer_held)
      return;
    for (auto *msg : impl->held) {
      soup_server_message_unpause (msg);
      g_object_unref (msg);
    }
    impl->held.clear ();
  });
}

size_t
FakeS3::count (const std::string & method, const std::string & query_part) const
{
  std::lock_guard<std::mutex> lk (impl_->lock);
  size_t n = 0;
  for (auto & r : impl_->log)
    n += r.method == method && r.query.find (query_part) != std::string::npos;
  return n;
}

std::vector<std::string>
FakeS3::aborted_uploads () const
{
  std::lock_guard<std::mutex> lk (impl_->lock);
  return impl_->aborted;
}

}  // namespace castline::test
