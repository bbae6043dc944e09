package dnsserver

import (
	"log/slog"
	"time"

	"github.com/miekg/dns"

	"github.com/cdnsteer/cdnsteer/rrl"
	"github.com/cdnsteer/cdnsteer/zones"
)

// rateLimiter returns the limiter for snap's [rrl] settings, reusing (and
// reconfiguring) the one already running; nil when rate limiting is off.
// It runs under the handler's writer lock.
func (h *Handler) rateLimiter(snap *zones.Snapshot) *rrl.Limiter {
	if snap.RRL == nil {
		return nil
	}
	cfg := *snap.RRL
	if h.limiter == nil {
		l, err := rrl.New(cfg, h.metrics.reg)
		if err != nil {
			// The policy compiler checks the same limits; reaching this
			// is a bug, and answering unlimited beats not answering.
			slog.Error("response rate limiting not started", "err", err)
			return nil
		}
		h.limiter = l
		return l
	}
	if err := h.limiter.Reconfigure(cfg); err != nil {
		slog.Error("response rate limiting not reconfigured", "err", err)
	}
	return h.limiter
}

// limit applies response rate limiting to a UDP reply of the general
// path: nil to drop it, a truncated copy to make the client retry over
// TCP, or the reply as it is.
func (q *query) limit(out []byte, resp *dns.Msg, start time.Time) []byte {
	class, name := rrl.ClassError, ""
	switch {
	case q.rcode == dns.RcodeNameError && q.z != nil:
		// Random names under one zone share one account.
		class, name = rrl.ClassNXDomain, q.z.Origin
	case q.rcode != dns.RcodeSuccess || q.z == nil:
	case !resp.Authoritative && len(resp.Ns) > 0:
		class, name = rrl.ClassReferral, resp.Ns[0].Header().Name
	case len(resp.Answer) == 0:
		class, name = rrl.ClassNoData, resp.Question[0].Name
	default:
		class, name = rrl.ClassAnswer, resp.Question[0].Name
	}
	// The limiter folds the name's case itself.
	return applyRRL(out, q.st.RRL.Decide(q.client, class, []byte(name), q.qtype, q.st.RRL.At(start)))
}
