package geo

import (
	"cmp"
	"errors"
	"fmt"
	"net/netip"
	"slices"
)

// override is one validated network spec.
type override struct {
	prefix netip.Prefix
	region int
}

// compileNetworks validates the network specs and carves them into
// disjoint prefixes, each wholly decided by one spec. That way a lookup is
// a single search, and the prefix it finds is an honest ECS scope: an
// answer for 10.2.0.0/15 carved out of 10.0.0.0/8 around 10.1.0.0/16 must
// not claim to cover 10.1.0.0/16 too. It marks in targeted the regions
// some network maps to.
func (t *Table) compileNetworks(networks []NetworkSpec, index map[string]int, targeted []bool) (prefixSet, error) {
	var errs []error
	list := make([]override, 0, len(networks))
	for i, n := range networks {
		p := n.Prefix
		if !p.IsValid() {
			errs = append(errs, fmt.Errorf("network #%d (region %q): invalid prefix", i+1, n.Region))
			continue
		}
		r, ok := index[n.Region]
		if !ok {
			errs = append(errs, fmt.Errorf("network %s: unknown region %q", p, n.Region))
			continue
		}
		if m := p.Masked(); m != p {
			// A prefix with host bits set is usually a typo for a narrower
			// or different network, so guessing would hide the mistake.
			errs = append(errs, fmt.Errorf("network %s: host bits are set (the network would be %s)", p, m))
			continue
		}
		targeted[r] = true
		list = append(list, override{unmapPrefix(p), r})
	}

	// Nested prefixes sort right after the prefix holding them; stable so
	// that conflicts are reported in the order the specs were given.
	slices.SortStableFunc(list, func(a, b override) int {
		if c := a.prefix.Addr().Compare(b.prefix.Addr()); c != 0 {
			return c
		}
		return cmp.Compare(a.prefix.Bits(), b.prefix.Bits())
	})
	uniq := list[:0]
	for _, o := range list {
		if n := len(uniq); n > 0 && uniq[n-1].prefix == o.prefix {
			prev := uniq[n-1]
			if prev.region != o.region {
				errs = append(errs, fmt.Errorf("network %s: mapped to both region %q and region %q",
					o.prefix, t.names[prev.region], t.names[o.region]))
			} else {
				t.warnings = append(t.warnings, fmt.Sprintf("network %s is listed more than once", o.prefix))
			}
			continue
		}
		uniq = append(uniq, o)
	}
	list = uniq

	type piece struct {
		prefix netip.Prefix
		region int
	}
	var pieces []piece
	inner := make([]netip.Prefix, 0, 8)
	for i, o := range list {
		inner = inner[:0]
		for _, n := range list[i+1:] {
			if !o.prefix.Contains(n.prefix.Addr()) {
				break
			}
			inner = append(inner, n.prefix)
		}
		carve(o.prefix, inner, func(p netip.Prefix) {
			pieces = append(pieces, piece{p, o.region})
		})
	}
	slices.SortFunc(pieces, func(a, b piece) int { return a.prefix.Addr().Compare(b.prefix.Addr()) })

	var b prefixSetBuilder
	for _, p := range pieces {
		if err := b.add(p.prefix, uint32(p.region)); err != nil {
			// Carving guarantees order and disjointness; failing here is a
			// bug in this file, not in the specs.
			errs = append(errs, fmt.Errorf("internal error compiling networks: %w", err))
			break
		}
	}
	return b.finish(), errors.Join(errs...)
}

// unmapPrefix turns an IPv4-mapped IPv6 prefix into the IPv4 prefix it
// stands for, since lookups unmap addresses before searching.
func unmapPrefix(p netip.Prefix) netip.Prefix {
	if p.Addr().Is4In6() && p.Bits() >= 96 {
		return netip.PrefixFrom(p.Addr().Unmap(), p.Bits()-96)
	}
	return p
}

// carve calls emit with disjoint prefixes covering exactly p minus the
// prefixes in inner, all of which lie strictly inside p.
func carve(p netip.Prefix, inner []netip.Prefix, emit func(netip.Prefix)) {
	var hit []netip.Prefix
	for _, q := range inner {
		if !q.Overlaps(p) {
			continue
		}
		if q.Bits() <= p.Bits() {
			return // q covers all of p
		}
		hit = append(hit, q)
	}
	if len(hit) == 0 {
		emit(p)
		return
	}
	lo, hi := halves(p)
	carve(lo, hit, emit)
	carve(hi, hit, emit)
}

// halves splits p, which must be shorter than a host prefix, in two.
func halves(p netip.Prefix) (lo, hi netip.Prefix) {
	a, n := p.Addr(), p.Bits()
	var up netip.Addr
	if a.Is4() {
		b := a.As4()
		b[n/8] |= 0x80 >> (n % 8)
		up = netip.AddrFrom4(b)
	} else {
		b := a.As16()
		b[n/8] |= 0x80 >> (n % 8)
		up = netip.AddrFrom16(b)
	}
	return netip.PrefixFrom(a, n+1), netip.PrefixFrom(up, n+1)
}
