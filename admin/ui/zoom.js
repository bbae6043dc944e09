// The pointer on a chart: hovering moves the crosshair of every chart
// (hooks.hover, with the time under the pointer), dragging across a chart
// selects a time range every chart zooms to (hooks.zoom), a double click
// zooms back out (hooks.zoom(null)). Without hooks a chart is on its own.

import { setAttr } from './dom.js';

const MIN_DRAG_PX = 8; // a shorter drag is a click

export function attachPointer(chart, hooks) {
  const el = chart.svg;
  const hover = (t) => (hooks ? hooks.hover(t) : chart.setHover(t));
  let from = null;
  el.addEventListener('pointerdown', (e) => {
    if (!chart.last || e.button !== 0) return;
    from = e.clientX;
    // The drag goes on outside the chart; a pointer the browser does not
    // track (a synthetic event) cannot be captured and need not be.
    try { el.setPointerCapture(e.pointerId); } catch { /* not captured */ }
  });
  el.addEventListener('pointermove', (e) => {
    if (!chart.last) return;
    hover(chart.timeAt(e.clientX));
    if (from !== null) select(chart, from, e.clientX);
  });
  el.addEventListener('pointerup', (e) => {
    if (from === null) return;
    const start = from;
    from = null;
    setAttr(chart.sel, 'visibility', 'hidden');
    if (!hooks || Math.abs(e.clientX - start) < MIN_DRAG_PX) return;
    const a = chart.timeAt(start), b = chart.timeAt(e.clientX);
    hooks.zoom(Math.min(a, b), Math.max(a, b));
  });
  el.addEventListener('pointerleave', () => { if (from === null) hover(null); });
  el.addEventListener('dblclick', () => { if (hooks) hooks.zoom(null); });
}

// select shades the range being dragged over, in the chart's own units.
function select(chart, x0, x1) {
  const r = chart.svg.getBoundingClientRect();
  const vb = chart.svg.viewBox.baseVal;
  const sx = vb && vb.width ? vb.width / r.width : 1;
  const a = Math.max(chart.x0, (Math.min(x0, x1) - r.left) * sx);
  const b = Math.min(chart.x1, (Math.max(x0, x1) - r.left) * sx);
  for (const [k, v] of [['x', a], ['width', Math.max(0, b - a)], ['y', chart.plotTop], ['height', chart.plotBottom - chart.plotTop]]) setAttr(chart.sel, k, String(v));
  setAttr(chart.sel, 'visibility', 'visible');
}

// ZoomBar says which range the charts are zoomed to, with a button back
// to the live window; hidden when not zoomed.
export class ZoomBar {
  constructor(parent, reset) {
    this.btn = document.createElement('button');
    this.btn.type = 'button';
    this.btn.id = 'zoom-reset';
    this.btn.className = 'small secondary';
    this.btn.hidden = true;
    this.btn.title = 'drag across a chart to zoom; double-click a chart or press this to follow live again';
    this.btn.onclick = reset;
    parent.append(this.btn);
  }

  show(range, clock) {
    this.btn.hidden = !range;
    const text = range ? 'zoomed to ' + clock(range[0]) + ' – ' + clock(range[1]) + ' · back to live' : '';
    if (this.btn.textContent !== text) this.btn.textContent = text;
  }
}
