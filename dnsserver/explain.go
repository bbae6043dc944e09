package dnsserver

import (
	"fmt"
	"net/netip"
	"strings"

	"github.com/miekg/dns"

	"github.com/cdnsteer/cdnsteer/health"
)

// Explanation is why a client gets the answer it gets, computed from the
// very state and functions that answer queries.
type Explanation struct {
	Name   string `json:"name"`
	Client string `json:"client"`
	ECS    string `json:"ecs,omitempty"`
	Policy string `json:"policy"`
	Region string `json:"region"`
	// RegionSource says what decided the region (network, country,
	// continent, default, none) and RegionBasis which address was looked
	// up (ecs, resolver).
	RegionSource string `json:"region_source"`
	RegionBasis  string `json:"region_basis"`
	Country      string `json:"country,omitempty"`
	// Scope is the ECS scope the reply would carry.
	Scope   int                `json:"scope"`
	CDN     string             `json:"cdn"`
	Target  string             `json:"target"`
	TTL     uint32             `json:"ttl"`
	Weights map[string]float64 `json:"weights"`
	// LiveWeights is false while the baseline serves (no engine output
	// yet, or none for this snapshot).
	LiveWeights bool `json:"live_weights"`
}

// Explain tells what a query for name from client (with an ECS prefix
// when ecs is valid) would be answered right now.
func (h *Handler) Explain(name string, client netip.Addr, ecs netip.Prefix) (*Explanation, error) {
	st := h.state.Load()
	qname := dns.CanonicalName(name)
	if _, ok := dns.IsDomainName(qname); !ok || name == "" {
		return nil, &health.FieldError{Field: "name", Msg: fmt.Sprintf("%q is not a domain name", name)}
	}
	z := st.Snap.FindZone(qname)
	if z == nil {
		return nil, &health.FieldError{Field: "name", Msg: fmt.Sprintf("%s is in no zone served here", qname)}
	}
	node, cut := z.Find(qname)
	if cut != nil || node == nil || node.Steer == nil {
		return nil, &health.FieldError{Field: "name", Msg: fmt.Sprintf("%s is not a steered name", qname)}
	}
	if !client.IsValid() {
		return nil, &health.FieldError{Field: "client", Msg: "an IP address is needed"}
	}
	p := node.Steer
	e := &Explanation{Name: qname, Client: client.String(), Policy: p.Name, RegionBasis: "resolver", TTL: p.TTL}
	subject := client
	useECS := ecs.IsValid() && st.Snap.Geo.ECS && ecs.Bits() > 0
	if ecs.IsValid() {
		e.ECS = ecs.Masked().String()
	}
	if useECS {
		subject = ecs.Masked().Addr()
		e.RegionBasis = "ecs"
	}
	res := st.Snap.GeoTable.Lookup(st.DB, subject)
	ri := res.Region
	if ri < 0 {
		ri = st.defaultRegion
	}
	e.Region = st.Snap.Regions[ri].Name
	e.RegionSource = res.Source.String()
	if res.Country != [2]byte{} {
		e.Country = string(res.Country[:])
	}
	if useECS {
		e.Scope = int(ecsScope(res.Bits, subject))
	}
	w := st.weights(p, ri)
	e.LiveWeights = w != p.Baseline[ri]
	e.Weights = map[string]float64{}
	for ci, cdn := range st.Snap.CDNs {
		e.Weights[cdn.Name] = w.W[ci]
	}
	i := w.Pick(health.SubnetKey(subject))
	if i < 0 {
		return nil, fmt.Errorf("no CDN has weight in region %s", e.Region)
	}
	e.CDN = st.Snap.CDNs[i].Name
	e.Target = strings.ToLower(p.Targets[i])
	return e, nil
}
