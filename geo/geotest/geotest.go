// Package geotest builds MaxMind-format databases for tests of packages
// that use geo, so that no binary database is checked in. It is used only
// from tests.
package geotest

import (
	"bytes"
	"net"
	"os"
	"testing"

	"github.com/maxmind/mmdbwriter"
	"github.com/maxmind/mmdbwriter/mmdbtype"
)

// Layouts name MaxMind's products; records are shaped alike.
const (
	Country = "GeoLite2-Country"
	City    = "GeoLite2-City"
)

// Network is one network of a test database.
type Network struct {
	CIDR      string
	Country   string // ISO code, "" for none
	Continent string // continent code, "" for none
}

// Build returns a database of the given layout holding nets. Later
// networks may punch holes in earlier, wider ones.
func Build(tb testing.TB, layout string, nets []Network) []byte {
	tb.Helper()
	tree, err := mmdbwriter.New(mmdbwriter.Options{DatabaseType: layout, Languages: []string{"en"}, BuildEpoch: 1700000000})
	if err != nil {
		tb.Fatal(err)
	}
	for _, n := range nets {
		_, ipnet, err := net.ParseCIDR(n.CIDR)
		if err != nil {
			tb.Fatal(err)
		}
		rec := mmdbtype.Map{}
		if n.Continent != "" {
			rec["continent"] = mmdbtype.Map{"code": mmdbtype.String(n.Continent)}
		}
		if n.Country != "" {
			c := mmdbtype.Map{"iso_code": mmdbtype.String(n.Country), "names": mmdbtype.Map{"en": mmdbtype.String(n.Country)}}
			rec["country"] = c
			rec["registered_country"] = c
		}
		if layout == City {
			rec["city"] = mmdbtype.Map{"names": mmdbtype.Map{"en": mmdbtype.String("Somewhere")}}
		}
		if err := tree.Insert(ipnet, rec); err != nil {
			tb.Fatalf("insert %s: %v", n.CIDR, err)
		}
	}
	var buf bytes.Buffer
	if _, err := tree.WriteTo(&buf); err != nil {
		tb.Fatal(err)
	}
	return buf.Bytes()
}

// Write builds a database and writes it to path atomically (a temporary
// file renamed into place), the way geoipupdate replaces its files.
func Write(tb testing.TB, path, layout string, nets []Network) {
	tb.Helper()
	tmp := path + ".tmp"
	if err := os.WriteFile(tmp, Build(tb, layout, nets), 0o644); err != nil {
		tb.Fatal(err)
	}
	if err := os.Rename(tmp, path); err != nil {
		tb.Fatal(err)
	}
}
