#include "ingest/rtmp/rtmpserver.h"

#include "ingest/rtmp/rtmpadmission.h"
#include "ingest/rtmp/rtmpingest.h"

namespace castline::launcher {

using castline::rtmp::Publisher;
using castline::rtmp::PublishDecision;
using castline::rtmp::PublishRequest;
using castline::rtmp::RtmpListener;

namespace {

/* the publisher's address and the stream's id: never its key */
void
log_refusal (const PublishRequest & request, const std::string & id, const RtmpStatus & status)
{
  g_message ("RTMP publisher %s refused%s%s: %s", request.remote_address.c_str (),
      id.empty () ? "" : " for stream ", id.c_str (), status.description.c_str ());
}

}  // namespace

RtmpServer::~RtmpServer () = default;

std::unique_ptr<RtmpListener>
RtmpServer::make_listener (int port, bool tls)
{
  const RtmpSettings & rtmp = manager_.config ().rtmp;
  castline::rtmp::ListenerSettings s;
  s.host = manager_.config ().rtmp_host ();
  s.port = port;
  s.application = rtmp.application;
  if (tls) {
    s.tls_certificate_file = rtmp.tls_cert;
    s.tls_key_file = rtmp.tls_key;
  }
  return std::make_unique<RtmpListener> (nullptr, s,
      [this] (const PublishRequest & request, std::shared_ptr<PublishDecision> decision) {
        decide (request, std::move (decision));
      },
      [this] (Publisher && publisher) { ready (std::move (publisher)); });
}

bool
RtmpServer::start (std::string & error)
{
  const RtmpSettings & rtmp = manager_.config ().rtmp;
  std::string why;
  if (rtmp.port) {
    plain_ = make_listener (rtmp.port, false);
    if (!plain_->start (why)) {
      error = "RTMP: " + why;
      plain_.reset ();
      return false;
    }
  }
  if (rtmp.tls_port) {
    tls_ = make_listener (rtmp.tls_port, true);
    if (!tls_->start (why)) {
      error = "RTMPS: " + why;
      tls_.reset ();
      plain_.reset ();
      return false;
    }
  }
  return true;
}

int
RtmpServer::port () const
{
  return plain_ ? plain_->port () : 0;
}

int
RtmpServer::tls_port () const
{
  return tls_ ? tls_->port () : 0;
}

RtmpMetrics
RtmpServer::metrics () const
{
  RtmpMetrics m;
  m.refused = refused_;
  for (const auto *l : { plain_.get (), tls_.get () }) {
    if (!l)
      continue;
    m.accepted += l->accepted ();
    m.refused += l->refused_over_limit ();
    m.protocol_errors += l->protocol_errors ();
    m.timed_out += l->timed_out ();
  }
  return m;
}

void
RtmpServer::decide (const PublishRequest & request, std::shared_ptr<PublishDecision> decision)
{
  std::string id;
  RtmpStatus status = check_rtmp_publisher (manager_, request.stream_name, id);
  if (status.refused ()) {
    refused_++;
    log_refusal (request, id, status);
    decision->refuse (status.code, status.description);
    return;
  }
  decision->accept ();
}

void
RtmpServer::ready (Publisher && publisher)
{
  const std::string & key = publisher.request.stream_name;
  std::string id;
  RtmpStatus status = check_rtmp_publisher (manager_, key, id);
  if (!status.refused ()) {
    auto ingest = std::make_unique<RtmpIngest> (
        media_of_rtmp_codecs (publisher.codecs.video, publisher.codecs.audio),
        publisher.request.tls, manager_.config ().idle_timeout);
    RtmpIngest *admitted = ingest.get ();
    std::string session = ingest->session ();
    Refusal refusal;
    if (manager_.admit (id, key, std::move (ingest), refusal)) {
      g_message ("stream %s: RTMP%s publisher %s (video %s, audio %s)", id.c_str (),
          publisher.request.tls ? "S" : "", publisher.request.remote_address.c_str (),
          publisher.codecs.video.empty () ? "none" : publisher.codecs.video.c_str (),
          publisher.codecs.audio.empty () ? "none" : publisher.codecs.audio.c_str ());
      if (!admitted->add_connection (std::move (publisher)))
        manager_.abandon (id, session);
      return;
    }
    status = rtmp_status_of (refusal);
  }
  refused_++;
  log_refusal (publisher.request, id, status);
  castline::rtmp::reject_publisher (std::move (publisher), status.code, status.description);
}

}  // namespace castline::launcher
