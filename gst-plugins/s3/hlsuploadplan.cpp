#include "s3/hlsuploadplan.h"

#include <algorithm>
#include <sstream>

namespace castline::s3 {

std::vector<std::string>
HlsUploadPlan::segment_names (const std::string & playlist)
{
  std::vector<std::string> out;
  std::istringstream in (playlist);
  std::string line;
  while (std::getline (in, line)) {
    while (!line.empty () && (line.back () == '\r' || line.back () == ' '))
      line.pop_back ();
    if (line.empty () || line[0] == '#')
      continue;
    std::string uri = line.substr (0, line.find_first_of ("?#"));
    auto slash = uri.rfind ('/');
    out.push_back (slash == std::string::npos ? uri : uri.substr (slash + 1));
  }
  return out;
}

void
HlsUploadPlan::segment_ready (const std::string & name, uint64_t generation)
{
  Segment & s = segments_[name];
  if (!s.seq)
    s.seq = next_seq_++;
  s.generation = generation;
  s.expired = false;
  switch (s.state) {
    case SegState::InFlight:
      s.dirty = true;
      break;
    case SegState::Queued:
      if (std::find (queue_.begin (), queue_.end (), name) == queue_.end ())
        queue_.push_back (name);
      break;
    case SegState::Uploaded:
    case SegState::Deleting:
      s.state = SegState::Queued;
      queue_.push_back (name);
      break;
  }
}

void
HlsUploadPlan::playlist_ready (const std::string & name, const std::string & content)
{
  Playlist & p = playlists_[name];
  UploadAction a { UploadAction::Kind::PutPlaylist, name, p.next_version++, content };
  p.waiting.push_back (std::move (a));
}

void
HlsUploadPlan::release (const std::string & name, uint64_t generation)
{
  released_.emplace_back (name, generation);
}

void
HlsUploadPlan::requeue (const std::string & name)
{
  /* back into the queue at its place in the making order, so segments that
   * failed together go up again in order */
  uint64_t seq = segments_[name].seq;
  auto pos = std::find_if (queue_.begin (), queue_.end (),
      [&] (const std::string & n) { return segments_[n].seq > seq; });
  queue_.insert (pos, name);
}

void
HlsUploadPlan::segment_expired (const std::string & name)
{
  auto it = segments_.find (name);
  if (it == segments_.end ()) {
    /* unknown here (made before this plan existed): delete it all the same */
    Segment s;
    s.state = SegState::Uploaded;
    s.expired = true;
    s.seq = next_seq_++;
    segments_[name] = s;
    return;
  }
  Segment & s = it->second;
  s.expired = true;
  if (s.state == SegState::Queued) {
    /* never reached the bucket and no playlist will name it again */
    queue_.erase (std::remove (queue_.begin (), queue_.end (), name), queue_.end ());
    release (name, s.generation);
    segments_.erase (it);
  }
}

bool
HlsUploadPlan::segment_uploaded (const std::string & name) const
{
  auto it = segments_.find (name);
  return it != segments_.end () && it->second.state == SegState::Uploaded
      && !it->second.dirty;
}

bool
HlsUploadPlan::named_by_any_remote (const std::string & name) const
{
  for (auto & [pname, p] : playlists_)
    if (p.remote_names.count (name) || p.in_flight_names.count (name))
      return true;
  return false;
}

std::vector<UploadAction>
HlsUploadPlan::take_actions ()
{
  std::vector<UploadAction> out;

  /* Playlists first: a ready playlist is what viewers wait for. */
  for (auto & [name, p] : playlists_) {
    if (p.in_flight || p.waiting.empty ())
      continue;
    /* newest version whose segments are all in the bucket */
    for (auto it = p.waiting.rbegin (); it != p.waiting.rend (); ++it) {
      auto names = segment_names (it->content);
      bool ready = std::all_of (names.begin (), names.end (),
          [this] (const std::string & n) { return segment_uploaded (n); });
      if (!ready)
        continue;
      UploadAction a = *it;
      /* drop this version and every older one */
      p.waiting.erase (p.waiting.begin (), it.base ());
      p.in_flight = true;
      p.in_flight_names = std::set<std::string> (names.begin (), names.end ());
      playlists_in_flight_++;
      out.push_back (std::move (a));
      break;
    }
  }

  /* Deletes of expired segments that no playlist in the bucket names. */
  for (auto & [name, s] : segments_) {
    if (s.expired && s.state == SegState::Uploaded && !s.dirty
        && !named_by_any_remote (name)
        && std::find (delete_queue_.begin (), delete_queue_.end (), name) == delete_queue_.end ())
      delete_queue_.push_back (name);
  }

  while (in_flight_segments_ + in_flight_deletes_ < max_parallel_
      && (!queue_.empty () || !delete_queue_.empty ())) {
    if (!queue_.empty ()) {
      std::string name = queue_.front ();
      queue_.pop_front ();
      Segment & s = segments_[name];
      s.state = SegState::InFlight;
      s.dirty = false;
      in_flight_segments_++;
      out.push_back (UploadAction { UploadAction::Kind::PutSegment, name, s.generation, {} });
    } else {
      std::string name = delete_queue_.front ();
      delete_queue_.pop_front ();
      segments_[name].state = SegState::Deleting;
      in_flight_deletes_++;
      out.push_back (UploadAction { UploadAction::Kind::DeleteSegment, name, 0, {} });
    }
  }
  return out;
}

void
HlsUploadPlan::action_done (const UploadAction & a, bool ok)
{
  switch (a.kind) {
    case UploadAction::Kind::PutSegment: {
      in_flight_segments_--;
      auto it = segments_.find (a.name);
      if (it == segments_.end ())
        return;
      Segment & s = it->second;
      if (!ok || s.dirty) {
        s.state = SegState::Queued;
        s.dirty = false;
        requeue (a.name);
      } else {
        s.state = SegState::Uploaded;
        release (a.name, a.version);  /* its bytes are in the bucket now */
      }
      break;
    }
    case UploadAction::Kind::PutPlaylist: {
      playlists_in_flight_--;
      Playlist & p = playlists_[a.name];
      p.in_flight = false;
      if (ok)
        p.remote_names = p.in_flight_names;
      else
        p.waiting.push_front (a);  /* older than anything waiting: order kept */
      p.in_flight_names.clear ();
      break;
    }
    case UploadAction::Kind::DeleteSegment: {
      in_flight_deletes_--;
      auto it = segments_.find (a.name);
      if (it == segments_.end ())
        return;
      if (ok) {
        if (it->second.state == SegState::Deleting)
          segments_.erase (it);
      } else if (it->second.state == SegState::Deleting) {
        it->second.state = SegState::Uploaded;  /* retried by the next take_actions */
      }
      break;
    }
  }
}

std::vector<std::pair<std::string, uint64_t>>
HlsUploadPlan::take_released ()
{
  std::vector<std::pair<std::string, uint64_t>> out;
  out.swap (released_);
  return out;
}

bool
HlsUploadPlan::idle () const
{
  if (in_flight () || !queue_.empty () || !delete_queue_.empty ())
    return false;
  for (auto & [name, p] : playlists_)
    if (!p.waiting.empty ())
      return false;
  for (auto & [name, s] : segments_)
    if (s.expired)
      return false;
  return true;
}

size_t
HlsUploadPlan::pending_uploads () const
{
  size_t n = queue_.size () + in_flight_segments_;
  for (auto & [name, p] : playlists_)
    n += (p.waiting.empty () ? 0 : 1) + (p.in_flight ? 1 : 0);
  return n;
}

}  // namespace castline::s3
