#include "s3/s3outputstream.h"

struct _CastlineS3OutputStream {
  GOutputStream parent;
  GByteArray *data;
  gboolean dirty;               /* bytes written since the last hand-over */
  CastlineS3StreamComplete *complete;
};

G_DEFINE_TYPE (CastlineS3OutputStream, castline_s3_output_stream, G_TYPE_OUTPUT_STREAM)

static gboolean
hand_over (CastlineS3OutputStream * self, GError ** error)
{
  if (!self->dirty)
    return TRUE;
  self->dirty = FALSE;
  GBytes *bytes = g_bytes_new (self->data->data, self->data->len);
  gboolean ok = (*self->complete) (bytes, error);
  g_bytes_unref (bytes);
  return ok;
}

static gssize
castline_s3_output_stream_write (GOutputStream * stream, const void *buffer,
    gsize count, GCancellable *, GError **)
{
  auto *self = CASTLINE_S3_OUTPUT_STREAM (stream);
  g_byte_array_append (self->data, (const guint8 *) buffer, (guint) count);
  self->dirty = TRUE;
  return (gssize) count;
}

static gboolean
castline_s3_output_stream_flush (GOutputStream * stream, GCancellable *, GError ** error)
{
  return hand_over (CASTLINE_S3_OUTPUT_STREAM (stream), error);
}

static gboolean
castline_s3_output_stream_close (GOutputStream * stream, GCancellable *, GError ** error)
{
  return hand_over (CASTLINE_S3_OUTPUT_STREAM (stream), error);
}

static void
castline_s3_output_stream_finalize (GObject * object)
{
  auto *self = CASTLINE_S3_OUTPUT_STREAM (object);
  g_byte_array_unref (self->data);
  delete self->complete;
  G_OBJECT_CLASS (castline_s3_output_stream_parent_class)->finalize (object);
}

static void
castline_s3_output_stream_class_init (CastlineS3OutputStreamClass * klass)
{
  G_OBJECT_CLASS (klass)->finalize = castline_s3_output_stream_finalize;
  auto *ostream_class = G_OUTPUT_STREAM_CLASS (klass);
  ostream_class->write_fn = castline_s3_output_stream_write;
  ostream_class->flush = castline_s3_output_stream_flush;
  ostream_class->close_fn = castline_s3_output_stream_close;
}

static void
castline_s3_output_stream_init (CastlineS3OutputStream * self)
{
  self->data = g_byte_array_new ();
  self->dirty = FALSE;
  self->complete = nullptr;
}

GOutputStream *
castline_s3_output_stream_new (CastlineS3StreamComplete complete)
{
  auto *self = CASTLINE_S3_OUTPUT_STREAM (g_object_new (CASTLINE_TYPE_S3_OUTPUT_STREAM, nullptr));
  self->complete = new CastlineS3StreamComplete (std::move (complete));
  return G_OUTPUT_STREAM (self);
}
