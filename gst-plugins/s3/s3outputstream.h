/* castline: a GOutputStream that collects an object in memory and hands
 * its bytes over when the writer flushes or closes it.
 *
 * hlssink2 writes each segment and playlist into a stream it got from its
 * get-*-stream signals: giostreamsink flushes a segment's stream at the
 * segment's EOS, and hlssink2 drops (so closes) a playlist's stream when it
 * is written. Either is the moment the object is complete. Bytes written
 * after such a hand-over make the next flush or close hand over the whole,
 * longer object again.
 */
#pragma once

#include <gio/gio.h>

#include <functional>

G_BEGIN_DECLS

#define CASTLINE_TYPE_S3_OUTPUT_STREAM (castline_s3_output_stream_get_type ())
G_DECLARE_FINAL_TYPE (CastlineS3OutputStream, castline_s3_output_stream, CASTLINE,
    S3_OUTPUT_STREAM, GOutputStream)

G_END_DECLS

/* complete(bytes) runs on the writer's thread; returning false (with a
 * message in error) makes the flush or close fail with G_IO_ERROR_FAILED. */
using CastlineS3StreamComplete =
    std::function<bool (GBytes * bytes, GError ** error)>;

GOutputStream *castline_s3_output_stream_new (CastlineS3StreamComplete complete);
