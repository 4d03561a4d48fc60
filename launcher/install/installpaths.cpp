#include "install/installpaths.h"

#include <gst/gst.h>

#include <vector>

/* Set by launcher/meson.build from the install options; relative ones
 * are relative to the prefix (meson's usual), absolute ones stay put. */
#ifndef CASTLINE_INSTALL_BINDIR
#define CASTLINE_INSTALL_BINDIR "bin"
#endif
#ifndef CASTLINE_INSTALL_DATADIR
#define CASTLINE_INSTALL_DATADIR "share/castline"
#endif
#ifndef CASTLINE_INSTALL_PLUGINDIR
#define CASTLINE_INSTALL_PLUGINDIR "lib/gstreamer-1.0"
#endif
#ifndef CASTLINE_PLUGIN_FILENAME
#define CASTLINE_PLUGIN_FILENAME "libgstcastline.so"
#endif

namespace castline::launcher {

namespace {

std::string
join (const std::string & a, const std::string & b)
{
  g_autofree gchar *p = g_build_filename (a.c_str (), b.c_str (), nullptr);
  return p;
}

/* The prefix the executable was installed under: its directory with as
 * many levels taken off as bindir has ("bin": one). Empty when that does
 * not work out (bindir absolute, or the executable's path unreadable). */
std::string
running_prefix ()
{
  if (g_path_is_absolute (CASTLINE_INSTALL_BINDIR))
    return {};
  g_autofree gchar *exe = g_file_read_link ("/proc/self/exe", nullptr);
  if (!exe)
    return {};
  g_autofree gchar *dir = g_path_get_dirname (exe);
  std::string prefix = dir;
  g_auto (GStrv) levels = g_strsplit (CASTLINE_INSTALL_BINDIR, G_DIR_SEPARATOR_S, -1);
  for (gchar **l = levels; *l; l++) {
    if (!**l || g_str_equal (*l, "."))
      continue;
    g_autofree gchar *up = g_path_get_dirname (prefix.c_str ());
    prefix = up;
  }
  return prefix;
}

/* an install option's directory under the running prefix */
std::string
under (const std::string & prefix, const char *option_dir)
{
  return g_path_is_absolute (option_dir) ? std::string (option_dir) : join (prefix, option_dir);
}

}  // namespace

std::optional<InstallPaths>
installed_paths ()
{
  std::string prefix = running_prefix ();
  if (prefix.empty ())
    return std::nullopt;
  std::string data = under (prefix, CASTLINE_INSTALL_DATADIR);
  if (!g_file_test (join (data, "pipelines").c_str (), G_FILE_TEST_IS_DIR))
    return std::nullopt;
  InstallPaths p;
  p.pipelines_dir = join (data, "pipelines");
  p.web_dir = join (data, "web");
  p.hlsjs_path = join (data, "hls.js/hls.min.js");
  p.uplot_dir = join (data, "uplot");
  std::string plugin = join (under (prefix, CASTLINE_INSTALL_PLUGINDIR), CASTLINE_PLUGIN_FILENAME);
  if (g_file_test (plugin.c_str (), G_FILE_TEST_IS_REGULAR))
    p.plugin_file = plugin;
  return p;
}

bool
register_installed_plugin (std::string & error)
{
  std::optional<InstallPaths> paths = installed_paths ();
  if (!paths || paths->plugin_file.empty ())
    return true;
  /* loading adds its elements to the default registry for this process
   * (not to the registry cache: it is loaded again at each start) */
  GError *err = nullptr;
  GstPlugin *plugin = gst_plugin_load_file (paths->plugin_file.c_str (), &err);
  if (!plugin) {
    error = "cannot load the castline plugin " + paths->plugin_file + ": "
        + (err ? err->message : "unknown error");
    g_clear_error (&err);
    return false;
  }
  gst_object_unref (plugin);
  return true;
}

}  // namespace castline::launcher
