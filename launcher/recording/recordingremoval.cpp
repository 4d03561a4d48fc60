#include "recording/recordingremoval.h"

#include "recording/vodplaylist.h"

#include <glib/gstdio.h>

#include <algorithm>
#include <cerrno>
#include <map>
#include <set>

namespace castline::launcher {

namespace {

/* keys in one DeleteObjects request: S3's limit */
constexpr size_t kDeleteBatch = 1000;

/* What a file read gave: its text, or that it is gone, or an error. */
struct Read {
  bool gone = false;
  std::string text;
  std::string error;               /* "" when read (or gone) */
};

/* A stream's files, locally or in S3; worker thread. Names are relative
 * to the stream's directory or prefix. */
class Files {
 public:
  virtual ~Files () = default;
  virtual Read read (const std::string & name) = 0;
  /* Removes names (a file already gone counts); "" or why not. Adds
   * what it freed to bytes (local). */
  virtual std::string remove (const std::vector<std::string> & names, guint64 & bytes) = 0;
};

class LocalFiles : public Files {
 public:
  explicit LocalFiles (std::string dir) : dir_ (std::move (dir)) {}

  Read read (const std::string & name) override
  {
    Read r;
    g_autofree gchar *text = nullptr;
    gsize size = 0;
    g_autoptr (GError) err = nullptr;
    if (g_file_get_contents (path (name).c_str (), &text, &size, &err))
      r.text.assign (text, size);
    else if (g_error_matches (err, G_FILE_ERROR, G_FILE_ERROR_NOENT))
      r.gone = true;
    else
      r.error = err->message;
    return r;
  }

  std::string remove (const std::vector<std::string> & names, guint64 & bytes) override
  {
    for (auto & name : names) {
      std::string p = path (name);
      GStatBuf st;
      bool there = g_stat (p.c_str (), &st) == 0;
      if (g_unlink (p.c_str ()) != 0 && errno != ENOENT)
        return name + ": " + g_strerror (errno);
      if (there)
        bytes += (guint64) st.st_size;
    }
    return "";
  }

 private:
  std::string path (const std::string & name) const { return dir_ + G_DIR_SEPARATOR_S + name; }
  std::string dir_;
};

class S3Files : public Files {
 public:
  S3Files (std::shared_ptr<castline::s3::S3Client> s3, std::string prefix)
      : s3_ (std::move (s3)), prefix_ (std::move (prefix)) {}

  Read read (const std::string & name) override
  {
    Read r;
    std::string key = prefix_ + name;
    castline::s3::S3Result res = s3_->wait ([&] (castline::s3::S3Callback cb) {
          s3_->get_object (key, std::move (cb));
        });
    if (res.ok) {
      gsize size = 0;
      const char *data = res.body ? (const char *) g_bytes_get_data (res.body.get (), &size)
          : nullptr;
      r.text.assign (data ? data : "", size);
    } else if (res.error.http_status == 404 || res.error.code == "NoSuchKey") {
      r.gone = true;
    } else {
      r.error = res.error.describe ();
    }
    return r;
  }

  std::string remove (const std::vector<std::string> & names, guint64 &) override
  {
    /* DeleteObjects answers success for a key that is not there */
    for (size_t i = 0; i < names.size (); i += kDeleteBatch) {
      std::vector<std::string> keys;
      for (size_t j = i; j < std::min (names.size (), i + kDeleteBatch); j++)
        keys.push_back (prefix_ + names[j]);
      castline::s3::S3Result res = s3_->wait ([&] (castline::s3::S3Callback cb) {
            s3_->delete_objects (keys, std::move (cb));
          });
      if (!res.ok)
        return res.error.describe ();
    }
    return "";
  }

 private:
  std::shared_ptr<castline::s3::S3Client> s3_;
  std::string prefix_;
};

/* "360p/vod.m3u8" -> "360p/"; "vod.m3u8" -> "" */
std::string
folder_of (const std::string & name)
{
  size_t slash = name.rfind ('/');
  return slash == std::string::npos ? "" : name.substr (0, slash + 1);
}

struct Job {
  RecordingPlace place;
  std::vector<RecordingRecord> recordings;
  RemovalDone done;
  RemovalResult result;
  /* a folder's live playlist's files, read once ("<folder>" -> names) */
  std::map<std::string, std::set<std::string>> live;

  /* The files of recording r, in the order they go (its playlist last,
   * so that a removal that fails half-way can be asked again); false
   * with why. */
  bool files_of (Files & files, const RecordingRecord & r, std::vector<std::string> & out,
      std::string & why)
  {
    out.clear ();
    if (r.kind != "hls") {
      out.push_back (r.name);
      return true;
    }
    Read vod = files.read (r.name);
    if (!vod.error.empty ()) {
      why = r.name + ": " + vod.error;
      return false;
    }
    if (!vod.gone && !is_master_playlist (vod.text)) {
      std::string folder = folder_of (r.name);
      auto kept = live.find (folder);
      if (kept == live.end ()) {
        Read index = files.read (folder + "index.m3u8");
        if (!index.error.empty ()) {
          why = folder + "index.m3u8: " + index.error;
          return false;
        }
        std::vector<std::string> named = playlist_files (index.text);
        kept = live.emplace (folder, std::set<std::string> (named.begin (), named.end ())).first;
      }
      for (auto & f : playlist_files (vod.text))
        if (!kept->second.count (f))
          out.push_back (folder + f);
    }
    out.push_back (r.name);
    return true;
  }

  void run ()
  {
    std::unique_ptr<Files> files;
    if (!place.key_prefix.empty () && place.s3)
      files = std::make_unique<S3Files> (place.s3, place.key_prefix);
    else
      files = std::make_unique<LocalFiles> (place.dir);
    guint64 bytes = 0;
    for (auto & r : recordings) {
      std::vector<std::string> names;
      std::string why;
      if (!files_of (*files, r, names, why) || !(why = files->remove (names, bytes)).empty ()) {
        result.failed.emplace_back (r, why);
        continue;
      }
      result.removed.push_back (r);
      result.files.insert (result.files.end (), names.begin (), names.end ());
    }
    if (place.key_prefix.empty ())
      result.bytes = bytes;
  }
};

}  // namespace

void
remove_recording_files (RecordingPlace place, std::vector<RecordingRecord> recordings,
    RemovalDone done)
{
  auto *job = new Job { std::move (place), std::move (recordings), std::move (done), {}, {} };
  /* the callback runs on this thread's main context once the worker is done */
  g_autoptr (GTask) task = g_task_new (nullptr, nullptr, [] (GObject *, GAsyncResult * res,
          gpointer) {
        auto *j = static_cast<Job *> (g_task_get_task_data (G_TASK (res)));
        auto done = std::move (j->done);
        RemovalResult result = std::move (j->result);
        done (std::move (result));
      }, nullptr);
  g_task_set_task_data (task, job, [] (gpointer data) { delete static_cast<Job *> (data); });
  g_task_run_in_thread (task, [] (GTask * t, gpointer, gpointer data, GCancellable *) {
        static_cast<Job *> (data)->run ();
        g_task_return_boolean (t, TRUE);
      });
}

}  // namespace castline::launcher
