// Marks on a chart's time axis: notes as dashed lines under a label (notes
// nearer each other than a label's width share one, "5 notes", and its
// tooltip lists them), overrides as shaded spans named by what they do.
// Elements come from pools and are re-used, so a page open for hours
// keeps a constant number of nodes.

import { svg, setText, setAttr, fmt } from './dom.js';

const MAX_NOTES = 60;
const MAX_SPANS = 12;
const LABEL_PX = 96; // notes nearer than this share a label
const CHAR_PX = 5.6; // width of a character of the 10 px labels

const px = (v) => v.toFixed(1);
const clip = (s, n) => (s.length > n ? s.slice(0, n - 1) + '…' : s);

function hide(pool, from) {
  for (let i = from; i < pool.length; i++) setAttr(pool[i], 'visibility', 'hidden');
}

export class Marks {
  constructor(spanG, noteG) {
    this.spanG = spanG;
    this.noteG = noteG;
    this.spanPool = [];
    this.notePool = [];
    this.labelPool = [];
  }

  // spans shades [t0, t1] of each override ({t0, t1, label, action}).
  spans(list, x, t0, t1, y0, y1) {
    const shown = list.filter((s) => s.t1 >= t0 && s.t0 <= t1).slice(0, MAX_SPANS);
    shown.forEach((s, i) => {
      let g = this.spanPool[i];
      if (!g) {
        g = svg('g', { class: 'span' }, svg('rect'), svg('text'), svg('title'));
        this.spanG.append(g);
        this.spanPool[i] = g;
      }
      const [r, tx, ti] = g.children;
      const a = x(Math.max(s.t0, t0)), b = x(Math.min(s.t1, t1));
      for (const [k, v] of [['x', px(a)], ['width', px(Math.max(1, b - a))], ['y', String(y1)], ['height', String(y0 - y1)]]) setAttr(r, k, v);
      setAttr(tx, 'x', px(a + 3));
      setAttr(tx, 'y', String(y0 - 4));
      setText(tx, s.label);
      setText(ti, s.label + ', since ' + fmt.clock(s.t0));
      setAttr(g, 'class', 'span ' + s.action);
      setAttr(g, 'visibility', 'visible');
    });
    hide(this.spanPool, shown.length);
  }

  // notes marks each note ({t, text}) in [t0, t1] with a line, and
  // labels them in clusters along the top.
  notes(list, x, t0, t1, y0, y1) {
    const shown = list.filter((n) => n.t >= t0 && n.t <= t1).slice(-MAX_NOTES);
    shown.forEach((n, i) => {
      let g = this.notePool[i];
      if (!g) {
        g = svg('g', { class: 'note' }, svg('line'), svg('title'));
        this.noteG.append(g);
        this.notePool[i] = g;
        // A label for every line, made with it: clusters splitting as
        // the window moves then add no nodes.
        const l = svg('g', { class: 'note-label', visibility: 'hidden' }, svg('rect', { rx: 2 }), svg('text'), svg('title'));
        this.noteG.append(l);
        this.labelPool[i] = l;
      }
      const xx = px(x(n.t));
      const [ln, ti] = g.children;
      for (const [k, v] of [['x1', xx], ['x2', xx], ['y1', String(y1)], ['y2', String(y0)]]) setAttr(ln, k, v);
      setText(ti, fmt.clock(n.t) + ' — ' + n.text);
      setAttr(g, 'visibility', 'visible');
    });
    hide(this.notePool, shown.length);

    const groups = [];
    for (const n of shown) {
      const xx = x(n.t);
      const last = groups[groups.length - 1];
      if (last && xx - last.x < LABEL_PX) last.notes.push(n);
      else groups.push({ x: xx, notes: [n] });
    }
    const right = x(t1);
    groups.forEach((gr, i) => {
      const g = this.labelPool[i];
      const [r, tx, ti] = g.children;
      const text = gr.notes.length === 1 ? clip(gr.notes[0].text, 16) : gr.notes.length + ' notes';
      const w = 6 + CHAR_PX * text.length;
      const left = Math.min(gr.x, right - w);
      for (const [k, v] of [['x', px(left)], ['y', String(y1 - 12)], ['width', px(w)], ['height', '12']]) setAttr(r, k, v);
      setAttr(tx, 'x', px(left + 3));
      setAttr(tx, 'y', String(y1 - 3));
      setText(tx, text);
      setText(ti, gr.notes.map((n) => fmt.clock(n.t) + ' — ' + n.text).join('\n'));
      setAttr(g, 'visibility', 'visible');
    });
    hide(this.labelPool, groups.length);
  }
}

// TagFilter picks which notes the charts mark: all, none, or those with
// one tag; the tags offered are those of the notes.
export class TagFilter {
  constructor(parent, changed) {
    this.value = '';
    this.sig = '';
    this.sel = document.createElement('select');
    this.sel.id = 'note-tag';
    this.sel.onchange = () => { this.value = this.sel.value; changed(); };
    const label = document.createElement('label');
    label.className = 'filter';
    label.append('notes ', this.sel);
    parent.append(label);
  }

  // filter returns the notes to mark, after offering the tags of all.
  filter(notes) {
    const tags = [...new Set(notes.flatMap((n) => n.tags || []))].sort();
    const sig = tags.join(',');
    if (sig !== this.sig) {
      this.sig = sig;
      const opts = [['', 'all'], ['-', 'none'], ...tags.map((t) => [t, 'tag ' + t])];
      this.sel.replaceChildren(...opts.map(([v, text]) => Object.assign(document.createElement('option'), { value: v, textContent: text })));
      if (this.value && this.value !== '-' && !tags.includes(this.value)) this.value = '';
      this.sel.value = this.value;
    }
    if (this.value === '-') return [];
    return this.value ? notes.filter((n) => (n.tags || []).includes(this.value)) : notes;
  }
}
