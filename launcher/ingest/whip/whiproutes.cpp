#include "ingest/whip/whiproutes.h"

#include "api/apiserver.h"
#include "ingest/whip/whipingest.h"

namespace castline::launcher {

namespace {

constexpr goffset kMaxOffer = 128 * 1024;
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

/* RFC 9725 4.6: one Link per STUN/TURN server */
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

}  // namespace

WhipRoutes::WhipRoutes (StreamManager & manager, SoupServer * server) : manager_ (manager)
{
  soup_server_add_handler (server, "/whip", on_whip, this, nullptr);
}

void
WhipRoutes::add_cors (SoupServerMessage * msg) const
{
  const std::string & origin = manager_.config ().cors_origin;
  if (origin.empty ())
    return;
  SoupMessageHeaders *h = soup_server_message_get_response_headers (msg);
  soup_message_headers_replace (h, "Access-Control-Allow-Origin", origin.c_str ());
  soup_message_headers_replace (h, "Access-Control-Expose-Headers", "Location, Link, ETag");
}

void
WhipRoutes::on_whip (SoupServer *, SoupServerMessage * msg, const char *path, GHashTable *,
    gpointer data)
{
  auto *self = static_cast<WhipRoutes *> (data);
  const char *method = soup_server_message_get_method (msg);
  self->add_cors (msg);
  std::string id, session;
  if (!split_path (path, "/whip/", id, session) || !valid_stream_id (id)
      || session.find ('/') != std::string::npos) {
    reply_error (msg, 400, "not a stream id");
    return;
  }
  if (g_str_equal (method, "OPTIONS")) {
    SoupMessageHeaders *h = soup_server_message_get_response_headers (msg);
    soup_message_headers_replace (h, "Access-Control-Allow-Methods",
        session.empty () ? "POST, OPTIONS" : "PATCH, DELETE, OPTIONS");
    soup_message_headers_replace (h, "Access-Control-Allow-Headers",
        "Authorization, Content-Type, If-Match");
    if (session.empty ())
      soup_message_headers_replace (h, "Accept-Post", "application/sdp");
    soup_server_message_set_status (msg, 204, nullptr);
    return;
  }
  if (session.empty ()) {
    if (g_str_equal (method, "POST"))
      self->post (msg, id);
    else
      reply_error (msg, 405, "POST an SDP offer");
    return;
  }

  /* the session URL: the stream key too, as for POST */
  auto r = self->manager_.get (id);
  if (!r || !key_matches (bearer_token (msg), r->key_hash)) {
    reply_error (msg, 401, "unknown stream or wrong stream key");
    return;
  }
  LiveStream *ls = self->manager_.live (id);
  if (!ls || ls->session != session) {
    reply_error (msg, 404, "no such WHIP session");
    return;
  }
  if (g_str_equal (method, "DELETE")) {
    self->manager_.end (id);
    soup_server_message_set_status (msg, 200, nullptr);
  } else if (g_str_equal (method, "PATCH")) {
    const char *ctype = soup_message_headers_get_content_type (
        soup_server_message_get_request_headers (msg), nullptr);
    if (g_strcmp0 (ctype, "application/trickle-ice-sdpfrag") != 0) {
      reply_error (msg, 415, "send application/trickle-ice-sdpfrag");
      return;
    }
    SoupMessageBody *body = soup_server_message_get_request_body (msg);
    std::string frag (body->data ? body->data : "", body->length);
    auto ingest = std::static_pointer_cast<WhipIngest> (ls->ingest);
    std::string error;
    bool ice_restart = false;
    /* RFC 9725 4.3.2: a session without ICE restarts answers one 422 */
    if (!ingest->add_remote_candidates (frag, error, &ice_restart))
      reply_error (msg, ice_restart ? 422 : 400, error);
    else
      soup_server_message_set_status (msg, 204, nullptr);
  } else {
    reply_error (msg, 405, "use PATCH or DELETE on a WHIP session");
  }
}

void
WhipRoutes::post (SoupServerMessage * msg, const std::string & id)
{
  const char *ctype = soup_message_headers_get_content_type (
      soup_server_message_get_request_headers (msg), nullptr);
  if (g_strcmp0 (ctype, "application/sdp") != 0) {
    reply_error (msg, 415, "send the offer as application/sdp");
    return;
  }
  SoupMessageBody *body = soup_server_message_get_request_body (msg);
  if (body->length > kMaxOffer) {
    reply_error (msg, 413, "the offer is over 128 KiB");
    return;
  }
  Refusal refusal = manager_.check_publisher (id, bearer_token (msg));
  if (refusal.status) {
    if (refusal.status == 503)
      soup_message_headers_replace (soup_server_message_get_response_headers (msg),
          "Retry-After", "10");
    reply_error (msg, refusal.status, refusal.reason);
    return;
  }
  std::string offer (body->data ? body->data : "", body->length);
  OfferInfo info;
  std::string error;
  if (!inspect_whip_offer (offer, info, error)) {
    reply_error (msg, 400, error);
    return;
  }

  std::shared_ptr<WhipIngest> ingest;
  StreamManager *manager = &manager_;
  LiveStream *ls = manager_.go_live (id, "whip", info.video_codecs, info.audio_codecs,
      [&] (LiveStream & s) {
        WhipIngest::Listener l;
        StreamPipeline *pipeline = s.pipeline.get ();
        l.media_pad = [pipeline] (const std::string & kind, const std::string &, GstPad * pad) {
          pipeline->link_media (kind, pad);
        };
        std::string session = random_token (12);
        l.ended = [manager, id, session] (const std::string & reason) {
          /* any thread: on the main context, the publisher is lost (the
           * stream is interrupted), unless this session is over by then */
          struct Call {
            StreamManager *manager;
            std::string id, session, reason;
          };
          g_message ("stream %s: WHIP peer gone (%s)", id.c_str (), reason.c_str ());
          g_main_context_invoke_full (nullptr, G_PRIORITY_DEFAULT, [] (gpointer data) -> gboolean {
                auto *c = static_cast<Call *> (data);
                c->manager->lose_publisher (c->id, c->session, "the WHIP peer went away: "
                    + c->reason);
                return G_SOURCE_REMOVE;
              }, new Call { manager, id, session, reason },
              [] (gpointer data) { delete static_cast<Call *> (data); });
        };
        ingest = std::make_shared<WhipIngest> (s.pipeline->pipeline (),
            manager->config ().ice_servers, l);
        /* the answer names only what the chosen pipeline takes: offered
         * VP8 first and H.264 too, the publisher sends H.264 (passthrough) */
        auto only = [] (const std::string & c) {
          return c.empty () ? std::vector<std::string> () : std::vector<std::string> { c };
        };
        ingest->restrict_codecs (only (s.video_codec), only (s.audio_codec));
        s.ingest = ingest;
        s.session = session;
      }, refusal);
  if (!ls) {
    reply_error (msg, refusal.status, refusal.reason);
    return;
  }

  /* answer when webrtcbin has gathered its candidates */
  soup_server_message_pause (msg);
  g_object_ref (msg);
  struct Pending {
    StreamManager *manager;
    std::string id;
    std::string session;
    std::vector<std::string> links;
    SoupServerMessage *msg;
    unsigned status = 0;
    std::string text;
  };
  auto *p = new Pending { manager, id, ls->session, {}, msg, 0, {} };
  for (auto & url : manager_.config ().ice_servers) {
    std::string link = ice_server_link (url);
    if (!link.empty ())
      p->links.push_back (link);
  }
  ingest->negotiate (offer, kNegotiationTimeoutMs, [p] (unsigned status, std::string text) {
    p->status = status;
    p->text = std::move (text);
    g_main_context_invoke_full (nullptr, G_PRIORITY_DEFAULT, [] (gpointer data) -> gboolean {
          auto *p = static_cast<Pending *> (data);
          SoupMessageHeaders *h = soup_server_message_get_response_headers (p->msg);
          if (p->status == 201) {
            soup_message_headers_replace (h, "Location",
                ("/whip/" + p->id + "/" + p->session).c_str ());
            for (auto & link : p->links)
              soup_message_headers_append (h, "Link", link.c_str ());
            soup_server_message_set_status (p->msg, 201, nullptr);
            soup_server_message_set_response (p->msg, "application/sdp", SOUP_MEMORY_COPY,
                p->text.data (), p->text.size ());
            if (LiveStream *ls = p->manager->live (p->id))
              ls->pipeline->watch_idle (p->manager->config ().idle_timeout);
          } else {
            p->manager->abandon (p->id);
            reply_error (p->msg, p->status, p->text);
          }
          soup_server_message_unpause (p->msg);
          g_object_unref (p->msg);
          return G_SOURCE_REMOVE;
        }, p, [] (gpointer data) { delete static_cast<Pending *> (data); });
  });
}

}  // namespace castline::launcher
