#include "ingest/ingest.h"

#include "store/streamstore.h"

namespace castline::launcher {

Ingest::Ingest () : session_ (random_token (12))
{
}

Ingest::~Ingest () = default;

PublisherMedia
media_of_codecs (const std::string & video, const std::string & audio)
{
  PublisherMedia media;
  if (!video.empty ())
    media.video_codecs.push_back (video);
  if (!audio.empty ())
    media.audio_codecs.push_back (audio);
  return media;
}

}  // namespace castline::launcher
