package sim

import (
	"bufio"
	"encoding/json"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/cdnsteer/cdnsteer/health"
	"github.com/cdnsteer/cdnsteer/zones"
)

// replayPolicy is a two-CDN policy; score is its [policy.live.score]
// table.
func replayPolicy(t *testing.T, score string) *zones.Snapshot {
	t.Helper()
	doc := `
[regions]
kr = ["KR"]
default = ["*"]
[cdn.akamai]
target = "akamai.example.net."
[cdn.fastly]
target = "fastly.example.net."
[policy.live]
evaluation_interval = "1s"
` + score + `
[policy.live.region.default]
weights = { akamai = 50, fastly = 50 }
[[zone]]
origin = "live.example.com."
ns = ["ns1.elsewhere.example."]
[[zone.steer]]
name = "stream"
policy = "live"
`
	snap, err := zones.Parse(filepath.Join(t.TempDir(), "candidate.toml"), []byte(doc))
	if err != nil {
		t.Fatal(err)
	}
	return snap
}

// tightTTFB counts TTFB for everything, good at 100 ms and worthless at
// 400: a candidate far stricter than the defaults (200 and 1000).
const tightTTFB = "[policy.live.score]\nttfb = { weight = 1, good = 100, bad = 400 }\n"

var replayT0 = time.Date(2026, 6, 14, 19, 0, 0, 0, time.UTC)

// recordSignals runs an engine on snap with the real signal log writer
// for n seconds: every second akamai answers in 150 ms and fastly, in
// Korea, in 450 ms, each with a few errors. It returns the log's path.
func recordSignals(t *testing.T, snap *zones.Snapshot, n int) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "signals.jsonl")
	arrive := replayT0
	l, err := health.OpenSignalLog(health.SignalLogConfig{Path: path}, func() time.Time { return arrive }, prometheus.NewRegistry(), slog.New(slog.NewTextHandler(io.Discard, nil)))
	if err != nil {
		t.Fatal(err)
	}
	e := health.NewEngine(snap.Health(), nil)
	e.SetSignalLog(l)
	for i := range n {
		arrive = replayT0.Add(time.Duration(i) * time.Second)
		measured := arrive.Add(-300 * time.Millisecond)
		e.Push(
			health.Signal{CDN: "akamai", Time: measured, Samples: 500, Source: health.SourcePush, Values: health.Values{health.TTFB: health.F(150), health.ErrorRate: health.F(0.002), health.CacheHit: health.F(0.97)}},
			health.Signal{CDN: "fastly", Region: "kr", Time: measured, Samples: 300, Source: health.SourcePush, Values: health.Values{health.TTFB: health.F(450), health.ErrorRate: health.F(0.004), health.CacheHit: health.F(0.96)}},
			health.Signal{CDN: "fastly", Time: measured, Source: health.SourceProbe, Values: health.Values{health.TTFB: health.F(120), health.ErrorRate: health.F(0)}},
		)
		e.Evaluate(arrive)
	}
	if err := l.Close(); err != nil {
		t.Fatal(err)
	}
	return path
}

func findCDN(s ReplaySummary, region, cdn string) ReplayCDNSummary {
	for _, c := range s.CDNs {
		if c.Region == region && c.CDN == cdn {
			return c
		}
	}
	return ReplayCDNSummary{}
}

// TestReplayCandidateDecidesOtherwise records ten minutes of signals
// under the default scoring, then replays them through the same policy
// and through a candidate with a tight TTFB bound: the original keeps
// fastly in Korea healthy, the candidate degrades it there (and only
// there) and moves its share away.
func TestReplayCandidateDecidesOtherwise(t *testing.T) {
	original := replayPolicy(t, "")
	log := recordSignals(t, original, 600)

	same, err := Replay(original, []string{log})
	if err != nil {
		t.Fatal(err)
	}
	cand, err := Replay(replayPolicy(t, tightTTFB), []string{log})
	if err != nil {
		t.Fatal(err)
	}
	so, sc := same.Summary(), cand.Summary()
	if so.Signals != 1800 || so.Evaluations != 601 || !so.Start.Equal(replayT0) || !so.End.Equal(replayT0.Add(600*time.Second)) {
		t.Errorf("replay covered %d signals, %d evaluations, %s to %s; want 1800, 601, 19:00:00 to 19:10:00", so.Signals, so.Evaluations, so.Start, so.End)
	}
	if so.Degradations != 0 {
		t.Errorf("the original policy degraded %d times on signals it took as healthy", so.Degradations)
	}
	kr, eu := findCDN(sc, "kr", "fastly"), findCDN(sc, "default", "fastly")
	if kr.Degradations != 1 || kr.DegradedS < 590 || kr.LowestShare != 0 {
		t.Errorf("candidate, fastly in kr: %+v; want degraded once, from the first seconds on, share 0", kr)
	}
	if eu.Degradations != 0 || eu.LowestShare < 0.45 {
		t.Errorf("candidate, fastly elsewhere: %+v; want healthy at about half the traffic (its probe says 120 ms)", eu)
	}
	if o := findCDN(so, "kr", "fastly"); o.LowestShare < 0.45 {
		t.Errorf("original, fastly in kr: %+v; want about half the traffic throughout", o)
	}
	if len(cand.States) != 11*2*2 {
		t.Errorf("%d states, want a state per minute (11) per region and CDN", len(cand.States))
	}

	dir := t.TempDir()
	if err := cand.Write(dir); err != nil {
		t.Fatal(err)
	}
	for _, name := range []string{FileDecisions, FileStatesCSV, FileSummary, FileReport} {
		if fi, err := os.Stat(filepath.Join(dir, name)); err != nil || fi.Size() == 0 {
			t.Errorf("%s: %v", name, err)
		}
	}
	b, _ := os.ReadFile(filepath.Join(dir, FileStatesCSV))
	head, _, _ := strings.Cut(string(b), "\n")
	if head != "time,policy,region,cdn,status,score,weight,share,failed_open,stale,utilisation,capacity_factor,"+strings.Join(kindKeys(), ",") {
		t.Errorf("states.csv head: %s", head)
	}
	if !strings.Contains(string(b), "2026-06-14T19:10:00Z,live,kr,fastly,degraded,") {
		t.Errorf("states.csv has no degraded fastly in kr at the end:\n%s", b)
	}
}

// TestReplayRotatedFiles: a log split by rotation replays as one when
// its files are given oldest first, and is refused newest first.
func TestReplayRotatedFiles(t *testing.T) {
	snap := replayPolicy(t, tightTTFB)
	log := recordSignals(t, snap, 300)
	b, err := os.ReadFile(log)
	if err != nil {
		t.Fatal(err)
	}
	lines := strings.SplitAfter(string(b), "\n")
	older, newer := log+".1", log
	os.WriteFile(older, []byte(strings.Join(lines[:450], "")), 0o644)
	os.WriteFile(newer, []byte(strings.Join(lines[450:], "")), 0o644)

	whole, err := Replay(snap, []string{older, newer})
	if err != nil {
		t.Fatal(err)
	}
	if whole.Signals != 900 || whole.Summary().Degradations != 1 {
		t.Errorf("two files: %d signals, %d degradations; want 900 and 1", whole.Signals, whole.Summary().Degradations)
	}
	_, err = Replay(snap, []string{newer, older})
	want := older + ":1: arrived at 2026-06-14T19:00:00Z, 4m59s before the signal at " + newer + ":448: give a log's rotated files oldest first (signals.jsonl.2 signals.jsonl.1 signals.jsonl)"
	if err == nil || err.Error() != want {
		t.Errorf("newest first: %v\nwant: %s", err, want)
	}
}

// TestReplayErrors: a log that does not fit the candidate is refused
// with every problem at its FILE:LINE; a torn line (a crash, a full disk)
// is skipped and counted.
func TestReplayErrors(t *testing.T) {
	snap := replayPolicy(t, "")
	const good = `{"time":"2026-06-14T19:00:00Z","measured":"2026-06-14T19:00:00Z","cdn":"akamai","values":{"ttfb_ms":100}}`
	cases := []struct {
		name  string
		lines []string
		want  string
	}{
		{"another policy's CDN", []string{good, `{"time":"2026-06-14T19:00:01Z","cdn":"edgio","values":{"ttfb_ms":100}}`, good, `{"time":"2026-06-14T19:00:02Z","cdn":"edgio","values":{"ttfb_ms":90}}`},
			`F:2: cdn "edgio" is not in the policy (its CDNs: akamai, fastly); 2 lines name it, the first here`},
		{"another policy's region", []string{`{"time":"2026-06-14T19:00:01Z","cdn":"akamai","region":"jp","values":{"error_rate":0.1}}`},
			`F:1: region "jp" is not in the policy (its regions: default, kr)`},
		{"unknown kind", []string{good, `{"time":"2026-06-14T19:00:01Z","cdn":"akamai","values":{"stalls":0.1}}`},
			`F:2: values.stalls: unknown signal kind (kinds: ` + strings.Join(kindKeys(), ", ") + `)`},
		{"value out of range", []string{`{"time":"2026-06-14T19:00:01Z","cdn":"akamai","values":{"error_rate":1.5}}`},
			`F:1: values.error_rate: 1.5 is outside 0..1`},
		{"no values", []string{`{"time":"2026-06-14T19:00:01Z","cdn":"akamai","values":{}}`},
			`F:1: signals: a signal needs at least one of ` + strings.Join(kindKeys(), ", ")},
		{"no time", []string{`{"cdn":"akamai","values":{"ttfb_ms":1}}`},
			`F:1: time is missing: a replay feeds each signal at the time it arrived`},
		{"a decision log", []string{`{"time":"2026-06-14T19:00:01Z","kind":"reload","reason":"1 policies"}`},
			`F:1: not a signal log line: unknown field "kind"`},
		{"several", []string{`{"time":"2026-06-14T19:00:01Z","cdn":"edgio","values":{"ttfb_ms":1}}`, `{"time":"2026-06-14T19:00:01Z","cdn":"akamai","samples":-1,"values":{"ttfb_ms":1}}`},
			"F:1: cdn \"edgio\" is not in the policy (its CDNs: akamai, fastly)\nF:2: samples: must be >= 0"},
		{"nothing", []string{""}, `replay: [F] holds no signals`},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "signals.jsonl")
			os.WriteFile(path, []byte(strings.Join(tc.lines, "\n")+"\n"), 0o644)
			_, err := Replay(snap, []string{path})
			if err == nil {
				t.Fatal("accepted")
			}
			if got := strings.ReplaceAll(err.Error(), path, "F"); got != tc.want {
				t.Errorf("error:\n%s\nwant:\n%s", got, tc.want)
			}
		})
	}

	path := filepath.Join(t.TempDir(), "signals.jsonl")
	os.WriteFile(path, []byte(good+"\n"+`{"time":"2026-06-14T19:0`+"\n"+good+"\n"), 0o644)
	res, err := Replay(snap, []string{path})
	if err != nil {
		t.Fatal(err)
	}
	if res.Signals != 2 || res.Torn != 1 || res.FirstTorn != path+":2" {
		t.Errorf("torn line: %d signals, %d torn at %s; want 2, 1 at line 2", res.Signals, res.Torn, res.FirstTorn)
	}
}

// BenchmarkReplay3h replays three hours of signals through the football
// policy: every second, TTFB, errors and cache hits for each of its 4
// CDNs in each of its 6 regions and each CDN's throughput, 302,400
// lines; 10,800 evaluations.
//
//	go test -run - -bench Replay3h -benchtime 3x -cpu 1 ./sim
func BenchmarkReplay3h(b *testing.B) {
	snap, err := zones.Load("../zones/examples/football.toml")
	if err != nil {
		b.Fatal(err)
	}
	cfg := snap.Health()
	path := filepath.Join(b.TempDir(), "signals.jsonl")
	f, err := os.Create(path)
	if err != nil {
		b.Fatal(err)
	}
	w := bufio.NewWriter(f)
	enc := json.NewEncoder(w)
	for s := range 3 * 3600 {
		at := replayT0.Add(time.Duration(s) * time.Second)
		for ci, c := range cfg.CDNs {
			for _, r := range cfg.Regions {
				ttfb := 120 + float64((s+ci*37)%90)
				enc.Encode(health.Record(health.Signal{CDN: c.Name, Region: r, Time: at, Samples: 400, Source: health.SourcePush,
					Values: health.Values{health.TTFB: &ttfb, health.ErrorRate: health.F(0.003), health.CacheHit: health.F(0.97)}}, at))
			}
			enc.Encode(health.Record(health.Signal{CDN: c.Name, Time: at, Source: health.SourcePrometheus,
				Values: health.Values{health.Throughput: health.F(c.CommitGbps * 0.6)}}, at))
		}
	}
	if err := w.Flush(); err != nil {
		b.Fatal(err)
	}
	f.Close()
	b.ResetTimer()
	for b.Loop() {
		res, err := Replay(snap, []string{path})
		if err != nil {
			b.Fatal(err)
		}
		if res.Signals != 3*3600*len(cfg.CDNs)*(len(cfg.Regions)+1) {
			b.Fatalf("%d signals", res.Signals)
		}
	}
}
