/* castline-launcher: the S3 client settings of the configured output
 * (s3.*, then the AWS_* environment), for the launcher's own uploads
 * (recordings, master playlists) and --check. */
#pragma once

#include "config/config.h"
#include "s3/s3client.h"

namespace castline::launcher {

castline::s3::S3Config s3_client_config (const S3Output & out);

}  // namespace castline::launcher
