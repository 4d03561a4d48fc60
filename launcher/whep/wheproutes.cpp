#include "whep/wheproutes.h"

#include "api/webrtchttp.h"
#include "common/http/replies.h"
#include "common/secrets.h"
#include "whep/webrtcroom.h"

#include <optional>

namespace castline::launcher {

namespace {

/* webrtc.token, when set, as a Bearer token; else anyone may watch */
bool
allowed (const Config & config, const http::Request & req)
{
  return config.webrtc.token.empty ()
      || castline::keys_equal (config.webrtc.token, http::bearer_token (req));
}

}  // namespace

void
WhepRoutes::handle (const http::Request & req, http::Response & res)
{
  const Config & config = manager_.config ();
  set_signalling_cors (config, res);
  std::string id, session;
  /* a path without a valid id names no stream */
  bool named = split_signalling_path (req.path, "/whep/", id, session);
  if (req.is ("OPTIONS")) {
    if (!named) {
      http::reply_error (res, 404, "no such stream");
      return;
    }
    answer_signalling_preflight (res, !session.empty ());
    return;
  }
  /* before anything is said of the stream */
  if (!allowed (config, req)) {
    refuse_bearer (res, "WebRTC playback needs the token");
    return;
  }
  if (!named || !manager_.get (id)) {
    http::reply_error (res, 404, "no such stream");
    return;
  }
  if (!session.empty ())
    this->session (req, res, id, session);
  else if (req.is ("POST"))
    post (req, res, id);
  else
    http::reply_error (res, 405, "POST an SDP offer");
}

void
WhepRoutes::session (const http::Request & req, http::Response & res, const std::string & id,
    const std::string & session)
{
  LiveStream *ls = manager_.live (id);
  WebRtcRoom *room = ls ? ls->room.get () : nullptr;
  if (req.is ("DELETE")) {
    if (!room || !room->leave (session)) {
      http::reply_error (res, 404, "no such WHEP session");
      return;
    }
    res.status = 200;
  } else if (req.is ("PATCH")) {
    if (req.content_type != "application/trickle-ice-sdpfrag") {
      http::reply_error (res, 415, "send application/trickle-ice-sdpfrag");
      return;
    }
    if (req.body.size () > kMaxOffer) {
      http::reply_error (res, 413, "the fragment is over 128 KiB");
      return;
    }
    unsigned status = 404;
    std::string error = "no such WHEP session";
    if (!room || !room->trickle (session, std::string (req.body.view ()), status, error))
      http::reply_error (res, status, error);
    else
      res.status = 204;
  } else {
    http::reply_error (res, 405, "use PATCH or DELETE on a WHEP session");
  }
}

void
WhepRoutes::post (const http::Request & req, http::Response & res, const std::string & id)
{
  if (!offer_body_ok (req, res))
    return;
  if (!manager_.whep_off_reason ().empty ()) {
    http::reply_error (res, 503, "WebRTC playback is off: " + manager_.whep_off_reason ()
        + "; watch the HLS");
    return;
  }
  LiveStream *ls = manager_.live (id);
  /* ending (DELETE, its publisher lost or stopped): no new viewer */
  if (!ls || !ls->room || ls->pipeline->finished () || ls->stop_requested
      || !ls->lost_reason.empty ()) {
    http::reply_error (res, 409, "the stream is not live");
    return;
  }

  /* a refusal comes at once, inside join: answered here; an answer comes
   * once the viewer's candidates are gathered: deferred */
  struct Reply {
    std::optional<http::Response> now;
    std::shared_ptr<http::PendingResponse> later;
  };
  auto reply = std::make_shared<Reply> ();
  http::Headers cors = res.headers;
  std::vector<std::string> ice_servers = manager_.config ().ice_servers;
  ls->room->join (std::string (req.body.view ()), [=] (WhepJoin j) {
        http::Response answer;
        answer.headers = cors;
        if (j.status == 201) {
          answer.headers.set ("Location", "/whep/" + id + "/" + j.session);
          add_ice_server_links (answer, ice_servers);
          answer.status = 201;
          answer.set_body ("application/sdp", j.body);
        } else {
          /* a refusal is the viewer's to read; a failure of ours is logged */
          if (j.status >= 500 && j.status != 503)
            g_warning ("WHEP viewer of stream %s failed (%u): %s", id.c_str (), j.status,
                j.body.c_str ());
          if (j.retry_after)
            answer.headers.set ("Retry-After", std::to_string (j.retry_after));
          http::reply_error (answer, j.status, j.body);
        }
        if (reply->later)
          reply->later->finish (std::move (answer));
        else
          reply->now = std::move (answer);
      });
  if (reply->now) {
    res.status = reply->now->status;
    res.headers = reply->now->headers;
    res.body = reply->now->body;
  } else {
    reply->later = res.defer ();
  }
}

}  // namespace castline::launcher
