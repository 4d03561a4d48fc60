/* castline tests: a source element in a GstHarness, and what it pushes. */
#pragma once

#include <gst/check/gstcheck.h>
#include <gst/check/gstharness.h>

#include <string>

/* the element of desc (gst_parse_launch) in a playing harness, its
 * messages on a bus of its own (*bus); *element holds a reference */
inline GstHarness *
harness_source (const char *desc, GstElement ** element, GstBus ** bus)
{
  GError *err = nullptr;
  *element = gst_parse_launch (desc, &err);
  fail_unless (*element, "%s", err ? err->message : "?");
  *bus = gst_bus_new ();
  gst_element_set_bus (*element, *bus);
  GstHarness *h = gst_harness_new_with_element (*element, nullptr, "src");
  gst_harness_play (h);
  return h;
}

/* appends b's bytes to bytes, and drops b */
inline void
append_buffer (std::string & bytes, GstBuffer * b)
{
  GstMapInfo map;
  gst_buffer_map (b, &map, GST_MAP_READ);
  bytes.append ((const char *) map.data, map.size);
  gst_buffer_unmap (b, &map);
  gst_buffer_unref (b);
}

/* appends everything h's element pushes to bytes, until EOS (true) or
 * the time-out (false) */
inline bool
harness_read_to_eos (GstHarness * h, std::string & bytes, GstClockTime timeout = 10 * GST_SECOND)
{
  gint64 deadline = g_get_monotonic_time () + (gint64) (timeout / 1000);
  while (g_get_monotonic_time () < deadline) {
    if (GstBuffer *b = gst_harness_try_pull (h)) {
      append_buffer (bytes, b);
      continue;
    }
    GstEvent *e = gst_harness_try_pull_event (h);
    if (e) {
      bool eos = GST_EVENT_TYPE (e) == GST_EVENT_EOS;
      gst_event_unref (e);
      if (eos)
        return true;
      continue;
    }
    g_usleep (10000);
  }
  return false;
}
