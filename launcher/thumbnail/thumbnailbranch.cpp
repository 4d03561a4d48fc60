#include "thumbnail/thumbnailbranch.h"

#include "streams/elementfactory.h"
#include "streams/elementnames.h"
#include "whep/flowguard.h"

#include <gst/app/gstappsink.h>

#include <atomic>

GST_DEBUG_CATEGORY_EXTERN (castline_stream_debug);
#define GST_CAT_DEFAULT castline_stream_debug

namespace castline::launcher {

namespace {

/* the branch's bins: the guarded queue, then the rest */
constexpr char kEntryName[] = "thumbnail_entry";
constexpr char kBranchName[] = "thumbnail";
constexpr char kSinkName[] = "thumbnail_sink";

/* encoded video: references only, a GOP or two while the branch decodes;
 * decoded video: pictures, two at most */
constexpr guint kEncodedQueueBuffers = 64;
constexpr guint kRawQueueBuffers = 2;

/* how the branch gets pictures out of media of a type (the tee's caps):
 * raw video as it is, the encoded kinds parsed then decoded */
struct Decoding {
  const char *media_type;
  const char *parse;               /* before the gate */
  const char *decode;              /* after it */
};

constexpr Decoding kDecodings[] = {
  { "video/x-raw", "", "" },
  /* one picture now and then: no frame threads' delay */
  { "video/x-h264", "h264parse ! ", "avdec_h264 max-threads=1 ! " },
  { "video/x-vp8", "", "vp8dec ! " },
  { "video/x-vp9", "", "vp9dec ! " },
};

const Decoding *
decoding_of (const char *media_type)
{
  for (const Decoding & d : kDecodings)
    if (g_str_equal (media_type, d.media_type))
      return &d;
  return nullptr;
}

/* the streaming thread of the branch: a JPEG to the store */
GstFlowReturn
take_jpeg (GstAppSink * sink, gpointer data)
{
  auto *store = static_cast<std::shared_ptr<ThumbnailStore> *> (data);
  g_autoptr (GstSample) sample = gst_app_sink_pull_sample (sink);
  GstBuffer *buf = sample ? gst_sample_get_buffer (sample) : nullptr;
  GstMapInfo map;
  if (!buf || !gst_buffer_map (buf, &map, GST_MAP_READ))
    return GST_FLOW_OK;
  g_autoptr (GBytes) jpeg = g_bytes_new (map.data, map.size);
  gst_buffer_unmap (buf, &map);
  (*store)->put (jpeg);
  return GST_FLOW_OK;
}

/* Builds the branch off tee (a tap, or video_raw) for media of
 * media_type. Any thread; false when it cannot (said why). */
bool
build (GstBin * pipeline, GstElement * tee, const char *media_type,
    const ThumbnailSettings & settings, const std::shared_ptr<ThumbnailStore> & store)
{
  const Decoding *d = decoding_of (media_type);
  if (!d) {
    GST_INFO_OBJECT (pipeline, "no thumbnails: %s is not decoded here", media_type);
    return false;
  }
  gchar *text = g_strdup_printf ("%skeyframegate interval=%" G_GUINT64_FORMAT " ! %s"
      "videoscale ! videoconvert ! video/x-raw,format=I420,width=%u,pixel-aspect-ratio=1/1 "
      "! jpegenc ! appsink name=%s sync=false async=false max-buffers=1 drop=true",
      d->parse, (guint64) settings.interval * GST_SECOND, d->decode, settings.width, kSinkName);
  std::string error;
  GstElement *branch = parse_graph (text, true, error);
  g_free (text);
  GstElement *queue = nullptr;
  GstElement *entry = branch ? make_guarded_queue (kEntryName, &queue, error) : nullptr;
  if (!entry) {
    if (branch)
      gst_object_unref (gst_object_ref_sink (branch));
    g_warning ("%s: no thumbnails: %s", GST_OBJECT_NAME (pipeline), error.c_str ());
    return false;
  }
  gst_object_set_name (GST_OBJECT (branch), kBranchName);
  bool raw = !*d->decode;
  g_object_set (queue, "leaky", 2 /* downstream: the oldest go */, "max-size-time", (guint64) 0,
      "max-size-bytes", 0u, "max-size-buffers", raw ? kRawQueueBuffers : kEncodedQueueBuffers,
      nullptr);
  g_autoptr (GstElement) sink = gst_bin_get_by_name (GST_BIN (branch), kSinkName);
  GstAppSinkCallbacks callbacks = {};
  callbacks.new_sample = take_jpeg;
  gst_app_sink_set_callbacks (GST_APP_SINK (sink), &callbacks,
      new std::shared_ptr<ThumbnailStore> (store),
      [] (gpointer data) { delete static_cast<std::shared_ptr<ThumbnailStore> *> (data); });

  gst_bin_add_many (pipeline, entry, branch, nullptr);
  g_autoptr (GstPad) src = gst_element_request_pad_simple (tee, "src_%u");
  g_autoptr (GstPad) entry_sink = gst_element_get_static_pad (entry, "sink");
  if (!gst_element_link (entry, branch) || gst_pad_link (src, entry_sink) != GST_PAD_LINK_OK) {
    g_warning ("%s: no thumbnails: the branch does not link", GST_OBJECT_NAME (pipeline));
    gst_element_release_request_pad (tee, src);
    gst_element_set_locked_state (entry, TRUE);
    gst_element_set_locked_state (branch, TRUE);
    gst_bin_remove_many (pipeline, entry, branch, nullptr);
    return false;
  }
  gst_element_sync_state_with_parent (branch);
  gst_element_sync_state_with_parent (entry);
  GST_INFO_OBJECT (pipeline, "thumbnails of %s every %u s, %u px wide, from %s", media_type,
      settings.interval, settings.width, GST_OBJECT_NAME (tee));
  return true;
}

}  // namespace

void
add_thumbnail_branch (StreamPipeline & pipeline, const ThumbnailSettings & settings,
    std::shared_ptr<ThumbnailStore> store)
{
  GstBin *bin = GST_BIN (pipeline.pipeline ());
  g_autoptr (GstElement) entry = gst_bin_get_by_name (bin, names::kVideoIn);
  if (!settings.enabled () || !entry)
    return;                        /* no thumbnails, or an audio-only graph */
  /* the branch's elements fail alone: said, never the stream's end */
  pipeline.add_problem_handler ([bin] (GstMessage * msg) {
        g_autoptr (GstElement) branch = gst_bin_get_by_name (bin, kBranchName);
        GstObject *src = GST_MESSAGE_SRC (msg);
        if (GST_MESSAGE_TYPE (msg) != GST_MESSAGE_ERROR || !branch || !src
            || !gst_object_has_as_ancestor (src, GST_OBJECT (branch)))
          return false;
        GError *e = nullptr;
        gst_message_parse_error (msg, &e, nullptr);
        g_warning ("%s: thumbnails stop: %s: %s", GST_OBJECT_NAME (bin), GST_OBJECT_NAME (src),
            e->message);
        g_error_free (e);
        return true;
      });
  g_autoptr (GstElement) raw = gst_bin_get_by_name (bin, names::kVideoRawTee);
  if (raw) {
    build (bin, raw, "video/x-raw", settings, store);
    return;
  }
  /* a passthrough graph: the publisher's keyframes, once the tap says
   * their codec (a streaming thread) */
  auto built = std::make_shared<std::atomic<bool>> (false);
  StreamPipeline *p = &pipeline;
  pipeline.add_tap_listener ([p, bin, settings, store, built] (const std::string & kind,
          GstCaps * caps) {
        if (kind != "video" || !caps || gst_caps_is_empty (caps) || built->exchange (true))
          return;
        g_autoptr (GstElement) tap = p->media_tap (kind);
        if (tap)
          build (bin, tap, gst_structure_get_name (gst_caps_get_structure (caps, 0)), settings,
              store);
      });
}

std::vector<std::string>
thumbnail_elements ()
{
  std::vector<std::string> names = { "keyframegate", "videoscale", "videoconvert", "jpegenc",
    "appsink" };
  for (const Decoding & d : kDecodings)
    for (const char *part : { d.parse, d.decode })
      if (*part)
        names.emplace_back (std::string (part).substr (0, std::string (part).find (' ')));
  return names;
}

}  // namespace castline::launcher
