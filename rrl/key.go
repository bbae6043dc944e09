package rrl

import (
	"encoding/binary"
	"hash/maphash"
	"net/netip"
)

// netmask groups client addresses into networks: an attacker who forges
// one victim address can forge its neighbours just as well, so limiting
// per address would multiply the allowance by the size of the network.
type netmask struct {
	v4       uint32
	v6, v6lo uint64
}

func newNetmask(v4bits, v6bits int) netmask {
	return netmask{
		v4:   ^uint32(0) << (32 - v4bits),
		v6:   leftBits(v6bits),
		v6lo: leftBits(v6bits - 64),
	}
}

// leftBits is a 64-bit mask of the n leftmost bits, n clamped to 0…64.
func leftBits(n int) uint64 {
	switch {
	case n <= 0:
		return 0
	case n >= 64:
		return ^uint64(0)
	}
	return ^uint64(0) << (64 - n)
}

// network is the client's masked network as two words and a family (4,
// 6, or 0 for an invalid address, which then shares one network).
// IPv4-mapped IPv6 addresses, as a dual-stack socket reports IPv4
// clients, count as IPv4 so that they group by the IPv4 prefix.
func (m netmask) network(a netip.Addr) (hi, lo, family uint64) {
	a = a.Unmap()
	switch {
	case a.Is4():
		b := a.As4()
		return 0, uint64(binary.BigEndian.Uint32(b[:]) & m.v4), 4
	case a.Is6():
		b := a.As16()
		return binary.BigEndian.Uint64(b[:8]) & m.v6, binary.BigEndian.Uint64(b[8:]) & m.v6lo, 6
	}
	return 0, 0, 0
}

// hashKey is the bucket's 64-bit identity: a hash of the client's
// network, the class, the query type and the case-folded name, as far as
// the class keys on them. The hash is seeded per Limiter at random, so a
// forger cannot aim a flood at a particular victim's bucket or slot.
func hashKey(seed maphash.Seed, m netmask, client netip.Addr, class Class, name []byte, qtype uint16) uint64 {
	hi, lo, family := m.network(client)
	useName, useType := class.keyed()
	meta := family<<24 | uint64(class)<<16
	if useType {
		meta |= uint64(qtype)
	}
	// The fixed-size parts, then the name: one buffer and one call to
	// the hash for all but absurdly long names.
	var buf [128]byte
	binary.LittleEndian.PutUint64(buf[0:], hi)
	binary.LittleEndian.PutUint64(buf[8:], lo)
	binary.LittleEndian.PutUint64(buf[16:], meta)
	const fixed = 24
	if !useName {
		return maphash.Bytes(seed, buf[:fixed])
	}
	if len(name) > len(buf)-fixed {
		return hashLong(seed, buf[:fixed], name)
	}
	fold(buf[fixed:], name)
	return maphash.Bytes(seed, buf[:fixed+len(name)])
}

// fold copies name into dst with ASCII letters lower-cased. Folding
// here, not trusting the caller, matters: resolvers randomise the case
// of query names (0x20 bit encoding), and an attacker could do the same
// to spread one name over thousands of buckets. Wire-format length
// octets are below 64 and never mistaken for letters.
func fold(dst, name []byte) {
	dst = dst[:len(name)]
	for i, c := range name {
		if c-'A' < 26 {
			c += 'a' - 'A'
		}
		dst[i] = c
	}
}

// hashLong is hashKey for a name too long for its buffer (text form
// with many escapes, say): the same bytes, streamed in chunks.
func hashLong(seed maphash.Seed, fixed, name []byte) uint64 {
	var h maphash.Hash
	h.SetSeed(seed)
	h.Write(fixed)
	var buf [64]byte
	for len(name) > 0 {
		n := min(len(name), len(buf))
		fold(buf[:], name[:n])
		h.Write(buf[:n])
		name = name[n:]
	}
	return h.Sum64()
}
