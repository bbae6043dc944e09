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
func (m netmask) network(a netip.Addr) (hi, lo uint64, family uint64) {
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

// keyParts is everything that identifies a bucket, fixed-size so that
// hashing it needs no allocation.
type keyParts struct {
	hi, lo uint64 // client network
	meta   uint64 // family, class, query type
	name   uint64 // hash of the case-folded name
}

// hashKey is the bucket's 64-bit identity. The hash is seeded per
// Limiter with a random seed, so a forger cannot aim a flood at a
// particular victim's bucket or table slot.
func hashKey(seed maphash.Seed, m netmask, client netip.Addr, class Class, name []byte, qtype uint16) uint64 {
	hi, lo, family := m.network(client)
	useName, useType := class.keyed()
	k := keyParts{hi: hi, lo: lo, meta: family<<24 | uint64(class)<<16}
	if useType {
		k.meta |= uint64(qtype)
	}
	if useName {
		k.name = foldedHash(seed, name)
	}
	return maphash.Comparable(seed, k)
}

// foldedHash hashes name with ASCII letters lower-cased. Folding here,
// not trusting the caller, matters: resolvers randomise the case of
// query names (0x20 bit encoding), and an attacker could do the same to
// spread one name over thousands of buckets. Wire-format length octets
// are below 64 and never mistaken for letters.
func foldedHash(seed maphash.Seed, name []byte) uint64 {
	var h maphash.Hash
	h.SetSeed(seed)
	var buf [64]byte
	for len(name) > 0 {
		n := copy(buf[:], name)
		for i, c := range buf[:n] {
			if c-'A' < 26 {
				buf[i] = c + 'a' - 'A'
			}
		}
		h.Write(buf[:n])
		name = name[n:]
	}
	return h.Sum64()
}
