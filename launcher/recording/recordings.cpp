#include "recording/recordings.h"

#include "hls/hlsoutputs.h"
#include "recording/segmentjournal.h"

#include <algorithm>

namespace castline::launcher {

namespace {

std::string
recorder_key (const std::string & id, unsigned session)
{
  return id + "/" + std::to_string (session);
}

}  // namespace

std::string
session_prefix (unsigned n)
{
  return n <= 1 ? "" : "s" + std::to_string (n) + "-";
}

Recordings::Recordings (const Config & config, StreamStore & store,
    std::shared_ptr<castline::s3::S3Client> s3)
    : config_ (config), store_ (store), s3_ (std::move (s3))
{
}

Recordings::~Recordings () = default;

/* Every HLS output of the pipeline is recorded: the single sink `out`, or
 * one sink per rung of an abr pipeline (made on a streaming thread at the
 * input's first caps: the hook then runs there, before the sink gets
 * data). Each writes segment%05d.ts (or, LL-HLS, segment%05d.m4s and
 * its init.mp4) next to its index.m3u8, with the session's prefix. */
void
Recordings::start (const std::string & id, unsigned session, StreamPipeline & pipeline)
{
  auto recorder = make_recorder (id, session);
  std::string error;
  if (auto journal = SegmentJournal::open (SegmentJournal::path (config_.data_dir, id, session),
          error))
    recorder->set_journal (std::move (journal));
  else
    g_warning ("stream %s: %s: its recording would not survive a crash", id.c_str (),
        error.c_str ());
  recorder->follow (pipeline.pipeline ());
  /* the recorder outlives the pipeline's streaming threads (it goes once
   * the pipeline is at NULL and its VODs are written) */
  Recorder *rec = recorder.get ();
  pipeline.outputs ().set_hook ([rec] (const HlsOutput & out) {
        RecordedOutput o;
        o.name = out.name;
        o.sink = out.sink;
        o.dir = out.key_prefix.empty () ? out.dir : "";
        o.key_prefix = out.key_prefix;
        o.init = out.init;
        o.segment_name = [out] (guint n) { return out.segment_name (n); };
        rec->attach (std::move (o));
      });
  recorders_[recorder_key (id, session)] = std::move (recorder);
}

std::unique_ptr<Recorder>
Recordings::make_recorder (const std::string & id, unsigned session) const
{
  auto recorder = std::make_unique<Recorder> (id, s3_, config_.record_mp4,
      session_prefix (session));
  if (config_.s3.enabled ())
    recorder->set_root ("", output_key_prefix (config_.s3, id, ""));
  else
    recorder->set_root (config_.hls_dir (id), "");
  return recorder;
}

void
Recordings::drop (const std::string & id, unsigned session)
{
  recorders_.erase (recorder_key (id, session));
  SegmentJournal::remove (config_.data_dir, id, session);
}

bool
Recordings::settle (const std::string & id, unsigned session,
    const std::map<std::string, std::string> & last_uploaded)
{
  SegmentJournal::Outputs outputs = SegmentJournal::read (
      SegmentJournal::path (config_.data_dir, id, session));
  auto recorder = make_recorder (id, session);
  size_t kept = 0;
  for (auto & [name, segments] : outputs) {
    RecordedOutput o;
    o.name = name;
    if (config_.s3.enabled ()) {
      o.key_prefix = output_key_prefix (config_.s3, id, name);
      /* only what the bucket has: up to the newest segment its live
       * playlist names (s3hlssink uploads a playlist after its segments) */
      auto last = last_uploaded.find (name);
      auto end = last == last_uploaded.end () ? segments.begin ()
          : std::find_if (segments.begin (), segments.end (),
              [&last] (const VodSegment & s) { return s.uri == last->second; });
      segments.erase (end == segments.end () ? end : end + 1, segments.end ());
    } else {
      o.dir = output_dir (config_.hls_dir (id), name);
      /* a segment whose file is gone (deleted by hand) would break the VOD */
      auto gone = std::find_if (segments.begin (), segments.end (), [&o] (const VodSegment & s) {
            return !g_file_test ((o.dir + G_DIR_SEPARATOR_S + s.uri).c_str (),
                G_FILE_TEST_IS_REGULAR);
          });
      segments.erase (gone, segments.end ());
    }
    if (segments.empty ())
      continue;
    /* fMP4 segments (LL-HLS) start from the session's init segment */
    if (g_str_has_suffix (segments.front ().uri.c_str (), ".m4s"))
      o.init = init_name (session_prefix (session));
    kept += segments.size ();
    recorder->attach_closed (std::move (o), std::move (segments));
  }
  if (kept == 0) {
    SegmentJournal::remove (config_.data_dir, id, session);
    return false;
  }
  std::string key = recorder_key (id, session);
  Recorder *rec = recorder.get ();
  recorders_[key] = std::move (recorder);
  rec->finish ([this, key, id, session] (std::vector<RecordingRecord> recordings) {
        on_recorded (key, id, session, std::move (recordings));
      });
  return true;
}

void
Recordings::finish (const std::string & id, unsigned session)
{
  std::string key = recorder_key (id, session);
  auto rec = recorders_.find (key);
  if (rec == recorders_.end ())
    return;
  rec->second->finish ([this, key, id, session] (std::vector<RecordingRecord> recordings) {
        on_recorded (key, id, session, std::move (recordings));
      });
}

bool
Recordings::writing (const std::string & id) const
{
  std::string prefix = id + "/";
  auto it = recorders_.lower_bound (prefix);
  return it != recorders_.end () && it->first.compare (0, prefix.size (), prefix) == 0;
}

void
Recordings::remove (const std::string & id, std::vector<RecordingRecord> which,
    const std::string & reason, RemovalDone done)
{
  RecordingPlace place;
  if (config_.s3.enabled ()) {
    place.key_prefix = output_key_prefix (config_.s3, id, "");
    place.s3 = s3_;
  } else {
    place.dir = config_.hls_dir (id);
  }
  std::weak_ptr<bool> alive = alive_;
  remove_recording_files (std::move (place), std::move (which),
      [this, alive, id, reason, done] (RemovalResult result) {
        if (!alive.lock ())
          return;
        for (auto & r : result.removed) {
          std::string error;
          if (!store_.remove_recording (r, error))
            g_warning ("stream %s: its recording %s is removed but still listed: %s", id.c_str (),
                r.name.c_str (), error.c_str ());
        }
        for (auto & [r, why] : result.failed)
          g_warning ("stream %s: cannot remove its recording %s: %s", id.c_str (), r.name.c_str (),
              why.c_str ());
        if (!result.removed.empty ()) {
          std::string freed = result.bytes ? ", " + std::to_string (*result.bytes) + " bytes" : "";
          g_message ("stream %s: %zu recording%s removed (%s): %zu file%s%s", id.c_str (),
              result.removed.size (), result.removed.size () == 1 ? "" : "s", reason.c_str (),
              result.files.size (), result.files.size () == 1 ? "" : "s", freed.c_str ());
          if (auto r = store_.get (id))
            for (auto & l : removed_listeners_)
              l (*r, result, reason);
        }
        if (done)
          done (std::move (result));
      });
}

void
Recordings::on_recorded (const std::string & key, const std::string & id, unsigned session,
    std::vector<RecordingRecord> recordings)
{
  std::string error;
  std::vector<RecordingRecord> stored;
  SegmentJournal::remove (config_.data_dir, id, session);   /* written: no crash can lose it now */
  for (auto & rec : recordings) {
    if (store_.add_recording (rec, error))
      stored.push_back (rec);
    else
      g_warning ("stream %s: cannot store its recording %s: %s", id.c_str (), rec.name.c_str (),
          error.c_str ());
  }
  auto r = store_.get (id);
  if (r && !stored.empty ()) {
    g_message ("stream %s: recording ready (%zu file%s)", id.c_str (), stored.size (),
        stored.size () == 1 ? "" : "s");
    for (auto & l : listeners_)
      l (*r, stored);
  }
  /* the recorder is in the middle of its own callback: drop it afterwards */
  auto it = recorders_.find (key);
  if (it != recorders_.end ()) {
    Recorder *doomed = it->second.release ();
    recorders_.erase (it);
    g_idle_add_full (G_PRIORITY_DEFAULT, [] (gpointer data) -> gboolean {
          delete static_cast<Recorder *> (data);
          return G_SOURCE_REMOVE;
        }, doomed, nullptr);
  }
  if (on_written_)
    on_written_ ();
}

}  // namespace castline::launcher
