package geo

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/cdnsteer/cdnsteer/geo/geotest"
)

// Database layouts the tests build, named after MaxMind's products.
const (
	layoutCountry = geotest.Country
	layoutCity    = geotest.City
	layoutASN     = geotest.ASN
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
	gn := make([]geotest.Network, len(nets))
	for i, n := range nets {
		gn[i] = geotest.Network{CIDR: n.cidr, Country: n.country, Continent: n.continent, Registered: n.registered}
	}
	return geotest.Build(tb, layout, gn)
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
