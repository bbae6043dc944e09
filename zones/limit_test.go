package zones

import (
	"fmt"
	"runtime"
	"slices"
	"strings"
	"testing"
)

// scalePolicy is a policy of n steered names, one policy each, over 20
// regions (19 and the default, each with weights of its own) and 6 CDNs:
// scripts/scale.sh's shape.
func scalePolicy(n int) []byte {
	var b strings.Builder
	b.WriteString("[regions]\n")
	for r, cc := range strings.Fields("DE FR GB US JP KR BR IN AU CA ES IT NL SE PL MX AR ZA NG") {
		fmt.Fprintf(&b, "r%02d = [%q]\n", r+1, cc)
	}
	for c := 1; c <= 6; c++ {
		fmt.Fprintf(&b, "[cdn.cdn%d]\ntarget = \"live.cdn%d.example.net.\"\ncommit_gbps = 1000\n", c, c)
	}
	region := func(p int, name string) {
		fmt.Fprintf(&b, "[policy.p%05d.region.%s]\nweights = { cdn1 = 10, cdn2 = 13, cdn3 = 16, cdn4 = 19, cdn5 = 22, cdn6 = 25 }\n", p, name)
	}
	for p := range n {
		fmt.Fprintf(&b, "[policy.p%05d]\nttl = 20\n", p)
		region(p, "default")
		for r := 1; r < 20; r++ {
			region(p, fmt.Sprintf("r%02d", r))
		}
	}
	b.WriteString("[[zone]]\norigin = \"live.example.\"\nns = [\"ns1.elsewhere.example.\"]\n")
	for p := range n {
		fmt.Fprintf(&b, "[[zone.steer]]\nname = \"match%05d\"\npolicy = \"p%05d\"\n", p, p)
	}
	return []byte(b.String())
}

// A policy of 10,000 steered names is 1,200,000 states for the health
// engine to evaluate every second: refused with the product and the
// limit before it is decoded, not loaded until the server runs out of
// core, nor decoded until it runs out of memory (2.9 GB allocated,
// 1.96 GB peak RSS to decode this file).
func TestTenThousandNamesRefused(t *testing.T) {
	doc := scalePolicy(10_000)
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	_, err := Parse("huge.toml", doc)
	runtime.ReadMemStats(&after)
	if err == nil {
		t.Fatal("a policy of 10,000 names × 20 regions × 6 CDNs loaded")
	}
	want := "huge.toml:1: 10,000 policies × 20 regions × 6 CDNs = 1,200,000 steered states, over cdnsteer's limit of 200,000"
	if !strings.HasPrefix(err.Error(), want) {
		t.Errorf("error %q\nwant it to begin %q", err, want)
	}
	if mib := (after.TotalAlloc - before.TotalAlloc) >> 20; mib > 64 {
		t.Errorf("%d MiB allocated to refuse a %d MiB file", mib, len(doc)>>20)
	}
}

// Policies the header scan does not see (set with dotted keys under one
// [policy] table) are counted once compiled: the limit holds either way.
func TestLimitAfterCompiling(t *testing.T) {
	var b strings.Builder
	b.WriteString("[regions]\n")
	for r, cc := range strings.Fields("DE FR GB US JP KR BR IN AU CA ES IT NL SE PL MX AR ZA NG") {
		fmt.Fprintf(&b, "r%02d = [%q]\n", r+1, cc)
	}
	for c := 1; c <= 6; c++ {
		fmt.Fprintf(&b, "[cdn.cdn%d]\ntarget = \"live.cdn%d.example.net.\"\n", c, c)
	}
	b.WriteString("[policy]\n")
	for p := range 1700 {
		fmt.Fprintf(&b, "p%05d.region.default.weights = { cdn1 = 1, cdn2 = 1, cdn3 = 1, cdn4 = 1, cdn5 = 1, cdn6 = 1 }\n", p)
	}
	b.WriteString("[[zone]]\norigin = \"live.example.\"\nns = [\"ns1.elsewhere.example.\"]\n")
	for p := range 1700 {
		fmt.Fprintf(&b, "[[zone.steer]]\nname = \"match%05d\"\npolicy = \"p%05d\"\n", p, p)
	}
	if msg := scanScale([]byte(b.String())); msg != "" {
		t.Fatalf("the header scan saw the dotted keys: %s", msg)
	}
	_, err := Parse("dotted.toml", []byte(b.String()))
	want := "dotted.toml:1: 1,700 policies × 20 regions × 6 CDNs = 204,000 steered states, over cdnsteer's limit of 200,000"
	if err == nil || !strings.Contains(err.Error(), want) {
		t.Errorf("error %v\nwant one with %q", err, want)
	}
}

func TestDottedKeys(t *testing.T) {
	for k, want := range map[string][]string{
		"policy.p1.region.eu":    {"policy", "p1", "region", "eu"},
		` policy . "a.b" . 'c' `: {"policy", "a.b", "c"},
		"regions":                {"regions"},
		`policy."a\"b"`:          nil,
		"a..b":                   nil,
		"a b":                    nil,
	} {
		if got := dotted(k); !slices.Equal(got, want) {
			t.Errorf("dotted(%q) = %q, want %q", k, got, want)
		}
	}
}

// 1,000 names (120,000 states) is under the limit: scripts/scale.sh's
// largest size loads.
func TestThousandNamesLoad(t *testing.T) {
	s, err := Parse("scale.toml", scalePolicy(1000))
	if err != nil {
		t.Fatal(err)
	}
	if n := len(s.Policies) * len(s.Regions) * len(s.CDNs); n != 120_000 {
		t.Errorf("%d states, want 120,000", n)
	}
}

func TestGrouped(t *testing.T) {
	for n, want := range map[int]string{0: "0", 999: "999", 1000: "1,000", 200_000: "200,000", 1_200_000: "1,200,000", -12345: "-12,345"} {
		if got := grouped(n); got != want {
			t.Errorf("grouped(%d) = %q, want %q", n, got, want)
		}
	}
}
