/* castline: the WebSocket a route is handed after an upgrade.
 *
 * It is libsoup's SoupWebsocketConnection, the one WebSocket
 * implementation castline has: webmwssrc takes it (add-connection) and
 * its own standalone server makes it too. It is not tied to libsoup's
 * server: any server makes one over the upgraded connection's GIOStream
 * (soup_websocket_connection_new). Routes only close it with a code and a
 * reason (close_websocket) or hand it to an element. */
#pragma once

#include <libsoup/soup.h>

#include <string>

namespace castline::http {

using WebSocket = SoupWebsocketConnection;

/* RFC 6455 7.4.1 */
constexpr unsigned short kCloseUnsupportedData = 1003;
constexpr unsigned short kClosePolicyViolation = 1008;
constexpr unsigned short kCloseServerError = 1011;

/* The longest prefix of valid UTF-8 text s that fits in max_bytes (close
 * reasons have room for 123 bytes, and a cut character would make the
 * peer fail the connection). */
std::string utf8_prefix (const std::string & s, size_t max_bytes);

/* Closes with code and reason (cut to the 123 bytes a close frame holds,
 * at a character boundary). */
void close_websocket (WebSocket * ws, unsigned short code, const std::string & reason);

}  // namespace castline::http
