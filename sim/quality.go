package sim

// DefaultQuality is a healthy CDN that slows a little towards its commit
// (a billing line more than a physical one) and badly towards its
// ceiling. With the policy defaults it scores 80 at its commit (the
// throughput signal is then at its bad bound) and falls towards the down
// threshold at its ceiling, where undelivered traffic adds errors.
func DefaultQuality() Quality {
	return Quality{
		TTFBMs: 80, ErrorRate: 0.002, CacheHit: 0.97, Knee: 0.9,
		TTFBAtCommitMs: 150, ErrorAtCommit: 0.004, CacheHitAtCommit: 0.95,
		TTFBAtCeilingMs: 600, ErrorAtCeiling: 0.03, CacheHitAtCeiling: 0.85,
	}
}

// quality layers a [quality] table over base, checking each key.
func (b *binder) quality(base Quality, f *qualityFile, at string) Quality {
	q := base
	b.setF(&q.TTFBMs, f.TTFBMs, at+".ttfb_ms", 0, 600000)
	b.setF(&q.ErrorRate, f.ErrorRate, at+".error_rate", 0, 1)
	b.setF(&q.CacheHit, f.CacheHit, at+".cache_hit", 0, 1)
	b.setF(&q.Knee, f.Knee, at+".knee", 0, 1)
	b.setF(&q.TTFBAtCommitMs, f.TTFBAtCommitMs, at+".ttfb_at_commit_ms", 0, 600000)
	b.setF(&q.ErrorAtCommit, f.ErrorAtCommit, at+".error_at_commit", 0, 1)
	b.setF(&q.CacheHitAtCommit, f.CacheHitAtCommit, at+".cache_hit_at_commit", 0, 1)
	b.setF(&q.TTFBAtCeilingMs, f.TTFBAtCeilingMs, at+".ttfb_at_ceiling_ms", 0, 600000)
	b.setF(&q.ErrorAtCeiling, f.ErrorAtCeiling, at+".error_at_ceiling", 0, 1)
	b.setF(&q.CacheHitAtCeiling, f.CacheHitAtCeiling, at+".cache_hit_at_ceiling", 0, 1)
	return q
}

// At is the service at utilisation u of the commit, where ceilU is the
// ceiling's utilisation (ceiling ÷ commit; 0 or below 1 means the ceiling
// is the commit).
func (q *Quality) At(u, ceilU float64) (ttfb, errRate, cacheHit float64) {
	lerp := func(a, b, k float64) float64 { return a + (b-a)*k }
	switch {
	case u <= q.Knee:
		return q.TTFBMs, q.ErrorRate, q.CacheHit
	case u <= 1:
		k := (u - q.Knee) / (1 - q.Knee)
		return lerp(q.TTFBMs, q.TTFBAtCommitMs, k), lerp(q.ErrorRate, q.ErrorAtCommit, k), lerp(q.CacheHit, q.CacheHitAtCommit, k)
	case u < ceilU:
		k := (u - 1) / (ceilU - 1)
		return lerp(q.TTFBAtCommitMs, q.TTFBAtCeilingMs, k), lerp(q.ErrorAtCommit, q.ErrorAtCeiling, k), lerp(q.CacheHitAtCommit, q.CacheHitAtCeiling, k)
	default:
		return q.TTFBAtCeilingMs, q.ErrorAtCeiling, q.CacheHitAtCeiling
	}
}

// apply worsens measured service by the fault's effects.
func (f *Fault) apply(ttfb, errRate, cacheHit float64) (float64, float64, float64) {
	return ttfb + f.TTFBAddMs, max(errRate, f.ErrorRate), min(cacheHit, f.CacheHit)
}

// covers tells whether the fault is on CDN ci in region ri at offset d.
func (f *Fault) covers(ci, ri int, d int64) bool {
	return f.cdn == ci && (f.region < 0 || f.region == ri) && d >= int64(f.Start) && d < int64(f.End)
}
