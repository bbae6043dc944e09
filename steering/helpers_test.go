package steering

import (
	"io"
	"log/slog"
	"testing"

	"github.com/prometheus/client_golang/prometheus"
)

func slogDiscard() *slog.Logger { return slog.New(slog.NewTextHandler(io.Discard, nil)) }

// mustCounter sums every series of the counter named name into one.
func mustCounter(t *testing.T, reg *prometheus.Registry, name string) prometheus.Counter {
	t.Helper()
	fs, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	c := prometheus.NewCounter(prometheus.CounterOpts{Name: "sum"})
	for _, f := range fs {
		if f.GetName() == name {
			for _, m := range f.Metric {
				c.Add(m.GetCounter().GetValue())
			}
		}
	}
	return c
}
