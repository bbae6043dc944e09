package main

import (
	"bytes"
	"encoding/csv"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// demoAudienceGbps is the audience each demo region is assumed to watch:
// the demo has no viewers of its own, so the recorded event's delivered
// Gbit/s is each CDN's share of the region's answers (cdnsteer_cdn_share,
// scraped) times this. It follows the split at once, where real traffic
// follows it by the answers' TTL and the sessions' length.
const demoAudienceGbps = 100

// TestReportOfARecordedDemoEvent records a short real event: the demo
// (its edges, probes and nameserver, without the player site and ffmpeg)
// answering DNS queries, a real Prometheus scraping its /metrics every
// second, fastly's edge broken through the demo's API for 40 s and healed.
// Then `cdnsteer report` over the demo's decision log and that Prometheus
// must render every section the event feeds: traffic, answers and the
// degradation with the traffic left on fastly a minute later. About two
// minutes; scripts/report-test.sh runs it.
func TestReportOfARecordedDemoEvent(t *testing.T) {
	bin := os.Getenv("CDNSTEER_PROMETHEUS")
	if bin == "" {
		t.Skip("set CDNSTEER_PROMETHEUS=/usr/bin/prometheus (scripts/report-test.sh does)")
	}
	dm := startRecordedDemo(t)
	prom := promScraping(t, bin, dm.HTTP)
	dnsAddr := dm.DNS[0]
	// Viewers asking: a bounded burst of resolutions from both regions
	// every half second while the event runs.
	ask := func(d time.Duration) {
		for end := time.Now().Add(d); time.Now().Before(end); {
			cdnSpread(t, dnsAddr, 20, worldwide)
			cdnSpread(t, dnsAddr, 20, korea)
			time.Sleep(500 * time.Millisecond)
		}
	}
	from := time.Now().UTC().Truncate(time.Second)
	ask(30 * time.Second)

	if code := api(t, dm, "POST", "/api/v1/demo/edges/fastly", dm.Token, `{"error_rate":1}`, nil); code != http.StatusOK {
		t.Fatalf("breaking fastly's edge: %d", code)
	}
	broke := time.Now()
	await(t, "fastly degraded", 30*time.Second, func() bool {
		cdnSpread(t, dnsAddr, 20, worldwide)
		st, _ := stateOf(t, dm, "default", "fastly")
		return st == "degraded"
	})
	ask(40*time.Second - time.Since(broke))
	if code := api(t, dm, "POST", "/api/v1/demo/edges/fastly", dm.Token, `{"error_rate":0}`, nil); code != http.StatusOK {
		t.Fatalf("healing fastly's edge: %d", code)
	}
	healed := time.Now()
	// The range runs on past a minute after the degradation, plus a
	// step, so that the one-minute value has a point.
	ask(time.Until(broke.Add(90 * time.Second)))
	to := time.Now().UTC().Truncate(time.Second)
	// The last scrape of the range is in before the report asks.
	await(t, "Prometheus to hold the range's last scrape", 20*time.Second, func() bool {
		return promHas(t, prom, fmt.Sprintf("count(timestamp(cdnsteer_cdn_share) >= %d)", to.Unix()))
	})
	t.Logf("recorded %s: fastly broken at +%s, healed at +%s", to.Sub(from), broke.Sub(from).Round(time.Second), healed.Sub(from).Round(time.Second))

	outDir := os.Getenv("CDNSTEER_ARTIFACTS")
	if outDir == "" {
		outDir = t.TempDir()
	}
	page := filepath.Join(outDir, "demo-event.html")
	var out, errOut bytes.Buffer
	args := []string{"report", "-log", filepath.Join(dm.Dir, "decisions.jsonl"), "-prometheus", prom,
		"-from", from.Format(time.RFC3339), "-to", to.Format(time.RFC3339), "-config", filepath.Join(dm.Dir, "demo.toml"),
		"-delivered", fmt.Sprintf("max by (region, cdn) (cdnsteer_cdn_share) * %d", demoAudienceGbps), "-o", page}
	if code := run(args, &out, &errOut); code != 0 {
		t.Fatalf("report = %d: %s", code, errOut.String())
	}
	t.Logf("report: %s", out.String())
	for _, sec := range []string{"traffic", "answers", "degradations"} {
		if strings.Contains(out.String(), sec+": missing:") {
			t.Errorf("section %s missing:\n%s", sec, out.String())
		}
	}
	html, _ := os.ReadFile(page)
	for _, want := range []string{`id="delivered-all"`, `id="delivered-default"`, `id="delivered-kr"`, `id="answers-rate"`, `id="degradation-table"`} {
		if !bytes.Contains(html, []byte(want)) {
			t.Errorf("report lacks %s", want)
		}
	}

	_, answers := readTable(t, page, "answers-table", 1)
	for _, cdn := range demoCDNs {
		if row := answers[cdn]; row == nil || cellNum(t, row[1]) <= 0 {
			t.Errorf("answers table: %s has %v, want answers", cdn, row)
		}
	}
	// fastly's degradation in each region: the split moved, and a minute
	// later the traffic left on it is measured and below what it had.
	head, rows := csvRows(t, strings.TrimSuffix(page, ".html")+"-degradation-table.csv")
	if len(head) < 8 || head[7] != "after 1 min 00 s" {
		t.Fatalf("degradation table head %q", head)
	}
	seen := map[string]bool{}
	for _, r := range rows {
		if r[2] != "fastly" || seen[r[1]] {
			continue
		}
		seen[r[1]] = true
		t.Logf("fastly degraded in %s at %s: split moved at %s (%s), %s Gbit/s before, %s one minute later", r[1], r[0], r[3], r[5], r[6], r[7])
		if r[3] == "not moved" {
			t.Errorf("%s: the split never moved off fastly: %q", r[1], r)
			continue
		}
		if r[6] == "—" || r[7] == "—" {
			t.Errorf("%s: no delivered value before or a minute after: %q", r[1], r)
			continue
		}
		if before, after := cellNum(t, r[6]), cellNum(t, r[7]); before <= 0 || after >= before {
			t.Errorf("%s: %.1f Gbit/s on fastly before, %.1f a minute later: want some, then less", r[1], before, after)
		}
	}
	for _, region := range []string{"default", "kr"} {
		if !seen[region] {
			t.Errorf("degradation table has no fastly row for %s: %q", region, rows)
		}
	}
}

// startRecordedDemo is the demo at its own timing (probes and evaluations
// every second), without the player site, on ephemeral loopback ports.
func startRecordedDemo(t *testing.T) demoRun {
	t.Helper()
	cfg := demoConfig{DNS: "127.0.0.1:0", HTTP: "127.0.0.1:0", ProbeInterval: time.Second, EvalInterval: time.Second}
	return startDemoWith(t, cfg, io.Discard, testLog(slog.LevelWarn))
}

// promScraping is a real Prometheus on loopback scraping target's
// /metrics every second (open without a token on loopback), with temp
// storage; the test ends it. It returns once the target is up.
func promScraping(t *testing.T, bin, target string) string {
	t.Helper()
	dir := t.TempDir()
	yml := fmt.Sprintf("global:\n  scrape_interval: 1s\n  scrape_timeout: 1s\nscrape_configs:\n  - job_name: cdnsteer-demo\n    static_configs:\n      - targets: [%q]\n", target)
	url := startPrometheus(t, bin, dir, yml, filepath.Join(dir, "data"))
	await(t, "Prometheus scraping the demo", 30*time.Second, func() bool {
		return promHas(t, url, `up{job="cdnsteer-demo"} == 1`)
	})
	return url
}

// promHas says whether an instant query returns at least one sample.
func promHas(t *testing.T, base, expr string) bool {
	t.Helper()
	client := &http.Client{Timeout: 5 * time.Second}
	resp, err := client.Get(base + "/api/v1/query?query=" + url.QueryEscape(expr))
	if err != nil {
		return false
	}
	defer resp.Body.Close()
	var v struct {
		Data struct {
			Result []json.RawMessage `json:"result"`
		} `json:"data"`
	}
	if resp.StatusCode != http.StatusOK || json.NewDecoder(resp.Body).Decode(&v) != nil {
		return false
	}
	return len(v.Data.Result) > 0
}

// csvRows reads a CSV table: its head and rows.
func csvRows(t *testing.T, path string) ([]string, [][]string) {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	recs, err := csv.NewReader(bytes.NewReader(b)).ReadAll()
	if err != nil || len(recs) == 0 {
		t.Fatalf("%s: %v", path, err)
	}
	return recs[0], recs[1:]
}
