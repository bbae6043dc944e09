package prom

import (
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/cdnsteer/cdnsteer/health"
)

func TestConfigErrors(t *testing.T) {
	ok := map[string]string{"ttfb_ms": "cdn_ttfb_ms"}
	cases := []struct {
		name string
		cfg  Config
		want []string // every one must appear in the error
	}{
		{"empty url", Config{Queries: ok}, []string{"url: empty"}},
		{"bad url", Config{URL: "http://[::1", Queries: ok}, []string{"url: parse"}},
		{"no scheme", Config{URL: "127.0.0.1:9090", Queries: ok}, []string{"want scheme://host[:port]"}},
		{"no scheme by name", Config{URL: "localhost:9090", Queries: ok}, []string{"want scheme://host[:port]"}},
		{"ftp", Config{URL: "ftp://127.0.0.1", Queries: ok}, []string{"scheme must be http or https"}},
		{"no host", Config{URL: "http://", Queries: ok}, []string{"no host"}},
		{"query string", Config{URL: "http://127.0.0.1:9090/?x=1", Queries: ok}, []string{"must not have a query"}},
		{"negative interval", Config{URL: "http://127.0.0.1:9090", Interval: -time.Second, Queries: ok}, []string{"interval: -1s must be positive"}},
		{"negative timeout", Config{URL: "http://127.0.0.1:9090", Timeout: -time.Second, Queries: ok}, []string{"timeout: -1s must be positive"}},
		{"no queries", Config{URL: "http://127.0.0.1:9090"}, []string{"queries: none", "ttfb_ms, error_rate"}},
		{"unknown key", Config{URL: "http://127.0.0.1:9090", Queries: map[string]string{"ttfb": "x"}}, []string{`queries.ttfb: unknown signal`}},
		{"empty query", Config{URL: "http://127.0.0.1:9090", Queries: map[string]string{"error_rate": " "}}, []string{`queries.error_rate: empty PromQL`}},
		{"blank samples", Config{URL: "http://127.0.0.1:9090", Queries: ok, Samples: "\t"}, []string{"samples: blank PromQL"}},
		{"undated query", Config{URL: "http://127.0.0.1:9090", Queries: map[string]string{"ttfb_ms": "x", "error_rate": "y"}, Timestamps: map[string]string{"ttfb_ms": "t"}},
			[]string{"queries.error_rate: no timestamps.error_rate", `stamp = "query"`}},
		{"bad stamp", Config{URL: "http://127.0.0.1:9090", Queries: ok, Stamp: "arrival"}, []string{`stamp: "arrival": want "data"`}},
		{"timestamps of nothing", Config{URL: "http://127.0.0.1:9090", Queries: ok, Timestamps: map[string]string{"ttfb_ms": "t", "error_rate": "u", "ttfb": "v"}},
			[]string{"timestamps.error_rate: dates no query", "timestamps.ttfb: unknown signal"}},
		{"blank timestamps", Config{URL: "http://127.0.0.1:9090", Queries: ok, Timestamps: map[string]string{"ttfb_ms": " "}}, []string{"timestamps.ttfb_ms: empty PromQL"}},
		{"all at once", Config{Timeout: -1, Queries: map[string]string{"a": "x", "b": "y"}}, []string{"url: empty", "timeout", `queries.a:`, `queries.b:`}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			_, err := New(c.cfg, nil, func(health.Signal) {}, nil)
			if err == nil {
				t.Fatal("no error")
			}
			msg := err.Error()
			if !strings.HasPrefix(msg, "prometheus config: ") {
				t.Errorf("error %q lacks context", msg)
			}
			for _, w := range c.want {
				if !strings.Contains(msg, w) {
					t.Errorf("error %q does not say %q", msg, w)
				}
			}
		})
	}
}

func TestConfigDefaults(t *testing.T) {
	s, err := New(Config{URL: "https://prom.example:9090/sub", Queries: map[string]string{"error_rate": "x"}, Timestamps: map[string]string{"error_rate": "t"}}, nil, func(health.Signal) {}, nil)
	if err != nil {
		t.Fatal(err)
	}
	if s.cfg.Interval != DefaultInterval || s.cfg.Timeout != DefaultTimeout {
		t.Errorf("interval %v timeout %v, want defaults", s.cfg.Interval, s.cfg.Timeout)
	}
}

func TestNewNeedsSink(t *testing.T) {
	_, err := New(Config{URL: "http://127.0.0.1:9090", Queries: map[string]string{"ttfb_ms": "x"}, Stamp: StampQuery}, nil, nil, nil)
	if err == nil || !strings.Contains(err.Error(), "nil sink") {
		t.Errorf("err = %v, want nil sink", err)
	}
}

func TestNewTwiceOnOneRegistry(t *testing.T) {
	reg := prometheus.NewRegistry()
	cfg := Config{URL: "http://127.0.0.1:9090", Queries: map[string]string{"ttfb_ms": "x"}, Stamp: StampQuery}
	if _, err := New(cfg, reg, func(health.Signal) {}, nil); err != nil {
		t.Fatal(err)
	}
	_, err := New(cfg, reg, func(health.Signal) {}, nil)
	if err == nil || !strings.Contains(err.Error(), "another prometheus source") {
		t.Errorf("err = %v, want a clear registration error", err)
	}
}
