package probe

import (
	"fmt"
	"slices"
	"strings"

	"github.com/cdnsteer/cdnsteer/health"
)

// Regions are the regions a probe speaks for: [cdn.NAME.probe] regions.
// A probe sees a CDN from where it runs — one uplink, one vantage — and
// what fails from there (a peering link, the instance's own network) says
// nothing of a viewer on another continent: three failed probes from one
// server used to degrade a CDN worldwide. So a probe's signals are the
// listed regions' only; the other regions go by their own evidence, and a
// failure is corroborated there or not at all. Unset, the probe speaks
// for every region (its signals carry no region), as before.
//
// The names are kept joined in one string so that Config stays
// comparable (the Runner restarts a probe only when its Config changes).
type Regions struct{ joined string }

// regionSep cannot be part of a region name.
const regionSep = ","

// NewRegions lists names, in order.
func NewRegions(names ...string) Regions { return Regions{strings.Join(names, regionSep)} }

// Names are the regions listed; none means every region.
func (r Regions) Names() []string {
	if r.joined == "" {
		return nil
	}
	return strings.Split(r.joined, regionSep)
}

func (r Regions) String() string {
	if r.joined == "" {
		return "all regions"
	}
	return strings.Join(r.Names(), ", ")
}

// UnmarshalTOML takes the policy's array of region names.
func (r *Regions) UnmarshalTOML(v any) error {
	arr, ok := v.([]any)
	if !ok {
		return fmt.Errorf("regions: want an array of region names, not %T", v)
	}
	names := make([]string, 0, len(arr))
	for _, x := range arr {
		s, ok := x.(string)
		if !ok {
			return fmt.Errorf("regions: want region names, not %v (%T)", x, x)
		}
		names = append(names, s)
	}
	if len(names) == 0 {
		return fmt.Errorf("regions: empty: leave the key out for every region")
	}
	r.joined = strings.Join(names, regionSep)
	return nil
}

// validate reports a name that cannot be a region's, or listed twice.
func (r Regions) validate() string {
	seen := map[string]bool{}
	for _, n := range r.Names() {
		switch {
		case n == "" || strings.ContainsAny(n, regionSep+" \t"):
			return fmt.Sprintf("%q is not a region name", n)
		case seen[n]:
			return fmt.Sprintf("%q listed twice", n)
		}
		seen[n] = true
	}
	return ""
}

// Unknown lists the names that are not among known, for the policy
// loader that knows the regions.
func (r Regions) Unknown(known []string) []string {
	var out []string
	for _, n := range r.Names() {
		if !slices.Contains(known, n) {
			out = append(out, n)
		}
	}
	return out
}

// signals are what one probe result tells the engine: one signal per
// region it speaks for, or one for all regions.
func (r Regions) signals(s health.Signal) []health.Signal {
	names := r.Names()
	if len(names) == 0 {
		return []health.Signal{s}
	}
	out := make([]health.Signal, len(names))
	for i, n := range names {
		out[i] = s
		out[i].Region = n
	}
	return out
}
