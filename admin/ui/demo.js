// The demo panel: the simulated edges' knobs, shown only when the server
// runs `cdnsteer demo` (elsewhere /api/v1/demo/edges is a 404 and the
// panel stays hidden for good).

import { h, setText } from './dom.js';
import { getJSON, write, attempt, APIError } from './api.js';

// Presets are the incidents worth showing; each sets only what it names.
const presets = {
  healthy: { latency_ms: 20, error_rate: 0, cache_hit_ratio: 0.98, bandwidth_mbps: 200 },
  slow: { latency_ms: 450, bandwidth_mbps: 8 },
  flaky: { error_rate: 0.3 },
  down: { error_rate: 1 },
  'cold cache': { cache_hit_ratio: 0.2 },
};

// Knobs as the panel shows them: ratios as percentages, which people read
// more easily; scale converts to the API's unit.
const knobs = [
  { key: 'latency_ms', name: 'latency', unit: ' ms', scale: 1, max: 10000, step: 10 },
  { key: 'error_rate', name: 'errors', unit: ' %', scale: 100, max: 100, step: 1 },
  { key: 'cache_hit_ratio', name: 'cache hits', unit: ' %', scale: 100, max: 100, step: 1 },
  { key: 'bandwidth_mbps', name: 'bandwidth', unit: ' Mbit/s', scale: 1, max: 100000, step: 1 },
];
const label = (k) => k.name + k.unit.replace(' ', ' (') + ')';

export class Demo {
  // colourOf gives a CDN's colour in the rest of the page.
  constructor(section, box, colourOf, onChange) {
    this.section = section;
    this.colourOf = colourOf;
    this.box = box;
    this.onChange = onChange;
    this.off = false;
    this.rows = new Map();
    box.addEventListener('click', (e) => {
      const b = e.target.closest('button[data-act]');
      if (b) this.act(b.dataset.cdn, b.dataset.act, b.dataset.preset);
    });
    box.addEventListener('input', (e) => {
      // An edited field is the user's until applied: updates leave it be.
      if (e.target.matches('input')) e.target.dataset.dirty = '1';
    });
  }

  async refresh() {
    if (this.off) return;
    let res;
    try {
      res = await getJSON('/api/v1/demo/edges');
    } catch (err) {
      if (err instanceof APIError && err.status === 404) {
        this.off = true;
        this.section.hidden = true;
      }
      return;
    }
    this.section.hidden = false;
    const names = res.edges.map((e) => e.cdn).join(',');
    if (names !== this.names) this.build(res.edges);
    this.names = names;
    for (const e of res.edges) {
      const r = this.rows.get(e.cdn);
      for (const k of knobs) {
        const input = r.inputs[k.key];
        if (!input.dataset.dirty && document.activeElement !== input) input.value = String(round(e[k.key] * k.scale));
      }
      setText(r.stats, e.requests + ' probes answered, ' + e.errors + ' failed');
    }
  }

  build(edges) {
    this.rows.clear();
    const body = h('tbody');
    edges.forEach((e) => {
      const inputs = {};
      const cells = knobs.map((k) => {
        inputs[k.key] = h('input', { type: 'number', min: '0', max: String(k.max), step: String(k.step), 'aria-label': e.cdn + ' ' + label(k), dataset: { knob: k.key } });
        return h('td', {}, inputs[k.key]);
      });
      const stats = h('td', { className: 'muted' });
      body.append(h('tr', { dataset: { cdn: e.cdn } },
        h('td', { className: 'cdn' }, h('i', { style: { background: this.colourOf(e.cdn) } }), e.cdn),
        cells,
        h('td', {}, h('button', { type: 'button', className: 'small', textContent: 'Apply', dataset: { act: 'apply', cdn: e.cdn } })),
        h('td', { className: 'presets' }, Object.keys(presets).map((p) =>
          h('button', { type: 'button', className: 'small secondary', textContent: p, dataset: { act: 'preset', preset: p, cdn: e.cdn } }))),
        stats));
      this.rows.set(e.cdn, { inputs, stats });
    });
    this.box.replaceChildren(h('div', { className: 'table-wrap' }, h('table', { className: 'edges' },
      h('thead', {}, h('tr', {}, ['edge', ...knobs.map(label), '', 'incidents', 'probes'].map((t) => h('th', { textContent: t })))),
      body)));
  }

  async act(cdn, act, preset) {
    const r = this.rows.get(cdn);
    let body;
    if (act === 'preset') body = presets[preset];
    else {
      body = {};
      for (const k of knobs) {
        const v = r.inputs[k.key].value.trim();
        if (v === '') continue;
        body[k.key] = Number(v) / k.scale;
      }
    }
    const ok = await attempt('Changing the ' + cdn + ' edge', () => write('POST', '/api/v1/demo/edges/' + encodeURIComponent(cdn), body),
      cdn + ' edge: ' + describe(body));
    if (ok !== undefined) {
      for (const input of Object.values(r.inputs)) delete input.dataset.dirty;
      this.onChange();
    }
  }
}

function describe(body) {
  return knobs.filter((k) => k.key in body).map((k) => k.name + ' ' + round(body[k.key] * k.scale) + k.unit).join(', ');
}

function round(v) { return Math.round(v * 100) / 100; }
