/* castline-launcher: what every store shares: the names of the states,
 * stream keys (kept as digests) and the random tokens and ids. */
#include "store/streamstore.h"

#include <glib.h>
#include <sys/random.h>

#include <cerrno>

namespace castline::launcher {

const char *
state_name (StreamState s)
{
  switch (s) {
    case StreamState::created:
      return "created";
    case StreamState::scheduled:
      return "scheduled";
    case StreamState::live:
      return "live";
    case StreamState::ended:
      return "ended";
    case StreamState::failed:
      return "failed";
    case StreamState::interrupted:
      return "interrupted";
  }
  return "failed";
}

StreamState
state_from_name (const std::string & s)
{
  for (StreamState st : { StreamState::created, StreamState::scheduled, StreamState::live,
           StreamState::ended, StreamState::interrupted })
    if (s == state_name (st))
      return st;
  return StreamState::failed;
}

std::string
hash_key (const std::string & key)
{
  g_autofree gchar *hex = g_compute_checksum_for_string (G_CHECKSUM_SHA256, key.data (),
      (gssize) key.size ());
  return hex;
}

bool
key_matches (const std::string & key, const std::string & key_hash)
{
  std::string h = hash_key (key);
  if (h.size () != key_hash.size ())
    return false;
  unsigned char diff = 0;
  for (size_t i = 0; i < h.size (); i++)
    diff |= (unsigned char) (h[i] ^ key_hash[i]);
  return diff == 0;
}

static void
random_bytes (unsigned char *buf, size_t n)
{
  size_t got = 0;
  while (got < n) {
    ssize_t r = getrandom (buf + got, n - got, 0);
    if (r < 0 && errno == EINTR)
      continue;
    if (r <= 0)
      g_error ("getrandom failed: %s", g_strerror (errno));   /* no keys without entropy */
    got += (size_t) r;
  }
}

std::string
random_token (size_t n_bytes)
{
  std::string raw (n_bytes, '\0');
  random_bytes ((unsigned char *) &raw[0], n_bytes);
  g_autofree gchar *b64 = g_base64_encode ((const guchar *) raw.data (), raw.size ());
  std::string s (b64);
  for (char & c : s)
    c = c == '+' ? '-' : c == '/' ? '_' : c;
  while (!s.empty () && s.back () == '=')
    s.pop_back ();
  return s;
}

std::string
random_stream_id ()
{
  static const char alphabet[] = "abcdefghijklmnopqrstuvwxyz0123456789";
  unsigned char raw[12];
  random_bytes (raw, sizeof (raw));
  std::string id;
  for (unsigned char b : raw)
    id += alphabet[b % 36];
  return id;
}

bool
valid_stream_id (const std::string & id)
{
  if (id.empty () || id.size () > 64 || id[0] == '-')
    return false;
  for (char c : id)
    if (!(g_ascii_islower (c) || g_ascii_isdigit (c) || c == '-'))
      return false;
  return true;
}

}  // namespace castline::launcher
