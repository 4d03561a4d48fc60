/* castline: the S3 connection properties every castline S3 element shares
 * (bucket, endpoint, region, credentials, addressing, retries, time-out),
 * installed and handled in one place so they read the same in gst-inspect
 * for every element. */
#pragma once

#include "s3/s3config.h"

#include <glib-object.h>

enum CastlineS3Prop {
  CASTLINE_S3_PROP_BUCKET = 1,
  CASTLINE_S3_PROP_ENDPOINT,
  CASTLINE_S3_PROP_REGION,
  CASTLINE_S3_PROP_ACCESS_KEY,
  CASTLINE_S3_PROP_SECRET_KEY,
  CASTLINE_S3_PROP_SESSION_TOKEN,
  CASTLINE_S3_PROP_FORCE_PATH_STYLE,
  CASTLINE_S3_PROP_RETRIES,
  CASTLINE_S3_PROP_REQUEST_TIMEOUT,
  /* an element's own properties start here */
  CASTLINE_S3_PROP_LAST
};

#define CASTLINE_S3_DEFAULT_RETRIES 3
#define CASTLINE_S3_DEFAULT_REQUEST_TIMEOUT_MS 10000

void castline_s3_install_properties (GObjectClass * klass);

/* A string property's value into a std::string; NULL gives fallback. */
void castline_string_from_value (std::string & field, const GValue * value,
    const char *fallback = "");
/* A std::string into a string property's value; empty gives NULL. */
void castline_string_to_value (const std::string & field, GValue * value);

/* Both return FALSE when prop_id is not one of the shared properties. The
 * caller holds the object lock. Secrets are write-only: get never returns
 * them. */
gboolean castline_s3_set_property (castline::s3::S3Config & config,
    guint prop_id, const GValue * value);
gboolean castline_s3_get_property (const castline::s3::S3Config & config,
    guint prop_id, GValue * value);
