package main

import (
	"fmt"
	"os"
	"strings"
	"testing"

	"github.com/chromedp/chromedp"
)

// axeViolation is one rule axe-core found broken, with the elements.
type axeViolation struct {
	ID, Impact, Help string
	Nodes            []struct{ Target []any }
}

// TestBrowserA11y runs axe-core (CDNSTEER_AXE: axe.min.js from web/a11y,
// installed by scripts/browser-test.sh with npm ci) on the live view of
// the scale fixture: the page, the pin dialog open over it, and wall
// mode. A serious or critical violation fails the test; the others are
// logged.
func TestBrowserA11y(t *testing.T) {
	path := os.Getenv("CDNSTEER_AXE")
	if path == "" && os.Getenv("CDNSTEER_CHROMIUM") != "" {
		// A browser run without axe would pass with no accessibility check.
		t.Fatal("set CDNSTEER_AXE to axe-core's axe.min.js (npm ci in web/a11y; scripts/browser-test.sh does both)")
	}
	b := newBrowser(t, 1280, 800)
	src, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("CDNSTEER_AXE: %v", err)
	}
	f := startFixture(t)
	awaitFixture(t, f)
	b.step("a 1280×800 window", chromedp.EmulateViewport(1280, 800))
	b.open("http://"+f.HTTP, f.Token)
	b.wait("the fixture drawn", `document.querySelectorAll('#regions tr[data-cdn]').length === 72 && document.querySelectorAll('#feed li[data-kind]:not([hidden])').length > 0 &&
		document.querySelectorAll('#charts svg path.area[d^="M"]').length > 0`)
	// axe-core goes in as DevTools evaluates it: the page's CSP allows no
	// script but its own, and the page is not changed for the test.
	b.step("injecting axe-core", chromedp.Evaluate[chromedp.Void](string(src)))
	version := eval[string](b, `axe.version`)
	t.Logf("axe-core %s", version)

	check := func(what string) {
		t.Helper()
		vs, err := chromedp.Run(b.ctx, chromedp.Evaluate[[]axeViolation](`axe.run(document, { resultTypes: ['violations'] }).then((r) => r.violations)`, chromedp.EvalAwaitPromise))
		if err != nil {
			t.Fatalf("axe-core on %s: %v", what, err)
		}
		serious := 0
		for _, v := range vs {
			var targets []string
			for i, n := range v.Nodes {
				if i == 4 {
					targets = append(targets, fmt.Sprintf("… %d in all", len(v.Nodes)))
					break
				}
				targets = append(targets, fmt.Sprint(n.Target...))
			}
			line := fmt.Sprintf("%s: %s [%s] %s: %s", what, v.ID, v.Impact, v.Help, strings.Join(targets, "; "))
			if v.Impact == "serious" || v.Impact == "critical" {
				serious++
				t.Error(line)
			} else {
				t.Log(line)
			}
		}
		t.Logf("axe-core %s on %s: %d violations, %d serious or critical", version, what, len(vs), serious)
	}
	check("the live view")

	b.step("opening the pin dialog of kr", chromedp.Click(chromedp.CSS(`#regions .region[data-region="kr"] button[data-act="pin"]`)))
	b.wait("its preview", `document.getElementById('action-preview').dataset.state === 'ok' || document.getElementById('action-preview').dataset.state === 'blocked'`)
	check("the pin dialog")
	b.step("cancelling", chromedp.Click(chromedp.CSS(`#action-cancel`)))

	b.step("wall mode", chromedp.Evaluate[chromedp.Void](`location.hash = 'wall'`))
	b.wait("wall mode on", `document.documentElement.classList.contains('wall')`)
	check("wall mode")
}
