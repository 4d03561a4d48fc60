#include "webmws/controlmessage.h"

#include <glib.h>

#include <algorithm>

namespace castline::webmws {

namespace {

std::string
trim_lower (std::string s)
{
  auto not_space = [] (unsigned char c) { return !g_ascii_isspace (c); };
  s.erase (s.begin (), std::find_if (s.begin (), s.end (), not_space));
  s.erase (std::find_if (s.rbegin (), s.rend (), not_space).base (), s.end ());
  for (char & c : s)
    c = g_ascii_tolower (c);
  return s;
}

/* The depth json-glib would recurse to, counted outside strings. */
int
json_depth (const char *text, size_t len)
{
  int depth = 0, deepest = 0;
  bool in_string = false, escaped = false;
  for (size_t i = 0; i < len; i++) {
    char c = text[i];
    if (in_string) {
      if (escaped)
        escaped = false;
      else if (c == '\\')
        escaped = true;
      else if (c == '"')
        in_string = false;
      continue;
    }
    if (c == '"')
      in_string = true;
    else if (c == '[' || c == '{')
      deepest = std::max (deepest, ++depth);
    else if ((c == ']' || c == '}') && depth > 0)
      depth--;
  }
  return deepest;
}

std::string
to_json (JsonNode * node)
{
  g_autoptr (JsonGenerator) gen = json_generator_new ();
  json_generator_set_root (gen, node);
  g_autofree gchar *text = json_generator_to_data (gen, nullptr);
  return text ? text : "{}";
}

}  // namespace

bool
parse_mime_type (const std::string & text, MimeType & out, std::string & error)
{
  std::string media = text.substr (0, text.find (';'));
  media = trim_lower (media);
  if (media != "video/webm" && media != "audio/webm" && media != "video/x-matroska"
      && media != "audio/x-matroska") {
    error = "unsupported mimeType '" + utf8_prefix (text, 100)
        + "': send video/webm, audio/webm, video/x-matroska or audio/x-matroska";
    return false;
  }
  out.media_type = media;
  out.codecs.clear ();
  size_t pos = text.find (';');
  while (pos != std::string::npos) {
    size_t next = text.find (';', pos + 1);
    std::string param = text.substr (pos + 1, next == std::string::npos ? std::string::npos
        : next - pos - 1);
    size_t eq = param.find ('=');
    if (eq != std::string::npos && trim_lower (param.substr (0, eq)) == "codecs") {
      std::string v = trim_lower (param.substr (eq + 1));
      if (v.size () >= 2 && v.front () == '"' && v.back () == '"')
        v = v.substr (1, v.size () - 2);
      /* a codecs list holds no separators of its own */
      v.erase (std::remove_if (v.begin (), v.end (), [] (char c) {
        return !(g_ascii_isalnum (c) || c == ',' || c == '.' || c == '-' || c == '_');
      }), v.end ());
      out.codecs = v.substr (0, 100);
    }
    pos = next;
  }
  return true;
}

std::string
media_type_for (const std::string & declared, const std::string & doc_type)
{
  bool audio = declared.rfind ("audio/", 0) == 0;
  bool matroska = doc_type == "matroska"
      || (doc_type.empty () && declared.find ("matroska") != std::string::npos);
  if (matroska)
    return audio ? "audio/x-matroska" : "video/x-matroska";
  return audio ? "audio/webm" : "video/webm";
}

ControlMessage
parse_control_message (const char *text, size_t len)
{
  ControlMessage m;
  if (json_depth (text, len) > kMaxJsonDepth) {
    m.error = "nested too deeply";
    return m;
  }
  g_autoptr (JsonParser) parser = json_parser_new ();
  g_autoptr (GError) err = nullptr;
  if (!json_parser_load_from_data (parser, text, (gssize) len, &err)) {
    m.error = std::string ("not JSON: ") + (err ? err->message : "unknown error");
    return m;
  }
  JsonNode *root = json_parser_get_root (parser);
  if (!root || !JSON_NODE_HOLDS_OBJECT (root)) {
    m.error = "not a JSON object";
    return m;
  }
  JsonObject *obj = json_node_get_object (root);
  JsonNode *type = json_object_get_member (obj, "type");
  if (!type || !JSON_NODE_HOLDS_VALUE (type) || json_node_get_value_type (type) != G_TYPE_STRING) {
    m.error = "no string member \"type\"";
    return m;
  }
  m.root = std::shared_ptr<JsonNode> (json_node_copy (root), json_node_unref);
  m.type = json_node_get_string (type);
  if (m.type == "start" || m.type == "hello") {
    m.kind = ControlKind::start;
    JsonNode *mime = json_object_get_member (obj, "mimeType");
    if (mime) {
      m.has_mime_type = true;
      if (JSON_NODE_HOLDS_VALUE (mime) && json_node_get_value_type (mime) == G_TYPE_STRING)
        m.mime_type = json_node_get_string (mime);
    }
  } else if (m.type == "stop-stream") {
    m.kind = ControlKind::stop_stream;
  } else if (m.type == "ping") {
    m.kind = ControlKind::ping;
  } else {
    m.kind = ControlKind::unknown;
  }
  return m;
}

std::string
make_pong (const ControlMessage & ping, uint64_t received_bytes)
{
  g_autoptr (JsonObject) obj = json_object_new ();
  json_object_set_string_member (obj, "type", "pong");
  if (ping.root && JSON_NODE_HOLDS_OBJECT (ping.root.get ())) {
    JsonObject *src = json_node_get_object (ping.root.get ());
    JsonObjectIter iter;
    const gchar *name;
    JsonNode *node;
    json_object_iter_init (&iter, src);
    while (json_object_iter_next (&iter, &name, &node)) {
      if (g_strcmp0 (name, "type") != 0 && g_strcmp0 (name, "received-bytes") != 0)
        json_object_set_member (obj, name, json_node_copy (node));
    }
  }
  json_object_set_int_member (obj, "received-bytes", (gint64) received_bytes);
  g_autoptr (JsonNode) root = json_node_init_object (json_node_alloc (), obj);
  return to_json (root);
}

std::string
make_error (const std::string & reason, const std::string & in_reply_to)
{
  g_autoptr (JsonObject) obj = json_object_new ();
  json_object_set_string_member (obj, "type", "error");
  json_object_set_string_member (obj, "reason", reason.c_str ());
  if (!in_reply_to.empty ())
    json_object_set_string_member (obj, "in-reply-to", in_reply_to.c_str ());
  g_autoptr (JsonNode) root = json_node_init_object (json_node_alloc (), obj);
  return to_json (root);
}

}  // namespace castline::webmws
