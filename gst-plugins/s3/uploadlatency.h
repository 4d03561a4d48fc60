/* castline: the histogram of s3hlssink's segment upload latency (from the
 * segment's close by hlssink2 to its object in the bucket, spool wait and
 * retries included). s3hlssink's stats carry it ("upload-latency-buckets",
 * "-count", "-sum"); the launcher adds up every pipeline's and exposes it as
 * the Prometheus histogram castline_s3_upload_duration_seconds, with these
 * bounds: both sides read them from here. */
#pragma once

#include <gst/gst.h>

#include <array>
#include <cstddef>

namespace castline::s3 {

/* upper bounds (seconds) of the buckets; +Inf is the count */
constexpr std::array<double, 12> kUploadLatencyBounds = { 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1,
  2.5, 5, 10, 30, 60 };

struct UploadLatencyHistogram {
  /* cumulative, as Prometheus' le buckets: observations <= bound i */
  std::array<guint64, kUploadLatencyBounds.size ()> buckets {};
  guint64 count = 0;
  guint64 sum_us = 0;

  void observe (gint64 latency_us)
  {
    guint64 us = latency_us < 0 ? 0 : (guint64) latency_us;
    for (size_t i = 0; i < buckets.size (); i++)
      if ((double) us <= kUploadLatencyBounds[i] * 1e6)
        buckets[i]++;
    count++;
    sum_us += us;
  }

  UploadLatencyHistogram & operator+= (const UploadLatencyHistogram & o)
  {
    for (size_t i = 0; i < buckets.size (); i++)
      buckets[i] += o.buckets[i];
    count += o.count;
    sum_us += o.sum_us;
    return *this;
  }
};

}  // namespace castline::s3
