/* AMF0: round trips of every value RTMP peers send, the bytes of known
 * encodings, and hostile input (truncated values, nesting bombs, huge
 * lengths, value floods). */
#include "rtmp/amf0.h"

#include "../assertions.h"

#include <gst/check/gstcheck.h>

#include <string>

using namespace castline::rtmp;

static std::string
encode (const AmfValue & v)
{
  std::string out;
  amf0_encode (out, v);
  return out;
}

static bool
decode (const std::string & bytes, std::vector<AmfValue> & values, std::string * error = nullptr,
    unsigned depth = 16)
{
  return amf0_decode_all ((const uint8_t *) bytes.data (), bytes.size (), depth, values, error);
}

GST_START_TEST (test_known_encodings)
{
  assert_str_eq (encode (AmfValue::make_string ("connect")), std::string ("\x02\x00\x07" "connect", 10));
  assert_str_eq (encode (AmfValue::make_number (1)), std::string ("\x00\x3f\xf0\x00\x00\x00\x00\x00\x00", 9));
  assert_str_eq (encode (AmfValue::make_boolean (true)), std::string ("\x01\x01", 2));
  assert_str_eq (encode (AmfValue::make_null ()), std::string ("\x05", 1));
  assert_str_eq (encode (AmfValue::make_object ({{"a", AmfValue::make_null ()}})),
      std::string ("\x03\x00\x01" "a\x05\x00\x00\x09", 8));
}
GST_END_TEST;

GST_START_TEST (test_round_trip)
{
  AmfValue arr;
  arr.type = AmfType::StrictArray;
  arr.elements = {AmfValue::make_number (-2.5), AmfValue::make_string ("x")};
  AmfValue ecma;
  ecma.type = AmfType::EcmaArray;
  ecma.properties = {{"duration", AmfValue::make_number (0)}, {"list", arr}};
  AmfValue date;
  date.type = AmfType::Date;
  date.number = 1.5e12;
  AmfValue obj = AmfValue::make_object ({{"app", AmfValue::make_string ("live")},
      {"flag", AmfValue::make_boolean (false)}, {"u", AmfValue::make_undefined ()},
      {"meta", ecma}, {"when", date}});
  std::string long_text (70000, 'z');

  std::string bytes = encode (AmfValue::make_string ("connect")) + encode (AmfValue::make_number (1))
      + encode (obj) + encode (AmfValue::make_string (long_text));
  std::vector<AmfValue> v;
  std::string error;
  fail_unless (decode (bytes, v, &error), "%s", error.c_str ());
  fail_unless_equals_int (v.size (), 4);
  assert_str_eq (v[0].string, "connect");
  fail_unless (v[1].number == 1);
  assert_str_eq (v[2].get_string ("app"), "live");
  fail_unless (v[2].get ("flag")->type == AmfType::Boolean && !v[2].get ("flag")->boolean);
  fail_unless (v[2].get ("u")->type == AmfType::Undefined);
  const AmfValue *meta = v[2].get ("meta");
  fail_unless (meta && meta->type == AmfType::EcmaArray);
  fail_unless (meta->get ("list")->elements.size () == 2);
  fail_unless (meta->get ("list")->elements[0].number == -2.5);
  fail_unless (v[2].get ("when")->type == AmfType::Date && v[2].get ("when")->number == 1.5e12);
  fail_unless (v[3].string == long_text);
  /* and the same bytes again */
  assert_str_eq (encode (v[0]) + encode (v[1]) + encode (v[2]) + encode (v[3]), bytes);
  fail_unless (v[2].get ("missing") == nullptr);
  assert_str_eq (v[2].get_string ("flag", "fallback"), "fallback");
}
GST_END_TEST;

GST_START_TEST (test_typed_object_and_xml)
{
  /* typed object: class name then properties; XML document: a long string */
  std::string bytes ("\x10\x00\x03" "Foo" "\x00\x01" "k" "\x05" "\x00\x00\x09"
      "\x0f\x00\x00\x00\x02" "<a", 20);
  std::vector<AmfValue> v;
  fail_unless (decode (bytes, v));
  fail_unless (v.size () == 2 && v[0].type == AmfType::Object && v[0].get ("k"));
  assert_str_eq (v[1].string, "<a");
}
GST_END_TEST;

GST_START_TEST (test_truncated_values)
{
  AmfValue obj = AmfValue::make_object ({{"app", AmfValue::make_string ("live")},
      {"n", AmfValue::make_number (3)}});
  std::string bytes = encode (AmfValue::make_string ("connect")) + encode (obj);
  /* every proper prefix (but the one ending after the first value) fails */
  for (size_t n = 1; n < bytes.size (); n++) {
    std::vector<AmfValue> v;
    std::string error;
    bool ok = decode (bytes.substr (0, n), v, &error);
    fail_unless (ok == (n == 10), "prefix of %zu bytes", n);
    if (!ok)
      assert_has (error, "truncated");
  }
}
GST_END_TEST;

GST_START_TEST (test_huge_lengths)
{
  std::vector<AmfValue> v;
  std::string error;
  /* a long string claiming 4 GiB */
  fail_if (decode (std::string ("\x0c\xff\xff\xff\xff" "abc", 8), v, &error));
  assert_has (error, "truncated");
  /* a strict array claiming 4 billion elements, holding two */
  fail_if (decode (std::string ("\x0a\xff\xff\xff\xff\x05\x05", 7), v, &error));
  /* a string claiming 65535 bytes */
  fail_if (decode (std::string ("\x02\xff\xff" "ab", 5), v, &error));
}
GST_END_TEST;

GST_START_TEST (test_nesting_bomb)
{
  /* objects nested 100000 deep: refused at the depth limit, no stack
   * overflow */
  std::string bomb;
  for (int i = 0; i < 100000; i++)
    bomb += std::string ("\x03\x00\x01" "a", 4);
  std::vector<AmfValue> v;
  std::string error;
  fail_if (decode (bomb, v, &error));
  assert_has (error, "nesting deeper than 16");

  /* strict arrays too */
  std::string arrays;
  for (int i = 0; i < 100; i++)
    arrays += std::string ("\x0a\x00\x00\x00\x01", 5);
  arrays += "\x05";
  fail_if (decode (arrays, v, &error));
  assert_has (error, "nesting");

  /* 16 levels are fine, 17 are not */
  std::string ok;
  for (int i = 0; i < 16; i++)
    ok += std::string ("\x0a\x00\x00\x00\x01", 5);
  ok += "\x05";
  v.clear ();
  fail_unless (decode (ok, v, &error), "%s", error.c_str ());
  fail_if (decode (std::string ("\x0a\x00\x00\x00\x01", 5) + ok, v, &error));
}
GST_END_TEST;

GST_START_TEST (test_value_flood)
{
  /* a strict array of a million nulls: a megabyte in, refused before it
   * becomes far more in memory */
  std::string flood ("\x0a\x00\x0f\x42\x40", 5);
  flood += std::string (1000000, '\x05');
  std::vector<AmfValue> v;
  std::string error;
  fail_if (decode (flood, v, &error));
  assert_has (error, "more than 65536 AMF0 values");
}
GST_END_TEST;

GST_START_TEST (test_refused_markers)
{
  std::vector<AmfValue> v;
  std::string error;
  /* reference, AMF3 switch, movie clip, recordset, a stray object end, an
   * unknown marker */
  for (const char *m : {"\x07\x00\x01", "\x11\x00", "\x04", "\x0e", "\x09", "\x42"}) {
    v.clear ();
    fail_if (decode (std::string (m, strlen (m) ? strlen (m) : 1), v, &error), "marker %02x", m[0]);
  }
  /* an object whose end marker is missing, replaced by another byte */
  fail_if (decode (std::string ("\x03\x00\x00\x05", 4), v, &error));
}
GST_END_TEST;

static Suite *
amf0_suite (void)
{
  Suite *s = suite_create ("rtmp-amf0");
  TCase *tc = tcase_create ("amf0");
  suite_add_tcase (s, tc);
  tcase_add_test (tc, test_known_encodings);
  tcase_add_test (tc, test_round_trip);
  tcase_add_test (tc, test_typed_object_and_xml);
  tcase_add_test (tc, test_truncated_values);
  tcase_add_test (tc, test_huge_lengths);
  tcase_add_test (tc, test_nesting_bomb);
  tcase_add_test (tc, test_value_flood);
  tcase_add_test (tc, test_refused_markers);
  return s;
}

GST_CHECK_MAIN (amf0);
