/* castline-launcher: a stream's keyframe requests to its publisher for
 * its WebRTC viewers (a viewer connecting, a viewer's PLI), at most one a
 * second: a request within the second after the last is not lost but
 * made once at the end of that second, so a viewer joining just after
 * another still gets its picture soon. Held by the callbacks that ask
 * (never the room itself). */
#pragma once

#include <glib.h>

#include <functional>
#include <memory>
#include <mutex>

namespace castline::launcher {

class KeyframeThrottle : public std::enable_shared_from_this<KeyframeThrottle> {
 public:
  static constexpr gint64 kIntervalUs = G_USEC_PER_SEC;

  /* ask: Ingest::request_keyframe (any thread) */
  explicit KeyframeThrottle (std::function<void ()> ask) : ask_ (std::move (ask)) {}

  /* Asks now (true), or once at the end of the second since the last
   * request (a timer on the default main context, which holds a
   * reference to this; false). Any thread. */
  bool want ();
  /* No request after it returns. Main context. */
  void cancel ();

 private:
  static gboolean on_timer (gpointer data);

  std::function<void ()> ask_;
  std::mutex lock_;                    /* below */
  gint64 last_us_ = G_MININT64 / 2;
  guint timer_ = 0;
  bool cancelled_ = false;
};

}  // namespace castline::launcher
