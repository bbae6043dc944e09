// The overrides in force, and the actions that set and end them.

import { h, setText, fmt } from './dom.js';
import { write, attempt } from './api.js';
import { ask, ttlOptions } from './dialog.js';

// describeOverride says what an override does, in words.
export function describeOverride(o) {
  const where = o.region ? 'region ' + o.region : 'every region';
  const pol = o.policy ? ' of policy ' + o.policy : '';
  switch (o.action) {
    case 'drain': return o.cdn + ' drained in ' + where + pol;
    case 'pin': return where + pol + ' pinned to ' + o.cdn;
    case 'freeze': return 'split of ' + where + pol + ' frozen';
    default: return o.action + ' ' + [o.cdn, where].filter(Boolean).join(' in ');
  }
}

export class Overrides {
  constructor(box, refresh) {
    this.box = box;
    this.refresh = refresh;
    this.sig = null;
    this.ends = new Map(); // id → "ends in" cell
    box.addEventListener('click', (e) => {
      const b = e.target.closest('button[data-id]');
      if (b) this.end(b.dataset.id, b.dataset.what);
    });
  }

  // self names this instance in a fleet ('' standing alone): an override
  // says which instance it was written on.
  render(overrides, now, self) {
    const sig = overrides.map((o) => o.id).join(',') + '|' + self;
    if (sig !== this.sig) {
      this.sig = sig;
      this.ends.clear();
      if (overrides.length === 0) {
        this.box.replaceChildren(h('p', { className: 'empty', textContent: 'None: the split follows the health scores.' }));
      } else {
        this.box.replaceChildren(h('table', {},
          h('thead', {}, h('tr', {}, ['action', 'what', 'reason', 'by', 'set', 'ends', self ? 'from' : null, 'end'].filter((t) => t !== null).map((t) => h('th', { textContent: t })))),
          h('tbody', {}, overrides.map((o) => {
            const ends = h('td');
            this.ends.set(o.id, ends);
            return h('tr', { dataset: { id: o.id, action: o.action } },
              h('td', {}, h('span', { className: 'badge ' + o.action, textContent: o.action })),
              h('td', { textContent: describeOverride(o) }),
              h('td', { textContent: o.reason }),
              h('td', { className: 'by', textContent: o.by || '' }),
              h('td', { className: 'muted', textContent: fmt.clock(Date.parse(o.created)) }),
              ends,
              self ? h('td', { className: 'origin', textContent: o.origin || self + ' (here)' }) : null,
              h('td', {}, h('button', { type: 'button', className: 'small danger', textContent: 'End', dataset: { id: o.id, what: describeOverride(o) } })));
          }))));
      }
    }
    for (const o of overrides) {
      const cell = this.ends.get(o.id);
      if (cell) setText(cell, fmt.clock(Date.parse(o.expires)) + ' (in ' + fmt.span(Date.parse(o.expires) - now) + ')');
    }
  }

  async end(id, what) {
    const v = await ask({ title: 'End override', text: 'End “' + what + '” now?', ok: 'End it', danger: true,
      fields: [{ ...reasonField, required: false }] });
    if (!v) return;
    const q = v.reason ? '?reason=' + encodeURIComponent(v.reason) : '';
    await attempt('Ending the override', () => write('DELETE', '/api/v1/overrides/' + encodeURIComponent(id) + q), 'Override ended');
    this.refresh();
  }
}

// previewSplit asks the engine (a dry run, which changes nothing) what
// split each region would publish with the override in force, and shows
// it; a pin to a drained, degraded or full CDN is refused here as the API
// refuses it.
export async function previewSplit(body) {
  const r = await write('POST', '/api/v1/overrides?dry_run=1', { ...body, reason: body.reason || 'preview' });
  const nodes = [];
  let block = '';
  if (r.hazards && r.hazards.length) {
    block = r.hazards.map((x) => x.cdn + ' is ' + x.problem + ' in region ' + x.region).join('; ');
    nodes.push(h('p', { className: 'refused', role: 'alert', textContent: 'Refused: ' + block + '. Pinning would send the whole region to it.' }));
  }
  nodes.push(h('table', { className: 'preview-split' },
    h('thead', {}, h('tr', {}, ['region', 'CDN', 'now', 'after'].map((t) => h('th', { textContent: t })))),
    h('tbody', {}, r.split.flatMap((rp) => Object.keys(rp.after).filter((c) => rp.after[c] > 0 || rp.before[c] > 0).map((c) =>
      h('tr', { dataset: { region: rp.region, cdn: c } },
        h('td', { textContent: rp.region + (rp.fail_open ? ' (fails open)' : '') }), h('td', { textContent: c }),
        h('td', { className: 'num', textContent: fmt.pct(rp.before[c]) }), h('td', { className: 'num after', textContent: fmt.pct(rp.after[c]) })))))));
  return { nodes, block };
}

const reasonField = { name: 'reason', label: 'Reason (goes to the decision log; type it)', value: '', required: true };

// Actions on a region card or a CDN row.
export const actions = {
  async drain(policy, region, cdn) {
    const v = await ask({
      title: 'Drain ' + cdn, ok: 'Drain ' + cdn, danger: true,
      text: cdn + ' gets no new answers; viewers already on it stay until their TTL ends.',
      fields: [
        { name: 'scope', label: 'Where', kind: 'radio', value: 'region', options: [['region', 'region ' + region], ['all', 'every region']] },
        { name: 'ttl', label: 'For', kind: 'select', value: '30m', options: ttlOptions },
        reasonField,
      ],
      preview: (v) => previewSplit({ action: 'drain', cdn, policy, ttl: v.ttl, ...(v.scope === 'region' ? { region } : {}) }),
    });
    if (!v) return false;
    const body = { action: 'drain', cdn, policy, ttl: v.ttl, reason: v.reason };
    if (v.scope === 'region') body.region = region;
    return attempt('Draining ' + cdn, () => write('POST', '/api/v1/overrides', body), cdn + ' drained');
  },

  async undrain(policy, region, cdn, overrides) {
    const drains = overrides.filter((o) => o.action === 'drain' && o.cdn === cdn &&
      (!o.policy || o.policy === policy) && (!o.region || o.region === region));
    if (drains.length === 0) return false;
    const v = await ask({
      title: 'Undrain ' + cdn, ok: 'Undrain',
      text: 'Ends ' + drains.map(describeOverride).join('; ') + '. ' + cdn + ' then gets traffic again as its score allows.',
      fields: [{ ...reasonField, required: false }],
    });
    if (!v) return false;
    const q = v.reason ? '?reason=' + encodeURIComponent(v.reason) : '';
    return attempt('Undraining ' + cdn, async () => {
      for (const o of drains) await write('DELETE', '/api/v1/overrides/' + encodeURIComponent(o.id) + q);
    }, cdn + ' undrained');
  },

  async pin(policy, region, cdns) {
    const v = await ask({
      title: 'Pin region ' + region, ok: 'Pin',
      text: 'Every new answer in region ' + region + ' goes to one CDN, whatever the scores say.',
      fields: [
        { name: 'cdn', label: 'CDN', kind: 'select', value: cdns[0], options: cdns.map((c) => [c, c]) },
        { name: 'ttl', label: 'For', kind: 'select', value: '30m', options: ttlOptions },
        reasonField,
      ],
      preview: (v) => previewSplit({ action: 'pin', cdn: v.cdn, policy, region, ttl: v.ttl }),
    });
    if (!v) return false;
    return attempt('Pinning ' + region, () => write('POST', '/api/v1/overrides', { action: 'pin', policy, region, cdn: v.cdn, ttl: v.ttl, reason: v.reason }), region + ' pinned to ' + v.cdn);
  },

  async freeze(policy, region) {
    const v = await ask({
      title: 'Freeze the split', ok: 'Freeze',
      text: 'The split stays as it is now, whatever the scores do, until the freeze ends.',
      fields: [
        { name: 'scope', label: 'Where', kind: 'radio', value: 'region', options: [['region', 'region ' + region], ['all', 'every region']] },
        { name: 'ttl', label: 'For', kind: 'select', value: '30m', options: ttlOptions },
        reasonField,
      ],
    });
    if (!v) return false;
    const body = { action: 'freeze', policy, ttl: v.ttl, reason: v.reason };
    if (v.scope === 'region') body.region = region;
    return attempt('Freezing the split', () => write('POST', '/api/v1/overrides', body), 'Split frozen');
  },
};
