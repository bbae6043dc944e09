package dnsserver

import (
	"errors"
	"log/slog"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/cdnsteer/cdnsteer/zones"
)

// signing is the handler's background signer: it signs again when a new
// validity period starts or a key's timing says so, on a timer, off the
// query path.
type signing struct {
	// clock is the signer's and the expiry check's time; nil is the wall
	// clock. Tests drive it.
	clock func() time.Time
	mu    sync.Mutex
	timer *time.Timer
}

func (h *Handler) now() time.Time {
	if h.signing.clock != nil {
		return h.signing.clock()
	}
	return time.Now()
}

// signaturesFor signs snap's signed zones for now; nil when none is.
func (h *Handler) signaturesFor(snap *zones.Snapshot, now time.Time) *signatures {
	signed := false
	for _, z := range snap.Zones {
		signed = signed || z.DNSSEC != nil
	}
	if !signed {
		return nil
	}
	s, err := signAll(snap, now)
	if err != nil {
		// Cannot happen with keys that passed the policy's checks; if it
		// does, DO=1 answers are withheld rather than left unsigned, and
		// signing is tried again soon.
		slog.Error("DNSSEC signing failed: answers with DO=1 are withheld until it succeeds", "err", err)
		s = &signatures{zones: make([]*zoneSigs, len(snap.Zones)), next: now.Add(time.Minute)}
		for i, z := range snap.Zones {
			if z.DNSSEC != nil {
				s.zones[i] = &zoneSigs{z: z}
			}
		}
	}
	return s
}

// resign signs the snapshot in force again, for the present period and
// keys, and sets the timer for the next time.
func (h *Handler) resign() {
	h.update(func(st *State) {
		if st.Snap == nil || st.templates == nil {
			return
		}
		t := *st.templates
		t.sig = h.signaturesFor(st.Snap, h.now())
		st.templates = &t
	})
	h.scheduleSigning()
}

// scheduleSigning sets the timer for the signatures in force.
func (h *Handler) scheduleSigning() {
	h.signing.mu.Lock()
	defer h.signing.mu.Unlock()
	if h.signing.timer != nil {
		h.signing.timer.Stop()
		h.signing.timer = nil
	}
	st := h.state.Load()
	if st == nil || st.templates == nil || st.templates.sig == nil || st.templates.sig.next.IsZero() {
		return
	}
	h.signing.timer = time.AfterFunc(max(0, st.templates.sig.next.Sub(h.now())), h.resign)
}

// signedZone returns the signatures of zone index zi for a query with
// DO=1, or nil when the zone is not signed; expired is true when they
// may no longer be given. at is the query's time when it was read.
func (h *Handler) signedZone(st *State, zi int, at time.Time) (zs *zoneSigs, expired bool) {
	zs = st.templates.sig.zone(zi)
	if zs == nil {
		return nil, false
	}
	if at.IsZero() || h.signing.clock != nil {
		at = h.now()
	}
	return zs, at.Unix() >= zs.until
}

// sigExpiry exports when each signing key's signatures in force expire.
type sigExpiry struct {
	h    *Handler
	desc *prometheus.Desc
}

func (c *sigExpiry) Describe(ch chan<- *prometheus.Desc) { ch <- c.desc }

func (c *sigExpiry) Collect(ch chan<- prometheus.Metric) {
	st := c.h.state.Load()
	if st == nil || st.templates == nil || st.templates.sig == nil {
		return
	}
	now := c.h.now()
	for _, zs := range st.templates.sig.zones {
		if zs == nil {
			continue
		}
		for _, k := range zs.expiry {
			ch <- prometheus.MustNewConstMetric(c.desc, prometheus.GaugeValue, k.at.Sub(now).Seconds(), zs.z.Origin, k.key)
		}
	}
}

// registerSigningMetrics puts the signature expiry gauge on the
// handler's registry, once per registry.
func (h *Handler) registerSigningMetrics() {
	if h.metrics == nil || h.metrics.reg == nil {
		return
	}
	c := &sigExpiry{h: h, desc: prometheus.NewDesc("cdnsteer_dnssec_signature_expiry_seconds",
		"Seconds until the signatures in force made by a key expire, by zone and key (K<zone>+<alg>+<tag>); answers with DO=1 are withheld (SERVFAIL) once they have.",
		[]string{"zone", "key"}, nil)}
	var are prometheus.AlreadyRegisteredError
	if err := h.metrics.reg.Register(c); err != nil && !errors.As(err, &are) {
		slog.Error("cannot register the DNSSEC metric", "err", err)
	}
}
