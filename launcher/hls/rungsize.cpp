#include "hls/rungsize.h"

GST_DEBUG_CATEGORY_EXTERN (castline_abr_debug);
#define GST_CAT_DEFAULT castline_abr_debug

namespace castline::launcher {

namespace {

struct SizeFollower {
  Rung rung;
  GstElement *capsfilter;          /* owned ref */

  ~SizeFollower () { gst_object_unref (capsfilter); }

  static GstPadProbeReturn
  probe (GstPad * pad, GstPadProbeInfo * info, gpointer data)
  {
    auto *f = static_cast<SizeFollower *> (data);
    GstEvent *event = GST_PAD_PROBE_INFO_EVENT (info);
    if (GST_EVENT_TYPE (event) != GST_EVENT_CAPS)
      return GST_PAD_PROBE_OK;
    GstCaps *caps;
    gst_event_parse_caps (event, &caps);
    const GstStructure *s = gst_caps_get_structure (caps, 0);
    int w = 0, h = 0, par_n = 1, par_d = 1;
    if (!gst_structure_get_int (s, "width", &w) || !gst_structure_get_int (s, "height", &h)
        || w <= 0 || h <= 0)
      return GST_PAD_PROBE_OK;
    gst_structure_get_fraction (s, "pixel-aspect-ratio", &par_n, &par_d);
    unsigned width, height;
    rung_size_for_input (f->rung, w, h, par_n, par_d, width, height);

    g_autoptr (GstCaps) now = nullptr;
    g_object_get (f->capsfilter, "caps", &now, nullptr);
    GstCaps *want = gst_caps_new_simple ("video/x-raw", "format", G_TYPE_STRING, "I420",
        "width", G_TYPE_INT, (int) width, "height", G_TYPE_INT, (int) height,
        "pixel-aspect-ratio", GST_TYPE_FRACTION, 1, 1, nullptr);
    if (!now || !gst_caps_is_equal (now, want)) {
      GST_INFO_OBJECT (pad, "rung %s: input %dx%d, encoded at %ux%u", f->rung.name.c_str (), w, h,
          width, height);
      g_object_set (f->capsfilter, "caps", want, nullptr);
    }
    gst_caps_unref (want);
    return GST_PAD_PROBE_OK;
  }
};

/* the first element of a factory inside bin (a new ref), raw-video
 * capsfilters only for "capsfilter" */
GstElement *
find_element (GstElement * bin, const char * factory)
{
  GstElement *found = nullptr;
  GstIterator *it = gst_bin_iterate_recurse (GST_BIN (bin));
  GValue v = G_VALUE_INIT;
  while (!found && gst_iterator_next (it, &v) == GST_ITERATOR_OK) {
    auto *e = GST_ELEMENT (g_value_get_object (&v));
    GstElementFactory *f = gst_element_get_factory (e);
    if (f && g_str_equal (GST_OBJECT_NAME (f), factory)) {
      bool raw = true;
      if (g_str_equal (factory, "capsfilter")) {
        g_autoptr (GstCaps) caps = nullptr;
        g_object_get (e, "caps", &caps, nullptr);
        raw = caps && gst_caps_get_size (caps) > 0
            && gst_structure_has_name (gst_caps_get_structure (caps, 0), "video/x-raw");
      }
      if (raw)
        found = GST_ELEMENT (gst_object_ref (e));
    }
    g_value_reset (&v);
  }
  g_value_unset (&v);
  gst_iterator_free (it);
  return found;
}

}  // namespace

bool
follow_input_size (GstElement * video, const Rung & rung)
{
  g_autoptr (GstElement) scale = find_element (video, "videoscale");
  GstElement *capsfilter = find_element (video, "capsfilter");
  if (!scale || !capsfilter) {
    if (capsfilter)
      gst_object_unref (capsfilter);
    return false;
  }
  g_autoptr (GstPad) pad = gst_element_get_static_pad (scale, "sink");
  gst_pad_add_probe (pad, GST_PAD_PROBE_TYPE_EVENT_DOWNSTREAM, SizeFollower::probe,
      new SizeFollower { rung, capsfilter },
      [] (gpointer d) { delete static_cast<SizeFollower *> (d); });
  return true;
}

}  // namespace castline::launcher
