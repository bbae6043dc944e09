package geo

import (
	"encoding/binary"
	"net/netip"
)

// The IPv6 half of SubnetMap answers by /56, the client subnet the
// nameserver picks a CDN for, as the IPv4 half answers by /24. IPv6
// space cannot be indexed flat, and its networks crowd into a few /12s,
// so it is a trie: a root entry per /16 (128 KiB, like the IPv4 map's top
// level), then nodes of 256 entries, each stepping 8 bits (/24, /32, /40,
// /48), whose entries hold either the value every address below them gets
// or the next node. A lookup reads at most five small nodes after the
// root, with no search whose length grows with the database; a /32
// allocation answers in three reads. Nodes whose entries are all values
// (most of them) are leaves of one byte per entry, half the size.
//
// Only prefixes whose /56s some network sets apart get a node (a prefix
// that networks divide but that gets one region and source throughout
// is one entry), so a policy of a few regions keeps the trie small.
// Nodes are made breadth first within maxTrieBytes: should a database
// with many regions need more, the deepest (narrowest) prefixes are left
// to Table.LookupASN, never the wide ones.

// maxTrieBytes bounds the nodes to 8 MiB, as maxBlocks bounds the IPv4
// map; a variable only so that a test can make a small trie run out.
var maxTrieBytes = 8 << 20

const (
	// nodeFlag marks an entry that indexes a node rather than values;
	// leafFlag with it, a leaf. The low bits are the node's number.
	nodeFlag  = 1 << 15
	leafFlag  = 1 << 14
	indexMask = leafFlag - 1
	// pendingEntry marks, while building, an entry whose /56s differ: it
	// becomes a node (or slowValue) later.
	pendingEntry = nodeFlag - 1
	// subnetBits6 is the length of the IPv6 client subnet.
	subnetBits6 = 56
)

// subnetMap6 is the IPv6 trie.
type subnetMap6 struct {
	root   [1 << 16]uint16 // by /16: a value index, or a node
	nodes  []uint16        // 256 entries per inner node, by the next 8 bits
	leaves []uint8         // 256 value indexes per leaf, likewise
}

// pending6 is a prefix waiting for its node; slot is where its entry is
// (an index into nodes, or -1-i for root[i]).
type pending6 struct {
	first uint64 // the prefix's top 64 bits
	bits  uint8
	slot  int
}

// build6 fills m.v6 from what Table.LookupASN answers for IPv6.
func (m *SubnetMap) build6(t *Table, db *DB) {
	r := &m.v6
	var queue []pending6
	m.fill6(t, db, r.root[:], 0, 0, 16)
	for i, e := range r.root {
		if e == pendingEntry {
			queue = append(queue, pending6{uint64(i) << 48, 16, -1 - i})
		}
	}
	var block [256]uint16
	for len(queue) > 0 {
		p := queue[0]
		queue = queue[1:]
		m.fill6(t, db, block[:], p.first, p.bits, p.bits+8)
		leaf := true
		for _, e := range block {
			leaf = leaf && e != pendingEntry
		}
		switch {
		case leaf && len(r.leaves)>>8 < indexMask && r.bytes()+256 <= maxTrieBytes:
			r.set(p.slot, nodeFlag|leafFlag|uint16(len(r.leaves)>>8))
			for _, e := range block {
				r.leaves = append(r.leaves, uint8(e))
			}
		case !leaf && len(r.nodes)>>8 < indexMask && r.bytes()+512 <= maxTrieBytes:
			node := len(r.nodes) >> 8
			r.set(p.slot, nodeFlag|uint16(node))
			r.nodes = append(r.nodes, block[:]...)
			for i, e := range block {
				if e == pendingEntry {
					queue = append(queue, pending6{p.first | uint64(i)<<(56-p.bits), p.bits + 8, node<<8 | i})
				}
			}
		default:
			r.set(p.slot, slowValue)
		}
	}
}

// bytes is the size of the nodes.
func (r *subnetMap6) bytes() int { return 2*len(r.nodes) + len(r.leaves) }

func (r *subnetMap6) set(slot int, e uint16) {
	if slot < 0 {
		r.root[-1-slot] = e
		return
	}
	r.nodes[slot] = e
}

// fill6 sets block, whose entries are the prefixes of length entryBits
// inside first/bits, halving the prefix only where a network divides it.
func (m *SubnetMap) fill6(t *Table, db *DB, block []uint16, first uint64, bits, entryBits uint8) {
	v := m.uniform6(t, db, first, bits)
	if v == pendingEntry && bits < entryBits {
		half := len(block) / 2
		m.fill6(t, db, block[:half], first, bits+1, entryBits)
		m.fill6(t, db, block[half:], first|1<<(63-bits), bits+1, entryBits)
		return
	}
	if v == pendingEntry {
		v = m.value6(t, db, first, bits)
	}
	for i := range block {
		block[i] = v
	}
}

// value6 returns the entry for first/bits, which a network divides: the
// value its every /56 gets (slowValue when each of them is split), or
// pendingEntry when they differ and a node must tell them apart. Networks
// often divide a prefix without changing its region — neighbours in two
// countries of one region, or of countries no region lists — and such a
// prefix needs no node. It stops at the first difference.
func (m *SubnetMap) value6(t *Table, db *DB, first uint64, bits uint8) uint16 {
	if bits >= subnetBits6 {
		return slowValue
	}
	a := m.uniform6(t, db, first, bits+1)
	if a == pendingEntry {
		if a = m.value6(t, db, first, bits+1); a == pendingEntry {
			return pendingEntry
		}
	}
	second := first | 1<<(63-bits)
	b := m.uniform6(t, db, second, bits+1)
	if b == pendingEntry {
		b = m.value6(t, db, second, bits+1)
	}
	if a != b {
		return pendingEntry
	}
	return a
}

// uniform6 is uniform for the IPv6 prefix whose top 64 bits are first
// (bits at most 64, the rest zero), except that a prefix some network
// divides is pendingEntry: slowValue is kept for running out of values,
// which no node would help.
func (m *SubnetMap) uniform6(t *Table, db *DB, first uint64, bits uint8) uint16 {
	region, plen, found := t.overrides.find6(first, 0)
	if plen > bits {
		return pendingEntry
	}
	if found {
		return uint16(m.intern(subnetValue{int16(region), SourceNetwork}))
	}
	if m.ar != nil {
		h, alen, found := m.ar.nets.find6(first, 0)
		if alen > bits {
			return pendingEntry
		}
		if found {
			return uint16(m.intern(subnetValue{m.ar.hits[h].region, SourceASN}))
		}
	}
	var res Result
	if db == nil {
		res = t.fallback(0, [2]byte{})
	} else {
		class, dlen, found := db.nets.find6(first, 0)
		if dlen > bits {
			return pendingEntry
		}
		res = t.fromDB(db, class, 0, found)
	}
	return uint16(m.intern(subnetValue{int16(res.Region), res.Source}))
}

// Lookup56 returns the region and source Table.LookupASN gives every
// address of addr's /56 — with an ECS scope of at most 56 — or ok false
// when addr is not IPv6 (IPv4-mapped addresses are IPv4) or a narrower
// network splits its /56. It takes no lock and does not allocate.
func (m *SubnetMap) Lookup56(addr netip.Addr) (region int, source Source, ok bool) {
	if !addr.Is6() || addr.Is4In6() {
		return 0, SourceNone, false
	}
	b := addr.As16()
	v := m.v6.lookup(binary.BigEndian.Uint64(b[:8]))
	if v == slowValue {
		return 0, SourceNone, false
	}
	x := m.values[v]
	return int(x.region), x.source, true
}

// lookup returns the value index for the address whose top bits are hi.
func (r *subnetMap6) lookup(hi uint64) uint8 {
	e := r.root[hi>>48]
	// Nodes at /48 hold only values: at most four steps follow the root.
	for shift := uint(40); e&nodeFlag != 0; shift -= 8 {
		i := int(e&indexMask)<<8 | int(hi>>shift&0xff)
		if e&leafFlag != 0 {
			return r.leaves[i]
		}
		e = r.nodes[i]
	}
	return uint8(e)
}

// LookupSubnet answers for addr's client subnet — its /24 for IPv4, its
// /56 for IPv6 — as Lookup24 and Lookup56 do, with bits that subnet's
// length; ok false leaves addr to Table.LookupASN.
func (m *SubnetMap) LookupSubnet(addr netip.Addr) (region int, source Source, bits uint8, ok bool) {
	if addr.Is4() || addr.Is4In6() {
		region, source, ok = m.Lookup24(addr)
		return region, source, 24, ok
	}
	region, source, ok = m.Lookup56(addr)
	return region, source, subnetBits6, ok
}

// Nodes6 is the number of IPv6 trie nodes (inner nodes and leaves), for
// logs and tests.
func (m *SubnetMap) Nodes6() int { return len(m.v6.nodes)>>8 + len(m.v6.leaves)>>8 }

// Bytes6 is the size of the IPv6 trie's nodes, for logs and tests.
func (m *SubnetMap) Bytes6() int { return m.v6.bytes() }
