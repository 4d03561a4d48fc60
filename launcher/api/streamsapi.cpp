#include "api/streamsapi.h"

#include "api/adminauth.h"
#include "common/http/replies.h"
#include "streams/streamjson.h"

#include <json-glib/json-glib.h>

namespace castline::launcher {

namespace {

constexpr size_t kMaxTitle = 200;

/* one member of a create body; false with the reason */
bool
take_member (const char *name, JsonNode * v, CreateRequest & out, std::string & reason)
{
  if (g_str_equal (name, "record")) {
    if (JSON_NODE_HOLDS_NULL (v))
      return true;
    if (!JSON_NODE_HOLDS_VALUE (v) || json_node_get_value_type (v) != G_TYPE_BOOLEAN) {
      reason = "'record' must be true or false";
      return false;
    }
    out.record = json_node_get_boolean (v);
    return true;
  }
  bool is_string = JSON_NODE_HOLDS_VALUE (v) && json_node_get_value_type (v) == G_TYPE_STRING;
  if (!is_string && !JSON_NODE_HOLDS_NULL (v)) {
    reason = "'" + http::excerpt (name) + "' must be a string";
    return false;
  }
  std::string value = is_string ? json_node_get_string (v) : "";
  if (!g_utf8_validate (value.data (), (gssize) value.size (), nullptr)) {
    /* lone surrogates (\ud800) come out of the parser as invalid UTF-8 */
    reason = std::string ("'") + http::excerpt (name) + "' is not valid UTF-8";
    return false;
  }
  if (g_str_equal (name, "title")) {
    if (value.size () > kMaxTitle) {
      reason = "title is longer than 200 bytes";
      return false;
    }
    out.title = value;
  } else if (g_str_equal (name, "pipeline")) {
    out.pipeline = value;
  } else if (g_str_equal (name, "scheduled_at")) {
    if (value.empty ())
      return true;
    g_autoptr (GDateTime) t = g_date_time_new_from_iso8601 (value.c_str (), nullptr);
    if (!t) {
      reason = "scheduled_at must be an ISO 8601 date and time with a zone";
      return false;
    }
    out.scheduled_at = g_date_time_to_unix (t) * G_USEC_PER_SEC;
  } else {
    reason = "unknown field '" + http::excerpt (name)
        + "' (known: title, pipeline, scheduled_at, record)";
    return false;
  }
  return true;
}

}  // namespace

bool
parse_create_request (const http::Request & req, CreateRequest & out, unsigned & status,
    std::string & reason)
{
  out = CreateRequest ();
  std::string_view body = req.body.view ();
  if (body.size () > kMaxApiBody) {
    status = 413;
    reason = "the body is over 64 KiB";
    return false;
  }
  if (body.empty ())
    return true;
  status = 400;
  if (req.content_type != "application/json") {
    status = 415;
    reason = "send application/json";
    return false;
  }
  if (body.find ("\\u0000") != std::string_view::npos || body.find ('\0') != std::string_view::npos) {
    /* a NUL would cut a string short where it is stored */
    reason = "a NUL character (\\u0000) is not taken";
    return false;
  }
  g_autoptr (JsonParser) parser = json_parser_new ();
  g_autoptr (GError) err = nullptr;
  if (!json_parser_load_from_data (parser, body.data (), (gssize) body.size (), &err)) {
    reason = std::string ("malformed JSON: ") + err->message;
    return false;
  }
  JsonNode *root = json_parser_get_root (parser);
  if (!root || !JSON_NODE_HOLDS_OBJECT (root)) {
    reason = "the body must be a JSON object";
    return false;
  }
  JsonObjectIter iter;
  const gchar *name;
  JsonNode *v;
  json_object_iter_init (&iter, json_node_get_object (root));
  while (json_object_iter_next (&iter, &name, &v))
    if (!take_member (name, v, out, reason))
      return false;
  return true;
}

void
StreamsApi::handle (const http::Request & req, http::Response & res)
{
  std::string id, rest;
  bool has_id = http::split_path (req.path, "/api/streams/", id, rest);
  /* players and the pages call them: the public paths under /api */
  if (has_id && rest == "heartbeat") {
    public_.heartbeat (req, res, id);
    return;
  }
  if (has_id && rest == "status") {
    public_.status (req, res, id);
    return;
  }
  if (!require_admin (manager_.config (), req, res))
    return;
  if (req.path == "/api/streams" || req.path == "/api/streams/") {
    if (req.is ("POST"))
      create (req, res);
    else if (req.is ("GET"))
      list (res);
    else
      http::reply_error (res, 405, "use GET or POST");
    return;
  }
  if (!has_id || (!rest.empty () && rest != "events" && rest != "recordings")
      || !valid_stream_id (id)) {
    http::reply_error (res, 400, "not a stream id");
    return;
  }
  auto r = manager_.get (id);
  if (!r && !manager_.store ().read_error ().empty ()) {
    res.headers.set ("Retry-After", "2");
    http::reply_error (res, 503, "the stream store cannot be reached");
    return;
  }
  if (!r) {
    http::reply_error (res, 404, "no stream " + http::excerpt (id));
    return;
  }
  if (rest == "events") {
    events_.serve (req, res, id);
  } else if (rest == "recordings") {
    recordings (req, res, *r);
  } else if (req.is ("GET")) {
    http::reply_json (res, 200, views_.stream_json (*r));
  } else if (req.is ("DELETE")) {
    /* live here or on another node: finalized there (202) */
    bool was_live = r->state == StreamState::live;
    manager_.end (id);
    auto after = manager_.get (id);
    http::reply_json (res, was_live ? 202 : 200, views_.stream_json (after ? *after : *r));
  } else {
    http::reply_error (res, 405, "use GET or DELETE");
  }
}

void
StreamsApi::create (const http::Request & req, http::Response & res)
{
  if (refuse_simple_post (manager_.config (), req, res))
    return;
  CreateRequest c;
  unsigned status = 0;
  std::string reason;
  if (!parse_create_request (req, c, status, reason)) {
    http::reply_error (res, status, reason);
    return;
  }
  std::string key;
  Refusal refusal;
  auto r = manager_.create (c.title, c.scheduled_at, c.pipeline, c.record, key, refusal);
  if (!r) {
    http::reply_error (res, refusal.status, refusal.reason);
    return;
  }
  http::reply_json (res, 201, views_.stream_json (*r, key));
  res.headers.set ("Location", "/api/streams/" + r->id);
}

void
StreamsApi::list (http::Response & res)
{
  std::vector<StreamRecord> all = manager_.list ();
  if (!manager_.store ().read_error ().empty ()) {
    res.headers.set ("Retry-After", "2");
    http::reply_error (res, 503, "the stream store cannot be reached");
    return;
  }
  std::string out = "{\"streams\":[";
  bool first = true;
  for (auto & r : all) {
    out += (first ? "" : ",") + views_.stream_json (r);
    first = false;
  }
  http::reply_json (res, 200, out + "]}");
}

/* what a recorded stream left, once written (an empty list before, or for
 * a stream not recorded) */
void
StreamsApi::recordings (const http::Request & req, http::Response & res, const StreamRecord & r)
{
  if (req.is ("DELETE")) {
    remove_recordings (res, r);
    return;
  }
  if (!req.is ("GET")) {
    res.headers.set ("Allow", "GET, DELETE");
    http::reply_error (res, 405, "use GET or DELETE");
    return;
  }
  g_autoptr (JsonBuilder) b = json_builder_new ();
  json_builder_begin_object (b);
  json_builder_set_member_name (b, "recordings");
  json_builder_add_value (b, recordings_json (manager_.recordings (r.id), manager_.config ()));
  json_builder_end_object (b);
  http::reply_json (res, 200, to_text (b));
}

/* answered once the files are gone (a worker thread removes them):
 * {"removed": [files], "bytes": N (null with S3), "recordings": [the
 * recordings removed]}, and with a failure "error" and "failed" */
void
StreamsApi::remove_recordings (http::Response & res, const StreamRecord & r)
{
  std::shared_ptr<http::PendingResponse> pending = res.defer ();
  const Config & config = manager_.config ();
  Refusal refusal;
  bool started = manager_.remove_recordings (r, [pending, &config] (RemovalResult result) {
        http::Response answer;
        g_autoptr (JsonBuilder) b = json_builder_new ();
        json_builder_begin_object (b);
        if (!result.failed.empty ()) {
          std::string why;
          for (auto & [rec, error] : result.failed)
            why += (why.empty () ? "" : "; ") + rec.name + ": " + error;
          add_string (b, "error", "some recordings could not be removed: " + why);
        }
        json_builder_set_member_name (b, "removed");
        json_builder_begin_array (b);
        for (auto & f : result.files)
          json_builder_add_string_value (b, f.c_str ());
        json_builder_end_array (b);
        json_builder_set_member_name (b, "bytes");
        if (result.bytes)
          json_builder_add_int_value (b, (gint64) *result.bytes);
        else
          json_builder_add_null_value (b);
        json_builder_set_member_name (b, "recordings");
        json_builder_add_value (b, recordings_json (result.removed, config));
        if (!result.failed.empty ()) {
          std::vector<RecordingRecord> failed;
          for (auto & f : result.failed)
            failed.push_back (f.first);
          json_builder_set_member_name (b, "failed");
          json_builder_add_value (b, recordings_json (failed, config));
        }
        json_builder_end_object (b);
        http::reply_json (answer, result.failed.empty () ? 200 : 502, to_text (b));
        pending->finish (std::move (answer));
      }, refusal);
  if (!started) {
    http::Response answer;
    http::reply_error (answer, refusal.status, refusal.reason);
    pending->finish (std::move (answer));
  }
}

}  // namespace castline::launcher
