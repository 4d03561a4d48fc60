#include "hls/masterplaylist.h"

GST_DEBUG_CATEGORY_EXTERN (castline_stream_debug);
#define GST_CAT_DEFAULT castline_stream_debug

namespace castline::launcher {

void
publish_master_playlist (const OutputSettings & out, const std::string & stream_id,
    const std::string & text)
{
  if (out.s3.enabled ()) {
    std::string key = out.s3.key_prefix + stream_id + "/index.m3u8";
    if (!out.s3_client)
      return;
    g_autoptr (GBytes) body = g_bytes_new (text.data (), text.size ());
    /* the answer comes on the client's thread: nothing of the pipeline there */
    out.s3_client->put_object (key, body, "application/vnd.apple.mpegurl", "max-age=1",
        [key] (castline::s3::S3Result r) {
          if (r.ok)
            GST_INFO ("master playlist uploaded to %s", key.c_str ());
          else
            g_warning ("the master playlist %s could not be uploaded: %s", key.c_str (),
                r.error.describe ().c_str ());
        });
    return;
  }
  std::string path = out.hls_dir + G_DIR_SEPARATOR_S + "index.m3u8";
  g_autoptr (GError) err = nullptr;
  if (!g_file_set_contents (path.c_str (), text.c_str (), (gssize) text.size (), &err))
    g_warning ("cannot write the master playlist %s: %s", path.c_str (), err->message);
  else
    GST_INFO ("master playlist written: %s", path.c_str ());
}

}  // namespace castline::launcher
