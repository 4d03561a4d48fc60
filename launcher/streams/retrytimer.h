/* castline-launcher: work tried again on the main context until it is
 * done, waiting first_s before the first retry, then twice as long each
 * time up to max_s. What waits (the store's kept writes, a failed
 * stream's playlist ends) is the owner's; the attempt says whether
 * anything is left. Main context only. */
#pragma once

#include <glib.h>

#include <algorithm>
#include <functional>

namespace castline::launcher {

class RetryTimer {
 public:
  /* attempt: tries what waits; true when nothing is left */
  RetryTimer (unsigned first_s, unsigned max_s, std::function<bool ()> attempt)
      : first_s_ (first_s), max_s_ (max_s), attempt_ (std::move (attempt)) {}
  ~RetryTimer ()
  {
    if (timer_)
      g_source_remove (timer_);
  }
  RetryTimer (const RetryTimer &) = delete;
  RetryTimer & operator= (const RetryTimer &) = delete;

  /* Something waits: the first retry in first_s, unless one is armed. */
  void start ()
  {
    if (timer_)
      return;
    wait_s_ = first_s_;
    arm ();
  }

 private:
  void arm ()
  {
    timer_ = g_timeout_add_seconds (wait_s_, [] (gpointer data) -> gboolean {
          auto *self = static_cast<RetryTimer *> (data);
          self->timer_ = 0;            /* this source is over */
          if (!self->attempt_ ()) {
            self->wait_s_ = std::min (self->wait_s_ * 2, self->max_s_);
            self->arm ();
          }
          return G_SOURCE_REMOVE;
        }, this);
  }

  const unsigned first_s_;
  const unsigned max_s_;
  std::function<bool ()> attempt_;
  guint timer_ = 0;
  unsigned wait_s_ = 0;
};

}  // namespace castline::launcher
