/* castline-launcher: one publisher feeding one live stream. Every ingest
 * (WHIP, the WebSocket, RTMP and SRT) is one of these to the
 * stream manager, and comes in the same way:
 *
 *   1. its route makes it from what its protocol gives (an SDP offer's
 *      codecs, a MediaRecorder mimeType, a WebSocket),
 *   2. hands it to StreamManager::admit with the publisher's stream id and
 *      key: the one admission path (key, state, limits, shutting down),
 *      which chooses the pipeline for what the publisher sends, builds it,
 *      calls attach (), and starts it,
 *   3. the LiveStream owns it until the stream's pipeline is gone; then it
 *      is destroyed on the main context, which tears it down.
 *
 * What an ingest may touch: the StreamPipeline it is attached to (add its
 * own elements, link_media into video_in/audio_in, watch its own element
 * messages, watch_idle) and its Hooks; nothing of the manager. */
#pragma once

#include "streams/streampipeline.h"

#include <functional>
#include <string>
#include <vector>

namespace castline::launcher {

/* What a publisher sends: lower-case codec names ("h264", "vp8", "vp9" /
 * "opus"), in its order of preference. */
struct PublisherMedia {
  std::vector<std::string> video_codecs;
  std::vector<std::string> audio_codecs;
};

/* a publisher that sends one video and one audio codec ("": none of
 * that kind): RTMP's and SRT's, whose codecs are read from the stream */
PublisherMedia media_of_codecs (const std::string & video, const std::string & audio);

class Ingest {
 public:
  struct Hooks {
    /* Main context: the publisher went away without stopping (the stream
     * is interrupted: it may come back). media_ended: the ingest has ended
     * its media itself (EOS follows), else the pipeline is stopped. */
    std::function<void (const std::string & reason, bool media_ended)> publisher_lost;
  };

  Ingest ();
  /* Tears down: its elements leave the pipeline (stopped by then, or never
   * started), and no hook runs after. Main context. */
  virtual ~Ingest ();
  Ingest (const Ingest &) = delete;
  Ingest & operator= (const Ingest &) = delete;

  /* "whip", "websocket": the stream record's `ingest` */
  virtual const char *kind () const = 0;
  /* what the publisher offers */
  virtual const PublisherMedia & media () const = 0;

  /* Adds the ingest's elements to the stream's pipeline (not started yet)
   * and links what it receives to the graph (StreamPipeline::link_media,
   * then or later from a streaming thread). video_codec, audio_codec: what
   * the publisher is to send, chosen from media () ("" for a kind the
   * pipeline has no branch for). False with the reason. Main context. */
  virtual bool attach (StreamPipeline & pipeline, const std::string & video_codec,
      const std::string & audio_codec, Hooks hooks, std::string & error) = 0;

  /* Whether the publisher's encoder changes the video's size as it goes
   * (WebRTC adapts it to the bandwidth: an abr ladder waits for it to
   * settle, Config::abr_settle). */
  virtual bool video_size_adapts () const { return false; }

  /* Asks the publisher for a keyframe (a WebRTC PLI); nothing where the
   * publisher cannot be asked (MediaRecorder). Any thread. */
  virtual void request_keyframe () = 0;

  /* The publisher's link as the ingest measures it (SRT: RTT, loss,
   * retransmits, receive rate; srtserversrc's "stats"), for the stream's
   * stats and /metrics; nullptr where the protocol has none. A new
   * structure, its name the member it goes under ("srt"). Main context. */
  virtual GstStructure *link_stats () const { return nullptr; }

  /* this publisher session's id: random, unique (WHIP's session URL) */
  const std::string & session () const { return session_; }

 private:
  std::string session_;
};

}  // namespace castline::launcher
