package geo

import (
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func TestOpenDBInfo(t *testing.T) {
	for _, layout := range []string{layoutCountry, layoutCity} {
		path := writeDB(t, t.TempDir(), "x.mmdb", layout, testNets())
		db, err := OpenDB(path)
		if err != nil {
			t.Fatal(err)
		}
		want := DBInfo{
			Path:      path,
			Type:      layout,
			BuildTime: time.Unix(1700000000, 0).UTC(),
			// 3.0.0.0/8 minus 3.3.3.0/24 is 16 networks, 2600::/16 minus
			// 2600:1::/32 is 16 more, and the 15 others are whole.
			Networks:  15 + 16 + 16,
			Countries: 7, // AU KR JP US DE CA BR
		}
		got := db.Info()
		if !got.BuildTime.Equal(want.BuildTime) {
			t.Errorf("%s: BuildTime = %v, want %v", layout, got.BuildTime, want.BuildTime)
		}
		got.BuildTime = want.BuildTime
		if got != want {
			t.Errorf("%s: Info() = %+v, want %+v", layout, got, want)
		}
	}
}

func TestOpenDBErrors(t *testing.T) {
	dir := t.TempDir()
	garbage := filepath.Join(dir, "garbage.mmdb")
	if err := os.WriteFile(garbage, []byte("this is not a database"), 0o644); err != nil {
		t.Fatal(err)
	}
	truncated := filepath.Join(dir, "truncated.mmdb")
	full := buildDB(t, layoutCountry, testNets())
	if err := os.WriteFile(truncated, full[:len(full)/2], 0o644); err != nil {
		t.Fatal(err)
	}
	asn := writeDB(t, dir, "asn.mmdb", layoutASN, []testNet{{cidr: "1.0.0.0/24"}, {cidr: "2001:200::/32"}})

	cases := []struct {
		name, path, want string
		is               error
	}{
		{"missing", filepath.Join(dir, "missing.mmdb"), "read geoip database: open " + filepath.Join(dir, "missing.mmdb") + ": no such file or directory", fs.ErrNotExist},
		{"directory", dir, "read geoip database: " + dir + " is not a regular file", nil},
		{"garbage", garbage, "open geoip database " + garbage + ": not a MaxMind DB file: ", nil},
		{"truncated", truncated, "open geoip database " + truncated + ": not a MaxMind DB file: ", nil},
		{"asn", asn, "load geoip database " + asn + `: database type "GeoLite2-ASN" has no country or continent data (want a GeoIP2/GeoLite2 Country or City database)`, nil},
	}
	for _, c := range cases {
		db, err := OpenDB(c.path)
		if err == nil {
			t.Errorf("%s: OpenDB succeeded", c.name)
			continue
		}
		if db != nil {
			t.Errorf("%s: OpenDB returned a DB with its error", c.name)
		}
		if !strings.HasPrefix(err.Error(), c.want) {
			t.Errorf("%s: OpenDB error\n got: %v\nwant: %s", c.name, err, c.want)
		}
		if c.is != nil && !errors.Is(err, c.is) {
			t.Errorf("%s: OpenDB error %v is not %v", c.name, err, c.is)
		}
	}
}
