#include "cluster/clusternode.h"

#include <json-glib/json-glib.h>

#include <algorithm>

namespace castline::launcher {

namespace {

/* the stream→node map is refilled from the store every this many ticks
 * (the bus's events keep it current in between) */
constexpr unsigned kFullRefreshTicks = 10;

std::string
object_text (JsonBuilder * b)
{
  g_autoptr (JsonGenerator) gen = json_generator_new ();
  g_autoptr (JsonNode) root = json_builder_get_root (b);
  json_generator_set_root (gen, root);
  g_autofree gchar *text = json_generator_to_data (gen, nullptr);
  return text;
}

std::string
member (JsonObject * o, const char *name)
{
  if (!json_object_has_member (o, name))
    return "";
  JsonNode *n = json_object_get_member (o, name);
  if (!JSON_NODE_HOLDS_VALUE (n) || json_node_get_value_type (n) != G_TYPE_STRING)
    return "";
  return json_node_get_string (n);
}

}  // namespace

ClusterNode::ClusterNode (const Config & config, StreamStore & store,
    std::unique_ptr<ClusterBus> bus)
    : config_ (config), store_ (store), bus_ (std::move (bus))
{
}

ClusterNode::~ClusterNode ()
{
  if (timer_)
    g_source_remove (timer_);
}

bool
ClusterNode::start (Hooks hooks, std::string & error)
{
  hooks_ = std::move (hooks);
  NodeRecord self;
  self.id = id ();
  self.public_url = config_.node_url ();
  self.max_live_streams = config_.max_live_streams;
  self.started_at = started_at_ = g_get_real_time ();
  if (!store_.renew_lease (self, (int64_t) config_.node.lease * G_USEC_PER_SEC, error))
    return false;
  last_renewal_ = g_get_monotonic_time ();
  if (bus_ && !bus_->start ([this] (const std::string & channel, const std::string & json) {
            on_message (channel, json);
          }, error))
    return false;
  refresh_nodes (true);
  guint period_ms = std::max (500u, config_.node.lease * 1000 / 5);
  timer_ = g_timeout_add (period_ms, [] (gpointer data) -> gboolean {
        static_cast<ClusterNode *> (data)->tick ();
        return G_SOURCE_CONTINUE;
      }, this);
  g_message ("cluster: node %s (%s) joined, lease %u s", id ().c_str (),
      config_.node_url ().c_str (), config_.node.lease);
  return true;
}

void
ClusterNode::stop ()
{
  if (timer_) {
    g_source_remove (timer_);
    timer_ = 0;
  }
  std::string error;
  if (!store_.drop_lease (id (), error))
    g_warning ("cluster: cannot give up this node's lease: %s", error.c_str ());
}

void
ClusterNode::tick ()
{
  ticks_++;
  std::string error;
  NodeRecord self;
  self.id = id ();
  self.public_url = config_.node_url ();
  self.live_streams = hooks_.live_count ? hooks_.live_count () : 0;
  self.max_live_streams = config_.max_live_streams;
  self.started_at = started_at_;
  gint64 now = g_get_monotonic_time ();
  bool was_fenced = fenced_;
  if (store_.renew_lease (self, (int64_t) config_.node.lease * G_USEC_PER_SEC, error)) {
    if (fenced_)
      g_message ("cluster: the lease is renewed again");
    fenced_ = false;
    last_renewal_ = now;
  } else {
    counters_.lease_failures++;
    g_warning ("cluster: cannot renew this node's lease: %s", error.c_str ());
    if (!fenced_ && now - last_renewal_ >= (gint64) config_.node.lease * G_USEC_PER_SEC) {
      /* the others may take this node's streams from now on: two nodes
       * must never write one stream */
      fenced_ = true;
      g_warning ("cluster: no lease for %u s: stopping the streams this node runs",
          config_.node.lease);
      if (hooks_.fenced)
        hooks_.fenced ();
    }
    return;                            /* the store is out of reach: nothing more to do now */
  }

  std::vector<StreamRecord> lost = store_.take_over_lost (
      (int64_t) config_.reconnect_window * G_USEC_PER_SEC, error);
  if (!error.empty ())
    g_warning ("cluster: cannot take over lost nodes' streams: %s", error.c_str ());
  counters_.takeovers += lost.size ();
  for (const StreamRecord & r : lost) {
    g_message ("cluster: stream %s interrupted: %s", r.id.c_str (), r.reason.c_str ());
    if (hooks_.taken_over)
      hooks_.taken_over (r);
  }
  error.clear ();
  std::vector<StreamRecord> over = store_.end_expired ("the publisher did not come back within "
      + std::to_string (config_.reconnect_window) + " s", error);
  if (!error.empty ())
    g_warning ("cluster: cannot end interrupted streams: %s", error.c_str ());
  counters_.expired += over.size ();
  for (const StreamRecord & r : over) {
    g_message ("stream %s ended: %s", r.id.c_str (), r.reason.c_str ());
    if (hooks_.expired)
      hooks_.expired (r);
  }

  take_orders ();
  error.clear ();
  std::vector<StreamShare> mine = hooks_.local_shares ? hooks_.local_shares ()
      : std::vector<StreamShare> ();
  if (!store_.put_shares (id (), mine, error))
    g_warning ("cluster: cannot publish this node's viewers: %s", error.c_str ());
  error.clear ();
  std::vector<StreamShare> all = store_.shares (error);
  std::map<std::string, unsigned> viewers;
  std::map<std::string, std::string> stats;
  for (const StreamShare & s : all) {
    if (s.node == id ())
      continue;
    viewers[s.stream_id] += s.hls_viewers + s.webrtc_viewers;
    if (!s.stats_json.empty ())
      stats[s.stream_id] = s.stats_json;
  }
  {
    std::lock_guard<std::mutex> lk (lock_);
    remote_viewers_ = std::move (viewers);
    remote_stats_ = std::move (stats);
  }
  refresh_nodes (was_fenced || ticks_ % kFullRefreshTicks == 0);
}

void
ClusterNode::refresh_nodes (bool full)
{
  std::string error;
  std::vector<NodeRecord> nodes = store_.nodes (error);
  std::map<std::string, std::string> streams;
  if (full) {
    std::vector<StreamRecord> all = store_.list ();
    for (const StreamRecord & r : all)
      if (!r.node.empty ())
        streams[r.id] = r.node;
    if (hooks_.reconcile)
      hooks_.reconcile (all);
  }
  std::lock_guard<std::mutex> lk (lock_);
  if (error.empty ())
    nodes_ = std::move (nodes);
  if (full)
    stream_nodes_ = std::move (streams);
}

void
ClusterNode::publish_event (const std::string & type, const StreamRecord & r)
{
  remember_node (r.id, r.node);
  if (!bus_)
    return;
  g_autoptr (JsonBuilder) b = json_builder_new ();
  json_builder_begin_object (b);
  json_builder_set_member_name (b, "node");
  json_builder_add_string_value (b, id ().c_str ());
  json_builder_set_member_name (b, "type");
  json_builder_add_string_value (b, type.c_str ());
  json_builder_set_member_name (b, "id");
  json_builder_add_string_value (b, r.id.c_str ());
  json_builder_set_member_name (b, "owner");
  json_builder_add_string_value (b, r.node.c_str ());
  json_builder_end_object (b);
  std::string error;
  if (!bus_->publish ("events", object_text (b), error))
    g_warning ("cluster: cannot tell the other nodes of %s (%s): %s", r.id.c_str (),
        type.c_str (), error.c_str ());
}

void
ClusterNode::request_end (const std::string & node, const std::string & stream)
{
  /* kept in the store, so that a node that missed the message (its bus
   * reconnecting) still gets it at its next tick */
  std::string error;
  if (!store_.add_order (node, stream, error))
    g_warning ("cluster: cannot ask node %s to end %s: %s", node.c_str (), stream.c_str (),
        error.c_str ());
  if (!bus_)
    return;
  g_autoptr (JsonBuilder) b = json_builder_new ();
  json_builder_begin_object (b);
  json_builder_set_member_name (b, "to");
  json_builder_add_string_value (b, node.c_str ());
  json_builder_set_member_name (b, "end");
  json_builder_add_string_value (b, stream.c_str ());
  json_builder_end_object (b);
  if (!bus_->publish ("control", object_text (b), error))
    g_warning ("cluster: cannot ask node %s to end %s: %s", node.c_str (), stream.c_str (),
        error.c_str ());
}

void
ClusterNode::on_message (const std::string & channel, const std::string & json)
{
  g_autoptr (JsonParser) parser = json_parser_new ();
  if (!json_parser_load_from_data (parser, json.data (), (gssize) json.size (), nullptr)
      || !JSON_NODE_HOLDS_OBJECT (json_parser_get_root (parser))) {
    g_warning ("cluster: a message that is not a JSON object on %s", channel.c_str ());
    return;
  }
  JsonObject *o = json_node_get_object (json_parser_get_root (parser));
  if (channel == "control") {
    if (member (o, "to") == id ())
      take_orders ();
    return;
  }
  if (channel != "events")
    return;
  std::string from = member (o, "node"), type = member (o, "type"), stream = member (o, "id");
  if (!valid_stream_id (stream))
    return;
  remember_node (stream, member (o, "owner"));
  if (from == id () || !hooks_.remote_event || !g_str_has_prefix (type.c_str (), "stream."))
    return;                            /* this node told its own listeners already */
  if (auto r = store_.get (stream))
    hooks_.remote_event (type, *r);
}

void
ClusterNode::take_orders ()
{
  std::string error;
  for (const std::string & stream : store_.take_orders (id (), error))
    if (valid_stream_id (stream) && hooks_.end_requested)
      hooks_.end_requested (stream);
  if (!error.empty ())
    g_warning ("cluster: cannot read this node's orders: %s", error.c_str ());
}

void
ClusterNode::remember_node (const std::string & stream, const std::string & node)
{
  if (node.empty ())
    return;
  std::lock_guard<std::mutex> lk (lock_);
  stream_nodes_[stream] = node;
}

std::string
ClusterNode::files_node_url (const std::string & stream) const
{
  std::lock_guard<std::mutex> lk (lock_);
  auto it = stream_nodes_.find (stream);
  if (it == stream_nodes_.end () || it->second == id ())
    return "";
  for (const NodeRecord & n : nodes_)
    if (n.id == it->second && n.alive)
      return n.public_url;
  return "";
}

std::string
ClusterNode::node_with_room () const
{
  std::lock_guard<std::mutex> lk (lock_);
  const NodeRecord *best = nullptr;
  for (const NodeRecord & n : nodes_)
    if (n.alive && n.id != id () && n.live_streams < n.max_live_streams
        && (!best || n.live_streams < best->live_streams))
      best = &n;
  return best ? best->public_url : "";
}

ClusterMetrics
ClusterNode::metrics () const
{
  ClusterMetrics m = counters_;
  m.on = true;
  m.fenced = fenced_;
  m.bus_connected = bus_ && bus_->connected ();
  std::lock_guard<std::mutex> lk (lock_);
  for (const NodeRecord & n : nodes_)
    m.nodes_alive += n.alive ? 1 : 0;
  return m;
}

std::vector<NodeRecord>
ClusterNode::nodes () const
{
  std::lock_guard<std::mutex> lk (lock_);
  return nodes_;
}

unsigned
ClusterNode::remote_viewers (const std::string & stream) const
{
  std::lock_guard<std::mutex> lk (lock_);
  auto it = remote_viewers_.find (stream);
  return it == remote_viewers_.end () ? 0 : it->second;
}

std::string
ClusterNode::remote_stats (const std::string & stream) const
{
  std::lock_guard<std::mutex> lk (lock_);
  auto it = remote_stats_.find (stream);
  return it == remote_stats_.end () ? "" : it->second;
}

}  // namespace castline::launcher
