#include "whep/keyframethrottle.h"

namespace castline::launcher {

bool
KeyframeThrottle::want ()
{
  gint64 now = g_get_monotonic_time ();
  {
    std::lock_guard<std::mutex> lk (lock_);
    if (cancelled_)
      return false;
    if (now - last_us_ < kIntervalUs) {
      if (!timer_) {
        guint ms = (guint) ((last_us_ + kIntervalUs - now + 999) / 1000);
        timer_ = g_timeout_add_full (G_PRIORITY_DEFAULT, ms, on_timer,
            new std::shared_ptr<KeyframeThrottle> (shared_from_this ()),
            [] (gpointer data) { delete static_cast<std::shared_ptr<KeyframeThrottle> *> (data); });
      }
      return false;
    }
    last_us_ = now;
  }
  if (ask_)
    ask_ ();
  return true;
}

gboolean
KeyframeThrottle::on_timer (gpointer data)
{
  KeyframeThrottle & self = **static_cast<std::shared_ptr<KeyframeThrottle> *> (data);
  {
    std::lock_guard<std::mutex> lk (self.lock_);
    self.timer_ = 0;
    if (self.cancelled_)
      return G_SOURCE_REMOVE;
    self.last_us_ = g_get_monotonic_time ();
  }
  if (self.ask_)
    self.ask_ ();
  return G_SOURCE_REMOVE;
}

void
KeyframeThrottle::cancel ()
{
  std::lock_guard<std::mutex> lk (lock_);
  cancelled_ = true;
  if (timer_) {
    g_source_remove (timer_);
    timer_ = 0;
  }
}

}  // namespace castline::launcher
