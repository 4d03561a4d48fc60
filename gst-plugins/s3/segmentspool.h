/* castline: where finished segments wait for S3.
 *
 * Bytes stay in memory up to memory_limit; beyond that they spill to files
 * in a private directory; beyond total_limit put() refuses, and the caller
 * reports that the spool is full. Thread-safe: the streaming thread puts,
 * the upload thread gets and drops.
 */
#pragma once

#include <glib.h>

#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <string>

namespace castline::s3 {

class SegmentSpool {
 public:
  /* directory: parent of the private spill directory (empty: the system
   * temporary directory); it is made on first spill and removed with the
   * spool. */
  SegmentSpool (uint64_t memory_limit, uint64_t total_limit, std::string directory);
  ~SegmentSpool ();
  SegmentSpool (const SegmentSpool &) = delete;
  SegmentSpool & operator= (const SegmentSpool &) = delete;

  /* Stores (or replaces) the bytes of name. False, with a reason, when the
   * spool limit would be exceeded or the spill file cannot be written.
   * Each successful put gets a new generation (increasing across names). */
  bool put (const std::string & name, GBytes * bytes, uint64_t & generation,
      std::string & error);
  /* The bytes of name (read back from disk when spilled), or nullptr. */
  std::shared_ptr<GBytes> get (const std::string & name) const;
  void drop (const std::string & name);
  /* Drops name only if no put newer than generation has replaced it. */
  void drop_generation (const std::string & name, uint64_t generation);
  void clear ();

  uint64_t bytes () const;          /* memory + disk */
  uint64_t disk_bytes () const;
  size_t count () const;
  uint64_t total_limit () const { return total_limit_; }

 private:
  struct Entry {
    std::shared_ptr<GBytes> memory;  /* null when spilled */
    std::string path;                /* spill file when spilled */
    uint64_t size = 0;
    uint64_t generation = 0;
  };
  void drop_locked (const std::string & name);
  bool ensure_dir_locked (std::string & error);

  const uint64_t memory_limit_;
  const uint64_t total_limit_;
  const std::string parent_dir_;
  mutable std::mutex lock_;
  std::map<std::string, Entry> entries_;
  uint64_t last_generation_ = 0;
  std::string dir_;
  uint64_t memory_bytes_ = 0;
  uint64_t disk_bytes_ = 0;
  uint64_t file_counter_ = 0;
};

}  // namespace castline::s3
