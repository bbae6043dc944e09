package health

import (
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"time"

	"github.com/cdnsteer/cdnsteer/internal/keyerr"
)

// Override actions.
const (
	ActionDrain  = "drain"  // a CDN gets no new traffic (in one region or all)
	ActionPin    = "pin"    // a region sends all new traffic to one CDN
	ActionFreeze = "freeze" // a region's (or every region's) split stops moving
)

// Override is an operator's decision that takes precedence over the scores
// until it expires or is deleted.
type Override struct {
	ID     string `json:"id"`
	Action string `json:"action"`
	Policy string `json:"policy,omitempty"`
	Region string `json:"region,omitempty"`
	CDN    string `json:"cdn,omitempty"`
	Reason string `json:"reason"`
	// By names who set it: the API token's name, or a plan's activator.
	By      string    `json:"by,omitempty"`
	Created time.Time `json:"created"`
	Expires time.Time `json:"expires"`
	// Frozen holds, for a freeze, the split at the time it was set:
	// policy → region → CDN → weight.
	Frozen map[string]map[string]map[string]float64 `json:"frozen,omitempty"`
	// Plan is set on the overrides a plan's activation made.
	Plan *PlanRef `json:"plan,omitempty"`
	// Origin is the fleet instance the override was written on, for one
	// that arrived from a peer; empty for one written here.
	Origin string `json:"origin,omitempty"`
}

// ErrNotFound is returned for an override ID that is not in force.
var ErrNotFound = errors.New("no such override")

// Applies tells whether the override acts on a policy and region.
func (o *Override) Applies(policy, region string) bool {
	return (o.Policy == "" || o.Policy == policy) && (o.Region == "" || o.Region == region)
}

// CheckTarget checks the action and what it acts on (the CDN, region and
// policy it names) against cfg.
func (o *Override) CheckTarget(cfg *Config) error {
	switch o.Action {
	case ActionDrain:
		if o.CDN == "" {
			return &keyerr.Error{Key: "cdn", Msg: "drain needs a cdn"}
		}
	case ActionPin:
		if o.CDN == "" || o.Region == "" {
			return &keyerr.Error{Key: "region", Msg: "pin needs a cdn and a region"}
		}
	case ActionFreeze:
		if o.CDN != "" {
			return &keyerr.Error{Key: "cdn", Msg: "freeze applies to a region's whole split; leave cdn out"}
		}
	default:
		return &keyerr.Error{Key: "action", Msg: fmt.Sprintf("unknown action %q (drain, pin, freeze)", o.Action)}
	}
	if o.CDN != "" && cfg.CDNIndex(o.CDN) < 0 {
		return &keyerr.Error{Key: "cdn", Msg: fmt.Sprintf("unknown cdn %q", o.CDN)}
	}
	if o.Region != "" && cfg.RegionIndex(o.Region) < 0 {
		return &keyerr.Error{Key: "region", Msg: fmt.Sprintf("unknown region %q", o.Region)}
	}
	if o.Policy != "" && cfg.PolicyIndex(o.Policy) < 0 {
		return &keyerr.Error{Key: "policy", Msg: fmt.Sprintf("unknown policy %q", o.Policy)}
	}
	return nil
}

// validate checks an override against the configuration.
func (o *Override) validate(cfg *Config, now time.Time) error {
	if err := o.CheckTarget(cfg); err != nil {
		return err
	}
	if !o.Expires.After(now) {
		return &keyerr.Error{Key: "expires", Msg: "the override would already have expired"}
	}
	if o.Reason == "" {
		return &keyerr.Error{Key: "reason", Msg: "say why: it goes in the decision log"}
	}
	return nil
}

func newID() string {
	var b [8]byte
	rand.Read(b[:])
	return hex.EncodeToString(b[:])
}
