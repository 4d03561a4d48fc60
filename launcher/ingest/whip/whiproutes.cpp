#include "ingest/whip/whiproutes.h"

#include "api/webrtchttp.h"
#include "common/http/replies.h"
#include "ingest/whip/whippublisher.h"

namespace castline::launcher {

namespace {

constexpr unsigned kNegotiationTimeoutMs = 5000;

/* RFC 9725 4.5: a 401 says how to authenticate */
void
refuse_key (http::Response & res)
{
  refuse_bearer (res, "unknown stream or wrong stream key");
}

}  // namespace

void
WhipRoutes::handle (const http::Request & req, http::Response & res)
{
  set_signalling_cors (manager_.config (), res);
  std::string id, session;
  if (!split_signalling_path (req.path, "/whip/", id, session)) {
    http::reply_error (res, 400, "not a stream id");
    return;
  }
  if (req.is ("OPTIONS")) {
    answer_signalling_preflight (res, !session.empty ());
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
  if (!offer_body_ok (req, res))
    return;
  std::string key = http::bearer_token (req);
  Refusal refusal = manager_.check_publisher (id, key);
  if (refusal.status == 401) {
    refuse_key (res);
    return;
  }
  if (refusal.status == 503 && !refusal.elsewhere.empty ()) {
    /* this node is full: a node of the cluster with room takes the
     * publisher (WHIP clients follow redirects, RFC 9725 4.5) */
    res.headers.set ("Location", refusal.elsewhere + "/whip/" + id);
    http::reply_error (res, 307, "this node is at its live stream limit: publish to "
        + refusal.elsewhere);
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
          add_ice_server_links (answer, manager->config ().ice_servers);
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
