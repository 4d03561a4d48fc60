/* castline tests: a WebSocket client written by hand, so a test sees the
 * exact close code on the wire (libsoup's client turns 1013 into 1002) and
 * can break the protocol or cut the TCP connection at will. Blocking, with
 * a time-out on every read: for test threads only. */
#pragma once

#include <gio/gio.h>

#include <cstdint>
#include <string>

namespace castline::test {

class RawWsClient {
 public:
  RawWsClient () = default;
  ~RawWsClient ();
  RawWsClient (const RawWsClient &) = delete;
  RawWsClient & operator= (const RawWsClient &) = delete;

  /* Connects to 127.0.0.1:port and asks to upgrade target (path and
   * query); extra_headers are "Name: value\r\n" lines. Returns the HTTP
   * status (101 on success), 0 when the connection failed. */
  unsigned connect (int port, const std::string & target, const std::string & extra_headers = "");

  enum Opcode : uint8_t { kText = 0x1, kBinary = 0x2, kClose = 0x8, kPing = 0x9, kPong = 0xA };
  /* one masked frame */
  bool send_frame (uint8_t opcode, const void *data, size_t size, bool fin = true);
  bool send_binary (const std::string & bytes) { return send_frame (kBinary, bytes.data (), bytes.size ()); }
  bool send_text (const std::string & text) { return send_frame (kText, text.data (), text.size ()); }
  /* a close frame with code and reason */
  bool send_close (uint16_t code, const std::string & reason = "");

  struct Frame {
    uint8_t opcode = 0;
    std::string payload;
  };
  /* the next frame from the server, false on time-out or a closed socket */
  bool read_frame (Frame & out, unsigned timeout_ms = 5000);
  /* reads until a close frame comes (skipping others): its code and reason;
   * false when none came in time */
  bool wait_close (uint16_t & code, std::string & reason, unsigned timeout_ms = 5000);
  /* the next text frame, skipping others */
  bool read_text (std::string & text, unsigned timeout_ms = 5000);

  /* drops the TCP connection without a close frame */
  void cut ();

 private:
  bool read_exact (void *buf, size_t n, gint64 deadline_us);
  bool write_all (const void *buf, size_t n);

  GSocketConnection *conn_ = nullptr;
  GSocket *socket_ = nullptr;
  std::string pending_;     /* bytes read past the HTTP response */
};

}  // namespace castline::test
