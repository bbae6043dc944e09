// The DASH page: dash.js plays the demo's live stream; every media
// segment it loads is listed with the service location (edge) it came
// from.

import { Page } from './page.js';

// The dash.js settings changed for the demo, in one place.
const dashSettings = {
  streaming: {
    // Three one-second segments behind the live edge, as the HLS player.
    delay: { liveDelay: 3 },
    applyContentSteering: true,
  },
  debug: { logLevel: 2 }, // warnings and errors
};

const page = new Page('dash.js');
const st = await page.start();
if (st && window.dashjs) {
  const player = window.dashjs.MediaPlayer().create();
  player.updateSettings(dashSettings);
  player.on('fragmentLoadingCompleted', (e) => {
    const r = e.request;
    if (!r || r.type !== 'MediaSegment') return;
    page.segment({ name: r.mediaType + ' ' + r.index, url: r.url, bytes: r.bytesTotal, ms: r.requestEndDate - r.requestStartDate });
  });
  player.on('contentSteeringRequestCompleted', (e) => {
    const d = e.currentSteeringResponseData;
    if (d) page.steered(d.pathwayPriority, d.ttl);
  });
  player.on('error', (e) => page.problem('dash.js: ' + JSON.stringify(e.error || e)));
  player.initialize(page.video, '/live/stream.mpd?sid=' + encodeURIComponent(page.sid), true);
  window.cdnsteerPlayer = player;
}
