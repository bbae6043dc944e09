package geo

import "net/netip"

// LookupClient is the region lookup of a client address that DNS answers
// and content steering share, so that a subnet gets the same region from
// both: the subnet map's answer for the address's /24 (IPv4) or /56
// (IPv6) when the whole subnet has one, else the full search (network
// specs, ASN regions, country, continent, "*"). m and ar may be nil. It
// takes no lock and does not allocate.
func LookupClient(m *SubnetMap, t *Table, db *DB, ar *ASNRegions, addr netip.Addr) Result {
	if m != nil {
		if region, source, bits, ok := m.LookupSubnet(addr); ok {
			return Result{Region: region, Source: source, Bits: bits}
		}
	}
	return t.LookupASN(db, ar, addr)
}
