#include "hls/branchjoin.h"

GST_DEBUG_CATEGORY_EXTERN (castline_abr_debug);
#define GST_CAT_DEFAULT castline_abr_debug

namespace castline::launcher {

namespace {

bool
is_force_key_unit (GstEvent * event)
{
  const GstStructure *s = gst_event_get_structure (event);
  return s && gst_structure_has_name (s, "GstForceKeyUnit");
}

GstPadProbeReturn
until_keyframe (GstPad * pad, GstPadProbeInfo * info, gpointer)
{
  if (GST_BUFFER_FLAG_IS_SET (GST_PAD_PROBE_INFO_BUFFER (info), GST_BUFFER_FLAG_DELTA_UNIT))
    return GST_PAD_PROBE_DROP;
  GST_DEBUG_OBJECT (pad, "joined at a keyframe");
  return GST_PAD_PROBE_REMOVE;
}

GstPadProbeReturn
until_forced_keyframe (GstPad * pad, GstPadProbeInfo * info, gpointer)
{
  if (info->type & GST_PAD_PROBE_TYPE_BUFFER)
    return GST_PAD_PROBE_DROP;
  GstEvent *event = GST_PAD_PROBE_INFO_EVENT (info);
  if (GST_EVENT_TYPE (event) != GST_EVENT_CUSTOM_DOWNSTREAM || !is_force_key_unit (event))
    return GST_PAD_PROBE_OK;
  GST_DEBUG_OBJECT (pad, "joined at a forced keyframe");
  return GST_PAD_PROBE_REMOVE;
}

GstPadProbeReturn
rung_stream (GstPad *, GstPadProbeInfo * info, gpointer)
{
  GstEvent *event = GST_PAD_PROBE_INFO_EVENT (info);
  if (GST_EVENT_TYPE (event) == GST_EVENT_STREAM_START)
    return GST_PAD_PROBE_DROP;
  if (GST_EVENT_TYPE (event) == GST_EVENT_CUSTOM_UPSTREAM && is_force_key_unit (event))
    return GST_PAD_PROBE_DROP;
  return GST_PAD_PROBE_OK;
}

}  // namespace

void
join_at_keyframe (GstPad * pad)
{
  gst_pad_add_probe (pad, GST_PAD_PROBE_TYPE_BUFFER, until_keyframe, nullptr, nullptr);
}

void
join_at_forced_keyframe (GstPad * pad)
{
  gst_pad_add_probe (pad, (GstPadProbeType) (GST_PAD_PROBE_TYPE_BUFFER
          | GST_PAD_PROBE_TYPE_EVENT_DOWNSTREAM), until_forced_keyframe, nullptr, nullptr);
}

void
continue_rung_stream (GstPad * src)
{
  gst_pad_add_probe (src, (GstPadProbeType) (GST_PAD_PROBE_TYPE_EVENT_DOWNSTREAM
          | GST_PAD_PROBE_TYPE_EVENT_UPSTREAM), rung_stream, nullptr, nullptr);
}

void
end_if_tee_ended (GstElement * tee, GstElement * branch)
{
  g_autoptr (GstPad) in = gst_element_get_static_pad (tee, "sink");
  g_autoptr (GstPad) to = gst_element_get_static_pad (branch, "sink");
  if (!in || !to)
    return;
  g_autoptr (GstEvent) eos = gst_pad_get_sticky_event (in, GST_EVENT_EOS, 0);
  g_autoptr (GstEvent) got = gst_pad_get_sticky_event (to, GST_EVENT_EOS, 0);
  if (!eos || got)
    return;
  /* the tee may be pushing it right now: a second EOS is refused */
  GST_INFO_OBJECT (branch, "linked after %s ended: EOS", GST_OBJECT_NAME (tee));
  gst_pad_send_event (to, gst_event_new_eos ());
}

}  // namespace castline::launcher
