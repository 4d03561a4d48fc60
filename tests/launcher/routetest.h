/* Tests: the launcher's routes called directly, with requests made here
 * and no server (http/message.h), and a StreamManager on a temporary data
 * directory with the shipped pipelines, and streams made on it. */
#pragma once

#include "common/http/message.h"
#include "streams/streammanager.h"
#include "mainloopwait.h"

#include <gst/check/gstcheck.h>
#include <glib/gstdio.h>

#include <memory>
#include <string>
#include <utility>
#include <vector>

namespace routetest {

using castline::launcher::Config;
using castline::launcher::StreamManager;
namespace http = castline::http;

inline http::Request
request (const char *method, const std::string & path, std::string body = "",
    std::vector<std::pair<const char *, std::string>> headers = {})
{
  http::Request r;
  r.method = method;
  size_t q = path.find ('?');
  r.path = path.substr (0, q);
  if (q != std::string::npos) {
    g_autoptr (GHashTable) params = g_uri_parse_params (path.c_str () + q + 1, -1, "&",
        G_URI_PARAMS_NONE, nullptr);
    GHashTableIter it;
    gpointer k, v;
    g_hash_table_iter_init (&it, params);
    while (g_hash_table_iter_next (&it, &k, &v))
      r.query.emplace (static_cast<const char *> (k), static_cast<const char *> (v));
  }
  /* as every HTTP/1.1 client sends it (a test may give its own) */
  r.headers.append ("Host", "127.0.0.1:8080");
  for (auto & [name, value] : headers) {
    if (g_ascii_strcasecmp (name, "Host") == 0)
      r.headers.remove ("Host");
    r.headers.append (name, value);
    if (g_ascii_strcasecmp (name, "Content-Type") == 0)
      r.content_type = value.substr (0, value.find (';'));
  }
  if (!body.empty ())
    r.body = http::Bytes (std::string_view (body));
  r.remote_host = "127.0.0.1";
  r.remote_is_loopback = true;
  return r;
}

inline std::string
body_of (const http::Response & res)
{
  return std::string (res.body.view ());
}

inline std::string
header_of (const http::Response & res, const char *name)
{
  const char *v = res.headers.get (name);
  return v ? v : "";
}

/* What a deferred or streamed answer became. */
class TestTransport : public http::Transport {
 public:
  struct Pending : http::PendingResponse {
    TestTransport *t;
    explicit Pending (TestTransport * t) : t (t) {}
    void finish (http::Response response) override
    {
      t->finished = std::make_unique<http::Response> (std::move (response));
    }
  };
  struct Stream : http::ResponseStream {
    std::string written;
    bool aborted = false;
    std::function<void ()> closed;
    void write (std::string_view text) override { written += text; }
    size_t unsent () const override { return 0; }
    void abort () override
    {
      aborted = true;
      if (auto c = std::move (closed))
        c ();
    }
    void set_closed_handler (std::function<void ()> handler) override { closed = std::move (handler); }
  };

  std::shared_ptr<http::PendingResponse> defer () override
  {
    return std::make_shared<Pending> (this);
  }
  std::shared_ptr<http::ResponseStream> start_stream (const http::Response & head) override
  {
    stream_status = head.status;
    stream = std::make_shared<Stream> ();
    return stream;
  }

  std::unique_ptr<http::Response> finished;
  unsigned stream_status = 0;
  std::shared_ptr<Stream> stream;
};

inline std::string
temp_dir ()
{
  g_autofree gchar *d = g_dir_make_tmp ("castline-routes-XXXXXX", nullptr);
  return d;
}

/* a configuration on a fresh data directory, with the shipped pipelines */
inline Config
test_config ()
{
  Config c = castline::launcher::default_config ();
  c.data_dir = temp_dir ();
  return c;
}

inline std::unique_ptr<StreamManager>
make_manager (Config c = test_config ())
{
  auto m = std::make_unique<StreamManager> (std::move (c));
  std::vector<std::string> warnings;
  std::string error;
  fail_unless (m->init (warnings, error), "%s", error.c_str ());
  fail_unless (warnings.empty (), "%s", warnings.empty () ? "" : warnings[0].c_str ());
  return m;
}

/* a stream made through m (on the named pipeline, or the default): its id
 * and its key */
struct Created {
  std::string id;
  std::string key;
};

inline Created
create (StreamManager & m, const std::string & pipeline = "")
{
  std::string key;
  castline::launcher::Refusal refusal;
  auto r = m.create ("t", 0, pipeline, std::nullopt, key, refusal);
  fail_unless (r.has_value (), "%s", refusal.reason.c_str ());
  return { r->id, key };
}

using castline::testing::iterate_until;

}  // namespace routetest
