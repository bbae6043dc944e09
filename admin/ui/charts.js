// Time charts in plain SVG. A chart builds its elements once and redraws
// them in place (new path data, moved labels), so a page open for hours
// keeps a constant number of nodes.

import { svg, setText, setAttr, fmt, isNum } from './dom.js';
import { Marks } from './marks.js';
import { attachPointer } from './zoom.js';

const H = 150;
const M = { left: 64, right: 10, top: 14, bottom: 18 };
// An axis is capped at its series' 99th percentile (with room) when the
// largest value is more than CAP_RATIO times that: one spike must not
// flatten the rest. Clipped points are marked at the top.
const CAP_RATIO = 1.5;
// Tick spacings, the smallest that leaves at most seven labels is used.
const TICKS_MS = [10e3, 30e3, 60e3, 120e3, 300e3, 600e3, 1800e3];

// Chart kinds: 'line' (one line per CDN), 'stacked' (shares adding up to
// 100 %), 'status' (one band per CDN coloured by status).
export class Chart {
  constructor(parent, { title, kind = 'line', min = 0, max = null, unit = '', format = (v) => String(v) }, hooks = null) {
    this.kind = kind;
    this.unit = unit;
    this.min = min;
    this.max = max;
    this.format = format;
    this.readout = document.createElement('span');
    const cap = document.createElement('figcaption');
    const b = document.createElement('b');
    b.textContent = title;
    cap.append(b, this.readout);
    this.svg = svg('svg', { class: 'chart', role: 'img', 'aria-label': title });
    this.grid = svg('g');
    this.plot = svg('g');
    this.spanG = svg('g', { class: 'spans' });
    this.notes = svg('g');
    this.cursor = svg('line', { class: 'cursor', visibility: 'hidden' });
    this.clipped = svg('path', { class: 'clipped' }, svg('title'));
    this.unitLabel = svg('text', { class: 'unit', x: 4, y: 10 });
    this.tip = svg('g', { class: 'tip', visibility: 'hidden' }, svg('rect', { rx: 3 }));
    this.sel = svg('rect', { class: 'zoom-sel', visibility: 'hidden' });
    this.svg.append(this.spanG, this.grid, this.plot, this.notes, this.clipped, this.unitLabel, this.cursor, this.tip, this.sel);
    this.marks = new Marks(this.spanG, this.notes);
    this.fig = document.createElement('figure');
    this.fig.append(cap, this.svg);
    parent.append(this.fig);

    this.ylines = [];
    this.ylabels = [];
    this.xlabels = [];
    this.paths = new Map(); // series name (and status) → path
    this.labels = new Map(); // status chart row labels
    this.hoverT = null;
    this.last = null;
    attachPointer(this, hooks);
  }

  // timeAt is the time under a client x coordinate.
  timeAt(clientX) {
    const r = this.svg.getBoundingClientRect();
    const vb = this.svg.viewBox.baseVal;
    const sx = vb && vb.width ? vb.width / r.width : 1;
    const f = ((clientX - r.left) * sx - this.x0) / Math.max(1, this.x1 - this.x0);
    return this.last.t0 + Math.min(1, Math.max(0, f)) * (this.last.t1 - this.last.t0);
  }

  // setHover moves the crosshair to t (null: none); every chart of the
  // page follows the one under the pointer.
  setHover(t) {
    this.hoverT = t;
    this.showReadout();
  }

  // draw shows data: {times, t0, t1, gapMs, series: [{name, colour,
  // values}], notes: [{t, text, tags}], spans: [{t0, t1, label, action}]}.
  draw(data) {
    this.last = data;
    const w = this.svg.clientWidth || 600;
    setAttr(this.svg, 'viewBox', `0 0 ${w} ${H}`);
    const x0 = M.left, x1 = w - M.right, y0 = H - M.bottom, y1 = M.top;
    const span = Math.max(1, data.t1 - data.t0);
    this.x = (t) => x0 + ((t - data.t0) / span) * (x1 - x0);
    this.x0 = x0; this.x1 = x1;
    this.plotTop = y1; this.plotBottom = y0;

    let lo = this.min, hi = this.max;
    if (this.kind === 'stacked') { lo = 0; hi = 1; }
    let capped = false;
    if (hi === null) {
      const { max, p99 } = spread(data.series);
      capped = p99 > 0 && max > CAP_RATIO * p99;
      hi = niceCeil(capped ? p99 * 1.2 : max);
    }
    const y = (v) => y0 - ((Math.min(Math.max(v, lo), hi) - lo) / (hi - lo)) * (y0 - y1);
    setText(this.unitLabel, this.kind === 'status' ? '' : this.unit);
    this.drawClipped(capped ? data : null, hi, y1);
    this.marks.spans(data.spans || [], this.x, data.t0, data.t1, y0, y1);

    if (this.kind === 'status') this.drawStatus(data, y0, y1);
    else {
      this.yAxis(lo, hi, y, x0, x1);
      if (this.kind === 'stacked') this.drawStacked(data, y);
      else this.drawLines(data, y);
    }
    this.xAxis(data.t0, data.t1, y0, y1);
    this.marks.notes(data.notes || [], this.x, data.t0, data.t1, y0, y1);
    this.showReadout();
  }

  // drawClipped marks, with a small triangle at the top, every point above
  // a capped axis, and says in its tooltip how high they went.
  drawClipped(data, hi, y1) {
    let d = '';
    let top = -Infinity;
    if (data) {
      for (const s of data.series) {
        s.values.forEach((v, i) => {
          if (!isNum(v) || v <= hi || data.times[i] < data.t0) return;
          top = Math.max(top, v);
          d += 'M' + px(this.x(data.times[i])) + ',' + (y1 - 1) + 'l-3,-5h6z';
        });
      }
    }
    setAttr(this.clipped, 'd', d);
    setText(this.clipped.firstChild, d ? 'axis capped at ' + this.format(hi) + ' (99th percentile): points above it reach ' + this.format(top) : '');
    this.svg.dataset.capped = d ? this.format(hi) : '';
  }

  drawLines(data, y) {
    const seen = new Set();
    for (const s of data.series) {
      const p = this.path(s.name, 'series');
      setAttr(p, 'stroke', s.colour);
      setAttr(p, 'd', line(data.times, s.values, this.x, y, data.gapMs));
      seen.add(s.name);
    }
    this.hideOthers(seen);
  }

  drawStacked(data, y) {
    const n = data.times.length;
    const below = new Array(n).fill(0);
    const seen = new Set();
    for (const s of data.series) {
      const top = below.map((b, i) => b + (isNum(s.values[i]) ? s.values[i] : 0));
      let d = '';
      if (n > 0) {
        for (let i = 0; i < n; i++) d += (i ? 'L' : 'M') + px(this.x(data.times[i])) + ',' + px(y(top[i]));
        for (let i = n - 1; i >= 0; i--) d += 'L' + px(this.x(data.times[i])) + ',' + px(y(below[i]));
        d += 'Z';
      }
      const p = this.path(s.name, 'area');
      setAttr(p, 'fill', s.colour);
      setAttr(p, 'd', d);
      for (let i = 0; i < n; i++) below[i] = top[i];
      seen.add(s.name);
    }
    this.hideOthers(seen);
  }

  drawStatus(data, y0, y1) {
    const rows = Math.max(1, data.series.length);
    const rowH = (y0 - y1) / rows;
    const seen = new Set();
    data.series.forEach((s, r) => {
      const cy = px(y1 + rowH * r + rowH / 2);
      let label = this.labels.get(s.name);
      if (!label) {
        label = svg('text', { x: 2 });
        this.grid.append(label);
        this.labels.set(s.name, label);
      }
      setAttr(label, 'y', String(Number(cy) + 3));
      setAttr(label, 'visibility', 'visible');
      setText(label, s.name);
      for (const st of ['healthy', 'recovering', 'degraded', 'drained']) {
        const p = this.path(s.name + '|' + st, 'st-' + st);
        setAttr(p, 'stroke-width', String(Math.max(3, Math.min(14, rowH * 0.6))));
        setAttr(p, 'fill', 'none');
        setAttr(p, 'd', bands(data.times, s.values, st, this.x, cy, data.gapMs));
        seen.add(s.name + '|' + st);
      }
    });
    for (const [name, l] of this.labels) {
      if (!data.series.some((s) => s.name === name)) setAttr(l, 'visibility', 'hidden');
    }
    this.hideOthers(seen);
  }

  path(name, cls) {
    let p = this.paths.get(name);
    if (!p) {
      p = svg('path', { class: cls });
      this.plot.append(p);
      this.paths.set(name, p);
    }
    setAttr(p, 'visibility', 'visible');
    return p;
  }

  hideOthers(seen) {
    for (const [name, p] of this.paths) {
      if (!seen.has(name)) setAttr(p, 'visibility', 'hidden');
    }
  }

  yAxis(lo, hi, y, x0, x1) {
    const ticks = [0, 0.25, 0.5, 0.75, 1].map((f) => lo + f * (hi - lo));
    ticks.forEach((v, i) => {
      if (!this.ylines[i]) {
        this.ylines[i] = svg('line', { class: 'grid' });
        this.ylabels[i] = svg('text', { 'text-anchor': 'end' });
        this.grid.append(this.ylines[i], this.ylabels[i]);
      }
      const yy = px(y(v));
      for (const [k, val] of [['x1', x0], ['x2', x1], ['y1', yy], ['y2', yy]]) setAttr(this.ylines[i], k, String(val));
      setAttr(this.ylabels[i], 'x', String(x0 - 4));
      setAttr(this.ylabels[i], 'y', String(Number(yy) + 3));
      setText(this.ylabels[i], this.kind === 'stacked' ? Math.round(v * 100) + '%' : this.format(v, true));
    });
  }

  xAxis(t0, t1, y0) {
    const step = TICKS_MS.find((s) => (t1 - t0) / s <= 7) || TICKS_MS[TICKS_MS.length - 1];
    const label = step < 60e3 ? fmt.clock : fmt.hm;
    const first = Math.ceil(t0 / step) * step;
    let i = 0;
    // All twelve made at once: a window that grows with the data (more
    // ticks) then adds no nodes.
    while (this.xlabels.length < 12) {
      const l = svg('text', { 'text-anchor': 'middle', visibility: 'hidden' });
      this.xlabels.push(l);
      this.grid.append(l);
    }
    for (let t = first; t <= t1 && i < 12; t += step, i++) {
      setAttr(this.xlabels[i], 'x', px(this.x(t)));
      setAttr(this.xlabels[i], 'y', String(y0 + 13));
      setAttr(this.xlabels[i], 'visibility', 'visible');
      setText(this.xlabels[i], label(t));
    }
    for (; i < this.xlabels.length; i++) setAttr(this.xlabels[i], 'visibility', 'hidden');
  }

  // showReadout writes the values at the hovered time, or the latest, in
  // the caption, and at the crosshair in a box beside it.
  showReadout() {
    const d = this.last;
    if (!d || d.times.length === 0) { setText(this.readout, 'no data yet'); setAttr(this.tip, 'visibility', 'hidden'); return; }
    let i = d.times.length - 1;
    const hovering = this.hoverT !== null && this.hoverT >= d.t0 && this.hoverT <= d.t1;
    if (hovering) i = nearest(d.times, this.hoverT);
    const t = d.times[i];
    const value = (s) => (this.kind === 'status' ? (s.values[i] || '—') : this.format(s.values[i]));
    if (hovering) {
      const x = px(this.x(t));
      for (const [k, v] of [['x1', x], ['x2', x], ['y1', String(M.top)], ['y2', String(H - M.bottom)]]) setAttr(this.cursor, k, v);
      setAttr(this.cursor, 'visibility', 'visible');
      this.showTip(Number(x), [fmt.clock(t), ...d.series.map((s) => [s.name, value(s), s.colour])]);
    } else {
      setAttr(this.cursor, 'visibility', 'hidden');
      setAttr(this.tip, 'visibility', 'hidden');
    }
    const parts = d.series.map((s) => s.name + ' ' + value(s));
    setText(this.readout, (hovering ? fmt.clock(t) : 'now') + ': ' + parts.join(' · '));
  }

  // showTip draws the crosshair's box: the time, then a line per series.
  showTip(x, lines) {
    const [rect, ...texts] = this.tip.children;
    lines.forEach((l, k) => {
      let el = texts[k];
      if (!el) {
        el = svg('text', {}, svg('tspan', { class: 'swatch' }), svg('tspan'));
        this.tip.append(el);
        texts.push(el);
      }
      const [sw, tx] = el.children;
      setAttr(el, 'visibility', 'visible');
      setAttr(el, 'x', '6');
      setAttr(el, 'y', String(12 + 11 * k));
      setText(sw, Array.isArray(l) ? '\u25A0 ' : '');
      setAttr(sw, 'fill', Array.isArray(l) ? l[2] : 'none');
      setText(tx, Array.isArray(l) ? l[0] + '  ' + l[1] : l);
    });
    for (let k = lines.length; k < texts.length; k++) setAttr(texts[k], 'visibility', 'hidden');
    const w = 8 + 6 * Math.max(...lines.map((l) => (Array.isArray(l) ? l[0].length + String(l[1]).length + 4 : l.length)));
    const h = 6 + 11 * lines.length;
    setAttr(rect, 'width', String(w));
    setAttr(rect, 'height', String(h));
    const left = x + 8 + w > this.x1 ? x - 8 - w : x + 8;
    setAttr(this.tip, 'transform', `translate(${px(Math.max(0, left))},${M.top})`);
    setAttr(this.tip, 'visibility', 'visible');
  }
}

function px(v) { return v.toFixed(1); }

function line(times, vals, x, y, gapMs) {
  let d = '';
  let pen = false;
  for (let i = 0; i < times.length; i++) {
    const v = vals[i];
    if (!isNum(v) || (i > 0 && times[i] - times[i - 1] > gapMs)) pen = false;
    if (!isNum(v)) continue;
    d += (pen ? 'L' : 'M') + px(x(times[i])) + ',' + px(y(v));
    pen = true;
  }
  return d;
}

// bands draws, on one row, the stretches where the status was st.
function bands(times, vals, st, x, cy, gapMs) {
  let d = '';
  for (let i = 0; i < times.length; i++) {
    if (vals[i] !== st) continue;
    let j = i;
    while (j + 1 < times.length && vals[j + 1] === st && times[j + 1] - times[j] <= gapMs) j++;
    const end = j + 1 < times.length ? times[j + 1] : times[j] + 1000;
    d += 'M' + px(x(times[i])) + ',' + cy + 'H' + px(x(Math.min(end, times[j] + gapMs)));
    i = j;
  }
  return d;
}

// spread is the largest value of the series and their 99th percentile.
function spread(series) {
  const vals = [];
  for (const s of series) for (const v of s.values) if (isNum(v)) vals.push(v);
  if (vals.length === 0) return { max: 0, p99: 0 };
  vals.sort((a, b) => a - b);
  return { max: vals[vals.length - 1], p99: vals[Math.min(vals.length - 1, Math.floor(0.99 * vals.length))] };
}

// niceCeil rounds up to 1, 2 or 5 times a power of ten.
function niceCeil(v) {
  if (!(v > 0)) return 1;
  const p = Math.pow(10, Math.floor(Math.log10(v)));
  for (const m of [1, 2, 5, 10]) if (v <= m * p) return m * p;
  return 10 * p;
}

function nearest(times, t) {
  let lo = 0, hi = times.length - 1;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if (times[mid] < t) lo = mid + 1; else hi = mid;
  }
  if (lo > 0 && Math.abs(times[lo - 1] - t) < Math.abs(times[lo] - t)) lo--;
  return lo;
}
