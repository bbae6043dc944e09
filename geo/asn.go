package geo

import (
	"context"
	"fmt"
	"net/netip"
	"os"
	"strconv"

	"github.com/oschwald/maxminddb-golang/v2"
)

// ASNDB is an autonomous-system database (GeoLite2-ASN or GeoIP2-ISP
// layout) reduced to each network's AS number. Like DB it keeps nothing of
// the file and is immutable once built.
type ASNDB struct {
	info DBInfo
	nets prefixSet // value = index into asns
	asns []uint32  // distinct AS numbers
}

// asnRecord is the part of an ASN or ISP record routing needs.
type asnRecord struct {
	ASN uint32 `maxminddb:"autonomous_system_number"`
}

// OpenASNDB reads a GeoLite2-ASN or GeoIP2-ISP database.
func OpenASNDB(path string) (*ASNDB, error) {
	a, _, err := loadASNDB(context.Background(), path)
	return a, err
}

// Info describes the database; Countries is always zero.
func (a *ASNDB) Info() DBInfo { return a.info }

// Lookup returns the AS number the database gives addr, and the length of
// its network (in addr's own family), or ok false when it lists none.
func (a *ASNDB) Lookup(addr netip.Addr) (asn uint32, bits uint8, ok bool) {
	if a == nil {
		return 0, 0, false
	}
	addr = addr.Unmap()
	var v uint32
	switch {
	case addr.Is4():
		v, bits, ok = a.nets.find4(split4(addr))
	case addr.Is6():
		hi, lo := split6(addr)
		v, bits, ok = a.nets.find6(hi, lo)
	}
	if !ok {
		return 0, bits, false
	}
	return a.asns[v], bits, true
}

func loadASNDB(ctx context.Context, path string) (*ASNDB, os.FileInfo, error) {
	buf, fi, err := readFile(path)
	if err != nil {
		return nil, nil, fmt.Errorf("read ASN database: %w", err)
	}
	r, err := maxminddb.OpenBytes(buf)
	if err != nil {
		return nil, fi, fmt.Errorf("open ASN database %s: not a MaxMind DB file: %w", path, err)
	}
	a, err := buildASN(ctx, r)
	if err != nil {
		return nil, fi, fmt.Errorf("load ASN database %s: %w", path, err)
	}
	a.info.Path = path
	return a, fi, nil
}

func buildASN(ctx context.Context, r *maxminddb.Reader) (*ASNDB, error) {
	a := &ASNDB{info: DBInfo{Type: r.Metadata.DatabaseType, BuildTime: r.Metadata.BuildTime()}}
	index := make(map[uint32]uint32)
	nets, n, err := readNetworks(ctx, r, func(res maxminddb.Result) (uint32, error) {
		var rec asnRecord
		if err := res.Decode(&rec); err != nil {
			return 0, err
		}
		if rec.ASN == 0 {
			return noData, nil
		}
		i, ok := index[rec.ASN]
		if !ok {
			i = uint32(len(a.asns))
			index[rec.ASN] = i
			a.asns = append(a.asns, rec.ASN)
		}
		return i, nil
	})
	if err != nil {
		return nil, err
	}
	a.info.Networks = n
	if len(a.asns) == 0 {
		return nil, fmt.Errorf("database type %q has no autonomous_system_number (want a GeoLite2-ASN or GeoIP2-ISP database)",
			a.info.Type)
	}
	if len(a.asns) > maxSetValue {
		return nil, fmt.Errorf("more than %d distinct AS numbers", maxSetValue)
	}
	a.nets = nets
	return a, nil
}

// parseASN reads the number of an "asn:N" code.
func parseASN(code, num string) (uint32, error) {
	n, err := strconv.ParseUint(num, 10, 32)
	if err != nil || n == 0 || num[0] == '+' || num[0] == '0' {
		return 0, fmt.Errorf("%q: %q is not an AS number (want asn: and a number from 1 to 4294967295)", code, num)
	}
	return uint32(n), nil
}

// ASNRegions is an ASN database narrowed to the networks whose AS a
// table's regions list, each valued with its region. Networks of other
// ASes decide nothing, so leaving them out keeps the per-/24 map whole
// where they would split it, and keeps ECS scopes as wide as honest.
type ASNRegions struct {
	nets prefixSet // value = index into hits
	hits []asnHit
}

type asnHit struct {
	region int16
	asn    uint32
}

// NewASNRegions narrows a to the ASes t lists. It returns nil, which
// lookups take as "no ASN regions", when either is nil or t lists none.
func NewASNRegions(t *Table, a *ASNDB) *ASNRegions {
	if t == nil || a == nil || len(t.byASN) == 0 {
		return nil
	}
	hitOf := make([]int32, len(a.asns)) // asns index -> hits index, -1 unlisted
	ar := &ASNRegions{}
	for i, asn := range a.asns {
		hitOf[i] = -1
		if r, ok := t.byASN[asn]; ok {
			hitOf[i] = int32(len(ar.hits))
			ar.hits = append(ar.hits, asnHit{region: r, asn: asn})
		}
	}
	if len(ar.hits) == 0 {
		return nil
	}
	var b prefixSetBuilder
	s := &a.nets
	for i, start := range s.v4 {
		v := s.v4val[i]
		if h := hitOf[v>>8]; h >= 0 {
			// Members of a built set are valid and ordered, so add cannot
			// fail here.
			_ = b.add(netip.PrefixFrom(netip.AddrFrom4(be4(start)), int(v&0xff)), uint32(h))
		}
	}
	for i := range s.v6hi {
		v := s.v6val[i]
		if h := hitOf[v>>8]; h >= 0 {
			_ = b.add(netip.PrefixFrom(join6(s.v6hi[i], s.v6lo[i]), int(v&0xff)), uint32(h))
		}
	}
	ar.nets = b.finish()
	return ar
}

func be4(a uint32) [4]byte { return [4]byte{byte(a >> 24), byte(a >> 16), byte(a >> 8), byte(a)} }

func join6(hi, lo uint64) netip.Addr {
	var b [16]byte
	for i := range 8 {
		b[i] = byte(hi >> (56 - 8*i))
		b[8+i] = byte(lo >> (56 - 8*i))
	}
	return netip.AddrFrom16(b)
}
