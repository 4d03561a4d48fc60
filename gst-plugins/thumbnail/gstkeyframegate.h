#pragma once

#include <gst/gst.h>

G_BEGIN_DECLS

#define GST_TYPE_KEYFRAME_GATE (gst_keyframe_gate_get_type ())
G_DECLARE_FINAL_TYPE (GstKeyframeGate, gst_keyframe_gate, GST, KEYFRAME_GATE, GstElement)

G_END_DECLS
