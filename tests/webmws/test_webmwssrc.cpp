/* webmwssrc in a GstHarness, driven by a hand-written WebSocket client:
 * what goes downstream, and every refusal with the close code on the wire. */
#include "rawwsclient.h"

#include "../assertions.h"
#include "../harnessread.h"

#include <gst/check/gstcheck.h>
#include <gst/check/gstharness.h>
#include <glib/gstdio.h>
#include <libsoup/soup.h>

#include <string>
#include <thread>
#include <vector>

using castline::test::RawWsClient;

/* A small recording, as webmmux writes it live (streamable: no cues, no
 * duration), generated once. */
static std::string
make_webm (bool video, bool audio)
{
  g_autofree gchar *path = g_build_filename (g_get_tmp_dir (), "castline-webmws-XXXXXX.webm",
      nullptr);
  int fd = g_mkstemp (path);
  fail_unless (fd >= 0);
  close (fd);
  std::string desc = "webmmux name=m streamable=true ! filesink location=" + std::string (path);
  if (video)
    desc += " videotestsrc num-buffers=60 ! video/x-raw,width=160,height=120,framerate=30/1 ! "
        "vp8enc deadline=1 keyframe-max-dist=30 ! m.";
  if (audio)
    desc += " audiotestsrc num-buffers=100 ! opusenc ! m.";
  GError *err = nullptr;
  GstElement *p = gst_parse_launch (desc.c_str (), &err);
  fail_unless (p, "%s", err ? err->message : "?");
  gst_element_set_state (p, GST_STATE_PLAYING);
  GstBus *bus = gst_element_get_bus (p);
  GstMessage *m = gst_bus_timed_pop_filtered (bus, 30 * GST_SECOND,
      (GstMessageType) (GST_MESSAGE_EOS | GST_MESSAGE_ERROR));
  fail_unless (m && GST_MESSAGE_TYPE (m) == GST_MESSAGE_EOS);
  gst_message_unref (m);
  gst_object_unref (bus);
  gst_element_set_state (p, GST_STATE_NULL);
  gst_object_unref (p);
  gchar *data = nullptr;
  gsize len = 0;
  fail_unless (g_file_get_contents (path, &data, &len, nullptr));
  g_unlink (path);
  std::string out (data, len);
  g_free (data);
  return out;
}

static const std::string &
av_webm ()
{
  static const std::string s = make_webm (true, true);
  return s;
}

struct SrcFixture {
  GstElement *src = nullptr;
  GstHarness *h = nullptr;
  GstBus *bus = nullptr;
  int port = 0;

  explicit SrcFixture (const char *props = "")
  {
    g_autofree gchar *desc = g_strdup_printf ("webmwssrc port=0 path=/in %s", props);
    h = harness_source (desc, &src, &bus);
    g_object_get (src, "bound-port", &port, nullptr);
    fail_unless (port > 0);
  }

  ~SrcFixture ()
  {
    gst_harness_teardown (h);
    gst_object_unref (src);
    gst_object_unref (bus);
  }

  /* the next element message of that name, or a warning when name is
   * null; nullptr after timeout */
  GstStructure *wait_message (const char *name, GstClockTime timeout = 5 * GST_SECOND)
  {
    gint64 deadline = g_get_monotonic_time () + (gint64) (timeout / 1000);
    while (g_get_monotonic_time () < deadline) {
      GstMessage *m = gst_bus_timed_pop (bus, 50 * GST_MSECOND);
      if (!m)
        continue;
      GstStructure *out = nullptr;
      if (!name && GST_MESSAGE_TYPE (m) == GST_MESSAGE_WARNING) {
        GError *e = nullptr;
        g_autofree gchar *debug = nullptr;
        gst_message_parse_warning (m, &e, &debug);
        /* a message for a person, a debug string with the detail */
        fail_if (g_strcmp0 (e->message, debug) == 0, "the same text twice: %s", debug);
        const GstStructure *d = nullptr;
        gst_message_parse_warning_details (m, &d);
        out = d ? gst_structure_copy (d) : gst_structure_new_empty ("warning");
        gst_structure_set (out, "text", G_TYPE_STRING, e->message, NULL);
        g_error_free (e);
      } else if (name && GST_MESSAGE_TYPE (m) == GST_MESSAGE_ELEMENT
          && gst_structure_has_name (gst_message_get_structure (m), name)) {
        out = gst_structure_copy (gst_message_get_structure (m));
      }
      gst_message_unref (m);
      if (out)
        return out;
    }
    return nullptr;
  }

  /* everything pushed until EOS (true) or timeout (false) */
  bool read_to_eos (std::string & bytes, GstClockTime timeout = 10 * GST_SECOND)
  {
    return harness_read_to_eos (h, bytes, timeout);
  }

  /* buffers pushed so far, within timeout, until at least min_bytes */
  std::string read_bytes (size_t min_bytes, GstClockTime timeout = 5 * GST_SECOND)
  {
    std::string out;
    gint64 deadline = g_get_monotonic_time () + (gint64) (timeout / 1000);
    while (out.size () < min_bytes && g_get_monotonic_time () < deadline) {
      GstBuffer *b = gst_harness_try_pull (h);
      if (!b) {
        g_usleep (10000);
        continue;
      }
      GstMapInfo map;
      gst_buffer_map (b, &map, GST_MAP_READ);
      out.append ((const char *) map.data, map.size);
      gst_buffer_unmap (b, &map);
      gst_buffer_unref (b);
    }
    return out;
  }

  std::string caps_name ()
  {
    g_autoptr (GstCaps) caps = gst_pad_get_current_caps (h->sinkpad);
    return caps ? gst_structure_get_name (gst_caps_get_structure (caps, 0)) : "";
  }
};

static void
send_chunks (RawWsClient & c, const std::string & data, size_t chunk = 4096, size_t limit = 0)
{
  size_t end = limit ? std::min (limit, data.size ()) : data.size ();
  for (size_t pos = 0; pos < end; pos += chunk)
    fail_unless (c.send_binary (data.substr (pos, std::min (chunk, end - pos))));
}

static std::string
string_field (const GstStructure * s, const char *name)
{
  const char *v = gst_structure_get_string (s, name);
  return v ? v : "";
}

static void
expect_close (RawWsClient & c, uint16_t want, const char *reason_part)
{
  uint16_t code = 0;
  std::string reason;
  fail_unless (c.wait_close (code, reason), "no close frame");
  fail_unless_equals_int (code, want);
  fail_unless (reason.find (reason_part) != std::string::npos, "reason '%s'", reason.c_str ());
}

GST_START_TEST (test_stream_passes_through_and_stop_stream_ends_it)
{
  SrcFixture f;
  RawWsClient c;
  fail_unless_equals_int (c.connect (f.port, "/in?mimeType=video%2Fwebm%3Bcodecs%3Dvp8%2Copus"),
      101);
  GstStructure *s = f.wait_message ("webmwssrc-publisher-connected");
  fail_unless (s, "no connected message");
  fail_unless (g_str_has_prefix (string_field (s, "remote-address").c_str (), "127.0.0.1:"));
  assert_str_eq (string_field (s, "path"), "/in");
  gst_structure_free (s);

  const std::string & webm = av_webm ();
  send_chunks (c, webm);
  fail_unless (c.send_text ("{\"type\":\"ping\",\"id\":7}"));
  std::string pong;
  fail_unless (c.read_text (pong));
  fail_unless (pong.find ("\"pong\"") != std::string::npos, "%s", pong.c_str ());
  fail_unless (pong.find ("\"id\" : 7") != std::string::npos
      || pong.find ("\"id\":7") != std::string::npos, "%s", pong.c_str ());
  fail_unless (pong.find (std::to_string (webm.size ())) != std::string::npos, "%s", pong.c_str ());

  fail_unless (c.send_text ("{\"type\":\"stop-stream\"}"));
  expect_close (c, 1000, "stopped");
  std::string out;
  fail_unless (f.read_to_eos (out), "no EOS after stop-stream");
  fail_unless (out == webm, "%zu bytes out of %zu, or changed", out.size (), webm.size ());
  assert_str_eq (f.caps_name (), "video/webm");

  s = f.wait_message ("webmwssrc-publisher-disconnected");
  fail_unless (s);
  guint64 bytes = 0;
  guint code = 0;
  gst_structure_get_uint64 (s, "bytes", &bytes);
  gst_structure_get_uint (s, "close-code", &code);
  fail_unless_equals_uint64 (bytes, webm.size ());
  fail_unless_equals_int (code, 1000);
  fail_unless (gst_structure_has_field (s, "duration"));
  gst_structure_free (s);
}
GST_END_TEST;

GST_START_TEST (test_first_buffer_is_discont_with_offsets)
{
  SrcFixture f;
  RawWsClient c;
  fail_unless_equals_int (c.connect (f.port, "/in"), 101);
  send_chunks (c, av_webm (), 1000, 3000);
  GstBuffer *b = gst_harness_pull (f.h);
  fail_unless (GST_BUFFER_FLAG_IS_SET (b, GST_BUFFER_FLAG_DISCONT));
  fail_unless_equals_uint64 (GST_BUFFER_OFFSET (b), 0);
  gst_buffer_unref (b);
  b = gst_harness_pull (f.h);
  fail_if (GST_BUFFER_FLAG_IS_SET (b, GST_BUFFER_FLAG_DISCONT));
  fail_unless_equals_uint64 (GST_BUFFER_OFFSET (b), 1000);
  gst_buffer_unref (b);
}
GST_END_TEST;

GST_START_TEST (test_audio_only_recording_has_audio_caps)
{
  SrcFixture f;
  RawWsClient c;
  fail_unless_equals_int (c.connect (f.port, "/in"), 101);
  std::string webm = make_webm (false, true);
  send_chunks (c, webm);
  fail_unless (c.send_text ("{\"type\":\"stop-stream\"}"));
  std::string out;
  fail_unless (f.read_to_eos (out));
  fail_unless (out == webm);
  assert_str_eq (f.caps_name (), "audio/webm");
}
GST_END_TEST;

GST_START_TEST (test_matroska_doc_type_gives_matroska_caps)
{
  SrcFixture f;
  RawWsClient c;
  fail_unless_equals_int (c.connect (f.port, "/in?mimeType=video%2Fwebm%3Bcodecs%3Dh264"), 101);
  /* an EBML header alone: DocType matroska, DocTypeVersion 4, DocTypeReadVersion 2 */
  std::string header = std::string ("\x1a\x45\xdf\xa3\x93\x42\x82\x88", 8) + "matroska"
      + std::string ("\x42\x87\x81\x04\x42\x85\x81\x02", 8);
  fail_unless (c.send_binary (header));
  fail_unless (c.send_text ("{\"type\":\"stop-stream\"}"));
  std::string out;
  fail_unless (f.read_to_eos (out));
  assert_str_eq (f.caps_name (), "video/x-matroska");
}
GST_END_TEST;

/* a refused first message leaves the source waiting for a better publisher */
static void
check_refused_then_good_publisher (SrcFixture & f, const std::string & first, uint16_t code,
    const char *reason)
{
  RawWsClient bad;
  fail_unless_equals_int (bad.connect (f.port, "/in"), 101);
  fail_unless (bad.send_binary (first));
  expect_close (bad, code, reason);
  GstStructure *w = f.wait_message (nullptr);
  fail_unless (w, "no warning");
  guint wcode = 0;
  gst_structure_get_uint (w, "close-code", &wcode);
  fail_unless_equals_int (wcode, code);
  gst_structure_free (w);

  RawWsClient good;
  fail_unless_equals_int (good.connect (f.port, "/in"), 101);
  send_chunks (good, av_webm (), 1024);
  fail_unless (good.send_text ("{\"type\":\"stop-stream\"}"));
  std::string out;
  fail_unless (f.read_to_eos (out));
  fail_unless (out == av_webm (), "refused bytes went downstream");
}

GST_START_TEST (test_garbage_is_refused_with_1003)
{
  SrcFixture f;
  check_refused_then_good_publisher (f, std::string (3000, '\x42'), 1003, "EBML header");
}
GST_END_TEST;

/* a recorder may send the first bytes of its header on their own */
GST_START_TEST (test_header_split_across_messages_is_joined)
{
  SrcFixture f;
  RawWsClient c;
  fail_unless_equals_int (c.connect (f.port, "/in"), 101);
  const std::string webm = av_webm ();
  fail_unless (c.send_binary (webm.substr (0, 3)));     /* not even the whole magic */
  fail_unless (c.send_binary (webm.substr (3, 7)));
  send_chunks (c, webm.substr (10), 1024);
  fail_unless (c.send_text ("{\"type\":\"stop-stream\"}"));
  std::string out;
  fail_unless (f.read_to_eos (out));
  fail_unless (out == webm, "the joined header did not go downstream as sent");
}
GST_END_TEST;

/* a header that claims more than the hold allows is refused, not waited for */
GST_START_TEST (test_header_never_whole_is_refused_with_1003)
{
  SrcFixture f;
  std::string huge ("\x1a\x45\xdf\xa3\x01\x00\x00\x00\x00\x10\x00\x00", 12);
  huge += std::string (64 * 1024, '\x42');  /* WebmWsSession::kMaxHeldHeader */
  check_refused_then_good_publisher (f, huge, 1003, "truncated");
}
GST_END_TEST;

GST_START_TEST (test_oversized_message_is_refused_with_1009)
{
  SrcFixture f ("max-message-size=2048");
  check_refused_then_good_publisher (f, av_webm ().substr (0, 4096), 1009, "too big");
}
GST_END_TEST;

GST_START_TEST (test_text_instead_of_binary_gets_an_error_reply)
{
  SrcFixture f;
  RawWsClient c;
  fail_unless_equals_int (c.connect (f.port, "/in"), 101);
  const char *bad[] = { "hello", "[1,2]", "{\"type\":42}", "{\"type\":\"dance\"}",
    "{\"a\":[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[1]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]}" };
  for (const char *t : bad) {
    fail_unless (c.send_text (t));
    std::string reply;
    fail_unless (c.read_text (reply), "no reply to %s", t);
    fail_unless (reply.find ("\"error\"") != std::string::npos, "%s", reply.c_str ());
    GstStructure *w = f.wait_message (nullptr);
    fail_unless (w, "no warning for %s", t);
    gst_structure_free (w);
  }
  /* still the publisher */
  send_chunks (c, av_webm ());
  fail_unless (c.send_text ("{\"type\":\"stop-stream\"}"));
  std::string out;
  fail_unless (f.read_to_eos (out));
  fail_unless (out == av_webm ());
}
GST_END_TEST;

GST_START_TEST (test_wrong_key_is_refused_with_401)
{
  SrcFixture f ("key=s3cr3t-k3y");
  RawWsClient c;
  fail_unless_equals_int (c.connect (f.port, "/in"), 401);
  fail_unless_equals_int (c.connect (f.port, "/in?key=wrong"), 401);
  fail_unless_equals_int (c.connect (f.port, "/in", "Authorization: Bearer wrong\r\n"), 401);
  GstStructure *s = f.wait_message ("webmwssrc-publisher-refused");
  fail_unless (s);
  guint status = 0;
  gst_structure_get_uint (s, "http-status", &status);
  fail_unless_equals_int (status, 401);
  g_autofree gchar *text = gst_structure_to_string (s);
  fail_unless (strstr (text, "s3cr3t") == nullptr, "key in the message: %s", text);
  gst_structure_free (s);

  fail_unless_equals_int (c.connect (f.port, "/in", "Authorization: Bearer s3cr3t-k3y\r\n"), 101);
  c.cut ();
  RawWsClient d;
  fail_unless_equals_int (d.connect (f.port, "/in?key=s3cr3t-k3y"), 101);
}
GST_END_TEST;

GST_START_TEST (test_second_publisher_is_refused_with_1008)
{
  SrcFixture f;
  RawWsClient pub1, pub2;
  fail_unless_equals_int (pub1.connect (f.port, "/in"), 101);
  send_chunks (pub1, av_webm (), 4096, 4096);
  fail_unless (f.read_bytes (4096).size () == 4096);
  fail_unless_equals_int (pub2.connect (f.port, "/in"), 101);
  expect_close (pub2, 1008, "another publisher");
  GstStructure *s = f.wait_message ("webmwssrc-publisher-refused");
  fail_unless (s);
  gst_structure_free (s);
  /* the first goes on */
  send_chunks (pub1, av_webm ().substr (4096));
  fail_unless (pub1.send_text ("{\"type\":\"stop-stream\"}"));
  std::string out;
  fail_unless (f.read_to_eos (out));
  fail_unless_equals_int (out.size (), av_webm ().size () - 4096);
}
GST_END_TEST;

GST_START_TEST (test_replace_publisher_closes_the_old_one)
{
  SrcFixture f ("replace-publisher=true");
  RawWsClient pub1, pub2;
  fail_unless_equals_int (pub1.connect (f.port, "/in"), 101);
  send_chunks (pub1, av_webm (), 4096, 8192);
  fail_unless (f.read_bytes (8192).size () == 8192);
  fail_unless_equals_int (pub2.connect (f.port, "/in"), 101);
  expect_close (pub1, 1008, "replaced");
  send_chunks (pub2, av_webm ());
  fail_unless (pub2.send_text ("{\"type\":\"stop-stream\"}"));
  std::string out;
  fail_unless (f.read_to_eos (out));
  fail_unless (out == av_webm (), "the replacing recording did not follow whole");
}
GST_END_TEST;

GST_START_TEST (test_abrupt_disconnect_mid_cluster_ends_the_stream)
{
  SrcFixture f;
  RawWsClient c;
  fail_unless_equals_int (c.connect (f.port, "/in"), 101);
  /* half a chunk into a cluster, then the TCP connection goes */
  send_chunks (c, av_webm (), 1500, av_webm ().size () / 2 + 700);
  c.cut ();
  std::string out;
  fail_unless (f.read_to_eos (out), "no EOS after the publisher was cut off");
  GstStructure *w = f.wait_message (nullptr);
  fail_unless (w, "no warning");
  fail_unless (string_field (w, "text").find ("cut off") != std::string::npos);
  gst_structure_free (w);
  GstStructure *s = f.wait_message ("webmwssrc-publisher-disconnected");
  fail_unless (s);
  guint code = 0;
  gst_structure_get_uint (s, "close-code", &code);
  fail_unless_equals_int (code, 1006);
  gst_structure_free (s);
}
GST_END_TEST;

GST_START_TEST (test_idle_publisher_times_out)
{
  SrcFixture f ("idle-timeout=1");
  RawWsClient c;
  fail_unless_equals_int (c.connect (f.port, "/in"), 101);
  send_chunks (c, av_webm (), 4096, 4096);
  gint64 t0 = g_get_monotonic_time ();
  expect_close (c, 1001, "idle");
  fail_unless (g_get_monotonic_time () - t0 >= 900 * 1000);
  std::string out;
  fail_unless (f.read_to_eos (out));
  GstStructure *w = f.wait_message (nullptr);
  fail_unless (w && string_field (w, "text").find ("idle-timeout") != std::string::npos);
  gst_structure_free (w);
}
GST_END_TEST;

GST_START_TEST (test_slow_downstream_closes_with_1013)
{
  SrcFixture f ("max-queue-size=65536");
  gst_harness_set_blocking_push_mode (f.h);
  RawWsClient c;
  fail_unless_equals_int (c.connect (f.port, "/in"), 101);
  std::string webm = av_webm ();
  while (webm.size () < 200 * 1024)
    webm += av_webm ().substr (200);
  send_chunks (c, webm, 8192);
  expect_close (c, 1013, "too slow");
  bool high = false, full = false;
  for (GstStructure *w; (w = f.wait_message (nullptr, 2 * GST_SECOND));) {
    std::string t = string_field (w, "text");
    high |= t.find ("not keeping up") != std::string::npos;
    full |= t.find ("too slow") != std::string::npos;
    gst_structure_free (w);
    if (high && full)
      break;
  }
  fail_unless (high && full, "warnings: keeping up %d, too slow %d", high, full);
  GstStructure *st = nullptr;
  g_object_get (f.src, "stats", &st, nullptr);
  guint64 queued = 0;
  gst_structure_get_uint64 (st, "queue-bytes", &queued);
  fail_unless (queued <= 65536, "%" G_GUINT64_FORMAT " bytes queued", queued);
  gst_structure_free (st);
  /* downstream drains what was queued, then EOS */
  std::string out;
  fail_unless (f.read_to_eos (out));
  fail_unless (out.size () > 0 && out.size () < webm.size ());
}
GST_END_TEST;

/* An application's own server hands the WebSocket over. */
struct AppServer {
  GMainContext *ctx = g_main_context_new ();
  GMainLoop *loop = g_main_loop_new (ctx, FALSE);
  GstElement *src;
  int port = 0;
  std::thread thread;
  GMutex lock;
  GCond cond;
  bool ready = false;
  int refusals = 0;
  /* non-empty: handed over with add-connection-full, as WebM the
   * application read already (the launcher reads the header itself) */
  std::string first_bytes;

  explicit AppServer (GstElement * s, std::string first = "") : src (s),
      first_bytes (std::move (first))
  {
    g_mutex_init (&lock);
    g_cond_init (&cond);
    thread = std::thread ([this] { run (); });
    g_mutex_lock (&lock);
    while (!ready)
      g_cond_wait (&cond, &lock);
    g_mutex_unlock (&lock);
  }

  static void on_ws (SoupServer *, SoupServerMessage *, const char *,
      SoupWebsocketConnection * conn, gpointer data)
  {
    auto *self = static_cast<AppServer *> (data);
    gboolean ok = FALSE;
    if (self->first_bytes.empty ()) {
      g_signal_emit_by_name (self->src, "add-connection", conn, &ok);
    } else {
      g_autoptr (GBytes) first = g_bytes_new (self->first_bytes.data (), self->first_bytes.size ());
      g_signal_emit_by_name (self->src, "add-connection-full", conn, "video/webm;codecs=vp8,opus",
          first, &ok);
    }
    if (!ok)
      self->refusals++;
  }

  void run ()
  {
    g_main_context_push_thread_default (ctx);
    SoupServer *server = soup_server_new (nullptr, nullptr);
    soup_server_add_websocket_handler (server, "/live/", nullptr, nullptr, on_ws, this, nullptr);
    fail_unless (soup_server_listen_local (server, 0, SOUP_SERVER_LISTEN_IPV4_ONLY, nullptr));
    GSList *uris = soup_server_get_uris (server);
    port = g_uri_get_port ((GUri *) uris->data);
    g_slist_free_full (uris, (GDestroyNotify) g_uri_unref);
    g_mutex_lock (&lock);
    ready = true;
    g_cond_signal (&cond);
    g_mutex_unlock (&lock);
    g_main_loop_run (loop);
    soup_server_disconnect (server);
    g_object_unref (server);
    while (g_main_context_iteration (ctx, FALSE)) {
    }
    g_main_context_pop_thread_default (ctx);
  }

  ~AppServer ()
  {
    g_main_loop_quit (loop);
    thread.join ();
    g_main_loop_unref (loop);
    g_main_context_unref (ctx);
    g_mutex_clear (&lock);
    g_cond_clear (&cond);
  }
};

GST_START_TEST (test_add_connection_from_the_application_server)
{
  GstElement *src = gst_element_factory_make ("webmwssrc", nullptr);
  g_object_set (src, "port", -1, nullptr);
  GstHarness *h = gst_harness_new_with_element (src, nullptr, "src");
  gst_harness_play (h);
  int bound = -1;
  g_object_get (src, "bound-port", &bound, nullptr);
  fail_unless_equals_int (bound, 0);
  {
    AppServer app (src);
    RawWsClient c, pub2;
    fail_unless_equals_int (c.connect (app.port, "/live/abc"), 101);
    send_chunks (c, av_webm ());
    fail_unless_equals_int (pub2.connect (app.port, "/live/abc"), 101);
    expect_close (pub2, 1008, "another publisher");
    fail_unless (c.send_text ("{\"type\":\"stop-stream\"}"));
    expect_close (c, 1000, "stopped");
    std::string out;
    fail_unless (harness_read_to_eos (h, out));
    fail_unless (out == av_webm ());
    fail_unless_equals_int (app.refusals, 1);
  }
  gst_harness_teardown (h);
  gst_object_unref (src);
}
GST_END_TEST;

/* the bytes the application read come first, then the publisher's own */
GST_START_TEST (test_add_connection_full_takes_the_first_bytes)
{
  GstElement *src = gst_element_factory_make ("webmwssrc", nullptr);
  g_object_set (src, "port", -1, nullptr);
  GstHarness *h = gst_harness_new_with_element (src, nullptr, "src");
  gst_harness_play (h);
  {
    const std::string webm = av_webm ();
    AppServer app (src, webm.substr (0, 4096));
    RawWsClient c;
    fail_unless_equals_int (c.connect (app.port, "/live/abc"), 101);
    send_chunks (c, webm.substr (4096));
    fail_unless (c.send_text ("{\"type\":\"stop-stream\"}"));
    expect_close (c, 1000, "stopped");
    std::string out;
    fail_unless (harness_read_to_eos (h, out));
    fail_unless (out == webm);
  }
  gst_harness_teardown (h);
  gst_object_unref (src);
}
GST_END_TEST;

/* the application found the recording unreadable: the publisher hears
 * the code and reason, downstream gets EOS */
GST_START_TEST (test_end_publisher_closes_with_the_code_and_ends_the_stream)
{
  SrcFixture f;
  RawWsClient c;
  fail_unless_equals_int (c.connect (f.port, "/in"), 101);
  send_chunks (c, av_webm (), 4096, 8192);
  GstBuffer *first = nullptr;
  for (int i = 0; i < 500 && !first; i++) {
    first = gst_harness_try_pull (f.h);
    if (!first)
      g_usleep (10000);
  }
  fail_unless (first != nullptr, "the publisher's bytes never came out");
  gst_buffer_unref (first);
  g_signal_emit_by_name (f.src, "end-publisher", 1003u, "the recording cannot be read");
  expect_close (c, 1003, "cannot be read");
  std::string out;
  fail_unless (f.read_to_eos (out));
}
GST_END_TEST;

GST_START_TEST (test_port_in_use_fails_to_start)
{
  SrcFixture f;
  GstElement *other = gst_element_factory_make ("webmwssrc", nullptr);
  g_object_set (other, "port", f.port, nullptr);
  GstBus *bus = gst_bus_new ();
  gst_element_set_bus (other, bus);
  fail_unless_equals_int (gst_element_set_state (other, GST_STATE_PLAYING),
      GST_STATE_CHANGE_FAILURE);
  GstMessage *m = gst_bus_pop_filtered (bus, GST_MESSAGE_ERROR);
  fail_unless (m, "no error message");
  GError *e = nullptr;
  gst_message_parse_error (m, &e, nullptr);
  fail_unless (strstr (e->message, "cannot listen"), "%s", e->message);
  g_error_free (e);
  gst_message_unref (m);
  gst_element_set_state (other, GST_STATE_NULL);
  gst_object_unref (bus);
  gst_object_unref (other);
}
GST_END_TEST;

static Suite *
webmwssrc_suite (void)
{
  Suite *s = suite_create ("webmwssrc");
  TCase *tc = tcase_create ("general");
  tcase_set_timeout (tc, 60);
  suite_add_tcase (s, tc);
  tcase_add_test (tc, test_stream_passes_through_and_stop_stream_ends_it);
  tcase_add_test (tc, test_first_buffer_is_discont_with_offsets);
  tcase_add_test (tc, test_audio_only_recording_has_audio_caps);
  tcase_add_test (tc, test_matroska_doc_type_gives_matroska_caps);
  tcase_add_test (tc, test_garbage_is_refused_with_1003);
  tcase_add_test (tc, test_header_split_across_messages_is_joined);
  tcase_add_test (tc, test_header_never_whole_is_refused_with_1003);
  tcase_add_test (tc, test_oversized_message_is_refused_with_1009);
  tcase_add_test (tc, test_text_instead_of_binary_gets_an_error_reply);
  tcase_add_test (tc, test_wrong_key_is_refused_with_401);
  tcase_add_test (tc, test_second_publisher_is_refused_with_1008);
  tcase_add_test (tc, test_replace_publisher_closes_the_old_one);
  tcase_add_test (tc, test_abrupt_disconnect_mid_cluster_ends_the_stream);
  tcase_add_test (tc, test_idle_publisher_times_out);
  tcase_add_test (tc, test_slow_downstream_closes_with_1013);
  tcase_add_test (tc, test_add_connection_from_the_application_server);
  tcase_add_test (tc, test_add_connection_full_takes_the_first_bytes);
  tcase_add_test (tc, test_end_publisher_closes_with_the_code_and_ends_the_stream);
  tcase_add_test (tc, test_port_in_use_fails_to_start);
  return s;
}

GST_CHECK_MAIN (webmwssrc);
