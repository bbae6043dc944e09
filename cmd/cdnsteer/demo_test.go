package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"math"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/cdproto/runtime"
	"github.com/chromedp/chromedp"

	"github.com/cdnsteer/cdnsteer/demo/edges"
)

// lockedBuffer collects the demo's printout, written from the server's
// goroutine and read by the test.
type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

// startDemo runs the demo in-process on ephemeral loopback ports, with
// probes and evaluations ten times a second so that the test is quick.
func startDemo(t *testing.T) (demoRun, *lockedBuffer) {
	t.Helper()
	return startDemoProbing(t, 100*time.Millisecond)
}

// startDemoProbing is startDemo with the probes' interval given (their
// timeout is 8/10 of it).
func startDemoProbing(t *testing.T, probe time.Duration) (demoRun, *lockedBuffer) {
	t.Helper()
	out := &lockedBuffer{}
	// Registered first, so run last: once the demo has stopped.
	var dir string
	t.Cleanup(func() {
		if _, err := os.Stat(dir); dir != "" && !os.IsNotExist(err) {
			t.Errorf("demo folder %s left behind (%v)", dir, err)
		}
	})
	cfg := demoConfig{DNS: "127.0.0.1:0", HTTP: "127.0.0.1:0", ProbeInterval: probe, EvalInterval: 100 * time.Millisecond}
	run := startDemoWith(t, cfg, out, testLog(slog.LevelInfo))
	dir = run.Dir
	return run, out
}

// api sends a request to the demo's HTTP endpoint and decodes the answer.
// A GET without a token is sent with the read token: reads need one. The
// token "none" sends none.
func api(t *testing.T, run demoRun, method, path, token, body string, into any) int {
	t.Helper()
	switch {
	case token == "none":
		token = ""
	case token == "" && method == "GET":
		token = run.ReadToken
	}
	return apiCall(t, run.HTTP, method, path, token, body, into)
}

// demoCDN is a CDN of a region as GET /api/v1/state shows it.
type demoCDN struct {
	Name                    string
	Status                  string
	Weight, Baseline, Share float64
}

// regionState is a region's CDNs in the demo's policy, from /api/v1/state.
func regionState(t *testing.T, run demoRun, region string) []demoCDN {
	t.Helper()
	var v struct {
		Policies []struct {
			Regions []struct {
				Name string
				CDNs []demoCDN
			}
		}
	}
	api(t, run, "GET", "/api/v1/state", "", "", &v)
	for _, r := range v.Policies[0].Regions {
		if r.Name == region {
			return r.CDNs
		}
	}
	t.Fatalf("no region %s", region)
	return nil
}

// stateOf returns a CDN's status and weight in a region, from /api/v1/state.
func stateOf(t *testing.T, run demoRun, region, cdn string) (string, float64) {
	t.Helper()
	for _, c := range regionState(t, run, region) {
		if c.Name == cdn {
			return c.Status, c.Weight
		}
	}
	t.Fatalf("no %s in region %s", cdn, region)
	return "", 0
}

// TestDemo runs the demo as a user would: it reads what the demo prints,
// checks that Korean subnets get Korea's split, degrades an edge through
// the API and sees DNS answers leave it.
func TestDemo(t *testing.T) {
	run, out := startDemo(t)
	dnsAddr := run.DNS[0]
	_, port, _ := strings.Cut(dnsAddr, ":")
	printed := out.String()
	for _, want := range []string{"http://" + run.HTTP + "/", run.Token, run.ReadToken, "dig @127.0.0.1 -p " + port + " stream.live.example.com",
		"+subnet=10.82.7.0/24", "| sort | uniq -c", "/api/v1/demo/edges/fastly", "Ctrl-C"} {
		if !strings.Contains(printed, want) {
			t.Errorf("the demo's printout lacks %q:\n%s", want, printed)
		}
	}
	if b, err := os.ReadFile(filepath.Join(run.Dir, "admin.token")); err != nil || !strings.Contains(string(b), "\noperator "+run.Token+" write\n") ||
		!strings.Contains(string(b), "\nviewer "+run.ReadToken+" read\n") {
		t.Errorf("token file: %q, %v", b, err)
	}
	// Reads need a token; the read token cannot write.
	if code := api(t, run, "GET", "/api/v1/state", "none", "", nil); code != http.StatusUnauthorized {
		t.Errorf("state without a token: %d, want 401", code)
	}
	if code := api(t, run, "POST", "/api/v1/demo/edges/fastly", run.ReadToken, `{"error_rate":0}`, nil); code != http.StatusForbidden {
		t.Errorf("the read token writing: %d, want 403", code)
	}

	// Every edge is probed and healthy: every CDN gets answers, and Korea
	// (kr: cloudfront 40 %) gets more CloudFront than the world (15 %).
	await(t, "all four CDNs answered", 10*time.Second, func() bool { return len(cdnSpread(t, dnsAddr, 200, worldwide)) == 4 })
	world, kr := cdnSpread(t, dnsAddr, 200, worldwide), cdnSpread(t, dnsAddr, 200, korea)
	if kr["cloudfront"] <= world["cloudfront"]*3/2 {
		t.Errorf("cloudfront answers: %d of 200 Korean subnets, %d of 200 others; kr's weights do not apply", kr["cloudfront"], world["cloudfront"])
	}
	var edges struct{ Edges []struct{ CDN string } }
	if code := api(t, run, "GET", "/api/v1/demo/edges", "", "", &edges); code != 200 || len(edges.Edges) != 4 {
		t.Fatalf("GET /api/v1/demo/edges: %d %+v", code, edges)
	}

	// Degrading needs the token.
	if code := api(t, run, "POST", "/api/v1/demo/edges/fastly", "", `{"error_rate":1}`, nil); code != http.StatusUnauthorized {
		t.Errorf("degrading without the token: %d, want 401", code)
	}
	if code := api(t, run, "POST", "/api/v1/demo/edges/fastly", run.Token, `{"error_rate":1}`, nil); code != http.StatusOK {
		t.Fatalf("degrading fastly: %d", code)
	}
	took := await(t, "fastly to leave the answers", 10*time.Second, func() bool {
		return cdnSpread(t, dnsAddr, 200, worldwide)["fastly"] == 0 && cdnSpread(t, dnsAddr, 200, korea)["fastly"] == 0
	})
	t.Logf("fastly out of the answers %s after its edge started failing", took)
	if st, w := stateOf(t, run, "kr", "fastly"); st != "degraded" || w != 0 {
		t.Errorf("state API: fastly in kr is %s with weight %v, want degraded with 0", st, w)
	}
}

func TestDemoFlags(t *testing.T) {
	for _, args := range [][]string{
		{"demo", "-http", "0.0.0.0:8080"},
		{"demo", "-dns", "192.0.2.1:53"},
		{"demo", "-dns", "localhost:1053"},
		{"demo", "extra"},
		{"demo", "-nope"},
	} {
		var stderr bytes.Buffer
		if code := run(args, io.Discard, &stderr); code != 2 {
			t.Errorf("%v: exit %d, want 2 (%s)", args, code, stderr.String())
		}
		if stderr.Len() == 0 {
			t.Errorf("%v: no message", args)
		}
	}
}

// TestBrowserLiveView opens the demo's live view in a real headless
// Chromium and works it as an operator would: four CDNs with scores, a
// drain clicked (the token entered when asked) that the page and the API
// both show, an edge broken from the demo panel, a note added.
func TestBrowserLiveView(t *testing.T) {
	if os.Getenv("CDNSTEER_CHROMIUM") == "" {
		t.Skip("set CDNSTEER_CHROMIUM to a Chromium binary to run the browser test, e.g. " +
			"CDNSTEER_CHROMIUM=/usr/bin/chromium go test -run Browser ./cmd/cdnsteer/ (or run scripts/browser-test.sh)")
	}
	// Chromium and the race detector share the machine with the demo: a
	// probe timing out at 80 ms on a busy core would take a healthy edge
	// out for a moment (and refuse the pin below); 200 ms rides that out.
	run, _ := startDemoProbing(t, 250*time.Millisecond)
	base := "http://" + run.HTTP
	// Script errors and CSP violations fail the test; Chromium makes no
	// background connections.
	b := newBrowser(t, 1400, 1800)
	ctx, step, wait := b.ctx, b.step, b.wait
	row := func(region, cdn string) string {
		return fmt.Sprintf(`document.querySelector('#regions tr[data-region="%s"][data-cdn="%s"]')`, region, cdn)
	}

	// Reads need a token: the page asks for one at once. The read token
	// shows everything; the first change then asks for a write token.
	step("opening the live view", chromedp.Navigate(base+"/"))
	wait("the token asked for", `document.getElementById('token-dialog').open`)
	step("entering the read token", chromedp.SendKeys(chromedp.CSS(`#token-input`), run.ReadToken), chromedp.Click(chromedp.CSS(`#token-ok`)))
	wait("the read token named in the header", `document.getElementById('token-who')?.textContent === 'token “viewer” (read) kept for this tab'`)
	wait("four CDNs with scores in both regions", `(() => {
		const rows = [...document.querySelectorAll('#regions tr[data-cdn]')];
		return rows.length === 8 && rows.every((r) => /^\d+(\.\d)?$/.test(r.querySelector('td.score').textContent));
	})()`)
	wait("the charts drawn", `document.querySelectorAll('#charts svg path.series[d^="M"]').length >= 4`)

	// The drain's preview is checked against the split the engine then
	// publishes, so the scores must not move in between: the edges' one
	// random outcome (a cache MISS now and then, enough to take a CDN's
	// score out of the dead band for a moment) is held still, and both
	// splits are taken at full marks, every CDN at its baseline weight.
	holdCacheHits(t, run, 1)
	held := fullMarks(t, run, "default", "")

	// Drain akamai in the default region: the dialog's preview (a dry run)
	// asks for a write token, the read token being refused; focus is on
	// Cancel and no reason is filled in.
	step("clicking Drain", chromedp.Click(chromedp.CSS(`#regions tr[data-region="default"][data-cdn="akamai"] button[data-act="drain"]`)))
	wait("a write token asked for", `document.getElementById('token-dialog').open && /may only read/.test(document.getElementById('token-msg').textContent)`)
	step("entering the write token", chromedp.SendKeys(chromedp.CSS(`#token-input`), run.Token), chromedp.Click(chromedp.CSS(`#token-ok`)))
	wait("the drain's preview", `document.getElementById('action-preview').dataset.state === 'ok' && document.activeElement.id === 'action-cancel' && document.getElementById('f-reason').value === ''`)
	// The dialog follows the engine (a new dry run every 2 s): its "now"
	// column tells the state a preview was computed from. The preview is
	// kept, in the same evaluation, once that state is full marks.
	heldJSON, _ := json.Marshal(held)
	wait("a preview computed at full marks", fmt.Sprintf(`(() => {
		const want = %s;
		const rows = [...document.querySelectorAll('#action-preview tr[data-region="default"]')];
		const ok = document.getElementById('action-preview').dataset.state === 'ok' && rows.length === Object.keys(want).length &&
			rows.every((r) => Math.abs(parseFloat(r.querySelector('td.num:not(.after)').textContent) / 100 - want[r.dataset.cdn]) < 0.0006);
		if (ok) window.previewAtFullMarks = Object.fromEntries(rows.map((r) => [r.dataset.cdn, parseFloat(r.querySelector('td.after').textContent) / 100]));
		return ok;
	})()`, heldJSON))
	preview, err := chromedp.Run(ctx, chromedp.Evaluate[map[string]float64](`window.previewAtFullMarks`))
	if err != nil || preview["akamai"] != 0 || len(preview) < 3 {
		t.Errorf("drain preview %v (%v)", preview, err)
	}
	step("confirming the drain with a reason", chromedp.SendKeys(chromedp.CSS(`#f-reason`), "browser test: drain"), chromedp.Click(chromedp.CSS(`#action-ok`)))
	wait("akamai shown drained", row("default", "akamai")+`.querySelector('td.status').textContent === 'drained'`)
	wait("akamai's weight shown as 0", row("default", "akamai")+`.querySelector('td.weight').textContent.startsWith('0 /')`)
	wait("the drain listed among the overrides, by the write token's name", `document.querySelector('#overrides tr[data-action="drain"] td.by')?.textContent === 'operator'`)
	wait("the write token named in the header", `document.getElementById('token-who')?.textContent === 'token “operator” (write) kept for this tab'`)
	var drains struct{ Overrides []struct{ Action, By string } }
	if api(t, run, "GET", "/api/v1/overrides", "", "", &drains); len(drains.Overrides) != 1 || drains.Overrides[0].By != "operator" {
		t.Errorf("the drain in the API: %+v, want by operator", drains.Overrides)
	}
	if st, w := stateOf(t, run, "default", "akamai"); st != "drained" || w != 0 {
		t.Errorf("after the drain in the page, the state API says akamai is %s with weight %v", st, w)
	}
	if st, _ := stateOf(t, run, "kr", "akamai"); st == "drained" {
		t.Error("a drain of region default drained kr too")
	}
	// The preview is the split the engine publishes from the same state:
	// full marks, with akamai drained.
	published := fullMarks(t, run, "default", "akamai")
	for cdn, want := range preview {
		if got := published[cdn]; math.Abs(got-want) > 0.0015 {
			t.Errorf("default %s: previewed %.3f, published %.3f", cdn, want, got)
		}
	}
	holdCacheHits(t, run, edges.Healthy.CacheHitRatio)
	// A pin to the drained akamai is refused in the dialog.
	step("pinning default to akamai", chromedp.Click(chromedp.CSS(`#regions .region[data-region="default"] button[data-act="pin"]`)))
	wait("the pin refused", `document.getElementById('action-preview').dataset.state === 'blocked' && /akamai is drained/.test(document.querySelector('#action-preview .refused').textContent) && document.getElementById('action-ok').disabled`)
	step("cancelling the pin", chromedp.Click(chromedp.CSS(`#action-cancel`)))

	// Undrain it, pin Korea to CloudFront and end the pin from the
	// overrides list: the token is not asked again.
	step("clicking Undrain", chromedp.Click(chromedp.CSS(`#regions tr[data-region="default"][data-cdn="akamai"] button[data-act="undrain"]`)),
		chromedp.Click(chromedp.CSS(`#action-ok`)))
	wait("akamai back", row("default", "akamai")+`.querySelector('td.status').textContent !== 'drained'`)
	if st, _ := stateOf(t, run, "default", "akamai"); st == "drained" {
		t.Error("after Undrain in the page, the state API still says akamai is drained")
	}
	// Choosing CloudFront as a user does (the change event a pick fires)
	// previews the pin; OK waits for that preview.
	step("pinning kr", chromedp.Click(chromedp.CSS(`#regions .region[data-region="kr"] button[data-act="pin"]`)),
		chromedp.Evaluate[chromedp.Void](`(() => { const s = document.getElementById('f-cdn'); s.value = 'cloudfront'; s.dispatchEvent(new Event('change', { bubbles: true })); })()`))
	wait("the pin's preview", `(() => {
		const p = document.getElementById('action-preview');
		const r = p.querySelector('tr[data-region="kr"][data-cdn="cloudfront"] td.after');
		return p.dataset.state === 'ok' && !!r && r.textContent === '100.0 %' && !document.getElementById('action-ok').disabled;
	})()`)
	step("confirming the pin with a reason", chromedp.SendKeys(chromedp.CSS(`#f-reason`), "browser test: pin"), chromedp.Click(chromedp.CSS(`#action-ok`)))
	wait("kr's answers all on cloudfront", row("kr", "cloudfront")+`.querySelector('td.share').textContent.startsWith('100.0 %')`)
	if got := cdnSpread(t, run.DNS[0], 50, korea); got["cloudfront"] != 50 {
		t.Errorf("kr pinned to cloudfront in the page, DNS answers %v", got)
	}
	step("ending the pin", chromedp.Click(chromedp.CSS(`#overrides tr[data-action="pin"] button`)), chromedp.Click(chromedp.CSS(`#action-ok`)))
	wait("the overrides list empty", `document.querySelectorAll('#overrides tr[data-action]').length === 0`)
	var ovs struct{ Overrides []any }
	if api(t, run, "GET", "/api/v1/overrides", "", "", &ovs); len(ovs.Overrides) != 0 {
		t.Errorf("overrides in force after ending them in the page: %v", ovs.Overrides)
	}
	browserPlans(t, run, step, wait)

	// Break fastly's edge from the demo panel.
	step("pressing down on fastly's edge", chromedp.Click(chromedp.CSS(`#demo tr[data-cdn="fastly"] button[data-preset="down"]`)))
	wait("fastly shown degraded", row("kr", "fastly")+`.querySelector('td.status').textContent === 'degraded'`)
	// Regions are ordered worst first: both settle degraded before a click.
	wait("both regions degraded in the overview", `document.querySelectorAll('#overview .tile[data-state="degraded"]').length === 2`)
	browserEscalate(t, run, step, wait)

	// Add a note.
	note := "kick-off, from the browser test"
	step("adding a note", chromedp.SendKeys(chromedp.CSS(`#note-text`), note), chromedp.SendKeys(chromedp.CSS(`#note-tags`), "match, test"),
		chromedp.Click(chromedp.CSS(`#note-add`)))
	wait("the note in the timeline, by the token's name", fmt.Sprintf(`[...document.querySelectorAll('#notes li')].some((e) => e.querySelector('.text')?.textContent === %q && e.querySelector('.by')?.textContent === '— operator')`, note))
	// Every entry of the timeline (the plan's activation and end too) is
	// marked on the first chart, the note included.
	wait("the note on the charts", `document.querySelector('#charts svg').querySelectorAll('g.note[visibility="visible"]').length === document.querySelectorAll('#notes li[data-id]').length`)
	var notes struct {
		Annotations []struct {
			Text, By string
			Tags     []string
		}
	}
	api(t, run, "GET", "/api/v1/annotations", "", "", &notes)
	if n := len(notes.Annotations); n != 1 || notes.Annotations[0].Text != note || strings.Join(notes.Annotations[0].Tags, ",") != "match,test" || notes.Annotations[0].By != "operator" {
		t.Errorf("GET /api/v1/annotations after adding a note in the page: %+v", notes.Annotations)
	}
	if v, err := chromedp.Run(ctx, chromedp.Evaluate[bool](`document.querySelector('#toasts .toast:not(.ok)') !== null`)); err != nil || v {
		t.Errorf("the page shows an error toast (%v)", err)
	}
	// The last two minutes fill the charts' width: the screenshot shows
	// the incident rather than a sliver of half an hour.
	step("zooming the charts", chromedp.Click(chromedp.CSS(`#chart-span button:nth-child(3)`)),
		chromedp.Evaluate[chromedp.Void](`window.scrollTo(0, 0)`))
	screenshot(t, ctx, "live-view")

	// The page redraws in place: a few more updates add no nodes (toasts,
	// which come and go and are at most five, aside).
	count := `document.getElementsByTagName('*').length - document.querySelectorAll('#toasts *').length`
	before, err := chromedp.Run(ctx, chromedp.Evaluate[int](count))
	if err != nil {
		t.Fatal(err)
	}
	time.Sleep(3 * time.Second)
	if after, err := chromedp.Run(ctx, chromedp.Evaluate[int](count)); err != nil || after != before {
		t.Errorf("DOM nodes: %d, then %d three updates later (%v)", before, after, err)
	}
}

// screenshot saves the whole page to the artefacts.
func screenshot(t *testing.T, ctx context.Context, name string) {
	t.Helper()
	buf, err := chromedp.Run(ctx, chromedp.FullScreenshot(100))
	if err != nil {
		t.Logf("screenshot %s: %v", name, err)
		return
	}
	saveArtefact(t, name+".png", buf)
}

func exceptionDescription(ev *runtime.EventExceptionThrown) string {
	if ex := ev.ExceptionDetails.Exception; ex != nil {
		return ex.Description
	}
	return ""
}

// holdCacheHits sets every demo edge's cache hit ratio: at 1 (or 0) the
// edges' answers, and so the probes' scores, have nothing random left.
func holdCacheHits(t *testing.T, run demoRun, ratio float64) {
	t.Helper()
	for _, e := range run.Edges.Edges() {
		if _, err := e.Update(edges.Patch{CacheHitRatio: &ratio}); err != nil {
			t.Fatalf("%s: cache hit ratio %v: %v", e.Name(), ratio, err)
		}
	}
}

// fullMarks awaits the moment every CDN of region but drained weighs in
// proportion to its baseline (drained none, or at 0), and returns the
// split then published: the one state a preview and a publication can
// both be taken in while the edges' outcomes are held still.
func fullMarks(t *testing.T, run demoRun, region, drained string) map[string]float64 {
	t.Helper()
	var split map[string]float64
	await(t, "every CDN of "+region+" weighing its baseline", 30*time.Second, func() bool {
		cdns := regionState(t, run, region)
		var weights, baselines float64
		for _, c := range cdns {
			weights += c.Weight
			if c.Name != drained {
				baselines += c.Baseline
			}
		}
		split = map[string]float64{}
		for _, c := range cdns {
			want := c.Baseline / baselines
			if c.Name == drained {
				want = 0
			}
			if weights <= 0 || math.Abs(c.Weight/weights-want) > 0.0005 {
				return false
			}
			split[c.Name] = c.Share
		}
		return len(split) > 0
	})
	return split
}
