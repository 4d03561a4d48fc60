/* castline-launcher: removing the files of a stream's recordings, in its
 * local directory or under its S3 key prefix (DELETE
 * /api/streams/{id}/recordings, recordings.retention_days).
 *
 * A recording's files are those it alone keeps:
 *   a VOD media playlist (vod.m3u8, <rung>/vod.m3u8): itself and every
 *     segment it names (and its EXT-X-MAP init segment), but those its
 *     output's live playlist (index.m3u8 next to it) still names: the
 *     ended stream's own playlist keeps playing its last segments, as an
 *     unrecorded stream's does;
 *   a VOD master (an abr stream's vod.m3u8 at its root): itself;
 *   an MP4: itself.
 * A file already gone counts as removed (a second DELETE, a race with
 * retention); any other failure keeps that recording (listed, to be
 * removed again) and says why.
 *
 * The work runs on a worker thread (GTask): local files are read and
 * unlinked there; S3 objects are read and deleted (DeleteObjects, 1000
 * keys a request) through the S3 client, each request bounded by its
 * time-out and retries, waited for there. The main context never waits.
 * done runs on the main context that started it. */
#pragma once

#include "store/streamstore.h"

#include "s3/s3client.h"

#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

namespace castline::launcher {

/* Where a stream's recordings are. */
struct RecordingPlace {
  std::string dir;                 /* local output: the stream's directory; "" with S3 */
  std::string key_prefix;          /* S3 output: "<key_prefix><id>/"; "" locally */
  std::shared_ptr<castline::s3::S3Client> s3;   /* with key_prefix */
};

struct RemovalResult {
  std::vector<RecordingRecord> removed;      /* the recordings whose files are gone */
  /* what was removed, relative to the stream's directory or prefix, in
   * order ("vod.m3u8", "segment00000.ts", "360p/vod.m3u8") */
  std::vector<std::string> files;
  /* the bytes freed (local output); nullopt with S3, whose DeleteObjects
   * tells no sizes */
  std::optional<guint64> bytes;
  /* the recordings kept, each with why */
  std::vector<std::pair<RecordingRecord, std::string>> failed;
};

using RemovalDone = std::function<void (RemovalResult)>;

/* Starts removing the files of recordings (all of one stream, at place);
 * done runs once on the calling thread's main context. */
void remove_recording_files (RecordingPlace place, std::vector<RecordingRecord> recordings,
    RemovalDone done);

}  // namespace castline::launcher
