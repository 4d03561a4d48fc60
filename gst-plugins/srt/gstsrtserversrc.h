/* castline srt: srtserversrc, an SRT server source for many callers on one
 * port (see the element's documentation in gstsrtserversrc.cpp). Its
 * factory is "srtingestsrc": GStreamer's srt plugin has "srtserversrc"
 * already (a deprecated name of srtsrc in listener mode), and of two
 * factories of one name the one registered last wins. The messages keep
 * their names.
 *
 * Its contract with the launcher (launcher/ingest/srt/srtingest.cpp):
 *   properties  port (-1: no listener of its own), idle-timeout (s),
 *               stats (GstStructure "srt-stats", read-only: LinkStats'
 *               fields as rtt-ms, receive-rate-mbps, bandwidth-mbps,
 *               latency-ms, packets-received, packets-lost,
 *               packets-retransmitted, packets-dropped,
 *               packets-undecrypted, bytes-received, ts-resyncs,
 *               remote-address; an empty structure with no caller)
 *   signals     add-caller (gint socket, GBytes *replay, const gchar
 *               *remote_address) -> gboolean: takes the socket (TRUE) or
 *               leaves it to the caller of the signal (FALSE: a caller is
 *               already there, or the element is not running);
 *               end-caller (const gchar *reason): closes the caller, the
 *               stream ends (EOS)
 *   messages    srtserversrc-caller-connected (remote-address);
 *               srtserversrc-caller-disconnected (remote-address, reason:
 *               "closed", "timeout", "not-ts" or "ended", description) */
#pragma once

#include <gst/base/gstpushsrc.h>

G_BEGIN_DECLS

#define GST_TYPE_SRT_SERVER_SRC (gst_srt_server_src_get_type ())
G_DECLARE_FINAL_TYPE (GstSrtServerSrc, gst_srt_server_src, GST, SRT_SERVER_SRC, GstPushSrc)

G_END_DECLS
