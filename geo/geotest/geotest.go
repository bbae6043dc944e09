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

// Layouts name MaxMind's products; records are shaped like theirs, so
// that a decoder has real fields to skip.
const (
	Country = "GeoLite2-Country"
	City    = "GeoLite2-City"
	ASN     = "GeoLite2-ASN" // no location at all
	ISP     = "GeoIP2-ISP"   // ASN plus isp and organization
)

// Network is one network of a test database.
type Network struct {
	CIDR       string
	Country    string // ISO code, "" for none
	Continent  string // continent code, "" for none
	Registered string // registered_country; "" means Country
	ASN        uint32 // autonomous system in the ASN and ISP layouts; 0 means 64500
}

// Build returns a database of the given layout holding nets. Later
// networks may punch holes in earlier, wider ones.
func Build(tb testing.TB, layout string, nets []Network) []byte {
	tb.Helper()
	tree, err := mmdbwriter.New(mmdbwriter.Options{DatabaseType: layout, Languages: []string{"en", "ja"}, BuildEpoch: 1700000000})
	if err != nil {
		tb.Fatal(err)
	}
	for _, n := range nets {
		_, ipnet, err := net.ParseCIDR(n.CIDR)
		if err != nil {
			tb.Fatal(err)
		}
		if err := tree.Insert(ipnet, record(layout, n)); err != nil {
			tb.Fatalf("insert %s: %v", n.CIDR, err)
		}
	}
	var buf bytes.Buffer
	if _, err := tree.WriteTo(&buf); err != nil {
		tb.Fatal(err)
	}
	return buf.Bytes()
}

func names(en string) mmdbtype.Map {
	return mmdbtype.Map{"en": mmdbtype.String(en), "ja": mmdbtype.String(en + "-ja")}
}

// record is n's record in the given layout.
func record(layout string, n Network) mmdbtype.DataType {
	if layout == ASN || layout == ISP {
		asn := n.ASN
		if asn == 0 {
			asn = 64500
		}
		rec := mmdbtype.Map{
			"autonomous_system_number":       mmdbtype.Uint32(asn),
			"autonomous_system_organization": mmdbtype.String("Example"),
		}
		if layout == ISP {
			rec["isp"] = mmdbtype.String("Example ISP")
			rec["organization"] = mmdbtype.String("Example Org")
		}
		return rec
	}
	rec := mmdbtype.Map{}
	if n.Continent != "" {
		rec["continent"] = mmdbtype.Map{
			"code":       mmdbtype.String(n.Continent),
			"geoname_id": mmdbtype.Uint32(6255147),
			"names":      names("continent " + n.Continent),
		}
	}
	if n.Country != "" {
		rec["country"] = mmdbtype.Map{
			"geoname_id": mmdbtype.Uint32(1835841),
			"iso_code":   mmdbtype.String(n.Country),
			"names":      names("country " + n.Country),
		}
	}
	registered := n.Registered
	if registered == "" {
		registered = n.Country
	}
	if registered != "" {
		rec["registered_country"] = mmdbtype.Map{
			"geoname_id": mmdbtype.Uint32(1835841),
			"iso_code":   mmdbtype.String(registered),
			"names":      names("country " + registered),
		}
	}
	if layout == City {
		rec["city"] = mmdbtype.Map{"geoname_id": mmdbtype.Uint32(1835848), "names": names("city")}
		rec["location"] = mmdbtype.Map{
			"accuracy_radius": mmdbtype.Uint16(50),
			"latitude":        mmdbtype.Float64(37.5),
			"longitude":       mmdbtype.Float64(127),
			"time_zone":       mmdbtype.String("Asia/Seoul"),
		}
		rec["postal"] = mmdbtype.Map{"code": mmdbtype.String("04524")}
		rec["subdivisions"] = mmdbtype.Slice{
			mmdbtype.Map{"iso_code": mmdbtype.String("11"), "names": names("subdivision")},
		}
	}
	return rec
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
