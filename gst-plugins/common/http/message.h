/* castline: an HTTP request and its response as plain values, what
 * every route (the API, WHIP, the ingest, HLS files, the pages) sees of
 * HTTP. No server type appears here: the server underneath
 * (http/mhd/mhdserver.h) turns its own requests into a Request, calls
 * the route, and sends the Response it filled. Routes are thus tested by
 * calling them with a Request they make (tests/launcher/routetest.h), and
 * replacing the server touches the adapter, not the routes.
 *
 * A route answers at once by filling the Response; or later
 * (Response::defer: WHIP answers once ICE gathering is done), or as a
 * stream of chunks (Response::start_stream: Server-Sent Events). Both go
 * through the Transport the server gives the Response. Main context. */
#pragma once

#include <glib.h>

#include <functional>
#include <map>
#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace castline::http {

/* A body: bytes shared without copying (a cached page, a segment read
 * once), or none. */
class Bytes {
 public:
  Bytes () = default;
  /* takes the reference */
  explicit Bytes (GBytes * bytes) : bytes_ (bytes) {}
  explicit Bytes (std::string_view text) : bytes_ (g_bytes_new (text.data (), text.size ())) {}
  Bytes (const Bytes & o) : bytes_ (o.bytes_ ? g_bytes_ref (o.bytes_) : nullptr) {}
  Bytes (Bytes && o) noexcept : bytes_ (std::exchange (o.bytes_, nullptr)) {}
  Bytes & operator= (Bytes o) noexcept
  {
    std::swap (bytes_, o.bytes_);
    return *this;
  }
  ~Bytes ()
  {
    if (bytes_)
      g_bytes_unref (bytes_);
  }

  /* no reference given: nullptr when empty */
  GBytes *get () const { return bytes_; }
  gsize size () const { return bytes_ ? g_bytes_get_size (bytes_) : 0; }
  std::string_view view () const
  {
    gsize n = 0;
    const char *data = bytes_ ? static_cast<const char *> (g_bytes_get_data (bytes_, &n)) : nullptr;
    return data ? std::string_view (data, n) : std::string_view ();
  }

 private:
  GBytes *bytes_ = nullptr;
};

/* A body the server sends straight from a file (sendfile), never read by
 * the route: an open descriptor, closed with the last reference, and the
 * part of it to send. */
class FileBody {
 public:
  FileBody (int fd, guint64 offset, guint64 length) : fd_ (fd), offset_ (offset), length_ (length) {}
  ~FileBody ();
  FileBody (const FileBody &) = delete;
  FileBody & operator= (const FileBody &) = delete;

  int fd () const { return fd_; }
  guint64 offset () const { return offset_; }
  guint64 length () const { return length_; }
  /* the descriptor, now the caller's to close */
  int release () { return std::exchange (fd_, -1); }

 private:
  int fd_;
  guint64 offset_;
  guint64 length_;
};

/* Header fields in order; names compared without case (RFC 9110 5.1). */
class Headers {
 public:
  /* the field's value (the last one when it is there more than once), or
   * nullptr */
  const char *get (std::string_view name) const;
  /* replaces every field of that name */
  void set (std::string_view name, std::string value);
  /* one more field of that name (Link) */
  void append (std::string_view name, std::string value);
  void remove (std::string_view name);
  const std::vector<std::pair<std::string, std::string>> & fields () const { return fields_; }

 private:
  std::vector<std::pair<std::string, std::string>> fields_;
};

struct Request {
  std::string method;              /* "GET", "POST", ... */
  std::string path;                /* decoded, without the query */
  std::map<std::string, std::string> query;   /* ?a=b&c=d, decoded */
  Headers headers;
  /* the Content-Type's media type without its parameters, or "" */
  std::string content_type;
  Bytes body;
  std::string remote_host;         /* the client's address, "" if unknown */
  unsigned remote_port = 0;
  bool remote_is_loopback = false;

  const char *header (std::string_view name) const { return headers.get (name); }
  /* the query parameter, or nullptr */
  const char *param (const std::string & name) const;
  bool is (const char *m) const { return method == m; }
};

class Response;

/* An answer that comes later: finish () from any thread (a route on the
 * main context or on the server's thread may defer). */
class PendingResponse {
 public:
  virtual ~PendingResponse ();
  /* sends it; once */
  virtual void finish (Response response) = 0;
};

/* A body written as it comes (Server-Sent Events). Main context. */
class ResponseStream {
 public:
  virtual ~ResponseStream ();
  /* queued behind what was written before */
  virtual void write (std::string_view text) = 0;
  /* bytes written and not yet sent to the client */
  virtual size_t unsent () const = 0;
  /* cuts the client off (it reads too slowly); the closed handler then
   * runs */
  virtual void abort () = 0;
  /* runs once, when the client went away or the stream was cut off; it may
   * drop the last reference to this */
  virtual void set_closed_handler (std::function<void ()> handler) = 0;
};

/* What the server does for a route that answers later or in chunks. */
class Transport {
 public:
  virtual ~Transport ();
  virtual std::shared_ptr<PendingResponse> defer () = 0;
  /* the response's status and headers go out now, its body follows */
  virtual std::shared_ptr<ResponseStream> start_stream (const Response & head) = 0;
};

class Response {
 public:
  Response () = default;
  explicit Response (Transport * transport) : transport_ (transport) {}

  unsigned status = 0;             /* 0: not answered (the server answers 500) */
  Headers headers;
  /* the body: bytes, or a part of a file; for HEAD the server sends only
   * its length */
  Bytes body;
  std::shared_ptr<FileBody> file;

  void set_body (const char *content_type, Bytes bytes);
  void set_body (const char *content_type, std::string_view text)
  {
    set_body (content_type, Bytes (text));
  }

  /* The answer comes later, through the PendingResponse; what is set
   * here is not sent. */
  std::shared_ptr<PendingResponse> defer ();
  /* Sends status and headers now; the body is written through the
   * stream. */
  std::shared_ptr<ResponseStream> start_stream ();

  /* set by defer () or start_stream (): the server sends nothing itself */
  bool taken () const { return taken_; }

 private:
  Transport *transport_ = nullptr;
  bool taken_ = false;
};

/* A route: answers a request, at once or through the response's transport. */
using Handler = std::function<void (const Request &, Response &)>;

}  // namespace castline::http
