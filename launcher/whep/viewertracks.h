/* castline-launcher, private to WhepViewer: a track's source (a branch of
 * the stream's shared RTP, already payloaded with the offer's payload
 * type) linked to a send-only transceiver of the viewer's webrtcbin on the
 * track's m-line.
 *
 * The recipe, as webrtcbin 1.22 takes it: request the pad "sink_<mline>"
 * (its transceiver is bound to that m-line before the offer is applied),
 * set the transceiver SENDONLY with codec-preferences = the offer's caps
 * for the chosen payload type (and do-nack when the offer has nack
 * feedback), then link. m-lines without a track get an INACTIVE
 * transceiver with their own formats, added in m-line order. */
#pragma once

#include "whep/whepoffer.h"
#include "whep/whepviewerstate.h"

#include <gst/gst.h>
#include <gst/sdp/sdp.h>

#include <string>

namespace castline::launcher::whep {

/* Links `source` to the transceiver of track's m-line; the link and the
 * probe we put on `source` in `out`. false and the reason when webrtcbin
 * gives no pad or refuses the link. Main context, before the offer is
 * applied. */
bool link_track (GstElement * webrtc, const WhepTrack & track, GstPad * source,
    WhepViewerState::Source & out, std::string & error);

/* An inactive transceiver for an m-line we send nothing on. Main context,
 * before the offer is applied. */
void add_inactive (GstElement * webrtc, const GstSDPMedia * media);

/* Removes our probe from a source, unlinks it and drops our ref. Main
 * context, after the webrtcbin stopped. */
void unlink_track (WhepViewerState::Source & source);

}  // namespace castline::launcher::whep
