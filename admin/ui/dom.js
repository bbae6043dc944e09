// DOM and formatting helpers. Every element is built with h() or svg(),
// never from an HTML string, so text from the server (a reason, an
// annotation) can never become markup.

const SVGNS = 'http://www.w3.org/2000/svg';

// h builds an HTML element: props are properties (className, textContent,
// onclick …) except "dataset" and "style" (objects) and names with a dash,
// which are attributes.
export function h(tag, props, ...children) {
  const el = document.createElement(tag);
  for (const [k, v] of Object.entries(props || {})) {
    if (v === undefined || v === null) continue;
    if (k === 'dataset') Object.assign(el.dataset, v);
    // Styles go through the CSSOM, which the page's CSP allows, not the
    // style attribute, which it does not.
    else if (k === 'style') Object.assign(el.style, v);
    else if (k.includes('-')) el.setAttribute(k, v);
    else el[k] = v;
  }
  for (const c of children.flat()) {
    if (c !== null && c !== undefined && c !== false) el.append(c);
  }
  return el;
}

// svg builds an SVG element with attributes.
export function svg(tag, attrs, ...children) {
  const el = document.createElementNS(SVGNS, tag);
  for (const [k, v] of Object.entries(attrs || {})) el.setAttribute(k, v);
  el.append(...children);
  return el;
}

// setText changes a node's text only when it differs, so that a redraw
// every second touches only what moved.
export function setText(el, text) {
  if (el.textContent !== text) el.textContent = text;
}

// setAttr is setText for an attribute.
export function setAttr(el, name, value) {
  if (el.getAttribute(name) !== value) el.setAttribute(name, value);
}

// CDN colours: the Okabe–Ito palette, which stays distinct under the
// common colour-vision deficiencies (its yellow left out: too pale for a
// line on white), plus two dark tones for larger fleets.
const palette = ['#0072B2', '#E69F00', '#009E73', '#D55E00', '#CC79A7', '#56B4E9', '#000000', '#7f6d00'];
export function colour(i) { return palette[i % palette.length]; }

// colourOfName gives a CDN a colour from its name, so that it keeps it
// between policies and reloads: the name's hash picks a slot; a name
// whose slot is taken by a name before it (in sorted order) among names
// takes the next free one, so that a fleet of up to eight never shares.
const named = new Map();
export function colourOfName(name, names = []) {
  const key = name + '|' + names.join(',');
  if (named.has(key)) return named.get(key);
  const slot = (n) => { let x = 2166136261; for (const ch of n) { x ^= ch.codePointAt(0); x = Math.imul(x, 16777619) >>> 0; } return x % palette.length; };
  const taken = new Set();
  let c = palette[slot(name)];
  for (const n of [...new Set([...names, name])].sort()) {
    let i = slot(n);
    for (let k = 0; k < palette.length && taken.has(i); k++) i = (i + 1) % palette.length;
    taken.add(i);
    if (n === name) { c = palette[i]; break; }
  }
  named.set(key, c);
  return c;
}

const isNum = (v) => typeof v === 'number' && Number.isFinite(v);

export const fmt = {
  score: (v) => (isNum(v) ? v.toFixed(1) : '—'),
  pct: (v, digits = 1) => (isNum(v) ? (100 * v).toFixed(digits) + ' %' : '—'),
  ms: (v) => (isNum(v) ? Math.round(v) + ' ms' : '—'),
  mbps: (v) => (isNum(v) ? (v >= 100 ? Math.round(v) : v.toFixed(1)) + ' Mbit/s' : '—'),
  gbps: (v) => (isNum(v) ? v.toFixed(1) + ' Gbit/s' : '—'),
  weight: (v) => (isNum(v) ? (Math.round(v * 10) / 10).toString() : '—'),
  // clock shows a time of day in UTC, 24-hour: a NOC across zones reads
  // the same time as the decision log and the logs.
  clock: (ms) => (isNum(ms) ? new Date(ms).toISOString().slice(11, 19) + ' UTC' : '—'),
  hm: (ms) => (isNum(ms) ? new Date(ms).toISOString().slice(11, 16) : '—'),
  // when is an absolute UTC time with how long ago (or until) in brackets.
  when(ms, now) {
    if (!isNum(ms)) return '—';
    const d = now - ms;
    return fmt.clock(ms) + (d >= 0 ? ' (' + fmt.span(d) + ' ago)' : ' (in ' + fmt.span(-d) + ')');
  },
  // span says how long d milliseconds is, coarsely.
  span(d) {
    const s = Math.max(0, Math.round(d / 1000));
    if (s < 90) return s + ' s';
    if (s < 5400) return Math.round(s / 60) + ' min';
    if (s < 172800) return (s / 3600).toFixed(1) + ' h';
    return Math.round(s / 86400) + ' days';
  },
};

export { isNum };
