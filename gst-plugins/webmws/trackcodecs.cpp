#include "webmws/trackcodecs.h"

#include <glib.h>

#include <algorithm>

namespace castline::webmws {

namespace {

constexpr uint64_t kTrackVideo = 1;
constexpr uint64_t kTrackAudio = 2;

bool
starts_with (const std::string & s, const char *prefix)
{
  return g_str_has_prefix (s.c_str (), prefix);
}

bool
is_video_codec (const std::string & codec)
{
  return codec == "vp8" || codec == "vp9" || codec == "h264" || codec == "av1" || codec == "h265";
}

bool
contains (const std::vector<std::string> & v, const std::string & s)
{
  return std::find (v.begin (), v.end (), s) != v.end ();
}

std::string
join (const std::vector<std::string> & v)
{
  std::string s;
  for (auto & x : v)
    s += (s.empty () ? "" : ",") + x;
  return s;
}

/* a CodecID from the network, for a reason or a log: printable ASCII */
std::string
printable (const std::string & s, size_t max)
{
  std::string out = s.substr (0, max);
  for (char & c : out)
    if (c < 0x20 || c > 0x7e)
      c = '?';
  return out;
}

}  // namespace

std::string
codec_of_codec_id (const std::string & id)
{
  if (id == "V_VP8")
    return "vp8";
  if (id == "V_VP9")
    return "vp9";
  if (id == "V_MPEG4/ISO/AVC")
    return "h264";
  if (id == "V_AV1")
    return "av1";
  if (id == "V_MPEGH/ISO/HEVC")
    return "h265";
  if (id == "A_OPUS")
    return "opus";
  if (id == "A_VORBIS")
    return "vorbis";
  if (starts_with (id, "A_AAC"))
    return "aac";
  return "";
}

std::string
codec_of_mime_codec (const std::string & c)
{
  g_autofree gchar *lower = g_ascii_strdown (c.c_str (), -1);
  std::string s = lower;
  if (s == "vp8" || s == "vp8.0")
    return "vp8";
  if (s == "vp9" || starts_with (s, "vp09."))
    return "vp9";
  if (s == "h264" || s == "avc1" || starts_with (s, "avc1.") || s == "avc3"
      || starts_with (s, "avc3."))
    return "h264";
  if (s == "av1" || s == "av01" || starts_with (s, "av01."))
    return "av1";
  if (s == "h265" || s == "hevc" || starts_with (s, "hev1") || starts_with (s, "hvc1"))
    return "h265";
  if (s == "opus")
    return "opus";
  if (s == "vorbis")
    return "vorbis";
  if (s == "aac" || starts_with (s, "mp4a"))
    return "aac";
  return "";
}

RecordingCodecs
codecs_of_tracks (const std::vector<TrackInfo> & tracks)
{
  RecordingCodecs r;
  for (const TrackInfo & t : tracks) {
    if (t.type != kTrackVideo && t.type != kTrackAudio)
      continue;
    std::string name = codec_of_codec_id (t.codec_id);
    if (name.empty ())
      name = t.codec_id.empty () ? "no CodecID" : printable (t.codec_id, 40);
    (t.type == kTrackVideo ? r.video : r.audio).push_back (name);
  }
  return r;
}

std::string
mime_type_contradiction (const MimeType & mime, const std::vector<TrackInfo> & tracks)
{
  RecordingCodecs rec = codecs_of_tracks (tracks);
  if (starts_with (mime.media_type, "audio/") && !rec.video.empty ())
    return "mimeType " + mime.media_type + " is audio only but the recording has " + rec.video[0]
        + " video";

  /* what the mimeType lists, by kind; an unknown codec is named as sent */
  std::vector<std::string> video, audio;
  g_auto (GStrv) parts = g_strsplit (mime.codecs.c_str (), ",", -1);
  for (char **p = parts; *p; p++) {
    g_autofree gchar *trimmed = g_strstrip (g_strdup (*p));
    std::string sent = trimmed;
    if (sent.empty ())
      continue;
    std::string name = codec_of_mime_codec (sent);
    if (name.empty ())
      return "mimeType codec '" + printable (sent, 32) + "' is unknown";
    (is_video_codec (name) ? video : audio).push_back (name);
  }
  struct Kind {
    const char *what;
    const std::vector<std::string> & said;
    const std::vector<std::string> & held;
  } kinds[] = { { "video", video, rec.video }, { "audio", audio, rec.audio } };
  for (const Kind & k : kinds) {
    if (k.said.empty ())
      continue;
    for (const std::string & h : k.held)
      if (!contains (k.said, h))
        return "mimeType says " + std::string (k.what) + " " + join (k.said)
            + " but the recording's " + k.what + " is " + h;
    for (const std::string & s : k.said)
      if (!contains (k.held, s))
        return "mimeType says " + std::string (k.what) + " " + s + " but the recording has "
            + (k.held.empty () ? std::string ("no ") + k.what : join (k.held).substr (0, 40));
  }
  return "";
}

}  // namespace castline::webmws
