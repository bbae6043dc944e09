package main

import "math"

// reading is one (CDN, region) measurement of the pushed workload.
type reading struct {
	cdn, region string
	ttfb, errs  float64
	hit, gbps   float64
}

// faultPeriod and faultLen: every period, cdn2 fails in r01 for faultLen
// seconds (error rate 30 %, TTFB 1.5 s), so that the decision log and
// the engine have something to do at every size; the rest wobbles a
// little, as measurements do.
const (
	faultPeriod = 30
	faultLen    = 10
)

// readings returns second sec's measurement of every CDN in every region.
func readings(sec int) []reading {
	out := make([]reading, 0, numCDNs*numRegions)
	for ri, r := range regionNames() {
		for c := range numCDNs {
			wob := math.Sin(float64(sec+7*c+3*ri) / 5)
			rd := reading{cdn: cdnName(c), region: r, ttfb: 80 + 10*wob, errs: 0.002 + 0.001*wob, hit: 0.96 + 0.01*wob, gbps: 100 + 20*wob}
			if c == 1 && ri == 0 && sec%faultPeriod < faultLen {
				rd.ttfb, rd.errs = 1500, 0.3
			}
			out = append(out, rd)
		}
	}
	return out
}
