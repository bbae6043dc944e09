package zones

import (
	"slices"
	"strings"
	"testing"
)

// A probe speaks for the regions it names, every region when it names
// none; a region the policy does not have, a name twice or a value that is
// not a list of names is an error at the key's line.
func TestProbeRegions(t *testing.T) {
	const regions = "[regions]\nkr = [\"KR\"]\n"
	s, err := Parse("p.toml", []byte(sectionBase+regions+"[cdn.a.probe]\nurl = \"http://x.example/\"\nregions = [\"kr\"]\n"))
	if err != nil {
		t.Fatal(err)
	}
	if got := s.CDNs[0].Probe.Regions.Names(); !slices.Equal(got, []string{"kr"}) {
		t.Errorf("regions %v, want [kr]", got)
	}
	s, err = Parse("p.toml", []byte(sectionBase+"[cdn.a.probe]\nurl = \"http://x.example/\"\n"))
	if err != nil {
		t.Fatal(err)
	}
	if got := s.CDNs[0].Probe.Regions; got.Names() != nil || got.String() != "all regions" {
		t.Errorf("unset regions %v, want every region", got)
	}
	for _, tc := range []struct{ name, doc, want string }{
		{"unknown", regions + "[cdn.a.probe]\nurl = \"http://x.example/\"\nregions = [\"kr\", \"jp\"]\n",
			`p.toml:15: cdn "a": probe.regions: unknown region jp (regions: default, kr)`},
		{"twice", regions + "[cdn.a.probe]\nurl = \"http://x.example/\"\nregions = [\"kr\", \"kr\"]\n",
			`p.toml:15: cdn "a": probe.regions: "kr" listed twice`},
		{"not names", "[cdn.a.probe]\nurl = \"http://x.example/\"\nregions = [1]\n", "regions: want region names"},
		{"empty", "[cdn.a.probe]\nurl = \"http://x.example/\"\nregions = []\n", "regions: empty"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := Parse("p.toml", []byte(sectionBase+tc.doc))
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("error %v, want %q", err, tc.want)
			}
		})
	}
}
