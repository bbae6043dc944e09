package main

import (
	"bytes"
	"context"
	"image"
	"image/png"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
)

// chartBox is what the page says of one rendered chart.
type chartBox struct {
	ID    string  `json:"id"`
	W     float64 `json:"w"`
	H     float64 `json:"h"`
	Lines int     `json:"lines"` // drawn series: lines and areas with points
}

// TestReportChartsInChromium opens a report with every traffic section
// (the rehearsal's page) from its file in a real headless Chromium, with
// nothing else reachable: every chart of the file is laid out with a
// size and its series drawn, and the screenshot of the delivered traffic
// chart has each CDN's colour in it. scripts/report-test.sh runs it.
func TestReportChartsInChromium(t *testing.T) {
	bin := os.Getenv("CDNSTEER_CHROMIUM")
	if bin == "" {
		t.Skip("set CDNSTEER_CHROMIUM to a Chromium binary (scripts/report-test.sh does)")
	}
	ev := recordEvent(t, fixtureStart)
	dir := os.Getenv("CDNSTEER_ARTIFACTS")
	if dir == "" {
		dir = t.TempDir()
	}
	page := filepath.Join(dir, "rehearsal-report.html")
	var out, errOut bytes.Buffer
	if code := run([]string{"report", "-rehearsal", ev.dir, "-config", footballPolicy, "-scenario", ev.scenario, "-o", page}, &out, &errOut); code != 0 {
		t.Fatalf("report = %d: %s", code, errOut.String())
	}
	html, _ := os.ReadFile(page)
	want := bytes.Count(html, []byte(`<svg class="chart"`))

	actx, cancelAlloc := chromedp.NewExecAllocator(context.Background(),
		chromedp.ExecPath(bin), chromedp.Headless, chromedp.NoSandbox, chromedp.DisableGPU, chromedp.NoFirstRun,
		chromedp.Flag("disable-background-networking", true), chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true), chromedp.Flag("disable-dev-shm-usage", true),
		chromedp.UserDataDir(t.TempDir()), chromedp.WindowSize(1200, 1600))
	defer cancelAlloc()
	ctx, cancelTab := chromedp.NewContext(actx)
	defer cancelTab()
	ctx, cancel := context.WithTimeout(ctx, 90*time.Second)
	defer cancel()
	if err := chromedp.Do(ctx, chromedp.Navigate("file://"+page)); err != nil {
		t.Fatalf("opening %s: %v", page, err)
	}
	boxes, err := chromedp.Run(ctx, chromedp.Evaluate[[]chartBox](`[...document.querySelectorAll('svg.chart')].map((s) => {
		const r = s.getBoundingClientRect();
		const lines = [...s.querySelectorAll('path, polyline, polygon')].filter((p) => (p.getAttribute('d') || p.getAttribute('points') || '').length > 20).length;
		return { id: s.id, w: r.width, h: r.height, lines };
	})`))
	if err != nil {
		t.Fatal(err)
	}
	if len(boxes) != want || want < 5 {
		t.Errorf("%d charts laid out, the file has %d", len(boxes), want)
	}
	for _, b := range boxes {
		if b.W < 400 || b.H < 100 || b.Lines == 0 {
			t.Errorf("chart %s: %.0f×%.0f px, %d series drawn", b.ID, b.W, b.H, b.Lines)
		}
	}
	shot, err := chromedp.Run(ctx, chromedp.Screenshot(chromedp.CSS("#delivered-all")))
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "report-delivered-all.png"), shot, 0o644); err != nil {
		t.Fatal(err)
	}
	full, err := chromedp.Run(ctx, chromedp.FullScreenshot(100))
	if err == nil {
		os.WriteFile(filepath.Join(dir, "report.png"), full, 0o644)
	}
	img, err := png.Decode(bytes.NewReader(shot))
	if err != nil {
		t.Fatal(err)
	}
	// The palette's first four colours, the four CDNs in name order.
	for cdn, rgb := range map[string][3]uint8{"akamai": {0x1f, 0x77, 0xb4}, "cloudfront": {0xff, 0x7f, 0x0e}, "edgio": {0x2c, 0xa0, 0x2c}, "fastly": {0xd6, 0x27, 0x28}} {
		if n := pixelsNear(img, rgb); n < 200 {
			t.Errorf("the delivered chart shows %d pixels of %s's colour", n, cdn)
		}
	}
}

// pixelsNear counts the pixels within a small distance of a colour.
func pixelsNear(img image.Image, rgb [3]uint8) int {
	n := 0
	b := img.Bounds()
	for y := b.Min.Y; y < b.Max.Y; y++ {
		for x := b.Min.X; x < b.Max.X; x++ {
			r, g, bl, _ := img.At(x, y).RGBA()
			d := abs(int(r>>8)-int(rgb[0])) + abs(int(g>>8)-int(rgb[1])) + abs(int(bl>>8)-int(rgb[2]))
			if d < 40 {
				n++
			}
		}
	}
	return n
}

func abs(x int) int {
	if x < 0 {
		return -x
	}
	return x
}
