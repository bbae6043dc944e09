// The hls.js configuration of the demo's HLS player, in one place: what
// is changed for the demo, CMCD reporting included. hls.js reads
// EXT-X-CONTENT-STEERING from the multivariant playlist and steers by
// itself; nothing here is needed for that.

// cmcdEvents are the CMCD v2 events hls.js 1.7 records that the demo
// sends: a report every interval (its player state, sta=r while it
// rebuffers), one per segment received (url, rc, ttfb) and fatal errors.
const cmcdEvents = ['t', 'rr', 'e'];

// cmcdKeys are the keys each event report carries: what cdnsteer's
// collector reads (sta, url, rc, ttfb, mtp, msd, sid) and the event's own.
const cmcdKeys = ['e', 'ts', 'sn', 'v', 'sid', 'sta', 'bl', 'mtp', 'msd', 'url', 'rc', 'ttfb', 'ttlb', 'br', 'sf', 'st'];

// hlsConfig returns the player's configuration. sid is the page's session
// ID (the one its steering requests carry); collector the URL of
// cdnsteer's POST /qoe/cmcd; pathway() the pathway the player is on
// now; sent(status) is told of each report's answer.
export function hlsConfig({ sid, collector, pathway, sent }) {
  return {
    // Three segments behind the live edge (3 s): room to switch pathway
    // without a stall.
    liveSyncDurationCount: 3,
    // Segments are small and the edges on loopback: start from a modest
    // estimate rather than the default, so the first request is realistic.
    abrEwmaDefaultEstimate: 2_000_000,
    enableWorker: true,
    lowLatencyMode: false,
    cmcd: {
      sessionId: sid,
      version: 2,
      // Event mode only: the reports go to cdnsteer. No request mode (an
      // empty includeKeys turns it off), which would put a CMCD= query
      // on every segment URL for the edges, which collect nothing here
      // and in production would cache per query unless told to ignore it.
      includeKeys: [],
      useHeaders: false,
      eventTargets: [{ url: collector, events: cmcdEvents, interval: 1, batchSize: 1, includeKeys: cmcdKeys }],
      // hls.js's sender, with the pathway the player is on added to the
      // URL: a time-interval report names no CDN, and on loopback every
      // edge has the same host, so the collector takes the pathway.
      loader: async ({ url, method, headers, body }) => {
        const u = new URL(url);
        const p = pathway();
        if (p) u.searchParams.set('_HLS_pathway', p);
        let status = 0;
        try {
          status = (await fetch(u, { method, headers, body, keepalive: true })).status;
        } catch (err) {
          status = 0;
        }
        if (sent) sent(status);
        return { status };
      },
    },
  };
}
