// The timeline: the form that adds a note and the list of recent ones.

import { h, fmt } from './dom.js';
import { write, attempt } from './api.js';

const MAX_SHOWN = 100;

export class Notes {
  constructor(form, list, onAdded) {
    this.list = list;
    this.sig = null;
    form.addEventListener('submit', async (e) => {
      e.preventDefault();
      const text = form.elements.text.value.trim();
      if (!text) { form.elements.text.focus(); return; }
      const tags = form.elements.tags.value.split(',').map((t) => t.trim()).filter(Boolean);
      const body = { text };
      if (tags.length) body.tags = tags;
      const button = form.querySelector('button');
      button.disabled = true;
      const r = await attempt('Adding the note', () => write('POST', '/api/v1/annotations', body), 'Note added');
      button.disabled = false;
      if (r) {
        form.reset();
        onAdded();
      }
    });
  }

  // render shows the newest notes first; the list is rebuilt only when
  // the notes change.
  render(notes) {
    const shown = notes.slice(-MAX_SHOWN).reverse();
    const sig = shown.map((n) => n.id).join(',');
    if (sig === this.sig) return;
    this.sig = sig;
    if (shown.length === 0) {
      this.list.replaceChildren(h('li', { className: 'empty', textContent: 'No notes in the last 30 minutes.' }));
      return;
    }
    this.list.replaceChildren(...shown.map((n) => h('li', { dataset: { id: n.id } },
      h('time', { dateTime: n.time, textContent: fmt.clock(Date.parse(n.time)) }),
      h('span', { className: 'text', textContent: n.text }),
      n.by ? h('span', { className: 'by muted', textContent: '— ' + n.by }) : null,
      n.tags.map((t) => h('span', { className: 'tag', textContent: t })))));
  }
}
