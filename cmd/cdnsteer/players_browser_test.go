package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	cdplog "github.com/chromedp/cdproto/log"
	"github.com/chromedp/cdproto/network"
	"github.com/chromedp/cdproto/runtime"
	"github.com/chromedp/chromedp"

	"github.com/cdnsteer/cdnsteer/demo/stream"
)

// playersTTL is the steering TTL of the players test: short, so that the
// test is quick, and long against a segment, as in production.
const playersTTL = 2 * time.Second

// TestPlayersFollowSteering plays the demo's live stream with the real
// players the demo serves (hls.js, then dash.js, from web/players'
// pinned npm install) in a real headless Chromium, drains the CDN each
// one is on through the API and checks, from the players' own segment
// requests, that it moves to another pathway within the steering TTL and
// one segment without a stall longer than a segment, then ends the drain
// and checks that it does not move back for a few TTLs. It also checks the
// units of the throughput the players report to the steering server,
// that hls.js's CMCD v2 event reports reach the collector and are counted,
// and, last, that hls.js's rebuffering when every edge is slowed shows as
// its CDN's rebuffer_ratio in /api/v1/state.
func TestPlayersFollowSteering(t *testing.T) {
	if os.Getenv("CDNSTEER_PLAYERS_TEST") == "" {
		t.Skip("set CDNSTEER_PLAYERS_TEST=1 (with CDNSTEER_CHROMIUM and CDNSTEER_PLAYERS) to play the demo stream in Chromium, or run scripts/players-test.sh")
	}
	bin := os.Getenv("CDNSTEER_CHROMIUM")
	if _, err := os.Stat(bin); bin == "" || err != nil {
		t.Fatalf("CDNSTEER_CHROMIUM=%q: need a Chromium binary (%v)", bin, err)
	}
	if _, err := stream.Find(); err != nil {
		t.Fatal(err)
	}
	modules := os.Getenv("CDNSTEER_PLAYERS")
	if modules == "" {
		modules = filepath.Join("..", "..", "web", "players", "node_modules")
	}
	for _, f := range []string{"hls.js/dist/hls.min.js", "dashjs/dist/modern/umd/dash.all.min.js"} {
		if _, err := os.Stat(filepath.Join(modules, f)); err != nil {
			t.Fatalf("players not installed (%v): run npm ci in web/players", err)
		}
	}
	run := startPlayersDemo(t, modules)
	var st struct {
		Stream   struct{ OK bool }
		Pathways []stream.Pathway
		Steering string
	}
	await(t, "the live stream", 60*time.Second, func() bool {
		getJSON(t, "http://"+run.Player+"/status", &st)
		return st.Stream.OK
	})

	actx, cancelAlloc := chromedp.NewExecAllocator(context.Background(),
		chromedp.ExecPath(bin), chromedp.Headless, chromedp.NoSandbox, chromedp.DisableGPU, chromedp.NoFirstRun,
		chromedp.Flag("disable-quic", true), chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true), chromedp.Flag("disable-sync", true),
		chromedp.Flag("disable-dev-shm-usage", true), chromedp.Flag("autoplay-policy", "no-user-gesture-required"),
		chromedp.Flag("disable-background-timer-throttling", true), chromedp.Flag("disable-renderer-backgrounding", true),
		chromedp.UserDataDir(t.TempDir()), chromedp.WindowSize(1280, 900))
	defer cancelAlloc()

	for _, kind := range []string{"hls", "dash"} {
		t.Run(kind, func(t *testing.T) {
			ctx, cancelTab := chromedp.NewContext(actx)
			defer cancelTab()
			ctx, cancel := context.WithTimeout(ctx, 3*time.Minute)
			defer cancel()
			p := &playerWatch{t: t, ctx: ctx, kind: kind, run: run, pathways: st.Pathways, steering: st.Steering}
			p.listen()
			p.steerAway()
			if kind == "hls" {
				p.cmcdCounted()
			}
		})
	}
	// Last, as it breaks every edge: rebuffering reaches the live view.
	t.Run("hls-rebuffer", func(t *testing.T) {
		ctx, cancelTab := chromedp.NewContext(actx)
		defer cancelTab()
		ctx, cancel := context.WithTimeout(ctx, 3*time.Minute)
		defer cancel()
		p := &playerWatch{t: t, ctx: ctx, kind: "hls", run: run, pathways: st.Pathways, steering: st.Steering, sidSuffix: "-rebuffer"}
		p.listen()
		p.rebuffer()
	})
}

// startPlayersDemo runs the demo with its steering listener, live stream
// and player site on ephemeral loopback ports.
func startPlayersDemo(t *testing.T, modules string) demoRun {
	t.Helper()
	// Probes every 500 ms with 400 ms to answer: a busy machine running
	// Chromium and ffmpeg does not take a healthy edge out (200 ms did).
	cfg := demoConfig{DNS: "127.0.0.1:0", HTTP: "127.0.0.1:0", ProbeInterval: 500 * time.Millisecond, EvalInterval: 100 * time.Millisecond,
		Steering: freeLoopbackPort(t), SteeringTTL: int(playersTTL / time.Second), Player: "127.0.0.1:0", Players: modules}
	run := startDemoWith(t, cfg, io.Discard, testLog(slog.LevelWarn))
	if run.Player == "" || run.Steering == "" {
		t.Fatalf("demo without player site (%q) or steering listener (%q)", run.Player, run.Steering)
	}
	return run
}

func getJSON(t *testing.T, u string, into any) {
	t.Helper()
	resp, err := (&http.Client{Timeout: 5 * time.Second}).Get(u)
	if err != nil {
		t.Fatalf("GET %s: %v", u, err)
	}
	defer resp.Body.Close()
	if err := json.NewDecoder(resp.Body).Decode(into); err != nil {
		t.Fatalf("GET %s: %d: %v", u, resp.StatusCode, err)
	}
}

// request is one request the page sent, as Chromium reports it.
type request struct {
	at       time.Time
	url      string
	pathway  string  // the edge's pathway, for a segment
	bits     float64 // body size, once loaded
	duration time.Duration
	status   int
}

// playerWatch drives one player page and records what it fetches.
type playerWatch struct {
	t        *testing.T
	ctx      context.Context
	kind     string
	run      demoRun
	pathways []stream.Pathway
	steering string
	// sidSuffix tells this page's session from another's of its kind.
	sidSuffix string

	mu       sync.Mutex
	segments []*request // media segments (video), in order
	steers   []*request // steering manifest requests
	cmcd     []*request // CMCD event reports posted to the collector
	byID     map[network.RequestID]*request
	sentAt   map[network.RequestID]float64
	errs     []string
}

func (p *playerWatch) sid() string { return "players-test-" + p.kind + p.sidSuffix }

// collector is the URL of the steering listener's CMCD receiver.
func (p *playerWatch) collector() string {
	u, err := url.Parse(p.steering)
	if err != nil {
		p.t.Fatalf("steering URL %q: %v", p.steering, err)
	}
	return u.Scheme + "://" + u.Host + "/qoe/cmcd"
}

// isSegment tells a media segment (video only, for DASH: audio follows
// the same BaseURL) from a playlist or an init segment.
func (p *playerWatch) isSegment(u string) bool {
	if p.kind == "hls" {
		return strings.Contains(u, "/media/hls/seg_")
	}
	return strings.Contains(u, "/media/dash/chunk-0-")
}

func (p *playerWatch) pathwayOf(u string) string {
	for _, pw := range p.pathways {
		if strings.HasPrefix(u, pw.Base) {
			return pw.ID
		}
	}
	return ""
}

func (p *playerWatch) listen() {
	t := p.t
	p.byID = map[network.RequestID]*request{}
	p.sentAt = map[network.RequestID]float64{}
	collector := p.collector()
	err := chromedp.Listen(p.ctx, func(ev any) {
		p.mu.Lock()
		defer p.mu.Unlock()
		switch ev := ev.(type) {
		case *network.EventRequestWillBeSent:
			u := ev.Request.URL
			r := &request{at: time.Now(), url: u}
			switch {
			case p.isSegment(u):
				r.pathway = p.pathwayOf(u)
				p.segments = append(p.segments, r)
			case strings.HasPrefix(u, collector) && ev.Request.Method == http.MethodPost:
				p.cmcd = append(p.cmcd, r)
			case strings.HasPrefix(u, p.steering):
				p.steers = append(p.steers, r)
			default:
				return
			}
			p.byID[ev.RequestID] = r
			p.sentAt[ev.RequestID] = float64(ev.Timestamp)
		case *network.EventResponseReceived:
			if r := p.byID[ev.RequestID]; r != nil {
				r.status = int(ev.Response.Status)
			}
		case *network.EventLoadingFinished:
			if r := p.byID[ev.RequestID]; r != nil {
				r.bits = ev.EncodedDataLength * 8
				r.duration = time.Duration((float64(ev.Timestamp) - p.sentAt[ev.RequestID]) * float64(time.Second))
			}
		case *runtime.EventExceptionThrown:
			p.errs = append(p.errs, "exception: "+ev.ExceptionDetails.Text+" "+exceptionDescription(ev))
		case *cdplog.EventEntryAdded:
			if ev.Entry.Level == cdplog.EntryLevelError && ev.Entry.Source != cdplog.EntrySourceNetwork {
				p.errs = append(p.errs, string(ev.Entry.Source)+": "+ev.Entry.Text)
			}
		}
	})
	if err != nil {
		t.Fatalf("starting Chromium: %v", err)
	}
	if _, err := chromedp.Call(p.ctx, cdplog.Enable, struct{}{}); err != nil {
		t.Fatalf("log domain: %v", err)
	}
	t.Cleanup(func() {
		p.mu.Lock()
		defer p.mu.Unlock()
		for _, e := range p.errs {
			t.Errorf("page error: %s", e)
		}
	})
}

// stallMonitor records, in the page, every moment currentTime advanced
// (wall clock ms), so that the longest gap in a window is the longest
// stall there; and the "waiting" events.
const stallMonitor = `(() => {
	if (window.__watch) return true;
	const v = document.getElementById('video');
	const w = window.__watch = { progress: [], waiting: [], last: -1 };
	v.addEventListener('waiting', () => w.waiting.push(Date.now()));
	setInterval(() => {
		if (v.currentTime !== w.last && !v.paused) {
			w.last = v.currentTime;
			w.progress.push(Date.now());
			if (w.progress.length > 20000) w.progress.splice(0, 10000);
		}
	}, 20);
	return true;
})()`

// longestStall is the longest time currentTime stood still between from
// and to (unix ms), and the number of "waiting" events then.
func (p *playerWatch) longestStall(from, to time.Time) (time.Duration, int) {
	js := fmt.Sprintf(`(() => {
		const w = window.__watch, from = %d, to = %d;
		let max = 0, prev = null;
		for (const t of w.progress) {
			if (t < from) { prev = t; continue; }
			if (t > to) break;
			if (prev !== null) max = Math.max(max, t - prev);
			prev = t;
		}
		const last = w.progress.filter((t) => t <= to).pop();
		if (last !== undefined) max = Math.max(max, Math.min(to, Date.now()) - last);
		return [max, w.waiting.filter((t) => t >= from && t <= to).length];
	})()`, from.UnixMilli(), to.UnixMilli())
	v, err := chromedp.Run(p.ctx, chromedp.Evaluate[[]float64](js))
	if err != nil || len(v) != 2 {
		p.t.Fatalf("reading the stall monitor: %v %v", v, err)
	}
	return time.Duration(v[0] * float64(time.Millisecond)), int(v[1])
}

func (p *playerWatch) segmentsSince(since time.Time) []request {
	p.mu.Lock()
	defer p.mu.Unlock()
	var out []request
	for _, r := range p.segments {
		if !r.at.Before(since) {
			out = append(out, *r)
		}
	}
	return out
}

func (p *playerWatch) steersSince(since time.Time) []request {
	p.mu.Lock()
	defer p.mu.Unlock()
	var out []request
	for _, r := range p.steers {
		if !r.at.Before(since) {
			out = append(out, *r)
		}
	}
	return out
}

// steerAway is the test of one player.
func (p *playerWatch) steerAway() {
	t := p.t
	t.Cleanup(func() {
		if t.Failed() {
			for _, r := range p.steersSince(time.Time{}) {
				t.Logf("steering request %s: %d %s", r.at.Format("15:04:05.000"), r.status, r.url)
			}
		}
	})
	segment := stream.SegmentDuration
	throughputBefore := steeringThroughput(t, p.run.HTTP)
	from := p.play()

	// Drain it.
	var ov struct{ ID string }
	drained := time.Now()
	body := fmt.Sprintf(`{"action":"drain","cdn":%q,"ttl":"10m","reason":"players test: %s on %s"}`, from, p.kind, from)
	if code := api(t, p.run, "POST", "/api/v1/overrides", p.run.Token, body, &ov); code != http.StatusCreated || ov.ID == "" {
		t.Fatalf("draining %s: %d %+v", from, code, ov)
	}
	// When the steering server answers the drain: the clock of the
	// player's switch starts there (the engine's next evaluation is not
	// the player's doing).
	effective := drained.Add(await(t, "the steering server to put "+from+" last", 10*time.Second, func() bool {
		return p.firstPathway(from) != from
	}))
	var to request
	await(t, "a segment from another pathway", 30*time.Second, func() bool {
		for _, r := range p.segmentsSince(drained) {
			if r.pathway != from && r.pathway != "" {
				to = r
				return true
			}
		}
		return false
	})
	// The bound: the player asks again within a TTL, then fetches the
	// next segment from the new pathway within a segment; on top, the
	// round trips of that steering request and (HLS) of the new
	// pathway's playlist, and timers on a busy machine: roundTrips.
	const roundTrips = 500 * time.Millisecond
	switchTime := to.at.Sub(effective)
	asked := to.at
	if s := p.steersSince(effective); len(s) > 0 && s[0].at.Before(to.at) {
		asked = s[0].at
	}
	t.Logf("%s: drain of %s posted; steering answered it %s later; the player asked %s after that and fetched its first segment from %s %s later: %s in all (%s after the POST); bound TTL + segment + round trips = %s",
		p.kind, from, effective.Sub(drained).Round(time.Millisecond), asked.Sub(effective).Round(time.Millisecond), to.pathway,
		to.at.Sub(asked).Round(time.Millisecond), switchTime.Round(time.Millisecond), to.at.Sub(drained).Round(time.Millisecond), playersTTL+segment+roundTrips)
	if switchTime > playersTTL+segment+roundTrips {
		t.Errorf("%s moved %s after the steering server put %s last, more than TTL %s + one segment %s + %s", p.kind, switchTime, from, playersTTL, segment, roundTrips)
	}

	// No stall longer than a segment around the switch, and playback
	// went on after it.
	await(t, "two more segments on the new pathway", 20*time.Second, func() bool { return len(p.segmentsSince(to.at)) >= 3 })
	stall, waits := p.longestStall(drained.Add(-time.Second), time.Now())
	t.Logf("%s: longest stall around the switch %s, %d waiting events", p.kind, stall.Round(time.Millisecond), waits)
	if stall > segment {
		t.Errorf("%s stood still for %s around the switch (longer than a segment, %s); %d waiting events", p.kind, stall, segment, waits)
	}

	// End the drain: the player stays where it is for a few TTLs, asking
	// the steering server all the while.
	healed := time.Now()
	if code := api(t, p.run, "DELETE", "/api/v1/overrides/"+ov.ID+"?reason=players+test+over", p.run.Token, "", nil); code != http.StatusNoContent {
		t.Fatalf("ending the drain: %d", code)
	}
	watch := 3*playersTTL + segment
	await(t, "a few TTLs after the drain ended", watch+10*time.Second, func() bool { return time.Since(healed) >= watch })
	segs, steers := p.segmentsSince(healed), p.steersSince(healed)
	for _, r := range segs {
		if r.pathway != to.pathway {
			t.Errorf("%s went back from %s to %s %s after the drain ended: a needless switch", p.kind, to.pathway, r.pathway, r.at.Sub(healed).Round(time.Millisecond))
			var state any
			api(t, p.run, "GET", "/api/v1/state", "", "", &state)
			b, _ := json.Marshal(state)
			t.Logf("the state now: %.3000s", b)
			break
		}
	}
	if len(segs) < 4 || len(steers) < 2 {
		t.Errorf("%s: %d segments and %d steering requests in the %s after the drain ended; want playback and steering going on", p.kind, len(segs), len(steers), watch)
	}
	stall, _ = p.longestStall(healed, time.Now())
	if stall > segment {
		t.Errorf("%s stood still for %s after the drain ended", p.kind, stall)
	}
	p.throughput(throughputBefore)
	screenshot(t, p.ctx, "players-"+p.kind)
}

// play opens the player's page, waits until it plays and returns the
// pathway it is on: its last three segments' edge, once it has asked the
// steering server with its segments under way.
func (p *playerWatch) play() string {
	t := p.t
	page := "http://" + p.run.Player + "/" + p.kind + "?sid=" + p.sid()
	if err := chromedp.Do(p.ctx, chromedp.Navigate(page)); err != nil {
		t.Fatalf("opening %s: %v", page, err)
	}
	if _, err := chromedp.Run(p.ctx, chromedp.Evaluate[bool](stallMonitor)); err != nil {
		t.Fatalf("stall monitor: %v", err)
	}
	start := time.Now()
	if _, err := chromedp.Run(p.ctx, chromedp.Poll[bool](`(() => { const v = document.getElementById('video'); return v.currentTime > 2 && !v.paused; })()`,
		chromedp.WithPollingInterval(100*time.Millisecond), chromedp.WithPollingTimeout(60*time.Second))); err != nil {
		screenshot(t, p.ctx, "players-"+p.kind+p.sidSuffix+"-failed")
		t.Fatalf("%s did not start playing: %v", p.kind, err)
	}
	t.Logf("%s playing %s after opening the page", p.kind, time.Since(start).Round(time.Millisecond))
	var on string
	await(t, "three segments from one edge and a steering request since", 30*time.Second, func() bool {
		segs := p.segmentsSince(start)
		if len(segs) < 3 {
			return false
		}
		last := segs[len(segs)-3:]
		if last[0].pathway == "" || last[0].pathway != last[1].pathway || last[1].pathway != last[2].pathway {
			return false
		}
		on = last[2].pathway
		return len(p.steersSince(segs[0].at)) > 0
	})
	t.Logf("%s on pathway %s", p.kind, on)
	return on
}

// firstPathway is what the steering server now puts first for the
// player's session, were it on pathway on.
func (p *playerWatch) firstPathway(on string) string {
	var m struct {
		Priority []string `json:"PATHWAY-PRIORITY"`
	}
	getJSON(p.t, p.steering+"?sid="+url.QueryEscape(p.sid())+"&_HLS_pathway="+url.QueryEscape(on), &m)
	if len(m.Priority) == 0 {
		return ""
	}
	return m.Priority[0]
}

// throughput checks the units of the throughput the player reports on
// its steering requests: what the steering server read from them (the
// mean of cdnsteer_steering_throughput_bits_per_second since before the
// player started, the other player's requests and the test's own
// excluded) and the player's own values must both be within a factor of
// what Chromium timed for its segments. hls.js sends _HLS_throughput in
// bit/s; dash.js 5 sends _DASH_throughput in bit/s as well (its kbit/s
// mean times 1000; steering/ used to multiply it by 1000 again), a list
// after a switch (one per pathway of _DASH_pathway, the current last).
func (p *playerWatch) throughput(before histo) {
	t := p.t
	param := "_HLS_throughput"
	if p.kind == "dash" {
		param = "_DASH_throughput"
	}
	var reported []float64
	for _, r := range p.steersSince(time.Time{}) {
		u, err := url.Parse(r.url)
		if err != nil {
			t.Errorf("steering request URL %q: %v", r.url, err)
			continue
		}
		if r.status != http.StatusOK && r.status != 0 { // 0: still in flight
			t.Errorf("%s: steering answered %d to %s", p.kind, r.status, r.url)
		}
		v := u.Query().Get(param)
		v = v[strings.LastIndexByte(v, ',')+1:]
		if f, err := strconv.ParseFloat(v, 64); err == nil {
			reported = append(reported, f)
		}
	}
	var measured []float64
	for _, r := range p.segmentsSince(time.Time{}) {
		if r.bits > 0 && r.duration > 0 {
			measured = append(measured, r.bits/r.duration.Seconds())
		}
	}
	after := steeringThroughput(t, p.run.HTTP)
	read := after.count - before.count
	if len(reported) == 0 || len(measured) == 0 || read <= 0 {
		t.Errorf("%s: %d %s reported (%d steering requests), %.0f read by the steering server, %d segments timed", p.kind, len(reported), param, len(p.steersSince(time.Time{})), read, len(measured))
		return
	}
	rep, meas, server := median(reported), median(measured), (after.sum-before.sum)/read
	t.Logf("%s: %s median %.0f (%d reports); the steering server read a mean of %.0f bit/s (%.0f reports); its segments as Chromium timed them: median %.0f bit/s; ratios %.2g and %.2g",
		p.kind, param, rep, len(reported), server, read, meas, rep/meas, server/meas)
	// The estimates differ (EWMA, latency, loopback bursts) but not by
	// three orders of magnitude, as a unit would.
	for _, c := range []struct {
		what string
		v    float64
	}{{"the player's " + param, rep}, {"the steering server's reading", server}} {
		if c.v/meas > 30 || c.v/meas < 1.0/30 {
			t.Errorf("%s: %s is %.0f against %.0f bit/s measured: not bit/s", p.kind, c.what, c.v, meas)
		}
	}
}

type histo struct{ sum, count float64 }

// steeringThroughput is the sum and count, over every CDN, of the
// throughput the steering server read from players.
func steeringThroughput(t *testing.T, httpAddr string) histo {
	t.Helper()
	const name = "cdnsteer_steering_throughput_bits_per_second"
	return histo{metricSum(t, httpAddr, name+"_sum"), metricSum(t, httpAddr, name+"_count")}
}

// metricSum adds up every series of a sample name on /metrics (name, then
// labels or a space), optionally only those whose labels contain each
// of with ("cdn=\"akamai\"").
func metricSum(t *testing.T, httpAddr, name string, with ...string) float64 {
	t.Helper()
	resp, err := (&http.Client{Timeout: 5 * time.Second}).Get("http://" + httpAddr + "/metrics")
	if err != nil {
		t.Fatalf("GET /metrics: %v", err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatalf("GET /metrics: %v", err)
	}
	var sum float64
next:
	for _, line := range strings.Split(string(b), "\n") {
		rest, ok := strings.CutPrefix(line, name)
		if !ok || rest == "" || rest[0] != '{' && rest[0] != ' ' {
			continue
		}
		for _, w := range with {
			if !strings.Contains(rest, w) {
				continue next
			}
		}
		f, err := strconv.ParseFloat(rest[strings.LastIndexByte(rest, ' ')+1:], 64)
		if err == nil {
			sum += f
		}
	}
	return sum
}

func median(v []float64) float64 {
	s := append([]float64(nil), v...)
	sort.Float64s(s)
	return s[len(s)/2]
}

// cmcdOutcomes are the collector's counters a CMCD line ends in, one
// each: counted for a CDN and region, or refused for a reason.
var cmcdOutcomes = []string{"cdnsteer_qoe_reports_total", "cdnsteer_qoe_unknown_cdn_reports_total", "cdnsteer_qoe_capped_reports_total",
	"cdnsteer_qoe_sampled_out_reports_total", "cdnsteer_qoe_malformed_reports_total"}

func (p *playerWatch) cmcdSince(since time.Time) (sent, answered, ok int) {
	p.mu.Lock()
	defer p.mu.Unlock()
	for _, r := range p.cmcd {
		if r.at.Before(since) {
			continue
		}
		sent++
		if r.status != 0 {
			answered++
		}
		if r.status == http.StatusNoContent {
			ok++
		}
	}
	return sent, answered, ok
}

// cmcdCounted checks that hls.js's CMCD v2 event reports (the demo's
// hls-config.js: a report every second and one per segment received, one
// line per POST) reach the collector on the steering listener and are
// counted: every report answered before /metrics is read is in the
// collector's counters, no more than were sent are, each was answered
// 204, and they are counted for the CDNs the player fetched from, in its
// region (loopback is the demo's region default).
func (p *playerWatch) cmcdCounted() {
	t := p.t
	await(t, "ten CMCD reports answered", 30*time.Second, func() bool {
		_, answered, _ := p.cmcdSince(time.Time{})
		return answered >= 10
	})
	_, answered, ok := p.cmcdSince(time.Time{})
	var lines float64
	for _, name := range cmcdOutcomes {
		lines += metricSum(t, p.run.HTTP, name)
	}
	sent, _, _ := p.cmcdSince(time.Time{})
	byCDN := map[string]float64{}
	var counted float64
	for _, pw := range p.pathways {
		byCDN[pw.ID] = metricSum(t, p.run.HTTP, "cdnsteer_qoe_reports_total", `cdn="`+pw.ID+`"`, `region="default"`)
		counted += byCDN[pw.ID]
	}
	unknown := metricSum(t, p.run.HTTP, "cdnsteer_qoe_unknown_cdn_reports_total")
	t.Logf("hls.js CMCD: %d event reports posted, %d answered (%d with 204); the collector has %.0f lines: counted in region default by CDN %v, %.0f without a CDN",
		sent, answered, ok, lines, byCDN, unknown)
	if ok != answered {
		t.Errorf("%d of %d CMCD reports answered other than 204", answered-ok, answered)
	}
	if lines < float64(answered) || lines > float64(sent) {
		t.Errorf("the collector has %.0f lines for %d reports answered and %d sent", lines, answered, sent)
	}
	// The player fetched from two pathways, one after the drain.
	seen := map[string]bool{}
	for _, r := range p.segmentsSince(time.Time{}) {
		seen[r.pathway] = true
	}
	for pw := range seen {
		if pw != "" && byCDN[pw] == 0 {
			t.Errorf("no CMCD report counted for %s, a pathway the player fetched from (counted: %v)", pw, byCDN)
		}
	}
	if counted < float64(answered)*0.8 {
		t.Errorf("only %.0f of %d reports counted for a CDN", counted, answered)
	}
}

// rebuffer breaks the throughput of every edge (0.2 Mbit/s, under the
// stream's 500 kbit/s) while hls.js plays: the player runs dry, its CMCD
// reports say so (sta=r), and the CDN it is on shows a rebuffer_ratio
// above the one it had, in /api/v1/state (what the live view shows),
// from its source cmcd. The knobs are put back after.
func (p *playerWatch) rebuffer() {
	t := p.t
	on := p.play()
	before := -1.0
	await(t, "rebuffer_ratio of "+on+" in region default", 30*time.Second, func() bool {
		v, ok := cdnSignals(t, p.run.HTTP, p.run.Token, "live", "default", on)["rebuffer_ratio"]
		before = v
		return ok
	})
	t.Logf("%s's rebuffer_ratio in default while hls.js plays: %.3f", on, before)
	broke := time.Now()
	for _, pw := range p.pathways {
		if code := api(t, p.run, "POST", "/api/v1/demo/edges/"+pw.ID, p.run.Token, `{"bandwidth_mbps":0.2}`, nil); code != http.StatusOK {
			t.Fatalf("slowing edge %s: %d", pw.ID, code)
		}
	}
	t.Cleanup(func() {
		for _, pw := range p.pathways {
			api(t, p.run, "POST", "/api/v1/demo/edges/"+pw.ID, p.run.Token, fmt.Sprintf(`{"bandwidth_mbps":%g}`, 200.0), nil)
		}
	})
	waited := await(t, "the player to wait for data", 30*time.Second, func() bool {
		_, waits := p.longestStall(broke, time.Now())
		return waits > 0
	})
	t.Logf("hls.js waiting for data %s after every edge went down to 0.2 Mbit/s", waited.Round(time.Millisecond))
	var after float64
	await(t, "a higher rebuffer_ratio for "+on, 30*time.Second, func() bool {
		after = cdnSignals(t, p.run.HTTP, p.run.Token, "live", "default", on)["rebuffer_ratio"]
		return after > before
	})
	stall, _ := p.longestStall(broke, time.Now())
	sent, answered, _ := p.cmcdSince(broke)
	t.Logf("%s's rebuffer_ratio in default: %.3f → %.3f, in /api/v1/state %s after the edges slowed (the player stood still %s; %d CMCD reports sent since, %d answered)",
		on, before, after, time.Since(broke).Round(time.Millisecond), stall.Round(time.Millisecond), sent, answered)
	screenshot(t, p.ctx, "players-hls-rebuffer")
}
