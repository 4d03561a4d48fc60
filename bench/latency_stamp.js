// A wall-clock time (ms since 1970) as a picture that survives a video
// codec, for the glass-to-glass latency benchmark (bench/latency.py): an
// 8 x 8 grid of black or white cells over the whole frame, 48 bits of the
// time then a 16-bit Fletcher checksum, most significant bit first, row
// by row. Cells are an eighth of the frame each way (80 x 60 px at
// 640 x 480), so the pattern reads back at any resolution WebRTC scales
// the picture to, and a bad read (a frame mid-update, a codec smear) fails
// the checksum instead of giving a wrong time. Loaded by both pages as a
// plain script: it defines window.LatencyStamp.
(() => {
  const COLS = 8;
  const ROWS = 8;
  const TIME_BYTES = 6;

  function timeBytes(ms) {
    const bytes = [];
    let rest = Math.floor(ms);
    for (let i = 0; i < TIME_BYTES; i++) {
      bytes.unshift(rest % 256);
      rest = Math.floor(rest / 256);
    }
    return bytes;
  }

  function fletcher16(bytes) {
    let a = 0;
    let b = 0;
    for (const x of bytes) {
      a = (a + x) % 255;
      b = (b + a) % 255;
    }
    return [b, a];
  }

  function bitsOf(ms) {
    const bytes = timeBytes(ms);
    const all = bytes.concat(fletcher16(bytes));
    const bits = [];
    for (const byte of all)
      for (let i = 7; i >= 0; i--) bits.push((byte >> i) & 1);
    return bits;
  }

  // Paints ms over the whole of a w x h 2D context.
  function paint(ctx, w, h, ms) {
    const bits = bitsOf(ms);
    for (let i = 0; i < bits.length; i++) {
      const x0 = Math.round((i % COLS) * w / COLS);
      const y0 = Math.round(Math.floor(i / COLS) * h / ROWS);
      const x1 = Math.round(((i % COLS) + 1) * w / COLS);
      const y1 = Math.round((Math.floor(i / COLS) + 1) * h / ROWS);
      ctx.fillStyle = bits[i] ? '#fff' : '#000';
      ctx.fillRect(x0, y0, x1 - x0, y1 - y0);
    }
  }

  // The time in a w x h RGBA ImageData painted by paint() (scaled to any
  // size), or null when the checksum does not match. Each cell's middle
  // third is averaged: its edges are where a codec blurs.
  function read(image) {
    const { width: w, height: h, data } = image;
    const bytes = [];
    let byte = 0;
    for (let i = 0; i < COLS * ROWS; i++) {
      const cx = (i % COLS) * w / COLS;
      const cy = Math.floor(i / COLS) * h / ROWS;
      let sum = 0;
      let n = 0;
      for (let y = Math.floor(cy + h / ROWS / 3); y < cy + h / ROWS * 2 / 3; y++) {
        for (let x = Math.floor(cx + w / COLS / 3); x < cx + w / COLS * 2 / 3; x++) {
          const p = (y * w + x) * 4;
          sum += data[p] + data[p + 1] + data[p + 2];
          n += 3;
        }
      }
      byte = (byte << 1) | (n && sum / n > 127 ? 1 : 0);
      if (i % 8 === 7) { bytes.push(byte); byte = 0; }
    }
    const time = bytes.slice(0, TIME_BYTES);
    const [b, a] = fletcher16(time);
    if (bytes[TIME_BYTES] !== b || bytes[TIME_BYTES + 1] !== a) return null;
    return time.reduce((acc, x) => acc * 256 + x, 0);
  }

  window.LatencyStamp = { paint, read };
})();
