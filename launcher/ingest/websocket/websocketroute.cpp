#include "ingest/websocket/websocketroute.h"

#include "common/http/replies.h"
#include "ingest/websocket/websocketingest.h"

namespace castline::launcher {

namespace {

constexpr char kPrefix[] = "/ingest/";

/* the stream id of /ingest/{id}, or "" */
std::string
stream_of (const http::Request & req)
{
  std::string id, rest;
  if (!http::split_path (req.path, kPrefix, id, rest) || !rest.empty () || !valid_stream_id (id))
    return "";
  return id;
}

/* ?key=, else the Bearer token */
std::string
key_of (const http::Request & req)
{
  const char *key = req.param ("key");
  return key ? key : http::bearer_token (req);
}

}  // namespace

http::WebSocketRoute
WebSocketIngestRoute::route ()
{
  return { [this] (const http::Request & req, http::Response & res) { check (req, res); },
    [this] (const http::Request & req, http::WebSocket * ws) { open (req, ws); } };
}

void
WebSocketIngestRoute::check (const http::Request & req, http::Response & res)
{
  std::string id = stream_of (req);
  if (id.empty ()) {
    http::reply_error (res, 400, "not a stream id");
    return;
  }
  Refusal refusal = manager_.check_publisher (id, key_of (req));
  if (refusal.status == 401) {
    http::reply_error (res, 401, refusal.reason);
    return;
  }
  if (const char *mime = req.param ("mimeType")) {
    castline::webmws::MimeType m;
    std::string error;
    if (!castline::webmws::parse_mime_type (mime, m, error))
      http::reply_error (res, 415, error);
  } else if (auto r = manager_.get (id); r && r->pipeline.empty ()) {
    http::reply_error (res, 400, "say what the recording holds: ?mimeType=<MediaRecorder.mimeType>");
  }
}

void
WebSocketIngestRoute::open (const http::Request & req, http::WebSocket * ws)
{
  std::string id = stream_of (req);
  PublisherMedia media;
  castline::webmws::MimeType m;
  std::string error;
  if (const char *mime = req.param ("mimeType")) {
    if (castline::webmws::parse_mime_type (mime, m, error))
      media = media_of_mime_type (m);
  } else if (auto r = manager_.get (id)) {
    /* no mimeType: what the stream's own pipeline takes */
    if (const PipelineDescription *d = manager_.catalog ().find (r->pipeline))
      media = { d->video_codecs, d->audio_codecs };
  }
  auto ingest = std::make_unique<WebSocketIngest> (std::move (media),
      manager_.config ().idle_timeout);
  WebSocketIngest *admitted = ingest.get ();
  Refusal refusal;
  if (!manager_.admit (id, key_of (req), std::move (ingest), refusal)) {
    http::close_websocket (ws, refusal.status == 500 ? http::kCloseServerError
        : http::kClosePolicyViolation, refusal.reason);
    return;
  }
  admitted->add_connection (ws);
}

}  // namespace castline::launcher
