package geo

import (
	"errors"
	"strings"
	"testing"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"
)

// A configured database counts as loaded only from the file the policy
// names: missing, failed or still the previous file's, the server is not
// ready and says which and why; the series show the database in use.
func TestStatusReadinessAndMetrics(t *testing.T) {
	country := "testdata/maxmind/GeoIP2-Country-Test.mmdb"
	asn := "testdata/maxmind/GeoLite2-ASN-Test.mmdb"
	db, err := OpenDB(country)
	if err != nil {
		t.Fatal(err)
	}
	adb, err := OpenASNDB(asn)
	if err != nil {
		t.Fatal(err)
	}
	s := NewStatus()
	reg := prometheus.NewRegistry()
	reg.MustRegister(s)
	if r := s.NotReady(); r != "" {
		t.Fatalf("nothing configured: not ready: %s", r)
	}
	if n := testutil.CollectAndCount(s); n != 0 {
		t.Fatalf("nothing configured: %d series", n)
	}

	s.Configure(KindCountry, country)
	s.Configure(KindASN, asn)
	s.Failed(KindASN, errors.New("no such file"))
	r := s.NotReady()
	for _, want := range []string{"asn database " + asn + " not loaded: no such file", "country database " + country + " not loaded"} {
		if !strings.Contains(r, want) {
			t.Errorf("reason %q lacks %q", r, want)
		}
	}
	if v := testutil.ToFloat64(gaugeOf(t, reg, "cdnsteer_geo_database_loaded", "country")); v != 0 {
		t.Errorf("loaded before loading: %v", v)
	}

	s.Loaded(KindCountry, db.Info())
	s.Loaded(KindASN, adb.Info())
	if r := s.NotReady(); r != "" {
		t.Fatalf("both loaded: %s", r)
	}
	for kind, info := range map[string]DBInfo{KindCountry: db.Info(), KindASN: adb.Info()} {
		if v := testutil.ToFloat64(gaugeOf(t, reg, "cdnsteer_geo_database_loaded", kind)); v != 1 {
			t.Errorf("%s loaded = %v", kind, v)
		}
		if v := testutil.ToFloat64(gaugeOf(t, reg, "cdnsteer_geo_database_networks", kind)); v != float64(info.Networks) || v == 0 {
			t.Errorf("%s networks = %v, want %d", kind, v, info.Networks)
		}
		if v := testutil.ToFloat64(gaugeOf(t, reg, "cdnsteer_geo_database_build_timestamp_seconds", kind)); v != float64(info.BuildTime.Unix()) || v == 0 {
			t.Errorf("%s build = %v, want %d", kind, v, info.BuildTime.Unix())
		}
	}

	// A reload names another file: the old database still serves and is
	// shown, but the server is not ready until the new one loads.
	s.Configure(KindCountry, "/nonexistent/GeoLite2-Country.mmdb")
	if r := s.NotReady(); !strings.Contains(r, "country database /nonexistent/GeoLite2-Country.mmdb not loaded") {
		t.Errorf("after a path change: %q", r)
	}
	if v := testutil.ToFloat64(gaugeOf(t, reg, "cdnsteer_geo_database_loaded", "country")); v != 0 {
		t.Errorf("loaded from the old file counts: %v", v)
	}
	if v := testutil.ToFloat64(gaugeOf(t, reg, "cdnsteer_geo_database_networks", "country")); v != float64(db.Info().Networks) {
		t.Errorf("the database in use is not shown: %v", v)
	}
	s.Configure(KindCountry, "")
	if r := s.NotReady(); r != "" {
		t.Errorf("unconfigured: %q", r)
	}
}

// gaugeOf is the series name{database=kind} gathered from reg.
func gaugeOf(t *testing.T, reg *prometheus.Registry, name, kind string) prometheus.Collector {
	t.Helper()
	mfs, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	for _, mf := range mfs {
		if mf.GetName() != name {
			continue
		}
		for _, m := range mf.GetMetric() {
			if m.GetLabel()[0].GetValue() == kind {
				return prometheus.NewGaugeFunc(prometheus.GaugeOpts{Name: "x"}, func() float64 { return m.GetGauge().GetValue() })
			}
		}
	}
	t.Fatalf("no %s{database=%q}", name, kind)
	return nil
}
