package zones

// Absent tells whether a lower-case, fully qualified name inside z does
// not exist and is not at or below a zone cut: the answer is NXDOMAIN. It
// takes bytes so that the query path need not build a string.
func (z *Zone) Absent(name []byte) bool {
	if z.nodes[string(name)] != nil {
		return false
	}
	for off := 0; len(name)-off > len(z.Origin); {
		if n := z.nodes[string(name[off:])]; n != nil && n.Delegation {
			return false
		}
		off = nextLabel(name, off)
	}
	return true
}

// ZoneOf returns the zone with the longest origin that contains a
// lower-case, fully qualified name, without building a string. Suffixes
// longer than every origin are skipped unhashed: a flood of long random
// names costs one map lookup per label of the origins' depth, not per
// label of the name.
func (s *Snapshot) ZoneOf(name []byte) *Zone {
	for off := 0; off < len(name); {
		if len(name)-off <= s.longestOrigin {
			if z := s.byOrigin[string(name[off:])]; z != nil {
				return z
			}
		}
		off = nextLabel(name, off)
	}
	return s.byOrigin["."]
}

// nextLabel returns where the label after the one at off begins in a
// name in presentation form. An escaped dot (x\.live) is part of its
// label, not the end of it.
func nextLabel(name []byte, off int) int {
	for off < len(name) && name[off] != '.' {
		if name[off] == '\\' {
			off++
		}
		off++
	}
	return off + 1
}
