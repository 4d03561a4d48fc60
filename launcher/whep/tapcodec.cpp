#include "whep/tapcodec.h"

namespace castline::launcher {

namespace {

/* profile_idc, constraint flags, level_idc: the SPS's first three bytes
 * after its NAL header, and avcC's bytes 1 to 3 */
std::string
hex3 (const guint8 * p)
{
  char text[7];
  g_snprintf (text, sizeof text, "%02x%02x%02x", p[0], p[1], p[2]);
  return text;
}

}  // namespace

std::string
webrtc_codec_of (const GstCaps * caps)
{
  if (!caps || gst_caps_is_empty (caps) || gst_caps_is_any (caps))
    return "";
  const GstStructure *s = gst_caps_get_structure (caps, 0);
  if (gst_structure_has_name (s, "video/x-h264"))
    return "h264";
  if (gst_structure_has_name (s, "video/x-vp8"))
    return "vp8";
  if (gst_structure_has_name (s, "video/x-vp9"))
    return "vp9";
  if (gst_structure_has_name (s, "audio/x-opus"))
    return "opus";
  gint version = 0;
  if (gst_structure_has_name (s, "audio/mpeg") && gst_structure_get_int (s, "mpegversion", &version)
      && (version == 4 || version == 2))
    return "aac";
  return "";
}

std::string
h264_profile_level_id_of_caps (const GstCaps * caps)
{
  if (!caps || gst_caps_is_empty (caps) || gst_caps_is_any (caps))
    return "";
  const GValue *v = gst_structure_get_value (gst_caps_get_structure (caps, 0), "codec_data");
  if (!v || !GST_VALUE_HOLDS_BUFFER (v))
    return "";
  GstBuffer *buf = gst_value_get_buffer (v);
  GstMapInfo map;
  if (!buf || !gst_buffer_map (buf, &map, GST_MAP_READ))
    return "";
  /* avcC: configurationVersion 1, then the three bytes */
  std::string id = map.size >= 4 && map.data[0] == 1 ? hex3 (map.data + 1) : "";
  gst_buffer_unmap (buf, &map);
  return id;
}

std::string
h264_profile_level_id_of_annexb (const guint8 * data, gsize size)
{
  for (gsize i = 0; i + 2 < size; i++) {
    if (data[i] != 0 || data[i + 1] != 0 || data[i + 2] != 1)
      continue;
    gsize nal = i + 3;
    if (nal + 3 < size && (data[nal] & 0x1f) == 7)
      return hex3 (data + nal + 1);
    i += 2;
  }
  return "";
}

}  // namespace castline::launcher
