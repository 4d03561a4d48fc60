#include "recording/recordings.h"

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
 * data). Each writes segment%05d.ts next to its index.m3u8. */
void
Recordings::start (const std::string & id, unsigned session, StreamPipeline & pipeline)
{
  std::string prefix = session_prefix (session);
  auto recorder = std::make_unique<Recorder> (id, s3_, config_.record_mp4, prefix);
  if (config_.s3.enabled ())
    recorder->set_root ("", config_.s3.key_prefix + id + "/");
  else
    recorder->set_root (config_.hls_dir (id), "");
  recorder->follow (pipeline.pipeline ());
  /* the recorder outlives the pipeline's streaming threads (it goes once
   * the pipeline is at NULL and its VODs are written) */
  Recorder *rec = recorder.get ();
  pipeline.outputs ().set_hook ([rec, prefix] (const HlsOutput & out) {
        RecordedOutput o;
        o.name = out.name;
        o.sink = out.sink;
        o.dir = out.key_prefix.empty () ? out.dir : "";
        o.key_prefix = out.key_prefix;
        o.segment_name = [prefix] (guint n) {
          g_autofree gchar *name = g_strdup_printf ("segment%05u.ts", n);
          return prefix + name;
        };
        rec->attach (std::move (o));
      });
  recorders_[recorder_key (id, session)] = std::move (recorder);
}

void
Recordings::drop (const std::string & id, unsigned session)
{
  recorders_.erase (recorder_key (id, session));
}

void
Recordings::finish (const std::string & id, unsigned session)
{
  std::string key = recorder_key (id, session);
  auto rec = recorders_.find (key);
  if (rec == recorders_.end ())
    return;
  rec->second->finish ([this, key, id] (std::vector<RecordingRecord> recordings) {
        on_recorded (key, id, std::move (recordings));
      });
}

void
Recordings::on_recorded (const std::string & key, const std::string & id,
    std::vector<RecordingRecord> recordings)
{
  std::string error;
  std::vector<RecordingRecord> stored;
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
