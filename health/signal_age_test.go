package health

import (
	"math"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	dto "github.com/prometheus/client_model/go"
)

// Each CDN's newest signal is exported with its age, by region (empty for
// all regions); signals for a CDN or region the policy does not have add
// no series.
func TestSignalAgeByCDNAndRegion(t *testing.T) {
	e := NewEngine(testConfig(), nil)
	now := time.Now()
	e.Push(good("akamai", now.Add(-90*time.Second)))
	e.Push(good("akamai", now.Add(-30*time.Second)))
	kr := good("fastly", now.Add(-5*time.Second))
	kr.Region = "kr"
	e.Push(kr)
	e.Push(good("nosuchcdn", now))
	nowhere := good("edgio", now)
	nowhere.Region = "atlantis"
	e.Push(nowhere)

	reg := prometheus.NewRegistry()
	reg.MustRegister(NewSignalAgeCollector(e))
	mfs, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]float64{}
	for _, mf := range mfs {
		for _, m := range mf.GetMetric() {
			got[mf.GetName()+labelsOf(m)] = m.GetGauge().GetValue()
		}
	}
	if len(got) != 4 {
		t.Errorf("series %v, want akamai and fastly/kr, age and time", got)
	}
	for key, want := range map[string]float64{
		"cdnsteer_signal_age_seconds{cdn=akamai,region=}":   30,
		"cdnsteer_signal_age_seconds{cdn=fastly,region=kr}": 5,
	} {
		if v, ok := got[key]; !ok || math.Abs(v-want) > 2 {
			t.Errorf("%s = %v (%v), want about %v", key, v, ok, want)
		}
	}
	if v := got["cdnsteer_signal_last_timestamp_seconds{cdn=akamai,region=}"]; math.Abs(v-float64(now.Add(-30*time.Second).Unix())) > 1 {
		t.Errorf("akamai last signal at %v", v)
	}
}

func labelsOf(m *dto.Metric) string {
	var parts []string
	for _, l := range m.GetLabel() {
		parts = append(parts, l.GetName()+"="+l.GetValue())
	}
	return "{" + strings.Join(parts, ",") + "}"
}
