/* Ordering, coalescing and deletion rules of the HLS upload plan. */
#include "s3/hlsuploadplan.h"

#include <gst/check/gstcheck.h>

#include <algorithm>

using castline::s3::HlsUploadPlan;
using castline::s3::UploadAction;
using Kind = UploadAction::Kind;

static std::string
playlist (std::initializer_list<const char *> segments, bool end = false)
{
  std::string p = "#EXTM3U\n#EXT-X-VERSION:3\n#EXT-X-TARGETDURATION:2\n";
  for (auto s : segments)
    p += std::string ("#EXTINF:2.000,\n") + s + "\n";
  if (end)
    p += "#EXT-X-ENDLIST\n";
  return p;
}

static const UploadAction *
find (const std::vector<UploadAction> & v, Kind k, const std::string & name)
{
  for (auto & a : v)
    if (a.kind == k && a.name == name)
      return &a;
  return nullptr;
}

static size_t
count (const std::vector<UploadAction> & v, Kind k)
{
  return std::count_if (v.begin (), v.end (), [k] (const UploadAction & a) { return a.kind == k; });
}

GST_START_TEST (test_segment_names_from_playlist)
{
  std::string p = "#EXTM3U\n#EXTINF:2,\nseg1.ts\n#EXTINF:2,\r\nhttps://cdn.example/live/seg2.ts?x=1\n"
      "#EXTINF:2,\n/abs/seg3.ts\n\n";
  auto names = HlsUploadPlan::segment_names (p);
  fail_unless_equals_int (names.size (), 3);
  fail_unless (names[0] == "seg1.ts");
  fail_unless (names[1] == "seg2.ts");
  fail_unless (names[2] == "seg3.ts");
}
GST_END_TEST;

GST_START_TEST (test_playlist_waits_for_its_segments)
{
  HlsUploadPlan plan (4);
  plan.segment_ready ("s1.ts", 1);
  plan.playlist_ready ("p.m3u8", playlist ({ "s1.ts" }));
  auto a = plan.take_actions ();
  fail_unless (find (a, Kind::PutSegment, "s1.ts"));
  fail_if (find (a, Kind::PutPlaylist, "p.m3u8"), "playlist went before its segment");

  plan.action_done (*find (a, Kind::PutSegment, "s1.ts"), true);
  a = plan.take_actions ();
  fail_unless (find (a, Kind::PutPlaylist, "p.m3u8"));
}
GST_END_TEST;

GST_START_TEST (test_failed_segment_holds_playlist_back)
{
  HlsUploadPlan plan (4);
  plan.segment_ready ("s1.ts", 1);
  plan.playlist_ready ("p.m3u8", playlist ({ "s1.ts" }));
  auto a = plan.take_actions ();
  plan.action_done (a[0], false);
  a = plan.take_actions ();
  /* retried first, playlist still waiting */
  fail_unless_equals_int (a.size (), 1);
  fail_unless (a[0].kind == Kind::PutSegment && a[0].name == "s1.ts");
  plan.action_done (a[0], true);
  a = plan.take_actions ();
  fail_unless (find (a, Kind::PutPlaylist, "p.m3u8"));
}
GST_END_TEST;

GST_START_TEST (test_only_newest_ready_playlist_goes)
{
  HlsUploadPlan plan (3);
  plan.segment_ready ("s1.ts", 1);
  plan.segment_ready ("s2.ts", 2);
  plan.segment_ready ("s3.ts", 3);
  auto segs = plan.take_actions ();
  fail_unless_equals_int (segs.size (), 3);
  plan.playlist_ready ("p.m3u8", playlist ({ "s1.ts" }));
  plan.playlist_ready ("p.m3u8", playlist ({ "s1.ts", "s2.ts" }));
  plan.playlist_ready ("p.m3u8", playlist ({ "s1.ts", "s2.ts", "s3.ts" }));

  plan.action_done (segs[0], true);
  auto a = plan.take_actions ();
  const UploadAction *v1 = find (a, Kind::PutPlaylist, "p.m3u8");
  fail_unless (v1 && v1->version == 1);
  UploadAction v1_copy = *v1;

  plan.action_done (segs[1], true);
  plan.action_done (segs[2], true);
  fail_unless_equals_int (plan.take_actions ().size (), 0);
  plan.action_done (v1_copy, true);
  a = plan.take_actions ();
  const UploadAction *v3 = find (a, Kind::PutPlaylist, "p.m3u8");
  fail_unless (v3);
  fail_unless_equals_int (v3->version, 3);  /* version 2 skipped */
  plan.action_done (*v3, true);
  fail_unless (plan.idle ());
}
GST_END_TEST;

GST_START_TEST (test_older_playlist_never_after_newer)
{
  HlsUploadPlan plan (4);
  plan.segment_ready ("s1.ts", 1);
  plan.segment_ready ("s2.ts", 2);
  auto a = plan.take_actions ();
  fail_unless_equals_int (count (a, Kind::PutSegment), 2);
  plan.playlist_ready ("p.m3u8", playlist ({ "s1.ts" }));
  plan.playlist_ready ("p.m3u8", playlist ({ "s1.ts", "s2.ts" }));
  plan.action_done (*find (a, Kind::PutSegment, "s1.ts"), true);
  plan.action_done (*find (a, Kind::PutSegment, "s2.ts"), true);

  a = plan.take_actions ();
  fail_unless_equals_int (count (a, Kind::PutPlaylist), 1);
  fail_unless_equals_int (find (a, Kind::PutPlaylist, "p.m3u8")->version, 2);
  plan.action_done (*find (a, Kind::PutPlaylist, "p.m3u8"), true);
  /* version 1 was dropped for good */
  a = plan.take_actions ();
  fail_unless_equals_int (a.size (), 0);
  fail_unless (plan.idle ());
}
GST_END_TEST;

GST_START_TEST (test_one_playlist_request_at_a_time)
{
  HlsUploadPlan plan (4);
  plan.segment_ready ("s1.ts", 1);
  auto a = plan.take_actions ();
  plan.action_done (a[0], true);
  plan.playlist_ready ("p.m3u8", playlist ({ "s1.ts" }));
  a = plan.take_actions ();
  UploadAction v1 = *find (a, Kind::PutPlaylist, "p.m3u8");
  plan.playlist_ready ("p.m3u8", playlist ({ "s1.ts" }, true));
  a = plan.take_actions ();
  fail_if (find (a, Kind::PutPlaylist, "p.m3u8"), "second playlist PUT while one in flight");
  plan.action_done (v1, true);
  a = plan.take_actions ();
  fail_unless_equals_int (find (a, Kind::PutPlaylist, "p.m3u8")->version, 2);
}
GST_END_TEST;

GST_START_TEST (test_failed_playlist_retried_unless_superseded)
{
  HlsUploadPlan plan (4);
  plan.segment_ready ("s1.ts", 1);
  auto a = plan.take_actions ();
  plan.action_done (a[0], true);
  plan.playlist_ready ("p.m3u8", playlist ({ "s1.ts" }));
  a = plan.take_actions ();
  UploadAction v1 = *find (a, Kind::PutPlaylist, "p.m3u8");
  plan.action_done (v1, false);
  a = plan.take_actions ();
  fail_unless_equals_int (find (a, Kind::PutPlaylist, "p.m3u8")->version, 1);
  /* fails again, while a newer ready version arrived: the newer goes */
  plan.playlist_ready ("p.m3u8", playlist ({ "s1.ts" }, true));
  plan.action_done (a[0], false);
  a = plan.take_actions ();
  fail_unless_equals_int (find (a, Kind::PutPlaylist, "p.m3u8")->version, 2);
  plan.action_done (a[0], true);
  fail_unless (plan.idle ());
}
GST_END_TEST;

GST_START_TEST (test_parallel_bound_and_order)
{
  HlsUploadPlan plan (2);
  for (int i = 1; i <= 5; i++)
    plan.segment_ready ("s" + std::to_string (i) + ".ts", i);
  auto a = plan.take_actions ();
  fail_unless_equals_int (a.size (), 2);
  fail_unless (a[0].name == "s1.ts" && a[1].name == "s2.ts");
  fail_unless_equals_int (plan.take_actions ().size (), 0);
  /* both fail: they go again first, in the order they were made */
  plan.action_done (a[1], false);
  plan.action_done (a[0], false);
  a = plan.take_actions ();
  fail_unless_equals_int (a.size (), 2);
  fail_unless (a[0].name == "s1.ts" && a[1].name == "s2.ts");
}
GST_END_TEST;

GST_START_TEST (test_expired_segment_deleted_after_playlist_drops_it)
{
  HlsUploadPlan plan (4);
  plan.segment_ready ("s1.ts", 1);
  plan.segment_ready ("s2.ts", 2);
  auto a = plan.take_actions ();
  plan.action_done (a[0], true);
  plan.action_done (a[1], true);
  plan.playlist_ready ("p.m3u8", playlist ({ "s1.ts", "s2.ts" }));
  a = plan.take_actions ();
  plan.action_done (*find (a, Kind::PutPlaylist, "p.m3u8"), true);

  /* hlssink2 writes a playlist without s1, then expires s1 */
  plan.playlist_ready ("p.m3u8", playlist ({ "s2.ts" }));
  plan.segment_expired ("s1.ts");
  a = plan.take_actions ();
  const UploadAction *pl = find (a, Kind::PutPlaylist, "p.m3u8");
  fail_unless (pl);
  fail_if (find (a, Kind::DeleteSegment, "s1.ts"),
      "deleted while the playlist in the bucket (or in flight) names it");
  plan.action_done (*pl, true);
  a = plan.take_actions ();
  fail_unless (find (a, Kind::DeleteSegment, "s1.ts"));
  plan.action_done (a[0], true);
  fail_unless (plan.idle ());
}
GST_END_TEST;

GST_START_TEST (test_segment_expired_before_upload_is_skipped)
{
  HlsUploadPlan plan (1);
  plan.segment_ready ("s1.ts", 1);
  plan.segment_ready ("s2.ts", 2);
  plan.segment_ready ("s3.ts", 3);
  auto a = plan.take_actions ();
  fail_unless (a[0].name == "s1.ts");
  plan.segment_expired ("s2.ts");  /* still queued: never uploaded */
  auto rel = plan.take_released ();
  fail_unless_equals_int (rel.size (), 1);
  fail_unless (rel[0].first == "s2.ts" && rel[0].second == 2);
  plan.action_done (a[0], true);
  a = plan.take_actions ();
  fail_unless_equals_int (a.size (), 1);
  fail_unless (a[0].name == "s3.ts");
  fail_if (find (a, Kind::DeleteSegment, "s2.ts"));
}
GST_END_TEST;

GST_START_TEST (test_expired_in_flight_deleted_after_upload)
{
  HlsUploadPlan plan (2);
  plan.segment_ready ("s1.ts", 1);
  auto a = plan.take_actions ();
  plan.segment_expired ("s1.ts");
  fail_unless_equals_int (plan.take_actions ().size (), 0);
  plan.action_done (a[0], true);
  a = plan.take_actions ();
  fail_unless (find (a, Kind::DeleteSegment, "s1.ts"));
  plan.action_done (a[0], false);  /* delete failed: tried again */
  a = plan.take_actions ();
  fail_unless (find (a, Kind::DeleteSegment, "s1.ts"));
  plan.action_done (a[0], true);
  fail_unless (plan.idle ());
}
GST_END_TEST;

GST_START_TEST (test_resubmitted_while_in_flight_uploads_again)
{
  HlsUploadPlan plan (2);
  plan.segment_ready ("s1.ts", 1);
  auto a = plan.take_actions ();
  plan.segment_ready ("s1.ts", 7);  /* more bytes arrived */
  plan.playlist_ready ("p.m3u8", playlist ({ "s1.ts" }));
  plan.action_done (a[0], true);
  auto rel = plan.take_released ();
  fail_unless_equals_int (rel.size (), 0);  /* the new bytes must be kept */
  a = plan.take_actions ();
  fail_unless_equals_int (a.size (), 1);
  fail_unless (a[0].kind == Kind::PutSegment && a[0].version == 7);
  plan.action_done (a[0], true);
  rel = plan.take_released ();
  fail_unless_equals_int (rel.size (), 1);
  fail_unless_equals_int (rel[0].second, 7);
  a = plan.take_actions ();
  fail_unless (find (a, Kind::PutPlaylist, "p.m3u8"));
}
GST_END_TEST;

GST_START_TEST (test_idle_and_pending)
{
  HlsUploadPlan plan (2);
  fail_unless (plan.idle ());
  plan.segment_ready ("s1.ts", 1);
  plan.playlist_ready ("p.m3u8", playlist ({ "s1.ts" }, true));
  fail_if (plan.idle ());
  fail_unless_equals_int (plan.pending_uploads (), 2);
  auto a = plan.take_actions ();
  plan.action_done (a[0], true);
  a = plan.take_actions ();
  fail_if (plan.idle ());
  plan.action_done (a[0], true);
  fail_unless (plan.idle ());
  fail_unless_equals_int (plan.pending_uploads (), 0);
}
GST_END_TEST;

static Suite *
hlsuploadplan_suite (void)
{
  Suite *s = suite_create ("hlsuploadplan");
  TCase *tc = tcase_create ("general");
  suite_add_tcase (s, tc);
  tcase_add_test (tc, test_segment_names_from_playlist);
  tcase_add_test (tc, test_playlist_waits_for_its_segments);
  tcase_add_test (tc, test_failed_segment_holds_playlist_back);
  tcase_add_test (tc, test_only_newest_ready_playlist_goes);
  tcase_add_test (tc, test_older_playlist_never_after_newer);
  tcase_add_test (tc, test_one_playlist_request_at_a_time);
  tcase_add_test (tc, test_failed_playlist_retried_unless_superseded);
  tcase_add_test (tc, test_parallel_bound_and_order);
  tcase_add_test (tc, test_expired_segment_deleted_after_playlist_drops_it);
  tcase_add_test (tc, test_segment_expired_before_upload_is_skipped);
  tcase_add_test (tc, test_expired_in_flight_deleted_after_upload);
  tcase_add_test (tc, test_resubmitted_while_in_flight_uploads_again);
  tcase_add_test (tc, test_idle_and_pending);
  return s;
}

GST_CHECK_MAIN (hlsuploadplan);
