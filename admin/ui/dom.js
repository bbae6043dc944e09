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

// CDN colours, assigned by the CDN's position in the policy.
const palette = ['#2f6fdf', '#e07b00', '#0f9d6b', '#d6336c', '#7b4ddb', '#0b95b5', '#7a8b0e', '#b43c2f'];
export function colour(i) { return palette[i % palette.length]; }

const isNum = (v) => typeof v === 'number' && Number.isFinite(v);

export const fmt = {
  score: (v) => (isNum(v) ? v.toFixed(1) : '—'),
  pct: (v, digits = 1) => (isNum(v) ? (100 * v).toFixed(digits) + ' %' : '—'),
  ms: (v) => (isNum(v) ? Math.round(v) + ' ms' : '—'),
  mbps: (v) => (isNum(v) ? (v >= 100 ? Math.round(v) : v.toFixed(1)) + ' Mbit/s' : '—'),
  gbps: (v) => (isNum(v) ? v.toFixed(1) + ' Gbit/s' : '—'),
  weight: (v) => (isNum(v) ? (Math.round(v * 10) / 10).toString() : '—'),
  // clock shows a time of day in the browser's zone.
  clock: (ms) => new Date(ms).toLocaleTimeString([], { hour: '2-digit', minute: '2-digit', second: '2-digit' }),
  hm: (ms) => new Date(ms).toLocaleTimeString([], { hour: '2-digit', minute: '2-digit' }),
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
