#include "ingest/sourcedemux.h"

#include "streams/elementfactory.h"
#include "streams/elementnames.h"

#include <algorithm>

namespace castline::launcher {

std::string
demuxed_pad_kind (GstPad * pad)
{
  g_autoptr (GstCaps) caps = gst_pad_get_current_caps (pad);
  const char *name = caps && gst_caps_get_size (caps) > 0
      ? gst_structure_get_name (gst_caps_get_structure (caps, 0)) : "";
  if (g_str_has_prefix (name, "video/"))
    return "video";
  if (g_str_has_prefix (name, "audio/"))
    return "audio";
  g_autofree gchar *pad_name = gst_pad_get_name (pad);
  if (g_str_has_prefix (pad_name, "video"))
    return "video";
  if (g_str_has_prefix (pad_name, "audio"))
    return "audio";
  return "";
}

bool
SourceDemux::attach (StreamPipeline & pipeline, const char *source, const char *demuxer,
    unsigned idle_timeout_s, Ingest::Hooks hooks, std::string & error)
{
  GstElement *src = make_element (source, names::kIngest, error);
  if (!src)
    return false;
  GstElement *demux = make_element (demuxer, nullptr, error);
  if (!demux) {
    gst_object_unref (gst_object_ref_sink (src));
    return false;
  }
  hooks_ = std::move (hooks);
  g_object_set (src, "port", -1, "idle-timeout", idle_timeout_s, nullptr);
  gst_bin_add_many (GST_BIN (pipeline.pipeline ()), src, demux, nullptr);
  gst_element_link (src, demux);
  g_signal_connect (demux, "pad-added", G_CALLBACK (+[] (GstElement *, GstPad * pad, gpointer p) {
        static_cast<StreamPipeline *> (p)->link_media (demuxed_pad_kind (pad), pad);
      }), &pipeline);
  /* a publisher without a track the graph waits for (a mimeType that
   * promised video, an FLV header without video): that branch ends at
   * once, or the HLS sink would wait for it for ever */
  g_signal_connect (demux, "no-more-pads", G_CALLBACK (+[] (GstElement *, gpointer p) {
        static_cast<StreamPipeline *> (p)->end_unlinked_entries ();
      }), &pipeline);
  src_ = src;
  demux_ = demux;
  return true;
}

bool
SourceDemux::posted (GstMessage * msg) const
{
  GstObject *from = GST_MESSAGE_SRC (msg);
  return from && (from == GST_OBJECT (src_) || from == GST_OBJECT (demux_));
}

void
SourceDemux::lose (const std::string & reason, bool media_ended)
{
  if (lost_)
    return;
  lost_ = true;
  if (hooks_.publisher_lost)
    hooks_.publisher_lost (reason, media_ended);
}

void
SourceDemux::watch_ends (StreamPipeline & pipeline, Ends ends)
{
  ends_ = std::move (ends);
  pipeline.add_element_message_handler ([this] (GstMessage * msg) { on_message (msg); });
  pipeline.add_problem_handler ([this] (GstMessage * msg) { return on_problem (msg); });
}

void
SourceDemux::on_message (GstMessage * msg)
{
  const GstStructure *s = gst_message_get_structure (msg);
  if (GST_MESSAGE_SRC (msg) != GST_OBJECT (src_) || !s
      || !gst_structure_has_name (s, ends_.message.c_str ()))
    return;
  const char *reason = gst_structure_get_string (s, "reason");
  if (!reason || std::find (ends_.lost.begin (), ends_.lost.end (), reason) == ends_.lost.end ())
    return;
  const char *description = gst_structure_get_string (s, "description");
  lose ("the " + ends_.who + " was lost (" + reason + ")"
      + (description && *description ? std::string (": ") + description : std::string ()),
      true);
}

/* The source's warnings (a lost publisher) are left to on_message */
bool
SourceDemux::on_problem (GstMessage * msg)
{
  if (GST_MESSAGE_TYPE (msg) != GST_MESSAGE_ERROR || !posted (msg))
    return false;
  g_autoptr (GError) e = nullptr;
  gst_message_parse_error (msg, &e, nullptr);
  if (!lost_) {
    std::string reason = "the " + ends_.what + " cannot be read: "
        + (e ? e->message : "unknown error");
    g_signal_emit_by_name (src_, ends_.end_signal.c_str (), reason.c_str ());
    lose (reason, false);
  }
  return true;
}

}  // namespace castline::launcher
