/* castline rtmp: an RtmpListener on a thread of its own (rtmpserversrc's
 * standalone listener): a GMainContext made for it, run by a thread that
 * start () begins and the destructor joins. The listener's callbacks run
 * on that thread. */
#pragma once

#include "rtmp/rtmplistener.h"

#include <functional>
#include <memory>
#include <string>
#include <thread>

namespace castline::rtmp {

class ListenerThread {
 public:
  ListenerThread ();
  /* stops the thread, then the listener (connections not handed out are
   * closed) */
  ~ListenerThread ();
  ListenerThread (const ListenerThread &) = delete;
  ListenerThread & operator= (const ListenerThread &) = delete;

  /* Binds and listens, then starts the thread; false with why. */
  bool start (ListenerSettings settings, RtmpListener::DecideFunc decide,
      RtmpListener::ReadyFunc ready, std::string & error);
  int port () const;
  /* the listener, for its counters (thread-safe) */
  const RtmpListener *listener () const { return listener_.get (); }
  /* runs func on the listener's thread (answers to decide come from there) */
  void invoke (std::function<void ()> func);

 private:
  GMainContext *context_;
  GMainLoop *loop_;
  std::unique_ptr<RtmpListener> listener_;
  std::thread thread_;
};

}  // namespace castline::rtmp
