#include "webrtc/sdputil.h"

#include <cstdlib>

namespace castline::launcher::webrtc {

SdpMessagePtr
parse_sdp (const std::string & text)
{
  if (text.empty ())
    return nullptr;
  GstSDPMessage *msg = nullptr;
  gst_sdp_message_new (&msg);
  SdpMessagePtr ret (msg);
  if (gst_sdp_message_parse_buffer (reinterpret_cast<const guint8 *> (text.data ()),
          text.size (), msg) != GST_SDP_OK || !gst_sdp_message_get_version (msg))
    return nullptr;
  return ret;
}

std::string
lower (const char *s)
{
  g_autofree gchar *l = g_ascii_strdown (s ? s : "", -1);
  return l;
}

std::string
direction (const GstSDPMessage * msg, const GstSDPMedia * media)
{
  static const char *const dirs[] = { "sendrecv", "sendonly", "recvonly", "inactive" };
  for (guint i = 0; i < gst_sdp_media_attributes_len (media); i++) {
    const GstSDPAttribute *a = gst_sdp_media_get_attribute (media, i);
    for (const char *d : dirs)
      if (g_strcmp0 (a->key, d) == 0)
        return d;
  }
  for (guint i = 0; i < gst_sdp_message_attributes_len (msg); i++) {
    const GstSDPAttribute *a = gst_sdp_message_get_attribute (msg, i);
    for (const char *d : dirs)
      if (g_strcmp0 (a->key, d) == 0)
        return d;
  }
  return "sendrecv";
}

std::string
encoding (const GstSDPMedia * media, const char *fmt, int *clock_rate)
{
  for (guint i = 0; i < gst_sdp_media_attributes_len (media); i++) {
    const GstSDPAttribute *a = gst_sdp_media_get_attribute (media, i);
    if (g_strcmp0 (a->key, "rtpmap") != 0 || !a->value)
      continue;
    std::string v = a->value;
    size_t space = v.find (' ');
    if (space == std::string::npos || v.compare (0, space, fmt) != 0)
      continue;
    size_t slash = v.find ('/', space);
    if (clock_rate)
      *clock_rate = slash == std::string::npos ? 0 : atoi (v.c_str () + slash + 1);
    return lower (v.substr (space + 1, slash - space - 1).c_str ());
  }
  return "";
}

GstCaps *
rtp_caps (const GstSDPMedia * media, int pt)
{
  GstCaps *caps = gst_sdp_media_get_caps_from_media (media, pt);
  if (!caps)
    return nullptr;
  caps = gst_caps_make_writable (caps);
  /* it names them application/x-unknown */
  for (guint k = 0; k < gst_caps_get_size (caps); k++)
    gst_structure_set_name (gst_caps_get_structure (caps, k), "application/x-rtp");
  return caps;
}

bool
disabled (const GstSDPMedia * media)
{
  return gst_sdp_media_get_port (media) == 0
      && !gst_sdp_media_get_attribute_val (media, "bundle-only");
}

namespace {

bool
has_attribute (const GstSDPMessage * msg, const GstSDPMedia * media, const char *key)
{
  const char *v = gst_sdp_media_get_attribute_val (media, key);
  if (!v || !*v)
    v = gst_sdp_message_get_attribute_val (msg, key);
  return v && *v;
}

/* false and the reason when m-line `index` lacks ice-ufrag, ice-pwd or a
 * DTLS fingerprint (on the m-line or the session) */
bool
has_credentials (const GstSDPMessage * msg, guint index, std::string & error)
{
  const GstSDPMedia *media = gst_sdp_message_get_media (msg, index);
  std::string where = "m-line " + std::to_string (index) + " ("
      + lower (gst_sdp_media_get_media (media)) + ")";
  if (!has_attribute (msg, media, "ice-ufrag") || !has_attribute (msg, media, "ice-pwd")) {
    error = where + " has no ice-ufrag or ice-pwd";
    return false;
  }
  if (!has_attribute (msg, media, "fingerprint")) {
    error = where + " has no DTLS fingerprint";
    return false;
  }
  return true;
}

}  // namespace

SdpMessagePtr
parse_offer (const std::string & text, guint max_mlines, std::string & error)
{
  SdpMessagePtr msg = parse_sdp (text);
  if (!msg) {
    error = "the offer is not SDP";
    return nullptr;
  }
  guint n = gst_sdp_message_medias_len (msg.get ());
  if (n == 0) {
    error = "the offer has no m-line";
    return nullptr;
  }
  if (n > max_mlines) {
    error = "the offer has " + std::to_string (n) + " m-lines, over "
        + std::to_string (max_mlines);
    return nullptr;
  }
  for (guint i = 0; i < n; i++)
    if (!has_credentials (msg.get (), i, error))
      return nullptr;
  return msg;
}

}  // namespace castline::launcher::webrtc
