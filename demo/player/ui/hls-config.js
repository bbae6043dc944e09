// The hls.js configuration of the demo's HLS player, in one place: what
// is changed for the demo (CMCD reporting, when it comes, goes here too).
// hls.js reads EXT-X-CONTENT-STEERING from the multivariant playlist and
// steers by itself; nothing here is needed for that.
export const hlsConfig = {
  // Three segments behind the live edge (3 s): room to switch pathway
  // without a stall.
  liveSyncDurationCount: 3,
  // Segments are small and the edges on loopback: start from a modest
  // estimate rather than the default, so the first request is realistic.
  abrEwmaDefaultEstimate: 2_000_000,
  enableWorker: true,
  lowLatencyMode: false,
};
