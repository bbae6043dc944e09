package health

// The players' kinds (those CMCD feeds: rebuffer_ratio counted in
// sessions, the others in reports) say what viewers feel, but only as
// many viewers as report. Shrinking toward the parent (confidence.go)
// tames a region with few of them while the CDN has many elsewhere; it
// does nothing when the CDN as a whole has few: a canary build's 8
// players of 400,000, one of Fastly's two stalling, read 50 %
// rebuffering, and with the probes 5 s late the engine scored Fastly on
// those reports alone and cut it to 70 % of its weight (7,167 viewer
// switches with nothing wrong). So a players' kind counts in the score
// only once the CDN has min_samples of it over every region, the count
// the rebuffering gate already asks of a CDN's audience (GateRule
// .Viewers); below it the value is still shown and still judged by the
// gates, whose own rules say what few samples can do. A value pushed
// without a count counts as min_samples and so stands alone.

// playerKinds marks the kinds the players report.
var playerKinds = func() (out [NumKinds]bool) {
	for _, k := range FedBy(SourceCMCD) {
		out[k] = true
	}
	return out
}()

// scored reports whether kind k's value counts in the CDN's score: any
// kind but a players' one the CDN has fewer than min_samples of.
func (ev *evidence) scored(k Kind, p *Params) bool {
	e := &ev.kinds[k]
	return !playerKinds[k] || !e.ok || e.parentN >= float64(max(p.MinSamples, 1))
}

// scoring returns the readings Score counts: r without the players'
// kinds too few to count. r itself, which the view and the decision log
// show, keeps them.
func (ev *evidence) scoring(r Readings, p *Params) Readings {
	if ev == nil {
		return r
	}
	for k := range NumKinds {
		if r.Values[k] != nil && !ev.scored(k, p) {
			r.Values[k] = nil
		}
	}
	return r
}
