/* castline-launcher: a WHEP viewer's SDP offer (draft-ietf-wish-whep),
 * read before anything is built: which of its m-lines we send on, with
 * which of its payload types. A pure function of its arguments: any
 * thread. */
#pragma once

#include <glib.h>

#include <string>
#include <vector>

namespace castline::launcher {

/* What a stream can send its WebRTC viewers now: the publisher's codecs
 * as they reach viewers ("" for a kind it has not, or not yet).
 * video: "h264", "vp8" or "vp9"; audio: "opus" (AAC is sent as Opus). */
struct WhepMedia {
  std::string video;
  std::string audio;
  /* H.264 only: the stream's profile-level-id as 6 hex digits (from its
   * SPS, "" while unknown); the offer's H.264 format closest to it is
   * chosen (same profile, else constrained baseline, else any with
   * packetization-mode=1) */
  std::string h264_profile_level_id;
};

/* One m-line we send on. */
struct WhepTrack {
  guint mline = 0;
  std::string kind;                    /* "video" or "audio" */
  std::string codec;                   /* as in WhepMedia */
  int pt = -1;                         /* the offer's payload type for it */
  /* the SSRC we send it with (WebRtcMedia::add_branch; 0 until known) */
  guint ssrc = 0;
  /* that format's caps as the offer gives them (application/x-rtp with
   * encoding-name, clock-rate, payload, fmtp fields, rtcp-fb-*), text */
  std::string caps;
};

struct WhepOfferInfo {
  std::vector<WhepTrack> tracks;       /* at most one video and one audio */
  guint mlines = 0;                    /* every m-line of the offer */
  std::vector<std::string> mids;       /* one per m-line ("" where none) */
  std::string ice_ufrag;               /* the offer's first */
};

/* the most m-lines a WHEP offer may have (the others are answered
 * inactive) */
constexpr guint kMaxWhepMLines = 16;

/* Reads an offer against what the stream sends. false, the HTTP status
 * and the reason, for a person: 400 when it is not SDP, has no m-line or
 * more than kMaxWhepMLines, lacks ice-ufrag / ice-pwd / a DTLS
 * fingerprint, or has no audio/video m-line that receives (recvonly or
 * sendrecv); 406 when no m-line that receives takes a codec the stream
 * sends. */
bool inspect_whep_offer (const std::string & sdp, const WhepMedia & media, WhepOfferInfo & info,
    unsigned & status, std::string & error);

}  // namespace castline::launcher
