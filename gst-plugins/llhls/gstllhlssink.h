/* castline: llhlssink, Low-Latency HLS (Apple's HLS 2nd edition, RFC
 * 8216bis) in CMAF: an init segment, fMP4 segments that each start at a
 * keyframe, and parts of about part-target seconds.
 *
 *   gst-launch-1.0 videotestsrc is-live=true ! x264enc tune=zerolatency key-int-max=60
 *     ! h264parse ! llhlssink name=out location=/tmp/ll/segment%05d.m4s
 *       init-location=/tmp/ll/init.mp4 playlist-location=/tmp/ll/index.m3u8
 *     audiotestsrc is-live=true ! avenc_aac ! aacparse ! out.audio
 *
 * A GstBin, like hlssink2: request pads "video" (H.264, byte-stream or avc,
 * a parser inside makes it avc/au) and "audio" (AAC, raw with codec_data, or
 * ADTS through the aacparse inside). One of each at most; either alone works
 * (audio-only: audio frames drive the cuts). With both pads, the first
 * segment waits for both tracks' caps (up to 10 s of either track's
 * samples, which are kept and cut as if they had not waited), so that
 * how the two streaming threads are scheduled does not change the output;
 * a track whose caps come later joins at the next keyframe with a new init.
 *
 * Cutting (on the video timeline, or the audio's when there is no video):
 *  - a part closes before the sample that would make it longer than
 *    part-target; a part never exceeds part-target by more than one frame's
 *    jitter;
 *  - a segment closes at a keyframe, so each segment starts with one and
 *    its first part is INDEPENDENT. With segment-cuts=auto (the default):
 *    at the first keyframe at or after target-duration (with
 *    send-keyframe-requests, a keyframe is asked upstream there), or at one
 *    that comes a little early (from 90 % of target-duration) when the
 *    next, a GOP as long as the last later, would be more than a tenth
 *    late (a publisher asked for keyframes a little under each segment
 *    gets one GOP a segment, not two; audio and all-intra video still fill
 *    the target); EXT-X-TARGETDURATION rounds up the target and is never
 *    below the longest segment rounded, when keyframes are rarer;
 *    audio that outlasts an ended video stays in the video's last
 *    segment (hls.js stalls on a segment without a track its init names)
 *    until that segment holds 10 s, then gets segments of its own;
 *  - split-at-running-time (below) closes a segment too; with
 *    segment-cuts=external it is the only thing that does (and a caps
 *    change): sinks told the same times cut at the same keyframes, as
 *    splitmuxsinks with max-size-time 0 do;
 *  - each part is one moof+mdat (a traf per track, whatever samples each
 *    track delivered since the last cut; a cut is made once the other
 *    track has delivered up to it, ended, or lags more than 10 s; the
 *    first init waits, bounded, for every pad's caps),
 *    and a segment is the concatenation of its parts.
 *
 * Properties (all read at READY->PAUSED but the keyframe switch):
 *   location (segment%05d.m4s), init-location (init.mp4),
 *   playlist-location (playlist.m3u8): files written, as hlssink2; NULL or ""
 *     for any of them: that kind is not written to disk (the signals still
 *     come). Part files are named from the segment's:
 *     "<segment name without .m4s>.<part>.m4s" (segment00042.3.m4s), and
 *     written only with write-parts (default true: a plain file server can
 *     then serve the playlist's parts).
 *   playlist-uri-prefix: put before every URI in the playlists ("").
 *   target-duration (2 s), part-target (0.3 s, 0.1 to 2.0),
 *   playlist-length (segments the playlist names, 6), max-files (segment
 *     files kept on disk, 10; 0 keeps them all, as a recording needs),
 *   segment-cuts (auto; external: segments close only where
 *     split-at-running-time asks, and no keyframe requests are made),
 *   send-keyframe-requests (true), program-date-time (true: an
 *     EXT-X-PROGRAM-DATE-TIME before every segment, from the running time
 *     its first sample has and the pipeline clock's offset to real time).
 *
 * The playlist (version 9): EXT-X-TARGETDURATION, EXT-X-SERVER-CONTROL:
 * CAN-BLOCK-RELOAD=YES,PART-HOLD-BACK=<3 x part-target>,CAN-SKIP-UNTIL=
 * <6 x target-duration>, EXT-X-PART-INF:PART-TARGET, EXT-X-MEDIA-SEQUENCE,
 * EXT-X-MAP:URI="init.mp4", per segment PROGRAM-DATE-TIME + EXTINF + URI,
 * EXT-X-PART lines (DURATION, URI, INDEPENDENT=YES where a part starts with
 * a keyframe) for the segments of the last 3 target durations and the one
 * being written, then EXT-X-PRELOAD-HINT:TYPE=PART for the next part. On
 * EOS: the last part and segment are closed and EXT-X-ENDLIST added (no
 * preload hint then). The delta playlist (for _HLS_skip=YES) is the same
 * with EXT-X-SKIP:SKIPPED-SEGMENTS=n in place of the first n segments that
 * lie wholly before CAN-SKIP-UNTIL from the playlist's end.
 *
 * Signals, all emitted on the streaming thread that made the cut, in this
 * order, with the element's lock NOT held (a handler may take its time, but
 * should not block):
 *   "init-ready" (GBytes *init): once, before the first part (and again if
 *     the caps change: the next segment then starts with the new init and
 *     an EXT-X-DISCONTINUITY; its name is init<N>.mp4 for N >= 1).
 *   "part-ready" (guint64 msn, guint part, GBytes *data, gboolean independent,
 *     gdouble duration, const gchar *uri): part `part` (0, 1, ...) of
 *     segment msn (its media sequence number, counted from 0) is complete.
 *   "segment-ready" (guint64 msn, gdouble duration, const gchar *uri):
 *     segment msn is complete (its parts all came before).
 *   "playlist-ready" (const gchar *playlist, const gchar *delta_playlist,
 *     guint64 msn, guint part, gboolean ended): the playlist after the part
 *     just announced (msn, part), the delta playlist (NULL while nothing
 *     can be skipped), and ended (EOS: the last playlist, with ENDLIST).
 *   "delete-fragment" (const gchar *uri, guint64 msn): segment msn left
 *     the playlist (its parts with it): memory holding it may let go.
 * Action signal (any thread, even before the element starts; it never
 * waits for the streaming thread):
 *   "split-at-running-time" (guint64 rt): as splitmuxsink's, the open
 *     segment closes before the first keyframe of the driving track whose
 *     presentation running time is at or after rt; a time at or before
 *     the open segment's start, or before one asked for earlier, is
 *     ignored; at most 64 wait for their keyframe (the oldest go).
 * Each segment also posts splitmuxsink's element messages from inside
 * the bin, so code that follows hlssink2's segments follows these:
 * "splitmuxsink-fragment-opened" and "splitmuxsink-fragment-closed", with
 * "location" (the segment's file name, or its URI when not written) and
 * "running-time" (guint64), opened at a segment's first sample, closed
 * when it is complete.
 */
#pragma once

#include <gst/gst.h>

G_BEGIN_DECLS

#define GST_TYPE_LLHLS_SINK (gst_llhls_sink_get_type ())
G_DECLARE_FINAL_TYPE (GstLlHlsSink, gst_llhls_sink, GST, LLHLS_SINK, GstBin)

G_END_DECLS
