/* castline-launcher: the store a configuration names. */
#pragma once

#include "store/streamstore.h"

#include <memory>
#include <string>

namespace castline::launcher {

/* url: "" (<data_dir>/castline.db), "sqlite:PATH" (a file elsewhere than
 * the media), or "postgresql://..." / "postgres://..." (libpq's URI form:
 * user, password, host, port, dbname, and parameters such as sslmode).
 * Opens it and brings its schema up to date (the migrations a database
 * lacks, applied once; under an advisory lock on PostgreSQL, so nodes
 * starting together do not race). */
std::unique_ptr<StreamStore> open_store (const std::string & url, const std::string & data_dir,
    std::string & error);

/* The bus of a shared store's database (nullptr for SQLite). */
std::unique_ptr<ClusterBus> open_bus (const std::string & url, std::string & error);

/* url with any password replaced by "***" (for logs) */
std::string redact_store_url (const std::string & url);

}  // namespace castline::launcher
