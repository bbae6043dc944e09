package geo

import (
	"net/netip"
	"os"
	"path/filepath"
	"testing"
)

// benchDB opens the database named by GEO_BENCH_DB (a real GeoLite2 file,
// say), or else a synthetic one of GeoLite2-Country's size.
func benchDB(b *testing.B) *DB {
	b.Helper()
	path := os.Getenv("GEO_BENCH_DB")
	if path == "" {
		path = filepath.Join(b.TempDir(), "synthetic.mmdb")
		if err := os.WriteFile(path, syntheticDB(b, 350_000, 150_000), 0o644); err != nil {
			b.Fatal(err)
		}
	}
	db, err := OpenDB(path)
	if err != nil {
		b.Fatal(err)
	}
	return db
}

func BenchmarkLookup(b *testing.B) {
	db := benchDB(b)
	b.Logf("database: %+v", db.Info())
	tbl := mustTable(b, []RegionSpec{
		{Name: "apac", Codes: []string{"AS", "OC"}},
		{Name: "eu", Codes: []string{"EU", "AF"}},
		{Name: "us", Codes: []string{"US", "CA"}},
		{Name: "rest", Codes: []string{"*"}},
	}, []NetworkSpec{
		{Prefix: netip.MustParsePrefix("10.0.0.0/8"), Region: "eu"},
		{Prefix: netip.MustParsePrefix("2001:db8::/32"), Region: "us"},
	})
	for _, c := range []struct {
		name string
		db   *DB
		v6   bool
	}{
		{"IPv4/db", db, false},
		{"IPv6/db", db, true},
		{"IPv4/nodb", nil, false},
		{"IPv6/nodb", nil, true},
	} {
		addrs := sampleAddrs(1<<16, c.v6)
		b.Run(c.name, func(b *testing.B) {
			b.ReportAllocs()
			var sink Result
			i := 0
			for b.Loop() {
				sink = tbl.Lookup(c.db, addrs[i&(len(addrs)-1)])
				i++
			}
			_ = sink
		})
	}
}

// BenchmarkSubnetMap is BenchmarkLookup's IPv4 case through the map the
// nameserver builds per table and database, and the cost of building it.
func BenchmarkSubnetMap(b *testing.B) {
	db := benchDB(b)
	tbl := mustTable(b, []RegionSpec{
		{Name: "kr", Codes: []string{"KR"}},
		{Name: "eu", Codes: []string{"EU"}},
		{Name: "rest", Codes: []string{"*"}},
	}, nil)
	m := NewSubnetMap(tbl, db)
	b.Logf("%d of 65536 /16s kept per /24", m.Blocks())
	addrs := sampleAddrs(1<<16, false)
	b.Run("lookup", func(b *testing.B) {
		b.ReportAllocs()
		i := 0
		for b.Loop() {
			m.Lookup24(addrs[i&(len(addrs)-1)])
			i++
		}
	})
	b.Run("build", func(b *testing.B) {
		for b.Loop() {
			NewSubnetMap(tbl, db)
		}
	})
}

func BenchmarkOpenDB(b *testing.B) {
	path := os.Getenv("GEO_BENCH_DB")
	if path == "" {
		path = filepath.Join(b.TempDir(), "synthetic.mmdb")
		if err := os.WriteFile(path, syntheticDB(b, 350_000, 150_000), 0o644); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportAllocs()
	for b.Loop() {
		if _, err := OpenDB(path); err != nil {
			b.Fatal(err)
		}
	}
}
