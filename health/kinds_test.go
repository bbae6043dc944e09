package health

import (
	"encoding/json"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/cdnsteer/cdnsteer/internal/keyerr"
)

// Every row of the kinds table must be usable by everything that
// iterates over it: distinct names, a range, defaults that validate, a
// source, and a stand-in that points at a kind scored in its own right.
func TestKindsTable(t *testing.T) {
	keys, scoreKeys := map[string]bool{}, map[string]bool{}
	for k := range NumKinds {
		info := k.Info()
		if info.Key == "" || keys[info.Key] || info.ScoreKey == "" || scoreKeys[info.ScoreKey] {
			t.Errorf("kind %d: key %q, score key %q: empty or taken", k, info.Key, info.ScoreKey)
		}
		keys[info.Key], scoreKeys[info.ScoreKey] = true, true
		if got, ok := KindOf(info.Key); !ok || got != k {
			t.Errorf("KindOf(%q) = %v, %v", info.Key, got, ok)
		}
		if !(info.Min < info.Max) || !k.InRange(info.Default.Good) || !k.InRange(info.Default.Bad) {
			t.Errorf("%s: range %g..%g does not hold its default bounds %+v", info.Key, info.Min, info.Max, info.Default)
		}
		if info.Label == "" || info.Short == "" || info.Unit == "" || len(info.Sources) == 0 {
			t.Errorf("%s: missing label, unit or sources: %+v", info.Key, info)
		}
		if s := info.StandsInFor; s.Info().StandsInFor != s {
			t.Errorf("%s stands in for %s, which is not scored in its own right", info.Key, s.Key())
		}
	}
	if err := DefaultParams().Validate(); err != nil {
		t.Errorf("the table's default bounds do not validate: %v", err)
	}
}

// A kind's own weight counts only if it is scored in its own right:
// download's is accepted and ignored, and zero weights everywhere else
// leave nothing to measure.
func TestStandInWeightUnused(t *testing.T) {
	p := DefaultParams()
	p.Score[Download].Weight = 5
	r := Readings{Values: Values{Download: F(11)}}
	got, ok := Score(r, p, 0)
	if want, _ := Score(r, DefaultParams(), 0); !ok || got != want {
		t.Errorf("score %v with download's own weight set, want %v", got, want)
	}
	for k := range NumKinds {
		p.Score[k].Weight = 0
	}
	p.Score[Download].Weight = 1
	if err := p.Validate(); err == nil {
		t.Error("only the stand-in's weight set: accepted")
	}
}

// Readings keep the JSON a struct with one tagged field per kind had:
// measured kinds in table order, then newest.
func TestReadingsJSON(t *testing.T) {
	at := time.Date(2026, 3, 1, 12, 0, 0, 500, time.UTC)
	r := Readings{Values: Values{TTFB: F(120.5), Throughput: F(40), ErrorRate: F(0)}, Newest: at}
	b, err := json.Marshal(r)
	if err != nil {
		t.Fatal(err)
	}
	const want = `{"ttfb_ms":120.5,"error_rate":0,"throughput_gbps":40,"newest":"2026-03-01T12:00:00.0000005Z"}`
	if string(b) != want {
		t.Errorf("got  %s\nwant %s", b, want)
	}
	var back Readings
	if err := json.Unmarshal(b, &back); err != nil {
		t.Fatal(err)
	}
	if back.Map()["ttfb_ms"] != 120.5 || back.Values[CacheHit] != nil || !back.Newest.Equal(at) || len(back.Map()) != 3 {
		t.Errorf("read back %+v", back.Map())
	}
	if b, _ := json.Marshal(Readings{}); string(b) != `{}` {
		t.Errorf("no readings: %s", b)
	}
}

// CheckSignal's list of what a signal may carry follows its source.
func TestCheckSignalNamesTheSourcesKinds(t *testing.T) {
	e := NewEngine(testConfig(), nil)
	// The lists come from the table's sources column: the push API
	// names what a push may carry, a source the table does not name
	// gets every kind.
	var pushed, probed, all []string
	for k := range NumKinds {
		all = append(all, k.Key())
		if k.FedBy(SourcePush) {
			pushed = append(pushed, k.Key())
		}
		if k.FedBy(SourceProbe) {
			probed = append(probed, k.Key())
		}
	}
	if !slices.Equal(probed, []string{"ttfb_ms", "error_rate", "cache_hit_ratio", "download_mbps"}) || slices.Contains(pushed, "download_mbps") {
		t.Fatalf("probe kinds %v, push kinds %v", probed, pushed)
	}
	for source, want := range map[string]string{
		SourcePush:  "a signal needs at least one of " + strings.Join(pushed, ", "),
		SourceProbe: "a signal needs at least one of " + strings.Join(probed, ", "),
		"test":      "a signal needs at least one of " + strings.Join(all, ", "),
	} {
		err := e.CheckSignal(Signal{CDN: "akamai", Source: source})
		if err == nil || err.(*keyerr.Error).Msg != want {
			t.Errorf("%s: %v, want %q", source, err, want)
		}
	}
}
