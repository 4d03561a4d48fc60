/* castline-launcher: its settings, their defaults, and the JSON file that
 * changes them (every key is documented in the README). */
#pragma once

#include "hls/abrladder.h"

#include <string>
#include <vector>

namespace castline::launcher {

struct S3Output {
  std::string endpoint;            /* empty: HLS stays in the data directory */
  std::string bucket;
  std::string region = "us-east-1";
  std::string access_key;
  std::string secret_key;          /* never logged */
  std::string key_prefix = "live/";
  std::string public_base_url;     /* playback_url = this + <key_prefix><id>/index.m3u8 */

  bool enabled () const { return !endpoint.empty (); }
};

/* Where stream events are POSTed (WebhookSender; the README's Webhooks). */
struct WebhookSettings {
  std::vector<std::string> urls;   /* http:// or https://, checked at load */
  std::string secret;              /* HMAC-SHA256 key of X-Castline-Signature; never logged */
  unsigned retries = 5;            /* attempts after the first, on retryable failures */
  unsigned timeout = 5;            /* s per attempt */
};

/* What a client may take of the HTTP server (the README's Security and
 * limits); the request time-out is Config::http_request_timeout. */
struct HttpSettings {
  unsigned threads = 0;                        /* server threads; 0: one per CPU, at least 2 */
  unsigned max_connections = 10000;            /* open connections in all */
  unsigned max_connections_per_address = 5000; /* open connections per client address */
  unsigned max_header_bytes = 32 * 1024;       /* request line and headers of one request */
};

/* The RTMP server publishers (OBS, ffmpeg, encoders) push to (the
 * README's RTMP section). */
struct RtmpSettings {
  int port = 1935;                 /* 0: no plain RTMP */
  std::string host;                /* empty: Config::host */
  int tls_port = 0;                /* RTMPS; 0: none */
  std::string tls_cert, tls_key;   /* PEM files, both needed with tls_port */
  std::string application = "live";

  bool enabled () const { return port != 0 || tls_port != 0; }
};

/* The SRT port callers (OBS, vMix, ffmpeg, encoders) push MPEG-TS to
 * (the README's SRT section). */
struct SrtSettings {
  int port = 8890;                 /* UDP; 0: no SRT */
  std::string host;                /* empty: Config::host */
  unsigned latency = 120;          /* ms, the receiver's buffer (SRTO_RCVLATENCY), 20 to 8000 */
  /* every caller must encrypt with it (10 to 79 characters); empty: no
   * encryption. Never logged. */
  std::string passphrase;
  unsigned pbkeylen = 0;           /* 0 (the caller's), 16, 24 or 32 */

  bool enabled () const { return port != 0; }
};

/* WebRTC playback (WHEP, the README's WHEP section). */
struct WebRtcSettings {
  /* WebRTC viewers of one stream at once; 0: no WHEP (POST /whep 503) */
  unsigned max_viewers = 100;
  /* Bearer token POST/PATCH/DELETE /whep need; empty: public, like the
   * HLS. Never logged. */
  std::string token;

  bool enabled () const { return max_viewers > 0; }
};

/* Where streams are kept (store/openstore.h): "" the data directory's
 * castline.db; "sqlite:PATH"; or a PostgreSQL URI, which every node of a
 * cluster names (the README's Cluster section). Never logged: it may
 * hold a password. */
struct StoreSettings {
  std::string url;

  bool shared () const
  {
    return url.rfind ("postgresql://", 0) == 0 || url.rfind ("postgres://", 0) == 0;
  }
};

/* This node of a cluster (cluster/clusternode.h). */
struct NodeSettings {
  std::string id;                  /* empty: the host name */
  /* where this node's API, ingest and playback are reached by the other
   * nodes' redirects (WHIP 307, /live/ 302); empty: Config::base_url */
  std::string public_url;
  /* s a node's lease lasts unless renewed (every lease/5 s); past it
   * the others take its live streams over (interrupted), and a node that
   * could not renew it for that long stops its own. 3 to 120. */
  unsigned lease = 10;
};

/* a JPEG of each live stream's picture (ThumbnailBranch) */
struct ThumbnailSettings {
  unsigned interval = 5;           /* s, at least, between two; 0: no thumbnails */
  unsigned width = 320;            /* px; the height keeps the picture's aspect */
  bool enabled () const { return interval > 0; }
};

struct Config {
  std::string host = "127.0.0.1";
  int port = 8080;
  std::string data_dir = "castline-data";
  /* Bearer token of the admin API; empty: the API answers loopback
   * clients only */
  std::string admin_token;
  /* base of the URLs handed out (whip_url, ws_url, playback_url); empty:
   * http://host:port */
  std::string public_url;
  /* where pipeline descriptions are read from, in order; a later file of
   * the same name replaces an earlier one */
  std::vector<std::string> pipeline_dirs;
  unsigned max_live_streams = 16;
  unsigned idle_timeout = 10;          /* s without data: the stream ends */
  /* s an interrupted stream (its publisher lost without stopping) waits
   * for the publisher to come back before it ends; 0: it ends at once */
  unsigned reconnect_window = 30;
  unsigned shutdown_timeout = 10;      /* s given to live pipelines to finalize */
  /* s an HTTP connection may go without sending or taking anything (between
   * requests, in its headers or body, or not reading its answer) */
  unsigned http_request_timeout = 30;
  HttpSettings http;
  unsigned hls_target_duration = 2;    /* s */
  unsigned hls_playlist_length = 6;    /* segments named by the live playlist */
  unsigned hls_max_files = 10;         /* segments kept on disk */
  /* LL-HLS (llhlssink: CMAF parts, blocking playlist reload) for output
   * castline serves itself; ignored with S3 output, which stays classic
   * HLS (blocking reload needs an origin that holds requests) */
  bool hls_low_latency = true;
  double hls_part_target = 0.3;        /* s, 0.1 to 2.0: LL-HLS parts */
  std::vector<std::string> ice_servers;  /* stun:host:port, turn://user:pass@host:port */
  std::string cors_origin = "*";
  /* the rungs of the abr pipeline (README, "Adaptive bitrate") */
  std::vector<Rung> ladder = default_ladder ();
  /* a stream created without a pipeline whose publisher sends video gets abr */
  bool abr_default = false;
  /* s a WebRTC publisher's video size gets to settle before its abr ladder
   * is built (held that long, at most twice that); 0: at the first caps */
  unsigned abr_settle = 4;
  /* record every stream not created with "record": false (Recorder) */
  bool record = false;
  /* recordings also get recording.mp4, remuxed from the segments
   * (Mp4Remux; local output only) */
  bool record_mp4 = false;
  /* recordings.retention_days: recordings older than that are removed
   * (RecordingRetention); a decimal (0.5: 12 hours); 0: kept forever */
  double recordings_retention_days = 0;
  S3Output s3;
  StoreSettings store;
  NodeSettings node;
  WebhookSettings webhooks;
  RtmpSettings rtmp;
  SrtSettings srt;
  WebRtcSettings webrtc;
  ThumbnailSettings thumbnails;
  /* the web pages and their assets (WebPages) */
  std::string web_dir;
  /* hls.js, served as /ui/hls.min.js */
  std::string hlsjs_path;
  /* uPlot's dist/ folder: /ui/uPlot.iife.min.js and /ui/uPlot.min.css */
  std::string uplot_dir;

  /* http://host:port or public_url, without a trailing slash */
  std::string base_url () const;
  /* The URL of a file of a stream's output (its directory served under
   * /live/{id}/, or its S3 prefix): "index.m3u8", "vod.m3u8". */
  std::string output_url (const std::string & id, const std::string & file) const;
  /* where a stream's HLS is played from: its index.m3u8 */
  std::string playback_url (const std::string & id) const { return output_url (id, "index.m3u8"); }
  /* where the RTMP server listens: rtmp.host, else host */
  const std::string & rtmp_host () const { return rtmp.host.empty () ? host : rtmp.host; }
  /* where the SRT port listens: srt.host, else host */
  const std::string & srt_host () const { return srt.host.empty () ? host : srt.host; }
  /* node.public_url, else base_url (), without a trailing slash */
  std::string node_url () const;
  /* a stream's local HLS directory: <data_dir>/live/<id> */
  std::string hls_dir (const std::string & id) const { return data_dir + "/live/" + id; }
  /* the outputs are LL-HLS: hls.low_latency, and served by castline */
  bool low_latency () const { return hls_low_latency && !s3.enabled (); }
};

/* The defaults, with the pipelines shipped in this tree. */
Config default_config ();

/* Reads a JSON object over the defaults. Unknown keys and wrong types are
 * errors (a typo must not silently keep a default). */
bool load_config (const std::string & path, Config & config, std::string & error);

}  // namespace castline::launcher
