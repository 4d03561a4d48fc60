/* The protocol engine against real publishers no one here wrote: ffmpeg
 * (digest handshake), GStreamer's rtmp2sink and librtmp's rtmpsink (plain
 * handshakes), each publishing 2 s of H.264 and AAC to a loopback server
 * that is nothing but a PublishSession on a socket. A peer whose program
 * or element is missing fails the test: scripts/setup.sh installs them. */
#include "rtmp/rtmpsession.h"

#include "../assertions.h"

#include <gio/gio.h>
#include <gst/check/gstcheck.h>

#include <string>
#include <thread>
#include <vector>

using namespace castline::rtmp;

namespace {

constexpr guint kSocketTimeoutS = 30;

struct Outcome {
  std::string app, stream_name, error;
  int video = 0, audio = 0, metadata = 0;
  bool unpublished = false;
  PublishedCodecs codecs;
};

/* one publisher, from accept to its close; every read bounded */
Outcome
serve_one (GSocket * listener)
{
  Outcome o;
  g_autoptr (GError) error = nullptr;
  g_autoptr (GSocket) c = g_socket_accept (listener, nullptr, &error);
  if (!c) {
    o.error = error->message;
    return o;
  }
  g_socket_set_timeout (c, kSocketTimeoutS);
  PublishSession s (PublishSession::Start::Handshake);
  s.accept_app ("live");
  char buf[16384];
  for (;;) {
    gssize n = g_socket_receive (c, buf, sizeof buf, nullptr, &error);
    if (n <= 0) {
      if (n < 0)
        o.error = error->message;
      break;
    }
    bool ok = s.feed ((const uint8_t *) buf, n);
    Event e;
    while (s.next_event (e)) {
      if (e.type == EventType::Connect) {
        o.app = e.app;
      } else if (e.type == EventType::Publish) {
        o.stream_name = e.stream_name;
        s.accept_publish ();
      } else if (e.type == EventType::Unpublish) {
        o.unpublished = true;
      } else {
        (e.tag.type == 9 ? o.video : e.tag.type == 8 ? o.audio : o.metadata)++;
      }
    }
    std::string out = s.take_output ();
    if (!out.empty () && g_socket_send (c, out.data (), out.size (), nullptr, &error) < 0) {
      o.error = error->message;
      break;
    }
    if (!ok) {
      o.error = s.error ();
      break;
    }
  }
  o.codecs = s.codecs ();
  return o;
}

/* listens on a free loopback port, runs argv (with {URL} replaced),
 * serves the one connection */
Outcome
publish_with (std::vector<std::string> argv)
{
  g_autoptr (GError) error = nullptr;
  g_autoptr (GSocket) listener = g_socket_new (G_SOCKET_FAMILY_IPV4, G_SOCKET_TYPE_STREAM,
      G_SOCKET_PROTOCOL_TCP, &error);
  g_autoptr (GInetAddress) lo = g_inet_address_new_loopback (G_SOCKET_FAMILY_IPV4);
  g_autoptr (GSocketAddress) any = g_inet_socket_address_new (lo, 0);
  fail_unless (g_socket_bind (listener, any, TRUE, &error) && g_socket_listen (listener, &error));
  g_autoptr (GSocketAddress) bound = g_socket_get_local_address (listener, &error);
  guint16 port = g_inet_socket_address_get_port (G_INET_SOCKET_ADDRESS (bound));
  g_socket_set_timeout (listener, kSocketTimeoutS);

  std::string url = "rtmp://127.0.0.1:" + std::to_string (port) + "/live/secret";
  std::vector<const char *> args = {"timeout", "60"};
  for (auto & a : argv) {
    size_t at = a.find ("{URL}");
    if (at != std::string::npos)
      a.replace (at, 5, url);
    args.push_back (a.c_str ());
  }
  args.push_back (nullptr);

  Outcome o;
  std::thread server ([&] { o = serve_one (listener); });
  g_autoptr (GSubprocess) peer = g_subprocess_newv (args.data (),
      (GSubprocessFlags) (G_SUBPROCESS_FLAGS_STDOUT_SILENCE), &error);
  if (!peer) {
    /* let the server's accept time out */
    server.join ();
    fail ("%s", error->message);
  }
  gboolean exited = g_subprocess_wait (peer, nullptr, &error);
  server.join ();
  fail_unless (exited && g_subprocess_get_successful (peer), "%s failed (%s)", args[2],
      g_subprocess_get_if_exited (peer) ? "exit status" : "killed");
  return o;
}

void
check (const Outcome & o, int video, int audio)
{
  fail_unless (o.error.empty (), "%s", o.error.c_str ());
  assert_str_eq (o.app, "live");
  assert_str_eq (o.stream_name, "secret");
  fail_unless (o.video >= video, "%d video tags", o.video);
  fail_unless (o.audio >= audio, "%d audio tags", o.audio);
  fail_unless (o.metadata >= 1);
  fail_unless (o.unpublished);
  assert_str_eq (o.codecs.video, "h264");
  assert_str_eq (o.codecs.audio, "aac");
}

bool
have_program (const char *name)
{
  g_autofree gchar *path = g_find_program_in_path (name);
  fail_unless (path != nullptr, "no %s (scripts/setup.sh installs it)", name);
  return true;
}

bool
have_element (const char *name)
{
  g_autoptr (GstElementFactory) f = gst_element_factory_find (name);
  fail_unless (f != nullptr, "no %s element (scripts/setup.sh installs it)", name);
  return have_program ("gst-launch-1.0");
}

std::vector<std::string>
gst_publisher (const std::string & sink)
{
  return {"gst-launch-1.0", "-q", "videotestsrc", "num-buffers=50", "!",
      "video/x-raw,width=160,height=120,framerate=25/1", "!", "x264enc", "key-int-max=25", "!",
      "h264parse", "!", "flvmux", "name=m", "streamable=true", "!", sink, "location={URL}",
      "audiotestsrc", "num-buffers=80", "!", "voaacenc", "!", "aacparse", "!", "m."};
}

}  // namespace

GST_START_TEST (test_ffmpeg)
{
  if (!have_program ("ffmpeg"))
    return;
  check (publish_with ({"ffmpeg", "-hide_banner", "-loglevel", "error", "-re", "-f", "lavfi",
      "-i", "testsrc=size=160x120:rate=25", "-f", "lavfi", "-i", "sine=frequency=440", "-t", "2",
      "-c:v", "libx264", "-g", "25", "-pix_fmt", "yuv420p", "-c:a", "aac", "-f", "flv", "{URL}"}),
      45, 80);
}
GST_END_TEST;

GST_START_TEST (test_rtmp2sink)
{
  if (!have_element ("rtmp2sink") || !have_element ("x264enc") || !have_element ("voaacenc"))
    return;
  check (publish_with (gst_publisher ("rtmp2sink")), 50, 80);
}
GST_END_TEST;

GST_START_TEST (test_librtmp_rtmpsink)
{
  if (!have_element ("rtmpsink") || !have_element ("x264enc") || !have_element ("voaacenc"))
    return;
  check (publish_with (gst_publisher ("rtmpsink")), 50, 80);
}
GST_END_TEST;

static Suite *
rtmppeers_suite (void)
{
  Suite *s = suite_create ("rtmp-peers");
  TCase *tc = tcase_create ("peers");
  tcase_set_timeout (tc, 120);
  suite_add_tcase (s, tc);
  tcase_add_test (tc, test_ffmpeg);
  tcase_add_test (tc, test_rtmp2sink);
  tcase_add_test (tc, test_librtmp_rtmpsink);
  return s;
}

GST_CHECK_MAIN (rtmppeers);
