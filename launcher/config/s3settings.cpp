#include "config/s3settings.h"

namespace castline::launcher {

castline::s3::S3Config
s3_client_config (const S3Output & out)
{
  castline::s3::S3Config s3;
  s3.endpoint = out.endpoint;
  s3.region = out.region;
  s3.bucket = out.bucket;
  s3.credentials.access_key = out.access_key;
  s3.credentials.secret_key = out.secret_key;
  s3.apply_environment ();
  return s3;
}

}  // namespace castline::launcher
