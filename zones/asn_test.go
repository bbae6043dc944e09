package zones

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestASNCodesAtTheirLine: an asn: code is an error at its region's line
// when no asn_database is given, or when it is not an AS number; with the
// database named (it is read only when served) the same regions load.
func TestASNCodesAtTheirLine(t *testing.T) {
	regions := "[regions]\nkr_kt = [\"asn:4766\"]\nkr = [\"KR\"]\n"
	cases := []struct {
		name string
		doc  string
		want []string
	}{
		{"no asn_database", regions + base + zoneHead,
			[]string{`bad.toml:2: region "kr_kt": "asn:4766" needs [geo] asn_database (a GeoLite2-ASN or GeoIP2-ISP file)`}},
		{"not a number", "[geo]\nasn_database = \"asn.mmdb\"\n[regions]\nkr = [\"KR\"]\nkr_kt = [\"asn:KT\"]\n" + base + zoneHead,
			[]string{`bad.toml:5: regions.kr_kt: "asn:KT": "KT" is not an AS number (want asn: and a number from 1 to 4294967295)`}},
		{"zero", "[geo]\nasn_database = \"asn.mmdb\"\n[regions]\nkr_kt = [\"asn:0\"]\n" + base + zoneHead,
			[]string{`bad.toml:4: regions.kr_kt: "asn:0": "0" is not an AS number (want asn: and a number from 1 to 4294967295)`}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			_, err := Parse("bad.toml", []byte(tc.doc))
			var es Errors
			if !errors.As(err, &es) {
				t.Fatalf("error %T is not Errors: %v", err, err)
			}
			var got []string
			for _, e := range es {
				got = append(got, e.Error())
			}
			if strings.Join(got, "\n") != strings.Join(tc.want, "\n") {
				t.Errorf("errors:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(tc.want, "\n"))
			}
		})
	}

	dir := t.TempDir()
	path := filepath.Join(dir, "asn.toml")
	doc := "[geo]\nasn_database = \"GeoLite2-ASN.mmdb\"\n" + regions + base + zoneHead
	if err := os.WriteFile(path, []byte(doc), 0o644); err != nil {
		t.Fatal(err)
	}
	snap, err := Load(path)
	if err != nil {
		t.Fatalf("asn:4766 with asn_database: %v", err)
	}
	if want := filepath.Join(dir, "GeoLite2-ASN.mmdb"); snap.Geo.ASNDatabase != want {
		t.Errorf("asn_database resolved to %q, want %q (beside the policy file)", snap.Geo.ASNDatabase, want)
	}
	if !snap.GeoTable.ASNs() {
		t.Error("the table lists no AS number")
	}

	// Load reports the same error as check, at the same place.
	bad := filepath.Join(dir, "bad.toml")
	if err := os.WriteFile(bad, []byte(regions+base+zoneHead), 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := Load(bad); err == nil || !strings.Contains(err.Error(), bad+`:2: region "kr_kt": "asn:4766" needs [geo] asn_database`) {
		t.Errorf("Load without asn_database: %v", err)
	}
}
