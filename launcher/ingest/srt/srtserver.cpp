#include "ingest/srt/srtserver.h"

#include "ingest/srt/srtadmission.h"
#include "ingest/srt/srtingest.h"
#include "streams/maincontext.h"

#include <srt/access_control.h>

#include <chrono>
#include <condition_variable>
#include <mutex>

namespace castline::launcher {

using castline::srt::Caller;
using castline::srt::CallerRequest;
using castline::srt::SrtListener;
using castline::srt::Verdict;

namespace {

/* how long libsrt's thread waits for the main context's answer */
constexpr auto kDecideWait = std::chrono::seconds (2);

/* the caller's address and the stream's id: never its key */
void
log_refusal (const CallerRequest & request, const std::string & id, const Verdict & v)
{
  g_message ("SRT caller %s refused%s%s: %s (%d, %s)", request.remote_address.c_str (),
      id.empty () ? "" : " for stream ", id.c_str (), v.reason.c_str (), v.code,
      castline::srt::reject_reason_name (v.code));
}

}  // namespace

/* What decide's waits share with the main context. It outlives the
 * server (a job posted to the main context may run after it is gone);
 * server is used on the main context only, and only while !stopping
 * (stop () sets it there, before the server goes). */
struct SrtServer::Shared {
  std::mutex lock;
  std::condition_variable changed;
  bool stopping = false;           /* under lock */
  SrtServer *server = nullptr;
  guint64 refused = 0;             /* at ready (main context) */
};

/* one decide's answer, once the main context gave it */
struct Answer {
  bool given = false;              /* under Shared::lock */
  Verdict verdict;
};

SrtServer::SrtServer (StreamManager & manager)
    : manager_ (manager), shared_ (std::make_shared<Shared> ())
{
  shared_->server = this;
}

SrtServer::~SrtServer ()
{
  stop ();
}

bool
SrtServer::start (std::string & error)
{
  const Config & c = manager_.config ();
  if (!c.srt.enabled ())
    return true;
  castline::srt::ListenerSettings s;
  s.host = c.srt_host ();
  s.port = c.srt.port;
  s.receiver.latency_ms = c.srt.latency;
  s.receiver.passphrase = c.srt.passphrase;
  s.receiver.pbkeylen = (int) c.srt.pbkeylen;
  /* a caller gone silent breaks its link as a publisher sending nothing
   * is dropped; one that sends no PMT as late */
  s.receiver.peer_idle_timeout_ms = c.idle_timeout * 1000;
  s.prelude_timeout_s = c.idle_timeout;
  std::weak_ptr<Shared> weak = shared_;
  listener_ = std::make_unique<SrtListener> (s,
      [this] (const CallerRequest & request) { return decide (request); },
      [weak] (Caller && caller) {
        /* to the main context, which owns the streams; a caller the server
         * no longer wants is closed (its Caller goes) */
        auto held = std::make_shared<Caller> (std::move (caller));
        run_on_main_context ([weak, held] {
              auto shared = weak.lock ();
              if (shared && !shared->stopping)
                shared->server->ready (std::move (*held));
            });
      });
  std::string why;
  if (!listener_->start (why)) {
    error = "SRT: " + why;
    listener_.reset ();
    return false;
  }
  return true;
}

void
SrtServer::stop ()
{
  {
    std::lock_guard<std::mutex> g (shared_->lock);
    if (shared_->stopping)
      return;
    /* every decide waiting for the main context (this thread) returns at
     * once: the listener's stop can then join libsrt's callback */
    shared_->stopping = true;
  }
  shared_->changed.notify_all ();
  if (listener_)
    listener_->stop ();
}

int
SrtServer::port () const
{
  std::lock_guard<std::mutex> g (shared_->lock);
  return listener_ && !shared_->stopping ? listener_->port () : 0;
}

SrtMetrics
SrtServer::metrics () const
{
  SrtMetrics m;
  m.refused = shared_->refused;
  if (listener_) {
    m.accepted = listener_->accepted ();
    m.refused += listener_->refused ();
    m.not_ts = listener_->not_ts ();
    m.timed_out = listener_->timed_out ();
  }
  return m;
}

/* libsrt's thread: the check runs on the main context; this waits for it */
Verdict
SrtServer::decide (const CallerRequest & request)
{
  std::shared_ptr<Shared> shared = shared_;
  const Verdict shutting_down { SRT_REJX_OVERLOAD, "the server is shutting down" };
  auto answer = std::make_shared<Answer> ();
  {
    std::lock_guard<std::mutex> g (shared->lock);
    if (shared->stopping)
      return shutting_down;
  }
  run_on_main_context ([shared, answer, request, shutting_down] {
        Verdict v = shutting_down;
        std::string id;
        /* main context: stopping is only set here, so the server is there */
        if (!shared->stopping) {
          v = check_srt_caller (shared->server->manager_, request.stream.key, id);
          if (v.refused ())
            log_refusal (request, id, v);
        }
        {
          std::lock_guard<std::mutex> g (shared->lock);
          answer->given = true;
          answer->verdict = std::move (v);
        }
        shared->changed.notify_all ();
      });
  std::unique_lock<std::mutex> g (shared->lock);
  shared->changed.wait_for (g, kDecideWait, [&] { return answer->given || shared->stopping; });
  if (answer->given)
    return answer->verdict;
  if (shared->stopping)
    return shutting_down;
  g.unlock ();
  g_message ("SRT caller %s refused: the server is busy (no answer within 2 s)",
      request.remote_address.c_str ());
  return { SRT_REJX_OVERLOAD, "busy" };
}

/* main context: the caller's codecs are known */
void
SrtServer::ready (Caller && caller)
{
  const std::string & key = caller.request.stream.key;
  std::string id;
  Verdict v = check_srt_caller (manager_, key, id);
  if (!v.refused ()) {
    auto ingest = std::make_unique<SrtIngest> (media_of_srt_codecs (caller.video, caller.audio),
        manager_.config ().idle_timeout);
    SrtIngest *admitted = ingest.get ();
    std::string session = ingest->session ();
    Refusal refusal;
    if (manager_.admit (id, key, std::move (ingest), refusal)) {
      g_message ("stream %s: SRT caller %s (video %s, audio %s)", id.c_str (),
          caller.request.remote_address.c_str (),
          caller.video.empty () ? "none" : caller.video.c_str (),
          caller.audio.empty () ? "none" : caller.audio.c_str ());
      if (!admitted->add_caller (std::move (caller)))
        manager_.abandon (id, session);
      return;
    }
    auto r = manager_.get (id);
    v = srt_verdict_of (refusal, r ? &*r : nullptr);
  }
  /* the handshake is answered: the caller only sees its link close */
  shared_->refused++;
  log_refusal (caller.request, id, v);
}

}  // namespace castline::launcher
