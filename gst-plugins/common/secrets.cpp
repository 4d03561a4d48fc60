#include "common/secrets.h"

#include <glib.h>

namespace castline {

namespace {

void
sha256 (const std::string & s, guint8 out[32])
{
  g_autoptr (GChecksum) c = g_checksum_new (G_CHECKSUM_SHA256);
  g_checksum_update (c, (const guchar *) s.data (), (gssize) s.size ());
  gsize len = 32;
  g_checksum_get_digest (c, out, &len);
}

}  // namespace

bool
keys_equal (const std::string & expected, const std::string & offered)
{
  guint8 a[32], b[32];
  sha256 (expected, a);
  sha256 (offered, b);
  guint8 diff = 0;
  for (int i = 0; i < 32; i++)
    diff |= a[i] ^ b[i];
  return diff == 0;
}

}  // namespace castline
