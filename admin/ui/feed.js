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
    this.sig = '';
    this.times = [];
  }

  render(decisions, now) {
    const sig = decisions.map((d) => d.time + d.kind + d.region + d.cdn).join('|');
    if (sig !== this.sig) {
      this.sig = sig;
      this.times = [];
      if (decisions.length === 0) {
        this.list.replaceChildren(h('li', { className: 'empty', textContent: 'No change since the server started.' }));
      } else {
        this.list.replaceChildren(...decisions.map((d) => {
          const [tone, text] = sentence(d);
          const t = h('time', { dateTime: d.time });
          this.times.push([t, Date.parse(d.time)]);
          return h('li', { className: tone, dataset: { kind: d.kind, region: d.region || '', cdn: d.cdn || '' } },
            t, h('span', { className: 'what', textContent: text }),
            d.reason ? h('span', { className: 'why', textContent: d.reason, title: d.reason }) : null,
            d.override && d.override.reason ? h('span', { className: 'why', textContent: d.override.reason, title: d.override.reason }) : null);
        }));
      }
    }
    for (const [t, ms] of this.times) {
      setText(t, fmt.when(ms, now));
      t.parentElement.classList.toggle('recent', now - ms < RECENT_MS);
    }
  }
}
