// ask shows the action dialog with a few fields and resolves to their
// values, or null when cancelled. One <dialog> serves every action; its
// body is rebuilt each time it opens, so nothing accumulates.

import { h } from './dom.js';

// fields: [{name, label, kind: 'text'|'select'|'radio', value, options:
// [[value, label]], required}]
export function ask({ title, text, fields = [], ok, danger = false }) {
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
  body.replaceChildren(...rows);

  return new Promise((resolve) => {
    const done = (v) => {
      form.onsubmit = null;
      document.getElementById('action-cancel').onclick = null;
      dlg.oncancel = null;
      if (dlg.open) dlg.close();
      body.replaceChildren();
      resolve(v);
    };
    form.onsubmit = (e) => {
      e.preventDefault();
      const out = {};
      for (const [k, get] of Object.entries(inputs)) out[k] = get();
      done(out);
    };
    document.getElementById('action-cancel').onclick = () => done(null);
    dlg.oncancel = (e) => { e.preventDefault(); done(null); };
    dlg.showModal();
    okBtn.focus();
  });
}

// ttlOptions are the lifetimes offered for an override.
export const ttlOptions = [['10m', '10 minutes'], ['30m', '30 minutes'], ['1h', '1 hour'], ['4h', '4 hours'], ['24h', '24 hours']];
