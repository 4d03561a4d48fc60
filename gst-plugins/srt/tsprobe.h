/* castline srt: which codecs an MPEG-TS carries, from its PAT and its
 * (first) program's PMT, so the launcher picks a pipeline before any
 * media goes down it. Pure; fuzzed (tests/fuzz/fuzz_srt.cpp).
 *
 * Stream types (ISO/IEC 13818-1 table 2-34, and the registration
 * descriptors HLS/DVB use):
 *   0x1b H.264 -> "h264"; 0x24 H.265 -> "h265"; 0x0f AAC ADTS -> "aac";
 *   0x11 AAC LATM -> "aac-latm"; 0x03/0x04 MPEG audio -> "mp3";
 *   0x81 (or a registration "AC-3") -> "ac3"; 0x06 private data with a
 *   registration descriptor "Opus" -> "opus", "AV01" -> "av1";
 *   0x01/0x02 -> "mpeg2"; anything else is skipped (data, KLV, SCTE-35).
 * The first video and the first audio stream are what the caller sends.
 *
 * Sections are read only when whole and their CRC32 is right (a section
 * split over packets is assembled, up to 1024 bytes: the PSI limit); a
 * broken one is ignored and the next repetition is waited for. */
#pragma once

#include <cstddef>
#include <cstdint>
#include <map>
#include <string>
#include <vector>

namespace castline::srt {

/* MPEG-2's CRC32 (ISO/IEC 13818-1 Annex A): 0 over a whole section with
 * its CRC */
uint32_t mpeg_crc32 (const uint8_t *data, size_t size);

class TsProbe {
 public:
  /* whole 188-byte packets (TsHandoff's output), size a multiple of 188 */
  void push (const uint8_t *packets, size_t size);

  /* a PMT was read */
  bool done () const { return done_; }
  /* "" when the program has none */
  const std::string & video () const { return video_; }
  const std::string & audio () const { return audio_; }

 private:
  struct Section {
    std::vector<uint8_t> data;
    bool started = false;
  };
  void on_packet (const uint8_t *p);
  void on_section (uint16_t pid, const std::vector<uint8_t> & section);

  std::map<uint16_t, Section> sections_;   /* PID 0 and the PMT's */
  int pmt_pid_ = -1;
  bool done_ = false;
  std::string video_, audio_;
};

}  // namespace castline::srt
