#include "ingest/whip/whiproutes.h"

#include "common/http/replies.h"
#include "ingest/whip/whippublisher.h"

namespace castline::launcher {

namespace {

constexpr unsigned kNegotiationTimeoutMs = 5000;

/* an RFC 9110 quoted-string */
std::string
quoted (const char *value)
{
  std::string q = "\"";
  for (const char *c = value; *c; c++) {
    if (*c == '"' || *c == '\\')
      q += '\\';
    q += *c;
  }
  return q + "\"";
}

/* RFC 9725 4.5 (and RFC 6750): a 401 says how to authenticate */
void
refuse_key (http::Response & res)
{
  res.headers.set ("WWW-Authenticate", "Bearer realm=\"castline\"");
  http::reply_error (res, 401, "unknown stream or wrong stream key");
}

}  // namespace

std::string
ice_server_link (const std::string & url)
{
  /* turn://user:pass@host:port -> <turn:host:port>; username=...; credential=... */
  if (g_str_has_prefix (url.c_str (), "turn://") || g_str_has_prefix (url.c_str (), "turns://")) {
    g_autoptr (GUri) uri = g_uri_parse (url.c_str (), G_URI_FLAGS_HAS_PASSWORD, nullptr);
    if (!uri)
      return "";
    std::string scheme = g_uri_get_scheme (uri);
    std::string link = "<" + scheme + ":" + g_uri_get_host (uri)
        + (g_uri_get_port (uri) > 0 ? ":" + std::to_string (g_uri_get_port (uri)) : "")
        + ">; rel=\"ice-server\"";
    const char *user = g_uri_get_user (uri);
    const char *pass = g_uri_get_password (uri);
    if (user)
      link += "; username=" + quoted (user);
    if (pass)
      link += "; credential=" + quoted (pass) + "; credential-type=\"password\"";
    return link;
  }
  return "<" + url + ">; rel=\"ice-server\"";
}


void
WhipRoutes::handle (const http::Request & req, http::Response & res)
{
  const std::string & origin = manager_.config ().cors_origin;
  if (!origin.empty ()) {
    res.headers.set ("Access-Control-Allow-Origin", origin);
    res.headers.set ("Access-Control-Expose-Headers", "Location, Link, ETag");
  }
  std::string id, session;
  if (!http::split_path (req.path, "/whip/", id, session) || !valid_stream_id (id)
      || session.find ('/') != std::string::npos) {
    http::reply_error (res, 400, "not a stream id");
    return;
  }
  if (req.is ("OPTIONS")) {
    res.headers.set ("Access-Control-Allow-Methods",
        session.empty () ? "POST, OPTIONS" : "PATCH, DELETE, OPTIONS");
    res.headers.set ("Access-Control-Allow-Headers", "Authorization, Content-Type, If-Match");
    if (session.empty ())
      res.headers.set ("Accept-Post", "application/sdp");
    res.status = 204;
    return;
  }
  if (!session.empty ())
    this->session (req, res, id, session);
  else if (req.is ("POST"))
    post (req, res, id);
  else
    http::reply_error (res, 405, "POST an SDP offer");
}

/* the session URL: the stream key too, as for POST */
void
WhipRoutes::session (const http::Request & req, http::Response & res, const std::string & id,
    const std::string & session)
{
  auto r = manager_.get (id);
  if (!r || !key_matches (http::bearer_token (req), r->key_hash)) {
    refuse_key (res);
    return;
  }
  LiveStream *ls = manager_.live (id);
  auto *whip = ls ? dynamic_cast<WhipPublisher *> (ls->ingest.get ()) : nullptr;
  if (!whip || whip->session () != session) {
    http::reply_error (res, 404, "no such WHIP session");
    return;
  }
  if (req.is ("DELETE")) {
    manager_.end (id);
    res.status = 200;
  } else if (req.is ("PATCH")) {
    if (req.content_type != "application/trickle-ice-sdpfrag") {
      http::reply_error (res, 415, "send application/trickle-ice-sdpfrag");
      return;
    }
    std::string error;
    bool ice_restart = false;
    /* RFC 9725 4.3.2: a session without ICE restarts answers one 422 */
    if (!whip->add_remote_candidates (std::string (req.body.view ()), error, &ice_restart))
      http::reply_error (res, ice_restart ? 422 : 400, error);
    else
      res.status = 204;
  } else {
    http::reply_error (res, 405, "use PATCH or DELETE on a WHIP session");
  }
}

void
WhipRoutes::post (const http::Request & req, http::Response & res, const std::string & id)
{
  if (req.content_type != "application/sdp") {
    http::reply_error (res, 415, "send the offer as application/sdp");
    return;
  }
  if (req.body.size () > kMaxOffer) {
    http::reply_error (res, 413, "the offer is over 128 KiB");
    return;
  }
  std::string key = http::bearer_token (req);
  Refusal refusal = manager_.check_publisher (id, key);
  if (refusal.status == 401) {
    refuse_key (res);
    return;
  }
  if (refusal.status) {
    if (refusal.status == 503)
      res.headers.set ("Retry-After", "10");
    http::reply_error (res, refusal.status, refusal.reason);
    return;
  }
  std::string offer (req.body.view ());
  OfferInfo info;
  std::string error;
  if (!inspect_whip_offer (offer, info, error)) {
    http::reply_error (res, 400, error);
    return;
  }
  auto ingest = std::make_unique<WhipPublisher> (info, manager_.config ().ice_servers,
      manager_.config ().idle_timeout, id);
  WhipPublisher *whip = ingest.get ();
  if (!manager_.admit (id, key, std::move (ingest), refusal)) {
    http::reply_error (res, refusal.status, refusal.reason);
    return;
  }

  /* answer when webrtcbin has gathered its candidates */
  std::shared_ptr<http::PendingResponse> pending = res.defer ();
  StreamManager *manager = &manager_;
  http::Headers cors = res.headers;
  std::string session = whip->session ();
  whip->negotiate (offer, kNegotiationTimeoutMs, [=] (unsigned status, std::string text) {
        http::Response answer;
        answer.headers = cors;
        if (status == 201) {
          answer.headers.set ("Location", "/whip/" + id + "/" + session);
          for (auto & url : manager->config ().ice_servers) {
            std::string link = ice_server_link (url);
            if (!link.empty ())
              answer.headers.append ("Link", link);
          }
          answer.status = 201;
          answer.set_body ("application/sdp", text);
        } else {
          manager->abandon (id, session);
          http::reply_error (answer, status, text);
        }
        pending->finish (std::move (answer));
      });
}

}  // namespace castline::launcher
