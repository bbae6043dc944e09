// The HLS page: hls.js plays the demo's live stream; every segment it
// loads is listed with the pathway (edge) it came from.

import { hlsConfig } from './hls-config.js';
import { Page } from './page.js';

const page = new Page('hls.js');
const st = await page.start();
if (st && typeof window.Hls === 'function') {
  const Hls = window.Hls;
  if (!Hls.isSupported()) {
    page.problem('This browser has no Media Source Extensions: hls.js cannot play here.');
  } else {
    // The players' CMCD reports go to cdnsteer's collector, on the
    // steering listener.
    const collector = st.steering ? new URL('/qoe/cmcd', st.steering).href : '';
    const reports = { n: 0, last: 0 };
    const cmcd = document.getElementById('cmcd');
    const hls = new Hls(hlsConfig({
      sid: page.sid,
      collector,
      pathway: () => (page.last && page.last !== '?' ? page.last : ''),
      sent: (status) => {
        reports.n++;
        reports.last = status;
        cmcd.textContent = reports.n + ' event reports sent to ' + collector + ', last answered ' + (status || 'with a network error');
      },
    }));
    window.cdnsteerCMCD = reports;
    hls.on(Hls.Events.FRAG_LOADED, (_, d) => {
      const f = d.frag;
      const s = f.stats;
      page.segment({ name: String(f.sn), url: f.url, bytes: s.total, ms: s.loading.end - s.loading.start });
    });
    hls.on(Hls.Events.STEERING_MANIFEST_LOADED, (_, d) => page.steered(d.steeringManifest['PATHWAY-PRIORITY'], d.steeringManifest.TTL));
    hls.on(Hls.Events.ERROR, (_, d) => {
      if (d.fatal) page.problem('hls.js stopped: ' + d.type + ' ' + d.details);
    });
    hls.loadSource('/live/master.m3u8?sid=' + encodeURIComponent(page.sid));
    hls.attachMedia(page.video);
    // For a look from the console.
    window.cdnsteerPlayer = hls;
  }
}
