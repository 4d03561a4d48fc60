#include "whep/webrtcmedia.h"

#include "streams/elementfactory.h"
#include "whep/flowguard.h"
#include "whep/tapcodec.h"

#include <gst/video/video.h>

#include <algorithm>
#include <cstring>
#include <map>
#include <mutex>
#include <vector>

GST_DEBUG_CATEGORY (castline_webrtcmedia_debug);
#define GST_CAT_DEFAULT castline_webrtcmedia_debug

namespace castline::launcher {

namespace {

/* every element and bin made here is named with it: an error from one of
 * them is ours, even once it left the pipeline (the problem handler) */
constexpr char kPrefix[] = "webrtcmedia_";

/* a chain's entry: bounded, oldest dropped, so a chain that falls behind
 * never holds the tap (the publisher, the HLS); above a MediaRecorder
 * publisher's 500 ms chunk, which comes in at once */
constexpr guint64 kChainQueueTime = 2 * GST_SECOND;
constexpr guint kChainQueueBytes = 8 * 1024 * 1024;
/* a viewer's branch: 1.5 s of its packets (a MediaRecorder publisher's
 * 500 ms chunk arrives at once: with 500 ms, viewers lost packets of every
 * chunk); the bytes bound only for packets without timestamps, which the
 * time bound cannot see */
constexpr guint64 kBranchQueueTime = 1500 * GST_MSECOND;
constexpr guint kBranchQueueBytes = 2 * 1024 * 1024;
constexpr guint kMtu = 1200;
/* AAC publishers: the stream's one Opus encoder */
constexpr gint kOpusBitrate = 96000;
constexpr char kOpusInput[] = "audio/x-raw,rate=48000,channels=2";
constexpr char kH264Output[] = "video/x-h264,stream-format=byte-stream,alignment=au";

/* one step of a chain: an element by factory, named prefix_kind_role */
struct Step {
  const char *factory;
  const char *role;
};

/* a codec's chain after its entry (a guarded queue) to the tee the
 * payloaders hang off */
std::vector<Step>
chain_steps (const std::string & codec)
{
  if (codec == "h264")
    return { { "h264parse", "parse" }, { "capsfilter", "caps" }, { "tee", "tee" } };
  if (codec == "vp8" || codec == "vp9")
    return { { "tee", "tee" } };
  if (codec == "opus")
    return { { "opusparse", "parse" }, { "tee", "tee" } };
  if (codec == "aac")
    return { { "aacparse", "parse" }, { "avdec_aac", "decode" }, { "audioconvert", "convert" },
      { "audioresample", "resample" }, { "capsfilter", "caps" }, { "opusenc", "encode" },
      { "tee", "tee" } };
  return {};
}

const char *
payloader_for (const std::string & codec)
{
  if (codec == "h264")
    return "rtph264pay";
  if (codec == "vp8")
    return "rtpvp8pay";
  if (codec == "vp9")
    return "rtpvp9pay";
  if (codec == "opus" || codec == "aac")
    return "rtpopuspay";
  return nullptr;
}

/* the codecs each kind's viewers can be sent */
bool
sendable (const std::string & kind, const std::string & codec)
{
  if (kind == "video")
    return codec == "h264" || codec == "vp8" || codec == "vp9";
  if (kind == "audio")
    return codec == "opus" || codec == "aac";
  return false;
}

void
set_caps (GstElement * capsfilter, const char *text)
{
  GstCaps *caps = gst_caps_from_string (text);
  g_object_set (capsfilter, "caps", caps, nullptr);
  gst_caps_unref (caps);
}

/* one payload type's payloader and the tee its viewers' branches hang off */
struct RtpOut {
  GstElement *pay = nullptr;
  GstElement *tee = nullptr;
  guint ssrc = 0;                  /* the payloader's, chosen here */
};

/* a kind's chain: the tap's media parsed (AAC: encoded to Opus) once,
 * payloaded once per payload type. Its elements are in the pipeline
 * itself, where the viewers' webrtcbins are. */
struct Chain {
  std::string codec;
  GstElement *tap = nullptr;       /* ref */
  GstPad *tap_pad = nullptr;       /* ref: the tap's request pad, linked to the entry */
  /* refs, upstream first: the entry (a guarded queue), the parser...,
   * the codec tee, then each payloader and its tee */
  std::vector<GstElement *> elements;
  GstElement *codec_tee = nullptr;
  std::map<int, RtpOut> outs;      /* by payload type */
};

/* one viewer's track: a bin holding its queue */
struct Branch {
  std::string viewer;
  std::string kind;
  GstElement *bin = nullptr;       /* ref; in the pipeline */
  GstElement *tee = nullptr;       /* ref: its payload type's tee, while its chain is there */
  GstPad *tee_pad = nullptr;       /* ref: that tee's request pad, linked to bin */
};

/* what a tap is known to carry */
struct Known {
  std::string codec;               /* webrtc_codec_of its caps */
  std::string profile_level_id;    /* H.264 */
  bool sniffing = false;           /* an SPS probe is on the tap */
  bool failed = false;             /* its chain failed: no more WebRTC for it */
};

}  // namespace

struct WebRtcMediaState {
  ~WebRtcMediaState ()
  {
    if (pipeline)
      gst_object_unref (pipeline);
  }

  StreamPipeline *stream = nullptr;      /* main context only (outlives this) */
  GstBin *pipeline = nullptr;            /* ref */
  WebRtcMedia::Hooks hooks;              /* read-only */

  std::mutex lock;                       /* below: taps' streaming threads, media () */
  std::map<std::string, Known> known;    /* by kind */
  bool alive = true;

  /* main context only */
  std::map<std::string, Chain> chains;   /* by kind */
  std::vector<Branch> branches;
  unsigned next_branch = 0;
};

namespace {

using StatePtr = std::shared_ptr<WebRtcMediaState>;
using WeakState = std::weak_ptr<WebRtcMediaState>;

struct Sniffer {
  WeakState state;
  std::string kind;
};

/* a streaming thread, on an H.264 byte-stream tap: the profile-level-id
 * of the first SPS (keyframes carry them) */
GstPadProbeReturn
sniff_sps (GstPad *, GstPadProbeInfo * info, gpointer data)
{
  auto *s = static_cast<Sniffer *> (data);
  StatePtr st = s->state.lock ();
  if (!st)
    return GST_PAD_PROBE_REMOVE;
  GstBuffer *buf = GST_PAD_PROBE_INFO_BUFFER (info);
  if (GST_BUFFER_FLAG_IS_SET (buf, GST_BUFFER_FLAG_DELTA_UNIT))
    return GST_PAD_PROBE_OK;
  GstMapInfo map;
  if (!gst_buffer_map (buf, &map, GST_MAP_READ))
    return GST_PAD_PROBE_OK;
  std::string id = h264_profile_level_id_of_annexb (map.data, map.size);
  gst_buffer_unmap (buf, &map);
  if (id.empty ())
    return GST_PAD_PROBE_OK;
  std::lock_guard<std::mutex> lk (st->lock);
  st->known[s->kind].profile_level_id = id;
  st->known[s->kind].sniffing = false;
  GST_INFO ("%s: H.264 profile-level-id %s", s->kind.c_str (), id.c_str ());
  return GST_PAD_PROBE_REMOVE;
}

/* a streaming thread (or the main context, for a tap that had caps
 * already): what the tap of kind carries now */
void
learn_tap (const StatePtr & st, GstElement * tap, const std::string & kind, GstCaps * caps)
{
  std::string codec = webrtc_codec_of (caps);
  std::string id = codec == "h264" ? h264_profile_level_id_of_caps (caps) : "";
  bool sniff = false;
  {
    std::lock_guard<std::mutex> lk (st->lock);
    if (!st->alive)
      return;
    Known & k = st->known[kind];
    if (!k.codec.empty () && k.codec != codec)
      GST_WARNING ("the publisher's %s changed from %s to %s", kind.c_str (), k.codec.c_str (),
          codec.empty () ? "a codec WebRTC does not carry" : codec.c_str ());
    k.codec = codec;
    if (!id.empty ())
      k.profile_level_id = id;
    sniff = codec == "h264" && k.profile_level_id.empty () && !k.sniffing && tap;
    if (sniff)
      k.sniffing = true;
  }
  GST_INFO ("%s tap: %" GST_PTR_FORMAT, kind.c_str (), caps);
  if (sniff) {
    g_autoptr (GstPad) pad = gst_element_get_static_pad (tap, "sink");
    gst_pad_add_probe (pad, GST_PAD_PROBE_TYPE_BUFFER, sniff_sps, new Sniffer { st, kind },
        [] (gpointer data) { delete static_cast<Sniffer *> (data); });
  }
}

/* Takes a tee's request pad off its sink and gives it back. Main
 * context. The tee may be pushing: it skips a pad being released. */
void
release_tee_pad (GstElement * tee, GstPad * pad)
{
  if (g_autoptr (GstPad) peer = gst_pad_get_peer (pad))
    gst_pad_unlink (pad, peer);
  gst_element_release_request_pad (tee, pad);
}

/* Stops elements of ours, upstream first (a queue's thread stops before
 * what it feeds), and takes them out of the pipeline; drops the refs.
 * Main context. */
void
remove_elements (GstBin * pipeline, std::vector<GstElement *> & elements)
{
  for (GstElement *e : elements)
    gst_element_set_state (e, GST_STATE_NULL);
  for (GstElement *e : elements) {
    gst_bin_remove (pipeline, e);
    gst_object_unref (e);
  }
  elements.clear ();
}

/* a branch off its payload type's tee (its chain is going, or it is) */
void
detach_branch (Branch & b)
{
  if (!b.tee_pad)
    return;
  release_tee_pad (b.tee, b.tee_pad);
  gst_object_unref (b.tee_pad);
  gst_object_unref (b.tee);
  b.tee_pad = nullptr;
  b.tee = nullptr;
}

void
remove_branch (WebRtcMediaState & st, Branch & b)
{
  detach_branch (b);
  /* the viewer unlinks it when it closes; if it has not, it is done here */
  g_autoptr (GstPad) src = gst_element_get_static_pad (b.bin, "src");
  if (g_autoptr (GstPad) peer = gst_pad_get_peer (src))
    gst_pad_unlink (src, peer);
  GST_INFO ("%s removed", GST_OBJECT_NAME (b.bin));
  std::vector<GstElement *> bin { b.bin };
  remove_elements (st.pipeline, bin);
  b.bin = nullptr;
}

/* the chain of kind, its branches detached (their bins stay, without
 * media, until their viewers go). Main context. */
void
remove_chain (WebRtcMediaState & st, const std::string & kind)
{
  auto it = st.chains.find (kind);
  if (it == st.chains.end ())
    return;
  Chain & c = it->second;
  release_tee_pad (c.tap, c.tap_pad);
  for (Branch & b : st.branches)
    if (b.kind == kind)
      detach_branch (b);
  remove_elements (st.pipeline, c.elements);
  GST_INFO ("the %s chain removed", kind.c_str ());
  gst_object_unref (c.tap_pad);
  gst_object_unref (c.tap);
  st.chains.erase (it);
}

/* a streaming thread (the tap's): a downstream GstForceKeyUnit stays out
 * of the chain. The WHIP ingest's h264parse sends one (all-headers) ahead
 * of each keyframe the publisher made on request. rtph264pay answers it by
 * inserting SPS/PPS before the access unit delimiter, where its
 * aggregation sends them as the previous access unit's end: a packet with
 * the marker bit and the keyframe's timestamp, ahead of the keyframe.
 * Browsers take that as a frame of its own, fail to decode it and ask for
 * a keyframe again: a loop at the throttle's pace, a PLI and a dropped
 * frame every second. SPS/PPS need no announcement here:
 * they go in band before every IDR (h264parse config-interval=-1). */
GstPadProbeReturn
drop_keyframe_announcement (GstPad *, GstPadProbeInfo * info, gpointer)
{
  GstEvent *event = GST_PAD_PROBE_INFO_EVENT (info);
  return GST_EVENT_TYPE (event) == GST_EVENT_CUSTOM_DOWNSTREAM
      && gst_video_event_is_force_key_unit (event) ? GST_PAD_PROBE_DROP : GST_PAD_PROBE_OK;
}

/* the chain of kind, made now if needed; nullptr with the reason. Main
 * context. */
Chain *
ensure_chain (WebRtcMediaState & st, const std::string & kind, std::string & error)
{
  auto it = st.chains.find (kind);
  if (it != st.chains.end ())
    return &it->second;
  Known k;
  {
    std::lock_guard<std::mutex> lk (st.lock);
    auto known = st.known.find (kind);
    if (known != st.known.end ())
      k = known->second;
  }
  if (k.failed) {
    error = "the stream's " + kind + " failed for WebRTC viewers";
    return nullptr;
  }
  if (k.codec.empty () || !sendable (kind, k.codec)) {
    error = k.codec.empty () ? "the stream has no " + kind + " for WebRTC viewers (yet)"
        : "the stream's " + kind + " cannot be sent to WebRTC viewers";
    return nullptr;
  }
  GstElement *tap = st.stream->media_tap (kind);
  if (!tap) {
    error = "the stream has no " + kind;
    return nullptr;
  }

  std::string base = kPrefix + kind;
  std::vector<GstElement *> elements;   /* refs, in the pipeline */
  auto fail = [&] (const std::string & why) -> Chain * {
    error = why;
    remove_elements (st.pipeline, elements);
    gst_object_unref (tap);
    return nullptr;
  };
  GstElement *queue = nullptr;
  GstElement *entry = make_guarded_queue (base + "_entry", &queue, error);
  if (!entry)
    return fail (error);
  g_object_set (queue, "leaky", 2 /* downstream */, "max-size-time", kChainQueueTime,
      "max-size-buffers", 0, "max-size-bytes", kChainQueueBytes, nullptr);
  gst_bin_add (st.pipeline, entry);
  elements.push_back (GST_ELEMENT (gst_object_ref (entry)));
  for (const Step & step : chain_steps (k.codec)) {
    GstElement *e = make_element (step.factory, (base + "_" + step.role).c_str (), error);
    if (!e)
      return fail (error);
    std::string role = step.role;
    if (role == "parse" && k.codec == "h264")
      g_object_set (e, "config-interval", -1, nullptr);   /* SPS/PPS before every IDR */
    else if (role == "caps")
      set_caps (e, k.codec == "h264" ? kH264Output : kOpusInput);
    else if (role == "encode")
      g_object_set (e, "bitrate", kOpusBitrate, nullptr);
    else if (role == "tee")
      g_object_set (e, "allow-not-linked", TRUE, nullptr);
    gst_bin_add (st.pipeline, e);
    GstElement *before = elements.back ();
    elements.push_back (GST_ELEMENT (gst_object_ref (e)));
    if (!gst_element_link (before, e))
      return fail (std::string ("cannot link ") + GST_OBJECT_NAME (before) + " to "
          + GST_OBJECT_NAME (e));
  }
  for (auto e = elements.rbegin (); e != elements.rend (); ++e)
    gst_element_sync_state_with_parent (*e);
  GstPad *tap_pad = gst_element_request_pad_simple (tap, "src_%u");
  gst_pad_add_probe (tap_pad, GST_PAD_PROBE_TYPE_EVENT_DOWNSTREAM, drop_keyframe_announcement,
      nullptr, nullptr);
  g_autoptr (GstPad) sink = gst_element_get_static_pad (entry, "sink");
  GstPadLinkReturn r = gst_pad_link (tap_pad, sink);
  if (r != GST_PAD_LINK_OK) {
    gst_element_release_request_pad (tap, tap_pad);
    gst_object_unref (tap_pad);
    return fail ("cannot link the " + kind + " tap to " + base + ": "
        + gst_pad_link_get_name (r));
  }
  Chain & c = st.chains[kind];
  c.codec = k.codec;
  c.tap = tap;
  c.tap_pad = tap_pad;
  c.codec_tee = elements.back ();
  c.elements = std::move (elements);
  GST_INFO ("%s: %s for WebRTC viewers", base.c_str (), k.codec.c_str ());
  return &c;
}

/* the payload type's RTP (its tee, its SSRC), its payloader made now if
 * needed; nullptr with the reason. Main context. */
const RtpOut *
ensure_rtp_tee (GstBin * pipeline, Chain & c, const std::string & kind, int pt,
    std::string & error)
{
  auto it = c.outs.find (pt);
  if (it != c.outs.end ())
    return &it->second;
  if (pt < 0 || pt > 127) {
    error = "payload type " + std::to_string (pt) + " is out of range";
    return nullptr;
  }
  std::string base = kPrefix + kind + "_";
  GstElement *pay = make_element (payloader_for (c.codec),
      (base + "pay" + std::to_string (pt)).c_str (), error);
  if (!pay)
    return nullptr;
  GstElement *tee = make_element ("tee", (base + "rtp" + std::to_string (pt)).c_str (), error);
  if (!tee) {
    gst_object_unref (gst_object_ref_sink (pay));
    return nullptr;
  }
  /* chosen here rather than by the payloader when it starts: a viewer's
   * answer names it before the first packet reaches its webrtcbin */
  guint ssrc = 0;
  while (ssrc == 0)
    ssrc = g_random_int ();
  g_object_set (pay, "pt", (guint) pt, "mtu", kMtu, "ssrc", ssrc, nullptr);
  if (c.codec == "h264") {
    g_object_set (pay, "config-interval", -1, nullptr);
    gst_util_set_object_arg (G_OBJECT (pay), "aggregate-mode", "zero-latency");
  } else if (c.codec == "vp8" || c.codec == "vp9") {
    gst_util_set_object_arg (G_OBJECT (pay), "picture-id-mode", "15-bit");
  }
  g_object_set (tee, "allow-not-linked", TRUE, nullptr);
  gst_bin_add_many (pipeline, pay, tee, nullptr);
  gst_element_link (pay, tee);
  gst_element_sync_state_with_parent (tee);
  gst_element_sync_state_with_parent (pay);
  g_autoptr (GstPad) from = gst_element_request_pad_simple (c.codec_tee, "src_%u");
  g_autoptr (GstPad) to = gst_element_get_static_pad (pay, "sink");
  GstPadLinkReturn r = gst_pad_link (from, to);
  if (r != GST_PAD_LINK_OK) {
    error = std::string ("cannot link ") + GST_OBJECT_NAME (pay) + ": "
        + gst_pad_link_get_name (r);
    gst_element_release_request_pad (c.codec_tee, from);
    std::vector<GstElement *> made { GST_ELEMENT (gst_object_ref (pay)),
      GST_ELEMENT (gst_object_ref (tee)) };
    remove_elements (pipeline, made);
    return nullptr;
  }
  c.outs[pt] = { pay, tee, ssrc };
  c.elements.push_back (GST_ELEMENT (gst_object_ref (pay)));
  c.elements.push_back (GST_ELEMENT (gst_object_ref (tee)));
  GST_INFO ("%s: payload type %d, SSRC %u", GST_OBJECT_NAME (pay), pt, ssrc);
  return &c.outs[pt];
}

/* a streaming thread (webrtcbin's, for a viewer's PLI or FIR): its
 * keyframe request goes to the hook, never further up */
GstPadProbeReturn
catch_keyframe_request (GstPad *, GstPadProbeInfo * info, gpointer data)
{
  GstEvent *event = GST_PAD_PROBE_INFO_EVENT (info);
  if (!gst_video_event_is_force_key_unit (event))
    return GST_PAD_PROBE_OK;
  auto *wanted = static_cast<std::function<void ()> *> (data);
  if (*wanted)
    (*wanted) ();
  return GST_PAD_PROBE_DROP;
}

/* the kind a name of ours is for: "video"/"audio" for a chain's
 * elements, "" for a branch's */
std::string
chain_kind_of (const char *name)
{
  std::string rest = name + strlen (kPrefix);
  std::string kind = rest.substr (0, rest.find ('_'));
  return kind == "video" || kind == "audio" ? kind : "";
}

/* the bus's error from an element of ours (main context): logged; a
 * chain's failure takes that chain down (its kind is no longer offered),
 * a branch's stays in the branch (its viewer's webrtcbin reports it).
 * The stream goes on. */
bool
take_error (const WeakState & weak, GstMessage * msg)
{
  if (GST_MESSAGE_TYPE (msg) != GST_MESSAGE_ERROR || !GST_MESSAGE_SRC (msg))
    return false;
  const char *name = GST_OBJECT_NAME (GST_MESSAGE_SRC (msg));
  if (!name || !g_str_has_prefix (name, kPrefix))
    return false;
  GError *e = nullptr;
  g_autofree gchar *dbg = nullptr;
  gst_message_parse_error (msg, &e, &dbg);
  std::string kind = chain_kind_of (name);
  GST_WARNING ("%s failed: %s (%s)%s", name, e->message, dbg ? dbg : "",
      kind.empty () ? "" : ": no more WebRTC for that kind");
  g_error_free (e);
  StatePtr st = weak.lock ();
  if (st && !kind.empty ()) {
    {
      std::lock_guard<std::mutex> lk (st->lock);
      st->known[kind].failed = true;
    }
    remove_chain (*st, kind);
  }
  return true;
}

}  // namespace

WebRtcMedia::WebRtcMedia (StreamPipeline & pipeline, Hooks hooks)
    : state_ (std::make_shared<WebRtcMediaState> ())
{
  static gsize debug_once = 0;
  if (g_once_init_enter (&debug_once)) {
    GST_DEBUG_CATEGORY_INIT (castline_webrtcmedia_debug, "castline-webrtcmedia", 0,
        "a stream's media for its WebRTC viewers");
    g_once_init_leave (&debug_once, 1);
  }
  state_->stream = &pipeline;
  state_->pipeline = GST_BIN (gst_object_ref (pipeline.pipeline ()));
  state_->hooks = std::move (hooks);
  WeakState weak = state_;
  StreamPipeline *stream = &pipeline;
  pipeline.add_tap_listener ([weak, stream] (const std::string & kind, GstCaps * caps) {
        StatePtr st = weak.lock ();
        if (!st)
          return;
        g_autoptr (GstElement) tap = stream->media_tap (kind);
        learn_tap (st, tap, kind, caps);
      });
  pipeline.add_problem_handler ([weak] (GstMessage * msg) { return take_error (weak, msg); });
  /* taps that have their caps already */
  for (const char *kind : { "video", "audio" }) {
    g_autoptr (GstElement) tap = pipeline.media_tap (kind);
    g_autoptr (GstPad) pad = tap ? gst_element_get_static_pad (tap, "sink") : nullptr;
    g_autoptr (GstCaps) caps = pad ? gst_pad_get_current_caps (pad) : nullptr;
    if (caps)
      learn_tap (state_, tap, kind, caps);
  }
}

WebRtcMedia::~WebRtcMedia ()
{
  {
    std::lock_guard<std::mutex> lk (state_->lock);
    state_->alive = false;
  }
  for (Branch & b : state_->branches)
    remove_branch (*state_, b);
  state_->branches.clear ();
  for (const char *kind : { "video", "audio" })
    remove_chain (*state_, kind);
}

std::vector<std::string>
WebRtcMedia::required_elements ()
{
  std::vector<std::string> all;
  for (const char *codec : { "h264", "vp8", "vp9", "opus", "aac" }) {
    for (const Step & step : chain_steps (codec))
      all.push_back (step.factory);
    all.push_back (payloader_for (codec));
  }
  std::sort (all.begin (), all.end ());
  all.erase (std::unique (all.begin (), all.end ()), all.end ());
  return all;
}

WhepMedia
WebRtcMedia::media () const
{
  WhepMedia m;
  std::lock_guard<std::mutex> lk (state_->lock);
  for (auto & [kind, k] : state_->known) {
    if (k.failed || !sendable (kind, k.codec))
      continue;
    if (kind == "video") {
      m.video = k.codec;
      if (k.codec == "h264")
        m.h264_profile_level_id = k.profile_level_id;
    } else {
      m.audio = "opus";
    }
  }
  return m;
}

void
WebRtcMedia::prepare ()
{
  for (const char *kind : { "video", "audio" }) {
    std::string error;
    bool known = false;
    {
      std::lock_guard<std::mutex> lk (state_->lock);
      auto it = state_->known.find (kind);
      known = it != state_->known.end () && !it->second.failed
          && sendable (kind, it->second.codec);
    }
    if (known && !ensure_chain (*state_, kind, error))
      GST_WARNING ("no %s for WebRTC viewers: %s", kind, error.c_str ());
  }
}

GstPad *
WebRtcMedia::add_branch (const std::string & viewer, const std::string & kind, int pt,
    guint & ssrc, std::string & error)
{
  WebRtcMediaState & st = *state_;
  Chain *c = ensure_chain (st, kind, error);
  if (!c)
    return nullptr;
  const RtpOut *out = ensure_rtp_tee (st.pipeline, *c, kind, pt, error);
  if (!out)
    return nullptr;
  GstElement *rtp = out->tee;
  ssrc = out->ssrc;

  std::string base = kPrefix + ("b" + std::to_string (st.next_branch++));
  GstElement *queue = nullptr;
  GstElement *bin = make_guarded_queue (base, &queue, error);
  if (!bin)
    return nullptr;
  /* a viewer that stalls (or whose webrtcbin blocks its pad) drops its
   * own oldest packets */
  g_object_set (queue, "leaky", 2 /* downstream */, "max-size-time", kBranchQueueTime,
      "max-size-buffers", 0, "max-size-bytes", kBranchQueueBytes, nullptr);
  GstPad *sink = gst_element_get_static_pad (bin, "sink");
  GstPad *src = gst_element_get_static_pad (bin, "src");
  gst_pad_add_probe (src, GST_PAD_PROBE_TYPE_EVENT_UPSTREAM, catch_keyframe_request,
      new std::function<void ()> (st.hooks.keyframe_wanted),
      [] (gpointer data) { delete static_cast<std::function<void ()> *> (data); });
  gst_bin_add (st.pipeline, bin);
  gst_element_sync_state_with_parent (bin);
  GstPad *tee_pad = gst_element_request_pad_simple (rtp, "src_%u");
  GstPadLinkReturn r = gst_pad_link (tee_pad, sink);
  gst_object_unref (sink);
  Branch b { viewer, kind, GST_ELEMENT (gst_object_ref (bin)),
    GST_ELEMENT (gst_object_ref (rtp)), tee_pad };
  if (r != GST_PAD_LINK_OK) {
    error = "cannot link " + base + ": " + gst_pad_link_get_name (r);
    remove_branch (st, b);
    gst_object_unref (src);
    return nullptr;
  }
  st.branches.push_back (b);
  GST_INFO ("%s: %s, payload type %d", base.c_str (), kind.c_str (), pt);
  return src;
}

void
WebRtcMedia::remove_branches (const std::string & viewer)
{
  auto & branches = state_->branches;
  for (auto it = branches.begin (); it != branches.end ();) {
    if (it->viewer != viewer) {
      ++it;
      continue;
    }
    remove_branch (*state_, *it);
    it = branches.erase (it);
  }
}

}  // namespace castline::launcher
