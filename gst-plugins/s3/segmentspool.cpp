#include "s3/segmentspool.h"

#include <glib/gstdio.h>

#include <cerrno>
#include <cstring>
#include <vector>

namespace castline::s3 {

SegmentSpool::SegmentSpool (uint64_t memory_limit, uint64_t total_limit,
    std::string directory)
  : memory_limit_ (memory_limit), total_limit_ (total_limit),
    parent_dir_ (std::move (directory))
{
}

SegmentSpool::~SegmentSpool ()
{
  clear ();
  if (!dir_.empty ())
    g_rmdir (dir_.c_str ());
}

bool
SegmentSpool::ensure_dir_locked (std::string & error)
{
  if (!dir_.empty ())
    return true;
  std::string parent = parent_dir_.empty () ? g_get_tmp_dir () : parent_dir_;
  if (g_mkdir_with_parents (parent.c_str (), 0700) != 0) {
    error = "cannot create spool directory " + parent + ": " + g_strerror (errno);
    return false;
  }
  g_autofree gchar *tmpl = g_build_filename (parent.c_str (), "castline-spool-XXXXXX", nullptr);
  if (!g_mkdtemp_full (tmpl, 0700)) {
    error = "cannot create a spool directory in " + parent + ": " + g_strerror (errno);
    return false;
  }
  dir_ = tmpl;
  return true;
}

bool
SegmentSpool::put (const std::string & name, GBytes * bytes, uint64_t & generation,
    std::string & error)
{
  std::lock_guard<std::mutex> lk (lock_);
  uint64_t size = g_bytes_get_size (bytes);
  uint64_t old = 0;
  if (auto it = entries_.find (name); it != entries_.end ())
    old = it->second.size;
  if (memory_bytes_ + disk_bytes_ - old + size > total_limit_) {
    error = "spool limit of " + std::to_string (total_limit_ / 1024) + " KiB reached ("
        + std::to_string (entries_.size ()) + " objects waiting)";
    return false;
  }
  drop_locked (name);

  Entry e;
  e.size = size;
  e.generation = ++last_generation_;
  if (memory_bytes_ + size <= memory_limit_) {
    e.memory = std::shared_ptr<GBytes> (g_bytes_ref (bytes), g_bytes_unref);
    memory_bytes_ += size;
  } else {
    if (!ensure_dir_locked (error))
      return false;
    g_autofree gchar *path = g_strdup_printf ("%s/%" G_GUINT64_FORMAT ".seg",
        dir_.c_str (), ++file_counter_);
    gsize len = 0;
    const gchar *data = (const gchar *) g_bytes_get_data (bytes, &len);
    GError *err = nullptr;
    if (!g_file_set_contents_full (path, data ? data : "", (gssize) len,
            G_FILE_SET_CONTENTS_NONE, 0600, &err)) {
      error = std::string ("cannot write to the spool directory: ") + err->message;
      g_error_free (err);
      return false;
    }
    e.path = path;
    disk_bytes_ += size;
  }
  generation = e.generation;
  entries_[name] = std::move (e);
  return true;
}

std::shared_ptr<GBytes>
SegmentSpool::get (const std::string & name) const
{
  std::string path;
  {
    std::lock_guard<std::mutex> lk (lock_);
    auto it = entries_.find (name);
    if (it == entries_.end ())
      return nullptr;
    if (it->second.memory)
      return it->second.memory;
    path = it->second.path;
  }
  gchar *data = nullptr;
  gsize len = 0;
  if (!g_file_get_contents (path.c_str (), &data, &len, nullptr))
    return nullptr;
  return std::shared_ptr<GBytes> (g_bytes_new_take (data, len), g_bytes_unref);
}

void
SegmentSpool::drop_locked (const std::string & name)
{
  auto it = entries_.find (name);
  if (it == entries_.end ())
    return;
  if (it->second.memory) {
    memory_bytes_ -= it->second.size;
  } else {
    disk_bytes_ -= it->second.size;
    g_unlink (it->second.path.c_str ());
  }
  entries_.erase (it);
}

void
SegmentSpool::drop_generation (const std::string & name, uint64_t generation)
{
  std::lock_guard<std::mutex> lk (lock_);
  auto it = entries_.find (name);
  if (it != entries_.end () && it->second.generation <= generation)
    drop_locked (name);
}

void
SegmentSpool::drop (const std::string & name)
{
  std::lock_guard<std::mutex> lk (lock_);
  drop_locked (name);
}

void
SegmentSpool::clear ()
{
  std::lock_guard<std::mutex> lk (lock_);
  std::vector<std::string> names;
  for (auto & [n, e] : entries_)
    names.push_back (n);
  for (auto & n : names)
    drop_locked (n);
}

uint64_t
SegmentSpool::bytes () const
{
  std::lock_guard<std::mutex> lk (lock_);
  return memory_bytes_ + disk_bytes_;
}

uint64_t
SegmentSpool::disk_bytes () const
{
  std::lock_guard<std::mutex> lk (lock_);
  return disk_bytes_;
}

size_t
SegmentSpool::count () const
{
  std::lock_guard<std::mutex> lk (lock_);
  return entries_.size ();
}

}  // namespace castline::s3
