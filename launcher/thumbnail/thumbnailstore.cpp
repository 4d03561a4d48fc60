#include "thumbnail/thumbnailstore.h"

#include <gst/gst.h>

#include <atomic>
#include <mutex>

GST_DEBUG_CATEGORY_EXTERN (castline_stream_debug);
#define GST_CAT_DEFAULT castline_stream_debug

namespace castline::launcher {

namespace {

class LocalThumbnails : public ThumbnailStore {
 public:
  explicit LocalThumbnails (std::string dir)
      : path_ (std::move (dir) + G_DIR_SEPARATOR_S + kThumbnailName) {}

  void put (GBytes * jpeg) override
  {
    gsize size = 0;
    const gchar *data = static_cast<const gchar *> (g_bytes_get_data (jpeg, &size));
    g_autoptr (GError) err = nullptr;
    /* CONSISTENT: a temporary file renamed over the old one; no fsync, a
     * thumbnail lost in a crash is made again in seconds */
    if (!g_file_set_contents_full (path_.c_str (), data, (gssize) size,
            G_FILE_SET_CONTENTS_CONSISTENT, 0644, &err)) {
      /* said once, not every few seconds */
      if (!warned_.exchange (true))
        g_warning ("cannot write the thumbnail %s: %s", path_.c_str (), err->message);
      return;
    }
    warned_ = false;
    GST_LOG ("thumbnail written: %s (%" G_GSIZE_FORMAT " bytes)", path_.c_str (), size);
  }

 private:
  std::string path_;
  std::atomic<bool> warned_ { false };
};

class S3Thumbnails : public ThumbnailStore, public std::enable_shared_from_this<S3Thumbnails> {
 public:
  S3Thumbnails (std::shared_ptr<castline::s3::S3Client> client, std::string key)
      : client_ (std::move (client)), key_ (std::move (key)) {}

  void put (GBytes * jpeg) override
  {
    if (!client_)
      return;                      /* no S3 client: nowhere to put it */
    {
      std::lock_guard<std::mutex> lk (lock_);
      if (in_flight_) {
        pending_.reset (g_bytes_ref (jpeg));   /* the latest wins */
        return;
      }
      in_flight_ = true;
    }
    upload (g_bytes_ref (jpeg));
  }

 private:
  /* takes jpeg; the answer comes on the client's thread */
  void upload (GBytes * jpeg)
  {
    std::weak_ptr<S3Thumbnails> weak = shared_from_this ();
    std::string key = key_;
    client_->put_object (key_, jpeg, "image/jpeg", kThumbnailCacheControl,
        [weak, key] (castline::s3::S3Result r) {
          if (!r.ok)
            GST_WARNING ("thumbnail %s not uploaded: %s", key.c_str (),
                r.error.describe ().c_str ());
          if (auto self = weak.lock ())
            self->next ();
        });
    g_bytes_unref (jpeg);
  }

  void next ()
  {
    GBytes *jpeg;
    {
      std::lock_guard<std::mutex> lk (lock_);
      jpeg = pending_.release ();
      in_flight_ = jpeg != nullptr;
    }
    if (jpeg)
      upload (jpeg);
  }

  std::shared_ptr<castline::s3::S3Client> client_;
  std::string key_;
  std::mutex lock_;                    /* below */
  bool in_flight_ = false;
  castline::s3::BytesPtr pending_;
};

}  // namespace

std::shared_ptr<ThumbnailStore>
ThumbnailStore::local (std::string dir)
{
  return std::make_shared<LocalThumbnails> (std::move (dir));
}

std::shared_ptr<ThumbnailStore>
ThumbnailStore::s3 (std::shared_ptr<castline::s3::S3Client> client, std::string key)
{
  return std::make_shared<S3Thumbnails> (std::move (client), std::move (key));
}

}  // namespace castline::launcher
