package geo

import (
	"net/netip"
	"slices"
	"strings"
	"testing"
)

func TestNewTableErrors(t *testing.T) {
	ok := RegionSpec{Name: "a", Codes: []string{"KR"}}
	cases := []struct {
		name     string
		regions  []RegionSpec
		networks []NetworkSpec
		want     []string // the joined errors, one per line
	}{
		{
			name:    "unknown code",
			regions: []RegionSpec{{Name: "x", Codes: []string{"ZZ"}}},
			want:    []string{`x: "ZZ" is not an ISO 3166-1 alpha-2 country code, a continent code or "*"`},
		},
		{
			name:    "reserved but unassigned code",
			regions: []RegionSpec{{Name: "x", Codes: []string{"UK"}}},
			want:    []string{`x: "UK" is not an ISO 3166-1 alpha-2 country code, a continent code or "*"`},
		},
		{
			name:    "lowercase",
			regions: []RegionSpec{{Name: "x", Codes: []string{"kr"}}},
			want:    []string{`x: "kr" is not an ISO 3166-1 alpha-2 country code, a continent code or "*" (codes are uppercase)`},
		},
		{
			name:    "empty code",
			regions: []RegionSpec{{Name: "x", Codes: []string{""}}},
			want:    []string{`x: "" is not an ISO 3166-1 alpha-2 country code, a continent code or "*"`},
		},
		{
			name:    "forced country that is not one",
			regions: []RegionSpec{{Name: "x", Codes: []string{"country:EU"}}},
			want:    []string{`x: "country:EU": "EU" is not an ISO 3166-1 alpha-2 country code`},
		},
		{
			name:    "unknown continent",
			regions: []RegionSpec{{Name: "x", Codes: []string{"continent:KR"}}},
			want:    []string{`x: "continent:KR": "KR" is not a continent code (want AF, AN, AS, EU, NA, OC or SA)`},
		},
		{
			name:    "unknown qualifier",
			regions: []RegionSpec{{Name: "x", Codes: []string{"city:Seoul"}}},
			want:    []string{`x: "city:Seoul": unknown qualifier "city" (want country:, continent: or asn:)`},
		},
		{
			name:    "country in two regions",
			regions: []RegionSpec{ok, {Name: "b", Codes: []string{"country:KR"}}},
			want:    []string{`b: country KR is already in region "a"`},
		},
		{
			name: "continent in two regions",
			regions: []RegionSpec{
				{Name: "asia", Codes: []string{"AS"}},
				{Name: "apac", Codes: []string{"continent:AS"}},
			},
			want: []string{`apac: continent AS (Asia) is already in region "asia"`},
		},
		{
			name:    "catch-all in two regions",
			regions: []RegionSpec{{Name: "a", Codes: []string{"*"}}, {Name: "b", Codes: []string{"*"}}},
			want:    []string{`b: "*" is already in region "a"`},
		},
		{
			name:    "duplicate region",
			regions: []RegionSpec{ok, {Name: "a"}},
			want:    []string{`region "a" is defined more than once`},
		},
		{
			name:    "unnamed region",
			regions: []RegionSpec{ok, {Codes: []string{"JP"}}},
			want:    []string{`region #2 has no name`},
		},
		{
			name:     "network to unknown region",
			regions:  []RegionSpec{ok},
			networks: []NetworkSpec{{Prefix: netip.MustParsePrefix("10.0.0.0/8"), Region: "nope"}},
			want:     []string{`network 10.0.0.0/8: unknown region "nope"`},
		},
		{
			name:     "network with host bits",
			regions:  []RegionSpec{ok},
			networks: []NetworkSpec{{Prefix: netip.MustParsePrefix("10.1.2.3/8"), Region: "a"}},
			want:     []string{`network 10.1.2.3/8: host bits are set (the network would be 10.0.0.0/8)`},
		},
		{
			name:     "invalid network",
			regions:  []RegionSpec{ok},
			networks: []NetworkSpec{{Region: "a"}},
			want:     []string{`network #1 (region "a"): invalid prefix`},
		},
		{
			name:    "network in two regions",
			regions: []RegionSpec{ok, {Name: "b", Codes: []string{"JP"}}},
			networks: []NetworkSpec{
				{Prefix: netip.MustParsePrefix("10.0.0.0/8"), Region: "a"},
				{Prefix: netip.MustParsePrefix("::ffff:10.0.0.0/104"), Region: "b"},
			},
			want: []string{`network 10.0.0.0/8: mapped to both region "a" and region "b"`},
		},
		{
			name: "every problem is reported",
			regions: []RegionSpec{
				{Name: "a", Codes: []string{"KR", "XX", "*"}},
				{Name: "b", Codes: []string{"KR", "*", "continent:ZZ"}},
			},
			networks: []NetworkSpec{{Prefix: netip.MustParsePrefix("2001:db8::/32"), Region: "c"}},
			want: []string{
				`a: "XX" is not an ISO 3166-1 alpha-2 country code, a continent code or "*"`,
				`b: country KR is already in region "a"`,
				`b: "*" is already in region "a"`,
				`b: "continent:ZZ": "ZZ" is not a continent code (want AF, AN, AS, EU, NA, OC or SA)`,
				`network 2001:db8::/32: unknown region "c"`,
			},
		},
	}
	for _, c := range cases {
		tbl, err := NewTable(c.regions, c.networks)
		if err == nil {
			t.Errorf("%s: NewTable succeeded, want errors", c.name)
			continue
		}
		if tbl != nil {
			t.Errorf("%s: NewTable returned a table along with errors", c.name)
		}
		if got, want := err.Error(), strings.Join(c.want, "\n"); got != want {
			t.Errorf("%s: NewTable error\n got: %s\nwant: %s", c.name, got, want)
		}
	}
}

func TestNewTableAmbiguousCodes(t *testing.T) {
	tbl := mustTable(t, []RegionSpec{
		{Name: "asia", Codes: []string{"AS"}},
		{Name: "samoa", Codes: []string{"country:AS"}},
		{Name: "africa", Codes: []string{"AF"}},
		{Name: "afghanistan", Codes: []string{"country:AF"}},
		{Name: "namibia", Codes: []string{"country:NA"}},
		{Name: "americas", Codes: []string{"continent:NA", "SA"}},
	}, nil)
	db := openTestDB(t, layoutCountry, []testNet{
		{cidr: "1.0.0.0/24", country: "AS", continent: "OC"},
		{cidr: "1.0.1.0/24", country: "AF", continent: "AS"},
		{cidr: "1.0.2.0/24", country: "NA", continent: "AF"},
		{cidr: "1.0.3.0/24", country: "SA", continent: "AS"},
		{cidr: "1.0.4.0/24", country: "KE", continent: "AF"},
	})
	for addr, region := range map[string]string{
		"1.0.0.1": "samoa",
		"1.0.1.1": "afghanistan",
		"1.0.2.1": "namibia",
		"1.0.3.1": "asia", // Saudi Arabia is in Asia; bare SA was South America
		"1.0.4.1": "africa",
	} {
		got := tbl.Lookup(db, netip.MustParseAddr(addr))
		if names := tbl.RegionNames(); got.Region < 0 || names[got.Region] != region {
			t.Errorf("Lookup(%s) = %+v, want region %q", addr, got, region)
		}
	}
}

func TestNewTableWarnings(t *testing.T) {
	tbl := mustTable(t, []RegionSpec{
		{Name: "empty"},
		{Name: "pinned"},
		{Name: "kr", Codes: []string{"KR", "KR", "EU", "continent:EU"}},
	}, []NetworkSpec{
		{Prefix: netip.MustParsePrefix("10.0.0.0/8"), Region: "pinned"},
		{Prefix: netip.MustParsePrefix("10.0.0.0/8"), Region: "pinned"},
	})
	want := []string{
		`region "kr" lists country KR more than once`,
		`region "kr" lists continent EU (Europe) more than once`,
		`network 10.0.0.0/8 is listed more than once`,
		`region "empty" lists no codes and no network maps to it, so it can match nothing`,
	}
	if got := tbl.Warnings(); !slices.Equal(got, want) {
		t.Errorf("Warnings() =\n%s\nwant\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
}

func TestTableAccessors(t *testing.T) {
	tbl := mustTable(t, testRegions(), nil)
	names := tbl.RegionNames()
	if want := []string{"kr", "jp", "eu", "us", "na", "latam", "rest"}; !slices.Equal(names, want) {
		t.Errorf("RegionNames() = %q, want %q", names, want)
	}
	names[0] = "mutated"
	if tbl.RegionNames()[0] != "kr" {
		t.Error("RegionNames exposes the table's own slice")
	}
	if i := tbl.RegionIndex("latam"); i != 5 {
		t.Errorf(`RegionIndex("latam") = %d, want 5`, i)
	}
	if i := tbl.RegionIndex("nope"); i != -1 {
		t.Errorf(`RegionIndex("nope") = %d, want -1`, i)
	}
	empty := mustTable(t, nil, nil)
	if r := empty.Lookup(nil, netip.MustParseAddr("1.2.3.4")); r.Region != -1 || r.Source != SourceNone {
		t.Errorf("empty table Lookup = %+v, want no region", r)
	}
}

func TestCarvedOverrides(t *testing.T) {
	// Deeply nested and adjacent overrides; every address must get the
	// longest override holding it, and the reported scope must not reach
	// an override deciding differently.
	specs := []NetworkSpec{
		{Prefix: netip.MustParsePrefix("0.0.0.0/0"), Region: "a"},
		{Prefix: netip.MustParsePrefix("10.0.0.0/8"), Region: "b"},
		{Prefix: netip.MustParsePrefix("10.0.0.0/9"), Region: "a"},
		{Prefix: netip.MustParsePrefix("10.0.0.0/24"), Region: "b"},
		{Prefix: netip.MustParsePrefix("10.0.1.0/24"), Region: "c"},
		{Prefix: netip.MustParsePrefix("10.0.0.128/32"), Region: "c"},
		{Prefix: netip.MustParsePrefix("::/0"), Region: "c"},
		{Prefix: netip.MustParsePrefix("2001:db8::/32"), Region: "a"},
		{Prefix: netip.MustParsePrefix("2001:db8::1/128"), Region: "b"},
	}
	tbl := mustTable(t, []RegionSpec{{Name: "a"}, {Name: "b"}, {Name: "c"}}, specs)
	cases := map[string]want{
		"1.2.3.4":        {"a", 5, SourceNetwork, ""},
		"10.0.0.1":       {"b", 25, SourceNetwork, ""},
		"10.0.0.128":     {"c", 32, SourceNetwork, ""},
		"10.0.0.129":     {"b", 32, SourceNetwork, ""},
		"10.0.0.200":     {"b", 26, SourceNetwork, ""},
		"10.0.1.1":       {"c", 24, SourceNetwork, ""},
		"10.0.2.1":       {"a", 23, SourceNetwork, ""},
		"10.200.0.1":     {"b", 9, SourceNetwork, ""},
		"255.0.0.1":      {"a", 1, SourceNetwork, ""},
		"2001:db8::1":    {"b", 128, SourceNetwork, ""},
		"2001:db8::2":    {"a", 127, SourceNetwork, ""},
		"2001:db8:8::":   {"a", 45, SourceNetwork, ""},
		"2001:db9::":     {"c", 32, SourceNetwork, ""},
		"8000::1":        {"c", 1, SourceNetwork, ""},
		"::ffff:1.2.3.4": {"a", 5, SourceNetwork, ""},
	}
	for addr, w := range cases {
		if got := tbl.Lookup(nil, netip.MustParseAddr(addr)); got != w.result(tbl) {
			t.Errorf("Lookup(%s) = %+v, want %+v", addr, got, w.result(tbl))
		}
	}
}
