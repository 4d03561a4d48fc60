#include "hls/abrladder.h"

#include "streams/elementnames.h"

#include <algorithm>
#include <cmath>
#include <set>

namespace castline::launcher {

namespace {

/* a whole GOP must fit before an HLS sink, or splitmuxsink can deadlock */
constexpr const char *kVideoQueue = "queue max-size-time=0 max-size-buffers=0 max-size-bytes=67108864";
constexpr const char *kAudioQueue = "queue max-size-time=0 max-size-buffers=0 max-size-bytes=16777216";

unsigned
even (double v)
{
  long n = std::lround (v / 2.0) * 2;
  return n < 2 ? 2 : (unsigned) n;
}

}  // namespace

std::vector<Rung>
default_ladder ()
{
  return { { "1080p", 1080, 3000, 128 }, { "720p", 720, 1500, 96 }, { "480p", 480, 800, 64 },
    { "360p", 360, 400, 64 } };
}

bool
valid_rung_name (const std::string & name)
{
  if (name.empty () || name.size () > 32)
    return false;
  for (char c : name)
    if (!g_ascii_isalnum (c) && c != '_' && c != '-')
      return false;
  return true;
}

bool
validate_ladder (const std::vector<Rung> & ladder, std::string & error)
{
  if (ladder.empty () || ladder.size () > 8) {
    error = "must hold 1 to 8 rungs";
    return false;
  }
  std::set<std::string> names;
  std::set<unsigned> heights;
  for (size_t i = 0; i < ladder.size (); i++) {
    const Rung & r = ladder[i];
    std::string where = "rung " + std::to_string (i) + ": ";
    if (!valid_rung_name (r.name))
      error = where + "name must be 1 to 32 of [A-Za-z0-9_-]";
    else if (!names.insert (r.name).second)
      error = where + "name '" + r.name + "' given twice";
    else if (r.height < 144 || r.height > 4320)
      error = where + "height must be between 144 and 4320";
    else if (!heights.insert (r.height).second)
      error = where + "height " + std::to_string (r.height) + " given twice";
    else if (r.video_bitrate < 50 || r.video_bitrate > 50000)
      error = where + "video_bitrate must be between 50 and 50000 (kb/s)";
    else if (r.audio_bitrate < 16 || r.audio_bitrate > 512)
      error = where + "audio_bitrate must be between 16 and 512 (kb/s)";
    if (!error.empty ())
      return false;
  }
  return true;
}

std::vector<RungPlan>
select_rungs (const std::vector<Rung> & ladder, unsigned in_width, unsigned in_height, int par_n,
    int par_d, bool passthrough_top)
{
  std::vector<RungPlan> plans;
  if (ladder.empty () || in_width == 0 || in_height == 0)
    return plans;
  std::vector<Rung> sorted = ladder;
  std::sort (sorted.begin (), sorted.end (),
      [] (const Rung & a, const Rung & b) { return a.height > b.height; });
  for (const Rung & r : sorted)
    if (r.height <= in_height)
      plans.push_back ({ r, 0, 0, false, false });
  if (plans.empty ())
    plans.push_back ({ sorted.back (), 0, 0, false, false });   /* smaller than every rung */
  for (RungPlan & p : plans)
    rung_size_for_input (p.rung, in_width, in_height, par_n, par_d, p.width, p.height);
  plans.front ().top = true;
  if (passthrough_top) {
    plans.front ().passthrough = true;
    plans.front ().width = in_width;
    plans.front ().height = in_height;
  }
  return plans;
}

void
rung_size_for_input (const Rung & rung, unsigned in_width, unsigned in_height, int par_n,
    int par_d, unsigned & width, unsigned & height)
{
  double par = par_n > 0 && par_d > 0 ? (double) par_n / par_d : 1.0;
  double aspect = in_height ? in_width * par / in_height : 1.0;   /* display aspect ratio */
  unsigned own = in_height >= 2 ? in_height / 2 * 2 : 2;
  height = std::min (rung.height, own);
  width = even (height * aspect);
}

RungGraph
rung_graph (const RungPlan & p, unsigned gop_frames)
{
  RungGraph g;
  std::string video_stats = p.top ? std::string (" ! viewerstats name=") + names::kVideoStats : "";
  std::string audio_stats = p.top ? std::string (" ! viewerstats name=") + names::kAudioStats : "";
  if (p.passthrough) {
    g.video = std::string (kVideoQueue) + video_stats;
  } else {
    /* no scene cuts: x264 makes keyframes only where they are forced (or
     * every gop_frames), the same in every rung, so that every rung's
     * segment N starts at the same frame */
    g.video = "queue ! videoscale ! videoconvert ! video/x-raw,format=I420,width="
        + std::to_string (p.width) + ",height=" + std::to_string (p.height)
        + ",pixel-aspect-ratio=1/1"
        + " ! x264enc speed-preset=veryfast tune=zerolatency bitrate="
        + std::to_string (p.rung.video_bitrate)
        + " key-int-max=0 option-string=scenecut=0:keyint="
        + (gop_frames ? std::to_string (gop_frames) : std::string ("infinite"))
        + " ! video/x-h264,profile=main"
        + " ! h264parse config-interval=-1 ! video/x-h264,stream-format=byte-stream,alignment=au"
        + video_stats + " ! " + kVideoQueue;
  }
  g.audio = "queue ! avenc_aac bitrate=" + std::to_string (p.rung.audio_bitrate * 1000)
      + " ! aacparse" + audio_stats + " ! " + kAudioQueue;
  return g;
}

std::string
rung_sink_name (const Rung & r)
{
  return "out_" + r.name;
}

std::string
ladder_graph (const std::vector<RungPlan> & plans, bool audio, unsigned gop_frames,
    const std::function<std::string (const RungPlan &)> & sink)
{
  std::string out;
  for (const RungPlan & p : plans) {
    RungGraph g = rung_graph (p, gop_frames);
    std::string name = rung_sink_name (p.rung);
    const char *tee = p.passthrough ? names::kVideoSrcTee : names::kVideoRawTee;
    out += std::string (out.empty () ? "" : " ") + tee + ". ! " + g.video + " ! " + name + ".video";
    if (audio)
      out += std::string (" ") + names::kAudioRawTee + ". ! " + g.audio + " ! " + name + ".audio";
    out += " " + sink (p);
  }
  return out;
}

std::string
video_parse_for (const std::string & codec)
{
  if (codec == "h264")
    return "h264parse config-interval=-1 ! video/x-h264,stream-format=byte-stream,alignment=au";
  return "identity";
}

std::string
video_decode_for (const std::string & codec)
{
  /* named, not decodebin: Chromium's WebM VP8/VP9 carries AlphaMode, for
   * which decodebin picks a decoder that fails */
  if (codec == "vp8")
    return "vp8dec";
  if (codec == "vp9")
    return "vp9dec";
  return "avdec_h264";
}

std::string
audio_decode_for (const std::string & codec)
{
  if (codec == "aac")
    return "avdec_aac";
  return "opusdec plc=true";
}

std::string
audio_to_aac_for (const std::string & codec)
{
  if (codec == "aac")
    return "aacparse";
  return audio_decode_for (codec)
      + " ! audioconvert ! audioresample ! avenc_aac bitrate=128000 ! aacparse";
}

std::string
avc1_codec_from_byte_stream (const guint8 * data, gsize size)
{
  for (gsize i = 0; i + 6 < size; i++) {
    if (data[i] != 0 || data[i + 1] != 0 || data[i + 2] != 1)
      continue;
    if ((data[i + 3] & 0x1f) == 7) {
      char s[16];
      g_snprintf (s, sizeof s, "avc1.%02x%02x%02x", data[i + 4], data[i + 5], data[i + 6]);
      return s;
    }
  }
  return "";
}

guint64
rung_average_bandwidth (const Rung & r, bool audio)
{
  guint64 bits = (guint64) (r.video_bitrate + (audio ? r.audio_bitrate : 0)) * 1000;
  return bits * 11 / 10;
}

guint64
rung_peak_bandwidth (const Rung & r, bool audio)
{
  return rung_average_bandwidth (r, audio) * 5 / 4;
}

std::string
render_master_playlist (const std::vector<Variant> & variants)
{
  /* hlssink2 starts every segment at a keyframe */
  std::string m = "#EXTM3U\n#EXT-X-VERSION:3\n#EXT-X-INDEPENDENT-SEGMENTS\n";
  for (const Variant & v : variants) {
    std::string codecs = v.video_codec + (v.audio ? ",mp4a.40.2" : "");
    m += "#EXT-X-STREAM-INF:BANDWIDTH=" + std::to_string (rung_peak_bandwidth (v.plan.rung, v.audio))
        + ",AVERAGE-BANDWIDTH=" + std::to_string (rung_average_bandwidth (v.plan.rung, v.audio))
        + ",RESOLUTION=" + std::to_string (v.plan.width) + "x" + std::to_string (v.plan.height)
        + ",CODECS=\"" + codecs + "\"";
    if (v.fps_n > 0 && v.fps_d > 0) {
      char fps[32];
      g_ascii_formatd (fps, sizeof fps, "%.3f", (double) v.fps_n / v.fps_d);
      m += std::string (",FRAME-RATE=") + fps;
    }
    m += "\n" + v.plan.rung.name + "/index.m3u8\n";
  }
  return m;
}

}  // namespace castline::launcher
