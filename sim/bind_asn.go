package sim

import (
	"slices"
	"strconv"
)

// asnSplits applies the scenario's [region.NAME.asn] tables. An ISP's
// customers ask its resolvers, and its resolvers (and the client subnets
// they send) are in its address space, so a policy region listing
// "asn:N" gets the viewers of AS N that the scenario counts in a country's
// region: their share of the region's viewers, and the same share of its
// resolvers, move to the AS's region, which takes the country's resolver
// habits (ECS, stretched TTLs, bitrate). Shares of ASes no policy region
// lists stay where they are, so one scenario serves a policy with ASN
// regions and one without. Shares move before they are normalised.
func (b *binder) asnSplits(f *scenarioFile) {
	regions := b.sc.Regions
	for si := range regions {
		src := &regions[si]
		rf, ok := f.Region[src.Name]
		if !ok || len(rf.ASN) == 0 {
			continue
		}
		at := "region." + src.Name + ".asn"
		keys := make([]string, 0, len(rf.ASN))
		for k := range rf.ASN {
			keys = append(keys, k)
		}
		slices.Sort(keys) // report and move in a stable order
		share, resolvers := src.Share, src.Resolvers
		sum := 0.0
		for _, k := range keys {
			s := rf.ASN[k]
			asn, err := strconv.ParseUint(k, 10, 32)
			if err != nil || asn == 0 || k[0] == '0' || k[0] == '+' {
				b.p.Add(at, "%q is not an AS number (want a number from 1 to 4294967295)", k)
				continue
			}
			if !(s > 0 && s <= 1) {
				b.p.Add(at+"."+k, "share %g of AS %s is outside 0..1 (0 excluded)", s, k)
				continue
			}
			sum += s
			ti := b.asnRegion(uint32(asn))
			if ti < 0 || ti == si {
				continue // steered with the region, as before
			}
			dst := &regions[ti]
			if dst.From != "" && dst.From != src.Name {
				b.p.Add(at+"."+k, "region %q (asn:%s) already takes viewers from region %q", dst.Name, k, dst.From)
				continue
			}
			if _, own := f.Region[dst.Name]; own && dst.From == "" {
				b.p.Add(at+"."+k, "region %q (asn:%s) takes its viewers from region %q here: give it no [region.%s] of its own", dst.Name, k, src.Name, dst.Name)
				continue
			}
			if dst.From == "" {
				*dst = Region{Name: dst.Name, BitrateMbps: src.BitrateMbps, ResolverSkew: src.ResolverSkew, ECSShare: src.ECSShare,
					ECSSubnets: src.ECSSubnets, StretchShare: src.StretchShare, StretchTTL: src.StretchTTL, From: src.Name}
			}
			dst.Share += share * s
			src.Share = max(0, src.Share-share*s)
			n := max(1, int(float64(resolvers)*s+0.5))
			dst.Resolvers += n
			src.Resolvers = max(1, src.Resolvers-n)
		}
		if sum > 1+1e-9 {
			b.p.Add(at, "the AS shares of region %q add up to %g, more than 1", src.Name, sum)
		}
	}
}

// asnRegion returns the index of the policy region that lists "asn:N",
// or -1.
func (b *binder) asnRegion(asn uint32) int {
	code := "asn:" + strconv.FormatUint(uint64(asn), 10)
	for _, r := range b.snap.Regions {
		if slices.Contains(r.Codes, code) {
			return slices.IndexFunc(b.sc.Regions, func(x Region) bool { return x.Name == r.Name })
		}
	}
	return -1
}
