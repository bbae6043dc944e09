package rrl

import (
	"hash/maphash"
	"net/netip"
	"time"

	"github.com/prometheus/client_golang/prometheus"
)

// Limiter decides, for each UDP response, whether to send it. It is safe
// for concurrent use and takes no lock: see table.go.
type Limiter struct {
	rules   rules
	table   table
	mask    netmask
	seed    maphash.Seed
	exempt  []netip.Prefix
	logOnly bool
	epoch   time.Time
	// clock is Now; tests replace it to drive the scrape-time scan on
	// simulated time.
	clock  func() int64
	counts *counts
}

// New makes a Limiter for cfg, after validating it, and registers its
// metrics on reg (none when reg is nil):
//
//	cdnsteer_rrl_responses_total{action="pass|drop|slip|would_limit"}
//	cdnsteer_rrl_table_entries
func New(cfg Config, reg prometheus.Registerer) (*Limiter, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	cfg = cfg.withDefaults()
	l := &Limiter{
		rules:   newRules(cfg),
		table:   newTable(cfg.TableSize),
		mask:    newNetmask(cfg.IPv4Prefix, cfg.IPv6Prefix),
		seed:    maphash.MakeSeed(),
		exempt:  normalizePrefixes(cfg.Exempt),
		logOnly: cfg.LogOnly,
		epoch:   time.Now(),
		counts:  new(counts),
	}
	l.clock = l.Now
	if reg != nil {
		if err := reg.Register(&collector{l: l}); err != nil {
			return nil, err
		}
	}
	return l, nil
}

// normalizePrefixes masks the exempt prefixes and turns IPv4-mapped ones
// into IPv4, since Decide compares them with unmapped addresses.
func normalizePrefixes(ps []netip.Prefix) []netip.Prefix {
	out := make([]netip.Prefix, 0, len(ps))
	for _, p := range ps {
		if a := p.Addr(); a.Is4In6() && p.Bits() >= 96 {
			p = netip.PrefixFrom(a.Unmap(), p.Bits()-96)
		}
		out = append(out, p.Masked())
	}
	return out
}

// Now is the Limiter's clock: monotonic nanoseconds since New. It is
// what Decide's now must be measured on; wall-clock time would let a
// clock step forgive or punish every client at once.
func (l *Limiter) Now() int64 { return int64(time.Since(l.epoch)) }

// At is t on the Limiter's clock, for a caller that already read the
// time when the query arrived (t must carry a monotonic reading, as
// time.Now's does).
func (l *Limiter) At(t time.Time) int64 { return int64(t.Sub(l.epoch)) }

// Decide accounts one UDP response and says what to do with it: Pass
// (send it), Drop (send nothing) or Slip (send Truncate's form of it).
// Never call it for TCP.
//
// name is what the class keys on (see Class): the query name for
// ClassAnswer and ClassNoData, the zone's name for ClassNXDomain, the
// delegation's for ClassReferral, ignored for ClassError. Wire or text
// form, as long as one caller always uses the same form; letter case
// does not matter. qtype matters for ClassAnswer only. An unknown class
// counts as ClassError. now is on the Limiter's clock (Now or At).
//
// Decide takes no lock and allocates nothing.
func (l *Limiter) Decide(client netip.Addr, class Class, name []byte, qtype uint16, now int64) Action {
	if class >= numClasses {
		class = ClassError
	}
	if len(l.exempt) > 0 && l.isExempt(client) {
		l.counts.add(0, countPass)
		return Pass
	}
	h := hashKey(l.seed, l.mask, client, class, name, qtype)
	act := l.table.account(&l.rules, h, class, uint64(now/1000))
	switch {
	case act == Pass:
		l.counts.add(h, countPass)
	case l.logOnly:
		l.counts.add(h, countWouldLimit)
		act = Pass
	case act == Drop:
		l.counts.add(h, countDrop)
	default:
		l.counts.add(h, countSlip)
	}
	return act
}

func (l *Limiter) isExempt(client netip.Addr) bool {
	client = client.Unmap()
	for _, p := range l.exempt {
		if p.Contains(client) {
			return true
		}
	}
	return false
}
