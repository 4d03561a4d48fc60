#include "ingest/websocket/websocketprelude.h"

#include <memory>

namespace castline::launcher {

using castline::webmws::SessionLimits;
using castline::webmws::SessionOutcome;
using castline::webmws::WebmWsSession;
namespace close_code = castline::webmws::close_code;

namespace {

struct Prelude {
  http::WebSocket *ws = nullptr;       /* owned reference */
  WebmWsSession session { SessionLimits () };
  WebSocketPrelude::Ready ready;
  unsigned timeout_s = 0;
  gulong handlers[2] = { 0, 0 };
  GSource *timer = nullptr;
  bool done = false;

  ~Prelude ()
  {
    if (timer) {
      g_source_destroy (timer);
      g_source_unref (timer);
    }
    if (ws)
      g_object_unref (ws);
  }
};

using PreludeRef = std::shared_ptr<Prelude>;

/* No handler and no timer of the prelude stays on the connection. */
void
finish (Prelude & p)
{
  p.done = true;
  for (gulong & id : p.handlers) {
    if (id)
      g_signal_handler_disconnect (p.ws, id);    /* may free the last PreludeRef but ours */
    id = 0;
  }
  if (p.timer) {
    g_source_destroy (p.timer);
    g_source_unref (p.timer);
    p.timer = nullptr;
  }
}

void
close_with (Prelude & p, uint16_t code, const std::string & reason)
{
  if (soup_websocket_connection_get_state (p.ws) == SOUP_WEBSOCKET_STATE_OPEN)
    http::close_websocket (p.ws, code, reason);
}

void
act_on (const PreludeRef & p, const SessionOutcome & out)
{
  if (!out.reply.empty ()
      && soup_websocket_connection_get_state (p->ws) == SOUP_WEBSOCKET_STATE_OPEN)
    soup_websocket_connection_send_text (p->ws, out.reply.c_str ());
  if (out.close) {
    if (!out.warning.empty ())
      g_message ("WebSocket publisher refused before going live: %s", out.warning.c_str ());
    finish (*p);
    close_with (*p, out.close->code, out.close->reason);
    return;
  }
  if (out.first_chunk) {
    finish (*p);
    p->ready (p->ws, p->session, out.chunk.get ());
  }
}

void
on_message (SoupWebsocketConnection *, gint type, GBytes * message, gpointer data)
{
  PreludeRef p = *static_cast<PreludeRef *> (data);
  if (p->done)
    return;
  SessionOutcome out;
  if (type == SOUP_WEBSOCKET_DATA_BINARY) {
    out = p->session.on_binary (message);
  } else {
    gsize len = 0;
    const char *text = (const char *) g_bytes_get_data (message, &len);
    out = p->session.on_text (text ? text : "", len);
  }
  act_on (p, out);
}

void
on_closed (SoupWebsocketConnection *, gpointer data)
{
  PreludeRef p = *static_cast<PreludeRef *> (data);
  if (!p->done)
    finish (*p);                       /* gone before its header: nothing to undo */
}

void
free_ref (gpointer data, GClosure *)
{
  delete static_cast<PreludeRef *> (data);
}

}  // namespace

void
WebSocketPrelude::start (http::WebSocket * ws, const std::string & url_mime_type,
    unsigned timeout_s, Ready ready)
{
  auto p = std::make_shared<Prelude> ();
  p->ws = (http::WebSocket *) g_object_ref (ws);
  p->ready = std::move (ready);
  p->timeout_s = timeout_s;
  /* as webmwssrc does: libsoup drops a frame over its limit without a
   * close frame; above ours, the session closes 1009 with a reason */
  soup_websocket_connection_set_max_incoming_payload_size (ws,
      SessionLimits ().max_message_size * 2);
  if (!url_mime_type.empty ()) {
    SessionOutcome out = p->session.declare_mime_type (url_mime_type);
    if (out.close) {
      close_with (*p, out.close->code, out.close->reason);
      return;
    }
  }
  p->handlers[0] = g_signal_connect_data (ws, "message", G_CALLBACK (on_message),
      new PreludeRef (p), free_ref, (GConnectFlags) 0);
  p->handlers[1] = g_signal_connect_data (ws, "closed", G_CALLBACK (on_closed),
      new PreludeRef (p), free_ref, (GConnectFlags) 0);
  if (timeout_s > 0) {
    p->timer = g_timeout_source_new_seconds (timeout_s);
    std::weak_ptr<Prelude> weak = p;
    g_source_set_callback (p->timer, [] (gpointer data) -> gboolean {
          auto *w = static_cast<std::weak_ptr<Prelude> *> (data);
          PreludeRef p = w->lock ();
          if (p && !p->done) {
            g_source_unref (p->timer);
            p->timer = nullptr;          /* this source is over */
            finish (*p);
            close_with (*p, close_code::going_away, "no WebM header within "
                + std::to_string (p->timeout_s) + " s");
          }
          return G_SOURCE_REMOVE;
        }, new std::weak_ptr<Prelude> (weak),
        [] (gpointer data) { delete static_cast<std::weak_ptr<Prelude> *> (data); });
    g_source_attach (p->timer, g_main_context_get_thread_default ());
  }
}

}  // namespace castline::launcher
