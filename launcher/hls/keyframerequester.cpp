#include "hls/keyframerequester.h"

GST_DEBUG_CATEGORY_EXTERN (castline_stream_debug);
#define GST_CAT_DEFAULT castline_stream_debug

namespace castline::launcher {

namespace {

/* streaming thread only */
struct KeyframeRequester {
  GstClockTime interval;
  std::function<void ()> ask;
  GstClockTime last_key = GST_CLOCK_TIME_NONE;   /* PTS */
  GstClockTime last_request = GST_CLOCK_TIME_NONE;

  static GstPadProbeReturn
  probe (GstPad * pad, GstPadProbeInfo * info, gpointer data)
  {
    auto *k = static_cast<KeyframeRequester *> (data);
    GstBuffer *buf = GST_PAD_PROBE_INFO_BUFFER (info);
    GstClockTime pts = GST_BUFFER_PTS (buf);
    if (!GST_CLOCK_TIME_IS_VALID (pts))
      return GST_PAD_PROBE_OK;
    if (!GST_BUFFER_FLAG_IS_SET (buf, GST_BUFFER_FLAG_DELTA_UNIT)) {
      k->last_key = pts;
      return GST_PAD_PROBE_OK;
    }
    bool due = !GST_CLOCK_TIME_IS_VALID (k->last_key) || pts >= k->last_key + k->interval;
    bool asked_lately = GST_CLOCK_TIME_IS_VALID (k->last_request)
        && pts < k->last_request + k->interval / 2 && pts >= k->last_request;
    if (due && !asked_lately) {
      k->last_request = pts;
      GST_LOG_OBJECT (pad, "no keyframe for %" GST_TIME_FORMAT ": asking for one",
          GST_TIME_ARGS (GST_CLOCK_TIME_IS_VALID (k->last_key) ? pts - k->last_key : pts));
      k->ask ();
    }
    return GST_PAD_PROBE_OK;
  }
};

}  // namespace

void
install_keyframe_requester (GstPad * pad, GstClockTime interval, std::function<void ()> ask)
{
  auto *k = new KeyframeRequester { interval, std::move (ask) };
  gst_pad_add_probe (pad, GST_PAD_PROBE_TYPE_BUFFER, KeyframeRequester::probe, k,
      [] (gpointer data) { delete static_cast<KeyframeRequester *> (data); });
}

}  // namespace castline::launcher
