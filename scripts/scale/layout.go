package main

import (
	"fmt"

	"github.com/cdnsteer/cdnsteer/geo"
)

// The shape every size shares: 20 regions (19 of ten countries each and
// the default), 6 CDNs, ten steered names per zone, one policy per name.
const (
	numRegions   = 20
	numCDNs      = 6
	namesPerZone = 10
)

func regionName(i int) string { // i < numRegions-1; the last is "default"
	return fmt.Sprintf("r%02d", i+1)
}

func regionNames() []string {
	out := make([]string, 0, numRegions)
	for i := range numRegions - 1 {
		out = append(out, regionName(i))
	}
	return append(out, "default")
}

// regionCountries gives each named region ten of the assigned countries.
func regionCountries(i int) []string {
	cs := geo.Countries()
	return cs[i*10 : i*10+10]
}

func cdnName(i int) string { return fmt.Sprintf("cdn%d", i+1) }

func policyName(i int) string { return fmt.Sprintf("p%05d", i) }

func zoneOrigin(i int) string { return fmt.Sprintf("z%04d.example.com.", i/namesPerZone) }

func steeredName(i int) string { return fmt.Sprintf("match%05d", i) }

// fqdn of the i-th steered name.
func fqdn(i int) string { return steeredName(i) + "." + zoneOrigin(i) }
