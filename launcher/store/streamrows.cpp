#include "store/streamrows.h"

#include <glib.h>

namespace castline::launcher {

const char *const kStreamColumns =
    "id, title, pipeline, key_hash, state, reason, ingest, created_at, scheduled_at, "
    "started_at, ended_at, record, node, session, resume_until, epoch";

const char *const kRecordingColumns =
    "stream_id, kind, name, duration_us, segments, created_at, bytes, error";

namespace {

/* the columns an update writes: all but id (1st) and epoch (last) */
const char *const kUpdatedColumns[] = { "title", "pipeline", "key_hash", "state", "reason",
  "ingest", "created_at", "scheduled_at", "started_at", "ended_at", "record", "node", "session",
  "resume_until" };
constexpr int kEpochColumn = 16;     /* 1-based, as placeholders count */

std::string
text_of (const std::function<const char *(int)> & column, int i)
{
  const char *t = column (i);
  return t ? t : "";
}

int64_t
int_of (const std::function<const char *(int)> & column, int i)
{
  const char *t = column (i);
  return t ? g_ascii_strtoll (t, nullptr, 10) : 0;
}

std::string
placeholder (char mark, int n)
{
  return std::string (1, mark) + std::to_string (n);
}

}  // namespace

std::vector<std::string>
stream_values (const StreamRecord & r)
{
  return { r.id, r.title, r.pipeline, r.key_hash, state_name (r.state), r.reason, r.ingest,
    std::to_string (r.created_at), std::to_string (r.scheduled_at),
    std::to_string (r.started_at), std::to_string (r.ended_at), r.record ? "1" : "0", r.node,
    std::to_string (r.session), std::to_string (r.resume_until), std::to_string (r.epoch) };
}

StreamRecord
stream_from_columns (const std::function<const char *(int)> & column)
{
  StreamRecord r;
  r.id = text_of (column, 0);
  r.title = text_of (column, 1);
  r.pipeline = text_of (column, 2);
  r.key_hash = text_of (column, 3);
  r.state = state_from_name (text_of (column, 4));
  r.reason = text_of (column, 5);
  r.ingest = text_of (column, 6);
  r.created_at = int_of (column, 7);
  r.scheduled_at = int_of (column, 8);
  r.started_at = int_of (column, 9);
  r.ended_at = int_of (column, 10);
  r.record = int_of (column, 11) != 0;
  r.node = text_of (column, 12);
  r.session = (unsigned) int_of (column, 13);
  r.resume_until = int_of (column, 14);
  r.epoch = int_of (column, 15);
  return r;
}

std::vector<std::string>
recording_values (const RecordingRecord & r)
{
  return { r.stream_id, r.kind, r.name, std::to_string (r.duration_us),
    std::to_string (r.segments), std::to_string (r.created_at), std::to_string (r.bytes),
    r.error };
}

RecordingRecord
recording_from_columns (const std::function<const char *(int)> & column)
{
  RecordingRecord r;
  r.stream_id = text_of (column, 0);
  r.kind = text_of (column, 1);
  r.name = text_of (column, 2);
  r.duration_us = int_of (column, 3);
  r.segments = (unsigned) int_of (column, 4);
  r.created_at = int_of (column, 5);
  r.bytes = int_of (column, 6);
  r.error = text_of (column, 7);
  return r;
}

std::string
stream_insert_sql (char mark)
{
  std::string sql = std::string ("INSERT INTO streams (") + kStreamColumns + ") VALUES (";
  for (int i = 1; i <= kEpochColumn; i++)
    sql += (i > 1 ? "," : "") + placeholder (mark, i);
  return sql + ")";
}

std::string
stream_update_sql (char mark, bool claim)
{
  std::string sql = "UPDATE streams SET ";
  int n = 2;                         /* placeholder 1 is the id */
  for (const char *c : kUpdatedColumns)
    sql += std::string (c) + " = " + placeholder (mark, n++) + ", ";
  sql += "epoch = epoch + 1 WHERE id = " + placeholder (mark, 1) + " AND epoch = "
      + placeholder (mark, kEpochColumn);
  if (claim)
    sql += " AND state IN ('created', 'scheduled', 'interrupted')";
  return sql;
}

}  // namespace castline::launcher
