package health

import "slices"

// Kind is one kind of signal. The kinds table below is the only place
// that lists them: the store, the score, the policy's score keys, the
// push API, the Prometheus source, the decision log and the live view
// all iterate over it, so a new kind is a row here plus the source that
// measures it.
type Kind int

// The kinds, in the order of the table (and of the live view's columns).
const (
	TTFB Kind = iota
	ErrorRate
	CacheHit
	Download
	Throughput
	RebufferRatio
	StartupMs
	VideoThroughput
	SegmentTTFB
	SegmentErrorRate
	NumKinds
)

// Names of the sources of signals, as Signal.Source carries them.
const (
	SourceProbe      = "probe"
	SourcePush       = "push"
	SourcePrometheus = "prometheus"
	// SourceCMCD is the players' own reports (package qoe), aggregated
	// per CDN and region over a window.
	SourceCMCD = "cmcd"
)

// KindInfo describes one kind of signal.
type KindInfo struct {
	// Key names the kind in the API, the decision log, the live view and
	// [prometheus.queries].
	Key string `json:"key"`
	// ScoreKey names its bounds under [policy.NAME.score].
	ScoreKey string `json:"score_key"`
	// Label and Short name it for people: a chart's title, a column's
	// heading.
	Label string `json:"label"`
	Short string `json:"short_label"`
	// Unit is what a value counts: "ms", "ratio" (0..1), "Mbit/s",
	// "Gbit/s". Digits is how many decimals a person needs (of the
	// percentage, for a ratio).
	Unit   string `json:"unit"`
	Digits int    `json:"digits"`
	// Min and Max bound a plausible value: a push outside them is
	// refused, a Prometheus result outside them dropped.
	Min float64 `json:"min"`
	Max float64 `json:"max"`
	// Default is how the kind counts in the score unless the policy says
	// otherwise.
	Default Bounds `json:"default"`
	// Sources are the sources that may feed the kind (Source* names).
	Sources []string `json:"sources"`

	// StandsInFor is the kind whose weight this one scores with, and
	// only while that one cannot be scored; itself for a kind scored in
	// its own right. Its own score weight is then accepted in a policy
	// but not used.
	StandsInFor Kind `json:"-"`
	// PerCommit scores the value as a share of the CDN's commit, and only
	// for a CDN with one; it is also the traffic a CDN delivers, which
	// its load is computed from.
	PerCommit bool `json:"per_commit"`
	// Gate says how the kind can degrade a CDN by itself, whatever the
	// other kinds say (gate.go); nil for a kind that cannot. Load is not
	// health: the per-commit kind has none.
	Gate *GateRule `json:"gate,omitempty"`
}

var kinds = [NumKinds]KindInfo{
	TTFB: {Key: "ttfb_ms", ScoreKey: "ttfb", Label: "Time to first byte", Short: "TTFB", Unit: "ms",
		Max: 600000, Default: Bounds{Weight: 0.3, Good: 200, Bad: 1000},
		Sources: []string{SourceProbe, SourcePush, SourcePrometheus}, StandsInFor: TTFB,
		Gate: &GateRule{Stat: GateMean, OverGood: true, Default: 300, LoadShows: true}},
	ErrorRate: {Key: "error_rate", ScoreKey: "error_rate", Label: "Error rate", Short: "errors", Unit: "ratio", Digits: 1,
		Max: 1, Default: Bounds{Weight: 0.4, Good: 0.01, Bad: 0.1},
		Sources: []string{SourceProbe, SourcePush, SourcePrometheus}, StandsInFor: ErrorRate,
		Gate: &GateRule{Stat: GateRate, Default: 0.02, Veto: true}},
	CacheHit: {Key: "cache_hit_ratio", ScoreKey: "cache_hit", Label: "Cache hit ratio", Short: "cache hits", Unit: "ratio",
		Max: 1, Default: Bounds{Weight: 0.1, Good: 0.95, Bad: 0.5},
		Sources: []string{SourceProbe, SourcePush, SourcePrometheus}, StandsInFor: CacheHit,
		Gate: &GateRule{Stat: GateRate, LoadShows: true}},
	// A probe's download rate of its test object tells how a CDN copes
	// only when its delivered traffic against a commit is unknown.
	Download: {Key: "download_mbps", ScoreKey: "download", Label: "Probe download rate", Short: "download", Unit: "Mbit/s", Digits: 1,
		Max: 1e7, Default: Bounds{Weight: 0.2, Good: 20, Bad: 2},
		Sources: []string{SourceProbe}, StandsInFor: Throughput},
	Throughput: {Key: "throughput_gbps", ScoreKey: "throughput", Label: "Delivered throughput", Short: "throughput", Unit: "Gbit/s", Digits: 1,
		Max: 1e6, Default: Bounds{Weight: 0.2, Good: 0.7, Bad: 1.0},
		Sources: []string{SourcePush, SourcePrometheus}, StandsInFor: Throughput, PerCommit: true},

	// What viewers feel, as their players report it (CMCD, package qoe).
	// Each value's count is sessions for the rebuffering share and
	// reports for the others, so below min_samples a region's value is
	// shrunk toward the CDN's elsewhere (confidence.go), and a CDN with
	// fewer in all is not scored on them (players.go). The rebuffering
	// share's bad bound sits far out so that a handful of stalled players
	// shrunk toward a healthy CDN move no weight; its gate degrades.
	RebufferRatio: {Key: "rebuffer_ratio", ScoreKey: "rebuffer_ratio", Label: "Sessions rebuffering", Short: "rebuffering", Unit: "ratio", Digits: 1,
		Max: 1, Default: Bounds{Weight: 0.15, Good: 0.02, Bad: 1},
		Sources: []string{SourceCMCD, SourcePush}, StandsInFor: RebufferRatio,
		Gate: &GateRule{Stat: GateRate, Default: 0.05, Viewers: true}},
	StartupMs: {Key: "startup_ms", ScoreKey: "startup", Label: "Player start-up time", Short: "start-up", Unit: "ms",
		Max: 600000, Default: Bounds{Weight: 0.05, Good: 1000, Bad: 8000},
		Sources: []string{SourceCMCD, SourcePush}, StandsInFor: StartupMs},
	// A player's throughput is its own access network's as much as the
	// CDN's: scored lightly, no gate.
	VideoThroughput: {Key: "video_throughput_kbps", ScoreKey: "video_throughput", Label: "Player throughput", Short: "player throughput", Unit: "kbit/s",
		Max: 1e7, Default: Bounds{Weight: 0.05, Good: 8000, Bad: 1000},
		Sources: []string{SourceCMCD, SourcePush}, StandsInFor: VideoThroughput},
	SegmentTTFB: {Key: "segment_ttfb_ms", ScoreKey: "segment_ttfb", Label: "Segment TTFB (players)", Short: "segment TTFB", Unit: "ms",
		Max: 600000, Default: Bounds{Weight: 0.05, Good: 300, Bad: 2000},
		Sources: []string{SourceCMCD, SourcePush}, StandsInFor: SegmentTTFB,
		Gate: &GateRule{Stat: GateMean, LoadShows: true}},
	SegmentErrorRate: {Key: "segment_error_rate", ScoreKey: "segment_error_rate", Label: "Segment error rate (players)", Short: "segment errors", Unit: "ratio", Digits: 1,
		Max: 1, Default: Bounds{Weight: 0.2, Good: 0.01, Bad: 0.2},
		Sources: []string{SourceCMCD, SourcePush}, StandsInFor: SegmentErrorRate,
		Gate: &GateRule{Stat: GateRate, Default: 0.03}},
}

// Kinds returns the table, in its order.
func Kinds() []KindInfo { return append([]KindInfo(nil), kinds[:]...) }

// Info describes kind k.
func (k Kind) Info() *KindInfo { return &kinds[k] }

// Key is k's name in the API and the decision log.
func (k Kind) Key() string { return kinds[k].Key }

// KindOf returns the kind named key, if there is one.
func KindOf(key string) (Kind, bool) {
	for k := range NumKinds {
		if kinds[k].Key == key {
			return k, true
		}
	}
	return 0, false
}

// FedBy lists the kinds source may feed, in table order.
func FedBy(source string) []Kind {
	var out []Kind
	for k := range NumKinds {
		if k.FedBy(source) {
			out = append(out, k)
		}
	}
	return out
}

// FedBy reports whether source may feed k.
func (k Kind) FedBy(source string) bool { return slices.Contains(kinds[k].Sources, source) }

// InRange reports whether v is a plausible value of k.
func (k Kind) InRange(v float64) bool { return v >= kinds[k].Min && v <= kinds[k].Max }

// Keys lists the keys of ks, for messages.
func Keys(ks []Kind) []string {
	out := make([]string, len(ks))
	for i, k := range ks {
		out[i] = k.Key()
	}
	return out
}

// Values holds one value per kind; nil means not measured.
type Values [NumKinds]*float64

// any reports whether v holds a value of some kind.
func (v *Values) any() bool {
	for _, x := range v {
		if x != nil {
			return true
		}
	}
	return false
}
