/* Benchmark: per-buffer cost of viewerstats against identity.
 *
 *   build/bench/viewerstats_bench [BUFFERS]   (default 2000000)
 *
 * Pushes the same small buffer through each element in a GstHarness and
 * prints nanoseconds per buffer and the ratio. */
#include <gst/check/gstharness.h>

#include <cstdio>
#include <cstdlib>

static double
ns_per_buffer (const char *element, const char *props, guint64 n)
{
  GstHarness *h = gst_harness_new_parse (props ? g_strdup_printf ("%s %s", element, props)
      : g_strdup (element));
  gst_harness_set_src_caps_str (h, "video/x-h264,width=1280,height=720,framerate=30/1");
  GstBuffer *buf = gst_harness_create_buffer (h, 1500);
  gint64 start = g_get_monotonic_time ();
  for (guint64 i = 0; i < n; i++) {
    GST_BUFFER_PTS (buf) = i * GST_SECOND / 30;
    gst_harness_push (h, gst_buffer_ref (buf));
    gst_buffer_unref (gst_harness_pull (h));
  }
  gint64 took = g_get_monotonic_time () - start;
  gst_buffer_unref (buf);
  gst_harness_teardown (h);
  return took * 1000.0 / n;
}

int
main (int argc, char **argv)
{
  gst_init (&argc, &argv);
  guint64 n = argc > 1 ? g_ascii_strtoull (argv[1], nullptr, 10) : 2000000;
  ns_per_buffer ("identity", nullptr, n / 10);  /* warm up */
  double id = ns_per_buffer ("identity", "silent=true", n);
  double vs = ns_per_buffer ("viewerstats", "interval=1000", n);
  printf ("%" G_GUINT64_FORMAT " buffers through a GstHarness (push + pull included)\n", n);
  printf ("identity    %.0f ns/buffer\nviewerstats %.0f ns/buffer\nratio %.2f\n", id, vs, vs / id);
  return 0;
}
