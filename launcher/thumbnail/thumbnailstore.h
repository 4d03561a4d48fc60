/* castline-launcher: where a stream's thumbnails go. With local output
 * the JPEG replaces <hls_dir>/thumbnail.jpg atomically (a temporary file
 * renamed over it: a reader gets the old picture or the new one, never
 * half of one); with S3 output it is uploaded beside the playlist,
 * <key_prefix><id>/thumbnail.jpg, one upload at a time and the latest
 * picture winning: a picture that comes while one is in flight waits,
 * and a newer one replaces it. Nothing here waits for the network. */
#pragma once

#include "s3/s3client.h"

#include <glib.h>

#include <memory>
#include <string>

namespace castline::launcher {

/* the file name of a stream's thumbnail, in its folder or key prefix */
inline constexpr const char kThumbnailName[] = "thumbnail.jpg";
/* how long a viewer's cache may keep one: about an interval */
inline constexpr const char kThumbnailCacheControl[] = "max-age=5";

class ThumbnailStore {
 public:
  virtual ~ThumbnailStore () = default;
  /* A new JPEG. Any thread (the thumbnail branch's streaming thread); the
   * local write is a few KB, an upload only starts. */
  virtual void put (GBytes * jpeg) = 0;

  /* <dir>/thumbnail.jpg */
  static std::shared_ptr<ThumbnailStore> local (std::string dir);
  /* key (<key_prefix><id>/thumbnail.jpg) through client */
  static std::shared_ptr<ThumbnailStore> s3 (std::shared_ptr<castline::s3::S3Client> client,
      std::string key);
};

}  // namespace castline::launcher
