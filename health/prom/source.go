package prom

import (
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"github.com/prometheus/client_golang/api"
	v1 "github.com/prometheus/client_golang/api/prometheus/v1"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/cdnsteer/cdnsteer/health"
)

// Source polls Prometheus and hands the engine one Signal per series.
// Its methods are safe for concurrent use.
type Source struct {
	cfg     Config
	api     v1.API
	queries []query // the signal queries, then the samples query if any
	sink    func(health.Signal)
	log     *slog.Logger
	m       *metrics

	// round serialises rounds, so that signals reach the sink in the
	// order they were measured and query states change one round at a
	// time. It guards states.
	round  sync.Mutex
	states map[string]*queryState

	mu          sync.Mutex
	lastRound   time.Time // start of the last round, to pace Run
	lastSuccess time.Time
	lastOK      bool // whether every query of the last round succeeded
}

// query is one PromQL expression and the signal it feeds. A timestamps
// query dates the series of the signal query at index of (its kind is
// stampKind); a signal query's stamp is the index of its timestamps query,
// -1 when its series are dated at the query's instant.
type query struct {
	kind  *kind
	expr  string
	stamp int
	of    int
}

// New checks cfg, registers the source's metrics on reg and returns a
// Source that hands its signals to sink. A nil reg keeps the metrics
// unexported; a nil log discards the source's logs.
func New(cfg Config, reg prometheus.Registerer, sink func(health.Signal), log *slog.Logger) (*Source, error) {
	if err := cfg.Validate(); err != nil {
		return nil, fmt.Errorf("prometheus config: %w", err)
	}
	cfg = cfg.WithDefaults()
	if sink == nil {
		return nil, errors.New("prometheus source: nil sink")
	}
	if reg == nil {
		reg = prometheus.NewRegistry()
	}
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	rt, err := cfg.Auth.transport()
	if err != nil {
		return nil, fmt.Errorf("prometheus client for %s: %w", cfg.URL, err)
	}
	client, err := api.NewClient(api.Config{Address: cfg.URL, RoundTripper: rt})
	if err != nil {
		return nil, fmt.Errorf("prometheus client for %s: %w", cfg.URL, err)
	}
	s := &Source{
		cfg:    cfg,
		api:    v1.NewAPI(client),
		sink:   sink,
		log:    log.With("prometheus", cfg.URL),
		states: map[string]*queryState{},
	}
	// The order of kinds, not of the map, so that every round emits in
	// the same order.
	for i := range kinds {
		if expr, ok := cfg.Queries[kinds[i].key]; ok {
			s.queries = append(s.queries, query{kind: &kinds[i], expr: expr, stamp: -1, of: -1})
		}
	}
	if cfg.Samples != "" {
		s.queries = append(s.queries, query{kind: &samplesKind, expr: cfg.Samples, stamp: -1, of: -1})
	}
	if cfg.Stamp != StampQuery {
		for i, n := 0, len(s.queries); i < n; i++ {
			if expr, ok := cfg.Timestamps[s.queries[i].kind.key]; ok {
				s.queries[i].stamp = len(s.queries)
				s.queries = append(s.queries, query{kind: stampKind(s.queries[i].kind.key), expr: expr, stamp: -1, of: i})
			}
		}
	}
	keys := make([]string, len(s.queries))
	for i, q := range s.queries {
		keys[i] = q.kind.key
		s.states[q.kind.key] = &queryState{}
	}
	if s.m, err = newMetrics(reg, keys); err != nil {
		return nil, fmt.Errorf("prometheus source: %w", err)
	}
	return s, nil
}

// Healthy reports whether the last round succeeded in full and is recent
// enough that rounds are still being run: a source whose Run has ended is
// not healthy, however well its last round went.
func (s *Source) Healthy() bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.lastOK && time.Since(s.lastSuccess) <= 2*s.cfg.Interval+s.cfg.Timeout
}

// LastSuccess is the start of the last round in which every query
// succeeded; zero before the first.
func (s *Source) LastSuccess() time.Time {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.lastSuccess
}
