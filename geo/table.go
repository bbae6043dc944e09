package geo

import (
	"errors"
	"fmt"
	"math"
	"net/netip"
	"slices"
	"strings"

	"github.com/cdnsteer/cdnsteer/internal/keyerr"
)

// RegionSpec names a region and the places it serves. Each code is an
// ISO 3166-1 alpha-2 country code ("KR"), a continent code (AF AN AS EU NA
// OC SA) or "*" for everything else. A bare code that is a continent code
// means the continent, so "AS" is Asia and "AF" is Africa; "country:AS"
// (American Samoa) and "continent:AS" say which is meant. "asn:N" serves
// the networks an ASN database gives autonomous system N.
type RegionSpec struct {
	// Name identifies the region in errors and in RegionNames.
	Name string
	// Codes lists what the region serves; it may be empty for a region
	// reached only through network specs.
	Codes []string
}

// NetworkSpec pins a prefix to a region ahead of the database; when
// prefixes nest, the longest one holding an address decides it.
type NetworkSpec struct {
	// Prefix must have no host bits set; an IPv4-mapped IPv6 prefix of
	// length 96 or more stands for the IPv4 prefix inside it.
	Prefix netip.Prefix
	// Region names a RegionSpec.
	Region string
}

// Table maps addresses to region indexes. It is immutable once built, so
// any number of goroutines may use it without locks.
type Table struct {
	names    []string
	warnings []string

	// Indexes into names, -1 where nothing is listed; int16 keeps the
	// whole country array in a few cache lines.
	byCountry   [numCountryIndexes]int16
	byContinent [numContinents]int16
	star        int16
	// byASN maps the AS numbers of "asn:N" codes to regions; nil if none.
	byASN map[uint32]int16

	// overrides holds the network specs carved into disjoint prefixes, each
	// valued with its region index.
	overrides prefixSet
}

// maxRegions keeps region indexes within the int16 arrays above.
const maxRegions = math.MaxInt16

// codeKind says what a region code refers to.
type codeKind uint8

const (
	kindCountry codeKind = iota
	kindContinent
	kindStar
	kindASN
)

// NewTable compiles region and network specs. Every problem found is
// reported, joined with errors.Join, each naming the region, code or
// prefix at fault, so that a policy can be fixed in one pass; a problem
// of one region's codes is a *keyerr.Error keyed by the region's name.
func NewTable(regions []RegionSpec, networks []NetworkSpec) (*Table, error) {
	t := &Table{star: -1}
	for i := range t.byCountry {
		t.byCountry[i] = -1
	}
	for i := range t.byContinent {
		t.byContinent[i] = -1
	}
	if len(regions) > maxRegions {
		return nil, fmt.Errorf("%d regions is more than the %d supported", len(regions), maxRegions)
	}

	var errs []error
	index := make(map[string]int, len(regions))
	for i, r := range regions {
		t.names = append(t.names, r.Name)
		switch _, dup := index[r.Name]; {
		case r.Name == "":
			errs = append(errs, fmt.Errorf("region #%d has no name", i+1))
		case dup:
			errs = append(errs, fmt.Errorf("region %q is defined more than once", r.Name))
		default:
			index[r.Name] = i
		}
	}
	for i, r := range regions {
		for _, code := range r.Codes {
			if err := t.addCode(int16(i), code); err != nil {
				errs = append(errs, err)
			}
		}
	}

	targeted := make([]bool, len(regions))
	overrides, err := t.compileNetworks(networks, index, targeted)
	if err != nil {
		errs = append(errs, err)
	}
	t.overrides = overrides

	for i, r := range regions {
		if len(r.Codes) == 0 && !targeted[i] {
			t.warnings = append(t.warnings,
				fmt.Sprintf("region %q lists no codes and no network maps to it, so it can match nothing", r.Name))
		}
	}
	if err := errors.Join(errs...); err != nil {
		return nil, err
	}
	return t, nil
}

// addCode records that region i serves code.
func (t *Table) addCode(i int16, code string) error {
	name := t.names[i]
	kind, idx, err := parseCode(code)
	if err != nil {
		return &keyerr.Error{Key: name, Msg: err.Error()}
	}
	if kind == kindASN {
		asn, _ := parseASN(code, code[len("asn:"):])
		switch r, ok := t.byASN[asn]; {
		case !ok:
			if t.byASN == nil {
				t.byASN = make(map[uint32]int16)
			}
			t.byASN[asn] = i
		case r == i:
			t.warnings = append(t.warnings, fmt.Sprintf("region %q lists asn:%d more than once", name, asn))
		default:
			return keyerr.New(name, "asn:%d is already in region %q", asn, t.names[r])
		}
		return nil
	}
	var slot *int16
	var what string
	switch kind {
	case kindCountry:
		slot, what = &t.byCountry[idx], "country "+countryCode(idx)
	case kindContinent:
		slot, what = &t.byContinent[idx],
			fmt.Sprintf("continent %s (%s)", continentCodes[3*idx:3*idx+2], continentName(idx))
	default:
		slot, what = &t.star, `"*"`
	}
	switch *slot {
	case -1:
		*slot = i
	case i:
		t.warnings = append(t.warnings, fmt.Sprintf("region %q lists %s more than once", name, what))
	default:
		return keyerr.New(name, "%s is already in region %q", what, t.names[*slot])
	}
	return nil
}

// parseCode classifies one region code; idx is a country or continent
// index.
func parseCode(code string) (kind codeKind, idx int, err error) {
	if code == "*" {
		return kindStar, 0, nil
	}
	prefix, cc, forced := strings.Cut(code, ":")
	if !forced {
		cc = code
	}
	switch {
	case forced && prefix == "asn":
		if _, err := parseASN(code, cc); err != nil {
			return 0, 0, err
		}
		return kindASN, 0, nil
	case forced && prefix == "country":
		if !isAssignedCountry(cc) {
			return 0, 0, fmt.Errorf("%q: %q is not an ISO 3166-1 alpha-2 country code", code, cc)
		}
		return kindCountry, countryIndex(cc), nil
	case forced && prefix == "continent":
		if i := continentIndex(cc); i >= 0 {
			return kindContinent, i, nil
		}
		return 0, 0, fmt.Errorf("%q: %q is not a continent code (want AF, AN, AS, EU, NA, OC or SA)", code, cc)
	case forced:
		return 0, 0, fmt.Errorf("%q: unknown qualifier %q (want country:, continent: or asn:)", code, prefix)
	}
	if i := continentIndex(cc); i >= 0 {
		return kindContinent, i, nil
	}
	if isAssignedCountry(cc) {
		return kindCountry, countryIndex(cc), nil
	}
	hint := ""
	if up := strings.ToUpper(cc); up != cc && (isAssignedCountry(up) || continentIndex(up) >= 0) {
		hint = " (codes are uppercase)"
	}
	return 0, 0, fmt.Errorf("%q is not an ISO 3166-1 alpha-2 country code, a continent code or \"*\"%s", code, hint)
}

// ASNs reports whether some region lists an "asn:" code, which only an
// ASN database can match.
func (t *Table) ASNs() bool { return len(t.byASN) > 0 }

// RegionNames returns the region names; a Result's Region indexes it.
func (t *Table) RegionNames() []string { return slices.Clone(t.names) }

// RegionIndex returns the index of the named region, or -1.
func (t *Table) RegionIndex(name string) int { return slices.Index(t.names, name) }

// Warnings describes parts of the specs that are legal but probably
// mistakes, such as a region that can match nothing.
func (t *Table) Warnings() []string { return slices.Clone(t.warnings) }
