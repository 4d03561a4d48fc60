#include "streams/pipelinecatalog.h"

#include "common/http/replies.h"
#include "hls/abrladder.h"
#include "streams/elementfactory.h"
#include "streams/elementnames.h"

#include <gst/gst.h>

#include <algorithm>
#include <set>
#include <sstream>

namespace castline::launcher {

namespace {

const std::set<std::string> kVideoCodecs = { "h264", "vp8", "vp9" };
const std::set<std::string> kAudioCodecs = { "opus", "aac" };
const std::set<std::string> kPlaceholders = { "output", "stream_id", "ladder", "video_parse",
  "video_decode", "audio_decode", "audio_to_aac" };

std::string
trim (const std::string & s)
{
  size_t a = s.find_first_not_of (" \t\r");
  size_t b = s.find_last_not_of (" \t\r");
  return a == std::string::npos ? "" : s.substr (a, b - a + 1);
}

bool
read_codecs (const std::string & value, const std::set<std::string> & known,
    std::vector<std::string> & out, std::string & error)
{
  std::istringstream in (value);
  std::string c;
  while (in >> c) {
    if (c == "none")
      continue;
    if (!known.count (c)) {
      error = "unknown codec '" + c + "'";
      return false;
    }
    out.push_back (c);
  }
  return true;
}

/* the placeholders a graph uses, or false for an unknown or unclosed one */
bool
placeholders (const std::string & graph, std::set<std::string> & used, std::string & error)
{
  for (size_t pos = graph.find ('{'); pos != std::string::npos; pos = graph.find ('{', pos + 1)) {
    size_t end = graph.find ('}', pos);
    if (end == std::string::npos) {
      error = "unclosed '{' in the graph";
      return false;
    }
    std::string name = graph.substr (pos + 1, end - pos - 1);
    if (!kPlaceholders.count (name)) {
      error = "unknown placeholder {" + name + "} (known: {output}, {stream_id}, {ladder}, "
          "{video_parse}, {video_decode}, {audio_decode}, {audio_to_aac})";
      return false;
    }
    used.insert (name);
  }
  return true;
}

bool
has_free_sink_pad (GstElement * e)
{
  GstPad *pad = gst_element_get_static_pad (e, "sink");
  if (!pad)
    return false;
  bool free = !gst_pad_is_linked (pad);
  gst_object_unref (pad);
  return free;
}

/* Every element the graph can need, whatever the input: the decoder and
 * parser of each codec the header names (each video codec with each audio
 * codec) and, for a {ladder} graph, what
 * the rungs are made of (an encoded and a passed-through rung; their
 * elements do not depend on the ladder's sizes). */
std::vector<std::string>
missing_elements (const PipelineDescription & d)
{
  std::vector<std::string> codecs = d.video_codecs;
  if (codecs.empty ())
    codecs.push_back ("");
  std::vector<std::string> audio_codecs = d.audio_codecs;
  if (audio_codecs.empty ())
    audio_codecs.push_back ("");
  std::vector<std::pair<std::string, std::string>> inputs;
  for (const std::string & codec : codecs)
    for (const std::string & audio : audio_codecs)
      inputs.emplace_back (codec, audio);
  std::vector<std::string> missing;
  for (const auto & [codec, audio] : inputs) {
    GraphValues values;
    values.output = std::string ("hlssink2 name=") + names::kOutput;
    values.stream_id = "check";
    if (codec.empty ())
      values.video_parse = values.video_decode = "identity";
    else
      values.set_video_codec (codec);
    if (audio.empty ())
      values.audio_decode = values.audio_to_aac = "identity";
    else
      values.set_audio_codec (audio);
    if (d.ladder) {
      std::vector<RungPlan> plans = select_rungs (default_ladder (), 1920, 1080, 1, 1, true);
      values.ladder = ladder_graph (plans, !d.audio_codecs.empty (), 0,
          [] (const RungPlan & p) { return "hlssink2 name=" + rung_sink_name (p.rung); });
    }
    for (const std::string & m : missing_in_graph (render_graph (d, values)))
      if (std::find (missing.begin (), missing.end (), m) == missing.end ())
        missing.push_back (m);
  }
  return missing;
}

/* builds the graph (never started) to find what the parser finds */
bool
check_graph (const PipelineDescription & d, std::string & error)
{
  std::vector<std::string> missing = missing_elements (d);
  if (!missing.empty ()) {
    error = missing_elements_reason (missing);
    return false;
  }
  GraphValues values;
  values.output = std::string ("hlssink2 name=") + names::kOutput;
  values.stream_id = "check";
  /* any codec's parser and decoder would do */
  values.video_parse = values.video_decode = "identity";
  values.audio_decode = values.audio_to_aac = "identity";
  GstElement *bin = parse_graph (render_graph (d, values), false, error);
  if (!bin)
    return false;
  for (const std::string kind : { "video", "audio" }) {
    const auto & codecs = kind == "video" ? d.video_codecs : d.audio_codecs;
    std::string entry = names::entry_for (kind);
    GstElement *e = GST_IS_BIN (bin) ? gst_bin_get_by_name (GST_BIN (bin), entry.c_str ()) : nullptr;
    if (!codecs.empty () && (!e || !has_free_sink_pad (e)))
      error = "the graph needs an element named " + entry + " with a free sink pad (the header "
          "names " + kind + " codecs)";
    else if (codecs.empty () && e)
      error = "the graph has " + entry + " but the header names no " + kind + " codec";
    if (e)
      gst_object_unref (e);
  }
  if (d.ladder) {
    /* the rungs hang off these tees (AbrBuilder) */
    for (const char *tee : { names::kVideoRawTee, names::kAudioRawTee }) {
      if (tee == names::kAudioRawTee && d.audio_codecs.empty ())
        continue;
      GstElement *e = GST_IS_BIN (bin) ? gst_bin_get_by_name (GST_BIN (bin), tee) : nullptr;
      if ((!e || g_strcmp0 (GST_OBJECT_NAME (gst_element_get_factory (e)), "tee") != 0)
          && error.empty ())
        error = std::string ("a {ladder} graph needs a tee named ") + tee;
      if (e)
        gst_object_unref (e);
    }
  } else {
    GstElement *out = GST_IS_BIN (bin) ? gst_bin_get_by_name (GST_BIN (bin), names::kOutput) : nullptr;
    if (!out && error.empty ())
      error = "{output} must appear in the graph as is (it is named out)";
    if (out)
      gst_object_unref (out);
  }
  gst_object_unref (bin);
  return error.empty ();
}

}  // namespace

bool
PipelineDescription::takes (const std::string & kind, const std::string & codec) const
{
  const auto & list = kind == "video" ? video_codecs : audio_codecs;
  return std::find (list.begin (), list.end (), codec) != list.end ();
}

bool
parse_pipeline_description (const std::string & name, const std::string & text,
    PipelineDescription & d, std::string & error)
{
  d = PipelineDescription ();
  d.name = name;
  std::istringstream in (text);
  std::string line;
  bool in_graph = false;
  unsigned lineno = 0;
  std::set<std::string> seen;
  while (std::getline (in, line)) {
    lineno++;
    std::string t = trim (line);
    if (t.empty () || t[0] == '#')
      continue;
    if (in_graph) {
      d.graph += (d.graph.empty () ? "" : " ") + t;
      continue;
    }
    if (t == "---") {
      in_graph = true;
      continue;
    }
    size_t colon = t.find (':');
    if (colon == std::string::npos) {
      error = "line " + std::to_string (lineno) + ": expected 'key: value' or '---'";
      return false;
    }
    std::string key = trim (t.substr (0, colon)), value = t.substr (colon + 1);
    /* "video: h264   # a comment" */
    size_t hash = value.find (" #");
    value = trim (hash == std::string::npos ? value : value.substr (0, hash));
    if (!seen.insert (key).second) {
      error = "line " + std::to_string (lineno) + ": '" + key + "' given twice";
      return false;
    }
    std::string why;
    if (key == "description")
      d.description = value;
    else if (key == "video" && !read_codecs (value, kVideoCodecs, d.video_codecs, why))
      error = "line " + std::to_string (lineno) + ": " + why;
    else if (key == "audio" && !read_codecs (value, kAudioCodecs, d.audio_codecs, why))
      error = "line " + std::to_string (lineno) + ": " + why;
    else if (key != "description" && key != "video" && key != "audio")
      error = "line " + std::to_string (lineno) + ": unknown key '" + key
          + "' (known: description, video, audio)";
    if (!error.empty ())
      return false;
  }
  if (!in_graph || d.graph.empty ()) {
    error = "no graph: the header must be followed by '---' and a gst-launch graph";
    return false;
  }
  if (d.video_codecs.empty () && d.audio_codecs.empty ()) {
    error = "the header names no video and no audio codec";
    return false;
  }
  std::set<std::string> used;
  if (!placeholders (d.graph, used, error))
    return false;
  d.ladder = used.count ("ladder") > 0;
  if (used.count ("output") == d.ladder) {
    error = d.ladder ? "a graph has {output} or {ladder}, not both" : "the graph has no {output}";
    return false;
  }
  if (d.ladder && d.video_codecs.empty ()) {
    error = "a {ladder} graph needs video";
    return false;
  }
  return check_graph (d, error);
}

void
GraphValues::set_video_codec (const std::string & codec)
{
  video_parse = video_parse_for (codec);
  video_decode = video_decode_for (codec);
}

void
GraphValues::set_audio_codec (const std::string & codec)
{
  audio_decode = audio_decode_for (codec);
  audio_to_aac = audio_to_aac_for (codec);
}

std::string
render_graph (const PipelineDescription & d, const GraphValues & v)
{
  const std::map<std::string, std::string> values = { { "output", v.output },
    { "stream_id", v.stream_id }, { "ladder", v.ladder }, { "video_parse", v.video_parse },
    { "video_decode", v.video_decode }, { "audio_decode", v.audio_decode },
    { "audio_to_aac", v.audio_to_aac } };
  std::string out;
  size_t pos = 0;
  while (true) {
    size_t open = d.graph.find ('{', pos);
    if (open == std::string::npos)
      break;
    size_t close = d.graph.find ('}', open);
    out += d.graph.substr (pos, open - pos);
    auto it = values.find (d.graph.substr (open + 1, close - open - 1));
    out += it != values.end () ? it->second : "";
    pos = close + 1;
  }
  return out + d.graph.substr (pos);
}

bool
PipelineCatalog::load (const std::vector<std::string> & dirs, std::vector<std::string> & errors)
{
  descriptions_.clear ();
  unavailable_.clear ();
  for (const std::string & dir : dirs) {
    g_autoptr (GError) err = nullptr;
    g_autoptr (GDir) d = g_dir_open (dir.c_str (), 0, &err);
    if (!d) {
      errors.push_back (dir + ": " + err->message);
      continue;
    }
    std::vector<std::string> names;
    while (const char *f = g_dir_read_name (d))
      if (g_str_has_suffix (f, ".pipeline"))
        names.push_back (f);
    std::sort (names.begin (), names.end ());
    for (const std::string & f : names) {
      std::string path = dir + G_DIR_SEPARATOR_S + f;
      std::string name = f.substr (0, f.size () - strlen (".pipeline"));
      g_autofree gchar *text = nullptr;
      g_autoptr (GError) rerr = nullptr;
      PipelineDescription desc;
      std::string error;
      bool ok = false;
      if (!g_file_get_contents (path.c_str (), &text, nullptr, &rerr))
        error = rerr->message;
      else if (name.empty () || name.size () > 64
          || name.find_first_not_of ("abcdefghijklmnopqrstuvwxyz0123456789-") != std::string::npos)
        error = "a pipeline name is 1 to 64 of [a-z0-9-]";
      else
        ok = parse_pipeline_description (name, text, desc, error);
      if (!ok) {
        errors.push_back (path + ": " + error);
        if (!descriptions_.count (name))   /* an earlier one of that name stays */
          unavailable_[name] = error;
        continue;
      }
      desc.file = path;
      unavailable_.erase (name);
      descriptions_[name] = std::move (desc);
    }
  }
  return !descriptions_.empty ();
}

namespace {

/* "video vp8, audio opus", "video none, audio opus": for a refusal */
std::string
describe_media (const std::vector<std::string> & video, const std::vector<std::string> & audio)
{
  auto list = [] (const std::vector<std::string> & codecs) {
    std::string s;
    for (auto & c : codecs)
      s += (s.empty () ? "" : "/") + http::excerpt (c);
    return s.empty () ? std::string ("none") : s;
  };
  return "video " + list (video) + ", audio " + list (audio);
}

}  // namespace

const PipelineDescription *
PipelineCatalog::find (const std::string & name) const
{
  auto it = descriptions_.find (name);
  return it == descriptions_.end () ? nullptr : &it->second;
}

std::string
PipelineCatalog::unavailable (const std::string & name) const
{
  auto it = unavailable_.find (name);
  return it == unavailable_.end () ? std::string () : it->second;
}

const PipelineDescription *
PipelineCatalog::choose (const std::vector<std::string> & video_codecs,
    const std::vector<std::string> & audio_codecs, std::string & video_codec,
    std::string & audio_codec) const
{
  std::vector<const PipelineDescription *> order;
  for (const char *preferred : { "passthrough", "transcode", "transcode-vp9", "audio-only" })
    if (const PipelineDescription * d = find (preferred))
      order.push_back (d);
  for (auto & [name, d] : descriptions_)
    if (std::find (order.begin (), order.end (), &d) == order.end ())
      order.push_back (&d);

  for (const PipelineDescription * d : order) {
    /* it must take one offered codec of every kind it has, and have a
     * branch for every kind offered */
    std::string v, a;
    for (const std::string & c : video_codecs)
      if (v.empty () && d->takes ("video", c))
        v = c;
    for (const std::string & c : audio_codecs)
      if (a.empty () && d->takes ("audio", c))
        a = c;
    bool video_ok = video_codecs.empty () ? d->video_codecs.empty () : !v.empty ();
    bool audio_ok = audio_codecs.empty () ? d->audio_codecs.empty () : !a.empty ();
    if (video_ok && audio_ok) {
      video_codec = v;
      audio_codec = a;
      return d;
    }
  }
  return nullptr;
}


const PipelineDescription *
PipelineCatalog::select (const std::string & wanted_name, bool abr_default,
    const std::vector<std::string> & video_codecs, const std::vector<std::string> & audio_codecs,
    std::string & video_codec, std::string & audio_codec, unsigned & status,
    std::string & reason) const
{
  /* abr_default: a publisher sending video, to a stream created without a
   * pipeline, gets abr when abr takes its video */
  std::string wanted = wanted_name;
  const PipelineDescription *abr = find ("abr");
  if (wanted.empty () && abr_default && abr
      && std::any_of (video_codecs.begin (), video_codecs.end (),
          [abr] (const std::string & c) { return abr->takes ("video", c); }))
    wanted = "abr";
  if (wanted.empty ()) {
    const PipelineDescription *d = choose (video_codecs, audio_codecs, video_codec, audio_codec);
    if (!d) {
      status = 406;
      reason = "no pipeline takes what the publisher sends ("
          + describe_media (video_codecs, audio_codecs) + ")";
    }
    return d;
  }
  const PipelineDescription *d = find (wanted);
  if (!d) {
    status = 500;
    std::string why = unavailable (wanted);
    reason = "the stream's pipeline '" + wanted + "' is not loaded"
        + (why.empty () ? std::string () : ": " + why);
    return nullptr;
  }
  auto first_taken = [] (const std::vector<std::string> & mine,
      const std::vector<std::string> & offered) {
    auto it = std::find_if (mine.begin (), mine.end (), [&offered] (const std::string & c) {
          return std::find (offered.begin (), offered.end (), c) != offered.end ();
        });
    return it == mine.end () ? std::string () : *it;
  };
  std::string v = first_taken (d->video_codecs, video_codecs);
  std::string a = first_taken (d->audio_codecs, audio_codecs);
  if ((!d->video_codecs.empty () && v.empty ()) || (!d->audio_codecs.empty () && a.empty ())) {
    status = 406;
    reason = "pipeline " + d->name + " does not take what the publisher sends ("
        + describe_media (video_codecs, audio_codecs) + ")";
    return nullptr;
  }
  video_codec = v;
  audio_codec = a;
  return d;
}

}  // namespace castline::launcher
