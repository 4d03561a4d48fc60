/* The SRT stream-id parser: the bare key, the Access Control form, and
 * every refusal with its SRT_REJX_* code; reasons never quote the key. */
#include "srt/srtstreamid.h"

/* before gstcheck.h: its fail () macro breaks the C++ streams srt.h pulls in */
#include <srt/access_control.h>
#include <srt/srt.h>

#include "../assertions.h"

#include <gst/check/gstcheck.h>

#include <string>

using namespace castline::srt;

static bool
parse (const std::string & id, StreamIdRequest & out, StreamIdRefusal & refusal)
{
  return parse_stream_id (id.data (), id.size (), out, refusal);
}

/* id is refused with code; the reason is there and does not quote secret */
static void
check_refused (const std::string & id, int code, const char *secret = "s3cr3t")
{
  StreamIdRequest out;
  StreamIdRefusal refusal;
  fail_if (parse (id, out, refusal), "'%s' was taken", id.c_str ());
  fail_unless_equals_int (refusal.code, code);
  fail_if (refusal.reason.empty ());
  assert_lacks (refusal.reason, secret);
  fail_unless (out.key.empty ());
}

GST_START_TEST (test_bare_key)
{
  StreamIdRequest out;
  StreamIdRefusal refusal;
  fail_unless (parse ("k3y-abc", out, refusal));
  assert_str_eq (out.key, "k3y-abc");
  fail_if (out.access_control);
  fail_unless_equals_int (refusal.code, 0);

  /* commas, '=' and spaces are part of a bare key */
  fail_unless (parse ("a=b, c", out, refusal));
  assert_str_eq (out.key, "a=b, c");
}
GST_END_TEST;

GST_START_TEST (test_access_control)
{
  StreamIdRequest out;
  StreamIdRefusal refusal;
  fail_unless (parse ("#!::r=s3cr3t,m=publish", out, refusal));
  assert_str_eq (out.key, "s3cr3t");
  fail_unless (out.access_control);

  /* m is publish when absent; u, h, s and t=stream are kept or allowed */
  fail_unless (parse ("#!::u=alice,r=live/s3cr3t,h=example.com,s=abc123,t=stream", out, refusal));
  assert_str_eq (out.key, "live/s3cr3t");
  assert_str_eq (out.user, "alice");
  assert_str_eq (out.host, "example.com");
  assert_str_eq (out.session, "abc123");

  /* values may hold '=' (base64 keys) */
  fail_unless (parse ("#!::r=a=b==", out, refusal));
  assert_str_eq (out.key, "a=b==");
}
GST_END_TEST;

GST_START_TEST (test_refuses_playback)
{
  check_refused ("#!::r=s3cr3t,m=request", SRT_REJX_BAD_MODE);
  check_refused ("#!::m=request,r=s3cr3t", SRT_REJX_BAD_MODE);
  check_refused ("#!::r=s3cr3t,m=bidirectional", SRT_REJX_BAD_MODE);
  check_refused ("#!::r=s3cr3t,m=PUBLISH", SRT_REJX_BAD_MODE);

  StreamIdRequest out;
  StreamIdRefusal refusal;
  parse ("#!::r=s3cr3t,m=request", out, refusal);
  assert_has (refusal.reason, "m=request");
}
GST_END_TEST;

GST_START_TEST (test_refuses_malformed)
{
  check_refused ("", SRT_REJX_BAD_REQUEST);
  check_refused (std::string (kMaxStreamIdLength + 1, 'k'), SRT_REJX_BAD_REQUEST, "kkkk");
  check_refused (std::string ("s3cr3t\0x", 8), SRT_REJX_BAD_REQUEST);
  check_refused ("s3cr3t\n", SRT_REJX_BAD_REQUEST);
  check_refused ("s3cr3t\x7f", SRT_REJX_BAD_REQUEST);
  check_refused ("s3cr3t\xc3\xa9", SRT_REJX_BAD_REQUEST);
  check_refused ("#!::", SRT_REJX_BAD_REQUEST);
  check_refused ("#!::m=publish", SRT_REJX_BAD_REQUEST);
  check_refused ("#!::r=", SRT_REJX_BAD_REQUEST);
  check_refused ("#!::r=s3cr3t,r=s3cr3t", SRT_REJX_BAD_REQUEST);
  check_refused ("#!::r=s3cr3t,,m=publish", SRT_REJX_BAD_REQUEST);
  check_refused ("#!::r=s3cr3t,", SRT_REJX_BAD_REQUEST);
  check_refused ("#!::r=s3cr3t,m", SRT_REJX_BAD_REQUEST);
  check_refused ("#!:{r=s3cr3t}", SRT_REJX_BAD_REQUEST);
  check_refused ("#!s3cr3t", SRT_REJX_BAD_REQUEST);

  /* the longest id libsrt carries is taken */
  StreamIdRequest out;
  StreamIdRefusal refusal;
  fail_unless (parse (std::string (kMaxStreamIdLength, 'k'), out, refusal));
}
GST_END_TEST;

GST_START_TEST (test_refuses_unknown_keys_and_media)
{
  check_refused ("#!::r=s3cr3t,x=1", SRT_REJX_KEY_NOTSUP);
  check_refused ("#!::r=s3cr3t,R=1", SRT_REJX_KEY_NOTSUP);
  check_refused ("#!::r=s3cr3t,t=file", SRT_REJX_NOTSUP_MEDIA);
  check_refused ("#!::r=s3cr3t,t=auth", SRT_REJX_NOTSUP_MEDIA);
}
GST_END_TEST;

GST_START_TEST (test_reject_reason_names)
{
  assert_str_eq (reject_reason_name (SRT_REJ_BADSECRET), "bad secret");
  assert_str_eq (reject_reason_name (SRT_REJ_TIMEOUT), "timeout");
  assert_str_eq (reject_reason_name (SRT_REJX_UNAUTHORIZED), "unauthorized");
  assert_str_eq (reject_reason_name (SRT_REJX_NOTFOUND), "not found");
  assert_str_eq (reject_reason_name (SRT_REJX_CONFLICT), "conflict");
  assert_str_eq (reject_reason_name (SRT_REJX_OVERLOAD), "overloaded");
  assert_str_eq (reject_reason_name (SRT_REJX_BAD_MODE), "bad mode");
  assert_str_eq (reject_reason_name (1999), "server-defined");
  assert_str_eq (reject_reason_name (2042), "application-defined");
  assert_str_eq (reject_reason_name (-1), "unknown");
  assert_str_eq (reject_reason_name (999), "unknown");
}
GST_END_TEST;

static Suite *
srtstreamid_suite (void)
{
  Suite *s = suite_create ("srtstreamid");
  TCase *tc = tcase_create ("general");
  suite_add_tcase (s, tc);
  tcase_add_test (tc, test_bare_key);
  tcase_add_test (tc, test_access_control);
  tcase_add_test (tc, test_refuses_playback);
  tcase_add_test (tc, test_refuses_malformed);
  tcase_add_test (tc, test_refuses_unknown_keys_and_media);
  tcase_add_test (tc, test_reject_reason_names);
  return s;
}

GST_CHECK_MAIN (srtstreamid);
