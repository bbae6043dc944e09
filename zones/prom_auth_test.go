package zones

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// [prometheus]'s auth files are relative to the policy's folder, and one
// that cannot be read is an error at its key's line.
func TestPrometheusAuthFiles(t *testing.T) {
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "prom.token"), []byte("tok\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	prom := "[prometheus]\nurl = \"https://127.0.0.1:9090\"\nstamp = \"query\"\nqueries = { ttfb_ms = \"q\" }\nbearer_token_file = \"prom.token\"\n"
	s, err := Parse(filepath.Join(dir, "policy.toml"), []byte(prom+base+zoneHead))
	if err != nil {
		t.Fatal(err)
	}
	if got := s.Prometheus.BearerTokenFile; got != filepath.Join(dir, "prom.token") {
		t.Errorf("bearer_token_file resolved to %q", got)
	}
	bad := prom + "ca_file = \"missing-ca.pem\"\n"
	_, err = Parse(filepath.Join(dir, "policy.toml"), []byte(bad+base+zoneHead))
	if err == nil || !strings.Contains(err.Error(), "policy.toml:6: prometheus.ca_file: open "+filepath.Join(dir, "missing-ca.pem")) {
		t.Errorf("missing CA: %v", err)
	}
}
