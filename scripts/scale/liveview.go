package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"time"

	"github.com/chromedp/chromedp"
)

// liveviewCmd opens the live view in headless Chromium and prints the
// seconds from navigation to the page showing the server's state: the
// connection marked live and a card per region drawn. It also prints the
// bytes the page transferred (JS heap excluded), as the browser counts
// them.
func liveviewCmd(args []string) error {
	fs := flag.NewFlagSet("liveview", flag.ContinueOnError)
	url := fs.String("url", "", "the live view's URL")
	bin := fs.String("chromium", "/usr/bin/chromium", "browser binary")
	timeout := fs.Duration("timeout", 60*time.Second, "give up after")
	if err := fs.Parse(args); err != nil {
		return err
	}
	dir, err := os.MkdirTemp("", "scale-chromium")
	if err != nil {
		return err
	}
	defer os.RemoveAll(dir)
	actx, cancelAlloc := chromedp.NewExecAllocator(context.Background(),
		chromedp.ExecPath(*bin), chromedp.Headless, chromedp.NoSandbox, chromedp.DisableGPU, chromedp.NoFirstRun,
		chromedp.Flag("disable-quic", true), chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true), chromedp.Flag("disable-sync", true),
		chromedp.Flag("disable-dev-shm-usage", true), chromedp.UserDataDir(dir), chromedp.WindowSize(1400, 1800))
	defer cancelAlloc()
	ctx, cancelTab := chromedp.NewContext(actx)
	defer cancelTab()
	ctx, cancel := context.WithTimeout(ctx, *timeout)
	defer cancel()
	// The browser starts before the clock does.
	if err := chromedp.Do(ctx, chromedp.Navigate("about:blank")); err != nil {
		return fmt.Errorf("starting %s: %w", *bin, err)
	}
	t0 := time.Now()
	if err := chromedp.Do(ctx, chromedp.Navigate(*url)); err != nil {
		return err
	}
	const ready = `document.getElementById('conn').dataset.state === 'live' && document.querySelectorAll('#regions .region').length > 0`
	if _, err := chromedp.Run(ctx, chromedp.Poll[bool](ready, chromedp.WithPollingInterval(20*time.Millisecond))); err != nil {
		return fmt.Errorf("waiting for the page to show the state: %w", err)
	}
	took := time.Since(t0)
	bytes, err := chromedp.Run(ctx, chromedp.Evaluate[float64](`performance.getEntriesByType('resource').reduce((s, e) => s + e.transferSize, 0)`))
	if err != nil {
		return err
	}
	fmt.Printf("%.3f %.0f\n", took.Seconds(), bytes)
	return nil
}
