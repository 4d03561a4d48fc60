#include "recording/segmentjournal.h"

#include <gio/gio.h>
#include <glib/gstdio.h>

#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <sstream>

namespace castline::launcher {

namespace {

constexpr const char *kFolder = "recording-journal";
constexpr const char *kSuffix = ".log";
/* the single output `out`, which has no rung name */
constexpr const char *kSingle = ".";

}  // namespace

std::string
SegmentJournal::folder (const std::string & data_dir, const std::string & id)
{
  return data_dir + G_DIR_SEPARATOR_S + kFolder + G_DIR_SEPARATOR_S + id;
}

std::string
SegmentJournal::path (const std::string & data_dir, const std::string & id, unsigned session)
{
  return folder (data_dir, id) + G_DIR_SEPARATOR_S + std::to_string (session) + kSuffix;
}

std::unique_ptr<SegmentJournal>
SegmentJournal::open (const std::string & path, std::string & error)
{
  g_autofree gchar *dir = g_path_get_dirname (path.c_str ());
  if (g_mkdir_with_parents (dir, 0755) != 0) {
    error = std::string ("cannot create ") + dir + ": " + g_strerror (errno);
    return nullptr;
  }
  int fd = ::open (path.c_str (), O_WRONLY | O_CREAT | O_TRUNC | O_APPEND | O_CLOEXEC, 0644);
  if (fd < 0) {
    error = "cannot open " + path + ": " + g_strerror (errno);
    return nullptr;
  }
  std::unique_ptr<SegmentJournal> j (new SegmentJournal ());
  j->fd_ = fd;
  j->path_ = path;
  return j;
}

SegmentJournal::~SegmentJournal ()
{
  if (fd_ >= 0)
    ::close (fd_);
}

void
SegmentJournal::append (const std::string & output, const VodSegment & segment)
{
  std::string line = (output.empty () ? kSingle : output) + "\t" + segment.uri + "\t"
      + std::to_string ((guint64) segment.duration) + "\n";
  std::lock_guard<std::mutex> lk (lock_);
  ssize_t n = ::write (fd_, line.data (), line.size ());
  if (n != (ssize_t) line.size () && !warned_) {
    warned_ = true;
    g_warning ("%s: cannot write: %s; a crash now would lose the recording's last segments",
        path_.c_str (), n < 0 ? g_strerror (errno) : "short write");
  }
}

SegmentJournal::Outputs
SegmentJournal::read (const std::string & path)
{
  Outputs outputs;
  g_autofree gchar *text = nullptr;
  if (!g_file_get_contents (path.c_str (), &text, nullptr, nullptr))
    return outputs;
  std::istringstream in (text);
  std::string line;
  while (std::getline (in, line)) {
    if (in.eof ())
      break;                         /* no newline: the last line, cut short */
    size_t a = line.find ('\t'), b = a == std::string::npos ? a : line.find ('\t', a + 1);
    if (b == std::string::npos)
      continue;
    std::string name = line.substr (0, a);
    std::string uri = line.substr (a + 1, b - a - 1);
    std::string ns = line.substr (b + 1);
    if (uri.empty () || uri.find ('/') != std::string::npos || ns.empty ()
        || ns.find_first_not_of ("0123456789") != std::string::npos)
      continue;
    if (name == kSingle)
      name.clear ();
    auto it = std::find_if (outputs.begin (), outputs.end (),
        [&name] (const auto & o) { return o.first == name; });
    if (it == outputs.end ()) {
      outputs.emplace_back (name, std::vector<VodSegment> ());
      it = outputs.end () - 1;
    }
    it->second.push_back ({ uri, (GstClockTime) g_ascii_strtoull (ns.c_str (), nullptr, 10) });
  }
  return outputs;
}

std::vector<std::string>
SegmentJournal::streams (const std::string & data_dir)
{
  std::vector<std::string> ids;
  g_autoptr (GDir) d = g_dir_open ((data_dir + G_DIR_SEPARATOR_S + kFolder).c_str (), 0, nullptr);
  while (const char *f = d ? g_dir_read_name (d) : nullptr)
    ids.push_back (f);
  return ids;
}

std::vector<unsigned>
SegmentJournal::sessions (const std::string & data_dir, const std::string & id)
{
  std::vector<unsigned> found;
  g_autoptr (GDir) d = g_dir_open (folder (data_dir, id).c_str (), 0, nullptr);
  if (!d)
    return found;
  while (const char *f = g_dir_read_name (d)) {
    std::string name = f;
    if (!g_str_has_suffix (f, kSuffix))
      continue;
    std::string n = name.substr (0, name.size () - strlen (kSuffix));
    if (n.empty () || n.size () > 6 || n.find_first_not_of ("0123456789") != std::string::npos)
      continue;
    found.push_back ((unsigned) std::stoul (n));
  }
  std::sort (found.begin (), found.end ());
  return found;
}

void
SegmentJournal::remove (const std::string & data_dir, const std::string & id, unsigned session)
{
  g_unlink (path (data_dir, id, session).c_str ());
  g_rmdir (folder (data_dir, id).c_str ());   /* only when empty */
}

}  // namespace castline::launcher
