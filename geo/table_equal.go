package geo

import (
	"maps"
	"slices"
)

// Equal reports whether t and u map every address to the same region
// index and warn alike: a reload that leaves the regions and networks as
// they were can keep the table in force, and with it the subnet map the
// nameserver built from it (about 140 ms and 70 MB of allocation with a
// ~500k-network country database), rather than build both again.
func (t *Table) Equal(u *Table) bool {
	if t == u {
		return true
	}
	if t == nil || u == nil {
		return false
	}
	return slices.Equal(t.names, u.names) && slices.Equal(t.warnings, u.warnings) &&
		t.byCountry == u.byCountry && t.byContinent == u.byContinent && t.star == u.star &&
		maps.Equal(t.byASN, u.byASN) && t.overrides.equal(&u.overrides)
}

// equal compares the prefixes and values; the indexes (v4idx, v6smp) are
// built from them.
func (s *prefixSet) equal(o *prefixSet) bool {
	return slices.Equal(s.v4, o.v4) && slices.Equal(s.v4val, o.v4val) &&
		slices.Equal(s.v6hi, o.v6hi) && slices.Equal(s.v6lo, o.v6lo) && slices.Equal(s.v6val, o.v6val)
}
