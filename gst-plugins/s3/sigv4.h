/* castline: AWS Signature Version 4 request signing.
 *
 * Pure functions over a request description: no I/O, no clock, so the public
 * AWS SigV4 test suite can check them byte for byte (tests/s3/test_sigv4.cpp).
 */
#pragma once

#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace castline::s3 {

using HeaderList = std::vector<std::pair<std::string, std::string>>;

struct Credentials {
  std::string access_key;
  std::string secret_key;
  std::string session_token; /* empty when none */

  bool complete () const { return !access_key.empty () && !secret_key.empty (); }
};

struct SigningRequest {
  std::string method;                 /* "GET", "PUT", ... */
  std::string path;                   /* raw, not percent-encoded; starts with '/' */
  HeaderList query;                   /* raw (decoded) names and values; order irrelevant */
  HeaderList headers;                 /* as sent; must contain Host; any case, duplicates allowed */
  std::string payload_sha256;         /* lowercase hex, or "UNSIGNED-PAYLOAD" */
};

struct SigningOptions {
  std::string region;
  std::string service = "s3";
  std::string amz_date;               /* "YYYYMMDDTHHMMSSZ" (UTC) */
  bool normalize_path = false;        /* S3: false (keys are taken literally) */
  bool sign_session_token = true;     /* false: X-Amz-Security-Token added after signing */
  bool add_content_sha256_header = true; /* S3 requires x-amz-content-sha256 */
};

struct SigningResult {
  std::string canonical_request;
  std::string string_to_sign;
  std::string signature;              /* lowercase hex */
  std::string authorization;          /* value of the Authorization header */
  HeaderList headers_to_add;          /* X-Amz-Date, x-amz-content-sha256, X-Amz-Security-Token, Authorization */
};

SigningResult sign_request (const SigningRequest & request,
    const Credentials & credentials, const SigningOptions & options);

/* RFC 3986 percent-encoding as SigV4 defines it: everything but unreserved
 * characters (A-Z a-z 0-9 - . _ ~) is encoded as %XX (upper-case hex);
 * '/' is kept when keep_slash is true (paths), encoded otherwise. */
std::string uri_encode (std::string_view in, bool keep_slash);

std::string sha256_hex (const void *data, size_t size);
inline std::string sha256_hex (std::string_view s) { return sha256_hex (s.data (), s.size ()); }

/* "20150830T123600Z" for a Unix time in seconds. */
std::string amz_date_from_unix (long long unix_seconds);

}  // namespace castline::s3
