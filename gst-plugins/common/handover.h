/* castline: the one connection a server source (rtmpserversrc,
 * srtingestsrc) takes a run, handed over from another thread (its own
 * listener's, or the application's through an action signal) to the
 * streaming thread, with the source's unlock () and an "end it" request.
 *
 * One run is one broadcast: waiting, then live once a connection is
 * taken, then ended; a run ended before any connection came takes none.
 * Thread-safe; the streaming thread waits in wait (), bounded only by
 * unlock () (as gsttcpserversrc's accept). basesrc sends an EOS event with
 * unlock () and unlock_stop () one right after the other, so a waiter
 * compares unlocks () with what it saw at its start instead of looking
 * only at the flushing flag. */
#pragma once

#include <condition_variable>
#include <cstdint>
#include <memory>
#include <mutex>
#include <string>

namespace castline {

template <typename Incoming>
class HandOver {
 public:
  enum class Wait { flushing, incoming, ended };

  /* a new run: waiting for its connection */
  void start ()
  {
    std::lock_guard<std::mutex> lk (lock_);
    started_ = true;
    flushing_ = false;
    state_ = State::waiting;
    incoming_.reset ();
    end_requested_ = false;
    end_description_.clear ();
  }

  /* the run is over; what was handed over and not taken yet comes back */
  std::unique_ptr<Incoming> stop ()
  {
    std::lock_guard<std::mutex> lk (lock_);
    started_ = false;
    cond_.notify_all ();
    return std::move (incoming_);
  }

  void unlock ()
  {
    std::lock_guard<std::mutex> lk (lock_);
    flushing_ = true;
    unlocks_++;
    cond_.notify_all ();
  }

  void unlock_stop ()
  {
    std::lock_guard<std::mutex> lk (lock_);
    flushing_ = false;
  }

  uint64_t unlocks ()
  {
    std::lock_guard<std::mutex> lk (lock_);
    return unlocks_;
  }

  /* a connection would be taken now (for a listener's early refusal) */
  bool accepting ()
  {
    std::lock_guard<std::mutex> lk (lock_);
    return started_ && state_ == State::waiting && !end_requested_;
  }

  /* Takes incoming (true: the run is live) or leaves it (false, with why:
   * "not started", "the stream has ended", "one is there already"). */
  bool offer (std::unique_ptr<Incoming> & incoming, const char **why)
  {
    std::lock_guard<std::mutex> lk (lock_);
    if (!started_ || state_ != State::waiting || end_requested_) {
      *why = !started_ ? "not started" : state_ == State::ended || end_requested_ ?
          "the stream has ended" : "one is there already";
      return false;
    }
    incoming_ = std::move (incoming);
    state_ = State::live;
    cond_.notify_all ();
    return true;
  }

  /* asks the run to end (false: not started, or asked already) */
  bool request_end (const std::string & description)
  {
    std::lock_guard<std::mutex> lk (lock_);
    if (!started_ || end_requested_)
      return false;
    end_requested_ = true;
    end_description_ = description;
    cond_.notify_all ();
    return true;
  }

  /* The streaming thread: until a connection comes (incoming: out holds
   * it), the run is ended before one came (ended), or an unlock () since
   * unlocks was read (flushing). */
  Wait wait (uint64_t unlocks, std::unique_ptr<Incoming> & out)
  {
    std::unique_lock<std::mutex> lk (lock_);
    auto unlocked = [this, unlocks] { return flushing_ || unlocks_ != unlocks; };
    cond_.wait (lk, [&] { return unlocked () || incoming_ || end_requested_; });
    if (unlocked ())
      return Wait::flushing;
    if (!incoming_) {
      state_ = State::ended;
      return Wait::ended;
    }
    out = std::move (incoming_);
    return Wait::incoming;
  }

  /* The streaming thread, between reads: true when unlocked since
   * unlocks was read; else *end says whether the run is to end (and why) */
  bool interrupted (uint64_t unlocks, bool *end, std::string *description)
  {
    std::lock_guard<std::mutex> lk (lock_);
    if (flushing_ || unlocks_ != unlocks)
      return true;
    *end = end_requested_;
    *description = end_description_;
    return false;
  }

  /* the connection is gone: no other comes this run */
  void ended ()
  {
    std::lock_guard<std::mutex> lk (lock_);
    state_ = State::ended;
  }

 private:
  enum class State { waiting, live, ended };

  std::mutex lock_;
  std::condition_variable cond_;
  bool started_ = false;
  bool flushing_ = false;
  uint64_t unlocks_ = 0;
  State state_ = State::waiting;
  std::unique_ptr<Incoming> incoming_;
  bool end_requested_ = false;
  std::string end_description_;
};

}  // namespace castline
