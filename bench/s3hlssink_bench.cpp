/* Benchmark: s3hlssink against an S3 server (s3rver on loopback).
 *
 *   bench/s3hlssink_bench ENDPOINT BUCKET SECONDS [ROUNDS]
 *
 * One live 720p30 x264 (2.5 Mb/s) + AAC source, run for SECONDS into three
 * sinks in turn, ROUNDS times (default 1):
 *   fakesink   the encoders alone (no muxing, no storage)
 *   hlssink2   MPEG-TS muxing + segments and playlist written to local files
 *   s3hlssink  the same muxing + every object uploaded to ENDPOINT/BUCKET
 * and prints:
 *  - upload latency, segment closed -> object listed in the bucket (median,
 *    p95, worst over every segment of every s3hlssink run). Closed: the
 *    splitmuxsink-fragment-closed message, time-stamped by a bus sync
 *    handler, i.e. in the streaming thread when the message reaches the
 *    pipeline (after hlssink2 has handled it and the segment went to the
 *    uploader). Listed: the end of the first ListObjectsV2 that shows the
 *    key; a thread of this program lists every 20 ms, so a figure is late by
 *    at most one poll interval plus one list request (an upper bound).
 *    The element's own view (stats: worst-upload-latency, segment handed
 *    over -> PUT answered) is printed too.
 *  - CPU seconds per hour of media of the pipeline for each sink, and the
 *    differences: s3hlssink - hlssink2 is what storing in S3 costs over
 *    writing files, hlssink2 - fakesink what muxing and files cost.
 *    CPU is this process's (getrusage: all the pipeline's threads, like the
 *    CPU of a gst-launch-1.0 process) minus the poller thread's own
 *    (CLOCK_THREAD_CPUTIME_ID; the poller runs during every run, so
 *    every run is disturbed alike). s3rver's CPU is not included; with
 *    BENCH_S3RVER_PID set it is printed separately.
 * Environment: BENCH_LATENCY_ONLY set: the s3hlssink runs alone (upload
 * latency and RSS, no CPU comparison); BENCH_JSON=FILE: the figures also
 * as one JSON object in FILE.
 * bench/s3_upload.sh starts s3rver and runs this; bench/s3_latency.sh runs
 * that for the latency alone. */
#include <gst/gst.h>
#include <libsoup/soup.h>

#include <sys/resource.h>
#include <time.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <map>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

static double
process_cpu_seconds ()
{
  struct rusage ru;
  getrusage (RUSAGE_SELF, &ru);
  return ru.ru_utime.tv_sec + ru.ru_stime.tv_sec + (ru.ru_utime.tv_usec + ru.ru_stime.tv_usec) / 1e6;
}

static double
thread_cpu_seconds ()
{
  struct timespec ts;
  clock_gettime (CLOCK_THREAD_CPUTIME_ID, &ts);
  return ts.tv_sec + ts.tv_nsec / 1e9;
}

/* utime + stime of another process, in seconds; -1 when unknown */
static double
other_process_cpu_seconds (long pid)
{
  if (pid <= 0)
    return -1;
  char path[64];
  g_snprintf (path, sizeof (path), "/proc/%ld/stat", pid);
  gchar *text = nullptr;
  if (!g_file_get_contents (path, &text, nullptr, nullptr))
    return -1;
  /* fields after the ")" that ends the command name: state is field 3,
   * utime 14, stime 15 */
  const char *p = strrchr (text, ')');
  double result = -1;
  unsigned long utime = 0, stime = 0;
  if (p && sscanf (p + 2, "%*c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u %lu %lu",
          &utime, &stime) == 2)
    result = (double) (utime + stime) / sysconf (_SC_CLK_TCK);
  g_free (text);
  return result;
}

static const char *kSource =
    /* a scrolling SMPTE pattern: x264 reaches the 2.5 Mb/s it is given
     * (pattern=ball, mostly black, makes about 0.35 Mb/s) */
    "videotestsrc is-live=true pattern=smpte horizontal-speed=4 ! video/x-raw,width=1280,height=720,framerate=30/1 ! "
    "x264enc tune=zerolatency speed-preset=ultrafast bitrate=2500 key-int-max=30 ! h264parse ! queue ! ";
static const char *kAudio =
    " audiotestsrc is-live=true volume=0.2 ! audioconvert ! avenc_aac ! aacparse ! queue ! ";

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

/* The bucket poller: lists a prefix every 20 ms and remembers when each key
 * was first seen; counts its own CPU time. */
class Poller {
 public:
  Poller (std::string endpoint, std::string bucket, std::string prefix)
    : url_ (endpoint + "/" + bucket + "?list-type=2&prefix=" + prefix)
  {
    thread_ = std::thread ([this] { loop (); });
  }
  ~Poller ()
  {
    stop_ = true;
    thread_.join ();
  }
  double cpu () const { return cpu_.load (); }
  /* first time the key was listed (monotonic us), or -1 */
  gint64 visible_at (const std::string & key)
  {
    std::lock_guard<std::mutex> lk (lock_);
    auto it = visible_at_.find (key);
    return it == visible_at_.end () ? -1 : it->second;
  }
  unsigned polls () const { return polls_.load (); }

 private:
  void loop ()
  {
    SoupSession *session = soup_session_new ();
    while (!stop_) {
      SoupMessage *msg = soup_message_new ("GET", url_.c_str ());
      GBytes *body = soup_session_send_and_read (session, msg, nullptr, nullptr);
      gint64 now = g_get_monotonic_time ();
      if (body) {
        std::string xml ((const char *) g_bytes_get_data (body, nullptr), g_bytes_get_size (body));
        size_t pos = 0;
        std::lock_guard<std::mutex> lk (lock_);
        while ((pos = xml.find ("<Key>", pos)) != std::string::npos) {
          size_t end = xml.find ("</Key>", pos);
          if (end == std::string::npos)
            break;
          visible_at_.emplace (xml.substr (pos + 5, end - pos - 5), now);
          pos = end;
        }
        g_bytes_unref (body);
      }
      g_object_unref (msg);
      polls_++;
      cpu_ = thread_cpu_seconds ();
      g_usleep (20 * 1000);
    }
    g_object_unref (session);
    cpu_ = thread_cpu_seconds ();
  }

  std::string url_;
  std::thread thread_;
  std::atomic<bool> stop_ { false };
  std::atomic<double> cpu_ { 0 };
  std::atomic<unsigned> polls_ { 0 };
  std::mutex lock_;
  std::map<std::string, gint64> visible_at_;
};

struct Run {
  std::vector<double> rss;          /* MiB, once a second */
  std::mutex lock;
  std::vector<gint64> closed_at;    /* fragment index -> monotonic us */
  double cpu = 0;                   /* pipeline CPU seconds, poller excluded */
  GstStructure *stats = nullptr;    /* s3hlssink's stats at EOS */
  ~Run () { if (stats) gst_structure_free (stats); }
};

static GstBusSyncReply
on_message (GstBus *, GstMessage * m, gpointer data)
{
  auto *run = static_cast<Run *> (data);
  const GstStructure *s = gst_message_get_structure (m);
  if (GST_MESSAGE_TYPE (m) == GST_MESSAGE_ELEMENT && s
      && gst_structure_has_name (s, "splitmuxsink-fragment-closed")) {
    std::lock_guard<std::mutex> lk (run->lock);
    run->closed_at.push_back (g_get_monotonic_time ());
  }
  return GST_BUS_PASS;
}

/* Runs desc for seconds, then EOS; fills run. */
static void
run_pipeline (const std::string & desc, int seconds, Run & run, const Poller & poller)
{
  GError *err = nullptr;
  GstElement *p = gst_parse_launch (desc.c_str (), &err);
  if (!p) {
    fprintf (stderr, "pipeline: %s\n", err->message);
    exit (1);
  }
  GstBus *bus = gst_element_get_bus (p);
  gst_bus_set_sync_handler (bus, on_message, &run, nullptr);
  double cpu0 = process_cpu_seconds (), poll0 = poller.cpu ();
  gst_element_set_state (p, GST_STATE_PLAYING);
  for (int i = 0; i < seconds; i++) {
    GstMessage *m = gst_bus_timed_pop_filtered (bus, GST_SECOND, GST_MESSAGE_ERROR);
    if (m) {
      GError *e = nullptr;
      gst_message_parse_error (m, &e, nullptr);
      fprintf (stderr, "pipeline error: %s\n", e ? e->message : "?");
      exit (1);
    }
    run.rss.push_back (rss_mib ());
  }
  gst_element_send_event (p, gst_event_new_eos ());
  GstMessage *m = gst_bus_timed_pop_filtered (bus, 60 * GST_SECOND,
      (GstMessageType) (GST_MESSAGE_EOS | GST_MESSAGE_ERROR));
  if (!m || GST_MESSAGE_TYPE (m) != GST_MESSAGE_EOS) {
    fprintf (stderr, "pipeline did not end cleanly at EOS\n");
    exit (1);
  }
  gst_message_unref (m);
  run.cpu = (process_cpu_seconds () - cpu0) - (poller.cpu () - poll0);
  /* the uploader's stats live until PAUSED -> READY */
  if (GstElement *s = gst_bin_get_by_name (GST_BIN (p), "s")) {
    if (g_object_class_find_property (G_OBJECT_GET_CLASS (s), "stats"))
      g_object_get (s, "stats", &run.stats, nullptr);
    gst_object_unref (s);
  }
  gst_element_set_state (p, GST_STATE_NULL);
  gst_object_unref (bus);
  gst_object_unref (p);
}

static double
percentile (std::vector<double> v, double q)
{
  if (v.empty ())
    return 0;
  std::sort (v.begin (), v.end ());
  return v[std::min (v.size () - 1, (size_t) (q * (v.size () - 1) + 0.5))];
}

static std::string
spread (const std::vector<double> & v, double scale)
{
  char buf[128];
  if (v.size () == 1) {
    g_snprintf (buf, sizeof (buf), "%.0f", v[0] * scale);
  } else {
    double lo = *std::min_element (v.begin (), v.end ()) * scale;
    double hi = *std::max_element (v.begin (), v.end ()) * scale;
    double sum = 0;
    for (double x : v)
      sum += x;
    g_snprintf (buf, sizeof (buf), "%.0f (mean of %zu; %.0f..%.0f)", sum / v.size () * scale,
        v.size (), lo, hi);
  }
  return buf;
}

static double
mean (const std::vector<double> & v)
{
  double sum = 0;
  for (double x : v)
    sum += x;
  return v.empty () ? 0 : sum / v.size ();
}

/* The figures as one JSON object (numbers only, so no escaping needed);
 * the CPU ones only when every sink ran. */
static void
write_json (const char *path, int seconds, int rounds, guint64 segments_closed,
    const std::vector<double> & latencies_ms, guint64 uploads_completed, guint64 uploads_failed,
    guint64 bytes, unsigned polls, double element_worst_ms, double rss_early, double rss_late,
    const std::vector<double> & cpu_fake, const std::vector<double> & cpu_file,
    const std::vector<double> & cpu_s3)
{
  FILE *f = fopen (path, "w");
  if (!f) {
    fprintf (stderr, "cannot write %s: %s\n", path, strerror (errno));
    exit (1);
  }
  fprintf (f, "{\"seconds\": %d, \"rounds\": %d, \"segments_closed\": %" G_GUINT64_FORMAT
      ", \"segments_seen\": %zu, \"uploads_completed\": %" G_GUINT64_FORMAT
      ", \"uploads_failed\": %" G_GUINT64_FORMAT ", \"bytes_uploaded\": %" G_GUINT64_FORMAT
      ", \"polls\": %u, \"poll_interval_ms\": 20", seconds, rounds, segments_closed,
      latencies_ms.size (), uploads_completed, uploads_failed, bytes, polls);
  fprintf (f, ", \"upload_latency_ms\": {\"median\": %.1f, \"p95\": %.1f, \"worst\": %.1f}",
      percentile (latencies_ms, 0.5), percentile (latencies_ms, 0.95),
      latencies_ms.empty () ? 0.0 : *std::max_element (latencies_ms.begin (), latencies_ms.end ()));
  fprintf (f, ", \"element_worst_upload_latency_ms\": %.1f", element_worst_ms);
  fprintf (f, ", \"rss_mib\": {\"second_quarter\": %.1f, \"last_quarter\": %.1f}", rss_early,
      rss_late);
  if (!cpu_fake.empty () && !cpu_file.empty ()) {
    double per_hour = 3600.0 / seconds;
    fprintf (f, ", \"cpu_s_per_media_hour\": {\"fakesink\": %.1f, \"hlssink2\": %.1f, "
        "\"s3hlssink\": %.1f, \"s3_over_files\": %.1f}", mean (cpu_fake) * per_hour,
        mean (cpu_file) * per_hour, mean (cpu_s3) * per_hour,
        (mean (cpu_s3) - mean (cpu_file)) * per_hour);
  }
  fprintf (f, "}\n");
  fclose (f);
}

static guint64
stat_u64 (const GstStructure * s, const char *field)
{
  guint64 v = 0;
  if (s)
    gst_structure_get_uint64 (s, field, &v);
  return v;
}

int
main (int argc, char **argv)
{
  gst_init (&argc, &argv);
  if (argc != 4 && argc != 5) {
    fprintf (stderr, "usage: %s ENDPOINT BUCKET SECONDS [ROUNDS]\n", argv[0]);
    return 2;
  }
  std::string endpoint = argv[1], bucket = argv[2];
  int seconds = atoi (argv[3]);
  int rounds = argc == 5 ? atoi (argv[4]) : 1;
  if (seconds < 4 || rounds < 1) {
    fprintf (stderr, "SECONDS must be >= 4 and ROUNDS >= 1\n");
    return 2;
  }
  const char *s3rver_pid_env = g_getenv ("BENCH_S3RVER_PID");
  long s3rver_pid = s3rver_pid_env ? atol (s3rver_pid_env) : 0;
  const bool latency_only = g_getenv ("BENCH_LATENCY_ONLY") != nullptr;

  Poller poller (endpoint, bucket, "bench/");
  std::vector<double> cpu_fake, cpu_file, cpu_s3, latencies_ms, s3rver_cpu;
  double rss_early = 0, rss_late = 0, element_worst_ms = 0;
  guint64 segments_closed = 0, uploads_failed = 0, uploads_completed = 0, bytes = 0;

  for (int round = 0; round < rounds; round++) {
    /* 1. the encoders alone */
    if (!latency_only) {
      Run run;
      run_pipeline (std::string (kSource) + "fakesink" + kAudio + "fakesink", seconds, run, poller);
      cpu_fake.push_back (run.cpu);
    }
    /* 2. hlssink2 writing local files */
    if (!latency_only) {
      Run run;
      g_autofree gchar *dir = g_dir_make_tmp ("castline-bench-XXXXXX", nullptr);
      run_pipeline (std::string (kSource) + "hlssink2 name=s location=" + dir
          + "/segment%05d.ts playlist-location=" + dir + "/playlist.m3u8 target-duration=2 "
          "playlist-length=5 max-files=0" + kAudio + "s.audio", seconds, run, poller);
      cpu_file.push_back (run.cpu);
      g_autofree gchar *rm = g_strdup_printf ("rm -rf '%s'", dir);
      if (system (rm) != 0)
        fprintf (stderr, "could not remove %s\n", dir);
    }
    /* 3. s3hlssink */
    {
      Run run;
      g_autofree gchar *prefix = g_strdup_printf ("bench/r%d/", round);
      double s3rver0 = other_process_cpu_seconds (s3rver_pid);
      run_pipeline (std::string (kSource) + "s3hlssink name=s bucket=" + bucket
          + " endpoint=" + endpoint + " access-key=S3RVER secret-key=S3RVER key-prefix="
          + prefix + " target-duration=2 playlist-length=5 max-files=0" + kAudio + "s.audio",
          seconds, run, poller);
      double s3rver1 = other_process_cpu_seconds (s3rver_pid);
      if (s3rver0 >= 0 && s3rver1 >= 0)
        s3rver_cpu.push_back (s3rver1 - s3rver0);
      cpu_s3.push_back (run.cpu);
      g_usleep (200 * 1000);  /* a last poll or two (EOS came after every upload) */
      for (size_t i = 0; i < run.closed_at.size (); i++) {
        g_autofree gchar *key = g_strdup_printf ("%ssegment%05zu.ts", prefix, i);
        gint64 seen = poller.visible_at (key);
        if (seen >= 0)
          latencies_ms.push_back ((seen - run.closed_at[i]) / 1000.0);
      }
      segments_closed += run.closed_at.size ();
      uploads_failed += stat_u64 (run.stats, "uploads-failed");
      uploads_completed += stat_u64 (run.stats, "uploads-completed");
      bytes += stat_u64 (run.stats, "bytes-uploaded");
      guint64 worst = stat_u64 (run.stats, "worst-upload-latency");
      if (worst != GST_CLOCK_TIME_NONE)
        element_worst_ms = std::max (element_worst_ms, worst / 1e6);
      size_t q = run.rss.size () / 4;
      if (q > 0 && round == 0) {
        for (size_t i = q; i < 2 * q; i++)
          rss_early += run.rss[i] / q;
        for (size_t i = run.rss.size () - q; i < run.rss.size (); i++)
          rss_late += run.rss[i] / q;
      }
    }
  }

  double per_hour = 3600.0 / seconds;
  printf ("== s3hlssink benchmark: %d s x %d round(s) of live 720p30 H.264 2.5 Mb/s + AAC, "
      "2 s segments, s3rver at %s\n", seconds, rounds, endpoint.c_str ());
  printf ("segments closed: %" G_GUINT64_FORMAT ", seen in the bucket: %zu, "
      "uploads completed: %" G_GUINT64_FORMAT " (%.1f MB, %.2f Mb/s of media), failed: %"
      G_GUINT64_FORMAT "\n", segments_closed, latencies_ms.size (), uploads_completed, bytes / 1e6,
      bytes * 8 / 1e6 / ((double) seconds * rounds), uploads_failed);
  printf ("upload latency, segment closed -> listed in the bucket (20 ms polls, %u in all), ms: "
      "median %.0f  p95 %.0f  worst %.0f\n", poller.polls (),
      percentile (latencies_ms, 0.5), percentile (latencies_ms, 0.95),
      latencies_ms.empty () ? 0.0 : *std::max_element (latencies_ms.begin (), latencies_ms.end ()));
  printf ("element's worst-upload-latency (segment handed over -> PUT answered), ms: %.0f\n",
      element_worst_ms);
  if (rss_early > 0)
    printf ("s3hlssink run RSS, MiB: second quarter %.1f, last quarter %.1f\n", rss_early, rss_late);
  std::vector<double> d_s3_file, d_file_fake, d_s3_fake;
  if (!latency_only) {
    for (int r = 0; r < rounds; r++) {
      d_s3_file.push_back (cpu_s3[r] - cpu_file[r]);
      d_file_fake.push_back (cpu_file[r] - cpu_fake[r]);
      d_s3_fake.push_back (cpu_s3[r] - cpu_fake[r]);
    }
    printf ("CPU s per media hour, whole pipeline: fakesink %s | hlssink2 to files %s | "
        "s3hlssink %s\n", spread (cpu_fake, per_hour).c_str (), spread (cpu_file, per_hour).c_str (),
        spread (cpu_s3, per_hour).c_str ());
    printf ("CPU s per media hour, sink part: s3hlssink - hlssink2 (S3 over files) = %s;  "
        "hlssink2 - fakesink (mux + files) = %s;  s3hlssink - fakesink = %s\n",
        spread (d_s3_file, per_hour).c_str (), spread (d_file_fake, per_hour).c_str (),
        spread (d_s3_fake, per_hour).c_str ());
    printf ("(poller thread CPU excluded: %.2f s in all; each figure is one run per sink per "
        "round, so x264's run-to-run noise is in the differences)\n", poller.cpu ());
  }
  if (!s3rver_cpu.empty ())
    printf ("s3rver (not in the figures above) CPU s per media hour: %s\n",
        spread (s3rver_cpu, per_hour).c_str ());
  if (const char *json = g_getenv ("BENCH_JSON"))
    write_json (json, seconds, rounds, segments_closed, latencies_ms, uploads_completed,
        uploads_failed, bytes, poller.polls (), element_worst_ms, rss_early, rss_late, cpu_fake,
        cpu_file, cpu_s3);
  return 0;
}
