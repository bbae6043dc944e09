// Package geo maps client addresses (a resolver's source address or an
// EDNS Client Subnet address) to steering regions.
//
// A Table, compiled from region and network specs, answers each lookup in
// a fixed order: the longest matching network spec (CIDR override), then
// the country a geolocation DB gives the address, then its continent, then
// the region listing "*". Alongside the region it reports the prefix
// length over which the answer holds, for use as the ECS scope
// (RFC 7871 §7.2.1), and which step decided.
//
// Both Table and DB are immutable once built, so lookups take no locks and
// make no allocations; a Watcher swaps in a new DB when the file changes.
package geo
