#include "rawwsclient.h"

#include <cstring>

namespace castline::test {

RawWsClient::~RawWsClient ()
{
  cut ();
}

void
RawWsClient::cut ()
{
  if (conn_) {
    g_io_stream_close (G_IO_STREAM (conn_), nullptr, nullptr);
    g_clear_object (&conn_);
  }
  socket_ = nullptr;
}

bool
RawWsClient::write_all (const void *buf, size_t n)
{
  if (!socket_)
    return false;
  const char *p = static_cast<const char *> (buf);
  while (n > 0) {
    gssize w = g_socket_send (socket_, p, n, nullptr, nullptr);
    if (w <= 0)
      return false;
    p += w;
    n -= (size_t) w;
  }
  return true;
}

bool
RawWsClient::read_exact (void *buf, size_t n, gint64 deadline_us)
{
  char *p = static_cast<char *> (buf);
  size_t from_pending = std::min (n, pending_.size ());
  memcpy (p, pending_.data (), from_pending);
  pending_.erase (0, from_pending);
  p += from_pending;
  n -= from_pending;
  while (n > 0) {
    if (!socket_)
      return false;
    gint64 left = deadline_us - g_get_monotonic_time ();
    if (left <= 0)
      return false;
    if (!g_socket_condition_timed_wait (socket_, G_IO_IN, left, nullptr, nullptr))
      return false;
    gssize r = g_socket_receive (socket_, p, n, nullptr, nullptr);
    if (r <= 0)
      return false;
    p += r;
    n -= (size_t) r;
  }
  return true;
}

unsigned
RawWsClient::connect (int port, const std::string & target, const std::string & extra_headers)
{
  cut ();
  pending_.clear ();
  g_autoptr (GSocketClient) client = g_socket_client_new ();
  g_socket_client_set_timeout (client, 5);
  conn_ = g_socket_client_connect_to_host (client, "127.0.0.1", (guint16) port, nullptr, nullptr);
  if (!conn_)
    return 0;
  socket_ = g_socket_connection_get_socket (conn_);
  std::string req = "GET " + target + " HTTP/1.1\r\nHost: 127.0.0.1:" + std::to_string (port)
      + "\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
      "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n"
      + extra_headers + "\r\n";
  if (!write_all (req.data (), req.size ()))
    return 0;
  std::string head;
  gint64 deadline = g_get_monotonic_time () + 5 * G_USEC_PER_SEC;
  while (head.find ("\r\n\r\n") == std::string::npos) {
    char c;
    if (!read_exact (&c, 1, deadline) || head.size () > 16384)
      return 0;
    head += c;
  }
  unsigned status = 0;
  if (sscanf (head.c_str (), "HTTP/1.1 %u", &status) != 1)
    return 0;
  return status;
}

bool
RawWsClient::send_frame (uint8_t opcode, const void *data, size_t size, bool fin)
{
  std::string f;
  f += (char) ((fin ? 0x80 : 0) | opcode);
  if (size < 126) {
    f += (char) (0x80 | size);
  } else if (size < 65536) {
    f += (char) (0x80 | 126);
    f += (char) (size >> 8);
    f += (char) (size & 0xff);
  } else {
    f += (char) (0x80 | 127);
    for (int i = 7; i >= 0; i--)
      f += (char) (((uint64_t) size >> (8 * i)) & 0xff);
  }
  const uint8_t mask[4] = { 0x12, 0x34, 0x56, 0x78 };
  f.append ((const char *) mask, 4);
  const uint8_t *in = static_cast<const uint8_t *> (data);
  size_t start = f.size ();
  f.resize (start + size);
  for (size_t i = 0; i < size; i++)
    f[start + i] = (char) (in[i] ^ mask[i % 4]);
  return write_all (f.data (), f.size ());
}

bool
RawWsClient::send_close (uint16_t code, const std::string & reason)
{
  std::string body;
  body += (char) (code >> 8);
  body += (char) (code & 0xff);
  body += reason;
  return send_frame (kClose, body.data (), body.size ());
}

bool
RawWsClient::read_frame (Frame & out, unsigned timeout_ms)
{
  gint64 deadline = g_get_monotonic_time () + (gint64) timeout_ms * 1000;
  uint8_t h[2];
  if (!read_exact (h, 2, deadline))
    return false;
  uint64_t len = h[1] & 0x7f;
  if (len == 126 || len == 127) {
    uint8_t ext[8];
    size_t n = len == 126 ? 2 : 8;
    if (!read_exact (ext, n, deadline))
      return false;
    len = 0;
    for (size_t i = 0; i < n; i++)
      len = (len << 8) | ext[i];
  }
  if (len > 16 * 1024 * 1024)
    return false;
  out.opcode = h[0] & 0x0f;
  out.payload.resize ((size_t) len);
  return len == 0 || read_exact (&out.payload[0], (size_t) len, deadline);
}

bool
RawWsClient::wait_close (uint16_t & code, std::string & reason, unsigned timeout_ms)
{
  gint64 deadline = g_get_monotonic_time () + (gint64) timeout_ms * 1000;
  Frame f;
  while (g_get_monotonic_time () < deadline) {
    if (!read_frame (f, (unsigned) std::max<gint64> (1, (deadline - g_get_monotonic_time ()) / 1000)))
      return false;
    if (f.opcode != kClose)
      continue;
    code = f.payload.size () >= 2
        ? (uint16_t) (((uint8_t) f.payload[0] << 8) | (uint8_t) f.payload[1]) : 1005;
    reason = f.payload.size () > 2 ? f.payload.substr (2) : "";
    send_close (code);
    return true;
  }
  return false;
}

bool
RawWsClient::read_text (std::string & text, unsigned timeout_ms)
{
  gint64 deadline = g_get_monotonic_time () + (gint64) timeout_ms * 1000;
  Frame f;
  while (g_get_monotonic_time () < deadline) {
    if (!read_frame (f, (unsigned) std::max<gint64> (1, (deadline - g_get_monotonic_time ()) / 1000)))
      return false;
    if (f.opcode == kText) {
      text = f.payload;
      return true;
    }
  }
  return false;
}

}  // namespace castline::test
