#include "api/streamviews.h"

#include "ingest/srt/srturls.h"
#include "streams/livestats.h"
#include "streams/streamjson.h"

namespace castline::launcher {

std::string
StreamViews::stream_json (const StreamRecord & r, const std::string & key) const
{
  std::string base = manager_.config ().base_url ();
  std::string ws_base = base;
  if (g_str_has_prefix (ws_base.c_str (), "https://"))
    ws_base = "wss://" + ws_base.substr (8);
  else if (g_str_has_prefix (ws_base.c_str (), "http://"))
    ws_base = "ws://" + ws_base.substr (7);

  g_autoptr (JsonBuilder) b = json_builder_new ();
  json_builder_begin_object (b);
  add_stream_record (b, r);
  if (!key.empty ())
    add_string (b, "key", key);
  add_string (b, "whip_url", base + "/whip/" + r.id);
  add_string (b, "ws_url", ws_base + "/ingest/" + r.id);
  const std::pair<const std::string &, std::string> servers[] = {
    { rtmp_server_, "rtmp" }, { rtmps_server_, "rtmps" } };
  for (const auto & [server, scheme] : servers) {
    if (server.empty ())
      continue;
    add_string (b, (scheme + "_server").c_str (), server);
    if (!key.empty ())
      add_string (b, (scheme + "_url").c_str (), server + "/" + key);
  }
  if (!srt_server_.empty ()) {
    add_string (b, "srt_server", srt_server_);
    if (!key.empty ())
      add_string (b, "srt_url", srt_url (srt_server_, key));
  }
  add_string (b, "playback_url", manager_.playback_url (r.id));
  add_audience (b, r, true);
  json_builder_end_object (b);
  return to_text (b);
}

namespace {

/* a node's stats JSON without its "s3" member */
void
add_stats_without_uploads (JsonBuilder * b, const std::string & json)
{
  g_autoptr (JsonParser) parser = json_parser_new ();
  if (!json_parser_load_from_data (parser, json.data (), (gssize) json.size (), nullptr)
      || !JSON_NODE_HOLDS_OBJECT (json_parser_get_root (parser))) {
    json_builder_add_null_value (b);
    return;
  }
  JsonNode *root = json_node_copy (json_parser_get_root (parser));
  json_object_remove_member (json_node_get_object (root), "s3");
  json_builder_add_value (b, root);
}

}  // namespace

void
StreamViews::add_audience (JsonBuilder * b, const StreamRecord & r, bool uploads) const
{
  json_builder_set_member_name (b, "viewers");
  const ClusterNode *cluster = manager_.cluster ();
  /* summed over the nodes: the others' as of their last tick */
  json_builder_add_int_value (b, viewers_.count (r.id, g_get_monotonic_time ())
      + manager_.webrtc_viewers (r.id) + (cluster ? cluster->remote_viewers (r.id) : 0));
  std::string whep = manager_.whep_url (r.id);
  json_builder_set_member_name (b, "whep_url");
  if (whep.empty ())
    json_builder_add_null_value (b);
  else
    json_builder_add_string_value (b, whep.c_str ());
  json_builder_set_member_name (b, "webrtc_viewers");
  json_builder_add_int_value (b, manager_.webrtc_viewers (r.id));
  json_builder_set_member_name (b, "webrtc_seats");
  json_builder_add_int_value (b, whep.empty () ? 0 : manager_.config ().webrtc.max_viewers);
  const LiveStream *ls = r.state == StreamState::live ? manager_.live (r.id) : nullptr;
  if (ls) {
    g_autoptr (GstStructure) s = live_stats (*ls);
    if (!uploads)
      gst_structure_remove_field (s, "s3");
    json_builder_set_member_name (b, "stats");
    add_structure (b, s);
  } else if (r.state == StreamState::live && cluster) {
    /* live on another node: the stats it published last */
    std::string stats = cluster->remote_stats (r.id);
    if (!stats.empty ()) {
      json_builder_set_member_name (b, "stats");
      if (uploads)
        add_json_text (b, stats);
      else
        add_stats_without_uploads (b, stats);
    }
  }
}

std::string
StreamViews::status_json (const StreamRecord & r) const
{
  g_autoptr (JsonBuilder) b = json_builder_new ();
  json_builder_begin_object (b);
  add_string (b, "id", r.id);
  add_string (b, "title", r.title);
  add_string (b, "state", state_name (r.state));
  json_builder_set_member_name (b, "reason");
  if (r.reason.empty () || r.state == StreamState::live)
    json_builder_add_null_value (b);
  else
    json_builder_add_string_value (b, r.reason.c_str ());
  add_string (b, "ingest", r.ingest);
  add_time (b, "scheduled_at", r.scheduled_at);
  add_time (b, "started_at", r.started_at);
  add_time (b, "ended_at", r.ended_at);
  add_string (b, "playback_url", manager_.playback_url (r.id));
  add_audience (b, r, false);
  json_builder_set_member_name (b, "recordings");
  json_builder_add_value (b, recordings_json (r.record ? manager_.recordings (r.id)
          : std::vector<RecordingRecord> (), manager_.config (), true));
  json_builder_end_object (b);
  return to_text (b);
}

}  // namespace castline::launcher
