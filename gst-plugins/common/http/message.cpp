#include "common/http/message.h"

#include <unistd.h>

namespace castline::http {

namespace {

bool
same_name (std::string_view a, std::string_view b)
{
  return a.size () == b.size () && g_ascii_strncasecmp (a.data (), b.data (), a.size ()) == 0;
}

}  // namespace

const char *
Headers::get (std::string_view name) const
{
  for (auto it = fields_.rbegin (); it != fields_.rend (); ++it)
    if (same_name (it->first, name))
      return it->second.c_str ();
  return nullptr;
}

void
Headers::set (std::string_view name, std::string value)
{
  remove (name);
  append (name, std::move (value));
}

void
Headers::append (std::string_view name, std::string value)
{
  fields_.emplace_back (std::string (name), std::move (value));
}

void
Headers::remove (std::string_view name)
{
  for (auto it = fields_.begin (); it != fields_.end ();)
    it = same_name (it->first, name) ? fields_.erase (it) : it + 1;
}

const char *
Request::param (const std::string & name) const
{
  auto it = query.find (name);
  return it == query.end () ? nullptr : it->second.c_str ();
}

FileBody::~FileBody ()
{
  if (fd_ >= 0)
    close (fd_);
}

PendingResponse::~PendingResponse () = default;
ResponseStream::~ResponseStream () = default;
Transport::~Transport () = default;

void
Response::set_body (const char *content_type, Bytes bytes)
{
  headers.set ("Content-Type", content_type);
  body = std::move (bytes);
}

std::shared_ptr<PendingResponse>
Response::defer ()
{
  g_return_val_if_fail (transport_ && !taken_, nullptr);
  taken_ = true;
  return transport_->defer ();
}

std::shared_ptr<ResponseStream>
Response::start_stream ()
{
  g_return_val_if_fail (transport_ && !taken_, nullptr);
  taken_ = true;
  return transport_->start_stream (*this);
}

}  // namespace castline::http
