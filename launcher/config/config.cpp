#include "config/config.h"
#include "install/installpaths.h"

#include <json-glib/json-glib.h>
#include <libsoup/soup.h>

#include <algorithm>
#include <cstring>
#include <functional>
#include <map>

#include <unistd.h>

#ifndef CASTLINE_PIPELINES_DIR
#define CASTLINE_PIPELINES_DIR "pipelines"
#endif
#ifndef CASTLINE_WEB_DIR
#define CASTLINE_WEB_DIR "web"
#endif
#ifndef CASTLINE_HLSJS_PATH
#define CASTLINE_HLSJS_PATH "node_modules/hls.js/dist/hls.min.js"
#endif

namespace castline::launcher {

std::string
Config::base_url () const
{
  std::string url = public_url.empty ()
      ? "http://" + (host == "0.0.0.0" ? std::string ("127.0.0.1") : host) + ":"
      + std::to_string (port)
      : public_url;
  while (!url.empty () && url.back () == '/')
    url.pop_back ();
  return url;
}

std::string
Config::output_url (const std::string & id, const std::string & file) const
{
  if (s3.enabled ()) {
    std::string base = s3.public_base_url;
    while (!base.empty () && base.back () == '/')
      base.pop_back ();
    return base + "/" + s3.key_prefix + id + "/" + file;
  }
  return base_url () + "/live/" + id + "/" + file;
}

std::string
Config::node_url () const
{
  std::string url = node.public_url.empty () ? base_url () : node.public_url;
  while (!url.empty () && url.back () == '/')
    url.pop_back ();
  return url;
}

Config
default_config ()
{
  Config c;
  char host[256] = "";
  if (gethostname (host, sizeof (host) - 1) == 0 && host[0])
    c.node.id = host;
  else
    c.node.id = "castline";
  /* an installed launcher's own files, else the source tree's (a run
   * from the build tree) */
  if (std::optional<InstallPaths> installed = installed_paths ()) {
    c.pipeline_dirs.push_back (installed->pipelines_dir);
    c.web_dir = installed->web_dir;
    c.hlsjs_path = installed->hlsjs_path;
    c.uplot_dir = installed->uplot_dir;
  } else {
    c.pipeline_dirs.push_back (CASTLINE_PIPELINES_DIR);
    c.web_dir = CASTLINE_WEB_DIR;
    c.hlsjs_path = CASTLINE_HLSJS_PATH;
    c.uplot_dir = CASTLINE_UPLOT_DIR;
  }
  return c;
}

namespace {

using Reader = std::function<bool (JsonNode *, std::string &)>;

bool
read_string (JsonNode * node, std::string & out, std::string & error)
{
  if (!JSON_NODE_HOLDS_VALUE (node) || json_node_get_value_type (node) != G_TYPE_STRING) {
    error = "must be a string";
    return false;
  }
  out = json_node_get_string (node);
  return true;
}

bool
read_bool (JsonNode * node, bool & out, std::string & error)
{
  if (!JSON_NODE_HOLDS_VALUE (node) || json_node_get_value_type (node) != G_TYPE_BOOLEAN) {
    error = "must be true or false";
    return false;
  }
  out = json_node_get_boolean (node);
  return true;
}

bool
read_uint (JsonNode * node, unsigned & out, unsigned min, unsigned max, std::string & error)
{
  if (!JSON_NODE_HOLDS_VALUE (node) || json_node_get_value_type (node) != G_TYPE_INT64) {
    error = "must be an integer";
    return false;
  }
  gint64 v = json_node_get_int (node);
  if (v < min || v > max) {
    error = "must be between " + std::to_string (min) + " and " + std::to_string (max);
    return false;
  }
  out = (unsigned) v;
  return true;
}

/* a JSON number (integer or not) between min and max */
bool
read_double (JsonNode * node, double & out, double min, double max, std::string & error)
{
  GType type = JSON_NODE_HOLDS_VALUE (node) ? json_node_get_value_type (node) : G_TYPE_INVALID;
  if (type != G_TYPE_INT64 && type != G_TYPE_DOUBLE) {
    error = "must be a number";
    return false;
  }
  double v = type == G_TYPE_INT64 ? (double) json_node_get_int (node) : json_node_get_double (node);
  if (!(v >= min && v <= max)) {
    g_autofree gchar *text = g_strdup_printf ("must be between %g and %g (seconds)", min, max);
    error = text;
    return false;
  }
  out = v;
  return true;
}

bool
read_strings (JsonNode * node, std::vector<std::string> & out, std::string & error)
{
  if (!JSON_NODE_HOLDS_ARRAY (node)) {
    error = "must be an array of strings";
    return false;
  }
  out.clear ();
  JsonArray *a = json_node_get_array (node);
  for (guint i = 0; i < json_array_get_length (a); i++) {
    std::string s;
    if (!read_string (json_array_get_element (a, i), s, error)) {
      error = "must be an array of strings";
      return false;
    }
    out.push_back (s);
  }
  return true;
}

/* An array of absolute http:// or https:// URLs with a host, parsed as
 * libsoup will parse them to send to. A bad one is named by its place, not
 * its text: a URL may carry a token. */
bool
read_http_urls (JsonNode * node, std::vector<std::string> & out, std::string & error)
{
  if (!read_strings (node, out, error))
    return false;
  for (size_t i = 0; i < out.size (); i++) {
    g_autoptr (GUri) uri = g_uri_parse (out[i].c_str (), (GUriFlags) SOUP_HTTP_URI_FLAGS, nullptr);
    const char *scheme = uri ? g_uri_get_scheme (uri) : nullptr;
    const char *host = uri ? g_uri_get_host (uri) : nullptr;
    /* GUri lets a raw space through (in the host, too); a URL has none */
    bool blank = std::any_of (out[i].begin (), out[i].end (),
        [] (char ch) { return (unsigned char) ch <= ' ' || ch == 0x7f; });
    if (blank || !host || !*host
        || (g_strcmp0 (scheme, "http") != 0 && g_strcmp0 (scheme, "https") != 0)) {
      error = "item " + std::to_string (i) + " is not an http:// or https:// URL with a host";
      return false;
    }
  }
  return true;
}

bool
read_object (JsonNode * node, const std::map<std::string, Reader> & readers,
    const std::string & where, std::string & error);

/* [{"name", "height", "video_bitrate", "audio_bitrate"}, ...], every field
 * required, then checked as a whole (validate_ladder) */
bool
read_ladder (JsonNode * node, std::vector<Rung> & out, std::string & error)
{
  if (!JSON_NODE_HOLDS_ARRAY (node)) {
    error = "must be an array of rungs";
    return false;
  }
  std::vector<Rung> ladder;
  JsonArray *a = json_node_get_array (node);
  for (guint i = 0; i < json_array_get_length (a); i++) {
    JsonNode *item = json_array_get_element (a, i);
    Rung r;
    std::map<std::string, Reader> fields = {
      { "name", [&r] (JsonNode * n, std::string & e) { return read_string (n, r.name, e); } },
      { "height", [&r] (JsonNode * n, std::string & e) { return read_uint (n, r.height, 0, 100000, e); } },
      { "video_bitrate", [&r] (JsonNode * n, std::string & e) {
          return read_uint (n, r.video_bitrate, 0, 1000000, e); } },
      { "audio_bitrate", [&r] (JsonNode * n, std::string & e) {
          return read_uint (n, r.audio_bitrate, 0, 1000000, e); } },
    };
    std::string where = "rung " + std::to_string (i);
    if (!read_object (item, fields, where, error))
      return false;
    for (auto & [name, reader] : fields)
      if (!json_object_has_member (json_node_get_object (item), name.c_str ())) {
        error = where + " has no " + name;
        return false;
      }
    ladder.push_back (r);
  }
  if (!validate_ladder (ladder, error))
    return false;
  out = ladder;
  return true;
}

bool
read_object (JsonNode * node, const std::map<std::string, Reader> & readers,
    const std::string & where, std::string & error)
{
  if (!JSON_NODE_HOLDS_OBJECT (node)) {
    error = (where.empty () ? std::string ("the configuration") : where) + " must be an object";
    return false;
  }
  JsonObjectIter iter;
  const gchar *name;
  JsonNode *member;
  json_object_iter_init (&iter, json_node_get_object (node));
  while (json_object_iter_next (&iter, &name, &member)) {
    std::string key = where.empty () ? name : where + "." + name;
    auto it = readers.find (name);
    if (it == readers.end ()) {
      error = "unknown setting '" + key + "'";
      return false;
    }
    std::string why;
    if (!it->second (member, why)) {
      error = "'" + key + "' " + why;
      return false;
    }
  }
  return true;
}

Reader
string_into (std::string & s)
{
  return [&s] (JsonNode * n, std::string & e) { return read_string (n, s, e); };
}

Reader
uint_into (unsigned & u, unsigned min, unsigned max)
{
  return [&u, min, max] (JsonNode * n, std::string & e) { return read_uint (n, u, min, max, e); };
}

/* what RTMP settings must hold together */
bool
check_rtmp (const RtmpSettings & r, std::string & error)
{
  if (r.tls_port && (r.tls_cert.empty () || r.tls_key.empty ())) {
    error = "rtmp.tls_port needs rtmp.tls_cert and rtmp.tls_key (PEM files)";
    return false;
  }
  if (r.tls_port && r.tls_port == r.port) {
    error = "rtmp.tls_port must differ from rtmp.port";
    return false;
  }
  /* the application is the first path segment of the publish URL */
  for (char ch : r.application)
    if (!(g_ascii_isalnum (ch) || ch == '_' || ch == '-' || ch == '.')) {
      error = "rtmp.application may hold only A-Z a-z 0-9 _ - . (it is one segment of a URL)";
      return false;
    }
  return true;
}

/* what libsrt takes (a refused passphrase would only show when a caller
 * comes); the passphrase itself is never in the message */
bool
check_srt (const SrtSettings & s, std::string & error)
{
  if (!s.passphrase.empty () && (s.passphrase.size () < 10 || s.passphrase.size () > 79)) {
    error = "srt.passphrase must be 10 to 79 characters long (or empty: no encryption)";
    return false;
  }
  if (s.pbkeylen != 0 && s.pbkeylen != 16 && s.pbkeylen != 24 && s.pbkeylen != 32) {
    error = "srt.pbkeylen must be 0 (the caller's), 16, 24 or 32";
    return false;
  }
  return true;
}

/* RFC 6750 2.1: what a Bearer token is made of (b64token), so that a
 * client can send it; the token itself is never in the message */
bool
check_webrtc (const WebRtcSettings & w, std::string & error)
{
  size_t end = w.token.find_last_not_of ('=');
  for (size_t i = 0; end != std::string::npos && i <= end; i++) {
    char ch = w.token[i];
    if (!(g_ascii_isalnum (ch) || strchr ("-._~+/", ch))) {
      error = "webrtc.token may hold only A-Z a-z 0-9 - . _ ~ + / (and = at its end): it is "
          "sent as a Bearer token";
      return false;
    }
  }
  if (!w.token.empty () && end == std::string::npos) {
    error = "webrtc.token cannot be only '='";
    return false;
  }
  return true;
}

/* a store URL castline can open (its text is never in the message: it
 * may hold a password), and a node id usable in paths and logs */
bool
check_store_node (const Config & c, std::string & error)
{
  const std::string & u = c.store.url;
  if (!u.empty () && !c.store.shared () && u.rfind ("sqlite:", 0) != 0) {
    error = "store.url must be empty, sqlite:PATH, or a postgresql:// URI";
    return false;
  }
  if (u.rfind ("sqlite:", 0) == 0 && u.size () == 7) {
    error = "store.url sqlite: needs a file path";
    return false;
  }
  if (c.node.id.empty () || c.node.id.size () > 64) {
    error = "node.id must be 1 to 64 characters";
    return false;
  }
  for (char ch : c.node.id)
    if (!(g_ascii_isalnum (ch) || strchr ("-._", ch))) {
      error = "node.id may hold only A-Z a-z 0-9 - . _";
      return false;
    }
  const std::string & p = c.node.public_url;
  if (!p.empty () && p.rfind ("http://", 0) != 0 && p.rfind ("https://", 0) != 0) {
    error = "node.public_url must be an http:// or https:// URL";
    return false;
  }
  return true;
}

}  // namespace

bool
load_config (const std::string & path, Config & c, std::string & error)
{
  g_autoptr (JsonParser) parser = json_parser_new ();
  g_autoptr (GError) err = nullptr;
  if (!json_parser_load_from_file (parser, path.c_str (), &err)) {
    error = path + ": " + err->message;
    return false;
  }
  std::map<std::string, Reader> s3 = {
    { "endpoint", string_into (c.s3.endpoint) },
    { "bucket", string_into (c.s3.bucket) },
    { "region", string_into (c.s3.region) },
    { "access_key", string_into (c.s3.access_key) },
    { "secret_key", string_into (c.s3.secret_key) },
    { "key_prefix", string_into (c.s3.key_prefix) },
    { "public_base_url", string_into (c.s3.public_base_url) },
  };
  std::map<std::string, Reader> hls = {
    { "target_duration", uint_into (c.hls_target_duration, 1, 60) },
    { "playlist_length", uint_into (c.hls_playlist_length, 1, 1000) },
    { "max_files", uint_into (c.hls_max_files, 1, 100000) },
    { "low_latency", [&c] (JsonNode * n, std::string & e) {
        return read_bool (n, c.hls_low_latency, e);
      } },
    { "part_target", [&c] (JsonNode * n, std::string & e) {
        return read_double (n, c.hls_part_target, 0.1, 2.0, e);
      } },
  };
  std::map<std::string, Reader> webhooks = {
    { "urls", [&c] (JsonNode * n, std::string & e) {
        return read_http_urls (n, c.webhooks.urls, e);
      } },
    { "secret", string_into (c.webhooks.secret) },
    { "retries", uint_into (c.webhooks.retries, 0, 20) },
    { "timeout", uint_into (c.webhooks.timeout, 1, 60) },
  };
  std::map<std::string, Reader> http = {
    { "threads", uint_into (c.http.threads, 0, 256) },
    { "max_connections", uint_into (c.http.max_connections, 16, 1000000) },
    { "max_connections_per_address", uint_into (c.http.max_connections_per_address, 1, 1000000) },
    { "max_header_bytes", uint_into (c.http.max_header_bytes, 4096, 1024 * 1024) },
  };
  unsigned rtmp_port = (unsigned) c.rtmp.port, rtmp_tls_port = (unsigned) c.rtmp.tls_port;
  std::map<std::string, Reader> rtmp = {
    { "port", uint_into (rtmp_port, 0, 65535) },
    { "host", string_into (c.rtmp.host) },
    { "tls_port", uint_into (rtmp_tls_port, 0, 65535) },
    { "tls_cert", string_into (c.rtmp.tls_cert) },
    { "tls_key", string_into (c.rtmp.tls_key) },
    { "application", string_into (c.rtmp.application) },
  };
  unsigned srt_port = (unsigned) c.srt.port;
  std::map<std::string, Reader> srt = {
    { "port", uint_into (srt_port, 0, 65535) },
    { "host", string_into (c.srt.host) },
    { "latency", uint_into (c.srt.latency, 20, 8000) },
    { "passphrase", string_into (c.srt.passphrase) },
    { "pbkeylen", uint_into (c.srt.pbkeylen, 0, 32) },
  };
  std::map<std::string, Reader> webrtc = {
    { "max_viewers", uint_into (c.webrtc.max_viewers, 0, 10000) },
    { "token", string_into (c.webrtc.token) },
  };
  std::map<std::string, Reader> store = {
    { "url", string_into (c.store.url) },
  };
  std::map<std::string, Reader> recordings = {
    { "retention_days", [&c] (JsonNode * n, std::string & e) {
        GType t = JSON_NODE_HOLDS_VALUE (n) ? json_node_get_value_type (n) : G_TYPE_INVALID;
        double v = t == G_TYPE_INT64 ? (double) json_node_get_int (n)
            : t == G_TYPE_DOUBLE ? json_node_get_double (n) : -1;
        if (!(v >= 0 && v <= 36500)) {
          e = "must be a number of days between 0 (keep forever) and 36500";
          return false;
        }
        c.recordings_retention_days = v;
        return true;
      } },
  };
  std::map<std::string, Reader> node = {
    { "id", string_into (c.node.id) },
    { "public_url", string_into (c.node.public_url) },
    { "lease", uint_into (c.node.lease, 3, 120) },
  };
  std::map<std::string, Reader> thumbnails = {
    { "interval", uint_into (c.thumbnails.interval, 0, 3600) },
    { "width", uint_into (c.thumbnails.width, 16, 1920) },
  };
  unsigned port = (unsigned) c.port;
  std::map<std::string, Reader> top = {
    { "host", string_into (c.host) },
    { "port", uint_into (port, 0, 65535) },
    { "data_dir", string_into (c.data_dir) },
    { "admin_token", string_into (c.admin_token) },
    { "public_url", string_into (c.public_url) },
    { "pipeline_dirs", [&c] (JsonNode * n, std::string & e) {
        std::vector<std::string> extra;
        if (!read_strings (n, extra, e))
          return false;
        c.pipeline_dirs.insert (c.pipeline_dirs.end (), extra.begin (), extra.end ());
        return true;
      } },
    { "max_live_streams", uint_into (c.max_live_streams, 1, 10000) },
    { "idle_timeout", uint_into (c.idle_timeout, 1, 3600) },
    { "reconnect_window", uint_into (c.reconnect_window, 0, 3600) },
    { "shutdown_timeout", uint_into (c.shutdown_timeout, 1, 600) },
    { "http_request_timeout", uint_into (c.http_request_timeout, 1, 3600) },
    { "ice_servers", [&c] (JsonNode * n, std::string & e) { return read_strings (n, c.ice_servers, e); } },
    { "cors_origin", string_into (c.cors_origin) },
    { "web_dir", string_into (c.web_dir) },
    { "hlsjs_path", string_into (c.hlsjs_path) },
    { "uplot_dir", string_into (c.uplot_dir) },
    { "ladder", [&c] (JsonNode * n, std::string & e) { return read_ladder (n, c.ladder, e); } },
    { "abr_default", [&c] (JsonNode * n, std::string & e) { return read_bool (n, c.abr_default, e); } },
    { "abr_settle", uint_into (c.abr_settle, 0, 30) },
    { "record", [&c] (JsonNode * n, std::string & e) { return read_bool (n, c.record, e); } },
    { "record_mp4", [&c] (JsonNode * n, std::string & e) {
        return read_bool (n, c.record_mp4, e);
      } },
    { "hls", [&hls] (JsonNode * n, std::string & e) { return read_object (n, hls, "hls", e); } },
    { "recordings", [&recordings] (JsonNode * n, std::string & e) {
        return read_object (n, recordings, "recordings", e);
      } },
    { "http", [&http] (JsonNode * n, std::string & e) { return read_object (n, http, "http", e); } },
    { "s3", [&s3] (JsonNode * n, std::string & e) { return read_object (n, s3, "s3", e); } },
    { "webhooks", [&webhooks] (JsonNode * n, std::string & e) {
        return read_object (n, webhooks, "webhooks", e);
      } },
    { "rtmp", [&rtmp] (JsonNode * n, std::string & e) { return read_object (n, rtmp, "rtmp", e); } },
    { "srt", [&srt] (JsonNode * n, std::string & e) { return read_object (n, srt, "srt", e); } },
    { "store", [&store] (JsonNode * n, std::string & e) {
        return read_object (n, store, "store", e);
      } },
    { "node", [&node] (JsonNode * n, std::string & e) { return read_object (n, node, "node", e); } },
    { "webrtc", [&webrtc] (JsonNode * n, std::string & e) {
        return read_object (n, webrtc, "webrtc", e);
      } },
    { "thumbnails", [&thumbnails] (JsonNode * n, std::string & e) {
        return read_object (n, thumbnails, "thumbnails", e);
      } },
  };
  std::string why;
  if (!read_object (json_parser_get_root (parser), top, "", why)) {
    error = path + ": " + why;
    return false;
  }
  c.port = (int) port;
  c.rtmp.port = (int) rtmp_port;
  c.rtmp.tls_port = (int) rtmp_tls_port;
  c.srt.port = (int) srt_port;
  if (!check_rtmp (c.rtmp, why) || !check_srt (c.srt, why) || !check_webrtc (c.webrtc, why)) {
    error = path + ": " + why;
    return false;
  }
  if (c.s3.enabled () && (c.s3.bucket.empty () || c.s3.public_base_url.empty ())) {
    error = path + ": s3 needs bucket and public_base_url along with endpoint";
    return false;
  }
  if (c.record_mp4 && c.s3.enabled ()) {
    error = path + ": record_mp4 needs local output (with s3 the segments are not on this "
        "machine to remux)";
    return false;
  }
  if (!check_store_node (c, why)) {
    error = path + ": " + why;
    return false;
  }
  if (c.hls_max_files < c.hls_playlist_length) {
    error = path + ": hls.max_files must be at least hls.playlist_length";
    return false;
  }
  return true;
}

}  // namespace castline::launcher
