/* castline-launcher: what answering a request with a file takes, shared by
 * the HLS files (hlsfiles) and the web pages (webpages): a descriptor that
 * closes itself, reading an open file, a plain-text error answer and the
 * HTTP date of its mtime. */
#pragma once

#include <glib.h>
#include <libsoup/soup.h>

#include <ctime>
#include <string>

namespace castline::launcher {

/* closes on every return path */
class Fd {
 public:
  explicit Fd (int fd) : fd_ (fd) {}
  ~Fd ();
  Fd (const Fd &) = delete;
  Fd & operator= (const Fd &) = delete;
  int get () const { return fd_; }

 private:
  int fd_;
};

/* At most @size bytes of @fd from where it is; fewer if the file shrank
 * meanwhile; nullptr on a read error. */
GBytes *read_up_to (int fd, gsize size);

/* Answers @msg with @status and @text (a line of plain text), never
 * cached (the file it is about may appear a moment later), nosniff. */
void reply_plain_text (SoupServerMessage * msg, guint status, const char *text);

/* RFC 9110 IMF-fixdate ("Tue, 01 Dec 2026 10:00:00 GMT"); "" if @t is out
 * of range */
std::string http_date (time_t t);

}  // namespace castline::launcher
