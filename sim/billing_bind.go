package sim

import (
	"math"
	"strings"
)

// billingKey is one number of a [cdn.NAME.billing] table and where it
// goes.
type billingKey struct {
	name string
	v    *float64
	dst  *float64
}

// billing reads a CDN's [cdn.NAME.billing] table; at is the CDN's key
// path and commitGbps its capacity commit, which a p95 contract commits
// unless it says otherwise. nil when the table is absent.
func (b *binder) billing(f *billingFile, at, cdn string, commitGbps float64) *Billing {
	if f == nil {
		return nil
	}
	at += ".billing"
	bl := &Billing{Model: f.Model}
	p95 := []billingKey{{"commit_gbps", f.CommitGbps, &bl.CommitGbps}, {"price_per_gbps", f.PricePerGbps, &bl.Price},
		{"overage_price_per_gbps", f.OveragePricePerGbps, &bl.OveragePrice}}
	volume := []billingKey{{"commit_tb", f.CommitTB, &bl.CommitTB}, {"price_per_tb", f.PricePerTB, &bl.Price},
		{"overage_price_per_tb", f.OveragePricePerTB, &bl.OveragePrice}}
	for _, k := range append(p95[:len(p95):len(p95)], volume...) {
		if k.v != nil && !(*k.v >= 0 && !math.IsInf(*k.v, 1)) {
			b.p.Add(at+"."+k.name, "cdn %q: billing %s = %g must be a number, 0 or more", cdn, k.name, *k.v)
		}
	}
	own, other := p95, volume
	switch bl.Model {
	case "", BillingP95:
		bl.Model, bl.CommitGbps = BillingP95, commitGbps
	case BillingVolume:
		own, other = volume, p95
	default:
		b.p.Add(at+".model", "cdn %q: billing model %q is neither %q nor %q", cdn, f.Model, BillingP95, BillingVolume)
		return nil
	}
	for _, k := range other {
		if k.v != nil {
			b.p.Add(at+"."+k.name, "cdn %q: %s is not a key of billing model %q, which takes %s", cdn, k.name, bl.Model, keyNames(own))
		}
	}
	for _, k := range own {
		if k.v != nil {
			*k.dst = *k.v
		}
	}
	// Overage is billed at the commit's price unless the contract says
	// otherwise.
	if own[2].v == nil {
		bl.OveragePrice = bl.Price
	}
	return bl
}

func keyNames(ks []billingKey) string {
	var names []string
	for _, k := range ks {
		names = append(names, k.name)
	}
	return strings.Join(names, ", ")
}
