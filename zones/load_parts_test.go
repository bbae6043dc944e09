package zones

import (
	"os"
	"path/filepath"
	"reflect"
	"runtime"
	"runtime/debug"
	"runtime/metrics"
	"sync/atomic"
	"testing"

	"github.com/BurntSushi/toml"
)

// A policy decoded a part at a time is the policy decoded whole: the same
// File, the same unknown keys at the same lines, the same errors.
func TestPartsDecodeAsWhole(t *testing.T) {
	docs := map[string]string{
		"scale": string(scalePolicy(40)),
		"interleaved": `[regions]
eu = ["DE"]
[policy.a]
ttl = 30
[policy.b.region.default]
weights = { x = 1 }
[policy.a.region.default]
weights = { x = 2, y = 3 }
[policy.b]
ttl = 40
bogus = 1
[cdn.x]
target = "x.example."
`,
		"super-table":      "[policy]\n[policy.a]\nttl = 5\n",
		"super-table-keys": "[policy]\na.ttl = 5\n[policy.b]\nttl = 6\n",
		"dotted-at-root":   "policy.a.ttl = 5\n[policy.b]\nttl = 6\n",
		"inline-at-root":   "policy = { a = { ttl = 5 } }\n[policy.b]\nttl = 6\n",
		"defined-twice":    "[policy.a]\nttl = 5\n[policy.b]\n[policy.a]\nttl = 6\n",
		"quoted":           "[policy.\"p.q\"]\nttl = 5\n[ policy . 'r' ]\nttl = 6 # [policy.s]\n",
		"array":            "[[policy.a.region]]\nweights = {}\n",
		"string-with-headers": `[server]
chaos_id = """
[policy.hidden]
ttl = 1
"""
chaos_version = """a \"""
[policy.z]
ttl = 2
"""
[policy.a]
ttl = 3
`,
		"array-over-lines": "[server]\ndns = [\n\"127.0.0.1:53\",\n]\n[policy.a]\nttl = [\n1,\n]\n",
		"type-error":       "[policy.a]\nttl = \"x\"\n[policy.b]\nttl = 1\n",
		"syntax-error":     "[policy.a]\nttl = 1\n[policy.b]\nttl = = 1\n",
		"crlf":             "[policy.a]\r\nttl = 1\r\n[policy.b]\r\nttl = 2\r\n",
	}
	for _, pattern := range []string{"testdata/*.toml", "examples/*.toml"} {
		files, _ := filepath.Glob(pattern)
		for _, f := range files {
			data, err := os.ReadFile(f)
			if err != nil {
				t.Fatal(err)
			}
			docs[f] = string(data)
		}
	}
	for name, doc := range docs {
		whole, parts := newFile(), newFile()
		wel, werr := DecodeTOML(name, []byte(doc), whole)
		pel, perr := decodePolicy(name, []byte(doc), parts)
		if !reflect.DeepEqual(werr, perr) {
			t.Errorf("%s: error %v decoded whole, %v in parts", name, werr, perr)
			continue
		}
		if werr != nil {
			continue
		}
		if !reflect.DeepEqual(whole, parts) {
			t.Errorf("%s: decoded whole\n%+v\nin parts\n%+v", name, whole, parts)
		}
		if !reflect.DeepEqual(wel.errs, pel.errs) {
			t.Errorf("%s: problems %v decoded whole, %v in parts", name, wel.errs, pel.errs)
		}
	}
}

// The 1,000-name policy (2.2 MB, 140,000 keys) never reaches the TOML
// library whole: no decode is given more than a part, so the library's
// bookkeeping for the whole document is never alive at once.
func TestPolicyDecodedInParts(t *testing.T) {
	doc := scalePolicy(1000)
	largest, calls := 0, 0
	tomlDecode = func(data string, v any) (toml.MetaData, error) {
		largest, calls = max(largest, len(data)), calls+1
		return toml.Decode(data, v)
	}
	defer func() { tomlDecode = toml.Decode }()
	snap, err := Parse("scale.toml", doc)
	if err != nil {
		t.Fatal(err)
	}
	if len(snap.Policies) != 1000 {
		t.Fatalf("%d policies", len(snap.Policies))
	}
	if limit := 2 * policyPartBytes; largest > limit {
		t.Errorf("a decode was given %d bytes of the %d-byte document (limit %d)", largest, len(doc), limit)
	}
	if calls < len(doc)/(2*policyPartBytes) {
		t.Errorf("%d decodes of a %d-byte document", calls, len(doc))
	}
}

// BenchmarkParse1000Names reports, besides time and allocations, the
// largest live heap the collector found while the 1,000-name policy
// loaded (peak-live-MB; the collector runs at GOGC=5 so that it looks
// often). Decoded whole: about 130 MB; in parts: about 21 MB.
func BenchmarkParse1000Names(b *testing.B) {
	doc := scalePolicy(1000)
	defer debug.SetGCPercent(debug.SetGCPercent(5))
	peak := watchLiveHeap()
	b.ReportAllocs()
	b.ResetTimer()
	for range b.N {
		if _, err := Parse("scale.toml", doc); err != nil {
			b.Fatal(err)
		}
	}
	b.StopTimer()
	b.ReportMetric(float64(peak())/(1<<20), "peak-live-MB")
}

// watchLiveHeap samples the live heap after every collection until the
// returned function is called; it returns the largest seen.
func watchLiveHeap() func() uint64 {
	var peak atomic.Uint64
	var stop atomic.Bool
	sample := []metrics.Sample{{Name: "/gc/heap/live:bytes"}}
	var arm func()
	arm = func() {
		s := new([16]byte)
		runtime.SetFinalizer(s, func(*[16]byte) {
			metrics.Read(sample)
			if v := sample[0].Value.Uint64(); v > peak.Load() {
				peak.Store(v)
			}
			if !stop.Load() {
				arm()
			}
		})
	}
	arm()
	return func() uint64 {
		stop.Store(true)
		return peak.Load()
	}
}
