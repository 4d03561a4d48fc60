// Why a broadcast could not start or went on no longer, as the broadcast
// page tells it. kind says what the page does next:
//   'key'      wrong stream id or key: ask again, no retry
//   'ended'    the stream is over: nothing more to do
//   'busy'     someone (or our previous session, not yet noticed gone)
//              publishes already: retry while reconnecting
//   'full'     the server is at its limit of live streams: retry later
//   'media'    the server takes none of the codecs sent
//   'network'  the server could not be reached or the connection failed
export class PublishError extends Error {
  constructor(kind, message) {
    super(message);
    this.kind = kind;
  }
}

// The launcher's {"error": "..."} body, or the text itself.
export function reasonOf(body) {
  try {
    return JSON.parse(body).error || body;
  } catch {
    return body;
  }
}
