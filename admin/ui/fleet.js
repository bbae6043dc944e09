// The fleet (GET /api/v1/fleet): whether every instance seen holds the
// same overrides as this one, and each one's last contact, digest and
// sync lag. Hidden on an instance that stands alone.

import { h, setText, fmt } from './dom.js';

export class Fleet {
  constructor(section, box) {
    this.section = section;
    this.box = box;
    this.summary = h('p', { id: 'fleet-summary' });
    this.table = h('div');
    box.replaceChildren(this.summary, this.table);
    this.self = '';
  }

  render(f, now) {
    this.section.hidden = !f || !f.enabled;
    if (!f || !f.enabled) return;
    this.self = f.instance;
    const fresh = f.instances.filter((i) => !i.stale);
    const differ = fresh.filter((i) => !i.agrees).map((i) => i.instance);
    let text;
    if (!f.connected) {
      text = 'Cut off from NATS' + (f.error ? ' (' + f.error + ')' : '') + ': ' + f.instance +
        ' answers from its own overrides; ' + f.unreplicated + ' change(s) wait to go out.';
    } else if (differ.length) {
      text = 'The fleet disagrees: ' + differ.join(', ') + ' hold(s) other overrides than ' + f.instance + '.';
    } else {
      text = 'The fleet agrees: ' + fresh.length + ' instance(s) hold the same overrides.';
    }
    this.summary.className = f.connected && !differ.length ? 'fleet-ok' : 'fleet-bad';
    this.summary.dataset.agrees = String(f.connected && !differ.length);
    setText(this.summary, text);
    this.table.replaceChildren(h('table', {},
      h('thead', {}, h('tr', {}, ['instance', 'last contact', 'overrides', 'digest', 'sync lag'].map((t) => h('th', { textContent: t })))),
      h('tbody', {}, f.instances.map((i) => h('tr', { className: i.stale ? 'muted' : '' },
        h('td', { textContent: i.instance + (i.self ? ' (this one)' : '') }),
        h('td', { textContent: i.self ? 'now' : fmt.span(now - Date.parse(i.last_contact)) + ' ago' + (i.stale ? ' (not seen lately)' : '') }),
        h('td', { textContent: String(i.overrides) }),
        h('td', { textContent: i.digest + (i.agrees ? '' : ' ≠') }),
        h('td', { textContent: i.sync_lag_seconds ? fmt.span(i.sync_lag_seconds * 1000) : 'in sync' }))))));
  }
}
