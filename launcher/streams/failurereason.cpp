#include "streams/failurereason.h"

#include <cerrno>
#include <cstring>

namespace castline::launcher {

namespace {

bool
contains (const char *text, const char *what)
{
  return text && strstr (text, what);
}

/* the file a write failed on: the one its details name ("could not
 * write PATH: ...", llhlssink's), else the element's location when that
 * is one file (filesink's; not a template such as segment%05d.ts) */
std::string
failed_file (GstMessage * msg, const char *debug)
{
  std::string path;
  for (const char *lead : { "could not write ", "could not open " }) {
    const char *at = debug && path.empty () ? strstr (debug, lead) : nullptr;
    if (!at)
      continue;
    at += strlen (lead);
    const char *end = strstr (at, ": ");
    path.assign (at, end ? (size_t) (end - at) : strlen (at));
  }
  GObject *src = G_OBJECT (GST_MESSAGE_SRC (msg));
  GParamSpec *location = g_object_class_find_property (G_OBJECT_GET_CLASS (src), "location");
  if (path.empty () && location && G_PARAM_SPEC_VALUE_TYPE (location) == G_TYPE_STRING
      && (location->flags & G_PARAM_READABLE)) {
    g_autofree gchar *value = nullptr;
    g_object_get (src, "location", &value, nullptr);
    if (value && !strchr (value, '%'))
      path = value;
  }
  if (path.empty ())
    return "";
  g_autofree gchar *base = g_path_get_basename (path.c_str ());
  std::string name = base;
  /* the file being written under its temporary name: the segment */
  if (g_str_has_suffix (name.c_str (), ".tmp"))
    name.resize (name.size () - strlen (".tmp"));
  return name;
}

}  // namespace

std::string
pipeline_failure_reason (GstMessage * msg)
{
  GError *e = nullptr;
  g_autofree gchar *debug = nullptr;
  gst_message_parse_error (msg, &e, &debug);
  std::string what = std::string (GST_OBJECT_NAME (GST_MESSAGE_SRC (msg))) + ": " + e->message;
  /* the stock text only: an element with its own words for NO_SPACE_LEFT
   * (s3hlssink's full upload spool) is not about the disk */
  g_autofree gchar *stock = gst_error_get_message (GST_RESOURCE_ERROR,
      GST_RESOURCE_ERROR_NO_SPACE_LEFT);
  const char *enospc = g_strerror (ENOSPC);
  bool no_space = (g_error_matches (e, GST_RESOURCE_ERROR, GST_RESOURCE_ERROR_NO_SPACE_LEFT)
          && g_strcmp0 (e->message, stock) == 0)
      || contains (e->message, enospc) || contains (debug, enospc);
  g_error_free (e);
  if (!no_space)
    return what;
  std::string file = failed_file (msg, debug);
  return std::string ("the data disk is full (") + enospc + ")"
      + (file.empty () ? ": " + what : " writing " + file);
}

}  // namespace castline::launcher
