/* libFuzzer target: what an SRT caller sends castline (gst-plugins/srt):
 * its stream id, and its messages' MPEG-TS.
 *
 * The first input byte picks the path:
 *   even  the rest is a stream id, through parse_stream_id;
 *   odd   the rest is messages, each a size byte (0: 1316, SRT's usual
 *         7 packets; else that many bytes) and its bytes, through a
 *         TsHandoff (a small max_unsynced, so not_ts is reached) and the
 *         whole packets it gives through a TsProbe.
 *
 * Findings: crashes, sanitizer reports, leaks, and broken promises:
 *  - a parse that succeeds with an empty key or a refusal code, or fails
 *    without an SRT_REJX_* code and a reason, or leaves a key behind;
 *  - a bare id (no "#!") of printable ASCII that is not taken as itself;
 *  - TsHandoff output that is not whole packets starting with 0x47, more
 *    packets than counted, output after not_ts, or not_ts undone;
 *  - a TsProbe that forgets it is done, or names a codec it does not know. */
#include "srt/srtstreamid.h"
#include "srt/tshandoff.h"
#include "srt/tsprobe.h"

#include <srt/access_control.h>

#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <set>
#include <string>
#include <vector>

using namespace castline::srt;

namespace {

void
broken (const char *what)
{
  fprintf (stderr, "broken promise: %s\n", what);
  abort ();
}

void
run_stream_id (const uint8_t *data, size_t size)
{
  StreamIdRequest out;
  StreamIdRefusal refusal;
  bool ok = parse_stream_id ((const char *) data, size, out, refusal);
  if (ok) {
    if (out.key.empty () || refusal.code != 0)
      broken ("taken without a key, or with a refusal");
    bool bare = size < 2 || data[0] != '#' || data[1] != '!';
    if (bare && out.key != std::string ((const char *) data, size))
      broken ("a bare id that is not its own key");
    if (!bare && !out.access_control)
      broken ("an Access Control id not marked as one");
  } else {
    if (refusal.code < SRT_REJX_FALLBACK || refusal.code >= 2000 || refusal.reason.empty ())
      broken ("a refusal without an SRT_REJX_* code and a reason");
    if (!out.key.empty ())
      broken ("a refusal that leaves a key");
  }
  if (size <= kMaxStreamIdLength) {
    bool printable = size > 0;
    for (size_t i = 0; i < size; i++)
      printable = printable && data[i] >= 0x20 && data[i] < 0x7f;
    bool bare = size < 2 || data[0] != '#' || data[1] != '!';
    if (printable && bare && !ok)
      broken ("a printable bare id refused");
  }
  if (!reject_reason_name (refusal.code))
    broken ("a reject reason without a name");
}

void
run_ts (const uint8_t *data, size_t size)
{
  static const std::set<std::string> known = { "", "h264", "h265", "aac", "aac-latm", "mp3",
    "ac3", "opus", "av1", "mpeg2" };
  TsHandoff handoff (4096);
  TsProbe probe;
  std::vector<uint8_t> out;
  bool was_not_ts = false, was_done = false;
  uint64_t given = 0;
  size_t off = 0;
  while (off < size) {
    size_t n = data[off] ? data[off] : 7 * kTsPacketSize;
    off++;
    n = std::min (n, size - off);
    out.clear ();
    TsHandoff::Result r = handoff.push (data + off, n, out);
    off += n;
    if (was_not_ts && r != TsHandoff::Result::not_ts)
      broken ("not_ts undone");
    if (r == TsHandoff::Result::not_ts) {
      was_not_ts = true;
      if (!out.empty ())
        broken ("output with not_ts");
      continue;
    }
    if (out.size () % kTsPacketSize != 0)
      broken ("output that is not whole packets");
    for (size_t p = 0; p < out.size (); p += kTsPacketSize) {
      if (out[p] != 0x47)
        broken ("a packet without its sync byte");
    }
    given += out.size () / kTsPacketSize;
    if (given != handoff.packets ())
      broken ("packets miscounted");
    probe.push (out.data (), out.size ());
    if (was_done && !probe.done ())
      broken ("the probe forgot its PMT");
    was_done = probe.done ();
    if (!known.count (probe.video ()) || !known.count (probe.audio ()))
      broken ("an unknown codec name");
  }
}

}  // namespace

extern "C" int
LLVMFuzzerTestOneInput (const uint8_t *data, size_t size)
{
  if (size < 1)
    return 0;
  if (data[0] & 1)
    run_ts (data + 1, size - 1);
  else
    run_stream_id (data + 1, size - 1);
  return 0;
}
