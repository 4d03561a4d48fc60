#include "streams/streamjson.h"

namespace castline::launcher {

std::string
iso8601 (int64_t unix_us)
{
  if (unix_us <= 0)
    return "";
  g_autoptr (GDateTime) t = g_date_time_new_from_unix_utc (unix_us / G_USEC_PER_SEC);
  g_autofree gchar *s = t ? g_date_time_format_iso8601 (t) : nullptr;
  return s ? s : "";
}

void
add_time (JsonBuilder * b, const char *name, int64_t unix_us)
{
  json_builder_set_member_name (b, name);
  if (unix_us > 0)
    json_builder_add_string_value (b, iso8601 (unix_us).c_str ());
  else
    json_builder_add_null_value (b);
}

void
add_string (JsonBuilder * b, const char *name, const std::string & value)
{
  json_builder_set_member_name (b, name);
  json_builder_add_string_value (b, value.c_str ());
}

std::string
to_text (JsonBuilder * b)
{
  g_autoptr (JsonNode) root = json_builder_get_root (b);
  g_autoptr (JsonGenerator) gen = json_generator_new ();
  json_generator_set_root (gen, root);
  g_autofree gchar *text = json_generator_to_data (gen, nullptr);
  return text;
}

void
add_structure (JsonBuilder * b, const GstStructure * s)
{
  json_builder_begin_object (b);
  for (int i = 0; i < gst_structure_n_fields (s); i++) {
    const char *name = gst_structure_nth_field_name (s, i);
    const GValue *v = gst_structure_get_value (s, name);
    GValue d = G_VALUE_INIT;
    json_builder_set_member_name (b, name);
    if (G_VALUE_HOLDS_STRING (v)) {
      json_builder_add_string_value (b, g_value_get_string (v));
    } else if (G_VALUE_HOLDS_BOOLEAN (v)) {
      json_builder_add_boolean_value (b, g_value_get_boolean (v));
    } else if (GST_VALUE_HOLDS_STRUCTURE (v)) {
      add_structure (b, gst_value_get_structure (v));
    } else if (G_VALUE_TYPE (v) == G_TYPE_DOUBLE || G_VALUE_TYPE (v) == G_TYPE_FLOAT) {
      g_value_init (&d, G_TYPE_DOUBLE);
      g_value_transform (v, &d);
      json_builder_add_double_value (b, g_value_get_double (&d));
      g_value_unset (&d);
    } else if (g_value_type_transformable (G_VALUE_TYPE (v), G_TYPE_INT64)) {
      g_value_init (&d, G_TYPE_INT64);
      g_value_transform (v, &d);
      json_builder_add_int_value (b, g_value_get_int64 (&d));
      g_value_unset (&d);
    } else {
      json_builder_add_null_value (b);
    }
  }
  json_builder_end_object (b);
}

void
add_stream_record (JsonBuilder * b, const StreamRecord & r)
{
  add_string (b, "id", r.id);
  add_string (b, "title", r.title);
  add_string (b, "state", state_name (r.state));
  /* a failed stream always says why; an interrupted one, or one that ended
   * without a stop (its publisher did not come back), when it has a why */
  if (r.state == StreamState::failed
      || ((r.state == StreamState::interrupted || r.state == StreamState::ended)
          && !r.reason.empty ()))
    add_string (b, "reason", r.reason);
  add_string (b, "pipeline", r.pipeline);
  add_string (b, "ingest", r.ingest);
  /* the node that runs it, or ran it last */
  add_string (b, "node", r.node);
  json_builder_set_member_name (b, "record");
  json_builder_add_boolean_value (b, r.record);
  add_time (b, "created_at", r.created_at);
  add_time (b, "scheduled_at", r.scheduled_at);
  add_time (b, "started_at", r.started_at);
  add_time (b, "ended_at", r.ended_at);
}

void
add_json_text (JsonBuilder * b, const std::string & json)
{
  g_autoptr (JsonParser) parser = json_parser_new ();
  if (json.empty () || !json_parser_load_from_data (parser, json.data (), (gssize) json.size (),
          nullptr) || !JSON_NODE_HOLDS_OBJECT (json_parser_get_root (parser))) {
    json_builder_add_null_value (b);
    return;
  }
  json_builder_add_value (b, json_node_copy (json_parser_get_root (parser)));
}

JsonNode *
recordings_json (const std::vector<RecordingRecord> & recordings, const Config & config,
    bool playable_only)
{
  g_autoptr (JsonBuilder) b = json_builder_new ();
  json_builder_begin_array (b);
  for (auto & r : recordings) {
    if (playable_only && !r.error.empty ())
      continue;
    json_builder_begin_object (b);
    add_string (b, "kind", r.kind);
    add_string (b, "name", r.name);
    if (r.error.empty ())
      add_string (b, "url", config.output_url (r.stream_id, r.name));
    else
      add_string (b, "error", r.error);
    json_builder_set_member_name (b, "duration");
    json_builder_add_double_value (b, (double) r.duration_us / G_USEC_PER_SEC);
    json_builder_set_member_name (b, r.kind == "mp4" ? "bytes" : "segments");
    json_builder_add_int_value (b, r.kind == "mp4" ? r.bytes : (gint64) r.segments);
    add_time (b, "created_at", r.created_at);
    json_builder_end_object (b);
  }
  json_builder_end_array (b);
  return json_builder_get_root (b);
}

}  // namespace castline::launcher
