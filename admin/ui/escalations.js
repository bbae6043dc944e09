// Escalations to Alertmanager: the Escalate action of a CDN row (a note is
// required: it is what whoever is paged reads), the open and recently
// closed escalations with how their alerts are getting out, a Close
// button on each open one, and their openings and closings as timeline
// entries.

import { h, setText, fmt } from './dom.js';
import { write, attempt } from './api.js';
import { ask } from './dialog.js';

const CLOSED_SHOWN = 5;

export async function escalate(region, cdn) {
  const v = await ask({
    title: 'Escalate ' + cdn + ' in region ' + region, ok: 'Escalate', danger: true,
    text: 'Alertmanager gets an alert (CDNSteeringEscalation) for ' + cdn + ' in region ' + region +
      ' and pages whoever it routes it to. It resolves when the escalation is closed, or when ' + cdn + ' is healthy again after trouble.',
    fields: [{ name: 'text', label: 'Note for whoever is paged (what is wrong, what you ask of them)', required: true }],
  });
  if (!v || !v.text) return false;
  return attempt('Escalating ' + cdn, () => write('POST', '/api/v1/escalations', { cdn, region, text: v.text }), cdn + ' escalated');
}

// delivery says in words how the alerts are getting to Alertmanager.
function delivery(ams) {
  if (ams.length === 0) return 'no Alertmanager configured ([escalation] alertmanager): recorded here and in the decision log only';
  return ams.map((a) => {
    if (a.failures > 0) return a.url + ': not reachable (' + a.failures + ' attempts, retrying): ' + a.last_error;
    if (a.last_success) return a.url + ': sent ' + fmt.clock(Date.parse(a.last_success));
    return a.url + ': sending';
  }).join('; ');
}

export class Escalations {
  constructor(box, refresh) {
    this.box = box;
    this.refresh = refresh;
    this.sig = null;
    this.status = h('p', { className: 'muted' });
    this.ages = new Map(); // id → "opened" cell
    box.addEventListener('click', (e) => {
      const b = e.target.closest('button[data-id]');
      if (b) this.close(b.dataset.id, b.dataset.what);
    });
  }

  // render shows GET /api/v1/escalations; the table is rebuilt only when
  // the escalations change.
  render(answer, now) {
    const open = answer.escalations.filter((e) => e.state === 'open');
    const closed = answer.escalations.filter((e) => e.state === 'closed').slice(0, CLOSED_SHOWN);
    const shown = open.concat(closed);
    const sig = shown.map((e) => e.id + ':' + e.state).join(',');
    if (sig !== this.sig) {
      this.sig = sig;
      this.ages.clear();
      const rows = shown.map((e) => {
        const what = e.cdn + ' in region ' + e.region;
        const age = h('td', { className: 'muted' });
        this.ages.set(e.id, age);
        return h('tr', { dataset: { id: e.id, state: e.state, cdn: e.cdn, region: e.region } },
          h('td', {}, h('span', { className: 'badge ' + (e.state === 'open' ? 'degraded' : 'healthy'), textContent: e.state })),
          h('td', { textContent: what }),
          h('td', { className: 'text', textContent: e.text }),
          h('td', { textContent: e.auto ? 'cdnsteer, after ' + (answer.after || 'a while') + ' degraded' : e.who }),
          age,
          h('td', {}, e.state === 'open'
            ? h('button', { type: 'button', className: 'small danger', textContent: 'Close', dataset: { id: e.id, what } })
            : h('span', { className: 'muted', textContent: e.ended })));
      });
      this.box.replaceChildren(this.status, shown.length === 0
        ? h('p', { className: 'empty', textContent: 'None: nobody has been paged.' })
        : h('table', {},
          h('thead', {}, h('tr', {}, ['', 'what', 'note', 'by', 'opened', ''].map((t) => h('th', { textContent: t })))),
          h('tbody', {}, rows)));
    }
    for (const e of shown) {
      const cell = this.ages.get(e.id);
      const opened = Date.parse(e.opened);
      if (cell) setText(cell, fmt.clock(opened) + ' (' + fmt.span(now - opened) + ' ago)' + (e.closed ? ', closed ' + fmt.clock(Date.parse(e.closed)) : ''));
    }
    setText(this.status, 'Alerts: ' + delivery(answer.alertmanagers));
  }

  async close(id, what) {
    const v = await ask({ title: 'Close escalation', text: 'Close the escalation of ' + what + '? Its alert resolves in Alertmanager.', ok: 'Close it', danger: true,
      fields: [{ name: 'reason', label: 'Reason (goes to the decision log; type it)', value: '', required: true }] });
    if (!v) return;
    const q = v.reason ? '?reason=' + encodeURIComponent(v.reason) : '';
    await attempt('Closing the escalation', () => write('DELETE', '/api/v1/escalations/' + encodeURIComponent(id) + q), 'Escalation closed');
    this.refresh();
  }
}

// escalationNotes turns escalations opened or closed since since (an ISO
// time) into timeline entries, listed with the notes and marked on the
// charts.
export function escalationNotes(escalations, since) {
  const t0 = Date.parse(since);
  const out = [];
  for (const e of escalations) {
    const what = e.cdn + ' in region ' + e.region;
    if (Date.parse(e.opened) >= t0) {
      out.push({ id: 'esc:' + e.id, time: e.opened, text: 'Escalated ' + what + (e.auto ? ' (automatically)' : '') + ': ' + e.text, tags: ['escalation'] });
    }
    if (e.closed && Date.parse(e.closed) >= t0) {
      out.push({ id: 'esc-end:' + e.id, time: e.closed, text: 'Escalation of ' + what + ' ended: ' + e.ended, tags: ['escalation'] });
    }
  }
  return out;
}
