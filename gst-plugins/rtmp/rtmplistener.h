/* castline rtmp: accepting RTMP (and RTMPS) publishers on a GMainContext,
 * up to the point where one may go live. Used by rtmpserversrc standalone
 * (on a thread of its own) and by castline-launcher (its main context),
 * which owns the port and routes each publisher to its stream's pipeline.
 *
 * For each connection, asynchronously on the context (no thread of its
 * own, no blocking): TLS first when the settings have a certificate
 * (RTMPS), then a PublishSession: the handshake, connect (the
 * application checked), createStream, publish; then `decide` is called
 * with what the publisher asked for, and answers through the
 * PublishDecision, now or later (on the same context; the answer takes
 * effect from a dispatch of its own, so `ready` is never called from
 * inside `decide`). Refused: the
 * onStatus error is sent and the connection closed. Accepted:
 * NetStream.Publish.Start is sent, and the session reads on (the prelude)
 * until the codecs are known (an audio and a video tag came, or
 * onMetaData says which there are and those came) or prelude_timeout;
 * then `ready` gets the Publisher: the connection, every byte read after
 * the handshake (for PublishSession::begin_replay), and the codecs.
 *
 * Bounds: at most max_pending connections before `ready` (more are closed
 * at once, counted), each given negotiation_timeout_s from accept to the
 * publish command and prelude_timeout_s from the answer to `ready`; the
 * session's Limits for everything read, and what is kept for the replay at
 * most 64 KiB until the publish is accepted (then Limits::max_buffered),
 * so that peers nobody accepted hold little memory. A peer that breaks the protocol is
 * closed with a debug line saying why (never the stream name). */
#pragma once

#include "rtmp/rtmpsession.h"

#include <gio/gio.h>

#include <functional>
#include <memory>
#include <string>

namespace castline::rtmp {

struct ListenerSettings {
  std::string host = "0.0.0.0";         /* "localhost": 127.0.0.1 */
  int port = 1935;                      /* 0: a free one (port () says which) */
  /* PEM files: both set for RTMPS (TLS from the first byte) */
  std::string tls_certificate_file, tls_key_file;
  std::string application = "live";     /* "": any */
  unsigned negotiation_timeout_s = 10;
  unsigned prelude_timeout_s = 5;
  size_t max_pending = 256;
  Limits limits;
};

/* What a publisher asks for, given to decide. */
struct PublishRequest {
  std::string app;
  /* the publish command's name, without a "?query" tail: the stream key.
   * Secret: never logged. */
  std::string stream_name;
  std::string remote_address;           /* "203.0.113.7:51234" */
  bool tls = false;
};

/* The answer to one PublishRequest; any copy may answer, once (later
 * answers, and answers after the connection went away, do nothing).
 * On the listener's context. */
class PublishDecision {
 public:
  virtual ~PublishDecision () = default;
  virtual void accept () = 0;
  /* code: "NetStream.Publish.BadName" (wrong key, unknown stream),
   * "NetStream.Publish.Rejected" (live already, ended, limits, shutting
   * down); description: what the publisher's log shows */
  virtual void refuse (const std::string & code, const std::string & description) = 0;
};

/* A publisher past its answer: what rtmpserversrc's add-connection takes. */
struct Publisher {
  GIOStream *connection = nullptr;      /* owned (a ref): GSocketConnection or GTlsConnection */
  GBytes *replay = nullptr;             /* owned: every byte read after the handshake */
  PublishRequest request;
  PublishedCodecs codecs;
  /* the listener's session, for answering on it before handing over
   * (reject (), below); not handed to rtmpserversrc */
  std::unique_ptr<PublishSession> session;

  Publisher () = default;
  Publisher (Publisher &&) noexcept;
  Publisher & operator= (Publisher &&) noexcept;
  ~Publisher ();              /* closes the connection if still owned */
};

/* Sends an onStatus error (code, description) on a publisher that was
 * accepted but cannot be taken after all (no pipeline for its codecs: the
 * description names the codec), then closes it. Asynchronous, bounded by
 * a few seconds; on the context that runs the listener. */
void reject_publisher (Publisher && publisher, const std::string & code,
    const std::string & description);

class RtmpListener {
 public:
  using DecideFunc = std::function<void (const PublishRequest &, std::shared_ptr<PublishDecision>)>;
  using ReadyFunc = std::function<void (Publisher &&)>;

  /* context: where everything runs and the callbacks are called (nullptr:
   * the thread-default one at construction) */
  RtmpListener (GMainContext * context, ListenerSettings settings, DecideFunc decide,
      ReadyFunc ready);
  ~RtmpListener ();                     /* stop () */
  RtmpListener (const RtmpListener &) = delete;
  RtmpListener & operator= (const RtmpListener &) = delete;

  /* Binds and listens; false with why (port in use, unreadable
   * certificate or key). On the context's thread. */
  bool start (std::string & error);
  /* Stops listening and closes every connection not handed out yet. */
  void stop ();
  int port () const;                    /* the bound port, 0 before start */

  /* counts, for metrics */
  uint64_t accepted () const;
  uint64_t refused_over_limit () const;     /* over max_pending */
  uint64_t protocol_errors () const;        /* closed for breaking the protocol or a limit */
  uint64_t timed_out () const;

 private:
  struct Private;
  std::unique_ptr<Private> priv_;
};

}  // namespace castline::rtmp
