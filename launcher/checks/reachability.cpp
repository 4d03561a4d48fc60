#include "checks/reachability.h"

#include "config/s3settings.h"
#include "s3/s3client.h"
#include "store/openstore.h"

#include <cstdio>

namespace castline::launcher {

namespace {

bool
check_store (const Config & config)
{
  std::string error;
  std::unique_ptr<StreamStore> store = open_store (config.store.url, config.data_dir, error);
  if (!store) {
    printf ("store: %s: %s\n", redact_store_url (config.store.url).c_str (), error.c_str ());
    return false;
  }
  printf ("store: %s %s ok\n", store->kind (), store->describe ().c_str ());
  return true;
}

/* A bounded question: a refused connection answers at once, a silent
 * endpoint after the time-out, and one retry rides out a hiccup without
 * passing 10 s. */
constexpr unsigned kS3TimeoutMs = 4000;
constexpr unsigned kS3Retries = 1;

bool
check_s3 (const Config & config)
{
  if (!config.s3.enabled ()) {
    printf ("s3: not configured (HLS served from %s)\n", config.data_dir.c_str ());
    return true;
  }
  castline::s3::S3Config s3 = s3_client_config (config.s3);
  s3.request_timeout_ms = kS3TimeoutMs;
  s3.retries = kS3Retries;
  std::string where = "bucket " + s3.bucket + " at " + s3.endpoint;
  std::string error;
  if (!s3.validate (error)) {
    printf ("s3: %s: %s\n", where.c_str (), error.c_str ());
    return false;
  }
  castline::s3::S3Client client (std::move (s3));
  castline::s3::S3Result r = client.wait ([&client] (castline::s3::S3Callback cb) {
    client.head_bucket (std::move (cb));
  });
  if (!r.ok) {
    printf ("s3: %s: %s\n", where.c_str (), r.error.describe ().c_str ());
    return false;
  }
  printf ("s3: %s ok\n", where.c_str ());
  return true;
}

}  // namespace

bool
run_checks (const Config & config)
{
  bool store = check_store (config);
  bool s3 = check_s3 (config);
  return store && s3;
}

}  // namespace castline::launcher
