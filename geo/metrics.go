package geo

import (
	"fmt"
	"sort"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"
)

// Status is what the process knows of the databases its policy names, by
// kind ("country", "asn"): the file configured, the database loaded from
// it (if any) and the last load error. It exports them as metrics and
// says whether the server is ready: a region lookup with a configured
// database missing sends viewers to the default region, so the server
// should take no traffic until it is loaded.
type Status struct {
	mu    sync.Mutex
	kinds map[string]*dbStatus

	loaded, built, networks, loadedAt *prometheus.Desc
}

type dbStatus struct {
	path string // configured; "" when none is
	info *DBInfo
	// at is when info was loaded; err the last load's failure since.
	at  time.Time
	err error
}

// Database kinds.
const (
	KindCountry = "country"
	KindASN     = "asn"
)

// NewStatus returns a Status with no database configured.
func NewStatus() *Status {
	l := []string{"database"}
	return &Status{kinds: map[string]*dbStatus{},
		loaded:   prometheus.NewDesc("cdnsteer_geo_database_loaded", "1 when the database the policy names is loaded from its file, 0 while it is not (absent when none is configured).", l, nil),
		built:    prometheus.NewDesc("cdnsteer_geo_database_build_timestamp_seconds", "When the database in use was built (its metadata's build epoch).", l, nil),
		networks: prometheus.NewDesc("cdnsteer_geo_database_networks", "Networks of the database in use that carry a country or continent (country) or an AS number (asn).", l, nil),
		loadedAt: prometheus.NewDesc("cdnsteer_geo_database_loaded_timestamp_seconds", "When the database in use was read from its file.", l, nil),
	}
}

func (s *Status) kind(k string) *dbStatus {
	d := s.kinds[k]
	if d == nil {
		d = &dbStatus{}
		s.kinds[k] = d
	}
	return d
}

// Configure sets the file the policy names for kind ("" for none). A
// database loaded from another file no longer counts as loaded.
func (s *Status) Configure(kind, path string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	d := s.kind(kind)
	if d.path != path {
		d.path, d.err = path, nil
	}
}

// Loaded records a database read from its file.
func (s *Status) Loaded(kind string, info DBInfo) {
	s.mu.Lock()
	defer s.mu.Unlock()
	d := s.kind(kind)
	d.info, d.at, d.err = &info, time.Now(), nil
}

// Failed records a load that failed (the previous database, if any,
// keeps serving).
func (s *Status) Failed(kind string, err error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.kind(kind).err = err
}

// usable reports whether the configured file of d is the one loaded.
func (d *dbStatus) usable() bool { return d.info != nil && d.info.Path == d.path }

// NotReady names every configured database that is not loaded from its
// file, and why; "" when all are.
func (s *Status) NotReady() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out string
	for _, k := range s.sortedKinds() {
		d := s.kinds[k]
		if d.path == "" || d.usable() {
			continue
		}
		if out != "" {
			out += "; "
		}
		out += fmt.Sprintf("%s database %s not loaded", k, d.path)
		if d.err != nil {
			out += ": " + d.err.Error()
		}
	}
	return out
}

func (s *Status) sortedKinds() []string {
	ks := make([]string, 0, len(s.kinds))
	for k := range s.kinds {
		ks = append(ks, k)
	}
	sort.Strings(ks)
	return ks
}

// Describe implements prometheus.Collector.
func (s *Status) Describe(ch chan<- *prometheus.Desc) {
	ch <- s.loaded
	ch <- s.built
	ch <- s.networks
	ch <- s.loadedAt
}

// Collect implements prometheus.Collector.
func (s *Status) Collect(ch chan<- prometheus.Metric) {
	s.mu.Lock()
	defer s.mu.Unlock()
	gauge := func(d *prometheus.Desc, v float64, k string) {
		ch <- prometheus.MustNewConstMetric(d, prometheus.GaugeValue, v, k)
	}
	for _, k := range s.sortedKinds() {
		d := s.kinds[k]
		if d.path == "" {
			continue
		}
		loaded := 0.0
		if d.usable() {
			loaded = 1
		}
		gauge(s.loaded, loaded, k)
		if d.info == nil {
			continue
		}
		// The database in use, from this file or (until it loads) the one
		// configured before.
		if !d.info.BuildTime.IsZero() {
			gauge(s.built, float64(d.info.BuildTime.Unix()), k)
		}
		gauge(s.networks, float64(d.info.Networks), k)
		gauge(s.loadedAt, float64(d.at.Unix()), k)
	}
}
