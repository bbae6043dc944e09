package geo

import (
	"bytes"
	"net"
	"os"
	"path/filepath"
	"testing"

	"github.com/maxmind/mmdbwriter"
	"github.com/maxmind/mmdbwriter/mmdbtype"
)

// Database layouts the tests build, named after MaxMind's products.
const (
	layoutCountry = "GeoLite2-Country"
	layoutCity    = "GeoLite2-City"
	layoutASN     = "GeoLite2-ASN"
)

// testNet is one network of a test database. Empty fields are left out of
// the record, as MaxMind does.
type testNet struct {
	cidr       string
	country    string
	continent  string
	registered string // registered_country; defaults to country
}

// testNets is the database most tests use: KR, JP, US, DE and others in
// IPv4 and IPv6, a network known only by its registered country, one
// known only by its continent, and nested and adjacent networks of
// different lengths. Order matters: a nested network must follow the one
// it punches a hole in.
func testNets() []testNet {
	return []testNet{
		{cidr: "1.0.0.0/24", country: "AU", continent: "OC"},
		{cidr: "1.16.0.0/16", country: "KR", continent: "AS"},
		{cidr: "1.17.0.0/16", country: "JP", continent: "AS"},
		{cidr: "2.0.0.0/16", continent: "EU"},
		{cidr: "3.0.0.0/8", country: "US", continent: "NA"},
		{cidr: "3.3.3.0/24", country: "DE", continent: "EU"},
		{cidr: "5.0.0.0/16", country: "DE", continent: "EU"},
		{cidr: "8.8.0.0/16", country: "US", continent: "NA"},
		{cidr: "9.9.9.0/24", registered: "JP"},
		{cidr: "9.9.10.0/24", registered: "BR"},
		{cidr: "24.48.0.0/16", country: "CA", continent: "NA"},
		{cidr: "45.0.0.0/16", country: "BR", continent: "SA"},
		{cidr: "2001:200::/32", country: "JP", continent: "AS"},
		{cidr: "2400:1000::/32", country: "KR", continent: "AS"},
		{cidr: "2600::/16", country: "US", continent: "NA"},
		{cidr: "2600:1::/32", country: "DE", continent: "EU"},
		{cidr: "2a00::/16", country: "DE", continent: "EU"},
	}
}

// buildDB returns the bytes of a MaxMind DB in the given layout.
func buildDB(tb testing.TB, layout string, nets []testNet) []byte {
	tb.Helper()
	tree, err := mmdbwriter.New(mmdbwriter.Options{
		DatabaseType: layout,
		Languages:    []string{"en", "ja"},
		BuildEpoch:   1700000000,
	})
	if err != nil {
		tb.Fatal(err)
	}
	for _, n := range nets {
		_, ipnet, err := net.ParseCIDR(n.cidr)
		if err != nil {
			tb.Fatal(err)
		}
		if err := tree.Insert(ipnet, testRecord(layout, n)); err != nil {
			tb.Fatalf("insert %s: %v", n.cidr, err)
		}
	}
	var buf bytes.Buffer
	if _, err := tree.WriteTo(&buf); err != nil {
		tb.Fatal(err)
	}
	return buf.Bytes()
}

// writeDB builds a database into dir/name and returns its path.
func writeDB(tb testing.TB, dir, name, layout string, nets []testNet) string {
	tb.Helper()
	path := filepath.Join(dir, name)
	if err := os.WriteFile(path, buildDB(tb, layout, nets), 0o644); err != nil {
		tb.Fatal(err)
	}
	return path
}

// openTestDB builds and opens a database in a temporary directory.
func openTestDB(tb testing.TB, layout string, nets []testNet) *DB {
	tb.Helper()
	db, err := OpenDB(writeDB(tb, tb.TempDir(), "test.mmdb", layout, nets))
	if err != nil {
		tb.Fatal(err)
	}
	return db
}

func names(en string) mmdbtype.Map {
	return mmdbtype.Map{"en": mmdbtype.String(en), "ja": mmdbtype.String(en + "-ja")}
}

// testRecord mimics the shape of MaxMind's records closely enough that
// the decoder has real fields to skip.
func testRecord(layout string, n testNet) mmdbtype.DataType {
	if layout == layoutASN {
		return mmdbtype.Map{
			"autonomous_system_number":       mmdbtype.Uint32(64500),
			"autonomous_system_organization": mmdbtype.String("Example"),
		}
	}
	rec := mmdbtype.Map{}
	if n.continent != "" {
		rec["continent"] = mmdbtype.Map{
			"code":       mmdbtype.String(n.continent),
			"geoname_id": mmdbtype.Uint32(6255147),
			"names":      names("continent " + n.continent),
		}
	}
	if n.country != "" {
		rec["country"] = mmdbtype.Map{
			"geoname_id": mmdbtype.Uint32(1835841),
			"iso_code":   mmdbtype.String(n.country),
			"names":      names("country " + n.country),
		}
	}
	registered := n.registered
	if registered == "" {
		registered = n.country
	}
	if registered != "" {
		rec["registered_country"] = mmdbtype.Map{
			"geoname_id": mmdbtype.Uint32(1835841),
			"iso_code":   mmdbtype.String(registered),
			"names":      names("country " + registered),
		}
	}
	if layout == layoutCity {
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

// openBytes writes a database to path and opens it.
func openBytes(tb testing.TB, path string, raw []byte) *DB {
	tb.Helper()
	if err := os.WriteFile(path, raw, 0o644); err != nil {
		tb.Fatal(err)
	}
	db, err := OpenDB(path)
	if err != nil {
		tb.Fatal(err)
	}
	return db
}
