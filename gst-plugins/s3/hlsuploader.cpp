#include "s3/hlsuploader.h"

#include <gst/gst.h>

#include <algorithm>
#include <future>

GST_DEBUG_CATEGORY_STATIC (castline_hlsuploader_debug);
#define GST_CAT_DEFAULT castline_hlsuploader_debug

namespace castline::s3 {

namespace {

/* after S3 answered with an error (5xx, SlowDown): back off */
constexpr unsigned kOutageBackoffBaseMs = 500;
constexpr unsigned kOutageBackoffCapMs = 5000;
/* after S3 could not be reached (refused, time-out): no answer asked us to
 * slow down, and what waits should go as soon as S3 is back */
constexpr unsigned kUnreachableRetryMs = 250;
/* during an outage: is S3 back? (a HEAD on the bucket) One a second, up
 * to kMaxProbes waiting at once (on a dead path each waits out its
 * time-out), each given long enough for a slow S3 to answer. */
constexpr unsigned kProbeIntervalMs = 1000;
constexpr unsigned kProbeTimeoutMs = 5000;
constexpr unsigned kMaxProbes = 5;

}  // namespace

const char *
hls_content_type (const std::string & name)
{
  auto ends = [&] (const char *suffix) { return g_str_has_suffix (name.c_str (), suffix); };
  if (ends (".m3u8"))
    return "application/vnd.apple.mpegurl";
  if (ends (".ts"))
    return "video/mp2t";
  if (ends (".m4s"))
    return "video/iso.segment";
  if (ends (".mp4"))
    return "video/mp4";
  if (ends (".aac"))
    return "audio/aac";
  return "application/octet-stream";
}

HlsUploader::HlsUploader (HlsUploaderSettings settings, HlsUploaderListener listener)
  : settings_ (std::move (settings)), listener_ (std::move (listener)),
    spool_ (settings_.spool_memory_limit, settings_.spool_limit, settings_.spool_directory),
    plan_ (settings_.max_parallel)
{
  static gsize once = 0;
  if (g_once_init_enter (&once)) {
    GST_DEBUG_CATEGORY_INIT (castline_hlsuploader_debug, "castline-hlsuploader", 0,
        "castline HLS uploader");
    g_once_init_leave (&once, 1);
  }
  client_ = std::make_unique<S3Client> (settings_.s3,
      [this] (const S3Error & error) { on_retry (error); });
}

HlsUploader::~HlsUploader ()
{
  /* stopping_ is set on the client thread, between two of its callbacks:
   * one that had seen it false could otherwise still be running (and
   * calling client_) when reset () below empties client_ */
  std::promise<void> stopped;
  client_->invoke ([this, &stopped] {
    stopping_ = true;
    stopped.set_value ();
  });
  stopped.get_future ().wait ();
  /* joins the client thread; callbacks see stopping_ and do nothing */
  client_.reset ();
}

bool
HlsUploader::submit_segment (const std::string & name, GBytes * bytes, std::string & error)
{
  uint64_t generation = 0;
  if (!spool_.put (name, bytes, generation, error))
    return false;
  gint64 now = g_get_monotonic_time ();
  client_->invoke ([this, name, now, generation] {
    if (stopping_)
      return;
    submitted_at_[name] = now;
    plan_.segment_ready (name, generation);
    pump ();
  });
  return true;
}

void
HlsUploader::submit_playlist (const std::string & name, std::string content)
{
  client_->invoke ([this, name, content = std::move (content)] {
    if (stopping_)
      return;
    plan_.playlist_ready (name, content);
    pump ();
  });
}

void
HlsUploader::expire_segment (const std::string & name)
{
  client_->invoke ([this, name] {
    if (stopping_)
      return;
    plan_.segment_expired (name);
    pump ();
  });
}

void
HlsUploader::pump ()
{
  if (!paused_ && !halted_) {
    for (auto & a : plan_.take_actions ())
      start (a);
  }
  for (auto & [name, generation] : plan_.take_released ()) {
    spool_.drop_generation (name, generation);
    if (!submitted_at_.count (name))
      continue;
    /* released without an upload: it expired while waiting */
    std::lock_guard<std::mutex> lk (stats_lock_);
    stats_.segments_skipped++;
    submitted_at_.erase (name);
  }
  update_spool_stats ();
  check_flush ();
}

void
HlsUploader::update_spool_stats ()
{
  std::lock_guard<std::mutex> lk (stats_lock_);
  stats_.spool_objects = spool_.count ();
  stats_.spool_bytes = spool_.bytes ();
  stats_.pending_uploads = plan_.pending_uploads ();
  stats_.oldest_pending_us = -1;
  for (auto & [name, at] : submitted_at_)
    if (stats_.oldest_pending_us < 0 || at < stats_.oldest_pending_us)
      stats_.oldest_pending_us = at;
  stats_.outage = outage_;
}

void
HlsUploader::start (const UploadAction & a)
{
  std::string key = key_for (a.name);
  auto cb = [this, a] (guint64 bytes) {
    return [this, a, bytes] (S3Result r) {
      if (stopping_)
        return;
      on_done (a, r, bytes);
    };
  };
  switch (a.kind) {
    case UploadAction::Kind::PutSegment: {
      std::shared_ptr<GBytes> bytes = spool_.get (a.name);
      if (!bytes) {
        /* cannot happen unless the spool file vanished */
        S3Result r;
        r.error.code = "SpoolReadFailed";
        r.error.message = "the spooled segment could not be read back";
        r.error.key = key;
        plan_.action_done (a, true);
        halted_ = true;
        if (listener_.on_fatal)
          listener_.on_fatal (r.error);
        return;
      }
      guint64 size = g_bytes_get_size (bytes.get ());
      {
        std::lock_guard<std::mutex> lk (stats_lock_);
        stats_.uploads_started++;
      }
      GST_DEBUG ("upload segment %s (%" G_GUINT64_FORMAT " bytes)", key.c_str (), size);
      client_->put_object (key, bytes.get (), hls_content_type (a.name),
          settings_.segment_cache_control, cb (size));
      break;
    }
    case UploadAction::Kind::PutPlaylist: {
      {
        std::lock_guard<std::mutex> lk (stats_lock_);
        stats_.uploads_started++;
      }
      GBytes *b = g_bytes_new (a.content.data (), a.content.size ());
      GST_DEBUG ("upload playlist %s version %" G_GUINT64_FORMAT, key.c_str (), a.version);
      client_->put_object (key, b, hls_content_type (a.name),
          settings_.playlist_cache_control, cb (a.content.size ()));
      g_bytes_unref (b);
      break;
    }
    case UploadAction::Kind::DeleteSegment:
      GST_DEBUG ("delete expired segment %s", key.c_str ());
      client_->delete_object (key, cb (0));
      break;
  }
}

void
HlsUploader::on_done (const UploadAction & a, const S3Result & r, guint64 bytes)
{
  bool ok = r.ok;
  if (!ok && a.kind == UploadAction::Kind::DeleteSegment && !r.error.retryable ()) {
    /* a delete S3 refuses for good must not hold the stream back */
    GST_WARNING ("cannot delete %s: %s", key_for (a.name).c_str (),
        r.error.describe ().c_str ());
    ok = true;
  }

  if (ok) {
    std::lock_guard<std::mutex> lk (stats_lock_);
    if (a.kind == UploadAction::Kind::DeleteSegment) {
      stats_.deletes_completed++;
    } else {
      stats_.uploads_completed++;
      stats_.bytes_uploaded += bytes;
    }
    if (a.kind == UploadAction::Kind::PutSegment) {
      auto it = submitted_at_.find (a.name);
      if (it != submitted_at_.end ()) {
        gint64 lat = g_get_monotonic_time () - it->second;
        stats_.last_latency_us = lat;
        stats_.worst_latency_us = std::max (stats_.worst_latency_us, lat);
        stats_.latency.observe (lat);
        submitted_at_.erase (it);
      }
    }
  } else if (a.kind != UploadAction::Kind::DeleteSegment) {
    std::lock_guard<std::mutex> lk (stats_lock_);
    stats_.uploads_failed++;
  }
  if (!r.ok && r.error.code != "Cancelled") {
    std::lock_guard<std::mutex> lk (stats_lock_);
    stats_.last_error = r.error.describe ();
  }
  plan_.action_done (a, ok);

  if (ok) {
    consecutive_failures_ = 0;
    if (outage_) {
      outage_ = false;
      /* S3 answers: what waits in the spool goes now, not when the
       * timer of the last failure fires */
      if (paused_) {
        paused_ = false;
        resume_pending_ = false;
        pause_epoch_++;
      }
      /* requests that sent their last attempt before this one and heard
       * nothing since sit on connections that died with the outage */
      client_->restart_stalled (r.attempt_sent_us);
      update_spool_stats ();
      GST_INFO ("S3 answers again");
      if (listener_.on_recovered)
        listener_.on_recovered ();
    }
  } else if (r.error.code == "Cancelled") {
    /* shutting down */
  } else if (!r.error.retryable ()) {
    if (!halted_) {
      halted_ = true;
      if (listener_.on_fatal)
        listener_.on_fatal (r.error);
    }
  } else {
    consecutive_failures_++;
    enter_outage (r.error);
    unsigned delay = r.error.http_status == 0 ? kUnreachableRetryMs
        : backoff_delay_ms (consecutive_failures_, kOutageBackoffBaseMs, kOutageBackoffCapMs);
    if (!resume_pending_)
      GST_INFO ("S3 unavailable (%s); retrying in %u ms with %zu object(s) spooled",
          r.error.describe ().c_str (), delay, spool_.count ());
    pause_for (delay);
  }
  pump ();
}

/* client thread: an attempt failed and will be retried by the client */
void
HlsUploader::on_retry (const S3Error & error)
{
  if (stopping_)
    return;
  {
    std::lock_guard<std::mutex> lk (stats_lock_);
    stats_.requests_retried++;
    stats_.last_error = error.describe ();
  }
  if (halted_ || error.code != "Timeout")
    return;
  /* S3 left a request unanswered for the whole request time-out: that is
   * an outage now, not after every retry has timed out as well. New
   * requests wait; the first answer, or the pause that follows the
   * request's last failure, ends the wait. */
  GST_INFO ("S3 did not answer within the request time-out (%s); waiting for it",
      error.describe ().c_str ());
  enter_outage (error);
  paused_ = true;
  update_spool_stats ();
}

void
HlsUploader::enter_outage (const S3Error & error)
{
  if (outage_)
    return;
  outage_ = true;
  {
    std::lock_guard<std::mutex> lk (stats_lock_);
    stats_.outages++;
  }
  update_spool_stats ();
  if (!probing_) {
    probing_ = true;
    probe_tick ();
  }
  if (listener_.on_outage)
    listener_.on_outage (error);
}

/* client thread, every kProbeIntervalMs while in an outage: asks S3
 * whether it answers. Requests in flight may sit on connections that died
 * with the outage, each until its request time-out (10 s by default); a
 * probe on a new connection learns sooner that S3 is back. */
void
HlsUploader::probe_tick ()
{
  if (!outage_ || halted_) {
    probing_ = false;
    return;
  }
  if (probes_out_ < kMaxProbes) {
    probes_out_++;
    gint64 sent_us = g_get_monotonic_time ();
    unsigned timeout = std::min (kProbeTimeoutMs, std::max (1u, settings_.s3.request_timeout_ms));
    client_->probe (timeout, [this, sent_us] (S3Result r) {
      if (stopping_)
        return;
      probes_out_--;
      /* any answer but a server error or a slow-down: S3 is there */
      bool answered = r.http_status != 0 && r.http_status < 500 && r.http_status != 429;
      if (answered && outage_ && !halted_)
        resume_now (sent_us);
    });
  }
  client_->invoke_later (kProbeIntervalMs, [this] {
    if (!stopping_)
      probe_tick ();
  });
}

/* client thread: S3 answered a probe sent at stalled_since_us */
void
HlsUploader::resume_now (gint64 stalled_since_us)
{
  GST_INFO ("S3 answers again: resuming uploads");
  if (paused_) {
    paused_ = false;
    resume_pending_ = false;
    pause_epoch_++;
  }
  client_->restart_stalled (stalled_since_us);
  pump ();
}

/* No new requests for delay_ms (unless S3 answers first); a pause already
 * timed is not extended. */
void
HlsUploader::pause_for (unsigned delay_ms)
{
  paused_ = true;
  if (resume_pending_)
    return;
  resume_pending_ = true;
  client_->invoke_later (delay_ms, [this, epoch = pause_epoch_] {
    if (stopping_ || epoch != pause_epoch_)
      return;
    resume_pending_ = false;
    paused_ = false;
    pump ();
  });
}

void
HlsUploader::check_flush ()
{
  if (!flush_done_ || !(plan_.idle () || halted_))
    return;
  auto done = std::move (flush_done_);
  flush_done_ = nullptr;
  done (!halted_, plan_.pending_uploads ());
}

void
HlsUploader::flush (unsigned timeout_ms, std::function<void (bool, size_t)> done)
{
  client_->invoke ([this, timeout_ms, done = std::move (done)] () mutable {
    if (stopping_)
      return;
    guint64 id = ++flush_id_;
    flush_done_ = std::move (done);
    check_flush ();
    client_->invoke_later (timeout_ms, [this, id] {
      if (stopping_ || !flush_done_ || id != flush_id_)
        return;
      auto d = std::move (flush_done_);
      flush_done_ = nullptr;
      d (false, plan_.pending_uploads ());
    });
  });
}

S3Result
HlsUploader::check_bucket ()
{
  /* a client of its own: the check's retries are no outage of the uploads */
  S3Client checker (settings_.s3);
  return checker.wait ([&checker] (S3Callback cb) { checker.head_bucket (std::move (cb)); });
}

HlsUploaderStats
HlsUploader::stats () const
{
  std::lock_guard<std::mutex> lk (stats_lock_);
  return stats_;
}

}  // namespace castline::s3
