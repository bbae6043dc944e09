// The change feed: the decision log's last entries (GET /api/v1/decisions),
// newest first, as sentences. The split's every move ("weights") and the
// notes (on the timeline) are left out: the feed is what changed state.

import { h, setText, fmt } from './dom.js';

// FEED_KINDS are the kinds asked for.
export const FEED_KINDS = ['state', 'blind', 'blind_end', 'probation', 'probation_end', 'stalled', 'stalled_end', 'fail_open', 'fail_open_end',
  'stale', 'stale_end', 'override', 'override_end', 'plan', 'plan_end', 'schedule', 'schedule_end', 'escalation', 'escalation_end', 'reload'];
export const FEED_LIMIT = 12;

// RECENT_MS: entries younger than this are marked new.
const RECENT_MS = 5 * 60 * 1000;

function where(d) { return [d.cdn, d.region ? 'in ' + d.region : ''].filter(Boolean).join(' '); }

// sentence says what a decision did, and its tone (bad, good, op).
export function sentence(d) {
  const o = d.override || {};
  switch (d.kind) {
    case 'state': {
      const tone = d.to === 'degraded' ? 'bad' : d.to === 'healthy' ? 'good' : 'op';
      return [tone, `${where(d)}: ${d.from || '—'} → ${d.to}` + (d.score !== undefined ? ` (score ${fmt.score(d.score)})` : '')];
    }
    case 'blind': return ['bad', `${where(d)}: blind, no fresh signal`];
    case 'blind_end': return ['good', `${where(d)}: signals again`];
    case 'probation': return ['op', `${where(d)}: on probation at a small share`];
    case 'probation_end': return ['good', `${where(d)}: probation over`];
    case 'stalled': return ['bad', `${where(d)}: signals stalled`];
    case 'stalled_end': return ['good', `${where(d)}: signals moving again`];
    case 'fail_open': return ['bad', `region ${d.region} fails open: every CDN out, serving the baseline`];
    case 'fail_open_end': return ['good', `region ${d.region} no longer fails open`];
    case 'stale': return ['bad', `region ${d.region}: telemetry stale, split held`];
    case 'stale_end': return ['good', `region ${d.region}: telemetry fresh again`];
    case 'override': return ['op', `${o.action || 'override'} ${[o.cdn, o.region ? 'in ' + o.region : 'everywhere'].filter(Boolean).join(' ')} set` + (o.by ? ' by ' + o.by : '')];
    case 'override_end': return ['op', `${o.action || 'override'} ${[o.cdn, o.region ? 'in ' + o.region : 'everywhere'].filter(Boolean).join(' ')} ended`];
    case 'plan': return ['op', `plan ${d.plan ? d.plan.name : ''} activated` + (d.plan && d.plan.by ? ' by ' + d.plan.by : '')];
    case 'plan_end': return ['op', `plan ${d.plan ? d.plan.name : ''} ended`];
    case 'schedule': return ['op', `schedule ${d.schedule ? d.schedule.name : ''} began`];
    case 'schedule_end': return ['op', `schedule ${d.schedule ? d.schedule.name : ''} ended`];
    case 'escalation': return ['bad', `escalated ${where(d)}`];
    case 'escalation_end': return ['good', `escalation of ${where(d)} closed`];
    case 'reload': return ['op', 'policy reloaded'];
    default: return ['op', `${d.kind} ${where(d)}`];
  }
}

export class Feed {
  constructor(list) {
    this.list = list;
    // The list scrolls: a keyboard must reach it too.
    list.tabIndex = 0;
    this.sig = null;
    // FEED_LIMIT rows made once and filled in: the page's nodes stay the
    // same however the feed moves.
    this.rows = [];
    for (let i = 0; i < FEED_LIMIT; i++) {
      const row = { t: h('time'), what: h('span', { className: 'what' }), why: h('span', { className: 'why' }), ms: 0 };
      row.li = h('li', { hidden: true }, row.t, row.what, row.why);
      this.rows.push(row);
    }
    this.none = h('li', { className: 'empty', textContent: 'No change since the server started.' });
    list.replaceChildren(this.none, ...this.rows.map((r) => r.li));
  }

  render(decisions, now) {
    const shown = decisions.slice(0, FEED_LIMIT);
    const sig = shown.map((d) => d.time + d.kind + d.region + d.cdn).join('|');
    if (sig !== this.sig) {
      this.sig = sig;
      this.none.hidden = shown.length > 0;
      this.rows.forEach((row, i) => {
        const d = shown[i];
        row.li.hidden = !d;
        if (!d) return;
        const [tone, text] = sentence(d);
        const why = d.reason || (d.override && d.override.reason) || '';
        row.li.className = tone;
        Object.assign(row.li.dataset, { kind: d.kind, region: d.region || '', cdn: d.cdn || '' });
        row.t.dateTime = d.time;
        row.ms = Date.parse(d.time);
        setText(row.what, text);
        setText(row.why, why);
        row.why.title = why;
        row.why.hidden = !why;
      });
    }
    for (const row of this.rows) {
      if (row.li.hidden) continue;
      setText(row.t, fmt.when(row.ms, now));
      row.li.classList.toggle('recent', now - row.ms < RECENT_MS);
    }
  }
}
