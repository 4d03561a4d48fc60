#include "s3/s3config.h"

#include <gio/gio.h>

#include <cstdlib>

namespace castline::s3 {

namespace {

void
fill_from_env (std::string & field, const char *name)
{
  if (!field.empty ())
    return;
  const char *v = g_getenv (name);
  if (v && *v)
    field = v;
}

bool
is_ip_or_localhost (const std::string & host)
{
  if (host == "localhost" || g_str_has_suffix (host.c_str (), ".localhost"))
    return true;
  std::string h = host;
  if (!h.empty () && h.front () == '[' && h.back () == ']')
    h = h.substr (1, h.size () - 2);
  return g_hostname_is_ip_address (h.c_str ());
}

struct ParsedEndpoint {
  std::string scheme;
  std::string host;        /* without port */
  int port = -1;
  std::string base_path;   /* without trailing '/' */
};

bool
parse_endpoint (const std::string & endpoint, ParsedEndpoint & out,
    std::string & error)
{
  g_autoptr (GError) err = nullptr;
  g_autoptr (GUri) uri = g_uri_parse (endpoint.c_str (), G_URI_FLAGS_NONE, &err);
  if (!uri) {
    error = "endpoint '" + endpoint + "' is not a URL: " + err->message;
    return false;
  }
  const char *scheme = g_uri_get_scheme (uri);
  if (g_strcmp0 (scheme, "http") != 0 && g_strcmp0 (scheme, "https") != 0) {
    error = "endpoint '" + endpoint + "' must start with http:// or https://";
    return false;
  }
  if (!g_uri_get_host (uri) || !*g_uri_get_host (uri)) {
    error = "endpoint '" + endpoint + "' has no host";
    return false;
  }
  if (g_uri_get_user (uri) || g_uri_get_query (uri)) {
    error = "endpoint '" + endpoint + "' must not carry user info or a query";
    return false;
  }
  out.scheme = scheme;
  out.host = g_uri_get_host (uri);
  out.port = g_uri_get_port (uri);
  out.base_path = g_uri_get_path (uri);
  while (!out.base_path.empty () && out.base_path.back () == '/')
    out.base_path.pop_back ();
  return true;
}

}  // namespace

void
S3Config::apply_environment ()
{
  fill_from_env (credentials.access_key, "AWS_ACCESS_KEY_ID");
  fill_from_env (credentials.secret_key, "AWS_SECRET_ACCESS_KEY");
  fill_from_env (credentials.session_token, "AWS_SESSION_TOKEN");
  fill_from_env (region, "AWS_REGION");
  fill_from_env (region, "AWS_DEFAULT_REGION");
  fill_from_env (endpoint, "AWS_ENDPOINT_URL_S3");
  fill_from_env (endpoint, "AWS_ENDPOINT_URL");
  fill_from_env (ca_file, "AWS_CA_BUNDLE");
}

std::string
S3Config::effective_region () const
{
  return region.empty () ? "us-east-1" : region;
}

bool
S3Config::uses_path_style () const
{
  if (force_path_style)
    return true;
  /* Virtual-hosted style needs a DNS name per bucket: impossible for an IP
   * endpoint or localhost, and TLS wildcards break on dotted bucket names. */
  ParsedEndpoint ep;
  std::string ignored;
  if (!endpoint.empty () && parse_endpoint (endpoint, ep, ignored)
      && is_ip_or_localhost (ep.host))
    return true;
  return bucket.find ('.') != std::string::npos;
}

bool
validate_bucket_name (const std::string & bucket, std::string & error)
{
  if (bucket.size () < 3 || bucket.size () > 63) {
    error = "bucket name must be 3 to 63 characters long";
    return false;
  }
  for (char c : bucket) {
    if (!(g_ascii_islower (c) || g_ascii_isdigit (c) || c == '.' || c == '-')) {
      error = "bucket name '" + bucket
          + "' may hold only lower-case letters, digits, '.' and '-'";
      return false;
    }
  }
  if (!g_ascii_isalnum (bucket.front ()) || !g_ascii_isalnum (bucket.back ())) {
    error = "bucket name '" + bucket + "' must start and end with a letter or digit";
    return false;
  }
  return true;
}

namespace {

bool
validate_key_text (const std::string & prefix, const char *what, std::string & error)
{
  if (prefix.size () > 512) {
    error = std::string (what) + " is longer than 512 bytes";
    return false;
  }
  if (!g_utf8_validate (prefix.c_str (), prefix.size (), nullptr)) {
    error = std::string (what) + " is not valid UTF-8";
    return false;
  }
  for (unsigned char c : prefix) {
    if (c < 0x20 || c == 0x7f || c == '\\') {
      error = std::string (what) + " contains a control character or a backslash";
      return false;
    }
  }
  if (prefix.front () == '/') {
    error = std::string (what) + " '" + prefix + "' must not start with '/'";
    return false;
  }
  /* Every segment but the last (which may be a partial name such as
   * "stream1-") must be a real name. */
  g_auto (GStrv) parts = g_strsplit (prefix.c_str (), "/", -1);
  guint n = g_strv_length (parts);
  for (guint i = 0; i < n; i++) {
    const char *p = parts[i];
    bool last = (i == n - 1);
    if ((!last && *p == '\0') || g_str_equal (p, ".") || g_str_equal (p, "..")) {
      error = std::string (what) + " '" + prefix + "' has an empty, '.' or '..' path segment";
      return false;
    }
  }
  return true;
}

}  // namespace

bool
validate_key_prefix (const std::string & prefix, std::string & error)
{
  return prefix.empty () || validate_key_text (prefix, "key-prefix", error);
}

bool
validate_object_key (const std::string & key, std::string & error)
{
  if (key.empty ()) {
    error = "no key is set";
    return false;
  }
  if (key.back () == '/') {
    error = "key '" + key + "' names a folder, not an object";
    return false;
  }
  return validate_key_text (key, "key", error);
}

bool
S3Config::validate (std::string & error) const
{
  if (bucket.empty ()) {
    error = "no bucket is set";
    return false;
  }
  if (!validate_bucket_name (bucket, error))
    return false;
  if (!endpoint.empty ()) {
    ParsedEndpoint ep;
    if (!parse_endpoint (endpoint, ep, error))
      return false;
  }
  if (credentials.access_key.empty () || credentials.secret_key.empty ()) {
    error = "no S3 credentials: set access-key and secret-key, or "
        "AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY";
    return false;
  }
  return true;
}

S3Url
S3Config::url_for (const std::string & key, const std::string & encoded_query) const
{
  ParsedEndpoint ep;
  std::string ignored;
  if (endpoint.empty () || !parse_endpoint (endpoint, ep, ignored)) {
    ep = ParsedEndpoint ();
    ep.scheme = "https";
    ep.host = "s3." + effective_region () + ".amazonaws.com";
  }

  S3Url out;
  std::string host = ep.host;
  std::string path = ep.base_path;
  if (uses_path_style ()) {
    path += "/" + bucket;
    if (!key.empty ())
      path += "/" + key;
  } else {
    host = bucket + "." + host;
    path += "/" + key;
  }
  if (path.empty ())
    path = "/";

  bool default_port = ep.port < 0 || (ep.scheme == "http" && ep.port == 80)
      || (ep.scheme == "https" && ep.port == 443);
  std::string host_part = host.find (':') != std::string::npos ? "[" + host + "]" : host;
  out.host = default_port ? host_part : host_part + ":" + std::to_string (ep.port);
  out.path = path;
  out.url = ep.scheme + "://" + out.host + uri_encode (path, true);
  if (!encoded_query.empty ())
    out.url += "?" + encoded_query;
  return out;
}

}  // namespace castline::s3
