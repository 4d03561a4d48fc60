#include "s3/sigv4.h"

#include <glib.h>

#include <algorithm>
#include <map>
#include <vector>

namespace castline::s3 {

namespace {

std::string
hex (const guint8 * data, gsize len)
{
  static const char digits[] = "0123456789abcdef";
  std::string out;
  out.reserve (len * 2);
  for (gsize i = 0; i < len; i++) {
    out.push_back (digits[data[i] >> 4]);
    out.push_back (digits[data[i] & 0xf]);
  }
  return out;
}

std::string
hmac_sha256 (const std::string & key, const std::string & data)
{
  g_autoptr (GHmac) h = g_hmac_new (G_CHECKSUM_SHA256, (const guchar *) key.data (), key.size ());
  g_hmac_update (h, (const guchar *) data.data (), (gssize) data.size ());
  guint8 digest[32];
  gsize len = sizeof (digest);
  g_hmac_get_digest (h, digest, &len);
  return std::string ((const char *) digest, len);
}

std::string
lower (std::string s)
{
  for (auto & c : s)
    c = g_ascii_tolower (c);
  return s;
}

/* Trims and collapses runs of whitespace to one space. */
std::string
canonical_value (const std::string & v)
{
  std::string out;
  bool space = false;
  for (char c : v) {
    if (c == ' ' || c == '\t' || c == '\n' || c == '\r') {
      space = !out.empty ();
      continue;
    }
    if (space)
      out.push_back (' ');
    space = false;
    out.push_back (c);
  }
  return out;
}

std::string
normalize (const std::string & path)
{
  bool trailing = path.size () > 1 && path.back () == '/';
  std::vector<std::string> out;
  size_t i = 0;
  while (i <= path.size ()) {
    size_t j = path.find ('/', i);
    if (j == std::string::npos)
      j = path.size ();
    std::string seg = path.substr (i, j - i);
    if (seg == "..") {
      if (!out.empty ())
        out.pop_back ();
    } else if (!seg.empty () && seg != ".") {
      out.push_back (seg);
    }
    i = j + 1;
  }
  std::string r;
  for (auto & s : out)
    r += "/" + s;
  if (r.empty ())
    return "/";
  if (trailing)
    r += "/";
  return r;
}

}  // namespace

std::string
uri_encode (std::string_view in, bool keep_slash)
{
  static const char digits[] = "0123456789ABCDEF";
  std::string out;
  out.reserve (in.size () * 3);
  for (unsigned char c : in) {
    if (g_ascii_isalnum (c) || c == '-' || c == '.' || c == '_' || c == '~'
        || (keep_slash && c == '/')) {
      out.push_back ((char) c);
    } else {
      out.push_back ('%');
      out.push_back (digits[c >> 4]);
      out.push_back (digits[c & 0xf]);
    }
  }
  return out;
}

std::string
sha256_hex (const void *data, size_t size)
{
  g_autoptr (GChecksum) c = g_checksum_new (G_CHECKSUM_SHA256);
  if (size)
    g_checksum_update (c, (const guchar *) data, (gssize) size);
  return g_checksum_get_string (c);
}

std::string
amz_date_from_unix (long long unix_seconds)
{
  g_autoptr (GDateTime) dt = g_date_time_new_from_unix_utc (unix_seconds);
  g_autofree gchar *s = g_date_time_format (dt, "%Y%m%dT%H%M%SZ");
  return s;
}

SigningResult
sign_request (const SigningRequest & request, const Credentials & credentials,
    const SigningOptions & options)
{
  SigningResult r;
  const std::string date = options.amz_date.substr (0, 8);

  /* headers to add, and the set that is signed */
  r.headers_to_add.emplace_back ("X-Amz-Date", options.amz_date);
  if (options.add_content_sha256_header)
    r.headers_to_add.emplace_back ("x-amz-content-sha256", request.payload_sha256);
  bool token = !credentials.session_token.empty ();
  if (token && options.sign_session_token)
    r.headers_to_add.emplace_back ("X-Amz-Security-Token", credentials.session_token);

  std::map<std::string, std::vector<std::string>> headers;
  auto add = [&] (const std::string & name, const std::string & value) {
    headers[lower (name)].push_back (canonical_value (value));
  };
  for (auto & h : request.headers)
    add (h.first, h.second);
  for (auto & h : r.headers_to_add)
    add (h.first, h.second);

  std::string canonical_headers, signed_headers;
  for (auto & [name, values] : headers) {
    std::string joined;
    for (size_t i = 0; i < values.size (); i++)
      joined += (i ? "," : "") + values[i];
    canonical_headers += name + ":" + joined + "\n";
    signed_headers += (signed_headers.empty () ? "" : ";") + name;
  }

  std::vector<std::pair<std::string, std::string>> query;
  for (auto & q : request.query)
    query.emplace_back (uri_encode (q.first, false), uri_encode (q.second, false));
  std::sort (query.begin (), query.end ());
  std::string canonical_query;
  for (auto & q : query)
    canonical_query += (canonical_query.empty () ? "" : "&") + q.first + "=" + q.second;

  std::string path = options.normalize_path ? normalize (request.path) : request.path;
  if (path.empty ())
    path = "/";

  r.canonical_request = request.method + "\n" + uri_encode (path, true) + "\n"
      + canonical_query + "\n" + canonical_headers + "\n" + signed_headers + "\n"
      + request.payload_sha256;

  const std::string scope = date + "/" + options.region + "/" + options.service + "/aws4_request";
  r.string_to_sign = "AWS4-HMAC-SHA256\n" + options.amz_date + "\n" + scope + "\n"
      + sha256_hex (r.canonical_request);

  std::string k = hmac_sha256 ("AWS4" + credentials.secret_key, date);
  k = hmac_sha256 (k, options.region);
  k = hmac_sha256 (k, options.service);
  k = hmac_sha256 (k, "aws4_request");
  std::string sig = hmac_sha256 (k, r.string_to_sign);
  r.signature = hex ((const guint8 *) sig.data (), sig.size ());

  r.authorization = "AWS4-HMAC-SHA256 Credential=" + credentials.access_key + "/" + scope
      + ", SignedHeaders=" + signed_headers + ", Signature=" + r.signature;

  if (token && !options.sign_session_token)
    r.headers_to_add.emplace_back ("X-Amz-Security-Token", credentials.session_token);
  r.headers_to_add.emplace_back ("Authorization", r.authorization);
  return r;
}

}  // namespace castline::s3
