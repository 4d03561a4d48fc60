#include "http/websocket.h"

#include "webmws/controlmessage.h"

namespace castline::launcher::http {

void
close_websocket (WebSocket * ws, unsigned short code, const std::string & reason)
{
  std::string cut = castline::webmws::utf8_prefix (reason, 123);
  soup_websocket_connection_close (ws, code, cut.c_str ());
}

}  // namespace castline::launcher::http
