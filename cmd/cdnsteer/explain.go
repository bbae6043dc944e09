package main

import (
	"fmt"
	"net/netip"
	"time"

	"github.com/cdnsteer/cdnsteer/dnsserver"
	"github.com/cdnsteer/cdnsteer/health"
	"github.com/cdnsteer/cdnsteer/internal/keyerr"
)

// explanation is the explain endpoint's answer: the DNS path's own account
// of the choice, with the engine's view of the CDNs behind it.
type explanation struct {
	*dnsserver.Explanation
	Scores    map[string]*float64 `json:"scores"`
	Status    map[string]string   `json:"status"`
	Overrides []health.Override   `json:"overrides"`
	Reason    string              `json:"reason,omitempty"`
}

func explainer(h *dnsserver.Handler, e *health.Engine) func(name, client, ecs string) (any, error) {
	return func(name, client, ecs string) (any, error) {
		addr, err := netip.ParseAddr(client)
		if err != nil {
			return nil, &keyerr.Error{Key: "client", Msg: fmt.Sprintf("%q is not an IP address", client)}
		}
		var prefix netip.Prefix
		if ecs != "" {
			if prefix, err = netip.ParsePrefix(ecs); err != nil {
				return nil, &keyerr.Error{Key: "ecs", Msg: fmt.Sprintf("%q is not a prefix such as 203.0.113.0/24", ecs)}
			}
		}
		ex, err := h.Explain(name, addr, prefix)
		if err != nil {
			return nil, err
		}
		out := explanation{Explanation: ex, Scores: map[string]*float64{}, Status: map[string]string{}, Overrides: []health.Override{}}
		view := e.View(time.Now())
		for _, p := range view.Policies {
			if p.Name != ex.Policy {
				continue
			}
			for _, r := range p.Regions {
				if r.Name != ex.Region {
					continue
				}
				out.Reason = r.Reason
				for _, c := range r.CDNs {
					out.Scores[c.Name] = c.Score
					out.Status[c.Name] = string(c.Status)
				}
			}
		}
		for _, o := range view.Overrides {
			if o.Applies(ex.Policy, ex.Region) {
				out.Overrides = append(out.Overrides, o)
			}
		}
		return out, nil
	}
}
