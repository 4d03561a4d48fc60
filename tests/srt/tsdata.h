/* The SRT tests' real MPEG-TS (tests/srt/data, see its README). */
#pragma once

#include <glib.h>

#include <cstdint>
#include <string>
#include <vector>

/* data/NAME's bytes; empty when it cannot be read */
inline std::vector<uint8_t>
read_test_ts (const std::string & name)
{
  gchar *contents = nullptr;
  gsize size = 0;
  std::string path = std::string (SRT_TEST_DATA) + "/" + name;
  if (!g_file_get_contents (path.c_str (), &contents, &size, nullptr))
    return {};
  std::vector<uint8_t> out (contents, contents + size);
  g_free (contents);
  return out;
}
