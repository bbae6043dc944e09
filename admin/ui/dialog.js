// ask shows the action dialog with a few fields and resolves to their
// values, or null when cancelled. One <dialog> serves every action; its
// body is rebuilt each time it opens, so nothing accumulates.

import { h } from './dom.js';

// fields: [{name, label, kind: 'text'|'select'|'radio', value, options:
// [[value, label]], required}]. preview, when given, is called with the
// values whenever they change and resolves to {nodes, block}: what the
// action would do, shown under the fields, and a reason to refuse it
// (the OK button is then disabled).
export function ask({ title, text, fields = [], ok, danger = false, preview = null }) {
  const dlg = document.getElementById('action-dialog');
  const form = document.getElementById('action-form');
  const body = document.getElementById('action-body');
  const okBtn = document.getElementById('action-ok');
  document.getElementById('action-title').textContent = title;
  okBtn.textContent = ok;
  okBtn.className = danger ? 'danger' : '';

  const inputs = {};
  const rows = [];
  if (text) rows.push(h('p', { textContent: text }));
  for (const f of fields) {
    const id = 'f-' + f.name;
    if (f.kind === 'radio') {
      rows.push(h('label', { textContent: f.label }));
      const group = f.options.map(([v, label]) => {
        const r = h('input', { type: 'radio', name: f.name, value: v, checked: v === f.value });
        return h('label', { className: 'choice' }, r, label);
      });
      rows.push(h('div', {}, group));
      inputs[f.name] = () => (form.querySelector(`input[name="${f.name}"]:checked`) || {}).value;
      continue;
    }
    let el;
    if (f.kind === 'select') {
      el = h('select', { id, name: f.name }, f.options.map(([v, label]) => h('option', { value: v, textContent: label, selected: v === f.value })));
    } else {
      el = h('input', { id, name: f.name, type: 'text', value: f.value || '', required: !!f.required, maxLength: 1000 });
    }
    rows.push(h('label', { htmlFor: id, textContent: f.label }), el);
    inputs[f.name] = () => el.value.trim();
  }
  const out = h('div', { className: 'preview', id: 'action-preview', 'aria-live': 'polite' });
  if (preview) rows.push(out);
  body.replaceChildren(...rows);
  const values = () => { const v = {}; for (const [k, get] of Object.entries(inputs)) v[k] = get(); return v; };
  // Only the choices (selects, radios) change what the action does; the
  // typed text (a reason) does not, so typing asks the engine nothing.
  const choices = () => JSON.stringify(fields.filter((f) => f.kind === 'select' || f.kind === 'radio').map((f) => [f.name, values()[f.name]]));
  let shown = null; // the choices the preview on screen is for
  let seq = 0;
  let busy = false;
  // OK acts only on what the preview shows: while a preview for new
  // choices is on its way, OK waits.
  okBtn.disabled = !!preview;
  const update = async (fresh) => {
    if (!preview) return;
    const key = choices();
    if (!fresh && key === shown) return;
    if (fresh && busy) return; // the periodic refresh never piles up
    const n = ++seq;
    busy = true;
    if (key !== shown) { out.dataset.state = 'loading'; okBtn.disabled = true; }
    let r;
    try { r = await preview(values()); } catch (err) { r = { nodes: [h('p', { className: 'error-text', textContent: 'No preview: ' + err.message })], block: 'no preview' }; }
    if (n !== seq) return; // a newer change is on its way
    busy = false;
    if (choices() !== key) { update(false); return; } // changed while asking
    shown = key;
    out.replaceChildren(...(r.nodes || []));
    out.dataset.state = r.block ? 'blocked' : 'ok';
    okBtn.disabled = !!r.block;
  };
  form.oninput = () => update(false);
  form.onchange = () => update(false);
  // The engine moves on while the dialog is open (a CDN recovers or
  // fails): the preview, and whether the action is refused, follow it.
  const timer = preview ? setInterval(() => update(true), 2000) : null;

  return new Promise((resolve) => {
    const done = (v) => {
      form.onsubmit = null;
      form.oninput = null;
      form.onchange = null;
      if (timer) clearInterval(timer);
      seq++;
      document.getElementById('action-cancel').onclick = null;
      dlg.oncancel = null;
      if (dlg.open) dlg.close();
      body.replaceChildren();
      resolve(v);
    };
    form.onsubmit = (e) => {
      e.preventDefault();
      if (okBtn.disabled) return;
      // A choice changed without an event (a script set it): preview it
      // before anything is done.
      if (preview && choices() !== shown) { update(false); return; }
      done(values());
    };
    document.getElementById('action-cancel').onclick = () => done(null);
    dlg.oncancel = (e) => { e.preventDefault(); done(null); };
    dlg.showModal();
    // Cancel, not the action, has focus: Enter at 02:00 does no harm.
    document.getElementById('action-cancel').focus();
    // After showModal: a token asked for by the preview opens above it.
    update(false);
  });
}

// ttlOptions are the lifetimes offered for an override.
export const ttlOptions = [['10m', '10 minutes'], ['30m', '30 minutes'], ['1h', '1 hour'], ['4h', '4 hours'], ['24h', '24 hours']];
