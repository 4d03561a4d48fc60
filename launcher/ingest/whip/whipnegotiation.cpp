#include "ingest/whip/whipnegotiation.h"

#include "ingest/whip/whipdebug.h"
#include "ingest/whip/whipoffer.h"
#include "webrtc/negotiation.h"

#include <gst/webrtc/webrtc.h>

#include <algorithm>
#include <cstdlib>
#include <utility>

namespace castline::launcher::whip {

using namespace webrtc;

namespace {

/* codec-preferences of a receiving transceiver, one structure per codec */
GstCaps *
preferences (const std::string & kind, const std::vector<std::string> & codecs)
{
  GstCaps *caps = gst_caps_new_empty ();
  for (auto & c : codecs) {
    g_autofree gchar *enc = g_ascii_strup (c.c_str (), -1);
    gst_caps_append_structure (caps, gst_structure_new ("application/x-rtp",
            "media", G_TYPE_STRING, kind.c_str (), "encoding-name", G_TYPE_STRING, enc,
            "clock-rate", G_TYPE_INT, kind == "audio" ? 48000 : 90000, nullptr));
  }
  return caps;
}

}  // namespace

void
start_negotiation (const StatePtr & st, const std::string & offer, unsigned timeout_ms,
    std::function<void (unsigned, std::string)> done)
{
  GstElement *webrtc = nullptr;
  SdpMessagePtr msg = begin_negotiation (st, offer, timeout_ms, std::move (done), webrtc);
  if (!msg)
    return;
  std::vector<std::string> allowed_video, allowed_audio;
  {
    std::lock_guard<std::mutex> lk (st->lock);
    allowed_video = st->allowed_video;
    allowed_audio = st->allowed_audio;
  }

  /* One receive-only transceiver per m-line, in order, so webrtcbin pairs
   * them up and answers recvonly with the codecs we take (by default it
   * would copy the offer's direction and take every codec). An m-line with
   * nothing for us gets an inactive one that matches its own codecs. */
  for (guint i = 0; i < gst_sdp_message_medias_len (msg.get ()); i++) {
    const GstSDPMedia *media = gst_sdp_message_get_media (msg.get (), i);
    std::string kind = lower (gst_sdp_media_get_media (media));
    if (kind != "video" && kind != "audio")
      continue;
    GstWebRTCRTPTransceiverDirection dir = GST_WEBRTC_RTP_TRANSCEIVER_DIRECTION_RECVONLY;
    std::vector<std::string> codecs = takeable_codecs (media);
    const auto & allowed = kind == "video" ? allowed_video : allowed_audio;
    if (!allowed.empty ())
      codecs.erase (std::remove_if (codecs.begin (), codecs.end (), [&allowed] (auto & c) {
            return std::find (allowed.begin (), allowed.end (), c) == allowed.end ();
          }), codecs.end ());
    GstCaps *caps;
    if (!codecs.empty ()) {
      caps = preferences (kind, codecs);
    } else {
      dir = GST_WEBRTC_RTP_TRANSCEIVER_DIRECTION_INACTIVE;
      caps = gst_caps_new_empty ();
      for (guint f = 0; f < gst_sdp_media_formats_len (media); f++) {
        GstCaps *c = rtp_caps (media, atoi (gst_sdp_media_get_format (media, f)));
        if (c)
          gst_caps_append (caps, c);
      }
      GST_INFO ("m-line %u (%s) has no codec we take: answered inactive", i, kind.c_str ());
    }
    GstWebRTCRTPTransceiver *trans = nullptr;
    g_signal_emit_by_name (webrtc, "add-transceiver", dir,
        gst_caps_is_empty (caps) ? nullptr : caps, &trans);
    gst_caps_unref (caps);
    if (trans) {
      if (kind == "video" && dir == GST_WEBRTC_RTP_TRANSCEIVER_DIRECTION_RECVONLY)
        g_object_set (trans, "do-nack", TRUE, nullptr);
      gst_object_unref (trans);
    }
  }

  gst_object_unref (webrtc);
  apply_offer (st, std::move (msg));
}

}  // namespace castline::launcher::whip
