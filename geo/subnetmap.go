package geo

import "net/netip"

// SubnetMap is a Table and a DB folded into one lookup by IPv4 /24, the
// unit the nameserver steers by. A search of half a million database
// networks touches three or four cache lines scattered over megabytes —
// the largest user-space cost of a steered answer with a client subnet —
// while a policy has a handful of regions and most /16s of address space
// map wholly to one of them. So the map keeps one small entry per /16
// (128 KiB, which stays in cache) holding either the region every address
// in it gets, or a 256-byte block of per-/24 entries for the /16s whose
// /24s differ. A /24 that a network narrower than /24 splits is left to
// Table.Lookup. IPv6 clients have a map of their own by /56 (see
// subnetmap6.go), sharing the values.
//
// It is immutable once built.
type SubnetMap struct {
	top    [1 << 16]uint16 // by /16: a value index, or blockFlag|block number
	blocks []uint8         // 256 value indexes per block, by the /24's third octet
	v6     subnetMap6
	values []subnetValue // distinct outcomes; index slowValue is never used
	ar     *ASNRegions   // consulted while building only, then nil
}

// subnetValue is what Lookup24 reports for a /24.
type subnetValue struct {
	region int16
	source Source
}

const (
	blockFlag = 1 << 15
	maxBlocks = blockFlag - 1
	// slowValue marks a /24 that Table.Lookup must decide.
	slowValue = 0xff
)

// NewSubnetMap builds the map for t with db, which may be nil.
func NewSubnetMap(t *Table, db *DB) *SubnetMap { return NewSubnetMapASN(t, db, nil) }

// NewSubnetMapASN builds the map for t with db and ASN regions ar, either
// of which may be nil: the map answers as Table.LookupASN does.
func NewSubnetMapASN(t *Table, db *DB, ar *ASNRegions) *SubnetMap {
	m := &SubnetMap{ar: ar}
	var block [256]uint8
	for k := range m.top {
		first := uint32(k) << 16
		if v := m.uniform(t, db, first, 16); v != slowValue {
			m.top[k] = uint16(v)
			continue
		}
		m.fill(t, db, block[:], first, 16)
		same := true
		for _, v := range block {
			same = same && v == block[0]
		}
		switch {
		case same:
			m.top[k] = uint16(block[0])
		case len(m.blocks)>>8 >= maxBlocks:
			m.top[k] = slowValue
		default:
			m.top[k] = blockFlag | uint16(len(m.blocks)>>8)
			m.blocks = append(m.blocks, block[:]...)
		}
	}
	m.build6(t, db)
	m.ar = nil
	return m
}

// fill sets block, which holds the /24s of first/bits, halving the prefix
// only where a network divides it: far fewer searches than one per /24.
func (m *SubnetMap) fill(t *Table, db *DB, block []uint8, first uint32, bits uint8) {
	v := m.uniform(t, db, first, bits)
	if v != slowValue || bits == 24 {
		for i := range block {
			block[i] = v
		}
		return
	}
	half := len(block) / 2
	m.fill(t, db, block[:half], first, bits+1)
	m.fill(t, db, block[half:], first|1<<(31-bits), bits+1)
}

// uniform returns the value index of what Table.Lookup answers for every
// address of the prefix first/bits, or slowValue when the answer is not the
// same throughout: an override or database network lies partly inside.
func (m *SubnetMap) uniform(t *Table, db *DB, first uint32, bits uint8) uint8 {
	// find4's length is the found network's, or else the shortest prefix
	// around the address that overlaps no member: either way, at most bits
	// means that nothing in the set divides first/bits.
	region, plen, found := t.overrides.find4(first)
	if plen > bits {
		return slowValue
	}
	if found {
		return m.intern(subnetValue{int16(region), SourceNetwork})
	}
	if m.ar != nil {
		h, alen, found := m.ar.nets.find4(first)
		if alen > bits {
			return slowValue
		}
		if found {
			return m.intern(subnetValue{m.ar.hits[h].region, SourceASN})
		}
	}
	var res Result
	if db == nil {
		res = t.fallback(0, [2]byte{})
	} else {
		class, dlen, found := db.nets.find4(first)
		if dlen > bits {
			return slowValue
		}
		res = t.fromDB(db, class, 0, found)
	}
	return m.intern(subnetValue{int16(res.Region), res.Source})
}

// intern returns v's index in values, adding it when new; when there are
// too many distinct values to index in a byte, v is left to the slow path.
func (m *SubnetMap) intern(v subnetValue) uint8 {
	for i, w := range m.values {
		if w == v {
			return uint8(i)
		}
	}
	if len(m.values) >= slowValue {
		return slowValue
	}
	m.values = append(m.values, v)
	return uint8(len(m.values) - 1)
}

// Lookup24 returns the region and source Table.Lookup gives every address
// of addr's /24 — with an ECS scope of at least 24 — or ok false when addr
// is not IPv4 or a narrower network splits its /24. Region is -1 where
// Table.Lookup's is. It takes no lock and does not allocate.
func (m *SubnetMap) Lookup24(addr netip.Addr) (region int, source Source, ok bool) {
	addr = addr.Unmap()
	if !addr.Is4() {
		return 0, SourceNone, false
	}
	a := addr.As4()
	e := m.top[uint16(a[0])<<8|uint16(a[1])]
	v := uint8(e)
	if e&blockFlag != 0 {
		v = m.blocks[int(e&^blockFlag)<<8|int(a[2])]
	}
	if v == slowValue {
		return 0, SourceNone, false
	}
	x := m.values[v]
	return int(x.region), x.source, true
}

// Blocks is the number of /16s kept as per-/24 blocks, for logs and tests.
func (m *SubnetMap) Blocks() int { return len(m.blocks) >> 8 }
