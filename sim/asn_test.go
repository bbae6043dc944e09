package sim

import (
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/cdnsteer/cdnsteer/health"
	"github.com/cdnsteer/cdnsteer/zones"
)

// footballByASN loads the football example with Korea's viewers split by
// the AS of their ISP (extra appended to the committed scenario).
func footballByASN(tb testing.TB, extra string) (*Scenario, error) {
	tb.Helper()
	snap, err := zones.Load("../zones/examples/football.toml")
	if err != nil {
		tb.Fatal(err)
	}
	raw, err := os.ReadFile("../zones/examples/football-scenario.toml")
	if err != nil {
		tb.Fatal(err)
	}
	path := filepath.Join(tb.TempDir(), "football-asn.toml")
	if err := os.WriteFile(path, append(raw, extra...), 0o644); err != nil {
		tb.Fatal(err)
	}
	return LoadScenario(path, snap)
}

// koreaByASN gives KT (AS 4766, region kr_kt in football.toml) 30 % of
// Korea's viewers, SK Broadband (AS 9318, which no region lists) 25 %.
const koreaByASN = "\n[region.kr.asn]\n4766 = 0.30\n9318 = 0.25\n"

// TestASNSplitSteersByTheASNRegion: the viewers of an AS that a policy
// region lists leave their country's region for it, with their share of
// its resolvers and its resolver habits, and are answered by that
// region's weights: every cached answer of theirs is the pick of
// kr_kt's split, and over the first minutes (before any fault) their
// viewers sit on the CDNs in kr_kt's proportions, not Korea's.
func TestASNSplitSteersByTheASNRegion(t *testing.T) {
	plain := footballScenario(t)
	sc, err := footballByASN(t, koreaByASN)
	if err != nil {
		t.Fatal(err)
	}
	byName := func(s *Scenario, name string) Region {
		for _, r := range s.Regions {
			if r.Name == name {
				return r
			}
		}
		t.Fatalf("no region %q", name)
		return Region{}
	}
	kr0, kr, kt := byName(plain, "kr"), byName(sc, "kr"), byName(sc, "kr_kt")
	if byName(plain, "kr_kt").Share != 0 {
		t.Fatalf("without the split kr_kt has share %g", byName(plain, "kr_kt").Share)
	}
	if math.Abs(kt.Share-0.3*kr0.Share) > 1e-9 || math.Abs(kr.Share-0.7*kr0.Share) > 1e-9 || kt.From != "kr" ||
		kt.Resolvers != int(0.3*float64(kr0.Resolvers)+0.5) || kr.Resolvers != kr0.Resolvers-kt.Resolvers ||
		kt.ECSShare != kr0.ECSShare || kt.StretchShare != kr0.StretchShare || kt.BitrateMbps != kr0.BitrateMbps {
		t.Fatalf("Korea %+v split into kr %+v and kr_kt %+v", kr0, kr, kt)
	}

	// Every cached answer of KT's viewers is kr_kt's pick.
	r := newRunner(sc)
	ri := sc.Policy.Config.RegionIndex("kr_kt")
	groups := 0
	for _, g := range r.pop.groups {
		if int(g.region) != ri {
			continue
		}
		groups++
		if want := r.baseline[ri].Pick(g.key); int(g.cdn) != want {
			t.Fatalf("a kr_kt group holds CDN %d, kr_kt's weights pick %d", g.cdn, want)
		}
	}
	if groups < kt.Resolvers {
		t.Fatalf("%d kr_kt groups for %d resolvers", groups, kt.Resolvers)
	}

	// Over the first ten minutes their viewers follow kr_kt's weights
	// (edgio 5 %), Korea's the country's (edgio 20 %).
	sc.Duration = 10 * time.Minute
	res := mustRun(t, sc, nil)
	onEdgio := func(name string) float64 {
		i, e := sc.Policy.Config.RegionIndex(name), -1
		for ci, c := range sc.CDNs {
			if c.Name == "edgio" {
				e = ci
			}
		}
		var on, all float64
		for _, iv := range res.Series.Intervals {
			for ci, c := range iv.Cells[i] {
				all += c.Viewers
				if ci == e {
					on += c.Viewers
				}
			}
		}
		return on / all
	}
	w := func(region string) *health.Weights { return r.baseline[sc.Policy.Config.RegionIndex(region)] }
	t.Logf("edgio: kr_kt %.1f %% of its viewers (weights %v), kr %.1f %% (weights %v)", 100*onEdgio("kr_kt"), w("kr_kt").W, 100*onEdgio("kr"), w("kr").W)
	if onEdgio("kr_kt") > 0.10 || onEdgio("kr") < 0.12 {
		t.Fatalf("edgio carries %.1f %% of kr_kt's viewers and %.1f %% of kr's: want about 5 and 20", 100*onEdgio("kr_kt"), 100*onEdgio("kr"))
	}
}

func TestASNSplitErrors(t *testing.T) {
	for _, c := range []struct {
		extra, want string
	}{
		{"\n[region.kr.asn]\nKT = 0.3\n", `"KT" is not an AS number`},
		{"\n[region.kr.asn]\n04766 = 0.3\n", `"04766" is not an AS number`},
		{"\n[region.kr.asn]\n4766 = 1.5\n", "share 1.5 of AS 4766 is outside 0..1"},
		{"\n[region.kr.asn]\n4766 = 0.6\n9318 = 0.6\n", `the AS shares of region "kr" add up to 1.2`},
		{"\n[region.kr_kt]\nshare = 0.1\n[region.kr.asn]\n4766 = 0.3\n", `give it no [region.kr_kt] of its own`},
		{"\n[region.kr.asn]\n4766 = 0.3\n[region.jp.asn]\n4766 = 0.1\n", `already takes viewers from region "jp"`},
	} {
		_, err := footballByASN(t, c.extra)
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%q: %v, want %q", c.extra, err, c.want)
		}
	}
}
