package main

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	cdplog "github.com/chromedp/cdproto/log"
	"github.com/chromedp/cdproto/runtime"
	"github.com/chromedp/chromedp"
)

// browser is a headless Chromium tab for a live-view test: script errors
// and CSP violations fail the test; step and wait report what they were
// doing and keep a screenshot when they fail.
type browser struct {
	t   *testing.T
	ctx context.Context
}

// newBrowser starts Chromium (CDNSTEER_CHROMIUM; the test is skipped
// without it, as the other browser tests are) with a window of w×h.
func newBrowser(t *testing.T, w, h int) *browser {
	t.Helper()
	bin := os.Getenv("CDNSTEER_CHROMIUM")
	if bin == "" {
		t.Skip("set CDNSTEER_CHROMIUM to a Chromium binary to run the browser test (scripts/browser-test.sh)")
	}
	if _, err := os.Stat(bin); err != nil {
		t.Fatalf("CDNSTEER_CHROMIUM=%s: %v", bin, err)
	}
	actx, cancelAlloc := chromedp.NewExecAllocator(context.Background(),
		chromedp.ExecPath(bin), chromedp.Headless, chromedp.NoSandbox, chromedp.DisableGPU, chromedp.NoFirstRun,
		chromedp.Flag("disable-quic", true), chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true), chromedp.Flag("disable-sync", true),
		chromedp.Flag("disable-dev-shm-usage", true), chromedp.UserDataDir(t.TempDir()), chromedp.WindowSize(w, h))
	ctx, cancelTab := chromedp.NewContext(actx)
	ctx, cancel := context.WithTimeout(ctx, 4*time.Minute)
	t.Cleanup(func() { cancel(); cancelTab(); cancelAlloc() })

	var mu sync.Mutex
	var pageErrors []string
	if err := chromedp.Listen(ctx, func(ev any) {
		mu.Lock()
		defer mu.Unlock()
		switch ev := ev.(type) {
		case *runtime.EventExceptionThrown:
			pageErrors = append(pageErrors, "exception: "+ev.ExceptionDetails.Text+" "+exceptionDescription(ev))
		case *cdplog.EventEntryAdded:
			if ev.Entry.Level == cdplog.EntryLevelError && ev.Entry.Source != cdplog.EntrySourceNetwork {
				pageErrors = append(pageErrors, string(ev.Entry.Source)+": "+ev.Entry.Text)
			}
		}
	}); err != nil {
		t.Fatalf("starting %s: %v", bin, err)
	}
	if _, err := chromedp.Call(ctx, cdplog.Enable, struct{}{}); err != nil {
		t.Fatalf("log domain: %v", err)
	}
	t.Cleanup(func() {
		mu.Lock()
		defer mu.Unlock()
		for _, e := range pageErrors {
			t.Errorf("page error: %s", e)
		}
	})
	return &browser{t: t, ctx: ctx}
}

func (b *browser) step(what string, actions ...chromedp.Action[chromedp.Void]) {
	b.t.Helper()
	t0 := time.Now()
	if err := chromedp.Do(b.ctx, actions...); err != nil {
		screenshot(b.t, b.ctx, "failed-"+slug(b.t.Name()))
		b.t.Fatalf("%s: %v", what, err)
	}
	b.t.Logf("%s: %s", what, time.Since(t0).Round(time.Millisecond))
}

// wait polls js until it is true (generous: the machine is shared).
func (b *browser) wait(what, js string) {
	b.t.Helper()
	t0 := time.Now()
	if _, err := chromedp.Run(b.ctx, chromedp.Poll[bool](js, chromedp.WithPollingInterval(100*time.Millisecond), chromedp.WithPollingTimeout(40*time.Second))); err != nil {
		screenshot(b.t, b.ctx, "failed-"+slug(b.t.Name()))
		b.t.Fatalf("waiting for %s: %v", what, err)
	}
	b.t.Logf("%s: %s", what, time.Since(t0).Round(time.Millisecond))
}

// eval runs js in the page and decodes its value into T.
func eval[T any](b *browser, js string) T {
	b.t.Helper()
	v, err := chromedp.Run(b.ctx, chromedp.Evaluate[T](js))
	if err != nil {
		b.t.Fatalf("evaluating %s: %v", js, err)
	}
	return v
}

// open loads the live view at base with token kept for the tab, as the
// page keeps one once entered: whether reads need a token or not, the
// page starts without a dialog.
func (b *browser) open(base, token string) {
	b.t.Helper()
	b.step("opening the server's origin", chromedp.Navigate(base+"/ui/app.css"))
	b.step("keeping the token", chromedp.Evaluate[chromedp.Void](`sessionStorage.setItem('cdnsteer.admin-token', `+jsString(token)+`)`))
	b.step("opening the live view", chromedp.Navigate(base+"/"))
}

// shot saves the viewport (not the whole page) to the artefacts.
func (b *browser) shot(name string) {
	b.t.Helper()
	buf, err := chromedp.Run(b.ctx, chromedp.CaptureScreenshot())
	if err != nil {
		b.t.Errorf("screenshot %s: %v", name, err)
		return
	}
	saveArtefact(b.t, name+".png", buf)
}

// shotOf saves one element, found by a CSS selector.
func (b *browser) shotOf(name, sel string) {
	b.t.Helper()
	buf, err := chromedp.Run(b.ctx, chromedp.Screenshot(chromedp.CSS(sel)))
	if err != nil {
		b.t.Errorf("screenshot %s of %s: %v", name, sel, err)
		return
	}
	saveArtefact(b.t, name+".png", buf)
}

// saveArtefact writes to $CDNSTEER_ARTIFACTS (CI keeps the folder) or the
// test's temporary folder.
func saveArtefact(t *testing.T, name string, buf []byte) {
	t.Helper()
	dir := os.Getenv("CDNSTEER_ARTIFACTS")
	if dir == "" {
		dir = t.TempDir()
	} else if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Errorf("artifacts folder: %v", err)
		return
	}
	path := filepath.Join(dir, name)
	if err := os.WriteFile(path, buf, 0o644); err != nil {
		t.Errorf("artefact: %v", err)
		return
	}
	t.Logf("artefact: %s (%d bytes)", path, len(buf))
}

func slug(s string) string { return strings.NewReplacer("/", "-", " ", "-").Replace(s) }

func jsString(s string) string {
	return "'" + strings.NewReplacer(`\`, `\\`, `'`, `\'`).Replace(s) + "'"
}
