#include "hls/sizesettle.h"

namespace castline::launcher {

void
SizeSettle::saw (unsigned width, unsigned height, gint64 now_us)
{
  if (first_us_ < 0)
    first_us_ = now_us;
  if (width != width_ || height != height_) {
    width_ = width;
    height_ = height;
    changed_us_ = now_us;
  }
}

bool
SizeSettle::settled (gint64 now_us) const
{
  if (first_us_ < 0)
    return false;
  return settle_us_ <= 0 || now_us - changed_us_ >= settle_us_ || now_us - first_us_ >= 2 * settle_us_;
}

}  // namespace castline::launcher
