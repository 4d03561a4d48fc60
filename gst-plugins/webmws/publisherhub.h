/* castline: who publishes into a webmwssrc, and where their messages go.
 *
 * The hub holds the stream's one publisher (a SoupWebsocketConnection),
 * refuses or replaces newcomers, runs each publisher's WebmWsSession and
 * puts the WebM chunks into the ChunkQueue of the streaming thread. It
 * decides when the stream ends: when the publisher leaves after WebM has
 * gone downstream (closes, stops, is cut off, is refused mid-stream) the
 * queue gets its end; a publisher refused before sending any WebM leaves
 * the stream waiting for another.
 *
 * Threads: libsoup objects are not thread-safe, so every call on a
 * connection happens on the thread running the GMainContext it was made
 * on (the element's server thread, or the application's for handed-over
 * connections): directly from its signal handlers, through
 * g_main_context_invoke from anywhere else. The hub's state is under one
 * mutex, never held while calling libsoup (which may emit signals back) or
 * the listener.
 */
#pragma once

#include "webmws/chunkqueue.h"
#include "webmws/webmwssession.h"

#include <libsoup/soup.h>

#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

namespace castline::webmws {

struct HubSettings {
  bool replace_publisher = false;
  uint64_t max_message_size = 4 * 1024 * 1024;
  std::string default_media_type = "video/webm";
};

/* One publisher, as the element messages tell it. */
struct PublisherReport {
  std::string remote_address;
  std::string path;
  std::string mime_type;           /* as declared, when it was */
  bool replacing = false;          /* took over from another publisher */
  uint64_t bytes = 0;
  uint64_t messages = 0;
  uint64_t duration_ns = 0;
  uint16_t close_code = 0;
  std::string reason;
  bool closed_by_publisher = false;
};

struct HubListener {
  std::function<void (const PublisherReport &)> connected;
  std::function<void (const PublisherReport &)> disconnected;
  /* a connection that never became the publisher; close_code and reason say why */
  std::function<void (const PublisherReport &)> refused;
  std::function<void (WarningKind, const std::string & text, uint16_t close_code)> warning;
  /* the queue passed 75 % / refused a chunk (the publisher is then closed 1013) */
  std::function<void (uint64_t queued, uint64_t max)> queue_high;
  std::function<void (uint64_t queued, uint64_t max)> queue_full;
  /* the publisher's connection ended without a close frame, mid-stream */
  std::function<void (const PublisherReport &)> connection_lost;
};

struct HubStats {
  uint64_t publishers_accepted = 0;
  uint64_t publishers_refused = 0;
  uint64_t bytes_received = 0;
  uint64_t messages_received = 0;
  bool publisher_live = false;
  std::string publisher_address;
};

/* "address:port" of the peer of a WebSocket connection, or "" */
std::string remote_address_of (SoupWebsocketConnection * conn);

class PublisherHub : public std::enable_shared_from_this<PublisherHub> {
 public:
  struct Publisher;

  PublisherHub (HubSettings settings, std::shared_ptr<ChunkQueue> queue, HubListener listener);
  ~PublisherHub ();
  PublisherHub (const PublisherHub &) = delete;
  PublisherHub & operator= (const PublisherHub &) = delete;

  /* Takes a WebSocket connection as the stream's publisher. Call it on the
   * thread running the GMainContext the connection was made on; the hub
   * keeps using that context for it. False when refused: the connection has
   * then been closed with 1008 and the reason.
   * For a connection whose first messages the application read itself:
   * mime_type, what the publisher declared ("": the URL's ?mimeType=), and
   * first_bytes (nullptr: none), the WebM received so far, taken as the
   * publisher's first binary message. */
  bool add_connection (SoupWebsocketConnection * conn, const std::string & remote_address,
      const std::string & mime_type = "", GBytes * first_bytes = nullptr);

  /* Ends the stream for idleness and closes the publisher, if any, with
   * 1001 and reason. Any thread. */
  void end_idle (const std::string & reason);
  /* Ends the stream and closes the publisher, if any, with code and
   * reason (the application found its recording unreadable). Any thread. */
  void end_stream (uint16_t code, const std::string & reason);

  /* Refuses newcomers from now on and closes every connection (1001).
   * Any thread. */
  void shutdown ();

  /* Connections on context whose "closed" has not come yet. */
  size_t open_connections (GMainContext * context) const;
  /* Forgets the connections on a context nobody will run again (call it
   * from the thread that owned it). */
  void abandon (GMainContext * context);

  HubStats stats () const;

 private:
  friend struct HubCallbacks;

  void on_message (const std::shared_ptr<Publisher> & pub, SoupWebsocketDataType type,
      GBytes * message);
  void on_closed (const std::shared_ptr<Publisher> & pub);
  void on_error (const std::shared_ptr<Publisher> & pub, const GError * error);
  /* true when the queue must end */
  void leave_locked (Publisher & pub, bool end_requested);
  void close_on_context (const std::shared_ptr<Publisher> & pub, uint16_t code,
      const std::string & reason);
  void close_now (const std::shared_ptr<Publisher> & pub, uint16_t code,
      const std::string & reason);
  void connect_signals (const std::shared_ptr<Publisher> & pub);

  const HubSettings settings_;
  const std::shared_ptr<ChunkQueue> queue_;
  const HubListener listener_;

  mutable std::mutex lock_;
  std::vector<std::shared_ptr<Publisher>> connections_;   /* until "closed" */
  std::shared_ptr<Publisher> current_;
  bool stream_started_ = false;
  HeaderInfo stream_header_;       /* of the recording downstream is reading */
  bool shutdown_ = false;
  uint64_t next_id_ = 1;
  HubStats stats_;
};

}  // namespace castline::webmws
