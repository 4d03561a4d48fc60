#include "hls/segmentcuts.h"

GST_DEBUG_CATEGORY_EXTERN (castline_abr_debug);
#define GST_CAT_DEFAULT castline_abr_debug

namespace castline::launcher {

namespace {

/* an llhlssink cuts by itself unless segment-cuts is external */
bool
is_llhlssink (GstElement * e)
{
  return g_object_class_find_property (G_OBJECT_GET_CLASS (e), "segment-cuts") != nullptr;
}

/* cuts only where told; no keyframe requests of its own (the stream asks
 * the publisher when keyframes are due). Set again at its first keyframe:
 * s3hlssink configures its hlssink2 (so the splitmuxsink's max-size-time)
 * when it starts. */
void
cut_only_where_told (GstElement * e)
{
  if (is_llhlssink (e))
    gst_util_set_object_arg (G_OBJECT (e), "segment-cuts", "external");
  else
    g_object_set (e, "max-size-time", (guint64) 0, nullptr);
  g_object_set (e, "send-keyframe-requests", FALSE, nullptr);
}

/* what cuts the sink's segments, a reference: the llhlssink itself, or
 * the splitmuxsink inside hlssink2 or s3hlssink; null for anything else */
GstElement *
cutter_of (GstElement * sink)
{
  if (is_llhlssink (sink))
    return GST_ELEMENT (gst_object_ref (sink));
  if (!GST_IS_BIN (sink))
    return nullptr;
  GstElement *splitmux = nullptr;
  GstIterator *it = gst_bin_iterate_all_by_element_factory_name (GST_BIN (sink), "splitmuxsink");
  GValue v = G_VALUE_INIT;
  if (it && gst_iterator_next (it, &v) == GST_ITERATOR_OK) {
    splitmux = GST_ELEMENT (g_value_dup_object (&v));
    g_value_unset (&v);
  }
  if (it)
    gst_iterator_free (it);
  return splitmux;
}

}  // namespace

SegmentCuts::~SegmentCuts ()
{
  for (GstElement *e : cutting_)
    gst_object_unref (e);
  for (GstElement *e : starting_)
    gst_object_unref (e);
}

bool
SegmentCuts::add (GstElement * sink)
{
  GstElement *cutter = cutter_of (sink);
  if (!cutter)
    return false;
  cut_only_where_told (cutter);
  std::lock_guard<std::mutex> lk (lock_);
  starting_.push_back (cutter);
  return true;
}

bool
SegmentCuts::keyframe (GstClockTime rt)
{
  std::vector<GstElement *> told, started;
  bool cut;
  {
    std::lock_guard<std::mutex> lk (lock_);
    cut = cut_next_ || !GST_CLOCK_TIME_IS_VALID (last_) || rt >= last_ + target_ * 9 / 10;
    if (cut) {
      cut_next_ = false;
      last_ = rt;
      for (GstElement *e : cutting_)
        told.push_back (GST_ELEMENT (gst_object_ref (e)));
    }
    /* their first segment starts here (a sink with nothing in its segment
     * keeps a split time until its next keyframe: never told this one) */
    for (GstElement *e : starting_)
      started.push_back (GST_ELEMENT (gst_object_ref (e)));
    cutting_.insert (cutting_.end (), starting_.begin (), starting_.end ());
    starting_.clear ();
  }
  for (GstElement *e : started) {
    cut_only_where_told (e);
    gst_object_unref (e);
  }
  if (cut)
    GST_LOG ("segment cut at %" GST_TIME_FORMAT " in %zu rungs", GST_TIME_ARGS (rt), told.size ());
  for (GstElement *e : told) {
    g_signal_emit_by_name (e, "split-at-running-time", rt);
    gst_object_unref (e);
  }
  return cut;
}

}  // namespace castline::launcher
