#include "api/apiserver.h"

#include "api/hlsfiles.h"
#include "streams/streamjson.h"
#include "notify/webhooks.h"
#include "webmws/controlmessage.h"
#include "webmws/wsserver.h"

#include <json-glib/json-glib.h>

#include <cstring>

namespace castline::launcher {

namespace {

constexpr goffset kMaxBody = 64 * 1024;
constexpr goffset kMaxHeartbeat = 1024;
constexpr size_t kMaxTitle = 200;

bool
is_loopback (SoupServerMessage * msg)
{
  GSocketAddress *addr = soup_server_message_get_remote_address (msg);
  return addr && G_IS_INET_SOCKET_ADDRESS (addr)
      && g_inet_address_get_is_loopback (
          g_inet_socket_address_get_address (G_INET_SOCKET_ADDRESS (addr)));
}

/* MediaRecorder codec names to ours */
void
codecs_from_mime (const castline::webmws::MimeType & m, std::vector<std::string> & video,
    std::vector<std::string> & audio)
{
  g_auto (GStrv) parts = g_strsplit (m.codecs.c_str (), ",", -1);
  for (char **p = parts; *p; p++) {
    std::string c = *p;
    if (c == "vp8")
      video.push_back ("vp8");
    else if (c == "vp9" || g_str_has_prefix (c.c_str (), "vp09"))
      video.push_back ("vp9");
    else if (c == "h264" || g_str_has_prefix (c.c_str (), "avc1"))
      video.push_back ("h264");
    else if (c == "opus")
      audio.push_back ("opus");
    else if (!c.empty ())
      video.push_back (c);        /* unknown: no pipeline will take it */
  }
  if (m.codecs.empty () && g_str_has_prefix (m.media_type.c_str (), "audio/"))
    audio.push_back ("opus");
}

}  // namespace

void
reply_json (SoupServerMessage * msg, unsigned status, const std::string & json)
{
  soup_server_message_set_status (msg, status, nullptr);
  soup_server_message_set_response (msg, "application/json", SOUP_MEMORY_COPY, json.data (),
      json.size ());
  soup_message_headers_replace (soup_server_message_get_response_headers (msg), "Cache-Control",
      "no-store");
}

void
reply_error (SoupServerMessage * msg, unsigned status, const std::string & reason)
{
  g_autoptr (JsonBuilder) b = json_builder_new ();
  json_builder_begin_object (b);
  add_string (b, "error", reason);
  json_builder_end_object (b);
  reply_json (msg, status, to_text (b));
}

std::string
bearer_token (SoupServerMessage * msg)
{
  const char *auth = soup_message_headers_get_one (
      soup_server_message_get_request_headers (msg), "Authorization");
  if (!auth || g_ascii_strncasecmp (auth, "Bearer ", 7) != 0)
    return "";
  std::string t = auth + 7;
  while (!t.empty () && t.front () == ' ')
    t.erase (0, 1);
  return t;
}

bool
split_path (const char *path, const char *prefix, std::string & id, std::string & rest)
{
  size_t n = strlen (prefix);
  if (strncmp (path, prefix, n) != 0)
    return false;
  std::string tail = path + n;
  size_t slash = tail.find ('/');
  id = tail.substr (0, slash);
  rest = slash == std::string::npos ? "" : tail.substr (slash + 1);
  return !id.empty ();
}

ApiServer::ApiServer (StreamManager & manager)
    : manager_ (manager),
      viewers_ (ViewerCounter::settings_for (manager.config ().hls_target_duration)),
      metrics_ (manager, viewers_),
      events_ (std::make_unique<EventStream> (manager, viewers_,
          [this] (const StreamRecord & r) { return stream_json (r, ""); })),
      pages_ (manager.config ())
{
  server_ = soup_server_new ("server-header", "castline ", nullptr);
  listener_ = std::make_unique<HttpListener> (server_, manager.config ().http_request_timeout);
  soup_server_add_handler (server_, "/api/streams", on_api, this, nullptr);
  soup_server_add_handler (server_, "/api/events", on_events, this, nullptr);
  soup_server_add_handler (server_, "/metrics", on_metrics, this, nullptr);
  soup_server_add_early_handler (server_, "/ingest", on_ingest_early, this, nullptr);
  soup_server_add_websocket_handler (server_, "/ingest", nullptr, nullptr, on_ingest, this,
      nullptr);
  soup_server_add_handler (server_, "/live", on_live, this, nullptr);
  /* "/": every path the handlers above do not take */
  pages_.attach (server_);
  tick_ = g_timeout_add_seconds (1, [] (gpointer data) -> gboolean {
        auto *self = static_cast<ApiServer *> (data);
        gint64 now = g_get_monotonic_time ();
        self->viewers_.prune (now);
        self->events_->tick (now);
        return G_SOURCE_CONTINUE;
      }, this);
}

ApiServer::~ApiServer ()
{
  g_source_remove (tick_);
  events_.reset ();                /* its responses end before the server goes */
  listener_.reset ();
  soup_server_disconnect (server_);
  g_object_unref (server_);
}

bool
ApiServer::listen (std::string & error)
{
  const Config & c = manager_.config ();
  return listener_->listen (c.host, c.port, error);
}

bool
ApiServer::admin_allowed (SoupServerMessage * msg) const
{
  const std::string & token = manager_.config ().admin_token;
  if (token.empty ())
    return is_loopback (msg);
  return castline::webmws::keys_equal (token, bearer_token (msg));
}

bool
ApiServer::check_admin (SoupServerMessage * msg) const
{
  if (admin_allowed (msg))
    return true;
  soup_message_headers_replace (soup_server_message_get_response_headers (msg),
      "WWW-Authenticate", "Bearer realm=\"castline\"");
  reply_error (msg, 401, "admin token required");
  return false;
}

void
ApiServer::set_webhook_stats (std::function<WebhookStats ()> source)
{
  metrics_.set_webhook_stats (std::move (source));
}

std::string
ApiServer::stream_json (const StreamRecord & r, const std::string & key) const
{
  std::string base = manager_.config ().base_url ();
  std::string ws_base = base;
  if (g_str_has_prefix (ws_base.c_str (), "https://"))
    ws_base = "wss://" + ws_base.substr (8);
  else if (g_str_has_prefix (ws_base.c_str (), "http://"))
    ws_base = "ws://" + ws_base.substr (7);

  g_autoptr (JsonBuilder) b = json_builder_new ();
  json_builder_begin_object (b);
  add_stream_record (b, r);
  if (!key.empty ())
    add_string (b, "key", key);
  add_string (b, "whip_url", base + "/whip/" + r.id);
  add_string (b, "ws_url", ws_base + "/ingest/" + r.id);
  add_string (b, "playback_url", manager_.playback_url (r.id));
  add_audience (b, r);
  json_builder_end_object (b);
  return to_text (b);
}

void
ApiServer::add_audience (JsonBuilder * b, const StreamRecord & r) const
{
  json_builder_set_member_name (b, "viewers");
  json_builder_add_int_value (b, viewers_.count (r.id, g_get_monotonic_time ()));
  LiveStream *ls = r.state == StreamState::live
      ? const_cast<StreamManager &> (manager_).live (r.id) : nullptr;
  if (ls) {
    GstStructure *s = ls->pipeline->stats ();
    json_builder_set_member_name (b, "stats");
    add_structure (b, s);
    gst_structure_free (s);
  }
}

std::string
ApiServer::status_json (const StreamRecord & r) const
{
  g_autoptr (JsonBuilder) b = json_builder_new ();
  json_builder_begin_object (b);
  add_string (b, "id", r.id);
  add_string (b, "title", r.title);
  add_string (b, "state", state_name (r.state));
  json_builder_set_member_name (b, "reason");
  if (r.reason.empty () || r.state == StreamState::live)
    json_builder_add_null_value (b);
  else
    json_builder_add_string_value (b, r.reason.c_str ());
  add_string (b, "ingest", r.ingest);
  add_time (b, "scheduled_at", r.scheduled_at);
  add_time (b, "started_at", r.started_at);
  add_time (b, "ended_at", r.ended_at);
  add_string (b, "playback_url", manager_.playback_url (r.id));
  add_audience (b, r);
  json_builder_end_object (b);
  return to_text (b);
}

void
ApiServer::api_create (SoupServerMessage * msg)
{
  SoupMessageBody *body = soup_server_message_get_request_body (msg);
  if (body->length > kMaxBody) {
    reply_error (msg, 413, "the body is over 64 KiB");
    return;
  }
  const char *ctype = soup_message_headers_get_content_type (
      soup_server_message_get_request_headers (msg), nullptr);
  if (body->length > 0 && g_strcmp0 (ctype, "application/json") != 0) {
    reply_error (msg, 415, "send application/json");
    return;
  }
  std::string title, pipeline;
  int64_t scheduled_at = 0;
  std::optional<bool> record;
  if (body->length > 0) {
    g_autoptr (JsonParser) parser = json_parser_new ();
    g_autoptr (GError) err = nullptr;
    if (!json_parser_load_from_data (parser, body->data, (gssize) body->length, &err)) {
      reply_error (msg, 400, std::string ("malformed JSON: ") + err->message);
      return;
    }
    JsonNode *root = json_parser_get_root (parser);
    if (!root || !JSON_NODE_HOLDS_OBJECT (root)) {
      reply_error (msg, 400, "the body must be a JSON object");
      return;
    }
    JsonObjectIter iter;
    const gchar *name;
    JsonNode *v;
    json_object_iter_init (&iter, json_node_get_object (root));
    while (json_object_iter_next (&iter, &name, &v)) {
      if (g_str_equal (name, "record")) {
        if (JSON_NODE_HOLDS_NULL (v))
          continue;
        if (!JSON_NODE_HOLDS_VALUE (v) || json_node_get_value_type (v) != G_TYPE_BOOLEAN) {
          reply_error (msg, 400, "'record' must be true or false");
          return;
        }
        record = json_node_get_boolean (v);
        continue;
      }
      bool is_string = JSON_NODE_HOLDS_VALUE (v) && json_node_get_value_type (v) == G_TYPE_STRING;
      bool is_null = JSON_NODE_HOLDS_NULL (v);
      if (!is_string && !is_null) {
        reply_error (msg, 400, std::string ("'") + name + "' must be a string");
        return;
      }
      std::string value = is_string ? json_node_get_string (v) : "";
      if (g_str_equal (name, "title")) {
        if (value.size () > kMaxTitle) {
          reply_error (msg, 400, "title is longer than 200 bytes");
          return;
        }
        title = value;
      } else if (g_str_equal (name, "pipeline")) {
        pipeline = value;
      } else if (g_str_equal (name, "scheduled_at")) {
        if (value.empty ())
          continue;
        g_autoptr (GDateTime) t = g_date_time_new_from_iso8601 (value.c_str (), nullptr);
        if (!t) {
          reply_error (msg, 400, "scheduled_at must be an ISO 8601 date and time with a zone");
          return;
        }
        scheduled_at = g_date_time_to_unix (t) * G_USEC_PER_SEC;
      } else {
        reply_error (msg, 400, std::string ("unknown field '") + name
            + "' (known: title, pipeline, scheduled_at, record)");
        return;
      }
    }
  }
  std::string key;
  Refusal refusal;
  auto r = manager_.create (title, scheduled_at, pipeline, record, key, refusal);
  if (!r) {
    reply_error (msg, refusal.status, refusal.reason);
    return;
  }
  reply_json (msg, 201, stream_json (*r, key));
  soup_message_headers_replace (soup_server_message_get_response_headers (msg), "Location",
      ("/api/streams/" + r->id).c_str ());
}

void
ApiServer::on_api (SoupServer *, SoupServerMessage * msg, const char *path, GHashTable *,
    gpointer data)
{
  auto *self = static_cast<ApiServer *> (data);
  const char *method = soup_server_message_get_method (msg);
  std::string id, rest;
  /* players and the pages call them: the public paths under /api */
  if (split_path (path, "/api/streams/", id, rest) && rest == "heartbeat") {
    self->api_heartbeat (msg, id);
    return;
  }
  if (split_path (path, "/api/streams/", id, rest) && rest == "status") {
    self->api_status (msg, id);
    return;
  }
  if (!self->check_admin (msg))
    return;
  if (g_str_equal (path, "/api/streams") || g_str_equal (path, "/api/streams/")) {
    if (g_str_equal (method, "POST")) {
      self->api_create (msg);
    } else if (g_str_equal (method, "GET")) {
      std::string out = "{\"streams\":[";
      bool first = true;
      for (auto & r : self->manager_.list ()) {
        out += (first ? "" : ",") + self->stream_json (r, "");
        first = false;
      }
      reply_json (msg, 200, out + "]}");
    } else {
      reply_error (msg, 405, "use GET or POST");
    }
    return;
  }
  if (!split_path (path, "/api/streams/", id, rest)
      || (!rest.empty () && rest != "events" && rest != "recordings") || !valid_stream_id (id)) {
    reply_error (msg, 400, "not a stream id");
    return;
  }
  auto r = self->manager_.get (id);
  if (!r) {
    reply_error (msg, 404, "no stream " + id);
    return;
  }
  if (rest == "events") {
    self->api_events (msg, id);
  } else if (rest == "recordings") {
    self->api_recordings (msg, id);
  } else if (g_str_equal (method, "GET")) {
    reply_json (msg, 200, self->stream_json (*r, ""));
  } else if (g_str_equal (method, "DELETE")) {
    bool was_live = self->manager_.live (id) != nullptr;
    self->manager_.end (id);
    reply_json (msg, was_live ? 202 : 200, self->stream_json (*self->manager_.get (id), ""));
  } else {
    reply_error (msg, 405, "use GET or DELETE");
  }
}

/* POST /api/streams/{id}/heartbeat {"viewer": "<id>"}: a player fed from
 * S3 or a CDN says it is watching (every 10 s). Public, since players
 * have no admin token, with CORS; any content type, so that
 * navigator.sendBeacon's text/plain needs no preflight. */
bool
ApiServer::public_cors (SoupServerMessage * msg, const char *methods) const
{
  SoupMessageHeaders *h = soup_server_message_get_response_headers (msg);
  const std::string & origin = manager_.config ().cors_origin;
  if (!origin.empty ())
    soup_message_headers_replace (h, "Access-Control-Allow-Origin", origin.c_str ());
  if (!g_str_equal (soup_server_message_get_method (msg), "OPTIONS"))
    return false;
  soup_message_headers_replace (h, "Access-Control-Allow-Methods", methods);
  soup_message_headers_replace (h, "Access-Control-Allow-Headers", "Content-Type");
  soup_message_headers_replace (h, "Access-Control-Max-Age", "86400");
  soup_server_message_set_status (msg, 204, nullptr);
  return true;
}

void
ApiServer::api_heartbeat (SoupServerMessage * msg, const std::string & id)
{
  SoupMessageHeaders *h = soup_server_message_get_response_headers (msg);
  if (public_cors (msg, "POST, OPTIONS"))
    return;
  const char *method = soup_server_message_get_method (msg);
  if (!g_str_equal (method, "POST")) {
    soup_message_headers_replace (h, "Allow", "POST, OPTIONS");
    reply_error (msg, 405, "use POST");
    return;
  }
  if (!valid_stream_id (id)) {
    reply_error (msg, 400, "not a stream id");
    return;
  }
  SoupMessageBody *body = soup_server_message_get_request_body (msg);
  if (body->length > kMaxHeartbeat) {
    reply_error (msg, 413, "the body is over 1 KiB");
    return;
  }
  if (!manager_.get (id)) {
    reply_error (msg, 404, "no stream " + id);
    return;
  }
  g_autoptr (JsonParser) parser = json_parser_new ();
  JsonNode *root = body->length > 0
      && json_parser_load_from_data (parser, body->data, (gssize) body->length, nullptr)
      ? json_parser_get_root (parser) : nullptr;
  JsonNode *v = root && JSON_NODE_HOLDS_OBJECT (root)
      ? json_object_get_member (json_node_get_object (root), "viewer") : nullptr;
  const char *viewer = v && JSON_NODE_HOLDS_VALUE (v) && json_node_get_value_type (v) == G_TYPE_STRING
      ? json_node_get_string (v) : nullptr;
  if (!viewer || !ViewerCounter::valid_viewer_id (viewer)) {
    reply_error (msg, 400, "send {\"viewer\": \"<1 to 64 of A-Z a-z 0-9 _ ->\"}");
    return;
  }
  viewers_.heartbeat (id, viewer, g_get_monotonic_time ());
  soup_server_message_set_status (msg, 204, nullptr);
  soup_message_headers_replace (h, "Cache-Control", "no-store");
}

/* GET /api/streams/{id}/status: what the broadcast and watch pages poll
 * (state, times, viewers, health). Public like the heartbeat: it tells
 * nothing a viewer of the stream could not see, and never the key. */
void
ApiServer::api_status (SoupServerMessage * msg, const std::string & id)
{
  if (public_cors (msg, "GET, HEAD, OPTIONS"))
    return;
  const char *method = soup_server_message_get_method (msg);
  if (!g_str_equal (method, "GET") && !g_str_equal (method, "HEAD")) {
    soup_message_headers_replace (soup_server_message_get_response_headers (msg), "Allow",
        "GET, HEAD, OPTIONS");
    reply_error (msg, 405, "use GET");
    return;
  }
  auto r = valid_stream_id (id) ? manager_.get (id) : std::nullopt;
  if (!r) {
    reply_error (msg, 404, "no stream " + id);
    return;
  }
  reply_json (msg, 200, status_json (*r));
}

/* GET /api/streams/{id}/recordings: what a recorded stream left, once
 * written (an empty list before, or for a stream not recorded) */
void
ApiServer::api_recordings (SoupServerMessage * msg, const std::string & id)
{
  if (!g_str_equal (soup_server_message_get_method (msg), "GET")) {
    soup_message_headers_replace (soup_server_message_get_response_headers (msg), "Allow", "GET");
    reply_error (msg, 405, "use GET");
    return;
  }
  g_autoptr (JsonBuilder) b = json_builder_new ();
  json_builder_begin_object (b);
  json_builder_set_member_name (b, "recordings");
  json_builder_add_value (b, recordings_json (manager_.recordings (id), manager_));
  json_builder_end_object (b);
  reply_json (msg, 200, to_text (b));
}

void
ApiServer::api_events (SoupServerMessage * msg, const std::string & id)
{
  if (!g_str_equal (soup_server_message_get_method (msg), "GET")) {
    reply_error (msg, 405, "use GET");
    return;
  }
  std::string refusal;
  if (!events_->serve (msg, id, refusal)) {
    soup_message_headers_replace (soup_server_message_get_response_headers (msg), "Retry-After",
        "10");
    reply_error (msg, 503, refusal);
  }
}

/* GET /api/events: the events of every stream */
void
ApiServer::on_events (SoupServer *, SoupServerMessage * msg, const char *path, GHashTable *,
    gpointer data)
{
  auto *self = static_cast<ApiServer *> (data);
  if (!self->check_admin (msg))
    return;
  if (!g_str_equal (path, "/api/events")) {
    reply_error (msg, 404, "no such path");
    return;
  }
  self->api_events (msg, "");
}

void
ApiServer::on_metrics (SoupServer *, SoupServerMessage * msg, const char *path, GHashTable *,
    gpointer data)
{
  auto *self = static_cast<ApiServer *> (data);
  if (!self->check_admin (msg))
    return;
  if (!g_str_equal (path, "/metrics")) {
    reply_error (msg, 404, "no such path");
    return;
  }
  const char *method = soup_server_message_get_method (msg);
  if (!g_str_equal (method, "GET") && !g_str_equal (method, "HEAD")) {
    reply_error (msg, 405, "use GET");
    return;
  }
  std::string text = render_metrics (self->metrics_.snapshot (g_get_monotonic_time ()));
  soup_server_message_set_status (msg, 200, nullptr);
  soup_server_message_set_response (msg, kMetricsContentType, SOUP_MEMORY_COPY, text.data (),
      text.size ());
  soup_message_headers_replace (soup_server_message_get_response_headers (msg), "Cache-Control",
      "no-store");
}

/* Before the upgrade: the stream id and key (HTTP 400/401 are what a
 * WebSocket client library reports best before it has a socket). */
void
ApiServer::on_ingest_early (SoupServer *, SoupServerMessage * msg, const char *path,
    GHashTable * query, gpointer data)
{
  auto *self = static_cast<ApiServer *> (data);
  std::string id, rest;
  if (!split_path (path, "/ingest/", id, rest) || !rest.empty () || !valid_stream_id (id)) {
    reply_error (msg, 400, "not a stream id");
    return;
  }
  const char *key = query ? (const char *) g_hash_table_lookup (query, "key") : nullptr;
  std::string offered = key ? key : bearer_token (msg);
  auto r = self->manager_.get (id);
  if (!r || !key_matches (offered, r->key_hash)) {
    reply_error (msg, 401, "unknown stream or wrong stream key");
    return;
  }
  const char *mime = query ? (const char *) g_hash_table_lookup (query, "mimeType") : nullptr;
  if (mime) {
    castline::webmws::MimeType m;
    std::string error;
    if (!castline::webmws::parse_mime_type (mime, m, error)) {
      reply_error (msg, 415, error);
      return;
    }
  } else if (r->pipeline.empty ()) {
    reply_error (msg, 400, "say what the recording holds: ?mimeType=<MediaRecorder.mimeType>");
    return;
  }
}

/* After the upgrade: the state and the limit are told with close codes a
 * page can read (1008 and the reason). */
void
ApiServer::on_ingest (SoupServer *, SoupServerMessage * msg, const char *path,
    SoupWebsocketConnection * conn, gpointer data)
{
  auto *self = static_cast<ApiServer *> (data);
  std::string id, rest;
  split_path (path, "/ingest/", id, rest);
  GUri *uri = soup_server_message_get_uri (msg);
  g_autoptr (GHashTable) query = g_uri_get_query (uri)
      ? g_uri_parse_params (g_uri_get_query (uri), -1, "&", G_URI_PARAMS_NONE, nullptr) : nullptr;
  const char *mime = query ? (const char *) g_hash_table_lookup (query, "mimeType") : nullptr;

  if (LiveStream *ls = self->manager_.live (id); ls && !ls->lost_reason.empty ()) {
    /* a publisher coming back before its lost session is finalized */
    soup_websocket_connection_close (conn, SOUP_WEBSOCKET_CLOSE_POLICY_VIOLATION,
        "the stream's last session is being finalized: try again in a moment");
    return;
  }
  if (LiveStream *ls = self->manager_.live (id)) {
    /* live already: its webmwssrc refuses the newcomer itself (1008) */
    g_autoptr (GstElement) src = gst_bin_get_by_name (GST_BIN (ls->pipeline->pipeline ()), "ingest");
    gboolean ok = FALSE;
    if (src)
      g_signal_emit_by_name (src, "add-connection", conn, &ok);
    else
      soup_websocket_connection_close (conn, SOUP_WEBSOCKET_CLOSE_POLICY_VIOLATION,
          "the stream has a WHIP publisher");
    return;
  }
  std::vector<std::string> video, audio;
  if (mime) {
    castline::webmws::MimeType m;
    std::string error;
    castline::webmws::parse_mime_type (mime, m, error);
    codecs_from_mime (m, video, audio);
  } else if (auto r = self->manager_.get (id)) {
    const PipelineDescription *d = self->manager_.catalog ().find (r->pipeline);
    if (d) {
      video = d->video_codecs;
      audio = d->audio_codecs;
    }
  }
  auto r = self->manager_.get (id);
  if (r && (r->state == StreamState::ended || r->state == StreamState::failed)) {
    soup_websocket_connection_close (conn, SOUP_WEBSOCKET_CLOSE_POLICY_VIOLATION,
        "the stream has ended");
    return;
  }
  if (self->manager_.live_count () >= self->manager_.config ().max_live_streams) {
    soup_websocket_connection_close (conn, SOUP_WEBSOCKET_CLOSE_POLICY_VIOLATION,
        "the limit of live streams is reached: try again later");
    return;
  }
  Refusal refusal;
  GstElement *ingest = nullptr;
  LiveStream *ls = self->manager_.go_live (id, "websocket", video, audio,
      [&] (LiveStream & s) { ingest = s.pipeline->add_websocket_ingest (
              self->manager_.config ().idle_timeout); }, refusal);
  if (!ls) {
    std::string reason = castline::webmws::utf8_prefix (refusal.reason, 123);
    soup_websocket_connection_close (conn, refusal.status == 500
        ? SOUP_WEBSOCKET_CLOSE_SERVER_ERROR : SOUP_WEBSOCKET_CLOSE_POLICY_VIOLATION,
        reason.c_str ());
    return;
  }
  gboolean ok = FALSE;
  g_signal_emit_by_name (ingest, "add-connection", conn, &ok);
}

void
ApiServer::on_live (SoupServer *, SoupServerMessage * msg, const char *path, GHashTable * query,
    gpointer data)
{
  auto *self = static_cast<ApiServer *> (data);
  std::string id, file;
  if (!split_path (path, "/live/", id, file) || !valid_stream_id (id)) {
    reply_error (msg, 400, "not a stream id");
    return;
  }
  HlsServeOptions options;
  options.cors_origin = self->manager_.config ().cors_origin;
  /* file, or rung/file of an abr stream */
  serve_hls_path (msg, self->manager_.hls_dir (id), file, options);
  /* a player polling the playlist is a viewer: the one its heartbeats name
   * when it says which (?viewer=, as the watch page does), so a player
   * that does both counts once; else its address and User-Agent */
  guint status = soup_server_message_get_status (msg);
  if (g_str_equal (soup_server_message_get_method (msg), "GET") && (status == 200 || status == 206)
      && g_str_has_suffix (file.c_str (), ".m3u8")) {
    const char *viewer = query ? (const char *) g_hash_table_lookup (query, "viewer") : nullptr;
    if (viewer && ViewerCounter::valid_viewer_id (viewer)) {
      self->viewers_.heartbeat (id, viewer, g_get_monotonic_time ());
      return;
    }
    const char *ua = soup_message_headers_get_one (soup_server_message_get_request_headers (msg),
        "User-Agent");
    const char *host = soup_server_message_get_remote_host (msg);
    self->viewers_.playlist_request (id, host ? host : "", ua ? ua : "", g_get_monotonic_time ());
  }
}

}  // namespace castline::launcher
