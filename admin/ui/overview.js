// The overview strip: one tile per region, worst first, and the filter
// (region, CDN, state) the "Now" cards follow. Every CDN's display state
// is derived here, so that tiles, rows and filter agree.

import { h, setText, fmt } from './dom.js';

// States, worst first: rank orders regions and picks a tile's colour.
export const STATES = [
  ['degraded', 'degraded: the scores took it out'],
  ['blind', 'blind/stale: no fresh health signal'],
  ['limited', 'capacity-limited: held below its health share by its commit'],
  ['drained', 'drained by an operator'],
  ['pinned', 'the region is pinned to it'],
  ['recovering', 'recovering: ramping back up'],
  ['unmeasured', 'not measured yet'],
  ['healthy', 'healthy'],
];
const rank = new Map(STATES.map(([s], i) => [s, STATES.length - i]));
export const label = { limited: 'capacity-limited', unmeasured: 'not measured', blind: 'blind/stale' };

// pinOf names the CDN a region is pinned to, or ''.
export function pinOf(overrides, policy, region) {
  const o = overrides.find((x) => x.action === 'pin' && (!x.policy || x.policy === policy) && (!x.region || x.region === region));
  return o ? o.cdn : '';
}

// stateOf is a CDN's display state in a region: what an operator must
// know first. The engine's own status stays underneath (title text).
export function stateOf(c, r, pinned) {
  if (c.status === 'drained') return 'drained';
  if (pinned === c.name) return 'pinned';
  if (c.status === 'degraded') return 'degraded';
  if (c.blind || r.stale) return 'blind';
  if (c.capacity_factor !== undefined && c.capacity_factor < 0.995) return 'limited';
  if (c.status === 'recovering') return 'recovering';
  if (c.score === null || c.score === undefined) return 'unmeasured';
  return 'healthy';
}

export function severity(state) { return rank.get(state) || 0; }

// regionSummary counts a region's states and finds its worst.
export function regionSummary(p, r, overrides) {
  const pinned = pinOf(overrides, p.name, r.name);
  const states = r.cdns.map((c) => stateOf(c, r, pinned));
  const count = (s) => states.filter((x) => x === s).length;
  const overridden = r.cdns.filter((c) => overrides.some((o) => (!o.policy || o.policy === p.name) && (!o.region || o.region === r.name) &&
    (!o.cdn || o.cdn === c.name))).length;
  let worst = 'healthy';
  for (const s of states) if (severity(s) > severity(worst)) worst = s;
  const last = Math.max(0, ...r.cdns.map((c) => (c.last_change ? Date.parse(c.last_change) : 0)));
  // Failing open outranks any CDN's state: nothing good is left.
  const sev = (r.failed_open ? 100 : 0) + severity(worst) * 10 + count('degraded') + count('blind');
  return { states, worst, sev, last, overridden, degraded: count('degraded'), blind: count('blind'), limited: count('limited') };
}

// counts says which CDNs of a region are not healthy, by state, worst
// first ("degraded: edgio, fastly · drained: akamai"), and how many are
// overridden; a region with nothing to say says how many are healthy.
function counts(r, s) {
  const parts = [];
  for (const [st] of STATES) {
    if (st === 'healthy') continue;
    const names = r.cdns.filter((c, i) => s.states[i] === st).map((c) => c.name);
    if (names.length) parts.push((label[st] || st) + ': ' + names.join(', '));
  }
  if (s.overridden) parts.push(s.overridden + ' overridden');
  return parts.length ? parts.join(' · ') : 'all ' + r.cdns.length + ' CDNs healthy';
}

// parseHash reads a deep link: #region=kr&cdn=akamai&state=degraded.
export function parseHash() {
  const q = new URLSearchParams(location.hash.replace(/^#/, ''));
  return { region: q.get('region') || '', cdn: q.get('cdn') || '', state: q.get('state') || '' };
}

export function writeHash(f) {
  setHash({ region: f.region, cdn: f.cdn, state: f.state });
}

// setHash changes some keys of the address's hash and keeps the others
// (policy=, wall): an empty value removes its key.
export function setHash(change) {
  const q = new URLSearchParams(location.hash.replace(/^#/, ''));
  for (const [k, v] of Object.entries(change)) if (v) q.set(k, v); else q.delete(k);
  const s = q.toString().replace(/=(&|$)/g, '$1'); // "wall", not "wall="
  history.replaceState(null, '', s ? '#' + s : location.pathname + location.search);
}

// hashFlag tells whether the hash holds a key (#wall, #wall&policy=live).
export function hashFlag(k) { return new URLSearchParams(location.hash.replace(/^#/, '')).has(k); }

export class Overview {
  constructor(box, filterBox, onFilter) {
    this.box = box;
    this.filter = parseHash();
    this.onFilter = onFilter;
    this.tiles = new Map();
    this.sig = '';
    this.selects = {};
    for (const k of ['region', 'cdn', 'state']) {
      const sel = h('select', { id: 'filter-' + k, 'aria-label': 'filter by ' + k, onchange: () => this.set({ [k]: sel.value }) });
      this.selects[k] = sel;
      filterBox.append(h('label', { className: 'filter' }, k + ' ', sel));
    }
    filterBox.append(h('button', { type: 'button', className: 'small secondary', textContent: 'Clear', onclick: () => this.set({ region: '', cdn: '', state: '' }) }));
    box.addEventListener('click', (e) => {
      const t = e.target.closest('[data-region]');
      if (t) this.set({ region: this.filter.region === t.dataset.region ? '' : t.dataset.region });
    });
    window.addEventListener('hashchange', () => { this.filter = parseHash(); this.onFilter(); });
  }

  set(change) {
    Object.assign(this.filter, change);
    writeHash(this.filter);
    this.onFilter();
  }

  options(sel, values, labels = {}) {
    const sig = values.join(',');
    if (sel.dataset.sig !== sig) {
      sel.dataset.sig = sig;
      sel.replaceChildren(h('option', { value: '', textContent: 'all' }), ...values.map((v) => h('option', { value: v, textContent: labels[v] || v })));
    }
    if (sel.value !== this.filter[sel.id.slice(7)]) sel.value = this.filter[sel.id.slice(7)];
  }

  // render draws the tiles of policy p, worst region first, and returns
  // the region names in that order for the cards to follow.
  render(p, overrides, now) {
    const sums = p.regions.map((r) => ({ r, s: regionSummary(p, r, overrides) }));
    sums.sort((a, b) => b.s.sev - a.s.sev || a.r.name.localeCompare(b.r.name));
    this.options(this.selects.region, p.regions.map((r) => r.name).sort());
    this.options(this.selects.cdn, p.regions.length ? p.regions[0].cdns.map((c) => c.name).sort() : []);
    this.options(this.selects.state, STATES.map(([s]) => s), label);
    const sig = sums.map((x) => x.r.name).join(',');
    if (sig !== this.sig) {
      this.sig = sig;
      for (const { r } of sums) {
        if (!this.tiles.has(r.name)) {
          const t = { name: h('strong', { textContent: r.name }), state: h('span', { className: 'badge' }), counts: h('span', { className: 'counts' }), last: h('span', { className: 'last' }) };
          t.el = h('button', { type: 'button', className: 'tile', dataset: { region: r.name } }, h('span', { className: 'tile-head' }, t.name, ' ', t.state), t.counts, t.last);
          this.tiles.set(r.name, t);
        }
      }
      this.box.replaceChildren(...sums.map(({ r }) => this.tiles.get(r.name).el));
    }
    for (const { r, s } of sums) {
      const t = this.tiles.get(r.name);
      const worst = r.failed_open ? 'failed-open' : s.worst;
      t.el.dataset.state = worst;
      t.el.setAttribute('aria-pressed', String(this.filter.region === r.name));
      setText(t.state, r.failed_open ? 'failed open' : label[s.worst] || s.worst);
      t.state.className = 'badge ' + worst;
      setText(t.counts, counts(r, s));
      setText(t.last, s.last ? 'changed ' + fmt.when(s.last, now) : 'no change since start');
      t.el.title = r.reason ? 'why the split last moved: ' + r.reason : 'the split follows the scores';
    }
    return sums.map((x) => x.r.name);
  }
}
