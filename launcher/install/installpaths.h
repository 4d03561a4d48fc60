/* castline-launcher: where an installed launcher finds what it ships.
 *
 * `meson install` (to any prefix, or a --destdir staging tree) puts the
 * pipeline descriptions, web pages, hls.js and uPlot under <datadir>/castline and
 * the plugin under <libdir>/gstreamer-1.0, each at the same place relative
 * to <bindir>. So the running executable's own path says where they are,
 * whatever the prefix; a launcher run from the build tree has no such tree
 * around it and keeps the source-tree paths compiled in. */
#pragma once

#include <optional>
#include <string>

namespace castline::launcher {

struct InstallPaths {
  std::string pipelines_dir;
  std::string web_dir;
  std::string hlsjs_path;
  std::string uplot_dir;
  /* the castline plugin file; empty when not installed beside it */
  std::string plugin_file;
};

/* The install tree around /proc/self/exe, when it is one (its
 * <datadir>/castline exists); nullopt for a build-tree run. */
std::optional<InstallPaths> installed_paths ();

/* Loads the installed plugin (when there is one) into GStreamer's
 * registry, so its elements are found although <libdir>/gstreamer-1.0 of
 * a prefix such as /usr/local is not on GStreamer's path. Call after
 * gst_init (). False, with error, when the file exists and will not
 * load. */
bool register_installed_plugin (std::string & error);

}  // namespace castline::launcher
