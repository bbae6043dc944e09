// Package rrl is response rate limiting for cdnsteer's UDP answers: it
// keeps an authoritative server from being used to reflect and amplify
// traffic at a victim whose address an attacker forges, in the manner of
// BIND's and Knot's RRL.
//
// Every UDP response is accounted to a key: the client's network (an
// IPv4 /24 or IPv6 /56 by default, because an attacker forging one victim
// can as easily forge its neighbours) and the response's class (a
// positive answer's name and type, a NODATA's name, an NXDOMAIN's zone,
// a referral's delegation, or simply "an error"). Each key has a token
// bucket, and responses beyond its rate are dropped, or every Nth of them
// "slipped": sent truncated and empty so that a genuine client whose
// address was forged retries over TCP, which an attacker cannot forge.
//
// TCP responses are never limited: the handshake proves the address.
//
// The table of buckets is a fixed array of 64-bit words updated with
// compare-and-swap: no lock, no allocation, and a bounded size however
// many keys a flood invents. When the table is full a new key evicts the
// key closest to a fresh bucket, so pressure costs a little accuracy
// (an evicted key starts afresh) but never memory.
package rrl
