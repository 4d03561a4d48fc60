#include "ingest/whip/whiptracks.h"

#include "ingest/whip/whipdebug.h"
#include "ingest/whip/whipingeststate.h"
#include "ingest/whip/whipoffer.h"
#include "ingest/whip/risingtimestamps.h"
#include "streams/elementfactory.h"

#include <gst/video/video.h>

#include <algorithm>
#include <string>
#include <vector>

namespace castline::launcher::whip {

using namespace webrtc;

namespace {

void
set_if_exists (GstElement * e, const char *property, gboolean value)
{
  if (g_object_class_find_property (G_OBJECT_GET_CLASS (e), property))
    g_object_set (e, property, value, nullptr);
}

const char *const kCodecs[] = { "h264", "vp8", "vp9", "opus" };

/* the depayloader (and parser) of a codec, by factory */
std::vector<const char *>
chain_factories (const std::string & codec)
{
  if (codec == "h264")
    return { "rtph264depay", "h264parse", "capsfilter" };
  if (codec == "vp8")
    return { "rtpvp8depay" };
  if (codec == "vp9")
    return { "rtpvp9depay" };
  if (codec == "opus")
    return { "rtpopusdepay", "opusparse" };
  return {};
}

/* depayloader (and parser) for a codec; empty with error when one is
 * missing */
std::vector<GstElement *>
make_chain (const std::string & codec, std::string & error)
{
  std::vector<const char *> names = chain_factories (codec);
  std::vector<GstElement *> chain;
  for (const char *name : names) {
    GstElement *e = make_element (name, nullptr, error);
    if (!e) {
      for (GstElement *c : chain)
        gst_object_unref (c);
      return {};
    }
    chain.push_back (GST_ELEMENT (gst_object_ref_sink (e)));
  }
  if (chain.empty ())
    return chain;
  /* keyframes after loss: a PLI to the publisher rather than broken frames */
  set_if_exists (chain[0], "request-keyframe", TRUE);
  set_if_exists (chain[0], "wait-for-keyframe", TRUE);
  if (codec == "h264") {
    g_object_set (chain[1], "config-interval", -1, nullptr);
    GstCaps *caps = gst_caps_from_string (
        "video/x-h264, stream-format=byte-stream, alignment=au");
    g_object_set (chain[2], "caps", caps, nullptr);
    gst_caps_unref (caps);
  }
  return chain;
}

}  // namespace

std::vector<std::string>
required_elements ()
{
  std::vector<std::string> all = { "webrtcbin", "fakesink" };
  for (const char *codec : kCodecs)
    for (const char *f : chain_factories (codec))
      if (std::find (all.begin (), all.end (), f) == all.end ())
        all.push_back (f);
  return all;
}

/* a received track: depayload, parse, hand to the listener. Streaming
 * thread. */
void
on_pad_added (GstElement *, GstPad * pad, gpointer data)
{
  StatePtr st = ingest_state (data);
  if (GST_PAD_DIRECTION (pad) != GST_PAD_SRC)
    return;
  std::lock_guard<std::recursive_mutex> call (st->call_lock);
  GstPipeline *pipeline;
  {
    std::lock_guard<std::mutex> lk (st->lock);
    if (!st->alive || st->closed)
      return;
    pipeline = GST_PIPELINE (gst_object_ref (st->pipeline));
  }

  GstCaps *caps = gst_pad_get_current_caps (pad);
  if (!caps)
    caps = gst_pad_query_caps (pad, nullptr);
  const GstStructure *s = caps && !gst_caps_is_empty (caps) ? gst_caps_get_structure (caps, 0)
      : nullptr;
  std::string kind = s ? lower (gst_structure_get_string (s, "media")) : "";
  std::string codec = s ? lower (gst_structure_get_string (s, "encoding-name")) : "";
  GST_INFO ("WHIP track on %s: %" GST_PTR_FORMAT, GST_PAD_NAME (pad), caps);
  if (caps)
    gst_caps_unref (caps);

  std::vector<GstElement *> chain;
  std::string error;
  if ((kind == "video" && (codec == "h264" || codec == "vp8" || codec == "vp9"))
      || (kind == "audio" && codec == "opus")) {
    chain = make_chain (codec, error);
    if (chain.empty ()) {
      /* an element we need is not installed: the stream fails with its name */
      post_error (GST_ELEMENT (pipeline), "WHIP " + kind + " track: " + error);
      gst_object_unref (pipeline);
      return;
    }
  }
  bool usable = !chain.empty ();
  if (!usable) {
    /* not ours to take (the answer refused it): dropped, not left unlinked */
    GST_WARNING ("WHIP track %s/%s is dropped", kind.c_str (), codec.c_str ());
    GstElement *fake = make_element ("fakesink", nullptr, error);
    if (!fake) {
      post_error (GST_ELEMENT (pipeline), "WHIP " + kind + " track: " + error);
      gst_object_unref (pipeline);
      return;
    }
    g_object_set (fake, "sync", FALSE, "async", FALSE, nullptr);
    chain.push_back (GST_ELEMENT (gst_object_ref_sink (fake)));
  }

  for (GstElement *e : chain)
    gst_bin_add (GST_BIN (pipeline), e);
  for (size_t i = 1; i < chain.size (); i++)
    gst_element_link (chain[i - 1], chain[i]);
  for (auto it = chain.rbegin (); it != chain.rend (); ++it)
    gst_element_sync_state_with_parent (*it);
  {
    std::lock_guard<std::mutex> lk (st->lock);
    st->elements.insert (st->elements.end (), chain.begin (), chain.end ());
  }
  GstPad *sink = gst_element_get_static_pad (chain.front (), "sink");
  GstPadLinkReturn linked = gst_pad_link (pad, sink);
  gst_object_unref (sink);
  if (linked != GST_PAD_LINK_OK)
    GST_ERROR ("cannot link %s to the %s depayloader: %s", GST_PAD_NAME (pad), codec.c_str (),
        gst_pad_link_get_name (linked));

  if (usable && linked == GST_PAD_LINK_OK) {
    if (kind == "video") {
      GstPad *depayloaded = gst_element_get_static_pad (chain.front (), "src");
      keep_timestamps_rising (depayloaded);
      gst_object_unref (depayloaded);
    }
    GstPad *out = gst_element_get_static_pad (chain.back (), "src");
    if (st->listener.media_pad)
      st->listener.media_pad (kind, codec, out);
    if (kind == "video") {
      /* start from a keyframe: a force-key-unit upstream becomes a PLI */
      gst_pad_send_event (out, gst_video_event_new_upstream_force_key_unit (GST_CLOCK_TIME_NONE,
              TRUE, 0));
    }
    gst_object_unref (out);
  }
  gst_object_unref (pipeline);
}

}  // namespace castline::launcher::whip
