/* The upload spool: memory first, then disk, then a clear refusal. */
#include "s3/segmentspool.h"

#include <gst/check/gstcheck.h>
#include <glib/gstdio.h>

using castline::s3::SegmentSpool;

static GBytes *
bytes_of (size_t n, char fill)
{
  return g_bytes_new_take (g_memdup2 (std::string (n, fill).data (), n), n);
}

static std::string
tmpdir ()
{
  g_autofree gchar *d = g_dir_make_tmp ("castline-spool-test-XXXXXX", nullptr);
  return d;
}

GST_START_TEST (test_memory_then_disk_then_refusal)
{
  std::string dir = tmpdir ();
  {
    SegmentSpool spool (100, 250, dir);
    std::string err;
    uint64_t g1 = 0, g2 = 0, g3 = 0, g4 = 0;
    g_autoptr (GBytes) a = bytes_of (80, 'a');
    g_autoptr (GBytes) b = bytes_of (80, 'b');
    g_autoptr (GBytes) c = bytes_of (80, 'c');
    g_autoptr (GBytes) d = bytes_of (80, 'd');
    fail_unless (spool.put ("a", a, g1, err));
    fail_unless_equals_int (spool.disk_bytes (), 0);
    fail_unless (spool.put ("b", b, g2, err));     /* over memory: spills */
    fail_unless_equals_int (spool.disk_bytes (), 80);
    fail_unless (spool.put ("c", c, g3, err));
    fail_unless (g1 < g2 && g2 < g3);
    fail_if (spool.put ("d", d, g4, err), "spool took more than its limit");
    fail_unless (err.find ("spool limit") != std::string::npos, "unclear error: %s", err.c_str ());

    /* spilled bytes read back intact */
    auto got = spool.get ("b");
    fail_unless (got);
    fail_unless (g_bytes_equal (got.get (), b));
    fail_unless_equals_int (spool.count (), 3);
    fail_unless_equals_int (spool.bytes (), 240);

    spool.drop ("b");
    fail_unless_equals_int (spool.disk_bytes (), 80);
    fail_unless (spool.put ("d", d, g4, err), "room again after a drop: %s", err.c_str ());
  }
  /* the spool removed its private directory and files */
  GDir *gd = g_dir_open (dir.c_str (), 0, nullptr);
  fail_unless (gd);
  fail_unless (g_dir_read_name (gd) == nullptr, "spool left files behind");
  g_dir_close (gd);
  g_rmdir (dir.c_str ());
}
GST_END_TEST;

GST_START_TEST (test_drop_generation_keeps_newer_bytes)
{
  SegmentSpool spool (1000, 1000, "");
  std::string err;
  uint64_t g1 = 0, g2 = 0;
  g_autoptr (GBytes) v1 = bytes_of (10, '1');
  g_autoptr (GBytes) v2 = bytes_of (20, '2');
  fail_unless (spool.put ("s", v1, g1, err));
  fail_unless (spool.put ("s", v2, g2, err));
  fail_unless_equals_int (spool.bytes (), 20);   /* replaced, not added */
  spool.drop_generation ("s", g1);               /* an old release */
  fail_unless (spool.get ("s"), "newer bytes dropped by an older release");
  spool.drop_generation ("s", g2);
  fail_if (spool.get ("s"));
  fail_unless_equals_int (spool.bytes (), 0);
}
GST_END_TEST;

GST_START_TEST (test_unwritable_directory_is_a_clear_error)
{
  SegmentSpool spool (0, 1000, "/proc/castline-no-such-dir");
  std::string err;
  uint64_t g = 0;
  g_autoptr (GBytes) a = bytes_of (10, 'a');
  fail_if (spool.put ("a", a, g, err));
  fail_unless (err.find ("spool directory") != std::string::npos, "unclear error: %s", err.c_str ());
}
GST_END_TEST;

static Suite *
segmentspool_suite (void)
{
  Suite *s = suite_create ("segmentspool");
  TCase *tc = tcase_create ("general");
  suite_add_tcase (s, tc);
  tcase_add_test (tc, test_memory_then_disk_then_refusal);
  tcase_add_test (tc, test_drop_generation_keeps_newer_bytes);
  tcase_add_test (tc, test_unwritable_directory_is_a_clear_error);
  return s;
}

GST_CHECK_MAIN (segmentspool);
