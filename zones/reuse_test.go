package zones

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/prometheus/client_golang/prometheus"
)

// A reload that leaves the regions as they were keeps the geo table in
// force (the nameserver then keeps its subnet map); one that changes
// them brings its own.
func TestReloadKeepsAnEqualGeoTable(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "policy.toml")
	doc := func(ttl int, kr string) string {
		return "[regions]\nkr = [\"" + kr + "\"]\n" + base + "[policy.p]\nttl = " + strings.Repeat("1", ttl) + "\n" +
			zoneHead + "[[zone.steer]]\nname = \"s\"\npolicy = \"p\"\n"
	}
	if err := os.WriteFile(path, []byte(doc(1, "KR")), 0o644); err != nil {
		t.Fatal(err)
	}
	_, applied, snap := watchPolicy(t, path, prometheus.NewRegistry())

	replaceFile(t, path, doc(2, "KR")) // ttl 11: regions unchanged
	same := <-applied
	if same.Policies[0].TTL == snap.Policies[0].TTL {
		t.Fatal("the reload did not apply the new ttl")
	}
	if same.GeoTable != snap.GeoTable {
		t.Error("regions unchanged, but the reload brought a geo table of its own")
	}
	replaceFile(t, path, doc(2, "JP")) // kr now serves Japan
	moved := <-applied
	if moved.GeoTable == snap.GeoTable || moved.GeoTable.Equal(snap.GeoTable) {
		t.Error("regions changed, but the geo table in force was kept")
	}
}
