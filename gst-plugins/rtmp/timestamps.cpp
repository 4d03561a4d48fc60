#include "rtmp/timestamps.h"

#include <algorithm>

namespace castline::rtmp {

namespace {

constexpr int64_t kMaxForwardMs = 10000;
constexpr int64_t kMaxBackwardMs = 1000;
constexpr int64_t kVideoStepMs = 33;
constexpr int64_t kAudioStepMs = 23;
constexpr int64_t kMaxFlvMs = 0xffffffffll;

uint32_t
clamp_flv (int64_t t)
{
  return (uint32_t) std::clamp<int64_t> (t, 0, kMaxFlvMs);
}

}  // namespace

uint32_t
MediaClock::rebase (uint8_t type, uint32_t raw)
{
  /* script data needs no unwrapping, and its timestamps (often 0) must
   * not move the reference media are unwrapped against */
  if (type != 8 && type != 9)
    return clamp_flv (std::max (video_.last_out, audio_.last_out));

  if (!started_) {
    started_ = true;
    unwrapped_ = raw;
    base_ = raw;
  } else {
    unwrapped_ += (int32_t) (raw - last_raw_);
  }
  last_raw_ = raw;
  int64_t t = unwrapped_ - base_;

  Track & tr = type == 9 ? video_ : audio_;
  int64_t out;
  if (!tr.seen) {
    tr.seen = true;
    out = t;
  } else {
    int64_t delta = unwrapped_ - tr.last_unwrapped;
    if (delta > kMaxForwardMs || delta < -kMaxBackwardMs) {
      int64_t step = tr.last_delta > 0 ? tr.last_delta : (type == 9 ? kVideoStepMs : kAudioStepMs);
      out = tr.last_out + step;
      tr.offset = out - t;
    } else {
      out = t + tr.offset;
      if (delta > 0)
        tr.last_delta = delta;
    }
  }
  tr.last_unwrapped = unwrapped_;
  out = std::max<int64_t> (out, 0);
  tr.last_out = out;
  return clamp_flv (out);
}

}  // namespace castline::rtmp
