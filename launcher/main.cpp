/* castline-launcher: the daemon. With no arguments it runs on its embedded
 * default (127.0.0.1:8080, ./castline-data, HLS served by itself).
 *   castline-launcher [--config FILE]
 *   castline-launcher --check [--config FILE]     loads and checks (pipelines,
 *                                                 elements, store, S3), then exits
 *   castline-launcher --print-pipeline NAME       a description as a gst-launch line */
#include "checks/reachability.h"
#include "config/config.h"
#include "daemon.h"
#include "elementcheck.h"
#include "hls/hlsoutputs.h"
#include "install/installpaths.h"
#include "streams/elementnames.h"
#include "streams/streammanager.h"

#include <glib-unix.h>
#include <gst/gst.h>

#include <sys/resource.h>

#include <cstdio>
#include <memory>

using namespace castline::launcher;

namespace {

struct Shutdown {
  Daemon *daemon;
  GMainLoop *loop;
  bool started = false;
};

/* Every viewer on keep-alive holds a descriptor, and so does every
 * publisher, pipeline file and socket: the usual soft limit of 1024 is
 * reached at about a thousand viewers, after which accept() fails over
 * and over. Take what the hard limit allows, as nginx's
 * worker_rlimit_nofile lets an operator do. */
void
raise_descriptor_limit ()
{
  struct rlimit l;
  if (getrlimit (RLIMIT_NOFILE, &l) != 0 || l.rlim_cur >= l.rlim_max)
    return;
  rlim_t before = l.rlim_cur;
  l.rlim_cur = l.rlim_max;
  if (setrlimit (RLIMIT_NOFILE, &l) == 0)
    g_message ("descriptor limit raised from %llu to %llu", (unsigned long long) before,
        (unsigned long long) l.rlim_cur);
}

gboolean
on_signal (gpointer data)
{
  auto *s = static_cast<Shutdown *> (data);
  if (s->started) {
    g_message ("second signal: leaving now");
    g_main_loop_quit (s->loop);
    return G_SOURCE_CONTINUE;
  }
  s->started = true;
  g_message ("stopping: finalizing live streams");
  GMainLoop *loop = s->loop;
  s->daemon->shutdown ([loop] { g_main_loop_quit (loop); });
  return G_SOURCE_CONTINUE;
}

int
print_pipeline (StreamManager & m, const std::string & name)
{
  const PipelineDescription *d = m.catalog ().find (name);
  if (!d) {
    fprintf (stderr, "no pipeline named '%s'\n", name.c_str ());
    return 1;
  }
  /* the sink the launcher makes with its configuration (HlsOutputs) */
  const Config & c = m.config ();
  auto sink = [&name, &c] (const std::string & element, const std::string & folder) {
    std::string dir = "/tmp/castline-" + name + folder;
    std::string factory = hls_sink_factory (false, c.low_latency ());
    std::string text = factory + " name=" + element + " playlist-location=" + dir
        + "/index.m3u8 target-duration=" + std::to_string (c.hls_target_duration);
    if (factory == "hlssink2")
      return text + " location=" + dir + "/segment%05d.ts";
    gchar part[G_ASCII_DTOSTR_BUF_SIZE];
    g_ascii_dtostr (part, sizeof (part), c.hls_part_target);
    return text + " location=" + dir + "/segment%05d.m4s init-location=" + dir
        + "/init.mp4 part-target=" + part;
  };
  /* an abr graph: its rungs for a 1920x1080 H.264 input, keyframes every
   * 60 frames (the launcher forces them at the input's instead) */
  std::vector<RungPlan> rungs = select_rungs (c.ladder, 1920, 1080, 1, 1, true);
  std::string ladder = ladder_graph (rungs, !d->audio_codecs.empty (), 60,
      [&sink] (const RungPlan & p) {
        return sink (rung_sink_name (p.rung), "/" + p.rung.name)
            + (p.passthrough ? "" : " send-keyframe-requests=false");
      });
  GraphValues values;
  values.output = sink (names::kOutput, "");
  values.stream_id = "demo";
  values.ladder = ladder;
  values.set_video_codec ("h264");
  values.set_audio_codec ("opus");
  printf ("%s\n", render_graph (*d, values).c_str ());
  return 0;
}

}  // namespace

int
main (int argc, char **argv)
{
  g_autofree gchar *config_path = nullptr;
  gboolean check = FALSE;
  g_autofree gchar *print = nullptr;
  GOptionEntry entries[] = {
    { "config", 'c', 0, G_OPTION_ARG_FILENAME, &config_path, "JSON configuration file", "FILE" },
    { "check", 0, 0, G_OPTION_ARG_NONE, &check, "Load and check the configuration and the "
          "pipelines, then exit", nullptr },
    { "print-pipeline", 0, 0, G_OPTION_ARG_STRING, &print, "Print a pipeline description as a "
          "gst-launch-1.0 graph (video_in/audio_in left to link) and exit", "NAME" },
    { nullptr, 0, 0, G_OPTION_ARG_NONE, nullptr, nullptr, nullptr },
  };
  g_autoptr (GOptionContext) ctx = g_option_context_new ("- castline live-streaming daemon");
  g_option_context_add_main_entries (ctx, entries, nullptr);
  g_option_context_add_group (ctx, gst_init_get_option_group ());
  g_autoptr (GError) err = nullptr;
  if (!g_option_context_parse (ctx, &argc, &argv, &err)) {
    fprintf (stderr, "%s\n", err->message);
    return 2;
  }
  gst_init (nullptr, nullptr);
  std::string error;
  if (!register_installed_plugin (error))
    fprintf (stderr, "castline-launcher: %s\n", error.c_str ());

  Config config = default_config ();
  if (config_path && !load_config (config_path, config, error)) {
    fprintf (stderr, "castline-launcher: %s\n", error.c_str ());
    return 1;
  }
  /* first: the manager opens the store too, and stops at its error */
  bool reachable = !check || run_checks (config);
  StreamManager manager (config);
  std::vector<std::string> warnings;
  bool ok = manager.init (warnings, error);
  for (auto & w : warnings)
    fprintf (stderr, "castline-launcher: pipeline skipped: %s\n", w.c_str ());
  std::vector<std::string> missing = check_daemon_elements (config);
  for (auto & m : missing)
    fprintf (stderr, "castline-launcher: %s\n", m.c_str ());
  if (!ok) {
    fprintf (stderr, "castline-launcher: %s\n", error.c_str ());
    return 1;
  }
  if (print)
    return print_pipeline (manager, print);
  if (check) {
    for (auto & [name, d] : manager.catalog ().all ())
      printf ("%s\t%s\n", name.c_str (), d.description.c_str ());
    return warnings.empty () && missing.empty () && reachable ? 0 : 1;
  }

  raise_descriptor_limit ();
  Daemon daemon (manager);
  /* what a daemon that died left (its webhooks go out once the loop runs) */
  manager.settle_unfinished ();
  if (!daemon.listen (error)) {
    fprintf (stderr, "castline-launcher: %s\n", error.c_str ());
    return 1;
  }
  g_message ("castline-launcher listening on http://%s:%d (data in %s)", config.host.c_str (),
      daemon.port (), config.data_dir.c_str ());

  GMainLoop *loop = g_main_loop_new (nullptr, FALSE);
  Shutdown s { &daemon, loop };
  g_unix_signal_add (SIGINT, on_signal, &s);
  g_unix_signal_add (SIGTERM, on_signal, &s);
  g_main_loop_run (loop);
  g_main_loop_unref (loop);
  g_message ("castline-launcher stopped");
  return 0;
}
