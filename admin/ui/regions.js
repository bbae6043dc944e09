// The "Now" section: one card per region of the shown policy, with a row
// per CDN. Cards and rows are built when the set of regions and CDNs
// changes (a reload) and otherwise only have their text updated. Each
// signal kind has a column.

import { h, setText, colourOfName, fmt } from './dom.js';
import { stateOf, pinOf, label } from './overview.js';
import { describeOverride } from './overrides.js';
import { cell } from './kinds.js';

export class Regions {
  constructor(box) {
    this.box = box;
    this.layout = '';
    this.rows = new Map(); // "region/cdn" → cells
    this.cards = new Map(); // region → card parts
  }

  render(view, policy, kinds) {
    const p = view.policies.find((x) => x.name === policy);
    if (!p) { this.box.replaceChildren(h('p', { className: 'empty', textContent: 'No policy loaded.' })); this.layout = ''; return; }
    const layout = p.name + ':' + p.regions.map((r) => r.name + '=' + r.cdns.map((c) => c.name).join(',')).join(';');
    if (layout !== this.layout) this.build(p, kinds);
    this.layout = layout;
    const now = Date.parse(view.time);
    for (const r of p.regions) this.update(p, r, view.overrides, now, kinds);
  }

  build(p, kinds) {
    this.rows.clear();
    this.cards.clear();
    const cards = p.regions.map((r) => {
      const badges = h('span', { className: 'badges' });
      const reason = h('p', { className: 'reason' });
      const body = h('tbody');
      const card = h('div', { className: 'region', dataset: { policy: p.name, region: r.name } },
        h('div', { className: 'region-head' },
          h('button', { type: 'button', className: 'small secondary collapse', 'aria-expanded': 'true', title: 'collapse or expand this region', dataset: { act: 'collapse' }, textContent: '▾' }),
          h('h3', { textContent: 'region ' + r.name }), badges,
          h('div', { className: 'actions' },
            h('button', { type: 'button', className: 'secondary', textContent: 'Pin…', title: 'send all new answers of this region to one CDN', dataset: { act: 'pin' } }),
            h('button', { type: 'button', className: 'secondary', textContent: 'Freeze…', title: 'hold the current split, whatever the scores do', dataset: { act: 'freeze' } }))),
        reason,
        h('div', { className: 'table-wrap' }, h('table', {},
          h('thead', {}, h('tr', {}, ['CDN', 'status', 'score', 'share of new answers: live (bar) vs baseline (mark)', 'weight live / baseline', ...kinds.map((k) => k.short_label), 'status since', 'actions']
            .map((t, i) => h('th', { className: i === 2 || (i >= 4 && i < 5 + kinds.length) ? 'num' : '', textContent: t })))),
          body)));
      const names = r.cdns.map((x) => x.name);
      r.cdns.forEach((c) => {
        const cells = {
          status: h('span', { className: 'badge' }),
          score: h('td', { className: 'num score' }),
          bar: h('b', { style: { background: colourOfName(c.name, names) } }),
          mark: h('u'),
          shareText: h('span'),
          weight: h('td', { className: 'num weight' }),
          signals: kinds.map((k) => h('td', { className: 'num signal', dataset: { kind: k.key } })),
          since: h('td', { className: 'since' }),
          act: h('button', { type: 'button', className: 'small' }),
          esc: h('button', { type: 'button', className: 'small secondary', textContent: 'Escalate…', dataset: { act: 'escalate' } }),
        };
        body.append(h('tr', { dataset: { policy: p.name, region: r.name, cdn: c.name } },
          h('td', { className: 'cdn' }, h('i', { style: { background: colourOfName(c.name, names) } }), c.name),
          h('td', { className: 'status' }, cells.status),
          cells.score,
          h('td', { className: 'share' }, h('span', { className: 'sharebar' }, cells.bar, cells.mark), cells.shareText),
          cells.weight, ...cells.signals, cells.since,
          h('td', { className: 'acts' }, cells.act, ' ', cells.esc)));
        this.rows.set(r.name + '/' + c.name, cells);
      });
      this.cards.set(r.name, { card, badges, reason, body });
      return card;
    });
    this.box.replaceChildren(...cards);
  }

  // escalated marks the rows of the CDNs with an open escalation (a set
  // of "region/cdn"): their Escalate button waits until it is closed.
  escalated(open) {
    for (const [key, cells] of this.rows) {
      const on = open.has(key);
      cells.esc.disabled = on;
      setText(cells.esc, on ? 'Escalated' : 'Escalate…');
      cells.esc.title = on ? 'escalated: close it under Escalations' : 'page whoever Alertmanager routes CDN escalations to, with a note';
    }
  }

  update(p, r, overrides, now, kinds) {
    const card = this.cards.get(r.name);
    const badges = [];
    if (r.failed_open) badges.push(['failed-open', 'failed open: every CDN is out, serving the baseline']);
    if (r.stale) badges.push(['blind', 'telemetry stale since ' + fmt.when(Date.parse(r.stale_since), now) + ': holding the last split']);
    for (const o of overrides) {
      if ((o.policy && o.policy !== p.name) || (o.region && o.region !== r.name)) continue;
      if (o.action === 'drain') continue; // shown on the CDN's row
      badges.push([o.action, describeOverride(o) + ', ends in ' + fmt.span(Date.parse(o.expires) - now)]);
    }
    const sig = JSON.stringify(badges);
    if (card.badges.dataset.sig !== sig) {
      card.badges.dataset.sig = sig;
      card.badges.replaceChildren(...badges.map(([cls, text]) => h('span', { className: 'badge ' + cls, textContent: text })));
    }
    const last = Math.max(0, ...r.cdns.map((c) => (c.last_change ? Date.parse(c.last_change) : 0)));
    setText(card.reason, r.reason ? 'Why the split last moved' + (last ? ' (' + fmt.when(last, now) + ')' : '') + ': ' + r.reason : 'The split has not moved from what the scores give.');
    const pinned = pinOf(overrides, p.name, r.name);

    const baseTotal = r.cdns.reduce((a, c) => a + c.baseline, 0) || 1;
    for (const c of r.cdns) {
      const cells = this.rows.get(r.name + '/' + c.name);
      const base = c.baseline / baseTotal;
      const st = stateOf(c, r, pinned);
      cells.state = st;
      setText(cells.status, label[st] || st);
      cells.status.className = 'badge ' + st;
      cells.status.title = 'engine status: ' + c.status + (c.probation ? ', on probation (re-admitted at a small share while blind)' : '') +
        (c.blind && c.blind_since ? ', blind since ' + fmt.when(Date.parse(c.blind_since), now) : '') +
        (c.capacity_factor < 0.995 ? ', held at ' + fmt.pct(c.capacity_factor, 0) + ' of its health share for capacity' : '');
      setText(cells.score, c.score === null ? 'not measured' : fmt.score(c.score));
      cells.score.classList.toggle('absent', c.score === null);
      cells.bar.style.width = (100 * c.share).toFixed(1) + '%';
      cells.mark.style.left = (100 * base).toFixed(1) + '%';
      setText(cells.shareText, fmt.pct(c.share) + ' (baseline ' + fmt.pct(base) + ')');
      setText(cells.weight, fmt.weight(c.weight) + ' / ' + fmt.weight(c.baseline));
      const s = c.signals || {};
      kinds.forEach((k, i) => {
        let text = cell(k, s[k.key]);
        // The kind the load is measured by also says how loaded that is.
        if (k.per_commit && s[k.key] !== undefined && c.utilisation !== undefined) {
          text += ' (' + fmt.pct(c.utilisation, 0) + ' of commit' +
            (c.utilisation_now !== undefined && Math.abs(c.utilisation_now - c.utilisation) >= 0.01 ? ', ≈' + fmt.pct(c.utilisation_now, 0) + ' now' : '') + ')';
        }
        setText(cells.signals[i], text);
      });
      setText(cells.since, c.last_change ? fmt.when(Date.parse(c.last_change), now) : 'since start');
      const drained = c.status === 'drained';
      setText(cells.act, drained ? 'Undrain' : 'Drain');
      cells.act.dataset.act = drained ? 'undrain' : 'drain';
      cells.act.title = drained ? 'end the drain: the CDN gets traffic again as its score allows' : 'send this CDN no new traffic';
    }
  }
}

// arrange puts the cards in the overview's order (worst first) and shows
// only what the filter lets through; moving nodes keeps them.
Regions.prototype.arrange = function arrange(order, f) {
  let prev = null;
  for (const name of order) {
    const c = this.cards.get(name);
    if (!c) continue;
    if (prev ? prev.nextSibling !== c.card : this.box.firstChild !== c.card) {
      if (prev) prev.after(c.card); else this.box.prepend(c.card);
    }
    prev = c.card;
    let shown = 0;
    for (const tr of c.body.rows) {
      const cells = this.rows.get(name + '/' + tr.dataset.cdn);
      const on = (!f.cdn || f.cdn === tr.dataset.cdn) && (!f.state || (cells && cells.state === f.state));
      tr.hidden = !on;
      if (on) shown++;
    }
    c.card.hidden = (f.region && f.region !== name) || shown === 0;
  }
};

// collapse folds a region's table away (its head and badges stay).
Regions.prototype.collapse = function collapse(card, btn) {
  const folded = card.classList.toggle('collapsed');
  btn.setAttribute('aria-expanded', String(!folded));
  btn.textContent = folded ? '▸' : '▾';
};
