package health

import "time"

// Signal is one measurement of a CDN, from a probe, a push or a
// Prometheus query. A nil field was not measured; only the measured
// fields update what the engine knows.
type Signal struct {
	CDN string
	// Region is the region the measurement is about; "" means all regions.
	Region string
	Time   time.Time
	// Samples is how many requests or beacons the values summarise (a
	// probe is 1). Zero is taken as 1.
	Samples int

	// TTFBMs is the time to first byte in milliseconds.
	TTFBMs *float64
	// ErrorRate is the share of failed requests, 0..1.
	ErrorRate *float64
	// CacheHitRatio is the share of requests served from cache, 0..1.
	CacheHitRatio *float64
	// ThroughputGbps is the traffic the CDN delivers (for the region, or
	// in all), compared with its commit to know its load.
	ThroughputGbps *float64
	// DownloadMbps is a probe's download rate of its test object.
	DownloadMbps *float64

	// Source names where the signal came from ("probe", "push",
	// "prometheus"), for the decision log and the live view.
	Source string
}

// F returns a pointer to v, for filling Signal fields.
func F(v float64) *float64 { return &v }
