/* castline-launcher: a stream's and a recording's row as both stores
 * write and read it: the columns in one order, every value as text (what
 * libpq's text format carries; SQLite's INTEGER affinity turns a number's
 * text back into an integer), and the statements the stores share.
 * Placeholders are written "<mark><n>": SQLite takes "?1", PostgreSQL
 * "$1". */
#pragma once

#include "store/streamstore.h"

#include <functional>
#include <string>
#include <vector>

namespace castline::launcher {

/* the streams table's columns, in the order of stream_values */
extern const char *const kStreamColumns;
/* the recordings table's columns, in the order of recording_values */
extern const char *const kRecordingColumns;

std::vector<std::string> stream_values (const StreamRecord & r);
/* column (i): the text of the i-th column of kStreamColumns (nullptr: NULL) */
StreamRecord stream_from_columns (const std::function<const char *(int)> & column);

std::vector<std::string> recording_values (const RecordingRecord & r);
RecordingRecord recording_from_columns (const std::function<const char *(int)> & column);

/* INSERT of every column; its values are stream_values */
std::string stream_insert_sql (char mark);
/* UPDATE of every column but id and epoch, epoch moved on by one, where
 * the id and epoch are the record's (the values are stream_values);
 * claim: only while the stream may take a publisher */
std::string stream_update_sql (char mark, bool claim);

}  // namespace castline::launcher
