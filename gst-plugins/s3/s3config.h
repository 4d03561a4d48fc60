/* castline: where and how to reach an S3-compatible bucket.
 *
 * One plain struct filled from element properties (or the launcher's
 * config), with the standard AWS_* environment variables as fallback, and
 * the addressing rules (path-style or virtual-hosted-style) in one place.
 */
#pragma once

#include "s3/sigv4.h"

#include <string>

namespace castline::s3 {

struct S3Url {
  std::string url;        /* full URL to request, percent-encoded */
  std::string host;       /* Host header value (host[:port]) */
  std::string path;       /* raw (decoded) path, as SigV4 wants it */
};

struct S3Config {
  std::string endpoint;   /* "http://127.0.0.1:4569", "https://s3.eu-west-1.amazonaws.com"; empty: AWS for region */
  std::string region;     /* empty: us-east-1 */
  std::string bucket;
  Credentials credentials;
  bool force_path_style = false;
  unsigned request_timeout_ms = 10000; /* without progress, per attempt */
  unsigned retries = 3;   /* extra attempts on 5xx, 429/SlowDown, time-outs, connection failures */
  std::string ca_file;    /* PEM bundle for HTTPS; empty: system default */

  /* Fills every empty field from AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY,
   * AWS_SESSION_TOKEN, AWS_REGION / AWS_DEFAULT_REGION, AWS_ENDPOINT_URL
   * (AWS_ENDPOINT_URL_S3 first) and AWS_CA_BUNDLE. */
  void apply_environment ();

  /* Checks bucket, endpoint and credentials; on failure returns false and
   * a sentence for a person in error (never containing a secret). */
  bool validate (std::string & error) const;

  std::string effective_region () const;
  bool uses_path_style () const;

  /* URL for an object key (empty key: the bucket itself) and a raw,
   * already-encoded query string ("uploads", "partNumber=1&uploadId=..."). */
  S3Url url_for (const std::string & key, const std::string & encoded_query = "") const;
};

/* A key prefix is valid when empty, or UTF-8 with no control characters, no
 * backslash, no leading '/', no empty, "." or ".." path segment. */
bool validate_key_prefix (const std::string & prefix, std::string & error);

/* An object key is valid when it is a non-empty valid prefix that does not
 * end with '/'. */
bool validate_object_key (const std::string & key, std::string & error);

/* A bucket name per S3's rules: 3-63 of a-z 0-9 . -, starting and ending
 * with a letter or digit. */
bool validate_bucket_name (const std::string & bucket, std::string & error);

}  // namespace castline::s3
