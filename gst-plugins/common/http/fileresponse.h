/* castline: what answering a request with a file takes, shared by
 * the HLS files (api/hlsfiles) and the web pages (api/webpages): a
 * descriptor that closes itself, reading an open file, and the HTTP date
 * of its mtime. */
#pragma once

#include <glib.h>

#include <ctime>
#include <string>
#include <utility>

namespace castline::http {

/* closes on every return path */
class Fd {
 public:
  explicit Fd (int fd) : fd_ (fd) {}
  ~Fd ();
  Fd (const Fd &) = delete;
  Fd & operator= (const Fd &) = delete;
  int get () const { return fd_; }
  /* the descriptor, now the caller's to close */
  int release () { return std::exchange (fd_, -1); }

 private:
  int fd_;
};

/* At most @size bytes of @fd from where it is; fewer if the file shrank
 * meanwhile; nullptr on a read error. */
GBytes *read_up_to (int fd, gsize size);

/* RFC 9110 IMF-fixdate ("Tue, 01 Dec 2026 10:00:00 GMT"); "" if @t is out
 * of range */
std::string http_date (time_t t);

}  // namespace castline::http
