/* castline: the codecs of a WebM/Matroska recording, in castline's names.
 *
 * The recording's header says what it holds (each track's CodecID:
 * V_VP8, V_VP9, V_MPEG4/ISO/AVC, A_OPUS...); a MediaRecorder mimeType
 * ("video/webm;codecs=vp8,opus") only says what the publisher believes it
 * sends. Both are named here the same way ("vp8", "vp9", "h264", "av1",
 * "h265", "opus", "aac", "vorbis") so that they can be compared and a
 * pipeline chosen from the header. Input from the network: names are
 * bounded (the header reader keeps a CodecID to 64 bytes) and only
 * compared, never parsed further.
 */
#pragma once

#include "webmws/controlmessage.h"
#include "webmws/ebmlheader.h"

#include <string>
#include <vector>

namespace castline::webmws {

/* A track's codec in castline's name, or "" for a CodecID castline does
 * not know. */
std::string codec_of_codec_id (const std::string & codec_id);

/* A mimeType's codec ("vp8", "vp09.00.10.08", "avc1.42E01E", "opus") in
 * castline's name, or "" for one castline does not know. */
std::string codec_of_mime_codec (const std::string & codec);

/* What the recording holds, by kind, in track order: castline's codec
 * names, or the CodecID itself for a codec castline does not know (so a
 * refusal can name it). Tracks other than audio and video are left out. */
struct RecordingCodecs {
  std::vector<std::string> video;
  std::vector<std::string> audio;
};
RecordingCodecs codecs_of_tracks (const std::vector<TrackInfo> & tracks);

/* "" when a declared mimeType agrees with the recording's tracks, else a
 * short reason naming the difference (for a close frame): an audio/ type
 * for a recording with video, or codecs listed for a kind that the
 * recording holds in another codec. Codecs of a kind the mimeType does
 * not list are not compared. */
std::string mime_type_contradiction (const MimeType & mime, const std::vector<TrackInfo> & tracks);

}  // namespace castline::webmws
