// The signal kinds come from GET /api/v1/kinds, so that the page lists
// none of its own; a kind is shown by its unit. A kind of a unit not
// named here still shows: its number with the kind's digits and the unit.

import { fmt, isNum } from './dom.js';

const units = {
  ms: { cell: (v) => fmt.ms(v), chart: (v) => fmt.ms(v), axis: (v) => Math.round(v) + ' ms' },
  // Charts of a ratio share one scale, 0 to 100 %, read to the percent.
  ratio: { cell: (v, k) => fmt.pct(v, k.digits), chart: (v) => fmt.pct(v, 0), axis: (v) => fmt.pct(v, 0), max: 1 },
  'Mbit/s': { cell: (v) => fmt.mbps(v), chart: (v) => fmt.mbps(v), axis: (v) => String(Math.round(v)) },
  'Gbit/s': { cell: (v) => fmt.gbps(v), chart: (v) => fmt.gbps(v), axis: (v) => v.toFixed(0) },
};

function plain(v, k) { return isNum(v) ? v.toFixed(k.digits) + ' ' + k.unit : '—'; }
const other = { cell: plain, chart: plain, axis: (v) => String(Math.round(v)) };

// cell is a value of kind k as a table shows it.
export function cell(k, v) { return (units[k.unit] || other).cell(v, k); }

// chartSpec is the chart of kind k. A kind the probes do not measure
// only has values where a push or Prometheus feeds it: its chart hides
// while no CDN has one.
export function chartSpec(k) {
  const u = units[k.unit] || other;
  return {
    id: k.key, title: k.label, max: u.max === undefined ? null : u.max, unit: k.unit === 'ratio' ? '%' : k.unit,
    get: (c) => c.signals[k.key] || [],
    format: (v, axis) => (axis ? u.axis(v) : u.chart(v, k)),
    optional: !k.sources.includes('probe'),
  };
}
