package zones

import (
	"strings"
	"testing"

	"github.com/cdnsteer/cdnsteer/rrl"
)

const sectionBase = "[cdn.a]\ntarget = \"a.example.net.\"\n[policy.p.region.default]\nweights = { a = 1 }\n[[zone]]\norigin = \"z.example.\"\nns = [\"ns.x.\"]\n[[zone.steer]]\nname = \"www\"\npolicy = \"p\"\n"

// TestRRLSection: [rrl] decodes over the limiter's defaults, so an unset
// slip is the default and slip = 0 (always drop) is kept; without
// enabled = true there is no limiter.
func TestRRLSection(t *testing.T) {
	for _, tc := range []struct {
		name, doc string
		want      *rrl.Config
	}{
		{"absent", "", nil},
		{"off", "[rrl]\nslip = 1\n", nil},
		{"defaults", "[rrl]\nenabled = true\n", &rrl.Config{ResponsesPerSecond: 20, Window: rrl.DefaultWindow, Slip: 2, IPv4Prefix: 24, IPv6Prefix: 56, TableSize: 65536}},
		{"slip 0", "[rrl]\nenabled = true\nslip = 0\nexempt = [\"10.0.0.0/8\"]\n", &rrl.Config{ResponsesPerSecond: 20, Window: rrl.DefaultWindow, IPv4Prefix: 24, IPv6Prefix: 56, TableSize: 65536, Exempt: []string{"10.0.0.0/8"}}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s, err := Parse("p.toml", []byte(sectionBase+tc.doc))
			if err != nil {
				t.Fatal(err)
			}
			got, want := s.RRL, tc.want
			if (got == nil) != (want == nil) || got != nil && (strings.Join(got.Exempt, ",") != strings.Join(want.Exempt, ",") ||
				got.ResponsesPerSecond != want.ResponsesPerSecond || got.Window != want.Window || got.Slip != want.Slip ||
				got.IPv4Prefix != want.IPv4Prefix || got.IPv6Prefix != want.IPv6Prefix || got.TableSize != want.TableSize) {
				t.Errorf("rrl = %+v, want %+v", got, want)
			}
		})
	}
}

// TestSectionKeyErrors: a feature checks its own keys and the loader puts
// each problem at the line of its key, of the key it depends on when the
// key itself is left to its default, or of the table holding it; keys the
// feature does not declare are unknown.
func TestSectionKeyErrors(t *testing.T) {
	for _, tc := range []struct {
		name, doc string
		want      []string
	}{
		{"rrl", "[rrl]\nenabled = true\nslip = 11\nexempt = [\"10.0.0.0/8\", \"10.0.0.1/8\"]\n", []string{
			`p.toml:13: rrl.slip: must be from 0 (always drop) to 10, got 11`,
			`p.toml:14: rrl.exempt[1]: "10.0.0.1/8" is not a CIDR prefix without host bits`}},
		{"probe timeout over a set interval", "[cdn.a.probe]\nurl = \"http://x.example/\"\ninterval = \"500ms\"\ntimeout = \"900ms\"\n", []string{
			`p.toml:14: cdn "a": probe.timeout: 900ms is longer than the interval 500ms`}},
		{"probe timeout over the default interval", "[cdn.a.probe]\nurl = \"http://x.example/\"\ntimeout = \"2s\"\n", []string{
			`p.toml:13: cdn "a": probe.timeout: 2s is longer than the interval 1s`}},
		{"probe interval set, timeout defaulted", "[cdn.a.probe]\nurl = \"http://x.example/\"\ninterval = \"-1s\"\n", []string{
			`p.toml:13: cdn "a": probe.interval: must not be negative`}},
		{"probe keys that are not policy keys", "[cdn.a.probe]\nurl = \"http://x.example/\"\nmax_bytes = 10\ncdn = \"b\"\n", []string{
			`p.toml:13: unknown key "cdn.a.probe.max_bytes"`, `p.toml:14: unknown key "cdn.a.probe.cdn"`}},
		{"prometheus timeout", "[prometheus]\nurl = \"http://127.0.0.1:9090\"\ninterval = \"2s\"\ntimeout = \"3s\"\nstamp = \"query\"\nqueries = { error_rate = \"x\" }\n", []string{
			`p.toml:14: prometheus.timeout: 3s is longer than the interval 2s`}},
		{"prometheus without queries", "[prometheus]\nurl = \"http://127.0.0.1:9090\"\n", []string{
			`p.toml:11: prometheus.queries: none: want at least one of ttfb_ms, error_rate, cache_hit_ratio, throughput_gbps`}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := Parse("p.toml", []byte(sectionBase+tc.doc))
			if err == nil {
				t.Fatal("accepted")
			}
			if got, want := err.Error(), strings.Join(tc.want, "\n"); got != want {
				t.Errorf("errors:\n%s\nwant:\n%s", got, want)
			}
		})
	}
}
