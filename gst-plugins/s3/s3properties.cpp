#include "s3/s3properties.h"

#include <gst/gst.h>

using castline::s3::S3Config;

void
castline_s3_install_properties (GObjectClass * klass)
{
  const auto rw = (GParamFlags) (G_PARAM_READWRITE | G_PARAM_STATIC_STRINGS
      | GST_PARAM_MUTABLE_READY);
  const auto wo = (GParamFlags) (G_PARAM_WRITABLE | G_PARAM_STATIC_STRINGS
      | GST_PARAM_MUTABLE_READY);

  g_object_class_install_property (klass, CASTLINE_S3_PROP_BUCKET,
      g_param_spec_string ("bucket", "Bucket",
          "Name of the S3 bucket to write to (must exist)", nullptr, rw));
  g_object_class_install_property (klass, CASTLINE_S3_PROP_ENDPOINT,
      g_param_spec_string ("endpoint", "Endpoint",
          "S3 endpoint URL, e.g. http://127.0.0.1:4569 (s3rver, MinIO), "
          "https://<account>.r2.cloudflarestorage.com (R2), "
          "https://<project>.supabase.co/storage/v1/s3 (Supabase). "
          "Default: $AWS_ENDPOINT_URL_S3, $AWS_ENDPOINT_URL, else AWS for the region",
          nullptr, rw));
  g_object_class_install_property (klass, CASTLINE_S3_PROP_REGION,
      g_param_spec_string ("region", "Region",
          "Signing region. Default: $AWS_REGION, $AWS_DEFAULT_REGION, else us-east-1",
          nullptr, rw));
  g_object_class_install_property (klass, CASTLINE_S3_PROP_ACCESS_KEY,
      g_param_spec_string ("access-key", "Access key ID",
          "Access key ID. Default: $AWS_ACCESS_KEY_ID", nullptr, rw));
  g_object_class_install_property (klass, CASTLINE_S3_PROP_SECRET_KEY,
      g_param_spec_string ("secret-key", "Secret access key",
          "Secret access key (write-only, never logged). "
          "Default: $AWS_SECRET_ACCESS_KEY", nullptr, wo));
  g_object_class_install_property (klass, CASTLINE_S3_PROP_SESSION_TOKEN,
      g_param_spec_string ("session-token", "Session token",
          "Temporary-credentials session token (write-only, never logged). "
          "Default: $AWS_SESSION_TOKEN", nullptr, wo));
  g_object_class_install_property (klass, CASTLINE_S3_PROP_FORCE_PATH_STYLE,
      g_param_spec_boolean ("force-path-style", "Force path-style",
          "Address objects as <endpoint>/<bucket>/<key> instead of "
          "<bucket>.<endpoint-host>/<key>. Path style is always used for IP "
          "and localhost endpoints and for bucket names with dots", FALSE, rw));
  g_object_class_install_property (klass, CASTLINE_S3_PROP_RETRIES,
      g_param_spec_uint ("retries", "Retries",
          "Extra attempts of one request on 5xx, 429/SlowDown, time-outs and "
          "connection failures, with exponential backoff and jitter "
          "(other 4xx answers fail at once)", 0, 20, CASTLINE_S3_DEFAULT_RETRIES, rw));
  g_object_class_install_property (klass, CASTLINE_S3_PROP_REQUEST_TIMEOUT,
      g_param_spec_uint ("request-timeout", "Request time-out",
          "Longest time in milliseconds one request attempt may go without "
          "progress (no byte of the body sent, no answer); a time-out is retried",
          100, 600000, CASTLINE_S3_DEFAULT_REQUEST_TIMEOUT_MS, rw));
}

void
castline_string_from_value (std::string & field, const GValue * value, const char *fallback)
{
  const char *s = g_value_get_string (value);
  field = s ? s : fallback;
}

gboolean
castline_s3_set_property (S3Config & c, guint prop_id, const GValue * value)
{
  switch (prop_id) {
    case CASTLINE_S3_PROP_BUCKET:
      castline_string_from_value (c.bucket, value);
      return TRUE;
    case CASTLINE_S3_PROP_ENDPOINT:
      castline_string_from_value (c.endpoint, value);
      return TRUE;
    case CASTLINE_S3_PROP_REGION:
      castline_string_from_value (c.region, value);
      return TRUE;
    case CASTLINE_S3_PROP_ACCESS_KEY:
      castline_string_from_value (c.credentials.access_key, value);
      return TRUE;
    case CASTLINE_S3_PROP_SECRET_KEY:
      castline_string_from_value (c.credentials.secret_key, value);
      return TRUE;
    case CASTLINE_S3_PROP_SESSION_TOKEN:
      castline_string_from_value (c.credentials.session_token, value);
      return TRUE;
    case CASTLINE_S3_PROP_FORCE_PATH_STYLE:
      c.force_path_style = g_value_get_boolean (value);
      return TRUE;
    case CASTLINE_S3_PROP_RETRIES:
      c.retries = g_value_get_uint (value);
      return TRUE;
    case CASTLINE_S3_PROP_REQUEST_TIMEOUT:
      c.request_timeout_ms = g_value_get_uint (value);
      return TRUE;
    default:
      return FALSE;
  }
}

void
castline_string_to_value (const std::string & field, GValue * value)
{
  g_value_set_string (value, field.empty () ? nullptr : field.c_str ());
}

gboolean
castline_s3_get_property (const S3Config & c, guint prop_id, GValue * value)
{
  switch (prop_id) {
    case CASTLINE_S3_PROP_BUCKET:
      castline_string_to_value (c.bucket, value);
      return TRUE;
    case CASTLINE_S3_PROP_ENDPOINT:
      castline_string_to_value (c.endpoint, value);
      return TRUE;
    case CASTLINE_S3_PROP_REGION:
      castline_string_to_value (c.region, value);
      return TRUE;
    case CASTLINE_S3_PROP_ACCESS_KEY:
      castline_string_to_value (c.credentials.access_key, value);
      return TRUE;
    case CASTLINE_S3_PROP_FORCE_PATH_STYLE:
      g_value_set_boolean (value, c.force_path_style);
      return TRUE;
    case CASTLINE_S3_PROP_RETRIES:
      g_value_set_uint (value, c.retries);
      return TRUE;
    case CASTLINE_S3_PROP_REQUEST_TIMEOUT:
      g_value_set_uint (value, c.request_timeout_ms);
      return TRUE;
    default:
      /* secret-key and session-token are write-only */
      return FALSE;
  }
}
