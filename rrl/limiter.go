package rrl

import (
	"hash/maphash"
	"net/netip"
	"sync"
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus"
)

// Limiter decides, for each UDP response, whether to send it. It is safe
// for concurrent use and takes no lock: see table.go.
type Limiter struct {
	policy atomic.Pointer[policy]
	seed   maphash.Seed
	epoch  time.Time
	// clock is Now; tests replace it to drive the scrape-time scan on
	// simulated time.
	clock  func() int64
	counts *counts
	// mu serialises Reconfigure; Decide never takes it.
	mu sync.Mutex
}

// policy is one configuration, compiled; Reconfigure swaps it whole so
// that a response never sees half of an old policy and half of a new.
type policy struct {
	cfg     Config // with defaults filled in
	rules   rules
	table   *table
	mask    netmask
	exempt  []netip.Prefix
	logOnly bool
}

// New makes a Limiter for cfg, after validating it, and registers its
// metrics on reg (none when reg is nil):
//
//	cdnsteer_rrl_responses_total{action="pass|drop|slip|would_limit"}
//	cdnsteer_rrl_table_entries
//
// One Limiter serves for the life of the process: to apply a changed
// policy, Reconfigure it rather than make another, which could not
// register the same metrics again.
func New(cfg Config, reg prometheus.Registerer) (*Limiter, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	l := &Limiter{seed: maphash.MakeSeed(), epoch: time.Now(), counts: new(counts)}
	l.clock = l.Now
	l.policy.Store(compile(cfg.withDefaults(), nil))
	if reg != nil {
		if err := reg.Register(&collector{l: l}); err != nil {
			return nil, err
		}
	}
	return l, nil
}

// Reconfigure puts cfg in force for the responses that follow. Buckets
// carry over unless table_size changed, so a policy reload does not
// forgive the clients being limited; a shorter window forgives debts
// longer than the new one. An invalid cfg changes nothing.
func (l *Limiter) Reconfigure(cfg Config) error {
	if err := cfg.Validate(); err != nil {
		return err
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	l.policy.Store(compile(cfg.withDefaults(), l.policy.Load()))
	return nil
}

// compile makes cfg's policy, reusing old's table if it has the size.
func compile(cfg Config, old *policy) *policy {
	p := &policy{
		cfg:     cfg,
		rules:   newRules(cfg),
		mask:    newNetmask(cfg.IPv4Prefix, cfg.IPv6Prefix),
		exempt:  normalizePrefixes(cfg.Exempt),
		logOnly: cfg.LogOnly,
	}
	if old != nil && old.cfg.TableSize == cfg.TableSize {
		p.table = old.table
	} else {
		p.table = newTable(cfg.TableSize)
	}
	return p
}

// normalizePrefixes parses the exempt prefixes (Validate has checked
// them) and turns IPv4-mapped ones into IPv4, since Decide compares them
// with unmapped addresses.
func normalizePrefixes(ps []string) []netip.Prefix {
	out := make([]netip.Prefix, 0, len(ps))
	for _, s := range ps {
		p, err := netip.ParsePrefix(s)
		if err != nil {
			continue
		}
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
// Never call it for TCP. A nil Limiter passes everything, so that a
// server without rate limiting needs no special case.
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
	if l == nil {
		return Pass
	}
	p := l.policy.Load()
	if class >= numClasses {
		class = ClassError
	}
	if len(p.exempt) > 0 && p.isExempt(client) {
		l.counts.add(0, countPass)
		return Pass
	}
	h := hashKey(l.seed, p.mask, client, class, name, qtype)
	act := p.table.account(&p.rules, h, class, uint64(now/1000))
	switch {
	case act == Pass:
		l.counts.add(h, countPass)
	case p.logOnly:
		l.counts.add(h, countWouldLimit)
		act = Pass
	case act == Drop:
		l.counts.add(h, countDrop)
	default:
		l.counts.add(h, countSlip)
	}
	return act
}

func (p *policy) isExempt(client netip.Addr) bool {
	client = client.Unmap()
	for _, e := range p.exempt {
		if e.Contains(client) {
			return true
		}
	}
	return false
}
