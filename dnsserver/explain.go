package dnsserver

import (
	"fmt"
	"net/netip"
	"strings"

	"github.com/miekg/dns"

	"github.com/cdnsteer/cdnsteer/internal/keyerr"
)

// Explanation is why a client gets the answer it gets, computed from the
// very state and functions that answer queries.
type Explanation struct {
	Name   string `json:"name"`
	Client string `json:"client"`
	ECS    string `json:"ecs,omitempty"`
	Policy string `json:"policy"`
	Region string `json:"region"`
	// RegionSource says what decided the region (network, asn, country,
	// continent, default, none) and RegionBasis which address was looked
	// up (ecs, resolver).
	RegionSource string `json:"region_source"`
	RegionBasis  string `json:"region_basis"`
	Country      string `json:"country,omitempty"`
	// ASN is the autonomous system the ASN database gives the address
	// looked up, whether or not a region lists it.
	ASN uint32 `json:"asn,omitempty"`
	// Scope is the ECS scope the reply would carry.
	Scope  int    `json:"scope"`
	CDN    string `json:"cdn"`
	Target string `json:"target"`
	TTL    uint32 `json:"ttl"`
	// TTLCause says why TTL is not the policy's: ttl_in_flux while a CDN
	// of the region is degraded or recovering, or a schedule's window.
	TTLCause string             `json:"ttl_cause,omitempty"`
	Weights  map[string]float64 `json:"weights"`
	// LiveWeights is false while the baseline serves (no engine output
	// yet, or none for this snapshot).
	LiveWeights bool `json:"live_weights"`
	// Blind names the region's CDNs with no fresh health signal (their
	// share holds as last measured); Probation those of them degraded and
	// re-admitted at a small share until their signals return.
	Blind     []string `json:"blind,omitempty"`
	Probation []string `json:"probation,omitempty"`
}

// Explain tells what a query for name from client (with an ECS prefix
// when subnet is valid) would be answered right now.
func (h *Handler) Explain(name string, client netip.Addr, subnet netip.Prefix) (*Explanation, error) {
	st := h.state.Load()
	qname := dns.CanonicalName(name)
	if _, ok := dns.IsDomainName(qname); !ok || name == "" {
		return nil, &keyerr.Error{Key: "name", Msg: fmt.Sprintf("%q is not a domain name", name)}
	}
	z := st.Snap.FindZone(qname)
	if z == nil {
		return nil, &keyerr.Error{Key: "name", Msg: fmt.Sprintf("%s is in no zone served here", qname)}
	}
	node, cut := z.Find(qname)
	if cut != nil || node == nil || node.Steer == nil {
		return nil, &keyerr.Error{Key: "name", Msg: fmt.Sprintf("%s is not a steered name", qname)}
	}
	if !client.IsValid() {
		return nil, &keyerr.Error{Key: "client", Msg: "an IP address is needed"}
	}
	p := node.Steer
	e := &Explanation{Name: qname, Client: client.String(), Policy: p.Name, RegionBasis: "resolver", TTL: p.TTL}
	var opt ecs
	if subnet.IsValid() {
		e.ECS = subnet.Masked().String()
		opt = ecsFromPrefix(subnet.Masked())
	}
	var c choice
	st.choose(&c, p, client, &opt)
	if c.byECS {
		e.RegionBasis = "ecs"
		e.Scope = int(c.scope)
	}
	e.Region = st.Snap.Regions[c.region].Name
	e.RegionSource = c.source.String()
	// The country is for people; queries do not need it, so only the full
	// lookup knows it.
	if cc := st.Snap.GeoTable.Lookup(st.DB, c.subject).Country; cc != [2]byte{} {
		e.Country = string(cc[:])
	}
	if asn, _, ok := st.ASN.Lookup(c.subject); ok {
		e.ASN = asn
	}
	e.TTL, e.TTLCause = c.ttl, c.weights.TTLCause
	e.LiveWeights = c.weights != p.Baseline[c.region]
	e.Blind, e.Probation = c.weights.Blind, c.weights.Probation
	e.Weights = map[string]float64{}
	for ci, cdn := range st.Snap.CDNs {
		e.Weights[cdn.Name] = c.weights.W[ci]
	}
	if c.cdn < 0 {
		return nil, fmt.Errorf("no CDN has weight in region %s", e.Region)
	}
	e.CDN = st.Snap.CDNs[c.cdn].Name
	e.Target = strings.ToLower(p.Targets[c.cdn])
	return e, nil
}
