// The Plans panel: the fallbacks decided before the event, each activated
// with one click (confirmed, with a reason and the token) and ended as a
// whole, and the schedules: the window in force and the next one.

import { h, setText, fmt } from './dom.js';
import { write, attempt } from './api.js';
import { ask, ttlOptions } from './dialog.js';
import { describeOverride } from './overrides.js';

export class Plans {
  constructor(box, schedules, refresh) {
    this.box = box;
    this.schedules = schedules;
    this.refresh = refresh;
    this.sig = null;
    this.rows = new Map(); // plan name → its status cell and End button
    this.plans = [];
    box.addEventListener('click', (e) => {
      const b = e.target.closest('button[data-act]');
      if (!b) return;
      const plan = this.plans.find((p) => p.name === b.closest('tr').dataset.plan);
      if (plan && b.dataset.act === 'activate') this.activate(plan);
      if (plan && b.dataset.act === 'end') this.end(plan);
    });
  }

  // render shows the plans of GET /api/v1/plans; rows are rebuilt only
  // when the set of plans changes, their status every time.
  render(answer, now) {
    this.plans = answer.plans;
    const sig = this.plans.map((p) => p.name + ':' + p.defined).join(',');
    if (sig !== this.sig) {
      this.sig = sig;
      this.rows.clear();
      if (this.plans.length === 0) {
        this.box.replaceChildren(h('p', { className: 'empty', textContent: 'No plans in the policy: add [[plan]] tables to prepare fallbacks before the event.' }));
      } else {
        this.box.replaceChildren(h('table', {},
          h('thead', {}, h('tr', {}, ['plan', 'what it does', 'in force', ''].map((t) => h('th', { textContent: t })))),
          h('tbody', {}, this.plans.map((p) => {
            const status = h('td', { className: 'plan-status' });
            const endBtn = h('button', { type: 'button', className: 'small danger', textContent: 'End', dataset: { act: 'end' } });
            this.rows.set(p.name, { status, endBtn });
            return h('tr', { dataset: { plan: p.name } },
              h('td', {}, h('b', { textContent: p.name }), p.description ? h('div', { className: 'muted', textContent: p.description }) : null),
              h('td', { textContent: p.overrides.map(describeOverride).join('; ') || '(no longer in the policy)' }),
              status,
              h('td', { className: 'plan-actions' },
                p.defined ? h('button', { type: 'button', className: 'small', textContent: 'Activate…', dataset: { act: 'activate' } }) : null,
                endBtn));
          }))));
      }
    }
    for (const p of this.plans) {
      const row = this.rows.get(p.name);
      if (!row) continue;
      row.endBtn.hidden = !p.active;
      row.status.closest('tr').dataset.active = String(p.active);
      setText(row.status, p.active ? p.activations.map((a) => describeActivation(a, now)).join(' · ') : 'not active');
    }
    this.renderSchedules(answer.schedules, now);
  }

  renderSchedules(schedules, now) {
    const shown = schedules.filter((s) => s.state === 'in_force' || s.next);
    const sig = shown.map((s) => s.name + s.state).join(',');
    if (this.schedules.dataset.sig !== sig) {
      this.schedules.dataset.sig = sig;
      this.schedules.replaceChildren(...(shown.length ? shown : [null]).map((s) => s
        ? h('p', { dataset: { schedule: s.name, state: s.state } }, h('span', { className: 'badge ' + (s.state === 'in_force' ? 'pin' : '') }), h('span'))
        : h('p', { className: 'empty', textContent: schedules.length ? 'No window in force or to come.' : 'No schedules in the policy.' })));
    }
    for (const s of shown) {
      const p = this.schedules.querySelector(`p[data-schedule="${CSS.escape(s.name)}"]`);
      if (!p) continue;
      const what = [s.ttl ? 'TTL ' + s.ttl + ' s' : '', s.plan ? 'plan ' + s.plan : ''].filter(Boolean).join(', ');
      const start = Date.parse(s.start), end = Date.parse(s.end);
      setText(p.firstChild, s.state === 'in_force' ? 'in force' : 'next');
      setText(p.lastChild, s.state === 'in_force'
        ? ` ${s.name}: ${what}, until ${fmt.hm(end)} (${fmt.span(end - now)} left)`
        : ` ${s.name}: ${what}, from ${new Date(start).toLocaleString()} (in ${fmt.span(start - now)}) to ${fmt.hm(end)}`);
    }
  }

  async activate(p) {
    const v = await ask({
      title: 'Activate plan ' + p.name, ok: 'Activate', danger: true,
      text: (p.description ? p.description + '. ' : '') + 'Puts in force, all together: ' + p.overrides.map(describeOverride).join('; ') + '.',
      fields: [
        { name: 'ttl', label: 'For', kind: 'select', value: '', options: [['', 'the plan\u2019s ' + p.ttl], ...ttlOptions] },
        { name: 'reason', label: 'Reason (goes to the decision log)', value: '', required: true },
        { name: 'by', label: 'Your name (optional; recorded beside the token\'s name)', value: '' },
      ],
    });
    if (!v) return;
    const body = { reason: v.reason };
    if (v.ttl) body.ttl = v.ttl;
    if (v.by) body.by = v.by;
    await attempt('Activating ' + p.name, () => write('POST', '/api/v1/plans/' + encodeURIComponent(p.name) + '/activate', body), 'Plan ' + p.name + ' in force');
    this.refresh();
  }

  async end(p) {
    const v = await ask({ title: 'End plan ' + p.name, text: 'End every override plan ' + p.name + ' put in force?', ok: 'End it', danger: true,
      fields: [{ name: 'reason', label: 'Reason (goes to the decision log; type it)', value: '', required: true }] });
    if (!v) return;
    const q = v.reason ? '?reason=' + encodeURIComponent(v.reason) : '';
    await attempt('Ending ' + p.name, () => write('DELETE', '/api/v1/plans/' + encodeURIComponent(p.name) + q), 'Plan ' + p.name + ' ended');
    this.refresh();
  }
}

function describeActivation(a, now) {
  const until = Date.parse(a.until);
  const who = a.schedule ? 'schedule ' + a.schedule : a.by || 'someone';
  return `by ${who}: ${a.reason}, until ${fmt.clock(until)} (in ${fmt.span(until - now)})`;
}

// asNotes turns plan and schedule events into timeline entries, so that
// they are listed with the notes and marked on the charts.
export function asNotes(events) {
  return events.map((e) => ({ id: 'ev:' + e.time + ':' + e.kind + ':' + (e.plan || e.schedule || ''), time: e.time, text: e.text, tags: [e.kind.replace('_', ' ')] }));
}
