/* SigV4 signing against the public AWS test suite (header signing), plus
 * the S3 specifics the suite does not cover. */
#include "s3/sigv4.h"

#include <gst/check/gstcheck.h>
#include <json-glib/json-glib.h>

#include <algorithm>
#include <string>
#include <vector>

using namespace castline::s3;

static std::string
read_file (const std::string & path)
{
  gchar *data = nullptr;
  gsize len = 0;
  if (!g_file_get_contents (path.c_str (), &data, &len, nullptr))
    return {};
  std::string s (data, len);
  g_free (data);
  return s;
}

static std::string
chomp (std::string s)
{
  if (!s.empty () && s.back () == '\n')
    s.pop_back ();
  return s;
}

static std::string
percent_decode (const std::string & s)
{
  g_autofree gchar *d = g_uri_unescape_string (s.c_str (), nullptr);
  return d ? d : s;
}

struct SuiteCase {
  SigningRequest request;
  Credentials credentials;
  SigningOptions options;
  std::string body;
};

/* request.txt: "METHOD PATH[?QUERY] HTTP/1.1", "Name:value" lines (a line
 * starting with whitespace continues the previous value), a blank line,
 * the body. */
static bool
parse_request (const std::string & text, SuiteCase & c, std::string & error)
{
  size_t eol = text.find ('\n');
  std::string first = text.substr (0, eol);
  size_t sp = first.find (' ');
  size_t proto = first.rfind (" HTTP/");
  if (sp == std::string::npos || proto == std::string::npos || proto <= sp) {
    error = "bad request line: " + first;
    return false;
  }
  c.request.method = first.substr (0, sp);
  std::string target = first.substr (sp + 1, proto - sp - 1);
  size_t q = target.find ('?');
  c.request.path = target.substr (0, q);
  if (q != std::string::npos) {
    std::string query = target.substr (q + 1);
    size_t pos = 0;
    while (pos <= query.size ()) {
      size_t amp = query.find ('&', pos);
      std::string kv = query.substr (pos, amp == std::string::npos ? std::string::npos : amp - pos);
      if (!kv.empty ()) {
        size_t eq = kv.find ('=');
        c.request.query.emplace_back (percent_decode (kv.substr (0, eq)),
            eq == std::string::npos ? "" : percent_decode (kv.substr (eq + 1)));
      }
      if (amp == std::string::npos)
        break;
      pos = amp + 1;
    }
  }

  size_t pos = eol == std::string::npos ? text.size () : eol + 1;
  while (pos < text.size ()) {
    size_t e = text.find ('\n', pos);
    std::string line = text.substr (pos, e == std::string::npos ? std::string::npos : e - pos);
    pos = e == std::string::npos ? text.size () : e + 1;
    if (line.empty ()) {
      c.body = text.substr (pos);
      break;
    }
    if ((line[0] == ' ' || line[0] == '\t') && !c.request.headers.empty ()) {
      c.request.headers.back ().second += " " + line;
      continue;
    }
    size_t colon = line.find (':');
    if (colon == std::string::npos) {
      error = "bad header line: " + line;
      return false;
    }
    c.request.headers.emplace_back (line.substr (0, colon), line.substr (colon + 1));
  }
  return true;
}

static bool
parse_context (const std::string & json, SuiteCase & c, std::string & error)
{
  g_autoptr (JsonParser) parser = json_parser_new ();
  GError *err = nullptr;
  if (!json_parser_load_from_data (parser, json.c_str (), (gssize) json.size (), &err)) {
    error = std::string ("context.json: ") + err->message;
    g_error_free (err);
    return false;
  }
  JsonObject *o = json_node_get_object (json_parser_get_root (parser));
  JsonObject *cred = json_object_get_object_member (o, "credentials");
  c.credentials.access_key = json_object_get_string_member (cred, "access_key_id");
  c.credentials.secret_key = json_object_get_string_member (cred, "secret_access_key");
  if (json_object_has_member (cred, "token"))
    c.credentials.session_token = json_object_get_string_member (cred, "token");
  c.options.region = json_object_get_string_member (o, "region");
  c.options.service = json_object_get_string_member (o, "service");
  c.options.normalize_path = json_object_get_boolean_member (o, "normalize");
  c.options.add_content_sha256_header = json_object_get_boolean_member (o, "sign_body");
  c.options.sign_session_token = !(json_object_has_member (o, "omit_session_token")
      && json_object_get_boolean_member (o, "omit_session_token"));
  /* "2015-08-30T12:36:00Z" -> "20150830T123600Z" */
  std::string ts = json_object_get_string_member (o, "timestamp");
  std::string amz;
  for (char ch : ts)
    if (ch != '-' && ch != ':')
      amz.push_back (ch);
  c.options.amz_date = amz;
  return true;
}

GST_START_TEST (test_aws_suite_header_signing)
{
  GDir *dir = g_dir_open (SIGV4_SUITE_DIR, 0, nullptr);
  fail_unless (dir, "suite directory %s missing", SIGV4_SUITE_DIR);
  std::vector<std::string> names;
  while (const gchar *n = g_dir_read_name (dir)) {
    std::string p = std::string (SIGV4_SUITE_DIR) + "/" + n;
    if (g_file_test (p.c_str (), G_FILE_TEST_IS_DIR))
      names.push_back (n);
  }
  g_dir_close (dir);
  std::sort (names.begin (), names.end ());
  fail_unless (names.size () >= 30, "only %zu cases found", names.size ());

  for (auto & name : names) {
    std::string base = std::string (SIGV4_SUITE_DIR) + "/" + name + "/";
    SuiteCase c;
    std::string error;
    fail_unless (parse_context (read_file (base + "context.json"), c, error),
        "%s: %s", name.c_str (), error.c_str ());
    fail_unless (parse_request (read_file (base + "request.txt"), c, error),
        "%s: %s", name.c_str (), error.c_str ());
    c.request.payload_sha256 = sha256_hex (c.body);

    SigningResult r = sign_request (c.request, c.credentials, c.options);
    std::string creq = chomp (read_file (base + "header-canonical-request.txt"));
    std::string sts = chomp (read_file (base + "header-string-to-sign.txt"));
    std::string sig = chomp (read_file (base + "header-signature.txt"));
    fail_unless (r.canonical_request == creq,
        "%s: canonical request differs\n--- expected\n%s\n--- got\n%s", name.c_str (),
        creq.c_str (), r.canonical_request.c_str ());
    fail_unless (r.string_to_sign == sts,
        "%s: string to sign differs\n--- expected\n%s\n--- got\n%s", name.c_str (),
        sts.c_str (), r.string_to_sign.c_str ());
    fail_unless (r.signature == sig, "%s: signature %s, expected %s", name.c_str (),
        r.signature.c_str (), sig.c_str ());
  }
  GST_INFO ("%zu SigV4 suite cases passed", names.size ());
}
GST_END_TEST;

GST_START_TEST (test_uri_encode)
{
  fail_unless (uri_encode ("a b/c~d", true) == "a%20b/c~d");
  fail_unless (uri_encode ("a b/c~d", false) == "a%20b%2Fc~d");
  fail_unless (uri_encode ("é+=&", false) == "%C3%A9%2B%3D%26");
  fail_unless (uri_encode ("AZaz09-._~", false) == "AZaz09-._~");
}
GST_END_TEST;

static SigningResult
s3_put (const Credentials & cred)
{
  SigningRequest req;
  req.method = "PUT";
  req.path = "/live/demo/segment 00001.ts";
  req.headers = { { "Host", "127.0.0.1:4569" }, { "Cache-Control", "max-age=1" } };
  req.payload_sha256 = sha256_hex ("hello");
  SigningOptions opt;
  opt.region = "eu-west-1";
  opt.amz_date = amz_date_from_unix (1440938160);
  return sign_request (req, cred, opt);
}

GST_START_TEST (test_s3_put_with_session_token)
{
  Credentials cred { "AKIDEXAMPLE", "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY", "SESSIONTOKEN" };
  SigningResult r = s3_put (cred);
  fail_unless (r.canonical_request.find ("\n/live/demo/segment%2000001.ts\n") != std::string::npos,
      "path not encoded once: %s", r.canonical_request.c_str ());
  fail_unless (r.authorization.find ("SignedHeaders=cache-control;host;x-amz-content-sha256;"
          "x-amz-date;x-amz-security-token,") != std::string::npos, "%s", r.authorization.c_str ());
  fail_unless (r.authorization.find ("Credential=AKIDEXAMPLE/20150830/eu-west-1/s3/aws4_request")
      != std::string::npos, "%s", r.authorization.c_str ());
  bool has_sha = false, has_token = false;
  for (auto & h : r.headers_to_add) {
    has_sha |= h.first == "x-amz-content-sha256" && h.second == sha256_hex ("hello");
    has_token |= h.first == "X-Amz-Security-Token" && h.second == "SESSIONTOKEN";
  }
  fail_unless (has_sha && has_token);
  fail_unless (amz_date_from_unix (1440938160) == "20150830T123600Z");
}
GST_END_TEST;

GST_START_TEST (test_secret_never_in_result)
{
  Credentials cred { "AKIDEXAMPLE", "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY", "" };
  SigningResult r = s3_put (cred);
  std::string all = r.canonical_request + r.string_to_sign + r.signature + r.authorization;
  for (auto & h : r.headers_to_add)
    all += h.first + h.second;
  fail_unless (all.find (cred.secret_key) == std::string::npos);
  fail_unless (all.find ("wJalrXUtnFEMI") == std::string::npos);
}
GST_END_TEST;

static Suite *
sigv4_suite (void)
{
  Suite *s = suite_create ("sigv4");
  TCase *tc = tcase_create ("general");
  suite_add_tcase (s, tc);
  tcase_add_test (tc, test_aws_suite_header_signing);
  tcase_add_test (tc, test_uri_encode);
  tcase_add_test (tc, test_s3_put_with_session_token);
  tcase_add_test (tc, test_secret_never_in_result);
  return s;
}

GST_CHECK_MAIN (sigv4);
