package geo

import (
	"net/netip"
	"reflect"
	"testing"
)

func TestTableEqual(t *testing.T) {
	build := func(regions []RegionSpec, networks []NetworkSpec) *Table {
		t.Helper()
		tb, err := NewTable(regions, networks)
		if err != nil {
			t.Fatal(err)
		}
		return tb
	}
	regions := []RegionSpec{{Name: "default", Codes: []string{"*"}}, {Name: "eu", Codes: []string{"DE", "FR", "asn:3320"}}, {Name: "kr", Codes: []string{"KR"}}}
	nets := []NetworkSpec{{Prefix: netip.MustParsePrefix("10.1.0.0/16"), Region: "kr"}, {Prefix: netip.MustParsePrefix("2001:db8::/32"), Region: "eu"}}
	a := build(regions, nets)
	if !a.Equal(build(regions, nets)) {
		t.Error("tables built alike differ")
	}
	other := []struct {
		why string
		tb  *Table
	}{
		{"a country moved", build([]RegionSpec{regions[0], {Name: "eu", Codes: []string{"DE", "asn:3320"}}, {Name: "kr", Codes: []string{"KR", "FR"}}}, nets)},
		{"an AS moved", build([]RegionSpec{regions[0], {Name: "eu", Codes: []string{"DE", "FR"}}, {Name: "kr", Codes: []string{"KR", "asn:3320"}}}, nets)},
		{"a network moved", build(regions, []NetworkSpec{nets[0], {Prefix: netip.MustParsePrefix("2001:db8::/32"), Region: "kr"}})},
		{"a network narrowed", build(regions, []NetworkSpec{{Prefix: netip.MustParsePrefix("10.1.0.0/17"), Region: "kr"}, nets[1]})},
		{"a region renamed", build([]RegionSpec{regions[0], regions[1], {Name: "korea", Codes: []string{"KR"}}}, []NetworkSpec{{Prefix: nets[0].Prefix, Region: "korea"}, nets[1]})},
		{"nil", nil},
	}
	for _, o := range other {
		if a.Equal(o.tb) {
			t.Errorf("%s: tables equal", o.why)
		}
	}
	// Equal compares every field: one added to Table must be added there.
	if n := reflect.TypeOf(Table{}).NumField(); n != 7 {
		t.Errorf("Table has %d fields; Equal compares 7", n)
	}
	if n := reflect.TypeOf(prefixSet{}).NumField(); n != 7 {
		t.Errorf("prefixSet has %d fields; equal compares 7", n)
	}
}
