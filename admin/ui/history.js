// The page's copy of GET /api/v1/history: the same column-wise shape,
// extended with each poll's new samples and trimmed to the window, so
// that memory stays flat however long the page is open. Each series
// keeps a column for every signal kind the server sends.

const key = (s) => s.policy + '/' + s.region + '/' + (s.cdn || '');

export class History {
  constructor() {
    this.times = [];
    this.series = new Map(); // "policy/region/cdn" → columns
    this.regions = new Map(); // "policy/region/" → flags
    this.until = '';
    this.windowMs = 30 * 60 * 1000;
  }

  // since is the cursor for the next request.
  since() { return this.until; }

  merge(res) {
    if (res.window_s) this.windowMs = res.window_s * 1000;
    if (res.until) this.until = res.until;
    const m = res.times.length;
    if (m === 0) return false;
    const n0 = this.times.length;
    this.times.push(...res.times);
    const touched = new Set();
    for (const s of res.series) {
      const k = key(s);
      let c = this.series.get(k);
      if (!c) {
        c = { policy: s.policy, region: s.region, cdn: s.cdn, status: pad(n0), score: pad(n0), weight: pad(n0), share: pad(n0), signals: {} };
        this.series.set(k, c);
      }
      for (const sig of Object.keys(s.signals)) if (!c.signals[sig]) c.signals[sig] = pad(n0);
      touched.add(k);
      c.status.push(...s.status);
      c.score.push(...s.score);
      c.weight.push(...s.weight);
      c.share.push(...s.share);
      for (const sig of Object.keys(c.signals)) c.signals[sig].push(...(s.signals[sig] || pad(m)));
    }
    for (const [k, c] of this.series) {
      if (touched.has(k)) continue;
      for (const col of columns(c)) col.push(...pad(m));
    }
    for (const r of res.regions) {
      const k = key(r);
      let c = this.regions.get(k);
      if (!c) {
        c = { failed_open: pad(n0, false), stale: pad(n0, false) };
        this.regions.set(k, c);
      }
      touched.add(k);
      c.failed_open.push(...r.failed_open);
      c.stale.push(...r.stale);
    }
    for (const [k, c] of this.regions) {
      if (!touched.has(k)) { c.failed_open.push(...pad(m, false)); c.stale.push(...pad(m, false)); }
    }
    this.trim();
    return true;
  }

  // trim drops what fell out of the window, and series with nothing left.
  trim() {
    const newest = this.times[this.times.length - 1];
    let k = 0;
    while (k < this.times.length && this.times[k] < newest - this.windowMs) k++;
    if (k === 0) return;
    this.times.splice(0, k);
    for (const [name, c] of this.series) {
      for (const col of columns(c)) col.splice(0, k);
      if (c.status.every((s) => s === null)) this.series.delete(name);
    }
    for (const [name, c] of this.regions) {
      c.failed_open.splice(0, k);
      c.stale.splice(0, k);
      if (c.failed_open.length === 0) this.regions.delete(name);
    }
  }

  // region returns the series of one policy and region, in policy order.
  region(policy, region) {
    const out = [];
    for (const c of this.series.values()) {
      if (c.policy === policy && c.region === region) out.push(c);
    }
    return out;
  }
}

function pad(n, v = null) { return new Array(n).fill(v); }

function columns(c) {
  return [c.status, c.score, c.weight, c.share, ...Object.values(c.signals)];
}
