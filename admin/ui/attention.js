// The attention cue: a degradation that appears while the page is open
// (a CDN degraded, a region failing open) puts its count in the tab's
// title and, when the operator switched the sound on, beeps. What was
// already degraded when the page opened, or when the operator last
// acknowledged, is not new. A degradation that ends is forgotten, so that
// it cues again if it comes back.

import { h } from './dom.js';
import { stateOf, pinOf } from './overview.js';

const SOUND_KEY = 'cdnsteer.sound';

// degradations are a policy's degraded CDNs ("region/cdn") and failing-
// open regions ("region/*").
export function degradations(p, overrides) {
  const out = new Set();
  for (const r of p.regions) {
    if (r.failed_open) out.add(r.name + '/*');
    const pinned = pinOf(overrides, p.name, r.name);
    for (const c of r.cdns) if (stateOf(c, r, pinned) === 'degraded') out.add(r.name + '/' + c.name);
  }
  return out;
}

export class Attention {
  constructor(box) {
    this.baseTitle = document.title;
    this.known = null; // what the operator has seen; null until the first state
    this.policy = null;
    this.fresh = [];
    this.ack = h('button', { type: 'button', id: 'attention-ack', className: 'attention', hidden: true,
      title: 'new degradations since you last looked: click to mark them seen', onclick: () => this.acknowledge() });
    this.sound = h('input', { type: 'checkbox', id: 'sound-toggle', checked: localStorage.getItem(SOUND_KEY) === '1',
      onchange: () => this.setSound(this.sound.checked) });
    box.append(this.ack, h('label', { className: 'sound', title: 'beep when a CDN newly degrades (off unless switched on here)' }, this.sound, ' sound'));
  }

  setSound(on) {
    localStorage.setItem(SOUND_KEY, on ? '1' : '0');
    // A browser lets a page sound only after a click on it: this one.
    if (on) this.beep(1);
  }

  // update takes the degradations of the policy shown.
  update(policy, current) {
    if (this.known === null || policy !== this.policy) {
      this.known = new Set(current);
      this.policy = policy;
    }
    for (const k of this.known) if (!current.has(k)) this.known.delete(k);
    const fresh = [...current].filter((k) => !this.known.has(k)).sort();
    const more = fresh.some((k) => !this.fresh.includes(k));
    this.fresh = fresh;
    this.show();
    if (more && this.sound.checked) this.beep(2);
  }

  acknowledge() {
    for (const k of this.fresh) this.known.add(k);
    this.fresh = [];
    this.show();
  }

  show() {
    const n = this.fresh.length;
    const what = this.fresh.map((k) => k.endsWith('/*') ? k.slice(0, -2) + ' failing open' : k.replace('/', ' ') + ' degraded');
    document.title = n ? `(${n}) ${what[0]}${n > 1 ? ' +' + (n - 1) : ''} · ${this.baseTitle}` : this.baseTitle;
    this.ack.hidden = n === 0;
    this.ack.textContent = n ? `${n} new: ${what.join(', ')} — seen` : '';
  }

  beep(times) {
    try {
      this.ctx = this.ctx || new AudioContext();
      const t0 = this.ctx.currentTime;
      for (let i = 0; i < times; i++) {
        const o = this.ctx.createOscillator();
        const g = this.ctx.createGain();
        o.frequency.value = 880;
        g.gain.value = 0.15;
        o.connect(g).connect(this.ctx.destination);
        o.start(t0 + i * 0.3);
        o.stop(t0 + i * 0.3 + 0.15);
      }
    } catch {
      // No audio here: the title still says it.
    }
  }
}
