/* castline rtmp: FLV, the container rtmpserversrc outputs and the codec
 * ids RTMP media messages carry (the FLV tag body format, legacy and
 * Enhanced RTMP). flv_header, flv_tag, flv_video_codec, flv_audio_codec and
 * flv_is_sequence_header are declared in rtmpsession.h; this adds what the
 * session needs to read onMetaData. */
#pragma once

#include "rtmp/rtmpsession.h"

#include <string>

namespace castline::rtmp {

/* onMetaData's videocodecid / audiocodecid: a legacy FLV codec id (7, 10,
 * ...) or an Enhanced RTMP FourCC as a number ('hvc1' = 0x68766331); ""
 * when unknown. */
std::string flv_video_codec_from_id (double id);
std::string flv_audio_codec_from_id (double id);
/* the same for a FourCC or codec name given as a string ("avc1", "hvc1") */
std::string flv_codec_from_fourcc (const std::string & fourcc);

}  // namespace castline::rtmp
