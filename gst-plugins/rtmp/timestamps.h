/* castline rtmp: the timestamps of a publisher's media, made continuous.
 *
 * RTMP timestamps are 32-bit milliseconds that wrap, start anywhere, and
 * jump when an encoder restarts on the same connection. MediaClock turns
 * them into what rtmpsession.h promises: unwrapped (a step is the signed
 * 32-bit difference from the last media message), the first media message
 * at 0, and per media type every jump over 10 s forward or over 1 s back
 * replaced by one step of the type's last delta (else 33 ms video, 23 ms
 * audio). Script data follows the latest audio or video. */
#pragma once

#include <cstdint>

namespace castline::rtmp {

class MediaClock {
 public:
  /* the FLV timestamp for a message of `type` (8, 9, 18) at `raw` */
  uint32_t rebase (uint8_t type, uint32_t raw);

 private:
  struct Track {
    bool seen = false;
    int64_t last_unwrapped = 0;
    int64_t offset = 0;  /* added to the unwrapped, based time */
    int64_t last_out = 0;
    int64_t last_delta = 0;
  };

  bool started_ = false;
  uint32_t last_raw_ = 0;
  int64_t unwrapped_ = 0;
  int64_t base_ = 0;
  Track video_, audio_;
};

}  // namespace castline::rtmp
