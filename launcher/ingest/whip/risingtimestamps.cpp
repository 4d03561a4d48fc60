#include "ingest/whip/risingtimestamps.h"

namespace castline::launcher::whip {

namespace {

/* one RTP video clock tick */
constexpr GstClockTime kTick = GST_SECOND / 90000;

struct Last {
  GstClockTime pts = GST_CLOCK_TIME_NONE;
};

GstPadProbeReturn
on_buffer (GstPad *, GstPadProbeInfo * info, gpointer data)
{
  auto *last = static_cast<Last *> (data);
  GstBuffer *buffer = GST_PAD_PROBE_INFO_BUFFER (info);
  GstClockTime pts = GST_BUFFER_PTS (buffer);
  if (!GST_CLOCK_TIME_IS_VALID (pts))
    return GST_PAD_PROBE_OK;
  if (GST_CLOCK_TIME_IS_VALID (last->pts) && pts <= last->pts) {
    buffer = gst_buffer_make_writable (buffer);
    pts = last->pts + kTick;
    GST_BUFFER_PTS (buffer) = pts;
    GST_PAD_PROBE_INFO_DATA (info) = buffer;
  }
  last->pts = pts;
  return GST_PAD_PROBE_OK;
}

}  // namespace

void
keep_timestamps_rising (GstPad * pad)
{
  gst_pad_add_probe (pad, GST_PAD_PROBE_TYPE_BUFFER, on_buffer, new Last,
      [] (gpointer data) { delete static_cast<Last *> (data); });
}

}  // namespace castline::launcher::whip
