/* castline-launcher: the RTMP server OBS, ffmpeg and hardware encoders
 * publish to: one castline::rtmp::RtmpListener on rtmp.host:rtmp.port and
 * one speaking TLS on rtmp.tls_port (RTMPS), on the main context, which
 * owns the streams. The listeners do the protocol up to the publish
 * command; then, for each publisher:
 *
 *   decide  the stream is the one whose key the publish name is
 *           (rtmpadmission.h): refused at once with BadName or Rejected,
 *           or told NetStream.Publish.Start, after which the listener
 *           reads on until the publisher's codecs are known;
 *   ready   the one admission path (StreamManager::admit) with those
 *           codecs: the stream's pipeline is built with an RtmpIngest and
 *           the connection handed to its rtmpserversrc; a refusal then
 *           (no pipeline takes the codecs: Enhanced RTMP's HEVC or AV1) is
 *           an onStatus error naming them, and the connection closed.
 *
 * Never logged: the stream name (the key) and the tcUrl. */
#pragma once

#include "notify/metrics.h"
#include "rtmp/rtmplistener.h"
#include "streams/streammanager.h"

#include <memory>
#include <string>

namespace castline::launcher {

class RtmpServer {
 public:
  explicit RtmpServer (StreamManager & manager) : manager_ (manager) {}
  ~RtmpServer ();
  RtmpServer (const RtmpServer &) = delete;
  RtmpServer & operator= (const RtmpServer &) = delete;

  /* Listens as configured (nothing when rtmp.port and rtmp.tls_port are
   * 0); false with why (a port in use, an unreadable certificate). Main
   * context. */
  bool start (std::string & error);
  /* the ports listened on; 0: not listening */
  int port () const;
  int tls_port () const;

  RtmpMetrics metrics () const;

 private:
  void decide (const castline::rtmp::PublishRequest & request,
      std::shared_ptr<castline::rtmp::PublishDecision> decision);
  void ready (castline::rtmp::Publisher && publisher);
  std::unique_ptr<castline::rtmp::RtmpListener> make_listener (int port, bool tls);

  StreamManager & manager_;
  std::unique_ptr<castline::rtmp::RtmpListener> plain_;
  std::unique_ptr<castline::rtmp::RtmpListener> tls_;
  guint64 refused_ = 0;            /* by decide and ready */
};

}  // namespace castline::launcher
