/* Benchmark: s3hlssink against an S3 server (s3rver on loopback).
 *
 *   bench/s3hlssink_bench ENDPOINT BUCKET SECONDS
 *
 * Runs a live 720p30 x264 + AAC stream into s3hlssink for SECONDS, and the
 * same stream into hlssink2 writing local files, and prints:
 *  - upload latency, segment closed -> object listed in the bucket (median,
 *    p95, worst): the close time is the splitmuxsink-fragment-closed
 *    message, the visible time is the first ListObjectsV2 (polled every
 *    20 ms by a thread of this program) that shows the key;
 *  - CPU seconds of this process per hour of media for both runs, and the
 *    difference: what the S3 storage costs over writing files.
 * bench/s3_upload.sh starts s3rver and runs this. */
#include <gst/gst.h>
#include <libsoup/soup.h>

#include <sys/resource.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cstdio>
#include <map>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

static double
cpu_seconds ()
{
  struct rusage ru;
  getrusage (RUSAGE_SELF, &ru);
  return ru.ru_utime.tv_sec + ru.ru_stime.tv_sec + (ru.ru_utime.tv_usec + ru.ru_stime.tv_usec) / 1e6;
}

static const char *kSource =
    "videotestsrc is-live=true pattern=ball ! video/x-raw,width=1280,height=720,framerate=30/1 ! "
    "x264enc tune=zerolatency speed-preset=ultrafast bitrate=2500 key-int-max=30 ! h264parse ! queue ! ";
static const char *kAudio =
    " audiotestsrc is-live=true volume=0.2 ! audioconvert ! avenc_aac ! aacparse ! queue ! s.audio";

static double
rss_mib ()
{
  long pages = 0, resident = 0;
  FILE *f = fopen ("/proc/self/statm", "r");
  if (f) {
    if (fscanf (f, "%ld %ld", &pages, &resident) != 2)
      resident = 0;
    fclose (f);
  }
  return resident * (double) sysconf (_SC_PAGESIZE) / (1024.0 * 1024.0);
}

struct Run {
  std::vector<double> rss;          /* MiB, once a second */
  std::mutex lock;
  std::map<int, gint64> closed_at;  /* fragment index -> monotonic us */
  int fragments = 0;
};

static GstBusSyncReply
on_message (GstBus *, GstMessage * m, gpointer data)
{
  auto *run = static_cast<Run *> (data);
  const GstStructure *s = gst_message_get_structure (m);
  if (GST_MESSAGE_TYPE (m) == GST_MESSAGE_ELEMENT && s
      && gst_structure_has_name (s, "splitmuxsink-fragment-closed")) {
    std::lock_guard<std::mutex> lk (run->lock);
    run->closed_at[run->fragments++] = g_get_monotonic_time ();
  }
  return GST_BUS_PASS;
}

/* Runs desc for seconds; returns the CPU seconds it used. */
static double
run_pipeline (const std::string & desc, int seconds, Run & run)
{
  GError *err = nullptr;
  GstElement *p = gst_parse_launch (desc.c_str (), &err);
  if (!p) {
    fprintf (stderr, "pipeline: %s\n", err->message);
    exit (1);
  }
  GstBus *bus = gst_element_get_bus (p);
  gst_bus_set_sync_handler (bus, on_message, &run, nullptr);
  double cpu0 = cpu_seconds ();
  gst_element_set_state (p, GST_STATE_PLAYING);
  for (int i = 0; i < seconds; i++) {
    GstMessage *m = gst_bus_timed_pop_filtered (bus, GST_SECOND, GST_MESSAGE_ERROR);
    if (m) {
      gst_message_unref (m);
      fprintf (stderr, "pipeline error\n");
      exit (1);
    }
    run.rss.push_back (rss_mib ());
  }
  GstMessage *m;
  gst_element_send_event (p, gst_event_new_eos ());
  m = gst_bus_timed_pop_filtered (bus, 60 * GST_SECOND,
      (GstMessageType) (GST_MESSAGE_EOS | GST_MESSAGE_ERROR));
  if (m)
    gst_message_unref (m);
  double cpu = cpu_seconds () - cpu0;
  gst_element_set_state (p, GST_STATE_NULL);
  gst_object_unref (bus);
  gst_object_unref (p);
  return cpu;
}

static double
percentile (std::vector<double> v, double q)
{
  if (v.empty ())
    return 0;
  std::sort (v.begin (), v.end ());
  return v[std::min (v.size () - 1, (size_t) (q * (v.size () - 1) + 0.5))];
}

int
main (int argc, char **argv)
{
  gst_init (&argc, &argv);
  if (argc != 4) {
    fprintf (stderr, "usage: %s ENDPOINT BUCKET SECONDS\n", argv[0]);
    return 2;
  }
  std::string endpoint = argv[1], bucket = argv[2];
  int seconds = atoi (argv[3]);

  /* 1. s3hlssink, with a thread watching the bucket */
  Run s3run;
  std::map<std::string, gint64> visible_at;
  std::atomic<bool> stop { false };
  std::thread watcher ([&] {
    SoupSession *session = soup_session_new ();
    std::string url = endpoint + "/" + bucket + "?list-type=2&prefix=bench/";
    while (!stop) {
      SoupMessage *msg = soup_message_new ("GET", url.c_str ());
      GBytes *body = soup_session_send_and_read (session, msg, nullptr, nullptr);
      gint64 now = g_get_monotonic_time ();
      if (body) {
        std::string xml ((const char *) g_bytes_get_data (body, nullptr), g_bytes_get_size (body));
        size_t pos = 0;
        while ((pos = xml.find ("<Key>", pos)) != std::string::npos) {
          size_t end = xml.find ("</Key>", pos);
          std::string key = xml.substr (pos + 5, end - pos - 5);
          if (!visible_at.count (key))
            visible_at[key] = now;
          pos = end;
        }
        g_bytes_unref (body);
      }
      g_object_unref (msg);
      g_usleep (20 * 1000);
    }
    g_object_unref (session);
  });
  std::string s3desc = std::string (kSource) + "s3hlssink name=s bucket=" + bucket
      + " endpoint=" + endpoint + " access-key=S3RVER secret-key=S3RVER key-prefix=bench/ "
      "target-duration=2 playlist-length=5 max-files=0" + kAudio;
  double cpu_s3 = run_pipeline (s3desc, seconds, s3run);
  g_usleep (500 * 1000);
  stop = true;
  watcher.join ();

  std::vector<double> latencies_ms;
  for (auto & [index, closed] : s3run.closed_at) {
    char key[64];
    g_snprintf (key, sizeof (key), "bench/segment%05d.ts", index);
    auto it = visible_at.find (key);
    if (it != visible_at.end ())
      latencies_ms.push_back ((it->second - closed) / 1000.0);
  }

  /* 2. hlssink2 to local files: the same work without S3 */
  Run filerun;
  g_autofree gchar *dir = g_dir_make_tmp ("castline-bench-XXXXXX", nullptr);
  std::string filedesc = std::string (kSource) + "hlssink2 name=s location=" + dir
      + "/segment%05d.ts playlist-location=" + dir + "/playlist.m3u8 target-duration=2 "
      "playlist-length=5 max-files=0" + kAudio;
  double cpu_file = run_pipeline (filedesc, seconds, filerun);
  g_autofree gchar *rm = g_strdup_printf ("rm -rf '%s'", dir);
  if (system (rm) != 0)
    fprintf (stderr, "could not remove %s\n", dir);

  double per_hour = 3600.0 / seconds;
  printf ("s3hlssink against %s, %d s of live 720p30 H.264 2.5 Mb/s + AAC, 2 s segments\n",
      endpoint.c_str (), seconds);
  printf ("segments closed: %d, seen in the bucket: %zu\n", s3run.fragments, latencies_ms.size ());
  printf ("upload latency (segment closed -> listed), ms: median %.0f  p95 %.0f  worst %.0f\n",
      percentile (latencies_ms, 0.5), percentile (latencies_ms, 0.95),
      latencies_ms.empty () ? 0.0 : *std::max_element (latencies_ms.begin (), latencies_ms.end ()));
  size_t q = s3run.rss.size () / 4;
  if (q > 0) {
    double first = 0, last = 0;
    for (size_t i = q; i < 2 * q; i++)
      first += s3run.rss[i] / q;
    for (size_t i = s3run.rss.size () - q; i < s3run.rss.size (); i++)
      last += s3run.rss[i] / q;
    printf ("process RSS, MiB: second quarter of the run %.1f, last quarter %.1f\n", first, last);
  }
  printf ("CPU s per media hour: s3hlssink pipeline %.0f, hlssink2-to-files pipeline %.0f, "
      "S3 storage overhead %.0f (%.2f%% of one core)\n", cpu_s3 * per_hour, cpu_file * per_hour,
      (cpu_s3 - cpu_file) * per_hour, (cpu_s3 - cpu_file) / seconds * 100.0);
  return 0;
}
