package geo

import (
	"encoding/binary"
	"math/rand/v2"
	"net/netip"
	"testing"

	"github.com/oschwald/maxminddb-golang/v2"
)

// randomSet builds n disjoint IPv4 and n IPv6 prefixes, the IPv6 ones
// packed into one /16 and many longer than /64, so that the IPv6 samples
// see equal high halves.
func randomSet(tb testing.TB, n int) (prefixSet, []netip.Prefix) {
	tb.Helper()
	rng := rand.New(rand.NewPCG(5, 6))
	var b prefixSetBuilder
	var all []netip.Prefix
	add := func(p netip.Prefix) {
		if err := b.add(p, uint32(len(all))); err != nil {
			tb.Fatal(err)
		}
		all = append(all, p)
	}
	cursor := uint64(0)
	for range n {
		plen := 20 + rng.IntN(13)
		size := uint64(1) << (32 - plen)
		cursor = (cursor+size-1)&^(size-1) + size*uint64(rng.IntN(2))
		add(netip.PrefixFrom(netip.AddrFrom4([4]byte(binary.BigEndian.AppendUint32(nil, uint32(cursor)))), plen))
		cursor += size
	}
	var hi, lo uint64 = 0x2a00 << 48, 0
	for range n {
		var a [16]byte
		var plen int
		if rng.IntN(2) == 0 {
			// Several prefixes inside one /64.
			plen = 96 + rng.IntN(33)
			size := uint64(1) << (128 - plen)
			lo = (lo+size-1)&^(size-1) + size*uint64(rng.IntN(2))
			binary.BigEndian.PutUint64(a[:8], hi)
			binary.BigEndian.PutUint64(a[8:], lo)
			lo += size
			if lo > 1<<62 {
				hi, lo = hi+1, 0
			}
		} else {
			hi, lo = hi+1, 0
			plen = 40 + rng.IntN(25)
			size := uint64(1) << (64 - plen)
			hi = (hi+size-1)&^(size-1) + size*uint64(rng.IntN(2))
			binary.BigEndian.PutUint64(a[:8], hi)
			hi += size
		}
		add(netip.PrefixFrom(netip.AddrFrom16(a), plen))
	}
	return b.finish(), all
}

func TestPrefixSetIndexes(t *testing.T) {
	set, all := randomSet(t, 20000)
	if set.v4idx == nil || set.v6smp == nil {
		t.Fatal("a large set was built without its indexes")
	}
	plain := set
	plain.v4idx, plain.v6smp = nil, nil

	// Probe each prefix's first and last address and their neighbours,
	// where an off-by-one in the indexes would show.
	var probes []netip.Addr
	for _, p := range all {
		first := p.Addr()
		last := lastAddr(p)
		probes = append(probes, first, first.Prev(), last, last.Next())
	}
	for i, a := range probes {
		if !a.IsValid() {
			continue
		}
		var gv, pv uint32
		var gl, pl uint8
		var gf, pf bool
		if a.Is4() {
			gv, gl, gf = set.find4(split4(a))
			pv, pl, pf = plain.find4(split4(a))
		} else {
			hi, lo := split6(a)
			gv, gl, gf = set.find6(hi, lo)
			pv, pl, pf = plain.find6(hi, lo)
		}
		if gv != pv || gl != pl || gf != pf {
			t.Fatalf("probe %d (%s): indexed (%d,%d,%v), plain (%d,%d,%v)", i, a, gv, gl, gf, pv, pl, pf)
		}
		if gf && (!all[gv].Contains(a) || int(gl) != all[gv].Bits()) {
			t.Fatalf("probe %s: found %s /%d, which does not hold it", a, all[gv], gl)
		}
	}
}

func lastAddr(p netip.Prefix) netip.Addr {
	b := p.Addr().AsSlice()
	for i := p.Bits(); i < len(b)*8; i++ {
		b[i/8] |= 0x80 >> (i % 8)
	}
	a, _ := netip.AddrFromSlice(b)
	return a
}

func TestLookupLargeDB(t *testing.T) {
	// Large enough for the indexes; checked against maxminddb's own walk.
	raw := syntheticDB(t, 20000, 10000)
	r, err := maxminddb.OpenBytes(raw)
	if err != nil {
		t.Fatal(err)
	}
	path := t.TempDir() + "/large.mmdb"
	db := openBytes(t, path, raw)
	if db.nets.v4idx == nil || db.nets.v6smp == nil {
		t.Fatal("database built without indexes")
	}
	tbl := mustTable(t, []RegionSpec{{Name: "rest", Codes: []string{"*"}}}, nil)
	for _, v6 := range []bool{false, true} {
		for _, a := range sampleAddrs(20000, v6) {
			got := tbl.Lookup(db, a)
			res := r.Lookup(a)
			var rec geoRecord
			if err := res.Decode(&rec); err != nil {
				t.Fatal(err)
			}
			var want [2]byte
			copy(want[:], rec.Country.ISOCode)
			if got.Country != want {
				t.Fatalf("Lookup(%s).Country = %q, want %q", a, got.Country[:], want[:])
			}
			if res.Found() && int(got.Bits) != res.Prefix().Bits() {
				t.Fatalf("Lookup(%s).Bits = %d, want %d", a, got.Bits, res.Prefix().Bits())
			}
			if !res.Found() && int(got.Bits) > res.Prefix().Bits() {
				t.Fatalf("Lookup(%s).Bits = %d, longer than the empty node /%d", a, got.Bits, res.Prefix().Bits())
			}
		}
	}
}
