package main

import (
	"fmt"
	"math"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
)

// fixtureCDN is one CDN of one region in GET /api/v1/state.
type fixtureCDN struct {
	Status         string
	Score          *float64
	Share          float64
	Blind          bool
	CapacityFactor float64 `json:"capacity_factor"`
}

// fixtureState is the fixture's state by "region/cdn".
func fixtureState(t *testing.T, f *fixtureRun) map[string]fixtureCDN {
	t.Helper()
	var v struct {
		Policies []struct {
			Regions []struct {
				Name string
				CDNs []struct {
					Name string
					fixtureCDN
				}
			}
		}
	}
	apiCall(t, f.HTTP, "GET", "/api/v1/state?policy=live", f.Token, "", &v)
	out := map[string]fixtureCDN{}
	for _, p := range v.Policies {
		for _, r := range p.Regions {
			for _, c := range r.CDNs {
				out[r.Name+"/"+c.Name] = c.fixtureCDN
			}
		}
	}
	return out
}

// awaitFixture waits until the engine shows what the fixture reports:
// the failing CDNs degraded, the silent one blind, the drains in force.
func awaitFixture(t *testing.T, f *fixtureRun) {
	t.Helper()
	await(t, "the fixture's states", 60*time.Second, func() bool {
		s := fixtureState(t, f)
		return s["us/fastly"].Status == "degraded" && s["us/edgio"].Status == "degraded" && s["jp/cloudfront"].Status == "degraded" &&
			s["br/lumen"].Blind && s["kr/akamai"].Status == "drained" && s["de/fastly"].Status == "healthy"
	})
}

// noHScroll is true when the page is no wider than the window.
const noHScroll = `document.documentElement.scrollWidth <= document.documentElement.clientWidth`

// overflowing names the outermost elements that reach past the window's
// right edge, for the failure message.
const overflowing = `(() => {
	const out = [];
	const walk = (el) => {
		for (const c of el.children) {
			const r = c.getBoundingClientRect();
			if (r.right > document.documentElement.clientWidth + 0.5 && r.width > 0) out.push(c.tagName.toLowerCase() + (c.id ? '#' + c.id : '') + (c.className && typeof c.className === 'string' ? '.' + c.className.split(' ').join('.') : '') + ' (right ' + Math.round(r.right) + ')');
			else if (getComputedStyle(c).overflowX === 'visible') walk(c); // a scroller clips what it holds
		}
	};
	walk(document.body);
	return out.slice(0, 12).join(', ');
})()`

// TestBrowserScale opens the live view on the event-scale fixture (issue
// 25) at 1280×800: the overview is in the first screen with the worst
// region first; the page is no wider than the window at 1280 and 1400 px
// and usable at 390 px; a pin to a drained CDN is refused in the dialog;
// the dry-run preview of a drain is the split the engine then publishes.
// Screenshots of the overview and of a chart with notes are kept.
func TestBrowserScale(t *testing.T) {
	b := newBrowser(t, 1280, 800)
	f := startFixture(t)
	awaitFixture(t, f)
	base := "http://" + f.HTTP

	b.step("a 1280×800 window", chromedp.EmulateViewport(1280, 800))
	b.open(base, f.Token)
	b.wait("72 rows and 12 tiles", `document.querySelectorAll('#regions tr[data-cdn]').length === 72 && document.querySelectorAll('#overview .tile').length === 12`)
	b.wait("us degraded, first", `document.querySelector('#overview .tile')?.dataset.region === 'us' && document.querySelector('#overview .tile').dataset.state === 'degraded'`)

	// The overview, every tile of it, is in the first screen.
	type box struct{ Top, Bottom, Left, Right, W, H float64 }
	ov := eval[box](b, `(() => { const r = document.getElementById('overview').getBoundingClientRect(); return { Top: r.top, Bottom: r.bottom, Left: r.left, Right: r.right, W: innerWidth, H: innerHeight }; })()`)
	t.Logf("1280×800: overview from y=%.0f to y=%.0f", ov.Top, ov.Bottom)
	if ov.Bottom > ov.H || ov.Top < 0 {
		t.Errorf("1280×800: the overview spans y=%.0f..%.0f, not within the first screen (%.0f px)", ov.Top, ov.Bottom, ov.H)
	}
	widths := map[int]int{}
	measure := func(w, h int) {
		t.Helper()
		b.step(fmt.Sprintf("a %d×%d window", w, h), chromedp.EmulateViewport(int64(w), int64(h)))
		b.wait(fmt.Sprintf("the layout at %d px", w), fmt.Sprintf(`innerWidth === %d`, w))
		sw := eval[int](b, `document.documentElement.scrollWidth`)
		widths[w] = sw
		t.Logf("%d px wide: the page is %d px wide", w, sw)
		if sw > w || !eval[bool](b, noHScroll) {
			t.Errorf("%d px wide: the page is %d px wide (clientWidth %d); sticking out: %s", w, sw, eval[int](b, `document.documentElement.clientWidth`), eval[string](b, overflowing))
		}
	}
	measure(1280, 800)
	b.shot("overview-1280")
	measure(1400, 900)
	b.step("back to 1280×800", chromedp.EmulateViewport(1280, 800))

	// A pin of kr to the drained akamai is refused in the dialog.
	b.step("pinning kr", chromedp.Click(chromedp.CSS(`#regions .region[data-region="kr"] button[data-act="pin"]`)),
		chromedp.Evaluate[chromedp.Void](`(() => { const s = document.getElementById('f-cdn'); s.value = 'akamai'; s.dispatchEvent(new Event('change', { bubbles: true })); })()`))
	b.wait("the pin refused", `document.getElementById('action-preview').dataset.state === 'blocked' && /akamai is drained/.test(document.querySelector('#action-preview .refused').textContent) && document.getElementById('action-ok').disabled && document.activeElement.id === 'action-cancel'`)
	b.step("cancelling the pin", chromedp.Click(chromedp.CSS(`#action-cancel`)))

	// Drain cloudflare in fr: the preview is what the engine publishes.
	b.step("clicking Drain on cloudflare in fr", chromedp.Click(chromedp.CSS(`#regions tr[data-region="fr"][data-cdn="cloudflare"] button[data-act="drain"]`)))
	b.wait("the drain's preview", `document.getElementById('action-preview').dataset.state === 'ok' && document.activeElement.id === 'action-cancel' && document.getElementById('f-reason').value === ''`)
	preview := eval[map[string]float64](b, `Object.fromEntries([...document.querySelectorAll('#action-preview tr[data-region="fr"]')].map((r) => [r.dataset.cdn, parseFloat(r.querySelector('td.after').textContent) / 100]))`)
	if preview["cloudflare"] != 0 || len(preview) < 5 {
		t.Errorf("drain preview for fr: %v", preview)
	}
	b.step("confirming the drain with a reason", chromedp.SendKeys(chromedp.CSS(`#f-reason`), "scale test: drain"), chromedp.Click(chromedp.CSS(`#action-ok`)))
	b.wait("cloudflare shown drained in fr", `document.querySelector('#regions tr[data-region="fr"][data-cdn="cloudflare"] td.status').textContent === 'drained'`)
	await(t, "the drain published", 20*time.Second, func() bool { return fixtureState(t, f)["fr/cloudflare"].Share == 0 })
	st := fixtureState(t, f)
	for cdn, want := range preview {
		if got := st["fr/"+cdn].Share; math.Abs(got-want) > 0.0015 {
			t.Errorf("fr %s: previewed %.4f, published %.4f", cdn, want, got)
		}
	}
	for _, c := range fixtureCDNs {
		if _, ok := preview[c]; !ok && st["fr/"+c].Share > 0 {
			t.Errorf("fr %s: not in the preview, published %.4f", c, st["fr/"+c].Share)
		}
	}

	b.wait("the drain in the change feed", `[...document.querySelectorAll('#feed li[data-kind="override"]:not([hidden]) .what')].some((e) => e.textContent === 'drain cloudflare in fr set by operator')`)

	browserCharts(t, b)
	browserCappedAxis(t, b)
	browserCue(t, b, f)
	browserWall(t, b)

	// At 390 px: the overview and the actions.
	measure(390, 844)
	b.step("to the top", chromedp.Evaluate[chromedp.Void](`window.scrollTo(0, 0)`))
	b.shot("overview-390")
	t.Logf("page widths: %v", widths)
}
