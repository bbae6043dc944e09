// The live view: polls the API every second (each poll fetches the state
// of the policy shown, only its history samples newer than the last, and
// the notes of the window) and redraws in place. With many policies (a
// steered name each) it asks for one at a time: the whole state of a
// thousand is megabytes.

import { h, setText, colourOfName, fmt } from './dom.js';
import { Overview, setHash, hashFlag } from './overview.js';
import { getJSON, describe, tokenChanged } from './api.js';
import { History } from './history.js';
import { Chart } from './charts.js';
import { ZoomBar } from './zoom.js';
import { TagFilter } from './marks.js';
import { describeOverride } from './overrides.js';
import { Regions } from './regions.js';
import { Overrides, actions } from './overrides.js';
import { Notes } from './notes.js';
import { Demo } from './demo.js';
import { Plans, asNotes } from './plans.js';
import { Escalations, escalate, escalationNotes } from './escalations.js';
import { chartSpec } from './kinds.js';
import { Fleet } from './fleet.js';
import { Feed, FEED_KINDS, FEED_LIMIT } from './feed.js';
import { Attention, degradations } from './attention.js';

const POLL_MS = 1000;
const MIN_CHART_MS = 2000; // the narrowest window the charts open with
const MAX_TABS = 8; // more policies than this are picked from a list
const HIDDEN_POLL_MS = 5000; // a background tab need not keep up

const $ = (id) => document.getElementById(id);

const app = {
  view: null,
  notes: [],
  policy: null,
  region: null,
  history: new History(),
  spanMs: 30 * 60 * 1000, // how much of the history the charts show
  lastOK: 0,
  timer: 0,
  busy: false,
  kinds: null, // GET /api/v1/kinds, fetched once
};

const regions = new Regions($('regions'));
const overview = new Overview($('overview'), $('filters'), () => render());
const overrides = new Overrides($('overrides'), () => poll());
const notes = new Notes($('note-form'), $('notes'), () => poll());
const plans = new Plans($('plans'), $('schedules'), () => poll());
const escalations = new Escalations($('escalations'), () => poll());
const fleet = new Fleet($('fleet-section'), $('fleet'));
const feed = new Feed($('feed'));
const attention = new Attention($('attention'));
const demo = new Demo($('demo-section'), $('demo'), (cdn) => colourOf(cdn), () => poll());

// Charts of the selected region, created once; each is told which
// series to draw. One chart per signal kind follows these, once the
// kinds are known.
const chartSpecs = [
  { id: 'share', title: 'Share of new answers', kind: 'stacked', unit: '%', get: (c) => c.share, format: (v) => fmt.pct(v) },
  { id: 'score', title: 'Health score', max: 100, unit: 'score', get: (c) => c.score, format: (v) => fmt.score(v) },
  { id: 'status', title: 'Status', kind: 'status', get: (c) => c.status },
];
// The charts share a crosshair and a zoom: hovering one shows the values
// at that time on all, dragging across one zooms all.
const chartHooks = {
  hover: (t) => { for (const c of charts) c.chart.setHover(t); },
  zoom: (t0, t1) => { app.zoom = t0 === null ? null : [t0, t1]; render(); },
};
const charts = chartSpecs.map((s) => ({ spec: s, chart: new Chart($('charts'), s, chartHooks) }));
const chartHead = $('charts-section').querySelector('.section-head');
const zoomBar = new ZoomBar(chartHead, () => chartHooks.zoom(null));
const tagFilter = new TagFilter(chartHead, () => render());

function addKindCharts(kinds) {
  for (const k of kinds) {
    const spec = chartSpec(k);
    charts.push({ spec, chart: new Chart($('charts'), spec, chartHooks) });
  }
}

// One listener per container handles every button in it, so rebuilding
// rows never leaves handlers behind.
$('regions').addEventListener('click', async (e) => {
  const b = e.target.closest('button[data-act]');
  if (!b) return;
  const row = b.closest('tr');
  const card = b.closest('.region');
  const policy = card.dataset.policy, region = card.dataset.region;
  const v = app.view;
  const cdns = v.policies.find((p) => p.name === policy).regions.find((r) => r.name === region).cdns.map((c) => c.name);
  switch (b.dataset.act) {
    case 'collapse': regions.collapse(card, b); return;
    case 'drain': await actions.drain(policy, region, row.dataset.cdn); break;
    case 'undrain': await actions.undrain(policy, region, row.dataset.cdn, v.overrides); break;
    case 'pin': await actions.pin(policy, region, cdns); break;
    case 'freeze': await actions.freeze(policy, region); break;
    case 'escalate': await escalate(region, row.dataset.cdn); break;
  }
  poll();
});

// colourOf gives a CDN the colour of its name, the same in tables,
// charts and the demo panel, whatever the policy.
function colourOf(cdn) {
  const pols = app.view ? app.view.policies : [];
  const pol = pols.find((p) => p.name === app.policy) || pols[0];
  const names = pol ? pol.regions[0].cdns.map((c) => c.name) : [];
  return names.includes(cdn) ? colourOfName(cdn, names) : 'transparent';
}

// policyPicker offers the policies as tabs, or as a list when there are
// too many for tabs.
function policyPicker(box, names, selected, onSelect) {
  if (names.length <= MAX_TABS) { tabs(box, names, selected, onSelect); return; }
  const sig = 'select|' + names.length + '|' + names[0] + '|' + names[names.length - 1] + '|' + selected;
  if (box.dataset.sig === sig) return;
  box.dataset.sig = sig;
  box.className = 'tabs';
  const sel = h('select', { 'aria-label': 'policy', onchange: () => onSelect(sel.value) },
    ...names.map((n) => h('option', { value: n, textContent: n, selected: n === selected })));
  box.replaceChildren(h('label', {}, 'policy (' + names.length + ') ', sel));
}

// selectPolicy shows another policy: its history starts afresh.
function selectPolicy(p) {
  if (p === app.policy) return;
  app.policy = p;
  app.history = new History();
  setHash({ policy: p });
  poll();
}

function tabs(box, names, selected, onSelect) {
  const sig = names.join(',') + '|' + selected;
  if (box.dataset.sig === sig) return;
  box.dataset.sig = sig;
  box.className = 'tabs';
  box.replaceChildren(...names.map((n) => h('button', {
    type: 'button', textContent: n, 'aria-pressed': String(n === selected), onclick: () => onSelect(n),
  })));
}

function render() {
  const v = app.view;
  if (!v) return;
  const now = Date.parse(v.time);
  const pnames = v.policy_names || v.policies.map((p) => p.name);
  if (!pnames.includes(app.policy)) { app.policy = pnames[0] || null; app.history = new History(); }
  const pol = v.policies.find((p) => p.name === app.policy);
  const rnames = pol ? pol.regions.map((r) => r.name) : [];
  if (overview.filter.region && overview.filter.region !== app.filteredRegion && rnames.includes(overview.filter.region)) { app.region = overview.filter.region; app.regionPicked = true; }
  app.filteredRegion = overview.filter.region;
  regions.render(v, app.policy, app.kinds);
  const order = pol ? overview.render(pol, v.overrides, now) : [];
  if (pol) regions.arrange(order, overview.filter);
  // The charts open on the worst region, until the operator picks one.
  if (!rnames.includes(app.region) || (!app.regionPicked && order.length)) app.region = order[0] || rnames[0] || null;

  policyPicker($('policies'), pnames.length > 1 ? pnames : [], app.policy, selectPolicy);
  tabs($('chart-regions'), rnames, app.region, (r) => { app.region = r; app.regionPicked = true; render(); });
  const spans = { '30 min': 30, '10 min': 10, '2 min': 2 };
  const shown = Object.keys(spans).find((k) => spans[k] * 60000 === app.spanMs);
  tabs($('chart-span'), Object.keys(spans), shown, (k) => { app.spanMs = spans[k] * 60000; app.zoom = null; render(); });
  if (pol) attention.update(pol.name, degradations(pol, v.overrides));
  if (app.decisions) feed.render(app.decisions, now);
  if (app.fleet) fleet.render(app.fleet, now);
  overrides.render(v.overrides, now, app.fleet && app.fleet.enabled ? app.fleet.instance : '');
  if (app.plans) plans.render(app.plans, now);
  if (app.escalations) {
    escalations.render(app.escalations, now);
    regions.escalated(new Set(app.escalations.escalations.filter((e) => e.state === 'open').map((e) => e.region + '/' + e.cdn)));
  }
  notes.render(app.notes);
  renderCharts(pol);
}

function renderCharts(pol) {
  const cdnNames = pol ? pol.regions[0].cdns.map((c) => c.name) : [];
  const legendSig = cdnNames.join(',');
  const legend = $('legend');
  if (legend.dataset.sig !== legendSig) {
    legend.dataset.sig = legendSig;
    legend.replaceChildren(...cdnNames.map((n) => h('span', {}, h('i', { style: { background: colourOfName(n, cdnNames) } }), n)));
  }
  const hist = app.history;
  const newest = hist.times.length ? hist.times[hist.times.length - 1] : Date.now();
  // The window fits the data: a server up for a minute shows that
  // minute across the whole width, not a sliver of half an hour.
  const first = hist.times.length ? hist.times[0] : newest;
  const span = Math.min(app.spanMs, hist.windowMs);
  const fits = newest - first < span;
  let t0 = fits ? Math.min(first, newest - MIN_CHART_MS) : newest - span;
  let t1 = newest;
  if (app.zoom) [t0, t1] = app.zoom;
  zoomBar.show(app.zoom, fmt.clock);
  setText($('charts-h'), app.zoom ? 'Zoomed' : fits ? 'Since ' + fmt.clock(first) + ' (all the data there is)' : 'Last ' + fmt.span(span).replace('min', 'minutes'));
  // Only the samples in the span are drawn.
  let i0 = 0;
  while (i0 < hist.times.length && hist.times[i0] < t0) i0++;
  let i1 = hist.times.length;
  while (i1 > i0 && hist.times[i1 - 1] > t1) i1--;
  const times = hist.times.slice(i0, i1);
  const cols = hist.region(app.policy, app.region);
  const order = (name) => { const i = cdnNames.indexOf(name); return i < 0 ? cdnNames.length : i; };
  cols.sort((a, b) => order(a.cdn) - order(b.cdn));
  const marks = tagFilter.filter(app.notes).map((n) => ({ t: Date.parse(n.time), text: n.text, tags: n.tags }));
  // Overrides in force on the region, shaded from when they were set.
  const now = Date.parse(app.view.time);
  const spans = app.view.overrides.filter((o) => (!o.policy || o.policy === app.policy) && (!o.region || o.region === app.region))
    .map((o) => ({ t0: Date.parse(o.created), t1: Math.min(Date.parse(o.expires), now), label: describeOverride(o), action: o.action }));
  const gapMs = 5 * (app.historyInterval || 1000);
  for (const { spec, chart } of charts) {
    const series = cols.map((c) => ({ name: c.cdn, colour: colourOfName(c.cdn, cdnNames), values: spec.get(c).slice(i0, i1) }));
    if (spec.optional) {
      const any = series.some((s) => s.values.some((x) => x !== null));
      chart.fig.hidden = !any;
      if (!any) continue;
    }
    chart.draw({ times, t0, t1, gapMs, series, notes: marks, spans });
  }
}

function setConn(ok, err) {
  const c = $('conn');
  // Stale data must not look live: the page greys out until an update.
  document.body.classList.toggle('lost', !ok);
  setText($('lost'), ok ? '' : 'Connection lost: everything below is as of ' + (app.lastOK ? fmt.clock(app.lastOK) : 'never') + ' and may be wrong. Retrying every second.');
  $('lost').hidden = ok;
  if (ok) {
    c.dataset.state = 'live';
    setText(c, 'live · ' + fmt.clock(app.lastOK));
    c.title = 'updates every second';
  } else {
    c.dataset.state = 'down';
    setText(c, app.lastOK ? 'no update since ' + fmt.clock(app.lastOK) + ' · retrying' : 'cannot reach the server · retrying');
    c.title = describe(err);
  }
}

// poll fetches what changed and redraws; it schedules the next poll
// itself, so polls never overlap however slow the server is.
async function poll() {
  clearTimeout(app.timer);
  if (app.busy) { app.again = true; return; }
  app.busy = true;
  try {
    if (!app.kinds) {
      app.kinds = (await getJSON('/api/v1/kinds')).kinds;
      addKindCharts(app.kinds);
    }
    // One policy's state: the one shown, else the one the address asks
    // for, else the first (limit=1 brings every name, for the picker).
    const want = app.policy || app.wanted;
    let view = want ? await getJSON('/api/v1/state?policy=' + encodeURIComponent(want))
      .catch((err) => { if (err.status === 400) return null; throw err; }) : null; // 400: gone in a reload
    if (!view) view = await getJSON('/api/v1/state?limit=1');
    app.wanted = '';
    const shown = view.policies.length ? view.policies[0].name : null;
    if (shown !== app.policy) { app.policy = shown; app.history = new History(); }
    app.view = view;
    const hist0 = app.history;
    const since = hist0.since();
    const windowStart = new Date(Date.parse(view.time) - hist0.windowMs).toISOString();
    const hq = [since ? 'since=' + encodeURIComponent(since) : '', app.policy ? 'policy=' + encodeURIComponent(app.policy) : ''].filter(Boolean).join('&');
    const fq = 'limit=' + FEED_LIMIT + '&kind=' + FEED_KINDS.join(',') + (app.policy ? '&policy=' + encodeURIComponent(app.policy) : '');
    const [hist, ann, pl, esc, fl, dec] = await Promise.all([
      getJSON('/api/v1/history' + (hq ? '?' + hq : '')),
      getJSON('/api/v1/annotations?since=' + encodeURIComponent(windowStart)),
      getJSON('/api/v1/plans?since=' + encodeURIComponent(windowStart)),
      getJSON('/api/v1/escalations'),
      getJSON('/api/v1/fleet'),
      // A server without the feed (older, or none configured) leaves it empty.
      getJSON('/api/v1/decisions?' + fq).catch((err) => { if (err.status === 404 || err.status === 503) return { decisions: [] }; throw err; }),
      demo.refresh(),
    ]);
    app.decisions = dec.decisions;
    app.historyInterval = hist.interval_ms;
    if (app.history === hist0) app.history.merge(hist); // else the policy changed meanwhile
    app.plans = pl;
    // Plan activations, schedule edges and escalations join the notes on
    // the timeline.
    app.escalations = esc;
    app.fleet = fl;
    app.notes = ann.annotations.concat(asNotes(pl.events), escalationNotes(esc.escalations, windowStart)).sort((a, b) => Date.parse(a.time) - Date.parse(b.time));
    app.lastOK = Date.now();
    render();
    setConn(true);
  } catch (err) {
    setConn(false, err);
  } finally {
    app.busy = false;
    if (app.again) { app.again = false; app.timer = setTimeout(poll, 0); }
    else app.timer = setTimeout(poll, document.hidden ? HIDDEN_POLL_MS : POLL_MS);
  }
}

document.addEventListener('visibilitychange', () => { if (!document.hidden) poll(); });
window.addEventListener('resize', () => render());
// #policy=NAME in the address picks the policy shown first.
app.wanted = new URLSearchParams(location.hash.replace(/^#/, '')).get('policy') || '';
// Wall mode (#wall): the overview alone, dark and in large type, for a
// screen on the NOC's wall.
const wall = () => document.documentElement.classList.toggle('wall', hashFlag('wall'));
window.addEventListener('hashchange', wall);
wall();
tokenChanged();
poll();
