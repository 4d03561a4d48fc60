/* castline tests: a libsrt caller in live mode, as ffmpeg or OBS would be,
 * for the listener's and srtingestsrc's tests. Include it before
 * gstcheck.h: its fail () macro breaks the C++ streams srt.h pulls in. */
#pragma once

#include "srt/srtsocket.h"

#include <srt/srt.h>

#include <gst/check/gstcheck.h>
#include <netinet/in.h>

#include <algorithm>
#include <cstdint>
#include <string>
#include <vector>

struct TestCaller {
  static constexpr size_t kMessage = 7 * 188;

  castline::srt::SrtSocket socket;
  int reject = 0;                      /* srt_getrejectreason after a failed connect */

  /* connects to 127.0.0.1:port; false with the reject reason */
  bool connect (int port, const std::string & stream_id, const std::string & passphrase = "")
  {
    socket.reset (srt_create_socket ());
    if (!stream_id.empty ())
      srt_setsockflag (socket.get (), SRTO_STREAMID, stream_id.data (), (int) stream_id.size ());
    if (!passphrase.empty ())
      srt_setsockflag (socket.get (), SRTO_PASSPHRASE, passphrase.data (), (int) passphrase.size ());
    sockaddr_in addr {};
    addr.sin_family = AF_INET;
    addr.sin_port = htons (port);
    addr.sin_addr.s_addr = htonl (INADDR_LOOPBACK);
    if (srt_connect (socket.get (), (sockaddr *) &addr, sizeof (addr)) == 0)
      return true;
    reject = srt_getrejectreason (socket.get ());
    socket.reset ();
    return false;
  }

  /* sends data in messages of 7 packets (blocking) */
  void send (const uint8_t *data, size_t size)
  {
    for (size_t off = 0; off < size; off += kMessage) {
      int n = (int) std::min (kMessage, size - off);
      fail_unless (srt_sendmsg (socket.get (), (const char *) data + off, n, -1, 1) == n,
          "send: %s", srt_getlasterror_str ());
    }
  }
  void send (const std::vector<uint8_t> & data) { send (data.data (), data.size ()); }
  void send (const std::string & data) { send ((const uint8_t *) data.data (), data.size ()); }

  void close () { socket.reset (); }
};
