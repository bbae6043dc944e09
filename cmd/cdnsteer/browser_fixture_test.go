package main

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/cdnsteer/cdnsteer/zones"
)

// The live view at event scale (issue 25): 12 regions × 6 CDNs fed by
// pushed signals, as a RUM aggregator would feed them, with overrides in
// force and 30 notes on the timeline. Regions are named so that the
// worst (us) sorts late in the alphabet: a page in alphabetical order
// would show it several screens down.
var (
	fixtureRegions = []string{"ar", "au", "br", "ca", "de", "fr", "gb", "in", "jp", "kr", "us", "default"}
	fixtureCDNs    = []string{"akamai", "cloudflare", "cloudfront", "edgio", "fastly", "lumen"}
)

// fixtureRun is a running scale fixture.
type fixtureRun struct {
	started
	Token string
	Dir   string
	// faults are the (region/cdn) pairs the pusher reports failing;
	// fault adds one while the fixture runs.
	mu     sync.Mutex
	faults map[string]bool
	pushes atomic.Int64
}

// fault makes the pusher report cdn failing in region from its next push.
func (f *fixtureRun) fault(region, cdn string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.faults[region+"/"+cdn] = true
}

func (f *fixtureRun) failing(region, cdn string) bool {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.faults[region+"/"+cdn]
}

// fixturePolicy is the policy: no probes (every signal is pushed), an
// evaluation four times a second so that the test is quick, and no
// commits: the engine's capacity factor is a CDN's in the whole policy
// (a regional commit overrun shows it limited in every region), which
// would mark one CDN capacity-limited in all twelve tiles.
func fixturePolicy() string {
	var b strings.Builder
	b.WriteString("[server]\ndns = [\"127.0.0.1:0\"]\nhttp = \"127.0.0.1:0\"\nadmin_token_file = \"admin.token\"\ndecision_log = \"decisions.jsonl\"\n\n[regions]\n")
	for _, r := range fixtureRegions {
		if r == "default" {
			b.WriteString("default = [\"*\"]\n")
			continue
		}
		fmt.Fprintf(&b, "%s = [%q]\n", r, strings.ToUpper(r)) // each region one country of its name
	}
	for _, c := range fixtureCDNs {
		fmt.Fprintf(&b, "\n[cdn.%s]\ntarget = \"live.%s.example.net.\"\n", c, c)
	}
	b.WriteString("\n[policy.live]\nttl = 20\nevaluation_interval = \"250ms\"\nsignal_max_age = \"4s\"\n")
	for ri, r := range fixtureRegions {
		fmt.Fprintf(&b, "[policy.live.region.%s]\nweights = {", r)
		for ci, c := range fixtureCDNs {
			if ci > 0 {
				b.WriteString(",")
			}
			fmt.Fprintf(&b, " %s = %d", c, 10+(7*ri+11*ci)%30)
		}
		b.WriteString(" }\n")
	}
	b.WriteString("\n[[zone]]\norigin = \"live.example.com.\"\nns = [\"ns1.live.example.com.\"]\n" +
		"[[zone.record]]\nname = \"ns1\"\ntype = \"A\"\nvalue = \"192.0.2.53\"\n" +
		"[[zone.steer]]\nname = \"stream\"\npolicy = \"live\"\n")
	return b.String()
}

// startFixture runs the server on the fixture's policy in-process, pushes
// signals every 250 ms until the test ends and sets the overrides. What it reports:
//   - us: fastly and edgio failing (error rate 30 %, TTFB 1.5 s): degraded;
//   - jp: cloudfront failing: degraded;
//   - br: lumen reported for the first second only: blind after signal_max_age;
//   - ca: cloudflare never reported: not measured;
//   - kr and au: akamai drained (overrides); gb: split frozen;
//   - 30 notes, one every half second from the start;
//   - everything else healthy, with a little spread between CDNs.
func startFixture(t *testing.T) *fixtureRun {
	t.Helper()
	dir := t.TempDir()
	token := rand.Text()
	if err := os.WriteFile(filepath.Join(dir, "admin.token"), []byte("operator "+token+" write\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(dir, "policy.toml")
	if err := os.WriteFile(path, []byte(fixturePolicy()), 0o600); err != nil {
		t.Fatal(err)
	}
	snap, err := zones.Load(path)
	if err != nil {
		t.Fatalf("fixture policy: %v", err)
	}
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	ctx, cancel := context.WithCancel(context.Background())
	up := make(chan started, 1)
	done := make(chan error, 1)
	go func() { done <- runServer(ctx, snap, log, func(s started) { up <- s }) }()
	f := &fixtureRun{Token: token, Dir: dir, faults: map[string]bool{"us/fastly": true, "us/edgio": true, "jp/cloudfront": true}}
	select {
	case f.started = <-up:
	case err := <-done:
		cancel()
		t.Fatalf("fixture server stopped: %v", err)
	case <-time.After(20 * time.Second):
		cancel()
		t.Fatal("fixture server did not start")
	}
	pushDone := make(chan struct{})
	go func() { defer close(pushDone); f.push(ctx) }()
	t.Cleanup(func() {
		cancel()
		<-pushDone
		select {
		case err := <-done:
			if err != nil {
				t.Errorf("fixture server: %v", err)
			}
		case <-time.After(10 * time.Second):
			t.Error("fixture server did not stop within 10 s")
		}
	})
	await(t, "the first pushes", 20*time.Second, func() bool { return f.pushes.Load() >= 2 })

	for _, o := range []string{
		`{"action":"drain","policy":"live","region":"kr","cdn":"akamai","ttl":"4h","reason":"fixture: Akamai KR PoPs in maintenance"}`,
		`{"action":"drain","policy":"live","region":"au","cdn":"akamai","ttl":"4h","reason":"fixture: Akamai AU peering issue"}`,
		`{"action":"freeze","policy":"live","region":"gb","ttl":"4h","reason":"fixture: hold GB through the anthem"}`,
	} {
		if code := apiCall(t, f.HTTP, "POST", "/api/v1/overrides", token, o, nil); code != http.StatusCreated && code != http.StatusOK {
			t.Fatalf("fixture override %s: %d", o, code)
		}
	}
	return f
}

// push posts every reported CDN's signals in every region every 250 ms
// until ctx ends.
func (f *fixtureRun) push(ctx context.Context) {
	client := &http.Client{Timeout: 5 * time.Second}
	ticker := time.NewTicker(250 * time.Millisecond)
	defer ticker.Stop()
	start := time.Now()
	notes := 0
	for tick := 0; ; tick++ {
		var sigs []map[string]any
		for ri, r := range fixtureRegions {
			for ci, c := range fixtureCDNs {
				if r == "ca" && c == "cloudflare" || r == "br" && c == "lumen" && time.Since(start) > time.Second {
					continue
				}
				s := map[string]any{"cdn": c, "region": r, "samples": 1000,
					"ttfb_ms": 60 + float64((3*ri+5*ci)%40), "error_rate": 0.001 * float64(1+(ri+ci)%3), "cache_hit_ratio": 0.95 + 0.004*float64(ci%4)}
				if f.failing(r, c) {
					s["ttfb_ms"], s["error_rate"] = 1500, 0.3
				}
				sigs = append(sigs, s)
			}
		}
		body, _ := json.Marshal(map[string]any{"signals": sigs})
		if f.post(ctx, client, "/api/v1/signals", body) == http.StatusAccepted {
			f.pushes.Add(1)
		}
		// A note every other push, 30 in all: spread over the charts'
		// window, three tags taking turns.
		if notes < 30 && tick%2 == 1 {
			body := fmt.Sprintf(`{"text":"note %d: %s","tags":[%q]}`, notes+1,
				[]string{"kick-off", "Akamai ticket opened", "traffic peak", "goal", "half-time"}[notes%5], []string{"match", "cdn", "ops"}[notes%3])
			if f.post(ctx, client, "/api/v1/annotations", []byte(body)) == http.StatusCreated {
				notes++
			}
		}
		select {
		case <-ctx.Done():
			return
		case <-ticker.C:
		}
	}
}

// post sends body with the fixture's token and returns the status (0 when
// the request failed).
func (f *fixtureRun) post(ctx context.Context, client *http.Client, path string, body []byte) int {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, "http://"+f.HTTP+path, bytes.NewReader(body))
	if err != nil {
		return 0
	}
	req.Header.Set("Authorization", "Bearer "+f.Token)
	req.Header.Set("Content-Type", "application/json")
	res, err := client.Do(req)
	if err != nil {
		return 0
	}
	io.Copy(io.Discard, res.Body)
	res.Body.Close()
	return res.StatusCode
}
