package geo

import "net/netip"

// Source says which step of the lookup decided a Result.
type Source uint8

const (
	// SourceNone means nothing matched and no region lists "*"; the caller
	// should use its own default. It is the zero value so that an unset
	// Result never claims a match.
	SourceNone Source = iota
	// SourceNetwork means a network spec (CIDR override) matched.
	SourceNetwork
	// SourceCountry means the database's country matched a region.
	SourceCountry
	// SourceContinent means the database's continent matched a region.
	SourceContinent
	// SourceDefault means the region listing "*" caught the address.
	SourceDefault
	// SourceASN means the ASN database's autonomous system matched a
	// region. It comes last only to keep the other values (and metric
	// series) as they were; in precedence it follows SourceNetwork.
	SourceASN
	// NumSources counts the sources, for arrays indexed by Source.
	NumSources int = iota
)

// String returns the lowercase name used in logs and metrics labels.
func (s Source) String() string {
	switch s {
	case SourceNetwork:
		return "network"
	case SourceCountry:
		return "country"
	case SourceContinent:
		return "continent"
	case SourceDefault:
		return "default"
	case SourceASN:
		return "asn"
	default:
		return "none"
	}
}

// Result is the outcome of a lookup.
type Result struct {
	// Region indexes Table.RegionNames, or is -1 for no region.
	Region int
	// Bits is the length of the prefix around the address over which this
	// answer holds, in the address's own family (0..32 for IPv4): use it as
	// the ECS SCOPE PREFIX-LENGTH. It is the matched network's length, but
	// never so short that the prefix would take in a more specific network
	// spec or database network that decides differently; so "*" gets 0 only
	// when no override or database network is nearby.
	Bits uint8
	// Source says which step decided Region.
	Source Source
	// Country is the database's country code for the address, or zero when
	// unknown (including when a network spec decided before the database
	// was consulted).
	Country [2]byte
	// ASN is the autonomous system that decided, when Source is SourceASN.
	ASN uint32
}

// Lookup maps addr to a region: the longest matching network spec first,
// then the database's country, then its continent, then the region
// listing "*". db may be nil, leaving network specs and "*". IPv4-mapped
// IPv6 addresses are looked up, and scoped, as IPv4. It takes no lock and
// does not allocate.
func (t *Table) Lookup(db *DB, addr netip.Addr) Result {
	return t.LookupASN(db, nil, addr)
}

// LookupASN is Lookup with ASN regions, which decide after network specs
// and before the country; ar may be nil (see NewASNRegions).
func (t *Table) LookupASN(db *DB, ar *ASNRegions, addr netip.Addr) Result {
	addr = addr.Unmap()
	switch {
	case addr.Is4():
		a := split4(addr)
		region, plen, ok := t.overrides.find4(a)
		if ok {
			return Result{Region: int(region), Bits: plen, Source: SourceNetwork}
		}
		if ar != nil {
			h, alen, ok := ar.nets.find4(a)
			if ok {
				return ar.result(h, max(plen, alen))
			}
			plen = max(plen, alen)
		}
		if db == nil {
			return t.fallback(plen, [2]byte{})
		}
		class, dlen, ok := db.nets.find4(a)
		return t.fromDB(db, class, max(plen, dlen), ok)
	case addr.Is6():
		hi, lo := split6(addr)
		region, plen, ok := t.overrides.find6(hi, lo)
		if ok {
			return Result{Region: int(region), Bits: plen, Source: SourceNetwork}
		}
		if ar != nil {
			h, alen, ok := ar.nets.find6(hi, lo)
			if ok {
				return ar.result(h, max(plen, alen))
			}
			plen = max(plen, alen)
		}
		if db == nil {
			return t.fallback(plen, [2]byte{})
		}
		class, dlen, ok := db.nets.find6(hi, lo)
		return t.fromDB(db, class, max(plen, dlen), ok)
	}
	return t.fallback(0, [2]byte{})
}

func (ar *ASNRegions) result(h uint32, scope uint8) Result {
	hit := ar.hits[h]
	return Result{Region: int(hit.region), Bits: scope, Source: SourceASN, ASN: hit.asn}
}

// fromDB resolves a database class, if found, to a region. scope already
// accounts for both the database network and nearby network specs.
func (t *Table) fromDB(db *DB, class uint32, scope uint8, found bool) Result {
	if !found {
		return t.fallback(scope, [2]byte{})
	}
	c := db.classes[class]
	if c.country >= 0 {
		if r := t.byCountry[c.country]; r >= 0 {
			return Result{Region: int(r), Bits: scope, Source: SourceCountry, Country: c.code}
		}
	}
	if c.continent >= 0 {
		if r := t.byContinent[c.continent]; r >= 0 {
			return Result{Region: int(r), Bits: scope, Source: SourceContinent, Country: c.code}
		}
	}
	return t.fallback(scope, c.code)
}

// fallback is the answer when neither a network spec nor the database
// picked a region.
func (t *Table) fallback(scope uint8, country [2]byte) Result {
	if t.star >= 0 {
		return Result{Region: int(t.star), Bits: scope, Source: SourceDefault, Country: country}
	}
	return Result{Region: -1, Bits: scope, Source: SourceNone, Country: country}
}
