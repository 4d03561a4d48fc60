// Time-series charts of a stream's last 15 minutes (bitrate, frame rate,
// keyframe interval, health, viewers) drawn with uPlot, for the dashboard
// (small, one row of them under each live stream) and the stream page
// (large, with axes and a legend). Fed by the event streams, no polling:
// the `history` event a connection starts with (the launcher samples each
// live stream every 5 s), then every `stats`, `viewers` and `state` event.
// The moments a stream was interrupted are shaded, its end is a dashed
// line. Each chart's uPlot is in window.castlineCharts (by stream id), for
// tests and the curious.
/* global uPlot */
import { el, formatBitrate, summarizeStats } from './api.js';

const WINDOW = 15 * 60;          // s: what the launcher keeps
const MIN_SPAN = 30;             // s: a stream just started still gets half a minute of width
const MAX_POINTS = 2000;         // a bound: one point a second for 15 minutes, and history

const COLORS = {
  interrupted: 'rgba(183, 121, 31, 0.18)',
  interruptedEdge: 'rgba(183, 121, 31, 0.75)',
  ended: 'rgba(93, 101, 119, 0.8)',
  failed: 'rgba(197, 48, 48, 0.85)',
  axis: '#5d6577',
  grid: '#eef0f4',
};

const num = (digits, unit) => (v) => (Number.isFinite(v) ? `${v.toFixed(digits)}${unit}` : '–');

function shortBitrate(v) {
  if (!Number.isFinite(v)) return '';
  if (v >= 1e6) return `${+(v / 1e6).toFixed(1)}M`;
  if (v >= 1e3) return `${Math.round(v / 1e3)}k`;
  return String(Math.round(v));
}

// what is charted: key (in the history's series), label (short: on the
// small charts), colour, how a value reads, its fixed range if any
export const SERIES = [
  { key: 'bitrate', label: 'Bitrate', color: '#2456d3', format: formatBitrate, axis: shortBitrate },
  { key: 'fps', label: 'Frame rate', short: 'FPS', color: '#7c3aed', format: num(1, ' fps'), axis: (v) => `${+v.toFixed(1)}` },
  { key: 'keyframe_interval', label: 'Keyframe interval', short: 'Keyframes', color: '#0d9488', format: num(1, ' s'),
    axis: (v) => `${+v.toFixed(1)}s` },
  { key: 'health', label: 'Health', color: '#1d8a4e', format: num(0, ''), axis: (v) => `${v}`, range: [0, 100] },
  { key: 'viewers', label: 'Viewers', color: '#d97706', format: num(0, ''), axis: (v) => `${v}`, integer: true },
];

const nowSeconds = () => Date.now() / 1000;

// One stream's points and state changes, in this browser's clock (unix s).
export class StreamSeries {
  constructor(id) {
    this.id = id;
    this.t = [];
    for (const s of SERIES) this[s.key] = [];
    this.marks = [];              // {t, state, reason}
    this.state = undefined;       // the last state told
    this.viewersNow = null;       // the count now, for the next point
  }

  // The history event: replaces what was drawn (a reconnect brings it
  // again). Its times are the server's: moved by the clocks' difference.
  applyHistory(h) {
    const shift = nowSeconds() - (Number.isFinite(h.now) ? h.now : nowSeconds());
    const series = h.series || {};
    const t = Array.isArray(series.t) ? series.t : [];
    this.t = t.map((x) => x + shift);
    for (const s of SERIES) {
      const values = Array.isArray(series[s.key]) ? series[s.key] : [];
      this[s.key] = t.map((_, i) => (Number.isFinite(values[i]) ? values[i] : null));
    }
    this.marks = (Array.isArray(h.marks) ? h.marks : []).map((m) => ({ ...m, t: m.t + shift }));
    if (this.viewersNow === null) this.viewersNow = this.latest('viewers');
  }

  push(point) {
    const t = Math.max(nowSeconds(), this.t.length ? this.t[this.t.length - 1] : 0);
    this.t.push(t);
    for (const s of SERIES) this[s.key].push(point ? point[s.key] ?? null : null);
    this.trim(t);
  }

  // a stats event: one point of every series
  addStats(stats) {
    const sum = summarizeStats(stats);
    if (!sum) return;
    const health = Number.isFinite(sum.health) ? sum.health : null;
    this.push({ bitrate: sum.bitrate, fps: sum.fps, keyframe_interval: sum.keyframeInterval || null,
      health, viewers: this.viewersNow });
  }

  setViewers(n) {
    if (Number.isFinite(n)) this.viewersNow = n;
  }

  // a state event (the stream): a change is marked, and where the stream
  // stops being live the lines break (a point of nulls)
  setState(stream) {
    const state = stream.state;
    this.setViewers(stream.viewers);
    const before = this.state;
    this.state = state;
    // the first state told comes before the history, which has the marks
    if (before === undefined || before === state) return;
    if (!['live', 'interrupted', 'ended', 'failed'].includes(state)) return;
    const t = nowSeconds();
    this.marks.push({ t, state, reason: stream.reason || null });
    if (state !== 'live' && this.t.length && SERIES.some((s) => this[s.key][this.t.length - 1] !== null)) this.push(null);
  }

  trim(now) {
    let drop = 0;
    while (drop < this.t.length && (this.t[drop] < now - WINDOW || this.t.length - drop > MAX_POINTS)) drop++;
    if (drop) {
      this.t.splice(0, drop);
      for (const s of SERIES) this[s.key].splice(0, drop);
    }
    this.marks = this.marks.filter((m) => m.t >= now - WINDOW);
  }

  // [start, end] of each time the stream was interrupted (to now while it is)
  interruptions(now) {
    const spans = [];
    let start = null;
    for (const m of this.marks) {
      if (m.state === 'interrupted' && start === null) start = m.t;
      else if (m.state !== 'interrupted' && start !== null) {
        spans.push([start, m.t]);
        start = null;
      }
    }
    if (start !== null) spans.push([start, now]);
    return spans;
  }

  // the x range every chart of the stream shows: since its first point (a
  // minute at least), 15 minutes at most, to now
  xRange() {
    const now = nowSeconds();
    const first = Math.min(this.t.length ? this.t[0] : now, ...this.marks.map((m) => m.t));
    const span = Math.min(WINDOW, Math.max(MIN_SPAN, now - first));
    return [now - span, now];
  }

  latest(key) {
    const values = this[key];
    for (let i = values.length - 1; i >= 0; i--) if (values[i] !== null) return values[i];
    return null;
  }
}

// shades the interruptions and draws the ends, under the lines
function marksPlugin(series) {
  const draw = (u) => {
    const { ctx } = u;
    const { left, top, width, height } = u.bbox;
    const px = window.devicePixelRatio || 1;
    ctx.save();
    ctx.beginPath();
    ctx.rect(left, top, width, height);
    ctx.clip();
    for (const [a, b] of series.interruptions(nowSeconds())) {
      const x0 = u.valToPos(a, 'x', true);
      const x1 = Math.max(u.valToPos(b, 'x', true), x0 + 2 * px);
      ctx.fillStyle = COLORS.interrupted;
      ctx.fillRect(x0, top, x1 - x0, height);
      ctx.fillStyle = COLORS.interruptedEdge;
      ctx.fillRect(x0, top, px, height);
    }
    for (const m of series.marks) {
      if (m.state !== 'ended' && m.state !== 'failed') continue;
      const x = Math.round(u.valToPos(m.t, 'x', true));
      ctx.strokeStyle = COLORS[m.state];
      ctx.lineWidth = px;
      ctx.setLineDash([4 * px, 3 * px]);
      ctx.beginPath();
      ctx.moveTo(x, top);
      ctx.lineTo(x, top + height);
      ctx.stroke();
    }
    ctx.restore();
  };
  return { hooks: { drawClear: [draw] } };
}

// a time of day as the x axis and the cursor read it
function clock(t, seconds = true) {
  return new Date(t * 1000).toLocaleTimeString([], { hour: '2-digit', minute: '2-digit',
    ...(seconds ? { second: '2-digit' } : {}) });
}

let syncs = 0;

function chartOptions(series, spec, size, width, onCursor, sync) {
  const large = size === 'large';
  const yRange = spec.range ? () => spec.range
    : (u, min, max) => [0, Number.isFinite(max) && max > 0 ? (spec.integer ? Math.max(1, Math.ceil(max * 1.2)) : max * 1.15) : 1];
  const axis = { stroke: COLORS.axis, font: '11px system-ui, sans-serif', grid: { stroke: COLORS.grid, width: 1 },
    ticks: { stroke: COLORS.grid, width: 1, size: 4 } };
  return {
    width,
    height: large ? 170 : 54,
    padding: large ? [8, 8, 0, 0] : [3, 1, 1, 1],
    // the card's head reads the value under the cursor (the latest otherwise)
    legend: { show: false },
    // one time under the cursor on every chart of the stream
    cursor: large ? { drag: { x: false, y: false }, points: { size: 6 }, sync: { key: sync } } : { show: false },
    select: { show: false },
    scales: { x: { time: true, range: () => series.xRange() }, y: { range: yRange } },
    axes: large
      ? [{ ...axis, space: 80, size: 30,
        values: (u, splits) => splits.map((t) => clock(t, u.scales.x.max - u.scales.x.min < 600)) },
        { ...axis, size: 52, values: (u, splits) => splits.map(spec.axis), ...(spec.integer ? { incrs: [1, 2, 5, 10, 20, 50, 100, 200, 500, 1000] } : {}) }]
      : [{ show: false }, { show: false }],
    series: [
      { value: (u, v) => (v ? new Date(v * 1000).toLocaleTimeString() : '–') },
      { label: spec.label, stroke: spec.color, width: large ? 2 : 1.5, fill: `${spec.color}1f`,
        spanGaps: false, points: { show: false }, value: (u, v) => (v === null ? '–' : spec.format(v)) },
    ],
    plugins: [marksPlugin(series)],
    hooks: { setCursor: [(u) => onCursor(u.cursor.idx)] },
  };
}

const registry = new Map();     // id -> StreamCharts drawn now
window.castlineCharts = registry;

// The charts of one stream in a container: a card per series with its
// latest value over the plot.
export class StreamCharts {
  constructor(container, series, size = 'small') {
    this.series = series;
    this.size = size;
    this.plots = {};
    this.values = {};
    this.cursors = {};            // key -> the index under the cursor, if any
    const sync = `castline-charts-${++syncs}`;
    this.root = el('div', { class: `stream-charts ${size}`, dataset: { chartsOf: series.id } });
    container.append(this.root);
    this.cards = SERIES.map((spec) => {
      const value = el('span', { class: 'chart-value' }, '–');
      const plot = el('div', { class: 'chart-plot' });
      this.values[spec.key] = value;
      const card = el('div', { class: 'chart-card', dataset: { series: spec.key } },
          el('div', { class: 'chart-head' }, el('span', { class: 'chart-label', title: spec.label },
              size === 'small' && spec.short ? spec.short : spec.label), value), plot);
      this.root.append(card);
      return { spec, plot };
    });
    for (const { spec, plot } of this.cards) {
      const onCursor = (idx) => {
        this.cursors[spec.key] = idx;
        this.showValue(spec);
      };
      this.plots[spec.key] = new uPlot(chartOptions(series, spec, size, this.plotWidth(plot), onCursor, sync),
          this.data(spec.key), plot);
    }
    this.resizer = new ResizeObserver(() => this.resize());
    this.resizer.observe(this.root);
    registry.set(series.id, this);
    this.update();
  }

  plotWidth(plot) {
    return Math.max(80, Math.floor(plot.clientWidth || 200));
  }

  data(key) {
    return [this.series.t, this.series[key]];
  }

  resize() {
    for (const { spec, plot } of this.cards) {
      const u = this.plots[spec.key];
      const width = this.plotWidth(plot);
      if (u.width !== width) u.setSize({ width, height: u.height });
    }
  }

  // the latest value in a card's head, or the one under the cursor and its time
  showValue(spec) {
    const idx = this.cursors[spec.key];
    if (idx === null || idx === undefined || idx >= this.series.t.length) {
      const v = this.series.latest(spec.key);
      this.values[spec.key].textContent = v === null ? '–' : spec.format(v);
      return;
    }
    const v = this.series[spec.key][idx];
    this.values[spec.key].textContent = `${v === null ? '–' : spec.format(v)} · ${clock(this.series.t[idx])}`;
  }

  // draws what the series holds now (and moves the window on)
  update() {
    for (const spec of SERIES) {
      this.plots[spec.key].setData(this.data(spec.key));
      this.showValue(spec);
    }
  }

  destroy() {
    this.resizer.disconnect();
    for (const u of Object.values(this.plots)) u.destroy();
    this.root.remove();
    if (registry.get(this.series.id) === this) registry.delete(this.series.id);
  }
}

// Hands a stream's events to its series; true when something changed
// that a chart shows.
export function applyEvent(series, name, data) {
  if (name === 'history') series.applyHistory(data);
  else if (name === 'stats') series.addStats(data.stats);
  else if (name === 'viewers') series.setViewers(data.viewers);
  else if (name === 'state') series.setState(data);
  else return false;
  return true;
}

// The charts move on (the window ends now) even when nothing comes: an
// interrupted stream's shading grows.
setInterval(() => {
  for (const charts of registry.values()) charts.update();
}, 5000);

// The dashboard's charts: a series per stream from /api/events, and under
// each live or interrupted stream's row, a row of small charts.
export class ChartBoard {
  constructor(colspan) {
    this.colspan = colspan;
    this.series = new Map();      // id -> StreamSeries
    this.rows = new Map();        // id -> {tr, charts}
  }

  onEvent(name, data) {
    if (!data || typeof data.id !== 'string') return;
    let series = this.series.get(data.id);
    if (!series) {
      series = new StreamSeries(data.id);
      this.series.set(data.id, series);
    }
    if (!applyEvent(series, name, data)) return;
    const row = this.rows.get(data.id);
    if (row && row.charts && name !== 'viewers') row.charts.update();
  }

  // the charts row of a stream, or null when it has none (not live or
  // interrupted: its charts go)
  row(stream) {
    const on = stream.state === 'live' || stream.state === 'interrupted';
    let row = this.rows.get(stream.id);
    if (!on) {
      if (row) {
        if (row.charts) row.charts.destroy();
        row.tr.remove();
        this.rows.delete(stream.id);
      }
      // for good: what was charted goes too
      if (stream.state === 'ended' || stream.state === 'failed') this.series.delete(stream.id);
      return null;
    }
    if (!row) {
      let series = this.series.get(stream.id);
      if (!series) {
        series = new StreamSeries(stream.id);
        this.series.set(stream.id, series);
      }
      const td = el('td', { colspan: this.colspan });
      const tr = el('tr', { class: 'charts', dataset: { chartsOf: stream.id } }, td);
      // uPlot measures its box: the row is in the document first
      row = { tr, charts: null, td, series };
      this.rows.set(stream.id, row);
    }
    return row.tr;
  }

  // after the rows are in the document: charts for the rows that have none
  draw() {
    for (const row of this.rows.values()) {
      if (!row.charts && row.tr.isConnected) row.charts = new StreamCharts(row.td, row.series, 'small');
    }
  }
}
