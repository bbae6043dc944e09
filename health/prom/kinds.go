package prom

import (
	"math"

	"github.com/cdnsteer/cdnsteer/health"
)

// kind is one signal a query can feed: which Signal field it fills and
// which values make sense for it.
type kind struct {
	key string
	// inRange reports whether a finite value is plausible. Implausible
	// values are dropped, not clamped: a clamped error rate of 1 would
	// condemn a CDN on what is most likely a broken query.
	inRange func(float64) bool
	set     func(*health.Signal, float64)
}

// samplesKey labels the samples query in metrics and logs.
const samplesKey = "samples"

// maxSamples keeps a count within what an int and a float64 both hold
// exactly.
const maxSamples = 1 << 53

// kinds are the signals [prometheus.queries] may name: every kind the
// health package's table lets Prometheus feed, in its order.
var kinds = func() []kind {
	var out []kind
	for _, k := range health.FedBy(health.SourcePrometheus) {
		out = append(out, kind{k.Key(), k.InRange, func(s *health.Signal, v float64) { s.Values[k] = &v }})
	}
	return out
}()

var samplesKind = kind{
	key:     samplesKey,
	inRange: func(v float64) bool { return v >= 0 && v <= maxSamples },
	set:     func(s *health.Signal, v float64) { s.Samples = int(math.Round(v)) },
}

func kindOf(key string) *kind {
	for i := range kinds {
		if kinds[i].key == key {
			return &kinds[i]
		}
	}
	return nil
}

func signalKeys() []string {
	keys := make([]string, len(kinds))
	for i, k := range kinds {
		keys[i] = k.key
	}
	return keys
}

// stampKind is the kind of the timestamps query of the signal key: its
// values are Unix times in seconds, labelled "timestamps.KEY" in metrics
// and logs.
func stampKind(key string) *kind {
	return &kind{
		key:     "timestamps." + key,
		inRange: func(v float64) bool { return v > 0 && v < maxUnixSeconds },
	}
}

// maxUnixSeconds is past any plausible data time (the year 2286), and
// within what time.Time holds in nanoseconds.
const maxUnixSeconds = 1e10
