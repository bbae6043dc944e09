// What the two player pages share: the server's status (and what to
// install when something is missing), the session ID, the pathway of a
// segment URL, the live list of segments and the stall count.

const colours = ['#1f77b4', '#ff7f0e', '#2ca02c', '#d62728', '#9467bd', '#8c564b'];
const maxRows = 40;

export class Page {
  constructor(lib) {
    this.lib = lib;
    this.video = document.getElementById('video');
    this.rows = document.querySelector('#segments tbody');
    this.pathways = [];
    this.last = null;
    const q = new URLSearchParams(location.search);
    this.sid = q.get('sid') || (crypto.randomUUID ? crypto.randomUUID() : String(Math.random()).slice(2));
    document.getElementById('sid').textContent = this.sid;
    this.watchStalls();
  }

  // start reads /status and shows what is missing; it returns the status
  // when the stream and this page's player can run, else null.
  async start() {
    let st;
    try {
      st = await (await fetch('/status')).json();
    } catch (err) {
      this.problem('The demo does not answer /status: ' + err);
      return null;
    }
    this.pathways = st.pathways;
    const lib = st.players[this.lib];
    if (lib && lib.ok) document.getElementById('lib-version').textContent = lib.version;
    let ok = true;
    if (!lib || !lib.ok) {
      this.problem(this.lib + ' is missing. Install the pinned players:', lib ? lib.problem : st.install.players);
      ok = false;
    }
    if (!st.stream.ok) {
      // A starting encoder is worth a moment's wait, not a message.
      if (/starting/.test(st.stream.problem)) {
        await new Promise((r) => setTimeout(r, 1000));
        return this.start();
      }
      this.problem('The live stream is not running. The demo makes it with ffmpeg: install it and restart the demo.',
        st.stream.problem + '\n' + st.install.ffmpeg);
      ok = false;
    }
    return ok ? st : null;
  }

  problem(text, detail) {
    const box = document.getElementById('problems');
    const p = document.createElement('p');
    p.textContent = text;
    box.append(p);
    if (detail) {
      const pre = document.createElement('pre');
      pre.textContent = detail;
      box.append(pre);
    }
    box.hidden = false;
  }

  // pathwayOf names the pathway whose edge a URL is on.
  pathwayOf(url) {
    const p = this.pathways.find((p) => url.startsWith(p.base));
    return p ? p.id : '?';
  }

  colour(id) {
    const i = this.pathways.findIndex((p) => p.id === id);
    return i < 0 ? '#999' : colours[i % colours.length];
  }

  dot(id) {
    const i = document.createElement('i');
    i.style.background = this.colour(id);
    return i;
  }

  // segment adds a loaded segment to the list: the pathway is read off
  // the URL it was fetched from, which is what moved.
  segment({ name, url, bytes, ms }) {
    const pathway = this.pathwayOf(url);
    const tr = document.createElement('tr');
    tr.dataset.pathway = pathway;
    if (this.last && this.last !== pathway) tr.className = 'moved';
    this.last = pathway;
    const edge = new URL(url).host;
    const cells = [new Date().toLocaleTimeString(), name, pathway, edge, bytes ? (bytes / 1000).toFixed(1) : '', ms >= 0 ? String(Math.round(ms)) : ''];
    for (const [i, c] of cells.entries()) {
      const td = document.createElement('td');
      if (i === 2) {
        td.className = 'pathway';
        td.append(this.dot(pathway));
      }
      td.append(c);
      tr.append(td);
    }
    this.rows.prepend(tr);
    while (this.rows.children.length > maxRows) this.rows.lastElementChild.remove();
    const now = document.getElementById('pathway');
    now.replaceChildren(this.dot(pathway), pathway);
  }

  steered(priority, ttl) {
    document.getElementById('steering').textContent = (priority || []).join(' > ') + '  (TTL ' + ttl + ' s, ' + new Date().toLocaleTimeString() + ')';
  }

  // watchStalls counts the times playback waited for data, and for how
  // long in all.
  watchStalls() {
    let since = 0;
    let count = 0;
    let total = 0;
    const show = () => {
      document.getElementById('stalls').textContent = count === 0 ? 'none' : count + ', ' + (total / 1000).toFixed(1) + ' s in all';
    };
    this.video.addEventListener('waiting', () => { if (!since) since = performance.now(); });
    this.video.addEventListener('playing', () => {
      if (since && this.video.currentTime > 0.5) {
        count++;
        total += performance.now() - since;
        show();
      }
      since = 0;
    });
  }
}
