#include "ingest/websocket/websocketroute.h"

#include "common/http/replies.h"
#include "ingest/websocket/websocketingest.h"
#include "ingest/websocket/websocketprelude.h"
#include "webmws/trackcodecs.h"

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
  }
}

void
WebSocketIngestRoute::open (const http::Request & req, http::WebSocket * ws)
{
  std::string id = stream_of (req);
  std::string key = key_of (req);
  /* a publisher that cannot go live now hears it at once, not after its header */
  Refusal refusal = manager_.check_publisher (id, key);
  if (refusal.status) {
    refuse (ws, refusal);
    return;
  }
  const char *mime = req.param ("mimeType");
  WebSocketPrelude::start (ws, mime ? mime : "", manager_.config ().idle_timeout,
      [this, id, key] (http::WebSocket * ws, const castline::webmws::WebmWsSession & session,
          GBytes * first_bytes) { admit (id, key, ws, session, first_bytes); });
}

void
WebSocketIngestRoute::admit (const std::string & id, const std::string & key,
    http::WebSocket * ws, const castline::webmws::WebmWsSession & session, GBytes * first_bytes)
{
  const castline::webmws::HeaderInfo & header = session.header ();
  const castline::webmws::MimeType & declared = session.mime_type ();
  PublisherMedia media;
  if (header.tracks_known) {
    /* what the recording holds, whatever was declared */
    castline::webmws::RecordingCodecs codecs = castline::webmws::codecs_of_tracks (header.tracks);
    media = { codecs.video, codecs.audio };
  } else if (!declared.media_type.empty ()) {
    media = media_of_mime_type (declared);
  } else if (auto r = manager_.get (id)) {
    /* neither says: what the stream's own pipeline takes */
    if (const PipelineDescription *d = manager_.catalog ().find (r->pipeline))
      media = { d->video_codecs, d->audio_codecs };
  }
  auto ingest = std::make_unique<WebSocketIngest> (std::move (media),
      manager_.config ().idle_timeout);
  WebSocketIngest *admitted = ingest.get ();
  Refusal refusal;
  if (!manager_.admit (id, key, std::move (ingest), refusal)) {
    refuse (ws, refusal);
    return;
  }
  admitted->add_connection (ws, declared.media_type.empty () ? "" : declared.to_string (),
      first_bytes);
}

/* 406 (no pipeline takes the recording's codecs): 1003, the data cannot be
 * taken; 500: 1011; any other refusal (ended, live already, limits): 1008 */
void
WebSocketIngestRoute::refuse (http::WebSocket * ws, const Refusal & refusal)
{
  unsigned short code = refusal.status == 406 ? http::kCloseUnsupportedData
      : refusal.status == 500 ? http::kCloseServerError : http::kClosePolicyViolation;
  http::close_websocket (ws, code, refusal.reason);
}

}  // namespace castline::launcher
