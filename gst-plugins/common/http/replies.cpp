#include "common/http/replies.h"

#include <json-glib/json-glib.h>

namespace castline::http {

void
reply_json (Response & res, unsigned status, const std::string & json)
{
  res.status = status;
  res.set_body ("application/json", json);
  res.headers.set ("Cache-Control", "no-store");
}

void
reply_error (Response & res, unsigned status, const std::string & reason)
{
  g_autoptr (JsonBuilder) b = json_builder_new ();
  json_builder_begin_object (b);
  json_builder_set_member_name (b, "error");
  json_builder_add_string_value (b, reason.c_str ());
  json_builder_end_object (b);
  g_autoptr (JsonNode) root = json_builder_get_root (b);
  g_autofree gchar *text = json_to_string (root, FALSE);
  reply_json (res, status, text);
}

void
reply_plain_text (Response & res, unsigned status, const char *text)
{
  res.headers.set ("Cache-Control", "no-cache");
  res.headers.set ("X-Content-Type-Options", "nosniff");
  res.set_body ("text/plain; charset=utf-8", std::string (text) + "\n");
  res.status = status;
}

std::string
excerpt (std::string_view input)
{
  constexpr size_t kMax = 40;
  std::string out;
  for (char c : input.substr (0, kMax))
    out += c >= 0x20 && c < 0x7f ? c : '?';
  return input.size () > kMax ? out + "..." : out;
}

std::string
bearer_token (const Request & req)
{
  const char *auth = req.header ("Authorization");
  if (!auth || g_ascii_strncasecmp (auth, "Bearer ", 7) != 0)
    return "";
  std::string t = auth + 7;
  while (!t.empty () && t.front () == ' ')
    t.erase (0, 1);
  return t;
}

bool
split_path (std::string_view path, std::string_view prefix, std::string & id, std::string & rest)
{
  if (path.compare (0, prefix.size (), prefix) != 0)
    return false;
  std::string_view tail = path.substr (prefix.size ());
  size_t slash = tail.find ('/');
  id = std::string (tail.substr (0, slash));
  rest = slash == std::string_view::npos ? "" : std::string (tail.substr (slash + 1));
  return !id.empty ();
}

}  // namespace castline::http
