/* libFuzzer target: arbitrary sequences of WebSocket messages through
 * webmwssrc's protocol (the session a publisher gets, the bounded queue,
 * the buffers the source pushes) into matroskademux. The session checks a
 * declared mimeType against the header's tracks (trackcodecs.h); the
 * launcher's choice of codecs from those tracks runs on every first chunk,
 * and a fixed mimeType is compared with them too.
 *
 * Input: records of [kind: 1 byte][length: 2 bytes LE][payload]; an even
 * kind is a binary message, an odd one a text message. The last record
 * takes what is left. Crashes, sanitizer reports, leaks and hangs (the
 * demuxer must reach EOS or an error within 10 s) are findings. */
#include "webmws/chunkqueue.h"
#include "webmws/trackcodecs.h"
#include "webmws/webmwssession.h"

#include <gst/app/gstappsrc.h>
#include <gst/gst.h>

#include <cstdint>
#include <cstdlib>
#include <cstdio>

using namespace castline::webmws;

static void
link_to_fakesink (GstElement * demux, GstPad * pad, gpointer pipeline)
{
  GstElement *sink = gst_element_factory_make ("fakesink", nullptr);
  g_object_set (sink, "sync", FALSE, "async", FALSE, nullptr);
  gst_bin_add (GST_BIN (pipeline), sink);
  gst_element_sync_state_with_parent (sink);
  GstPad *sinkpad = gst_element_get_static_pad (sink, "sink");
  gst_pad_link (pad, sinkpad);
  gst_object_unref (sinkpad);
}

static void run_one (const uint8_t * data, size_t size);

extern "C" int
LLVMFuzzerInitialize (int *, char ***)
{
  gst_init (nullptr, nullptr);
  /* once, so that what GLib and GStreamer allocate for good on first use
   * (threads, type classes) is not counted as a leak of the first input */
  static const uint8_t magic[] = { 0, 4, 0, 0x1A, 0x45, 0xDF, 0xA3 };
  run_one (magic, sizeof (magic));
  return 0;
}

extern "C" int
LLVMFuzzerTestOneInput (const uint8_t * data, size_t size)
{
  run_one (data, size);
  return 0;
}

static void
run_one (const uint8_t * data, size_t size)
{
  SessionLimits limits;
  limits.max_message_size = 256 * 1024;
  WebmWsSession session (limits);
  ChunkQueue queue (1024 * 1024);

  GstElement *pipeline = gst_pipeline_new (nullptr);
  GstElement *src = gst_element_factory_make ("appsrc", nullptr);
  GstElement *demux = gst_element_factory_make ("matroskademux", nullptr);
  if (!src || !demux)
    abort ();                   /* not a finding: the environment is broken */
  g_object_set (src, "format", GST_FORMAT_BYTES, nullptr);
  gst_bin_add_many (GST_BIN (pipeline), src, demux, nullptr);
  gst_element_link (src, demux);
  g_signal_connect (demux, "pad-added", G_CALLBACK (link_to_fakesink), pipeline);
  gst_element_set_state (pipeline, GST_STATE_PLAYING);

  size_t pos = 0;
  uint64_t offset = 0;
  bool caps_set = false;
  while (pos < size && !session.closing ()) {
    uint8_t kind = data[pos++];
    size_t len = size - pos;
    if (len >= 2) {
      size_t want = data[pos] | (data[pos + 1] << 8);
      pos += 2;
      len = std::min (want, size - pos);
    } else {
      pos = size;
      len = 0;
    }
    const uint8_t *payload = data + pos;
    pos += len;

    SessionOutcome out;
    if (kind % 2 == 0) {
      GBytes *b = g_bytes_new (payload, len);
      out = session.on_binary (b);
      g_bytes_unref (b);
    } else {
      out = session.on_text ((const char *) payload, len);
    }
    if (!out.chunk)
      continue;
    if (out.first_chunk) {
      /* what the launcher picks a pipeline from */
      RecordingCodecs codecs = codecs_of_tracks (session.header ().tracks);
      MimeType claimed { "video/webm", "vp8,opus" };
      std::string wrong = mime_type_contradiction (claimed, session.header ().tracks);
      if (codecs.video.size () + codecs.audio.size () > session.header ().tracks.size ()
          || wrong.size () > 1024)
        abort ();
    }
    Chunk chunk;
    chunk.bytes = out.chunk;
    chunk.first_of_publisher = out.first_chunk;
    chunk.media_type = media_type_for (session.mime_type ().media_type, session.header ().doc_type);
    if (queue.push (std::move (chunk)) == ChunkQueue::PushResult::full)
      break;
    /* the streaming thread's side */
    Chunk next;
    while (queue.bytes () > 0 && queue.pop (next, 0) == ChunkQueue::PopResult::chunk) {
      if (!caps_set) {
        GstCaps *caps = gst_caps_new_empty_simple (next.media_type.c_str ());
        gst_app_src_set_caps (GST_APP_SRC (src), caps);
        gst_caps_unref (caps);
        caps_set = true;
      }
      GstBuffer *buf = chunk_to_buffer (next, offset);
      offset += gst_buffer_get_size (buf);
      gst_app_src_push_buffer (GST_APP_SRC (src), buf);
    }
  }
  gst_app_src_end_of_stream (GST_APP_SRC (src));

  GstBus *bus = gst_element_get_bus (pipeline);
  GstMessage *m = gst_bus_timed_pop_filtered (bus, 10 * GST_SECOND,
      (GstMessageType) (GST_MESSAGE_EOS | GST_MESSAGE_ERROR));
  if (!m) {
    fprintf (stderr, "matroskademux neither ended nor failed within 10 s\n");
    abort ();
  }
  gst_message_unref (m);
  gst_object_unref (bus);
  gst_element_set_state (pipeline, GST_STATE_NULL);
  gst_object_unref (pipeline);
}
