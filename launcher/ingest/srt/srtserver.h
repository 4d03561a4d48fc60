/* castline-launcher: the SRT port OBS, vMix, ffmpeg and hardware encoders
 * call: one castline::srt::SrtListener on srt.host:srt.port for every
 * stream, which routes each caller by its stream id (the stream key, bare
 * or as "#!::r=KEY,m=publish"):
 *
 *   decide  on libsrt's thread, before the handshake is answered: the
 *           decision is made on the main context (check_srt_caller, which
 *           owns the streams) and waited for at most 2 s (else
 *           SRT_REJX_OVERLOAD, "busy"); a refusal goes back to the caller
 *           as its SRT_REJX_* code (srtadmission.h);
 *   ready   on the listener's thread, once the caller's PMT said its
 *           codecs: on the main context, the one admission path
 *           (StreamManager::admit) with those codecs, an SrtIngest
 *           attached, and the socket handed to its srtingestsrc; refused
 *           then (the state changed since decide, or no pipeline takes
 *           the codecs: HEVC), the socket is closed and the refusal
 *           logged.
 *
 * Never logged: the stream id (the key). */
#pragma once

#include "notify/metrics.h"
#include "srt/srtlistener.h"
#include "streams/streammanager.h"

#include <memory>
#include <string>

namespace castline::launcher {

class SrtServer {
 public:
  explicit SrtServer (StreamManager & manager);
  ~SrtServer ();                       /* stop () */
  SrtServer (const SrtServer &) = delete;
  SrtServer & operator= (const SrtServer &) = delete;

  /* Listens as configured (nothing when srt.port is 0); false with why
   * (the port in use, a passphrase libsrt refuses). Main context. */
  bool start (std::string & error);
  /* Stops listening (callers not handed over are closed); live SRT
   * streams go on until their pipelines end. Main context. */
  void stop ();
  /* the port listened on; 0: not listening */
  int port () const;

  SrtMetrics metrics () const;

 private:
  struct Shared;                       /* what decide's waits share with the main context */
  castline::srt::Verdict decide (const castline::srt::CallerRequest & request);
  void ready (castline::srt::Caller && caller);

  StreamManager & manager_;
  std::shared_ptr<Shared> shared_;
  std::unique_ptr<castline::srt::SrtListener> listener_;
};

}  // namespace castline::launcher
