package health

import "time"

// Signal is one measurement of a CDN, from a probe, a push or a
// Prometheus query. A nil value was not measured; only the measured
// values update what the engine knows.
type Signal struct {
	CDN string
	// Region is the region the measurement is about; "" means all regions.
	Region string
	Time   time.Time
	// Samples is how many requests or beacons the values summarise (a
	// probe is 1). Zero is taken as 1.
	Samples int

	// Values are the measured values by kind.
	Values Values

	// Source names where the signal came from (SourceProbe …), for the
	// decision log and the live view.
	Source string
}

// F returns a pointer to v, for filling Values.
func F(v float64) *float64 { return &v }
