// The "Now" section: one card per region of the shown policy, with a row
// per CDN. Cards and rows are built when the set of regions and CDNs
// changes (a reload) and otherwise only have their text updated. Each
// signal kind has a column.

import { h, setText, colour, fmt } from './dom.js';
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
          h('h3', { textContent: 'region ' + r.name }), badges,
          h('div', { className: 'actions' },
            h('button', { type: 'button', className: 'secondary', textContent: 'Pin…', title: 'send all new answers of this region to one CDN', dataset: { act: 'pin' } }),
            h('button', { type: 'button', className: 'secondary', textContent: 'Freeze…', title: 'hold the current split, whatever the scores do', dataset: { act: 'freeze' } }))),
        reason,
        h('div', { className: 'table-wrap' }, h('table', {},
          h('thead', {}, h('tr', {}, ['CDN', 'status', 'score', 'share of new answers: live (bar) vs baseline (mark)', 'weight live / baseline', ...kinds.map((k) => k.short_label), 'status since', '']
            .map((t, i) => h('th', { className: i === 2 || (i >= 4 && i < 5 + kinds.length) ? 'num' : '', textContent: t })))),
          body)));
      r.cdns.forEach((c, i) => {
        const cells = {
          status: h('span', { className: 'badge' }),
          score: h('td', { className: 'num score' }),
          bar: h('b', { style: { background: colour(i) } }),
          mark: h('u'),
          shareText: h('span'),
          weight: h('td', { className: 'num weight' }),
          signals: kinds.map((k) => h('td', { className: 'num signal', dataset: { kind: k.key } })),
          since: h('td', { className: 'since' }),
          act: h('button', { type: 'button', className: 'small' }),
          esc: h('button', { type: 'button', className: 'small secondary', textContent: 'Escalate…', dataset: { act: 'escalate' } }),
        };
        body.append(h('tr', { dataset: { policy: p.name, region: r.name, cdn: c.name } },
          h('td', { className: 'cdn' }, h('i', { style: { background: colour(i) } }), c.name),
          h('td', { className: 'status' }, cells.status),
          cells.score,
          h('td', { className: 'share' }, h('span', { className: 'sharebar' }, cells.bar, cells.mark), cells.shareText),
          cells.weight, ...cells.signals, cells.since,
          h('td', { className: 'acts' }, cells.act, ' ', cells.esc)));
        this.rows.set(r.name + '/' + c.name, cells);
      });
      this.cards.set(r.name, { badges, reason });
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
    if (r.stale) badges.push(['stale', 'telemetry stale since ' + fmt.clock(Date.parse(r.stale_since)) + ': holding the last split']);
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
    setText(card.reason, r.reason ? 'Why the split last moved: ' + r.reason : 'The split has not moved from what the scores give.');

    const baseTotal = r.cdns.reduce((a, c) => a + c.baseline, 0) || 1;
    for (const c of r.cdns) {
      const cells = this.rows.get(r.name + '/' + c.name);
      const base = c.baseline / baseTotal;
      setText(cells.status, c.status);
      cells.status.className = 'badge ' + c.status;
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
      setText(cells.since, c.last_change ? fmt.span(now - Date.parse(c.last_change)) + ' ago' : 'since start');
      const drained = c.status === 'drained';
      setText(cells.act, drained ? 'Undrain' : 'Drain');
      cells.act.dataset.act = drained ? 'undrain' : 'drain';
      cells.act.title = drained ? 'end the drain: the CDN gets traffic again as its score allows' : 'send this CDN no new traffic';
    }
  }
}
