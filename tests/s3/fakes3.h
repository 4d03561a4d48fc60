/* A fake S3 server for unit tests: in-memory objects and multipart
 * uploads on 127.0.0.1, with faults on demand. It runs on a thread of its
 * own, so a test may block on the code under test. */
#pragma once

#include <glib.h>

#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

namespace castline::test {

struct FakeObject {
  std::string data;
  std::string content_type;
  std::string cache_control;
  gint64 arrival_us = 0;    /* monotonic time the object was stored */
  unsigned order = 0;       /* 1 for the first object stored, then 2, ... */
};

struct FakeRequest {
  std::string method;
  std::string path;
  std::string query;
  std::string authorization;
  std::string small_body;   /* the body when under 4 KiB (playlists) */
  std::string headers;      /* every request header, "Name: value\n" */
  unsigned status = 0;
  gint64 arrival_us = 0;    /* monotonic time the request was read */
};

class FakeS3 {
 public:
  explicit FakeS3 (std::string bucket = "live", std::string access_key = "TESTKEY");
  ~FakeS3 ();

  std::string endpoint () const;
  const std::string & bucket () const { return bucket_; }

  /* The next n requests (matching method and containing query_part in
   * their query, when given) answer status with an S3 error document of
   * the given code. */
  void fail_next (unsigned n, unsigned status, const std::string & code,
      const std::string & method = "", const std::string & query_part = "",
      const std::string & message = "injected fault");
  /* Every answer waits this long (0: none). */
  void set_delay_ms (unsigned ms);
  /* Down: nothing listens on the port and open connections are closed
   * without an answer; up again: the same port listens again. */
  void set_down (bool down);
  /* Hanging: connections are accepted and requests read, but never
   * answered; no longer hanging: the held requests are answered, or with
   * answer_held false never (their connections died with the hang: only
   * the client's own time-out gets it out) while new ones are. */
  void set_hanging (bool hanging, bool answer_held = true);

  bool has (const std::string & key) const;
  FakeObject object (const std::string & key) const;
  std::vector<std::string> keys () const;
  std::vector<FakeRequest> requests () const;
  size_t count (const std::string & method, const std::string & query_part = "") const;
  size_t request_count () const;
  std::vector<std::string> aborted_uploads () const;

  struct Impl;

 private:
  std::string bucket_;
  std::unique_ptr<Impl> impl_;
};

}  // namespace castline::test
