/* TsProbe: the codecs of real TS from ffmpeg (H.264+AAC, H.264+Opus,
 * HEVC+AAC, audio only), a broken CRC, PSI sections spread over several
 * packets, registration descriptors, and PMTs that lie. */
#include "srt/tsprobe.h"

#include "srt/tshandoff.h"

#include "tsdata.h"

#include "../assertions.h"

#include <gst/check/gstcheck.h>

#include <string>
#include <vector>

using namespace castline::srt;

/* the packets pushed one at a time; how many until done (0: never) */
static size_t
probe_packets (TsProbe & probe, const std::vector<uint8_t> & ts)
{
  for (size_t off = 0; off + kTsPacketSize <= ts.size (); off += kTsPacketSize) {
    probe.push (ts.data () + off, kTsPacketSize);
    if (probe.done ())
      return off / kTsPacketSize + 1;
  }
  return 0;
}

static void
check_codecs (const char *file, const char *video, const char *audio)
{
  auto ts = read_test_ts (file);
  fail_if (ts.empty (), "no %s", file);
  TsProbe probe;
  fail_unless (probe_packets (probe, ts) > 0, "%s: no PMT read", file);
  assert_str_eq (probe.video (), video);
  assert_str_eq (probe.audio (), audio);

  /* the same, all in one push */
  TsProbe whole;
  whole.push (ts.data (), ts.size ());
  fail_unless (whole.done ());
  assert_str_eq (whole.video (), video);
  assert_str_eq (whole.audio (), audio);
}

GST_START_TEST (test_real_streams)
{
  check_codecs ("h264-aac.ts", "h264", "aac");
  check_codecs ("h264-opus.ts", "h264", "opus");
  check_codecs ("hevc-aac.ts", "h265", "aac");
  check_codecs ("aac-only.ts", "", "aac");
}
GST_END_TEST;

/* the PID a packet carries */
static unsigned
pid_of (const uint8_t *p)
{
  return ((p[1] & 0x1f) << 8) | p[2];
}

GST_START_TEST (test_broken_crc_waits_for_the_next_pmt)
{
  auto ts = read_test_ts ("h264-aac.ts");
  TsProbe clean;
  size_t first = probe_packets (clean, ts);
  fail_unless (first > 0);
  /* the packet that completed the PMT: break a byte of its section */
  uint8_t *pmt = ts.data () + (first - 1) * kTsPacketSize;
  unsigned pmt_pid = pid_of (pmt);
  pmt[4 + 1 + 12] ^= 0x01;              /* pointer field 0, then the first ES entry */

  TsProbe probe;
  size_t later = probe_packets (probe, ts);
  fail_unless (later > first, "read at packet %zu, the broken one was %zu", later, first);
  assert_str_eq (probe.video (), "h264");
  assert_str_eq (probe.audio (), "aac");

  /* every PMT broken: never done */
  for (size_t off = 0; off < ts.size (); off += kTsPacketSize) {
    if (pid_of (ts.data () + off) == pmt_pid)
      ts[off + 4 + 1 + 12] ^= 0x01;
  }
  ts[(first - 1) * kTsPacketSize + 4 + 1 + 12] ^= 0x01;   /* broken twice is whole */
  ts[(first - 1) * kTsPacketSize + 4 + 1 + 13] ^= 0x01;
  TsProbe none;
  fail_unless_equals_int (probe_packets (none, ts), 0);
}
GST_END_TEST;

/* A long-form PSI section: table id, extension, body, CRC */
static std::vector<uint8_t>
make_section (uint8_t table_id, uint16_t extension, const std::vector<uint8_t> & body)
{
  size_t length = 5 + body.size () + 4;
  std::vector<uint8_t> s = { table_id, (uint8_t) (0xb0 | ((length >> 8) & 0x0f)),
    (uint8_t) (length & 0xff), (uint8_t) (extension >> 8), (uint8_t) extension,
    0xc1, 0x00, 0x00 };
  s.insert (s.end (), body.begin (), body.end ());
  uint32_t crc = mpeg_crc32 (s.data (), s.size ());
  for (int shift = 24; shift >= 0; shift -= 8)
    s.push_back ((uint8_t) (crc >> shift));
  return s;
}

/* section as TS packets of pid (pointer field 0, stuffed with 0xff) */
static std::vector<uint8_t>
packetize (uint16_t pid, const std::vector<uint8_t> & section)
{
  std::vector<uint8_t> payload = { 0x00 };
  payload.insert (payload.end (), section.begin (), section.end ());
  std::vector<uint8_t> out;
  uint8_t cc = 0;
  for (size_t off = 0; off < payload.size (); off += 184) {
    out.push_back (0x47);
    out.push_back ((uint8_t) ((off == 0 ? 0x40 : 0x00) | (pid >> 8)));
    out.push_back ((uint8_t) pid);
    out.push_back ((uint8_t) (0x10 | (cc++ & 0x0f)));
    size_t n = std::min<size_t> (184, payload.size () - off);
    out.insert (out.end (), payload.begin () + off, payload.begin () + off + n);
    out.insert (out.end (), 184 - n, 0xff);
  }
  return out;
}

static std::vector<uint8_t>
pat (uint16_t pmt_pid)
{
  return packetize (0, make_section (0x00, 1, { 0x00, 0x01, (uint8_t) (0xe0 | (pmt_pid >> 8)),
      (uint8_t) pmt_pid }));
}

/* one ES entry of a PMT */
static void
add_es (std::vector<uint8_t> & body, uint8_t type, uint16_t pid,
    const std::vector<uint8_t> & descriptors = {})
{
  body.push_back (type);
  body.push_back ((uint8_t) (0xe0 | (pid >> 8)));
  body.push_back ((uint8_t) pid);
  body.push_back ((uint8_t) (0xf0 | (descriptors.size () >> 8)));
  body.push_back ((uint8_t) descriptors.size ());
  body.insert (body.end (), descriptors.begin (), descriptors.end ());
}

static std::vector<uint8_t>
registration (const char *format)
{
  return { 0x05, 0x04, (uint8_t) format[0], (uint8_t) format[1], (uint8_t) format[2],
    (uint8_t) format[3] };
}

/* a PMT body: PCR PID 0x100, program info of program_info_size bytes */
static std::vector<uint8_t>
pmt_body (size_t program_info_size = 0)
{
  std::vector<uint8_t> body = { 0xe1, 0x00, (uint8_t) (0xf0 | (program_info_size >> 8)),
    (uint8_t) program_info_size };
  /* padding as descriptors of an unknown tag 0x80 */
  size_t left = program_info_size;
  while (left) {
    size_t n = std::min<size_t> (left - 2, 255);
    body.push_back (0x80);
    body.push_back ((uint8_t) n);
    body.insert (body.end (), n, 0xaa);
    left -= 2 + n;
  }
  return body;
}

static TsProbe
probe_of (const std::vector<uint8_t> & pmt_section)
{
  auto ts = pat (0x1000);
  auto pmt = packetize (0x1000, pmt_section);
  ts.insert (ts.end (), pmt.begin (), pmt.end ());
  TsProbe probe;
  probe.push (ts.data (), ts.size ());
  return probe;
}

GST_START_TEST (test_section_over_several_packets)
{
  /* a 700-byte program info puts the PMT over four packets */
  auto body = pmt_body (700);
  add_es (body, 0x1b, 0x100);
  add_es (body, 0x0f, 0x101);
  auto section = make_section (0x02, 1, body);
  fail_unless (section.size () > 3 * 184);
  TsProbe probe = probe_of (section);
  fail_unless (probe.done ());
  assert_str_eq (probe.video (), "h264");
  assert_str_eq (probe.audio (), "aac");

  /* its middle packet lost: not read */
  auto ts = pat (0x1000);
  auto pmt = packetize (0x1000, section);
  pmt.erase (pmt.begin () + kTsPacketSize, pmt.begin () + 2 * kTsPacketSize);
  ts.insert (ts.end (), pmt.begin (), pmt.end ());
  TsProbe lossy;
  lossy.push (ts.data (), ts.size ());
  fail_if (lossy.done ());
}
GST_END_TEST;

GST_START_TEST (test_stream_types_and_registrations)
{
  struct Case {
    uint8_t type;
    const char *format;   /* registration descriptor, or nullptr */
    const char *video, *audio;
  } cases[] = {
    { 0x1b, nullptr, "h264", "" },
    { 0x24, nullptr, "h265", "" },
    { 0x0f, nullptr, "", "aac" },
    { 0x11, nullptr, "", "aac-latm" },
    { 0x03, nullptr, "", "mp3" },
    { 0x04, nullptr, "", "mp3" },
    { 0x81, nullptr, "", "ac3" },
    { 0x06, "AC-3", "", "ac3" },
    { 0x06, "Opus", "", "opus" },
    { 0x06, "AV01", "av1", "" },
    { 0x02, nullptr, "mpeg2", "" },
    { 0x06, nullptr, "", "" },          /* private data: skipped */
    { 0x06, "KLVA", "", "" },
    { 0x86, nullptr, "", "" },          /* SCTE-35 */
  };
  for (const auto & c : cases) {
    auto body = pmt_body ();
    add_es (body, c.type, 0x100, c.format ? registration (c.format) : std::vector<uint8_t> {});
    TsProbe probe = probe_of (make_section (0x02, 1, body));
    fail_unless (probe.done ());
    assert_str_eq (probe.video (), c.video);
    assert_str_eq (probe.audio (), c.audio);
  }

  /* the first video and the first audio; data between them skipped */
  auto body = pmt_body ();
  add_es (body, 0x15, 0x102);
  add_es (body, 0x06, 0x101, registration ("Opus"));
  add_es (body, 0x24, 0x100);
  add_es (body, 0x1b, 0x103);
  add_es (body, 0x0f, 0x104);
  TsProbe probe = probe_of (make_section (0x02, 1, body));
  assert_str_eq (probe.video (), "h265");
  assert_str_eq (probe.audio (), "opus");
}
GST_END_TEST;

GST_START_TEST (test_lying_pmt_is_not_read)
{
  /* an ES entry whose descriptors run past the section */
  auto body = pmt_body ();
  add_es (body, 0x1b, 0x100);
  body[body.size () - 1] = 0x40;
  TsProbe probe = probe_of (make_section (0x02, 1, body));
  fail_if (probe.done ());

  /* a program info longer than the section */
  auto body2 = pmt_body ();
  body2[3] = 0xff;
  add_es (body2, 0x1b, 0x100);
  fail_if (probe_of (make_section (0x02, 1, body2)).done ());

  /* the wrong table id on the PMT's PID */
  auto body3 = pmt_body ();
  add_es (body3, 0x1b, 0x100);
  fail_if (probe_of (make_section (0x42, 1, body3)).done ());
}
GST_END_TEST;

GST_START_TEST (test_pmt_before_pat_is_waited_for)
{
  auto body = pmt_body ();
  add_es (body, 0x1b, 0x100);
  auto pmt = packetize (0x1000, make_section (0x02, 1, body));
  std::vector<uint8_t> ts = pmt;
  auto p = pat (0x1000);
  ts.insert (ts.end (), p.begin (), p.end ());
  TsProbe probe;
  probe.push (ts.data (), ts.size ());
  fail_if (probe.done ());
  probe.push (pmt.data (), pmt.size ());
  fail_unless (probe.done ());
  assert_str_eq (probe.video (), "h264");
}
GST_END_TEST;

static Suite *
tsprobe_suite (void)
{
  Suite *s = suite_create ("tsprobe");
  TCase *tc = tcase_create ("general");
  suite_add_tcase (s, tc);
  tcase_add_test (tc, test_real_streams);
  tcase_add_test (tc, test_broken_crc_waits_for_the_next_pmt);
  tcase_add_test (tc, test_section_over_several_packets);
  tcase_add_test (tc, test_stream_types_and_registrations);
  tcase_add_test (tc, test_lying_pmt_is_not_read);
  tcase_add_test (tc, test_pmt_before_pat_is_waited_for);
  return s;
}

GST_CHECK_MAIN (tsprobe);
